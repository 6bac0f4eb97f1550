// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seed case 1: data=writeback exposes stale blocks after a crash.
 *
 * writeback-mount: daemon/ingest/mountinfo turns /proc/self/mountinfo into IOH_EV_MOUNT
 *   events (at start and on every mount table change). One finding per mount point when it
 *   first shows a crash-relevant option (data=writeback, nobarrier/barrier=0,
 *   journal_async_commit, a long commit=), again only if it gains another one; a remount that
 *   fixes it (flags 0) or an unmount forgets it. The finding is about a mount, not a task:
 *   pid 0, comm "", path = the mount point, dev = the filesystem.
 *
 * writeback-truncate-unsynced: on a data=writeback mount, a file truncated (IOH_EV_TRUNCATE,
 *   from ext4_truncate_enter) and rewritten (the fresh IOH_EV_INODE_DIRTY that follows, see
 *   bpf/writeback_exposure.bpf.h) must be fsynced/fdatasynced (or covered by syncfs/sync, or
 *   written back: IOH_EV_INODE_CLEAN) within the rule's window from the rewrite, or a crash
 *   can leave it pointing at blocks that still hold another file's old data.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/util/timeops.h"
#include "daemon/correlator/correlator.h"
#include "daemon/detectors/detectors.h"
#include "daemon/util/duration.h"
#include "daemon/util/fsnames.h"

#define MOUNTS_MAX 256
#define TRUNCATES_MAX 1024

struct wb_mount {
	bool live;
	uint64_t mnt_id;
	uint32_t dev;
	uint32_t flags;	   /* IOH_MNT_* as last seen */
	uint32_t reported; /* IOH_MNT_* already reported for this mount */
	uint32_t commit_s;
	char *mount_point;
	char *fstype;
};

/* A truncated file waiting for its rewrite and then for an fsync. */
struct wb_truncate {
	struct ioh_file_slot slot; /* age: the truncation */
	bool rewritten;
	uint32_t mode;
	uint32_t fs_magic;
	uint64_t rewritten_ns;
	uint64_t deadline_ns;
	uint64_t old_size;
	struct ioh_actor who; /* the truncating task */
	char *path;	      /* mount point + path within the filesystem */
	char *mount_point;
	char rule[IOH_RULE_NAME_MAX];
	enum ioh_severity severity;
};

struct wb_state {
	struct wb_mount mounts[MOUNTS_MAX];
	struct wb_truncate truncates[TRUNCATES_MAX];
	/* Truncations tracked: every dirty/clean/sync event asks it first, so the common case
	 * (none) costs no scan. */
	struct ioh_file_table table;
	unsigned n_pending; /* rewritten and waiting for a deadline */
};

static void mount_clear(struct wb_mount *m)
{
	free(m->mount_point);
	free(m->fstype);
	memset(m, 0, sizeof(*m));
}

static void truncate_clear(void *item, void *ctx)
{
	struct wb_truncate *t = item;
	struct wb_state *s = ctx;

	if (t->rewritten)
		s->n_pending--;
	ioh_actor_clear(&t->who);
	free(t->path);
	free(t->mount_point);
}

static int wb_init(void *state, const struct ioh_correlator_config *cfg)
{
	struct wb_state *s = state;

	IOH_FILE_TABLE_INIT(&s->table, s->truncates, truncate_clear, s);
	return 0;
}

static void wb_fini(void *state)
{
	struct wb_state *s = state;

	for (unsigned i = 0; i < MOUNTS_MAX; i++)
		mount_clear(&s->mounts[i]);
}

