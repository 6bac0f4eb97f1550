/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI between the BPF programs and the daemon: records on the ring buffer, map keys and
 * values, and the constants both sides need. Plain structs of __u* types and no includes, so
 * one header compiles in the BPF object (types from vmlinux.h) and in user space (after
 * <linux/types.h>). Every record starts with struct ioh_event_hdr; its `size` covers the
 * trailing strings, so a reader can skip types it does not know.
 *
 * Records with trailing strings carry only the bytes they use: the strings follow the struct
 * back to back, and hdr.size is exactly sizeof(struct) plus their *_len fields. The IOH_*_MAX
 * and IOH_DIR_PATH_REGION constants bound each string (the BPF side's scratch buffers are
 * sized for the worst case); they are not offsets.
 *
 * Bump IOH_ABI_VERSION whenever a layout here changes: recorded event files carry the
 * decoded form (daemon/record), not these structs, so only a running daemon depends on it.
 */
#ifndef IOHAZARD_ABI_H
#define IOHAZARD_ABI_H

#define IOH_ABI_VERSION 4

#define IOH_COMM_LEN 16
/* A single path component as the kernel stores it (NAME_MAX). */
#define IOH_NAME_MAX 255
/* Most bytes of a rename's old name (evidence only: cut names are marked). */
#define IOH_USER_PATH_MAX 1024
/* Most bytes of the new name: PATH_MAX, the kernel's own limit, so it is never cut. */
#define IOH_NEW_PATH_MAX 4096
/*
 * Bytes for a directory path built from the dentry chain. Components are stored leaf first,
 * each NUL-terminated, because the BPF side can only write forward with bounded offsets; user
 * space reverses them. A component starts below IOH_DIR_PATH_MAX and may run NAME_MAX + 1
 * bytes past it, hence the region size, which is also the most a path's *_len can be.
 * IOH_DIR_COMPONENTS_MAX bounds the walk (mount crossings count as steps).
 */
#define IOH_DIR_PATH_MAX 2048
#define IOH_DIR_PATH_REGION (IOH_DIR_PATH_MAX + IOH_NAME_MAX + 1)
#define IOH_DIR_COMPONENTS_MAX 48

enum ioh_event_type {
	IOH_EV_RENAME = 1,	/* a rename(2) family call completed successfully */
	IOH_EV_SYNC = 2,	/* fsync/fdatasync/sync_file_range/syncfs/sync returned */
	IOH_EV_INODE_DIRTY = 3, /* a regular file went from clean to having dirty pages */
	IOH_EV_INODE_CLEAN = 4, /* writeback left an inode we reported dirty with no dirty pages */
	IOH_EV_ACCESS_MODE = 5, /* an inode is used through O_DIRECT and the page cache */
	IOH_EV_HEARTBEAT = 6,	/* the daemon's own canary syscall went through the hooks */
	IOH_EV_DIRTY_THROTTLE = 7, /* a task paused in balance_dirty_pages() above the threshold */
	IOH_EV_SPLICE_STALL = 8,   /* splice-family syscall took longer than the threshold */
	IOH_EV_TRUNCATE = 9,	   /* a file on a watched (data=writeback) device was truncated */
	IOH_EV_STACK = 10,	   /* the user registers and stack of the call the next record is
				    * about (struct ioh_stack_event) */
	IOH_EV__KERNEL_MAX,
	/* Types below are made by user space and only exist in decoded form. */
	IOH_EV_LOSS = 100,  /* the kernel counted lost records since the previous LOSS */
	IOH_EV_END = 101,   /* a recording ended here: replay advances its clock to ts */
	IOH_EV_MOUNT = 102, /* a mount's crash-relevant options, from /proc/self/mountinfo */
};

/* Which syscall produced an IOH_EV_SYNC record. */
enum ioh_sync_kind {
	IOH_SYNC_FSYNC = 1,
	IOH_SYNC_FDATASYNC = 2,
	IOH_SYNC_FILE_RANGE =
	    3,		     /* sync_file_range(2): never a durability point, kept as evidence */
	IOH_SYNC_SYNCFS = 4, /* covers one filesystem: `file.dev` */
	IOH_SYNC_SYNC = 5,   /* covers every filesystem */
};

