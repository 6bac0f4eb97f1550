/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The manager: the daemon's one state object (`struct daemon`) and its life cycle. The rooms
 * around it each take the manager and do one part of the work:
 *
 *   manager.c         new / start / free, the periodic tick, rules (load, reload), signals
 *   pipeline.c        ring buffer -> decode -> resolve -> [record] -> correlator -> sinks
 *   health.c          blindness: canary round trip, link checks, a stalled loop
 *   api/commands.c    the API commands (a table) and the status JSON
 *   metrics/render.c  the Prometheus exposition and the textfile
 *   iohazardd.c       main(): options, daemonization, the loop
 *
 * One thread, one sd_event loop: the ring buffer, the API socket, the metrics port, the
 * mount table, a periodic tick (losses, deadlines, record flush, health) and signals.
 * Everything here is private to the iohazardd binary (not in libiohazard.a).
 */
#ifndef IOH_MANAGER_H
#define IOH_MANAGER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "daemon/correlator/correlator.h"
#include "daemon/ingest/decode.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/options.h"
#include "daemon/rules/rules.h"
#include "daemon/stall_status.h"
#include "daemon/util/jsonw.h"
#include "daemon/util/strbuf.h"
#include "daemon/util/timeops.h"

/* Occurrences per rule and severity (before rate limiting), for metrics and status; also the
 * size of the selftest table (both are bounded by the known rules). */
#define RULE_COUNTERS_MAX 64
struct rule_counter {
	char rule[IOH_RULE_NAME_MAX];
	uint64_t by_severity[IOH_SEV_CRITICAL + 1];
};

/* The last `iohazard selftest` outcome of one rule. */
struct selftest_result {
	char rule[IOH_RULE_NAME_MAX];
	bool success;
	int64_t realtime_ns; /* when it was reported */
};

struct daemon {
	struct ioh_options opts;
	sd_event *event;
	sd_event_source *tick;	     /* the periodic tick (manager.c) */
	sd_event_source *drain_more; /* deferred: continue a drain cut by the budget */
	struct ioh_loader *loader;
	/* The loader keeps a pointer to its options (the ring buffer callback reads on_record
	 * and ctx from them): they live as long as the manager. */
	struct ioh_loader_opts loader_opts;
	struct ioh_resolver *resolver;
	struct ioh_stacks *stacks; /* call chains (issue 15), fed through the correlator */
	struct ioh_correlator *correlator;
	struct ioh_ruleset *rules;
	struct ioh_eventlog_writer *recorder;
	struct ioh_api_server *api;
	struct ioh_metrics_http *metrics;
	struct ioh_suppressor *suppressor;
	struct ioh_findings_log *findings_log;
	struct ioh_mount_watch *mounts;	       /* /proc/self/mountinfo, polled for POLLPRI */
	struct ioh_loop_monitor *loop_monitor; /* a thread that notices a loop that stopped */
	struct ioh_decode_scratch scratch;     /* decode/resolve buffers, reused per record */
	int64_t realtime_offset_ns;	       /* CLOCK_REALTIME - CLOCK_MONOTONIC at start */
	uint64_t started_ns;		       /* CLOCK_MONOTONIC */
	uint64_t last_tick_ns;
	uint64_t last_advance_ns; /* the correlator's clock: written as the recording's END */
	/* Pipeline (pipeline.c). */
	uint64_t losses_seen[IOH_LOSS__MAX]; /* kernel loss counters already turned into LOSS */
	uint64_t losses_read_ns;	     /* when losses_seen was last read from the kernel */
	uint64_t decode_errors;
	unsigned record_budget;	       /* records left in this turn of the loop */
	uint64_t turn_start_ns;	       /* CLOCK_MONOTONIC when this turn began */
	uint64_t record_errors;	       /* failed writes to --record (each stops the recording) */
	char record_error[256];	       /* why the recording stopped; "" while it runs */
	struct strbuf line;	       /* the printed finding (stdout) */
	struct strbuf json;	       /* the reported finding as JSON, shared by the sinks */
	bool journal;		       /* findings go to the journal too */
	struct ioh_stall_board stalls; /* worst recent splice stalls, for status */
	struct rule_counter counters[RULE_COUNTERS_MAX];
	uint64_t reported; /* findings that passed rate limiting */
	/* Rules (manager.c). */
	bool last_reload_ok;
	uint64_t reloads;
	/* Health (health.c). The daemon's own canary syscall must come back through the ring
	 * buffer, and every link must still hold its program. */
	uint64_t canary_sent_ns;
	uint64_t canary_seen_ns;
	uint64_t heartbeats;	/* canary records received: they stop here, before the correlator */
	char blind_reason[256]; /* "" while the daemon sees */
	uint64_t blind_episodes;
	uint64_t loop_stalls;	      /* times the loop was gone > IOH_LOOP_STALL_NS */
	uint64_t loop_stall_ns;	      /* how long in all */
	uint64_t blind_hold_until_ns; /* a loop stall stays visible as blind until then */
	/* Tick counters: work done every N ticks. */
	uint64_t stats_tick;	/* subscribers get stats every STATS_EVERY_TICKS */
	uint64_t health_tick;	/* health checks every HEALTH_EVERY_TICKS */
	uint64_t textfile_tick; /* the textfile every TEXTFILE_EVERY_TICKS */
	/* API and metrics. */
	struct selftest_result selftest[RULE_COUNTERS_MAX]; /* from `iohazard selftest` */
	uint64_t textfile_errors;
	/* Service. */
	bool ready;		/* every hook attached, every listener bound */
	int bpf_stats_fd;	/* held while --bpf-stats: run-time accounting stays on */
	char status_line[256];	/* last STATUS= sent to systemd */
	char capabilities[128]; /* kept after start, for status ("cap_bpf,cap_perfmon,...") */
};

