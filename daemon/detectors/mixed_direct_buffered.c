// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seed case 2: one inode used through O_DIRECT and through the page cache.
 *
 * The kernel reports (bpf/mixed_io.bpf.h):
 *  - BOTH_OPEN when an inode has been opened (or mapped) both ways within the tracking
 *    window: a hazard waiting to happen, severity one step below the rule's;
 *  - an *order* when I/O confirms it: a direct write then a buffered read or mmap fault (the
 *    reader may see stale cached pages), or a buffered write then a direct read (the direct
 *    read misses the dirty pages). Severity: the rule's (critical by default).
 *
 * A BOTH_OPEN is held for the rule's window: if an order confirms it meanwhile only the
 * critical finding is made, so one incident gives one finding. The file's path comes from the
 * BOTH_OPEN record (faults carry no struct file), kept per inode until the order arrives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util/timeops.h"
#include "daemon/correlator/correlator.h"
#include "daemon/detectors/detectors.h"
#include "daemon/util/duration.h"
#include "daemon/sinks/event_format.h"
#include "daemon/util/fsnames.h"

/* Inodes watched at once in user space; more is possible only if thousands of files are
 * mixed, and then the oldest is forgotten (counted as an eviction). */
#define MIXED_MAX 1024

/* One side of the mix: who, and how. */
struct side {
	struct ioh_actor who;
	uint16_t access;
	uint64_t ns;
};

struct mixed_inode {
	struct ioh_file_slot slot; /* age: the last record */
	bool pending;		   /* a BOTH_OPEN waiting for its window to close */
	bool degraded;
	uint64_t deadline_ns;
	struct ioh_file_id file;
	char *path;
	char rule[IOH_RULE_NAME_MAX];
	enum ioh_severity severity;
	struct side direct, buffered;
};

struct mixed_state {
	struct mixed_inode inodes[MIXED_MAX];
	struct ioh_file_table table;
	unsigned n_pending;	/* advance() runs per event: skip the scan when nothing waits */
	uint64_t next_deadline; /* earliest pending deadline */
};

static void inode_clear(void *item, void *ctx)
{
	struct mixed_inode *m = item;
	struct mixed_state *s = ctx;

	if (m->pending)
		s->n_pending--;
	free(m->path);
	ioh_actor_clear(&m->direct.who);
	ioh_actor_clear(&m->buffered.who);
}

static int mx_init(void *state, const struct ioh_correlator_config *cfg)
{
	struct mixed_state *s = state;

	IOH_FILE_TABLE_INIT(&s->table, s->inodes, inode_clear, s);
	return 0;
}

/* The other side is named from /proc at event time; a short-lived writer may be gone. */
static const char *side_comm(const struct side *s)
{
	return s->who.comm[0] ? s->who.comm : "(exited)";
}

static void side_set(struct side *dst, const struct side *src)
{
	ioh_actor_set(&dst->who, src->who.pid, src->who.comm, src->who.cgroup);
	ioh_actor_set_call(&dst->who, src->who.user_call, src->who.callsite);
	dst->access = src->access;
	dst->ns = src->ns;
}

static bool is_direct(uint16_t access)
{
	return access == IOH_ACC_OPEN_DIRECT || access == IOH_ACC_DIRECT_READ ||
	       access == IOH_ACC_DIRECT_WRITE;
}

static void add_side_evidence(struct ioh_finding *f, const char *prefix_pid,
			      const char *prefix_comm, const char *prefix_unit,
			      const char *prefix_access, const struct side *side, char *unit,
			      size_t unit_len)
{
	ioh_unit_from_cgroup(side->who.cgroup, unit, unit_len);
	ioh_finding_add_uint(f, prefix_pid, side->who.pid);
	ioh_finding_add_str(f, prefix_comm, side->who.comm[0] ? side->who.comm : NULL);
	ioh_finding_add_str(f, prefix_unit, unit[0] ? unit : NULL);
	ioh_finding_add_str(f, prefix_access, ioh_access_to_string(side->access));
}

