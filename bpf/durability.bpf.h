/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durability hooks: renames, the sync family, and the dirty/clean state of regular files.
 * Feeds rename-without-dir-fsync and rename-unsynced-source (and fsync-error-retried).
 *
 * A rename or sync is seen in two halves, remembered per thread between them (`inflight`):
 *  - tracepoint backend: the syscall's own tracepoints (syscalls:sys_enter_renameat2 and
 *    sys_exit_renameat2, ...), never the raw sys_enter/sys_exit every syscall passes;
 *  - fentry/kprobe backends: do_renameat2() (the names, already copied into the kernel) and
 *    vfs_rename() (the renamed inode and the directory receiving it, and the result), so no
 *    syscall tracepoint is attached at all. fsync/fdatasync come from vfs_fsync_range(),
 *    sync(2)/syncfs(2)/sync_file_range(2) from ksys_sync(), sync_filesystem() and
 *    ksys_sync_file_range().
 */
#ifndef IOH_DURABILITY_BPF_H
#define IOH_DURABILITY_BPF_H

#include "common.bpf.h"
#include "compat.bpf.h"
#include "path.bpf.h"
#include "stacks.bpf.h"

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
	__u32 identity;		    /* enum ioh_identity_source of src/dst_dir */
	__u32 names_in_kernel;	    /* old_name/new_name point at kernel copies (do_renameat2) */
	__u32 target_replaced;	    /* rename: vfs_rename() found an inode at the new name */
	struct ioh_file_id file;    /* sync family: the fd's inode; rename: the renamed inode */
	struct ioh_file_id dst_dir; /* rename: directory receiving the name */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct syscall_inflight);
} inflight SEC(".maps");

/*
 * Scratch space for a rename record: too large for the 512-byte stack. Sized for the worst
 * case; only the bytes used go to the ring buffer (the strings are packed, see iohazard.h).
 */
struct rename_record {
	struct ioh_rename_event ev;
	char strings[IOH_RENAME_STRINGS_MAX];
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

/* The daemon's canary: its own fsync of a memfd, seen by whichever fsync hook is attached,
 * proves that the hooks and the ring buffer work. */
static __always_inline void emit_heartbeat(void)
{
	struct ioh_event_hdr *hdr = bpf_ringbuf_reserve(&events, sizeof(*hdr), 0);

	if (!hdr)
		return;
	fill_header(hdr, IOH_EV_HEARTBEAT, sizeof(*hdr));
	bpf_ringbuf_submit(hdr, BPF_RB_FORCE_WAKEUP);
}

/*
 * First half of a rename or sync-family syscall: remember its arguments for the second.
 * `args` are the syscall's (rename family: user pointers to the names, or with
 * names_in_kernel the kernel's struct filename copies of them, from do_renameat2()).
 */
static __always_inline int durability_enter(long nr, const struct sc_args *args,
					    bool names_in_kernel)
{
	struct syscall_inflight in = {};
	__u32 tid;

	if (is_self()) {
		if (nr == NR_fsync)
			emit_heartbeat();
		return 0;
	}
	in.nr = nr;
	in.enter_ns = bpf_ktime_get_ns();
	in.names_in_kernel = names_in_kernel;
	switch (nr) {
	case NR_rename:
		in.old_name = args->a[0];
		in.new_name = args->a[1];
		in.new_dfd = AT_FDCWD;
		break;
	case NR_renameat:
	case NR_renameat2:
		in.old_name = args->a[1];
		in.new_dfd = args->a[2];
		in.new_name = args->a[3];
		if (nr == NR_renameat2)
			in.rename_flags = args->a[4];
		break;
	case NR_sync:
		break;
	case NR_fsync:
	case NR_fdatasync:
	case NR_syncfs:
	case NR_sync_file_range: /* fd first */
		in.fd = args->a[0];
		file_id_from_inode(&in.file, file_inode_of(fd_to_file(in.fd)));
		break;
	default:
		return 0;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&inflight, &tid, &in, BPF_ANY))
		count_loss(IOH_LOSS_INFLIGHT_FULL);
	return 0;
}

/* Copy a name into the record; returns bytes written including the NUL, or 0. */
static __always_inline __u16 read_name(char *dst, __u32 size, __u64 ptr, bool in_kernel,
				       struct ioh_event_hdr *hdr)
{
	long n = in_kernel ? bpf_probe_read_kernel_str(dst, size, (const void *)ptr)
			   : bpf_probe_read_user_str(dst, size, (const void *)ptr);

