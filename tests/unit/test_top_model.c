// SPDX-License-Identifier: GPL-2.0-only
/* The `iohazard top` model and its text rendering, without a terminal or a daemon. */
#include <json-c/json.h>
#include <locale.h>
#include <stdlib.h>

#include "cli/finding_text.h"
#include "cli/top/model.h"
#include "cli/top/render_text.h"
#include "tests/unit/check.h"

#define T0 "2026-11-21T19:40:0"

/* A finding as the daemon sends it; `sec` is the second within T0's minute. */
static struct json_object *finding(const char *rule, const char *severity, const char *path,
				   unsigned pid, const char *comm, const char *unit, int sec)
{
	struct json_object *f = json_object_new_object();
	char time[64];

	snprintf(time, sizeof(time), "2026-11-21T19:40:%02d.000000001Z", sec);
	json_object_object_add(f, "time", json_object_new_string(time));
	json_object_object_add(f, "rule", json_object_new_string(rule));
	json_object_object_add(f, "severity", json_object_new_string(severity));
	json_object_object_add(f, "confidence", json_object_new_string("high"));
	json_object_object_add(f, "pid", json_object_new_int(pid));
	json_object_object_add(f, "comm", json_object_new_string(comm));
	json_object_object_add(f, "unit", unit ? json_object_new_string(unit) : NULL);
	json_object_object_add(f, "dev", json_object_new_string("254:0"));
	json_object_object_add(f, "ino", json_object_new_int(42));
	json_object_object_add(f, "path", json_object_new_string(path));
	json_object_object_add(f, "fstype", json_object_new_string("ext4"));
	json_object_object_add(f, "message", json_object_new_string("renamed without fsync"));
	json_object_object_add(f, "fix", json_object_new_string("fsync(2) the directory"));
	json_object_object_add(f, "evidence", json_object_new_object());
	return f;
}

static int add(struct top_model *m, const char *rule, const char *sev, const char *path,
	       unsigned pid, const char *comm, const char *unit, int sec)
{
	struct json_object *f = finding(rule, sev, path, pid, comm, unit, sec);
	int r = top_model_add_finding(m, f);

	json_object_put(f);
	return r;
}

static const char *row_path(struct top_model *m, size_t i)
{
	size_t n;
	struct top_hazard *const *rows = top_model_rows(m, &n);

	return i < n ? rows[i]->path : "(none)";
}

static int64_t at(int sec)
{
	char t[64];

	snprintf(t, sizeof(t), "2026-11-21T19:40:%02d.000000001Z", sec);
	return top_parse_time(t);
}

static void test_aggregation(void)
{
	struct top_model m;
	struct top_hazard *const *rows;
	size_t n;

	TEST_CASE("aggregation")
	{
		top_model_init(&m);
		CHECK_INT(add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 10, "sed",
			      "nginx.service", 1),
			  1);
		CHECK_INT(
		    add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 11, "cp", NULL, 5), 1);
		CHECK_INT(add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 10, "sed",
			      "nginx.service", 3),
			  1);
		/* Same finding again (backlog and stream overlap): dropped. */
		CHECK_INT(add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 10, "sed",
			      "nginx.service", 3),
			  0);
		CHECK_INT(add(&m, "rename-unsynced-source", "notice", "/srv/a", 10, "sed", NULL, 2),
			  1);
		rows = top_model_rows(&m, &n);
		CHECK_INT(n, 2);
		CHECK_STR(rows[0]->rule, "rename-without-dir-fsync");
		CHECK_INT(rows[0]->count, 3);
		CHECK_INT(rows[0]->first_ns, at(1));
		CHECK_INT(rows[0]->last_ns, at(5));
		CHECK_INT(rows[0]->n_programs, 2);
		/* Latest program first. */
		CHECK_STR(rows[0]->programs[0].comm, "cp");
		CHECK_INT(rows[0]->programs[1].pid, 10);
		CHECK_INT(rows[0]->programs[1].count, 2);
		CHECK_STR(rows[0]->programs[1].unit, "nginx.service");
		CHECK_INT(m.findings_ingested, 4);
		{
			struct json_object *empty = json_object_new_object();

			CHECK(top_model_add_finding(&m, empty) < 0); /* no "rule" */
			json_object_put(empty);
		}
		top_model_fini(&m);
	}
	TEST_CASE("programs bounded")
	{
		top_model_init(&m);
		for (int i = 0; i < TOP_PROGRAMS_MAX + 3; i++)
			add(&m, "r", "info", "/p", 100 + i, "w", NULL, i);
		rows = top_model_rows(&m, &n);
		CHECK_INT(rows[0]->n_programs, TOP_PROGRAMS_MAX);
		CHECK_INT(rows[0]->programs_more, 3);
		CHECK_INT(rows[0]->count, TOP_PROGRAMS_MAX + 3);
		top_model_fini(&m);
	}
	TEST_CASE("hazards bounded")
	{
		char path[32];

		top_model_init(&m);
		for (int i = 0; i < TOP_HAZARDS_MAX + 5; i++) {
			snprintf(path, sizeof(path), "/p%d", i);
			add(&m, "r", "info", path, 1, "w", NULL, i % 60);
		}
		CHECK_INT(m.n_hazards, TOP_HAZARDS_MAX);
		CHECK_INT(m.hazards_dropped, 5);
		top_model_fini(&m);
	}
}

