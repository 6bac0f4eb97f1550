// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-inode table: lookup/get, LRU order (lookups refresh), eviction of the least recently
 * used entry at capacity with a count, remove and slot reuse, iteration over live entries, and
 * a churn run checked against a simple model so the index links never go stale.
 */
#include <stdlib.h>

#include "daemon/correlator/inode_table.h"
#include "tests/unit/check.h"

/* Inodes seen by a walk, as a bitmap over small inode numbers. */
static unsigned walk_count(struct ioh_inode_table *t, uint64_t *seen_mask)
{
	struct ioh_inode_state *st;
	uint32_t cursor = 0;
	unsigned n = 0;

	*seen_mask = 0;
	while ((st = ioh_inode_table_next(t, &cursor))) {
		n++;
		if (st->ino < 64)
			*seen_mask |= 1ull << st->ino;
	}
	return n;
}

static void test_basics(void)
{
	TEST_CASE("new: capacity limits")
	{
		struct ioh_inode_table *t = ioh_inode_table_new(0);

		CHECK(t == NULL);
		t = ioh_inode_table_new(UINT32_MAX);
		CHECK(t == NULL);
		t = ioh_inode_table_new(1);
		CHECK(t != NULL);
		CHECK_INT(ioh_inode_table_capacity(t), 1);
		CHECK_INT(ioh_inode_table_count(t), 0);
		ioh_inode_table_free(t);
		ioh_inode_table_free(NULL);
		CHECK(ioh_inode_table_bytes_per_entry() >= sizeof(struct ioh_inode_state));
	}

	TEST_CASE("get creates zeroed, lookup finds, dev is part of the key")
	{
		struct ioh_inode_table *t = ioh_inode_table_new(8);
		struct ioh_inode_state *a, *b;

		CHECK(ioh_inode_lookup(t, 1, 5) == NULL);
		a = ioh_inode_get(t, 1, 5);
		CHECK(a != NULL);
		CHECK_INT(a->dev, 1);
		CHECK_INT(a->ino, 5);
		CHECK_INT(a->dirty_since_ns, 0);
		CHECK_INT(a->last_sync_ns, 0);
		a->dirty_since_ns = 99;
		CHECK(ioh_inode_get(t, 1, 5) == a);
		CHECK_INT(a->dirty_since_ns, 99); /* get of an existing entry keeps its state */
		CHECK(ioh_inode_lookup(t, 1, 5) == a);
		CHECK(ioh_inode_lookup(t, 2, 5) == NULL);
		b = ioh_inode_get(t, 2, 5);
		CHECK(b != a);
		CHECK_INT(ioh_inode_table_count(t), 2);
		/* 64-bit inode numbers are kept whole. */
		a = ioh_inode_get(t, 1, 0x100000005ull);
		CHECK(a != ioh_inode_lookup(t, 1, 5));
		CHECK_INT(ioh_inode_lookup(t, 1, 0x100000005ull)->ino, 0x100000005ull);
		ioh_inode_table_free(t);
	}
}

static void test_generation(void)
{
	TEST_CASE("generation: another file with the same number never inherits the state")
	{
		struct ioh_inode_table *t = ioh_inode_table_new(8);
		struct ioh_inode_state *a, *b;

		a = ioh_inode_get_gen(t, 1, 5, 7);
		CHECK_INT(a->gen, 7);
		a->dirty_since_ns = 99;
		a->last_sync_ns = 50;
		a->dirtier_pid = 42;
		CHECK(ioh_inode_get_gen(t, 1, 5, 7) == a);
		CHECK_INT(a->dirty_since_ns, 99);
		/* Unknown generation (0) matches whatever is there. */
		CHECK(ioh_inode_lookup_gen(t, 1, 5, 0) == a);
		CHECK(ioh_inode_get_gen(t, 1, 5, 0) == a);
		CHECK_INT(a->gen, 7);
		/* Generation 8: the slot is reset for the new file. */
		b = ioh_inode_get_gen(t, 1, 5, 8);
		CHECK_INT(b->gen, 8);
		CHECK_INT(b->dirty_since_ns, 0);
		CHECK_INT(b->last_sync_ns, 0);
		CHECK_INT(b->dirtier_pid, 0);
		CHECK_INT(b->ino, 5);
		CHECK_INT(ioh_inode_table_count(t), 1);
		CHECK_INT(ioh_inode_table_reused(t), 1);
		/* lookup of another generation drops the entry. */
		CHECK(ioh_inode_lookup_gen(t, 1, 5, 9) == NULL);
		CHECK_INT(ioh_inode_table_count(t), 0);
		CHECK_INT(ioh_inode_table_reused(t), 2);
		CHECK(ioh_inode_lookup(t, 1, 5) == NULL);
		/* An entry made without a generation adopts the first one seen. */
		a = ioh_inode_get(t, 1, 6);
		a->dirty_since_ns = 3;
		CHECK(ioh_inode_lookup_gen(t, 1, 6, 4) == a);
		CHECK_INT(a->gen, 4);
		CHECK_INT(a->dirty_since_ns, 3);
		CHECK(ioh_inode_lookup_gen(t, 1, 6, 5) == NULL);
		ioh_inode_table_free(t);
	}
}

