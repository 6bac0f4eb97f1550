// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding output: the JSON object has exactly design.md's keys in its order and parses back
 * with json-c; hostile names (control characters, invalid UTF-8) always give valid JSON and a
 * terminal-safe text line; wall-clock time from the monotonic time and the offset; the unit
 * derived from the cgroup path.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "daemon/sinks/finding_format.h"
#include "daemon/util/duration.h"
#include "daemon/util/fsnames.h"
#include "daemon/util/jsonw.h"
#include "daemon/util/strbuf.h"
#include "tests/unit/check.h"

#define SEC 1000000000ull

static const char *const design_keys[] = {"time", "rule",   "severity", "confidence", "pid",
					  "comm", "unit",   "cgroup",	"dev",	      "ino",
					  "path", "fstype", "message",	"fix",	      "evidence"};
#define N_KEYS (sizeof(design_keys) / sizeof(design_keys[0]))

static void sample(struct ioh_finding *f)
{
	memset(f, 0, sizeof(*f));
	f->ts_ns = 1 * SEC + 123456789;
	f->rule = "rename-without-dir-fsync";
	f->severity = IOH_SEV_WARNING;
	f->pid = 4242;
	strcpy(f->comm, "sed");
	f->cgroup = "/system.slice/nginx.service";
	f->file = (struct ioh_file_id){.dev = ioh_kdev_make(254, 0), .ino = 1234567};
	f->path = "/srv/app/config.json";
	f->fstype = "ext4";
	snprintf(f->message, sizeof(f->message),
		 "renamed into /srv/app but the directory was not fsynced within 5s");
	f->fix = "fsync(2) the parent directory after rename(2)";
	ioh_finding_add_str(f, "old_path", "/srv/app/.config.json.tmp");
	ioh_finding_add_bool(f, "file_fsynced", true);
	ioh_finding_add_uint(f, "directory_ino", 42);
	ioh_finding_add_int(f, "delta", -3);
	ioh_finding_add_duration(f, "window", 5 * SEC);
	ioh_finding_add_duration(f, "short", 1500000);
	ioh_finding_add_str(f, "absent", NULL);
}

/* 2026-11-21T19:40:00Z minus 1s: the sample's time then prints as 19:40:00.123456789. */
#define OFFSET ((int64_t)1795290000 * (int64_t)SEC - (int64_t)SEC)

static char *json_of(const struct ioh_finding *f, int64_t offset)
{
	struct strbuf sb;
	char *s;

	strbuf_init(&sb);
	ioh_finding_json(f, offset, &sb);
	s = strdup(sb.buf ? sb.buf : "");
	strbuf_free(&sb);
	return s;
}

static char *text_of(const struct ioh_finding *f, int64_t offset)
{
	struct strbuf sb;
	char *s;

	strbuf_init(&sb);
	ioh_finding_text(f, offset, &sb);
	s = strdup(sb.buf ? sb.buf : "");
	strbuf_free(&sb);
	return s;
}

