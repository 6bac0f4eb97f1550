// SPDX-License-Identifier: GPL-2.0-only
/*
 * iohazardd: wires the rooms of daemon/ together.
 *
 *   loader (BPF) -> ring buffer -> ingest (decode, resolve) -> [record] -> correlator
 *        -> findings -> sinks (stdout) ; status over the API socket
 *
 * One thread, one sd_event loop: the ring buffer, the API socket, a periodic timer (losses,
 * deadlines, record flush) and signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "daemon/api/api_server.h"
#include "daemon/api/findings_log.h"
#include "daemon/correlator/correlator.h"
#include "daemon/ingest/decode.h"
#include "daemon/ingest/mountinfo.h"
#include "daemon/ingest/resolve.h"
#include "daemon/stall_status.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/metrics/exposition.h"
#include "daemon/metrics/families.h"
#include "daemon/metrics/http_server.h"
#include "daemon/metrics/textfile.h"
#include "daemon/options.h"
#include "daemon/record/eventlog.h"
#include "daemon/record/replay.h"
#include "daemon/rules/rules.h"
#include "daemon/sinks/event_format.h"
#include "daemon/sinks/finding_format.h"
#include "daemon/sinks/suppress.h"
#include "daemon/stacks/report.h"
#include "daemon/sinks/journal.h"
#include "daemon/service/loop_monitor.h"
#include "daemon/service/notify.h"
#include "daemon/service/privileges.h"
#include "daemon/util/log.h"

/* How often losses are polled, deadlines checked and the recording flushed. */
#define TICK_USEC 200000ULL
/*
 * Deadlines expire only this long after they pass, so an event that happened before a
 * deadline but still sits in the ring buffer is never judged late. The buffer is drained
 * before every tick; this covers records reserved but not yet committed on another CPU.
 */
#define DEADLINE_GRACE_NS 100000000ULL

/* Occurrences per rule and severity (before rate limiting), for metrics and status. */
#define RULE_COUNTERS_MAX 64
struct rule_counter {
	char rule[IOH_RULE_NAME_MAX];
	uint64_t by_severity[IOH_SEV_CRITICAL + 1];
};

/* Findings kept for `iohazard findings`. */
#define FINDINGS_LOG_SIZE 1024

struct daemon {
	struct ioh_options opts;
	sd_event *event;
	struct ioh_loader *loader;
	struct ioh_resolver *resolver;
	struct ioh_stacks *stacks; /* call chains (issue 15), fed through the correlator */
	struct ioh_correlator *correlator;
	struct ioh_ruleset *rules;
	struct ioh_eventlog_writer *recorder;
	struct ioh_api_server *api;
	struct ioh_decode_scratch scratch;
	int64_t realtime_offset_ns;
	uint64_t started_ns;
	uint64_t last_tick_ns;
	uint64_t last_advance_ns; /* the correlator's clock: written as the recording's END */
	uint64_t losses_seen[IOH_LOSS__MAX];
	uint64_t losses_read_ns; /* when losses_seen was last read from the kernel */
	uint64_t decode_errors;
	uint64_t record_errors;	 /* failed writes to --record (each stops the recording) */
	char record_error[256];	 /* why the recording stopped; "" while it runs */
	bool ready;
	bool last_reload_ok;
	uint64_t reloads;
	struct strbuf line;
	struct strbuf json; /* the reported finding as JSON, shared by the sinks */
	struct ioh_suppressor *suppressor;
	struct ioh_findings_log *findings_log;
	struct ioh_mount_watch *mounts; /* /proc/self/mountinfo, polled for POLLPRI */
	struct ioh_stall_board stalls;	/* worst recent splice stalls, for status */
	struct rule_counter counters[RULE_COUNTERS_MAX];
	uint64_t reported;
	uint64_t stats_tick; /* subscribers get stats every STATS_EVERY_TICKS */
	struct ioh_watchdog *watchdog;
	/* Blindness: the daemon's own canary syscall must come back through the ring buffer,
	 * and every link must still hold its program. */
	uint64_t canary_sent_ns;
	uint64_t canary_seen_ns;
	uint64_t heartbeats; /* canary records received: they stop here, before the correlator */
	uint64_t health_tick;
	char blind_reason[256]; /* "" while the daemon sees */
	uint64_t blind_episodes;
	struct ioh_loop_monitor *loop_monitor; /* a thread that notices a loop that stopped */
	uint64_t loop_stalls;			/* times the loop was gone > IOH_LOOP_STALL_NS */
	uint64_t loop_stall_ns;			/* how long in all */
	uint64_t blind_hold_until_ns; /* a loop stall stays visible as blind until then */
	struct selftest_result {
		char rule[IOH_RULE_NAME_MAX];
		bool success;
		int64_t realtime_ns;
	} selftest[RULE_COUNTERS_MAX]; /* from `iohazard selftest` */
	struct ioh_metrics_http *metrics;
	uint64_t textfile_errors;
	uint64_t textfile_tick;
	unsigned record_budget;	     /* left in this turn of the loop */
	int bpf_stats_fd;	     /* held while --bpf-stats: run-time accounting stays on */
	sd_event_source *drain_more; /* deferred: continue a drain cut by the budget */
	bool journal;
	char status_line[256]; /* last STATUS= sent to systemd */
	char capabilities[128]; /* kept after start, for status ("cap_bpf,cap_perfmon,...") */
};

#define STATS_EVERY_TICKS 5
/*
 * Records handled per turn of the event loop. A burst (thousands of renames, each with a
 * statx) would otherwise keep the loop away from the watchdog, the API and the metrics for
 * seconds; past the budget the rest is handled from a deferred source on the next turn.
 */
#define RECORDS_PER_TURN 2048
#define TEXTFILE_EVERY_TICKS 75 /* 15 s */
#define HEALTH_EVERY_TICKS 25   /* 5 s: canary round trip and link check */

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t realtime_offset(void)
{
	return (int64_t)now_ns(CLOCK_REALTIME) - (int64_t)now_ns(CLOCK_MONOTONIC);
}

/* ---- findings ------------------------------------------------------------------------------ */

static void print_finding(const struct ioh_finding *f, int64_t offset, enum ioh_output output,
			  struct strbuf *line)
{
	strbuf_reset(line);
	if (output == IOH_OUTPUT_JSON)
		ioh_finding_json(f, offset, line);
	else if (output == IOH_OUTPUT_TEXT)
		ioh_finding_text(f, offset, line);
	else
		return;
	strbuf_putc(line, '\n');
	fwrite(line->buf, 1, line->len, stdout);
	fflush(stdout);
}

static void count_finding(struct daemon *d, const struct ioh_finding *f)
{
	for (unsigned i = 0; i < RULE_COUNTERS_MAX; i++) {
		struct rule_counter *c = &d->counters[i];

		if (!c->rule[0])
			snprintf(c->rule, sizeof(c->rule), "%s", f->rule);
		if (strcmp(c->rule, f->rule) == 0) {
			c->by_severity[f->severity]++;
			return;
		}
	}
}

