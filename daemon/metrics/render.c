// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's Prometheus exposition, rendered at scrape time from the live counters (no
 * stored registry), for the /metrics port and the node_exporter textfile. Every family's name,
 * type and HELP comes from families.h; this file only says where each value lives.
 */
#include <errno.h>
#include <unistd.h>

#include "daemon/api/api_server.h"
#include "daemon/correlator/severity.h"
#include "daemon/ingest/resolve.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/manager.h"
#include "daemon/metrics/exposition.h"
#include "daemon/metrics/families.h"
#include "daemon/metrics/textfile.h"
#include "daemon/sinks/event_format.h"
#include "daemon/sinks/journal.h"
#include "daemon/sinks/suppress.h"
#include "daemon/metrics/stack_report.h"
#include "daemon/util/log.h"

/* Build, findings, events and losses, hooks. */
static void render_counters(struct daemon *d, struct ioh_expo *x,
			    const struct ioh_correlator_stats *st)
{
	const struct ioh_hook_status *hooks;
	size_t n_hooks;

	IOH_EXPO_FAMILY(x, BUILD_INFO);
	ioh_expo_u64(x, IOH_LABELS({"version", IOH_VERSION}), 1);
	IOH_EXPO_FAMILY(x, START_TIME_SECONDS);
	ioh_expo_double(x, IOH_NO_LABELS,
			(double)((int64_t)d->started_ns + d->realtime_offset_ns) / 1e9);

	IOH_EXPO_FAMILY(x, FINDINGS_TOTAL);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->counters[i].rule[0]; i++)
		for (int sev = IOH_SEV_INFO; sev <= IOH_SEV_CRITICAL; sev++)
			ioh_expo_u64(x,
				     IOH_LABELS({"rule", d->counters[i].rule},
						{"severity", ioh_severity_to_string(sev)}),
				     d->counters[i].by_severity[sev]);
	IOH_EXPO_FAMILY(x, FINDINGS_SUPPRESSED_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, ioh_suppressor_suppressed(d->suppressor));

	IOH_EXPO_FAMILY(x, EVENTS_TOTAL);
	for (unsigned t = IOH_EV_RENAME; t < IOH_EV__KERNEL_MAX; t++)
		ioh_expo_u64(x, IOH_LABELS({"type", ioh_event_type_to_string(t)}), st->events[t]);
	IOH_EXPO_FAMILY(x, EVENTS_LOST_TOTAL);
	for (unsigned w = 0; w < IOH_LOSS__MAX; w++)
		ioh_expo_u64(x, IOH_LABELS({"where", ioh_loss_where_to_string(w)}), st->lost[w]);
	IOH_EXPO_FAMILY(x, DECODE_ERRORS_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, d->decode_errors);
	{
		uint64_t sc[IOH_STACK__MAX];

		ioh_stacks_metrics(x, ioh_loader_read_stack_counts(d->loader, sc) == 0 ? sc : NULL,
				   d->stacks);
	}

	IOH_EXPO_FAMILY(x, PROBE_ATTACHED);
	hooks = ioh_loader_hooks(d->loader, &n_hooks);
	for (size_t i = 0; i < n_hooks; i++)
		ioh_expo_u64(x, IOH_LABELS({"probe", hooks[i].hook}, {"backend", hooks[i].backend}),
			     hooks[i].attached);
}

/* Pause and splice histograms are built in the kernel (log2 ns slots); read at scrape. */
static void render_histograms(struct daemon *d, struct ioh_expo *x)
{
	struct ioh_hist_snapshot hists[32];
	int n = ioh_loader_read_dirty_histograms(d->loader, hists, sizeof(hists) / sizeof(hists[0]),
						 false);

	IOH_EXPO_FAMILY(x, DIRTY_THROTTLE_PAUSE_SECONDS);
	for (int i = 0; i < n; i++)
		ioh_expo_log2_histogram(x, IOH_LABELS({"bdi", hists[i].bdi}), hists[i].buckets,
					IOH_HIST_SLOTS, 1e-9, hists[i].sum_ns, hists[i].count);
	IOH_EXPO_FAMILY(x, SPLICE_DURATION_SECONDS);
	if (ioh_loader_read_splice_histogram(d->loader, &hists[0]) >= 0)
		ioh_expo_log2_histogram(x, IOH_NO_LABELS, hists[0].buckets, IOH_HIST_SLOTS, 1e-9,
					hists[0].sum_ns, hists[0].count);
}

/* The correlator's state and the in-kernel cost. */
static void render_state(struct daemon *d, struct ioh_expo *x,
			 const struct ioh_correlator_stats *st)
{
	struct ioh_prog_stats progs[32];
	size_t n_progs;

	IOH_EXPO_FAMILY(x, TRACKED_INODES);
	ioh_expo_u64(x, IOH_NO_LABELS, st->tracked_inodes);
	IOH_EXPO_FAMILY(x, TRACKED_INODES_LIMIT);
	ioh_expo_u64(x, IOH_NO_LABELS, d->opts.max_inodes ? d->opts.max_inodes : 65536);
	IOH_EXPO_FAMILY(x, PENDING_RENAMES);
	ioh_expo_u64(x, IOH_NO_LABELS, st->pending_renames);
	IOH_EXPO_FAMILY(x, STATE_EVICTIONS_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, st->inode_evictions + st->pending_evictions);

	/* Run time counts only while kernel.bpf_stats_enabled=1 (the operator's choice). */
	n_progs = ioh_loader_prog_stats(d->loader, progs, sizeof(progs) / sizeof(progs[0]));
	IOH_EXPO_FAMILY(x, BPF_RUN_SECONDS_TOTAL);
	for (size_t i = 0; i < n_progs; i++)
		ioh_expo_double(x, IOH_LABELS({"prog", progs[i].name}),
				(double)progs[i].run_time_ns / 1e9);
	IOH_EXPO_FAMILY(x, BPF_RUN_COUNT_TOTAL);
	for (size_t i = 0; i < n_progs; i++)
		ioh_expo_u64(x, IOH_LABELS({"prog", progs[i].name}), progs[i].run_cnt);
}

