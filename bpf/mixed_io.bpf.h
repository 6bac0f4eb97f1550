/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mixed O_DIRECT and page-cache access to one inode (seed case 2), at near-zero cost to
 * unrelated I/O:
 *
 *  - every open/openat/openat2 of a regular file, fcntl(F_SETFL) and file mmap updates an LRU
 *    map of per-inode access modes (cheap: opens are rare next to reads and writes), and
 *    close(2) ends a side that is no longer open;
 *  - when one inode has been used both ways within the tracking window it becomes *watched*
 *    (a small hash keyed by the inode pointer) and one record goes to user space;
 *  - the accesses of watched inodes are then confirmed and ordered (a direct write then a
 *    buffered read, or a buffered write then a direct read) from hooks where the I/O happens:
 *    direct I/O from iomap (__iomap_dio_rw or its tracepoint: O_DIRECT only, so buffered I/O
 *    never runs it), buffered writes from a page being dirtied (durability.bpf.h), buffered
 *    reads from the page-cache read path (filemap_read/filemap_splice_read or the
 *    mm_filemap_get_pages tracepoint, which also see the reads of copy_file_range, sendfile
 *    and splice) and mapping faults. The read-side programs are attached by the loader only
 *    while something is watched: a host with no mixed episode runs nothing on its reads.
 *    Kernels without those (Debian's 6.1 on the tracepoint backend) fall back to the
 *    read/write syscalls' own tracepoints, also attached only while something is watched.
 */
#ifndef IOH_MIXED_IO_BPF_H
#define IOH_MIXED_IO_BPF_H

#include "common.bpf.h"
#include "compat.bpf.h"
#include "path.bpf.h"
#include "stacks.bpf.h"

#define IS_ERR_PTR(p) ((unsigned long)(p) >= (unsigned long)-4095)

#define F_SETFL_CMD 4
#define FMODE_WRITE_FLAG 0x2
#define FMODE_READ_FLAG 0x1

/* Two opens count as "at once" when no more than this apart (rodata, --mixed-window). */
const volatile __u64 mode_window_ns = 600ULL * 1000000000ULL;

/* Number of watched inodes; the I/O hot path returns at once while it is zero. User space
 * expires watched inodes whose episode ended (daemon/loader: ioh_loader_expire_watched). */
volatile __u32 watched_count;

/*
 * Processes that took part in a mixed episode (both sides, and later openers of a watched
 * inode). While something is watched, the read/write hot path looks up only the caller's
 * tgid here before paying for the fd -> file walk: unrelated processes cost one lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} watched_pids SEC(".maps");

static __always_inline void watch_pid(__u32 tgid)
{
	__u8 one = 1;

	if (tgid)
		bpf_map_update_elem(&watched_pids, &tgid, &one, BPF_ANY);
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ioh_inode_key);
	__type(value, struct ioh_mode_state);
} mode_state SEC(".maps");

/* Watched inodes by inode pointer: the hot path then needs no i_sb/s_dev loads. The value
 * lets a stale pointer (inode freed and reused) be recognised. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct ioh_inode_key);
} watched SEC(".maps");

/* Scratch for an access record, worst-case sized; only sizeof(ev) + path_len is sent. */
struct access_record {
	struct ioh_access_event ev;
	char path[IOH_DIR_PATH_REGION];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct access_record);
} access_scratch SEC(".maps");

static __always_inline bool access_is_direct(__u16 access)
{
	return access == IOH_ACC_OPEN_DIRECT || access == IOH_ACC_DIRECT_READ ||
	       access == IOH_ACC_DIRECT_WRITE;
}

