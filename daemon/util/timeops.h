/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading clocks, and time arithmetic that cannot wrap. Timestamps come from the kernel or
 * from a recording (which is untrusted input), windows from rules files: `ts + window` must
 * saturate, or a deadline far in the future wraps to the past and fires at once, stamped
 * before its own event.
 */
#ifndef IOH_TIMEOPS_H
#define IOH_TIMEOPS_H

#include <stdint.h>
#include <time.h>

/* The one clock reader: nanoseconds on `clock` (CLOCK_MONOTONIC for intervals and deadlines,
 * CLOCK_REALTIME for wall time). Callers scale: / 1000 for microseconds, / 1e9 for seconds. */
static inline uint64_t ioh_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ts + window, or UINT64_MAX (never) when that does not fit. */
static inline uint64_t ioh_deadline_ns(uint64_t ts_ns, uint64_t window_ns)
{
	return window_ns > UINT64_MAX - ts_ns ? UINT64_MAX : ts_ns + window_ns;
}

#endif
