// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mount table through libmount. Only its parser is used: mnt_diff_tables() matches mounts
 * by (source, target) with a linear search per mount (5,000 mounts: seconds on the event
 * loop) and cannot tell stacked mounts of one device apart; mnt_monitor is an epoll set
 * around the same POLLPRI descriptor the daemon's sd_event loop already polls
 * (docs/architecture.md, "The mount table").
 */
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/ingest/mountinfo.h"
#include "daemon/rules/rules.h"
#include "daemon/util/fsnames.h"

struct ioh_mount_table {
	struct libmnt_table *tb;	      /* owns the strings */
	struct ioh_mount_entry *entries;      /* table order */
	const struct ioh_mount_entry **by_id; /* sorted by mount id */
	size_t n;
};

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static int cmp_id(const void *a, const void *b)
{
	const struct ioh_mount_entry *x = *(const struct ioh_mount_entry *const *)a;
	const struct ioh_mount_entry *y = *(const struct ioh_mount_entry *const *)b;

	return x->mnt_id < y->mnt_id ? -1 : x->mnt_id > y->mnt_id;
}

/* `f` is read to the end; `name` is what libmount is told the file is. */
static int table_parse(FILE *f, const char *name, struct ioh_mount_table **out)
{
	struct ioh_mount_table *t = calloc(1, sizeof(*t));
	struct libmnt_iter *itr = NULL;
	struct libmnt_fs *fs;
	size_t cap;
	int err;

	if (!t)
		return -ENOMEM;
	t->tb = mnt_new_table();
	if (!t->tb) {
		err = -ENOMEM;
		goto fail;
	}
	/* No libmnt_cache is ever set: with one, libmount canonicalizes paths (realpath, a
	 * lookup on the file system) and probes devices for tags. */
	err = mnt_table_parse_stream(t->tb, f, name);
	if (err < 0)
		goto fail;
	cap = (size_t)mnt_table_get_nents(t->tb);
	t->entries = calloc(cap ? cap : 1, sizeof(*t->entries));
	t->by_id = calloc(cap ? cap : 1, sizeof(*t->by_id));
	itr = mnt_new_iter(MNT_ITER_FORWARD);
	if (!t->entries || !t->by_id || !itr) {
		err = -ENOMEM;
		goto fail;
	}
	while (t->n < cap && mnt_table_next_fs(t->tb, itr, &fs) == 0) {
		struct ioh_mount_entry *e = &t->entries[t->n];

		if (!mnt_fs_get_target(fs) || mnt_fs_get_id(fs) < 0)
			continue;
		e->mnt_id = (uint64_t)mnt_fs_get_id(fs);
		e->dev = ioh_kdev_from_user(mnt_fs_get_devno(fs));
		e->root = mnt_fs_get_root(fs) ? mnt_fs_get_root(fs) : "/";
		e->mount_point = mnt_fs_get_target(fs);
		e->fstype = str_or_empty(mnt_fs_get_fstype(fs));
		e->source = str_or_empty(mnt_fs_get_source(fs));
		e->mount_opts = str_or_empty(mnt_fs_get_vfs_options(fs));
		e->super_opts = str_or_empty(mnt_fs_get_fs_options(fs));
		t->by_id[t->n] = e;
		t->n++;
	}
	mnt_free_iter(itr);
	qsort(t->by_id, t->n, sizeof(*t->by_id), cmp_id);
	*out = t;
	return 0;
fail:
	mnt_free_iter(itr);
	ioh_mount_table_free(t);
	return err;
}

int ioh_mount_table_load(const char *path, struct ioh_mount_table **out)
{
	FILE *f = fopen(path, "re");
	int err;

	if (!f)
		return -errno;
	err = table_parse(f, path, out);
	fclose(f);
	return err;
}

int ioh_mount_table_read(int fd, const char *name, struct ioh_mount_table **out)
{
	FILE *f;
	int dup_fd, err;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return -errno;
	/* A duplicate shares the offset: reading it to the end reads `fd` to the end. */
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		return -errno;
	f = fdopen(dup_fd, "r");
	if (!f) {
		err = -errno;
		close(dup_fd);
		return err;
	}
	err = table_parse(f, name, out);
	fclose(f);
	return err;
}

bool ioh_mount_table_changed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLPRI};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR));
}

