// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/correlator/finding.h"

void ioh_finding_add(struct ioh_finding *f, struct ioh_evidence e)
{
	if (f->n_evidence < IOH_EVIDENCE_MAX)
		f->evidence[f->n_evidence++] = e;
}

void ioh_actor_set(struct ioh_actor *a, uint32_t pid, const char *comm, const char *cgroup)
{
	free(a->cgroup);
	a->pid = pid;
	snprintf(a->comm, sizeof(a->comm), "%s", comm ? comm : "");
	a->cgroup = cgroup ? strdup(cgroup) : NULL;
}

void ioh_actor_set_call(struct ioh_actor *a, bool user_call, uint64_t callsite)
{
	a->user_call = user_call;
	a->callsite = callsite;
}

void ioh_actor_clear(struct ioh_actor *a)
{
	free(a->cgroup);
	memset(a, 0, sizeof(*a));
}

void ioh_finding_start(struct ioh_finding *f, uint64_t ts_ns, const char *rule,
		       enum ioh_severity severity, const struct ioh_actor *who)
{
	memset(f, 0, sizeof(*f));
	f->ts_ns = ts_ns;
	f->rule = rule;
	f->severity = severity;
	if (who) {
		f->pid = who->pid;
		memcpy(f->comm, who->comm, sizeof(f->comm));
		f->cgroup = who->cgroup;
		f->user_call = who->user_call;
		f->callsite = who->callsite;
	}
}
