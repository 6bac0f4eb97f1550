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
#include "daemon/util/log.h"

/* Build, findings, events and losses, hooks. */
static void render_counters(struct daemon *d, struct ioh_expo *x,
			    const struct ioh_correlator_stats *st)
{
	const struct ioh_hook_status *hooks;
	size_t n_hooks;

	ioh_expo_family(x, IOH_M_BUILD_INFO, IOH_METRIC_GAUGE, IOH_M_BUILD_INFO_HELP);
	ioh_expo_u64(x, IOH_LABELS({"version", IOH_VERSION}), 1);
	ioh_expo_family(x, IOH_M_START_TIME_SECONDS, IOH_METRIC_GAUGE,
			IOH_M_START_TIME_SECONDS_HELP);
	ioh_expo_double(x, IOH_NO_LABELS,
			(double)((int64_t)d->started_ns + d->realtime_offset_ns) / 1e9);

	ioh_expo_family(x, IOH_M_FINDINGS_TOTAL, IOH_METRIC_COUNTER, IOH_M_FINDINGS_TOTAL_HELP);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->counters[i].rule[0]; i++)
		for (int sev = IOH_SEV_INFO; sev <= IOH_SEV_CRITICAL; sev++)
			ioh_expo_u64(x,
				     IOH_LABELS({"rule", d->counters[i].rule},
						{"severity", ioh_severity_name(sev)}),
				     d->counters[i].by_severity[sev]);
	ioh_expo_family(x, IOH_M_FINDINGS_SUPPRESSED_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_FINDINGS_SUPPRESSED_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, ioh_suppressor_suppressed(d->suppressor));

	ioh_expo_family(x, IOH_M_EVENTS_TOTAL, IOH_METRIC_COUNTER, IOH_M_EVENTS_TOTAL_HELP);
	for (unsigned t = IOH_EV_RENAME; t < IOH_EV__KERNEL_MAX; t++)
		ioh_expo_u64(x, IOH_LABELS({"type", ioh_event_type_name(t)}), st->events[t]);
	ioh_expo_family(x, IOH_M_EVENTS_LOST_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_EVENTS_LOST_TOTAL_HELP);
	for (unsigned w = 0; w < IOH_LOSS__MAX; w++)
		ioh_expo_u64(x, IOH_LABELS({"where", ioh_loss_where_name(w)}), st->lost[w]);
	ioh_expo_family(x, IOH_M_DECODE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_DECODE_ERRORS_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->decode_errors);

	ioh_expo_family(x, IOH_M_PROBE_ATTACHED, IOH_METRIC_GAUGE, IOH_M_PROBE_ATTACHED_HELP);
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

	ioh_expo_family(x, IOH_M_DIRTY_THROTTLE_PAUSE_SECONDS, IOH_METRIC_HISTOGRAM,
			IOH_M_DIRTY_THROTTLE_PAUSE_SECONDS_HELP);
	for (int i = 0; i < n; i++)
		ioh_expo_log2_histogram(x, IOH_LABELS({"bdi", hists[i].bdi}), hists[i].buckets,
					IOH_HIST_SLOTS, 1e-9, hists[i].sum_ns, hists[i].count);
	ioh_expo_family(x, IOH_M_SPLICE_DURATION_SECONDS, IOH_METRIC_HISTOGRAM,
			IOH_M_SPLICE_DURATION_SECONDS_HELP);
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

	ioh_expo_family(x, IOH_M_TRACKED_INODES, IOH_METRIC_GAUGE, IOH_M_TRACKED_INODES_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, st->tracked_inodes);
	ioh_expo_family(x, IOH_M_TRACKED_INODES_LIMIT, IOH_METRIC_GAUGE,
			IOH_M_TRACKED_INODES_LIMIT_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->opts.max_inodes ? d->opts.max_inodes : 65536);
	ioh_expo_family(x, IOH_M_PENDING_RENAMES, IOH_METRIC_GAUGE, IOH_M_PENDING_RENAMES_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, st->pending_renames);
	ioh_expo_family(x, IOH_M_STATE_EVICTIONS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_STATE_EVICTIONS_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, st->inode_evictions + st->pending_evictions);

	/* Run time counts only while kernel.bpf_stats_enabled=1 (the operator's choice). */
	n_progs = ioh_loader_prog_stats(d->loader, progs, sizeof(progs) / sizeof(progs[0]));
	ioh_expo_family(x, IOH_M_BPF_RUN_SECONDS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_BPF_RUN_SECONDS_TOTAL_HELP);
	for (size_t i = 0; i < n_progs; i++)
		ioh_expo_double(x, IOH_LABELS({"prog", progs[i].name}),
				(double)progs[i].run_time_ns / 1e9);
	ioh_expo_family(x, IOH_M_BPF_RUN_COUNT_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_BPF_RUN_COUNT_TOTAL_HELP);
	for (size_t i = 0; i < n_progs; i++)
		ioh_expo_u64(x, IOH_LABELS({"prog", progs[i].name}), progs[i].run_cnt);
}

