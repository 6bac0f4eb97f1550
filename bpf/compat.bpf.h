/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel differences, handled with CO-RE only, all in this one header: flavours of the
 * structures that changed (`struct x___old` with preserve_access_index), and accessors that
 * pick the right one at load time with bpf_core_field_exists() / bpf_core_enum_value_exists().
 * No kernel version checks anywhere.
 *
 * Each flavour names the kernel commit that forced it: subject, id where a stored copy of the
 * kernel's history confirmed it, and the first release with the change. Ids marked
 * "unverified" were seen only on -next branches (which rebase); the subject is the reliable
 * handle there.
 */
#ifndef IOH_COMPAT_BPF_H
#define IOH_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* ---- struct renamedata (vfs_rename's argument) ------------------------------------------- */

/*
 * bc9241367aac ("VFS: change old_dir and new_dir in struct renamedata to dentrys"), 6.17:
 * the parent directories were inodes (old_dir/new_dir; Debian 12's 6.1 has them) and became
 * dentries (old_parent/new_parent). Kernels without struct renamedata at all (before 5.12,
 * "namei: introduce struct renamedata") fall back to the tracepoint backend, where user space
 * resolves identities. (6.3's "fs: port vfs_*() helpers to struct mnt_idmap" changed the
 * idmap member, which is not read here.)
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

/* ---- inode.i_state and its I_* bits ------------------------------------------------------- */

/*
 * The bits: "fs: reorder i_state bits" (Christian Brauner, 6.12; id unverified) renumbered
 * them and made them `enum inode_state_flags_t` (I_DIRTY_PAGES went from 1 << 2 to 1 << 5,
 * I_FREEING from 1 << 5 to 1 << 7). Before, they were #defines, invisible to BTF: the
 * fallbacks below are 6.1's values. The kernel's BTF enum gives the value when it exists.
 *
 * The field: `unsigned long` through 6.1 and beyond, then "inode: turn i_state into u32"
 * (id unverified), then the enum itself (6.18; commit unverified). CO-RE relocates a field
 * only between compatible kinds: an int flavour matches the unsigned long and u32 layouts
 * (on little-endian the 8-byte read's low half is i_state either way; every bit tested is in
 * it), not the enum one, which is then read through vmlinux.h's own type.
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

/* I_DIRTY_SYNC | I_DIRTY_DATASYNC: the inode itself (attributes, size, timestamps) is dirty. */
static __always_inline __u64 inode_dirty_inode_bits(void)
{
	if (bpf_core_enum_value_exists(enum inode_state_flags_t, I_DIRTY_SYNC))
		return bpf_core_enum_value(enum inode_state_flags_t, I_DIRTY_SYNC) |
		       bpf_core_enum_value(enum inode_state_flags_t, I_DIRTY_DATASYNC);
	return (1 << 0) | (1 << 1);
}

static __always_inline __u64 inode_freeing_bit(void)
{
	if (bpf_core_enum_value_exists(enum inode_state_flags_t, I_FREEING))
		return bpf_core_enum_value(enum inode_state_flags_t, I_FREEING);
	return 1 << 5; /* 6.1: #define I_FREEING (1 << 5) */
}

/* ---- struct iov_iter: direction ------------------------------------------------------------ */

/*
 * 8cd54c1c8480 ("iov_iter: separate direction from flavour"), 5.14: the direction was bit 0
 * of `type` (WRITE = 1), mixed with the iterator kind; since then it is the `data_source`
 * bool (6.1 has it).
 */
struct iov_iter___old {
	unsigned int type;
} __attribute__((preserve_access_index));

static __always_inline bool iter_is_write(struct iov_iter *iter)
{
	if (bpf_core_field_exists(iter->data_source))
		return BPF_CORE_READ(iter, data_source);
	return BPF_CORE_READ((struct iov_iter___old *)iter, type) & 1;
}

/* ---- io_uring's registered file table ----------------------------------------------------- */

/* The low bits of a registered file's pointer are flags (FFS_*: 2 bits since 5.19, 3 before);
 * struct file is far more aligned than that, so clearing 3 is right for both. */
#define IOH_FFS_MASK (~7UL)

/*
 * 3597f2786b68 ("io_uring/rsrc: unify file and buffer resource tables"), 6.13: the table was
 * an array of tagged pointers (file_table.files[i].file_ptr, bounded by nr_user_files); since
 * then it is file_table.data, an io_rsrc_data of nodes that each hold the tagged pointer.
 */
struct io_fixed_file___old {
	unsigned long file_ptr;
} __attribute__((preserve_access_index));

struct io_file_table___old {
	struct io_fixed_file___old *files;
} __attribute__((preserve_access_index));

struct io_ring_ctx___old {
	struct io_file_table___old file_table;
	unsigned int nr_user_files;
} __attribute__((preserve_access_index));

/* Slot `idx` of the ring's registered file table, or NULL. */
static __always_inline struct file *uring_fixed_file(struct io_kiocb *req, __u32 idx)
{
	struct io_ring_ctx *ctx = BPF_CORE_READ(req, ctx);
	unsigned long ptr = 0;

	if (bpf_core_field_exists(ctx->file_table.data)) {
		struct io_rsrc_node **nodes = BPF_CORE_READ(ctx, file_table.data.nodes);
		struct io_rsrc_node *node = NULL;

		if (idx >= BPF_CORE_READ(ctx, file_table.data.nr) ||
		    bpf_core_read(&node, sizeof(node), &nodes[idx]) || !node)
			return NULL;
		ptr = BPF_CORE_READ(node, file_ptr);
	} else {
		struct io_ring_ctx___old *old = (void *)ctx;
		struct io_fixed_file___old *files = BPF_CORE_READ(old, file_table.files);

		if (idx >= BPF_CORE_READ(old, nr_user_files) ||
		    bpf_core_read(&ptr, sizeof(ptr), &files[idx].file_ptr))
			return NULL;
	}
	return (struct file *)(ptr & IOH_FFS_MASK);
}

/* ---- the writeback:balance_dirty_pages record ----------------------------------------------- */

/*
 * "writeback: rename variables in trace_balance_dirty_pages()" (Tang Yizhou; 6.15, id
 * unverified): the per-device figures bdi_setpoint/bdi_dirty became wb_setpoint/wb_dirty.
 * The same series ("writeback: let trace_balance_dirty_pages() take struct dtc as
 * parameter") changed the tp_btf prototype, which CO-RE cannot relocate: the classic record
 * is read instead (stalls.bpf.h). Debian 12's 6.1 has the old names.
 */
struct trace_event_raw_balance_dirty_pages___old {
	unsigned long bdi_setpoint;
	unsigned long bdi_dirty;
} __attribute__((preserve_access_index));

static __always_inline void throttle_wb_figures(struct trace_event_raw_balance_dirty_pages *rec,
						__u64 *setpoint, __u64 *dirty)
{
	if (bpf_core_field_exists(struct trace_event_raw_balance_dirty_pages___old, bdi_dirty)) {
		struct trace_event_raw_balance_dirty_pages___old *old = (void *)rec;

		*setpoint = BPF_CORE_READ(old, bdi_setpoint);
		*dirty = BPF_CORE_READ(old, bdi_dirty);
	} else {
		*setpoint = BPF_CORE_READ(rec, wb_setpoint);
		*dirty = BPF_CORE_READ(rec, wb_dirty);
	}
}

#endif
