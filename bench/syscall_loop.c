// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark workload: a tight loop of one cheap syscall, for the hooks that run on every
 * syscall (tp_btf/sys_enter and sys_exit) or on every read/write.
 *
 *   syscall_loop [--mode getppid|pread|pwrite] [--iterations N] [--chunks K] [DIR]
 *
 *   getppid  no I/O at all: the per-syscall filter of the sys_enter/sys_exit programs is the
 *            whole cost the daemon adds, so this is its worst case relative to the work.
 *   pread    4 KiB pread of a cached file (issue 3: "unrelated" reads)
 *   pwrite   small (512 B) pwrite into the page cache, never synced (issue 3)
 *
 * pread/pwrite use a file in DIR (default "."), created here and removed at the end. Prints
 * "elapsed_ns=<ns> iterations=<n> best_ns=<ns>" for bench/run.sh; the timing covers the loop
 * only. With --chunks K the N iterations run as K equal chunks, each timed on its own, and
 * best_ns is the fastest chunk scaled to N: on a shared machine other tasks only ever add
 * time, so the fastest chunk (a few ms) is the one nobody preempted, the cost of the syscall
 * path itself. Without --chunks, best_ns equals elapsed_ns.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_GETPPID, MODE_PREAD, MODE_PWRITE };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "syscall_loop: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: syscall_loop [--mode getppid|pread|pwrite] [--iterations N] [--chunks K] "
		"[DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"mode", required_argument, NULL, 'm'},
		{"iterations", required_argument, NULL, 'n'},
		{"chunks", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	enum mode mode = MODE_GETPPID;
	long iterations = 1000000, chunks = 1, per_chunk;
	const char *dir = ".";
	char path[4096], buf[4096];
	uint64_t start, elapsed, best = UINT64_MAX;
	int c, fd = -1;
	long sink = 0;

	while ((c = getopt_long(argc, argv, "m:n:k:", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "getppid"))
				mode = MODE_GETPPID;
			else if (!strcmp(optarg, "pread"))
				mode = MODE_PREAD;
			else if (!strcmp(optarg, "pwrite"))
				mode = MODE_PWRITE;
			else
				usage();
			break;
		case 'n':
			iterations = strtol(optarg, NULL, 10);
			if (iterations <= 0)
				usage();
			break;
		case 'k':
			chunks = strtol(optarg, NULL, 10);
			if (chunks <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (chunks > iterations)
		chunks = iterations;
	per_chunk = iterations / chunks;
	iterations = per_chunk * chunks;
	if (optind < argc - 1)
		usage();
	if (optind == argc - 1)
		dir = argv[optind];

	if (mode != MODE_GETPPID) {
		snprintf(path, sizeof(path), "%s/syscall-loop-%d.dat", dir, (int)getpid());
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("open");
		memset(buf, 'x', sizeof(buf));
		/* Warm the page cache so pread measures the cached path only. */
		if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			die("pwrite");
	}

	start = now_ns();
	for (long k = 0; k < chunks; k++) {
		uint64_t t0 = now_ns(), d;

		for (long i = k * per_chunk; i < (k + 1) * per_chunk; i++) {
			switch (mode) {
			case MODE_GETPPID:
				sink += getppid();
				break;
			case MODE_PREAD:
				if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
					die("pread");
				break;
			case MODE_PWRITE:
				if (pwrite(fd, buf, 512, (i & 7) * 512) != 512)
					die("pwrite");
				break;
			}
		}
		d = now_ns() - t0;
		if (d < best)
			best = d;
	}
	elapsed = now_ns() - start;

	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	/* `sink` keeps the getppid calls from looking dead to anyone. */
	printf("elapsed_ns=%llu iterations=%ld best_ns=%llu%s\n", (unsigned long long)elapsed,
	       iterations, (unsigned long long)(chunks == 1 ? elapsed : best * (uint64_t)chunks),
	       sink == -1 ? " " : "");
	return 0;
}
