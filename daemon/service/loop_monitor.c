// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "daemon/service/loop_monitor.h"
#include "daemon/util/log.h"
#include "daemon/util/timeops.h"

#define CHECK_EVERY_NS (250ull * 1000000ull)

struct ioh_loop_monitor {
	pthread_t thread;
	_Atomic uint64_t last_pet_ns; /* CLOCK_MONOTONIC of the loop's last pet */
	_Atomic bool quit;
	bool started;
};

static void *monitor_main(void *arg)
{
	struct ioh_loop_monitor *m = arg;
	uint64_t reported_pet = 0; /* the pet whose stall was logged: once per stall */
	struct timespec step = {0, (long)CHECK_EVERY_NS};

	while (!atomic_load(&m->quit)) {
		uint64_t pet = atomic_load(&m->last_pet_ns), now = ioh_clock_ns(CLOCK_MONOTONIC);

		if (now > pet + IOH_LOOP_STALL_NS && pet != reported_pet) {
			reported_pet = pet;
			/* The loop cannot say it; the journal must hear it now. */
			log_error("Blind: the event loop has not run for %.1fs (no events are "
				  "read, no findings made, the API and /metrics do not answer)",
				  (double)(now - pet) / 1e9);
		}
		nanosleep(&step, NULL);
	}
	return NULL;
}

int ioh_loop_monitor_start(struct ioh_loop_monitor **out)
{
	struct ioh_loop_monitor *m = calloc(1, sizeof(*m));
	sigset_t all, old;
	int r;

	if (!m)
		return -ENOMEM;
	atomic_store(&m->last_pet_ns, ioh_clock_ns(CLOCK_MONOTONIC));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals belong to the loop's signalfd */
	r = pthread_create(&m->thread, NULL, monitor_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		free(m);
		return -r;
	}
	m->started = true;
	*out = m;
	return 0;
}

void ioh_loop_monitor_free(struct ioh_loop_monitor *m)
{
	if (!m)
		return;
	atomic_store(&m->quit, true);
	if (m->started)
		pthread_join(m->thread, NULL);
	free(m);
}

uint64_t ioh_loop_monitor_pet(struct ioh_loop_monitor *m, uint64_t now_ns)
{
	uint64_t prev;

	if (!m)
		return 0;
	prev = atomic_exchange(&m->last_pet_ns, now_ns);
	return now_ns > prev + IOH_LOOP_STALL_NS ? now_ns - prev : 0;
}

uint64_t ioh_loop_monitor_stalled_ns(struct ioh_loop_monitor *m)
{
	uint64_t pet, now = ioh_clock_ns(CLOCK_MONOTONIC);

	if (!m)
		return 0;
	pet = atomic_load(&m->last_pet_ns);
	return now > pet + IOH_LOOP_STALL_NS ? now - pet : 0;
}
