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
 * State of one walk, on the caller's stack. The walk runs under bpf_loop() so the verifier
 * checks one step instead of unrolling IOH_DIR_COMPONENTS_MAX copies of it (the unrolled
 * loop exceeded the 1M-instruction verification budget).
 */
struct path_walk_ctx {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	char *buf; /* IOH_DIR_PATH_REGION bytes of a map value */
	__u32 off;
	__u16 components;
	bool done;
	bool truncated;
};

static long path_walk_step(__u32 index, void *data)
{
	struct path_walk_ctx *c = data;
	/* Copies first: BPF_CORE_READ(c->x, ...) would ask CO-RE to relocate our own struct. */
	struct vfsmount *vfsmnt = c->vfsmnt;
	struct dentry *dentry = c->dentry;
	struct mount *mnt = c->mnt;
	struct dentry *mnt_root = vfsmnt ? BPF_CORE_READ(vfsmnt, mnt_root) : NULL;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	const unsigned char *name;
	char *buf = c->buf;
	long n;

	if (!mnt) {
		/* Within one filesystem (no vfsmount known): stop at its root. */
		if (!dentry || dentry == parent) {
			c->done = true;
			return 1;
		}
	} else if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (mnt == mnt_parent || !mnt_parent) {
			c->done = true; /* the root of the task's mount tree */
			return 1;
		}
		/* A mount root: continue from where it is mounted. */
		c->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = mnt_parent;
		c->vfsmnt = (struct vfsmount *)__builtin_preserve_access_index(&mnt_parent->mnt);
		return 0;
	}
	if (c->off >= IOH_DIR_PATH_MAX || !buf) {
		c->truncated = true;
		return 1;
	}
	name = BPF_CORE_READ(dentry, d_name.name);
	/* Masking keeps the start below IOH_DIR_PATH_MAX; the read is at most NAME_MAX + 1
	 * bytes, which the region's slack absorbs. */
	n = bpf_probe_read_kernel_str(buf + (c->off & (IOH_DIR_PATH_MAX - 1)), IOH_NAME_MAX + 1,
				      name);
	if (n <= 0) {
		c->truncated = true;
		return 1;
	}
	c->off += n;
	c->components++;
	c->dentry = parent;
	return 0;
}

/* Walk `path` (a kernel pointer to struct path) into `buf` (IOH_DIR_PATH_REGION bytes of a
 * map value). */
static __always_inline void walk_dir_path(const struct path *path, char *buf, struct path_walk *w)
{
	struct path_walk_ctx c = {};

	c.dentry = BPF_CORE_READ(path, dentry);
	c.vfsmnt = BPF_CORE_READ(path, mnt);
	c.mnt = container_of(c.vfsmnt, struct mount, mnt);
	c.buf = buf;
	bpf_loop(IOH_DIR_COMPONENTS_MAX, path_walk_step, &c, 0);
	w->truncated = c.truncated || !c.done;
	w->components = c.components;
	w->len = c.off > IOH_DIR_PATH_REGION ? IOH_DIR_PATH_REGION : c.off;
}

/*
 * The path tail of a record: `path` walked into `buf` (the record's path region), its length
 * and component count stored in the record's fields, a cut flagged in its header. Returns the
 * length, which output_with_path() sends.
 */
static __always_inline __u16 record_path(const struct path *path, char *buf,
					 struct ioh_event_hdr *hdr, __u16 *len, __u16 *components)
{
	struct path_walk walk = {};

	walk_dir_path(path, buf, &walk);
	*len = walk.len;
	*components = walk.components;
	if (walk.truncated)
		hdr->flags |= IOH_EVF_PATH_TRUNCATED;
	return walk.len;
}

/* record_path() for the path an open file was opened by. */
static __always_inline __u16 record_file_path(struct file *file, char *buf,
					      struct ioh_event_hdr *hdr, __u16 *len,
					      __u16 *components)
{
	/* Address arithmetic only; the walk reads through it with CO-RE. */
	struct path *fpath = (struct path *)__builtin_preserve_access_index(&file->f_path);

	return record_path(fpath, buf, hdr, len, components);
}

/*
 * The same walk from a bare dentry (hooks that see an inode but no vfsmount): the path within
 * its filesystem, which user space prefixes with the mount point.
 */
static __always_inline void walk_dentry_path(struct dentry *dentry, char *buf, struct path_walk *w)
{
	struct path_walk_ctx c = {};

	c.dentry = dentry;
	c.buf = buf;
	bpf_loop(IOH_DIR_COMPONENTS_MAX, path_walk_step, &c, 0);
	w->truncated = c.truncated || !c.done;
	w->components = c.components;
	w->len = c.off > IOH_DIR_PATH_REGION ? IOH_DIR_PATH_REGION : c.off;
}

#endif
