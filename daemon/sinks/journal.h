/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The journald sink: one structured journal entry per finding.
 *
 *   MESSAGE=            one printable line (rule, comm[pid], path, message), names escaped
 *   MESSAGE_ID=         fixed per rule (daemon/rules/registry.c); keys the catalog
 *                       packaging/iohazard.catalog that `journalctl -x` shows
 *   PRIORITY=           from severity: critical 2, warning 4, notice 5, info 6
 *   SYSLOG_IDENTIFIER=  iohazardd
 *   IOHAZARD_<KEY>=     every key of the JSON finding (design.md), raw bytes: a hostile file
 *                       name arrives exactly as the kernel saw it, newlines and all
 *   IOHAZARD_EVIDENCE=  the evidence object as JSON, as the JSON sink writes it
 *   OBJECT_PID=, OBJECT_SYSTEMD_UNIT=   journald's convention for "this entry is about that
 *                       process": `journalctl _SYSTEMD_UNIT=x + OBJECT_SYSTEMD_UNIT=x`
 *
 * Keys that are null in the JSON finding (unknown unit, cgroup, path, fstype) are left out.
 */
#ifndef IOH_JOURNAL_H
#define IOH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "daemon/correlator/finding.h"
#include "daemon/util/strbuf.h"

/* Upper bound of fields per entry (the fixed ones above; evidence is one field). */
#define IOH_JOURNAL_MAX_FIELDS 32

/* The MESSAGE_ID of `rule` (daemon/rules/registry.c), or NULL for a rule design.md does not
 * name. */
const char *ioh_journal_message_id(const char *rule);

/*
 * The entry of one finding, as sd_journal_sendv() takes it. Each iov is "NAME=value" with an
 * explicit length (no terminating NUL counted), pointing into `storage`.
 */
struct ioh_journal_fields {
	struct iovec iov[IOH_JOURNAL_MAX_FIELDS];
	size_t n;
	struct strbuf storage; /* all field bytes; iov_base points into it */
};

void ioh_journal_fields_init(struct ioh_journal_fields *jf);
void ioh_journal_fields_free(struct ioh_journal_fields *jf);

/*
 * Fill `jf` (reset first) with the fields of `f`. Pure: no I/O, no clock; `realtime_offset_ns`
 * turns the finding's CLOCK_MONOTONIC time into IOHAZARD_TIME. Returns 0 or -ENOMEM.
 */
int ioh_journal_build_fields(const struct ioh_finding *f, int64_t realtime_offset_ns,
			     struct ioh_journal_fields *jf);

/*
 * Send the finding to journald. Returns 0 or -errno. Without a journal (no
 * /run/systemd/journal/socket: containers, tests) it fails at once with -ENOENT instead of
 * the silent success libsystemd would return; failures are counted (ioh_journal_get_stats)
 * and logged once, and the finding still reaches the other sinks.
 * Caveat: libsystemd's socket is blocking, so a journald that stops reading long enough to
 * fill its queue (net.unix.max_dgram_qlen datagrams) would block this call; see
 * docs/service.md.
 */
int ioh_journal_send_finding(const struct ioh_finding *f, int64_t realtime_offset_ns);

struct ioh_journal_stats {
	uint64_t sent;	 /* entries journald accepted */
	uint64_t failed; /* entries lost: no journal, socket full, out of memory */
	int last_error;	 /* -errno of the last failure, 0 if none */
};

void ioh_journal_get_stats(struct ioh_journal_stats *out);

#endif
