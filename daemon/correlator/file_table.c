// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "daemon/correlator/file_table.h"

static struct ioh_file_slot *slot_at(const struct ioh_file_table *t, unsigned i)
{
	return (struct ioh_file_slot *)((char *)t->items + (size_t)i * t->item_size);
}

static bool slot_is(const struct ioh_file_slot *s, uint32_t dev, uint64_t ino, uint32_t gen)
{
	return s->live && s->dev == dev && s->ino == ino && (!gen || !s->gen || s->gen == gen);
}

void ioh_file_table_init(struct ioh_file_table *t, void *items, size_t item_size, unsigned capacity,
			 void (*clear)(void *item, void *ctx), void *ctx)
{
	*t = (struct ioh_file_table){.items = items,
				     .item_size = item_size,
				     .capacity = capacity,
				     .clear = clear,
				     .ctx = ctx};
}

void ioh_file_table_fini(struct ioh_file_table *t)
{
	for (unsigned i = 0; i < t->capacity; i++)
		if (slot_at(t, i)->live)
			ioh_file_table_remove(t, slot_at(t, i));
}

void *ioh_file_table_find(struct ioh_file_table *t, uint32_t dev, uint64_t ino, uint32_t gen)
{
	if (!t->n_live)
		return NULL;
	for (unsigned i = 0; i < t->capacity; i++)
		if (slot_is(slot_at(t, i), dev, ino, gen))
			return slot_at(t, i);
	return NULL;
}

void ioh_file_table_reset(struct ioh_file_table *t, void *item)
{
	struct ioh_file_slot key = *(struct ioh_file_slot *)item;

	if (t->clear)
		t->clear(item, t->ctx);
	memset(item, 0, t->item_size);
	*(struct ioh_file_slot *)item = key;
}

void ioh_file_table_remove(struct ioh_file_table *t, void *item)
{
	if (t->clear)
		t->clear(item, t->ctx);
	memset(item, 0, t->item_size);
	t->n_live--;
}

void *ioh_file_table_get(struct ioh_file_table *t, uint32_t dev, uint64_t ino, uint32_t gen,
			 bool *created)
{
	struct ioh_file_slot *free_slot = NULL, *oldest = NULL;

	for (unsigned i = 0; i < t->capacity; i++) {
		struct ioh_file_slot *s = slot_at(t, i);

		if (slot_is(s, dev, ino, gen)) {
			*created = false;
			return s;
		}
		if (!s->live && !free_slot)
			free_slot = s;
		if (s->live && (!oldest || s->age_ns < oldest->age_ns))
			oldest = s;
	}
	if (!free_slot) {
		ioh_file_table_remove(t, oldest);
		t->evictions++;
		free_slot = oldest;
	}
	*free_slot = (struct ioh_file_slot){.live = true, .dev = dev, .gen = gen, .ino = ino};
	t->n_live++;
	*created = true;
	return free_slot;
}

void *ioh_file_table_next(struct ioh_file_table *t, unsigned *cursor)
{
	if (!t->n_live)
		return NULL; /* the common case: nothing tracked, no scan */
	while (*cursor < t->capacity) {
		struct ioh_file_slot *s = slot_at(t, (*cursor)++);

		if (s->live)
			return s;
	}
	return NULL;
}
