/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * data=writeback exposure (seed case 1): truncations of regular files on devices user space
 * watches (ext4 mounted data=writeback). ext4:ext4_truncate_enter runs in the truncating
 * task for ftruncate(2), truncate(2) and O_TRUNC alike; data=writeback is an ext4 (and
 * ext3-through-ext4) option, so the ext4 tracepoint is the whole story.
 *
 * The truncation also forgets the inode's "dirty reported" state in durability.bpf.h, so the
 * rewrite that follows sends a fresh IOH_EV_INODE_DIRTY: user space pairs truncate, rewrite
 * and the fsync (or its absence) without any per-write hook.
 */
#ifndef IOH_WRITEBACK_EXPOSURE_BPF_H
#define IOH_WRITEBACK_EXPOSURE_BPF_H

#include "common.bpf.h"
#include "durability.bpf.h"

/* Devices (kernel s_dev) mounted data=writeback, maintained by the daemon from mountinfo. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} writeback_devs SEC(".maps");

/* Entries in writeback_devs: truncations return at once while it is 0. */
volatile __u32 writeback_devs_count;

/* Scratch for a truncate record, worst-case sized; only sizeof(ev) + path_len is sent. */
struct truncate_record {
	struct ioh_truncate_event ev;
	char path[IOH_DIR_PATH_REGION];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct truncate_record);
} truncate_scratch SEC(".maps");

static __always_inline int on_ext4_truncate(struct inode *inode)
{
	struct ioh_inode_key key = {};
	struct truncate_record *rec;
	__u32 dev;
	struct path_walk walk = {};
	struct hlist_node *alias;
	__u32 zero = 0;
	__u64 callsite;

	if (!writeback_devs_count || !inode)
		return 0;
	dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (!bpf_map_lookup_elem(&writeback_devs, &dev))
		return 0;
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	if (BPF_CORE_READ(inode, i_nlink) == 0)
		return 0; /* eviction of a deleted file, not a rewrite */
	if (is_self())
		return 0;
	inode_key(inode, &key);
	/* The rewrite must be reported as a fresh dirtying. */
	bpf_map_delete_elem(&inode_sync, &key);

	callsite = stack_capture();
	rec = bpf_map_lookup_elem(&truncate_scratch, &zero);
	if (!rec)
		return 0;
	fill_header(&rec->ev.hdr, IOH_EV_TRUNCATE, sizeof(rec->ev));
	rec->ev.callsite = callsite;
	__builtin_memset(&rec->ev.file, 0, sizeof(rec->ev.file));
	file_id_from_inode(&rec->ev.file, inode);
	rec->ev.old_size = BPF_CORE_READ(inode, i_size);
	rec->ev._pad = 0;
	alias = BPF_CORE_READ(inode, i_dentry.first);
	if (alias)
		walk_dentry_path(container_of(alias, struct dentry, d_u.d_alias), rec->path, &walk);
	rec->ev.path_len = walk.len;
	rec->ev.path_components = walk.components;
	if (alias && walk.truncated)
		rec->ev.hdr.flags |= IOH_EVF_PATH_TRUNCATED;
	output_with_path(rec, sizeof(rec->ev), &rec->ev.hdr, rec->ev.path_len,
			 IOH_LOSS_RINGBUF_TRUNCATE, ringbuf_flags());
	return 0;
}

#endif
