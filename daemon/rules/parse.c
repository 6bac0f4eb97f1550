// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rules-file parser: one file's text to rules, every problem as "file:line: message".
 *
 * The syntax is a strict INI (docs/rules.md): "[rule NAME]" sections, "key = value" lines,
 * comments starting a line with "#" or ";", inline comments from a ";" after whitespace.
 * Every physical line is handled here, so every error carries its line and parsing goes on
 * after one to report the rest. (libinih was used for the "key = value" split until Debian's
 * build turned out to give no line numbers and to cut lines at 200 bytes and section names
 * at 50: docs/rules.md, "Implementation notes".)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rules/rules-internal.h"

const struct ioh_rule_key ioh_rule_keys[] = {
    {"detector", IOH_KEY_DETECTOR, offsetof(struct ioh_rule, detector)},
    {"enabled", IOH_KEY_BOOL, offsetof(struct ioh_rule, enabled)},
    {"severity", IOH_KEY_SEVERITY, offsetof(struct ioh_rule, severity)},
    {"window", IOH_KEY_DURATION, offsetof(struct ioh_rule, window_ns)},
    {"threshold", IOH_KEY_DURATION, offsetof(struct ioh_rule, threshold_ns)},
    {"suppress", IOH_KEY_DURATION, offsetof(struct ioh_rule, suppress_ns)},
    {"min_bytes", IOH_KEY_SIZE, offsetof(struct ioh_rule, min_bytes)},
    {"include", IOH_KEY_LIST, offsetof(struct ioh_rule, include_paths)},
    {"exclude", IOH_KEY_LIST, offsetof(struct ioh_rule, exclude_paths)},
    {"fstypes", IOH_KEY_LIST, offsetof(struct ioh_rule, fstypes)},
    {"comm_allow", IOH_KEY_LIST, offsetof(struct ioh_rule, comm_allow)},
    {"comm_deny", IOH_KEY_LIST, offsetof(struct ioh_rule, comm_deny)},
    {"unit_allow", IOH_KEY_LIST, offsetof(struct ioh_rule, unit_allow)},
    {"unit_deny", IOH_KEY_LIST, offsetof(struct ioh_rule, unit_deny)},
};
#define NKEYS (sizeof(ioh_rule_keys) / sizeof(ioh_rule_keys[0]))
const size_t ioh_rule_keys_count = NKEYS;

/* The kernel keeps 15 bytes of a task's name (TASK_COMM_LEN - 1). */
#define COMM_MAX 15
/* How much of a user-supplied string an error message quotes. */
#define SHOWN_MAX 64

/* A section being filled. */
struct draft {
	struct ioh_rule rule;
	unsigned key_line[NKEYS]; /* line a scalar key was set on, 0 = not set (defaults) */
};

struct parser {
	struct ioh_rules_load *ld;
	const char *file;
	unsigned lineno;       /* of the line being parsed, from 1 */
	struct draft **drafts; /* sections of this file, in order */
	size_t ndrafts;
	struct draft *cur;     /* section keys go to; NULL before the first or after a bad header */
	bool skipping;	       /* after a bad header: its keys are ignored without more errors */
	bool in_daemon;	       /* in the [daemon] section: daemon-wide keys (daemon_key()) */
	size_t section_errors; /* errors->count when the current section began */
	bool stop;	       /* this file is beyond repair (too many rules): read no further */
};

/* Quote at most SHOWN_MAX bytes of `s` (len bytes) into buf, for error messages. */
static const char *shown(char buf[SHOWN_MAX + 4], const char *s, size_t len)
{
	if (len > SHOWN_MAX) {
		memcpy(buf, s, SHOWN_MAX);
		memcpy(buf + SHOWN_MAX, "...", 4);
	} else {
		memcpy(buf, s, len);
		buf[len] = '\0';
	}
	return buf;
}

#define perr(p, ...) ioh_rules_error((p)->ld, (p)->file, (p)->lineno, -EINVAL, __VA_ARGS__)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

static const struct ioh_rule_key *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(ioh_rule_keys[i].name) == len &&
		    !memcmp(ioh_rule_keys[i].name, name, len))
			return &ioh_rule_keys[i];
	return NULL;
}