/* Rules, API, recording, textfile, selftest. */
static void render_service(struct daemon *d, struct ioh_expo *x)
{
	IOH_EXPO_FAMILY(x, RULES_LAST_RELOAD_SUCCESS);
	ioh_expo_u64(x, IOH_NO_LABELS, d->last_reload_ok);
	IOH_EXPO_FAMILY(x, RULES_LOADED);
	ioh_expo_u64(x, IOH_NO_LABELS, d->rules ? d->rules->count : 0);

	{
		struct ioh_api_server_stats as;

		ioh_api_server_get_stats(d->api, &as);
		IOH_EXPO_FAMILY(x, API_CLIENTS);
		ioh_expo_u64(x, IOH_NO_LABELS, as.clients);
		IOH_EXPO_FAMILY(x, API_REFUSED_TOTAL);
		ioh_expo_u64(x, IOH_LABELS({"reason", "table_full"}), as.refused_full);
		ioh_expo_u64(x, IOH_LABELS({"reason", "idle_evicted"}), as.evicted_idle);
		ioh_expo_u64(x, IOH_LABELS({"reason", "subscribers_full"}), as.subscribe_refused);
		ioh_expo_u64(x, IOH_LABELS({"reason", "output_limit"}), as.dropped_over_limit);
	}
	IOH_EXPO_FAMILY(x, API_SUBSCRIBERS_DROPPED_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, ioh_api_server_dropped_subscribers(d->api));
	IOH_EXPO_FAMILY(x, RECORD_WRITE_ERRORS_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, d->record_errors);
	IOH_EXPO_FAMILY(x, RECORDING_ACTIVE);
	ioh_expo_u64(x, IOH_NO_LABELS, d->recorder != NULL);
	IOH_EXPO_FAMILY(x, TEXTFILE_WRITE_ERRORS_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, d->textfile_errors);
	IOH_EXPO_FAMILY(x, SELFTEST_LAST_SUCCESS);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->selftest[i].rule[0]; i++)
		ioh_expo_u64(x, IOH_LABELS({"rule", d->selftest[i].rule}), d->selftest[i].success);
}

/* Journal, blindness, the loop, the resolver. */
static void render_health(struct daemon *d, struct ioh_expo *x)
{
	if (d->journal) {
		struct ioh_journal_stats js;

		ioh_journal_get_stats(&js);
		IOH_EXPO_FAMILY(x, JOURNAL_SENT_TOTAL);
		ioh_expo_u64(x, IOH_NO_LABELS, js.sent);
		IOH_EXPO_FAMILY(x, JOURNAL_FAILURES_TOTAL);
		ioh_expo_u64(x, IOH_NO_LABELS, js.failed);
	}
	IOH_EXPO_FAMILY(x, BLIND);
	ioh_expo_u64(x, IOH_NO_LABELS, health_blind(d));
	IOH_EXPO_FAMILY(x, BLIND_EPISODES_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, d->blind_episodes);
	IOH_EXPO_FAMILY(x, LOOP_STALLS_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, d->loop_stalls);
	IOH_EXPO_FAMILY(x, LOOP_STALL_SECONDS_TOTAL);
	ioh_expo_double(x, IOH_NO_LABELS, (double)d->loop_stall_ns / 1e9);
	{
		struct ioh_resolver_stats rs;

		ioh_resolver_get_stats(d->resolver, &rs);
		IOH_EXPO_FAMILY(x, RESOLVE_TIMEOUTS_TOTAL);
		ioh_expo_u64(x, IOH_NO_LABELS, rs.timeouts);
		IOH_EXPO_FAMILY(x, RESOLVE_SKIPPED_TOTAL);
		ioh_expo_u64(x, IOH_NO_LABELS, rs.skipped);
		IOH_EXPO_FAMILY(x, RESOLVER_WORKERS_STUCK);
		ioh_expo_u64(x, IOH_NO_LABELS, rs.workers_stuck);
	}
}

void metrics_render(void *ctx, struct strbuf *out)
{
	struct daemon *d = ctx;
	struct ioh_correlator_stats st;
	struct ioh_expo x;

	manager_stats(d, &st);
	ioh_expo_init(&x, out);
	render_counters(d, &x, &st);
	render_histograms(d, &x);
	render_state(d, &x, &st);
	render_service(d, &x);
	render_health(d, &x);
	IOH_EXPO_FAMILY(&x, SCRAPE_ERRORS_TOTAL);
	ioh_expo_u64(&x, IOH_NO_LABELS, x.errors);
}

void metrics_write_textfile(struct daemon *d)
{
	struct strbuf sb;
	int r;

	if (!d->opts.metrics_textfile)
		return;
	strbuf_init(&sb);
	metrics_render(d, &sb);
	r = sb.oom ? -ENOMEM : ioh_metrics_write_textfile(d->opts.metrics_textfile, sb.buf, sb.len);
	if (r < 0 && d->textfile_errors++ == 0)
		log_warning_errno(r, "Failed to write %s: %m", d->opts.metrics_textfile);
	strbuf_free(&sb);
}
