// SPDX-License-Identifier: GPL-2.0-only
/*
 * The data path: ring buffer -> decode -> resolve -> [record] -> correlator -> findings ->
 * sinks (stdout, journal, the findings ring, API subscribers). Losses are turned into LOSS
 * events in stream order; the mount table feeds mount events the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/api/api_server.h"
#include "daemon/api/findings_log.h"
#include "daemon/ingest/mountinfo.h"
#include "daemon/ingest/resolve.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/manager.h"
#include "daemon/record/eventlog.h"
#include "daemon/sinks/finding_format.h"
#include "daemon/sinks/event_format.h"
#include "daemon/sinks/journal.h"
#include "daemon/sinks/suppress.h"
#include "daemon/util/log.h"

/*
 * Records handled per turn of the event loop, and the time a turn may take. A burst
 * (thousands of renames, each with a statx and a finding written to every sink) would
 * otherwise keep the loop away from the watchdog, the API and the metrics for seconds: 2048
 * records of a rename flood took 3 s once each finding carried its call chain. Past either
 * bound the rest is handled from a deferred source on the next turn. The clock is read every
 * TURN_CLOCK_EVERY records, not per record.
 */
#define RECORDS_PER_TURN 2048
#define TURN_MAX_NS (50 * 1000 * 1000ull)
#define TURN_CLOCK_EVERY 16

void pipeline_print_finding(const struct ioh_finding *f, int64_t offset, enum ioh_output output,
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
	pipeline_print_finding(f, d->realtime_offset_ns, d->opts.output, &d->line);
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

void pipeline_on_finding(const struct ioh_finding *f, void *ctx)
{
	struct daemon *d = ctx;

	count_finding(d, f);
	ioh_stall_board_note(&d->stalls, f, d->realtime_offset_ns);
	ioh_suppressor_report(d->suppressor, d->rules, f, report_finding, d);
}

/*
 * A recording that missed an event is no longer a faithful replay of this run (the disk
 * filled, an I/O error): stop it there, say why in status, count it in the metrics. What
 * was written before stays readable (flushed every tick).
 */
void pipeline_stop_recording(struct daemon *d, int err)
{
	d->record_errors++;
	snprintf(d->record_error, sizeof(d->record_error), "write failed: %s", strerror(-err));
	log_error_errno(err, "Failed to write to the recording %s: %m; recording stopped",
			d->opts.record_path);
	ioh_eventlog_close(d->recorder);
	d->recorder = NULL;
}

static void dispatch(struct daemon *d, const struct ioh_event *ev)
{
	int r;

	/* Losses before an event must reach the correlator before the event does, or a verdict
	 * decided at that event would not know of them (docs/architecture.md, "Losses"). The
	 * counters were last read at losses_read_ns; an event after that is preceded by a new
	 * read. While the daemon catches up on a full ring buffer this costs nothing (its events
	 * are older than the last read); when it keeps up, about one read per drain. */
	if (ev->type != IOH_EV_LOSS && ev->ts_ns > d->losses_read_ns)
		pipeline_poll_losses(d);
	if (d->recorder && (r = ioh_eventlog_write(d->recorder, ev)) < 0)
		pipeline_stop_recording(d, r);
	ioh_correlator_feed(d->correlator, ev);
}

static void handle_record(struct daemon *d, void *data, size_t len)
{
	struct ioh_event ev;
	int r = ioh_decode_record(data, len, &ev, &d->scratch);

	if (r < 0) {
		if (d->decode_errors++ == 0)
			log_error("Malformed kernel record (%s); counting further ones silently",
				  strerror(-r));
		return;
	}
	if (ev.type == IOH_EV_HEARTBEAT) {
		d->canary_seen_ns = ev.ts_ns;
		d->heartbeats++;
		return;
	}
	ioh_resolver_enrich(d->resolver, &ev, &d->scratch);
	/* A file system kept a statx past its deadline: let the API, the metrics and the
	 * watchdog in before the next record, which may wait as long again. */
	if (ioh_resolver_timed_out(d->resolver))
		d->record_budget = 0;
	dispatch(d, &ev);
}

/*
 * libbpf has consumed a record (moved the consumer position past it) before it calls us,
 * whatever we return: a negative return only stops the loop after it. So the record is
 * always handled, and the turn ends by returning -EAGAIN after the last one it may take
 * (returning it before handling one would drop that record).
 */
int pipeline_on_record(void *ctx, void *data, size_t len)
{
	struct daemon *d = ctx;

	if (d->record_budget > 0)
		d->record_budget--;
	handle_record(d, data, len);
	if (d->record_budget % TURN_CLOCK_EVERY == 0 &&
	    ioh_clock_ns(CLOCK_MONOTONIC) - d->turn_start_ns > TURN_MAX_NS)
		d->record_budget = 0;
	return d->record_budget == 0 ? -EAGAIN : 0;
}

/*
 * Turn new kernel loss counts into LOSS events, so they reach the recording and replay
 * marks the same findings degraded. A read that starts at S sees every loss before S; the
 * losses it finds happened after the previous read started and before this one ended, which
 * is the interval the LOSS events carry (since_ns, ts_ns].
 */
void pipeline_poll_losses(struct daemon *d)
{
	uint64_t totals[IOH_LOSS__MAX];
	uint64_t since = d->losses_read_ns;
	uint64_t start = ioh_clock_ns(CLOCK_MONOTONIC), now;

	if (ioh_loader_read_losses(d->loader, totals) < 0)
		return;
	now = ioh_clock_ns(CLOCK_MONOTONIC);
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
			    ioh_loss_where_to_string(w));
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

static int on_mountinfo(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	pipeline_drain(d); /* events before the change are judged first */
	ioh_resolver_mounts_changed(d->resolver);
	ioh_mount_watch_scan(d->mounts, ioh_clock_ns(CLOCK_MONOTONIC), on_mount_event, d);
	return 0;
}

static int on_drain_more(sd_event_source *s, void *userdata);

/* Handles up to RECORDS_PER_TURN records; schedules itself again if more are waiting. */
void pipeline_drain(struct daemon *d)
{
	d->record_budget = RECORDS_PER_TURN;
	d->turn_start_ns = ioh_clock_ns(CLOCK_MONOTONIC);
	if (ioh_loader_consume(d->loader) == -EAGAIN || d->record_budget == 0) {
		if (d->drain_more)
			sd_event_source_set_enabled(d->drain_more, SD_EVENT_ONESHOT);
		else
			sd_event_add_defer(d->event, &d->drain_more, on_drain_more, d);
	}
}

static int on_drain_more(sd_event_source *s, void *userdata)
{
	pipeline_drain(userdata);
	return 0;
}

int pipeline_on_ringbuf(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	pipeline_drain(userdata);
	return 0;
}

void pipeline_report_own_finding(struct daemon *d, const struct ioh_finding *f)
{
	count_finding(d, f);
	report_finding(f, d);
}

bool pipeline_watch_mounts(struct daemon *d)
{
	int r;

	if (ioh_mount_watch_new(NULL, &d->mounts) != 0)
		return false;
	ioh_mount_watch_scan(d->mounts, ioh_clock_ns(CLOCK_MONOTONIC), on_mount_event, d);
	r = sd_event_add_io(d->event, NULL, ioh_mount_watch_fd(d->mounts), EPOLLPRI, on_mountinfo,
			    d);
	if (r < 0)
		log_warning_errno(r, "Cannot watch the mount table: %m");
	return true;
}
