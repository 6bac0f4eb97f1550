// SPDX-License-Identifier: GPL-2.0-only
/*
 * The correlator core: keeps the per-inode state every detector shares (dirty since when,
 * synced when), accounts losses, keeps each rule's list of enabled rules, and dispatches
 * events to the detectors in daemon/detectors. See correlator.h for the ordering contract
 * and docs/architecture.md "The detector core".
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/correlator/correlator.h"
#include "daemon/detectors/detectors.h"
#include "daemon/util/fsnames.h"

#define DEFAULT_MAX_INODES 65536
#define DEFAULT_MAX_PENDING 16384
/*
 * Loss intervals remembered for ioh_correlator_loss_overlaps(). When more arrive, the two
 * oldest are merged into one that covers both: coverage is never lost, only precision (a
 * window between them is then judged degraded too).
 */
#define LOSS_HISTORY 64

/* The kernel lost records at some time in [from_ns, to_ns] (the two loss polls around it). */
struct loss_interval {
	uint64_t from_ns;
	uint64_t to_ns;
};

struct ioh_correlator {
	struct ioh_correlator_config cfg;
	const struct ioh_ruleset *rules;
	ioh_finding_cb cb;
	void *cb_ctx;
	struct ioh_inode_table *inodes;
	void *detector_state[IOH_DETECTORS_MAX];
	/* The enabled rules of each registry entry, rebuilt on every set_rules. */
	const struct ioh_rule **rule_lists[IOH_RULE__COUNT];
	size_t n_rules[IOH_RULE__COUNT];
	uint64_t now_ns;			   /* latest time seen (events or advance) */
	struct loss_interval losses[LOSS_HISTORY]; /* oldest first */
	unsigned n_losses;
	struct ioh_correlator_stats stats;
	struct ioh_stacks *stacks; /* not owned; NULL: no call chains */
};

static void build_rule_lists(struct ioh_correlator *c, const struct ioh_ruleset *rules)
{
	for (unsigned id = 0; id < IOH_RULE__COUNT; id++) {
		free(c->rule_lists[id]);
		c->rule_lists[id] = NULL;
		c->n_rules[id] = 0;
		if (rules)
			c->rule_lists[id] =
			    ioh_ruleset_for_detector(rules, ioh_rule_name(id), &c->n_rules[id]);
		if (!c->rule_lists[id])
			c->n_rules[id] = 0;
	}
}

static int detectors_init(struct ioh_correlator *c)
{
	if (ioh_detectors_count > IOH_DETECTORS_MAX)
		return -1; /* registry grew past the array: a build-time mistake, caught by tests */
	for (unsigned i = 0; i < ioh_detectors_count; i++) {
		const struct ioh_detector *d = ioh_detectors[i];

		c->detector_state[i] = calloc(1, d->state_size ? d->state_size : 1);
		if (!c->detector_state[i])
			return -1;
		if (d->init && d->init(c->detector_state[i], &c->cfg) < 0) {
			free(c->detector_state[i]);
			c->detector_state[i] = NULL;
			return -1;
		}
	}
	return 0;
}

struct ioh_correlator *ioh_correlator_new(const struct ioh_correlator_config *cfg,
					  const struct ioh_ruleset *rules, ioh_finding_cb cb,
					  void *cb_ctx)
{
	struct ioh_correlator *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (cfg)
		c->cfg = *cfg;
	if (!c->cfg.max_inodes)
		c->cfg.max_inodes = DEFAULT_MAX_INODES;
	if (!c->cfg.max_pending)
		c->cfg.max_pending = DEFAULT_MAX_PENDING;
	c->cb = cb;
	c->cb_ctx = cb_ctx;
	c->inodes = ioh_inode_table_new(c->cfg.max_inodes);
	if (!c->inodes || detectors_init(c) < 0) {
		ioh_correlator_free(c);
		return NULL;
	}
	ioh_correlator_set_rules(c, rules);
	return c;
}

/* The detector's bounded file table, or NULL. */
static struct ioh_file_table *file_table_of(const struct ioh_detector *d, void *state)
{
	return d->has_file_table ? (struct ioh_file_table *)((char *)state + d->file_table_offset)
				 : NULL;
}

void ioh_correlator_free(struct ioh_correlator *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < ioh_detectors_count && i < IOH_DETECTORS_MAX; i++) {
		const struct ioh_detector *d = ioh_detectors[i];
		void *state = c->detector_state[i];

		if (!state)
			continue;
		if (file_table_of(d, state))
			ioh_file_table_fini(file_table_of(d, state));
		if (d->fini)
			d->fini(state);
		free(state);
	}
	build_rule_lists(c, NULL);
	ioh_inode_table_free(c->inodes);
	free(c);
}

void ioh_correlator_set_rules(struct ioh_correlator *c, const struct ioh_ruleset *rules)
{
	c->rules = rules;
	build_rule_lists(c, rules);
}

struct ioh_inode_table *ioh_correlator_inodes(struct ioh_correlator *c)
{
	return c->inodes;
}

