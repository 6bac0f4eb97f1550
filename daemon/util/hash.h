/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one string hash: 64-bit FNV-1a, for in-memory tables and fingerprints (never stored, never
 * sent). Chain calls to hash several fields; put a byte no field contains between fields that
 * could otherwise run together ("ab"+"c" vs "a"+"bc").
 */
#ifndef IOH_HASH_H
#define IOH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define IOH_FNV1A_INIT 0xcbf29ce484222325ull /* the 64-bit offset basis */
#define IOH_FNV1A_PRIME 0x100000001b3ull

/* `len` bytes of `data` mixed into `h` (IOH_FNV1A_INIT to start). */
static inline uint64_t ioh_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * IOH_FNV1A_PRIME;
	return h;
}

/* A NUL-terminated string mixed into `h`; NULL counts as "". */
static inline uint64_t ioh_fnv1a_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * IOH_FNV1A_PRIME;
	return h;
}

#endif