/* Where a loss was counted (index of the per-CPU `lost` array, and the metric label). */
enum ioh_loss_where {
	IOH_LOSS_RINGBUF_RENAME = 0, /* ring buffer full: a rename record was dropped */
	IOH_LOSS_RINGBUF_SYNC = 1,
	IOH_LOSS_RINGBUF_INODE = 2,    /* dirty/clean inode records */
	IOH_LOSS_INFLIGHT_FULL = 3,    /* no room to remember a syscall between enter and exit */
	IOH_LOSS_INODE_MAP_FULL = 4,   /* no room in the kernel per-inode table */
	IOH_LOSS_USER_STRING = 5,      /* a user path could not be read at syscall exit */
	IOH_LOSS_RINGBUF_MODE = 6,     /* access-mode records */
	IOH_LOSS_MODE_MAP_FULL = 7,    /* no room to watch an inode used both ways */
	IOH_LOSS_RINGBUF_THROTTLE = 8, /* dirty-throttle pause records */
	IOH_LOSS_RINGBUF_SPLICE = 9,   /* splice-stall records */
	IOH_LOSS_SPLICE_INFLIGHT_FULL = 10, /* no room to time a splice-family call */
	IOH_LOSS_HIST_MAP_FULL = 11,	    /* no room for another (bdi, cgroup) pause histogram */
	IOH_LOSS_RINGBUF_TRUNCATE = 12,	    /* truncate records */
	IOH_LOSS__MAX,
};

/* ioh_event_hdr.flags */
#define IOH_EVF_PATH_TRUNCATED (1u << 0)  /* a path did not fit; user space marks it visibly */
#define IOH_EVF_NAME_UNREADABLE (1u << 1) /* a user string could not be read */
/* rename: the new name existed and was replaced. Known only where vfs_rename() is hooked
 * (fentry, kprobe); unset on the tracepoint backend, where nothing says either way. */
#define IOH_EVF_RENAME_REPLACED (1u << 2)
/* stack: the copy is shorter than asked (a fault; a retry read less) */
#define IOH_EVF_STACK_SHORT (1u << 3)

/* ioh_rename_event.identity: how the renamed inode and target directory were found. */
enum ioh_identity_source {
	IOH_ID_NONE = 0,      /* only names: user space resolves them (tracepoint backend) */
	IOH_ID_KERNEL = 1,    /* from vfs_rename() arguments (fentry or kprobe backend) */
	IOH_ID_USERSPACE = 2, /* decoded form only: resolved with stat(2) at event time */
};

/*
 * A file as the kernel sees it. `dev` uses the kernel's encoding (major << 20 | minor), as in
 * super_block.s_dev; user space converts st_dev to it, never the other way round.
 */
struct ioh_file_id {
	__u32 dev;
	__u32 mode; /* i_mode: type and permission bits */
	__u64 ino;
	__u32 fs_magic; /* super_block.s_magic: decides "persistent filesystem" */
	/* i_generation: a deleted file's inode number is reused at once by ext4 and xfs, so
	 * (dev, ino) alone lets a new file inherit the old one's state. 0 when unknown (names
	 * resolved by user space with statx, which does not report it). */
	__u32 gen;
};

struct ioh_event_hdr {
	__u16 type;  /* enum ioh_event_type */
	__u16 size;  /* bytes of the whole record, header and trailing strings included */
	__u32 flags; /* IOH_EVF_* */
	__u32 pid;   /* thread group id, what users call the pid */
	__u32 tid;
	__u64 ts_ns;	 /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgroup_id; /* cgroup v2 id of the task (inode number of its cgroupfs directory) */
	char comm[IOH_COMM_LEN];
};

