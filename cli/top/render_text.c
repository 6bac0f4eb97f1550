// SPDX-License-Identifier: GPL-2.0-only
#include <json-c/json.h>
#include <langinfo.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

#include "cli/finding_text.h"
#include "cli/top/keys.h"
#include "cli/top/render_text.h"
#include "daemon/correlator/severity.h"
#include "daemon/stall_status_json.h"
#include "daemon/util/jsonw.h"
#include "daemon/util/string_table.h"

/* ---- lines ---------------------------------------------------------------------------------- */

void top_lines_init(struct top_lines *l)
{
	memset(l, 0, sizeof(*l));
}

void top_lines_free(struct top_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void top_lines_add(struct top_lines *l, const char *line)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **p = realloc(l->v, cap * sizeof(*p));

		if (!p)
			return;
		l->v = p;
		l->cap = cap;
	}
	copy = strdup(line ? line : "");
	if (copy)
		l->v[l->n++] = copy;
}

static void lines_add_sb(struct top_lines *l, struct strbuf *sb)
{
	top_lines_add(l, sb->buf ? sb->buf : "");
	strbuf_reset(sb);
}

/* ---- escaping and width --------------------------------------------------------------------- */

static bool utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* strbuf_put_escaped() (the one escaping of every human-facing output: controls, C1, bidi
 * overrides, invalid UTF-8), then what only a terminal's locale decides: a character it cannot
 * convert or print is shown as bytes or \uXXXX too. */
void top_escape(struct strbuf *out, const char *raw)
{
	struct strbuf tmp;
	mbstate_t st;
	bool utf8 = utf8_locale();
	const char *p;
	size_t left;

	if (!raw)
		return;
	strbuf_init(&tmp);
	strbuf_put_escaped(&tmp, raw, strlen(raw));
	p = tmp.buf;
	left = tmp.len;
	memset(&st, 0, sizeof(st));
	while (p && left) {
		unsigned char c = (unsigned char)*p;
		wchar_t wc;
		size_t n;

		if (c < 0x80) {
			strbuf_putc(out, (char)c);
			p++;
			left--;
			continue;
		}
		n = utf8 ? mbrtowc(&wc, p, left, &st) : (size_t)-1;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			/* A locale that cannot show it: bytes, still reversible. */
			strbuf_printf(out, "\\x%02x", c);
			memset(&st, 0, sizeof(st));
			p++;
			left--;
			continue;
		}
		if (!iswprint((wint_t)wc))
			strbuf_printf(out, "\\u%04x", (unsigned)wc);
		else
			strbuf_append(out, p, n);
		p += n;
		left -= n;
	}
	strbuf_free(&tmp);
}

/* Wide form of an escaped string; NULL if the locale cannot convert it. Caller frees. */
static wchar_t *widen(const char *s, size_t *len)
{
	size_t n = mbstowcs(NULL, s, 0);
	wchar_t *w;

	if (n == (size_t)-1)
		return NULL;
	w = calloc(n + 1, sizeof(*w));
	if (!w)
		return NULL;
	mbstowcs(w, s, n + 1);
	*len = n;
	return w;
}

static int wc_cols(wchar_t wc)
{
	int w = wcwidth(wc);

	return w < 0 ? 1 : w;
}

int top_width(const char *s)
{
	size_t n;
	wchar_t *w = widen(s, &n);
	int cols = 0;

	if (!w)
		return (int)strlen(s);
	for (size_t i = 0; i < n; i++)
		cols += wc_cols(w[i]);
	free(w);
	return cols;
}

static void put_wide(struct strbuf *out, const wchar_t *w, size_t n)
{
	char mb[MB_LEN_MAX];
	mbstate_t st;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		size_t k = wcrtomb(mb, w[i], &st);

		if (k != (size_t)-1)
			strbuf_append(out, mb, k);
	}
}

static void pad_to(struct strbuf *out, int cols)
{
	for (int i = 0; i < cols; i++)
		strbuf_putc(out, ' ');
}

void top_put_fitted(struct strbuf *out, const char *s, int width, bool keep_right, bool pad)
{
	const char *ellipsis = utf8_locale() ? "\u2026" : "~";
	size_t n, start, end;
	wchar_t *w;
	int cols, total = 0;

	if (width < 0) {
		strbuf_puts(out, s);
		return;
	}
	w = widen(s, &n);
	if (!w) {
		/* Escaped text is ASCII or valid UTF-8 in a UTF-8 locale: only on ENOMEM. */
		strbuf_puts(out, "?");
		if (pad)
			pad_to(out, width - 1);
		return;
	}
	for (size_t i = 0; i < n; i++)
		total += wc_cols(w[i]);
	if (total <= width) {
		put_wide(out, w, n);
		if (pad)
			pad_to(out, width - total);
		free(w);
		return;
	}
	if (width == 0) {
		free(w);
		return;
	}
	/* Room for the ellipsis (one column), then as many whole characters as fit. */
	cols = 0;
	if (keep_right) {
		start = n;
		while (start > 0 && cols + wc_cols(w[start - 1]) <= width - 1)
			cols += wc_cols(w[--start]);
		strbuf_puts(out, ellipsis);
		put_wide(out, w + start, n - start);
	} else {
		end = 0;
		while (end < n && cols + wc_cols(w[end]) <= width - 1)
			cols += wc_cols(w[end++]);
		put_wide(out, w, end);
		strbuf_puts(out, ellipsis);
	}
	if (pad)
		pad_to(out, width - 1 - cols);
	free(w);
}