static size_t key_index(const char *name)
{
	return (size_t)(find_key(name, strlen(name)) - ioh_rule_keys);
}

/* " (did you mean "x"?)" for the closest candidate within a small distance, else "". */
static const char *suggest(char buf[IOH_RULE_NAME_MAX + 24], const char *word,
			   const char *const *candidates, size_t n, size_t stride)
{
	const char *best = NULL;
	unsigned best_dist = 3;

	for (size_t i = 0; i < n; i++) {
		const char *c = *(const char *const *)((const char *)candidates + i * stride);
		unsigned d = ioh_edit_distance(word, c, best_dist);

		if (d < best_dist) {
			best = c;
			best_dist = d;
		}
	}
	if (!best)
		return "";
	snprintf(buf, IOH_RULE_NAME_MAX + 24, " (did you mean \"%s\"?)", best);
	return buf;
}

static void finish_section(struct parser *p)
{
	struct draft *d = p->cur;
	struct ioh_rule *r;
	char hint[IOH_RULE_NAME_MAX + 24];

	p->cur = NULL;
	if (!d)
		return;
	r = &d->rule;
	if (!d->key_line[key_index("detector")]) {
		if (ioh_rule_detector_known(r->name)) {
			memcpy(r->detector, r->name, sizeof(r->detector));
		} else {
			struct ioh_rules_errors *e = p->ld->errors;
			size_t before = e->count;

			ioh_rules_error(p->ld, p->file, r->source_line, -EINVAL,
					"[rule %s] needs \"detector = NAME\": \"%s\" is not a "
					"detector%s",
					r->name, r->name,
					suggest(hint, r->name, &ioh_rule_kinds[0].name,
						IOH_RULE__COUNT, sizeof(ioh_rule_kinds[0])));
			/* Keep messages in line order: this one belongs to the header line. */
			if (e->count == before + 1 && p->section_errors < before) {
				char *msg = e->messages[before];

				memmove(&e->messages[p->section_errors + 1],
					&e->messages[p->section_errors],
					(before - p->section_errors) * sizeof(char *));
				e->messages[p->section_errors] = msg;
			}
			return;
		}
	}
	if (!r->severity_set)
		r->severity = ioh_rule_detector_severity(r->detector);
	if (!d->key_line[key_index("threshold")])
		r->threshold_ns = ioh_rule_detector_threshold(r->detector);
}

static void free_draft(struct draft *d)
{
	if (!d)
		return;
	ioh_rule_fini(&d->rule);
	free(d);
}

static void begin_rule(struct parser *p, const char *name, size_t len)
{
	char q[SHOWN_MAX + 4];
	struct draft *d, **drafts;
	bool duplicate = false;

	if (!len) {
		perr(p, "missing rule name in \"[rule]\"");
		return;
	}
	if (!ioh_rule_name_valid(name, len)) {
		perr(p,
		     "invalid rule name \"%s\" (use A-Z a-z 0-9 _ . - and at most %d characters)",
		     shown(q, name, len), IOH_RULE_NAME_MAX - 1);
		return;
	}
	for (size_t i = 0; i < p->ndrafts; i++) {
		const struct ioh_rule *other = &p->drafts[i]->rule;

		if (strlen(other->name) == len && !memcmp(other->name, name, len)) {
			perr(p, "duplicate rule \"%s\" (first defined on line %u)", other->name,
			     other->source_line);
			/* Still check its keys, so one run shows every problem. */
			duplicate = true;
			break;
		}
	}
	if (p->ndrafts >= IOH_RULES_RULES_MAX) {
		perr(p, "too many rules in one file (max %d), ignoring the rest of the file",
		     IOH_RULES_RULES_MAX);
		p->stop = true;
		return;
	}
	drafts = realloc(p->drafts, (p->ndrafts + 1) * sizeof(*drafts));
	d = calloc(1, sizeof(*d));
	if (drafts)
		p->drafts = drafts;
	if (!drafts || !d) {
		free(d);
		ioh_rules_error(p->ld, p->file, p->lineno, -ENOMEM, "out of memory");
		p->stop = true;
		return;
	}
	/* The detector, severity and threshold defaults wait for the end of the section. */
	ioh_rule_set_defaults(&d->rule);
	memcpy(d->rule.name, name, len);
	snprintf(d->rule.source_file, sizeof(d->rule.source_file), "%s", p->file);
	d->rule.source_line = p->lineno;
	p->drafts[p->ndrafts++] = d;
	p->cur = d;
	p->skipping = false;
	p->section_errors = p->ld->errors->count - duplicate;
}