/* How an order reads in a finding: "<second> <verb> <gap> after <first> <did>: <risk>". */
struct order_text {
	const char *order, *verb, *did, *risk, *fix;
};

static const struct order_text order_texts[] = {
    [IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ] =
	{"direct write, then buffered read", "read through the page cache",
	 "wrote it with O_DIRECT", "the read may return stale cached data",
	 "do not mix O_DIRECT and buffered access to one file: make the reader use O_DIRECT too "
	 "(or read from a snapshot/backup API), or drop the writer's O_DIRECT"},
    [IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ] =
	{"buffered write, then direct read", "read with O_DIRECT", "wrote through the page cache",
	 "the direct read can miss the dirty cached data",
	 "fsync(2) the buffered writes before any O_DIRECT reader, or use one access mode for the "
	 "file"},
};

/* The message and fix; returns the evidence "order". */
static const char *describe(struct ioh_finding *f, uint32_t kind, const struct side *first,
			    const struct side *second, const struct side *direct,
			    const struct side *buffered)
{
	const struct order_text *t;

	if (kind < sizeof(order_texts) / sizeof(order_texts[0]) && order_texts[kind].order) {
		t = &order_texts[kind];
		snprintf(f->message, sizeof(f->message),
			 "%s (pid %u) %s %s after %s (pid %u) %s: %s", side_comm(second),
			 second->who.pid, t->verb, IOH_DURATION(second->ns - first->ns),
			 side_comm(first), first->who.pid, t->did, t->risk);
		f->fix = t->fix;
		return t->order;
	}
	snprintf(f->message, sizeof(f->message),
		 "used with O_DIRECT by %s (pid %u) and through the page cache by %s (pid %u): "
		 "reads can see stale data",
		 side_comm(direct), direct->who.pid, side_comm(buffered), buffered->who.pid);
	f->fix = "do not mix O_DIRECT and buffered access to one file (backup agents, cp, rsync "
		 "and tar read through the page cache)";
	return "opened both ways";
}

/* `units` holds the two sides' unit names until the finding is emitted. */
static void add_both_sides(struct ioh_finding *f, const struct side *direct,
			   const struct side *buffered, char units[2][256])
{
	add_side_evidence(f, "direct_pid", "direct_comm", "direct_unit", "direct_access", direct,
			  units[0], sizeof(units[0]));
	add_side_evidence(f, "buffered_pid", "buffered_comm", "buffered_unit", "buffered_access",
			  buffered, units[1], sizeof(units[1]));
}

/*
 * One finding naming both sides. `second` is the task whose access completes the hazard (the
 * finding's pid/comm); `first` the other one.
 */
static void emit(struct ioh_correlator *c, struct mixed_inode *m, const char *rule,
		 enum ioh_severity severity, uint32_t kind, const struct side *first,
		 const struct side *second, uint64_t ts_ns, bool degraded)
{
	struct ioh_finding f;
	char units[2][256];
	const struct side *direct = is_direct(first->access) ? first : second;
	const struct side *buffered = direct == first ? second : first;
	const char *order;

	ioh_finding_start(&f, ts_ns, rule, severity, &second->who);
	f.degraded = degraded;
	f.file = m->file;
	f.path = m->path;
	f.fstype = ioh_fstype_from_magic(m->file.fs_magic);
	order = describe(&f, kind, first, second, direct, buffered);
	add_both_sides(&f, direct, buffered, units);
	ioh_finding_add_str(&f, "order", order);
	ioh_finding_add_duration(&f, "gap", second->ns > first->ns ? second->ns - first->ns : 0);
	ioh_correlator_emit(c, &f);
}

/* A pending BOTH_OPEN is settled: a later finding says more, or its window closed. */
static void settle(struct mixed_state *s, struct mixed_inode *m)
{
	if (m->pending) {
		m->pending = false;
		s->n_pending--;
	}
}

/* Both sides of an access record: `self` its task, `other` the one the kernel remembered.
 * The cgroups are borrowed from the event. */