	if (n <= 0) {
		hdr->flags |= IOH_EVF_NAME_UNREADABLE;
		count_loss(IOH_LOSS_USER_STRING);
		return 0;
	}
	if (n == size)
		hdr->flags |= IOH_EVF_PATH_TRUNCATED; /* may also be an exact fit; says "maybe" */
	return n;
}

/* The first byte of a name, or 0 if it cannot be read. */
static __always_inline char name_first_byte(__u64 ptr, bool in_kernel)
{
	char c = 0;
	long err = in_kernel ? bpf_probe_read_kernel(&c, 1, (const void *)ptr)
			     : bpf_probe_read_user(&c, 1, (const void *)ptr);

	return err ? 0 : c;
}

/*
 * The record is packed: base directory, old name, new name, back to back. The directory comes
 * first but is only walked for a relative new name, so the new name's first byte is read ahead
 * to decide. Every offset is clamped to its region's worst case (a u16 length loaded back has
 * no bounds for the verifier), so each write stays inside the worst-case scratch buffer.
 */
static __always_inline void emit_rename(struct syscall_inflight *in)
{
	__u32 zero = 0;
	struct rename_record *rec = bpf_map_lookup_elem(&rename_scratch, &zero);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 old_off, new_off, used; /* 64-bit: a 32-bit clamp would bound a zero-extended copy */
	bool relative;
	char first;
	__u64 callsite = stack_capture(); /* its STACK record goes first */

	if (!rec)
		return;
	fill_header(&rec->ev.hdr, IOH_EV_RENAME, sizeof(rec->ev));
	rec->ev.callsite = callsite;
	rec->ev.dfd = in->new_dfd;
	rec->ev.rename_flags = in->rename_flags;
	rec->ev.identity = in->identity;
	if (in->target_replaced)
		rec->ev.hdr.flags |= IOH_EVF_RENAME_REPLACED;
	rec->ev.mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	rec->ev.src = in->file;
	rec->ev.dst_dir = in->dst_dir;
	rec->ev.base_path_len = 0;
	rec->ev.base_components = 0;
	__builtin_memset(&rec->ev.base_dir, 0, sizeof(rec->ev.base_dir));

	/* A relative new name needs the directory it is relative to: dirfd or cwd. */
	first = name_first_byte(in->new_name, in->names_in_kernel);
	relative = first && first != '/';
	if (relative) {
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
			record_path(base, rec->strings, &rec->ev.hdr, &rec->ev.base_path_len,
				    &rec->ev.base_components);
		}
	}

	old_off = rec->ev.base_path_len;
	barrier_var(old_off);
	if (old_off > IOH_DIR_PATH_REGION)
		old_off = IOH_DIR_PATH_REGION;
	rec->ev.old_name_len = read_name(rec->strings + old_off, IOH_USER_PATH_MAX, in->old_name,
					 in->names_in_kernel, &rec->ev.hdr);
	new_off = old_off + rec->ev.old_name_len;
	barrier_var(new_off);
	if (new_off > IOH_DIR_PATH_REGION + IOH_USER_PATH_MAX)
		new_off = IOH_DIR_PATH_REGION + IOH_USER_PATH_MAX;
	rec->ev.new_name_len = read_name(rec->strings + new_off, IOH_NEW_PATH_MAX, in->new_name,
					 in->names_in_kernel, &rec->ev.hdr);
	first = rec->strings[new_off];
	if (rec->ev.new_name_len && (first && first != '/') != relative) {
		/* Changed under us between the two reads (another thread rewrote the user
		 * buffer): the directory walked, or not walked, no longer fits the name. */
		rec->ev.new_name_len = 0;
		rec->ev.hdr.flags |= IOH_EVF_NAME_UNREADABLE;
		count_loss(IOH_LOSS_USER_STRING);
	}
	used = new_off + rec->ev.new_name_len;
	barrier_var(used);
	if (used > IOH_RENAME_STRINGS_MAX)
		used = IOH_RENAME_STRINGS_MAX;
	rec->ev.hdr.size = sizeof(rec->ev) + used;
	if (bpf_ringbuf_output(&events, rec, sizeof(rec->ev) + used, ringbuf_flags()))
		count_loss(IOH_LOSS_RINGBUF_RENAME);
}

/* Scratch space for a sync record with a path (failed fsyncs only). */
struct sync_record {
	struct ioh_sync_event ev;
	char path[IOH_DIR_PATH_REGION];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sync_record);
} sync_scratch SEC(".maps");