/* A finding that passed rate limiting: to every sink. */
static void report_finding(const struct ioh_finding *f, void *ctx)
{
	struct daemon *d = ctx;
	struct strbuf msg;

	d->reported++;
	print_finding(f, d->realtime_offset_ns, d->opts.output, &d->line);
	if (d->journal)
		ioh_journal_send_finding(f, d->realtime_offset_ns);
	strbuf_reset(&d->json);
	ioh_finding_json(f, d->realtime_offset_ns, &d->json);
	if (d->json.oom)
		return;
	ioh_findings_log_add(d->findings_log, f, (int64_t)f->ts_ns + d->realtime_offset_ns,
			     d->json.buf, d->json.len);
	if (ioh_api_server_subscribers(d->api)) {
		strbuf_init(&msg);
		strbuf_puts(&msg, "{\"finding\":");
		strbuf_append(&msg, d->json.buf, d->json.len);
		strbuf_putc(&msg, '}');
		if (!msg.oom)
			ioh_api_server_broadcast(d->api, msg.buf, msg.len);
		strbuf_free(&msg);
	}
}

static void on_finding(const struct ioh_finding *f, void *ctx)
{
	struct daemon *d = ctx;

	count_finding(d, f);
	ioh_stall_board_note(&d->stalls, f, d->realtime_offset_ns);
	ioh_suppressor_report(d->suppressor, d->rules, f, report_finding, d);
}

/* ---- events -------------------------------------------------------------------------------- */

/*
 * A recording that missed an event is no longer a faithful replay of this run (the disk
 * filled, an I/O error): stop it there, say why in status, count it in the metrics. What
 * was written before stays readable (flushed every tick).
 */
static void stop_recording(struct daemon *d, int err)
{
	d->record_errors++;
	snprintf(d->record_error, sizeof(d->record_error), "write failed: %s", strerror(-err));
	log_error_errno(err, "Failed to write to the recording %s: %m; recording stopped",
			d->opts.record_path);
	ioh_eventlog_close(d->recorder);
	d->recorder = NULL;
}

static void poll_losses(struct daemon *d);

static void dispatch(struct daemon *d, const struct ioh_event *ev)
{
	int r;

	/* Losses before an event must reach the correlator before the event does, or a verdict
	 * decided at that event would not know of them (docs/architecture.md, "Losses"). The
	 * counters were last read at losses_read_ns; an event after that is preceded by a new
	 * read. While the daemon catches up on a full ring buffer this costs nothing (its events
	 * are older than the last read); when it keeps up, about one read per drain. */
	if (ev->type != IOH_EV_LOSS && ev->ts_ns > d->losses_read_ns)
		poll_losses(d);
	if (d->recorder && (r = ioh_eventlog_write(d->recorder, ev)) < 0)
		stop_recording(d, r);
	ioh_correlator_feed(d->correlator, ev);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct daemon *d = ctx;
	struct ioh_event ev;
	int r;

	/* libbpf stops at a negative return; this record is consumed first, so nothing is
	 * skipped. */
	if (d->record_budget == 0)
		return -EAGAIN;
	d->record_budget--;
	r = ioh_decode_record(data, len, &ev, &d->scratch);

	if (r < 0) {
		if (d->decode_errors++ == 0)
			log_error("Malformed kernel record (%s); counting further ones silently",
				  strerror(-r));
		return 0;
	}
	if (ev.type == IOH_EV_HEARTBEAT) {
		d->canary_seen_ns = ev.ts_ns;
		d->heartbeats++;
		return 0;
	}
	ioh_resolver_enrich(d->resolver, &ev, &d->scratch);
	/* A file system kept a statx past its deadline: let the API, the metrics and the
	 * watchdog in before the next record, which may wait as long again. */
	if (ioh_resolver_timed_out(d->resolver))
		d->record_budget = 0;
	dispatch(d, &ev);
	return 0;
}

/*
 * Turn new kernel loss counts into LOSS events, so they reach the recording and replay
 * marks the same findings degraded. A read that starts at S sees every loss before S; the
 * losses it finds happened after the previous read started and before this one ended, which
 * is the interval the LOSS events carry (since_ns, ts_ns].
 */
static void poll_losses(struct daemon *d)
{
	uint64_t totals[IOH_LOSS__MAX];
	uint64_t since = d->losses_read_ns;
	uint64_t start = now_ns(CLOCK_MONOTONIC), now;

	if (ioh_loader_read_losses(d->loader, totals) < 0)
		return;
	now = now_ns(CLOCK_MONOTONIC);
	d->losses_read_ns = start;
	for (uint32_t w = 0; w < IOH_LOSS__MAX; w++) {
		struct ioh_event ev = {0};

		if (totals[w] <= d->losses_seen[w])
			continue;
		ev.type = IOH_EV_LOSS;
		ev.ts_ns = now;
		ev.loss.where = w;
		ev.loss.count = totals[w] - d->losses_seen[w];
		ev.loss.since_ns = since;
		d->losses_seen[w] = totals[w];
		log_warning("Lost %llu kernel records (%s)", (unsigned long long)ev.loss.count,
			    ioh_loss_where_name(w));
		dispatch(d, &ev);
	}
}

/* A mount's crash-relevant options changed: to the correlator (and the recording), and
 * data=writeback devices to the kernel's truncate filter. A device bind-mounted twice stops
 * being watched when either mount goes; the next scan of the other does not re-add it. */
static void on_mount_event(const struct ioh_event *ev, void *ctx)
{
	struct daemon *d = ctx;
	bool writeback = ev->mount.flags & IOH_MNT_DATA_WRITEBACK;

	if (ioh_loader_watch_writeback_dev(d->loader, ev->mount.dev, writeback) < 0)
		log_warning("Cannot watch truncations on %s", ev->mount.mount_point);
	dispatch(d, ev);
}

static void drain(struct daemon *d);

static int on_mountinfo(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	drain(d); /* events before the change are judged first */
	ioh_resolver_mounts_changed(d->resolver);
	ioh_mount_watch_scan(d->mounts, now_ns(CLOCK_MONOTONIC), on_mount_event, d);
	return 0;
}

static int on_drain_more(sd_event_source *s, void *userdata);

/* Handles up to RECORDS_PER_TURN records; schedules itself again if more are waiting. */
static void drain(struct daemon *d)
{
	d->record_budget = RECORDS_PER_TURN;
	if (ioh_loader_consume(d->loader) == -EAGAIN || d->record_budget == 0) {
		if (d->drain_more)
			sd_event_source_set_enabled(d->drain_more, SD_EVENT_ONESHOT);
		else
			sd_event_add_defer(d->event, &d->drain_more, on_drain_more, d);
	}
}

static int on_drain_more(sd_event_source *s, void *userdata)
{
	drain(userdata);
	return 0;
}

static int on_ringbuf(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	drain(userdata);
	return 0;
}

static void status_json(struct daemon *d, struct jsonw *w);

/* Periodic status for subscribers (`iohazard top`). */
static void broadcast_stats(struct daemon *d)
{
	struct strbuf sb;
	struct jsonw w;

	strbuf_init(&sb);
	jsonw_init(&w, &sb);
	jsonw_obj_begin(&w);
	jsonw_key(&w, "stats");
	jsonw_obj_begin(&w);
	status_json(d, &w);
	jsonw_obj_end(&w);
	jsonw_obj_end(&w);
	if (!sb.oom)
		ioh_api_server_broadcast(d->api, sb.buf, sb.len);
	strbuf_free(&sb);
}

