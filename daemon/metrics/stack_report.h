/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Call chain counters for `iohazard status` ("stacks") and the metrics
 * (iohazard_stack_snapshots_total{result}, iohazard_stack_chains_total{status},
 * iohazard_stack_table_evictions_total): the kernel's snapshots by outcome, the chains
 * unwound, and findings given one or marked omitted. A skipped snapshot is not a lost event.
 */
#ifndef IOH_METRICS_STACK_REPORT_H
#define IOH_METRICS_STACK_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "iohazard.h"
#include "daemon/metrics/exposition.h"
#include "daemon/stacks/table.h"
#include "daemon/util/jsonw.h"

/* "captured", "deduped", "budget", "ringbuf", "fault", "no_user_regs". */
const char *ioh_stack_count_name(uint32_t what);

/* `kernel`: totals of the kernel's stack_counts (NULL: unknown). */
void ioh_stacks_status_jsonw(struct jsonw *w, bool enabled, const uint64_t *kernel,
			     const struct ioh_stacks *t);
void ioh_stacks_metrics(struct ioh_expo *x, const uint64_t *kernel, const struct ioh_stacks *t);

#endif