static __always_inline void emit_access(struct inode *inode, struct file *file, __u32 kind,
					__u16 access, __u32 other_pid, __u16 other_access,
					__u64 other_ns)
{
	/* The first record of an episode wakes the daemon at once: it attaches the read-side
	 * hooks on demand, so the reads that follow are seen. */
	__u64 flags = kind == IOH_MODE_BOTH_OPEN ? BPF_RB_FORCE_WAKEUP : ringbuf_flags();
	__u32 zero = 0;
	struct access_record *rec = bpf_map_lookup_elem(&access_scratch, &zero);
	__u64 callsite = stack_capture(); /* this task's side of the pair */

	if (!rec)
		return;
	fill_header(&rec->ev.hdr, IOH_EV_ACCESS_MODE, sizeof(rec->ev));
	rec->ev.callsite = callsite;
	__builtin_memset(&rec->ev.file, 0, sizeof(rec->ev.file));
	file_id_from_inode(&rec->ev.file, inode);
	rec->ev.kind = kind;
	rec->ev.access = access;
	rec->ev.other_access = other_access;
	rec->ev.other_pid = other_pid;
	rec->ev.other_ns = other_ns;
	rec->ev.path_len = 0;
	rec->ev.path_components = 0;
	if (file)
		record_file_path(file, rec->path, &rec->ev.hdr, &rec->ev.path_len,
				 &rec->ev.path_components);
	output_with_path(rec, sizeof(rec->ev), &rec->ev.hdr, rec->ev.path_len,
			 IOH_LOSS_RINGBUF_MODE, flags);
}

/* The inode of `file` if it is a regular file (the only kind mode_state tracks), else NULL. */
static __always_inline struct inode *regular_inode_of(struct file *file)
{
	struct inode *inode = file_inode_of(file);

	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return NULL;
	return inode;
}

static __always_inline void watch_inode(struct inode *inode, struct ioh_inode_key *key)
{
	__u64 ptr = (__u64)inode;
	struct ioh_inode_key *old;

	if (bpf_map_update_elem(&watched, &ptr, key, BPF_NOEXIST) == 0) {
		__sync_fetch_and_add(&watched_count, 1);
		return;
	}
	old = bpf_map_lookup_elem(&watched, &ptr);
	if (!old)
		count_loss(IOH_LOSS_MODE_MAP_FULL);
	else if (old->dev != key->dev || old->ino != key->ino || old->gen != key->gen)
		*old = *key; /* a watched inode was freed and its memory reused for this one */
}

/* An open, fcntl(F_SETFL) or mmap of `file`: open-granularity tracking for every file. */
static __always_inline void note_open(struct file *file, __u16 access)
{
	struct inode *inode = regular_inode_of(file);
	struct ioh_inode_key key = {};
	struct ioh_mode_state *st, fresh = {};
	bool direct = access_is_direct(access);
	__u64 now, other_ns;
	__u32 other_pid, tgid;
	__u16 other_access;

	if (!inode)
		return;
	inode_key(inode, &key);
	now = bpf_ktime_get_ns();
	tgid = current_tgid();
	st = bpf_map_lookup_elem(&mode_state, &key);
	if (!st) {
		if (direct) {
			fresh.direct_ns = now;
			fresh.direct_pid = tgid;
			fresh.direct_access = access;
		} else {
			fresh.buffered_ns = now;
			fresh.buffered_pid = tgid;
			fresh.buffered_access = access;
		}
		bpf_map_update_elem(&mode_state, &key, &fresh, BPF_ANY);
		return;
	}
	if (direct) {
		other_ns = st->buffered_ns;
		other_pid = st->buffered_pid;
		other_access = st->buffered_access;
		st->direct_ns = now;
		st->direct_pid = tgid;
		st->direct_access = access;
	} else {
		other_ns = st->direct_ns;
		other_pid = st->direct_pid;
		other_access = st->direct_access;
		st->buffered_ns = now;
		st->buffered_pid = tgid;
		st->buffered_access = access;
	}
	if (!other_ns || now - other_ns > mode_window_ns) {
		st->reported = 0; /* the other side is gone: a later overlap is a new episode */
		return;
	}
	watch_inode(inode, &key);
	watch_pid(tgid);
	watch_pid(other_pid);
	if (st->reported & (1u << IOH_MODE_BOTH_OPEN))
		return;
	st->reported |= 1u << IOH_MODE_BOTH_OPEN;
	emit_access(inode, file, IOH_MODE_BOTH_OPEN, access, other_pid, other_access, other_ns);
}

