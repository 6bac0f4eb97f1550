/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel differences, handled with CO-RE only: flavors of structures that changed, and
 * accessors that pick the right one at load time with bpf_core_field_exists() /
 * bpf_core_enum_value_exists(). No kernel version checks anywhere. Each flavor names the
 * change it covers.
 */
#ifndef IOH_COMPAT_BPF_H
#define IOH_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/*
 * struct renamedata first carried the parent directories as inodes (old_dir/new_dir; 5.12
 * through at least 6.1, Debian 12's kernel); newer kernels pass the parent dentries instead
 * (old_parent/new_parent; 6.18 has them). Older kernels without struct renamedata fall back
 * to the tracepoint backend, where user space resolves identities.
 */
struct renamedata___old {
	struct inode *old_dir;
	struct dentry *old_dentry;
	struct inode *new_dir;
	struct dentry *new_dentry;
} __attribute__((preserve_access_index));

/* The directory inode receiving the new name. */
static __always_inline struct inode *renamedata_new_dir(void *rd)
{
	if (bpf_core_field_exists(struct renamedata___old, new_dir))
		return BPF_CORE_READ((struct renamedata___old *)rd, new_dir);
	return BPF_CORE_READ((struct renamedata *)rd, new_parent, d_inode);
}

/* The inode the new name had before the rename (NULL: a new name). Both layouts call its
 * dentry new_dentry; vfs_rename() leaves it on that dentry (only the names move), so fexit
 * reads what kprobe reads at entry. */
static __always_inline struct inode *renamedata_target(void *rd)
{
	return BPF_CORE_READ((struct renamedata *)rd, new_dentry, d_inode);
}

/* The inode being renamed. Both layouts call its dentry old_dentry. */
static __always_inline struct inode *renamedata_source(void *rd)
{
	return BPF_CORE_READ((struct renamedata *)rd, old_dentry, d_inode);
}

/*
 * inode.i_state was an `unsigned long` with I_DIRTY_* as #defines (I_DIRTY_PAGES = 1 << 2 in
 * 6.1); newer kernels (6.18) make it the 32-bit `enum inode_state_flags_t` with renumbered
 * bits. CO-RE does not relocate a field across an int/enum type change, so the old layout
 * gets its own flavour and the accessor picks the one the running kernel has; the bit value
 * comes from the kernel's BTF enum when it exists.
 */
struct inode___state_ulong {
	unsigned long i_state;
} __attribute__((preserve_access_index));

static __always_inline __u64 inode_state(struct inode *inode)
{
	if (bpf_core_field_exists(struct inode___state_ulong, i_state))
		return BPF_CORE_READ((struct inode___state_ulong *)inode, i_state);
	return (__u64)BPF_CORE_READ(inode, i_state);
}

static __always_inline __u64 inode_dirty_pages_bit(void)
{
	if (bpf_core_enum_value_exists(enum inode_state_flags_t, I_DIRTY_PAGES))
		return bpf_core_enum_value(enum inode_state_flags_t, I_DIRTY_PAGES);
	return 1 << 2;
}

#endif
