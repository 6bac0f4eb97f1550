// SPDX-License-Identifier: GPL-2.0-only
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "daemon/util/jsonw.h"
#include "daemon/util/utf8.h"

void jsonw_init(struct jsonw *w, struct strbuf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->first[0] = true;
}

/* Comma before every element but the first of its container, and not after a key. */
static void jsonw_sep(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		strbuf_putc(w->out, ',');
	w->first[w->depth] = false;
}

/* A nesting bug in the caller: fatal in a debug build, logged and remembered otherwise. */
static void jsonw_bug(struct jsonw *w, const char *what)
{
	if (!w->broken)
		fprintf(stderr, "jsonw: bug: %s (depth %d)\n", what, w->depth);
	w->broken = true;
	assert(!"unbalanced JSON nesting (jsonw: bug above)");
}

static void jsonw_open(struct jsonw *w, char c)
{
	jsonw_sep(w);
	strbuf_putc(w->out, c);
	if (w->depth >= JSONW_MAX_DEPTH - 1) {
		jsonw_bug(w, "nested deeper than JSONW_MAX_DEPTH");
		return;
	}
	w->depth++;
	w->first[w->depth] = true;
}

static void jsonw_close(struct jsonw *w, char c)
{
	strbuf_putc(w->out, c);
	if (w->depth <= 0) {
		jsonw_bug(w, "end of a container that was never begun");
		return;
	}
	w->depth--;
}

int jsonw_finish(struct jsonw *w)
{
	if (w->depth)
		jsonw_bug(w, "document ends with containers still open");
	return w->broken ? -EINVAL : 0;
}

void jsonw_obj_begin(struct jsonw *w)
{
	jsonw_open(w, '{');
}

void jsonw_obj_end(struct jsonw *w)
{
	jsonw_close(w, '}');
}

void jsonw_arr_begin(struct jsonw *w)
{
	jsonw_open(w, '[');
}

void jsonw_arr_end(struct jsonw *w)
{
	jsonw_close(w, ']');
}

void json_escape(struct strbuf *out, const char *s, size_t len)
{
	size_t i = 0;

	strbuf_putc(out, '"');
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n;

		switch (c) {
		case '"':
			strbuf_puts(out, "\\\"");
			break;
		case '\\':
			strbuf_puts(out, "\\\\");
			break;
		case '\n':
			strbuf_puts(out, "\\n");
			break;
		case '\r':
			strbuf_puts(out, "\\r");
			break;
		case '\t':
			strbuf_puts(out, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				strbuf_printf(out, "\\u%04x", c);
			} else if (c < 0x80) {
				strbuf_putc(out, (char)c);
			} else if ((n = utf8_valid_prefix(s + i, len - i)) > 0) {
				strbuf_append(out, s + i, n);
				i += n;
				continue;
			} else {
				strbuf_puts(out, "\\ufffd");
			}
		}
		i++;
	}
	strbuf_putc(out, '"');
}

void jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_sep(w);
	json_escape(w->out, key, strlen(key));
	strbuf_putc(w->out, ':');
	w->after_key = true;
}

void jsonw_strn(struct jsonw *w, const char *s, size_t len)
{
	jsonw_sep(w);
	json_escape(w->out, s, len);
}

void jsonw_str(struct jsonw *w, const char *s)
{
	if (!s) {
		jsonw_null(w);
		return;
	}
	jsonw_strn(w, s, strlen(s));
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	jsonw_sep(w);
	strbuf_printf(w->out, "%" PRId64, v);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	jsonw_sep(w);
	strbuf_printf(w->out, "%" PRIu64, v);
}

void jsonw_double(struct jsonw *w, double v)
{
	jsonw_sep(w);
	if (isfinite(v))
		strbuf_printf(w->out, "%.9g", v);
	else
		strbuf_puts(w->out, "null");
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_sep(w);
	strbuf_puts(w->out, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w)
{
	jsonw_sep(w);
	strbuf_puts(w->out, "null");
}

void jsonw_raw(struct jsonw *w, const char *json, size_t len)
{
	jsonw_sep(w);
	strbuf_append(w->out, json, len);
}

void jsonw_kv_str(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_str(w, s);
}

void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_uint(w, v);
}

void jsonw_kv_bool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

void jsonw_kv_double(struct jsonw *w, const char *key, double v)
{
	jsonw_key(w, key);
	jsonw_double(w, v);
}
