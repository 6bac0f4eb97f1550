// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util/strbuf.h"
#include "daemon/util/utf8.h"

void strbuf_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof(*sb));
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

static bool strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (sb->oom)
		return false;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (!p) {
		sb->oom = true;
		return false;
	}
	sb->buf = p;
	sb->cap = cap;
	return true;
}

void strbuf_append(struct strbuf *sb, const char *data, size_t len)
{
	if (!strbuf_reserve(sb, len))
		return;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c)
{
	strbuf_append(sb, &c, 1);
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !strbuf_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

/* Code points a terminal would act on, or that make one name look like another. */
static bool deceptive(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||	 /* C1 controls (U+009B is CSI) */
	       (cp >= 0x200b && cp <= 0x200f) || /* zero-width, LRM, RLM */
	       (cp >= 0x2028 && cp <= 0x202e) || /* line/paragraph separators, bidi embeds and
						  * overrides (U+202E) */
	       (cp >= 0x2060 && cp <= 0x206f) || /* word joiner, bidi isolates, invisible ops */
	       cp == 0xfeff;			 /* zero-width no-break space (BOM) */
}

void strbuf_put_escaped(struct strbuf *sb, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n;

		if (c == '\\') {
			strbuf_puts(sb, "\\\\");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_printf(sb, "\\x%02x", c);
			i++;
		} else if (c < 0x80) {
			strbuf_putc(sb, (char)c);
			i++;
		} else if ((n = utf8_valid_prefix(s + i, len - i)) > 0) {
			unsigned cp = utf8_decode(s + i, n);

			if (deceptive(cp))
				strbuf_printf(sb, "\\u%04x", cp);
			else
				strbuf_append(sb, s + i, n);
			i += n;
		} else {
			strbuf_printf(sb, "\\x%02x", c);
			i++;
		}
	}
}
