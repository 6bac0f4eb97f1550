/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `iohazard top` as plain text: every line the views show (header, table rows, the bottom
 * panel, details, help) is built here, escaped and fitted to a width. Batch mode prints these
 * lines as frames; the curses view draws the same lines and only adds colour and the
 * selection bar, so what a script sees is what an operator sees.
 *
 * Every string from the daemon (paths, program names, units, messages) is untrusted: it goes
 * through top_escape() before it reaches a terminal.
 */
#ifndef IOH_TOP_RENDER_TEXT_H
#define IOH_TOP_RENDER_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/top/keys.h"
#include "cli/top/model.h"
#include "daemon/util/strbuf.h"

/* A list of owned lines. */
struct top_lines {
	char **v;
	size_t n, cap;
};

void top_lines_init(struct top_lines *l);
void top_lines_free(struct top_lines *l);
void top_lines_add(struct top_lines *l, const char *line);

/* Printable form of untrusted bytes: strbuf_put_escaped() (controls and invalid UTF-8 as \xNN,
 * C1 controls and bidi overrides as \uXXXX), then characters the locale cannot print
 * (anything non-ASCII in a non-UTF-8 locale) as \uXXXX or \xNN. */
void top_escape(struct strbuf *out, const char *raw);
/* Terminal columns taken by an escaped string (mbstowcs + wcwidth). */
int top_width(const char *escaped);
/* Appends `escaped` in exactly `width` columns: cut with an ellipsis on the left when
 * `keep_right` (paths: the file name stays visible) or on the right; padded with spaces when
 * `pad`. A negative width appends it whole. */
void top_put_fitted(struct strbuf *out, const char *escaped, int width, bool keep_right, bool pad);
/* top_escape() then top_put_fitted(). */
void top_put_name(struct strbuf *out, const char *raw, int width, bool keep_right, bool pad);

/* "4s", "12m", "3h", "5d": how long ago, compact for the table. */
void top_format_age(char *buf, size_t size, int64_t now_ns, int64_t then_ns);

/* Column widths of the hazard table for a terminal `width` (<= 0: unlimited, sized to the
 * content; used by batch mode so scripts get whole paths). */
struct top_columns {
	int severity, rule, count, first, last, programs, path; /* path < 0: unlimited */
};

void top_columns_layout(struct top_model *m, int width, struct top_columns *cols);
void top_render_table_header(const struct top_columns *cols, struct strbuf *out);
void top_render_row(const struct top_hazard *h, const struct top_columns *cols, int64_t now_ns,
		    struct strbuf *out);
/* The PATH cell in `width` columns (< 0: whole, unpadded): the path, or for a hazard grouped
 * by call site with more than one file "102 files from save_config (config.c:118) in
 * /usr/bin/app". */
void top_put_where(const struct top_hazard *h, int width, struct strbuf *out);

/* The header: host and clock, event rate and losses, hooks and backends, view state. */
void top_render_header(struct top_model *m, const char *host, int width, int64_t now_ns,
		       struct top_lines *out);
/* The bottom panel: dirty-throttle pause histograms per device and the worst splice stalls,
 * or "no data". At most `max_lines` lines (0: no limit). */
void top_render_panel(struct top_model *m, int width, size_t max_lines, struct top_lines *out);
/* One hazard in plain words: what happened, who, since when, the evidence and the fix. */
void top_render_details(const struct top_hazard *h, int width, int64_t now_ns,
			struct top_lines *out);
/* The help screen: a line per row of the key table (cli/top/keys.h), then what the columns
 * mean. */
void top_render_help(struct top_lines *out);
/* The key bar of `view` from the key table: " q quit  ? help  Enter details ...". Actions
 * in `on` show their toggled label (p: "resume"); those in `off` are left out. Masks of
 * TOP_ACT_BIT(). */
void top_render_keybar(enum top_view view, unsigned on, unsigned off, struct strbuf *out);
/* The "Keys:" paragraph of `iohazard top --help`, lines within `width` columns. */
void top_render_keys_usage(int width, struct strbuf *out);

/* One batch frame (header, table, panel), each line ending in '\n', then an empty line. */
void top_render_frame(struct top_model *m, const char *host, int width, int64_t now_ns,
		      struct strbuf *out);
/* One batch frame as one JSON object (no newline): the model, not the text. */
void top_render_json(struct top_model *m, const char *host, int64_t now_ns, struct strbuf *out);

#endif
