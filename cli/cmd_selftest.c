// SPDX-License-Identifier: GPL-2.0-only
/*
 * `iohazard selftest`: a canary operators can run from a timer. It performs each hazard's
 * pattern in a scratch directory on a persistent filesystem, in child processes with a
 * per-run name (so the daemon's rate limiting never hides a run), and checks that the running
 * daemon reports each one, by following its finding stream. The result goes back to the
 * daemon, which exposes iohazard_selftest_last_success{rule}.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "daemon/rules/rules.h"
#include "daemon/util/fsnames.h"
#include "daemon/util/timeops.h"

#define DEFAULT_DIR "/var/lib/iohazard/selftest"

/* A rule that must be reported, and for which child. */
struct check {
	const char *rule;
	const char *order; /* for mixed-direct-buffered: the evidence.order expected, or NULL */
	pid_t pid;	   /* the child that must be named (the second one for pairs) */
	bool seen;
};

static void set_comm(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

static int write_file(const char *path, const void *buf, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | flags, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* write-to-temp + rename, no fsync at all: rename-unsynced-source and (5 s later)
 * rename-without-dir-fsync. */
static int run_rename(const char *dir, const char *name)
{
	char tmp[4096], dst[4096];

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(dst, sizeof(dst), "%s/%s.conf", dir, name);
	if (write_file(tmp, "selftest\n", 9, 0) < 0 || rename(tmp, dst) < 0)
		return -errno;
	return 0;
}

/*
 * mixed-direct-buffered, "direct write, then buffered read", the way the detector defines it
 * (bpf/mixed_io.bpf.h, docs/hazards.md): the O_DIRECT writer keeps its fd open while another
 * process reads the same file through the page cache. A writer that closes first has ended
 * its side (its writes completed and the kernel invalidated the cached range), which is
 * rightly not reported. The writer writes, says so on `ready`, and holds the fd until `done`
 * reaches EOF (the parent closes it once the reader has finished).
 */
static int run_mixed_writer(const char *path, int ready, int done)
{
	char *buf, byte;
	int fd, r = 0;

	if (posix_memalign((void **)&buf, 4096, 4096))
		return -ENOMEM;
	memset(buf, 'x', 4096);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
	if (fd < 0 || write(fd, buf, 4096) != 4096)
		r = -EIO;
	free(buf);
	if (write(ready, r < 0 ? "e" : "w", 1) != 1 && r == 0)
		r = -EIO;
	/* Hold the O_DIRECT side open until the buffered reader is done. */
	while (read(done, &byte, 1) < 0 && errno == EINTR)
		;
	if (fd >= 0)
		close(fd);
	return r;
}

static int run_mixed_reader(const char *dir, const char *name)
{
	char path[4096], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)!read(fd, buf, sizeof(buf));
	close(fd);
	return 0;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static pid_t spawn(int (*fn)(const char *, const char *), const char *dir, const char *name)
{
	pid_t pid = fork();

	if (pid == 0) {
		set_comm(name);
		_exit(fn(dir, name) < 0 ? 1 : 0);
	}
	return pid;
}

/* The O_DIRECT writer of run_mixed_writer; returns once it has written (or failed), with
 * *done_fd the pipe end whose close lets it close its fd and exit. */
static pid_t spawn_mixed_writer(const char *dir, const char *name, int *done_fd)
{
	char path[4096], byte = 'e';
	int ready[2], done[2];
	pid_t pid;

	*done_fd = -1;
	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(done, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(done[1]);
		set_comm(name);
		_exit(run_mixed_writer(path, ready[1], done[0]) < 0 ? 1 : 0);
	}
	close(ready[1]);
	close(done[0]);
	if (pid > 0)
		while (read(ready[0], &byte, 1) < 0 && errno == EINTR)
			;
	close(ready[0]);
	if (pid < 0 || byte != 'w') {
		close(done[1]);
		return pid < 0 ? -1 : pid; /* wait_child reports the failure */
	}
	*done_fd = done[1];
	return pid;
}

static int wait_child(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -ECHILD;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static void match_finding(struct check *checks, size_t n, struct json_object *f)
{
	struct json_object *rule, *pid, *ev, *order;

	if (!json_object_object_get_ex(f, "rule", &rule) ||
	    !json_object_object_get_ex(f, "pid", &pid))
		return;
	for (size_t i = 0; i < n; i++) {
		if (checks[i].seen || strcmp(json_object_get_string(rule), checks[i].rule) != 0 ||
		    json_object_get_int64(pid) != checks[i].pid)
			continue;
		if (checks[i].order &&
		    (!json_object_object_get_ex(f, "evidence", &ev) ||
		     !json_object_object_get_ex(ev, "order", &order) ||
		     strcmp(json_object_get_string(order), checks[i].order) != 0))
			continue;
		checks[i].seen = true;
	}
}

/* Follow the subscription until every check is seen or the deadline passes. */
static void collect(struct api_conn *c, struct check *checks, size_t n, double deadline)
{
	for (;;) {
		double left = deadline - ioh_clock_ns(CLOCK_MONOTONIC) / 1e9;
		struct json_object *msg = NULL, *f;
		size_t done = 0;
		int r;

		for (size_t i = 0; i < n; i++)
			done += checks[i].seen;
		if (done == n || left <= 0)
			return;
		r = api_next(c, (int)(left * 1000) + 1, &msg);
		if (r == -EBADMSG || r == -ETIMEDOUT)
			continue;
		if (r < 0)
			return;
		if (json_object_object_get_ex(msg, "finding", &f))
			match_finding(checks, n, f);
		json_object_put(msg);
	}
}

static void send_results(struct cli *cli, struct check *checks, size_t n)
{
	struct json_object *req = json_object_new_object(), *res = json_object_new_object();
	struct json_object *reply = NULL;
	int fd = api_connect(cli->socket_path);

	for (size_t i = 0; i < n; i++) {
		struct json_object *prev;

		/* A rule checked twice passes only if every check passed. */
		if (json_object_object_get_ex(res, checks[i].rule, &prev) &&
		    !json_object_get_boolean(prev))
			continue;
		json_object_object_add(res, checks[i].rule,
				       json_object_new_boolean(checks[i].seen));
	}
	json_object_object_add(req, "results", res);
	if (fd >= 0) {
		api_call(fd, "selftest_result", req, 5000, &reply);
		close(fd);
	}
	json_object_put(reply);
	json_object_put(req);
}

/* Returns CLI_GO_ON, or the exit code (after --help or a usage error). */
static int parse_selftest_opts(struct cli *cli, int argc, char **argv, const char **dir)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "jd:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'd':
			*dir = optarg;
			break;
		case 'h':
			printf("Usage: iohazard selftest [-j] [--dir DIR]\n"
			       "  Performs each hazard's pattern in DIR (default " DEFAULT_DIR ",\n"
			       "  must be on a persistent filesystem) and checks that the running\n"
			       "  daemon reports it. Exit 0 when every check passed, 1 otherwise.\n"
			       "  Takes a little over the rename window (5 s by default).\n");
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(cli, argv, "selftest");
		}
	}
	if (optind < argc)
		return cli_extra_args(cli, argc, argv, "selftest");
	return CLI_GO_ON;
}