const struct ioh_ruleset *ioh_correlator_rules(const struct ioh_correlator *c)
{
	return c->rules;
}

bool ioh_correlator_loss_overlaps(const struct ioh_correlator *c, uint64_t start_ns,
				  uint64_t end_ns)
{
	for (unsigned i = c->n_losses; i-- > 0;) {
		if (c->losses[i].to_ns < start_ns)
			return false; /* this one and every older one ended before the window */
		if (c->losses[i].from_ns <= end_ns)
			return true;
	}
	return false;
}

static void remember_loss(struct ioh_correlator *c, uint64_t from_ns, uint64_t to_ns)
{
	struct loss_interval *last = c->n_losses ? &c->losses[c->n_losses - 1] : NULL;

	if (from_ns > to_ns)
		from_ns = to_ns; /* a malformed interval (recordings are untrusted): a point */
	if (last && from_ns <= last->to_ns) {
		/* Polls overlap or arrive out of order: widen the latest interval. */
		if (from_ns < last->from_ns)
			last->from_ns = from_ns;
		if (to_ns > last->to_ns)
			last->to_ns = to_ns;
		for (unsigned i = c->n_losses - 1; i > 0 && c->losses[i - 1].to_ns >= last->from_ns;
		     i--) {
			/* It now reaches into older ones: fold them in, keeping the order. */
			if (c->losses[i - 1].from_ns < last->from_ns)
				last->from_ns = c->losses[i - 1].from_ns;
			memmove(&c->losses[i - 1], &c->losses[i],
				(c->n_losses - i) * sizeof(c->losses[0]));
			c->n_losses--;
			last = &c->losses[c->n_losses - 1];
		}
		return;
	}
	if (c->n_losses == LOSS_HISTORY) {
		c->losses[1].from_ns = c->losses[0].from_ns;
		memmove(&c->losses[0], &c->losses[1], (LOSS_HISTORY - 1) * sizeof(c->losses[0]));
		c->n_losses--;
	}
	c->losses[c->n_losses++] = (struct loss_interval){from_ns, to_ns};
}

void ioh_correlator_set_stacks(struct ioh_correlator *c, struct ioh_stacks *stacks)
{
	c->stacks = stacks;
}

void ioh_correlator_emit(struct ioh_correlator *c, struct ioh_finding *f)
{
	c->stats.findings++;
	if (f->user_call && c->stacks)
		ioh_stacks_lookup(c->stacks, f->pid, f->callsite, &f->stack);
	if (c->cb)
		c->cb(f, c->cb_ctx);
}

const struct ioh_rule *const *ioh_correlator_rules_of(const struct ioh_correlator *c,
						      enum ioh_rule_id id, size_t *count)
{
	*count = c->n_rules[id];
	return c->rule_lists[id];
}

bool ioh_correlator_rule_applies(const struct ioh_rule *rule, const char *path, const char *fstype,
				 const struct ioh_event *ev)
{
	char unit[256];

	if (!ev)
		return ioh_rule_matches(rule, path ? path : "", fstype, "", NULL);
	ioh_unit_from_cgroup(ev->cgroup, unit, sizeof(unit));
	return ioh_rule_matches(rule, path ? path : "", fstype, ev->comm, unit);
}

static const struct ioh_rule *first_match(const struct ioh_correlator *c, enum ioh_rule_id id,
					  bool stall, uint64_t stall_ns, const char *path,
					  const char *fstype, const struct ioh_event *ev)
{
	for (size_t i = 0; i < c->n_rules[id]; i++) {
		const struct ioh_rule *r = c->rule_lists[id][i];

		if ((!stall || stall_ns >= r->threshold_ns) &&
		    ioh_correlator_rule_applies(r, path, fstype, ev))
			return r;
	}
	return NULL;
}

const struct ioh_rule *ioh_correlator_match(const struct ioh_correlator *c, enum ioh_rule_id id,
					    const char *path, const char *fstype,
					    const struct ioh_event *ev)
{
	return first_match(c, id, false, 0, path, fstype, ev);
}

const struct ioh_rule *ioh_correlator_match_stall(const struct ioh_correlator *c,
						  enum ioh_rule_id id, uint64_t stall_ns,
						  const char *path, const char *fstype,
						  const struct ioh_event *ev)
{
	return first_match(c, id, true, stall_ns, path, fstype, ev);
}

/* Events whose task's own call can start a hazard: their findings carry its call chain
 * (issue 15; bpf/stacks.bpf.h takes a snapshot at exactly these calls). */
static bool event_is_user_call(const struct ioh_event *ev)
{
	return ev->type == IOH_EV_RENAME || ev->type == IOH_EV_ACCESS_MODE ||
	       ev->type == IOH_EV_SPLICE_STALL || ev->type == IOH_EV_TRUNCATE;
}

void ioh_finding_from_event(struct ioh_finding *f, const struct ioh_rule *rule,
			    const struct ioh_event *ev)
{
	memset(f, 0, sizeof(*f));
	f->ts_ns = ev->ts_ns;
	f->rule = rule->name;
	f->severity = rule->severity;
	f->pid = ev->pid;
	memcpy(f->comm, ev->comm, sizeof(f->comm));
	f->cgroup = ev->cgroup;
	f->user_call = event_is_user_call(ev);
	f->callsite = ev->callsite;
}

