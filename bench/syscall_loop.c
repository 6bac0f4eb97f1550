// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark workload: a tight loop of one cheap syscall, for the hooks that run on every
 * syscall or on every read/write. bench/run.sh (host) and bench/vm/guest.sh (the VM
 * benchmark, under qemu -icount) both run it.
 *
 *   syscall_loop [--mode getppid|pread|pwrite] [--iterations N] [--chunks K] [DIR]
 *
 *   getppid  no I/O at all: a syscall the daemon never needs, so anything it costs is a
 *            per-syscall tax, the daemon's worst case relative to the work.
 *   pread    4 KiB pread of a cached file (issue 3: "unrelated" reads)
 *   pwrite   small (512 B) pwrite into the page cache, never synced (issue 3)
 *
 * pread/pwrite use a file in DIR (default "."), created here and removed at the end. Prints
 * "elapsed_ns=<ns> cpu_ns=<ns> iterations=<n> best_ns=<ns>"; the timing covers the loop only.
 * cpu_ns is this process's own CPU time (CLOCK_PROCESS_CPUTIME_ID: user and kernel), which
 * leaves out a daemon sharing a single vCPU; under qemu -icount shift=0 both clocks count guest
 * instructions. With --chunks K the N iterations run as K equal chunks, each timed on its own,
 * and best_ns is the fastest chunk scaled to N: on a shared machine other tasks only ever add
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

#include "daemon/util/timeops.h"

enum mode { MODE_GETPPID, MODE_PREAD, MODE_PWRITE };

struct loop_args {
	enum mode mode;
	long iterations, chunks;
	const char *dir;
};

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

static long positive(const char *arg)
{
	long v = strtol(arg, NULL, 10);

	if (v <= 0)
		usage();
	return v;
}

static struct loop_args parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mode", required_argument, NULL, 'm'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"chunks", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const modes[] = {
	    [MODE_GETPPID] = "getppid", [MODE_PREAD] = "pread", [MODE_PWRITE] = "pwrite"};
	struct loop_args a = {.mode = MODE_GETPPID, .iterations = 1000000, .chunks = 1, .dir = "."};
	int c;

	while ((c = getopt_long(argc, argv, "m:n:k:", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			a.mode = (enum mode) - 1;
			for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (!strcmp(optarg, modes[i]))
					a.mode = (enum mode)i;
			if (a.mode == (enum mode) - 1)
				usage();
			break;
		case 'n':
			a.iterations = positive(optarg);
			break;
		case 'k':
			a.chunks = positive(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind < argc - 1)
		usage();
	if (optind == argc - 1)
		a.dir = argv[optind];
	if (a.chunks > a.iterations)
		a.chunks = a.iterations;
	return a;
}

/* The file pread/pwrite use, with one page written so pread measures the cached path only. */
static int open_data_file(const struct loop_args *a, char *path, size_t path_size, char *buf)
{
	int fd;

	snprintf(path, path_size, "%s/syscall-loop-%d.dat", a->dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	if (pwrite(fd, buf, 4096, 0) != 4096)
		die("pwrite");
	return fd;
}

/* Iterations [from, to) of the loop; returns what getppid summed (kept so it is not dead). */
static long run(enum mode mode, int fd, char *buf, long from, long to)
{
	long sink = 0;

	for (long i = from; i < to; i++) {
		switch (mode) {
		case MODE_GETPPID:
			sink += getppid();
			break;
		case MODE_PREAD:
			if (pread(fd, buf, 4096, 0) != 4096)
				die("pread");
			break;
		case MODE_PWRITE:
			if (pwrite(fd, buf, 512, (i & 7) * 512) != 512)
				die("pwrite");
			break;
		}
	}
	return sink;
}

int main(int argc, char **argv)
{
	struct loop_args a = parse_args(argc, argv);
	long per_chunk = a.iterations / a.chunks, sink = 0;
	uint64_t w0, c0, elapsed, cpu, best = UINT64_MAX;
	char path[4096], buf[4096];
	int fd = -1;

	memset(buf, 'x', sizeof(buf));
	a.iterations = per_chunk * a.chunks;
	if (a.mode != MODE_GETPPID)
		fd = open_data_file(&a, path, sizeof(path), buf);

	w0 = ioh_clock_ns(CLOCK_MONOTONIC);
	c0 = ioh_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long k = 0; k < a.chunks; k++) {
		uint64_t t0 = ioh_clock_ns(CLOCK_MONOTONIC), d;

		sink += run(a.mode, fd, buf, k * per_chunk, (k + 1) * per_chunk);
		d = ioh_clock_ns(CLOCK_MONOTONIC) - t0;
		if (d < best)
			best = d;
	}
	cpu = ioh_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	elapsed = ioh_clock_ns(CLOCK_MONOTONIC) - w0;

	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	printf("elapsed_ns=%llu cpu_ns=%llu iterations=%ld best_ns=%llu%s\n",
	       (unsigned long long)elapsed, (unsigned long long)cpu, a.iterations,
	       (unsigned long long)(a.chunks == 1 ? elapsed : best * (uint64_t)a.chunks),
	       sink == -1 ? " " : "");
	return 0;
}