static void test_lru(void)
{
	TEST_CASE("LRU: the least recently used is evicted, lookups refresh")
	{
		struct ioh_inode_table *t = ioh_inode_table_new(3);
		uint64_t mask;

		ioh_inode_get(t, 1, 1);
		ioh_inode_get(t, 1, 2);
		ioh_inode_get(t, 1, 3);
		CHECK_INT(ioh_inode_table_evictions(t), 0);
		/* Touch 1: now 2 is the oldest. */
		CHECK(ioh_inode_lookup(t, 1, 1) != NULL);
		ioh_inode_get(t, 1, 4);
		CHECK_INT(ioh_inode_table_evictions(t), 1);
		CHECK_INT(ioh_inode_table_count(t), 3);
		CHECK(ioh_inode_lookup(t, 1, 2) == NULL);
		CHECK(ioh_inode_lookup(t, 1, 1) != NULL);
		CHECK(ioh_inode_lookup(t, 1, 3) != NULL);
		CHECK(ioh_inode_lookup(t, 1, 4) != NULL);
		/* Order now (newest first): 4 3 1 — the lookups above refreshed in turn. */
		ioh_inode_get(t, 1, 5);
		CHECK(ioh_inode_lookup(t, 1, 1) == NULL);
		CHECK_INT(ioh_inode_table_evictions(t), 2);
		/* get of an existing entry refreshes as well. */
		ioh_inode_get(t, 1, 3);
		ioh_inode_get(t, 1, 6); /* evicts 4 */
		CHECK(ioh_inode_lookup(t, 1, 4) == NULL);
		CHECK_INT(walk_count(t, &mask), 3);
		CHECK_INT(mask, (1ull << 3) | (1ull << 5) | (1ull << 6));
		/* An evicted entry comes back zeroed. */
		ioh_inode_lookup(t, 1, 3)->dirty_since_ns = 7;
		ioh_inode_get(t, 1, 7);
		ioh_inode_get(t, 1, 8);
		ioh_inode_get(t, 1, 9);
		CHECK_INT(ioh_inode_get(t, 1, 3)->dirty_since_ns, 0);
		CHECK_INT(ioh_inode_table_evictions(t), 7);
		ioh_inode_table_free(t);
	}

	TEST_CASE("capacity 1")
	{
		struct ioh_inode_table *t = ioh_inode_table_new(1);

		for (uint64_t i = 1; i <= 10; i++)
			CHECK_INT(ioh_inode_get(t, 1, i)->ino, i);
		CHECK_INT(ioh_inode_table_count(t), 1);
		CHECK_INT(ioh_inode_table_evictions(t), 9);
		CHECK(ioh_inode_lookup(t, 1, 10) != NULL);
		ioh_inode_table_free(t);
	}
}