/* ---- metrics ------------------------------------------------------------------------------- */

/* The whole exposition, rendered at scrape time from the live counters (no stored registry). */
/* The correlator's counters, plus the heartbeats that never reach it (on_record keeps them). */
static void daemon_stats(struct daemon *d, struct ioh_correlator_stats *st)
{
	ioh_correlator_get_stats(d->correlator, st);
	st->events[IOH_EV_HEARTBEAT] += d->heartbeats;
}

static void render_metrics(void *ctx, struct strbuf *out)
{
	struct daemon *d = ctx;
	struct ioh_correlator_stats st;
	const struct ioh_hook_status *hooks;
	struct ioh_prog_stats progs[32];
	struct ioh_expo x;
	size_t n_hooks, n_progs;

	daemon_stats(d, &st);
	ioh_expo_init(&x, out);

	ioh_expo_family(&x, IOH_M_BUILD_INFO, IOH_METRIC_GAUGE, IOH_M_BUILD_INFO_HELP);
	ioh_expo_u64(&x, IOH_LABELS({"version", IOH_VERSION}), 1);
	ioh_expo_family(&x, IOH_M_START_TIME_SECONDS, IOH_METRIC_GAUGE,
			IOH_M_START_TIME_SECONDS_HELP);
	ioh_expo_double(&x, IOH_NO_LABELS,
			(double)((int64_t)d->started_ns + d->realtime_offset_ns) / 1e9);

	ioh_expo_family(&x, IOH_M_FINDINGS_TOTAL, IOH_METRIC_COUNTER, IOH_M_FINDINGS_TOTAL_HELP);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->counters[i].rule[0]; i++)
		for (int sev = IOH_SEV_INFO; sev <= IOH_SEV_CRITICAL; sev++)
			ioh_expo_u64(&x,
				     IOH_LABELS({"rule", d->counters[i].rule},
						{"severity", ioh_severity_name(sev)}),
				     d->counters[i].by_severity[sev]);
	ioh_expo_family(&x, IOH_M_FINDINGS_SUPPRESSED_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_FINDINGS_SUPPRESSED_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, ioh_suppressor_suppressed(d->suppressor));

	ioh_expo_family(&x, IOH_M_EVENTS_TOTAL, IOH_METRIC_COUNTER, IOH_M_EVENTS_TOTAL_HELP);
	for (unsigned t = IOH_EV_RENAME; t < IOH_EV__KERNEL_MAX; t++)
		ioh_expo_u64(&x, IOH_LABELS({"type", ioh_event_type_name(t)}), st.events[t]);
	ioh_expo_family(&x, IOH_M_EVENTS_LOST_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_EVENTS_LOST_TOTAL_HELP);
	for (unsigned w = 0; w < IOH_LOSS__MAX; w++)
		ioh_expo_u64(&x, IOH_LABELS({"where", ioh_loss_where_name(w)}), st.lost[w]);
	ioh_expo_family(&x, IOH_M_DECODE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_DECODE_ERRORS_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->decode_errors);
	{
		uint64_t sc[IOH_STACK__MAX];

		ioh_stacks_metrics(&x, ioh_loader_read_stack_counts(d->loader, sc) == 0 ? sc : NULL,
				   d->stacks);
	}

	ioh_expo_family(&x, IOH_M_PROBE_ATTACHED, IOH_METRIC_GAUGE, IOH_M_PROBE_ATTACHED_HELP);
	hooks = ioh_loader_hooks(d->loader, &n_hooks);
	for (size_t i = 0; i < n_hooks; i++)
		ioh_expo_u64(&x, IOH_LABELS({"probe", hooks[i].hook}, {"backend", hooks[i].backend}),
			     hooks[i].attached);

	/* Pause and splice histograms are built in the kernel (log2 ns slots); read at scrape. */
	{
		struct ioh_hist_snapshot hists[32];
		int n = ioh_loader_read_dirty_histograms(d->loader, hists,
							 sizeof(hists) / sizeof(hists[0]), false);

		ioh_expo_family(&x, IOH_M_DIRTY_THROTTLE_PAUSE_SECONDS, IOH_METRIC_HISTOGRAM,
				IOH_M_DIRTY_THROTTLE_PAUSE_SECONDS_HELP);
		for (int i = 0; i < n; i++)
			ioh_expo_log2_histogram(&x, IOH_LABELS({"bdi", hists[i].bdi}),
						hists[i].buckets, IOH_HIST_SLOTS, 1e-9,
						hists[i].sum_ns, hists[i].count);
		ioh_expo_family(&x, IOH_M_SPLICE_DURATION_SECONDS, IOH_METRIC_HISTOGRAM,
				IOH_M_SPLICE_DURATION_SECONDS_HELP);
		if (ioh_loader_read_splice_histogram(d->loader, &hists[0]) >= 0)
			ioh_expo_log2_histogram(&x, IOH_NO_LABELS, hists[0].buckets,
						IOH_HIST_SLOTS, 1e-9, hists[0].sum_ns,
						hists[0].count);
	}

	ioh_expo_family(&x, IOH_M_TRACKED_INODES, IOH_METRIC_GAUGE, IOH_M_TRACKED_INODES_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, st.tracked_inodes);
	ioh_expo_family(&x, IOH_M_TRACKED_INODES_LIMIT, IOH_METRIC_GAUGE,
			IOH_M_TRACKED_INODES_LIMIT_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->opts.max_inodes ? d->opts.max_inodes : 65536);
	ioh_expo_family(&x, IOH_M_PENDING_RENAMES, IOH_METRIC_GAUGE, IOH_M_PENDING_RENAMES_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, st.pending_renames);
	ioh_expo_family(&x, IOH_M_STATE_EVICTIONS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_STATE_EVICTIONS_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, st.inode_evictions + st.pending_evictions);

	/* Run time counts only while kernel.bpf_stats_enabled=1 (the operator's choice). */
	n_progs = ioh_loader_prog_stats(d->loader, progs, sizeof(progs) / sizeof(progs[0]));
	ioh_expo_family(&x, IOH_M_BPF_RUN_SECONDS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_BPF_RUN_SECONDS_TOTAL_HELP);
	for (size_t i = 0; i < n_progs; i++)
		ioh_expo_double(&x, IOH_LABELS({"prog", progs[i].name}),
				(double)progs[i].run_time_ns / 1e9);
	ioh_expo_family(&x, IOH_M_BPF_RUN_COUNT_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_BPF_RUN_COUNT_TOTAL_HELP);
	for (size_t i = 0; i < n_progs; i++)
		ioh_expo_u64(&x, IOH_LABELS({"prog", progs[i].name}), progs[i].run_cnt);

	ioh_expo_family(&x, IOH_M_RULES_LAST_RELOAD_SUCCESS, IOH_METRIC_GAUGE,
			IOH_M_RULES_LAST_RELOAD_SUCCESS_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->last_reload_ok);
	ioh_expo_family(&x, IOH_M_RULES_LOADED, IOH_METRIC_GAUGE, IOH_M_RULES_LOADED_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->rules ? d->rules->count : 0);

	{
		struct ioh_api_server_stats as;

		ioh_api_server_get_stats(d->api, &as);
		ioh_expo_family(&x, IOH_M_API_CLIENTS, IOH_METRIC_GAUGE, IOH_M_API_CLIENTS_HELP);
		ioh_expo_u64(&x, IOH_NO_LABELS, as.clients);
		ioh_expo_family(&x, IOH_M_API_REFUSED_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_API_REFUSED_TOTAL_HELP);
		ioh_expo_u64(&x, IOH_LABELS({"reason", "table_full"}), as.refused_full);
		ioh_expo_u64(&x, IOH_LABELS({"reason", "idle_evicted"}), as.evicted_idle);
		ioh_expo_u64(&x, IOH_LABELS({"reason", "subscribers_full"}), as.subscribe_refused);
		ioh_expo_u64(&x, IOH_LABELS({"reason", "output_limit"}), as.dropped_over_limit);
	}
	ioh_expo_family(&x, IOH_M_API_SUBSCRIBERS_DROPPED_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_API_SUBSCRIBERS_DROPPED_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, ioh_api_server_dropped_subscribers(d->api));
	ioh_expo_family(&x, IOH_M_RECORD_WRITE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_RECORD_WRITE_ERRORS_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->record_errors);
	ioh_expo_family(&x, IOH_M_RECORDING_ACTIVE, IOH_METRIC_GAUGE, IOH_M_RECORDING_ACTIVE_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->recorder != NULL);
	ioh_expo_family(&x, IOH_M_TEXTFILE_WRITE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_TEXTFILE_WRITE_ERRORS_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->textfile_errors);
	ioh_expo_family(&x, IOH_M_SELFTEST_LAST_SUCCESS, IOH_METRIC_GAUGE,
			IOH_M_SELFTEST_LAST_SUCCESS_HELP);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->selftest[i].rule[0]; i++)
		ioh_expo_u64(&x, IOH_LABELS({"rule", d->selftest[i].rule}), d->selftest[i].success);
	if (d->journal) {
		struct ioh_journal_stats js;

		ioh_journal_get_stats(&js);
		ioh_expo_family(&x, IOH_M_JOURNAL_SENT_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_JOURNAL_SENT_TOTAL_HELP);
		ioh_expo_u64(&x, IOH_NO_LABELS, js.sent);
		ioh_expo_family(&x, IOH_M_JOURNAL_FAILURES_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_JOURNAL_FAILURES_TOTAL_HELP);
		ioh_expo_u64(&x, IOH_NO_LABELS, js.failed);
	}
	ioh_expo_family(&x, IOH_M_BLIND, IOH_METRIC_GAUGE, IOH_M_BLIND_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS,
		     d->blind_reason[0] != '\0' || ioh_loop_monitor_stalled_ns(d->loop_monitor));
	ioh_expo_family(&x, IOH_M_BLIND_EPISODES_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_BLIND_EPISODES_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->blind_episodes);
	ioh_expo_family(&x, IOH_M_LOOP_STALLS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_LOOP_STALLS_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, d->loop_stalls);
	ioh_expo_family(&x, IOH_M_LOOP_STALL_SECONDS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_LOOP_STALL_SECONDS_TOTAL_HELP);
	ioh_expo_double(&x, IOH_NO_LABELS, (double)d->loop_stall_ns / 1e9);
	{
		struct ioh_resolver_stats rs;

		ioh_resolver_get_stats(d->resolver, &rs);
		ioh_expo_family(&x, IOH_M_RESOLVE_TIMEOUTS_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_RESOLVE_TIMEOUTS_TOTAL_HELP);
		ioh_expo_u64(&x, IOH_NO_LABELS, rs.timeouts);
		ioh_expo_family(&x, IOH_M_RESOLVE_SKIPPED_TOTAL, IOH_METRIC_COUNTER,
				IOH_M_RESOLVE_SKIPPED_TOTAL_HELP);
		ioh_expo_u64(&x, IOH_NO_LABELS, rs.skipped);
		ioh_expo_family(&x, IOH_M_RESOLVER_WORKERS_STUCK, IOH_METRIC_GAUGE,
				IOH_M_RESOLVER_WORKERS_STUCK_HELP);
		ioh_expo_u64(&x, IOH_NO_LABELS, rs.workers_stuck);
	}
	ioh_expo_family(&x, IOH_M_SCRAPE_ERRORS_TOTAL, IOH_METRIC_COUNTER,
			IOH_M_SCRAPE_ERRORS_TOTAL_HELP);
	ioh_expo_u64(&x, IOH_NO_LABELS, x.errors);
}