void ioh_mount_table_free(struct ioh_mount_table *t)
{
	if (!t)
		return;
	mnt_unref_table(t->tb);
	free(t->entries);
	free(t->by_id);
	free(t);
}

size_t ioh_mount_table_size(const struct ioh_mount_table *t)
{
	return t ? t->n : 0;
}

const struct ioh_mount_entry *ioh_mount_table_at(const struct ioh_mount_table *t, size_t i)
{
	return t && i < t->n ? &t->entries[i] : NULL;
}

const struct ioh_mount_entry *ioh_mount_table_by_id(const struct ioh_mount_table *t,
						    uint64_t mnt_id)
{
	size_t lo = 0, hi = t ? t->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->by_id[mid]->mnt_id == mnt_id)
			return t->by_id[mid];
		if (t->by_id[mid]->mnt_id < mnt_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* `prefix` is `path` or one of its directories. */
static size_t path_prefix_len(const char *prefix, const char *path)
{
	size_t len = strlen(prefix);

	if (len == 1 && prefix[0] == '/')
		return path[0] == '/' ? 1 : 0;
	if (strncmp(path, prefix, len) != 0 || (path[len] != '/' && path[len] != '\0'))
		return 0;
	return len;
}

const struct ioh_mount_entry *ioh_mount_table_by_path(const struct ioh_mount_table *t,
						      const char *path)
{
	const struct ioh_mount_entry *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; t && i < t->n; i++) {
		size_t len = path_prefix_len(t->entries[i].mount_point, path);

		if (len && len >= best_len) {
			best = &t->entries[i];
			best_len = len;
		}
	}
	return best;
}

const struct ioh_mount_entry *ioh_mount_table_by_fstype(const struct ioh_mount_table *t,
							const char *fstype)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (strcmp(t->entries[i].fstype, fstype) == 0)
			return &t->entries[i];
	return NULL;
}

int ioh_mount_table_path(const struct ioh_mount_table *t, uint32_t dev, const char *fs_path,
			 char *out, size_t size)
{
	const struct ioh_mount_entry *best = NULL;
	size_t best_len = 0, root_len;
	const char *rest;
	int n;

	for (size_t i = 0; t && i < t->n; i++) {
		const struct ioh_mount_entry *e = &t->entries[i];
		size_t len;

		if (e->dev != dev)
			continue;
		len = path_prefix_len(e->root, fs_path);
		if (!len)
			continue;
		if (!best || len > best_len ||
		    (len == best_len && strlen(e->mount_point) < strlen(best->mount_point))) {
			best = e;
			best_len = len;
		}
	}
	if (!best)
		return -ENOENT;
	/* What is left below the mount's root: "/file" or "" (root "/" leaves all of it). */
	root_len = strcmp(best->root, "/") == 0 ? 0 : best_len;
	rest = fs_path + root_len;
	if (strcmp(best->mount_point, "/") == 0)
		n = snprintf(out, size, "%s", *rest ? rest : "/");
	else
		n = snprintf(out, size, "%s%s", best->mount_point, rest);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

uint32_t ioh_mount_hazards(const char *opts, uint32_t *commit_s)
{
	char buf[4096], *save = NULL, *o;
	uint32_t flags = 0;

	snprintf(buf, sizeof(buf), "%s", opts ? opts : "");
	for (o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "data=writeback") == 0)
			flags |= IOH_MNT_DATA_WRITEBACK;
		else if (strcmp(o, "nobarrier") == 0 || strcmp(o, "barrier=0") == 0)
			flags |= IOH_MNT_NOBARRIER;
		else if (strcmp(o, "journal_async_commit") == 0)
			flags |= IOH_MNT_JOURNAL_ASYNC_COMMIT;
		else if (strncmp(o, "commit=", 7) == 0) {
			unsigned long s = strtoul(o + 7, NULL, 10);

			if (commit_s)
				*commit_s = (uint32_t)s;
			if (s > IOH_COMMIT_LONG_S)
				flags |= IOH_MNT_LONG_COMMIT;
		}
	}
	return flags;
}

struct ioh_mount_watch {
	char path[256];
	int fd;
	struct ioh_mount_table *table; /* as of the previous scan; NULL before the first */
};

int ioh_mount_watch_new(const char *path, struct ioh_mount_watch **out)
{
	struct ioh_mount_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	snprintf(w->path, sizeof(w->path), "%s", path ? path : "/proc/self/mountinfo");
	w->fd = open(w->path, O_RDONLY | O_CLOEXEC);
	if (w->fd < 0) {
		int err = -errno;

		free(w);
		return err;
	}
	*out = w;
	return 0;
}

