/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI between the BPF programs and the daemon: records on the ring buffer, map keys and
 * values, and the constants both sides need. Plain structs of __u* types and no includes, so
 * one header compiles in the BPF object (types from vmlinux.h) and in user space (after
 * <linux/types.h>). Every record starts with struct ioh_event_hdr; its `size` covers the
 * trailing strings, so a reader can skip types it does not know.
 *
 * Bump IOH_ABI_VERSION whenever a layout here changes: recorded event files carry the
 * decoded form (daemon/record), not these structs, so only a running daemon depends on it.
 */
#ifndef IOHAZARD_ABI_H
#define IOHAZARD_ABI_H

#define IOH_ABI_VERSION 1

#define IOH_COMM_LEN 16
/* A single path component as the kernel stores it (NAME_MAX). */
#define IOH_NAME_MAX 255
/* Bytes reserved for each user-supplied path of a rename (old and new name). */
#define IOH_USER_PATH_MAX 1024
/*
 * Bytes for a directory path built from the dentry chain. Components are stored leaf first,
 * each NUL-terminated, because the BPF side can only write forward with bounded offsets; user
 * space reverses them. A component starts below IOH_DIR_PATH_MAX and may run NAME_MAX + 1
 * bytes past it, hence the region size. IOH_DIR_COMPONENTS_MAX bounds the walk (mount
 * crossings count as steps).
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
	IOH_EV__KERNEL_MAX,
	/* Types below are made by user space and only exist in decoded form. */
	IOH_EV_LOSS = 100, /* the kernel counted lost records since the previous LOSS */
	IOH_EV_END = 101,  /* a recording ended here: replay advances its clock to ts */
};

/* Which syscall produced an IOH_EV_SYNC record. */
enum ioh_sync_kind {
	IOH_SYNC_FSYNC = 1,
	IOH_SYNC_FDATASYNC = 2,
	IOH_SYNC_FILE_RANGE = 3, /* sync_file_range(2): never a durability point, kept as evidence */
	IOH_SYNC_SYNCFS = 4,	 /* covers one filesystem: `file.dev` */
	IOH_SYNC_SYNC = 5,	 /* covers every filesystem */
};

/* Where a loss was counted (index of the per-CPU `lost` array, and the metric label). */
enum ioh_loss_where {
	IOH_LOSS_RINGBUF_RENAME = 0, /* ring buffer full: a rename record was dropped */
	IOH_LOSS_RINGBUF_SYNC = 1,
	IOH_LOSS_RINGBUF_INODE = 2,   /* dirty/clean inode records */
	IOH_LOSS_INFLIGHT_FULL = 3,   /* no room to remember a syscall between enter and exit */
	IOH_LOSS_INODE_MAP_FULL = 4,  /* no room in the kernel per-inode table */
	IOH_LOSS_USER_STRING = 5,     /* a user path could not be read at syscall exit */
	IOH_LOSS_RINGBUF_MODE = 6,    /* access-mode records */
	IOH_LOSS_MODE_MAP_FULL = 7,   /* no room to watch an inode used both ways */
	IOH_LOSS__MAX,
};

/* ioh_event_hdr.flags */
#define IOH_EVF_PATH_TRUNCATED (1u << 0) /* a path did not fit; user space marks it visibly */
#define IOH_EVF_NAME_UNREADABLE (1u << 1) /* a user string could not be read */

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
	__u32 mode;	/* i_mode: type and permission bits */
	__u64 ino;
	__u32 fs_magic; /* super_block.s_magic: decides "persistent filesystem" */
	__u32 _pad;
};

struct ioh_event_hdr {
	__u16 type;	/* enum ioh_event_type */
	__u16 size;	/* bytes of the whole record, header and trailing strings included */
	__u32 flags;	/* IOH_EVF_* */
	__u32 pid;	/* thread group id, what users call the pid */
	__u32 tid;
	__u64 ts_ns;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgroup_id; /* cgroup v2 id of the task (inode number of its cgroupfs directory) */
	char comm[IOH_COMM_LEN];
};

/*
 * A successful rename. Followed by three string regions at fixed offsets from the end of the
 * struct (fixed so the verifier can bound every write): the directory the new name is
 * relative to at 0 (IOH_DIR_PATH_REGION bytes; leaf-first NUL-separated components; empty
 * when the new name is absolute), the old name at IOH_RENAME_OLD_OFF and the new name at
 * IOH_RENAME_NEW_OFF (IOH_USER_PATH_MAX bytes each), exactly as passed to the syscall. Each
 * *_len counts the bytes used including the final NUL; 0 means absent.
 */
#define IOH_RENAME_OLD_OFF IOH_DIR_PATH_REGION
#define IOH_RENAME_NEW_OFF (IOH_RENAME_OLD_OFF + IOH_USER_PATH_MAX)
#define IOH_RENAME_STRINGS_SIZE (IOH_RENAME_NEW_OFF + IOH_USER_PATH_MAX)

struct ioh_rename_event {
	struct ioh_event_hdr hdr;
	__s32 dfd;		  /* new name's dirfd as passed (AT_FDCWD for rename(2)) */
	__u32 rename_flags;	  /* renameat2() flags (RENAME_NOREPLACE, RENAME_EXCHANGE...) */
	struct ioh_file_id base_dir; /* directory `new name` is relative to (dirfd or cwd) */
	struct ioh_file_id src;	  /* the renamed inode, when identity == IOH_ID_KERNEL */
	struct ioh_file_id dst_dir; /* the directory receiving the name, idem */
	__u16 base_path_len;
	__u16 base_components; /* number of components in the base path */
	__u16 old_name_len;
	__u16 new_name_len;
	__u32 identity; /* enum ioh_identity_source */
	__u32 mnt_ns;	/* inode number of the task's mount namespace (user space resolves names
			 * in it: directly when it is the daemon's, else via /proc/PID/root) */
};

/* A sync-family syscall returned. No trailing strings. */
struct ioh_sync_event {
	struct ioh_event_hdr hdr;
	__u32 kind; /* enum ioh_sync_kind */
	__s32 ret;  /* syscall return: 0 or -errno */
	__s32 fd;
	__u32 _pad;
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
	__u32 _pad;
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
	IOH_ACC_MMAP = 7,	   /* mapped, or a page fault on a mapping */
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
 * An inode used both ways. Followed by the file's path (IOH_DIR_PATH_REGION bytes, leaf-first
 * components like the rename base directory; the leaf is the file itself).
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
};

/* Read-only knobs the loader sets in .rodata before load. */
struct ioh_bpf_config {
	__u32 self_pid; /* the daemon's own tgid: its I/O is not reported */
	__u32 _pad;
};

#endif /* IOHAZARD_ABI_H */
