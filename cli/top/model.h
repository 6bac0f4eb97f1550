/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data model behind `iohazard top`: findings and daemon stats go in as parsed JSON objects
 * (the API's wire format), active hazards come out aggregated, filtered and sorted. No
 * terminal, no socket and no clock: the caller passes the time in, so unit tests drive it
 * exactly and the batch and curses views show the same rows.
 *
 * A hazard is every finding with the same rule and path: an on-call engineer fixes a path
 * (and the program writing it), not one event. A finding whose call chain (issue 15:
 * evidence.stack) has a frame outside libc is grouped by rule and that call site instead
 * (module build id, else module path, and offset): a program that renamed 102 files from one
 * function is one hazard to fix in one place, not 102.
 */
#ifndef IOH_TOP_MODEL_H
#define IOH_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct strbuf;

/* Bounds on everything the daemon's stream can make us allocate. */
#define TOP_HAZARDS_MAX 4096 /* beyond this the least recently seen hazard is dropped */
#define TOP_PROGRAMS_MAX 8   /* distinct (pid, comm) kept per hazard; more are counted */
#define TOP_HOOKS_MAX 64
#define TOP_DEVICES_MAX 32    /* dirty-throttle histograms kept (one per bdi) */
#define TOP_BUCKETS_MAX 64    /* log2 slots per histogram (the daemon sends up to 40) */
#define TOP_STALLS_MAX 16     /* worst splice stalls kept */
#define TOP_SEEN_RING 2048    /* finding fingerprints remembered to drop backlog duplicates */
#define TOP_PENDING_MAX 65536 /* findings queued while paused before the view moves anyway */
#define TOP_FILES_MAX 1000    /* distinct paths counted per hazard; beyond: "1000+ files" */
#define TOP_FRAMES_SHOWN 128  /* call chain frames the details view lists */

enum top_sort {
	TOP_SORT_SEVERITY, /* severity, then most recent first: the default */
	TOP_SORT_LAST_SEEN,
	TOP_SORT_COUNT,
	TOP_SORT_FIRST_SEEN,
	TOP_SORT_RULE,
	TOP_SORT_PATH,
	TOP_SORT__MAX,
};

/* One program seen causing a hazard. Strings are raw (unescaped): escape when shown. */
struct top_program {
	uint32_t pid;
	char comm[64];
	char unit[128];	 /* systemd unit, "" when the daemon had none (null in JSON) */
	uint64_t count;	 /* findings of this hazard by this program */
	int64_t last_ns; /* realtime ns of its latest finding, to show the latest first */
};

struct top_hazard {
	uint64_t id;		   /* stable across re-sorts, so the selection follows the hazard */
	char *rule;		   /* raw strings as the daemon sent them */
	char *path;		   /* grouped by call site: the latest finding's path */
	char *callsite;		   /* NULL: grouped by path; else the call site's key (opaque) */
	uint64_t *files;	   /* fingerprints of the distinct non-empty paths seen; owned */
	size_t n_files, cap_files; /* n_files <= TOP_FILES_MAX */
	bool files_more;	   /* more distinct paths than TOP_FILES_MAX */
	int severity;		   /* 0 info .. 3 critical; the highest seen for this hazard */
	bool degraded;		   /* some finding was made with events lost on its path */
	uint64_t count;
	int64_t first_ns; /* realtime ns, from the findings' "time" */
	int64_t last_ns;
	struct top_program programs[TOP_PROGRAMS_MAX];
	size_t n_programs;
	uint64_t programs_more;	    /* findings by programs beyond TOP_PROGRAMS_MAX */
	struct json_object *latest; /* the latest finding, for the details view (message, fix,
				       evidence); owned */
};

struct top_hook {
	char name[48];
	char backend[32];
	bool attached;
	char error[128];
};

/* One dirty-throttle pause histogram (a bdi, e.g. "254:0"). buckets[i] counts pauses of
 * [2^i, 2^(i+1)) nanoseconds: the kernel's log2 slots (daemon/stall_status_json.h). */
struct top_throttle_dev {
	char bdi[64];
	uint64_t buckets[TOP_BUCKETS_MAX];
	size_t n_buckets;
	uint64_t count;
	double sum_seconds; /* total paused time; < 0 when not reported */
};

struct top_splice_stall {
	uint32_t pid;
	char comm[64];
	char unit[128]; /* "" when the daemon had none (null) */
	char call[32];	/* splice, sendfile, tee, vmsplice, copy_file_range */
	char path[512];
	double seconds;
};

/* The latest "stats" object, flattened; what the header and the bottom panel show. */
struct top_stats {
	bool valid;
	char version[32];
	double uptime_seconds;
	uint64_t events_total; /* sum of "events" */
	uint64_t lost_total;   /* sum of "events_lost" */
	uint64_t tracked_inodes;
	uint64_t pending_renames;
	uint64_t findings;
	struct top_hook hooks[TOP_HOOKS_MAX];
	size_t n_hooks;
	bool has_bpf_cost;	/* "bpf_run_seconds" present (needs kernel.bpf_stats_enabled) */
	double bpf_run_seconds; /* sum over programs */
	bool has_throttle;	/* the daemon reports a "dirty_throttle" section at all */
	struct top_throttle_dev throttle[TOP_DEVICES_MAX];
	size_t n_throttle;
	bool has_splice; /* the daemon reports a "splice_stalls" list at all */
	struct top_splice_stall stalls[TOP_STALLS_MAX]; /* worst first */
	size_t n_stalls;
};

struct top_model {
	struct top_hazard **hazards; /* every hazard, unordered; owned */
	size_t n_hazards, cap_hazards;
	uint64_t next_id;
	uint64_t hazards_dropped; /* evicted at TOP_HAZARDS_MAX */
	uint64_t findings_ingested;

	uint64_t seen[TOP_SEEN_RING]; /* fingerprints of recent findings (ring) */
	size_t seen_next;

	struct top_stats stats, prev_stats;
	/* Rates over the last two stats samples; valid once two samples from one daemon run. */
	bool rates_valid;
	double events_per_second;
	uint64_t lost_delta;	/* events lost between the last two samples */
	double bpf_cpu_percent; /* in-kernel time per wall time, when has_bpf_cost */

	/* The view: filtered and sorted rows, rebuilt lazily after any change. */
	struct top_hazard **rows;
	size_t n_rows;
	bool rows_stale;
	enum top_sort sort;
	bool reverse;
	char *filter_rule;    /* NULL: every rule */
	uint64_t selected_id; /* 0: none yet (the first row) */
	size_t selected;      /* row index of selected_id after the last rebuild */
	size_t scroll;	      /* first row shown (the curses view keeps it in range) */

	/* Paused: incoming data waits here so the rows stay still while someone reads them. */
	bool paused;
	struct json_object **pending;
	size_t n_pending, cap_pending;
	struct json_object *pending_stats;
	double pending_stats_now;

	bool changed; /* anything visible changed since the last top_model_mark_drawn() */
};

void top_model_init(struct top_model *m);
void top_model_fini(struct top_model *m);

/* A finding object as in design.md. Returns 1 if added, 0 if it was a duplicate (the backlog
 * and the stream overlap), -EINVAL if it lacks "rule", -ENOMEM. */
int top_model_add_finding(struct top_model *m, struct json_object *finding);
/* A status object (the "stats" of a subscription or the "status" reply). `now_s` is a
 * monotonic time used for rates only when the daemon gives no uptime. */
int top_model_add_stats(struct top_model *m, struct json_object *status, double now_s);

void top_model_set_sort(struct top_model *m, enum top_sort sort);
void top_model_next_sort(struct top_model *m);
void top_model_toggle_reverse(struct top_model *m);
/* NULL for every rule. */
int top_model_set_filter(struct top_model *m, const char *rule);
/* Every rule → first rule seen (sorted by name) → next → ... → every rule. */
void top_model_next_filter(struct top_model *m);
void top_model_set_paused(struct top_model *m, bool paused);

/* The visible rows after filter and sort (rebuilt here if stale). */
struct top_hazard *const *top_model_rows(struct top_model *m, size_t *n);
/* Moves the selection by `delta` rows, clamped. */
void top_model_move(struct top_model *m, long delta);
void top_model_select_first(struct top_model *m);
void top_model_select_last(struct top_model *m);
/* The selected hazard, NULL when no rows. */
struct top_hazard *top_model_selected(struct top_model *m);
/* Keeps the selection inside a window of `visible` rows starting at m->scroll. */
void top_model_scroll_to_selection(struct top_model *m, size_t visible);

/* "severity", "last seen", ... ("?" for another value); -EINVAL for an unknown name.
 * Severity names are daemon/correlator/severity.h's, as the daemon writes them. */
const char *top_sort_to_string(enum top_sort sort);
int top_sort_from_string(const char *s);
/* The hazard's call site as the daemon's text names it ("save_config (config.c:118) in
 * /usr/bin/app"), raw, from its latest finding; false (nothing appended) when it is grouped
 * by path. */
bool top_hazard_site(const struct top_hazard *h, struct strbuf *raw);

/* "2026-11-21T19:40:01.123456789Z" to realtime ns; -1 when malformed. */
int64_t top_parse_time(const char *text);

#endif