/* A sync record after its header. */
static __always_inline void fill_sync(struct ioh_sync_event *ev, struct syscall_inflight *in,
				      long ret, __u32 kind)
{
	ev->kind = kind;
	ev->ret = ret;
	ev->fd = in->fd;
	ev->path_len = 0;
	ev->path_components = 0;
	ev->file = in->file;
	ev->duration_ns = ev->hdr.ts_ns - in->enter_ns;
}

/*
 * One sync record. A failed fsync/fdatasync of a known file also carries the file's path:
 * its data may be gone (the kernel marks the pages clean), and the finding must say which
 * file (fsync-error-retried).
 */
static __always_inline void emit_sync(struct syscall_inflight *in, long ret, __u32 kind,
				      struct file *file)
{
	struct ioh_sync_event *ev;

	if (ret < 0 && file) {
		__u32 zero = 0;
		struct sync_record *rec = bpf_map_lookup_elem(&sync_scratch, &zero);
		__u16 path_len;

		if (!rec)
			return;
		fill_header(&rec->ev.hdr, IOH_EV_SYNC, sizeof(rec->ev));
		fill_sync(&rec->ev, in, ret, kind);
		path_len = record_file_path(file, rec->path, &rec->ev.hdr, &rec->ev.path_len,
					    &rec->ev.path_components);
		output_with_path(rec, sizeof(rec->ev), &rec->ev.hdr, path_len,
				 IOH_LOSS_RINGBUF_SYNC, ringbuf_flags());
		return;
	}
	ev = reserve_record(sizeof(*ev), IOH_EV_SYNC, IOH_LOSS_RINGBUF_SYNC);
	if (!ev)
		return;
	fill_sync(ev, in, ret, kind);
	bpf_ringbuf_submit(ev, ringbuf_flags());
}

