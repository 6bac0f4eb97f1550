// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon -> CLI status contract for stalls (daemon/stall_status_json.h), end to end: the
 * daemon's real ioh_stall_status_json() writes the sections from kernel histograms and
 * splice-stall findings, and `top`'s model and panel read them back. The loader is replaced
 * by the two functions below, which hand out fixed histograms the way the kernel fills them.
 */
#include <json-c/json.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cli/top/model.h"
#include "cli/top/render_text.h"
#include "daemon/stall_status.h"
#include "daemon/stall_status_json.h"
#include "daemon/util/strbuf.h"
#include "tests/unit/check.h"

/* ---- the loader, as the kernel would fill it --------------------------------------------- */

/* 4-8 ms dirty-throttle pauses: slot 22 is [2^22, 2^23) ns = [4.19 ms, 8.39 ms). */
int ioh_loader_read_dirty_histograms(const struct ioh_loader *l, struct ioh_hist_snapshot *out,
				     size_t max, bool per_cgroup)
{
	(void)l;
	(void)per_cgroup;
	if (max < 2)
		return 0;
	memset(out, 0, 2 * sizeof(*out));
	snprintf(out[0].bdi, sizeof(out[0].bdi), "254:0");
	out[0].buckets[22] = 120;
	out[0].count = 120;
	out[0].sum_ns = 120ULL * 5000000; /* 5 ms each */
	/* A second device with a 1-2 s pause next to 16-33 us ones. */
	snprintf(out[1].bdi, sizeof(out[1].bdi), "8:16");
	out[1].buckets[14] = 3;
	out[1].buckets[30] = 1;
	out[1].count = 4;
	out[1].sum_ns = 3ULL * 20000 + 1500000000ULL;
	return 2;
}

