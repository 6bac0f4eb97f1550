/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The rule registry: every rule (kind of finding) iohazard knows, once. Its name (the `rule`
 * of findings, design.md "Rule names"), its defaults, its journal MESSAGE_ID (the key of
 * packaging/iohazard.catalog) and the detector in daemon/detectors that makes it.
 *
 * Everything else reads this table: the rules parser (known rule kinds, defaults, "did you
 * mean"), the journal sink (MESSAGE_ID), the detectors (they name their rules by
 * enum ioh_rule_id, so a typo is a build error), `iohazard selftest`, and the unit test that
 * checks docs/hazards.md and docs/rules.md list every entry.
 *
 * It lives in daemon/rules, not daemon/detectors: the rules code and the CLI need it without
 * the detectors, and the detectors already depend on daemon/rules.
 */
#ifndef IOH_RULES_REGISTRY_H
#define IOH_RULES_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/correlator/severity.h"

enum ioh_rule_id {
	IOH_RULE_RENAME_WITHOUT_DIR_FSYNC,
	IOH_RULE_RENAME_UNSYNCED_SOURCE,
	IOH_RULE_MIXED_DIRECT_BUFFERED,
	IOH_RULE_DIRTY_THROTTLE_STALL,
	IOH_RULE_SPLICE_STALL,
	IOH_RULE_WRITEBACK_MOUNT,
	IOH_RULE_WRITEBACK_TRUNCATE_UNSYNCED,
	IOH_RULE_FSYNC_ERROR_RETRIED,
	IOH_RULE__COUNT,
};

struct ioh_rule_kind {
	const char *name;	    /* first member: parse.c's "did you mean" strides over it */
	enum ioh_severity severity; /* default `severity =` */
	uint64_t threshold_ns;	    /* default `threshold =`; 0 for rules that time nothing */
	const char *message_id;	    /* journal MESSAGE_ID, 32 hex digits (never change one) */
	const char *detector;	    /* struct ioh_detector.name of the detector making it */
};

/* Indexed by enum ioh_rule_id, in design.md's order. */
extern const struct ioh_rule_kind ioh_rule_kinds[IOH_RULE__COUNT];

/* The entry called `name`, or NULL. */
const struct ioh_rule_kind *ioh_rule_kind_find(const char *name);

static inline const char *ioh_rule_name(enum ioh_rule_id id)
{
	return ioh_rule_kinds[id].name;
}

#endif
