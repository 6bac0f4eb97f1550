// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "daemon/rules/registry.h"

#define MSEC 1000000ULL

/* MESSAGE_IDs were generated once with `systemd-id128 new`; packaging/iohazard.catalog keys
 * its entries by them, so they never change. */
const struct ioh_rule_kind ioh_rule_kinds[IOH_RULE__COUNT] = {
    [IOH_RULE_RENAME_WITHOUT_DIR_FSYNC] = {"rename-without-dir-fsync", IOH_SEV_WARNING, 0,
					   "82e1c9cf451148419450c3aab90f0204", "rename-durability"},
    [IOH_RULE_RENAME_UNSYNCED_SOURCE] = {"rename-unsynced-source", IOH_SEV_NOTICE, 0,
					 "44b2f282fc2448208c2e83ab5b3357b2", "rename-durability"},
    [IOH_RULE_MIXED_DIRECT_BUFFERED] = {"mixed-direct-buffered", IOH_SEV_CRITICAL, 0,
					"263999b0c7df44f08a0097c6b658daa3",
					"mixed-direct-buffered"},
    [IOH_RULE_DIRTY_THROTTLE_STALL] = {"dirty-throttle-stall", IOH_SEV_WARNING, 50 * MSEC,
				       "6086eda43a264916b3c7321fccf1553f", "dirty-throttle"},
    [IOH_RULE_SPLICE_STALL] = {"splice-stall", IOH_SEV_WARNING, 100 * MSEC,
			       "43950b6aefc34bbdb06882baf4f3b58f", "splice-stall"},
    [IOH_RULE_WRITEBACK_MOUNT] = {"writeback-mount", IOH_SEV_WARNING, 0,
				  "bf374d38058746df9dc427aba82a1026", "writeback-exposure"},
    [IOH_RULE_WRITEBACK_TRUNCATE_UNSYNCED] = {"writeback-truncate-unsynced", IOH_SEV_WARNING, 0,
					      "50572b38ffc14544a924da4e1bdcf377",
					      "writeback-exposure"},
    [IOH_RULE_FSYNC_ERROR_RETRIED] = {"fsync-error-retried", IOH_SEV_CRITICAL, 0,
				      "d98f7524e216486f8dc18f1693ca36f2", "fsync-error-retried"},
};

const struct ioh_rule_kind *ioh_rule_kind_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < IOH_RULE__COUNT; i++)
		if (strcmp(ioh_rule_kinds[i].name, name) == 0)
			return &ioh_rule_kinds[i];
	return NULL;
}
