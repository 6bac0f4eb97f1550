/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rate limiting of findings: the same (rule, inode, path, program) is reported once per the rule's
 * `suppress` window; repeats inside it are counted and the next report carries
 * evidence.suppressed_repeats. Metrics count every occurrence; only what is shown (stdout,
 * journal, API) is limited. Pure (time is the finding's), so replay suppresses identically.
 * Bounded: a full table forgets its least recently seen key (counted), which at worst reports
 * a repeat early.
 */
#ifndef IOH_SUPPRESS_H
#define IOH_SUPPRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/correlator/finding.h"

/* Keys remembered by the daemon and replay alike. */
#define IOH_SUPPRESSOR_CAPACITY 16384

struct ioh_suppressor;

struct ioh_suppressor *ioh_suppressor_new(uint32_t capacity);
void ioh_suppressor_free(struct ioh_suppressor *s);

/*
 * Whether to report `f` now. `window_ns` 0 means no suppression. On true, *repeats holds the
 * occurrences suppressed since the previous report of the same key.
 */
bool ioh_suppressor_check(struct ioh_suppressor *s, const struct ioh_finding *f, uint64_t window_ns,
			  uint64_t *repeats);

/*
 * The reporting step shared by the daemon and replay: look up the rule's suppress window,
 * drop repeats, and hand what remains to `out` with evidence.suppressed_repeats added when
 * repeats were dropped.
 */
struct ioh_ruleset;
typedef void (*ioh_report_fn)(const struct ioh_finding *f, void *ctx);
void ioh_suppressor_report(struct ioh_suppressor *s, const struct ioh_ruleset *rules,
			   const struct ioh_finding *f, ioh_report_fn out, void *ctx);

uint64_t ioh_suppressor_suppressed(const struct ioh_suppressor *s); /* total, for metrics */
uint64_t ioh_suppressor_evictions(const struct ioh_suppressor *s);

#endif
