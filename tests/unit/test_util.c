// SPDX-License-Identifier: GPL-2.0-only
/* The shared helpers in daemon/util/ that replaced per-file copies: hash, suffix, clock. */
#include "daemon/util/hash.h"
#include "daemon/util/strutil.h"
#include "daemon/util/timeops.h"
#include "tests/unit/check.h"

int main(void)
{
	TEST_CASE("FNV-1a 64 matches the published test vectors")
	{
		CHECK(ioh_fnv1a_str(IOH_FNV1A_INIT, "") == 0xcbf29ce484222325ull);
		CHECK(ioh_fnv1a_str(IOH_FNV1A_INIT, "a") == 0xaf63dc4c8601ec8cull);
		CHECK(ioh_fnv1a_str(IOH_FNV1A_INIT, "foobar") == 0x85944171f73967e8ull);
		CHECK(ioh_fnv1a(IOH_FNV1A_INIT, "foobar", 6) == 0x85944171f73967e8ull);
		CHECK(ioh_fnv1a_str(ioh_fnv1a_str(IOH_FNV1A_INIT, "foo"), "bar") ==
		      0x85944171f73967e8ull);
		CHECK(ioh_fnv1a_str(IOH_FNV1A_INIT, NULL) == IOH_FNV1A_INIT);
	}

	TEST_CASE("ioh_ends_with")
	{
		CHECK(ioh_ends_with("x_total", 7, "_total"));
		CHECK(ioh_ends_with("_total", 6, "_total"));
		CHECK(!ioh_ends_with("total", 5, "_total"));
		CHECK(!ioh_ends_with("x_total", 6, "_total")); /* only the first len bytes count */
		CHECK(ioh_ends_with("nginx.service/rest", 13, ".service"));
		CHECK(ioh_ends_with("", 0, ""));
	}

	TEST_CASE("ioh_clock_ns")
	{
		uint64_t a = ioh_clock_ns(CLOCK_MONOTONIC), b = ioh_clock_ns(CLOCK_MONOTONIC);

		CHECK(a > 0 && b >= a);
		/* After 2020-01-01 on the wall clock. */
		CHECK(ioh_clock_ns(CLOCK_REALTIME) > 1577836800ull * 1000000000ull);
	}
	return check_summary();
}
