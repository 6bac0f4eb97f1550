// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/correlator/severity.h"
#include "daemon/util/string_table.h"

static const char *const ioh_severity_table[] = {
    [IOH_SEV_INFO] = "info",
    [IOH_SEV_NOTICE] = "notice",
    [IOH_SEV_WARNING] = "warning",
    [IOH_SEV_CRITICAL] = "critical",
};

IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_severity, enum ioh_severity, "unknown");
