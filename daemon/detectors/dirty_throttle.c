// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seed case 4: dirty-throttle-stall. The kernel reports balance_dirty_pages() pauses at or
 * above the smallest enabled threshold (bpf/stalls.bpf.h); each rule applies its own.
 *
 * The pattern is classified from facts the record and the event stream give, never guessed:
 *  - "fsync-then-burst sawtooth": the throttled task's own fsync/fdatasync succeeded less than
 *    SAWTOOTH_NS before the pause: fsync drained the device's dirty pages, the bandwidth
 *    estimate fell with them, and the next burst is throttled as if the device were slow;
 *  - "first writes after idle writeback": nobody was throttled on this device for IDLE_NS (or
 *    ever, as far as the kernel map remembers) and global dirty memory is not over the hard
 *    limit: the pause comes from a decayed bandwidth estimate, not from memory pressure;
 *  - "over the dirty limit": dirty memory at or above the hard limit, a plain overload;
 *  - "sustained throttling" otherwise.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/correlator/correlator.h"
#include "daemon/detectors/detectors.h"
#include "daemon/util/duration.h"

#define SAWTOOTH_NS (2ULL * 1000000000ULL)
#define IDLE_NS (5ULL * 1000000000ULL)
/* Tasks whose last fsync is remembered; older ones are overwritten (hash slots). */
#define FSYNC_SLOTS 1024

struct last_fsync {
	uint32_t pid;
	uint64_t ns;
};

struct throttle_state {
	struct last_fsync fsyncs[FSYNC_SLOTS];
};

static const char *throttle_pattern(const struct ioh_throttle_info *t, uint64_t since_fsync_ns,
				    bool fsynced)
{
	if (fsynced && since_fsync_ns < SAWTOOTH_NS)
		return "fsync-then-burst sawtooth";
	if (t->dirty >= t->limit && t->limit)
		return "over the dirty limit";
	if (t->bdi_idle_ns == 0 || t->bdi_idle_ns >= IDLE_NS)
		return "first writes after idle writeback (bandwidth estimate decayed)";
	return "sustained throttling";
}

static void on_throttle(struct throttle_state *s, struct ioh_correlator *c,
			const struct ioh_event *ev)
{
	const struct ioh_throttle_info *t = &ev->throttle;
	const struct last_fsync *lf = &s->fsyncs[ev->pid % FSYNC_SLOTS];
	bool fsynced = lf->pid == ev->pid && lf->ns && lf->ns <= ev->ts_ns;
	uint64_t since_fsync = fsynced ? ev->ts_ns - lf->ns : 0;
	uint64_t stall = t->pause_ns + t->paused_ns;
	const struct ioh_rule *rule =
	    ioh_correlator_match_stall(c, IOH_RULE_DIRTY_THROTTLE_STALL, stall, NULL, NULL, ev);
	struct ioh_finding f;
	const char *pattern;

	if (!rule)
		return;
	pattern = throttle_pattern(t, since_fsync, fsynced);
	ioh_finding_from_event(&f, rule, ev);
	/* A lost fsync record could have made this a sawtooth. */
	f.degraded = ioh_correlator_loss_overlaps(
	    c, ev->ts_ns > SAWTOOTH_NS ? ev->ts_ns - SAWTOOTH_NS : 0, ev->ts_ns);
	snprintf(f.message, sizeof(f.message),
		 "%s (pid %u) was paused %s in balance_dirty_pages() writing to %s "
		 "(%s; dirty %llu of limit %llu pages, device %llu/%llu pages, rate limit "
		 "%llu KiB/s)%s%s",
		 ev->comm, ev->pid, IOH_DURATION(stall), t->bdi, pattern,
		 (unsigned long long)t->dirty, (unsigned long long)t->limit,
		 (unsigned long long)t->wb_dirty, (unsigned long long)t->wb_setpoint,
		 (unsigned long long)t->task_ratelimit, t->page_cgroup ? "; pages of " : "",
		 t->page_cgroup ? t->page_cgroup : "");
	if (strcmp(pattern, "fsync-then-burst sawtooth") == 0)
		f.fix =
		    "spread writes instead of fsync-then-burst (sync_file_range(2) during the "
		    "burst, smaller batches), lower vm.dirty_ratio/dirty_bytes, or use O_DIRECT "
		    "for the latency-sensitive writer";
	else
		f.fix = "lower vm.dirty_background_bytes so writeback starts earlier and keeps "
			"its bandwidth estimate, cap the writer (cgroup io.max / memory.high), or "
			"move latency-sensitive writers to another device";
	ioh_finding_add_str(&f, "bdi", t->bdi);
	ioh_finding_add_str(&f, "pattern", pattern);
	ioh_finding_add_duration(&f, "pause", t->pause_ns);
	ioh_finding_add_duration(&f, "paused_before", t->paused_ns);
	ioh_finding_add_uint(&f, "dirty_pages", t->dirty);
	ioh_finding_add_uint(&f, "setpoint_pages", t->setpoint);
	ioh_finding_add_uint(&f, "limit_pages", t->limit);
	ioh_finding_add_uint(&f, "bdi_dirty_pages", t->wb_dirty);
	ioh_finding_add_uint(&f, "bdi_setpoint_pages", t->wb_setpoint);
	ioh_finding_add_uint(&f, "dirty_ratelimit_kbps", t->dirty_ratelimit);
	ioh_finding_add_uint(&f, "task_ratelimit_kbps", t->task_ratelimit);
	ioh_finding_add_duration(&f, "bdi_idle", t->bdi_idle_ns);
	if (fsynced)
		ioh_finding_add_duration(&f, "since_own_fsync", since_fsync);
	if (t->cgroup_ino)
		ioh_finding_add_uint(&f, "page_cgroup_ino", t->cgroup_ino);
	ioh_finding_add_str(&f, "page_cgroup", t->page_cgroup);
	ioh_correlator_emit(c, &f);
}

static void dt_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct throttle_state *s = state;

	if (ev->type == IOH_EV_SYNC && ev->sync.ret == 0 &&
	    (ev->sync.kind == IOH_SYNC_FSYNC || ev->sync.kind == IOH_SYNC_FDATASYNC)) {
		struct last_fsync *lf = &s->fsyncs[ev->pid % FSYNC_SLOTS];

		lf->pid = ev->pid;
		lf->ns = ev->ts_ns;
	} else if (ev->type == IOH_EV_DIRTY_THROTTLE) {
		on_throttle(s, c, ev);
	}
}

const struct ioh_detector ioh_detector_dirty_throttle = {
    .name = "dirty-throttle",
    .state_size = sizeof(struct throttle_state),
    .on_event = dt_on_event,
};
