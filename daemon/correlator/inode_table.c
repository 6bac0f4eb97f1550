// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "daemon/correlator/inode_table.h"

/* Buckets per entry: 2 keeps chains short at full load (load factor 0.5). */
#define BUCKETS_PER_ENTRY 2

struct ioh_inode_table {
	struct ioh_inode_state *entries;
	uint32_t *buckets; /* head entry index per bucket */
	uint32_t bucket_mask;
	uint32_t capacity;
	uint32_t count;
	uint32_t next_unused; /* entries[next_unused..] were never handed out */
	uint32_t free_head;   /* removed entries, chained through hash_next */
	uint32_t lru_head;    /* most recently used */
	uint32_t lru_tail;    /* least recently used: the next to evict */
	uint64_t evictions;
	uint64_t reused;
};

static uint32_t hash_key(uint32_t dev, uint64_t ino)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ull ^ ((uint64_t)dev << 32 | dev);

	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

struct ioh_inode_table *ioh_inode_table_new(uint32_t capacity)
{
	struct ioh_inode_table *t;
	uint64_t nb = 1;

	if (capacity == 0 || capacity >= IOH_INODE_NIL / BUCKETS_PER_ENTRY)
		return NULL;
	while (nb < (uint64_t)capacity * BUCKETS_PER_ENTRY)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->entries = calloc(capacity, sizeof(*t->entries));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (!t->entries || !t->buckets) {
		ioh_inode_table_free(t);
		return NULL;
	}
	memset(t->buckets, 0xff, nb * sizeof(*t->buckets));
	t->bucket_mask = (uint32_t)(nb - 1);
	t->capacity = capacity;
	t->free_head = IOH_INODE_NIL;
	t->lru_head = t->lru_tail = IOH_INODE_NIL;
	return t;
}

void ioh_inode_table_free(struct ioh_inode_table *t)
{
	if (!t)
		return;
	free(t->entries);
	free(t->buckets);
	free(t);
}

static uint32_t index_of(const struct ioh_inode_table *t, const struct ioh_inode_state *st)
{
	return (uint32_t)(st - t->entries);
}

static void lru_unlink(struct ioh_inode_table *t, uint32_t i)
{
	struct ioh_inode_state *e = &t->entries[i];

	if (e->lru_prev != IOH_INODE_NIL)
		t->entries[e->lru_prev].lru_next = e->lru_next;
	else
		t->lru_head = e->lru_next;
	if (e->lru_next != IOH_INODE_NIL)
		t->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		t->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = IOH_INODE_NIL;
}

static void lru_push_head(struct ioh_inode_table *t, uint32_t i)
{
	struct ioh_inode_state *e = &t->entries[i];

	e->lru_prev = IOH_INODE_NIL;
	e->lru_next = t->lru_head;
	if (t->lru_head != IOH_INODE_NIL)
		t->entries[t->lru_head].lru_prev = i;
	t->lru_head = i;
	if (t->lru_tail == IOH_INODE_NIL)
		t->lru_tail = i;
}

static void hash_unlink(struct ioh_inode_table *t, uint32_t i)
{
	struct ioh_inode_state *e = &t->entries[i];
	uint32_t *link = &t->buckets[hash_key(e->dev, e->ino) & t->bucket_mask];

	while (*link != IOH_INODE_NIL) {
		if (*link == i) {
			*link = e->hash_next;
			return;
		}
		link = &t->entries[*link].hash_next;
	}
}

struct ioh_inode_state *ioh_inode_lookup(struct ioh_inode_table *t, uint32_t dev, uint64_t ino)
{
	uint32_t i = t->buckets[hash_key(dev, ino) & t->bucket_mask];

	while (i != IOH_INODE_NIL) {
		struct ioh_inode_state *e = &t->entries[i];

		if (e->ino == ino && e->dev == dev) {
			if (t->lru_head != i) {
				lru_unlink(t, i);
				lru_push_head(t, i);
			}
			return e;
		}
		i = e->hash_next;
	}
	return NULL;
}

