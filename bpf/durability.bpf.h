/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durability hooks: renames, the sync family, and the dirty/clean state of regular files.
 * Feeds rename-without-dir-fsync and rename-unsynced-source (and later fsync-error-retried).
 *
 * Syscalls are seen at sys_enter/sys_exit (tp_btf, raw_tp twin): enter remembers the
 * arguments per thread, exit reports successful renames and every sync-family return. The
 * renamed inode and the target directory come from vfs_rename() when fentry or kprobes are
 * available (stored into the same per-thread slot), otherwise user space resolves them.
 */
#ifndef IOH_DURABILITY_BPF_H
#define IOH_DURABILITY_BPF_H

#include "common.bpf.h"
#include "compat.bpf.h"
#include "path.bpf.h"

#if defined(__TARGET_ARCH_x86)
#define NR_fsync 74
#define NR_fdatasync 75
#define NR_rename 82
#define NR_sync 162
#define NR_renameat 264
#define NR_sync_file_range 277
#define NR_syncfs 306
#define NR_renameat2 316
/* raw_tp: a probe read. tp_btf: a direct load through the BTF-typed pointer, several times
 * cheaper on a path every syscall on the host takes. */
#define SYSCALL_NR(regs) BPF_CORE_READ((regs), orig_ax)
#define SYSCALL_NR_BTF(regs) ((regs)->orig_ax)
#else
#error "syscall numbers for this architecture are missing (see docs/kernels.md)"
#endif

/*
 * When vfs_fsync_range() is hooked (fentry/kprobe backends), fsync and fdatasync are
 * reported from there (it also sees io_uring and nfsd fsyncs) and sys_exit leaves them
 * alone. User space sets this after attaching, so it lives in .bss, not .rodata.
 */
volatile __u32 fsync_from_vfs;

/*
 * When sync(2) or syncfs(2) last succeeded. Every inode reported dirty before it counts as
 * synced: a later dirtying must be reported again. Global rather than per filesystem because
 * an extra DIRTY record is harmless and a second lookup on this path is not free.
 */
volatile __u64 global_synced_ns;

/* A syscall between enter and exit, per thread. */
struct syscall_inflight {
	__u64 enter_ns;
	__u64 old_name; /* user pointer (rename family) */
	__u64 new_name; /* user pointer (rename family) */
	__s32 nr;	/* syscall number */
	__s32 new_dfd;	/* rename family: dirfd of the new name */
	__s32 fd;	/* sync family */
	__u32 rename_flags;
	__u32 identity; /* enum ioh_identity_source of src/dst_dir */
	__u32 _pad;
	struct ioh_file_id file;    /* sync family: the fd's inode; rename: the renamed inode */
	struct ioh_file_id dst_dir; /* rename: directory receiving the name */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct syscall_inflight);
} inflight SEC(".maps");

/* Scratch space for a rename record: too large for the 512-byte stack. */
struct rename_record {
	struct ioh_rename_event ev;
	char strings[IOH_RENAME_STRINGS_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rename_record);
} rename_scratch SEC(".maps");

