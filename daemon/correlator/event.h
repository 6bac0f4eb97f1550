/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The decoded event: what the correlator consumes, what --record writes and --replay reads.
 * Kernel records (bpf/iohazard.h) become these in daemon/ingest, which also resolves what the
 * kernel could not (paths, identities on the tracepoint backend, cgroup paths). Everything the
 * detectors decide on is in here, so a replay reaches the same verdicts as the live run.
 *
 * Strings are borrowed: valid for the duration of one ioh_correlator_feed() call.
 */
#ifndef IOH_EVENT_H
#define IOH_EVENT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "iohazard.h"
#include "daemon/stacks/stack.h"

/* Decoded-only flags, beside IOH_EVF_* from the ABI (which fit in the low 16 bits). */
#define IOH_EVF_RESOLVED_IN_USERSPACE (1u << 16) /* identity found with stat(2) at event time */
#define IOH_EVF_RESOLVE_FAILED (1u << 17)	 /* the name no longer resolved to anything */
/* A statx of the name did not come back in time (a file system holding a lookup: FUSE, a
 * hung NFS server), or every resolver worker was still stuck: what is known is partial. */
#define IOH_EVF_RESOLVE_TIMEOUT (1u << 18)
/* The name lives on a file system that cannot carry a durable-rename finding and may block
 * a lookup (fuse, nfs, proc, ...): not looked up at all (fsnames.h). */
#define IOH_EVF_RESOLVE_SKIPPED (1u << 19)
/* IOH_EV_TRUNCATE: the path is the one the truncating task reaches the file by (its mount
 * point included, resolved through the task's mount table), not one within the file system. */
#define IOH_EVF_PATH_MOUNTED (1u << 20)

struct ioh_rename_info {
	int32_t dfd;
	uint32_t rename_flags;
	uint32_t identity;	    /* enum ioh_identity_source */
	struct ioh_file_id src;	    /* the renamed inode (zero if unknown) */
	struct ioh_file_id dst_dir; /* directory that received the name (zero if unknown) */
	/* Birth time (statx STATX_BTIME) of `src` when user space resolved it (src.gen is then
	 * unknown), converted to the event clock (CLOCK_MONOTONIC) at resolve time; 1: born
	 * before the monotonic clock started (boot); 0: unknown (kernel identity, or the
	 * filesystem has no birth time). Per-inode state older than this belongs to an earlier
	 * file that had the same inode number. */
	uint64_t src_btime_ns;
	const char *new_path; /* absolute path of the new name as the task saw it */
	const char *old_path; /* absolute path of the old name */
};

struct ioh_sync_info {
	uint32_t kind; /* enum ioh_sync_kind */
	int32_t ret;
	int32_t fd;
	struct ioh_file_id file;
	uint64_t duration_ns;
	const char *path; /* failed fsync/fdatasync: the file's path; NULL otherwise */
};

struct ioh_inode_info {
	struct ioh_file_id file;
	uint64_t dirtied_ns;
};

/* IOH_EV_ACCESS_MODE: an inode used through O_DIRECT and through the page cache. */
struct ioh_access_info {
	struct ioh_file_id file;
	uint32_t kind;	       /* enum ioh_mode_kind */
	uint16_t access;       /* enum ioh_access of this task */
	uint16_t other_access; /* enum ioh_access of the other side */
	uint32_t other_pid;
	uint64_t other_ns; /* when the other side's access happened (monotonic) */
	const char *path;  /* the file, NULL when the kernel had no struct file (faults) */
	char other_comm[IOH_COMM_LEN]; /* resolved from /proc at event time; "" if gone */
	const char *other_cgroup;      /* idem, NULL if unknown */
};

/* IOH_EV_DIRTY_THROTTLE: a balance_dirty_pages() pause (figures: bpf/iohazard.h). */
struct ioh_throttle_info {
	char bdi[IOH_BDI_NAME_LEN]; /* NUL-terminated */
	uint64_t pause_ns;
	uint64_t paused_ns;
	uint64_t period_ns;
	int64_t think_ns;
	uint64_t limit, setpoint, dirty, wb_setpoint, wb_dirty; /* pages */
	uint64_t dirty_ratelimit, task_ratelimit;		/* KiB/s */
	uint32_t dirtied, dirtied_pause;			/* pages */
	uint64_t cgroup_ino;	 /* cgroup owning the written-back pages, 0 if none */
	uint64_t bdi_idle_ns;	 /* since the previous pause on this bdi (0: first seen) */
	const char *page_cgroup; /* cgroup_ino as a path, resolved at event time, or NULL */
};

