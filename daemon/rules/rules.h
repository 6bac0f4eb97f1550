/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rules: configured instances of detectors, loaded from INI files (`[rule NAME]` sections)
 * found in a search path like sysctl.d: later directories replace same-named files of earlier
 * ones, and files apply in name order. A rule set is immutable once loaded; reload builds a
 * new one and swaps it in only when it loaded without error.
 *
 * docs/rules.md documents the syntax; this header is the contract the correlator, the
 * detectors, the daemon and the CLI (`rules check`, `rules show`) use.
 */
#ifndef IOH_RULES_H
#define IOH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/correlator/severity.h"
#include "daemon/rules/registry.h"

#define IOH_RULE_NAME_MAX 64

/* The default search path, lowest precedence first. */
extern const char *const ioh_rules_default_dirs[];
extern const size_t ioh_rules_default_dirs_count;

/* A list of strings (globs or names) from a rule key; repeated keys append. */
struct ioh_strlist {
	char **items;
	size_t count;
};

struct ioh_rule {
	char name[IOH_RULE_NAME_MAX];	  /* section name: the `rule` of findings */
	char detector[IOH_RULE_NAME_MAX]; /* detector implementing it; defaults to `name` */
	bool enabled;			  /* enabled = yes|no (default yes) */
	enum ioh_severity severity;	  /* severity = ...; detectors may lower/raise per case */
	bool severity_set;		  /* severity given explicitly in the file */
	uint64_t window_ns;		  /* window = 5s: how long a detector waits for the fix */
	uint64_t threshold_ns;		  /* threshold = 50ms: stall detectors' minimum */
	uint64_t suppress_ns; /* suppress = 10m: one report per (rule, inode, path, program) */
	uint64_t min_bytes;   /* min_bytes = 64MiB: size thresholds */
	struct ioh_strlist include_paths; /* include = /srv/... (globs; empty = all) */
	struct ioh_strlist exclude_paths; /* exclude = /tmp/... (globs, after include) */
	struct ioh_strlist fstypes;	  /* fstypes = ext4 xfs btrfs (empty = persistent ones) */
	struct ioh_strlist comm_allow;	  /* comm_allow = ... (empty = every program) */
	struct ioh_strlist comm_deny;
	struct ioh_strlist unit_allow; /* systemd units, globs (nginx.service, *.scope) */
	struct ioh_strlist unit_deny;
	char source_file[256]; /* where the section was defined (for `rules show`) */
	unsigned source_line;
};

struct ioh_ruleset {
	struct ioh_rule *rules;
	size_t count;
	/* The files that were applied, in order, with their full paths. */
	struct ioh_strlist files;
	/* The compiled-in vendor rules (ioh_rules_load_builtin): no directory of the search
	 * path held a *.rules file. `files` then names ioh_builtin_rules_name. */
	bool builtin;
	/* [daemon] stacks = no: take no user call chains (like --no-stacks). The last file that
	 * sets it wins. */
	bool no_stacks;
};

/*
 * Errors are collected, not just the first: every problem as "file:line: message".
 */
struct ioh_rules_errors {
	char **messages;
	size_t count;
};

/*
 * Load every *.rules file from `dirs` (lowest precedence first) and merge. A rule defined
 * again in a later file replaces the earlier definition wholesale. Returns 0 and a new rule
 * set in *out, or a negative errno with every problem in *errors (which the caller frees with
 * ioh_rules_errors_free) and *out untouched. Missing directories are not an error.
 */
int ioh_rules_load_dirs(const char *const *dirs, size_t ndirs, struct ioh_ruleset **out,
			struct ioh_rules_errors *errors);

/*
 * The built-in default: rules/10-default.rules as compiled into this binary. Loaded by
 * ioh_rules_load_search_path() when no directory of the search path holds a *.rules file
 * (a daemon run from the source tree, `iohazard replay` on a host without installed rules);
 * an empty *.rules file therefore still masks them, like any vendor file.
 */
extern const char ioh_builtin_rules_name[];
extern const char *const ioh_builtin_rules_text;
extern const size_t ioh_builtin_rules_len;
int ioh_rules_load_builtin(struct ioh_ruleset **out, struct ioh_rules_errors *errors);
/* ioh_rules_load_dirs(), or the built-in default when none of `dirs` holds a *.rules file
 * (missing directories included); (*out)->builtin says which. */
int ioh_rules_load_search_path(const char *const *dirs, size_t ndirs, struct ioh_ruleset **out,
			       struct ioh_rules_errors *errors);

