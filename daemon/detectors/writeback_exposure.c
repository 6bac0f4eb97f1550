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

#define RULE_MOUNT "writeback-mount"
#define RULE_TRUNCATE "writeback-truncate-unsynced"
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
	bool live;
	bool rewritten;
	uint32_t dev;
	uint64_t ino;
	uint32_t mode;
	uint32_t fs_magic;
	uint64_t truncated_ns;
	uint64_t rewritten_ns;
	uint64_t deadline_ns;
	uint64_t old_size;
	uint32_t pid; /* the truncating task */
	uint64_t callsite; /* its call chain key */
	char comm[IOH_COMM_LEN];
	char *cgroup;
	char *path; /* mount point + path within the filesystem */
	char *mount_point;
	char rule[IOH_RULE_NAME_MAX];
	enum ioh_severity severity;
};

struct wb_state {
	struct wb_mount mounts[MOUNTS_MAX];
	struct wb_truncate truncates[TRUNCATES_MAX];
	unsigned n_pending; /* rewritten and waiting for a deadline */
	unsigned n_live;    /* truncations tracked: every dirty/clean/sync event checks this
			     * first, so the common case (none) costs no scan */
	uint64_t evictions;
	const struct ioh_rule **mount_rules, **truncate_rules;
	size_t n_mount_rules, n_truncate_rules;
};

static void mount_clear(struct wb_mount *m)
{
	free(m->mount_point);
	free(m->fstype);
	memset(m, 0, sizeof(*m));
}

static void truncate_clear(struct wb_state *s, struct wb_truncate *t)
{
	if (t->live && t->rewritten)
		s->n_pending--;
	if (t->live)
		s->n_live--;
	free(t->cgroup);
	free(t->path);
	free(t->mount_point);
	memset(t, 0, sizeof(*t));
}

static void *wb_create(struct ioh_correlator *c, const struct ioh_correlator_config *cfg)
{
	return calloc(1, sizeof(struct wb_state));
}

static void wb_destroy(void *state)
{
	struct wb_state *s = state;

	for (unsigned i = 0; i < MOUNTS_MAX; i++)
		mount_clear(&s->mounts[i]);
	for (unsigned i = 0; i < TRUNCATES_MAX; i++)
		truncate_clear(s, &s->truncates[i]);
	free(s->mount_rules);
	free(s->truncate_rules);
	free(s);
}

static void wb_rules_changed(void *state, const struct ioh_ruleset *rules)
{
	struct wb_state *s = state;

	free(s->mount_rules);
	free(s->truncate_rules);
	s->mount_rules = rules ? ioh_ruleset_for_detector(rules, RULE_MOUNT, &s->n_mount_rules)
			       : NULL;
	if (!s->mount_rules)
		s->n_mount_rules = 0;
	s->truncate_rules =
		rules ? ioh_ruleset_for_detector(rules, RULE_TRUNCATE, &s->n_truncate_rules) : NULL;
	if (!s->truncate_rules)
		s->n_truncate_rules = 0;
}

static struct wb_mount *find_mount(struct wb_state *s, uint64_t mnt_id, const char *mount_point)
{
	for (unsigned i = 0; i < MOUNTS_MAX; i++)
		if (s->mounts[i].live && s->mounts[i].mnt_id == mnt_id &&
		    strcmp(s->mounts[i].mount_point, mount_point) == 0)
			return &s->mounts[i];
	return NULL;
}

/* The data=writeback mount of a device (the shortest mount point when bind-mounted). */
static const struct wb_mount *writeback_mount_of(const struct wb_state *s, uint32_t dev)
{
	const struct wb_mount *best = NULL;

	for (unsigned i = 0; i < MOUNTS_MAX; i++) {
		const struct wb_mount *m = &s->mounts[i];

		if (m->live && m->dev == dev && (m->flags & IOH_MNT_DATA_WRITEBACK) &&
		    (!best || strlen(m->mount_point) < strlen(best->mount_point)))
			best = m;
	}
	return best;
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
		used += snprintf(out + used, size - used, "%sjournal_async_commit",
				 used ? ", " : "");
	if ((flags & IOH_MNT_LONG_COMMIT) && used < size)
		snprintf(out + used, size - used, "%scommit=%u", used ? ", " : "", commit_s);
}

