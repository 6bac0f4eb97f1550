// SPDX-License-Identifier: GPL-2.0-only
/* The `iohazard top` model and its text rendering, without a terminal or a daemon. */
#include <json-c/json.h>
#include <locale.h>
#include <stdlib.h>

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
			      "nginx.service", 1), 1);
		CHECK_INT(add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 11, "cp", NULL,
			      5), 1);
		CHECK_INT(add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 10, "sed",
			      "nginx.service", 3), 1);
		/* Same finding again (backlog and stream overlap): dropped. */
		CHECK_INT(add(&m, "rename-without-dir-fsync", "warning", "/srv/a", 10, "sed",
			      "nginx.service", 3), 0);
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
		top_escape(&sb, "x\xe2\x80\xae" "y\xc2\x85z");
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

int main(void)
{
	/* Widths and escaping follow the locale; the tests pin UTF-8. */
	if (!setlocale(LC_ALL, "C.UTF-8"))
		printf("# C.UTF-8 locale missing\n");
	test_aggregation();
	test_sort_filter();
	test_stats();
	test_rendering();
	return check_summary();
}