/* node_exporter's textfile collector: the same exposition, written atomically. */
static void write_textfile(struct daemon *d)
{
	struct strbuf sb;
	int r;

	if (!d->opts.metrics_textfile)
		return;
	strbuf_init(&sb);
	render_metrics(d, &sb);
	r = sb.oom ? -ENOMEM
		   : ioh_metrics_write_textfile(d->opts.metrics_textfile, sb.buf, sb.len);
	if (r < 0 && d->textfile_errors++ == 0)
		log_warning_errno(r, "Failed to write %s: %m", d->opts.metrics_textfile);
	strbuf_free(&sb);
}

/* Entering blindness: counted, logged, reported as an `iohazard-blind` finding. */
static void enter_blind(struct daemon *d, const char *reason, uint64_t now)
{
	struct ioh_finding f = {0};

	d->blind_episodes++;
	log_error("Blind: %s", reason);
	f.ts_ns = now;
	f.rule = "iohazard-blind";
	f.severity = IOH_SEV_CRITICAL;
	f.pid = (uint32_t)getpid();
	snprintf(f.comm, sizeof(f.comm), "iohazardd");
	snprintf(f.message, sizeof(f.message), "iohazard is not seeing I/O: %s", reason);
	f.fix = "check `iohazard status`, the daemon log, and whether something detached "
		"its BPF programs; restart iohazardd";
	ioh_finding_add_str(&f, "reason", reason);
	count_finding(d, &f);
	report_finding(&f, d);
}

/*
 * The loop itself was gone (the monitor thread saw no pet): whatever happened meanwhile
 * was not watched. Blind from now until a fresh canary comes back through the hooks and
 * the ring buffer, and for at least 5 s.
 */
static void loop_was_stalled(struct daemon *d, uint64_t gone_ns, uint64_t now)
{
	char reason[256];

	d->loop_stalls++;
	d->loop_stall_ns += gone_ns;
	snprintf(reason, sizeof(reason), "the event loop did not run for %.1fs",
		 (double)gone_ns / 1e9);
	if (!d->blind_reason[0])
		enter_blind(d, reason, now);
	else
		log_error("Blind: %s", reason);
	snprintf(d->blind_reason, sizeof(d->blind_reason), "%s", reason);
	d->canary_sent_ns = now;
	(void)ioh_loader_send_canary(d->loader);
	/* Visible for a while even when the canary is back at once: a scrape every few
	 * seconds must be able to see it. */
	d->blind_hold_until_ns = now + 5000000000ull;
}

