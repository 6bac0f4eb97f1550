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
	uint64_t ts_ns;	  /* CLOCK_MONOTONIC of the verdict */
	const char *rule; /* the rule's name */
	enum ioh_severity severity;
	bool degraded; /* events were lost where they could have changed the verdict */
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	const char *cgroup;	 /* NULL if unknown */
	struct ioh_file_id file; /* dev/ino of the file the finding is about */
	const char *path;
	const char *fstype; /* NULL if unknown */
	char message[IOH_MESSAGE_MAX];
	const char *fix; /* static advice */
	unsigned n_evidence;
	struct ioh_evidence evidence[IOH_EVIDENCE_MAX];
	/* A hazard started by a user call (issue 15): the detector sets user_call and the
	 * event's callsite key; ioh_correlator_emit() attaches the chain kept for (pid, callsite)
	 * (evidence.stack, evidence.stack_status). Left zero otherwise: no stack evidence. */
	bool user_call;
	uint64_t callsite;
	struct ioh_stack_chain stack;
};

/*
 * Append one piece of evidence. Detectors add a fixed set; running out of the
 * IOH_EVIDENCE_MAX slots is a programming error the test suite would catch (every detector's
 * full set is covered), and the extra evidence is dropped.
 */
void ioh_finding_add(struct ioh_finding *f, struct ioh_evidence e);

/* ioh_finding_add_str(f, key, value) and friends: one per kind. */
#define IOH_EVIDENCE_SETTER(suffix, type, evk, member)                                             \
	static inline void ioh_finding_add_##suffix(struct ioh_finding *f, const char *key,        \
						    type value)                                    \
	{                                                                                          \
		ioh_finding_add(f,                                                                 \
				(struct ioh_evidence){.key = key, .kind = evk, .member = value});  \
	}
IOH_EVIDENCE_SETTER(str, const char *, IOH_EVK_STR, str)
IOH_EVIDENCE_SETTER(int, int64_t, IOH_EVK_INT, i)
IOH_EVIDENCE_SETTER(uint, uint64_t, IOH_EVK_UINT, u)
IOH_EVIDENCE_SETTER(bool, bool, IOH_EVK_BOOL, b)
IOH_EVIDENCE_SETTER(duration, uint64_t, IOH_EVK_DURATION, u) /* nanoseconds */
#undef IOH_EVIDENCE_SETTER

/*
 * The task a finding is about, kept by detectors that judge after the event is gone (a
 * window that closes later). ioh_finding_start() copies it into the finding's header; more of
 * the event (a call chain) is one more field here and one more line there.
 */
struct ioh_actor {
	uint32_t pid;
	char comm[IOH_COMM_LEN];
	char *cgroup;	   /* owned; NULL if unknown */
	bool user_call;	   /* the task's own call started the hazard: the finding has a chain */
	uint64_t callsite; /* that call's chain key (daemon/stacks/table.h); 0: none taken */
};

/* Replace `a` with a copy of (pid, comm, cgroup); comm and cgroup may be NULL. */
void ioh_actor_set(struct ioh_actor *a, uint32_t pid, const char *comm, const char *cgroup);
void ioh_actor_clear(struct ioh_actor *a);
/* The user call behind the actor's part (a call chain key; see struct ioh_finding). */
void ioh_actor_set_call(struct ioh_actor *a, bool user_call, uint64_t callsite);

/* Zero `f` and fill its header: time, rule, severity and (when `who` is not NULL) the task. */
void ioh_finding_start(struct ioh_finding *f, uint64_t ts_ns, const char *rule,
		       enum ioh_severity severity, const struct ioh_actor *who);

#endif
