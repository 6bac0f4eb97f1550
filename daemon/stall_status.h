/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's view of stalls for `iohazard status` / `iohazard top`: the kernel's
 * dirty-throttle histograms per bdi, the splice-duration histogram, and the worst recent
 * splice stalls (from findings).
 */
#ifndef IOH_STALL_STATUS_H
#define IOH_STALL_STATUS_H

#include "daemon/correlator/finding.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/util/jsonw.h"

#define IOH_STALL_BOARD_SIZE 8

struct ioh_stall_entry {
	uint64_t duration_ns;
	int64_t realtime_ns;
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	char call[20];
	char path[256];
	char other_end[16];
	char unit[128]; /* systemd unit from the finding's cgroup, "" when none */
};

/* The worst splice stalls seen in the last IOH_STALL_BOARD_AGE_NS. */
struct ioh_stall_board {
	struct ioh_stall_entry worst[IOH_STALL_BOARD_SIZE];
	size_t n;
};

void ioh_stall_board_note(struct ioh_stall_board *b, const struct ioh_finding *f,
			  int64_t realtime_offset_ns);
/* Adds "dirty_throttle": {bdi: {count, sum_seconds, buckets}}, "splice_duration" and
 * "splice_stalls": [...] to an open object; keys and units: daemon/stall_status_json.h. */
void ioh_stall_status_json(const struct ioh_stall_board *b, const struct ioh_loader *l,
			   struct jsonw *w);

#endif