/*
 * Blindness is a finding too. Every HEALTH_EVERY_TICKS the daemon checks the previous canary
 * (an fsync of its own memfd that the fsync hook answers with a heartbeat record) and its
 * links, then sends the next canary. Entering or leaving blindness is logged, reported as an
 * `iohazard-blind` finding (entering), shown in status, STATUS= and the metrics.
 */
static void check_health(struct daemon *d, uint64_t now)
{
	char reason[256] = "";
	int detached = ioh_loader_check_links(d->loader);

	ioh_loader_expire_watched(d->loader, now);

	if (detached)
		snprintf(reason, sizeof(reason), "%d BPF link(s) detached", detached);
	else if (d->canary_sent_ns && d->canary_seen_ns < d->canary_sent_ns)
		snprintf(reason, sizeof(reason),
			 "canary syscall not seen through the hooks and ring buffer for %.1fs",
			 (double)(now - d->canary_sent_ns) / 1e9);
	if (!reason[0] && d->blind_reason[0] && now < d->blind_hold_until_ns)
		snprintf(reason, sizeof(reason), "%s", d->blind_reason); /* a loop stall, held */
	if (reason[0] && !d->blind_reason[0]) {
		enter_blind(d, reason, now);
	} else if (!reason[0] && d->blind_reason[0]) {
		log_notice("Seeing again (was: %s)", d->blind_reason);
	}
	snprintf(d->blind_reason, sizeof(d->blind_reason), "%s", reason);
	/* Only a canary that got through is replaced; a lost one keeps counting its age. */
	if (!d->canary_sent_ns || d->canary_seen_ns >= d->canary_sent_ns) {
		d->canary_sent_ns = now;
		(void)ioh_loader_send_canary(d->loader);
	}
}

/* systemd's STATUS=: one line, sent when it changes. */
static void update_status_line(struct daemon *d)
{
	struct ioh_correlator_stats st;
	const struct ioh_hook_status *hooks;
	size_t n, attached = 0;
	uint64_t lost = 0;
	char line[256];

	daemon_stats(d, &st);
	hooks = ioh_loader_hooks(d->loader, &n);
	for (size_t i = 0; i < n; i++)
		attached += hooks[i].attached;
	for (unsigned w = 0; w < IOH_LOSS__MAX; w++)
		lost += st.lost[w];
	snprintf(line, sizeof(line), "%s%zu/%zu hooks attached, %llu findings, %llu events lost",
		 d->blind_reason[0] ? "BLIND: " : "", attached, n, (unsigned long long)st.findings,
		 (unsigned long long)lost);
	if (strcmp(line, d->status_line) != 0) {
		snprintf(d->status_line, sizeof(d->status_line), "%s", line);
		ioh_notify_status("%s", line);
	}
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t now, gone;

	gone = ioh_loop_monitor_pet(d->loop_monitor, now_ns(CLOCK_MONOTONIC));
	drain(d);
	now = now_ns(CLOCK_MONOTONIC);
	if (gone)
		loop_was_stalled(d, gone, now);
	poll_losses(d);
	/* Deadlines may only pass once everything before them is handled: not while a drain
	 * cut by the budget still has records waiting. */
	if (now > DEADLINE_GRACE_NS && d->record_budget > 0) {
		d->last_advance_ns = now - DEADLINE_GRACE_NS;
		ioh_correlator_advance(d->correlator, d->last_advance_ns);
	}
	if (d->recorder) {
		int r = ioh_eventlog_flush(d->recorder);

		if (r < 0)
			stop_recording(d, r);
	}
	if (ioh_api_server_subscribers(d->api) && ++d->stats_tick % STATS_EVERY_TICKS == 0)
		broadcast_stats(d);
	if (++d->health_tick % HEALTH_EVERY_TICKS == 0)
		check_health(d, now);
	update_status_line(d);
	if (d->opts.metrics_textfile && ++d->textfile_tick % TEXTFILE_EVERY_TICKS == 0)
		write_textfile(d); /* two fsyncs each: not every tick */
	d->last_tick_ns = now;
	/* After a stall the next tick is a period from now, not a burst of missed ones. */
	sd_event_source_set_time(s, usec + TICK_USEC > now / 1000 ? usec + TICK_USEC
								  : now / 1000 + TICK_USEC);
	return 0;
}

/* ---- API ------------------------------------------------------------------------------------ */

