/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Findings captured by value from the correlator's callback, for tests that assert exact
 * fields. A finding's strings are borrowed for the callback only, so they are copied here and
 * evidence is rendered as "key=value" strings. Include after check.h; define MAX_CAPTURED
 * first to change the capacity.
 */
#ifndef IOH_TEST_CAPTURE_H
#define IOH_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/correlator/finding.h"
#include "daemon/rules/rules.h"

#ifndef MAX_CAPTURED
#define MAX_CAPTURED 64
#endif

struct captured {
	uint64_t ts_ns;
	char rule[IOH_RULE_NAME_MAX];
	enum ioh_severity severity;
	bool degraded;
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	char cgroup[128];
	struct ioh_file_id file;
	char path[256];
	char fstype[32];
	char message[IOH_MESSAGE_MAX];
	char fix[256];
	unsigned n_evidence;
	char evidence[IOH_EVIDENCE_MAX][300];
};

static struct captured found[MAX_CAPTURED];
static unsigned n_found;

static void capture_finding(struct captured *c, const struct ioh_finding *f)
{
	memset(c, 0, sizeof(*c));
	c->ts_ns = f->ts_ns;
	snprintf(c->rule, sizeof(c->rule), "%s", f->rule);
	c->severity = f->severity;
	c->degraded = f->degraded;
	c->pid = f->pid;
	memcpy(c->comm, f->comm, sizeof(c->comm));
	snprintf(c->cgroup, sizeof(c->cgroup), "%s", f->cgroup ? f->cgroup : "(null)");
	c->file = f->file;
	snprintf(c->path, sizeof(c->path), "%s", f->path ? f->path : "(null)");
	snprintf(c->fstype, sizeof(c->fstype), "%s", f->fstype ? f->fstype : "(null)");
	snprintf(c->message, sizeof(c->message), "%s", f->message);
	snprintf(c->fix, sizeof(c->fix), "%s", f->fix ? f->fix : "(null)");
	c->n_evidence = f->n_evidence;
	for (unsigned i = 0; i < f->n_evidence && i < IOH_EVIDENCE_MAX; i++) {
		const struct ioh_evidence *e = &f->evidence[i];
		char *out = c->evidence[i];
		size_t sz = sizeof(c->evidence[i]);

		switch (e->kind) {
		case IOH_EVK_STR:
			snprintf(out, sz, "%s=%s", e->key, e->str ? e->str : "(null)");
			break;
		case IOH_EVK_INT:
			snprintf(out, sz, "%s=%lld", e->key, (long long)e->i);
			break;
		case IOH_EVK_UINT:
		case IOH_EVK_DURATION:
			snprintf(out, sz, "%s=%llu", e->key, (unsigned long long)e->u);
			break;
		case IOH_EVK_BOOL:
			snprintf(out, sz, "%s=%s", e->key, e->b ? "true" : "false");
			break;
		}
	}
}

/* The correlator callback: appends to found[] (a test that overflows it is broken). */
static void on_finding(const struct ioh_finding *f, void *ctx)
{
	(void)ctx;
	if (n_found >= MAX_CAPTURED)
		abort();
	capture_finding(&found[n_found++], f);
}

/* The value of evidence `key` as a string, or "(missing)". */
static const char *evidence(const struct captured *c, const char *key)
{
	size_t kl = strlen(key);

	for (unsigned i = 0; i < c->n_evidence; i++)
		if (strncmp(c->evidence[i], key, kl) == 0 && c->evidence[i][kl] == '=')
			return c->evidence[i] + kl + 1;
	return "(missing)";
}

#endif
