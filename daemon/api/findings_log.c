// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/findings_log.h"
#include "daemon/rules/rules.h"

struct log_entry {
	int64_t realtime_ns;
	char rule[IOH_RULE_NAME_MAX];
	char *json; /* NULL: empty slot */
	size_t len;
};

struct ioh_findings_log {
	struct log_entry *entries;
	size_t capacity;
	size_t next; /* slot the next finding goes to */
	size_t count;
};

struct ioh_findings_log *ioh_findings_log_new(size_t capacity)
{
	struct ioh_findings_log *log = calloc(1, sizeof(*log));

	if (!log)
		return NULL;
	log->entries = calloc(capacity, sizeof(*log->entries));
	if (!log->entries) {
		free(log);
		return NULL;
	}
	log->capacity = capacity;
	return log;
}

void ioh_findings_log_free(struct ioh_findings_log *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->capacity; i++)
		free(log->entries[i].json);
	free(log->entries);
	free(log);
}

void ioh_findings_log_add(struct ioh_findings_log *log, const struct ioh_finding *f,
			  int64_t realtime_ns, const char *json, size_t len)
{
	struct log_entry *e = &log->entries[log->next];
	char *copy;

	if (len > IOH_FINDINGS_LOG_JSON_MAX)
		return; /* cannot happen with bounded paths; refuse rather than grow */
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, json, len);
	copy[len] = '\0';
	free(e->json);
	e->json = copy;
	e->len = len;
	e->realtime_ns = realtime_ns;
	snprintf(e->rule, sizeof(e->rule), "%s", f->rule);
	log->next = (log->next + 1) % log->capacity;
	if (log->count < log->capacity)
		log->count++;
}

void ioh_findings_log_query(const struct ioh_findings_log *log, const struct ioh_findings_query *q,
			    struct jsonw *w)
{
	size_t start = (log->next + log->capacity - log->count) % log->capacity;
	size_t matched = 0, skip = 0;

	/* With a limit, show the newest matches: count them first. */
	if (q->limit) {
		for (size_t i = 0; i < log->count; i++) {
			const struct log_entry *e = &log->entries[(start + i) % log->capacity];

			if ((!q->rule || strcmp(q->rule, e->rule) == 0) &&
			    e->realtime_ns >= q->since_realtime_ns)
				matched++;
		}
		skip = matched > q->limit ? matched - q->limit : 0;
	}
	jsonw_arr_begin(w);
	for (size_t i = 0; i < log->count; i++) {
		const struct log_entry *e = &log->entries[(start + i) % log->capacity];

		if ((q->rule && strcmp(q->rule, e->rule) != 0) ||
		    e->realtime_ns < q->since_realtime_ns)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		jsonw_raw(w, e->json, e->len); /* stored as formatted JSON */
	}
	jsonw_arr_end(w);
}