static void status_json(struct daemon *d, struct jsonw *w)
{
	struct ioh_correlator_stats st;
	const struct ioh_hook_status *hooks;
	size_t n_hooks;

	daemon_stats(d, &st);
	struct ioh_prog_stats progs[32];
	size_t n_progs = ioh_loader_prog_stats(d->loader, progs, sizeof(progs) / sizeof(progs[0]));
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	jsonw_kv_str(w, "version", IOH_VERSION);
	jsonw_kv_str(w, "hostname", host);
	jsonw_kv_int(w, "pid", getpid());
	/* In-kernel cost; counts only while kernel.bpf_stats_enabled=1. */
	jsonw_key(w, "bpf_run_seconds");
	jsonw_obj_begin(w);
	for (size_t i = 0; i < n_progs; i++)
		jsonw_kv_double(w, progs[i].name, (double)progs[i].run_time_ns / 1e9);
	jsonw_obj_end(w);
	jsonw_kv_bool(w, "ready", d->ready);
	jsonw_kv_double(w, "uptime_seconds",
			(double)(now_ns(CLOCK_MONOTONIC) - d->started_ns) / 1e9);
	jsonw_key(w, "hooks");
	jsonw_obj_begin(w);
	hooks = ioh_loader_hooks(d->loader, &n_hooks);
	for (size_t i = 0; i < n_hooks; i++) {
		jsonw_key(w, hooks[i].hook);
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "backend", hooks[i].backend);
		jsonw_kv_bool(w, "attached", hooks[i].attached);
		if (hooks[i].on_demand) {
			jsonw_kv_bool(w, "on_demand", true);
			jsonw_kv_bool(w, "active", hooks[i].active);
		}
		if (hooks[i].error[0])
			jsonw_kv_str(w, "error", hooks[i].error);
		if (hooks[i].refused[0])
			jsonw_kv_str(w, "refused", hooks[i].refused);
		jsonw_obj_end(w);
	}
	jsonw_obj_end(w);
	jsonw_key(w, "events");
	jsonw_obj_begin(w);
	for (unsigned t = IOH_EV_RENAME; t < IOH_EV__KERNEL_MAX; t++)
		jsonw_kv_uint(w, ioh_event_type_name(t), st.events[t]);
	jsonw_obj_end(w);
	jsonw_key(w, "events_lost");
	jsonw_obj_begin(w);
	for (unsigned l = 0; l < IOH_LOSS__MAX; l++)
		jsonw_kv_uint(w, ioh_loss_where_name(l), st.lost[l]);
	jsonw_kv_uint(w, "malformed_records", d->decode_errors);
	jsonw_obj_end(w);
	jsonw_kv_uint(w, "tracked_inodes", st.tracked_inodes);
	jsonw_kv_uint(w, "state_evictions", st.inode_evictions);
	jsonw_kv_uint(w, "pending_renames", st.pending_renames);
	jsonw_kv_uint(w, "pending_evictions", st.pending_evictions);
	jsonw_kv_uint(w, "renames_unresolved", st.renames_unresolved);
	{
		uint64_t sc[IOH_STACK__MAX];

		ioh_stacks_status_jsonw(w, ioh_stacks_enabled(d->stacks),
					ioh_loader_read_stack_counts(d->loader, sc) == 0 ? sc : NULL,
					d->stacks);
	}
	{
		struct ioh_resolver_stats rs;

		ioh_resolver_get_stats(d->resolver, &rs);
		jsonw_key(w, "resolver");
		jsonw_obj_begin(w);
		jsonw_kv_uint(w, "timeouts", rs.timeouts);
		jsonw_kv_uint(w, "skipped", rs.skipped);
		jsonw_kv_uint(w, "workers", rs.workers);
		jsonw_kv_uint(w, "workers_stuck", rs.workers_stuck);
		jsonw_obj_end(w);
	}
	jsonw_kv_uint(w, "findings", st.findings);
	jsonw_kv_uint(w, "findings_reported", d->reported);
	jsonw_kv_uint(w, "findings_suppressed", ioh_suppressor_suppressed(d->suppressor));
	jsonw_key(w, "findings_by_rule");
	jsonw_obj_begin(w);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->counters[i].rule[0]; i++) {
		jsonw_key(w, d->counters[i].rule);
		jsonw_obj_begin(w);
		for (int sev = IOH_SEV_INFO; sev <= IOH_SEV_CRITICAL; sev++)
			jsonw_kv_uint(w, ioh_severity_name(sev), d->counters[i].by_severity[sev]);
		jsonw_obj_end(w);
	}
	jsonw_obj_end(w);
	jsonw_kv_bool(w, "blind", d->blind_reason[0] != '\0');
	if (d->blind_reason[0])
		jsonw_kv_str(w, "blind_reason", d->blind_reason);
	jsonw_kv_uint(w, "blind_episodes", d->blind_episodes);
	jsonw_kv_uint(w, "loop_stalls", d->loop_stalls);
	jsonw_kv_double(w, "loop_stall_seconds", (double)d->loop_stall_ns / 1e9);
	jsonw_kv_bool(w, "rules_last_reload_success", d->last_reload_ok);
	jsonw_kv_uint(w, "rules", d->rules ? d->rules->count : 0);
	/* true: no *.rules file in the search path, the compiled-in vendor rules apply. */
	jsonw_kv_bool(w, "rules_builtin", d->rules && d->rules->builtin);
	jsonw_kv_uint(w, "subscribers", ioh_api_server_subscribers(d->api));
	/* The path while recording; null once stopped (then recording_error says why). */
	jsonw_kv_str(w, "recording", d->recorder ? d->opts.record_path : NULL);
	if (d->record_error[0])
		jsonw_kv_str(w, "recording_error", d->record_error);
	jsonw_kv_uint(w, "recording_write_errors", d->record_errors);
	jsonw_kv_str(w, "capabilities", d->capabilities);
	jsonw_key(w, "journal");
	if (d->journal) {
		struct ioh_journal_stats js;

		ioh_journal_get_stats(&js);
		jsonw_obj_begin(w);
		jsonw_kv_uint(w, "sent", js.sent);
		jsonw_kv_uint(w, "failed", js.failed);
		if (js.last_error)
			jsonw_kv_str(w, "last_error", strerror(-js.last_error));
		jsonw_obj_end(w);
	} else {
		jsonw_null(w);
	}
	ioh_stall_status_json(&d->stalls, d->loader, w);
}

static int reload_rules_errors(struct daemon *d, struct ioh_rules_errors *errors);

static int api_findings(struct daemon *d, struct json_object *req, struct jsonw *w,
			const char **error)
{
	struct ioh_findings_query q = {0};
	struct json_object *v;

	if (json_object_object_get_ex(req, "rule", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			*error = "\"rule\" must be a string";
			return -EINVAL;
		}
		q.rule = json_object_get_string(v);
	}
	if (json_object_object_get_ex(req, "since_ns", &v)) {
		if (!json_object_is_type(v, json_type_int)) {
			*error = "\"since_ns\" must be an integer (realtime ns)";
			return -EINVAL;
		}
		q.since_realtime_ns = json_object_get_int64(v);
	}
	if (json_object_object_get_ex(req, "limit", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			*error = "\"limit\" must be a non-negative integer";
			return -EINVAL;
		}
		q.limit = (size_t)json_object_get_int64(v);
	}
	jsonw_key(w, "findings");
	ioh_findings_log_query(d->findings_log, &q, w);
	return 0;
}

/* `iohazard selftest` reports {"results": {rule: bool}} for the metrics. */
static int api_selftest_result(struct daemon *d, struct json_object *req, struct jsonw *w,
			       const char **error)
{
	struct json_object *results;
	struct timespec now;

	if (!json_object_object_get_ex(req, "results", &results) ||
	    !json_object_is_type(results, json_type_object)) {
		*error = "\"results\" must be an object of rule: boolean";
		return -EINVAL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_foreach(results, rule, ok)
	{
		struct selftest_result *slot = NULL;

		if (!json_object_is_type(ok, json_type_boolean) || !ioh_rule_detector_known(rule))
			continue; /* only the known rules: bounded, and no made-up label values */
		for (unsigned i = 0; i < RULE_COUNTERS_MAX && !slot; i++)
			if (!d->selftest[i].rule[0] || strcmp(d->selftest[i].rule, rule) == 0)
				slot = &d->selftest[i];
		if (!slot)
			break;
		snprintf(slot->rule, sizeof(slot->rule), "%s", rule);
		slot->success = json_object_get_boolean(ok);
		slot->realtime_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	}
	jsonw_kv_bool(w, "recorded", true);
	return 0;
}

static int api_rules(struct daemon *d, struct jsonw *w, const char **error)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		*error = "out of memory";
		return -ENOMEM;
	}
	ioh_ruleset_print(d->rules, f);
	fclose(f);
	jsonw_key(w, "rules");
	jsonw_strn(w, text ? text : "", len);
	free(text);
	return 0;
}

static int api_handler(void *ctx, const char *command, struct json_object *request,
		       struct jsonw *w, const char **error)
{
	struct daemon *d = ctx;

	if (strcmp(command, "status") == 0) {
		jsonw_key(w, "status");
		jsonw_obj_begin(w);
		status_json(d, w);
		jsonw_obj_end(w);
		return 0;
	}
	if (strcmp(command, "findings") == 0)
		return api_findings(d, request, w, error);
	if (strcmp(command, "rules") == 0)
		return api_rules(d, w, error);
	if (strcmp(command, "selftest_result") == 0)
		return api_selftest_result(d, request, w, error);
	if (strcmp(command, "reload") == 0) {
		struct ioh_rules_errors errors = {0};
		int r;

		ioh_notify_reloading();
		r = reload_rules_errors(d, &errors);
		ioh_notify_ready(r < 0 ? "reload failed: previous rules kept" : "rules reloaded");
		/* A rejected set is still a well-formed reply: it carries the file:line errors. */
		jsonw_kv_bool(w, "reloaded", r == 0);
		jsonw_kv_uint(w, "rules", d->rules->count);
		jsonw_key(w, "errors");
		jsonw_arr_begin(w);
		for (size_t i = 0; i < errors.count; i++)
			jsonw_str(w, errors.messages[i]);
		jsonw_arr_end(w);
		ioh_rules_errors_free(&errors);
		return 0;
	}
	*error = "unknown command (status, findings, subscribe, rules, reload)";
	return -EINVAL;
}