/* Connects and subscribes to findings before anything happens. Returns CLI_GO_ON or the
 * exit code. */
static int subscribe(struct cli *cli, struct api_conn *conn)
{
	struct json_object *reply = NULL, *ok;
	int r = api_open(conn, cli->socket_path);

	if (r < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon not reachable on %s: %s",
				 cli->socket_path, api_strerror(r));
	r = api_request(conn, "subscribe", NULL, 5000, &reply);
	if (r < 0 || !json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		json_object_put(reply);
		api_close(conn);
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "could not subscribe to findings");
	}
	json_object_put(reply);
	return CLI_GO_ON;
}

/* DIR exists (made if needed) on a persistent file system. Returns CLI_GO_ON or the exit
 * code. Called only with the daemon known to be there: a selftest that cannot run must not
 * leave a directory behind. */
static int check_dir(struct cli *cli, const char *dir)
{
	struct statfs sfs;
	const char *fstype;

	if (make_dirs(dir) < 0 || statfs(dir, &sfs) < 0)
		return cli_error(cli, CLI_EXIT_FAIL, "cannot use %s: %s", dir, strerror(errno));
	fstype = ioh_fstype_from_magic((uint32_t)sfs.f_type);
	if (!fstype || !ioh_fstype_is_persistent(fstype))
		return cli_error(cli, CLI_EXIT_USAGE,
				 "%s is on %s, not a persistent filesystem: use --dir", dir,
				 fstype ? fstype : "an unknown filesystem");
	return CLI_GO_ON;
}

