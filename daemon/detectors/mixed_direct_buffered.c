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

#define RULE_MIXED "mixed-direct-buffered"
/* Inodes watched at once in user space; more is possible only if thousands of files are
 * mixed, and then the oldest is forgotten (counted as an eviction). */
#define MIXED_MAX 1024

/* One side of the mix: who, and how. */
struct side {
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	char *cgroup;
	uint16_t access;
	uint64_t ns;
	uint64_t callsite; /* this side's call chain key; 0 for the side the record only names */
};

struct mixed_inode {
	bool live;
	bool pending;	     /* a BOTH_OPEN waiting for its window to close */
	bool degraded;
	uint64_t deadline_ns;
	uint64_t seen_ns;    /* last record, for eviction */
	struct ioh_file_id file;
	char *path;
	char rule[IOH_RULE_NAME_MAX];
	enum ioh_severity severity;
	struct side direct, buffered;
};

struct mixed_state {
	struct mixed_inode inodes[MIXED_MAX];
	const struct ioh_rule **rules;
	size_t n_rules;
	uint64_t evictions;
	unsigned n_pending;	/* advance() runs per event: skip the scan when nothing waits */
	uint64_t next_deadline; /* earliest pending deadline */
};

static void side_clear(struct side *s)
{
	free(s->cgroup);
	memset(s, 0, sizeof(*s));
}

static void inode_clear(struct mixed_inode *m)
{
	free(m->path);
	side_clear(&m->direct);
	side_clear(&m->buffered);
	memset(m, 0, sizeof(*m));
}

static void *mx_create(struct ioh_correlator *c, const struct ioh_correlator_config *cfg)
{
	return calloc(1, sizeof(struct mixed_state));
}

static void mx_destroy(void *state)
{
	struct mixed_state *s = state;

	for (unsigned i = 0; i < MIXED_MAX; i++)
		inode_clear(&s->inodes[i]);
	free(s->rules);
	free(s);
}

static void mx_rules_changed(void *state, const struct ioh_ruleset *rules)
{
	struct mixed_state *s = state;

	free(s->rules);
	s->rules = NULL;
	s->n_rules = 0;
	if (rules)
		s->rules = ioh_ruleset_for_detector(rules, RULE_MIXED, &s->n_rules);
	if (!s->rules)
		s->n_rules = 0;
}

static struct mixed_inode *find_inode(struct mixed_state *s, const struct ioh_file_id *f,
				      bool create)
{
	struct mixed_inode *free_slot = NULL, *oldest = NULL;

	for (unsigned i = 0; i < MIXED_MAX; i++) {
		struct mixed_inode *m = &s->inodes[i];

		if (m->live && m->file.dev == f->dev && m->file.ino == f->ino)
			return m;
		if (!m->live && !free_slot)
			free_slot = m;
		if (m->live && (!oldest || m->seen_ns < oldest->seen_ns))
			oldest = m;
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		if (oldest->pending)
			s->n_pending--;
		inode_clear(oldest);
		s->evictions++;
		free_slot = oldest;
	}
	free_slot->live = true;
	free_slot->file = *f;
	return free_slot;
}

/* The other side is named from /proc at event time; a short-lived writer may be gone. */
static const char *side_comm(const struct side *s)
{
	return s->comm[0] ? s->comm : "(exited)";
}

static void side_set(struct side *side, uint32_t pid, const char *comm, const char *cgroup,
		     uint16_t access, uint64_t ns)
{
	free(side->cgroup);
	side->pid = pid;
	snprintf(side->comm, sizeof(side->comm), "%s", comm ? comm : "");
	side->cgroup = cgroup ? strdup(cgroup) : NULL;
	side->access = access;
	side->ns = ns;
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
	ioh_unit_from_cgroup(side->cgroup, unit, unit_len);
	ioh_finding_add_uint(f, prefix_pid, side->pid);
	ioh_finding_add_str(f, prefix_comm, side->comm[0] ? side->comm : NULL);
	ioh_finding_add_str(f, prefix_unit, unit[0] ? unit : NULL);
	ioh_finding_add_str(f, prefix_access, ioh_access_name(side->access));
}

/*
 * One finding naming both sides. `second` is the task whose access completes the hazard (the
 * finding's pid/comm); `first` the other one.
 */