/* Rules, API, recording, textfile, selftest. */
static void render_service(struct daemon *d, struct ioh_expo *x)
{
	ioh_expo_family(x, IOH_M_RULES_LAST_RELOAD_SUCCESS, IOH_METRIC_GAUGE,
			IOH_M_RULES_LAST_RELOAD_SUCCESS_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->last_reload_ok);
	ioh_expo_family(x, IOH_M_RULES_LOADED, IOH_METRIC_GAUGE, IOH_M_RULES_LOADED_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->rules ? d->rules->count : 0);

	{
		struct ioh_api_server_stats as;

		ioh_api_server_get_stats(d->api, &as);
		ioh_expo_family(x, IOH_M_API_CLIENTS, IOH_METRIC_GAUGE, IOH_M_API_CLIENTS_HELP);
		ioh_expo_u64(x, IOH_NO_LABELS, as.clients);
		ioh_expo_family(x, IOH_M_API_REFUSED_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_API_REFUSED_TOTAL_HELP);
		ioh_expo_u64(x, IOH_LABELS({"reason", "table_full"}), as.refused_full);
		ioh_expo_u64(x, IOH_LABELS({"reason", "idle_evicted"}), as.evicted_idle);
		ioh_expo_u64(x, IOH_LABELS({"reason", "subscribers_full"}), as.subscribe_refused);
		ioh_expo_u64(x, IOH_LABELS({"reason", "output_limit"}), as.dropped_over_limit);
	}
	ioh_expo_family(x, IOH_M_API_SUBSCRIBERS_DROPPED_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_API_SUBSCRIBERS_DROPPED_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, ioh_api_server_dropped_subscribers(d->api));
	ioh_expo_family(x, IOH_M_RECORD_WRITE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_RECORD_WRITE_ERRORS_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->record_errors);
	ioh_expo_family(x, IOH_M_RECORDING_ACTIVE, IOH_METRIC_GAUGE, IOH_M_RECORDING_ACTIVE_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->recorder != NULL);
	ioh_expo_family(x, IOH_M_TEXTFILE_WRITE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_TEXTFILE_WRITE_ERRORS_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->textfile_errors);
	ioh_expo_family(x, IOH_M_SELFTEST_LAST_SUCCESS, IOH_METRIC_GAUGE,
			IOH_M_SELFTEST_LAST_SUCCESS_HELP);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->selftest[i].rule[0]; i++)
		ioh_expo_u64(x, IOH_LABELS({"rule", d->selftest[i].rule}), d->selftest[i].success);
}

/* Journal, blindness, the loop, the resolver. */
static void render_health(struct daemon *d, struct ioh_expo *x)
{
	if (d->journal) {
		struct ioh_journal_stats js;

		ioh_journal_get_stats(&js);
		ioh_expo_family(x, IOH_M_JOURNAL_SENT_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_JOURNAL_SENT_TOTAL_HELP);
		ioh_expo_u64(x, IOH_NO_LABELS, js.sent);
		ioh_expo_family(x, IOH_M_JOURNAL_FAILURES_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_JOURNAL_FAILURES_TOTAL_HELP);
		ioh_expo_u64(x, IOH_NO_LABELS, js.failed);
	}
	ioh_expo_family(x, IOH_M_BLIND, IOH_METRIC_GAUGE, IOH_M_BLIND_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, health_blind(d));
	ioh_expo_family(x, IOH_M_BLIND_EPISODES_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_BLIND_EPISODES_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->blind_episodes);
	ioh_expo_family(x, IOH_M_LOOP_STALLS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_LOOP_STALLS_TOTAL_HELP);
	ioh_expo_u64(x, IOH_NO_LABELS, d->loop_stalls);
	ioh_expo_family(x, IOH_M_LOOP_STALL_SECONDS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_LOOP_STALL_SECONDS_TOTAL_HELP);
	ioh_expo_double(x, IOH_NO_LABELS, (double)d->loop_stall_ns / 1e9);
	{
		struct ioh_resolver_stats rs;

		ioh_resolver_get_stats(d->resolver, &rs);
		ioh_expo_family(x, IOH_M_RESOLVE_TIMEOUTS_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_RESOLVE_TIMEOUTS_TOTAL_HELP);
		ioh_expo_u64(x, IOH_NO_LABELS, rs.timeouts);
		ioh_expo_family(x, IOH_M_RESOLVE_SKIPPED_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_RESOLVE_SKIPPED_TOTAL_HELP);
		ioh_expo_u64(x, IOH_NO_LABELS, rs.skipped);
		ioh_expo_family(x, IOH_M_RESOLVER_WORKERS_STUCK, IOH_METRIC_GAUGE,
				IOH_M_RESOLVER_WORKERS_STUCK_HELP);
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
	ioh_expo_family(&x, IOH_M_SCRAPE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_SCRAPE_ERRORS_TOTAL_HELP);
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
	r = sb.oom ? -ENOMEM
		   : ioh_metrics_write_textfile(d->opts.metrics_textfile, sb.buf, sb.len);
	if (r < 0 && d->textfile_errors++ == 0)
		log_warning_errno(r, "Failed to write %s: %m", d->opts.metrics_textfile);
	strbuf_free(&sb);
}
