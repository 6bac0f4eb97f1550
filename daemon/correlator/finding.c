// SPDX-License-Identifier: GPL-2.0-only
#include <stddef.h>

#include "daemon/correlator/finding.h"

static struct ioh_evidence *evidence_slot(struct ioh_finding *f, const char *key,
					  enum ioh_evidence_kind kind)
{
	struct ioh_evidence *e;

	/* Detectors add a fixed set; running out is a programming error, not a runtime one, and
	 * the test suite covers every detector's full set. */
	if (f->n_evidence >= IOH_EVIDENCE_MAX)
		return NULL;
	e = &f->evidence[f->n_evidence++];
	e->key = key;
	e->kind = kind;
	return e;
}

void ioh_finding_add_str(struct ioh_finding *f, const char *key, const char *value)
{
	struct ioh_evidence *e = evidence_slot(f, key, IOH_EVK_STR);

	if (e)
		e->str = value;
}

void ioh_finding_add_int(struct ioh_finding *f, const char *key, int64_t value)
{
	struct ioh_evidence *e = evidence_slot(f, key, IOH_EVK_INT);

	if (e)
		e->i = value;
}

void ioh_finding_add_uint(struct ioh_finding *f, const char *key, uint64_t value)
{
	struct ioh_evidence *e = evidence_slot(f, key, IOH_EVK_UINT);

	if (e)
		e->u = value;
}

void ioh_finding_add_bool(struct ioh_finding *f, const char *key, bool value)
{
	struct ioh_evidence *e = evidence_slot(f, key, IOH_EVK_BOOL);

	if (e)
		e->b = value;
}

void ioh_finding_add_duration(struct ioh_finding *f, const char *key, uint64_t ns)
{
	struct ioh_evidence *e = evidence_slot(f, key, IOH_EVK_DURATION);

	if (e)
		e->u = ns;
}