static void emit(struct ioh_correlator *c, struct mixed_inode *m, const char *rule,
		 enum ioh_severity severity, uint32_t kind, const struct side *first,
		 const struct side *second, uint64_t ts_ns, bool degraded)
{
	struct ioh_finding f = {0};
	char direct_unit[256], buffered_unit[256];
	const struct side *direct = is_direct(first->access) ? first : second;
	const struct side *buffered = direct == first ? second : first;
	const char *order;

	f.ts_ns = ts_ns;
	f.rule = rule;
	f.severity = severity;
	f.degraded = degraded;
	f.pid = second->pid;
	f.user_call = true;
	f.callsite = second->callsite;
	memcpy(f.comm, second->comm, sizeof(f.comm));
	f.cgroup = second->cgroup;
	f.file = m->file;
	f.path = m->path;
	f.fstype = ioh_fstype_from_magic(m->file.fs_magic);
	switch (kind) {
	case IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ:
		order = "direct write, then buffered read";
		snprintf(f.message, sizeof(f.message),
			 "%s (pid %u) read through the page cache %s after %s (pid %u) wrote it "
			 "with O_DIRECT: the read may return stale cached data",
			 side_comm(second), second->pid, IOH_DURATION(second->ns - first->ns),
			 side_comm(first), first->pid);
		f.fix = "do not mix O_DIRECT and buffered access to one file: make the reader use "
			"O_DIRECT too (or read from a snapshot/backup API), or drop the writer's "
			"O_DIRECT";
		break;
	case IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ:
		order = "buffered write, then direct read";
		snprintf(f.message, sizeof(f.message),
			 "%s (pid %u) read with O_DIRECT %s after %s (pid %u) wrote through the "
			 "page cache: the direct read can miss the dirty cached data",
			 side_comm(second), second->pid, IOH_DURATION(second->ns - first->ns),
			 side_comm(first), first->pid);
		f.fix = "fsync(2) the buffered writes before any O_DIRECT reader, or use one access "
			"mode for the file";
		break;
	default:
		order = "opened both ways";
		snprintf(f.message, sizeof(f.message),
			 "used with O_DIRECT by %s (pid %u) and through the page cache by %s (pid "
			 "%u): reads can see stale data",
			 side_comm(direct), direct->pid, side_comm(buffered), buffered->pid);
		f.fix = "do not mix O_DIRECT and buffered access to one file (backup agents, cp, "
			"rsync and tar read through the page cache)";
		break;
	}
	add_side_evidence(&f, "direct_pid", "direct_comm", "direct_unit", "direct_access", direct,
			  direct_unit, sizeof(direct_unit));
	add_side_evidence(&f, "buffered_pid", "buffered_comm", "buffered_unit",
			  "buffered_access", buffered, buffered_unit, sizeof(buffered_unit));
	ioh_finding_add_str(&f, "order", order);
	ioh_finding_add_duration(&f, "gap", second->ns > first->ns ? second->ns - first->ns : 0);
	ioh_correlator_emit(c, &f);
}

static const struct ioh_rule *matching_rule(struct mixed_state *s, const char *path,
					    const char *fstype, const struct ioh_event *ev)
{
	for (size_t i = 0; i < s->n_rules; i++)
		if (ioh_correlator_rule_applies(s->rules[i], path, fstype, ev))
			return s->rules[i];
	return NULL;
}

