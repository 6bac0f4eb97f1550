// SPDX-License-Identifier: GPL-2.0-only
/*
 * Blindness: whether the daemon still sees the I/O it is meant to watch. Three ways to go
 * blind, each checked from the tick: a BPF link detached, the canary syscall not coming back
 * through the hooks and the ring buffer, and the event loop itself stalled (seen by the loop
 * monitor thread).
 */
#include <stdio.h>
#include <unistd.h>

#include "daemon/loader/bpf_loader.h"
#include "daemon/manager.h"
#include "daemon/service/loop_monitor.h"
#include "daemon/util/log.h"

/* Entering blindness: counted, logged, reported as an `iohazard-blind` finding. */
static void enter_blind(struct daemon *d, const char *reason, uint64_t now)
{
	struct ioh_finding f = {0};

	d->blind_episodes++;
	log_error("Blind: %s", reason);
	f.ts_ns = now;
	f.rule = "iohazard-blind";
	f.severity = IOH_SEV_CRITICAL;
	f.pid = (uint32_t)getpid();
	snprintf(f.comm, sizeof(f.comm), "iohazardd");
	snprintf(f.message, sizeof(f.message), "iohazard is not seeing I/O: %s", reason);
	f.fix = "check `iohazard status`, the daemon log, and whether something detached "
		"its BPF programs; restart iohazardd";
	ioh_finding_add_str(&f, "reason", reason);
	pipeline_report_own_finding(d, &f);
}

/*
 * The loop itself was gone (the monitor thread saw no pet): whatever happened meanwhile
 * was not watched. Blind from now until a fresh canary comes back through the hooks and
 * the ring buffer, and for at least 5 s.
 */
void health_loop_was_stalled(struct daemon *d, uint64_t gone_ns, uint64_t now)
{
	char reason[256];

	d->loop_stalls++;
	d->loop_stall_ns += gone_ns;
	snprintf(reason, sizeof(reason), "the event loop did not run for %.1fs",
		 (double)gone_ns / 1e9);
	if (!d->blind_reason[0])
		enter_blind(d, reason, now);
	else
		log_error("Blind: %s", reason);
	snprintf(d->blind_reason, sizeof(d->blind_reason), "%s", reason);
	d->canary_sent_ns = now;
	(void)ioh_loader_send_canary(d->loader);
	/* Visible for a while even when the canary is back at once: a scrape every few
	 * seconds must be able to see it. */
	d->blind_hold_until_ns = now + 5000000000ull;
}

/*
 * Blindness is a finding too. Every HEALTH_EVERY_TICKS (manager.c) the daemon checks the previous
 * canary (an fsync of its own memfd that the fsync hook answers with a heartbeat record) and its
 * links, then sends the next canary. Entering or leaving blindness is logged, reported as an
 * `iohazard-blind` finding (entering), shown in status, STATUS= and the metrics.
 */
void health_check(struct daemon *d, uint64_t now)
{
	char reason[256] = "";
	int detached = ioh_loader_check_links(d->loader);

	ioh_loader_expire_watched(d->loader, now);

	/* While a drain was cut by its budget, records wait in the ring ahead of the canary's:
	 * the daemon is behind (its findings come late), not blind, and the canary cannot be
	 * judged until the ring is read up to it. A ring that overflows meanwhile is counted as
	 * losses by the kernel, and the findings it affects are degraded. */
	bool behind = d->record_budget == 0;

	if (detached)
		snprintf(reason, sizeof(reason), "%d BPF link(s) detached", detached);
	else if (!behind && d->canary_sent_ns && d->canary_seen_ns < d->canary_sent_ns)
		snprintf(reason, sizeof(reason),
			 "canary syscall not seen through the hooks and ring buffer for %.1fs",
			 (double)(now - d->canary_sent_ns) / 1e9);
	if (!reason[0] && d->blind_reason[0] && (now < d->blind_hold_until_ns || behind))
		snprintf(reason, sizeof(reason), "%s",
			 d->blind_reason); /* held, or not judged yet */
	if (reason[0] && !d->blind_reason[0]) {
		enter_blind(d, reason, now);
	} else if (!reason[0] && d->blind_reason[0]) {
		log_notice("Seeing again (was: %s)", d->blind_reason);
	}
	snprintf(d->blind_reason, sizeof(d->blind_reason), "%s", reason);
	/* Only a canary that got through is replaced; a lost one keeps counting its age. */
	if (!d->canary_sent_ns || d->canary_seen_ns >= d->canary_sent_ns) {
		d->canary_sent_ns = now;
		(void)ioh_loader_send_canary(d->loader);
	}
}

bool health_blind(struct daemon *d)
{
	return d->blind_reason[0] != '\0' || ioh_loop_monitor_stalled_ns(d->loop_monitor);
}
