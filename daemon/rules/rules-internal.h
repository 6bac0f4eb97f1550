/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to daemon/rules/: the pieces shared by the file parser (parse.c), the loader and
 * merger (rules.c) and the value helpers (values.c). Nothing outside daemon/rules includes it.
 */
#ifndef IOH_RULES_INTERNAL_H
#define IOH_RULES_INTERNAL_H

#include "daemon/rules/rules.h"

/* One load (a set of files merged into one rule set) and what it has collected so far. */
struct ioh_rules_load {
	struct ioh_rules_errors *errors; /* where messages go (never NULL here) */
	int first_err;			 /* first negative errno, returned by the loader */
	bool stopped;			 /* too many errors or rules: stop reading anything */
	size_t total_bytes;		 /* bytes read over every file, bounded by _TOTAL_MAX */
	struct ioh_ruleset *rs;		 /* the merged result being built */
};

/* Record one "file:line: message" (line 0 means the whole file: "file: message"). */
void ioh_rules_error(struct ioh_rules_load *ld, const char *file, unsigned line, int err,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Parse one file's text (`len` bytes, may hold NULs) and merge its rules into ld->rs. */
int ioh_rules_parse_text(struct ioh_rules_load *ld, const char *file, const char *text, size_t len);

/* Merge a finished rule into ld->rs, replacing a same-named one; takes ownership. */
int ioh_rules_merge(struct ioh_rules_load *ld, struct ioh_rule *rule);

/* The keys of a [rule NAME] section, in the order `rules show` prints them (parse.c). */
enum ioh_rule_key_type {
	IOH_KEY_DETECTOR,
	IOH_KEY_BOOL,
	IOH_KEY_SEVERITY,
	IOH_KEY_DURATION,
	IOH_KEY_SIZE,
	IOH_KEY_LIST,
};

struct ioh_rule_key {
	const char *name;
	enum ioh_rule_key_type type;
	size_t offset; /* of the field in struct ioh_rule */
};

extern const struct ioh_rule_key ioh_rule_keys[];
extern const size_t ioh_rule_keys_count;

/* Defaults that depend on the detector (rules.c). */
enum ioh_severity ioh_rule_detector_severity(const char *detector);
uint64_t ioh_rule_detector_threshold(const char *detector);
bool ioh_rule_name_valid(const char *name, size_t len);
/* Zero `rule` and set the defaults that do not depend on the detector. */
void ioh_rule_set_defaults(struct ioh_rule *rule);

/* Values (values.c). */
int ioh_strlist_append(struct ioh_strlist *list, const char *item);
void ioh_strlist_free(struct ioh_strlist *list);
int ioh_parse_bool(const char *text, bool *out);
/* Levenshtein distance capped at `cap` (returns cap + 1 when larger); for "did you mean". */
unsigned ioh_edit_distance(const char *a, const char *b, unsigned cap);

#endif
