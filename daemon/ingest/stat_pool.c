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
			w->state = W_IDLE; /* nobody waits for this one any more */
			continue;
		}
		if (w->state == W_QUIT)
			break;
		w->result = stx;
		w->ret = r;
		w->state = W_DONE;
		pthread_cond_broadcast(&p->done);
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
	w->state = W_BUSY;
	pthread_cond_signal(&w->wake);
	while (w->state == W_BUSY && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&p->done, &p->lock, &deadline);
	if (w->state == W_DONE) {
		*out = w->result;
		r = w->ret;
		w->state = W_IDLE;
	} else {
		w->state = W_ABANDONED;
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
