/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Enrichment that needs the live system, done once per event before it is recorded, so a
 * replay sees the same facts:
 *  - on the tracepoint backend the kernel gives a rename's names but not the inodes:
 *    statx(2) the new name (through /proc/PID/root, so containers resolve in their own
 *    mount namespace) and its directory; files are identified by stat's device, which the
 *    kernel side reports too (bpf/common.bpf.h inode_dev(): s_dev, or the btrfs subvolume's),
 *    and the renamed file's birth time (statx gives no i_generation; the birth tells the file
 *    apart from a deleted one that had the same inode number: event.h src_btime_ns);
 *  - a truncated file's path within its file system -> the path through the truncating
 *    task's mount (the mount's root stripped: bind mounts), IOH_EVF_PATH_MOUNTED;
 *  - cgroup id -> cgroup v2 path, cached.
 * File system types come from the mount table of the task's namespace (mountinfo.h), which
 * asks no file system anything.
 * Results are marked IOH_EVF_RESOLVED_IN_USERSPACE / IOH_EVF_RESOLVE_FAILED.
 */
#ifndef IOH_RESOLVE_H
#define IOH_RESOLVE_H

#include <stdbool.h>

#include "daemon/correlator/event.h"
#include "daemon/ingest/decode.h"
#include "daemon/ingest/stat_pool.h"

struct ioh_resolver;

/* `cgroup_root`: where cgroup v2 is mounted (NULL: found in /proc/self/mountinfo). */
struct ioh_resolver *ioh_resolver_new(const char *cgroup_root);
void ioh_resolver_free(struct ioh_resolver *r);

/* Replaces the statx the workers call and their deadline (tests). */
int ioh_resolver_set_statx(struct ioh_resolver *r, uint64_t timeout_ns, ioh_statx_fn fn);

/* The mount table changed: the next lookup re-reads it (it would also see the change by
 * itself, through POLLPRI on its own mountinfo descriptor). */
void ioh_resolver_mounts_changed(struct ioh_resolver *r);

struct ioh_resolver_stats {
	uint64_t timeouts;	/* renames whose statx did not finish in time (or found every
				 * worker stuck): IOH_EVF_RESOLVE_TIMEOUT */
	uint64_t skipped;	/* renames on a type never looked up: IOH_EVF_RESOLVE_SKIPPED */
	unsigned workers;	/* statx worker threads started */
	unsigned workers_stuck; /* of those, still inside a statx that was given up on */
};
void ioh_resolver_get_stats(struct ioh_resolver *r, struct ioh_resolver_stats *out);

/* The last ioh_resolver_enrich() gave up on a statx: the caller should let the event loop
 * serve others before resolving more. */
bool ioh_resolver_timed_out(const struct ioh_resolver *r);

/*
 * Resolve in place. No file-system call runs on the calling thread: each statx goes to a
 * worker and is given up after IOH_STAT_POOL_TIMEOUT_NS (IOH_EVF_RESOLVE_TIMEOUT); names on
 * types ioh_fstype_skip_resolve() names are not looked up (IOH_EVF_RESOLVE_SKIPPED).
 * Strings it sets point into `scratch` or the resolver's cache and live until the next call.
 */
void ioh_resolver_enrich(struct ioh_resolver *r, struct ioh_event *ev,
			 struct ioh_decode_scratch *scratch);

/* A statx birth time (CLOCK_REALTIME ns) on the event clock (CLOCK_MONOTONIC), converted
 * with the offset between the clocks at the time of the call; 1 when before boot. */
uint64_t ioh_btime_to_monotonic(int64_t btime_realtime_ns);

/* Path of a cgroup v2 id, or NULL. Cached; a miss costs one open_by_handle_at(2). */
const char *ioh_resolver_cgroup_path(struct ioh_resolver *r, uint64_t cgroup_id);

/* The filesystem type of the mount with this id in our namespace (from its mount table, read
 * again only when the kernel says it changed). Returns 0 or -ENOENT. */
int ioh_resolver_mount_fstype(struct ioh_resolver *r, uint64_t mnt_id, const char **fstype);

#endif