/* Load exactly these files (for `iohazard rules check FILE...`), same semantics. */
int ioh_rules_load_files(const char *const *files, size_t nfiles, struct ioh_ruleset **out,
			 struct ioh_rules_errors *errors);

void ioh_ruleset_free(struct ioh_ruleset *rs);
void ioh_rules_errors_free(struct ioh_rules_errors *errors);

/* The enabled rules whose detector is `detector`, in file order; NULL-terminated array
 * owned by the caller (free()), or NULL on allocation failure. */
const struct ioh_rule **ioh_ruleset_for_detector(const struct ioh_ruleset *rs, const char *detector,
						 size_t *count);
const struct ioh_rule *ioh_ruleset_find(const struct ioh_ruleset *rs, const char *name);
/* Smallest threshold of the enabled rules of `detector` (0: none enabled): what the kernel
 * side filters stalls with, so it never drops an occurrence a rule would report. */
uint64_t ioh_rules_min_threshold(const struct ioh_ruleset *rs, const char *detector);

/*
 * Whether a rule applies to an occurrence. `fstype` may be NULL (unknown: treated as not
 * matching an explicit fstypes list, and as persistent when the list is empty), `unit` may be
 * NULL or "" (matches no allow list). Paths are matched with fnmatch(3) without FNM_PATHNAME,
 * so a "/tmp/" glob ending in "*" covers everything below /tmp, at any depth.
 */
bool ioh_rule_matches(const struct ioh_rule *rule, const char *path, const char *fstype,
		      const char *comm, const char *unit);

/* Whether `fstype` is a persistent (disk-backed) filesystem by default. */
bool ioh_fstype_is_persistent(const char *fstype);

/*
 * Parse "5s", "250ms", "1m", "2h", "100us", "10ns" (a bare number is seconds) into ns, and
 * "64MiB", "4k", "1G", "512" into bytes. Return 0 or -EINVAL/-ERANGE.
 */
int ioh_parse_duration(const char *text, uint64_t *ns);
int ioh_parse_size(const char *text, uint64_t *bytes);

/* Print the effective merged rules in rules-file syntax (`iohazard rules show`). */
void ioh_ruleset_print(const struct ioh_ruleset *rs, FILE *out);

/*
 * Additions beyond the original contract (used by the CLI, tests and the fuzzer).
 */

/* Limits on what a rules file can make the daemon allocate (docs/rules.md lists them). */
/* Longest duration a rule (window, threshold, suppress) or --mixed-window may give: a week.
 * Longer windows only hold memory; anything near 2^64 ns would wrap deadlines. */
#define IOH_DURATION_MAX_NS (7ULL * 86400 * 1000000000ULL)
#define IOH_DURATION_MAX_TEXT "7d"
#define IOH_RULES_FILE_MAX (1024 * 1024)      /* bytes per file */
#define IOH_RULES_TOTAL_MAX (8 * 1024 * 1024) /* bytes over all files of one load */
#define IOH_RULES_FILES_MAX 1024	      /* *.rules files per load */
#define IOH_RULES_RULES_MAX 1024	      /* rules in the merged set (and per file) */
#define IOH_RULES_LIST_MAX 256		      /* entries per list key of one rule */
#define IOH_RULES_VALUE_MAX 160		      /* bytes of one value or one list entry */
#define IOH_RULES_LINE_MAX 4096		      /* bytes of one line */
#define IOH_RULES_ERRORS_MAX 100	      /* messages kept before giving up */

/* Whether `detector` is a rule kind of the registry (daemon/rules/registry.h), which a rule
 * can name in `detector =` or by its section name. */
bool ioh_rule_detector_known(const char *detector);

/*
 * Fill `rule` with the defaults of a rule called `name` using `detector` (NULL: the detector
 * named like the rule), as if its section had no keys. Returns 0 or -EINVAL (bad name or
 * unknown detector). ioh_rule_fini() frees the lists of a rule built this way.
 */
int ioh_rule_init(struct ioh_rule *rule, const char *name, const char *detector);
void ioh_rule_fini(struct ioh_rule *rule);

/* Parse rules from memory as if read from a file called `name` (tests, fuzzing, stdin). */
int ioh_rules_load_buffer(const char *name, const char *text, size_t len, struct ioh_ruleset **out,
			  struct ioh_rules_errors *errors);

/* The ordered list of files ioh_rules_load_dirs() would apply (full paths); 0 or -errno. */
int ioh_rules_list_files(const char *const *dirs, size_t ndirs, struct ioh_strlist *files,
			 struct ioh_rules_errors *errors);
void ioh_strlist_free(struct ioh_strlist *list);

#endif
