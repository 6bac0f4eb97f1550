/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal test harness: each CHECK prints one TAP line ("ok"/"not ok"), which
 * tests/run-all.sh counts into the final "N passed, N failed". A failed CHECK does not stop
 * the test case, so one run shows every broken expectation.
 */
#ifndef IOH_TEST_CHECK_H
#define IOH_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;
static const char *check_case = "";

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			check_passed++;                                                            \
			printf("ok - %s: %s\n", check_case, #cond);                                \
		} else {                                                                           \
			check_failed++;                                                            \
			printf("not ok - %s: %s (%s:%d)\n", check_case, #cond, __FILE__,           \
			       __LINE__);                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {                     \
			check_passed++;                                                            \
			printf("ok - %s: %s == \"%s\"\n", check_case, #a, check_b_);               \
		} else {                                                                           \
			check_failed++;                                                            \
			printf("not ok - %s: %s == \"%s\", got \"%s\" (%s:%d)\n", check_case, #a,  \
			       check_b_ ? check_b_ : "(null)", check_a_ ? check_a_ : "(null)",     \
			       __FILE__, __LINE__);                                                \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ == check_b_) {                                                        \
			check_passed++;                                                            \
			printf("ok - %s: %s == %lld\n", check_case, #a, check_b_);                 \
		} else {                                                                           \
			check_failed++;                                                            \
			printf("not ok - %s: %s == %lld, got %lld (%s:%d)\n", check_case, #a,      \
			       check_b_, check_a_, __FILE__, __LINE__);                            \
		}                                                                                  \
	} while (0)

#define TEST_CASE(name)                                                                            \
	for (int check_once_ = (check_case = (name), 1); check_once_; check_once_ = 0)

static inline int check_summary(void)
{
	printf("# %d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
