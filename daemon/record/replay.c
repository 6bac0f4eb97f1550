// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "daemon/record/eventlog.h"
#include "daemon/record/replay.h"
#include "daemon/sinks/suppress.h"
#include "daemon/stacks/table.h"

struct replay_ctx {
	ioh_replay_finding_cb cb;
	void *ctx;
	int64_t offset;
	uint64_t findings;
	struct ioh_suppressor *suppressor;
	const struct ioh_ruleset *rules;
};

static void report(const struct ioh_finding *f, void *ctx)
{
	struct replay_ctx *rc = ctx;

	rc->findings++;
	rc->cb(f, rc->offset, rc->ctx);
}

/* The same rate limiting as the daemon's, so replay shows what the live run showed. */
static void on_finding(const struct ioh_finding *f, void *ctx)
{
	struct replay_ctx *rc = ctx;

	ioh_suppressor_report(rc->suppressor, rc->rules, f, report, rc);
}

int ioh_replay_file(const char *path, const struct ioh_ruleset *rules,
		    const struct ioh_correlator_config *cfg, ioh_replay_finding_cb cb, void *ctx,
		    struct ioh_replay_result *result, char *err, size_t errlen)
{
	struct replay_ctx rc = {.cb = cb, .ctx = ctx, .rules = rules};
	struct ioh_eventlog_reader *reader;
	struct ioh_correlator *c;
	struct ioh_stacks *stacks;
	struct ioh_event ev;
	uint64_t last_ts = 0;
	bool ended = false;
	int r;

	memset(result, 0, sizeof(*result));
	r = ioh_eventlog_open(path, &reader, err, errlen);
	if (r < 0)
		return r;
	rc.offset = ioh_eventlog_realtime_offset(reader);
	rc.suppressor = ioh_suppressor_new(IOH_SUPPRESSOR_CAPACITY);
	c = rc.suppressor ? ioh_correlator_new(cfg, rules, on_finding, &rc) : NULL;
	/* The recorded STACK events are unwound again: the chains come from this machine's
	 * copies of the binaries (checked by build id), or say why not. */
	stacks = c ? ioh_stacks_new(0) : NULL;
	if (!stacks) {
		ioh_correlator_free(c);
		ioh_suppressor_free(rc.suppressor);
		ioh_eventlog_close_reader(reader);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ioh_stacks_set_enabled(stacks, !(rules && rules->no_stacks));
	ioh_correlator_set_stacks(c, stacks);
	while ((r = ioh_eventlog_read(reader, &ev)) > 0) {
		result->events++;
		if (ev.type == IOH_EV_END)
			ended = true;
		if (ev.ts_ns > last_ts)
			last_ts = ev.ts_ns;
		ioh_correlator_feed(c, &ev);
	}
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, ioh_eventlog_error(reader));
	/* A complete recording ends with an END record carrying the daemon's last correlator
	 * time, which feeding it already advanced to: windows still open then were still open in
	 * the live run too. Without one (the daemon died), stop at the last event. */
	if (!ended)
		ioh_correlator_advance(c, last_ts);
	ioh_correlator_get_stats(c, &result->stats);
	result->findings = rc.findings;
	ioh_correlator_free(c);
	ioh_stacks_free(stacks);
	ioh_suppressor_free(rc.suppressor);
	ioh_eventlog_close_reader(reader);
	return r < 0 ? r : 0;
}