/* A read, write or fault on a watched inode: record it and report a hazardous order once. */
static __always_inline void note_io(struct inode *inode, struct file *file, __u16 access)
{
	struct ioh_inode_key *wkey, key;
	struct ioh_mode_state *st;
	__u64 ptr = (__u64)inode, now;
	__u32 tgid, kind = 0, other_pid = 0;
	__u64 other_ns = 0;
	__u16 other_access = 0;

	wkey = bpf_map_lookup_elem(&watched, &ptr);
	if (!wkey)
		return;
	key = *wkey;
	if (BPF_CORE_READ(inode, i_ino) != key.ino ||
	    BPF_CORE_READ(inode, i_generation) != key.gen) {
		/* The watched inode was freed and its memory reused. */
		if (bpf_map_delete_elem(&watched, &ptr) == 0)
			__sync_fetch_and_add(&watched_count, -1);
		return;
	}
	st = bpf_map_lookup_elem(&mode_state, &key);
	if (!st)
		return;
	now = bpf_ktime_get_ns();
	tgid = current_tgid();
	switch (access) {
	case IOH_ACC_DIRECT_WRITE:
		st->direct_write_ns = now;
		break;
	case IOH_ACC_BUFFERED_WRITE:
		st->buffered_write_ns = now;
		break;
	case IOH_ACC_BUFFERED_READ:
	case IOH_ACC_MMAP:
		if (st->direct_write_ns &&
		    !(st->reported & (1u << IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ))) {
			kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ;
			other_pid = st->direct_pid;
			other_access = IOH_ACC_DIRECT_WRITE;
			other_ns = st->direct_write_ns;
		}
		break;
	case IOH_ACC_DIRECT_READ:
		if (st->buffered_write_ns &&
		    !(st->reported & (1u << IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ))) {
			kind = IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ;
			other_pid = st->buffered_pid;
			other_access = IOH_ACC_BUFFERED_WRITE;
			other_ns = st->buffered_write_ns;
		}
		break;
	}
	if (access_is_direct(access)) {
		st->direct_ns = now;
		st->direct_pid = tgid;
		st->direct_access = access;
	} else {
		st->buffered_ns = now;
		st->buffered_pid = tgid;
		st->buffered_access = access;
	}
	if (!kind)
		return;
	st->reported |= 1u << kind;
	emit_access(inode, file, kind, access, other_pid, other_access, other_ns);
}

/*
 * Set by the loader once iomap:iomap_dio_rw_begin is attached. On the filesystems that do
 * direct I/O through iomap, O_DIRECT I/O is then taken from that hook only: it fires when the
 * kernel really bypasses the page cache, while O_DIRECT on the fd does not promise that (btrfs
 * with data checksums writes through the page cache and invalidates since 6.15; ext4 with
 * data=journal, encrypted or verity files fall back to buffered I/O). Counting those as direct
 * writes would report a stale-cache hazard that cannot happen.
 */
volatile __u32 direct_io_from_iomap;

static __always_inline bool direct_io_seen_by_iomap(struct inode *inode)
{
	unsigned long magic;

	if (!direct_io_from_iomap)
		return false;
	magic = BPF_CORE_READ(inode, i_sb, s_magic);
	return magic == EXT4_SUPER_MAGIC || magic == XFS_SUPER_MAGIC || magic == BTRFS_SUPER_MAGIC;
}

/* A read or write of `file` on a watched inode: direct or buffered by the file's flags. */
static __always_inline void note_file_io(struct file *file, bool write)
{
	struct inode *inode;
	bool direct;

	if (!file)
		return;
	inode = file_inode_of(file);
	direct = BPF_CORE_READ(file, f_flags) & O_DIRECT_FLAG;
	if (direct && inode && direct_io_seen_by_iomap(inode))
		return; /* mixed_io_on_dio records it if it really is direct */
	note_io(inode, file,
		direct ? (write ? IOH_ACC_DIRECT_WRITE : IOH_ACC_DIRECT_READ)
		       : (write ? IOH_ACC_BUFFERED_WRITE : IOH_ACC_BUFFERED_READ));
}

