/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef IOH_UTF8_H
#define IOH_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence (2-4 bytes, no overlongs or surrogates) at the start
 * of `s`, or 0 when it is not one. ASCII is the caller's business. */
size_t utf8_valid_prefix(const char *s, size_t len);
/* Whether all `len` bytes are valid UTF-8 (ASCII included). */
bool utf8_valid(const char *s, size_t len);
/* The code point of a valid sequence of `n` bytes (from utf8_valid_prefix). */
unsigned utf8_decode(const char *s, size_t n);

#endif
