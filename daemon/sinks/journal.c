// SPDX-License-Identifier: GPL-2.0-only
/* Location fields would name this file on every finding, which says nothing to an operator. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "daemon/sinks/finding_format.h"
#include "daemon/rules/registry.h"
#include "daemon/sinks/journal.h"
#include "daemon/util/fsnames.h"
#include "daemon/util/log.h"

/* Where sd_journal_sendv() sends; fixed in libsystemd. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* One sink per process, fed from the main loop only: plain statics are enough. */
static struct ioh_journal_stats journal_stats;

const char *ioh_journal_message_id(const char *rule)
{
	const struct ioh_rule_kind *k = ioh_rule_kind_find(rule);

	return k ? k->message_id : NULL;
}

/* syslog(3) levels: the journal filters and colours by them (`journalctl -p warning`). */
static int severity_priority(enum ioh_severity s)
{
	switch (s) {
	case IOH_SEV_CRITICAL:
		return 2; /* LOG_CRIT */
	case IOH_SEV_WARNING:
		return 4; /* LOG_WARNING */
	case IOH_SEV_NOTICE:
		return 5; /* LOG_NOTICE */
	case IOH_SEV_INFO:
	default:
		return 6; /* LOG_INFO */
	}
}

void ioh_journal_fields_init(struct ioh_journal_fields *jf)
{
	jf->n = 0;
	strbuf_init(&jf->storage);
}

void ioh_journal_fields_free(struct ioh_journal_fields *jf)
{
	strbuf_free(&jf->storage);
	jf->n = 0;
}

/*
 * Field building appends to `storage`, which may move when it grows, so each iov first holds
 * its offset (in iov_base) and fix_pointers() makes them pointers once everything is written.
 */
static void field_begin(struct ioh_journal_fields *jf, const char *name)
{
	if (jf->n >= IOH_JOURNAL_MAX_FIELDS) {
		jf->storage.oom = true; /* a programming error; reported as -ENOMEM */
		return;
	}
	jf->iov[jf->n].iov_base = (void *)(uintptr_t)jf->storage.len;
	strbuf_puts(&jf->storage, name);
	strbuf_putc(&jf->storage, '=');
}

static void field_end(struct ioh_journal_fields *jf)
{
	if (jf->n >= IOH_JOURNAL_MAX_FIELDS)
		return;
	jf->iov[jf->n].iov_len = jf->storage.len - (size_t)(uintptr_t)jf->iov[jf->n].iov_base;
	jf->n++;
}

/* Raw bytes with an explicit length: sd_journal_sendv() sends a value containing '\n' in
 * the binary (length-prefixed) form, so nothing is cut or split. */
static void field_bytes(struct ioh_journal_fields *jf, const char *name, const char *value,
			size_t len)
{
	field_begin(jf, name);
	strbuf_append(&jf->storage, value, len);
	field_end(jf);
}

static void field_str(struct ioh_journal_fields *jf, const char *name, const char *value)
{
	if (value)
		field_bytes(jf, name, value, strlen(value));
}

