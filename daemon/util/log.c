// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/util/log.h"
#include "daemon/util/string_table.h"

static enum ioh_log_level max_level = IOH_LOG_INFO;
static int syslog_prefix;

void ioh_log_set_level(enum ioh_log_level level)
{
	max_level = level;
}

enum ioh_log_level ioh_log_get_level(void)
{
	return max_level;
}

void ioh_log_set_syslog_prefix(int on)
{
	syslog_prefix = on;
}

/* The --log-level words, also the prefix of each line when not under systemd. */
static const char *const ioh_log_level_table[] = {
    [IOH_LOG_ERR] = "error", [IOH_LOG_WARNING] = "warning", [IOH_LOG_NOTICE] = "notice",
    [IOH_LOG_INFO] = "info", [IOH_LOG_DEBUG] = "debug",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_log_level, enum ioh_log_level, "debug");

int ioh_log_errno(enum ioh_log_level level, int error, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if (level > max_level)
		return error;
	/* %m means the error we were given, not whatever errno happens to be. */
	errno = error < 0 ? -error : error;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errno = saved;
	if (syslog_prefix)
		fprintf(stderr, "<%d>%s\n", (int)level, msg);
	else
		fprintf(stderr, "iohazardd: %s: %s\n", ioh_log_level_to_string(level), msg);
	return error;
}
