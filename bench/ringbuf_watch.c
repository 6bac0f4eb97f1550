// SPDX-License-Identifier: GPL-2.0-only
/*
 * Watch a BPF ring buffer's positions from outside its owner: how many bytes its producers
 * reserved, and how full it got.
 *
 *   ringbuf_watch MAP_ID [INTERVAL_US [MAX_SECONDS]]
 *
 * Maps the ring's consumer and producer pages read-only (any root process can, by map id)
 * and samples them every INTERVAL_US (default 500) until SIGTERM/SIGINT or MAX_SECONDS
 * (default 60, so a watcher whose benchmark died does not stay), prints "ready" at the
 * start and one line at the end:
 *
 *   size=<ring bytes> produced=<bytes reserved while watching> peak_used=<max producer -
 *   consumer> samples=<n> seconds=<s>
 *
 * producer_pos advances by every record's reserved size (8-byte record header included,
 * rounded up to 8), so produced/records is what one record really costs in the ring, whatever
 * the record layout: the benchmark's rename storm divides it by the renames it made. peak_used
 * is the most the consumer (the daemon) ever lagged; a ring loses records when it reaches size.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "daemon/util/timeops.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	unsigned long interval_us = 500, samples = 0;
	double max_s = 60;
	uint64_t start, peak = 0;
	volatile uint64_t *cons, *prod;
	void *mem;
	double t0;
	int fd;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: ringbuf_watch MAP_ID [INTERVAL_US [MAX_SECONDS]]\n");
		return 2;
	}
	if (argc >= 3)
		interval_us = strtoul(argv[2], NULL, 10);
	if (argc == 4)
		max_s = strtod(argv[3], NULL);
	fd = bpf_map_get_fd_by_id((__u32)strtoul(argv[1], NULL, 10));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "ringbuf_watch: map %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (info.type != BPF_MAP_TYPE_RINGBUF) {
		fprintf(stderr, "ringbuf_watch: map %s is not a ring buffer\n", argv[1]);
		return 1;
	}
	/* Consumer page, then producer page; read-only, so the owner's consumer is untouched. */
	mem = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "ringbuf_watch: mmap: %s\n", strerror(errno));
		return 1;
	}
	cons = mem;
	prod = (volatile uint64_t *)((char *)mem + page);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	start = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
	t0 = ioh_clock_ns(CLOCK_MONOTONIC) / 1e9;
	printf("ready\n");
	fflush(stdout);
	while (!stop && ioh_clock_ns(CLOCK_MONOTONIC) / 1e9 - t0 < max_s) {
		uint64_t c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
		uint64_t pr = __atomic_load_n(prod, __ATOMIC_ACQUIRE);

		if (pr > c && pr - c > peak)
			peak = pr - c;
		samples++;
		usleep(interval_us);
	}
	printf("size=%u produced=%llu peak_used=%llu samples=%lu seconds=%.3f\n", info.max_entries,
	       (unsigned long long)(__atomic_load_n(prod, __ATOMIC_ACQUIRE) - start),
	       (unsigned long long)peak, samples, ioh_clock_ns(CLOCK_MONOTONIC) / 1e9 - t0);
	return 0;
}