/*
 * A successful rename. Followed by three strings, packed back to back with no padding:
 *  1. the directory the new name is relative to (base_path_len bytes, at most
 *     IOH_DIR_PATH_REGION; leaf-first NUL-terminated components; empty when the new name is
 *     absolute or the directory could not be found),
 *  2. the old name (old_name_len bytes, at most IOH_USER_PATH_MAX),
 *  3. the new name (new_name_len bytes, at most IOH_NEW_PATH_MAX),
 * the names exactly as passed to the syscall. Each *_len counts the bytes used including the
 * final NUL; 0 means absent. hdr.size == sizeof(struct ioh_rename_event) + base_path_len +
 * old_name_len + new_name_len.
 */
#define IOH_RENAME_STRINGS_MAX (IOH_DIR_PATH_REGION + IOH_USER_PATH_MAX + IOH_NEW_PATH_MAX)

struct ioh_rename_event {
	struct ioh_event_hdr hdr;
	__s32 dfd;		     /* new name's dirfd as passed (AT_FDCWD for rename(2)) */
	__u32 rename_flags;	     /* renameat2() flags (RENAME_NOREPLACE, RENAME_EXCHANGE...) */
	struct ioh_file_id base_dir; /* directory `new name` is relative to (dirfd or cwd) */
	struct ioh_file_id src;	     /* the renamed inode, when identity == IOH_ID_KERNEL */
	struct ioh_file_id dst_dir;  /* the directory receiving the name, idem */
	__u16 base_path_len;
	__u16 base_components; /* number of components in the base path */
	__u16 old_name_len;
	__u16 new_name_len;
	__u32 identity; /* enum ioh_identity_source */
	__u32 mnt_ns;	/* inode number of the task's mount namespace (user space resolves names
			 * in it: directly when it is the daemon's, else via /proc/PID/root) */
	__u64 callsite; /* key of the call's IOH_EV_STACK snapshot (see there); 0: none taken */
};

/* A sync-family call returned. */
struct ioh_sync_event {
	struct ioh_event_hdr hdr;
	__u32 kind; /* enum ioh_sync_kind */
	__s32 ret;  /* syscall return: 0 or -errno */
	__s32 fd;
	/* A failed fsync/fdatasync carries the file's path after the struct (path_len bytes,
	 * leaf-first components like ioh_access_event's), so the finding about the lost data can
	 * name the file; 0 otherwise. */
	__u16 path_len;
	__u16 path_components;
	struct ioh_file_id file; /* the fd's inode; zero for sync(2) */
	__u64 duration_ns;	 /* enter to exit */
};

/*
 * A regular file on some filesystem became dirty (IOH_EV_INODE_DIRTY, reported in the
 * context of the task that dirtied it) or a writeback pass left it clean (IOH_EV_INODE_CLEAN,
 * reported from the flusher, so pid/comm are the flusher's). No trailing strings.
 */
struct ioh_inode_event {
	struct ioh_event_hdr hdr;
	struct ioh_file_id file;
	__u64 dirtied_ns; /* for CLEAN: when it was reported dirty */
};

/* Key of the in-kernel dirty-inode table and of anything else keyed by inode. */
struct ioh_inode_key {
	__u32 dev;
	/* i_generation, in tables whose state must not pass to a new file that got a deleted
	 * file's inode number (mode_state: ext4 and xfs reuse numbers at once); 0 elsewhere. */
	__u32 gen;
	__u64 ino;
};

/*
 * Value of the in-kernel per-inode table (LRU hash keyed by ioh_inode_key). It lets the
 * kernel send one DIRTY record per "clean or fsynced -> dirty" transition instead of one per
 * dirtied page, and CLEAN only for inodes user space believes dirty. Losing an entry to LRU
 * eviction only costs a redundant DIRTY record, never a missed one.
 */
struct ioh_inode_sync_state {
	__u64 dirty_reported_ns; /* when the last DIRTY record for this inode was sent */
	__u64 synced_ns;	 /* when fsync/fdatasync last succeeded on it */
};

/* How a task used a file (ioh_access_event.access, .other_access). */
enum ioh_access {
	IOH_ACC_NONE = 0,
	IOH_ACC_OPEN_DIRECT = 1,   /* opened (or fcntl'd) with O_DIRECT, no I/O seen yet */
	IOH_ACC_OPEN_BUFFERED = 2, /* opened without O_DIRECT, no I/O seen yet */
	IOH_ACC_DIRECT_READ = 3,
	IOH_ACC_DIRECT_WRITE = 4,
	IOH_ACC_BUFFERED_READ = 5,
	IOH_ACC_BUFFERED_WRITE = 6,
	IOH_ACC_MMAP = 7, /* mapped, or a page fault on a mapping */
};