/* A successful fsync of a regular file closes its "dirty since last sync" window. */
static __always_inline void note_synced(struct ioh_file_id *file)
{
	struct ioh_inode_key key = {};
	struct ioh_inode_sync_state *st;

	if ((file->mode & S_IFMT) != S_IFREG)
		return;
	inode_key_of_id(file, &key);
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

static __always_inline bool is_rename_nr(long nr)
{
	return nr == NR_rename || nr == NR_renameat || nr == NR_renameat2;
}

/* A sync-family call returned: report it, and remember what it made durable. */
static __always_inline void finish_sync(struct syscall_inflight *in, long nr, long ret,
					struct file *file)
{
	if (ret == 0 && (nr == NR_fsync || nr == NR_fdatasync))
		note_synced(&in->file);
	if (ret == 0 && (nr == NR_sync || nr == NR_syncfs))
		global_synced_ns = bpf_ktime_get_ns();
	emit_sync(in, ret, sync_kind_of(nr), file);
}

/*
 * Second half: the syscall returned (tracepoint backend: sys_exit_X; fentry/kprobe: the
 * kernel function's return). `nr` says which call returns, so a slot left behind by a call
 * that never reached its second half (a signal, a failed lookup) is dropped, not misused.
 */
static __always_inline int durability_exit(long nr, long ret)
{
	struct syscall_inflight *in;
	__u32 tid;

	tid = (__u32)bpf_get_current_pid_tgid();
	in = bpf_map_lookup_elem(&inflight, &tid);
	if (!in)
		return 0;
	if (in->nr == nr || (is_rename_nr(nr) && is_rename_nr(in->nr))) {
		if (is_rename_nr(nr)) {
			if (ret == 0)
				emit_rename(in);
		} else {
			/* The fd still names the file at the syscall's return: a failed fsync's
			 * record carries its path. */
			finish_sync(in, nr, ret,
				    ret < 0 && (nr == NR_fsync || nr == NR_fdatasync)
					? fd_to_file(in->fd)
					: NULL);
		}
	}
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

/*
 * vfs_rename() (fentry/kprobe backends), inside do_renameat2(): the kernel's own view of what
 * is renamed where. Renames that did not come through do_renameat2() (nfsd, overlayfs
 * copy-up) have no slot and are ignored.
 */
static __always_inline int on_vfs_rename(void *rd)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct syscall_inflight *in = bpf_map_lookup_elem(&inflight, &tid);

	if (!in || !is_rename_nr(in->nr))
		return 0;
	file_id_from_inode(&in->file, renamedata_source(rd));
	file_id_from_inode(&in->dst_dir, renamedata_new_dir(rd));
	in->identity = IOH_ID_KERNEL;
	in->target_replaced = renamedata_target(rd) != NULL;
	return 0;
}

/*
 * do_renameat2(olddfd, from, newdfd, to, flags) entry (fentry/kprobe backends): the first half
 * of rename(2), renameat(2), renameat2(2) and io_uring's IORING_OP_RENAMEAT. The names are the
 * kernel's copies (struct filename), alive until do_renameat2() returns.
 */
static __always_inline int on_do_renameat2(int olddfd, struct filename *from, int newdfd,
					   struct filename *to, unsigned int flags)
{
	struct sc_args args = {};

	args.a[0] = olddfd;
	args.a[1] = (__u64)BPF_CORE_READ(from, name);
	args.a[2] = newdfd;
	args.a[3] = (__u64)BPF_CORE_READ(to, name);
	args.a[4] = flags;
	return durability_enter(NR_renameat2, &args, true);
}

/* vfs_fsync_range() returned (fentry/kprobe backends): any fsync, whatever its entry point
 * (fsync(2), fdatasync(2), O_SYNC/O_DSYNC writes, io_uring, nfsd). */
static __always_inline int on_vfs_fsync_return(struct file *file, int datasync, long ret,
					       __u64 enter_ns)
{
	struct syscall_inflight in = {};

	in.enter_ns = enter_ns;
	in.fd = -1;
	file_id_from_inode(&in.file, file_inode_of(file));
	finish_sync(&in, datasync ? NR_fdatasync : NR_fsync, ret, file);
	return 0;
}

/* One IOH_EV_INODE_DIRTY or IOH_EV_INODE_CLEAN record for `inode`; `ns` is when it was
 * reported dirty. */
static __always_inline void emit_inode_event(__u16 type, struct inode *inode, __u64 ns)
{
	struct ioh_inode_event *ev = reserve_record(sizeof(*ev), type, IOH_LOSS_RINGBUF_INODE);

	if (!ev)
		return;
	__builtin_memset(&ev->file, 0, sizeof(ev->file));
	file_id_from_inode(&ev->file, inode);
	ev->dirtied_ns = ns;
	bpf_ringbuf_submit(ev, ringbuf_flags());
}

/* Forget `inode`'s dirty state, reporting it CLEAN unless an fsync or sync(2)/syncfs(2)
 * already told user space it is synced. */
static __always_inline void forget_dirty(struct inode *inode)
{
	struct ioh_inode_sync_state *st;
	struct ioh_inode_key key = {};
	__u64 dirtied;
	bool synced;

	inode_key(inode, &key);
	st = bpf_map_lookup_elem(&inode_sync, &key);
	if (!st)
		return;
	dirtied = st->dirty_reported_ns;
	synced = dirtied <= st->synced_ns || dirtied <= global_synced_ns;
	bpf_map_delete_elem(&inode_sync, &key);
	if (!synced)
		emit_inode_event(IOH_EV_INODE_CLEAN, inode, dirtied);
}

#define RWF_DSYNC_FLAG 0x2
#define RWF_SYNC_FLAG 0x4
#define S_SYNC_FLAG 1	       /* inode->i_flags: chattr +S */
#define SB_SYNCHRONOUS_FLAG 16 /* mounted -o sync */

/*
 * Whether the page being dirtied is written by a write that is synced before it returns:
 * O_SYNC/O_DSYNC on the file, RWF_SYNC/RWF_DSYNC on pwritev2(), chattr +S, or a `sync` mount.
 * The kernel calls vfs_fsync_range() on the written range before the syscall returns
 * (generic_write_sync), so the data is durable as the write returns: not "dirty since the last
 * fsync". The syscall is read from the task's own registers (regs_syscall_nr(): none for a
 * page fault, an mmap write); the fd must also name this very inode.
 */
static __always_inline bool dirtied_by_synced_write(struct inode *inode, bool has_task_regs)
{
	struct pt_regs *regs;
	struct file *file;
	long nr;

	if ((BPF_CORE_READ(inode, i_flags) & S_SYNC_FLAG) ||
	    (BPF_CORE_READ(inode, i_sb, s_flags) & SB_SYNCHRONOUS_FLAG))
		return true;
	if (!has_task_regs)
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return false;
	nr = regs_syscall_nr(regs);
	if (nr != NR_write && nr != NR_pwrite64 && nr != NR_writev && nr != NR_pwritev &&
	    nr != NR_pwritev2)
		return false;
	file = fd_to_file(SC_REGS_ARG(regs, 0));
	if (!file || file_inode_of(file) != inode)
		return false;
	if (BPF_CORE_READ(file, f_flags) & O_DSYNC_FLAG)
		return true;
	return nr == NR_pwritev2 && (SC_REGS_ARG(regs, 5) & (RWF_DSYNC_FLAG | RWF_SYNC_FLAG));
}

/* Set by the loader: mixed_io.bpf.h takes buffered writes of watched inodes from here. */
static __always_inline void mixed_io_on_page_dirtied(struct inode *inode);

/*
 * __mark_inode_dirty() (writeback_mark_inode_dirty tracepoint), in the dirtying task's context.
 * Only written page data makes a file's content unsynced: a page being dirtied calls it with
 * I_DIRTY_PAGES alone. mark_inode_dirty() for attribute changes (chmod, chown, utimensat,
 * size changes) passes I_DIRTY = I_DIRTY_INODE | I_DIRTY_PAGES, and timestamp updates
 * I_DIRTY_SYNC or I_DIRTY_TIME: none of these is unsynced data. One DIRTY record per
 * transition to "dirty since the last fsync"; the common case (already reported) costs one
 * map lookup.
 */
static __always_inline int on_mark_inode_dirty(struct inode *inode, int flags, bool has_task_regs)
{
	struct ioh_inode_sync_state *st, fresh = {};
	struct ioh_inode_key key = {};
	__u64 now;

	if (!(flags & inode_dirty_pages_bit()) || (flags & inode_dirty_inode_bits()))
		return 0;
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	mixed_io_on_page_dirtied(inode);
	inode_key(inode, &key);
	st = bpf_map_lookup_elem(&inode_sync, &key);
	if (st && st->dirty_reported_ns > st->synced_ns && st->dirty_reported_ns > global_synced_ns)
		return 0; /* user space already knows it is dirty */
	if (is_self())
		return 0;
	if (dirtied_by_synced_write(inode, has_task_regs)) {
		/* Durable when the write returns: the kernel fdatasyncs the written range
		 * (generic_write_sync -> vfs_fsync_range). Say so as the fdatasync it is, which
		 * the fentry/kprobe backends see from vfs_fsync_range itself. */
		struct syscall_inflight in = {};

		in.enter_ns = bpf_ktime_get_ns();
		in.fd = -1;
		file_id_from_inode(&in.file, inode);
		finish_sync(&in, NR_fdatasync, 0, NULL);
		return 0;
	}

	now = bpf_ktime_get_ns();
	if (st) {
		st->dirty_reported_ns = now;
	} else {
		fresh.dirty_reported_ns = now;
		if (bpf_map_update_elem(&inode_sync, &key, &fresh, BPF_ANY))
			count_loss(IOH_LOSS_INODE_MAP_FULL);
	}
	emit_inode_event(IOH_EV_INODE_DIRTY, inode, now);
	return 0;
}

/*
 * A page leaves the page cache (filemap:mm_filemap_delete_from_page_cache: truncation,
 * reclaim, and the eviction of a deleted file). When the inode is being freed and we told user
 * space it was dirty, its unsynced data is gone with it: report it CLEAN and forget it, so a new
 * file that gets the same inode number (ext4 and xfs reuse it at once) starts clean on every
 * backend, also where user space identifies renamed files by (dev, ino) alone. Other pages
 * cost one load of i_state.
 */
static __always_inline int on_page_cache_delete(struct folio *folio)
{
	struct inode *inode = BPF_CORE_READ(folio, mapping, host);

	if (inode && (inode_state(inode) & inode_freeing_bit()))
		forget_dirty(inode);
	return 0;
}

/* Whether buffered writes left data in the page cache that no fsync or writeback has covered:
 * "a written page cached for the file" (mixed I/O: a direct read would miss it). */
static __always_inline bool inode_has_unsynced_pages(struct inode *inode)
{
	struct ioh_inode_key key = {};
	struct ioh_inode_sync_state *st;

	inode_key(inode, &key);
	st = bpf_map_lookup_elem(&inode_sync, &key);
	return st && st->dirty_reported_ns > st->synced_ns &&
	       st->dirty_reported_ns > global_synced_ns;
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
	long wrote;

	wrote = (long)nr_to_write - BPF_CORE_READ(wbc, nr_to_write);
	if (wrote <= 0)
		return 0;
	if (inode_state(inode) & inode_dirty_pages_bit())
		return 0;
	forget_dirty(inode);
	return 0;
}

#endif