static void on_access(struct mixed_state *s, struct ioh_correlator *c, const struct ioh_event *ev)
{
	const struct ioh_access_info *a = &ev->access;
	const char *fstype = ioh_fstype_from_magic(a->file.fs_magic);
	struct mixed_inode *m = find_inode(s, &a->file, true);
	const struct ioh_rule *rule;
	struct side self = {0}, other = {0};

	m->seen_ns = ev->ts_ns;
	if (a->path && (!m->path || strcmp(m->path, a->path) != 0)) {
		free(m->path);
		m->path = strdup(a->path);
	}
	rule = matching_rule(s, m->path ? m->path : "", fstype, ev);
	if (!rule)
		return;
	/* Both sides as this record tells them. */
	self.pid = ev->pid;
	self.callsite = ev->callsite;
	memcpy(self.comm, ev->comm, sizeof(self.comm));
	self.cgroup = (char *)ev->cgroup;
	self.access = a->access;
	self.ns = ev->ts_ns;
	other.pid = a->other_pid;
	memcpy(other.comm, a->other_comm, sizeof(other.comm));
	other.cgroup = (char *)a->other_cgroup;
	other.access = a->other_access;
	other.ns = a->other_ns;

	if (a->kind == IOH_MODE_BOTH_OPEN) {
		struct side *d = is_direct(self.access) ? &m->direct : &m->buffered;
		struct side *b = d == &m->direct ? &m->buffered : &m->direct;

		side_set(d, self.pid, self.comm, self.cgroup, self.access, self.ns);
		side_set(b, other.pid, other.comm, other.cgroup, other.access, other.ns);
		if (!m->pending) {
			m->pending = true;
			m->deadline_ns = ioh_deadline_ns(ev->ts_ns, rule->window_ns);
			if (!s->n_pending++ || m->deadline_ns < s->next_deadline)
				s->next_deadline = m->deadline_ns;
			m->severity = rule->severity > IOH_SEV_INFO ? rule->severity - 1
								    : IOH_SEV_INFO;
			m->degraded = ioh_correlator_loss_overlaps(c, other.ns, ev->ts_ns);
			snprintf(m->rule, sizeof(m->rule), "%s", rule->name);
		}
		return;
	}
	/* Remember who did what: a later fsync EIO is tied back to these sides. */
	{
		const struct side *d = is_direct(self.access) ? &self : &other;
		const struct side *b = d == &self ? &other : &self;

		side_set(&m->direct, d->pid, d->comm, d->cgroup, d->access, d->ns);
		side_set(&m->buffered, b->pid, b->comm, b->cgroup, b->access, b->ns);
	}
	/* An order confirms the hazard: one critical finding replaces the pending one. */
	if (m->pending) {
		m->pending = false;
		s->n_pending--;
	}
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
	struct mixed_inode *m = find_inode(s, &ev->sync.file, false);
	const char *fstype = ioh_fstype_from_magic(ev->sync.file.fs_magic);
	const struct ioh_rule *rule;
	struct ioh_finding f = {0};
	char direct_unit[256], buffered_unit[256];

	if (!m || (!m->direct.ns && !m->buffered.ns))
		return;
	rule = matching_rule(s, m->path ? m->path : "", fstype, ev);
	if (!rule)
		return;
	if (m->pending) {
		m->pending = false; /* this finding says more */
		s->n_pending--;
	}
	f.ts_ns = ev->ts_ns;
	f.rule = rule->name;
	f.severity = rule->severity;
	f.degraded = ioh_correlator_loss_overlaps(c, m->direct.ns, ev->ts_ns);
	f.pid = ev->pid;
	memcpy(f.comm, ev->comm, sizeof(f.comm));
	f.cgroup = ev->cgroup;
	f.file = m->file;
	f.path = m->path;
	f.fstype = fstype;
	snprintf(f.message, sizeof(f.message),
		 "%s (pid %u) got EIO from fsync on a file used with O_DIRECT by %s (pid %u) and "
		 "through the page cache by %s (pid %u): the kernel could not invalidate cached "
		 "pages after a direct write (collision with buffered I/O); cached data may be stale",
		 ev->comm, ev->pid, side_comm(&m->direct), m->direct.pid, side_comm(&m->buffered),
		 m->buffered.pid);
	f.fix = "stop mixing O_DIRECT and buffered access to this file; check it against a "
		"known-good copy (the kernel log has 'collision with buffered I/O')";
	add_side_evidence(&f, "direct_pid", "direct_comm", "direct_unit", "direct_access",
			  &m->direct, direct_unit, sizeof(direct_unit));
	add_side_evidence(&f, "buffered_pid", "buffered_comm", "buffered_unit",
			  "buffered_access", &m->buffered, buffered_unit, sizeof(buffered_unit));
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
	m = find_inode(s, &ev->rename.src, false);
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

	if (!s->n_pending || now_ns < s->next_deadline)
		return;
	for (unsigned i = 0; i < MIXED_MAX; i++) {
		struct mixed_inode *m = &s->inodes[i];
		const struct side *first, *second;

		if (!m->pending)
			continue;
		if (m->deadline_ns > now_ns) {
			if (m->deadline_ns < next)
				next = m->deadline_ns;
			continue;
		}
		m->pending = false;
		s->n_pending--;
		first = m->direct.ns <= m->buffered.ns ? &m->direct : &m->buffered;
		second = first == &m->direct ? &m->buffered : &m->direct;
		emit(c, m, m->rule, m->severity, IOH_MODE_BOTH_OPEN, first, second, m->deadline_ns,
		     m->degraded ||
			     ioh_correlator_loss_overlaps(c, first->ns, m->deadline_ns));
	}
	s->next_deadline = next;
}

static void mx_stats(const void *state, struct ioh_correlator_stats *st)
{
	const struct mixed_state *s = state;

	st->inode_evictions += s->evictions;
}

const struct ioh_detector ioh_detector_mixed_direct_buffered = {
	.name = RULE_MIXED,
	.create = mx_create,
	.destroy = mx_destroy,
	.rules_changed = mx_rules_changed,
	.on_event = mx_on_event,
	.advance = mx_advance,
	.stats = mx_stats,
};
