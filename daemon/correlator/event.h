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

/* Decoded-only flags, beside IOH_EVF_* from the ABI (which fit in the low 16 bits). */
#define IOH_EVF_RESOLVED_IN_USERSPACE (1u << 16) /* identity found with stat(2) at event time */
#define IOH_EVF_RESOLVE_FAILED (1u << 17)	 /* the name no longer resolved to anything */

struct ioh_rename_info {
	int32_t dfd;
	uint32_t rename_flags;
	uint32_t identity; /* enum ioh_identity_source */
	struct ioh_file_id src;	    /* the renamed inode (zero if unknown) */
	struct ioh_file_id dst_dir; /* directory that received the name (zero if unknown) */
	const char *new_path;	    /* absolute path of the new name as the task saw it */
	const char *old_path;	    /* absolute path of the old name */
};

struct ioh_sync_info {
	uint32_t kind; /* enum ioh_sync_kind */
	int32_t ret;
	int32_t fd;
	struct ioh_file_id file;
	uint64_t duration_ns;
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
	uint64_t other_ns;	     /* when the other side's access happened (monotonic) */
	const char *path;	     /* the file, NULL when the kernel had no struct file (faults) */
	char other_comm[IOH_COMM_LEN]; /* resolved from /proc at event time; "" if gone */
	const char *other_cgroup;    /* idem, NULL if unknown */
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
	union {
		struct ioh_rename_info rename;
		struct ioh_sync_info sync;
		struct ioh_inode_info inode;
		struct ioh_access_info access;
		struct ioh_loss_info loss;
	};
};

#endif