void top_put_name(struct strbuf *out, const char *raw, int width, bool keep_right, bool pad)
{
	struct strbuf esc;

	strbuf_init(&esc);
	top_escape(&esc, raw ? raw : "");
	top_put_fitted(out, esc.buf ? esc.buf : "", width, keep_right, pad);
	strbuf_free(&esc);
}

/* ---- time ----------------------------------------------------------------------------------- */

void top_format_age(char *buf, size_t size, int64_t now_ns, int64_t then_ns)
{
	int64_t s;

	if (then_ns == INT64_MAX || then_ns == INT64_MIN || then_ns < 0) {
		snprintf(buf, size, "-");
		return;
	}
	s = (now_ns - then_ns) / 1000000000;
	if (s < 0)
		s = 0;
	if (s < 100)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 100 * 60)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
}

static void format_clock(char *buf, size_t size, int64_t ns, bool local)
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;

	if (ns == INT64_MAX || ns == INT64_MIN || ns < 0 ||
	    !(local ? localtime_r(&secs, &tm) : gmtime_r(&secs, &tm))) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, local ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void format_duration(char *buf, size_t size, double s)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 1e-3)
		snprintf(buf, size, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, size, "%.0fms", s * 1e3);
	else if (s < 120)
		snprintf(buf, size, "%.2fs", s);
	else
		snprintf(buf, size, "%.0fm", s / 60);
}

/* ---- table ---------------------------------------------------------------------------------- */

/* The SEV column's four-letter words; "?" for a hazard with no known severity (-1). */
static const char *const top_sev_short_table[] = {
    [IOH_SEV_INFO] = "INFO",
    [IOH_SEV_NOTICE] = "NOTE",
    [IOH_SEV_WARNING] = "WARN",
    [IOH_SEV_CRITICAL] = "CRIT",
};
IOH_DEFINE_PRIVATE_STRING_TABLE_LOOKUP(top_sev_short, int, "?");

static void programs_text(const struct top_hazard *h, struct strbuf *out)
{
	for (size_t i = 0; i < h->n_programs; i++) {
		const struct top_program *p = &h->programs[i];

		if (i)
			strbuf_puts(out, ", ");
		top_escape(out, p->comm);
		strbuf_printf(out, "[%u]", p->pid);
		if (p->unit[0]) {
			strbuf_putc(out, ' ');
			top_escape(out, p->unit);
		}
	}
	if (h->programs_more)
		strbuf_printf(out, " +%llu more", (unsigned long long)h->programs_more);
}

/*
 * The PROGRAMS cell in exactly `width` columns. When the whole list does not fit, the first
 * program's pid survives: it is what on-call types next (`ls -l /proc/PID/fd`), so the comm is
 * cut instead ("pyth…[2331] +2"), then the unit fills what is left.
 */
static void programs_fitted(const struct top_hazard *h, int width, struct strbuf *out)
{
	const struct top_program *p = &h->programs[0];
	unsigned long long others;
	struct strbuf full, tail, comm;
	const char *esc;
	int room, comm_cols;

	strbuf_init(&full);
	programs_text(h, &full);
	if (width < 0 || h->n_programs == 0 || top_width(full.buf ? full.buf : "") <= width) {
		top_put_fitted(out, full.buf ? full.buf : "", width, false, true);
		strbuf_free(&full);
		return;
	}
	strbuf_free(&full);
	others = h->n_programs - 1 + h->programs_more;
	strbuf_init(&tail);
	strbuf_printf(&tail, "[%u]", p->pid);
	if (others)
		strbuf_printf(&tail, " +%llu", others);
	strbuf_init(&comm);
	top_escape(&comm, p->comm);
	esc = comm.buf ? comm.buf : "";
	comm_cols = top_width(esc);
	room = width - top_width(tail.buf);
	if (room < 2) {
		/* Not even one character of the comm: the tail alone, cut. */
		top_put_fitted(out, tail.buf, width, false, true);
	} else if (comm_cols > room) {
		top_put_fitted(out, esc, room, false, true); /* exactly `room` columns */
		strbuf_puts(out, tail.buf);
	} else {
		strbuf_puts(out, esc);
		strbuf_puts(out, tail.buf);
		room -= comm_cols;
		if (!others && p->unit[0] && room >= 2) {
			/* One program with a unit: the unit is cut to the rest. */
			strbuf_putc(out, ' ');
			top_put_name(out, p->unit, room - 1, false, true);
		} else {
			pad_to(out, room);
		}
	}
	strbuf_free(&comm);
	strbuf_free(&tail);
}

#define COL_GAPS 6 /* one space between the seven columns */

void top_columns_layout(struct top_model *m, int width, struct top_columns *c)
{
	struct top_hazard *const *rows;
	size_t n;
	int rule = 4, programs = 8, rest;

	rows = top_model_rows(m, &n);
	for (size_t i = 0; i < n; i++) {
		int w = top_width(rows[i]->rule);
		struct strbuf sb;

		if (w > rule)
			rule = w;
		if (width <= 0) {
			strbuf_init(&sb);
			programs_text(rows[i], &sb);
			w = sb.buf ? top_width(sb.buf) : 0;
			if (w > programs)
				programs = w;
			strbuf_free(&sb);
		}
	}
	c->severity = 4;
	c->count = 5;
	c->first = 5;
	c->last = 5;
	if (rule > 30)
		rule = 30;
	c->rule = rule;
	if (width <= 0) {
		c->programs = programs > 60 ? 60 : programs;
		c->path = -1;
		return;
	}
	/* The path and the programs share what is left, the path getting more: it is what the
	 * operator goes and looks at. */
	rest = width - (c->severity + c->rule + c->count + c->first + c->last + COL_GAPS);
	if (rest < 20) {
		c->rule -= 20 - rest;
		if (c->rule < 8)
			c->rule = 8;
		rest = 20;
	}
	c->programs = rest * 2 / 5;
	if (c->programs > 40)
		c->programs = 40;
	c->path = rest - c->programs - 1;
	if (c->path < 1)
		c->path = 1;
}

