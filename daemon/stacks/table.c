// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "daemon/correlator/event.h"
#include "daemon/stacks/table.h"

struct entry {
	uint32_t pid;
	uint64_t callsite; /* 0: free */
	uint64_t used;	   /* LRU clock */
	enum ioh_stack_status status;
	uint32_t n_frames;
	struct ioh_stack_frame *frames;
	struct ioh_stack_json json;
};

struct ioh_stacks {
	struct ioh_unwinder *unwinder;
	struct entry *entries;
	uint32_t sets;
	uint64_t clock;
	bool enabled;
	struct ioh_stacks_stats st;
	struct ioh_stack_frame frames[IOH_STACK_FRAMES_MAX]; /* ioh_unwind()'s output */
};

struct ioh_stacks *ioh_stacks_new(uint32_t capacity)
{
	struct ioh_stacks *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (!capacity)
		capacity = IOH_STACK_TABLE_DEFAULT;
	t->sets = (capacity + IOH_STACK_TABLE_WAYS - 1) / IOH_STACK_TABLE_WAYS;
	t->entries = calloc((size_t)t->sets * IOH_STACK_TABLE_WAYS, sizeof(*t->entries));
	t->unwinder = ioh_unwinder_new();
	if (!t->entries || !t->unwinder) {
		ioh_stacks_free(t);
		return NULL;
	}
	t->enabled = true;
	t->st.capacity = t->sets * IOH_STACK_TABLE_WAYS;
	return t;
}

void ioh_stacks_free(struct ioh_stacks *t)
{
	if (!t)
		return;
	if (t->entries)
		for (uint32_t i = 0; i < t->sets * IOH_STACK_TABLE_WAYS; i++) {
			free(t->entries[i].frames);
			free(t->entries[i].json.text);
		}
	free(t->entries);
	if (t->unwinder)
		ioh_unwinder_free(t->unwinder);
	free(t);
}

void ioh_stacks_set_enabled(struct ioh_stacks *t, bool on)
{
	t->enabled = on;
}

bool ioh_stacks_enabled(const struct ioh_stacks *t)
{
	return t->enabled;
}

static struct entry *set_of(struct ioh_stacks *t, uint32_t pid, uint64_t callsite)
{
	uint64_t h = (callsite ^ ((uint64_t)pid * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;

	return &t->entries[(size_t)((h >> 32) % t->sets) * IOH_STACK_TABLE_WAYS];
}

static struct entry *find(struct ioh_stacks *t, uint32_t pid, uint64_t callsite)
{
	struct entry *set = set_of(t, pid, callsite);

	for (int i = 0; i < IOH_STACK_TABLE_WAYS; i++)
		if (set[i].callsite == callsite && set[i].pid == pid)
			return &set[i];
	return NULL;
}

/* The entry for (pid, callsite): its own, a free one, or the least recently used of the set
 * (evicted). */
static struct entry *slot_for(struct ioh_stacks *t, uint32_t pid, uint64_t callsite)
{
	struct entry *set = set_of(t, pid, callsite), *victim = &set[0];

	for (int i = 0; i < IOH_STACK_TABLE_WAYS; i++) {
		if (set[i].callsite == callsite && set[i].pid == pid)
			return &set[i];
		if (!set[i].callsite) {
			t->st.entries++;
			return &set[i];
		}
		if (set[i].used < victim->used)
			victim = &set[i];
	}
	t->st.evictions++;
	return victim;
}

void ioh_stacks_feed(struct ioh_stacks *t, const struct ioh_event *ev)
{
	enum ioh_stack_status status = IOH_STACK_UNRESOLVED;
	struct ioh_stack_snapshot snap;
	struct ioh_stack_frame *copy = NULL;
	struct entry *e;
	int n;

	if (!t->enabled || ev->type != IOH_EV_STACK || !ev->stack.callsite)
		return;
	snap = ev->stack;
	snap.pid = ev->pid; /* the event's header is authoritative */
	n = ioh_unwind(t->unwinder, &snap, t->frames, IOH_STACK_FRAMES_MAX, &status);
	if (n < 0)
		n = 0;
	if (n > IOH_STACK_FRAMES_MAX)
		n = IOH_STACK_FRAMES_MAX;
	t->st.snapshots++;
	if (status == IOH_STACK_OK)
		t->st.ok++;
	else if (status == IOH_STACK_TRUNCATED)
		t->st.truncated++;
	else
		t->st.unresolved++;
	if (n > 0) {
		copy = malloc((size_t)n * sizeof(*copy));
		if (!copy)
			return;
		memcpy(copy, t->frames, (size_t)n * sizeof(*copy));
	}
	e = slot_for(t, ev->pid, snap.callsite);
	free(e->frames);
	free(e->json.text);
	e->json.text = NULL;
	e->json.len = 0;
	e->pid = ev->pid;
	e->callsite = snap.callsite;
	e->used = ++t->clock;
	e->status = status;
	e->n_frames = (uint32_t)n;
	e->frames = copy;
}

void ioh_stacks_lookup(struct ioh_stacks *t, uint32_t pid, uint64_t callsite,
		       struct ioh_stack_chain *out)
{
	struct entry *e;

	memset(out, 0, sizeof(*out));
	if (!t->enabled) {
		out->status = IOH_STACK_DISABLED;
		return;
	}
	e = callsite ? find(t, pid, callsite) : NULL;
	if (!e) {
		out->status = IOH_STACK_OMITTED;
		t->st.omitted++;
		return;
	}
	e->used = ++t->clock;
	out->status = e->status;
	out->n_frames = e->n_frames;
	out->frames = e->frames;
	out->json = &e->json;
	t->st.attached++;
}

void ioh_stacks_get_stats(const struct ioh_stacks *t, struct ioh_stacks_stats *st)
{
	*st = t->st;
}

const char *ioh_stack_status_name(enum ioh_stack_status s)
{
	switch (s) {
	case IOH_STACK_NONE:
		return NULL;
	case IOH_STACK_OK:
		return "ok";
	case IOH_STACK_TRUNCATED:
		return "truncated";
	case IOH_STACK_OMITTED:
		return "omitted";
	case IOH_STACK_DISABLED:
		return "disabled";
	case IOH_STACK_UNRESOLVED:
		return "unresolved";
	}
	return NULL;
}

bool ioh_stack_is_libc_module(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	base = base ? base + 1 : path;
	if (!base)
		return false;
	return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0 ||
	       strncmp(base, "libpthread", 10) == 0 || strncmp(base, "ld-linux", 8) == 0;
}

const struct ioh_stack_frame *ioh_stack_first_app_frame(const struct ioh_stack_chain *c)
{
	for (uint32_t i = 0; i < c->n_frames; i++)
		if (c->frames[i].module && !ioh_stack_is_libc_module(c->frames[i].module))
			return &c->frames[i];
	return NULL;
}
