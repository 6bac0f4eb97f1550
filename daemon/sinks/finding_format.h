/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Findings as text: the JSON object design.md fixes (one per line) and a one-line human
 * form. Shared by stdout output, the API, `iohazard replay` and the journal sink, so every
 * consumer sees the same fields.
 */
#ifndef IOH_FINDING_FORMAT_H
#define IOH_FINDING_FORMAT_H

#include <stdint.h>

#include "daemon/correlator/finding.h"
#include "daemon/util/jsonw.h"
#include "daemon/util/strbuf.h"

/* "2026-11-21T19:40:01.123456789Z" for a CLOCK_MONOTONIC time plus the realtime offset. */
void ioh_format_time(uint64_t mono_ns, int64_t realtime_offset_ns, char *buf, size_t size);

/* Appends the JSON object (no newline). */
void ioh_finding_json(const struct ioh_finding *f, int64_t realtime_offset_ns, struct strbuf *out);
/* Writes the object through an existing writer (inside an array or a reply). */
void ioh_finding_jsonw(const struct ioh_finding *f, int64_t realtime_offset_ns, struct jsonw *w);
/* " at save_config (config.c:118) in /usr/bin/app": the first call chain frame outside libc,
 * or " (stack omitted)"; nothing for a finding without a user call. */
void ioh_finding_stack_text(const struct ioh_finding *f, struct strbuf *out);
/* Appends one readable line (no newline); names are escaped for a terminal. */
void ioh_finding_text(const struct ioh_finding *f, int64_t realtime_offset_ns, struct strbuf *out);

#endif
