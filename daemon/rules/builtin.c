// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vendor rules (rules/10-default.rules) compiled into both binaries, so that a daemon
 * started from the source tree, or `iohazard replay` on a host without installed rules, still
 * reports with the shipped defaults instead of silently reporting nothing. They apply only
 * when no directory of the search path holds a *.rules file: an installed host, an admin's
 * drop-ins and `--rules-dir` behave exactly as before. The Makefile turns the file into
 * builtin_rules.inc (one C string literal per line).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rules/rules.h"

static const char builtin_text[] =
#include "builtin_rules.inc"
    ;

const char ioh_builtin_rules_name[] = "(built-in) 10-default.rules";
const char *const ioh_builtin_rules_text = builtin_text;
const size_t ioh_builtin_rules_len = sizeof(builtin_text) - 1;

int ioh_rules_load_builtin(struct ioh_ruleset **out, struct ioh_rules_errors *errors)
{
	int r = ioh_rules_load_buffer(ioh_builtin_rules_name, builtin_text,
				      sizeof(builtin_text) - 1, out, errors);

	if (r == 0)
		(*out)->builtin = true;
	return r;
}

int ioh_rules_load_search_path(const char *const *dirs, size_t ndirs, struct ioh_ruleset **out,
			       struct ioh_rules_errors *errors)
{
	struct ioh_rules_errors ignored = {0};
	struct ioh_strlist files = {0};
	/* Listing errors (an unreadable directory) are reported by the real load below. */
	int r = ioh_rules_list_files(dirs, ndirs, &files, &ignored);
	bool none = r == 0 && files.count == 0;

	ioh_rules_errors_free(&ignored);
	ioh_strlist_free(&files);
	if (none)
		return ioh_rules_load_builtin(out, errors);
	return ioh_rules_load_dirs(dirs, ndirs, out, errors);
}
