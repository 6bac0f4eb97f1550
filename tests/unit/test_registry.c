// SPDX-License-Identifier: GPL-2.0-only
/*
 * One place for each name: the rule registry (daemon/rules/registry.c) against the detectors
 * that make its rules and the docs that describe them, and every metric family of
 * daemon/metrics/families.h against docs/metrics.md. Reads the docs through IOH_SRC (or the
 * current directory). tests/e2e/test_cli.sh checks the families a running daemon exports;
 * this one checks every family the source defines, exported in this run or not.
 */
#include <stdlib.h>

#include "daemon/detectors/detectors.h"
#include "daemon/rules/registry.h"
#include "tests/unit/check.h"

static char *slurp(const char *rel)
{
	const char *src = getenv("IOH_SRC");
	char path[4096];
	FILE *f;
	char *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	if (buf)
		len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Whether some line of `text` starts with `prefix` and contains `needle`. */
static bool line_with(const char *text, const char *prefix, const char *needle)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		const char *hit = memmem(l, n, needle, strlen(needle));

		if (strncmp(l, prefix, strlen(prefix)) == 0 && hit)
			return true;
	}
	return false;
}

static const struct ioh_detector *detector_named(const char *name)
{
	for (unsigned i = 0; i < ioh_detectors_count; i++)
		if (strcmp(ioh_detectors[i]->name, name) == 0)
			return ioh_detectors[i];
	return NULL;
}

static void test_registry(void)
{
	TEST_CASE("registry: names unique, ids well formed, every detector known")
	{
		for (unsigned i = 0; i < IOH_RULE__COUNT; i++) {
			const struct ioh_rule_kind *k = &ioh_rule_kinds[i];

			CHECK(k->name && ioh_rule_kind_find(k->name) == k);
			CHECK(k->message_id && strlen(k->message_id) == 32 &&
			      strspn(k->message_id, "0123456789abcdef") == 32);
			for (unsigned j = 0; j < i; j++)
				CHECK(strcmp(ioh_rule_kinds[j].message_id, k->message_id) != 0);
			CHECK(detector_named(k->detector) != NULL);
		}
		CHECK(ioh_rule_kind_find("no-such-rule") == NULL);
		CHECK(ioh_rule_kind_find(NULL) == NULL);
	}

	TEST_CASE("registry: every detector makes at least one rule")
	{
		for (unsigned i = 0; i < ioh_detectors_count; i++) {
			unsigned rules = 0;

			for (unsigned k = 0; k < IOH_RULE__COUNT; k++)
				rules +=
				    strcmp(ioh_rule_kinds[k].detector, ioh_detectors[i]->name) == 0;
			CHECK(rules > 0);
			CHECK(ioh_detectors[i]->on_event != NULL);
		}
	}

	TEST_CASE("registry: the journal catalog has every MESSAGE_ID")
	{
		char *catalog = slurp("packaging/iohazard.catalog");
		char want[40];

		CHECK(catalog != NULL);
		for (unsigned i = 0; catalog && i < IOH_RULE__COUNT; i++) {
			snprintf(want, sizeof(want), "-- %s", ioh_rule_kinds[i].message_id);
			CHECK(line_with(catalog, "-- ", want));
		}
		free(catalog);
	}
}

static void test_docs_rules(void)
{
	TEST_CASE("docs: hazards.md and rules.md list every rule")
	{
		char *hazards = slurp("docs/hazards.md"), *rules = slurp("docs/rules.md");
		char name[96], row[160], threshold[32];

		CHECK(hazards != NULL);
		CHECK(rules != NULL);
		for (unsigned i = 0; hazards && rules && i < IOH_RULE__COUNT; i++) {
			const struct ioh_rule_kind *k = &ioh_rule_kinds[i];

			/* hazards.md: a section heading names it. */
			snprintf(name, sizeof(name), "`%s`", k->name);
			if (!line_with(hazards, "## ", name))
				printf("# docs/hazards.md has no \"## \" heading naming %s\n",
				       name);
			CHECK(line_with(hazards, "## ", name));
			/* rules.md: its row of defaults, as the registry has them. */
			if (k->threshold_ns)
				snprintf(threshold, sizeof(threshold), "%llums",
					 (unsigned long long)(k->threshold_ns / 1000000));
			else
				snprintf(threshold, sizeof(threshold), "–");
			snprintf(row, sizeof(row), "| `%s` | %s | %s |", k->name,
				 ioh_severity_to_string(k->severity), threshold);
			if (!line_with(rules, "| ", row))
				printf("# docs/rules.md lacks the row %s\n", row);
			CHECK(line_with(rules, "| ", row));
		}
		free(hazards);
		free(rules);
	}
}

static void test_docs_metrics(void)
{
	TEST_CASE("docs: metrics.md lists every family of families.h")
	{
		char *families = slurp("daemon/metrics/families.h"),
		     *metrics = slurp("docs/metrics.md");
		unsigned found = 0;

		CHECK(families != NULL);
		CHECK(metrics != NULL);
		for (const char *l = families; families && metrics && l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			char macro[128], family[128], row[160];

			/* #define IOH_M_X "iohazard_x" (the _HELP strings are not names). */
			if (sscanf(l, "#define %127s \"%127[a-z0-9_]\"", macro, family) != 2 ||
			    strncmp(macro, "IOH_M_", 6) != 0 || strstr(macro, "_HELP"))
				continue;
			found++;
			snprintf(row, sizeof(row), "| `%s` |", family);
			if (!line_with(metrics, "| `", row))
				printf("# docs/metrics.md has no row for %s\n", family);
			CHECK(line_with(metrics, "| `", row));
		}
		CHECK(found >= 20); /* the parse did find the families */
		free(families);
		free(metrics);
	}
}

int main(void)
{
	test_registry();
	test_docs_rules();
	test_docs_metrics();
	return check_summary();
}