void top_render_table_header(const struct top_columns *c, struct strbuf *out)
{
	strbuf_printf(out, "%-*s %-*s %*s %*s %*s ", c->severity, "SEV", c->rule, "RULE", c->count,
		      "COUNT", c->first, "FIRST", c->last, "LAST");
	top_put_fitted(out, "PROGRAMS", c->programs, false, true);
	strbuf_putc(out, ' ');
	top_put_fitted(out, "PATH", c->path, false, c->path >= 0);
}

/* "102 files" or "1000+ files". */
static void files_count(const struct top_hazard *h, struct strbuf *out)
{
	strbuf_printf(out, "%zu%s file%s", h->n_files, h->files_more ? "+" : "",
		      h->n_files == 1 && !h->files_more ? "" : "s");
}

void top_put_where(const struct top_hazard *h, int width, struct strbuf *out)
{
	struct strbuf raw, text;

	strbuf_init(&raw);
	if (h->n_files < 2 || !top_hazard_site(h, &raw)) {
		/* One file (or grouped by path): the path, its file name kept when cut. */
		top_put_name(out, h->path[0] ? h->path : "-", width, true, width >= 0);
		strbuf_free(&raw);
		return;
	}
	/* Cut on the right: the count and the function matter more than the module. */
	strbuf_init(&text);
	files_count(h, &text);
	strbuf_puts(&text, " from ");
	top_escape(&text, raw.buf ? raw.buf : "");
	top_put_fitted(out, text.buf, width, false, width >= 0);
	strbuf_free(&text);
	strbuf_free(&raw);
}

void top_render_row(const struct top_hazard *h, const struct top_columns *c, int64_t now_ns,
		    struct strbuf *out)
{
	char first[16], last[16], count[24];

	top_format_age(first, sizeof(first), now_ns, h->first_ns);
	top_format_age(last, sizeof(last), now_ns, h->last_ns);
	if (h->count < 100000)
		snprintf(count, sizeof(count), "%llu", (unsigned long long)h->count);
	else
		snprintf(count, sizeof(count), "%lluk", (unsigned long long)(h->count / 1000));
	strbuf_printf(out, "%-*s ", c->severity, top_sev_short_to_string(h->severity));
	top_put_name(out, h->rule, c->rule, false, true);
	strbuf_printf(out, " %*s %*s %*s ", c->count, count, c->first, first, c->last, last);
	programs_fitted(h, c->programs, out);
	strbuf_putc(out, ' ');
	top_put_where(h, c->path, out);
}

/* ---- header --------------------------------------------------------------------------------- */

static void fit_line(struct top_lines *out, struct strbuf *sb, int width)
{
	struct strbuf fitted;

	if (width <= 0 || !sb->buf) {
		lines_add_sb(out, sb);
		return;
	}
	strbuf_init(&fitted);
	top_put_fitted(&fitted, sb->buf, width, false, false);
	top_lines_add(out, fitted.buf ? fitted.buf : "");
	strbuf_free(&fitted);
	strbuf_reset(sb);
}

void top_render_header(struct top_model *m, const char *host, int width, int64_t now_ns,
		       struct top_lines *out)
{
	const struct top_stats *st = &m->stats;
	struct strbuf sb;
	char clock[64];
	size_t n_rows, attached = 0;

	top_model_rows(m, &n_rows);
	strbuf_init(&sb);
	format_clock(clock, sizeof(clock), now_ns, true);
	strbuf_puts(&sb, "iohazard top - ");
	top_escape(&sb, host);
	strbuf_printf(&sb, " - %s", clock);
	if (st->valid) {
		long up = (long)st->uptime_seconds;

		strbuf_printf(&sb, " - iohazardd %s up ", st->version[0] ? st->version : "?");
		if (up >= 86400)
			strbuf_printf(&sb, "%ldd%02ldh", up / 86400, up % 86400 / 3600);
		else
			strbuf_printf(&sb, "%ldh%02ldm", up / 3600, up % 3600 / 60);
	}
	if (m->paused)
		strbuf_puts(&sb, "  [PAUSED]");
	fit_line(out, &sb, width);

	if (!st->valid) {
		strbuf_puts(&sb, "Events: waiting for the daemon's statistics");
	} else {
		if (m->rates_valid)
			strbuf_printf(&sb, "Events: %.1f/s", m->events_per_second);
		else
			strbuf_puts(&sb, "Events: -/s");
		strbuf_printf(&sb, "  Lost: %llu", (unsigned long long)st->lost_total);
		if (m->rates_valid)
			strbuf_printf(&sb, " (+%llu)", (unsigned long long)m->lost_delta);
		strbuf_printf(&sb, "  Tracked inodes: %llu  Pending renames: %llu  BPF cost: ",
			      (unsigned long long)st->tracked_inodes,
			      (unsigned long long)st->pending_renames);
		if (st->has_bpf_cost && m->rates_valid)
			strbuf_printf(&sb, "%.2f%% CPU", m->bpf_cpu_percent);
		else
			strbuf_puts(&sb, "n/a");
	}
	fit_line(out, &sb, width);