static void report_mount(struct wb_state *s, struct ioh_correlator *c, const struct ioh_event *ev,
			 const struct wb_mount *m)
{
	const struct ioh_mount_info *mi = &ev->mount;
	const struct ioh_rule *rule = NULL;
	struct ioh_finding f = {0};
	char what[128];

	for (size_t i = 0; i < s->n_mount_rules && !rule; i++)
		if (ioh_rule_matches(s->mount_rules[i], mi->mount_point, mi->fstype, "", NULL))
			rule = s->mount_rules[i];
	if (!rule)
		return;
	describe_flags(mi->flags, mi->commit_s, what, sizeof(what));
	f.ts_ns = ev->ts_ns;
	f.rule = rule->name;
	/* data=writeback and barriers off can expose or lose data; the rest only widens the
	 * window of loss: one step lower. */
	f.severity = (mi->flags & (IOH_MNT_DATA_WRITEBACK | IOH_MNT_NOBARRIER)) ||
				     rule->severity == IOH_SEV_INFO
			     ? rule->severity
			     : rule->severity - 1;
	f.pid = 0; /* a property of the mount, not of a task */
	f.file.dev = mi->dev;
	f.path = mi->mount_point;
	f.fstype = mi->fstype;
	snprintf(f.message, sizeof(f.message),
		 "%s (%s on %s) is mounted with %s: after a crash, files can hold stale or "
		 "foreign data unless every writer fsyncs",
		 mi->mount_point, mi->fstype ? mi->fstype : "?", mi->source ? mi->source : "?", what);
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
		report_mount(s, c, ev, m);
		m->reported |= m->flags;
	}
}

static struct wb_truncate *find_truncate(struct wb_state *s, uint32_t dev, uint64_t ino,
					 bool create)
{
	struct wb_truncate *free_slot = NULL, *oldest = NULL;

	if (!create && !s->n_live)
		return NULL;
	for (unsigned i = 0; i < TRUNCATES_MAX; i++) {
		struct wb_truncate *t = &s->truncates[i];

		if (t->live && t->dev == dev && t->ino == ino)
			return t;
		if (!t->live && !free_slot)
			free_slot = t;
		if (t->live && (!oldest || t->truncated_ns < oldest->truncated_ns))
			oldest = t;
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		truncate_clear(s, oldest);
		s->evictions++;
		free_slot = oldest;
	}
	return free_slot;
}

static void on_truncate(struct wb_state *s, struct ioh_correlator *c, const struct ioh_event *ev)
{
	const struct ioh_truncate_info *ti = &ev->truncate;
	const struct wb_mount *m = writeback_mount_of(s, ti->file.dev);
	const struct ioh_rule *rule = NULL;
	struct wb_truncate *t;
	char path[4096];

	if (!m)
		return; /* not (or no longer) a data=writeback mount */
	if (ti->path)
		snprintf(path, sizeof(path), "%s%s", strcmp(m->mount_point, "/") ? m->mount_point : "",
			 ti->path);
	else
		snprintf(path, sizeof(path), "%s", m->mount_point);
	for (size_t i = 0; i < s->n_truncate_rules && !rule; i++)
		if (ioh_correlator_rule_applies(s->truncate_rules[i], path, m->fstype, ev))
			rule = s->truncate_rules[i];
	if (!rule)
		return;
	t = find_truncate(s, ti->file.dev, ti->file.ino, true);
	truncate_clear(s, t);
	t->live = true;
	s->n_live++;
	t->dev = ti->file.dev;
	t->ino = ti->file.ino;
	t->mode = ti->file.mode;
	t->fs_magic = ti->file.fs_magic;
	t->truncated_ns = ev->ts_ns;
	t->old_size = ti->old_size;
	t->pid = ev->pid;
	t->callsite = ev->callsite;
	memcpy(t->comm, ev->comm, sizeof(t->comm));
	t->cgroup = ev->cgroup ? strdup(ev->cgroup) : NULL;
	t->path = strdup(path);
	t->mount_point = strdup(m->mount_point);
	t->severity = rule->severity;
	snprintf(t->rule, sizeof(t->rule), "%s", rule->name);
	t->deadline_ns = rule->window_ns; /* relative until the rewrite */
}

