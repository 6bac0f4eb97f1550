/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The process's relation to whoever started it: classic daemonization without --foreground
 * (the parent waits for the child's verdict), and whether stderr is systemd's journal stream.
 * Under systemd (Type=notify) the daemon runs with --foreground and none of this forks.
 */
#ifndef IOH_DAEMONIZE_H
#define IOH_DAEMONIZE_H

#include <stdbool.h>

/*
 * Forks; the parent waits until the child calls ioh_daemonize_ready() (exit 0) or dies
 * (exit 1), so `iohazardd && iohazard status` works. In the child: a new session, cwd "/",
 * *ready_fd the pipe to the parent. Returns 0 (in the child) or -errno.
 */
int ioh_daemonize(int *ready_fd);

/* Tells the waiting parent "ready" and detaches stdio to /dev/null; no-op when *ready_fd < 0
 * (--foreground). Sets *ready_fd to -1. */
void ioh_daemonize_ready(int *ready_fd);

/* Whether stderr is the journal stream systemd named in JOURNAL_STREAM ("dev:ino"). */
bool ioh_stderr_is_journal(void);

#endif