/* ---- life cycle ----------------------------------------------------------------------------- */

/* Loads the rules; every problem is logged as file:line and, if `errors_out` is given,
 * handed to the caller (for the API's reload reply). */
static int load_rules_errors(const struct ioh_options *o, struct ioh_ruleset **out,
			     struct ioh_rules_errors *errors_out)
{
	struct ioh_rules_errors errors = {0};
	const char *const *dirs = o->n_rules_dirs ? o->rules_dirs : ioh_rules_default_dirs;
	size_t n = o->n_rules_dirs ? o->n_rules_dirs : ioh_rules_default_dirs_count;
	int r = ioh_rules_load_search_path(dirs, n, out, &errors);
	struct strbuf where;

	strbuf_init(&where);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&where, "%s%s", i ? ", " : "", dirs[i]);
	if (r < 0) {
		for (size_t i = 0; i < errors.count; i++)
			log_error("%s", errors.messages[i]);
		log_error_errno(r, "Rules did not load");
	} else if ((*out)->builtin) {
		log_notice("No *.rules file in %s: using the %zu built-in vendor rules "
			   "(rules/10-default.rules of this build)",
			   where.buf ? where.buf : "", (*out)->count);
	} else if ((*out)->count == 0) {
		log_warning("No rules in %s (%zu files): nothing will be reported",
			    where.buf ? where.buf : "", (*out)->files.count);
	} else {
		log_info("Loaded %zu rules from %zu files in %s", (*out)->count,
			 (*out)->files.count, where.buf ? where.buf : "");
	}
	strbuf_free(&where);
	if (errors_out)
		*errors_out = errors;
	else
		ioh_rules_errors_free(&errors);
	return r < 0 ? r : 0;
}

static int load_rules(const struct ioh_options *o, struct ioh_ruleset **out)
{
	return load_rules_errors(o, out, NULL);
}

/* Atomic: the new set replaces the old only when it loaded without error. */
static int reload_rules_errors(struct daemon *d, struct ioh_rules_errors *errors)
{
	struct ioh_ruleset *fresh = NULL;
	int r;

	d->reloads++;
	r = load_rules_errors(&d->opts, &fresh, errors);
	d->last_reload_ok = r == 0;
	if (r < 0) {
		log_error("Reload failed; keeping the previous %zu rules", d->rules->count);
		return r;
	}
	ioh_correlator_set_rules(d->correlator, fresh);
	ioh_stacks_set_enabled(d->stacks, !d->opts.no_stacks && !fresh->no_stacks);
	ioh_loader_set_stacks(d->loader, !d->opts.no_stacks && !fresh->no_stacks);
	ioh_loader_set_thresholds(d->loader, ioh_rules_min_threshold(fresh, "dirty-throttle-stall"),
				  ioh_rules_min_threshold(fresh, "splice-stall"));
	ioh_ruleset_free(d->rules);
	d->rules = fresh;
	log_info("Reloaded %zu rules", fresh->count);
	return 0;
}

static int reload_rules(struct daemon *d)
{
	return reload_rules_errors(d, NULL);
}

static int on_signal_reload(sd_event_source *s, const struct signalfd_siginfo *si,
			    void *userdata)
{
	struct daemon *d = userdata;
	int r;

	ioh_notify_reloading();
	r = reload_rules(d);
	ioh_notify_ready(r < 0 ? "reload failed: previous rules kept" : "rules reloaded");
	return 0;
}