	for (size_t i = 0; i < st->n_hooks; i++)
		attached += st->hooks[i].attached;
	strbuf_printf(&sb, "Hooks %zu/%zu:", attached, st->n_hooks);
	for (size_t i = 0; i < st->n_hooks; i++) {
		strbuf_putc(&sb, ' ');
		top_escape(&sb, st->hooks[i].name);
		strbuf_putc(&sb, '=');
		if (st->hooks[i].attached)
			top_escape(&sb, st->hooks[i].backend[0] ? st->hooks[i].backend : "?");
		else
			strbuf_puts(&sb, "NOT-ATTACHED");
	}
	if (!st->n_hooks)
		strbuf_puts(&sb, " -");
	fit_line(out, &sb, width);

	strbuf_printf(&sb,
		      "Hazards: %zu shown of %zu (%llu findings)  Sort: %s%s  Filter: ", n_rows,
		      m->n_hazards, (unsigned long long)m->findings_ingested,
		      top_sort_to_string(m->sort), m->reverse ? " (reversed)" : "");
	if (m->filter_rule)
		top_escape(&sb, m->filter_rule);
	else
		strbuf_puts(&sb, "all rules");
	if (m->hazards_dropped)
		strbuf_printf(&sb, "  (%llu old hazards dropped)",
			      (unsigned long long)m->hazards_dropped);
	fit_line(out, &sb, width);
	strbuf_free(&sb);
}

/* ---- bottom panel --------------------------------------------------------------------------- */

/* One character per log2 slot, scaled to the fullest slot: the shape of the pauses. */
static void sparkline(struct strbuf *sb, const struct top_throttle_dev *d, size_t lo, size_t hi)
{
	static const char levels[] = " .:-=+*#%@";
	uint64_t max = 0;

	for (size_t i = lo; i <= hi; i++)
		if (d->buckets[i] > max)
			max = d->buckets[i];
	for (size_t i = lo; i <= hi; i++) {
		size_t level = max ? (size_t)((d->buckets[i] * 9 + max - 1) / max) : 0;

		strbuf_putc(sb, levels[level > 9 ? 9 : level]);
	}
}

/* One device of the dirty-throttle panel: pauses, their mean, and the histogram's range. */
static void throttle_line(struct strbuf *sb, const struct top_throttle_dev *d)
{
	size_t lo = 0, hi = 0;
	bool any = false;
	char avg[16], from[16], to[16];

	/* The range shown: from the lowest non-empty slot to the end of the highest. */
	for (size_t b = 0; b < d->n_buckets; b++)
		if (d->buckets[b]) {
			if (!any)
				lo = b;
			any = true;
			hi = b;
		}
	/* The kernel keeps no maximum (the range's end bounds it): the mean instead. */
	format_duration(avg, sizeof(avg),
			d->count && d->sum_seconds >= 0 ? d->sum_seconds / (double)d->count : -1);
	format_duration(from, sizeof(from), ioh_st_bucket_low_seconds((unsigned)lo));
	format_duration(to, sizeof(to), ioh_st_bucket_low_seconds((unsigned)hi + 1));
	strbuf_puts(sb, "  ");
	top_put_name(sb, d->bdi, 10, false, true);
	strbuf_printf(sb, " %8llu pauses  avg %-7s %6s |", (unsigned long long)d->count, avg,
		      d->count ? from : "-");
	if (d->count)
		sparkline(sb, d, lo, hi);
	strbuf_printf(sb, "| %s", d->count ? to : "-");
}

void top_render_panel(struct top_model *m, int width, size_t max_lines, struct top_lines *out)
{
	const struct top_stats *st = &m->stats;
	size_t per_section = max_lines ? (max_lines > 2 ? (max_lines - 2) / 2 : 0) : SIZE_MAX;
	size_t throttle_rows, stall_rows;
	struct strbuf sb;

	if (per_section == 0)
		per_section = 1;
	/* Give unused rows of one section to the other. */
	throttle_rows = st->n_throttle ? st->n_throttle : 1;
	stall_rows = st->n_stalls ? st->n_stalls : 1;
	if (max_lines) {
		size_t budget = max_lines > 2 ? max_lines - 2 : 0;

		if (throttle_rows > per_section && stall_rows < per_section)
			per_section = budget - stall_rows;
		if (throttle_rows > per_section)
			throttle_rows = per_section;
		if (stall_rows > budget - throttle_rows)
			stall_rows = budget - throttle_rows;
	}
	strbuf_init(&sb);
	strbuf_puts(&sb, "Dirty-throttle pauses per device (log2 slots):");
	fit_line(out, &sb, width);
	if (!st->has_throttle || !st->n_throttle) {
		strbuf_puts(&sb, st->has_throttle ? "  no pauses recorded"
						  : "  no data (this iohazardd does not report "
						    "dirty throttling yet)");
		fit_line(out, &sb, width);
	}
	for (size_t i = 0; i < st->n_throttle && i < throttle_rows; i++) {
		throttle_line(&sb, &st->throttle[i]);
		fit_line(out, &sb, width);
	}
	strbuf_puts(&sb, "Worst splice stalls:");
	fit_line(out, &sb, width);
	if (!st->has_splice || !st->n_stalls) {
		strbuf_puts(&sb, st->has_splice ? "  none"
						: "  no data (this iohazardd does not "
						  "report splice stalls yet)");
		fit_line(out, &sb, width);
	}
	for (size_t i = 0; i < st->n_stalls && i < stall_rows; i++) {
		const struct top_splice_stall *s = &st->stalls[i];
		char dur[16];

		format_duration(dur, sizeof(dur), s->seconds);
		strbuf_printf(&sb, "  %7s ", dur);
		top_put_name(&sb, s->call[0] ? s->call : "?", 15, false, true);
		strbuf_putc(&sb, ' ');
		top_escape(&sb, s->comm);
		strbuf_printf(&sb, "[%u]", s->pid);
		if (s->unit[0]) {
			strbuf_putc(&sb, ' ');
			top_escape(&sb, s->unit);
		}
		strbuf_putc(&sb, ' ');
		top_escape(&sb, s->path);
		fit_line(out, &sb, width);
	}
	strbuf_free(&sb);
}

