// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark workload: the durable file-replace pattern, N times, in one directory.
 *
 *   fsync_rename_loop [--rename-only] [--iterations N] DIR
 *
 * Default: write a 4 KiB temp file, fsync it, rename it over the target, fsync the directory;
 * exactly what rename-without-dir-fsync wants programs to do, so the daemon sees every hook
 * this pattern touches (dirty tracking, sync-family exit, rename with path resolution) but
 * reports nothing. --rename-only renames two names back and forth without I/O: the rename
 * path alone, where the daemon's share of the cost is largest because nothing slow hides it.
 *
 * DIR must be on a persistent filesystem outside the default exclude list (/tmp, /run...),
 * or the daemon would drop the events early and the benchmark would flatter it.
 *
 * Prints one line, "elapsed_ns=<ns> iterations=<n>", for bench/run.sh to parse; the timing
 * covers the loop only (setup and cleanup excluded).
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

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
	fprintf(stderr, "usage: fsync_rename_loop [--rename-only] [--iterations N] DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rename-only", no_argument, NULL, 'r'},
		{"iterations", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	char tmp[4096], target[4096], buf[4096];
	long iterations = 1000;
	bool rename_only = false;
	uint64_t start, elapsed;
	int c, dfd;

	while ((c = getopt_long(argc, argv, "rn:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rename_only = true;
			break;
		case 'n':
			iterations = strtol(optarg, NULL, 10);
			if (iterations <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();

	/* Absolute names: the kernel side then reports them as given, and relative-name
	 * resolution (cwd walk) is measured by the tests, not here. */
	snprintf(tmp, sizeof(tmp), "%s/bench-%d.tmp", argv[optind], (int)getpid());
	snprintf(target, sizeof(target), "%s/bench-%d.dat", argv[optind], (int)getpid());
	dfd = open(argv[optind], O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die("open", argv[optind]);
	memset(buf, 'x', sizeof(buf));

	if (rename_only) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			die("create", tmp);
		close(fd);
	}

	start = now_ns();
	for (long i = 0; i < iterations; i++) {
		if (rename_only) {
			/* Back and forth, so every call renames an existing file. */
			const char *from = i & 1 ? target : tmp;
			const char *to = i & 1 ? tmp : target;

			if (rename(from, to))
				die("rename", from);
			continue;
		}
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			die("create", tmp);
		/* Vary one byte so every iteration really dirties the page. */
		buf[0] = (char)('a' + i % 26);
		write_all(fd, buf, sizeof(buf), tmp);
		if (fsync(fd))
			die("fsync", tmp);
		close(fd);
		if (rename(tmp, target))
			die("rename", tmp);
		if (fsync(dfd))
			die("fsync", argv[optind]);
	}
	elapsed = now_ns() - start;

	unlink(tmp);
	unlink(target);
	close(dfd);
	printf("elapsed_ns=%llu iterations=%ld\n", (unsigned long long)elapsed, iterations);
	return 0;
}
