/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A finding as detectors produce it. The sinks (daemon/sinks) turn it into the JSON object
 * design.md fixes, a text line, a journal entry. `evidence` holds detector-specific facts.
 */
#ifndef IOH_FINDING_H
#define IOH_FINDING_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "iohazard.h"
#include "daemon/correlator/severity.h"
#include "daemon/stacks/table.h"

#define IOH_EVIDENCE_MAX 16
#define IOH_MESSAGE_MAX 512

enum ioh_evidence_kind {
	IOH_EVK_STR,
	IOH_EVK_INT,
	IOH_EVK_UINT,
	IOH_EVK_BOOL,
	IOH_EVK_DURATION, /* nanoseconds; printed as seconds */
};

struct ioh_evidence {
	const char *key; /* static string */
	enum ioh_evidence_kind kind;
	union {
		const char *str; /* borrowed for the duration of the callback */
		int64_t i;
		uint64_t u;
		bool b;
	};
};

struct ioh_finding {
	uint64_t ts_ns;		/* CLOCK_MONOTONIC of the verdict */
	const char *rule;	/* the rule's name */
	enum ioh_severity severity;
	bool degraded;		/* events were lost where they could have changed the verdict */
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	const char *cgroup;	/* NULL if unknown */
	struct ioh_file_id file; /* dev/ino of the file the finding is about */
	const char *path;
	const char *fstype;	/* NULL if unknown */
	char message[IOH_MESSAGE_MAX];
	const char *fix;	/* static advice */
	unsigned n_evidence;
	struct ioh_evidence evidence[IOH_EVIDENCE_MAX];
	/* A hazard started by a user call (issue 15): the detector sets user_call and the
	 * event's callsite key; ioh_correlator_emit() attaches the chain kept for (pid, callsite)
	 * (evidence.stack, evidence.stack_status). Left zero otherwise: no stack evidence. */
	bool user_call;
	uint64_t callsite;
	struct ioh_stack_chain stack;
};

void ioh_finding_add_str(struct ioh_finding *f, const char *key, const char *value);
void ioh_finding_add_int(struct ioh_finding *f, const char *key, int64_t value);
void ioh_finding_add_uint(struct ioh_finding *f, const char *key, uint64_t value);
void ioh_finding_add_bool(struct ioh_finding *f, const char *key, bool value);
void ioh_finding_add_duration(struct ioh_finding *f, const char *key, uint64_t ns);

#endif
