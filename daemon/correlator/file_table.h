/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small bounded table of per-file items for detectors that remember a few files at a time
 * (a failed fsync, a mixed-access inode, a truncated file). Items live in a fixed array the
 * detector owns; each begins with a struct ioh_file_slot. When the table is full, the item
 * with the smallest `age_ns` (set by the detector: last seen, first seen...) is dropped and
 * counted as an eviction.
 *
 * Identity is (dev, ino, gen) as in inode_table.h: a generation of 0 means unknown and
 * matches any. Lookups scan the array (capacity is ~1000 and most events find the table
 * empty: `n_live` lets callers skip the scan).
 */
#ifndef IOH_FILE_TABLE_H
#define IOH_FILE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ioh_file_slot {
	bool live;
	uint32_t dev;
	uint32_t gen;
	uint64_t ino;
	uint64_t age_ns; /* eviction order: the smallest goes first */
};

struct ioh_file_table {
	void *items; /* `capacity` items of `item_size` bytes, each starting with a slot */
	size_t item_size;
	unsigned capacity;
	unsigned n_live;
	uint64_t evictions;
	/* Frees what an item points to, before the table zeroes it (optional). */
	void (*clear)(void *item, void *ctx);
	void *ctx;
};

/* Set up over a zeroed array, e.g. IOH_FILE_TABLE_INIT(&s->table, s->items, clear, s). */
#define IOH_FILE_TABLE_INIT(t, array, clear_fn, context)                                           \
	ioh_file_table_init((t), (array), sizeof((array)[0]), sizeof(array) / sizeof((array)[0]),  \
			    (clear_fn), (context))
void ioh_file_table_init(struct ioh_file_table *t, void *items, size_t item_size, unsigned capacity,
			 void (*clear)(void *item, void *ctx), void *ctx);
/* Clear every live item (the detector's fini). */
void ioh_file_table_fini(struct ioh_file_table *t);

/* The live item of this file, or NULL. */
void *ioh_file_table_find(struct ioh_file_table *t, uint32_t dev, uint64_t ino, uint32_t gen);
/* The live item of this file, or a new zeroed live one (evicting the oldest when full).
 * *created says which. Never NULL. */
void *ioh_file_table_get(struct ioh_file_table *t, uint32_t dev, uint64_t ino, uint32_t gen,
			 bool *created);
/* Clear an item and zero it; it stays live and keeps its key. */
void ioh_file_table_reset(struct ioh_file_table *t, void *item);
/* Clear an item and free its slot. */
void ioh_file_table_remove(struct ioh_file_table *t, void *item);
/* Walk the live items: start with *cursor = 0; NULL at the end. Removing the current item
 * during the walk is allowed. */
void *ioh_file_table_next(struct ioh_file_table *t, unsigned *cursor);

#endif