static void test_json_shape(void)
{
	TEST_CASE("finding JSON: exact bytes")
	{
		struct ioh_finding f;
		char *s;

		sample(&f);
		s = json_of(&f, OFFSET);
		CHECK_STR(s,
			  "{\"time\":\"2026-11-21T19:40:00.123456789Z\","
			  "\"rule\":\"rename-without-dir-fsync\",\"severity\":\"warning\","
			  "\"confidence\":\"high\",\"pid\":4242,\"comm\":\"sed\","
			  "\"unit\":\"nginx.service\",\"cgroup\":\"/system.slice/nginx.service\","
			  "\"dev\":\"254:0\",\"ino\":1234567,\"path\":\"/srv/app/config.json\","
			  "\"fstype\":\"ext4\",\"message\":\"renamed into /srv/app but the "
			  "directory was not fsynced within 5s\",\"fix\":\"fsync(2) the parent "
			  "directory after rename(2)\",\"evidence\":{\"old_path\":\"/srv/app/"
			  ".config.json.tmp\",\"file_fsynced\":true,\"directory_ino\":42,"
			  "\"delta\":-3,\"window\":5,\"short\":0.0015,\"absent\":null}}");
		free(s);
	}

	TEST_CASE("finding JSON: parses back, design.md keys in order")
	{
		struct ioh_finding f;
		struct json_object *o, *v, *ev;
		unsigned i = 0;
		bool order_ok = true;
		char *s;

		sample(&f);
		f.degraded = true;
		f.severity = IOH_SEV_CRITICAL;
		s = json_of(&f, OFFSET);
		o = json_tokener_parse(s);
		CHECK(o != NULL && json_object_is_type(o, json_type_object));
		if (!o) {
			free(s);
			break;
		}
		json_object_object_foreach(o, key, val)
		{
			(void)val;
			if (i >= N_KEYS || strcmp(key, design_keys[i]) != 0)
				order_ok = false;
			i++;
		}
		CHECK(order_ok);
		CHECK_INT(i, N_KEYS);
		CHECK(json_object_object_get_ex(o, "pid", &v) &&
		      json_object_is_type(v, json_type_int));
		CHECK_INT(json_object_get_int64(v), 4242);
		CHECK(json_object_object_get_ex(o, "ino", &v));
		CHECK_INT(json_object_get_int64(v), 1234567);
		CHECK(json_object_object_get_ex(o, "confidence", &v));
		CHECK_STR(json_object_get_string(v), "degraded");
		CHECK(json_object_object_get_ex(o, "severity", &v));
		CHECK_STR(json_object_get_string(v), "critical");
		CHECK(json_object_object_get_ex(o, "evidence", &ev) &&
		      json_object_is_type(ev, json_type_object));
		CHECK(json_object_object_get_ex(ev, "window", &v) &&
		      json_object_is_type(v, json_type_int));
		CHECK(json_object_object_get_ex(ev, "short", &v) &&
		      json_object_get_double(v) == 0.0015);
		CHECK(json_object_object_get_ex(ev, "file_fsynced", &v) &&
		      json_object_get_boolean(v));
		json_object_put(o);
		free(s);
	}

	TEST_CASE("finding JSON: unknowns are null, no evidence is {}")
	{
		struct ioh_finding f;
		struct json_object *o, *v;
		char *s;

		sample(&f);
		f.cgroup = NULL;
		f.fstype = NULL;
		f.path = NULL;
		f.n_evidence = 0;
		s = json_of(&f, OFFSET);
		CHECK(strstr(s, "\"unit\":null,\"cgroup\":null,") != NULL);
		CHECK(strstr(s, "\"path\":null,\"fstype\":null,") != NULL);
		CHECK(strstr(s, "\"evidence\":{}}") != NULL);
		o = json_tokener_parse(s);
		CHECK(o != NULL);
		CHECK(json_object_object_get_ex(o, "unit", &v) && v == NULL);
		json_object_put(o);
		free(s);

		/* cgroup "/" belongs to no unit. */
		sample(&f);
		f.cgroup = "/";
		s = json_of(&f, OFFSET);
		CHECK(strstr(s, "\"unit\":null,\"cgroup\":\"/\",") != NULL);
		free(s);
	}

	TEST_CASE("finding JSON inside a writer: commas between objects")
	{
		struct ioh_finding f;
		struct strbuf sb;
		struct jsonw w;
		struct json_object *o;

		sample(&f);
		strbuf_init(&sb);
		jsonw_init(&w, &sb);
		jsonw_arr_begin(&w);
		ioh_finding_jsonw(&f, 0, &w);
		ioh_finding_jsonw(&f, 0, &w);
		jsonw_arr_end(&w);
		o = json_tokener_parse(sb.buf);
		CHECK(o != NULL && json_object_is_type(o, json_type_array));
		CHECK_INT(o ? json_object_array_length(o) : 0, 2);
		json_object_put(o);
		strbuf_free(&sb);
	}
}

