// SPDX-License-Identifier: GPL-2.0-only
/*
 * The API commands: one table of {name, handler} (the CLI's command tables have the same
 * shape), looked up by api_server.c's request handler. "subscribe" is handled by the server
 * itself (daemon/api/api_server.h). The status object is also what subscribers get as
 * "stats" every STATS_EVERY_TICKS (manager.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon/api/api_server.h"
#include "daemon/api/findings_log.h"
#include "daemon/api/request.h"
#include "daemon/correlator/severity.h"
#include "daemon/ingest/resolve.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/manager.h"
#include "daemon/service/notify.h"
#include "daemon/sinks/event_format.h"
#include "daemon/sinks/journal.h"
#include "daemon/sinks/suppress.h"
#include "daemon/metrics/stack_report.h"

/* ---- status -------------------------------------------------------------------------------- */

/* Who and what: version, host, pid, in-kernel cost, readiness. */
static void status_process(struct daemon *d, struct jsonw *w)
{
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
			(double)(ioh_clock_ns(CLOCK_MONOTONIC) - d->started_ns) / 1e9);
}

static void status_hooks(struct daemon *d, struct jsonw *w)
{
	const struct ioh_hook_status *hooks;
	size_t n_hooks;

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
}

/* What came in and what the correlator holds. */
static void status_events(struct daemon *d, const struct ioh_correlator_stats *st, struct jsonw *w)
{
	jsonw_key(w, "events");
	jsonw_obj_begin(w);
	for (unsigned t = IOH_EV_RENAME; t < IOH_EV__KERNEL_MAX; t++)
		jsonw_kv_uint(w, ioh_event_type_to_string(t), st->events[t]);
	jsonw_obj_end(w);
	jsonw_key(w, "events_lost");
	jsonw_obj_begin(w);
	for (unsigned l = 0; l < IOH_LOSS__MAX; l++)
		jsonw_kv_uint(w, ioh_loss_where_to_string(l), st->lost[l]);
	jsonw_kv_uint(w, "malformed_records", d->decode_errors);
	jsonw_obj_end(w);
	jsonw_kv_uint(w, "tracked_inodes", st->tracked_inodes);
	jsonw_kv_uint(w, "state_evictions", st->inode_evictions);
	jsonw_kv_uint(w, "pending_renames", st->pending_renames);
	jsonw_kv_uint(w, "pending_evictions", st->pending_evictions);
	jsonw_kv_uint(w, "renames_unresolved", st->renames_unresolved);
	{
		uint64_t sc[IOH_STACK__MAX];

		ioh_stacks_status_jsonw(
		    w, ioh_stacks_enabled(d->stacks),
		    ioh_loader_read_stack_counts(d->loader, sc) == 0 ? sc : NULL, d->stacks);
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
}

/* What went out, blindness, rules, subscribers, the recording. */
static void status_findings(struct daemon *d, const struct ioh_correlator_stats *st,
			    struct jsonw *w)
{
	jsonw_kv_uint(w, "findings", st->findings);
	jsonw_kv_uint(w, "findings_reported", d->reported);
	jsonw_kv_uint(w, "findings_suppressed", ioh_suppressor_suppressed(d->suppressor));
	jsonw_key(w, "findings_by_rule");
	jsonw_obj_begin(w);
	for (unsigned i = 0; i < RULE_COUNTERS_MAX && d->counters[i].rule[0]; i++) {
		jsonw_key(w, d->counters[i].rule);
		jsonw_obj_begin(w);
		for (int sev = IOH_SEV_INFO; sev <= IOH_SEV_CRITICAL; sev++)
			jsonw_kv_uint(w, ioh_severity_to_string(sev),
				      d->counters[i].by_severity[sev]);
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
}

static void status_journal(struct daemon *d, struct jsonw *w)
{
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
}

/* The members of the status object (`iohazard status`, and "stats" for subscribers). */
static void status_json(struct daemon *d, struct jsonw *w)
{
	struct ioh_correlator_stats st;

	manager_stats(d, &st);
	status_process(d, w);
	status_hooks(d, w);
	status_events(d, &st, w);
	status_findings(d, &st, w);
	status_journal(d, w);
	ioh_stall_status_json(&d->stalls, d->loader, w);
}

/* Periodic status for subscribers (`iohazard top`). */
void api_broadcast_stats(struct daemon *d)
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

/* ---- commands ------------------------------------------------------------------------------ */

static int api_status(struct daemon *d, struct json_object *req, struct jsonw *w,
		      const char **error)
{
	jsonw_key(w, "status");
	jsonw_obj_begin(w);
	status_json(d, w);
	jsonw_obj_end(w);
	return 0;
}

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

static int api_rules(struct daemon *d, struct json_object *req, struct jsonw *w, const char **error)
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

/* Same as SIGHUP, bracketed by RELOADING=1 ... READY=1; a rejected set is still a well-formed
 * reply: it carries the file:line errors. */
static int api_reload(struct daemon *d, struct json_object *req, struct jsonw *w,
		      const char **error)
{
	struct ioh_rules_errors errors = {0};
	int r;

	ioh_notify_reloading();
	r = manager_reload_rules(d, &errors);
	ioh_notify_ready(r < 0 ? "reload failed: previous rules kept" : "rules reloaded");
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

struct api_command {
	const char *name;
	/* Writes the reply's fields after "ok": true and returns 0, or returns -errno with a
	 * static *error for the client. */
	int (*run)(struct daemon *d, struct json_object *req, struct jsonw *w, const char **error);
};

static const struct api_command api_commands[] = {
    {"status", api_status}, {"findings", api_findings},
    {"rules", api_rules},   {"selftest_result", api_selftest_result},
    {"reload", api_reload},
};

int api_handle(void *ctx, const char *command, struct json_object *request, struct jsonw *w,
	       const char **error)
{
	for (size_t i = 0; i < sizeof(api_commands) / sizeof(api_commands[0]); i++)
		if (strcmp(command, api_commands[i].name) == 0)
			return api_commands[i].run(ctx, request, w, error);
	*error = IOH_API_UNKNOWN_COMMAND;
	return -EINVAL;
}
