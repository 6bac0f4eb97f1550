// SPDX-License-Identifier: GPL-2.0-only
/*
 * Values of rule keys: durations, sizes, booleans, string lists, and the matching of a rule
 * against one occurrence. Pure functions, no I/O: the correlator calls ioh_rule_matches() on
 * its hot path, so it allocates nothing.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rules/rules-internal.h"

struct unit {
	const char *suffix;
	uint64_t factor;
};

#define NSEC_PER_SEC 1000000000ULL

static const struct unit duration_units[] = {
    {"", NSEC_PER_SEC}, /* a bare number is seconds, as rules are written by humans */
    {"ns", 1},
    {"us", 1000},
    {"ms", 1000000},
    {"s", NSEC_PER_SEC},
    {"m", 60 * NSEC_PER_SEC},
    {"min", 60 * NSEC_PER_SEC},
    {"h", 3600 * NSEC_PER_SEC},
    {"d", 86400 * NSEC_PER_SEC},
};

/*
 * Binary multiples only, also for "k", "KB" and "M": the quantities rules talk about (page
 * cache, dirty limits, I/O sizes) are powers of two, and a "4k" that silently meant 4000
 * would be a trap. docs/rules.md says so.
 */
static const struct unit size_units[] = {
    {"", 1},	       {"B", 1},	   {"k", 1ULL << 10},
    {"K", 1ULL << 10}, {"KB", 1ULL << 10}, {"KiB", 1ULL << 10},
    {"M", 1ULL << 20}, {"MB", 1ULL << 20}, {"MiB", 1ULL << 20},
    {"G", 1ULL << 30}, {"GB", 1ULL << 30}, {"GiB", 1ULL << 30},
    {"T", 1ULL << 40}, {"TB", 1ULL << 40}, {"TiB", 1ULL << 40},
};

/* Digits then a suffix from `units`; no sign, no spaces, no fractions (so no rounding). */
static int parse_with_units(const char *text, const struct unit *units, size_t nunits,
			    uint64_t *out)
{
	const char *p = text;
	uint64_t value = 0;
	bool overflow = false;

	if (!text || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (value > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			value = value * 10 + digit;
	}
	for (size_t i = 0; i < nunits; i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (overflow || (value && units[i].factor > UINT64_MAX / value))
			return -ERANGE;
		*out = value * units[i].factor;
		return 0;
	}
	return -EINVAL;
}

int ioh_parse_duration(const char *text, uint64_t *ns)
{
	return parse_with_units(text, duration_units,
				sizeof(duration_units) / sizeof(duration_units[0]), ns);
}

int ioh_parse_size(const char *text, uint64_t *bytes)
{
	return parse_with_units(text, size_units, sizeof(size_units) / sizeof(size_units[0]),
				bytes);
}

int ioh_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int ioh_strlist_append(struct ioh_strlist *list, const char *item)
{
	char *copy = strdup(item);
	char **items;

	if (!copy)
		return -ENOMEM;
	items = realloc(list->items, (list->count + 1) * sizeof(*items));
	if (!items) {
		free(copy);
		return -ENOMEM;
	}
	items[list->count++] = copy;
	list->items = items;
	return 0;
}

void ioh_strlist_free(struct ioh_strlist *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

unsigned ioh_edit_distance(const char *a, const char *b, unsigned cap)
{
	/* Two rows of the classic DP; names longer than this never get a suggestion. */
	unsigned prev[IOH_RULE_NAME_MAX + 1], cur[IOH_RULE_NAME_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > IOH_RULE_NAME_MAX || lb > IOH_RULE_NAME_MAX)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned row_min;

		cur[0] = (unsigned)i;
		row_min = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			if (cur[j] < row_min)
				row_min = cur[j];
		}
		if (row_min > cap)
			return cap + 1;
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

/*
 * Disk-backed filesystems, where a crash loses what was not made durable. Network
 * filesystems (nfs, cifs/smb3, ceph, glusterfs) are deliberately not here: their metadata
 * operations are synchronous on the server, write-back errors surface at close(2), and the
 * local-crash patterns the detectors look for do not carry over; a rule can still opt in with
 * `fstypes = nfs4`. Anything unknown counts as not persistent, so pseudo filesystems added by
 * new kernels do not start producing findings.
 */
static const char *const persistent_fstypes[] = {
    "ext2",   "ext3",	  "ext4", "ext4dev", "xfs",  "btrfs", "f2fs",  "jfs",	"reiserfs",
    "nilfs2", "bcachefs", "zfs",  "ocfs2",   "gfs2", "vfat",  "msdos", "fat",	"exfat",
    "ntfs",   "ntfs3",	  "hfs",  "hfsplus", "udf",  "ufs",   "minix", "jffs2", "ubifs",
};

bool ioh_fstype_is_persistent(const char *fstype)
{
	if (!fstype)
		return false;
	for (size_t i = 0; i < sizeof(persistent_fstypes) / sizeof(persistent_fstypes[0]); i++)
		if (strcmp(fstype, persistent_fstypes[i]) == 0)
			return true;
	return false;
}

static bool list_matches(const struct ioh_strlist *list, const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < list->count; i++)
		if (fnmatch(list->items[i], s, 0) == 0)
			return true;
	return false;
}

bool ioh_rule_matches(const struct ioh_rule *rule, const char *path, const char *fstype,
		      const char *comm, const char *unit)
{
	if (!rule || !rule->enabled)
		return false;

	if (rule->fstypes.count) {
		if (!list_matches(&rule->fstypes, fstype))
			return false;
	} else if (fstype && !ioh_fstype_is_persistent(fstype)) {
		return false;
	}

	/* An unknown path cannot be shown to be inside an include list, nor excluded. */
	if (rule->include_paths.count && !list_matches(&rule->include_paths, path))
		return false;
	if (list_matches(&rule->exclude_paths, path))
		return false;

	if (rule->comm_allow.count && !list_matches(&rule->comm_allow, comm))
		return false;
	if (list_matches(&rule->comm_deny, comm))
		return false;

	if (unit && !*unit)
		unit = NULL;
	if (rule->unit_allow.count && !list_matches(&rule->unit_allow, unit))
		return false;
	if (list_matches(&rule->unit_deny, unit))
		return false;
	return true;
}
