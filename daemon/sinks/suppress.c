// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rules/rules.h"
#include "daemon/sinks/suppress.h"
#include "daemon/util/hash.h"
#include "daemon/util/timeops.h"

struct suppress_entry {
	uint64_t hash; /* of (rule, dev, ino, path, comm); 0: free slot */
	char rule[IOH_RULE_NAME_MAX];
	char comm[IOH_COMM_LEN];
	uint32_t dev;
	uint64_t ino;
	uint64_t path_hash;   /* the path is not kept: 64 bits tell paths of one inode apart */
	uint64_t reported_ns; /* last time it was let through */
	uint64_t seen_ns;     /* last occurrence, for eviction */
	uint64_t repeats;     /* suppressed since reported_ns */
};

struct ioh_suppressor {
	struct suppress_entry *entries;
	uint32_t capacity; /* power of two; open addressing, bounded probe */
	uint64_t suppressed;
	uint64_t evictions;
};

#define PROBE_MAX 16

/*
 * The path is part of the key because inode numbers are reused: ext4 and xfs give a deleted
 * file's number to the next file created, so a program that recreates files (a new segment
 * each time, say) would otherwise see its findings about new files dropped as repeats.
 */
static uint64_t path_hash(const struct ioh_finding *f)
{
	return ioh_fnv1a_str(IOH_FNV1A_INIT, f->path);
}

static uint64_t key_hash(const struct ioh_finding *f, uint64_t path_h)
{
	uint64_t h = ioh_fnv1a_str(ioh_fnv1a_str(IOH_FNV1A_INIT, f->rule), f->comm);

	h ^= f->file.ino * 0x9E3779B97F4A7C15ull;
	h ^= (uint64_t)f->file.dev << 17;
	h ^= path_h * 0xC2B2AE3D27D4EB4Full;
	return h ? h : 1;
}

struct ioh_suppressor *ioh_suppressor_new(uint32_t capacity)
{
	struct ioh_suppressor *s = calloc(1, sizeof(*s));
	uint32_t cap = PROBE_MAX;

	if (!s)
		return NULL;
	while (cap < capacity)
		cap <<= 1;
	s->entries = calloc(cap, sizeof(*s->entries));
	if (!s->entries) {
		free(s);
		return NULL;
	}
	s->capacity = cap;
	return s;
}

void ioh_suppressor_free(struct ioh_suppressor *s)
{
	if (!s)
		return;
	free(s->entries);
	free(s);
}

static bool same_key(const struct suppress_entry *e, uint64_t h, uint64_t path_h,
		     const struct ioh_finding *f)
{
	return e->hash == h && e->dev == f->file.dev && e->ino == f->file.ino &&
	       e->path_hash == path_h && strncmp(e->rule, f->rule, sizeof(e->rule)) == 0 &&
	       strncmp(e->comm, f->comm, sizeof(e->comm)) == 0;
}

bool ioh_suppressor_check(struct ioh_suppressor *s, const struct ioh_finding *f, uint64_t window_ns,
			  uint64_t *repeats)
{
	uint64_t path_h = path_hash(f), h = key_hash(f, path_h);
	struct suppress_entry *victim = NULL, *e;

	*repeats = 0;
	if (window_ns == 0)
		return true;
	for (uint32_t i = 0; i < PROBE_MAX; i++) {
		e = &s->entries[(h + i) & (s->capacity - 1)];
		if (same_key(e, h, path_h, f)) {
			e->seen_ns = f->ts_ns;
			if (f->ts_ns < ioh_deadline_ns(e->reported_ns, window_ns)) {
				e->repeats++;
				s->suppressed++;
				return false;
			}
			*repeats = e->repeats;
			e->repeats = 0;
			e->reported_ns = f->ts_ns;
			return true;
		}
		/* New keys take the first free slot of the window, else its least recently
		 * seen key. Slots are never emptied, so lookups scan the whole window. */
		if (e->hash == 0) {
			if (!victim || victim->hash)
				victim = e;
		} else if (!victim || (victim->hash && e->seen_ns < victim->seen_ns)) {
			victim = e;
		}
	}
	if (victim->hash)
		s->evictions++;
	memset(victim, 0, sizeof(*victim));
	victim->hash = h;
	snprintf(victim->rule, sizeof(victim->rule), "%s", f->rule);
	memcpy(victim->comm, f->comm, sizeof(victim->comm));
	victim->dev = f->file.dev;
	victim->ino = f->file.ino;
	victim->path_hash = path_h;
	victim->reported_ns = victim->seen_ns = f->ts_ns;
	return true;
}

void ioh_suppressor_report(struct ioh_suppressor *s, const struct ioh_ruleset *rules,
			   const struct ioh_finding *f, ioh_report_fn out, void *ctx)
{
	const struct ioh_rule *rule = rules ? ioh_ruleset_find(rules, f->rule) : NULL;
	uint64_t repeats;
	struct ioh_finding copy;

	if (!ioh_suppressor_check(s, f, rule ? rule->suppress_ns : 0, &repeats))
		return;
	if (!repeats) {
		out(f, ctx);
		return;
	}
	copy = *f;
	ioh_finding_add_uint(&copy, "suppressed_repeats", repeats);
	out(&copy, ctx);
}

uint64_t ioh_suppressor_suppressed(const struct ioh_suppressor *s)
{
	return s->suppressed;
}

uint64_t ioh_suppressor_evictions(const struct ioh_suppressor *s)
{
	return s->evictions;
}