/* Per-inode sync state: see struct ioh_inode_sync_state. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ioh_inode_key);
	__type(value, struct ioh_inode_sync_state);
} inode_sync SEC(".maps");

static __always_inline bool durability_syscall(long nr)
{
	switch (nr) {
	case NR_rename:
	case NR_renameat:
	case NR_renameat2:
	case NR_fsync:
	case NR_fdatasync:
	case NR_sync:
	case NR_syncfs:
	case NR_sync_file_range:
		return true;
	}
	return false;
}

static __always_inline void emit_heartbeat(void)
{
	struct ioh_event_hdr *hdr = bpf_ringbuf_reserve(&events, sizeof(*hdr), 0);

	if (!hdr)
		return;
	fill_header(hdr, IOH_EV_HEARTBEAT, sizeof(*hdr));
	bpf_ringbuf_submit(hdr, BPF_RB_FORCE_WAKEUP);
}

static __always_inline int on_sys_enter(struct pt_regs *regs, long nr)
{
	struct syscall_inflight in = {};
	__u32 tid;

	if (!durability_syscall(nr))
		return 0;
	if (is_self()) {
		/* The daemon's canary: syncfs(-1) proves syscall hooks and ring buffer work. */
		if (nr == NR_syncfs && (int)PT_REGS_PARM1_CORE_SYSCALL(regs) == -1)
			emit_heartbeat();
		return 0;
	}

	in.nr = nr;
	in.enter_ns = bpf_ktime_get_ns();
	switch (nr) {
	case NR_rename:
		in.old_name = PT_REGS_PARM1_CORE_SYSCALL(regs);
		in.new_name = PT_REGS_PARM2_CORE_SYSCALL(regs);
		in.new_dfd = AT_FDCWD;
		break;
	case NR_renameat:
	case NR_renameat2:
		in.old_name = PT_REGS_PARM2_CORE_SYSCALL(regs);
		in.new_dfd = PT_REGS_PARM3_CORE_SYSCALL(regs);
		in.new_name = PT_REGS_PARM4_CORE_SYSCALL(regs);
		if (nr == NR_renameat2)
			in.rename_flags = PT_REGS_PARM5_CORE_SYSCALL(regs);
		break;
	case NR_sync:
		break;
	default: /* fsync, fdatasync, syncfs, sync_file_range: fd first */
		in.fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
		file_id_from_inode(&in.file, file_inode_of(fd_to_file(in.fd)));
		break;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&inflight, &tid, &in, BPF_ANY))
		count_loss(IOH_LOSS_INFLIGHT_FULL);
	return 0;
}

/* Copy a user string into the record; returns bytes written including the NUL, or 0. */
static __always_inline __u16 read_user_name(char *dst, __u32 size, __u64 uptr,
					    struct ioh_event_hdr *hdr)
{
	long n = bpf_probe_read_user_str(dst, size, (const void *)uptr);

	if (n <= 0) {
		hdr->flags |= IOH_EVF_NAME_UNREADABLE;
		count_loss(IOH_LOSS_USER_STRING);
		return 0;
	}
	if (n == size)
		hdr->flags |= IOH_EVF_PATH_TRUNCATED; /* may also be an exact fit; says "maybe" */
	return n;
}

static __always_inline void emit_rename(struct syscall_inflight *in)
{
	__u32 zero = 0;
	struct rename_record *rec = bpf_map_lookup_elem(&rename_scratch, &zero);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct path_walk walk = {};
	char first = 0;

	if (!rec)
		return;
	fill_header(&rec->ev.hdr, IOH_EV_RENAME, sizeof(*rec));
	rec->ev.dfd = in->new_dfd;
	rec->ev.rename_flags = in->rename_flags;
	rec->ev.identity = in->identity;
	rec->ev.mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	rec->ev.src = in->file;
	rec->ev.dst_dir = in->dst_dir;
	rec->ev.base_path_len = 0;
	rec->ev.base_components = 0;
	__builtin_memset(&rec->ev.base_dir, 0, sizeof(rec->ev.base_dir));

	rec->ev.old_name_len = read_user_name(rec->strings + IOH_RENAME_OLD_OFF, IOH_USER_PATH_MAX,
					      in->old_name, &rec->ev.hdr);
	rec->ev.new_name_len = read_user_name(rec->strings + IOH_RENAME_NEW_OFF, IOH_NEW_PATH_MAX,
					      in->new_name, &rec->ev.hdr);
	first = rec->strings[IOH_RENAME_NEW_OFF];

	/* A relative new name needs the directory it is relative to: dirfd or cwd. */
	if (rec->ev.new_name_len && first != '/') {
		struct path *base = NULL;
		struct file *dirfile = NULL;

		if (in->new_dfd == AT_FDCWD) {
			struct fs_struct *fs = BPF_CORE_READ(task, fs);

			/* Address arithmetic only; the walk reads through it with CO-RE. */
			base = (struct path *)__builtin_preserve_access_index(&fs->pwd);
		} else {
			dirfile = fd_to_file(in->new_dfd);
			if (dirfile)
				base = (struct path *)__builtin_preserve_access_index(
					&dirfile->f_path);
		}
		if (base) {
			struct dentry *d = BPF_CORE_READ(base, dentry);

			file_id_from_inode(&rec->ev.base_dir, BPF_CORE_READ(d, d_inode));
			walk_dir_path(base, rec->strings, &walk);
			rec->ev.base_path_len = walk.len;
			rec->ev.base_components = walk.components;
			if (walk.truncated)
				rec->ev.hdr.flags |= IOH_EVF_PATH_TRUNCATED;
		}
	}
	if (bpf_ringbuf_output(&events, rec, sizeof(*rec), ringbuf_flags()))
		count_loss(IOH_LOSS_RINGBUF_RENAME);
}