static struct wb_mount *find_mount(struct wb_state *s, uint64_t mnt_id, const char *mount_point)
{
	for (unsigned i = 0; i < MOUNTS_MAX; i++)
		if (s->mounts[i].live && s->mounts[i].mnt_id == mnt_id &&
		    strcmp(s->mounts[i].mount_point, mount_point) == 0)
			return &s->mounts[i];
	return NULL;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strcmp(dir, "/") == 0 ||
	       (strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0'));
}

/* The data=writeback mount of a device: the one a full path (IOH_EVF_PATH_MOUNTED) is under
 * (the longest mount point), else the shortest mount point when bind-mounted. */
static const struct wb_mount *writeback_mount_of(const struct wb_state *s, uint32_t dev,
						 const char *full_path)
{
	const struct wb_mount *best = NULL, *holder = NULL;

	for (unsigned i = 0; i < MOUNTS_MAX; i++) {
		const struct wb_mount *m = &s->mounts[i];

		if (!m->live || m->dev != dev || !(m->flags & IOH_MNT_DATA_WRITEBACK))
			continue;
		if (!best || strlen(m->mount_point) < strlen(best->mount_point))
			best = m;
		if (full_path && under(full_path, m->mount_point) &&
		    (!holder || strlen(m->mount_point) > strlen(holder->mount_point)))
			holder = m;
	}
	return holder ? holder : best;
}

static void describe_flags(uint32_t flags, uint32_t commit_s, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	if (flags & IOH_MNT_DATA_WRITEBACK)
		used += snprintf(out + used, size - used, "data=writeback");
	if ((flags & IOH_MNT_NOBARRIER) && used < size)
		used += snprintf(out + used, size - used, "%sbarriers off", used ? ", " : "");
	if ((flags & IOH_MNT_JOURNAL_ASYNC_COMMIT) && used < size)
		used +=
		    snprintf(out + used, size - used, "%sjournal_async_commit", used ? ", " : "");
	if ((flags & IOH_MNT_LONG_COMMIT) && used < size)
		snprintf(out + used, size - used, "%scommit=%u", used ? ", " : "", commit_s);
}

static void report_mount(struct ioh_correlator *c, const struct ioh_event *ev,
			 const struct wb_mount *m)
{
	const struct ioh_mount_info *mi = &ev->mount;
	/* A property of the mount, not of a task: no task to match, pid 0 in the finding. */
	const struct ioh_rule *rule =
	    ioh_correlator_match(c, IOH_RULE_WRITEBACK_MOUNT, mi->mount_point, mi->fstype, NULL);
	struct ioh_finding f;
	char what[128];

	if (!rule)
		return;
	describe_flags(mi->flags, mi->commit_s, what, sizeof(what));
	/* data=writeback and barriers off can expose or lose data; the rest only widens the
	 * window of loss: one step lower. */
	ioh_finding_start(&f, ev->ts_ns, rule->name,
			  (mi->flags & (IOH_MNT_DATA_WRITEBACK | IOH_MNT_NOBARRIER))
			      ? rule->severity
			      : ioh_severity_lower(rule->severity),
			  NULL);
	f.file.dev = mi->dev;
	f.path = mi->mount_point;
	f.fstype = mi->fstype;
	snprintf(f.message, sizeof(f.message),
		 "%s (%s on %s) is mounted with %s: after a crash, files can hold stale or "
		 "foreign data unless every writer fsyncs",
		 mi->mount_point, mi->fstype ? mi->fstype : "?", mi->source ? mi->source : "?",
		 what);
	f.fix = (mi->flags & IOH_MNT_DATA_WRITEBACK)
		    ? "remount with data=ordered (the default) unless every application on it "
		      "fsyncs before relying on its data"
		    : "remount with barriers on and the default journal commit (commit=5)";
	ioh_finding_add_str(&f, "options", mi->options);
	ioh_finding_add_str(&f, "source", mi->source);
	ioh_finding_add_str(&f, "hazards", what);
	ioh_finding_add_bool(&f, "data_writeback", mi->flags & IOH_MNT_DATA_WRITEBACK);
	ioh_finding_add_bool(&f, "nobarrier", mi->flags & IOH_MNT_NOBARRIER);
	ioh_finding_add_bool(&f, "journal_async_commit", mi->flags & IOH_MNT_JOURNAL_ASYNC_COMMIT);
	if (mi->commit_s)
		ioh_finding_add_uint(&f, "commit_seconds", mi->commit_s);
	ioh_correlator_emit(c, &f);
}

static void on_mount(struct wb_state *s, struct ioh_correlator *c, const struct ioh_event *ev)
{
	const struct ioh_mount_info *mi = &ev->mount;
	struct wb_mount *m;

	if (!mi->mount_point)
		return;
	m = find_mount(s, mi->mnt_id, mi->mount_point);
	if ((mi->flags & IOH_MNT_GONE) || !(mi->flags & IOH_MNT_HAZARDS)) {
		if (m)
			mount_clear(m); /* unmounted or fixed: a later regression is news again */
		return;
	}
	if (!m) {
		for (unsigned i = 0; i < MOUNTS_MAX && !m; i++)
			if (!s->mounts[i].live)
				m = &s->mounts[i];
		if (!m)
			return; /* 256 hazardous mounts at once: report none of the rest */
		m->live = true;
		m->mnt_id = mi->mnt_id;
		m->mount_point = strdup(mi->mount_point);
		m->fstype = mi->fstype ? strdup(mi->fstype) : NULL;
		if (!m->mount_point) {
			mount_clear(m);
			return;
		}
	}
	m->dev = mi->dev;
	m->flags = mi->flags & IOH_MNT_HAZARDS;
	m->commit_s = mi->commit_s;
	if (m->flags & ~m->reported) {
		report_mount(c, ev, m);
		m->reported |= m->flags;
	}
}

static void on_truncate(struct wb_state *s, struct ioh_correlator *c, const struct ioh_event *ev)
{
	const struct ioh_truncate_info *ti = &ev->truncate;
	bool mounted = ti->path && (ev->flags & IOH_EVF_PATH_MOUNTED);
	const struct wb_mount *m = writeback_mount_of(s, ti->file.dev, mounted ? ti->path : NULL);
	const struct ioh_rule *rule;
	struct wb_truncate *t;
	char path[4096];
	bool created;

	if (!m)
		return; /* not (or no longer) a data=writeback mount */
	if (mounted)	/* the resolver went through the task's mount (bind mounts: its root) */
		snprintf(path, sizeof(path), "%s", ti->path);
	else if (ti->path)
		snprintf(path, sizeof(path), "%s%s",
			 strcmp(m->mount_point, "/") ? m->mount_point : "", ti->path);
	else
		snprintf(path, sizeof(path), "%s", m->mount_point);
	rule = ioh_correlator_match(c, IOH_RULE_WRITEBACK_TRUNCATE_UNSYNCED, path, m->fstype, ev);
	if (!rule)
		return;
	t = ioh_file_table_get(&s->table, ti->file.dev, ti->file.ino, ti->file.gen, &created);
	if (!created)
		ioh_file_table_reset(&s->table, t); /* truncated again: start over */
	t->slot.age_ns = ev->ts_ns;
	t->mode = ti->file.mode;
	t->fs_magic = ti->file.fs_magic;
	t->old_size = ti->old_size;
	ioh_actor_from_event(&t->who, ev);
	t->path = strdup(path);
	t->mount_point = strdup(m->mount_point);
	t->severity = rule->severity;
	snprintf(t->rule, sizeof(t->rule), "%s", rule->name);
	t->deadline_ns = rule->window_ns; /* relative until the rewrite */
}

static void on_dirty(struct wb_state *s, const struct ioh_event *ev)
{
	const struct ioh_file_id *file = &ev->inode.file;
	struct wb_truncate *t = ioh_file_table_find(&s->table, file->dev, file->ino, file->gen);

	if (!t || t->rewritten)
		return;
	t->rewritten = true;
	t->rewritten_ns = ev->ts_ns;
	t->deadline_ns = ioh_deadline_ns(ev->ts_ns, t->deadline_ns);
	s->n_pending++;
}

static void on_sync(struct wb_state *s, const struct ioh_event *ev)
{
	const struct ioh_sync_info *si = &ev->sync;

	struct wb_truncate *t;

	if (si->ret != 0)
		return;
	for (unsigned it = 0; (t = ioh_file_table_next(&s->table, &it));) {
		switch (si->kind) {
		case IOH_SYNC_FSYNC:
		case IOH_SYNC_FDATASYNC:
			if (t->slot.dev == si->file.dev && t->slot.ino == si->file.ino)
				ioh_file_table_remove(&s->table, t);
			break;
		case IOH_SYNC_SYNCFS:
			if (t->slot.dev == si->file.dev)
				ioh_file_table_remove(&s->table, t);
			break;
		case IOH_SYNC_SYNC:
			ioh_file_table_remove(&s->table, t);
			break;
		}
	}
}

static void wb_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct wb_state *s = state;
	struct wb_truncate *t;