/* What an IOH_EV_ACCESS_MODE record reports. */
enum ioh_mode_kind {
	/* The inode was opened with O_DIRECT and without it within the tracking window (the
	 * two opens are `access` by this task and `other_access` by `other_pid`). */
	IOH_MODE_BOTH_OPEN = 1,
	/* A buffered read (or mmap fault) after a direct write: may return stale cached pages. */
	IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ = 2,
	/* A direct read after a buffered write: misses the dirty pages in the cache. */
	IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ = 3,
};

/*
 * Per-inode access modes, in an LRU hash keyed by ioh_inode_key: every open of a regular file
 * updates it (cheap tracking at open granularity). Times are bpf_ktime_get_ns().
 */
struct ioh_mode_state {
	__u64 direct_ns;	 /* last open/use with O_DIRECT */
	__u64 buffered_ns;	 /* last open/use through the page cache (read, write, mmap) */
	__u64 direct_write_ns;	 /* watched inodes only: last direct write */
	__u64 buffered_write_ns; /* watched inodes only: last buffered write */
	__u32 direct_pid;	 /* tgid of the last O_DIRECT user */
	__u32 buffered_pid;	 /* tgid of the last page-cache user */
	__u16 direct_access;	 /* enum ioh_access of the last O_DIRECT use */
	__u16 buffered_access;	 /* enum ioh_access of the last page-cache use */
	__u32 reported;		 /* bit (1 << enum ioh_mode_kind): already sent, until reset */
};

/*
 * An inode used both ways. Followed by the file's path: path_len bytes (at most
 * IOH_DIR_PATH_REGION), leaf-first components like the rename base directory, the leaf being
 * the file itself. hdr.size == sizeof(struct ioh_access_event) + path_len.
 */
struct ioh_access_event {
	struct ioh_event_hdr hdr;
	struct ioh_file_id file;
	__u32 kind;	    /* enum ioh_mode_kind */
	__u16 access;	    /* enum ioh_access of this task (hdr.pid) */
	__u16 other_access; /* enum ioh_access of the other side */
	__u32 other_pid;
	__u16 path_len;
	__u16 path_components;
	__u64 other_ns; /* when the other side's access happened */
	__u64 callsite; /* this task's call (hdr.pid): see struct ioh_stack_event; 0: none */
};

/* ---- stalls: dirty throttling and the splice family (seed cases 4 and 5) ---------------- */

/* log2 histogram slots: slot i counts values in [2^i, 2^(i+1)) nanoseconds (slot 0: < 2 ns). */
#define IOH_HIST_SLOTS 40
#define IOH_BDI_NAME_LEN 32 /* as the balance_dirty_pages tracepoint stores it */

/*
 * Kernel-side aggregate of dirty-throttle pauses, per (bdi, cgroup) in a hash map and per
 * splice-family call in a one-slot array. Updated with atomic adds from any CPU.
 */
struct ioh_hist {
	__u64 slots[IOH_HIST_SLOTS];
	__u64 count;
	__u64 sum_ns;
	__u64 last_ns; /* bpf_ktime_get_ns() of the latest sample (throttle: per bdi pacing) */
};

struct ioh_throttle_key {
	char bdi[IOH_BDI_NAME_LEN];
	__u64 cgroup_ino; /* the cgroup owning the written-back pages (wb's memcg), 0 if none */
};

/*
 * A balance_dirty_pages() pause at or above the threshold. Figures are the tracepoint's, in
 * pages (limit, setpoint, dirty, wb_*) and KiB/s (ratelimits). No trailing strings.
 */
