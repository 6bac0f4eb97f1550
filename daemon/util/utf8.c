// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/util/utf8.h"

size_t utf8_valid_prefix(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp;
	size_t n;

	if (len == 0)
		return 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80)
			i++;
		else if ((n = utf8_valid_prefix(s + i, len - i)) > 0)
			i += n;
		else
			return false;
	}
	return true;
}

unsigned utf8_decode(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp = s[0] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);

	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}