static __always_inline bool mixed_io_rw_syscall(long nr, bool *write)
{
	switch (nr) {
	case NR_read:
	case NR_pread64:
	case NR_readv:
	case NR_preadv:
	case NR_preadv2:
		*write = false;
		return true;
	case NR_write:
	case NR_pwrite64:
	case NR_writev:
	case NR_pwritev:
	case NR_pwritev2:
		*write = true;
		return true;
	}
	return false;
}

/*
 * A read/write syscall's own tracepoint (fallback where the page-cache hooks are missing;
 * attached only while something is watched): only parties to a mixed episode pay the fd walk.
 */
static __always_inline int mixed_io_on_rw(long nr, int fd)
{
	__u32 tgid = current_tgid();
	bool write;

	if (!mixed_io_rw_syscall(nr, &write) || !watched_count)
		return 0;
	if (!bpf_map_lookup_elem(&watched_pids, &tgid))
		return 0;
	note_file_io(fd_to_file(fd), write);
	return 0;
}

/* A file was opened (do_filp_open returned it, or open/openat/openat2 returned its fd). */
static __always_inline int mixed_io_on_opened(struct file *file)
{
	if (!file || IS_ERR_PTR(file) || is_self())
		return 0;
	note_open(file, (BPF_CORE_READ(file, f_flags) & O_DIRECT_FLAG) ? IOH_ACC_OPEN_DIRECT
								       : IOH_ACC_OPEN_BUFFERED);
	return 0;
}

/* fcntl(fd, F_SETFL, flags): a file can gain or lose O_DIRECT after it was opened. */
static __always_inline int mixed_io_on_setfl(int fd, __u64 cmd, __u64 flags)
{
	struct file *file;

	if (cmd != F_SETFL_CMD || is_self())
		return 0;
	file = fd_to_file(fd);
	if (!file)
		return 0;
	note_open(file, (flags & O_DIRECT_FLAG) ? IOH_ACC_OPEN_DIRECT : IOH_ACC_OPEN_BUFFERED);
	return 0;
}

/* A file mapping (do_mmap with a file, or mmap(2) without MAP_ANONYMOUS). */
static __always_inline int mixed_io_on_mmap(struct file *file)
{
	if (!file || is_self())
		return 0;
	note_open(file, IOH_ACC_MMAP);
	return 0;
}

/*
 * sys_enter of close(2): one side of an inode stops being open, so a later open of the other
 * kind is not "at once" and a later buffered read is not racing a direct writer:
 *  - an O_DIRECT file closed by the inode's last O_DIRECT user ends the direct side (its
 *    writes are complete, and the kernel invalidated the cached range after each);
 *  - a buffered file closed by the last page-cache user ends the buffered side unless the
 *    file is still mapped (mmap outlives the fd) or it was written and the written pages
 *    are still unsynced: dirty pages outlive the fd and a direct reader would miss them.
 * Only the task recorded as that side's last user ends it, so another opener keeps the side
 * alive (at worst until the tracking window ends, as for files closed by exit or dup2 without
 * close(2)).
 */