static int on_signal_exit(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	ioh_notify_stopping();
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void replay_print(const struct ioh_finding *f, int64_t offset, void *ctx)
{
	struct daemon *d = ctx;

	print_finding(f, offset, d->opts.output, &d->line);
}

static int run_replay(struct daemon *d)
{
	struct ioh_correlator_config cfg = {d->opts.max_inodes, d->opts.max_pending};
	struct ioh_replay_result res;
	char err[512];
	int r = ioh_replay_file(d->opts.replay_path, d->rules, &cfg, replay_print, d, &res, err,
				sizeof(err));

	if (r < 0)
		return log_error_errno(r, "%s", err);
	log_info("Replayed %llu events, %llu findings", (unsigned long long)res.events,
		 (unsigned long long)res.findings);
	return 0;
}

/* Classic daemonization: the parent exits once the child reports it is ready (or failed),
 * so `iohazardd && iohazard status` works without --foreground. */
static int daemonize(int *notify_fd)
{
	int pipefd[2];
	pid_t pid;
	char status = 1;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(pipefd[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	*notify_fd = pipefd[1];
	return 0;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int ensure_parent_dir(const char *path)
{
	char dir[512];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Whether stderr is the journal stream systemd named in JOURNAL_STREAM ("dev:ino"). */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int main(int argc, char **argv)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct ioh_loader_opts lopts = {0};
	struct ioh_correlator_config cfg;
	sd_event_source *tick = NULL;
	int notify_fd = -1;
	sigset_t mask;
	int r;

	if (!d)
		return 1;
	r = ioh_options_parse(argc, argv, &d->opts);
	if (r != 0)
		return r > 0 ? 0 : 2;
	ioh_log_set_level(d->opts.log_level);
	/* Under journald (systemd connects stderr to it and says so in JOURNAL_STREAM), every line
	 * carries its syslog priority as a "<N>" prefix, so `journalctl -p err` finds the errors. */
	ioh_log_set_syslog_prefix(stderr_is_journal());
	strbuf_init(&d->line);

	r = load_rules(&d->opts, &d->rules);
	if (r < 0)
		return 1;
	if (d->opts.replay_path) {
		r = run_replay(d);
		ioh_ruleset_free(d->rules);
		return r < 0 ? 1 : 0;
	}

	if (ioh_check_bpf_capabilities() < 0)
		return 1;
	if (!d->opts.foreground && daemonize(&notify_fd) < 0)
		return 1;

	d->started_ns = now_ns(CLOCK_MONOTONIC);
	d->last_tick_ns = d->started_ns;
	d->losses_read_ns = d->started_ns; /* the counters start at zero when the maps are made */
	d->realtime_offset_ns = realtime_offset();
	d->last_reload_ok = true;
	strbuf_init(&d->json);
	cfg = (struct ioh_correlator_config){d->opts.max_inodes, d->opts.max_pending};
	d->correlator = ioh_correlator_new(&cfg, d->rules, on_finding, d);
	d->resolver = ioh_resolver_new(NULL);
	d->stacks = ioh_stacks_new(0);
	d->suppressor = ioh_suppressor_new(IOH_SUPPRESSOR_CAPACITY);
	d->findings_log = ioh_findings_log_new(FINDINGS_LOG_SIZE);
	if (!d->correlator || !d->resolver || !d->stacks || !d->suppressor || !d->findings_log) {
		log_error("Out of memory");
		return 1;
	}
	ioh_stacks_set_enabled(d->stacks, !d->opts.no_stacks && !d->rules->no_stacks);
	ioh_correlator_set_stacks(d->correlator, d->stacks);
	if (d->opts.record_path) {
		r = ioh_eventlog_create(d->opts.record_path, d->realtime_offset_ns,
					d->opts.record_replace ? IOH_EVENTLOG_REPLACE : 0, &d->recorder);
		if (r == -EEXIST)
			log_error("Failed to create recording %s: it exists%s", d->opts.record_path,
				  d->opts.record_replace ? " and is not a regular file"
							 : " (--record-replace replaces it)");
		else if (r < 0)
			log_error_errno(r, "Failed to create recording %s: %m", d->opts.record_path);
		if (r < 0)
			return 1;
	}

	r = sd_event_default(&d->event);
	if (r < 0)
		return log_error_errno(r, "Failed to create the event loop: %m"), 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sd_event_add_signal(d->event, NULL, SIGTERM, on_signal_exit, NULL);
	sd_event_add_signal(d->event, NULL, SIGINT, on_signal_exit, NULL);
	sd_event_add_signal(d->event, NULL, SIGHUP, on_signal_reload, d);

	/* BPF_ENABLE_STATS keeps accounting on exactly as long as the fd is open, without
	 * touching the sysctl other tools may own; only when the operator asked. */
	d->bpf_stats_fd = -1;
	if (d->opts.bpf_stats) {
		d->bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (d->bpf_stats_fd < 0)
			log_warning_errno(-errno, "Failed to enable BPF run-time statistics: %m");
	}
	lopts.backend = d->opts.backend;
	lopts.ringbuf_bytes = d->opts.ringbuf_bytes;
	lopts.self_pid = getpid();
	lopts.mixed_window_ns = d->opts.mixed_window_ns;
	lopts.on_record = on_record;
	lopts.ctx = d;
	lopts.throttle_threshold_ns = ioh_rules_min_threshold(d->rules, "dirty-throttle-stall");
	lopts.splice_threshold_ns = ioh_rules_min_threshold(d->rules, "splice-stall");
	lopts.no_stacks = !ioh_stacks_enabled(d->stacks);
	r = ioh_loader_start(&lopts, &d->loader);
	if (r < 0)
		goto out;
	if (ioh_mount_watch_new(NULL, &d->mounts) == 0) {
		ioh_mount_watch_scan(d->mounts, now_ns(CLOCK_MONOTONIC), on_mount_event, d);
		r = sd_event_add_io(d->event, NULL, ioh_mount_watch_fd(d->mounts), EPOLLPRI,
				    on_mountinfo, d);
		if (r < 0)
			log_warning_errno(r, "Cannot watch the mount table: %m");
	} else {
		log_warning("Cannot read /proc/self/mountinfo: writeback-mount is blind");
	}
	r = sd_event_add_io(d->event, NULL, ioh_loader_ringbuf_fd(d->loader), EPOLLIN, on_ringbuf,
			    d);
	if (r < 0)
		goto out;
	r = sd_event_add_time(d->event, &tick, CLOCK_MONOTONIC,
			      now_ns(CLOCK_MONOTONIC) / 1000 + TICK_USEC, 10000, on_tick, d);
	if (r < 0)
		goto out;
	/* Time sources are one-shot by default; on_tick moves the time, this keeps it armed. */
	sd_event_source_set_enabled(tick, SD_EVENT_ON);
	r = ensure_parent_dir(d->opts.socket_path);
	if (r < 0) {
		log_error_errno(r, "Failed to create the directory of %s: %m",
				d->opts.socket_path);
		goto out;
	}
	/* The socket is bound last: a client that can connect sees every hook attached. */
	r = ioh_api_server_new(d->event, d->opts.socket_path, d->opts.socket_group, api_handler,
			       d, &d->api);
	if (r < 0)
		goto out;
	if (strcmp(d->opts.metrics_listen, "off") != 0) {
		r = ioh_metrics_http_new(d->event, d->opts.metrics_listen, render_metrics, d,
					 &d->metrics);
		if (r < 0)
			goto out;
	}
	/* Every hook is attached, the socket and the port are bound (and the socket chowned):
	 * from here on only what reloads, loss polls, on-demand attach and the resolver use. */
	if (ioh_drop_capabilities(d->capabilities, sizeof(d->capabilities),
				  ioh_loader_on_demand_uses_perf(d->loader)) < 0)
		log_error("Running with the capabilities it was started with");
	d->ready = true;
	{
		size_t n;
		const struct ioh_hook_status *h = ioh_loader_hooks(d->loader, &n);

		struct strbuf sb;

		strbuf_init(&sb);
		for (size_t i = 0; i < n; i++)
			strbuf_printf(&sb, " %s=%s", h[i].hook, h[i].backend);
		log_info("Ready:%s", sb.buf ? sb.buf : "");
		strbuf_free(&sb);
	}
	if (notify_fd >= 0) {
		char ok = 0;

		(void)!write(notify_fd, &ok, 1);
		close(notify_fd);
		notify_fd = -1;
		detach_stdio();
	}
	d->journal = d->opts.journal == IOH_JOURNAL_ON ||
		     (d->opts.journal == IOH_JOURNAL_AUTO &&
		      access("/run/systemd/journal/socket", F_OK) == 0);
	update_status_line(d);
	ioh_notify_ready(d->status_line);
	r = ioh_watchdog_start(d->event, &d->watchdog);
	if (r < 0)
		log_warning_errno(r, "Failed to start the watchdog: %m");
	r = ioh_loop_monitor_start(&d->loop_monitor);
	if (r < 0)
		log_warning_errno(r, "Failed to start the event loop monitor: %m");
	r = sd_event_loop(d->event);
out:
	if (d->recorder) {
		/* Replay stops its clock where ours stopped, so it decides exactly the windows
		 * this run decided. */
		struct ioh_event end = {.type = IOH_EV_END, .ts_ns = d->last_advance_ns};

		ioh_eventlog_write(d->recorder, &end);
		ioh_eventlog_close(d->recorder);
	}
	if (d->loader && d->correlator)
		write_textfile(d);
	sd_event_source_disable_unref(d->drain_more);
	ioh_metrics_http_free(d->metrics);
	ioh_api_server_free(d->api);
	ioh_watchdog_free(d->watchdog);
	ioh_loop_monitor_free(d->loop_monitor);
	sd_event_source_disable_unref(tick);
	ioh_loader_stop(d->loader);
	ioh_mount_watch_free(d->mounts);
	sd_event_unref(d->event);
	ioh_correlator_free(d->correlator);
	ioh_stacks_free(d->stacks);
	ioh_resolver_free(d->resolver);
	free(d->scratch.stack_strings);
	ioh_ruleset_free(d->rules);
	ioh_suppressor_free(d->suppressor);
	ioh_findings_log_free(d->findings_log);
	strbuf_free(&d->line);
	strbuf_free(&d->json);
	free(d);
	return r < 0 ? 1 : 0;
}
