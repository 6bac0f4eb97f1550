// SPDX-License-Identifier: GPL-2.0-only
/*
 * Metrics: the exposition writer's exact output (counters, gauges, log2 histograms, escaping),
 * its refusal of invalid names, the listen-address parser, and the atomic textfile writer
 * (result readable, no temp file left, a failed write leaves the old file intact).
 * Needs no root; as root, the unwritable-directory case runs in a child that drops to nobody.
 *
 * The module's sources are compiled in here: daemon/metrics is part of the daemon, not of
 * libiohazard.a.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/metrics/exposition.c"
#include "daemon/metrics/http_server.c"
#include "daemon/metrics/textfile.c"
#include "tests/unit/check.h"

static char tmpdir[] = "/tmp/ioh-test-metrics.XXXXXX";

static void test_counter_gauge(void)
{
	struct strbuf sb;
	struct ioh_expo x;

	strbuf_init(&sb);
	ioh_expo_init(&x, &sb);
	CHECK_INT(
	    ioh_expo_family(&x, "iohazard_findings_total", IOH_METRIC_COUNTER, "Hazards found."),
	    0);
	CHECK_INT(ioh_expo_u64(&x, IOH_LABELS({"rule", "r1"}, {"severity", "error"}), 3), 0);
	ioh_expo_u64(&x, IOH_LABELS({"rule", "r2"}, {"severity", "warning"}),
		     18446744073709551615ULL);
	ioh_expo_family(&x, "iohazard_tracked_inodes", IOH_METRIC_GAUGE, "Inodes tracked.");
	ioh_expo_u64(&x, IOH_NO_LABELS, 0);
	ioh_expo_family(&x, "iohazard_bpf_run_seconds_total", IOH_METRIC_COUNTER, "CPU time.");
	ioh_expo_double(&x, IOH_LABELS({"prog", "p"}), 0.1);
	ioh_expo_double(&x, IOH_LABELS({"prog", "q"}), 1.5e-9);
	ioh_expo_double(&x, IOH_LABELS({"prog", "r"}), 3);
	CHECK_STR(sb.buf, "# HELP iohazard_findings_total Hazards found.\n"
			  "# TYPE iohazard_findings_total counter\n"
			  "iohazard_findings_total{rule=\"r1\",severity=\"error\"} 3\n"
			  "iohazard_findings_total{rule=\"r2\",severity=\"warning\"} "
			  "18446744073709551615\n"
			  "# HELP iohazard_tracked_inodes Inodes tracked.\n"
			  "# TYPE iohazard_tracked_inodes gauge\n"
			  "iohazard_tracked_inodes 0\n"
			  "# HELP iohazard_bpf_run_seconds_total CPU time.\n"
			  "# TYPE iohazard_bpf_run_seconds_total counter\n"
			  "iohazard_bpf_run_seconds_total{prog=\"p\"} 0.1\n"
			  "iohazard_bpf_run_seconds_total{prog=\"q\"} 1.5e-09\n"
			  "iohazard_bpf_run_seconds_total{prog=\"r\"} 3\n");
	CHECK_INT(x.errors, 0);
	strbuf_free(&sb);
}

static void test_escaping(void)
{
	struct strbuf sb;
	struct ioh_expo x;

	strbuf_init(&sb);
	ioh_expo_init(&x, &sb);
	ioh_expo_family(&x, "iohazard_x", IOH_METRIC_GAUGE, "Back\\slash, \"quotes\"\nnewline.");
	ioh_expo_u64(&x, IOH_LABELS({"v", "a\\b\"c\nd"}), 1);
	ioh_expo_u64(&x, IOH_LABELS({"v", "caf\xc3\xa9 \xff\xfe ok"}), 2);
	ioh_expo_u64(&x, IOH_LABELS({"v", ""}), 3);
	CHECK_STR(sb.buf, "# HELP iohazard_x Back\\\\slash, \"quotes\"\\nnewline.\n"
			  "# TYPE iohazard_x gauge\n"
			  "iohazard_x{v=\"a\\\\b\\\"c\\nd\"} 1\n"
			  "iohazard_x{v=\"caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd ok\"} 2\n"
			  "iohazard_x{v=\"\"} 3\n");
	strbuf_free(&sb);
}

static void test_histogram(void)
{
	static const uint64_t slots[4] = {1, 0, 5, 2};
	struct strbuf sb;
	struct ioh_expo x;

	strbuf_init(&sb);
	ioh_expo_init(&x, &sb);
	ioh_expo_family(&x, "iohazard_splice_duration_seconds", IOH_METRIC_HISTOGRAM, "Splice.");
	/* 1 us units; 3 values past the last slot: count 11 > 8 in the slots. */
	CHECK_INT(
	    ioh_expo_log2_histogram(&x, IOH_LABELS({"bdi", "8:0"}), slots, 4, 1e-6, 1234567, 11),
	    0);
	/* Slots read racily add up to more than count: +Inf and _count follow the slots. */
	ioh_expo_log2_histogram(&x, IOH_NO_LABELS, slots, 2, 1e-9, 3, 0);
	CHECK_STR(sb.buf, "# HELP iohazard_splice_duration_seconds Splice.\n"
			  "# TYPE iohazard_splice_duration_seconds histogram\n"
			  "iohazard_splice_duration_seconds_bucket{bdi=\"8:0\",le=\"2e-06\"} 1\n"
			  "iohazard_splice_duration_seconds_bucket{bdi=\"8:0\",le=\"4e-06\"} 1\n"
			  "iohazard_splice_duration_seconds_bucket{bdi=\"8:0\",le=\"8e-06\"} 6\n"
			  "iohazard_splice_duration_seconds_bucket{bdi=\"8:0\",le=\"1.6e-05\"} 8\n"
			  "iohazard_splice_duration_seconds_bucket{bdi=\"8:0\",le=\"+Inf\"} 11\n"
			  "iohazard_splice_duration_seconds_sum{bdi=\"8:0\"} 1.234567\n"
			  "iohazard_splice_duration_seconds_count{bdi=\"8:0\"} 11\n"
			  "iohazard_splice_duration_seconds_bucket{le=\"2e-09\"} 1\n"
			  "iohazard_splice_duration_seconds_bucket{le=\"4e-09\"} 1\n"
			  "iohazard_splice_duration_seconds_bucket{le=\"+Inf\"} 1\n"
			  "iohazard_splice_duration_seconds_sum 3e-09\n"
			  "iohazard_splice_duration_seconds_count 1\n");
	CHECK_INT(x.errors, 0);
	strbuf_free(&sb);
}

