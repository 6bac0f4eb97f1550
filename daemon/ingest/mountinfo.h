/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash-relevant mount options from /proc/self/mountinfo (seed case 1): data=writeback,
 * nobarrier/barrier=0, journal_async_commit, commit= well above the default. The daemon polls
 * the file for POLLPRI (the kernel's "mount table changed") and rescans; each change becomes
 * an IOH_EV_MOUNT event, so it is recorded and replayed like kernel events and the
 * correlator stays pure.
 */
#ifndef IOH_MOUNTINFO_H
#define IOH_MOUNTINFO_H

#include <stdint.h>

#include "daemon/correlator/event.h"

/* A commit= interval above this many seconds counts as "well above" the 5 s default. */
#define IOH_COMMIT_LONG_S 30

struct ioh_mount_entry {
	uint64_t mnt_id;
	uint32_t dev; /* kernel s_dev */
	char *mount_point; /* unescaped; points into the parsed line */
	char *fstype;
	char *source;
	char *mount_opts;
	char *super_opts;
};

/* Parse one mountinfo line in place. 0 or -EINVAL. */
int ioh_mountinfo_parse_line(char *line, struct ioh_mount_entry *out);
/* IOH_MNT_* of an option list ("rw,data=writeback,commit=60"); commit_s gets commit=. */
uint32_t ioh_mount_hazards(const char *opts, uint32_t *commit_s);

struct ioh_mount_watch;

typedef void (*ioh_mount_cb)(const struct ioh_event *ev, void *ctx);

/* `path`: NULL for /proc/self/mountinfo (tests pass a file). */
int ioh_mount_watch_new(const char *path, struct ioh_mount_watch **out);
void ioh_mount_watch_free(struct ioh_mount_watch *w);
/* The descriptor to poll for POLLPRI (EPOLLPRI in sd_event). */
int ioh_mount_watch_fd(const struct ioh_mount_watch *w);
/*
 * Read the table and report what changed since the previous scan: persistent mounts whose
 * hazards appeared or changed (flags != 0), were fixed (flags 0) or went away (IOH_MNT_GONE).
 * Returns the number of events or -errno.
 */
int ioh_mount_watch_scan(struct ioh_mount_watch *w, uint64_t now_ns, ioh_mount_cb cb, void *ctx);

#endif
