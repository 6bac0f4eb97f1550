/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging to stderr (journald picks it up under systemd), never to stdout, which carries
 * findings. systemd style: log once, at the layer that decides, and return the error:
 *	return log_error_errno(r, "Failed to attach %s: %m", name);
 * where %m prints strerror(-r).
 */
#ifndef IOH_LOG_H
#define IOH_LOG_H

#include <errno.h>

enum ioh_log_level {
	IOH_LOG_ERR = 3,
	IOH_LOG_WARNING = 4,
	IOH_LOG_NOTICE = 5,
	IOH_LOG_INFO = 6,
	IOH_LOG_DEBUG = 7,
};

/* "error", "warning", "notice", "info", "debug" (any other value reads as "debug"). */
const char *ioh_log_level_to_string(enum ioh_log_level level);
/* The level named, or -EINVAL. */
int ioh_log_level_from_string(const char *s);

void ioh_log_set_level(enum ioh_log_level level);
enum ioh_log_level ioh_log_get_level(void);
/* Prefix each line with "<N>" (sd-daemon priority) instead of a level word: under systemd. */
void ioh_log_set_syslog_prefix(int on);

/* Logs and returns `error` (negative errno, or 0 -> -EIO is not invented: returns 0). */
int ioh_log_errno(enum ioh_log_level level, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error_errno(e, ...) ioh_log_errno(IOH_LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) ioh_log_errno(IOH_LOG_WARNING, (e), __VA_ARGS__)
#define log_error(...) (void)ioh_log_errno(IOH_LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) (void)ioh_log_errno(IOH_LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) (void)ioh_log_errno(IOH_LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) (void)ioh_log_errno(IOH_LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) (void)ioh_log_errno(IOH_LOG_DEBUG, 0, __VA_ARGS__)

#endif
