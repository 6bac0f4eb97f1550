/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The service manager's side channel (sd_notify(3)): READY=1 once every hook is attached and
 * every listener bound, STATUS= with a one-line summary, RELOADING=1 / READY=1 around a
 * SIGHUP reload and STOPPING=1 on the way out. WATCHDOG=1 is sd-event's own
 * (sd_event_set_watchdog(), daemon/manager.c): sent from the loop, so a stuck loop stops it.
 *
 * Every function is a no-op returning 0 when NOTIFY_SOCKET is unset (run by hand, in tests,
 * under another supervisor), so the daemon calls them unconditionally. They never block: the
 * notification socket is a datagram socket and libsystemd sends with MSG_DONTWAIT.
 */
#ifndef IOH_NOTIFY_H
#define IOH_NOTIFY_H

/* STATUS= values longer than this are cut (systemctl status shows one line anyway). */
#define IOH_NOTIFY_STATUS_MAX 256

/*
 * READY=1, plus STATUS=`status` when not NULL. Also the end of a reload: systemd leaves the
 * "reloading" state on the next READY=1. Returns 0 or -errno.
 */
int ioh_notify_ready(const char *status);

/* STATUS=<printf>. Control characters (a hostile comm or path) are replaced by '?' so the
 * text cannot end the assignment and inject another one such as MAINPID=. Returns 0 or -errno. */
int ioh_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * RELOADING=1 with MONOTONIC_USEC= (which Type=notify-reload, systemd >= 253, requires and
 * older managers ignore). Call before rebuilding the rule set; send ioh_notify_ready() after,
 * whether the new rules were accepted or the old ones kept. Returns 0 or -errno.
 */
int ioh_notify_reloading(void);

/* STOPPING=1: the manager shows "deactivating" instead of waiting for the pid to die. */
int ioh_notify_stopping(void);

#endif
