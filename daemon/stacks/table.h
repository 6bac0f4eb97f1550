/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The last unwound chain per (pid, callsite) (issue 15). The kernel sends a STACK record only
 * for the first call of a call site in a while (bpf/stacks.bpf.h: dedupe, budget); hazard
 * records of the same call site carry only its key, so their findings take the chain kept
 * here. STACK events are unwound as they arrive (daemon/stacks/unwind.c), in the live daemon
 * and in a replay alike, and the chain is attached when a finding is emitted
 * (ioh_correlator_emit), however much later that is.
 *
 * Bounded: IOH_STACK_TABLE_WAYS-way sets, the least recently used entry of a full set is
 * evicted (counted). A finding whose chain is not here says "omitted", never guesses.
 */
#ifndef IOH_STACKS_TABLE_H
#define IOH_STACKS_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/stacks/stack.h"

struct ioh_event;

#define IOH_STACK_TABLE_DEFAULT 1024
#define IOH_STACK_TABLE_WAYS 4

/* A chain as a finding shows it; frames borrowed from the table (valid during the emit). */
/*
 * A chain's "stack" array as JSON: rendered once, by the first finding that shows the chain
 * (daemon/sinks/finding_format.c), and reused by every later finding of that call site. A
 * storm of findings from one call site would otherwise escape the same frames each time
 * (a 64-frame interpreter chain made each finding ~15x dearer and stalled the loop for
 * seconds when 10,000 rename deadlines expired at once). Freed with its table entry.
 */
struct ioh_stack_json {
	char *text;
	size_t len;
};

struct ioh_stack_chain {
	enum ioh_stack_status status; /* IOH_STACK_NONE: the finding has no user call */
	uint32_t n_frames;
	const struct ioh_stack_frame *frames;
	struct ioh_stack_json *json; /* the entry's cache; NULL: render every time */
};

struct ioh_stacks_stats {
	uint64_t snapshots;		    /* STACK events unwound */
	uint64_t ok, truncated, unresolved; /* by the status of their chain */
	uint64_t evictions;		    /* chains dropped for room */
	uint64_t attached;		    /* findings given a chain */
	uint64_t omitted;		    /* findings of a user call without one */
	uint32_t entries, capacity;
};

struct ioh_stacks;

/* `capacity` chains (rounded up to a multiple of IOH_STACK_TABLE_WAYS; 0: the default). */
struct ioh_stacks *ioh_stacks_new(uint32_t capacity);
void ioh_stacks_free(struct ioh_stacks *t);

/* Off (--no-stacks, `stacks = no`): findings say "disabled"; STACK events still in a
 * recording are ignored. */
void ioh_stacks_set_enabled(struct ioh_stacks *t, bool on);
bool ioh_stacks_enabled(const struct ioh_stacks *t);

/* An IOH_EV_STACK event: unwind it and keep the chain under (pid, callsite). */
void ioh_stacks_feed(struct ioh_stacks *t, const struct ioh_event *ev);

/* The chain of a user call for a finding: the kept chain of (pid, callsite), else OMITTED
 * (callsite 0: the kernel took none; or no chain kept), or DISABLED. */
void ioh_stacks_lookup(struct ioh_stacks *t, uint32_t pid, uint64_t callsite,
		       struct ioh_stack_chain *out);

void ioh_stacks_get_stats(const struct ioh_stacks *t, struct ioh_stacks_stats *st);

/* "ok", "truncated", "omitted", "disabled", "unresolved"; NULL for IOH_STACK_NONE. */
const char *ioh_stack_status_name(enum ioh_stack_status s);

/* libc.so.6, libc-2.31.so, libpthread.so.0, ld-linux-x86-64.so.2: the frames a call site
 * looks past (also the CLI's, cli/finding_text.c). */
bool ioh_stack_is_libc_module(const char *path);

/* The first frame outside the C library (and the dynamic loader), the one text output names;
 * NULL when the chain has none. */
const struct ioh_stack_frame *ioh_stack_first_app_frame(const struct ioh_stack_chain *c);

#endif
