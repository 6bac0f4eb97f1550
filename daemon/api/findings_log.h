/* SPDX-License-Identifier: GPL-2.0-only */
/* The most recent reported findings, for `iohazard findings` over the API. A fixed ring:
 * the oldest is overwritten, memory is bounded by count * IOH_FINDINGS_LOG_JSON_MAX. */
#ifndef IOH_FINDINGS_LOG_H
#define IOH_FINDINGS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/correlator/finding.h"
#include "daemon/util/jsonw.h"

#define IOH_FINDINGS_LOG_JSON_MAX 16384

struct ioh_findings_log;

struct ioh_findings_query {
	const char *rule;	   /* NULL: any */
	int64_t since_realtime_ns; /* 0: any */
	size_t limit;		   /* 0: all kept */
};

struct ioh_findings_log *ioh_findings_log_new(size_t capacity);
void ioh_findings_log_free(struct ioh_findings_log *log);
/* Stores the finding's JSON (already formatted by the caller). */
void ioh_findings_log_add(struct ioh_findings_log *log, const struct ioh_finding *f,
			  int64_t realtime_ns, const char *json, size_t len);
/* Writes a JSON array of the matching findings, oldest first. */
void ioh_findings_log_query(const struct ioh_findings_log *log, const struct ioh_findings_query *q,
			    struct jsonw *w);

#endif