struct ioh_throttle_event {
	struct ioh_event_hdr hdr;
	char bdi[IOH_BDI_NAME_LEN];
	__u64 pause_ns;	       /* this sleep */
	__u64 paused_ns;       /* already slept in this balance_dirty_pages() call */
	__u64 period_ns;       /* the pacing period the kernel computed */
	__s64 think_ns;	       /* time the task ran since its previous pause (negative: lagging) */
	__u64 limit;	       /* global hard dirty limit (pages) */
	__u64 setpoint;	       /* global dirty setpoint (pages) */
	__u64 dirty;	       /* global dirty + writeback pages */
	__u64 wb_setpoint;     /* this device's setpoint (pages) */
	__u64 wb_dirty;	       /* this device's dirty pages */
	__u64 dirty_ratelimit; /* the device's estimated write bandwidth share (KiB/s) */
	__u64 task_ratelimit;  /* the rate this task is throttled to (KiB/s) */
	__u32 dirtied;	       /* pages the task dirtied since its previous pause */
	__u32 dirtied_pause;   /* pages it may dirty before the next check */
	__u64 cgroup_ino;      /* cgroup owning the written-back pages (wb's memcg), 0 if none */
	__u64 bdi_idle_ns;     /* since the previous pause on this device (0: first one seen) */
};

/* What is on the other end of a splice-family call. */
enum ioh_end_kind {
	IOH_END_NONE = 0, /* no fd (vmsplice's user memory) or unknown */
	IOH_END_FILE = 1,
	IOH_END_PIPE = 2,
	IOH_END_SOCKET = 3,
	IOH_END_OTHER = 4, /* character device, eventfd, ... */
};

/* Why a splice-family call blocked, as far as the kernel shows it (bits). */
#define IOH_SPLICE_PIPE_FULL (1u << 0)	    /* the pipe written to was full */
#define IOH_SPLICE_WRITEBACK_WAIT (1u << 1) /* folio_wait_writeback() ran during the call */
#define IOH_SPLICE_SOCKET_FULL (1u << 2)    /* the socket's send buffer was full */
#define IOH_SPLICE_PIPE_EMPTY (1u << 3)	    /* the pipe read from was empty (writer slow) */

/* One end of a splice-family call. */
struct ioh_splice_end {
	struct ioh_file_id file;
	__s32 fd;
	__u32 kind;	   /* enum ioh_end_kind */
	__u32 pipe_bytes;  /* pipe: ring size in bytes (F_GETPIPE_SZ) */
	__u32 pipe_used;   /* pipe: occupied slots, the most seen at entry or exit */
	__u32 sock_sndbuf; /* socket: sk_sndbuf */
	__u32 sock_queued; /* socket: sk_wmem_queued, the most seen at entry or exit */
};

/*
 * A splice/sendfile/tee/vmsplice/copy_file_range call that took at least the threshold.
 * Followed by the path of the *file end*: path_len bytes (at most IOH_DIR_PATH_REGION),
 * leaf-first components, the leaf being the file; the input for sendfile/splice/
 * copy_file_range when it is a file, else the output. hdr.size == sizeof(struct
 * ioh_splice_event) + path_len.
 */
struct ioh_splice_event {
	struct ioh_event_hdr hdr;
	__u32 call;    /* enum ioh_splice_call */
	__u32 blocked; /* IOH_SPLICE_* */
	__s64 ret;     /* bytes moved or -errno */
	__u64 duration_ns;
	__u64 requested; /* len/count argument */
	__u32 wb_waits;	 /* folio_wait_writeback() calls by this thread during the call */
	__u16 path_len;
	__u16 path_components;
	__u32 path_end; /* 0: the path is of `in`, 1: of `out` */
	__u32 _pad;
	struct ioh_splice_end in;  /* source (vmsplice: the pipe when it reads from it) */
	struct ioh_splice_end out; /* destination */
	__u64 callsite;		   /* see struct ioh_stack_event; 0: none */
};

/* Which syscall an ioh_splice_event timed. */
enum ioh_splice_call {
	IOH_SPLICE_CALL_SPLICE = 1,
	IOH_SPLICE_CALL_TEE = 2,
	IOH_SPLICE_CALL_VMSPLICE = 3,
	IOH_SPLICE_CALL_SENDFILE = 4,
	IOH_SPLICE_CALL_COPY_FILE_RANGE = 5,
};

