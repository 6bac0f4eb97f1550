// SPDX-License-Identifier: GPL-2.0-only
/*
 * The manager's life cycle (daemon/manager.h): building every part in order up to READY, the
 * periodic tick, rules (load, reload on SIGHUP or the API), and the way down.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "daemon/api/api_server.h"
#include "daemon/api/findings_log.h"
#include "daemon/ingest/mountinfo.h"
#include "daemon/ingest/resolve.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/manager.h"
#include "daemon/metrics/http_server.h"
#include "daemon/record/eventlog.h"
#include "daemon/record/replay.h"
#include "daemon/service/loop_monitor.h"
#include "daemon/service/notify.h"
#include "daemon/service/privileges.h"
#include "daemon/sinks/suppress.h"
#include "daemon/stacks/table.h"
#include "daemon/util/log.h"

/* How often losses are polled, deadlines checked and the recording flushed. */
#define TICK_USEC 200000ULL
/*
 * Deadlines expire only this long after they pass, so an event that happened before a
 * deadline but still sits in the ring buffer is never judged late. The buffer is drained
 * before every tick; this covers records reserved but not yet committed on another CPU.
 */
#define DEADLINE_GRACE_NS 100000000ULL
#define STATS_EVERY_TICKS 5
#define TEXTFILE_EVERY_TICKS 75 /* 15 s */
#define HEALTH_EVERY_TICKS 25	/* 5 s: canary round trip and link check */
/* Findings kept for `iohazard findings`. */
#define FINDINGS_LOG_SIZE 1024

static int64_t realtime_offset(void)
{
	return (int64_t)ioh_clock_ns(CLOCK_REALTIME) - (int64_t)ioh_clock_ns(CLOCK_MONOTONIC);
}

void manager_stats(struct daemon *d, struct ioh_correlator_stats *st)
{
	ioh_correlator_get_stats(d->correlator, st);
	st->events[IOH_EV_HEARTBEAT] += d->heartbeats;
}

/* ---- tick ---------------------------------------------------------------------------------- */

/* systemd's STATUS=: one line, sent when it changes. */
static void update_status_line(struct daemon *d)
{
	struct ioh_correlator_stats st;
	const struct ioh_hook_status *hooks;
	size_t n, attached = 0;
	uint64_t lost = 0;
	char line[256];

	manager_stats(d, &st);
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

	gone = ioh_loop_monitor_pet(d->loop_monitor, ioh_clock_ns(CLOCK_MONOTONIC));
	pipeline_drain(d);
	now = ioh_clock_ns(CLOCK_MONOTONIC);
	if (gone)
		health_loop_was_stalled(d, gone, now);
	pipeline_poll_losses(d);
	/* Deadlines may only pass once everything before them is handled: not while a drain
	 * cut by the budget still has records waiting. */
	if (now > DEADLINE_GRACE_NS && d->record_budget > 0) {
		d->last_advance_ns = now - DEADLINE_GRACE_NS;
		ioh_correlator_advance(d->correlator, d->last_advance_ns);
	}
	if (d->recorder) {
		int r = ioh_eventlog_flush(d->recorder);

		if (r < 0)
			pipeline_stop_recording(d, r);
	}
	if (ioh_api_server_subscribers(d->api) && ++d->stats_tick % STATS_EVERY_TICKS == 0)
		api_broadcast_stats(d);
	if (++d->health_tick % HEALTH_EVERY_TICKS == 0)
		health_check(d, now);
	update_status_line(d);
	if (d->opts.metrics_textfile && ++d->textfile_tick % TEXTFILE_EVERY_TICKS == 0)
		metrics_write_textfile(d); /* two fsyncs each: not every tick */
	d->last_tick_ns = now;
	/* After a stall the next tick is a period from now, not a burst of missed ones. */
	sd_event_source_set_time(s, usec + TICK_USEC > now / 1000 ? usec + TICK_USEC
								  : now / 1000 + TICK_USEC);
	return 0;
}

/* ---- rules --------------------------------------------------------------------------------- */

/* Loads the rules; every problem is logged as file:line and, if `errors_out` is given,
 * handed to the caller (for the API's reload reply). */
