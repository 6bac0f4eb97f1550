/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statx(2) off the event loop, with a deadline. A file system can hold a lookup forever (a
 * FUSE server that never answers, a hung NFS server, an automount): the calling thread
 * would sleep in the kernel with it. Each statx runs on a worker thread; the caller waits
 * at most the pool's timeout, then gives up and leaves the worker behind. A worker that
 * comes back later discards its result and is reused. At most IOH_STAT_POOL_WORKERS_MAX
 * threads exist; when all of them are stuck, calls fail at once with -EBUSY.
 */
#ifndef IOH_STAT_POOL_H
#define IOH_STAT_POOL_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#define IOH_STAT_POOL_WORKERS_MAX 8
/* Long enough for a cold inode on a busy disk, short enough that a few stuck workers do
 * not keep the loop from the API, the metrics and the watchdog. */
#define IOH_STAT_POOL_TIMEOUT_NS (100ull * 1000000ull)

struct ioh_stat_pool;

/* A test hook: the function the workers call instead of statx(2) (NULL: statx). */
typedef int (*ioh_statx_fn)(int dirfd, const char *path, int flags, unsigned mask,
			    struct statx *out);

int ioh_stat_pool_new(uint64_t timeout_ns, ioh_statx_fn fn, struct ioh_stat_pool **out);
/* Workers still stuck in the kernel are detached, not joined. */
void ioh_stat_pool_free(struct ioh_stat_pool *p);

/* statx(AT_FDCWD, path, flags, mask) on a worker. 0, a negative errno from statx,
 * -ETIMEDOUT (the call did not finish in time; its worker is left behind), -EBUSY (every
 * worker is stuck on an earlier call), or -ENAMETOOLONG. */
int ioh_stat_pool_statx(struct ioh_stat_pool *p, const char *path, int flags, unsigned mask,
			struct statx *out);

struct ioh_stat_pool_stats {
	uint64_t calls;	   /* statx calls handed to a worker */
	uint64_t timeouts; /* calls given up after the timeout */
	uint64_t busy;	   /* calls refused because every worker was stuck */
	unsigned workers;  /* threads started */
	unsigned stuck;	   /* threads still inside a call that was given up */
};
void ioh_stat_pool_get_stats(struct ioh_stat_pool *p, struct ioh_stat_pool_stats *out);

#endif
