/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Recorded event files (--record, --replay, `iohazard replay`): the decoded event stream,
 * gzip-compressed, starting with a versioned header. Decoded rather than raw kernel records
 * so a file stays readable across BPF ABI changes and carries what user space resolved at
 * event time (identities, cgroup paths). docs/record-format.md describes the bytes.
 *
 * Reading is defensive: every length is bounded and checked, a damaged or truncated file
 * yields the events before the damage and an error naming the record where it stopped.
 */
#ifndef IOH_EVENTLOG_H
#define IOH_EVENTLOG_H

#include <stdint.h>

#include "daemon/correlator/event.h"

#define IOH_EVENTLOG_MAGIC "IOHZEVT\n"
/*
 * 4: rename, access-mode, splice-stall and truncate events end with their call site key;
 *    STACK events (registers, stack bytes, modules) exist.
 * 3: a failed fsync's path.
 * 2: file ids carry i_generation, renames the source's birth time (src_btime_ns).
 * 1: without them; still read (generation and birth time 0: unknown).
 */
#define IOH_EVENTLOG_VERSION 4
#define IOH_EVENTLOG_VERSION_MIN 1
/* No record is larger: two paths, a cgroup path and fixed fields; a STACK event's stack
 * bytes (IOH_STACK_BYTES_MAX) and as many of its modules as fit. */
#define IOH_EVENTLOG_RECORD_MAX 65536

struct ioh_eventlog_writer;
struct ioh_eventlog_reader;

/* `realtime_offset_ns`: CLOCK_REALTIME - CLOCK_MONOTONIC when recording started, so replayed
 * findings carry the wall-clock times of the original run. */
/* Replace an existing regular file at the path (unlink, then create); without it an
 * existing name is refused with -EEXIST. */
#define IOH_EVENTLOG_REPLACE 1u
/* Creates `path` (O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600): a symlink or file already there
 * is never followed or truncated. */
int ioh_eventlog_create(const char *path, int64_t realtime_offset_ns, unsigned flags,
			struct ioh_eventlog_writer **out);
int ioh_eventlog_write(struct ioh_eventlog_writer *w, const struct ioh_event *ev);
/* Make everything written so far readable even if the process dies (sync flush). */
int ioh_eventlog_flush(struct ioh_eventlog_writer *w);
int ioh_eventlog_close(struct ioh_eventlog_writer *w);

int ioh_eventlog_open(const char *path, struct ioh_eventlog_reader **out, char *err, size_t errlen);
int64_t ioh_eventlog_realtime_offset(const struct ioh_eventlog_reader *r);
/* 1: an event (strings valid until the next call), 0: clean end, <0: error (see _error). */
int ioh_eventlog_read(struct ioh_eventlog_reader *r, struct ioh_event *ev);
const char *ioh_eventlog_error(const struct ioh_eventlog_reader *r);
void ioh_eventlog_close_reader(struct ioh_eventlog_reader *r);

/* Decode one record payload from memory (the file reader and the fuzzer share it). Strings
 * point into `payload`. Returns 0, -EBADMSG (malformed) or -ENOMSG (unknown type: skip). */
int ioh_eventlog_decode_payload(const uint8_t *payload, uint32_t len, struct ioh_event *ev);
/* The same for a payload written by format `version` (IOH_EVENTLOG_VERSION_MIN and up). */
int ioh_eventlog_decode_payload_version(const uint8_t *payload, uint32_t len, uint32_t version,
					struct ioh_event *ev);
/* Encode one event as a record payload into `buf` (IOH_EVENTLOG_RECORD_MAX bytes); returns
 * its length or -E2BIG. */
int ioh_eventlog_encode_payload(const struct ioh_event *ev, uint8_t *buf, uint32_t size);

#endif