static void on_dirty(struct wb_state *s, const struct ioh_event *ev)
{
	struct wb_truncate *t = find_truncate(s, ev->inode.file.dev, ev->inode.file.ino, false);

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

	if (si->ret != 0 || !s->n_live)
		return;
	for (unsigned i = 0; i < TRUNCATES_MAX; i++) {
		struct wb_truncate *t = &s->truncates[i];

		if (!t->live)
			continue;
		switch (si->kind) {
		case IOH_SYNC_FSYNC:
		case IOH_SYNC_FDATASYNC:
			if (t->dev == si->file.dev && t->ino == si->file.ino)
				truncate_clear(s, t);
			break;
		case IOH_SYNC_SYNCFS:
			if (t->dev == si->file.dev)
				truncate_clear(s, t);
			break;
		case IOH_SYNC_SYNC:
			truncate_clear(s, t);
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
		t = find_truncate(s, ev->inode.file.dev, ev->inode.file.ino, false);
		if (t)
			truncate_clear(s, t);
		break;
	case IOH_EV_SYNC:
		on_sync(s, ev);
		break;
	/* Losses are judged when a window closes (ioh_correlator_loss_overlaps). */
	}
}

static void emit_truncate(struct ioh_correlator *c, const struct wb_truncate *t)
{
	struct ioh_finding f = {0};

	f.ts_ns = t->deadline_ns;
	f.rule = t->rule;
	f.severity = t->severity;
	f.degraded = ioh_correlator_loss_overlaps(c, t->truncated_ns, t->deadline_ns);
	f.pid = t->pid;
	f.user_call = true;
	f.callsite = t->callsite;
	memcpy(f.comm, t->comm, sizeof(f.comm));
	f.cgroup = t->cgroup;
	f.file.dev = t->dev;
	f.file.ino = t->ino;
	f.file.mode = t->mode;
	f.file.fs_magic = t->fs_magic;
	f.path = t->path;
	f.fstype = ioh_fstype_from_magic(t->fs_magic);
	snprintf(f.message, sizeof(f.message),
		 "%s (pid %u) truncated and rewrote %s on data=writeback mount %s without fsync "
		 "within %s: after a crash it can contain stale blocks of other files",
		 t->comm, t->pid, t->path, t->mount_point,
		 IOH_DURATION(t->deadline_ns - t->rewritten_ns));
	f.fix = "fsync(2) the file after rewriting it (or write a new file, fsync it and rename "
		"it over the old one), or remount the filesystem data=ordered";
	ioh_finding_add_str(&f, "mount_point", t->mount_point);
	ioh_finding_add_uint(&f, "old_size", t->old_size);
	ioh_finding_add_duration(&f, "rewrite_after_truncate", t->rewritten_ns - t->truncated_ns);
	ioh_finding_add_duration(&f, "window", t->deadline_ns - t->rewritten_ns);
	ioh_correlator_emit(c, &f);
}

static void wb_advance(void *state, struct ioh_correlator *c, uint64_t now_ns)
{
	struct wb_state *s = state;

	if (!s->n_pending)
		return;
	for (unsigned i = 0; i < TRUNCATES_MAX; i++) {
		struct wb_truncate *t = &s->truncates[i];

		if (!t->live || !t->rewritten || t->deadline_ns > now_ns)
			continue;
		emit_truncate(c, t);
		truncate_clear(s, t);
	}
}

static void wb_stats(const void *state, struct ioh_correlator_stats *st)
{
	const struct wb_state *s = state;

	st->inode_evictions += s->evictions;
}

const struct ioh_detector ioh_detector_writeback_exposure = {
	.name = RULE_MOUNT,
	.create = wb_create,
	.destroy = wb_destroy,
	.rules_changed = wb_rules_changed,
	.on_event = wb_on_event,
	.advance = wb_advance,
	.stats = wb_stats,
};