int ioh_loader_read_splice_histogram(const struct ioh_loader *l, struct ioh_hist_snapshot *out)
{
	(void)l;
	memset(out, 0, sizeof(*out));
	out->buckets[27] = 2; /* [134 ms, 268 ms) */
	out->count = 2;
	out->sum_ns = 400000000ULL;
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static void note_stall(struct ioh_stall_board *b, const char *call, const char *cgroup, uint64_t ns,
		       uint32_t pid, const char *comm, const char *path)
{
	struct ioh_finding f;

	memset(&f, 0, sizeof(f));
	f.rule = "splice-stall";
	f.pid = pid;
	snprintf(f.comm, sizeof(f.comm), "%s", comm);
	f.cgroup = cgroup;
	f.path = path;
	ioh_finding_add_duration(&f, "duration", ns);
	ioh_finding_add_str(&f, "call", call);
	ioh_finding_add_str(&f, "other_end", "socket");
	ioh_stall_board_note(b, &f, 0);
}

/* The status object as the daemon sends it: uptime plus the stall sections. */
static struct json_object *daemon_status(const struct ioh_stall_board *b)
{
	struct strbuf sb;
	struct jsonw w;
	struct json_object *o;

	strbuf_init(&sb);
	jsonw_init(&w, &sb);
	jsonw_obj_begin(&w);
	jsonw_kv_double(&w, "uptime_seconds", 10);
	ioh_stall_status_json(b, NULL, &w);
	jsonw_obj_end(&w);
	o = json_tokener_parse(sb.buf);
	strbuf_free(&sb);
	return o;
}

static const char *line_with(const struct top_lines *lines, const char *needle)
{
	for (size_t i = 0; i < lines->n; i++)
		if (strstr(lines->v[i], needle))
			return lines->v[i];
	return NULL;
}

int main(void)
{
	struct ioh_stall_board board = {0};
	struct top_model m;
	struct top_lines lines;
	struct json_object *st;
	const char *l;

	setlocale(LC_ALL, "C.UTF-8");
	note_stall(&board, "sendfile", "/system.slice/nginx.service", 2500000000ULL, 4242, "nginx",
		   "/srv/big.iso");
	note_stall(&board, "splice", NULL, 300000000ULL, 77, "haproxy", "/srv/x");
	st = daemon_status(&board);

	TEST_CASE("contract: the daemon writes the keys of stall_status_json.h")
	{
		struct json_object *dt, *dev, *v;

		CHECK(st != NULL);
		CHECK(json_object_object_get_ex(st, IOH_ST_DIRTY_THROTTLE, &dt));
		CHECK(json_object_object_get_ex(dt, "254:0", &dev));
		CHECK(json_object_object_get_ex(dev, IOH_ST_HIST_BUCKETS, &v) &&
		      json_object_array_length(v) == 23);
		CHECK(json_object_object_get_ex(dev, IOH_ST_HIST_SUM_SECONDS, &v));
		CHECK(json_object_object_get_ex(st, IOH_ST_SPLICE_DURATION, &v));
		CHECK(json_object_object_get_ex(st, IOH_ST_SPLICE_STALLS, &v) &&
		      json_object_array_length(v) == 2);
	}
	TEST_CASE("contract: top reads the daemon's status")
	{
		top_model_init(&m);
		top_model_add_stats(&m, st, 0);
		CHECK(m.stats.has_throttle);
		CHECK_INT(m.stats.n_throttle, 2);
		CHECK_INT(m.stats.throttle[0].count, 120);
		CHECK_INT(m.stats.throttle[0].n_buckets, 23);
		CHECK(m.stats.throttle[0].sum_seconds > 0.5999 &&
		      m.stats.throttle[0].sum_seconds < 0.6001);
		CHECK_INT(m.stats.n_stalls, 2);
		CHECK_STR(m.stats.stalls[0].call, "sendfile"); /* worst first */
		CHECK_STR(m.stats.stalls[0].unit, "nginx.service");
		CHECK_STR(m.stats.stalls[1].call, "splice");
		CHECK_STR(m.stats.stalls[1].unit, "");
	}
	TEST_CASE("contract: the panel shows the real ranges")
	{
		top_lines_init(&lines);
		top_render_panel(&m, 100, 0, &lines);
		for (size_t i = 0; i < lines.n; i++)
			printf("# %s\n", lines.v[i]);
		/* 4-8 ms pauses, not "2.10s |@| 4.19s"; the mean, not "max -". */
		l = line_with(&lines, "254:0");
		CHECK(l && strstr(l, "120 pauses"));
		CHECK(l && strstr(l, "avg 5ms"));
		CHECK(l && strstr(l, " 4ms |") && strstr(l, "| 8ms"));
		CHECK(l && !strstr(l, "4.19s") && !strstr(l, "max -"));
		/* 16 us to 2.15 s on the other device: both ends of the range. */
		l = line_with(&lines, "8:16");
		CHECK(l && strstr(l, "16us |") && strstr(l, "| 2.15s"));
		/* The splice call and the unit, not "?". */
		l = line_with(&lines, "nginx[4242]");
		CHECK(l && strstr(l, "2.50s") && strstr(l, "sendfile") &&
		      strstr(l, "nginx.service") && strstr(l, "/srv/big.iso"));
		l = line_with(&lines, "haproxy[77]");
		CHECK(l && strstr(l, "splice") && !strstr(l, " ? "));
		top_lines_free(&lines);
	}
	TEST_CASE("contract: top -b --json keeps the daemon's keys")
	{
		struct strbuf sb;
		struct json_object *frame, *v, *s0;

		strbuf_init(&sb);
		top_render_json(&m, "host", 0, &sb);
		frame = json_tokener_parse(sb.buf);
		CHECK(frame != NULL);
		CHECK(json_object_object_get_ex(frame, IOH_ST_SPLICE_STALLS, &v) &&
		      (s0 = json_object_array_get_idx(v, 0)) &&
		      json_object_object_get_ex(s0, IOH_ST_STALL_CALL, &v) &&
		      strcmp(json_object_get_string(v), "sendfile") == 0);
		json_object_put(frame);
		strbuf_free(&sb);
	}
	top_model_fini(&m);
	json_object_put(st);
	return check_summary();
}
