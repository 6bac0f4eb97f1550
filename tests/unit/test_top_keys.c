// SPDX-License-Identifier: GPL-2.0-only
/*
 * The key table of `iohazard top` (cli/top/keys.c) and what is generated from it: no key means
 * two things in one view, every action has a key, the help screen and the key bars fit an
 * 80x24 terminal, and docs/cli.md and the man page name every key the help shows (found
 * through IOH_SRC, or the current directory).
 */
#include <ctype.h>
#include <stdlib.h>

#include "cli/top/keys.h"
#include "cli/top/render_text.h"
#include "tests/unit/check.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *p = realloc(buf, cap + 65536);

			if (!p)
				break;
			buf = p;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* The text from `start` up to `end` (or the end), as a new string; NULL if `start` is absent. */
static char *section(const char *text, const char *start, const char *end)
{
	const char *a = text ? strstr(text, start) : NULL, *b;

	if (!a)
		return NULL;
	b = end ? strstr(a + strlen(start), end) : NULL;
	return strndup(a, b ? (size_t)(b - a) : strlen(a));
}

/* Whether `word` occurs in `text` with no letter or digit right before or after it. */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		bool before = p > text && isalnum((unsigned char)p[-1]);
		bool after = isalnum((unsigned char)p[n]);

		if (!before && !after)
			return true;
	}
	return false;
}

/* Drops troff's escapes that docs put in key names ("Ctrl\-L"). */
static void unescape_man(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == '-')
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

static void test_table(void)
{
	TEST_CASE("no key means two things in one view")
	{
		int clashes = 0;

		for (int v = 0; v < TOP_VIEW__MAX; v++) {
			for (size_t i = 0; i < top_keys_count; i++) {
				const struct top_key *k = &top_keys[i];

				if (!(k->views & TOP_IN(v)))
					continue;
				for (size_t b = 0; b < TOP_KEY_BINDS_MAX && k->binds[b].code; b++) {
					int code = k->binds[b].code;

					/* The first binding of a code wins: it must be this one. */
					if (code != TOP_KEY_ANY &&
					    top_key_action((enum top_view)v, code) !=
						k->binds[b].action) {
						printf("# key %d in view %d\n", code, v);
						clashes++;
					}
				}
			}
		}
		CHECK_INT(clashes, 0);
	}

	TEST_CASE("every action has a key, every row a help line and a name")
	{
		bool bound[TOP_ACT__MAX] = {0};
		int missing = 0;

		for (size_t i = 0; i < top_keys_count; i++) {
			const struct top_key *k = &top_keys[i];

			if (!k->help || !k->brief || !k->views || !k->binds[0].name) {
				printf("# row %zu incomplete\n", i);
				missing++;
			}
			if (k->bar_views & ~k->views)
				missing++;
			for (size_t b = 0; b < TOP_KEY_BINDS_MAX && k->binds[b].code; b++)
				bound[k->binds[b].action] = true;
		}
		for (int a = TOP_ACT_NONE + 1; a < TOP_ACT__MAX; a++) {
			if (!bound[a]) {
				printf("# action %d has no key\n", a);
				missing++;
			}
		}
		CHECK_INT(missing, 0);
	}

	TEST_CASE("keys mean what the help says, per view")
	{
		CHECK_INT(top_key_action(TOP_VIEW_TABLE, '\r'), TOP_ACT_OPEN);
		CHECK_INT(top_key_action(TOP_VIEW_DETAILS, '\r'), TOP_ACT_BACK);
		CHECK_INT(top_key_action(TOP_VIEW_TABLE, 27), TOP_ACT_NONE);
		CHECK_INT(top_key_action(TOP_VIEW_DETAILS, 27), TOP_ACT_BACK);
		CHECK_INT(top_key_action(TOP_VIEW_TABLE, 'j'), TOP_ACT_DOWN);
		CHECK_INT(top_key_action(TOP_VIEW_DETAILS, ' '), TOP_ACT_PAGE_DOWN);
		CHECK_INT(top_key_action(TOP_VIEW_DETAILS, 'G'), TOP_ACT_NONE);
		CHECK_INT(top_key_action(TOP_VIEW_TABLE, 'x'), TOP_ACT_NONE);
		/* In the help, q still quits and any other key goes back (? included). */
		CHECK_INT(top_key_action(TOP_VIEW_HELP, 'q'), TOP_ACT_QUIT);
		CHECK_INT(top_key_action(TOP_VIEW_HELP, '?'), TOP_ACT_BACK);
		CHECK_INT(top_key_action(TOP_VIEW_HELP, 's'), TOP_ACT_BACK);
	}
}

