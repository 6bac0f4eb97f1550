// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM benchmark's loops (bench/vm/run.sh): the same three loops as bench/syscall_loop.c,
 * timed twice, so a daemon running on the guest's single vCPU at the same time does not count
 * against the loop:
 *
 *   vm_loop --mode getppid|pread|pwrite --iterations N [DIR]
 *
 *   getppid  a syscall the daemon never needs: anything it costs is a per-syscall tax
 *   pread    4 KiB pread of a cached file
 *   pwrite   512 B pwrite into the page cache, never synced
 *
 * Prints "elapsed_ns=<wall> cpu_ns=<this process's CPU time> iterations=<n>". Under qemu
 * -icount shift=0 both clocks count guest instructions (one virtual ns each); cpu_ns is the
 * process's own share (CLOCK_PROCESS_CPUTIME_ID: the scheduler's exact runtime, user and
 * kernel), elapsed_ns also includes whatever else ran on the vCPU meanwhile.
 */
#define _GNU_SOURCE
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

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "vm_loop: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: vm_loop --mode getppid|pread|pwrite --iterations N [DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"mode", required_argument, NULL, 'm'},
		{"iterations", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	enum mode mode = MODE_GETPPID;
	long iterations = 100000, sink = 0;
	const char *dir = ".";
	char path[4096], buf[4096];
	uint64_t w0, c0, w1, c1;
	int c, fd = -1;

	while ((c = getopt_long(argc, argv, "m:n:", opts, NULL)) != -1) {
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
		default:
			usage();
		}
	}
	if (optind < argc - 1)
		usage();
	if (optind == argc - 1)
		dir = argv[optind];
	if (mode != MODE_GETPPID) {
		snprintf(path, sizeof(path), "%s/vm-loop-%d.dat", dir, (int)getpid());
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("open");
		memset(buf, 'x', sizeof(buf));
		if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			die("pwrite");
	}
	w0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < iterations; i++) {
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
	c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	w1 = clock_ns(CLOCK_MONOTONIC);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	printf("elapsed_ns=%llu cpu_ns=%llu iterations=%ld%s\n", (unsigned long long)(w1 - w0),
	       (unsigned long long)(c1 - c0), iterations, sink == -1 ? " " : "");
	return 0;
}
