/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one JSON writer (bpftool style): findings, status, API replies and CLI --json output
 * all go through it, so escaping is done in one place. Strings are escaped per RFC 8259;
 * invalid UTF-8 bytes (hostile file names) become U+FFFD so the output is always valid JSON
 * while the raw bytes stay visible in text output elsewhere.
 */
#ifndef IOH_JSONW_H
#define IOH_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/util/strbuf.h"

/* Containers open at once. Nesting is fixed by the code, never by the data, so going deeper,
 * or closing a container that was never opened, is a bug in the caller: like bpftool's
 * json_writer.c, the writer asserts, and with NDEBUG it logs the bug on stderr and marks the
 * writer broken (jsonw_finish() says so) instead of writing unbalanced JSON quietly. */
#define JSONW_MAX_DEPTH 16

struct jsonw {
	struct strbuf *out;
	int depth;		     /* containers open now */
	bool first[JSONW_MAX_DEPTH]; /* no element written yet at this depth */
	bool after_key;		     /* a key was written; the value needs no comma */
	bool broken;		     /* nesting went wrong (NDEBUG builds only get this far) */
};

void jsonw_init(struct jsonw *w, struct strbuf *out);
/* The document is complete: every container closed, nesting never went wrong. 0, or -EINVAL
 * (after an assertion failure in a debug build). */
int jsonw_finish(struct jsonw *w);
void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_strn(struct jsonw *w, const char *s, size_t len);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* key + value shorthands */
void jsonw_kv_str(struct jsonw *w, const char *key, const char *s);
void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kv_bool(struct jsonw *w, const char *key, bool v);
void jsonw_kv_double(struct jsonw *w, const char *key, double v);

/* Insert an already-serialized JSON value (trusted: produced by this writer). */
void jsonw_raw(struct jsonw *w, const char *json, size_t len);

/* Escape `s` as a JSON string (with quotes) onto `out`. */
void json_escape(struct strbuf *out, const char *s, size_t len);

#endif
