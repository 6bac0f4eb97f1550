// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the rules parser. Beyond "no crash, no leak" (ASan) it checks the
 * properties `iohazard rules show` relies on: an accepted file prints as a file that is
 * accepted again, and printing reaches a fixed point (print(parse(print(x))) == print(x) once
 * the "# from" comments name the same file).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rules/rules.h"

static char *print_set(const struct ioh_ruleset *rs, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	ioh_ruleset_print(rs, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ioh_rules_errors errors = {0};
	struct ioh_ruleset *rs = NULL, *again = NULL, *third = NULL;
	char *text1, *text2, *text3;
	size_t len1, len2, len3;
	int ret;

	ret = ioh_rules_load_buffer("fuzz.rules", (const char *)data, size, &rs, &errors);
	if (ret < 0) {
		/* A failed load reports something, within bounds, each as "file:line: ...". */
		if (errors.count == 0 || errors.count > IOH_RULES_ERRORS_MAX || rs)
			abort();
		for (size_t i = 0; i < errors.count; i++)
			if (strncmp(errors.messages[i], "fuzz.rules:", 11) != 0)
				abort();
		ioh_rules_errors_free(&errors);
		return 0;
	}
	if (errors.count)
		abort();
	for (size_t i = 0; i < rs->count; i++) {
		/* Every rule has a known detector and the matcher copes with odd input. */
		if (!ioh_rule_detector_known(rs->rules[i].detector))
			abort();
		(void)ioh_rule_matches(&rs->rules[i], "/srv/x", "ext4", "sed", "a.service");
		(void)ioh_rule_matches(&rs->rules[i], NULL, NULL, NULL, NULL);
	}

	text1 = print_set(rs, &len1);
	if (ioh_rules_load_buffer("p.rules", text1, len1, &again, &errors) < 0) {
		for (size_t i = 0; i < errors.count; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		fprintf(stderr, "printed rules do not load:\n%s", text1);
		abort();
	}
	if (again->count != rs->count)
		abort();
	text2 = print_set(again, &len2);
	if (ioh_rules_load_buffer("p.rules", text2, len2, &third, &errors) < 0)
		abort();
	text3 = print_set(third, &len3);
	if (len2 != len3 || memcmp(text2, text3, len2) != 0) {
		fprintf(stderr, "print is not a fixed point:\n%s\n---\n%s", text2, text3);
		abort();
	}
	free(text1);
	free(text2);
	free(text3);
	ioh_ruleset_free(rs);
	ioh_ruleset_free(again);
	ioh_ruleset_free(third);
	ioh_rules_errors_free(&errors);
	return 0;
}
