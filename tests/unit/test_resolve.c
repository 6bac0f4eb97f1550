// SPDX-License-Identifier: GPL-2.0-only
/*
 * The resolver never waits on a file system (issue 12): statx runs on a bounded pool of
 * workers with a deadline; a call that does not come back in time is given up and its
 * rename is marked IOH_EVF_RESOLVE_TIMEOUT; names on types that may block are not looked up.
 * The statx the workers call is replaced by one that blocks on chosen paths until released.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "daemon/ingest/resolve.h"
#include "daemon/ingest/stat_pool.h"
#include "daemon/util/fsnames.h"

#define TIMEOUT_NS (50ull * 1000000ull)

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static int calls;
static const char *block_suffix = "/held"; /* paths ending like this block */

static int fake_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *out)
{
	size_t n = strlen(path), m = strlen(block_suffix);

	pthread_mutex_lock(&gate_lock);
	calls++;
	if (n >= m && strcmp(path + n - m, block_suffix) == 0)
		while (!gate_open)
			pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	memset(out, 0, sizeof(*out));
	out->stx_mask = STATX_TYPE | STATX_INO;
	out->stx_ino = 4242;
	out->stx_mode = 040755;
	out->stx_dev_major = 8;
	return 0;
}

static void gate(int open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wait_unstuck(struct ioh_stat_pool *p)
{
	struct ioh_stat_pool_stats st;

	for (int i = 0; i < 200; i++) {
		ioh_stat_pool_get_stats(p, &st);
		if (!st.stuck)
			return;
		usleep(10000);
	}
}

static void test_pool(void)
{
	TEST_CASE("stat pool: deadline, stuck workers, recovery")
	{
		struct ioh_stat_pool *p;
		struct ioh_stat_pool_stats st;
		struct statx stx;
		uint64_t t0;
		int r;

		gate(0);
		CHECK_INT(ioh_stat_pool_new(TIMEOUT_NS, fake_statx, &p), 0);
		CHECK_INT(ioh_stat_pool_statx(p, "/fine", 0, STATX_INO, &stx), 0);
		CHECK_INT(stx.stx_ino, 4242);

		t0 = mono_ms();
		r = ioh_stat_pool_statx(p, "/x/held", 0, STATX_INO, &stx);
		CHECK_INT(r, -ETIMEDOUT);
		CHECK(mono_ms() - t0 < 1000); /* the deadline, not the file system */
		ioh_stat_pool_get_stats(p, &st);
		CHECK_INT(st.stuck, 1);
		CHECK_INT(st.timeouts, 1);
		/* Another worker serves the next call. */
		CHECK_INT(ioh_stat_pool_statx(p, "/fine", 0, STATX_INO, &stx), 0);

		/* Every worker stuck: refused at once, no wait. */
		for (int i = 1; i < IOH_STAT_POOL_WORKERS_MAX; i++)
			CHECK_INT(ioh_stat_pool_statx(p, "/y/held", 0, STATX_INO, &stx),
				  -ETIMEDOUT);
		t0 = mono_ms();
		CHECK_INT(ioh_stat_pool_statx(p, "/fine", 0, STATX_INO, &stx), -EBUSY);
		CHECK(mono_ms() - t0 < 20);
		ioh_stat_pool_get_stats(p, &st);
		CHECK_INT(st.workers, IOH_STAT_POOL_WORKERS_MAX);
		CHECK_INT(st.stuck, IOH_STAT_POOL_WORKERS_MAX);
		CHECK_INT(st.busy, 1);

		/* The file system answers: the workers come back and are reused. */
		gate(1);
		wait_unstuck(p);
		ioh_stat_pool_get_stats(p, &st);
		CHECK_INT(st.stuck, 0);
		CHECK_INT(ioh_stat_pool_statx(p, "/x/held", 0, STATX_INO, &stx), 0);
		ioh_stat_pool_get_stats(p, &st);
		CHECK_INT(st.workers, IOH_STAT_POOL_WORKERS_MAX);
		ioh_stat_pool_free(p);
	}
}

static void rename_event(struct ioh_event *ev, struct ioh_decode_scratch *s, const char *path)
{
	memset(ev, 0, sizeof(*ev));
	memset(s, 0, sizeof(*s));
	ev->type = IOH_EV_RENAME;
	ev->pid = (uint32_t)getpid();
	ev->rename.identity = IOH_ID_NONE;
	snprintf(s->new_path, sizeof(s->new_path), "%s", path);
	ev->rename.new_path = s->new_path;
	ev->rename.old_path = s->new_path;
}

static void test_resolver(void)
{
	TEST_CASE("resolver: a held statx marks the rename, a blocking type is not looked up")
	{
		struct ioh_resolver *r = ioh_resolver_new("/nonexistent-cgroup-root");
		struct ioh_resolver_stats st;
		struct ioh_decode_scratch *s = calloc(1, sizeof(*s));
		struct ioh_event ev;
		uint64_t t0;
		int before;

		CHECK(r != NULL && s != NULL);
		if (!r || !s)
			return;
		gate(0);
		CHECK_INT(ioh_resolver_set_statx(r, TIMEOUT_NS, fake_statx), 0);

		/* The file's statx is held, the directory's is not: a window can still open. */
		rename_event(&ev, s, "/srv/app/held");
		t0 = mono_ms();
		ioh_resolver_enrich(r, &ev, s);
		CHECK(mono_ms() - t0 < 1000);
		CHECK(ev.flags & IOH_EVF_RESOLVE_TIMEOUT);
		CHECK(ev.flags & IOH_EVF_RESOLVE_FAILED);
		CHECK(!(ev.flags & IOH_EVF_RESOLVE_SKIPPED));
		CHECK_INT(ev.rename.dst_dir.ino, 4242);
		CHECK_INT(ev.rename.src.ino, 0);
		CHECK(ioh_resolver_timed_out(r));

		/* A directory that is held: its entry is not tried (it would be held too). */
		block_suffix = "/dir";
		before = calls;
		rename_event(&ev, s, "/srv/dir/x");
		ioh_resolver_enrich(r, &ev, s);
		CHECK(ev.flags & IOH_EVF_RESOLVE_TIMEOUT);
		CHECK_INT(ev.rename.dst_dir.ino, 0);
		CHECK_INT(calls - before, 1);
		block_suffix = "/held";

		/* An answered rename clears the per-call flag. */
		rename_event(&ev, s, "/srv/app/fine");
		ioh_resolver_enrich(r, &ev, s);
		CHECK(!(ev.flags & IOH_EVF_RESOLVE_TIMEOUT));
		CHECK_INT(ev.rename.src.ino, 4242);
		CHECK(!ioh_resolver_timed_out(r));

		/* /proc is proc in every mount table: never looked up. */
		before = calls;
		rename_event(&ev, s, "/proc/held");
		ioh_resolver_enrich(r, &ev, s);
		CHECK(ev.flags & IOH_EVF_RESOLVE_SKIPPED);
		CHECK(!(ev.flags & IOH_EVF_RESOLVE_TIMEOUT));
		CHECK_INT(calls - before, 0);
		CHECK_INT(ev.rename.dst_dir.fs_magic, 0x9fa0);

		ioh_resolver_get_stats(r, &st);
		CHECK_INT(st.timeouts, 2);
		CHECK_INT(st.skipped, 1);
		CHECK(st.workers_stuck >= 1);
		gate(1);
		ioh_resolver_free(r);
		free(s);
	}
	TEST_CASE("fstype skip list")
	{
		CHECK(ioh_fstype_skip_resolve("fuse"));
		CHECK(ioh_fstype_skip_resolve("fuse.sshfs"));
		CHECK(ioh_fstype_skip_resolve("nfs4"));
		CHECK(ioh_fstype_skip_resolve("proc"));
		CHECK(ioh_fstype_skip_resolve("autofs"));
		CHECK(!ioh_fstype_skip_resolve("ext4"));
		CHECK(!ioh_fstype_skip_resolve("xfs"));
		CHECK(!ioh_fstype_skip_resolve("btrfs"));
		CHECK(!ioh_fstype_skip_resolve("tmpfs"));
		CHECK(!ioh_fstype_skip_resolve("overlay"));
	}
}

int main(void)
{
	test_pool();
	test_resolver();
	return check_summary();
}