void ioh_actor_from_event(struct ioh_actor *a, const struct ioh_event *ev)
{
	ioh_actor_set(a, ev->pid, ev->comm, ev->cgroup);
	ioh_actor_set_call(a, event_is_user_call(ev), ev->callsite);
}

void ioh_correlator_advance(struct ioh_correlator *c, uint64_t now_ns)
{
	if (now_ns < c->now_ns)
		return; /* time never goes back; a late event does not rewind deadlines */
	c->now_ns = now_ns;
	for (unsigned i = 0; i < ioh_detectors_count; i++)
		if (ioh_detectors[i]->advance)
			ioh_detectors[i]->advance(c->detector_state[i], c, now_ns);
}

/* sync(2)/syncfs(2) wrote back every dirty inode (of one filesystem). */
static void mark_all_synced(struct ioh_correlator *c, const struct ioh_event *ev, bool one_dev)
{
	struct ioh_inode_state *st;
	uint32_t it = 0;

	while ((st = ioh_inode_table_next(c->inodes, &it))) {
		if (one_dev && st->dev != ev->sync.file.dev)
			continue;
		if (st->dirty_since_ns) {
			st->dirty_since_ns = 0;
			st->last_sync_ns = ev->ts_ns;
		}
	}
}

/* Shared per-inode state, updated before detectors see the event. Entries are per file:
 * (dev, ino) plus the generation when the event carries it (inode_table.h). */
static void update_inode_state(struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct ioh_inode_state *st;

	switch (ev->type) {
	case IOH_EV_INODE_DIRTY:
		st = ioh_inode_get_gen(c->inodes, ev->inode.file.dev, ev->inode.file.ino,
				       ev->inode.file.gen);
		if (!st->dirty_since_ns)
			st->dirty_since_ns = ev->ts_ns;
		st->dirtier_pid = ev->pid;
		break;
	case IOH_EV_INODE_CLEAN:
		st = ioh_inode_lookup_gen(c->inodes, ev->inode.file.dev, ev->inode.file.ino,
					  ev->inode.file.gen);
		if (st) {
			st->dirty_since_ns = 0;
			st->last_clean_ns = ev->ts_ns;
		}
		break;
	case IOH_EV_SYNC:
		if (ev->sync.ret != 0)
			break;
		switch (ev->sync.kind) {
		case IOH_SYNC_FSYNC:
		case IOH_SYNC_FDATASYNC:
			if ((ev->sync.file.mode & S_IFMT) != S_IFREG)
				break;
			st = ioh_inode_get_gen(c->inodes, ev->sync.file.dev, ev->sync.file.ino,
					       ev->sync.file.gen);
			st->dirty_since_ns = 0;
			st->last_sync_ns = ev->ts_ns;
			break;
		case IOH_SYNC_SYNCFS:
			mark_all_synced(c, ev, true);
			break;
		case IOH_SYNC_SYNC:
			mark_all_synced(c, ev, false);
			break;
		}
		break;
	case IOH_EV_LOSS:
		if (ev->loss.where < IOH_LOSS__MAX)
			c->stats.lost[ev->loss.where] += ev->loss.count;
		if (ev->loss.count)
			remember_loss(c, ev->loss.since_ns, ev->ts_ns);
		break;
	}
}

void ioh_correlator_feed(struct ioh_correlator *c, const struct ioh_event *ev)
{
	/* A LOSS report is stamped with the time the counters were read, which can be later than
	 * records still waiting in the ring buffer: it must not move the clock past them, or their
	 * windows would be judged before they are seen. */
	if (ev->type != IOH_EV_LOSS)
		ioh_correlator_advance(c, ev->ts_ns);
	if (ev->type <= IOH_EV_END)
		c->stats.events[ev->type]++;
	if (ev->type == IOH_EV_END)
		return;
	if (ev->type == IOH_EV_STACK) {
		if (c->stacks)
			ioh_stacks_feed(c->stacks,
					ev); /* before the hazard record that follows it */
		return;
	}
	update_inode_state(c, ev);
	for (unsigned i = 0; i < ioh_detectors_count; i++)
		ioh_detectors[i]->on_event(c->detector_state[i], c, ev);
}

void ioh_correlator_get_stats(const struct ioh_correlator *c, struct ioh_correlator_stats *st)
{
	*st = c->stats;
	st->tracked_inodes = ioh_inode_table_count(c->inodes);
	st->inode_evictions = ioh_inode_table_evictions(c->inodes);
	for (unsigned i = 0; i < ioh_detectors_count; i++) {
		const struct ioh_detector *d = ioh_detectors[i];
		const struct ioh_file_table *t = file_table_of(d, c->detector_state[i]);

		if (t)
			st->inode_evictions += t->evictions;
		if (d->stats)
			d->stats(c->detector_state[i], st);
	}
}
