// SPDX-License-Identifier: GPL-2.0-only
/*
 * fsync-error-retried (PostgreSQL's 2018 "fsyncgate"): fsync(2) or fdatasync(2) returned an
 * error, and a later one on the same inode returned 0. After a writeback error the kernel
 * marks the dirty pages clean (or drops them) and reports the error once per open file
 * description; the retry "succeeds" because there is nothing left to write. The data is gone
 * while the program believes it is durable. Critical, decided at the successful retry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/correlator/correlator.h"
#include "daemon/detectors/detectors.h"
#include "daemon/sinks/event_format.h"
#include "daemon/util/fsnames.h"

#define RULE_FSYNC_ERROR "fsync-error-retried"
/* Inodes with an unresolved failed fsync; more means a failing disk, and the oldest go. */
#define FAILED_MAX 1024

struct failed_fsync {
	bool live;
	uint32_t dev;
	uint64_t ino;
	int32_t first_error; /* -errno of the first failure */
	uint32_t failures;
	uint64_t first_ns, last_ns;
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	uint32_t kind;
	char *path; /* the file, from the failed fsync's record (kernel walk of the fd's path) */
};

struct fsync_error_state {
	struct failed_fsync failed[FAILED_MAX];
	const struct ioh_rule **rules;
	size_t n_rules;
	uint64_t evictions;
	unsigned n_live; /* failed fsyncs remembered: successful fsyncs skip the scan at 0 */
};

static void *fe_create(struct ioh_correlator *c, const struct ioh_correlator_config *cfg)
{
	return calloc(1, sizeof(struct fsync_error_state));
}

static void fe_destroy(void *state)
{
	struct fsync_error_state *s = state;

	for (unsigned i = 0; i < FAILED_MAX; i++)
		free(s->failed[i].path);
	free(s->rules);
	free(s);
}

static void fe_rules_changed(void *state, const struct ioh_ruleset *rules)
{
	struct fsync_error_state *s = state;

	free(s->rules);
	s->rules = rules ? ioh_ruleset_for_detector(rules, RULE_FSYNC_ERROR, &s->n_rules) : NULL;
	if (!s->rules)
		s->n_rules = 0;
}

static struct failed_fsync *find_failed(struct fsync_error_state *s, uint32_t dev, uint64_t ino,
					bool create)
{
	struct failed_fsync *free_slot = NULL, *oldest = NULL;

	if (!create && !s->n_live)
		return NULL;
	for (unsigned i = 0; i < FAILED_MAX; i++) {
		struct failed_fsync *e = &s->failed[i];

		if (e->live && e->dev == dev && e->ino == ino)
			return e;
		if (!e->live && !free_slot)
			free_slot = e;
		if (e->live && (!oldest || e->last_ns < oldest->last_ns))
			oldest = e;
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		s->evictions++;
		s->n_live--; /* the oldest is overwritten below */
		free_slot = oldest;
	}
	free(free_slot->path);
	memset(free_slot, 0, sizeof(*free_slot));
	return free_slot;
}

static void fe_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct fsync_error_state *s = state;
	const struct ioh_sync_info *si = &ev->sync;
	const char *fstype;
	const struct ioh_rule *rule = NULL;
	struct failed_fsync *e;
	struct ioh_finding f = {0};

	if (ev->type != IOH_EV_SYNC || !si->file.ino ||
	    (si->kind != IOH_SYNC_FSYNC && si->kind != IOH_SYNC_FDATASYNC))
		return;
	if (si->ret < 0) {
		/* EINVAL/EBADF/EROFS say "cannot sync this", not "your data was dropped". */
		if (si->ret == -EINVAL || si->ret == -EBADF || si->ret == -EROFS)
			return;
		e = find_failed(s, si->file.dev, si->file.ino, true);
		if (!e->live) {
			e->live = true;
			s->n_live++;
			e->dev = si->file.dev;
			e->ino = si->file.ino;
			e->first_error = si->ret;
			e->first_ns = ev->ts_ns;
			e->pid = ev->pid;
			e->kind = si->kind;
			memcpy(e->comm, ev->comm, sizeof(e->comm));
		}
		if (si->path && !e->path)
			e->path = strdup(si->path);
		e->failures++;
		e->last_ns = ev->ts_ns;
		return;
	}
	if (si->ret != 0)
		return;
	e = find_failed(s, si->file.dev, si->file.ino, false);
	if (!e)
		return;
	fstype = ioh_fstype_from_magic(si->file.fs_magic);
	for (size_t i = 0; i < s->n_rules && !rule; i++)
		if (ioh_correlator_rule_applies(s->rules[i], e->path ? e->path : "", fstype, ev))
			rule = s->rules[i];
	if (rule) {
		f.ts_ns = ev->ts_ns;
		f.rule = rule->name;
		f.severity = rule->severity;
		f.degraded = ioh_correlator_loss_overlaps(c, e->first_ns, ev->ts_ns);
		f.pid = ev->pid;
		memcpy(f.comm, ev->comm, sizeof(f.comm));
		f.cgroup = ev->cgroup;
		f.file = si->file;
		f.path = e->path;
		f.fstype = fstype;
		if (e->path)
			snprintf(f.message, sizeof(f.message),
				 "%s (pid %u) got %s from %s() on %s, then a later %s() succeeded: "
				 "the data that failed to write was dropped, and the program now "
				 "believes it is durable",
				 e->comm, e->pid, strerrorname_np(-e->first_error) ?: "an error",
				 ioh_sync_kind_to_string(e->kind), e->path,
				 ioh_sync_kind_to_string(si->kind));
		else
			snprintf(f.message, sizeof(f.message),
				 "%s (pid %u) got %s from %s() on inode %llu (dev %u:%u), then a "
				 "later %s() succeeded: the data that failed to write was dropped, "
				 "and the program now believes it is durable",
				 e->comm, e->pid, strerrorname_np(-e->first_error) ?: "an error",
				 ioh_sync_kind_to_string(e->kind), (unsigned long long)si->file.ino,
				 ioh_kdev_major(si->file.dev), ioh_kdev_minor(si->file.dev),
				 ioh_sync_kind_to_string(si->kind));
		f.fix = "treat an fsync error as fatal for the data written since the last good "
			"fsync: crash and recover from the journal/WAL (as PostgreSQL does since "
			"2018), or rewrite the data from its source before fsyncing again";
		ioh_finding_add_int(&f, "first_error", e->first_error);
		ioh_finding_add_str(&f, "first_error_name", strerrorname_np(-e->first_error));
		ioh_finding_add_uint(&f, "failures", e->failures);
		ioh_finding_add_uint(&f, "failed_pid", e->pid);
		ioh_finding_add_str(&f, "failed_comm", e->comm);
		ioh_finding_add_duration(&f, "retry_after", ev->ts_ns - e->last_ns);
		ioh_correlator_emit(c, &f);
	}
	e->live = false;
	free(e->path);
	e->path = NULL;
	s->n_live--;
}

static void fe_stats(const void *state, struct ioh_correlator_stats *st)
{
	const struct fsync_error_state *s = state;

	st->inode_evictions += s->evictions;
}

const struct ioh_detector ioh_detector_fsync_error_retried = {
	.name = RULE_FSYNC_ERROR,
	.create = fe_create,
	.destroy = fe_destroy,
	.rules_changed = fe_rules_changed,
	.on_event = fe_on_event,
	.stats = fe_stats,
};