static void section_line(struct parser *p, const char *line, size_t n)
{
	const char *close = memchr(line, ']', n), *inner, *rest;
	size_t inner_len, rest_len;
	char q[SHOWN_MAX + 4];

	finish_section(p);
	p->skipping = true;
	p->in_daemon = false;
	if (!close) {
		perr(p, "missing \"]\" at the end of the section header");
		return;
	}
	rest = close + 1;
	rest_len = n - (size_t)(rest - line);
	trim(&rest, &rest_len);
	if (rest_len && rest[0] != '#' && rest[0] != ';') {
		perr(p, "unexpected text after \"]\": \"%s\"", shown(q, rest, rest_len));
		return;
	}
	inner = line + 1;
	inner_len = (size_t)(close - inner);
	trim(&inner, &inner_len);
	if (inner_len >= 4 && !memcmp(inner, "rule", 4) && (inner_len == 4 || is_blank(inner[4]))) {
		inner += 4;
		inner_len -= 4;
		trim(&inner, &inner_len);
		begin_rule(p, inner, inner_len);
		return;
	}
	if (inner_len == 6 && !memcmp(inner, "daemon", 6)) {
		p->cur = NULL;
		p->skipping = false;
		p->in_daemon = true;
		return;
	}
	perr(p, "unknown section \"[%s]\" (only \"[rule NAME]\" and \"[daemon]\" are allowed)",
	     shown(q, inner, inner_len));
}