/* ---- details and help ----------------------------------------------------------------------- */

/* Word-wraps an escaped paragraph into lines of at most `width` columns, indented. */
static void wrap(struct top_lines *out, const char *indent, const char *raw, int width)
{
	struct strbuf esc, line;
	const char *p;
	int avail = width > 0 ? width - (int)strlen(indent) : 0;

	strbuf_init(&esc);
	strbuf_init(&line);
	top_escape(&esc, raw ? raw : "");
	p = esc.buf ? esc.buf : "";
	if (avail < 20) {
		strbuf_puts(&line, indent);
		strbuf_puts(&line, p);
		lines_add_sb(out, &line);
		goto out;
	}
	while (*p) {
		const char *end = p, *cut = NULL;
		struct strbuf word;
		int cols;

		/* Longest prefix that fits, cut at the last space in it. */
		strbuf_init(&word);
		while (*end) {
			size_t k = 1;

			while ((end[k] & 0xc0) == 0x80)
				k++;
			strbuf_append(&word, end, k);
			cols = top_width(word.buf);
			if (cols > avail)
				break;
			end += k;
			if (*end == ' ' || !*end)
				cut = end;
		}
		strbuf_free(&word);
		if (!*end)
			cut = end;
		else if (!cut)
			cut = end; /* one word longer than the line: hard break */
		strbuf_puts(&line, indent);
		strbuf_append(&line, p, (size_t)(cut - p));
		lines_add_sb(out, &line);
		p = cut;
		while (*p == ' ')
			p++;
	}
out:
	strbuf_free(&esc);
	strbuf_free(&line);
}

static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

/* "#1 save_config (/src/config.c:118) in /usr/bin/app+0x1139 [build id 3f2a...]", raw:
 * no name is ever made up, a frame without a function is its module and offset. */
static void frame_line(struct json_object *fr, size_t i, struct strbuf *raw)
{
	const char *bid = field(fr, "build_id");
	struct strbuf file;
	bool named, module;

	strbuf_printf(raw, "#%zu ", i);
	named = cli_json_raw(fr, "function", raw);
	strbuf_init(&file);
	if (cli_json_raw(fr, "file", &file)) {
		uint64_t line = cli_frame_line(fr);

		strbuf_puts(raw, named ? " (" : "(");
		strbuf_append(raw, file.buf ? file.buf : "", file.len);
		if (line)
			strbuf_printf(raw, ":%llu", (unsigned long long)line);
		strbuf_putc(raw, ')');
		named = true;
	}
	strbuf_free(&file);
	if (named)
		strbuf_puts(raw, " in ");
	module = cli_json_raw(fr, "module", raw);
	strbuf_printf(raw, "%s0x%llx", module ? "+" : "", (unsigned long long)cli_frame_offset(fr));
	if (!module)
		strbuf_puts(raw, " (no module)");
	if (bid)
		strbuf_printf(raw, " [build id %s]", bid);
}

/* "Call chain:": every frame of the latest finding's chain, and its status when not "ok". */
static void chain_details(struct json_object *f, int width, struct top_lines *out)
{
	const char *status = cli_chain_status(f);
	struct json_object *frames = cli_chain_frames(f);
	size_t n = frames ? json_object_array_length(frames) : 0;
	struct strbuf raw;

	if (!status && !frames)
		return; /* no user call behind this hazard */
	top_lines_add(out, "");
	top_lines_add(out, "Call chain (latest finding, innermost first):");
	strbuf_init(&raw);
	for (size_t i = 0; i < n && i < TOP_FRAMES_SHOWN; i++) {
		frame_line(json_object_array_get_idx(frames, i), i, &raw);
		wrap(out, "  ", raw.buf, width);
		strbuf_reset(&raw);
	}
	if (n > TOP_FRAMES_SHOWN) {
		strbuf_printf(&raw, "  ... %zu more frames", n - TOP_FRAMES_SHOWN);
		fit_line(out, &raw, width);
	}
	if (status && strcmp(status, "ok") != 0) {
		strbuf_puts(&raw, n ? "  (stack " : "  none (stack ");
		top_escape(&raw, status);
		strbuf_putc(&raw, ')');
	} else if (!n) {
		strbuf_puts(&raw, "  none");
	}
	if (raw.len)
		fit_line(out, &raw, width);
	strbuf_free(&raw);
}

static void programs_details(const struct top_hazard *h, int width, struct top_lines *out)
{
	struct strbuf sb;

	strbuf_init(&sb);
	top_lines_add(out, "Programs:");
	for (size_t i = 0; i < h->n_programs; i++) {
		const struct top_program *p = &h->programs[i];

		strbuf_puts(&sb, "  ");
		top_escape(&sb, p->comm);
		strbuf_printf(&sb, " pid %u, unit ", p->pid);
		top_escape(&sb, p->unit[0] ? p->unit : "(none)");
		strbuf_printf(&sb, ", %llu times", (unsigned long long)p->count);
		fit_line(out, &sb, width);
	}
	if (h->programs_more) {
		strbuf_printf(&sb, "  and %llu findings by other programs",
			      (unsigned long long)h->programs_more);
		fit_line(out, &sb, width);
	}
	strbuf_free(&sb);
}

