/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Directory paths from the dentry chain. bpf_d_path() is only allowed in a few fentry/LSM
 * hooks, not in syscall tracepoints, so the walk is done by hand: up d_parent within a mount,
 * across mnt_mountpoint/mnt_parent at mount roots, until the root of the task's mount tree.
 * Bounded by IOH_DIR_COMPONENTS_MAX steps and IOH_DIR_PATH_MAX bytes; when either runs out
 * the record says so (IOH_EVF_PATH_TRUNCATED) and user space shows the cut.
 *
 * Components are written leaf first, each NUL-terminated, so every write goes forward at a
 * masked offset the verifier can bound. The path is the one the task sees: inside a container
 * it is relative to the container's mount namespace root.
 */
#ifndef IOH_PATH_BPF_H
#define IOH_PATH_BPF_H

#include "common.bpf.h"

struct path_walk {
	__u16 len;	  /* bytes used in the region, NULs included */
	__u16 components; /* names written */
	bool truncated;
};

/*
 * Walk `path` (a kernel pointer to struct path) into `buf` (IOH_DIR_PATH_REGION bytes).
 */
static __always_inline void walk_dir_path(const struct path *path, char *buf, struct path_walk *w)
{
	struct dentry *dentry = BPF_CORE_READ(path, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	__u32 off = 0;
	bool done = false;

	w->len = 0;
	w->components = 0;
	w->truncated = false;

	for (int i = 0; i < IOH_DIR_COMPONENTS_MAX; i++) {
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

		if (dentry == mnt_root || dentry == parent) {
			struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

			if (mnt == mnt_parent || !mnt_parent) {
				done = true; /* the root of the task's mount tree */
				break;
			}
			/* A mount root: continue from where it is mounted. */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			vfsmnt = (struct vfsmount *)__builtin_preserve_access_index(&mnt->mnt);
			continue;
		}

		const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);

		if (off >= IOH_DIR_PATH_MAX) {
			w->truncated = true;
			break;
		}
		/* Masking keeps the start in [0, IOH_DIR_PATH_MAX); the read is at most NAME_MAX+1,
		 * which the region's slack absorbs. */
		long n = bpf_probe_read_kernel_str(buf + (off & (IOH_DIR_PATH_MAX - 1)),
						   IOH_NAME_MAX + 1, name);
		if (n <= 0)
			break;
		off += n;
		w->components++;
		dentry = parent;
	}
	if (!done)
		w->truncated = true;
	if (off > IOH_DIR_PATH_REGION)
		off = IOH_DIR_PATH_REGION;
	w->len = off;
}

#endif