void ioh_mount_watch_free(struct ioh_mount_watch *w)
{
	if (!w)
		return;
	ioh_mount_table_free(w->table);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

int ioh_mount_watch_fd(const struct ioh_mount_watch *w)
{
	return w->fd;
}

/* The crash-relevant options of a mount, 0 for types where none matters. Superblock options
 * carry data=, barrier and commit for ext3/ext4; the per-mount ones never do, but a
 * "nobarrier" there counts the same. */
static uint32_t entry_hazards(const struct ioh_mount_entry *m, uint32_t *commit_s)
{
	*commit_s = 0;
	if (!m || !ioh_fstype_is_persistent(m->fstype))
		return 0;
	return ioh_mount_hazards(m->super_opts, commit_s) | ioh_mount_hazards(m->mount_opts, NULL);
}

static void emit(const struct ioh_mount_entry *m, uint32_t flags, uint32_t commit_s,
		 uint64_t now_ns, ioh_mount_cb cb, void *ctx)
{
	struct ioh_event ev = {0};

	ev.type = IOH_EV_MOUNT;
	ev.ts_ns = now_ns;
	ev.mount.mnt_id = m->mnt_id;
	ev.mount.dev = m->dev;
	ev.mount.flags = flags;
	ev.mount.commit_s = commit_s;
	ev.mount.mount_point = m->mount_point;
	if (!(flags & IOH_MNT_GONE)) {
		ev.mount.fstype = m->fstype;
		ev.mount.source = m->source;
		ev.mount.options = m->super_opts;
	}
	cb(&ev, ctx);
}

/* The same mount in another table: same id, same mount point (a moved mount is a new one). */
static const struct ioh_mount_entry *same_mount(const struct ioh_mount_table *t,
						const struct ioh_mount_entry *m)
{
	const struct ioh_mount_entry *o = ioh_mount_table_by_id(t, m->mnt_id);

	return o && strcmp(o->mount_point, m->mount_point) == 0 ? o : NULL;
}

int ioh_mount_watch_scan(struct ioh_mount_watch *w, uint64_t now_ns, ioh_mount_cb cb, void *ctx)
{
	struct ioh_mount_table *old = w->table, *now;
	uint32_t *gone; /* devices of the mounts gone in this scan */
	size_t n_gone = 0;
	int err, events = 0;

	/* The loop's poll of the descriptor acknowledged the change; the table is read through
	 * the same descriptor. */
	err = ioh_mount_table_read(w->fd, w->path, &now);
	if (err < 0)
		return err;
	/* Unmounted (or moved) while hazardous: forget. First, so that a device unmounted and
	 * mounted again between two scans ends up watched (iohazardd.c on_mount_event). */
	gone = calloc(old && old->n ? old->n : 1, sizeof(*gone));
	if (!gone) {
		ioh_mount_table_free(now);
		return -ENOMEM;
	}
	for (size_t i = 0; old && i < old->n; i++) {
		const struct ioh_mount_entry *m = &old->entries[i];
		uint32_t commit_s;

		if (entry_hazards(m, &commit_s) && !same_mount(now, m)) {
			emit(m, IOH_MNT_GONE, 0, now_ns, cb, ctx);
			events++;
			gone[n_gone++] = m->dev;
		}
	}
	/* New or changed: reported when hazardous, or when it was and no longer is. A hazardous
	 * mount whose device just lost another mount (a bind mount went) is reported again, so
	 * the device stays watched. */
	for (size_t i = 0; i < now->n; i++) {
		const struct ioh_mount_entry *m = &now->entries[i];
		uint32_t commit_s, old_commit_s;
		uint32_t flags = entry_hazards(m, &commit_s);
		uint32_t old_flags = entry_hazards(same_mount(old, m), &old_commit_s);
		bool report =
		    old_flags ? flags != old_flags || commit_s != old_commit_s : flags != 0;

		for (size_t g = 0; flags && !report && g < n_gone; g++)
			report = gone[g] == m->dev;
		if (report) {
			emit(m, flags, commit_s, now_ns, cb, ctx);
			events++;
		}
	}
	free(gone);
	ioh_mount_table_free(old);
	w->table = now;
	return events;
}