/* Runs the three patterns and sets each check's pid. Returns 0, or -1 if a workload failed. */
static int run_workloads(const char *dir, const char *name, struct check *checks)
{
	pid_t renamer = spawn(run_rename, dir, name), writer, reader;
	int writer_done, reader_rc;

	writer = spawn_mixed_writer(dir, name, &writer_done);
	/* The buffered read while the O_DIRECT fd is still open; then the writer may close. */
	reader = writer_done >= 0 ? spawn(run_mixed_reader, dir, name) : -1;
	reader_rc = wait_child(reader);
	if (writer_done >= 0)
		close(writer_done);
	if (wait_child(renamer) < 0 || wait_child(writer) < 0 || reader_rc < 0)
		return -1;
	checks[0].pid = checks[1].pid = renamer;
	checks[2].pid = reader;
	return 0;
}

static bool print_results(struct cli *cli, const struct check *checks, size_t n)
{
	bool all = true;

	for (size_t i = 0; i < n; i++)
		all &= checks[i].seen;
	if (cli->json) {
		printf("{\"passed\":%s,\"checks\":[", all ? "true" : "false");
		for (size_t i = 0; i < n; i++)
			printf("%s{\"rule\":\"%s\",\"passed\":%s}", i ? "," : "", checks[i].rule,
			       checks[i].seen ? "true" : "false");
		printf("]}\n");
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-28s %s\n", checks[i].rule,
			       checks[i].seen ? "ok" : "NOT REPORTED");
	}
	return all;
}

/* Leaves no scratch files behind; the names are ours. */
static void remove_scratch(const char *dir, const char *name)
{
	static const char *const suffix[] = {".conf", ".tmp", ".db"};
	char path[4096];

	for (unsigned i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix[i]);
		unlink(path);
	}
}

int cmd_selftest(struct cli *cli, int argc, char **argv)
{
	struct check checks[] = {
	    {ioh_rule_name(IOH_RULE_RENAME_UNSYNCED_SOURCE), NULL, 0, false},
	    {ioh_rule_name(IOH_RULE_RENAME_WITHOUT_DIR_FSYNC), NULL, 0, false},
	    {ioh_rule_name(IOH_RULE_MIXED_DIRECT_BUFFERED), "direct write, then buffered read", 0,
	     false},
	};
	const size_t n = sizeof(checks) / sizeof(checks[0]);
	const char *dir = DEFAULT_DIR;
	struct api_conn conn;
	char name[16];
	bool all;
	int r;

	if ((r = parse_selftest_opts(cli, argc, argv, &dir)) != CLI_GO_ON ||
	    (r = subscribe(cli, &conn)) != CLI_GO_ON)
		return r;
	if ((r = check_dir(cli, dir)) != CLI_GO_ON) {
		api_close(&conn);
		return r;
	}
	/* A name unique to this run: the daemon rate-limits per (rule, inode, program). */
	snprintf(name, sizeof(name), "iohst-%05x", (unsigned)(getpid() ^ time(NULL)) & 0xfffff);
	if (run_workloads(dir, name, checks) < 0) {
		api_close(&conn);
		return cli_error(cli, CLI_EXIT_FAIL, "selftest workload failed in %s", dir);
	}
	/* The directory-fsync window is 5 s by default; allow for a longer configured one. */
	collect(&conn, checks, n, ioh_clock_ns(CLOCK_MONOTONIC) / 1e9 + 12);
	api_close(&conn);
	send_results(cli, checks, n);
	all = print_results(cli, checks, n);
	remove_scratch(dir, name);
	return all ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
