// SPDX-License-Identifier: GPL-2.0-only
/*
 * The findings rate limiter (daemon/sinks/suppress.c): one report per (rule, inode, path,
 * program) per window, repeats counted into the next report, a bounded table.
 */
#include <stdlib.h>

#include "daemon/sinks/suppress.h"
#include "tests/unit/check.h"

#define SEC 1000000000ull
#define WINDOW (600 * SEC)

static struct ioh_finding finding(const char *rule, const char *comm, uint32_t dev, uint64_t ino,
				  const char *path, uint64_t ts_ns)
{
	struct ioh_finding f = {0};

	f.rule = rule;
	snprintf(f.comm, sizeof(f.comm), "%s", comm);
	f.file.dev = dev;
	f.file.ino = ino;
	f.path = path;
	f.ts_ns = ts_ns;
	return f;
}

static bool check(struct ioh_suppressor *s, struct ioh_finding f, uint64_t *repeats)
{
	return ioh_suppressor_check(s, &f, WINDOW, repeats);
}

static void test_window_and_repeats(void)
{
	TEST_CASE("suppress: one report per key and window, repeats carried over")
	{
		struct ioh_suppressor *s = ioh_suppressor_new(64);
		uint64_t rep = 99;

		CHECK(check(s, finding("r", "db", 1, 7, "/d/f", 1 * SEC), &rep));
		CHECK_INT(rep, 0);
		CHECK(!check(s, finding("r", "db", 1, 7, "/d/f", 2 * SEC), &rep));
		CHECK(!check(s, finding("r", "db", 1, 7, "/d/f", 3 * SEC), &rep));
		CHECK_INT(ioh_suppressor_suppressed(s), 2);
		/* The window counts from the last report, not the last repeat. */
		CHECK(!check(s, finding("r", "db", 1, 7, "/d/f", 1 * SEC + WINDOW - 1), &rep));
		CHECK(check(s, finding("r", "db", 1, 7, "/d/f", 1 * SEC + WINDOW), &rep));
		CHECK_INT(rep, 3);
		CHECK(!check(s, finding("r", "db", 1, 7, "/d/f", 2 * SEC + WINDOW), &rep));
		ioh_suppressor_free(s);
	}
	TEST_CASE("suppress: a window past 2^64 ns saturates (issue 12)")
	{
		/* A replayed recording's timestamps are untrusted: reported + window wrapped and
		 * the repeat was reported again at once. */
		struct ioh_suppressor *s = ioh_suppressor_new(64);
		uint64_t rep;

		CHECK(check(s, finding("r", "db", 1, 7, "/d/f", UINT64_MAX - SEC), &rep));
		CHECK(!check(s, finding("r", "db", 1, 7, "/d/f", UINT64_MAX - SEC + 1), &rep));
		CHECK_INT(ioh_suppressor_suppressed(s), 1);
		ioh_suppressor_free(s);
	}
	TEST_CASE("suppress: window 0 reports everything")
	{
		struct ioh_suppressor *s = ioh_suppressor_new(64);
		struct ioh_finding f = finding("r", "db", 1, 7, "/d/f", SEC);
		uint64_t rep;

		CHECK(ioh_suppressor_check(s, &f, 0, &rep));
		CHECK(ioh_suppressor_check(s, &f, 0, &rep));
		CHECK_INT(ioh_suppressor_suppressed(s), 0);
		ioh_suppressor_free(s);
	}
}

static void test_key_parts(void)
{
	TEST_CASE("suppress: every part of the key tells findings apart")
	{
		struct ioh_suppressor *s = ioh_suppressor_new(64);
		uint64_t rep;

		CHECK(check(s, finding("r", "db", 1, 7, "/d/f", SEC), &rep));
		CHECK(check(s, finding("other", "db", 1, 7, "/d/f", SEC), &rep));
		CHECK(check(s, finding("r", "backup", 1, 7, "/d/f", SEC), &rep));
		CHECK(check(s, finding("r", "db", 2, 7, "/d/f", SEC), &rep));
		CHECK(check(s, finding("r", "db", 1, 8, "/d/f", SEC), &rep));
		/* A new file that got a deleted file's inode number is not a repeat. */
		CHECK(check(s, finding("r", "db", 1, 7, "/d/g", SEC), &rep));
		CHECK(check(s, finding("r", "db", 1, 7, NULL, SEC), &rep));
		CHECK(!check(s, finding("r", "db", 1, 7, NULL, 2 * SEC), &rep));
		CHECK(!check(s, finding("r", "db", 1, 7, "/d/g", 2 * SEC), &rep));
		CHECK_INT(ioh_suppressor_suppressed(s), 2);
		ioh_suppressor_free(s);
	}
}

static void test_bounded(void)
{
	TEST_CASE("suppress: a full table forgets its least recently seen key, counted")
	{
		/* Capacity rounds up to the probe window (16): more keys than that must evict. */
		struct ioh_suppressor *s = ioh_suppressor_new(1);
		uint64_t rep;
		char path[32];

		for (int i = 0; i < 40; i++) {
			snprintf(path, sizeof(path), "/d/%d", i);
			CHECK(check(s, finding("r", "db", 1, (uint64_t)i, path, SEC + i), &rep));
		}
		CHECK(ioh_suppressor_evictions(s) >= 40 - 16);
		/* The newest key is still remembered. */
		CHECK(!check(s, finding("r", "db", 1, 39, "/d/39", 100 * SEC), &rep));
		ioh_suppressor_free(s);
	}
}

int main(void)
{
	test_window_and_repeats();
	test_key_parts();
	test_bounded();
	return check_summary();
}
