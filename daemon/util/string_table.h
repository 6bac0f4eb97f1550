/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Enum <-> name conversions from one table, in the manner of systemd's
 * DEFINE_STRING_TABLE_LOOKUP (src/basic/string-table.h): write the names once, indexed by
 * value with designated initializers, and let the macro write both lookups.
 *
 *	static const char *const ioh_severity_table[] = {
 *		[IOH_SEV_INFO] = "info",
 *		...
 *	};
 *	IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_severity, enum ioh_severity, "unknown");
 *
 * defines
 *	const char *ioh_severity_to_string(enum ioh_severity v);
 *		the name, or the fallback ("unknown" here; may be NULL) for a value past the
 *		table's end or a hole in it (negative values included);
 *	int ioh_severity_from_string(const char *s);
 *		the value whose name is exactly `s`, or -EINVAL (also for s == NULL).
 *
 * The names are the project's output contract (JSON, metric labels, CLI words): a table is
 * the only place a name is spelt. IOH_DEFINE_PRIVATE_STRING_TABLE_LOOKUP makes both functions
 * static (and silences the warning for the direction a file does not use).
 */
#ifndef IOH_STRING_TABLE_H
#define IOH_STRING_TABLE_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define IOH_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline const char *ioh_string_table_to_string(const char *const *table, size_t n, size_t i,
						     const char *fallback)
{
	return i < n && table[i] ? table[i] : fallback;
}

static inline int ioh_string_table_from_string(const char *const *table, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

/* (size_t) makes a negative value (an int-typed enum, -1 sentinels) an index past the end. */
#define IOH_STRING_TABLE_TO_STRING_(name, type, fallback, scope)                                   \
	scope const char *name##_to_string(type v)                                                 \
	{                                                                                          \
		return ioh_string_table_to_string(name##_table, IOH_ELEMENTSOF(name##_table),      \
						  (size_t)v, (fallback));                          \
	}

#define IOH_STRING_TABLE_FROM_STRING_(name, scope)                                                 \
	scope int name##_from_string(const char *s)                                                \
	{                                                                                          \
		return ioh_string_table_from_string(name##_table, IOH_ELEMENTSOF(name##_table),    \
						    s);                                            \
	}

#define IOH_DEFINE_STRING_TABLE_LOOKUP(name, type, fallback)                                       \
	IOH_STRING_TABLE_TO_STRING_(name, type, fallback, )                                        \
	IOH_STRING_TABLE_FROM_STRING_(name, )                                                      \
	struct ioh_string_table_semicolon_

#define IOH_DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type, fallback)                               \
	IOH_STRING_TABLE_TO_STRING_(name, type, fallback, static __attribute__((unused)))          \
	IOH_STRING_TABLE_FROM_STRING_(name, static __attribute__((unused)))                        \
	struct ioh_string_table_semicolon_

#endif