/* Every evidence key of the latest finding but the chain, which has its own section. */
static void evidence_details(struct json_object *f, int width, struct top_lines *out)
{
	struct json_object *ev;

	top_lines_add(out, "Evidence:");
	if (!f || !json_object_object_get_ex(f, "evidence", &ev) ||
	    !json_object_is_type(ev, json_type_object) || !json_object_object_length(ev)) {
		top_lines_add(out, "  (none)");
		return;
	}
	json_object_object_foreach(ev, key, val)
	{
		struct strbuf label;

		if (strcmp(key, "stack") == 0 || strcmp(key, "stack_status") == 0)
			continue;
		strbuf_init(&label);
		strbuf_puts(&label, "  ");
		top_escape(&label, key);
		strbuf_puts(&label, ": ");
		wrap(out, label.buf ? label.buf : "  ",
		     json_object_is_type(val, json_type_string)
			 ? json_object_get_string(val)
			 : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN),
		     width);
		strbuf_free(&label);
	}
}

void top_render_details(const struct top_hazard *h, int width, int64_t now_ns,
			struct top_lines *out)
{
	struct json_object *f = h->latest;
	struct strbuf sb;
	char first[64], last[64], age[16];
	const char *s;

	strbuf_init(&sb);
	top_escape(&sb, h->rule);
	strbuf_printf(&sb, "  severity %s, confidence %s", ioh_severity_to_string(h->severity),
		      h->degraded ? "degraded (events were lost on its path)" : "high");
	fit_line(out, &sb, width);
	top_lines_add(out, "");
	wrap(out, "Path:      ", h->path[0] ? h->path : "-", width);
	if (h->n_files > 1 || h->files_more) {
		strbuf_puts(&sb, "Files:     ");
		files_count(h, &sb);
		strbuf_puts(&sb, " from this call site (Path and File: the latest)");
		fit_line(out, &sb, width);
	}
	if (top_hazard_site(h, &sb)) {
		struct strbuf site;

		strbuf_init(&site);
		strbuf_append(&site, sb.buf, sb.len);
		strbuf_reset(&sb);
		wrap(out, "Call site: ", site.buf, width);
		strbuf_free(&site);
	}
	strbuf_puts(&sb, "File:      ");
	strbuf_printf(&sb, "device %s  inode %s  filesystem ", (s = field(f, "dev")) ? s : "?",
		      field(f, "ino") ? field(f, "ino") : "?");
	top_escape(&sb, (s = field(f, "fstype")) ? s : "?");
	fit_line(out, &sb, width);
	format_clock(first, sizeof(first), h->first_ns, true);
	format_clock(last, sizeof(last), h->last_ns, true);
	top_format_age(age, sizeof(age), now_ns, h->last_ns);
	strbuf_printf(&sb, "Seen:      %llu times, first %s, last %s (%s ago)",
		      (unsigned long long)h->count, first, last, age);
	fit_line(out, &sb, width);
	programs_details(h, width, out);
	if ((s = field(f, "cgroup"))) {
		wrap(out, "Cgroup:    ", s, width);
	}
	top_lines_add(out, "");
	top_lines_add(out, "What happened (latest finding):");
	wrap(out, "  ", (s = field(f, "message")) ? s : "(no message)", width);
	top_lines_add(out, "");
	top_lines_add(out, "How to fix it:");
	wrap(out, "  ", (s = field(f, "fix")) ? s : "(no fix text from the daemon)", width);
	chain_details(f, width, out);
	top_lines_add(out, "");
	evidence_details(f, width, out);
	strbuf_free(&sb);
}

/* The names of a row's keys ("Up k Down j"), `sep` between them. */
static void key_names(struct strbuf *out, const struct top_key *k, const char *sep)
{
	bool first = true;

	for (size_t b = 0; b < TOP_KEY_BINDS_MAX && k->binds[b].code; b++) {
		if (!k->binds[b].name)
			continue;
		if (!first)
			strbuf_puts(out, sep);
		strbuf_puts(out, k->binds[b].name);
		first = false;
	}
}

void top_render_help(struct top_lines *out)
{
	static const char *const about[] = {
	    "A hazard is every finding of one rule and path, or of one rule and call site",
	    "(its chain's first frame outside libc: PATH \"102 files from save_config (c.c:9)",
	    "in /usr/bin/app\"). FIRST, LAST: how long ago; PROGRAMS: comm[pid] and systemd",
	    "unit, latest first. SEV: CRIT critical, WARN warning, NOTE notice, INFO info.",
	    "The header shows events per second (between the daemon's last two samples),",
	    "events lost (total and since the last sample), and how each hook is attached.",
	};
	/* Keys in a column this wide (and two spaces); longer names push their text right. */
	enum { KEYS_COLUMN = 12 };
	struct strbuf sb;

	strbuf_init(&sb);
	top_lines_add(out, "iohazard top: crash-unsafe I/O on this host, live");
	top_lines_add(out, "");
	for (size_t i = 0; i < top_keys_count; i++) {
		const struct top_key *k = &top_keys[i];

		if (!k->help)
			continue;
		strbuf_puts(&sb, "  ");
		key_names(&sb, k, " ");
		strbuf_printf(&sb, "%*s%s",
			      sb.len < 2 + KEYS_COLUMN ? 2 + KEYS_COLUMN + 2 - (int)sb.len : 2, "",
			      k->help);
		lines_add_sb(out, &sb);
	}
	top_lines_add(out, "");
	for (size_t i = 0; i < sizeof(about) / sizeof(about[0]); i++)
		top_lines_add(out, about[i]);
	strbuf_free(&sb);
}