static void unknown_key(struct parser *p, const char *name, size_t len)
{
	char q[SHOWN_MAX + 4], hint[IOH_RULE_NAME_MAX + 24];

	shown(q, name, len);
	perr(p, "unknown key \"%s\" in [rule %s]%s", q, p->cur->rule.name,
	     suggest(hint, q, &ioh_rule_keys[0].name, NKEYS, sizeof(ioh_rule_keys[0])));
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void list_add(struct parser *p, const struct ioh_rule_key *k, const char *item, size_t len)
{
	struct ioh_strlist *list = (struct ioh_strlist *)((char *)&p->cur->rule + k->offset);
	char buf[IOH_RULES_VALUE_MAX + 1], q[SHOWN_MAX + 4];
	const char *rule = p->cur->rule.name;

	if (len > IOH_RULES_VALUE_MAX) {
		perr(p, "value \"%s\" for \"%s\" in [rule %s] is too long (max %d bytes)",
		     shown(q, item, len), k->name, rule, IOH_RULES_VALUE_MAX);
		return;
	}
	if (item[0] == ';') {
		/* "key =;x" gives ";x", but written back after a space it would be a comment. */
		perr(p, "value \"%s\" for \"%s\" in [rule %s] may not start with \";\"",
		     shown(q, item, len), k->name, rule);
		return;
	}
	if (list->count >= IOH_RULES_LIST_MAX) {
		perr(p, "too many entries for \"%s\" in [rule %s] (max %d)", k->name, rule,
		     IOH_RULES_LIST_MAX);
		return;
	}
	memcpy(buf, item, len);
	buf[len] = '\0';
	if (!strncmp(k->name, "comm_", 5) && len > COMM_MAX && !has_glob(buf)) {
		perr(p,
		     "\"%s\" in \"%s\" of [rule %s] can never match: the kernel keeps only %d "
		     "characters of a program name",
		     buf, k->name, rule, COMM_MAX);
		return;
	}
	if (ioh_strlist_append(list, buf) < 0) {
		ioh_rules_error(p->ld, p->file, p->lineno, -ENOMEM, "out of memory");
		p->stop = true;
	}
}

static void scalar_set(struct parser *p, const struct ioh_rule_key *k, const char *value)
{
	struct ioh_rule *r = &p->cur->rule;
	void *field = (char *)r + k->offset;
	char hint[IOH_RULE_NAME_MAX + 24];
	bool b;
	int ret;

	switch (k->type) {
	case IOH_KEY_DETECTOR:
		if (!ioh_rule_detector_known(value)) {
			perr(p, "unknown detector \"%s\" in [rule %s]%s", value, r->name,
			     suggest(hint, value, &ioh_rule_kinds[0].name, IOH_RULE__COUNT,
				     sizeof(ioh_rule_kinds[0])));
			return;
		}
		snprintf(r->detector, sizeof(r->detector), "%s", value);
		return;
	case IOH_KEY_BOOL:
		if (ioh_parse_bool(value, &b) < 0) {
			perr(p,
			     "invalid boolean \"%s\" for \"%s\" in [rule %s] (expected yes or no)",
			     value, k->name, r->name);
			return;
		}
		*(bool *)field = b;
		return;
	case IOH_KEY_SEVERITY:
		ret = ioh_severity_from_string(value);
		if (ret < 0) {
			perr(p,
			     "invalid severity \"%s\" in [rule %s] (expected info, notice, warning "
			     "or critical)",
			     value, r->name);
			return;
		}
		r->severity = ret;
		r->severity_set = true;
		return;
	case IOH_KEY_DURATION:
		ret = ioh_parse_duration(value, field);
		if (ret == 0 && *(uint64_t *)field > IOH_DURATION_MAX_NS)
			ret = -ERANGE;
		if (ret == -ERANGE)
			perr(p,
			     "duration \"%s\" for \"%s\" in [rule %s] is too large (at "
			     "most " IOH_DURATION_MAX_TEXT ")",
			     value, k->name, r->name);
		else if (ret < 0)
			perr(p,
			     "invalid duration \"%s\" for \"%s\" in [rule %s] (expected a whole "
			     "number with ns, us, ms, s, m, h or d, like 250ms)",
			     value, k->name, r->name);
		return;
	case IOH_KEY_SIZE:
		ret = ioh_parse_size(value, field);
		if (ret == -ERANGE)
			perr(p, "size \"%s\" for \"%s\" in [rule %s] is too large", value, k->name,
			     r->name);
		else if (ret < 0)
			perr(p,
			     "invalid size \"%s\" for \"%s\" in [rule %s] (expected a whole number "
			     "with B, KiB, MiB, GiB or TiB, like 64MiB)",
			     value, k->name, r->name);
		return;
	case IOH_KEY_LIST:
		return;
	}
}

/* Offset of an inline comment (";" after whitespace), or n. */
static size_t comment_start(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (s[i] == ';' && is_blank(s[i - 1]))
			return i;
	return n;
}

/* A key of the [daemon] section; the only one so far is `stacks = yes|no`. */
static void daemon_key(struct parser *p, const char *key, size_t key_len, const char *value,
		       size_t value_len)
{
	char q[SHOWN_MAX + 4], text[8];
	bool on;

	if (key_len != 6 || memcmp(key, "stacks", 6)) {
		perr(p, "unknown key \"%s\" in [daemon] (known: stacks)", shown(q, key, key_len));
		return;
	}
	if (value_len >= sizeof(text)) {
		perr(p, "invalid value \"%s\" for \"stacks\" (yes or no)",
		     shown(q, value, value_len));
		return;
	}
	memcpy(text, value, value_len);
	text[value_len] = '\0';
	if (ioh_parse_bool(text, &on) < 0)
		perr(p, "invalid value \"%s\" for \"stacks\" (yes or no)",
		     shown(q, value, value_len));
	else
		p->ld->rs->no_stacks = !on;
}

/* "key = value" (or "key: value") of the current section: the key up to the first "=" or
 * ":", the value after it up to an inline comment, both trimmed. */
static void key_line(struct parser *p, const char *line, size_t n)
{
	size_t end = comment_start(line, n), sep = 0, key_len, value_len, idx;
	const char *key = line, *value;
	const struct ioh_rule_key *k;
	char q[SHOWN_MAX + 4], buf[IOH_RULES_VALUE_MAX + 1];

	while (sep < end && line[sep] != '=' && line[sep] != ':')
		sep++;
	if (sep >= end) {
		perr(p, "expected \"key = value\", \"[rule NAME]\" or a comment, got \"%s\"",
		     shown(q, line, end));
		return;
	}
	key_len = sep;
	trim(&key, &key_len);
	if (!key_len) {
		perr(p, "missing key before \"%c\"", line[sep]);
		return;
	}
	if (p->in_daemon) {
		value = line + sep + 1;
		value_len = end - sep - 1;
		trim(&value, &value_len);
		daemon_key(p, key, key_len, value, value_len);
		return;
	}
	if (!p->cur) {
		if (!p->skipping)
			perr(p, "key \"%s\" outside of a [rule NAME] section",
			     shown(q, key, key_len));
		return;
	}
	k = find_key(key, key_len);
	if (!k) {
		unknown_key(p, key, key_len);
		return;
	}
	value = line + sep + 1;
	value_len = end - sep - 1;
	trim(&value, &value_len);
	if (!value_len) {
		perr(p, "empty value for \"%s\" in [rule %s]", k->name, p->cur->rule.name);
		return;
	}
	if (k->type == IOH_KEY_LIST) {
		/* Entries are separated by blanks; each is checked on its own. */
		while (value_len) {
			size_t item = 0;

			while (item < value_len && !is_blank(value[item]))
				item++;
			list_add(p, k, value, item);
			value += item;
			value_len -= item;
			trim(&value, &value_len);
		}
		return;
	}
	idx = (size_t)(k - ioh_rule_keys);
	if (p->cur->key_line[idx]) {
		perr(p, "\"%s\" set twice in [rule %s] (first on line %u)", k->name,
		     p->cur->rule.name, p->cur->key_line[idx]);
		return;
	}
	p->cur->key_line[idx] = p->lineno;
	if (value_len > IOH_RULES_VALUE_MAX) {
		perr(p, "value \"%s\" for \"%s\" in [rule %s] is too long (max %d bytes)",
		     shown(q, value, value_len), k->name, p->cur->rule.name, IOH_RULES_VALUE_MAX);
		return;
	}
	memcpy(buf, value, value_len);
	buf[value_len] = '\0';
	scalar_set(p, k, buf);
}

/* One physical line (without its "\n"). */
static void parse_line(struct parser *p, const char *line, size_t n)
{
	if (n > IOH_RULES_LINE_MAX) {
		perr(p, "line too long (max %d bytes)", IOH_RULES_LINE_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		/* A CR only as part of a CRLF line end: a lone one is not whitespace. */
		if ((c < 0x20 && c != '\t' && !(c == '\r' && i + 1 == n)) || c == 0x7f) {
			perr(p, "invalid control character 0x%02x in column %zu", c, i + 1);
			return;
		}
	}
	if (p->lineno == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
		line += 3;
		n -= 3;
	}
	/* Indentation means nothing: there are no continuation lines. */
	trim(&line, &n);
	if (!n || line[0] == '#' || line[0] == ';')
		return;
	if (line[0] == '[')
		section_line(p, line, n);
	else
		key_line(p, line, n);
}

int ioh_rules_parse_text(struct ioh_rules_load *ld, const char *file, const char *text, size_t len)
{
	struct parser p = {.ld = ld, .file = file};
	size_t errors_before = ld->errors->count, pos = 0;

	while (pos < len && !p.stop && !ld->stopped) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + (nl ? 1 : 0);
		p.lineno++;
		parse_line(&p, line, n);
	}
	finish_section(&p);
	/* A file with errors fails the whole load, so only a clean one is worth merging. */
	for (size_t i = 0; i < p.ndrafts; i++) {
		if (ld->errors->count == errors_before && !ld->stopped &&
		    ioh_rules_merge(ld, &p.drafts[i]->rule) == 0)
			free(p.drafts[i]);
		else
			free_draft(p.drafts[i]);
	}
	free(p.drafts);
	return ld->errors->count == errors_before ? 0 : -EINVAL;
}
