// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/util/log.h"

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

static const char *level_word(enum ioh_log_level level)
{
	switch (level) {
	case IOH_LOG_ERR:
		return "error";
	case IOH_LOG_WARNING:
		return "warning";
	case IOH_LOG_NOTICE:
		return "notice";
	case IOH_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

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
		fprintf(stderr, "iohazardd: %s: %s\n", level_word(level), msg);
	return error;
}