static void test_generated(void)
{
	TEST_CASE("the help screen lists every row and fits 80x24")
	{
		struct top_lines l;
		int found = 0, too_wide = 0;

		top_lines_init(&l);
		top_render_help(&l);
		/* Title and key bar around it: 22 lines at 24. */
		CHECK(l.n <= 22);
		for (size_t i = 0; i < l.n; i++)
			if (strlen(l.v[i]) > 79)
				too_wide++;
		CHECK_INT(too_wide, 0);
		for (size_t i = 0; i < top_keys_count; i++)
			for (size_t j = 0; j < l.n; j++)
				if (strstr(l.v[j], top_keys[i].help) &&
				    strstr(l.v[j], top_keys[i].binds[0].name)) {
					found++;
					break;
				}
		CHECK_INT(found, (int)top_keys_count);
		CHECK(l.n > 3 && !strcmp(l.v[2], "  q Q           quit (also Ctrl-C)"));
		top_lines_free(&l);
	}

	TEST_CASE("key bars")
	{
		struct strbuf sb;

		strbuf_init(&sb);
		top_render_keybar(TOP_VIEW_TABLE, 0, 0, &sb);
		CHECK_STR(sb.buf,
			  " q quit  ? help  Enter details  s sort  r reverse  f filter  p pause");
		/* Room for "  row 99/99" in 80 columns. */
		CHECK(sb.len + strlen("  row 99/99") <= 79);
		strbuf_reset(&sb);
		top_render_keybar(TOP_VIEW_TABLE, TOP_ACT_BIT(TOP_ACT_PAUSE), 0, &sb);
		CHECK(sb.buf && strstr(sb.buf, "  p resume") && !strstr(sb.buf, "pause"));
		strbuf_reset(&sb);
		top_render_keybar(TOP_VIEW_DETAILS, 0, 0, &sb);
		CHECK_STR(sb.buf, " q quit  ? help  Up/Down move/scroll  Esc/Left back");
		strbuf_reset(&sb);
		top_render_keybar(TOP_VIEW_DETAILS, 0, TOP_ACT_BIT(TOP_ACT_UP), &sb);
		CHECK_STR(sb.buf, " q quit  ? help  Esc/Left back");
		strbuf_reset(&sb);
		top_render_keybar(TOP_VIEW_HELP, 0, 0, &sb);
		CHECK_STR(sb.buf, " q quit  any key: back");
		strbuf_free(&sb);
	}

	TEST_CASE("top --help: every key, lines within 80 columns")
	{
		struct strbuf sb;
		const char *line;
		int missing = 0, too_wide = 0;

		strbuf_init(&sb);
		top_render_keys_usage(78, &sb);
		CHECK(sb.buf && !strncmp(sb.buf, "  Keys: q/Q quit, ", 18));
		for (line = sb.buf; line && *line;) {
			const char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line) : strlen(line);

			if (n > 78)
				too_wide++;
			line += n + (nl ? 1 : 0);
		}
		CHECK_INT(too_wide, 0);
		for (size_t i = 0; i < top_keys_count; i++)
			if ((top_keys[i].views & (TOP_IN_TABLE | TOP_IN_DETAILS)) &&
			    !strstr(sb.buf, top_keys[i].binds[0].name))
				missing++;
		CHECK_INT(missing, 0);
		strbuf_free(&sb);
	}
}

/* Every named key of the table, as `name` in docs/cli.md's key list and as a word in the man
 * page's "Keys" section. */
static void test_docs(void)
{
	TEST_CASE("docs/cli.md and iohazard.8 name every key")
	{
		const char *src = getenv("IOH_SRC");
		char path[4096], *md, *man, *md_keys, *man_keys;
		int missing = 0;

		if (!src || !*src)
			src = ".";
		snprintf(path, sizeof(path), "%s/docs/cli.md", src);
		md = read_all(path);
		snprintf(path, sizeof(path), "%s/packaging/man/iohazard.8", src);
		man = read_all(path);
		CHECK(md != NULL && man != NULL);
		md_keys = section(md, "### Keys", "\n#");
		man_keys = section(man, ".SS Keys", "\n.SS");
		CHECK(md_keys != NULL && man_keys != NULL);
		if (man_keys)
			unescape_man(man_keys);
		for (size_t i = 0; md_keys && man_keys && i < top_keys_count; i++) {
			const struct top_key *k = &top_keys[i];

			for (size_t b = 0; b < TOP_KEY_BINDS_MAX && k->binds[b].code; b++) {
				const char *name = k->binds[b].name;
				char quoted[64];

				if (!name)
					continue;
				snprintf(quoted, sizeof(quoted), "`%s`", name);
				if (!has_word(md_keys, quoted)) {
					printf("# docs/cli.md does not list %s\n", quoted);
					missing++;
				}
				if (!has_word(man_keys, name)) {
					printf("# iohazard.8 does not list %s\n", name);
					missing++;
				}
			}
		}
		CHECK_INT(missing, 0);
		free(md_keys);
		free(man_keys);
		free(md);
		free(man);
	}
}

int main(void)
{
	test_table();
	test_generated();
	test_docs();
	return check_summary();
}