static void fill(struct top_model *m)
{
	top_model_init(m);
	add(m, "a-rule", "notice", "/old-notice", 1, "x", NULL, 1);
	add(m, "b-rule", "critical", "/crit", 2, "x", NULL, 2);
	add(m, "a-rule", "notice", "/new-notice", 3, "x", NULL, 9);
	add(m, "c-rule", "warning", "/warn", 4, "x", NULL, 5);
	add(m, "c-rule", "warning", "/warn", 5, "y", NULL, 6);
	add(m, "c-rule", "warning", "/warn", 6, "z", NULL, 7);
}

static void test_sort_filter(void)
{
	struct top_model m;
	size_t n;

	TEST_CASE("sort by severity then recency")
	{
		fill(&m);
		CHECK_STR(row_path(&m, 0), "/crit");
		CHECK_STR(row_path(&m, 1), "/warn");
		CHECK_STR(row_path(&m, 2), "/new-notice");
		CHECK_STR(row_path(&m, 3), "/old-notice");
		top_model_toggle_reverse(&m);
		CHECK_STR(row_path(&m, 0), "/old-notice");
		CHECK_STR(row_path(&m, 3), "/crit");
		top_model_fini(&m);
	}
	TEST_CASE("other sort orders")
	{
		fill(&m);
		top_model_set_sort(&m, TOP_SORT_LAST_SEEN);
		CHECK_STR(row_path(&m, 0), "/new-notice");
		top_model_set_sort(&m, TOP_SORT_COUNT);
		CHECK_STR(row_path(&m, 0), "/warn");
		top_model_set_sort(&m, TOP_SORT_FIRST_SEEN);
		CHECK_STR(row_path(&m, 0), "/old-notice");
		top_model_set_sort(&m, TOP_SORT_PATH);
		CHECK_STR(row_path(&m, 0), "/crit");
		top_model_set_sort(&m, TOP_SORT_RULE);
		CHECK_STR(row_path(&m, 0), "/new-notice"); /* a-rule, the newer one first */
		top_model_next_sort(&m);
		CHECK_INT(m.sort, TOP_SORT_PATH);
		top_model_next_sort(&m);
		CHECK_INT(m.sort, TOP_SORT_SEVERITY);
		top_model_fini(&m);
	}
	TEST_CASE("filter by rule")
	{
		fill(&m);
		top_model_next_filter(&m);
		CHECK_STR(m.filter_rule, "a-rule");
		top_model_rows(&m, &n);
		CHECK_INT(n, 2);
		top_model_next_filter(&m);
		top_model_next_filter(&m);
		CHECK_STR(m.filter_rule, "c-rule");
		top_model_rows(&m, &n);
		CHECK_INT(n, 1);
		top_model_next_filter(&m);
		CHECK(m.filter_rule == NULL);
		top_model_rows(&m, &n);
		CHECK_INT(n, 4);
		top_model_fini(&m);
	}
	TEST_CASE("selection follows the hazard")
	{
		fill(&m);
		top_model_move(&m, 1);
		CHECK_STR(top_model_selected(&m)->path, "/warn");
		/* A newer critical hazard sorts above: the selection stays on /warn. */
		add(&m, "b-rule", "critical", "/crit2", 7, "x", NULL, 20);
		CHECK_STR(top_model_selected(&m)->path, "/warn");
		CHECK_INT(m.selected, 2);
		top_model_move(&m, 100);
		CHECK_STR(top_model_selected(&m)->path, "/old-notice");
		top_model_move(&m, -100);
		CHECK_STR(top_model_selected(&m)->path, "/crit2");
		top_model_select_last(&m);
		top_model_scroll_to_selection(&m, 2);
		CHECK_INT(m.scroll, 3);
		top_model_fini(&m);
	}
	TEST_CASE("pause holds the rows")
	{
		fill(&m);
		top_model_set_paused(&m, true);
		add(&m, "d-rule", "critical", "/late", 7, "x", NULL, 30);
		top_model_rows(&m, &n);
		CHECK_INT(n, 4);
		top_model_set_paused(&m, false);
		top_model_rows(&m, &n);
		CHECK_INT(n, 5);
		CHECK_STR(row_path(&m, 0), "/late");
		top_model_fini(&m);
	}
}

