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
 *  - cgroup id -> cgroup v2 path, cached.
 * Results are marked IOH_EVF_RESOLVED_IN_USERSPACE / IOH_EVF_RESOLVE_FAILED.
 */
#ifndef IOH_RESOLVE_H
#define IOH_RESOLVE_H

#include "daemon/correlator/event.h"
#include "daemon/ingest/decode.h"

struct ioh_resolver;

/* `cgroup_root`: where cgroup v2 is mounted (NULL: found in /proc/self/mountinfo). */
struct ioh_resolver *ioh_resolver_new(const char *cgroup_root);
void ioh_resolver_free(struct ioh_resolver *r);

/* Resolve in place. Strings it sets point into `scratch` or the resolver's cache and live
 * until the next call. */
void ioh_resolver_enrich(struct ioh_resolver *r, struct ioh_event *ev,
			 struct ioh_decode_scratch *scratch);

/* A statx birth time (CLOCK_REALTIME ns) on the event clock (CLOCK_MONOTONIC), converted
 * with the offset between the clocks at the time of the call; 1 when before boot. */
uint64_t ioh_btime_to_monotonic(int64_t btime_realtime_ns);

/* Path of a cgroup v2 id, or NULL. Cached; a miss costs one open_by_handle_at(2). */
const char *ioh_resolver_cgroup_path(struct ioh_resolver *r, uint64_t cgroup_id);

/* The filesystem type of the mount with this id (from /proc/self/mountinfo, re-read on a
 * miss). Returns 0 or -ENOENT. */
int ioh_resolver_mount_fstype(struct ioh_resolver *r, uint64_t mnt_id, const char **fstype);

#endif