struct json_object;

/* ---- manager.c ----------------------------------------------------------------------------- */

/* Zeroed state; options are parsed into d->opts by the caller. Returns 0 or -ENOMEM. */
int manager_new(struct daemon **out);
/* Loads the rules named by the options (or the built-in ones). Returns 0 or -errno, logged. */
int manager_load_rules(struct daemon *d);
/* --replay: the recording through the loaded rules, findings to stdout. */
int manager_replay(struct daemon *d);
/* Everything up to READY: correlator, recording, loop, signals, hooks, socket, port; then
 * drops capabilities. Returns 0 or -errno, logged. */
int manager_start(struct daemon *d);
/* After daemonization: STATUS=, READY=1, the watchdog and the loop monitor. */
void manager_announce_ready(struct daemon *d);
/* Ends the recording, writes the last textfile, detaches, frees. Accepts NULL. */
void manager_free(struct daemon *d);
/* Atomic: the new set replaces the old only when it loaded without error. Problems are
 * logged and, when `errors` is given, handed over (for the API's reply). */
int manager_reload_rules(struct daemon *d, struct ioh_rules_errors *errors);
/* The correlator's counters, plus the heartbeats that never reach it. */
void manager_stats(struct daemon *d, struct ioh_correlator_stats *st);

/* ---- pipeline.c ---------------------------------------------------------------------------- */

/* libbpf's ring buffer callback: one record, decoded, resolved, dispatched. */
int pipeline_on_record(void *ctx, void *data, size_t len);
/* Handles up to RECORDS_PER_TURN records; schedules itself again if more are waiting. */
void pipeline_drain(struct daemon *d);
/* New kernel loss counts to LOSS events. */
void pipeline_poll_losses(struct daemon *d);
/* The correlator's finding callback. */
void pipeline_on_finding(const struct ioh_finding *f, void *ctx);
/* Counted and reported to every sink (a finding the daemon makes itself: blindness). */
void pipeline_report_own_finding(struct daemon *d, const struct ioh_finding *f);
void pipeline_print_finding(const struct ioh_finding *f, int64_t offset, enum ioh_output output,
			    struct strbuf *line);
/* Stops --record after a failed write (status and metrics say why). */
void pipeline_stop_recording(struct daemon *d, int err);
/* Scans the mount table now and watches it; false when it cannot be read. */
bool pipeline_watch_mounts(struct daemon *d);
int pipeline_on_ringbuf(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* ---- health.c ------------------------------------------------------------------------------ */

/* Every HEALTH_EVERY_TICKS: the previous canary, the links; sends the next canary. */
void health_check(struct daemon *d, uint64_t now);
/* The loop was gone `gone_ns` (from the loop monitor): blind for a while. */
void health_loop_was_stalled(struct daemon *d, uint64_t gone_ns, uint64_t now);
/* Blind now: a reason is set, or the loop monitor sees the loop gone right now. */
bool health_blind(struct daemon *d);

/* ---- api/commands.c ------------------------------------------------------------------------ */

/* The API server's handler: looks `command` up in the command table. */
int api_handle(void *ctx, const char *command, struct json_object *request, struct jsonw *w,
	       const char **error);
/* {"stats": {status}} to subscribers (`iohazard top`). */
void api_broadcast_stats(struct daemon *d);

/* ---- metrics/render.c ---------------------------------------------------------------------- */

/* The whole exposition, rendered at scrape time from the live counters (no stored registry). */
void metrics_render(void *ctx, struct strbuf *out);
/* node_exporter's textfile collector: the same exposition, written atomically. */
void metrics_write_textfile(struct daemon *d);

#endif