static __always_inline void emit_sync(struct syscall_inflight *in, long ret, __u32 kind)
{
	struct ioh_sync_event *ev;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_loss(IOH_LOSS_RINGBUF_SYNC);
		return;
	}
	fill_header(&ev->hdr, IOH_EV_SYNC, sizeof(*ev));
	ev->kind = kind;
	ev->ret = ret;
	ev->fd = in->fd;
	ev->_pad = 0;
	ev->file = in->file;
	ev->duration_ns = ev->hdr.ts_ns - in->enter_ns;
	bpf_ringbuf_submit(ev, ringbuf_flags());
}

/* A successful fsync of a regular file closes its "dirty since last sync" window. */
static __always_inline void note_synced(struct ioh_file_id *file)
{
	struct ioh_inode_key key = {.dev = file->dev, .ino = file->ino};
	struct ioh_inode_sync_state *st;

	if ((file->mode & S_IFMT) != S_IFREG)
		return;
	st = bpf_map_lookup_elem(&inode_sync, &key);
	if (st)
		st->synced_ns = bpf_ktime_get_ns();
}

static __always_inline __u32 sync_kind_of(long nr)
{
	switch (nr) {
	case NR_fsync:
		return IOH_SYNC_FSYNC;
	case NR_fdatasync:
		return IOH_SYNC_FDATASYNC;
	case NR_sync_file_range:
		return IOH_SYNC_FILE_RANGE;
	case NR_syncfs:
		return IOH_SYNC_SYNCFS;
	case NR_sync:
		return IOH_SYNC_SYNC;
	}
	return 0;
}

static __always_inline int on_sys_exit(long nr, long ret)
{
	struct syscall_inflight *in;
	__u32 tid;

	tid = (__u32)bpf_get_current_pid_tgid();
	in = bpf_map_lookup_elem(&inflight, &tid);
	if (!in)
		return 0;
	if (in->nr == nr) {
		if (nr == NR_rename || nr == NR_renameat || nr == NR_renameat2) {
			if (ret == 0)
				emit_rename(in);
		} else if (!(fsync_from_vfs && (nr == NR_fsync || nr == NR_fdatasync))) {
			if (ret == 0 && (nr == NR_fsync || nr == NR_fdatasync))
				note_synced(&in->file);
			if (ret == 0 && (nr == NR_sync || nr == NR_syncfs))
				global_synced_ns = bpf_ktime_get_ns();
			emit_sync(in, ret, sync_kind_of(nr));
		}
	}
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

/* vfs_rename() (fentry/kprobe backends): the kernel's own view of what is renamed where. */
static __always_inline int on_vfs_rename(void *rd)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct syscall_inflight *in = bpf_map_lookup_elem(&inflight, &tid);

	/* Only renames that entered through the syscalls we report (not nfsd, overlayfs
	 * copy-up or io_uring, which have no inflight slot). */
	if (!in)
		return 0;
	file_id_from_inode(&in->file, renamedata_source(rd));
	file_id_from_inode(&in->dst_dir, renamedata_new_dir(rd));
	in->identity = IOH_ID_KERNEL;
	return 0;
}

