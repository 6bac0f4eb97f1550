/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durations for people: "850ns", "22µs", "340ms", "1.4s", "5s", "3min", "2.5h", "3d".
 * Two significant digits below 10 of a unit, whole numbers above: a message says how long,
 * the finding's `evidence` keeps the exact value in seconds. No space between number and unit,
 * so a message reads as it did for the common whole-second windows ("within 5s").
 */
#ifndef IOH_DURATION_H
#define IOH_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Longest result, NUL included: "1000min" is never produced, "999d" is 5 bytes. */
#define IOH_DURATION_STR_MAX 24

/* Writes the duration `ns` into `buf` (at least IOH_DURATION_STR_MAX bytes); returns `buf`. */
const char *ioh_format_duration(uint64_t ns, char *buf, size_t size);

/* The text of `ns` in a buffer that lives until the end of the enclosing block: for one
 * printf argument list. */
#define IOH_DURATION(ns)                                                                           \
	ioh_format_duration((ns), (char[IOH_DURATION_STR_MAX]){0}, IOH_DURATION_STR_MAX)

#endif
