// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seed case 5: splice-stall. The kernel times splice, tee, vmsplice, sendfile and
 * copy_file_range and reports calls at or above the smallest enabled threshold
 * (bpf/stalls.bpf.h); each rule applies its own. The finding names the program, the file end
 * (its path), the other end (pipe and its size, socket, file), and why the call blocked as
 * far as the kernel showed it: a full pipe, a full socket send buffer, a page under writeback.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/correlator/correlator.h"
#include "daemon/detectors/detectors.h"
#include "daemon/util/duration.h"
#include "daemon/sinks/event_format.h"
#include "daemon/util/fsnames.h"

#define RULE_SPLICE "splice-stall"

struct splice_state {
	const struct ioh_rule **rules;
	size_t n_rules;
};

static void *ss_create(struct ioh_correlator *c, const struct ioh_correlator_config *cfg)
{
	return calloc(1, sizeof(struct splice_state));
}

static void ss_destroy(void *state)
{
	struct splice_state *s = state;

	free(s->rules);
	free(s);
}

static void ss_rules_changed(void *state, const struct ioh_ruleset *rules)
{
	struct splice_state *s = state;

	free(s->rules);
	s->rules = rules ? ioh_ruleset_for_detector(rules, RULE_SPLICE, &s->n_rules) : NULL;
	if (!s->rules)
		s->n_rules = 0;
}

/* "pipe (64 KiB, 16/16 slots used)", "socket", "file", "user memory". */
static void describe_end(const struct ioh_splice_end *e, char *out, size_t size)
{
	switch (e->kind) {
	case IOH_END_PIPE:
		snprintf(out, size, "pipe (%u KiB, %u slots used)", e->pipe_bytes / 1024,
			 e->pipe_used);
		break;
	case IOH_END_SOCKET:
		snprintf(out, size, "socket (%u of %u send-buffer bytes queued)", e->sock_queued,
			 e->sock_sndbuf);
		break;
	case IOH_END_FILE:
		snprintf(out, size, "file");
		break;
	case IOH_END_NONE:
		snprintf(out, size, e->fd < 0 ? "user memory" : "fd %d (closed)", e->fd);
		break;
	default:
		snprintf(out, size, "fd %d (not a file, pipe or socket)", e->fd);
		break;
	}
}

static void ss_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct splice_state *s = state;
	const struct ioh_splice_info *sp = &ev->splice;
	const struct ioh_splice_end *file_end, *other;
	const struct ioh_rule *rule = NULL;
	struct ioh_finding f = {0};
	char other_desc[96], why[160] = "";
	const char *fstype;

	if (ev->type != IOH_EV_SPLICE_STALL)
		return;
	file_end = sp->path_end ? &sp->out : &sp->in;
	other = sp->path_end ? &sp->in : &sp->out;
	fstype = file_end->kind == IOH_END_FILE ? ioh_fstype_from_magic(file_end->file.fs_magic)
						: NULL;
	for (size_t i = 0; i < s->n_rules; i++) {
		if (sp->duration_ns >= s->rules[i]->threshold_ns &&
		    ioh_correlator_rule_applies(s->rules[i], sp->path ? sp->path : "", fstype, ev)) {
			rule = s->rules[i];
			break;
		}
	}
	if (!rule)
		return;
	describe_end(other, other_desc, sizeof(other_desc));
	if (sp->blocked & IOH_SPLICE_PIPE_FULL)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%sthe pipe was full",
			 why[0] ? ", " : "");
	if (sp->blocked & IOH_SPLICE_SOCKET_FULL)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "%sthe socket did not drain", why[0] ? ", " : "");
	if (sp->blocked & IOH_SPLICE_WRITEBACK_WAIT)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "%sit waited %u times for pages under writeback", why[0] ? ", " : "",
			 sp->wb_waits);
	if (sp->blocked & IOH_SPLICE_PIPE_EMPTY)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "%sthe pipe it read from was empty", why[0] ? ", " : "");

	f.ts_ns = ev->ts_ns;
	f.rule = rule->name;
	f.severity = rule->severity;
	f.degraded = false; /* one record decides it */
	f.pid = ev->pid;
	f.user_call = true;
	f.callsite = ev->callsite;
	memcpy(f.comm, ev->comm, sizeof(f.comm));
	f.cgroup = ev->cgroup;
	if (file_end->kind == IOH_END_FILE) {
		f.file = file_end->file;
		f.fstype = fstype;
	}
	f.path = sp->path;
	{
		char in_desc[96], out_desc[96];
		const char *in_s = in_desc, *out_s = out_desc;

		describe_end(&sp->in, in_desc, sizeof(in_desc));
		describe_end(&sp->out, out_desc, sizeof(out_desc));
		if (sp->path && !sp->path_end)
			in_s = sp->path;
		else if (sp->path)
			out_s = sp->path;
		snprintf(f.message, sizeof(f.message), "%s (pid %u) blocked %s in %s() from %s to %s%s%s",
			 ev->comm, ev->pid, IOH_DURATION(sp->duration_ns),
			 ioh_splice_call_name(sp->call), in_s, out_s, why[0] ? ": " : "", why);
	}
	if (sp->blocked & IOH_SPLICE_PIPE_FULL)
		f.fix = "drain the pipe faster or enlarge it with fcntl(fd, F_SETPIPE_SZ, 1 MiB) "
			"(ceiling: fs.pipe-max-size); use SPLICE_F_NONBLOCK in event loops";
	else if (sp->blocked & IOH_SPLICE_SOCKET_FULL)
		f.fix = "the peer is slow: send in smaller chunks (nginx sendfile_max_chunk) from "
			"a non-blocking socket so the event loop regains control";
	else if (sp->blocked & IOH_SPLICE_WRITEBACK_WAIT)
		f.fix = "the file is being written back while spliced: serve it after writeback "
			"(fsync the writer first) or copy instead of splicing hot files";
	else
		f.fix = "bound each call (smaller len/count) and use non-blocking descriptors so "
			"one slow transfer cannot stall the caller";
	ioh_finding_add_str(&f, "call", ioh_splice_call_name(sp->call));
	ioh_finding_add_duration(&f, "duration", sp->duration_ns);
	ioh_finding_add_int(&f, "ret", sp->ret);
	ioh_finding_add_uint(&f, "requested", sp->requested);
	ioh_finding_add_str(&f, "file_end", sp->path_end ? "out" : "in");
	ioh_finding_add_str(&f, "other_end", ioh_end_kind_name(other->kind));
	if (other->kind == IOH_END_PIPE) {
		ioh_finding_add_uint(&f, "pipe_bytes", other->pipe_bytes);
		ioh_finding_add_uint(&f, "pipe_used_slots", other->pipe_used);
	} else if (other->kind == IOH_END_SOCKET) {
		ioh_finding_add_uint(&f, "socket_sndbuf", other->sock_sndbuf);
		ioh_finding_add_uint(&f, "socket_queued", other->sock_queued);
	}
	ioh_finding_add_bool(&f, "pipe_full", sp->blocked & IOH_SPLICE_PIPE_FULL);
	ioh_finding_add_bool(&f, "socket_full", sp->blocked & IOH_SPLICE_SOCKET_FULL);
	ioh_finding_add_uint(&f, "writeback_waits", sp->wb_waits);
	ioh_correlator_emit(c, &f);
}

const struct ioh_detector ioh_detector_splice_stall = {
	.name = RULE_SPLICE,
	.create = ss_create,
	.destroy = ss_destroy,
	.rules_changed = ss_rules_changed,
	.on_event = ss_on_event,
};