static struct json_object *status(double uptime, uint64_t events, uint64_t lost)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"version\":\"0.1.0\",\"uptime_seconds\":%f,"
		 "\"hooks\":{\"syscalls\":{\"backend\":\"tp_btf\",\"attached\":true},"
		 "\"fsync\":{\"backend\":\"kprobe\",\"attached\":false,\"error\":\"x\"}},"
		 "\"events\":{\"rename\":%llu,\"sync\":%llu},"
		 "\"events_lost\":{\"ringbuf\":%llu,\"malformed_records\":0},"
		 "\"tracked_inodes\":7,\"pending_renames\":2}",
		 uptime, (unsigned long long)events / 2, (unsigned long long)(events - events / 2),
		 (unsigned long long)lost);
	return json_tokener_parse(text);
}

static void test_stats(void)
{
	struct top_model m;
	struct json_object *s;

	TEST_CASE("events per second")
	{
		top_model_init(&m);
		s = status(10.0, 1000, 0);
		top_model_add_stats(&m, s, 0);
		json_object_put(s);
		CHECK(!m.rates_valid);
		CHECK_INT(m.stats.events_total, 1000);
		CHECK_INT(m.stats.n_hooks, 2);
		CHECK(!m.stats.hooks[1].attached);
		s = status(12.0, 1500, 3);
		top_model_add_stats(&m, s, 0);
		json_object_put(s);
		CHECK(m.rates_valid);
		CHECK_INT((long long)(m.events_per_second * 10), 2500);
		CHECK_INT(m.lost_delta, 3);
		/* The daemon restarted: counters went back, no bogus rate. */
		s = status(1.0, 10, 0);
		top_model_add_stats(&m, s, 0);
		json_object_put(s);
		CHECK(!m.rates_valid);
		CHECK(!m.stats.has_throttle && !m.stats.has_splice && !m.stats.has_bpf_cost);
		top_model_fini(&m);
	}
	TEST_CASE("future sections slot in")
	{
		struct top_lines lines;
		bool found = false;

		top_model_init(&m);
		s = json_tokener_parse(
		    "{\"uptime_seconds\":1,\"dirty_throttle\":{\"254:0\":{\"count\":13,"
		    "\"sum_seconds\":0.01,\"buckets\":[0,0,0,0,0,0,0,0,0,0,3,9,1]}},"
		    "\"splice_stalls\":[{\"pid\":9,\"comm\":\"nginx\",\"unit\":null,"
		    "\"call\":\"sendfile\",\"path\":\"/srv/big\",\"duration_seconds\":0.5},"
		    "{\"pid\":8,\"comm\":\"haproxy\",\"unit\":\"haproxy.service\","
		    "\"call\":\"splice\",\"path\":\"pipe\",\"duration_seconds\":2}]}");
		top_model_add_stats(&m, s, 0);
		json_object_put(s);
		CHECK(m.stats.has_throttle);
		CHECK_INT(m.stats.n_throttle, 1);
		CHECK_INT(m.stats.throttle[0].count, 13);
		CHECK_INT(m.stats.n_stalls, 2);
		CHECK_STR(m.stats.stalls[0].comm, "haproxy"); /* worst first */
		CHECK_STR(m.stats.stalls[0].call, "splice");
		CHECK_STR(m.stats.stalls[0].unit, "haproxy.service");
		top_lines_init(&lines);
		top_render_panel(&m, 80, 6, &lines);
		CHECK(lines.n <= 6);
		for (size_t i = 0; i < lines.n; i++)
			found |= strstr(lines.v[i], "254:0") && strstr(lines.v[i], "13 pauses");
		CHECK(found);
		top_lines_free(&lines);
		top_model_fini(&m);
	}
	TEST_CASE("no data panels")
	{
		struct top_lines lines;

		top_model_init(&m);
		top_lines_init(&lines);
		top_render_panel(&m, 80, 6, &lines);
		CHECK_INT(lines.n, 4);
		CHECK(strstr(lines.v[1], "no data") != NULL);
		CHECK(strstr(lines.v[3], "no data") != NULL);
		top_lines_free(&lines);
		top_model_fini(&m);
	}
}

