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

/* Inodes with an unresolved failed fsync; more means a failing disk, and the oldest go. */
#define FAILED_MAX 1024

struct failed_fsync {
	struct ioh_file_slot slot; /* age: the last failure */
	int32_t first_error;	   /* -errno of the first failure */
	uint32_t failures;
	uint64_t first_ns;
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	uint32_t kind;
	char *path; /* the file, from the failed fsync's record (kernel walk of the fd's path) */
};

struct fsync_error_state {
	struct failed_fsync failed[FAILED_MAX];
	struct ioh_file_table table;
};

static void failed_clear(void *item, void *ctx)
{
	free(((struct failed_fsync *)item)->path);
}

static int fe_init(void *state, const struct ioh_correlator_config *cfg)
{
	struct fsync_error_state *s = state;

	IOH_FILE_TABLE_INIT(&s->table, s->failed, failed_clear, s);
	return 0;
}

/* A failed fsync or fdatasync: remember the first error and who got it. */
static void on_failure(struct fsync_error_state *s, const struct ioh_event *ev)
{
	const struct ioh_sync_info *si = &ev->sync;
	struct failed_fsync *e;
	bool created;

	/* EINVAL/EBADF/EROFS say "cannot sync this", not "your data was dropped". */
	if (si->ret == -EINVAL || si->ret == -EBADF || si->ret == -EROFS)
		return;
	e = ioh_file_table_get(&s->table, si->file.dev, si->file.ino, si->file.gen, &created);
	if (created) {
		e->first_error = si->ret;
		e->first_ns = ev->ts_ns;
		e->pid = ev->pid;
		e->kind = si->kind;
		memcpy(e->comm, ev->comm, sizeof(e->comm));
	}
	if (si->path && !e->path)
		e->path = strdup(si->path);
	e->failures++;
	e->slot.age_ns = ev->ts_ns;
}

static void fe_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct fsync_error_state *s = state;
	const struct ioh_sync_info *si = &ev->sync;
	const char *fstype;
	const struct ioh_rule *rule;
	struct failed_fsync *e;
	struct ioh_finding f;
	char inode[64];

	if (ev->type != IOH_EV_SYNC || !si->file.ino ||
	    (si->kind != IOH_SYNC_FSYNC && si->kind != IOH_SYNC_FDATASYNC))
		return;
	if (si->ret < 0) {
		on_failure(s, ev);
		return;
	}
	if (si->ret != 0)
		return;
	e = ioh_file_table_find(&s->table, si->file.dev, si->file.ino, si->file.gen);
	if (!e)
		return;
	fstype = ioh_fstype_from_magic(si->file.fs_magic);
	rule = ioh_correlator_match(c, IOH_RULE_FSYNC_ERROR_RETRIED, e->path, fstype, ev);
	if (rule) {
		ioh_finding_from_event(&f, rule, ev);
		f.degraded = ioh_correlator_loss_overlaps(c, e->first_ns, ev->ts_ns);
		f.file = si->file;
		f.path = e->path;
		f.fstype = fstype;
		if (!e->path)
			snprintf(inode, sizeof(inode), "inode %llu (dev %u:%u)",
				 (unsigned long long)si->file.ino, ioh_kdev_major(si->file.dev),
				 ioh_kdev_minor(si->file.dev));
		snprintf(
		    f.message, sizeof(f.message),
		    "%s (pid %u) got %s from %s() on %s, then a later %s() succeeded: the data "
		    "that failed to write was dropped, and the program now believes it is "
		    "durable",
		    e->comm, e->pid, strerrorname_np(-e->first_error) ?: "an error",
		    ioh_sync_kind_to_string(e->kind), e->path ? e->path : inode,
		    ioh_sync_kind_to_string(si->kind));
		f.fix = "treat an fsync error as fatal for the data written since the last good "
			"fsync: crash and recover from the journal/WAL (as PostgreSQL does since "
			"2018), or rewrite the data from its source before fsyncing again";
		ioh_finding_add_int(&f, "first_error", e->first_error);
		ioh_finding_add_str(&f, "first_error_name", strerrorname_np(-e->first_error));
		ioh_finding_add_uint(&f, "failures", e->failures);
		ioh_finding_add_uint(&f, "failed_pid", e->pid);
		ioh_finding_add_str(&f, "failed_comm", e->comm);
		ioh_finding_add_duration(&f, "retry_after", ev->ts_ns - e->slot.age_ns);
		ioh_correlator_emit(c, &f);
	}
	ioh_file_table_remove(&s->table, e);
}

const struct ioh_detector ioh_detector_fsync_error_retried = {
    .name = "fsync-error-retried",
    .state_size = sizeof(struct fsync_error_state),
    .init = fe_init,
    .on_event = fe_on_event,
    IOH_DETECTOR_FILE_TABLE(struct fsync_error_state, table),
};
