/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The stall sections of the status object: every JSON key and unit, defined once. The daemon
 * writes them (daemon/stall_status.c) and `iohazard top` reads them (cli/top/model.c); both
 * include this header, and tests/unit/test_stall_contract.c feeds the daemon's real output
 * into the CLI's model, so the two sides cannot drift apart again. docs/cli.md describes the
 * same contract for people.
 *
 *   "dirty_throttle":  {BDI: HISTOGRAM, ...}    dirty-throttle pauses per device ("254:0")
 *   "splice_duration": HISTOGRAM                every splice-family call
 *   "splice_stalls":   [STALL, ...]             the worst recent splice-stall findings
 *
 *   HISTOGRAM = {"count": N, "sum_seconds": S, "buckets": [n0, n1, ...]}
 *     buckets[i] counts values in [2^i, 2^(i+1)) NANOSECONDS (the kernel's log2 slots);
 *     trailing empty buckets are omitted. There is no maximum: the kernel keeps none, the
 *     highest non-empty bucket bounds it.
 *   STALL = {"duration_seconds": S, "time_ns": UNIX_NS, "pid": N, "comm": "...",
 *            "unit": "x.service" | null, "call": "sendfile", "path": "...",
 *            "other_end": "pipe" | "socket" | ""}
 *
 * Plain macros and one inline, no includes: the header compiles on both sides.
 */
#ifndef IOH_STALL_STATUS_JSON_H
#define IOH_STALL_STATUS_JSON_H

/* Sections of the status object. */
#define IOH_ST_DIRTY_THROTTLE "dirty_throttle"
#define IOH_ST_SPLICE_DURATION "splice_duration"
#define IOH_ST_SPLICE_STALLS "splice_stalls"

/* HISTOGRAM keys. */
#define IOH_ST_HIST_COUNT "count"
#define IOH_ST_HIST_SUM_SECONDS "sum_seconds"
#define IOH_ST_HIST_BUCKETS "buckets"
/* Bucket i covers [2^i, 2^(i+1)) of this unit, in seconds: nanoseconds. */
#define IOH_ST_HIST_BUCKET_UNIT_SECONDS 1e-9

/* Lower bound of bucket i in seconds (its upper bound is the next bucket's lower bound). */
static inline double ioh_st_bucket_low_seconds(unsigned i)
{
	return (double)(1ULL << (i < 63 ? i : 63)) * IOH_ST_HIST_BUCKET_UNIT_SECONDS;
}

/* STALL keys. */
#define IOH_ST_STALL_DURATION_SECONDS "duration_seconds"
#define IOH_ST_STALL_TIME_NS "time_ns"
#define IOH_ST_STALL_PID "pid"
#define IOH_ST_STALL_COMM "comm"
#define IOH_ST_STALL_UNIT "unit"
#define IOH_ST_STALL_CALL "call"
#define IOH_ST_STALL_PATH "path"
#define IOH_ST_STALL_OTHER_END "other_end"

#endif