static void test_rendering(void)
{
	struct strbuf sb;
	struct top_model m;

	TEST_CASE("hostile names escaped")
	{
		strbuf_init(&sb);
		top_escape(&sb, "a\nb\x1b[2J\xff\\c");
		CHECK_STR(sb.buf, "a\\x0ab\\x1b[2J\\xff\\\\c");
		strbuf_reset(&sb);
		/* U+202E RIGHT-TO-LEFT OVERRIDE and U+0085 (C1 NEL): valid UTF-8, still hidden. */
		top_escape(&sb, "x\xe2\x80\xae"
				"y\xc2\x85z");
		CHECK_STR(sb.buf, "x\\u202ey\\u0085z");
		strbuf_reset(&sb);
		top_escape(&sb, "caf\xc3\xa9 \xe6\x97\xa5");
		CHECK_STR(sb.buf, "caf\xc3\xa9 \xe6\x97\xa5");
		CHECK_INT(top_width(sb.buf), 7); /* the CJK character is two columns */
		strbuf_free(&sb);
	}
	TEST_CASE("fitting keeps the file name")
	{
		char *path = malloc(4097);

		memset(path, 'd', 4096);
		path[0] = '/';
		memcpy(path + 4096 - 9, "/file.txt", 9);
		path[4096] = '\0';
		strbuf_init(&sb);
		top_put_name(&sb, path, 30, true, true);
		CHECK_INT(top_width(sb.buf), 30);
		CHECK(strncmp(sb.buf, "\xe2\x80\xa6", 3) == 0); /* the ellipsis */
		CHECK(strstr(sb.buf, "/file.txt") != NULL);
		strbuf_reset(&sb);
		top_put_name(&sb, "short", 10, true, true);
		CHECK_STR(sb.buf, "short     ");
		strbuf_reset(&sb);
		top_put_name(&sb, "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 4, false, true);
		CHECK_INT(top_width(sb.buf), 4); /* one wide char, ellipsis, pad */
		strbuf_free(&sb);
		free(path);
	}
	TEST_CASE("80 columns: the PROGRAMS cell cuts the comm, never the pid (issue 13)")
	{
		struct top_columns cols;
		struct top_hazard *const *rows;
		size_t n;

		top_model_init(&m);
		add(&m, "rename-without-dir-fsync", "warning", "/srv/app/config.json", 233,
		    "python3", "nginx.service", 1);
		rows = top_model_rows(&m, &n);
		top_columns_layout(&m, 80, &cols);
		strbuf_init(&sb);
		top_render_row(rows[0], &cols, at(31), &sb);
		CHECK_INT(top_width(sb.buf), 79);
		CHECK(strstr(sb.buf, "[233]") != NULL);
		CHECK(strstr(sb.buf, "python3[233]") != NULL);
		CHECK(strstr(sb.buf, "config.json") != NULL);
		printf("# %s\n", sb.buf);
		/* A long comm and another program: the comm is cut, "[pid] +1" stays. */
		add(&m, "rename-without-dir-fsync", "warning", "/srv/app/config.json", 2331,
		    "a-very-long-comm", NULL, 2);
		rows = top_model_rows(&m, &n);
		top_columns_layout(&m, 80, &cols);
		strbuf_reset(&sb);
		top_render_row(rows[0], &cols, at(31), &sb);
		CHECK_INT(top_width(sb.buf), 79);
		CHECK(strstr(sb.buf, "[2331] +1") != NULL);
		printf("# %s\n", sb.buf);
		strbuf_free(&sb);
		top_model_fini(&m);
	}
	TEST_CASE("rows and frames")
	{
		struct top_columns cols;
		struct top_hazard *const *rows;
		size_t n, frames = 0;
		const char *p;

		top_model_init(&m);
		add(&m, "rename-without-dir-fsync", "warning", "/srv/evil\nname\xef\xbf\xbd", 7,
		    "ev\x1bil", "a.service", 1);
		rows = top_model_rows(&m, &n);
		top_columns_layout(&m, 80, &cols);
		strbuf_init(&sb);
		top_render_row(rows[0], &cols, at(31), &sb);
		CHECK_INT(top_width(sb.buf), 79);
		CHECK(strstr(sb.buf, "WARN rename-without-dir-fsync") == sb.buf);
		CHECK(strstr(sb.buf, "30s") != NULL);
		CHECK(strstr(sb.buf, "ev\\x1bil[7]") != NULL);
		CHECK(strchr(sb.buf, '\n') == NULL && strchr(sb.buf, '\x1b') == NULL);
		strbuf_reset(&sb);
		top_render_frame(&m, "host\x1b", 0, at(31), &sb);
		for (p = sb.buf; (p = strstr(p, "iohazard top - ")); p++)
			frames++;
		CHECK_INT(frames, 1);
		CHECK(strstr(sb.buf, "host\\x1b") != NULL);
		CHECK(strstr(sb.buf, "/srv/evil\\x0aname") != NULL);
		CHECK(strchr(sb.buf, '\x1b') == NULL);
		strbuf_reset(&sb);
		top_render_json(&m, "h", at(31), &sb);
		{
			struct json_object *parsed = json_tokener_parse(sb.buf);

			CHECK(parsed != NULL);
			json_object_put(parsed);
		}
		CHECK(strstr(sb.buf, "\"dirty_throttle\":null") != NULL);
		strbuf_free(&sb);
		top_model_fini(&m);
	}
	TEST_CASE("details in plain words")
	{
		struct top_lines lines;
		bool fix = false;

		top_model_init(&m);
		add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 7, "sed", NULL, 1);
		top_lines_init(&lines);
		top_render_details(top_model_selected(&m), 80, at(2), &lines);
		for (size_t i = 0; i < lines.n; i++) {
			fix |= strstr(lines.v[i], "fsync(2) the directory") != NULL;
			CHECK(top_width(lines.v[i]) <= 80);
		}
		CHECK(fix);
		top_lines_free(&lines);
		top_model_fini(&m);
	}
	TEST_CASE("ages and times")
	{
		char age[16];

		CHECK_INT(top_parse_time("2026-11-21T19:40:01.5Z") - top_parse_time(T0 "1Z"),
			  500000000);
		CHECK_INT(top_parse_time("garbage"), -1);
		top_format_age(age, sizeof(age), at(59), at(1));
		CHECK_STR(age, "58s");
		top_format_age(age, sizeof(age), at(1) + 3600LL * 1000000000, at(1));
		CHECK_STR(age, "60m");
		top_format_age(age, sizeof(age), at(1), INT64_MAX);
		CHECK_STR(age, "-");
	}
}

