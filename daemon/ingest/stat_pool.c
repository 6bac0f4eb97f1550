// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/ingest/stat_pool.h"
#include "daemon/util/timeops.h"

enum worker_state {
	W_IDLE,	     /* waiting for a call */
	W_BUSY,	     /* running a call its caller waits for */
	W_DONE,	     /* finished; the caller takes the result */
	W_ABANDONED, /* running a call its caller gave up on */
	W_QUIT,	     /* told to exit */
};

struct worker {
	struct ioh_stat_pool *pool;
	pthread_t thread;
	pthread_cond_t wake; /* the worker waits here for a call */
	enum worker_state state;
	char path[PATH_MAX + 64]; /* a copy: the caller may be gone when the call returns */
	int flags;
	unsigned mask;
	struct statx result;
	int ret;
};

/*
 * Both sides spin this long before sleeping: a statx on a local file system takes about a
 * microsecond, a sleep/wake round trip through the futex 20-50 us (more on a loaded host),
 * which made a rename flood fall behind. Spinning costs at most this per call.
 */
#define SPIN_NS 50000ull

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

/* Spins while *state is `a` or `b` (at most SPIN_NS). `state` is written under the pool's
 * lock and read here without it. */
static void spin_while(const enum worker_state *state, enum worker_state a, enum worker_state b)
{
	uint64_t until = ioh_clock_ns(CLOCK_MONOTONIC) + SPIN_NS;

	do {
		for (int i = 0; i < 64; i++) {
			enum worker_state now = __atomic_load_n(state, __ATOMIC_ACQUIRE);

			if (now != a && now != b)
				return;
			cpu_relax();
		}
	} while (ioh_clock_ns(CLOCK_MONOTONIC) < until);
}

struct ioh_stat_pool {
	pthread_mutex_t lock;
	pthread_cond_t done; /* callers wait here (CLOCK_MONOTONIC) */
	uint64_t timeout_ns;
	ioh_statx_fn fn;
	struct worker *workers[IOH_STAT_POOL_WORKERS_MAX];
	unsigned n_workers;
	struct ioh_stat_pool_stats stats;
};

static int real_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *out)
{
	return statx(dirfd, path, flags, mask, out) < 0 ? -errno : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ioh_stat_pool *p = w->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct statx stx;
		int r;

		while (w->state == W_IDLE || w->state == W_DONE)
			pthread_cond_wait(&w->wake, &p->lock);
		if (w->state == W_QUIT)
			break;
		pthread_mutex_unlock(&p->lock);
		r = p->fn(AT_FDCWD, w->path, w->flags, w->mask, &stx);
		pthread_mutex_lock(&p->lock);
		if (w->state == W_ABANDONED) {
			p->stats.stuck--;
			__atomic_store_n(&w->state, W_IDLE, __ATOMIC_RELEASE); /* nobody waits */
			continue;
		}
		if (w->state == W_QUIT)
			break;
		w->result = stx;
		w->ret = r;
		__atomic_store_n(&w->state, W_DONE, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&p->done);
		/* The next call usually follows at once (a rename: directory, then file). */
		pthread_mutex_unlock(&p->lock);
		spin_while(&w->state, W_DONE, W_IDLE);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* A new worker; called with the lock held. Signals stay blocked in it: they belong to the
 * event loop's signalfd. */
static struct worker *worker_start(struct ioh_stat_pool *p)
{
	struct worker *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	sigset_t all, old;
	pthread_attr_t attr;
	int r;

	if (!w)
		return NULL;
	w->pool = p;
	w->state = W_IDLE;
	pthread_condattr_init(&ca);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		pthread_cond_destroy(&w->wake);
		free(w);
		return NULL;
	}
	p->workers[p->n_workers++] = w;
	p->stats.workers = p->n_workers;
	return w;
}

int ioh_stat_pool_new(uint64_t timeout_ns, ioh_statx_fn fn, struct ioh_stat_pool **out)
{
	struct ioh_stat_pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->done, &ca);
	pthread_condattr_destroy(&ca);
	p->timeout_ns = timeout_ns;
	p->fn = fn ? fn : real_statx;
	*out = p;
	return 0;
}

void ioh_stat_pool_free(struct ioh_stat_pool *p)
{
	bool any_stuck;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	any_stuck = p->stats.stuck > 0;
	for (unsigned i = 0; i < p->n_workers; i++) {
		struct worker *w = p->workers[i];

		if (w->state == W_ABANDONED) {
			/* Still in the kernel: it keeps its memory and the pool's until exit. */
			pthread_detach(w->thread);
			w->state = W_QUIT;
			continue;
		}
		w->state = W_QUIT;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&p->lock);
	if (any_stuck)
		return; /* a detached worker may still touch the pool */
	for (unsigned i = 0; i < p->n_workers; i++) {
		pthread_join(p->workers[i]->thread, NULL);
		pthread_cond_destroy(&p->workers[i]->wake);
		free(p->workers[i]);
	}
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int ioh_stat_pool_statx(struct ioh_stat_pool *p, const char *path, int flags, unsigned mask,
			struct statx *out)
{
	struct worker *w = NULL;
	struct timespec deadline;
	int r = 0;

	if (strlen(path) >= sizeof(w->path))
		return -ENAMETOOLONG;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(p->timeout_ns / 1000000000ull);
	deadline.tv_nsec += (long)(p->timeout_ns % 1000000000ull);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n_workers && !w; i++)
		if (p->workers[i]->state == W_IDLE)
			w = p->workers[i];
	if (!w && p->n_workers < IOH_STAT_POOL_WORKERS_MAX)
		w = worker_start(p);
	if (!w) {
		p->stats.busy++;
		pthread_mutex_unlock(&p->lock);
		return p->n_workers ? -EBUSY : -EAGAIN;
	}
	p->stats.calls++;
	strcpy(w->path, path);
	w->flags = flags;
	w->mask = mask;
	__atomic_store_n(&w->state, W_BUSY, __ATOMIC_RELEASE);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&p->lock);
	spin_while(&w->state, W_BUSY, W_BUSY);
	pthread_mutex_lock(&p->lock);
	while (w->state == W_BUSY && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&p->done, &p->lock, &deadline);
	if (w->state == W_DONE) {
		*out = w->result;
		r = w->ret;
		__atomic_store_n(&w->state, W_IDLE, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&w->state, W_ABANDONED, __ATOMIC_RELEASE);
		p->stats.timeouts++;
		p->stats.stuck++;
		r = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

void ioh_stat_pool_get_stats(struct ioh_stat_pool *p, struct ioh_stat_pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->stats;
	pthread_mutex_unlock(&p->lock);
}