void top_render_keybar(enum top_view view, unsigned on, unsigned off, struct strbuf *out)
{
	for (size_t i = 0; i < top_keys_count; i++) {
		const struct top_key *k = &top_keys[i];
		enum top_action act = k->binds[0].action;

		if (!(k->bar_views & TOP_IN(view)) || (off & TOP_ACT_BIT(act)))
			continue;
		strbuf_puts(out, out->len ? "  " : " ");
		if (k->bar_keys)
			strbuf_puts(out, k->bar_keys);
		else
			strbuf_puts(out, k->binds[0].name);
		strbuf_putc(out, ' ');
		strbuf_puts(out, (on & TOP_ACT_BIT(act)) && k->brief_on ? k->brief_on : k->brief);
	}
}

void top_render_keys_usage(int width, struct strbuf *out)
{
	static const char indent[] = "  ";
	size_t line_start = out->len;
	struct strbuf item;
	bool first = true;

	strbuf_init(&item);
	strbuf_printf(out, "%sKeys:", indent);
	for (size_t i = 0; i < top_keys_count; i++) {
		const struct top_key *k = &top_keys[i];

		if (!k->brief || !(k->views & (TOP_IN_TABLE | TOP_IN_DETAILS)))
			continue;
		strbuf_puts(&item, first ? " " : ", ");
		key_names(&item, k, "/");
		strbuf_printf(&item, " %s", k->brief);
		first = false;
		/* Wrap before an item that would pass `width`; the comma stays on this line. */
		if (out->len - line_start + item.len > (size_t)width && item.buf[0] == ',') {
			strbuf_puts(out, ",\n");
			line_start = out->len;
			strbuf_puts(out, indent);
			strbuf_puts(out, item.buf + 2);
		} else {
			strbuf_puts(out, item.buf);
		}
		strbuf_reset(&item);
	}
	strbuf_puts(out, ".\n");
	strbuf_free(&item);
}

/* ---- batch frames --------------------------------------------------------------------------- */

void top_render_frame(struct top_model *m, const char *host, int width, int64_t now_ns,
		      struct strbuf *out)
{
	struct top_lines lines;
	struct top_columns cols;
	struct top_hazard *const *rows;
	struct strbuf sb;
	size_t n;

	top_lines_init(&lines);
	top_render_header(m, host, width, now_ns, &lines);
	top_lines_add(&lines, "");
	top_columns_layout(m, width, &cols);
	strbuf_init(&sb);
	top_render_table_header(&cols, &sb);
	lines_add_sb(&lines, &sb);
	rows = top_model_rows(m, &n);
	for (size_t i = 0; i < n; i++) {
		top_render_row(rows[i], &cols, now_ns, &sb);
		lines_add_sb(&lines, &sb);
	}
	if (!n)
		top_lines_add(&lines, "  (no hazards seen)");
	top_lines_add(&lines, "");
	top_render_panel(m, width, 0, &lines);
	for (size_t i = 0; i < lines.n; i++) {
		/* Padding is for the curses view; trailing blanks only bother scripts. */
		size_t len = strlen(lines.v[i]);

		while (len && lines.v[i][len - 1] == ' ')
			len--;
		strbuf_append(out, lines.v[i], len);
		strbuf_putc(out, '\n');
	}
	strbuf_putc(out, '\n');
	top_lines_free(&lines);
	strbuf_free(&sb);
}

static void json_time(struct jsonw *w, const char *key, int64_t ns)
{
	char buf[64];

	format_clock(buf, sizeof(buf), ns, false);
	jsonw_key(w, key);
	if (strcmp(buf, "-") == 0)
		jsonw_null(w);
	else
		jsonw_str(w, buf);
}

/* "callsite": the frame the hazard is grouped by, as in evidence.stack, and its text as the
 * daemon's text line names it ("site"); null for a hazard grouped by path. */
static void json_callsite(struct jsonw *w, const struct top_hazard *h)
{
	struct json_object *fr = h->callsite ? cli_chain_first_app_frame(h->latest) : NULL;
	static const char *const strs[] = {"module", "build_id", "function", "file"};
	struct strbuf raw;

	jsonw_key(w, "callsite");
	if (!fr) {
		jsonw_null(w);
		return;
	}
	strbuf_init(&raw);
	jsonw_obj_begin(w);
	cli_frame_site(fr, &raw);
	jsonw_kv_str(w, "site", raw.buf ? raw.buf : "");
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		strbuf_reset(&raw);
		if (cli_json_raw(fr, strs[i], &raw))
			jsonw_kv_str(w, strs[i], raw.buf ? raw.buf : "");
		else
			jsonw_kv_str(w, strs[i], NULL);
	}
	jsonw_kv_uint(w, "offset", cli_frame_offset(fr));
	jsonw_kv_uint(w, "line", cli_frame_line(fr));
	jsonw_obj_end(w);
	strbuf_free(&raw);
}