static void test_rejects(void)
{
	struct strbuf sb;
	struct ioh_expo x;

	strbuf_init(&sb);
	ioh_expo_init(&x, &sb);
	fprintf(stderr, "# the programming errors logged below are expected\n");
	CHECK_INT(ioh_expo_family(&x, "iohazard_findings", IOH_METRIC_COUNTER, "h"), -EINVAL);
	CHECK_INT(ioh_expo_u64(&x, IOH_NO_LABELS, 1), -EINVAL); /* family was rejected */
	CHECK_INT(ioh_expo_family(&x, "iohazard_up_total", IOH_METRIC_GAUGE, "h"), -EINVAL);
	CHECK_INT(ioh_expo_family(&x, "iohazardFindings_total", IOH_METRIC_COUNTER, "h"), -EINVAL);
	CHECK_INT(ioh_expo_family(&x, "iohazard:x_total", IOH_METRIC_COUNTER, "h"), -EINVAL);
	CHECK_INT(ioh_expo_family(&x, "9lives_total", IOH_METRIC_COUNTER, "h"), -EINVAL);
	CHECK_INT(ioh_expo_family(&x, "iohazard_h_count", IOH_METRIC_HISTOGRAM, "h"), -EINVAL);
	CHECK_INT(ioh_expo_family(&x, "iohazard_nohelp", IOH_METRIC_GAUGE, ""), -EINVAL);
	CHECK_INT(ioh_expo_family(&x, "iohazard_g", IOH_METRIC_GAUGE, "h"), 0);
	CHECK_INT(ioh_expo_u64(&x, IOH_LABELS({"bad-name", "v"}), 1), -EINVAL);
	CHECK_INT(ioh_expo_u64(&x, IOH_LABELS({"__reserved", "v"}), 1), -EINVAL);
	CHECK_INT(ioh_expo_u64(&x, IOH_LABELS({"a", "1"}, {"a", "2"}), 1), -EINVAL);
	CHECK_INT(ioh_expo_u64(&x, IOH_LABELS({"a", NULL}), 1), -EINVAL);
	CHECK_INT(ioh_expo_log2_histogram(&x, IOH_NO_LABELS, NULL, 0, 1e-9, 0, 0), -EINVAL);
	CHECK_INT(ioh_expo_family(&x, "iohazard_g", IOH_METRIC_GAUGE, "h"), -EINVAL); /* twice */
	CHECK_INT(ioh_expo_family(&x, "iohazard_h_seconds", IOH_METRIC_HISTOGRAM, "h"), 0);
	CHECK_INT(ioh_expo_log2_histogram(&x, IOH_LABELS({"le", "1"}), NULL, 0, 1e-9, 0, 0),
		  -EINVAL);
	CHECK_INT(ioh_expo_log2_histogram(&x, IOH_NO_LABELS, NULL, 0, 0.0, 0, 0), -EINVAL);
	CHECK_INT(ioh_expo_u64(&x, IOH_NO_LABELS, 1), -EINVAL); /* plain sample in histogram */
	/* Only the two accepted families' HELP/TYPE lines, no samples, no half lines. */
	CHECK_STR(sb.buf, "# HELP iohazard_g h\n# TYPE iohazard_g gauge\n"
			  "# HELP iohazard_h_seconds h\n# TYPE iohazard_h_seconds histogram\n");
	CHECK_INT(x.errors, 17);
	strbuf_free(&sb);
}

