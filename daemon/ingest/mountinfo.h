/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mount table, one parser for the daemon: /proc/self/mountinfo or /proc/PID/mountinfo
 * parsed by libmount (escapes such as \040 undone, lines of any length, the root field of
 * bind mounts kept), with the lookups the resolver needs (by mount id, by path, a path within
 * a file system to a path through a mount) and the watcher of crash-relevant mount options
 * (seed case 1): data=writeback, nobarrier/barrier=0, journal_async_commit, commit= well
 * above the default. The daemon polls /proc/self/mountinfo for POLLPRI (the kernel's "mount
 * table changed"), re-reads it and compares it with the previous table by mount id; each
 * change becomes an IOH_EV_MOUNT event, so it is recorded and replayed like kernel events and
 * the correlator stays pure. Reading a mount table asks no file system anything.
 */
#ifndef IOH_MOUNTINFO_H
#define IOH_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/correlator/event.h"

/* A commit= interval above this many seconds counts as "well above" the 5 s default. */
#define IOH_COMMIT_LONG_S 30

/* One mount; the strings belong to the table and live as long as it. */
struct ioh_mount_entry {
	uint64_t mnt_id;
	uint32_t dev;		 /* kernel s_dev */
	const char *root;	 /* the directory of the file system mounted here ("/" unless a
				  * bind mount of a subdirectory) */
	const char *mount_point; /* unescaped, as the namespace's tasks see it */
	const char *fstype;
	const char *source;
	const char *mount_opts; /* per-mount options */
	const char *super_opts; /* superblock options */
};

struct ioh_mount_table;

/* Parse a mountinfo file (/proc/self/mountinfo, /proc/PID/mountinfo, a test's file). Lines
 * that do not parse are skipped. 0 or -errno. */
int ioh_mount_table_load(const char *path, struct ioh_mount_table **out);
/* The same from an open mountinfo descriptor, read from its start. */
int ioh_mount_table_read(int fd, const char *name, struct ioh_mount_table **out);
/* The kernel says the table of this open mountinfo descriptor changed since the descriptor
 * was last polled (poll(2) POLLPRI, no wait; the poll acknowledges it, reading does not). */
bool ioh_mount_table_changed(int fd);
void ioh_mount_table_free(struct ioh_mount_table *t);
size_t ioh_mount_table_size(const struct ioh_mount_table *t);
/* The i-th mount in table order (the order of the file), or NULL. */
const struct ioh_mount_entry *ioh_mount_table_at(const struct ioh_mount_table *t, size_t i);
/* The mount with this id (statx STATX_MNT_ID), or NULL. */
const struct ioh_mount_entry *ioh_mount_table_by_id(const struct ioh_mount_table *t,
						    uint64_t mnt_id);
/* The mount `path` lives on from the table alone: the longest mount point that is a prefix of
 * it (the later of stacked mounts), or NULL. */
const struct ioh_mount_entry *ioh_mount_table_by_path(const struct ioh_mount_table *t,
						      const char *path);
/* The first mount of this type, or NULL. */
const struct ioh_mount_entry *ioh_mount_table_by_fstype(const struct ioh_mount_table *t,
							const char *fstype);
/*
 * `fs_path`, a path within the file system on `dev` ("/dir/file" from its root), as the
 * table's tasks reach it: through the mount of that device whose root is the longest prefix
 * of it (a bind mount of the file's subdirectory before the whole file system; of mounts with
 * the same root, the shortest mount point). 0, -ENOENT (no mount shows it) or -ENAMETOOLONG.
 */
int ioh_mount_table_path(const struct ioh_mount_table *t, uint32_t dev, const char *fs_path,
			 char *out, size_t size);

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
 * Read the table and report what changed since the previous scan, mounts matched by (mount
 * id, mount point): persistent mounts whose hazards appeared or changed (flags != 0), were
 * fixed (flags 0) or went away (IOH_MNT_GONE). Returns the number of events or -errno.
 */
int ioh_mount_watch_scan(struct ioh_mount_watch *w, uint64_t now_ns, ioh_mount_cb cb, void *ctx);

#endif