static void field_printf(struct ioh_journal_fields *jf, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void field_printf(struct ioh_journal_fields *jf, const char *name, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	field_str(jf, name, buf);
}

static void fix_pointers(struct ioh_journal_fields *jf)
{
	for (size_t i = 0; i < jf->n; i++)
		jf->iov[i].iov_base = jf->storage.buf + (uintptr_t)jf->iov[i].iov_base;
}

/* MESSAGE: what `journalctl` prints, so one line of printable text. Names are escaped here;
 * their raw bytes are in IOHAZARD_COMM / IOHAZARD_PATH. */
static void field_summary(struct ioh_journal_fields *jf, const struct ioh_finding *f,
			  size_t comm_len, size_t message_len, const char *unit)
{
	struct strbuf *sb = &jf->storage;

	field_begin(jf, "MESSAGE");
	strbuf_printf(sb, "%s: ", f->rule ? f->rule : "?");
	strbuf_put_escaped(sb, f->comm, comm_len);
	strbuf_printf(sb, "[%" PRIu32 "]", f->pid);
	if (unit[0]) {
		strbuf_puts(sb, " (");
		strbuf_put_escaped(sb, unit, strlen(unit));
		strbuf_putc(sb, ')');
	}
	strbuf_putc(sb, ' ');
	if (f->path)
		strbuf_put_escaped(sb, f->path, strlen(f->path));
	else
		strbuf_puts(sb, "?");
	strbuf_puts(sb, ": ");
	strbuf_put_escaped(sb, f->message, message_len);
	ioh_finding_stack_text(f, sb); /* the call site; the chain is in IOHAZARD_EVIDENCE */
	if (f->degraded)
		strbuf_puts(sb, " (degraded: events were lost)");
	field_end(jf);
}

/*
 * IOHAZARD_EVIDENCE: the "evidence" member of the JSON sink's object, cut out of it so both
 * always agree (durations in seconds, invalid UTF-8 as U+FFFD). It is the last member, and
 * the first `"evidence":{` is its key: inside an escaped JSON string every quote is preceded
 * by a backslash, so that text cannot occur in an earlier value.
 */
static void field_evidence(struct ioh_journal_fields *jf, const struct ioh_finding *f,
			   int64_t realtime_offset_ns)
{
	static const char key[] = "\"evidence\":{";
	_cleanup_strbuf_ struct strbuf json;
	const char *start;

	strbuf_init(&json);
	ioh_finding_json(f, realtime_offset_ns, &json);
	if (json.oom) {
		jf->storage.oom = true;
		return;
	}
	start = strstr(json.buf, key);
	if (!start || json.len < 2 || json.buf[json.len - 1] != '}')
		return;
	start += sizeof(key) - 2; /* at the '{' */
	/* Up to and without the closing brace of the whole finding. */
	field_bytes(jf, "IOHAZARD_EVIDENCE", start, (size_t)(json.buf + json.len - 1 - start));
}

int ioh_journal_build_fields(const struct ioh_finding *f, int64_t realtime_offset_ns,
			     struct ioh_journal_fields *jf)
{
	size_t comm_len = strnlen(f->comm, sizeof(f->comm));
	size_t message_len = strnlen(f->message, sizeof(f->message));
	const char *message_id = ioh_journal_message_id(f->rule);
	char time[64], unit[256];

	jf->n = 0;
	strbuf_reset(&jf->storage);
	jf->storage.oom = false;
	ioh_format_time(f->ts_ns, realtime_offset_ns, time, sizeof(time));
	ioh_unit_from_cgroup(f->cgroup, unit, sizeof(unit));

	field_summary(jf, f, comm_len, message_len, unit);
	/* A rule design.md does not name has no catalog entry; it is still logged. */
	field_str(jf, "MESSAGE_ID", message_id);
	field_printf(jf, "PRIORITY", "%d", severity_priority(f->severity));
	field_str(jf, "SYSLOG_IDENTIFIER", "iohazardd");

	/* The JSON finding's keys, in its order. */
	field_str(jf, "IOHAZARD_TIME", time);
	field_str(jf, "IOHAZARD_RULE", f->rule);
	field_str(jf, "IOHAZARD_SEVERITY", ioh_severity_to_string(f->severity));
	field_str(jf, "IOHAZARD_CONFIDENCE", f->degraded ? "degraded" : "high");
	field_printf(jf, "IOHAZARD_PID", "%" PRIu32, f->pid);
	field_bytes(jf, "IOHAZARD_COMM", f->comm, comm_len);
	if (unit[0])
		field_str(jf, "IOHAZARD_UNIT", unit);
	field_str(jf, "IOHAZARD_CGROUP", f->cgroup);
	field_printf(jf, "IOHAZARD_DEV", "%u:%u", ioh_kdev_major(f->file.dev),
		     ioh_kdev_minor(f->file.dev));
	field_printf(jf, "IOHAZARD_INO", "%" PRIu64, (uint64_t)f->file.ino);
	field_str(jf, "IOHAZARD_PATH", f->path);
	field_str(jf, "IOHAZARD_FSTYPE", f->fstype);
	field_bytes(jf, "IOHAZARD_MESSAGE", f->message, message_len);
	field_str(jf, "IOHAZARD_FIX", f->fix);
	field_evidence(jf, f, realtime_offset_ns);

	/*
	 * The entry is about that process, not about iohazardd: journald (receiving from root)
	 * adds OBJECT_COMM, OBJECT_EXE, ... while the pid lives; OBJECT_SYSTEMD_UNIT is ours
	 * because short-lived offenders (sed -i) are gone before journald looks.
	 */
	if (f->pid)
		field_printf(jf, "OBJECT_PID", "%" PRIu32, f->pid);
	if (unit[0])
		field_str(jf, "OBJECT_SYSTEMD_UNIT", unit);

	if (jf->storage.oom) {
		jf->n = 0;
		return -ENOMEM;
	}
	fix_pointers(jf);
	return 0;
}

static void count_failure(int r)
{
	journal_stats.failed++;
	journal_stats.last_error = r;
	/* Once: without journald (containers, tests) every finding would fail the same way. */
	if (journal_stats.failed == 1)
		log_warning_errno(r, "Failed to send a finding to the journal (%m); counting "
				     "further failures silently");
}

int ioh_journal_send_finding(const struct ioh_finding *f, int64_t realtime_offset_ns)
{
	struct ioh_journal_fields jf;
	int r;

	/*
	 * sd_journal_sendv() returns success when the socket does not exist ("fail silently if
	 * the journal is not available"), which would hide that findings go nowhere. One
	 * access(2) per finding is cheap next to the send.
	 */
	if (access(JOURNAL_SOCKET, F_OK) < 0) {
		r = -errno;
		count_failure(r);
		return r;
	}
	ioh_journal_fields_init(&jf);
	r = ioh_journal_build_fields(f, realtime_offset_ns, &jf);
	if (r == 0)
		r = sd_journal_sendv(jf.iov, (int)jf.n);
	ioh_journal_fields_free(&jf);
	if (r < 0) {
		count_failure(r);
		return r;
	}
	journal_stats.sent++;
	return 0;
}

void ioh_journal_get_stats(struct ioh_journal_stats *out)
{
	*out = journal_stats;
}
