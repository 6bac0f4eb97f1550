/* SPDX-License-Identifier: GPL-2.0-only */
/* A growable byte buffer, always NUL-terminated. Allocation failure is sticky (`oom`) so
 * callers check once at the end instead of after every append. */
#ifndef IOH_STRBUF_H
#define IOH_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const char *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Printable form of untrusted bytes (file and program names, messages that quote them) for a
 * terminal or a log line; the one escaping function of every human-facing output (text
 * findings, `iohazard findings`, `top`, the journal's MESSAGE, systemd's STATUS=):
 * C0 controls, DEL and invalid UTF-8 bytes become \xNN (the bytes stay recoverable), C1
 * controls (U+0080-U+009F: a terminal takes U+009B as CSI) and characters that reorder or hide
 * text (bidi overrides and isolates such as U+202E, zero-width characters, line and paragraph
 * separators, BOM) become \uXXXX, a backslash becomes \\. Everything else is copied.
 */
void strbuf_put_escaped(struct strbuf *sb, const char *s, size_t len);

#define _cleanup_strbuf_ __attribute__((cleanup(strbuf_free)))

#endif