/* ---- call chains (issue 15) ----------------------------------------------------------------- */

/*
 * Literal evidence.stack JSON in the schema of the daemon's writer (daemon/sinks/
 * finding_format.c stack_json(): module, build_id, offset, function, file, line; innermost
 * first). NULL strings are JSON null.
 */
static struct json_object *frame(const char *module, const char *build_id, uint64_t offset,
				 const char *function, const char *file, unsigned line)
{
	struct json_object *fr = json_object_new_object();

	json_object_object_add(fr, "module", module ? json_object_new_string(module) : NULL);
	json_object_object_add(fr, "build_id", build_id ? json_object_new_string(build_id) : NULL);
	json_object_object_add(fr, "offset", json_object_new_int64((int64_t)offset));
	json_object_object_add(fr, "function", function ? json_object_new_string(function) : NULL);
	json_object_object_add(fr, "file", file ? json_object_new_string(file) : NULL);
	json_object_object_add(fr, "line", json_object_new_int64(line));
	return fr;
}

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define APP "/usr/sbin/mariadbd"
#define APP_BID "3f2a9c0e5b1d7a6e4c8f0b2d9e1a3c5f7b9d0e2a"

/* A finding with a chain: renameat2 in libc, then `function` at `offset` in mariadbd (from
 * /src/config.c:118), then its caller without symbols. status NULL: no chain at all. */
static struct json_object *chained(const char *rule, const char *path, unsigned pid, int sec,
				   const char *status, const char *function, uint64_t offset)
{
	struct json_object *f = finding(rule, "warning", path, pid, "mariadbd", NULL, sec), *ev,
			   *stack;

	json_object_object_get_ex(f, "evidence", &ev);
	json_object_object_add(ev, "directory_fsync", json_object_new_boolean(0));
	if (!status)
		return f;
	json_object_object_add(ev, "stack_status", json_object_new_string(status));
	if (strcmp(status, "omitted") == 0 || strcmp(status, "disabled") == 0)
		return f;
	stack = json_object_new_array();
	json_object_array_add(stack, frame(LIBC, "aa01", 0x4a1f, "renameat2", NULL, 0));
	if (offset) {
		json_object_array_add(stack,
				      frame(APP, APP_BID, offset, function, "/src/config.c", 118));
		json_object_array_add(stack, frame(APP, APP_BID, 0x2200, NULL, NULL, 0));
	}
	json_object_object_add(ev, "stack", stack);
	return f;
}

static int add_chained(struct top_model *m, const char *path, int sec, const char *status,
		       const char *function, uint64_t offset)
{
	struct json_object *f =
	    chained("rename-without-dir-fsync", path, 4242, sec, status, function, offset);
	int r = top_model_add_finding(m, f);

	json_object_put(f);
	return r;
}

static bool lines_have(const struct top_lines *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->v[i], needle))
			return true;
	return false;
}

