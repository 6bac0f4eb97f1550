/* SPDX-License-Identifier: GPL-2.0-only */
/* Small string predicates shared by the daemon and the CLI. */
#ifndef IOH_STRUTIL_H
#define IOH_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Whether the `len` bytes at `s` (not necessarily NUL-terminated) end with `suffix`. */
static inline bool ioh_ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

#endif