static void test_doubles(void)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
	    {0, "0"},	    {0.1, "0.1"},      {1e-9, "1e-09"}, {123456.789, "123456.789"},
	    {-2.5, "-2.5"}, {1e300, "1e+300"},
	};
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		ioh_expo_put_double(&sb, cases[i].v);
		CHECK_STR(sb.buf, cases[i].s);
	}
	strbuf_reset(&sb);
	ioh_expo_put_double(&sb, NAN);
	CHECK_STR(sb.buf, "NaN");
	strbuf_reset(&sb);
	ioh_expo_put_double(&sb, -INFINITY);
	CHECK_STR(sb.buf, "-Inf");
	strbuf_free(&sb);
}

static void test_listen(void)
{
	static const char *const good[] = {"127.0.0.1:9478", ":9478", "[::1]:9478", "0.0.0.0:0",
					   "[::]:65535"};
	static const char *const bad[] = {
	    "",		"9478",	    "localhost:9478", "::1:9478",   "[::1]",
	    "[::1]:",	"1.2.3.4:", "1.2.3.4:65536",  "1.2.3.4:-1", "1.2.3.4:+80",
	    "127.1:80", "[x]:80",   "1.2.3.4:80 ",    ":0x50",	    "[]:80"};
	struct sockaddr_storage ss;
	unsigned len;
	int any;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_INT(ioh_metrics_parse_listen(good[i], &ss, &len, &any), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_case = bad[i];
		CHECK_INT(ioh_metrics_parse_listen(bad[i], &ss, &len, &any), -EINVAL);
	}
	check_case = "listen";
	ioh_metrics_parse_listen(":9478", &ss, &len, &any);
	CHECK(any == 1 && ss.ss_family == AF_INET6 &&
	      ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == 9478);
	ioh_metrics_parse_listen("10.1.2.3:80", &ss, &len, &any);
	CHECK(any == 0 && ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in));
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int count_fds(void)
{
	return count_entries("/proc/self/fd");
}

/* As root, permissions do not stop us: the write runs in a child that became nobody. */
static int write_as_unprivileged(const char *path, const char *data)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(100);
		_exit(-ioh_metrics_write_textfile(path, data, strlen(data)));
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

static void test_textfile(void)
{
	char dir[256], path[300], ro[256], ropath[300], *s;
	int fds = count_fds();
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/tf", tmpdir);
	snprintf(path, sizeof(path), "%s/iohazard.prom", dir);
	mkdir(dir, 0755);
	CHECK_INT(ioh_metrics_write_textfile(path, "a 1\n", 4), 0);
	s = slurp(path);
	CHECK_STR(s, "a 1\n");
	free(s);
	CHECK_INT(ioh_metrics_write_textfile(path, "b 2\n", 4), 0);
	s = slurp(path);
	CHECK_STR(s, "b 2\n");
	free(s);
	CHECK_INT(count_entries(dir), 1); /* no temp files left */
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK_INT(ioh_metrics_write_textfile(path, "", 0), 0);
	CHECK(stat(path, &st) == 0 && st.st_size == 0);

	/* A directory in the way: the rename fails after the temp file was written; the temp
	 * file must go and the directory stay. */
	snprintf(ropath, sizeof(ropath), "%s/blocked.prom", dir);
	mkdir(ropath, 0755);
	snprintf(ro, sizeof(ro), "%s/blocked.prom/x", dir);
	mkdir(ro, 0755);
	CHECK(ioh_metrics_write_textfile(ropath, "c 3\n", 4) < 0);
	CHECK_INT(count_entries(dir), 2);

	/* Unwritable directory: the old file is intact, nothing else appears. */
	snprintf(ro, sizeof(ro), "%s/ro", tmpdir);
	snprintf(ropath, sizeof(ropath), "%s/iohazard.prom", ro);
	mkdir(ro, 0755);
	CHECK_INT(ioh_metrics_write_textfile(ropath, "old 1\n", 6), 0);
	chmod(ro, 0555);
	CHECK_INT(write_as_unprivileged(ropath, "new 2\n"), -EACCES);
	s = slurp(ropath);
	CHECK_STR(s, "old 1\n");
	free(s);
	CHECK_INT(count_entries(ro), 1);
	chmod(ro, 0755);

	CHECK_INT(ioh_metrics_write_textfile(dir, "x", 1) < 0, 1); /* a directory */
	CHECK_INT(ioh_metrics_write_textfile("", "x", 1), -EINVAL);
	CHECK_INT(ioh_metrics_write_textfile("/nonexistent-dir/x.prom", "x", 1), -ENOENT);
	CHECK_INT(count_fds(), fds); /* no descriptor leaked on any path */
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	/* tmpdir itself must be enterable by nobody for the unprivileged child. */
	chmod(tmpdir, 0755);
	TEST_CASE("counter and gauge") test_counter_gauge();
	TEST_CASE("escaping") test_escaping();
	TEST_CASE("histogram") test_histogram();
	TEST_CASE("invalid names") test_rejects();
	TEST_CASE("doubles") test_doubles();
	TEST_CASE("listen") test_listen();
	TEST_CASE("textfile") test_textfile();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", tmpdir);
	}
	return check_summary();
}
