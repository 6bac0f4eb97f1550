/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The correlator: decoded events in, findings out. Pure: it never touches BPF, the clock,
 * files or the network. Time comes only from event timestamps and ioh_correlator_advance(),
 * so unit tests, --replay and fuzzers drive it exactly as the daemon does.
 *
 * Ordering contract: before handling an event, every deadline at or before the event's
 * timestamp expires. A verdict therefore depends on timestamps only, never on when the
 * daemon happened to run its timer, and a replay reaches the same findings as the live run.
 * LOSS events are the exception: they carry the time the kernel's counters were read and do
 * not move the clock (see ioh_correlator_loss_overlaps()).
 */
#ifndef IOH_CORRELATOR_H
#define IOH_CORRELATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/correlator/event.h"
#include "daemon/correlator/finding.h"
#include "daemon/correlator/file_table.h"
#include "daemon/correlator/inode_table.h"
#include "daemon/rules/rules.h"

typedef void (*ioh_finding_cb)(const struct ioh_finding *finding, void *ctx);

struct ioh_correlator_config {
	uint32_t max_inodes;  /* per-inode state cap (LRU beyond it); 0: default 65536 */
	uint32_t max_pending; /* renames waiting for a directory fsync; 0: default 16384 */
};

/* Counters for status and metrics. Monotonic except the gauges marked so. */
struct ioh_correlator_stats {
	uint64_t events[IOH_EV_END + 1]; /* by enum ioh_event_type */
	uint64_t lost[IOH_LOSS__MAX];	 /* kernel-counted losses, by enum ioh_loss_where */
	uint64_t findings;
	uint64_t tracked_inodes; /* gauge */
	uint64_t inode_evictions;
	uint64_t pending_renames;    /* gauge */
	uint64_t pending_evictions;  /* renames dropped because the pending table was full */
	uint64_t renames_unresolved; /* renames whose directory could not be identified */
};

struct ioh_correlator;

struct ioh_correlator *ioh_correlator_new(const struct ioh_correlator_config *cfg,
					  const struct ioh_ruleset *rules, ioh_finding_cb cb,
					  void *cb_ctx);
void ioh_correlator_free(struct ioh_correlator *c);

void ioh_correlator_feed(struct ioh_correlator *c, const struct ioh_event *ev);
/* Expire every deadline at or before `now_ns`. */
void ioh_correlator_advance(struct ioh_correlator *c, uint64_t now_ns);
/* Swap in a new rule set (reload). Pending work keeps the settings it started with. The
 * rule set must outlive the correlator or the next set_rules call. */
void ioh_correlator_set_rules(struct ioh_correlator *c, const struct ioh_ruleset *rules);
void ioh_correlator_get_stats(const struct ioh_correlator *c, struct ioh_correlator_stats *st);
/* Call chains (daemon/stacks/table.h): STACK events are unwound into `stacks`, and findings of
 * a user call take their chain from it. Not owned; NULL (the default): no stack evidence. */
void ioh_correlator_set_stacks(struct ioh_correlator *c, struct ioh_stacks *stacks);

/* ---- for detectors (docs/architecture.md "The detector core") --------------------------- */

struct ioh_inode_table *ioh_correlator_inodes(struct ioh_correlator *c);
const struct ioh_ruleset *ioh_correlator_rules(const struct ioh_correlator *c);
/*
 * Whether the kernel may have lost a record between `start_ns` and `end_ns` (inclusive): a
 * LOSS event reported losses in an interval (since_ns, ts_ns] that meets this one. A verdict
 * that depends on every event of a window is degraded when this is true for the window: the
 * detectors call it when the window closes, so they need no LOSS handling of their own.
 * Correct only if LOSS events reach the correlator before any event later than the loss: the
 * daemon reads the kernel's counters before it feeds an event newer than its last read.
 */
bool ioh_correlator_loss_overlaps(const struct ioh_correlator *c, uint64_t start_ns,
				  uint64_t end_ns);
void ioh_correlator_emit(struct ioh_correlator *c, struct ioh_finding *f);

/* The enabled rules of one registry entry (their `detector`), in file order. */
const struct ioh_rule *const *ioh_correlator_rules_of(const struct ioh_correlator *c,
						      enum ioh_rule_id id, size_t *count);
/* Whether a rule applies to an event's task (`ev` NULL: no task, e.g. a mount) and file
 * (`path` NULL: unknown, matched as ""). */
bool ioh_correlator_rule_applies(const struct ioh_rule *rule, const char *path, const char *fstype,
				 const struct ioh_event *ev);
/* The first enabled rule of `id` that applies, or NULL. */
const struct ioh_rule *ioh_correlator_match(const struct ioh_correlator *c, enum ioh_rule_id id,
					    const char *path, const char *fstype,
					    const struct ioh_event *ev);
/* The same for stall rules: the first that applies and whose threshold `stall_ns` reaches. */
const struct ioh_rule *ioh_correlator_match_stall(const struct ioh_correlator *c,
						  enum ioh_rule_id id, uint64_t stall_ns,
						  const char *path, const char *fstype,
						  const struct ioh_event *ev);

/*
 * Start a finding of `rule` about the event's task at the event's time: the one place that
 * copies event fields into a finding's header. The detector adds the file, message, fix and
 * evidence. ioh_actor_from_event() keeps the same fields for a finding made later.
 */
void ioh_finding_from_event(struct ioh_finding *f, const struct ioh_rule *rule,
			    const struct ioh_event *ev);
void ioh_actor_from_event(struct ioh_actor *a, const struct ioh_event *ev);

/*
 * A detector: one file per hazard in daemon/detectors, listed in registry.c. It makes the
 * rules whose registry entry (daemon/rules/registry.c) names it, finds them with
 * ioh_correlator_match(), and is otherwise its on_event and its evidence. The core
 * allocates `state_size` zeroed bytes for it, keeps the rule lists, and accounts losses.
 */
struct ioh_detector {
	const char *name; /* as the registry's `detector` names it */
	size_t state_size;
	/* Optional: set up the state (allocations, tables); 0 or a negative errno. */
	int (*init)(void *state, const struct ioh_correlator_config *cfg);
	/* Optional: free what the state points to (the core frees the state). */
	void (*fini)(void *state);
	void (*on_event)(void *state, struct ioh_correlator *c, const struct ioh_event *ev);
	/* Optional: expire deadlines at or before now_ns. */
	void (*advance)(void *state, struct ioh_correlator *c, uint64_t now_ns);
	/* Optional: add the detector's gauges and counters. */
	void (*stats)(const void *state, struct ioh_correlator_stats *st);
	/* Optional, set with IOH_DETECTOR_FILE_TABLE(): the state's struct ioh_file_table. The
	 * core counts its evictions and clears it (before fini) when the correlator goes. */
	bool has_file_table;
	size_t file_table_offset;
};

#define IOH_DETECTOR_FILE_TABLE(state_type, member)                                                \
	.has_file_table = true, .file_table_offset = offsetof(state_type, member)

#endif