static __always_inline int mixed_io_on_close(int fd)
{
	struct file *file = fd_to_file(fd);
	struct inode *inode = regular_inode_of(file);
	struct ioh_inode_key key = {};
	struct ioh_mode_state *st;
	bool direct;

	if (!inode)
		return 0;
	/* What the file alone decides comes first: mapped buffered files keep their side (the
	 * mapping outlives the fd), and so do writable ones that left written pages in the cache
	 * (a direct reader would miss them). A writable file that wrote nothing into the cache
	 * (created, ftruncate'd, closed: how MariaDB makes ib_logfile0 before reopening it
	 * O_DIRECT) ends its side like a reader. */
	direct = BPF_CORE_READ(file, f_flags) & O_DIRECT_FLAG;
	/* A buffered reader of a watched inode closing a file it read from (its position moved):
	 * its reads went through the page cache. The read-side hooks are attached on demand,
	 * milliseconds after the inode became watched, so a short reader (cat of a small file)
	 * can finish before them; its close still orders it after the direct writes. */
	if (!direct && watched_count && (BPF_CORE_READ(file, f_mode) & FMODE_READ_FLAG) &&
	    BPF_CORE_READ(file, f_pos) > 0)
		note_io(inode, file, IOH_ACC_BUFFERED_READ);
	if (!direct &&
	    (BPF_CORE_READ(inode, i_mapping, i_mmap.rb_root.rb_node) ||
	     ((BPF_CORE_READ(file, f_mode) & FMODE_WRITE_FLAG) && inode_has_unsynced_pages(inode))))
		return 0;
	inode_key(inode, &key);
	st = bpf_map_lookup_elem(&mode_state, &key);
	if (!st)
		return 0;
	if (direct) {
		if (st->direct_pid == current_tgid()) {
			st->direct_ns = 0;
			st->direct_write_ns = 0;
		}
	} else if (st->buffered_pid == current_tgid()) {
		st->buffered_ns = 0;
	}
	return 0;
}

/*
 * iomap:iomap_dio_rw_begin: direct I/O on ext4, xfs and btrfs. It fires for O_DIRECT only, so
 * it costs buffered I/O nothing, and it sees direct writes before the inode is watched (a
 * writer that finished before the reader opened the file).
 */
static __always_inline int mixed_io_on_dio_rw(struct kiocb *iocb, bool write);

static __always_inline int mixed_io_on_dio(struct kiocb *iocb, struct iov_iter *iter)
{
	return mixed_io_on_dio_rw(iocb, iter_is_write(iter));
}

/* IOMAP_DIO_WRITE in struct iomap_dio's flags (fs/iomap/direct-io.c, 5.x to 6.18). */
#define IOH_IOMAP_DIO_WRITE (1U << 30)

/*
 * iomap_dio_complete(): the end of a direct I/O through iomap. The fentry fallback where
 * __iomap_dio_rw() cannot be traced (7 arguments: 6.1's trampolines take at most 6). For
 * synchronous direct I/O it runs in the caller; asynchronous completions run in a worker, so
 * the direct side is then named by the worker.
 */
static __always_inline int mixed_io_on_dio_complete(struct iomap_dio *dio)
{
	return mixed_io_on_dio_rw(BPF_CORE_READ(dio, iocb),
				  BPF_CORE_READ(dio, flags) & IOH_IOMAP_DIO_WRITE);
}

static __always_inline int mixed_io_on_dio_rw(struct kiocb *iocb, bool write)
{
	struct file *file = BPF_CORE_READ(iocb, ki_filp);
	struct inode *inode = file_inode_of(file);
	struct ioh_inode_key key = {};
	struct ioh_mode_state *st, fresh = {};
	__u64 now = bpf_ktime_get_ns();
	__u32 tgid = current_tgid();

	if (!inode || is_self())
		return 0;
	inode_key(inode, &key);
	st = bpf_map_lookup_elem(&mode_state, &key);
	if (!st) {
		fresh.direct_ns = now;
		fresh.direct_pid = tgid;
		fresh.direct_access = write ? IOH_ACC_DIRECT_WRITE : IOH_ACC_DIRECT_READ;
		if (write)
			fresh.direct_write_ns = now;
		bpf_map_update_elem(&mode_state, &key, &fresh, BPF_ANY);
		return 0;
	}
	st->direct_ns = now;
	st->direct_pid = tgid;
	st->direct_access = write ? IOH_ACC_DIRECT_WRITE : IOH_ACC_DIRECT_READ;
	if (write) {
		st->direct_write_ns = now;
		return 0;
	}
	/* A direct read while the page cache holds data someone wrote buffered and nothing has
	 * written back: only written pages count (an ftruncate or a chmod dirties the inode,
	 * not its pages). */
	if ((st->buffered_ns || st->buffered_write_ns) && inode_has_unsynced_pages(inode) &&
	    !(st->reported & (1u << IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ))) {
		st->reported |= 1u << IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ;
		emit_access(inode, file, IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ,
			    IOH_ACC_DIRECT_READ, st->buffered_pid, IOH_ACC_BUFFERED_WRITE,
			    st->buffered_write_ns ? st->buffered_write_ns : st->buffered_ns);
	}
	return 0;
}