static void test_json_escaping(void)
{
	TEST_CASE("JSON escapes control characters, quotes, backslashes")
	{
		struct ioh_finding f;
		struct json_object *o, *v;
		const char *path = "/srv/\"q\"\\b\n\r\t\x01\x1f\x7f/end";
		char *s;

		sample(&f);
		f.path = path;
		strcpy(f.comm, "a\x1b[1m");
		s = json_of(&f, OFFSET);
		CHECK(
		    strstr(s,
			   "\"path\":\"/srv/\\\"q\\\"\\\\b\\n\\r\\t\\u0001\\u001f\\u007f/end\"") !=
		    NULL);
		CHECK(strstr(s, "\"comm\":\"a\\u001b[1m\"") != NULL);
		o = json_tokener_parse(s);
		CHECK(o != NULL);
		CHECK(json_object_object_get_ex(o, "path", &v));
		/* Lossless for valid UTF-8 (compared quietly: the bytes would garble the log). */
		CHECK(strcmp(json_object_get_string(v), path) == 0);
		json_object_put(o);
		free(s);
	}

	TEST_CASE("JSON: invalid UTF-8 becomes U+FFFD, valid multibyte is kept")
	{
		static const struct {
			const char *in;
			const char *out;
		} cases[] = {
		    {"\xff", "\\ufffd"},
		    {"a\xc3\xa9z", "a\xc3\xa9z"},			  /* é */
		    {"\xe2\x80\xa6", "\xe2\x80\xa6"},			  /* … */
		    {"\xf0\x9f\x92\xa9", "\xf0\x9f\x92\xa9"},		  /* U+1F4A9 */
		    {"\xc3\x28", "\\ufffd("},				  /* bad continuation */
		    {"\xc0\xaf", "\\ufffd\\ufffd"},			  /* overlong '/' */
		    {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},		  /* surrogate */
		    {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* > U+10FFFF */
		    {"\xe2\x80", "\\ufffd\\ufffd"},			  /* cut short */
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct strbuf sb;
			char expect[128];
			struct json_object *o;

			strbuf_init(&sb);
			json_escape(&sb, cases[i].in, strlen(cases[i].in));
			snprintf(expect, sizeof(expect), "\"%s\"", cases[i].out);
			CHECK_STR(sb.buf, expect);
			o = json_tokener_parse(sb.buf);
			CHECK(o != NULL && json_object_is_type(o, json_type_string));
			json_object_put(o);
			strbuf_free(&sb);
		}
	}

	TEST_CASE("JSON: a hostile finding still parses")
	{
		struct ioh_finding f;
		struct json_object *o;
		char *s;

		sample(&f);
		f.path = "\xff\xfe\x00";
		f.cgroup = "/system.slice/\xff\n.service";
		strcpy(f.comm, "\x80\x81\x82");
		snprintf(f.message, sizeof(f.message), "renamed over \x01\xc0\xaf");
		f.n_evidence = 0;
		ioh_finding_add_str(&f, "old_path", "\"},{\"x\":1");
		s = json_of(&f, OFFSET);
		o = json_tokener_parse(s);
		CHECK(o != NULL);
		CHECK(strstr(s, "\"unit\":\"\\ufffd\\n.service\"") != NULL);
		CHECK(strstr(s, "\"old_path\":\"\\\"},{\\\"x\\\":1\"") != NULL);
		json_object_put(o);
		free(s);
	}

	TEST_CASE("JSON: a name that is not UTF-8 keeps its bytes in <key>_bytes (hex)")
	{
		struct ioh_finding f;
		struct json_object *o, *v;
		char *s;

		sample(&f);
		f.path = "/srv/bad\xff\xfename";
		strcpy(f.comm, "ok");
		ioh_finding_add_str(&f, "old_path", "/srv/.tmp\x80");
		s = json_of(&f, OFFSET);
		o = json_tokener_parse(s);
		CHECK(o != NULL);
		CHECK(strstr(s, "\"path\":\"/srv/bad\\ufffd\\ufffdname\",\"path_bytes\":"
				"\"2f7372762f626164fffe6e616d65\",\"fstype\"") != NULL);
		CHECK(strstr(s, "\"old_path_bytes\":\"2f7372762f2e746d7080\"") != NULL);
		/* Valid names get no extra key. */
		CHECK(o && !json_object_object_get_ex(o, "comm_bytes", &v));
		json_object_put(o);
		free(s);
		sample(&f);
		s = json_of(&f, OFFSET);
		CHECK(strstr(s, "_bytes") == NULL);
		free(s);
	}
}

static void test_text(void)
{
	TEST_CASE("text line: exact form")
	{
		struct ioh_finding f;
		char *s;

		sample(&f);
		s = text_of(&f, OFFSET);
		CHECK_STR(s, "2026-11-21T19:40:00.123456789Z warning rename-without-dir-fsync "
			     "pid=4242 comm=sed unit=nginx.service path=/srv/app/config.json: "
			     "renamed into /srv/app but the directory was not fsynced within 5s "
			     "-- fix: fsync(2) the parent directory after rename(2)");
		free(s);

		f.degraded = true;
		f.cgroup = NULL;
		f.path = NULL;
		f.fix = NULL;
		s = text_of(&f, OFFSET);
		CHECK_STR(s, "2026-11-21T19:40:00.123456789Z warning rename-without-dir-fsync "
			     "(degraded) pid=4242 comm=sed path=?: renamed into /srv/app but the "
			     "directory was not fsynced within 5s -- fix: ");
		free(s);
	}

	TEST_CASE("text line escapes control characters and invalid UTF-8")
	{
		struct ioh_finding f;
		char *s;

		sample(&f);
		f.path = "/srv/a\nb\x1b[2J\\c\xff\xc3\xa9";
		strcpy(f.comm, "x\ty");
		snprintf(f.message, sizeof(f.message), "m\r");
		s = text_of(&f, OFFSET);
		CHECK(strstr(s, " comm=x\\x09y ") != NULL);
		CHECK(strstr(s, " path=/srv/a\\x0ab\\x1b[2J\\\\c\\xff\xc3\xa9: m\\x0d -- ") !=
		      NULL);
		/* Nothing a terminal would interpret is left. */
		CHECK(strpbrk(s, "\n\r\t\x1b") == NULL);
		free(s);
	}

	TEST_CASE("text line escapes C1 controls and bidi overrides (issue 13)")
	{
		struct ioh_finding f;
		char *s;

		sample(&f);
		/* U+009B is CSI for a terminal; U+202E turns "fdp.exe" around. */
		f.path = "/srv/\xc2\x9b"
			 "2Jx\xe2\x80\xae"
			 "fdp.exe\xe2\x81\xa6\xef\xbb\xbf\xc3\xa9";
		snprintf(f.message, sizeof(f.message), "renamed to %s", f.path);
		s = text_of(&f, OFFSET);
		CHECK(strstr(s,
			     " path=/srv/\\u009b2Jx\\u202efdp.exe\\u2066\\ufeff\xc3\xa9: renamed "
			     "to /srv/\\u009b2Jx\\u202e") != NULL);
		CHECK(strstr(s, "\xc2\x9b") == NULL && strstr(s, "\xe2\x80\xae") == NULL);
		free(s);
	}
}

static void test_time(void)
{
	TEST_CASE("time formatting")
	{
		char buf[64];

		ioh_format_time(0, 0, buf, sizeof(buf));
		CHECK_STR(buf, "1970-01-01T00:00:00.000000000Z");
		ioh_format_time(5 * SEC + 7, 0, buf, sizeof(buf));
		CHECK_STR(buf, "1970-01-01T00:00:05.000000007Z");
		/* Monotonic 100s, recording started with realtime - monotonic = 2000-01-01. */
		ioh_format_time(100 * SEC + 999999999, (int64_t)946684800 * (int64_t)SEC, buf,
				sizeof(buf));
		CHECK_STR(buf, "2000-01-01T00:01:40.999999999Z");
		/* Leap day, and a negative offset (realtime behind monotonic). */
		ioh_format_time(1709164800ull * SEC + 3600 * SEC, -3600 * (int64_t)SEC, buf,
				sizeof(buf));
		CHECK_STR(buf, "2024-02-29T00:00:00.000000000Z");
		ioh_format_time(1 * SEC, -2 * (int64_t)SEC, buf, sizeof(buf));
		CHECK_STR(buf, "invalid");
	}
}

static void test_durations(void)
{
	TEST_CASE("durations for people: two digits below 10 of a unit, the unit chosen rounded")
	{
		static const struct {
			uint64_t ns;
			const char *text;
		} cases[] = {
		    {0, "0ns"},
		    {850, "850ns"},
		    {999, "999ns"},
		    {1000, "1µs"},
		    {22400, "22µs"}, /* the 2.24e-05s of issue 13 */
		    {1500, "1.5µs"},
		    {999700, "1ms"}, /* not "1000µs" */
		    {340 * 1000000ull, "340ms"},
		    {1400 * 1000000ull, "1.4s"},
		    {5 * SEC, "5s"},
		    {59 * SEC, "59s"},
		    {59600 * 1000000ull, "1min"},
		    {180 * SEC, "3min"},
		    {90 * SEC, "1.5min"},
		    {9000 * SEC, "2.5h"},
		    {3 * 86400 * SEC, "3d"},
		    {400 * 86400 * SEC, "400d"},
		};
		char buf[IOH_DURATION_STR_MAX];

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			CHECK_STR(ioh_format_duration(cases[i].ns, buf, sizeof(buf)),
				  cases[i].text);
		CHECK_STR(ioh_format_duration(UINT64_MAX, buf, sizeof(buf)), "213504d");
	}
}

static void test_units(void)
{
	TEST_CASE("unit from cgroup path")
	{
		static const struct {
			const char *cgroup;
			const char *unit;
		} cases[] = {
		    {"/system.slice/nginx.service", "nginx.service"},
		    {"/user.slice/user-0.slice/session-3.scope", "session-3.scope"},
		    {"/system.slice/app.service/worker", "app.service"},
		    {"/system.slice/docker-abc.scope/init", "docker-abc.scope"},
		    {"/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service"},
		    {"/system.slice/sshd.socket", "sshd.socket"},
		    {"/user.slice/user-1000.slice", "user-1000.slice"},
		    {"/init.scope", "init.scope"},
		    {"/machine/qemu-1", ""},
		    {"/", ""},
		    {"", ""},
		    {"//system.slice//cron.service/", "cron.service"},
		    {"/a.servicex/b", ""},
		};
		char unit[64];

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			ioh_unit_from_cgroup(cases[i].cgroup, unit, sizeof(unit));
			CHECK_STR(unit, cases[i].unit);
		}
		ioh_unit_from_cgroup(NULL, unit, sizeof(unit));
		CHECK_STR(unit, "");
		/* Cut to the buffer, still terminated. */
		ioh_unit_from_cgroup("/system.slice/averyveryverylongname.service", unit, 8);
		CHECK_STR(unit, "averyve");
	}
}

int main(void)
{
	test_json_shape();
	test_json_escaping();
	test_text();
	test_time();
	test_durations();
	test_units();
	return check_summary();
}
