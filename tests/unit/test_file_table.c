// SPDX-License-Identifier: GPL-2.0-only
/*
 * The detectors' bounded per-file table (daemon/correlator/file_table.h): get and find by
 * (dev, ino, gen) with generation 0 matching any, eviction of the smallest age with the
 * detector's clear callback and a count, reset keeping the key, remove, and a walk that may
 * remove the current item.
 */
#include <stdlib.h>

#include "daemon/correlator/file_table.h"
#include "tests/unit/check.h"

struct item {
	struct ioh_file_slot slot;
	char *payload;
};

static unsigned cleared;

static void item_clear(void *it, void *ctx)
{
	struct item *x = it;

	free(x->payload);
	cleared++;
}

int main(void)
{
	struct item items[4] = {0};
	struct ioh_file_table t;
	struct item *a, *b, *x;
	bool created;
	unsigned n, it;

	IOH_FILE_TABLE_INIT(&t, items, item_clear, NULL);
	TEST_CASE("get creates once, find matches (dev, ino) and any-or-equal generation")
	{
		CHECK_INT(t.capacity, 4);
		CHECK(ioh_file_table_find(&t, 1, 10, 0) == NULL);
		a = ioh_file_table_get(&t, 1, 10, 7, &created);
		CHECK(created);
		a->payload = strdup("a");
		a->slot.age_ns = 100;
		CHECK(ioh_file_table_get(&t, 1, 10, 7, &created) == a && !created);
		CHECK(ioh_file_table_find(&t, 1, 10, 0) == a);
		CHECK(ioh_file_table_find(&t, 1, 10, 8) == NULL); /* another file, same number */
		CHECK(ioh_file_table_find(&t, 2, 10, 7) == NULL);
		CHECK_INT(t.n_live, 1);
	}
	TEST_CASE("reset clears the item but keeps it live under its key")
	{
		ioh_file_table_reset(&t, a);
		CHECK_INT(cleared, 1);
		CHECK(a->payload == NULL && a->slot.live && a->slot.ino == 10 && a->slot.gen == 7);
		CHECK_INT(t.n_live, 1);
		a->slot.age_ns = 100;
	}
	TEST_CASE("full: the smallest age is evicted, cleared and counted")
	{
		for (uint64_t ino = 11; ino <= 13; ino++) {
			x = ioh_file_table_get(&t, 1, ino, 0, &created);
			x->slot.age_ns = 200 + ino;
			x->payload = strdup("x");
		}
		CHECK_INT(t.n_live, 4);
		cleared = 0;
		b = ioh_file_table_get(&t, 1, 14, 0, &created);
		CHECK(created && b == a); /* a (age 100) made room */
		CHECK_INT(cleared, 1);
		CHECK_INT(t.evictions, 1);
		CHECK_INT(t.n_live, 4);
		CHECK(ioh_file_table_find(&t, 1, 10, 0) == NULL);
		b->slot.age_ns = 300;
	}
	TEST_CASE("walk visits every live item and may remove the current one")
	{
		n = 0;
		it = 0;
		while ((x = ioh_file_table_next(&t, &it))) {
			n++;
			if (x->slot.ino == 12)
				ioh_file_table_remove(&t, x);
		}
		CHECK_INT(n, 4);
		CHECK_INT(t.n_live, 3);
		CHECK(ioh_file_table_find(&t, 1, 12, 0) == NULL);
		x = ioh_file_table_get(&t, 1, 15, 0, &created);
		CHECK(created && x->slot.ino == 15 && t.evictions == 1); /* the freed slot */
	}
	TEST_CASE("fini clears what is left")
	{
		cleared = 0;
		ioh_file_table_fini(&t);
		CHECK_INT(cleared, 4);
		CHECK_INT(t.n_live, 0);
		it = 0;
		CHECK(ioh_file_table_next(&t, &it) == NULL);
	}
	return check_summary();
}
