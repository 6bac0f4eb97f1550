/* SPDX-License-Identifier: GPL-2.0-only */
/* Run the correlator over a recorded event file: what `iohazardd --replay` and
 * `iohazard replay` share, so both print exactly what the live run printed. */
#ifndef IOH_REPLAY_H
#define IOH_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/correlator/correlator.h"

typedef void (*ioh_replay_finding_cb)(const struct ioh_finding *f, int64_t realtime_offset_ns,
				      void *ctx);

struct ioh_replay_result {
	uint64_t events;
	uint64_t findings;
	struct ioh_correlator_stats stats;
};

/* Returns 0, or a negative errno with a message in `err` (events before a damaged part
 * are still correlated and their findings reported). */
int ioh_replay_file(const char *path, const struct ioh_ruleset *rules,
		    const struct ioh_correlator_config *cfg, ioh_replay_finding_cb cb, void *ctx,
		    struct ioh_replay_result *result, char *err, size_t errlen);

#endif
