// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark workload: the durable file-replace pattern, N times, in one directory.
 *
 *   fsync_rename_loop [--rename-only | --storm] [--iterations N | --seconds S] DIR
 *
 * Default: write a 4 KiB temp file, fsync it, rename it over the target, fsync the directory;
 * exactly what rename-without-dir-fsync wants programs to do, so the daemon sees every hook
 * this pattern touches (dirty tracking, sync-family exit, rename with path resolution) but
 * reports nothing. --rename-only renames two names back and forth without I/O: the rename
 * path alone, where the daemon's share of the cost is largest because nothing slow hides it.
 * --storm is the careless config writer at full speed (issue 11's rename storm): write a
 * 4 KiB temp file and rename it over the target, no fsync at all, as fast as one core goes;
 * every rename is one the daemon must see (and report), so it fills the ring buffer fastest.
 * --seconds S runs for S seconds (checking the clock every 64 iterations) instead of N
 * iterations.
 *
 * DIR must be on a persistent filesystem outside the default exclude list (/tmp, /run...),
 * or the daemon would drop the events early and the benchmark would flatter it.
 *
 * Prints one line, "elapsed_ns=<ns> iterations=<n> old_name_len=<n> new_name_len=<n>", for
 * bench/run.sh to parse (the name lengths include the final NUL, as the kernel records count
 * them); the timing covers the loop only (setup and cleanup excluded).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/util/timeops.h"

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fsync_rename_loop: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void write_all(int fd, const char *buf, size_t len, const char *path)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write", path);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: fsync_rename_loop [--rename-only | --storm] [--iterations N | "
			"--seconds S] DIR\n");
	exit(2);
}

struct loop_args {
	bool rename_only, storm;
	long iterations;
	double seconds;
	const char *dir;
};

static struct loop_args parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rename-only", no_argument, NULL, 'r'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"storm", no_argument, NULL, 's'},
	    {"seconds", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct loop_args a = {.iterations = 1000};
	int c;

	while ((c = getopt_long(argc, argv, "rn:st:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			a.rename_only = true;
			break;
		case 'n':
			a.iterations = strtol(optarg, NULL, 10);
			if (a.iterations <= 0)
				usage();
			break;
		case 's':
			a.storm = true;
			break;
		case 't':
			a.seconds = strtod(optarg, NULL);
			if (a.seconds <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || (a.rename_only && a.storm))
		usage();
	a.dir = argv[optind];
	return a;
}

/* One replace of `target`: write a fresh temp file and rename it over, with or without the
 * two fsyncs. Every iteration changes one byte so it really dirties the page. */
static void replace_once(const struct loop_args *a, int dfd, const char *tmp, const char *target,
			 char *buf, size_t len, long i)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die("create", tmp);
	buf[0] = (char)('a' + i % 26);
	write_all(fd, buf, len, tmp);
	if (!a->storm && fsync(fd))
		die("fsync", tmp);
	close(fd);
	if (rename(tmp, target))
		die("rename", tmp);
	if (!a->storm && fsync(dfd))
		die("fsync", a->dir);
}

int main(int argc, char **argv)
{
	struct loop_args a = parse_args(argc, argv);
	char tmp[4096], target[4096], buf[4096];
	long iterations = a.iterations, done = 0;
	uint64_t start, elapsed, deadline = 0;
	int dfd;

	/* Absolute names: the kernel side then reports them as given, and relative-name
	 * resolution (cwd walk) is measured by the tests, not here. */
	snprintf(tmp, sizeof(tmp), "%s/bench-%d.tmp", a.dir, (int)getpid());
	snprintf(target, sizeof(target), "%s/bench-%d.dat", a.dir, (int)getpid());
	dfd = open(a.dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die("open", a.dir);
	memset(buf, 'x', sizeof(buf));

	if (a.rename_only) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			die("create", tmp);
		close(fd);
	}

	start = ioh_clock_ns(CLOCK_MONOTONIC);
	if (a.seconds > 0) {
		deadline = start + (uint64_t)(a.seconds * 1e9);
		iterations = -1;
	}
	for (long i = 0; i != iterations; i++) {
		if (deadline && (i & 63) == 0 && ioh_clock_ns(CLOCK_MONOTONIC) >= deadline)
			break;
		done = i + 1;
		if (a.rename_only) {
			/* Back and forth, so every call renames an existing file. */
			const char *from = i & 1 ? target : tmp;

			if (rename(from, i & 1 ? tmp : target))
				die("rename", from);
		} else {
			replace_once(&a, dfd, tmp, target, buf, sizeof(buf), i);
		}
	}
	elapsed = ioh_clock_ns(CLOCK_MONOTONIC) - start;

	unlink(tmp);
	unlink(target);
	close(dfd);
	printf("elapsed_ns=%llu iterations=%ld old_name_len=%zu new_name_len=%zu\n",
	       (unsigned long long)elapsed, done, strlen(tmp) + 1, strlen(target) + 1);
	return 0;
}