	switch (ev->type) {
	case IOH_EV_MOUNT:
		on_mount(s, c, ev);
		break;
	case IOH_EV_TRUNCATE:
		on_truncate(s, c, ev);
		break;
	case IOH_EV_INODE_DIRTY:
		on_dirty(s, ev);
		break;
	case IOH_EV_INODE_CLEAN: /* the new data reached the disk: nothing stale to expose */
		t = ioh_file_table_find(&s->table, ev->inode.file.dev, ev->inode.file.ino,
					ev->inode.file.gen);
		if (t)
			ioh_file_table_remove(&s->table, t);
		break;
	case IOH_EV_SYNC:
		on_sync(s, ev);
		break;
		/* Losses are judged when a window closes (ioh_correlator_loss_overlaps). */
	}
}

static void emit_truncate(struct ioh_correlator *c, const struct wb_truncate *t)
{
	struct ioh_finding f;
	uint64_t truncated_ns = t->slot.age_ns;

	ioh_finding_start(&f, t->deadline_ns, t->rule, t->severity, &t->who);
	f.degraded = ioh_correlator_loss_overlaps(c, truncated_ns, t->deadline_ns);
	f.file.dev = t->slot.dev;
	f.file.ino = t->slot.ino;
	f.file.mode = t->mode;
	f.file.fs_magic = t->fs_magic;
	f.path = t->path;
	f.fstype = ioh_fstype_from_magic(t->fs_magic);
	snprintf(f.message, sizeof(f.message),
		 "%s (pid %u) truncated and rewrote %s on data=writeback mount %s without fsync "
		 "within %s: after a crash it can contain stale blocks of other files",
		 t->who.comm, t->who.pid, t->path, t->mount_point,
		 IOH_DURATION(t->deadline_ns - t->rewritten_ns));
	f.fix = "fsync(2) the file after rewriting it (or write a new file, fsync it and rename "
		"it over the old one), or remount the filesystem data=ordered";
	ioh_finding_add_str(&f, "mount_point", t->mount_point);
	ioh_finding_add_uint(&f, "old_size", t->old_size);
	ioh_finding_add_duration(&f, "rewrite_after_truncate", t->rewritten_ns - truncated_ns);
	ioh_finding_add_duration(&f, "window", t->deadline_ns - t->rewritten_ns);
	ioh_correlator_emit(c, &f);
}

static void wb_advance(void *state, struct ioh_correlator *c, uint64_t now_ns)
{
	struct wb_state *s = state;

	struct wb_truncate *t;

	if (!s->n_pending)
		return;
	for (unsigned it = 0; (t = ioh_file_table_next(&s->table, &it));) {
		if (!t->rewritten || t->deadline_ns > now_ns)
			continue;
		emit_truncate(c, t);
		ioh_file_table_remove(&s->table, t);
	}
}

const struct ioh_detector ioh_detector_writeback_exposure = {
    .name = "writeback-exposure",
    .state_size = sizeof(struct wb_state),
    .init = wb_init,
    .fini = wb_fini,
    .on_event = wb_on_event,
    .advance = wb_advance,
    IOH_DETECTOR_FILE_TABLE(struct wb_state, table),
};