static int load_rules(const struct ioh_options *o, struct ioh_ruleset **out,
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

int manager_load_rules(struct daemon *d)
{
	return load_rules(&d->opts, &d->rules, NULL);
}

/* Atomic: the new set replaces the old only when it loaded without error. */
int manager_reload_rules(struct daemon *d, struct ioh_rules_errors *errors)
{
	struct ioh_ruleset *fresh = NULL;
	int r;

	d->reloads++;
	r = load_rules(&d->opts, &fresh, errors);
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

static int on_signal_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	int r;

	ioh_notify_reloading();
	r = manager_reload_rules(d, NULL);
	ioh_notify_ready(r < 0 ? "reload failed: previous rules kept" : "rules reloaded");
	return 0;
}

static void replay_print(const struct ioh_finding *f, int64_t offset, void *ctx)
{
	struct daemon *d = ctx;

	pipeline_print_finding(f, offset, d->opts.output, &d->line);
}

int manager_replay(struct daemon *d)
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

/* ---- life cycle ------------------------------------------------------------------------------ */

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

int manager_new(struct daemon **out)
{
	struct daemon *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return -ENOMEM;
	strbuf_init(&d->line);
	strbuf_init(&d->json);
	d->bpf_stats_fd = -1;
	d->last_reload_ok = true;
	*out = d;
	return 0;
}

/* The pure parts and the recording: nothing here needs privileges or the loop. */
static int start_core(struct daemon *d)
{
	struct ioh_correlator_config cfg = {d->opts.max_inodes, d->opts.max_pending};
	int r;

	d->started_ns = ioh_clock_ns(CLOCK_MONOTONIC);
	d->last_tick_ns = d->started_ns;
	d->losses_read_ns = d->started_ns; /* the counters start at zero when the maps are made */
	d->realtime_offset_ns = realtime_offset();
	d->correlator = ioh_correlator_new(&cfg, d->rules, pipeline_on_finding, d);
	d->resolver = ioh_resolver_new(NULL);
	d->stacks = ioh_stacks_new(0);
	d->suppressor = ioh_suppressor_new(IOH_SUPPRESSOR_CAPACITY);
	d->findings_log = ioh_findings_log_new(FINDINGS_LOG_SIZE);
	if (!d->correlator || !d->resolver || !d->stacks || !d->suppressor || !d->findings_log)
		return log_error_errno(-ENOMEM, "Out of memory");
	ioh_stacks_set_enabled(d->stacks, !d->opts.no_stacks && !d->rules->no_stacks);
	ioh_correlator_set_stacks(d->correlator, d->stacks);
	if (!d->opts.record_path)
		return 0;
	r = ioh_eventlog_create(d->opts.record_path, d->realtime_offset_ns,
				d->opts.record_replace ? IOH_EVENTLOG_REPLACE : 0, &d->recorder);
	if (r == -EEXIST)
		log_error("Failed to create recording %s: it exists%s", d->opts.record_path,
			  d->opts.record_replace ? " and is not a regular file"
						 : " (--record-replace replaces it)");
	else if (r < 0)
		log_error_errno(r, "Failed to create recording %s: %m", d->opts.record_path);
	return r < 0 ? r : 0;
}

/*
 * The loop and its signals, with sd-event's own machinery: SD_EVENT_SIGNAL_PROCMASK blocks
 * each signal as its source is added (no separate sigprocmask), sd_event_set_signal_exit()
 * makes SIGTERM and SIGINT end the loop cleanly (main() then says STOPPING=1 and the way
 * down detaches every hook). SIGHUP reloads the rules.
 */
static int start_loop(struct daemon *d)
{
	int r;

	r = sd_event_default(&d->event);
	if (r < 0)
		return log_error_errno(r, "Failed to create the event loop: %m");
	r = sd_event_set_signal_exit(d->event, true);
	if (r < 0)
		return log_error_errno(r, "Failed to handle SIGTERM and SIGINT: %m");
	r = sd_event_add_signal(d->event, NULL, SIGHUP | SD_EVENT_SIGNAL_PROCMASK, on_signal_reload,
				d);
	if (r < 0)
		return log_error_errno(r, "Failed to handle SIGHUP: %m");
	/* A client that hangs up mid-reply is an EPIPE for the writer, not a death. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* BPF: the hooks, then the sources that feed on them (ring buffer, mount table, tick). */
static int start_hooks(struct daemon *d)
{
	struct ioh_loader_opts *lopts = &d->loader_opts;
	int r;

	/* BPF_ENABLE_STATS keeps accounting on exactly as long as the fd is open, without
	 * touching the sysctl other tools may own; only when the operator asked. */
	if (d->opts.bpf_stats) {
		d->bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (d->bpf_stats_fd < 0)
			log_warning_errno(-errno, "Failed to enable BPF run-time statistics: %m");
	}
	lopts->backend = d->opts.backend;
	lopts->ringbuf_bytes = d->opts.ringbuf_bytes;
	lopts->self_pid = getpid();
	lopts->mixed_window_ns = d->opts.mixed_window_ns;
	lopts->on_record = pipeline_on_record;
	lopts->ctx = d;
	lopts->throttle_threshold_ns = ioh_rules_min_threshold(d->rules, "dirty-throttle-stall");
	lopts->splice_threshold_ns = ioh_rules_min_threshold(d->rules, "splice-stall");
	lopts->no_stacks = !ioh_stacks_enabled(d->stacks);
	r = ioh_loader_start(lopts, &d->loader);
	if (r < 0)
		return r;
	if (!pipeline_watch_mounts(d))
		log_warning("Cannot read /proc/self/mountinfo: writeback-mount is blind");
	r = sd_event_add_io(d->event, NULL, ioh_loader_ringbuf_fd(d->loader), EPOLLIN,
			    pipeline_on_ringbuf, d);
	if (r < 0)
		return r;
	r = sd_event_add_time(d->event, &d->tick, CLOCK_MONOTONIC,
			      ioh_clock_ns(CLOCK_MONOTONIC) / 1000 + TICK_USEC, 10000, on_tick, d);
	if (r < 0)
		return r;
	/* Time sources are one-shot by default; on_tick moves the time, this keeps it armed. */
	return sd_event_source_set_enabled(d->tick, SD_EVENT_ON);
}

/* The socket is bound last: a client that can connect sees every hook attached. */
static int start_listeners(struct daemon *d)
{
	int r;

	r = ensure_parent_dir(d->opts.socket_path);
	if (r < 0)
		return log_error_errno(r, "Failed to create the directory of %s: %m",
				       d->opts.socket_path);
	r = ioh_api_server_new(d->event, d->opts.socket_path, d->opts.socket_group, api_handle, d,
			       &d->api);
	if (r < 0)
		return r;
	if (strcmp(d->opts.metrics_listen, "off") == 0)
		return 0;
	return ioh_metrics_http_new(d->event, d->opts.metrics_listen, metrics_render, d,
				    &d->metrics);
}

static void log_ready(struct daemon *d)
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

int manager_start(struct daemon *d)
{
	int r;

	r = start_core(d);
	if (r < 0)
		return r;
	r = start_loop(d);
	if (r < 0)
		return r;
	r = start_hooks(d);
	if (r < 0)
		return r;
	r = start_listeners(d);
	if (r < 0)
		return r;
	/* Every hook is attached, the socket and the port are bound (and the socket chowned):
	 * from here on only what reloads, loss polls, on-demand attach and the resolver use. */
	if (ioh_drop_capabilities(d->capabilities, sizeof(d->capabilities),
				  ioh_loader_on_demand_uses_perf(d->loader)) < 0)
		log_error("Running with the capabilities it was started with");
	d->ready = true;
	log_ready(d);
	return 0;
}

/*
 * The watchdog is sd-event's own (sd_event_set_watchdog): WATCHDOG=1 from the loop itself,
 * so a loop stuck in a callback stops the pings and the manager restarts us. It reads
 * WATCHDOG_USEC and WATCHDOG_PID (a child that inherited them does not ping for its parent).
 */
void manager_announce_ready(struct daemon *d)
{
	int r;

	d->journal =
	    d->opts.journal == IOH_JOURNAL_ON || (d->opts.journal == IOH_JOURNAL_AUTO &&
						  access("/run/systemd/journal/socket", F_OK) == 0);
	update_status_line(d);
	ioh_notify_ready(d->status_line);
	r = sd_event_set_watchdog(d->event, true);
	if (r < 0)
		log_warning_errno(r, "Failed to start the watchdog: %m");
	r = ioh_loop_monitor_start(&d->loop_monitor);
	if (r < 0)
		log_warning_errno(r, "Failed to start the event loop monitor: %m");
}

void manager_free(struct daemon *d)
{
	if (!d)
		return;
	if (d->recorder) {
		/* Replay stops its clock where ours stopped, so it decides exactly the windows
		 * this run decided. */
		struct ioh_event end = {.type = IOH_EV_END, .ts_ns = d->last_advance_ns};

		ioh_eventlog_write(d->recorder, &end);
		ioh_eventlog_close(d->recorder);
	}
	if (d->loader && d->correlator)
		metrics_write_textfile(d);
	sd_event_source_disable_unref(d->drain_more);
	ioh_metrics_http_free(d->metrics);
	ioh_api_server_free(d->api);
	ioh_loop_monitor_free(d->loop_monitor);
	sd_event_source_disable_unref(d->tick);
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
}
