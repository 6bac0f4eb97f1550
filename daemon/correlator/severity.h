/* SPDX-License-Identifier: GPL-2.0-only */
/* Severity of a finding (design.md fixes the four names). Ordered: a larger value is worse. */
#ifndef IOH_SEVERITY_H
#define IOH_SEVERITY_H

enum ioh_severity {
	IOH_SEV_INFO = 0,
	IOH_SEV_NOTICE = 1,
	IOH_SEV_WARNING = 2,
	IOH_SEV_CRITICAL = 3,
};

/* "info", "notice", "warning", "critical"; "unknown" for any other value (string_table.h). */
const char *ioh_severity_to_string(enum ioh_severity s);
/* The severity named, or -EINVAL for an unknown name. */
int ioh_severity_from_string(const char *name);

/* One step less severe, never below info: a hazard that is likely but not confirmed. */
static inline enum ioh_severity ioh_severity_lower(enum ioh_severity s)
{
	return s > IOH_SEV_INFO ? s - 1 : IOH_SEV_INFO;
}

#endif