static void sides_of(const struct ioh_event *ev, struct side *self, struct side *other)
{
	const struct ioh_access_info *a = &ev->access;

	*self = (struct side){.who = {.pid = ev->pid, .cgroup = (char *)ev->cgroup},
			      .access = a->access,
			      .ns = ev->ts_ns};
	memcpy(self->who.comm, ev->comm, sizeof(self->who.comm));
	/* This task's call has its chain; the other side's call came earlier, unkeyed here. */
	ioh_actor_set_call(&self->who, true, ev->callsite);
	*other = (struct side){.who = {.pid = a->other_pid, .cgroup = (char *)a->other_cgroup},
			       .access = a->other_access,
			       .ns = a->other_ns};
	memcpy(other->who.comm, a->other_comm, sizeof(other->who.comm));
	ioh_actor_set_call(&other->who, true, 0);
}

/* Hold a BOTH_OPEN for the rule's window, one severity lower (only a possibility so far). */
static void hold(struct mixed_state *s, struct ioh_correlator *c, struct mixed_inode *m,
		 const struct ioh_rule *rule, const struct ioh_event *ev, uint64_t other_ns)
{
	if (m->pending)
		return;
	m->pending = true;
	m->deadline_ns = ioh_deadline_ns(ev->ts_ns, rule->window_ns);
	if (!s->n_pending++ || m->deadline_ns < s->next_deadline)
		s->next_deadline = m->deadline_ns;
	m->severity = ioh_severity_lower(rule->severity);
	m->degraded = ioh_correlator_loss_overlaps(c, other_ns, ev->ts_ns);
	snprintf(m->rule, sizeof(m->rule), "%s", rule->name);
}

static void on_access(struct mixed_state *s, struct ioh_correlator *c, const struct ioh_event *ev)
{
	const struct ioh_access_info *a = &ev->access;
	const char *fstype = ioh_fstype_from_magic(a->file.fs_magic);
	struct mixed_inode *m;
	const struct ioh_rule *rule;
	struct side self, other;
	const struct side *d, *b;
	bool created;

	m = ioh_file_table_get(&s->table, a->file.dev, a->file.ino, a->file.gen, &created);
	if (created)
		m->file = a->file;
	m->slot.age_ns = ev->ts_ns;
	if (a->path && (!m->path || strcmp(m->path, a->path) != 0)) {
		free(m->path);
		m->path = strdup(a->path);
	}
	rule = ioh_correlator_match(c, IOH_RULE_MIXED_DIRECT_BUFFERED, m->path, fstype, ev);
	if (!rule)
		return;
	sides_of(ev, &self, &other);
	/* Remember who did what: a later fsync EIO is tied back to these sides. */
	d = is_direct(self.access) ? &self : &other;
	b = d == &self ? &other : &self;
	side_set(&m->direct, d);
	side_set(&m->buffered, b);
	if (a->kind == IOH_MODE_BOTH_OPEN) {
		hold(s, c, m, rule, ev, other.ns);
		return;
	}
	/* An order confirms the hazard: one critical finding replaces the pending one. */
	settle(s, m);
	emit(c, m, rule->name, rule->severity, a->kind, &other, &self, ev->ts_ns,
	     ioh_correlator_loss_overlaps(c, other.ns, ev->ts_ns));
}

/*
 * When a direct write cannot invalidate the cached pages it overlaps ("Page cache
 * invalidation failure on direct I/O. Possible data corruption due to collision with buffered
 * I/O!"), the kernel plants EIO in the file's writeback error for the next fsync. An EIO from
 * fsync on a file we saw used both ways is tied back to it: critical, with both sides.
 */