/* io_uring opcodes (uapi, stable) that read or write a file's data. */
#define IORING_OP_READV 1
#define IORING_OP_WRITEV 2
#define IORING_OP_READ_FIXED 4
#define IORING_OP_WRITE_FIXED 5
#define IORING_OP_READ 22
#define IORING_OP_WRITE 23

/* io_kiocb flag: the request's fd is an index into the ring's registered file table. */
#define IOH_REQ_F_FIXED_FILE 1ULL
/*
 * The file a request works on. At io_uring_submit_req the kernel has not assigned req->file
 * yet (io_assign_file runs at issue time, after the tracepoint), so it is resolved here the way
 * the kernel will: the submitter's fd table for a plain fd, the ring's registered table for
 * IOSQE_FIXED_FILE. The submitter is `current` at this tracepoint.
 */
static __always_inline struct file *uring_req_file(struct io_kiocb *req)
{
	struct file *file = BPF_CORE_READ(req, file);
	int fd;

	if (file)
		return file;
	fd = BPF_CORE_READ(req, cqe.fd);
	if (BPF_CORE_READ(req, flags) & IOH_REQ_F_FIXED_FILE)
		return uring_fixed_file(req, (__u32)fd);
	return fd_to_file(fd);
}

/*
 * io_uring:io_uring_submit_req: I/O submitted through io_uring never passes the read/write
 * syscalls. Same filters as the syscall hot path (watched set, then party pid).
 */
static __always_inline int mixed_io_on_uring(struct io_kiocb *req)
{
	__u32 tgid = current_tgid();
	bool write;

	if (!watched_count || !bpf_map_lookup_elem(&watched_pids, &tgid))
		return 0;
	switch (BPF_CORE_READ(req, opcode)) {
	case IORING_OP_READV:
	case IORING_OP_READ_FIXED:
	case IORING_OP_READ:
		write = false;
		break;
	case IORING_OP_WRITEV:
	case IORING_OP_WRITE_FIXED:
	case IORING_OP_WRITE:
		write = true;
		break;
	default:
		return 0;
	}
	note_file_io(uring_req_file(req), write);
	return 0;
}

/* A mapping faulted a page in (mmap readers): filemap_fault() or mm_filemap_fault. */
static __always_inline int mixed_io_on_fault(struct address_space *mapping)
{
	if (!watched_count)
		return 0;
	note_io(BPF_CORE_READ(mapping, host), NULL, IOH_ACC_MMAP);
	return 0;
}

/*
 * A read through the page cache: filemap_read() (read, pread, readv, io_uring reads),
 * filemap_splice_read() (sendfile, splice, copy_file_range: a backup tool such as cp), or the
 * mm_filemap_get_pages tracepoint under both. Watched inodes only.
 */
static __always_inline int mixed_io_on_cache_read(struct address_space *mapping)
{
	if (!watched_count || !mapping)
		return 0;
	note_io(BPF_CORE_READ(mapping, host), NULL, IOH_ACC_BUFFERED_READ);
	return 0;
}

/* A page of a regular file was dirtied by a write (durability.bpf.h's dirty hook). */
static __always_inline void mixed_io_on_page_dirtied(struct inode *inode)
{
	if (watched_count)
		note_io(inode, NULL, IOH_ACC_BUFFERED_WRITE);
}

#endif