static void test_remove(void)
{
	TEST_CASE("remove frees the slot for reuse without eviction")
	{
		struct ioh_inode_table *t = ioh_inode_table_new(3);
		struct ioh_inode_state *a, *b, *c, *d;
		uint64_t mask;

		a = ioh_inode_get(t, 1, 1);
		b = ioh_inode_get(t, 1, 2);
		c = ioh_inode_get(t, 1, 3);
		ioh_inode_remove(t, b);
		CHECK_INT(ioh_inode_table_count(t), 2);
		CHECK(ioh_inode_lookup(t, 1, 2) == NULL);
		CHECK_INT(walk_count(t, &mask), 2);
		CHECK_INT(mask, (1ull << 1) | (1ull << 3));
		d = ioh_inode_get(t, 1, 4);
		CHECK(d == b); /* the freed slot, not an eviction */
		CHECK_INT(ioh_inode_table_evictions(t), 0);
		CHECK(ioh_inode_lookup(t, 1, 1) == a);
		CHECK(ioh_inode_lookup(t, 1, 3) == c);
		/* LRU links survived the removal: the oldest now is 4 (1 and 3 were looked up). */
		ioh_inode_get(t, 1, 5);
		CHECK(ioh_inode_lookup(t, 1, 4) == NULL);
		CHECK_INT(ioh_inode_table_evictions(t), 1);

		/* Remove the head and the tail, then everything. */
		ioh_inode_remove(t, ioh_inode_lookup(t, 1, 5));
		ioh_inode_remove(t, ioh_inode_lookup(t, 1, 1));
		ioh_inode_remove(t, ioh_inode_lookup(t, 1, 3));
		CHECK_INT(ioh_inode_table_count(t), 0);
		CHECK_INT(walk_count(t, &mask), 0);
		for (uint64_t i = 10; i < 13; i++)
			ioh_inode_get(t, 1, i);
		CHECK_INT(ioh_inode_table_count(t), 3);
		CHECK_INT(ioh_inode_table_evictions(t), 1);
		ioh_inode_get(t, 1, 13); /* evicts 10, the oldest */
		CHECK(ioh_inode_lookup(t, 1, 10) == NULL);
		CHECK_INT(walk_count(t, &mask), 3);
		CHECK_INT(mask, (1ull << 11) | (1ull << 12) | (1ull << 13));
		ioh_inode_table_free(t);
	}
}

/* Random gets, lookups and removes against a model of (key -> last use) with LRU eviction. */
static void test_churn(void)
{
	TEST_CASE("churn against a model")
	{
		enum { CAP = 16, KEYS = 48, STEPS = 20000 };
		struct ioh_inode_table *t = ioh_inode_table_new(CAP);
		uint64_t last_use[KEYS] = {0}; /* 0: not in the table */
		uint64_t clock = 0, evictions = 0;
		unsigned seed = 12345, mismatches = 0;

		for (int step = 0; step < STEPS; step++) {
			unsigned op = rand_r(&seed) % 4, k = rand_r(&seed) % KEYS;
			uint32_t dev = k % 2 + 1;
			uint64_t ino = k;
			struct ioh_inode_state *st;
			unsigned live = 0;

			if (op == 0) { /* lookup */
				st = ioh_inode_lookup(t, dev, ino);
				if (!!st != !!last_use[k])
					mismatches++;
				if (st)
					last_use[k] = ++clock;
			} else if (op == 1) { /* remove if present */
				st = ioh_inode_lookup(t, dev, ino);
				if (st) {
					ioh_inode_remove(t, st);
					last_use[k] = 0;
				}
			} else { /* get */
				for (int i = 0; i < KEYS; i++)
					live += last_use[i] != 0;
				if (!last_use[k] && live == CAP) {
					int oldest = -1;

					for (int i = 0; i < KEYS; i++)
						if (last_use[i] &&
						    (oldest < 0 || last_use[i] < last_use[oldest]))
							oldest = i;
					last_use[oldest] = 0;
					evictions++;
				}
				st = ioh_inode_get(t, dev, ino);
				if (st->dev != dev || st->ino != ino)
					mismatches++;
				last_use[k] = ++clock;
			}
		}
		for (int i = 0; i < KEYS; i++)
			if (!!ioh_inode_lookup(t, i % 2 + 1, i) != !!last_use[i])
				mismatches++;
		CHECK_INT(mismatches, 0);
		CHECK_INT(ioh_inode_table_evictions(t), evictions);
		CHECK(evictions > 100); /* the run did exercise eviction */
		ioh_inode_table_free(t);
	}
}

int main(void)
{
	test_basics();
	test_generation();
	test_lru();
	test_remove();
	test_churn();
	return check_summary();
}