static void on_sync_error(struct mixed_state *s, struct ioh_correlator *c,
			  const struct ioh_event *ev)
{
	const struct ioh_file_id *file = &ev->sync.file;
	struct mixed_inode *m = ioh_file_table_find(&s->table, file->dev, file->ino, file->gen);
	const char *fstype = ioh_fstype_from_magic(file->fs_magic);
	const struct ioh_rule *rule;
	struct ioh_finding f;
	char units[2][256];

	if (!m || (!m->direct.ns && !m->buffered.ns))
		return;
	rule = ioh_correlator_match(c, IOH_RULE_MIXED_DIRECT_BUFFERED, m->path, fstype, ev);
	if (!rule)
		return;
	settle(s, m); /* this finding says more */
	ioh_finding_from_event(&f, rule, ev);
	f.degraded = ioh_correlator_loss_overlaps(c, m->direct.ns, ev->ts_ns);
	f.file = m->file;
	f.path = m->path;
	f.fstype = fstype;
	snprintf(
	    f.message, sizeof(f.message),
	    "%s (pid %u) got EIO from fsync on a file used with O_DIRECT by %s (pid %u) and "
	    "through the page cache by %s (pid %u): the kernel could not invalidate cached "
	    "pages after a direct write (collision with buffered I/O); cached data may be stale",
	    ev->comm, ev->pid, side_comm(&m->direct), m->direct.who.pid, side_comm(&m->buffered),
	    m->buffered.who.pid);
	f.fix = "stop mixing O_DIRECT and buffered access to this file; check it against a "
		"known-good copy (the kernel log has 'collision with buffered I/O')";
	add_both_sides(&f, &m->direct, &m->buffered, units);
	ioh_finding_add_str(&f, "order", "fsync EIO after mixed access (collision)");
	ioh_finding_add_int(&f, "fsync_error", ev->sync.ret);
	ioh_correlator_emit(c, &f);
}

/*
 * A tracked file was renamed: later findings name it by its new path. Accesses seen from the
 * page cache (mm_filemap_get_pages, faults) carry no path of their own, so without this a file
 * created under a temporary name (MariaDB's ib_logfile101 -> ib_logfile0) keeps the old one.
 */
static void on_rename(struct mixed_state *s, const struct ioh_event *ev)
{
	struct mixed_inode *m;

	if (!ev->rename.src.ino || !ev->rename.new_path || (ev->flags & IOH_EVF_PATH_TRUNCATED))
		return;
	m = ioh_file_table_find(&s->table, ev->rename.src.dev, ev->rename.src.ino,
				ev->rename.src.gen);
	if (!m || (m->path && strcmp(m->path, ev->rename.new_path) == 0))
		return;
	free(m->path);
	m->path = strdup(ev->rename.new_path);
}

static void mx_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct mixed_state *s = state;

	if (ev->type == IOH_EV_ACCESS_MODE)
		on_access(s, c, ev);
	else if (ev->type == IOH_EV_RENAME)
		on_rename(s, ev);
	else if (ev->type == IOH_EV_SYNC && ev->sync.ret == -EIO &&
		 (ev->sync.kind == IOH_SYNC_FSYNC || ev->sync.kind == IOH_SYNC_FDATASYNC))
		on_sync_error(s, c, ev);
	/* Losses are judged when a window closes (ioh_correlator_loss_overlaps). */
}

static void mx_advance(void *state, struct ioh_correlator *c, uint64_t now_ns)
{
	struct mixed_state *s = state;
	uint64_t next = UINT64_MAX;
	struct mixed_inode *m;
	const struct side *first, *second;

	if (!s->n_pending || now_ns < s->next_deadline)
		return;
	for (unsigned it = 0; (m = ioh_file_table_next(&s->table, &it));) {
		if (!m->pending)
			continue;
		if (m->deadline_ns > now_ns) {
			if (m->deadline_ns < next)
				next = m->deadline_ns;
			continue;
		}
		settle(s, m);
		first = m->direct.ns <= m->buffered.ns ? &m->direct : &m->buffered;
		second = first == &m->direct ? &m->buffered : &m->direct;
		emit(c, m, m->rule, m->severity, IOH_MODE_BOTH_OPEN, first, second, m->deadline_ns,
		     m->degraded || ioh_correlator_loss_overlaps(c, first->ns, m->deadline_ns));
	}
	s->next_deadline = next;
}

const struct ioh_detector ioh_detector_mixed_direct_buffered = {
    .name = "mixed-direct-buffered",
    .state_size = sizeof(struct mixed_state),
    .init = mx_init,
    .on_event = mx_on_event,
    .advance = mx_advance,
    IOH_DETECTOR_FILE_TABLE(struct mixed_state, table),
};