/* IOH_EV_SPLICE_STALL: a splice-family call at or above the kernel threshold. */
struct ioh_splice_info {
	uint32_t call;	  /* enum ioh_splice_call */
	uint32_t blocked; /* IOH_SPLICE_* */
	int64_t ret;
	uint64_t duration_ns;
	uint64_t requested;
	uint32_t wb_waits;
	uint32_t path_end; /* 0: `path` is the input's, 1: the output's */
	struct ioh_splice_end in, out;
	const char *path; /* the file end, NULL when neither end is a regular file */
};

/* IOH_EV_TRUNCATE: a file on a watched (data=writeback) device was truncated. */
struct ioh_truncate_info {
	struct ioh_file_id file;
	uint64_t old_size;
	const char *path; /* within its filesystem ("/dir/file"), or with IOH_EVF_PATH_MOUNTED
			   * through the task's mount ("/srv/dir/file") */
};

/*
 * IOH_EV_STACK is decoded into a struct ioh_stack_snapshot (daemon/stacks/stack.h): the
 * registers and stack bytes from the kernel, and the task's executable mappings, read from
 * /proc/PID/maps at event time (resolve.c) or, when the task was already gone, the kernel's
 * hints (process_gone). Recordings carry all of it, so replay unwinds the same bytes.
 * At most IOH_STACK_MODULES_MAX modules are kept.
 */
#define IOH_STACK_MODULES_MAX 64

/* IOH_EV_MOUNT flags: crash-relevant options of a mount. */
#define IOH_MNT_DATA_WRITEBACK (1u << 0)       /* ext3/ext4 data=writeback */
#define IOH_MNT_NOBARRIER (1u << 1)	       /* nobarrier / barrier=0 */
#define IOH_MNT_JOURNAL_ASYNC_COMMIT (1u << 2) /* commit block written without waiting */
#define IOH_MNT_LONG_COMMIT (1u << 3)	       /* commit= well above the 5 s default */
#define IOH_MNT_HAZARDS 0xffu
#define IOH_MNT_GONE (1u << 8) /* unmounted: forget it */

/*
 * IOH_EV_MOUNT: made by daemon/ingest/mountinfo from /proc/self/mountinfo, once per mount when
 * its crash-relevant options are first seen, change or clear (flags 0), and when it goes.
 */
struct ioh_mount_info {
	uint64_t mnt_id;
	uint32_t dev;	   /* kernel s_dev */
	uint32_t flags;	   /* IOH_MNT_* */
	uint32_t commit_s; /* commit= interval, 0 when not given */
	const char *mount_point;
	const char *fstype;
	const char *source;
	const char *options; /* the superblock options as mountinfo shows them */
};

/* IOH_EV_LOSS: counted by the kernel between two polls. */
struct ioh_loss_info {
	uint32_t where; /* enum ioh_loss_where */
	uint64_t count; /* records lost in (since_ns, ts_ns] */
	uint64_t since_ns;
};

struct ioh_event {
	uint64_t ts_ns; /* CLOCK_MONOTONIC */
	uint32_t type;	/* enum ioh_event_type */
	uint32_t flags; /* IOH_EVF_* */
	uint32_t pid;
	uint32_t tid;
	uint64_t cgroup_id;
	char comm[IOH_COMM_LEN]; /* NUL-terminated */
	const char *cgroup;	 /* cgroup v2 path ("/system.slice/x.service") or NULL */
	/* Rename, access-mode, splice-stall and truncate events: the key of the user call's
	 * IOH_EV_STACK (sent just before, or earlier for the same (pid, callsite)); 0: none. */
	uint64_t callsite;
	union {
		struct ioh_rename_info rename;
		struct ioh_sync_info sync;
		struct ioh_inode_info inode;
		struct ioh_access_info access;
		struct ioh_loss_info loss;
		struct ioh_throttle_info throttle;
		struct ioh_splice_info splice;
		struct ioh_truncate_info truncate;
		struct ioh_mount_info mount;
		struct ioh_stack_snapshot stack; /* IOH_EV_STACK */
	};
};

#endif
