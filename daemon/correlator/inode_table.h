/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-inode state shared by the detectors, with a hard cap: when full, the least
 * recently used inode is evicted and counted (iohazard_state_evictions_total). Entries live
 * in one preallocated array linked by 32-bit indices, so memory is capacity * (entry +
 * 2 bucket words) and never grows with the workload (bench/ checks the per-inode figure).
 */
#ifndef IOH_INODE_TABLE_H
#define IOH_INODE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Identity: one entry per (dev, ino), holding the i_generation of the file it describes. ext4
 * and xfs give a deleted file's inode number to the next file at once; the generation tells
 * the two apart, so the _gen calls below never hand a new file the state of the deleted one
 * (a generation of 0 means unknown and matches any; see docs/hazards.md "Identity").
 */
struct ioh_inode_state {
	uint64_t ino;
	uint32_t dev;		 /* kernel encoding */
	uint32_t gen;		 /* i_generation of the file this state is about, 0: unknown */
	uint64_t dirty_since_ns; /* 0: no unsynced dirty data known */
	uint64_t last_sync_ns;	 /* last successful fsync/fdatasync on it, 0: none seen */
	uint64_t last_clean_ns;	 /* last writeback pass that left it clean */
	uint32_t dirtier_pid;	 /* task that made it dirty most recently (evidence) */
	/* Table bookkeeping: indices into the entry array, IOH_INODE_NIL for none. */
	uint32_t lru_prev;
	uint32_t lru_next;
	uint32_t hash_next;
	uint32_t in_use;
};

#define IOH_INODE_NIL UINT32_MAX

struct ioh_inode_table;

struct ioh_inode_table *ioh_inode_table_new(uint32_t capacity);
void ioh_inode_table_free(struct ioh_inode_table *t);

/* The entry, marked most recently used, or NULL. */
struct ioh_inode_state *ioh_inode_lookup(struct ioh_inode_table *t, uint32_t dev, uint64_t ino);
/* The entry, created zeroed (evicting the least recently used one if full). Never NULL. */
struct ioh_inode_state *ioh_inode_get(struct ioh_inode_table *t, uint32_t dev, uint64_t ino);
void ioh_inode_remove(struct ioh_inode_table *t, struct ioh_inode_state *st);

/*
 * The same for one file, identified by its generation too. `gen` 0 (unknown) matches any
 * entry. An entry holding another known generation is a deleted file's that had the same
 * number: lookup_gen removes it and returns NULL; get_gen resets it to a zeroed entry for
 * `gen` (counted in ioh_inode_table_reused). An entry with generation 0 adopts `gen`.
 */
struct ioh_inode_state *ioh_inode_lookup_gen(struct ioh_inode_table *t, uint32_t dev, uint64_t ino,
					     uint32_t gen);
struct ioh_inode_state *ioh_inode_get_gen(struct ioh_inode_table *t, uint32_t dev, uint64_t ino,
					  uint32_t gen);

/* Iterate over live entries: start with *cursor = 0; NULL at the end. The table must not be
 * modified during the walk. */
struct ioh_inode_state *ioh_inode_table_next(struct ioh_inode_table *t, uint32_t *cursor);

uint32_t ioh_inode_table_count(const struct ioh_inode_table *t);
uint32_t ioh_inode_table_capacity(const struct ioh_inode_table *t);
uint64_t ioh_inode_table_evictions(const struct ioh_inode_table *t);
/* Entries dropped or reset because their inode number now belongs to another file. */
uint64_t ioh_inode_table_reused(const struct ioh_inode_table *t);
/* Bytes allocated per tracked inode at capacity (entry + hash buckets). */
size_t ioh_inode_table_bytes_per_entry(void);

#endif