/* ---- data=writeback exposure (seed case 1) ----------------------------------------------- */

/*
 * A regular file on a device user space watches (mounted data=writeback) was truncated, in the
 * truncating task's context. Followed by the file's path within its filesystem: path_len
 * bytes (at most IOH_DIR_PATH_REGION), leaf-first components up to the filesystem root; user
 * space prepends the mount point. hdr.size == sizeof(struct ioh_truncate_event) + path_len.
 */
struct ioh_truncate_event {
	struct ioh_event_hdr hdr;
	struct ioh_file_id file;
	__u64 old_size; /* i_size when truncation began */
	__u16 path_len;
	__u16 path_components;
	__u32 _pad;
	__u64 callsite; /* see struct ioh_stack_event; 0: none */
};

/* ---- user call chains (issue 15) ---------------------------------------------------------- */

/*
 * Most user stack bytes one snapshot copies from the stack pointer up; the main thread's copy
 * stops at mm->start_stack, where its frames end. Twice perf's DWARF-mode default: a function
 * with two PATH_MAX buffers on its stack (tests/e2e/workloads/stack_app.c) puts its caller's
 * frame more than 8 KiB above sp.
 */
#define IOH_STACK_BYTES_MAX 16384
/* x86-64 user registers in DWARF order (rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip), as
 * daemon/stacks/stack.h's snapshot takes them. */
#define IOH_STACK_REGS 17

/* Why no IOH_EV_STACK accompanies a hazard record (index of the per-CPU `stack_counts`
 * array; iohazard_stacks_total{result}). A skipped stack is not a lost event. */
enum ioh_stack_count {
	IOH_STACK_CAPTURED = 0, /* a STACK record went to the ring */
	IOH_STACK_DEDUPED = 1,	/* same (process, call site) sent within the dedupe window: the
				 * daemon reuses the chain it has */
	IOH_STACK_BUDGET = 2,	/* the process spent its stack budget (token bucket) */
	IOH_STACK_RINGBUF = 3,	/* the ring was full (the hazard record may still fit) */
	IOH_STACK_FAULT = 4,	/* no stack bytes could be read at the stack pointer */
	IOH_STACK_NO_USER = 5,	/* no user registers: kernel thread or not from user mode */
	IOH_STACK__MAX,
};

/* A mapping the kernel saw at the call: a hint for when the task is gone before user space
 * reads /proc/PID/maps. end == 0: none. */
struct ioh_stack_vma {
	__u64 start, end; /* [start, end) */
	__u64 pgoff;	  /* file offset mapped at start, in bytes */
	__u64 ino;
	__u32 dev;	/* kernel encoding, like ioh_file_id.dev */
	__u16 path_len; /* leaf-first components (see IOH_DIR_PATH_REGION) */
	__u16 path_components;
};

/*
 * The user side of a call that can start a hazard, sent just before the hazard's record (the
 * same task, the same `callsite`). `callsite` hashes the user ip with the first return
 * address into the executable's text found in the 32 words at the stack pointer (else the
 * word at sp): cheap, stable for one call site of one binary, but two callers that differ only
 * deeper than that share a key. Followed by stack_len stack bytes (from regs[sp] up), then
 * exe.path_len bytes of the executable's path, then code.path_len bytes of the path of the
 * mapping holding the ip. hdr.size == sizeof(struct ioh_stack_event) + stack_len +
 * exe.path_len + code.path_len.
 */
struct ioh_stack_event {
	struct ioh_event_hdr hdr;
	__u64 callsite;
	__u64 regs[IOH_STACK_REGS];
	__u32 regs_mask; /* bit n: regs[n] valid */
	__u32 stack_len;
	struct ioh_stack_vma exe;  /* the executable's text (mm->start_code) */
	struct ioh_stack_vma code; /* the mapping holding the ip (libc's text, usually) */
};

/* Read-only knobs the loader sets in .rodata before load. */
struct ioh_bpf_config {
	__u32 self_pid; /* the daemon's own tgid: its I/O is not reported */
	__u32 _pad;
};

#endif /* IOHAZARD_ABI_H */