static void json_hazards(struct jsonw *w, struct top_hazard *const *rows, size_t n)
{
	jsonw_key(w, "hazards");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < n; i++) {
		const struct top_hazard *h = rows[i];

		jsonw_obj_begin(w);
		jsonw_kv_str(w, "rule", h->rule);
		jsonw_kv_str(w, "severity", ioh_severity_to_string(h->severity));
		jsonw_kv_str(w, "confidence", h->degraded ? "degraded" : "high");
		jsonw_kv_str(w, "path", h->path);
		jsonw_kv_uint(w, "files", h->n_files);
		jsonw_kv_bool(w, "files_more", h->files_more);
		json_callsite(w, h);
		jsonw_kv_uint(w, "count", h->count);
		json_time(w, "first_seen", h->first_ns);
		json_time(w, "last_seen", h->last_ns);
		jsonw_key(w, "programs");
		jsonw_arr_begin(w);
		for (size_t p = 0; p < h->n_programs; p++) {
			jsonw_obj_begin(w);
			jsonw_kv_uint(w, "pid", h->programs[p].pid);
			jsonw_kv_str(w, "comm", h->programs[p].comm);
			jsonw_key(w, "unit");
			if (h->programs[p].unit[0])
				jsonw_str(w, h->programs[p].unit);
			else
				jsonw_null(w);
			jsonw_kv_uint(w, "count", h->programs[p].count);
			jsonw_obj_end(w);
		}
		jsonw_arr_end(w);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

/* The stall sections are null, not empty, while the daemon does not report them: "none" and
 * "unknown" differ. */
static void json_throttle(struct jsonw *w, const struct top_stats *st)
{
	jsonw_key(w, IOH_ST_DIRTY_THROTTLE);
	if (st->has_throttle) {
		jsonw_obj_begin(w);
		for (size_t i = 0; i < st->n_throttle; i++) {
			jsonw_key(w, st->throttle[i].bdi);
			jsonw_obj_begin(w);
			jsonw_kv_uint(w, IOH_ST_HIST_COUNT, st->throttle[i].count);
			if (st->throttle[i].sum_seconds >= 0)
				jsonw_kv_double(w, IOH_ST_HIST_SUM_SECONDS,
						st->throttle[i].sum_seconds);
			jsonw_key(w, IOH_ST_HIST_BUCKETS);
			jsonw_arr_begin(w);
			for (size_t b = 0; b < st->throttle[i].n_buckets; b++)
				jsonw_uint(w, st->throttle[i].buckets[b]);
			jsonw_arr_end(w);
			jsonw_obj_end(w);
		}
		jsonw_obj_end(w);
	} else {
		jsonw_null(w);
	}
}

static void json_stalls(struct jsonw *w, const struct top_stats *st)
{
	jsonw_key(w, IOH_ST_SPLICE_STALLS);
	if (st->has_splice) {
		jsonw_arr_begin(w);
		for (size_t i = 0; i < st->n_stalls; i++) {
			jsonw_obj_begin(w);
			jsonw_kv_uint(w, IOH_ST_STALL_PID, st->stalls[i].pid);
			jsonw_kv_str(w, IOH_ST_STALL_COMM, st->stalls[i].comm);
			jsonw_key(w, IOH_ST_STALL_UNIT);
			if (st->stalls[i].unit[0])
				jsonw_str(w, st->stalls[i].unit);
			else
				jsonw_null(w);
			jsonw_kv_str(w, IOH_ST_STALL_CALL, st->stalls[i].call);
			jsonw_kv_str(w, IOH_ST_STALL_PATH, st->stalls[i].path);
			jsonw_kv_double(w, IOH_ST_STALL_DURATION_SECONDS, st->stalls[i].seconds);
			jsonw_obj_end(w);
		}
		jsonw_arr_end(w);
	} else {
		jsonw_null(w);
	}
}

void top_render_json(struct top_model *m, const char *host, int64_t now_ns, struct strbuf *out)
{
	const struct top_stats *st = &m->stats;
	struct top_hazard *const *rows;
	struct jsonw w;
	size_t n;

	rows = top_model_rows(m, &n);
	jsonw_init(&w, out);
	jsonw_obj_begin(&w);
	json_time(&w, "time", now_ns);
	jsonw_kv_str(&w, "host", host);
	jsonw_kv_str(&w, "sort", top_sort_to_string(m->sort));
	jsonw_kv_bool(&w, "reverse", m->reverse);
	jsonw_key(&w, "filter_rule");
	if (m->filter_rule)
		jsonw_str(&w, m->filter_rule);
	else
		jsonw_null(&w);
	jsonw_key(&w, "events_per_second");
	if (m->rates_valid)
		jsonw_double(&w, m->events_per_second);
	else
		jsonw_null(&w);
	jsonw_key(&w, "events_lost_delta");
	if (m->rates_valid)
		jsonw_uint(&w, m->lost_delta);
	else
		jsonw_null(&w);
	jsonw_key(&w, "bpf_cpu_percent");
	if (m->rates_valid && st->has_bpf_cost)
		jsonw_double(&w, m->bpf_cpu_percent);
	else
		jsonw_null(&w);
	jsonw_kv_uint(&w, "events_lost", st->lost_total);
	jsonw_kv_uint(&w, "tracked_inodes", st->tracked_inodes);
	jsonw_kv_uint(&w, "pending_renames", st->pending_renames);
	jsonw_key(&w, "hooks");
	jsonw_obj_begin(&w);
	for (size_t i = 0; i < st->n_hooks; i++) {
		jsonw_key(&w, st->hooks[i].name);
		jsonw_obj_begin(&w);
		jsonw_kv_str(&w, "backend", st->hooks[i].backend);
		jsonw_kv_bool(&w, "attached", st->hooks[i].attached);
		jsonw_obj_end(&w);
	}
	jsonw_obj_end(&w);
	json_hazards(&w, rows, n);
	json_throttle(&w, st);
	json_stalls(&w, st);
	jsonw_obj_end(&w);
	jsonw_finish(&w);
}