static void test_callsites(void)
{
	struct top_hazard *const *rows;
	struct top_columns cols;
	struct top_model m;
	struct strbuf sb;
	char path[64];
	size_t n;

	TEST_CASE("102 renames from one call site: one row, 102 files")
	{
		top_model_init(&m);
		for (int i = 0; i < 102; i++) {
			snprintf(path, sizeof(path), "/var/lib/mysql/db/t%d.frm", i);
			CHECK(add_chained(&m, path, i % 60, "ok", "save_config", 0x1139) == 1);
		}
		rows = top_model_rows(&m, &n);
		CHECK_INT(n, 1);
		CHECK_INT(rows[0]->count, 102);
		CHECK_INT(rows[0]->n_files, 102);
		CHECK(!rows[0]->files_more);
		strbuf_init(&sb);
		top_columns_layout(&m, 0, &cols);
		top_render_row(rows[0], &cols, at(59), &sb);
		printf("# %s\n", sb.buf);
		CHECK(strstr(sb.buf, "102 files from save_config (config.c:118) in " APP) != NULL);
		strbuf_reset(&sb);
		top_columns_layout(&m, 80, &cols);
		top_render_row(rows[0], &cols, at(59), &sb);
		printf("# %s\n", sb.buf);
		CHECK_INT(top_width(sb.buf), 79);
		CHECK(strstr(sb.buf, "] 102 files from s") != NULL); /* cut on the right */
		strbuf_reset(&sb);
		top_render_json(&m, "h", at(59), &sb);
		{
			struct json_object *o = json_tokener_parse(sb.buf), *hz, *h, *v, *cs;

			CHECK(o != NULL);
			CHECK(json_object_object_get_ex(o, "hazards", &hz));
			h = json_object_array_get_idx(hz, 0);
			CHECK(json_object_object_get_ex(h, "files", &v) &&
			      json_object_get_int(v) == 102);
			CHECK(json_object_object_get_ex(h, "files_more", &v) &&
			      !json_object_get_boolean(v));
			CHECK(json_object_object_get_ex(h, "callsite", &cs));
			CHECK(json_object_object_get_ex(cs, "function", &v) &&
			      strcmp(json_object_get_string(v), "save_config") == 0);
			CHECK(json_object_object_get_ex(cs, "build_id", &v) &&
			      strcmp(json_object_get_string(v), APP_BID) == 0);
			CHECK(json_object_object_get_ex(cs, "offset", &v) &&
			      json_object_get_int(v) == 0x1139);
			CHECK(json_object_object_get_ex(cs, "site", &v) &&
			      strcmp(json_object_get_string(v),
				     "save_config (config.c:118) in " APP) == 0);
			/* The path: the latest file (i % 60 == 59). */
			CHECK(json_object_object_get_ex(h, "path", &v) &&
			      strcmp(json_object_get_string(v), "/var/lib/mysql/db/t59.frm") == 0);
			json_object_put(o);
		}
		strbuf_free(&sb);
		top_model_fini(&m);
	}
	TEST_CASE("two call sites: two rows; one file: its path")
	{
		top_model_init(&m);
		add_chained(&m, "/srv/a", 1, "ok", "save_config", 0x1139);
		add_chained(&m, "/srv/b", 2, "ok", "save_config", 0x1139);
		add_chained(&m, "/srv/c", 3, "ok", "save_state", 0x1400);
		rows = top_model_rows(&m, &n);
		CHECK_INT(n, 2);
		CHECK_INT(rows[0]->n_files, 1); /* latest first: save_state */
		CHECK_STR(rows[0]->path, "/srv/c");
		CHECK_INT(rows[1]->n_files, 2);
		strbuf_init(&sb);
		top_columns_layout(&m, 0, &cols);
		top_render_row(rows[0], &cols, at(9), &sb);
		/* One file: the row shows the path, as before; the call site is in the details. */
		CHECK(strstr(sb.buf, "/srv/c") && !strstr(sb.buf, "save_state"));
		strbuf_reset(&sb);
		top_render_row(rows[1], &cols, at(9), &sb);
		CHECK(strstr(sb.buf, "2 files from save_config") != NULL);
		/* The same call site under another rule is another hazard. */
		{
			struct json_object *f = chained("rename-unsynced-source", "/srv/a", 4242, 4,
							"ok", "save_config", 0x1139);

			top_model_add_finding(&m, f);
			json_object_put(f);
		}
		top_model_rows(&m, &n);
		CHECK_INT(n, 3);
		strbuf_free(&sb);
		top_model_fini(&m);
	}
	TEST_CASE("no chain outside libc: grouped by rule and path as before")
	{
		top_model_init(&m);
		add_chained(&m, "/srv/a", 1, NULL, NULL, 0);	   /* no user call */
		add_chained(&m, "/srv/b", 2, "omitted", NULL, 0);  /* no chain kept */
		add_chained(&m, "/srv/c", 3, "ok", NULL, 0);	   /* libc frames only */
		add_chained(&m, "/srv/c", 4, "disabled", NULL, 0); /* same path: same row */
		rows = top_model_rows(&m, &n);
		CHECK_INT(n, 3);
		for (size_t i = 0; i < n; i++) {
			CHECK(rows[i]->callsite == NULL);
			CHECK_INT(rows[i]->n_files, 1);
		}
		CHECK_STR(rows[0]->path, "/srv/c");
		CHECK_INT(rows[0]->count, 2);
		strbuf_init(&sb);
		top_render_json(&m, "h", at(9), &sb);
		CHECK(strstr(sb.buf, "\"callsite\":null") != NULL);
		strbuf_free(&sb);
		top_model_fini(&m);
	}
	TEST_CASE("files bounded: N+ files")
	{
		top_model_init(&m);
		for (int i = 0; i < TOP_FILES_MAX + 7; i++) {
			snprintf(path, sizeof(path), "/var/lib/x/%d", i);
			add_chained(&m, path, 1, "ok", "save_config", 0x1139);
		}
		rows = top_model_rows(&m, &n);
		CHECK_INT(n, 1);
		CHECK_INT(rows[0]->n_files, TOP_FILES_MAX);
		CHECK(rows[0]->files_more);
		CHECK_INT(rows[0]->count, TOP_FILES_MAX + 7);
		strbuf_init(&sb);
		top_columns_layout(&m, 0, &cols);
		top_render_row(rows[0], &cols, at(9), &sb);
		CHECK(strstr(sb.buf, "1000+ files from save_config") != NULL);
		strbuf_free(&sb);
		top_model_fini(&m);
	}
	TEST_CASE("hostile function and module names escaped")
	{
		struct json_object *f, *ev, *stack, *fr;
		struct top_lines lines;
		bool raw = false;

		top_model_init(&m);
		for (int i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "/srv/h%d", i);
			f = finding("rename-without-dir-fsync", "warning", path, 7, "x", NULL, i);
			json_object_object_get_ex(f, "evidence", &ev);
			json_object_object_add(ev, "stack_status", json_object_new_string("ok"));
			stack = json_object_new_array();
			fr = frame("/opt/\xe2\x80\xae"
				   "gpj.exe\x1b[2J",
				   "bb", 0x10, "evil\nfn\x1b]0;pwned\x07",
				   "/src/a\xc2\x9b"
				   "b.c",
				   3);
			/* A module name that is not UTF-8: its real bytes in module_bytes. */
			json_object_object_add(
			    fr, "module_bytes",
			    json_object_new_string("2f6f70742fe280ae67706a2e6578651b5b324aff"));
			json_object_array_add(stack, fr);
			json_object_object_add(ev, "stack", stack);
			CHECK_INT(top_model_add_finding(&m, f), 1);
			json_object_put(f);
		}
		rows = top_model_rows(&m, &n);
		CHECK_INT(n, 1);
		strbuf_init(&sb);
		top_columns_layout(&m, 0, &cols);
		top_render_row(rows[0], &cols, at(9), &sb);
		printf("# %s\n", sb.buf);
		CHECK(strstr(sb.buf, "2 files from evil\\x0afn\\x1b]0;pwned\\x07") != NULL);
		CHECK(strstr(sb.buf, "/opt/\\u202egpj.exe\\x1b[2J\\xff") != NULL);
		CHECK(!strchr(sb.buf, '\x1b') && !strchr(sb.buf, '\n') && !strchr(sb.buf, '\a'));
		strbuf_reset(&sb);
		top_render_frame(&m, "h", 0, at(9), &sb);
		CHECK(!strchr(sb.buf, '\x1b') && !strstr(sb.buf, "\xe2\x80\xae"));
		top_lines_init(&lines);
		top_render_details(rows[0], 100, at(9), &lines);
		for (size_t i = 0; i < lines.n; i++) {
			raw |= strchr(lines.v[i], '\x1b') || strchr(lines.v[i], '\a') ||
			       strstr(lines.v[i], "\xe2\x80\xae") || strstr(lines.v[i], "\xc2\x9b");
			CHECK(top_width(lines.v[i]) <= 100);
		}
		CHECK(!raw);
		CHECK(lines_have(&lines, "#0 evil\\x0afn\\x1b]0;pwned\\x07 (/src/a\\u009bb.c:3)"));
		top_lines_free(&lines);
		strbuf_reset(&sb);
		cli_finding_text(rows[0]->latest, &sb);
		printf("# %s\n", sb.buf);
		CHECK(strstr(sb.buf, " at evil\\x0afn\\x1b]0;pwned\\x07 (a\\u009bb.c:3) in "
				     "/opt/\\u202egpj.exe\\x1b[2J\\xff") != NULL);
		CHECK(!strchr(sb.buf, '\x1b') && !strchr(sb.buf, '\n'));
		strbuf_free(&sb);
		top_model_fini(&m);
	}
	TEST_CASE("details list every frame of the chain")
	{
		struct top_lines lines;

		top_model_init(&m);
		add_chained(&m, "/srv/a", 1, "truncated", "save_config", 0x1139);
		add_chained(&m, "/srv/b", 2, "truncated", "save_config", 0x1139);
		top_lines_init(&lines);
		top_render_details(top_model_selected(&m), 160, at(3), &lines);
		for (size_t i = 0; i < lines.n; i++)
			printf("# %s\n", lines.v[i]);
		CHECK(lines_have(&lines, "Call site: save_config (config.c:118) in " APP));
		CHECK(lines_have(&lines, "Files:     2 files from this call site"));
		CHECK(lines_have(&lines, "Call chain"));
		CHECK(lines_have(&lines, "  #0 renameat2 in " LIBC "+0x4a1f [build id aa01]"));
		CHECK(lines_have(&lines, "  #1 save_config (/src/config.c:118) in " APP
					 "+0x1139 [build id " APP_BID "]"));
		/* No symbol: module and offset, no "??". */
		CHECK(lines_have(&lines, "  #2 " APP "+0x2200 [build id " APP_BID "]"));
		CHECK(!lines_have(&lines, "??"));
		CHECK(lines_have(&lines, "  (stack truncated)"));
		/* The chain is not repeated as raw JSON under Evidence. */
		CHECK(!lines_have(&lines, "stack:"));
		CHECK(lines_have(&lines, "directory_fsync: false"));
		top_lines_free(&lines);
		top_model_fini(&m);

		/* A chain the daemon did not keep: said so, nothing made up. */
		top_model_init(&m);
		add_chained(&m, "/srv/a", 1, "omitted", NULL, 0);
		top_lines_init(&lines);
		top_render_details(top_model_selected(&m), 80, at(3), &lines);
		CHECK(lines_have(&lines, "  none (stack omitted)"));
		CHECK(!lines_have(&lines, "Call site:"));
		top_lines_free(&lines);
		top_model_fini(&m);

		/* No user call: no chain section at all. */
		top_model_init(&m);
		add_chained(&m, "/srv/a", 1, NULL, NULL, 0);
		top_lines_init(&lines);
		top_render_details(top_model_selected(&m), 80, at(3), &lines);
		CHECK(!lines_have(&lines, "Call chain"));
		top_lines_free(&lines);
		top_model_fini(&m);
	}
	TEST_CASE("findings text line: the daemon's ' at ...' form")
	{
		static const struct {
			const char *status, *function;
			uint64_t offset;
			const char *tail;
		} cases[] = {
		    {"ok", "save_config", 0x1139,
		     ": renamed without fsync at save_config (config.c:118) in " APP},
		    {"truncated", NULL, 0x1139,
		     ": renamed without fsync at 0x1139 (config.c:118) in " APP},
		    {"ok", NULL, 0, ": renamed without fsync (stack in libc only)"},
		    {"omitted", NULL, 0, ": renamed without fsync (stack omitted)"},
		    {"disabled", NULL, 0, ": renamed without fsync (stack disabled)"},
		    {NULL, NULL, 0, ": renamed without fsync"},
		};

		strbuf_init(&sb);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct json_object *f =
			    chained("rename-without-dir-fsync", "/srv/a", 7, 1, cases[i].status,
				    cases[i].function, cases[i].offset);
			size_t tl = strlen(cases[i].tail);

			strbuf_reset(&sb);
			cli_finding_text(f, &sb);
			printf("# %s\n", sb.buf);
			CHECK(sb.len >= tl && strcmp(sb.buf + sb.len - tl, cases[i].tail) == 0);
			CHECK(strncmp(sb.buf,
				      "2026-11-21T19:40:01.000000001Z warning "
				      "rename-without-dir-fsync pid=7 comm=mariadbd path=/srv/a",
				      70) == 0);
			json_object_put(f);
		}
		strbuf_free(&sb);
	}
}

int main(void)
{
	/* Widths and escaping follow the locale; the tests pin UTF-8. */
	if (!setlocale(LC_ALL, "C.UTF-8"))
		printf("# C.UTF-8 locale missing\n");
	test_aggregation();
	test_sort_filter();
	test_stats();
	test_rendering();
	test_callsites();
	return check_summary();
}