/* vfs_fsync_range() returned (fentry/kprobe backends): any fsync, whatever its entry point. */
static __always_inline int on_vfs_fsync_return(struct file *file, int datasync, long ret,
					       __u64 enter_ns)
{
	struct syscall_inflight in = {};

	if (is_self())
		return 0;
	in.enter_ns = enter_ns;
	in.fd = -1;
	file_id_from_inode(&in.file, file_inode_of(file));
	if (ret == 0)
		note_synced(&in.file);
	emit_sync(&in, ret, datasync ? IOH_SYNC_FDATASYNC : IOH_SYNC_FSYNC);
	return 0;
}

/*
 * __mark_inode_dirty() (writeback_mark_inode_dirty tracepoint): called for every newly
 * dirtied page of a file, in the dirtying task's context. One DIRTY record per transition to
 * "dirty since the last fsync"; the common case (already reported) costs one map lookup.
 */
static __always_inline int on_mark_inode_dirty(struct inode *inode, int flags)
{
	struct ioh_inode_sync_state *st, fresh = {};
	struct ioh_inode_key key = {};
	struct ioh_inode_event *ev;
	__u64 now;

	if (!(flags & inode_dirty_pages_bit()))
		return 0;
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	key.dev = inode_dev(inode);
	key.ino = BPF_CORE_READ(inode, i_ino);
	st = bpf_map_lookup_elem(&inode_sync, &key);
	if (st && st->dirty_reported_ns > st->synced_ns && st->dirty_reported_ns > global_synced_ns)
		return 0; /* user space already knows it is dirty */
	if (is_self())
		return 0;

	now = bpf_ktime_get_ns();
	if (st) {
		st->dirty_reported_ns = now;
	} else {
		fresh.dirty_reported_ns = now;
		if (bpf_map_update_elem(&inode_sync, &key, &fresh, BPF_ANY))
			count_loss(IOH_LOSS_INODE_MAP_FULL);
	}
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_loss(IOH_LOSS_RINGBUF_INODE);
		return 0;
	}
	fill_header(&ev->hdr, IOH_EV_INODE_DIRTY, sizeof(*ev));
	file_id_from_inode(&ev->file, inode);
	ev->dirtied_ns = now;
	bpf_ringbuf_submit(ev, ringbuf_flags());
	return 0;
}

/*
 * writeback_single_inode tracepoint, at the end of a writeback pass over one inode (flusher
 * or sync). Report CLEAN when the pass wrote pages and left none dirty, for inodes user space
 * believes dirty; then forget the inode.
 */
static __always_inline int on_writeback_single_inode(struct inode *inode,
						     struct writeback_control *wbc,
						     unsigned long nr_to_write)
{
	struct ioh_inode_sync_state *st;
	struct ioh_inode_key key = {};
	struct ioh_inode_event *ev;
	long wrote;
	__u64 dirtied;

	wrote = (long)nr_to_write - BPF_CORE_READ(wbc, nr_to_write);
	if (wrote <= 0)
		return 0;
	if (inode_state(inode) & inode_dirty_pages_bit())
		return 0;
	key.dev = inode_dev(inode);
	key.ino = BPF_CORE_READ(inode, i_ino);
	st = bpf_map_lookup_elem(&inode_sync, &key);
	if (!st)
		return 0;
	dirtied = st->dirty_reported_ns;
	if (dirtied <= st->synced_ns || dirtied <= global_synced_ns) {
		bpf_map_delete_elem(&inode_sync, &key);
		return 0; /* an fsync already told user space */
	}
	bpf_map_delete_elem(&inode_sync, &key);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_loss(IOH_LOSS_RINGBUF_INODE);
		return 0;
	}
	fill_header(&ev->hdr, IOH_EV_INODE_CLEAN, sizeof(*ev));
	file_id_from_inode(&ev->file, inode);
	ev->dirtied_ns = dirtied;
	bpf_ringbuf_submit(ev, ringbuf_flags());
	return 0;
}

#endif
