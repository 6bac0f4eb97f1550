// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "daemon/correlator/severity.h"

static const char *const severity_names[] = {
	[IOH_SEV_INFO] = "info",
	[IOH_SEV_NOTICE] = "notice",
	[IOH_SEV_WARNING] = "warning",
	[IOH_SEV_CRITICAL] = "critical",
};

const char *ioh_severity_name(enum ioh_severity s)
{
	if ((unsigned)s >= sizeof(severity_names) / sizeof(severity_names[0]))
		return "unknown";
	return severity_names[s];
}

int ioh_severity_parse(const char *name, enum ioh_severity *out)
{
	for (unsigned i = 0; i < sizeof(severity_names) / sizeof(severity_names[0]); i++) {
		if (strcmp(name, severity_names[i]) == 0) {
			*out = (enum ioh_severity)i;
			return 0;
		}
	}
	return -EINVAL;
}
