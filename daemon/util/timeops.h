/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Time arithmetic that cannot wrap. Timestamps come from the kernel or from a recording (which
 * is untrusted input), windows from rules files: `ts + window` must saturate, or a deadline
 * far in the future wraps to the past and fires at once, stamped before its own event.
 */
#ifndef IOH_TIMEOPS_H
#define IOH_TIMEOPS_H

#include <stdint.h>

/* ts + window, or UINT64_MAX (never) when that does not fit. */
static inline uint64_t ioh_deadline_ns(uint64_t ts_ns, uint64_t window_ns)
{
	return window_ns > UINT64_MAX - ts_ns ? UINT64_MAX : ts_ns + window_ns;
}

#endif