void ioh_inode_remove(struct ioh_inode_table *t, struct ioh_inode_state *st)
{
	uint32_t i = index_of(t, st);

	hash_unlink(t, i);
	lru_unlink(t, i);
	memset(st, 0, sizeof(*st));
	st->hash_next = t->free_head;
	st->lru_prev = st->lru_next = IOH_INODE_NIL;
	t->free_head = i;
	t->count--;
}

struct ioh_inode_state *ioh_inode_get(struct ioh_inode_table *t, uint32_t dev, uint64_t ino)
{
	struct ioh_inode_state *e = ioh_inode_lookup(t, dev, ino);
	uint32_t i, b;

	if (e)
		return e;
	if (t->free_head != IOH_INODE_NIL) {
		i = t->free_head;
		t->free_head = t->entries[i].hash_next;
	} else if (t->next_unused < t->capacity) {
		i = t->next_unused++;
	} else {
		i = t->lru_tail;
		ioh_inode_remove(t, &t->entries[i]);
		t->evictions++;
		t->free_head = t->entries[i].hash_next;
	}
	e = &t->entries[i];
	memset(e, 0, sizeof(*e));
	e->dev = dev;
	e->ino = ino;
	e->in_use = 1;
	b = hash_key(dev, ino) & t->bucket_mask;
	e->hash_next = t->buckets[b];
	t->buckets[b] = i;
	e->lru_prev = e->lru_next = IOH_INODE_NIL;
	lru_push_head(t, i);
	t->count++;
	return e;
}

/* Another known generation: the entry describes a deleted file that had this number. */
static bool other_file(const struct ioh_inode_state *e, uint32_t gen)
{
	return gen && e->gen && e->gen != gen;
}

struct ioh_inode_state *ioh_inode_lookup_gen(struct ioh_inode_table *t, uint32_t dev, uint64_t ino,
					     uint32_t gen)
{
	struct ioh_inode_state *e = ioh_inode_lookup(t, dev, ino);

	if (!e)
		return NULL;
	if (other_file(e, gen)) {
		ioh_inode_remove(t, e);
		t->reused++;
		return NULL;
	}
	if (!e->gen)
		e->gen = gen;
	return e;
}

struct ioh_inode_state *ioh_inode_get_gen(struct ioh_inode_table *t, uint32_t dev, uint64_t ino,
					  uint32_t gen)
{
	struct ioh_inode_state *e = ioh_inode_get(t, dev, ino);

	if (other_file(e, gen)) {
		/* Keep the slot and its links, forget the dead file's state. */
		e->dirtier_pid = 0;
		e->dirty_since_ns = 0;
		e->last_sync_ns = 0;
		e->last_clean_ns = 0;
		t->reused++;
		e->gen = gen;
	} else if (!e->gen) {
		e->gen = gen;
	}
	return e;
}

struct ioh_inode_state *ioh_inode_table_next(struct ioh_inode_table *t, uint32_t *cursor)
{
	while (*cursor < t->next_unused) {
		struct ioh_inode_state *e = &t->entries[(*cursor)++];

		if (e->in_use)
			return e;
	}
	return NULL;
}

uint32_t ioh_inode_table_count(const struct ioh_inode_table *t)
{
	return t->count;
}

uint32_t ioh_inode_table_capacity(const struct ioh_inode_table *t)
{
	return t->capacity;
}

uint64_t ioh_inode_table_evictions(const struct ioh_inode_table *t)
{
	return t->evictions;
}

uint64_t ioh_inode_table_reused(const struct ioh_inode_table *t)
{
	return t->reused;
}

size_t ioh_inode_table_bytes_per_entry(void)
{
	return sizeof(struct ioh_inode_state) + BUCKETS_PER_ENTRY * sizeof(uint32_t);
}
