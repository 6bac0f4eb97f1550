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

/* Why the call blocked, as far as the kernel showed it: "the pipe was full, ...". */
static void blocked_why(const struct ioh_splice_info *sp, char *why, size_t size)
{
	why[0] = '\0';
	if (sp->blocked & IOH_SPLICE_PIPE_FULL)
		snprintf(why + strlen(why), size - strlen(why), "%sthe pipe was full",
			 why[0] ? ", " : "");
	if (sp->blocked & IOH_SPLICE_SOCKET_FULL)
		snprintf(why + strlen(why), size - strlen(why), "%sthe socket did not drain",
			 why[0] ? ", " : "");
	if (sp->blocked & IOH_SPLICE_WRITEBACK_WAIT)
		snprintf(why + strlen(why), size - strlen(why),
			 "%sit waited %u times for pages under writeback", why[0] ? ", " : "",
			 sp->wb_waits);
	if (sp->blocked & IOH_SPLICE_PIPE_EMPTY)
		snprintf(why + strlen(why), size - strlen(why), "%sthe pipe it read from was empty",
			 why[0] ? ", " : "");
}

/* "nginx (pid 42) blocked 1.2 s in sendfile() from /srv/x to socket (...): why". */
static void describe_call(struct ioh_finding *f, const struct ioh_event *ev)
{
	const struct ioh_splice_info *sp = &ev->splice;
	char in_desc[96], out_desc[96], why[160];
	const char *in_s = in_desc, *out_s = out_desc;

	blocked_why(sp, why, sizeof(why));
	describe_end(&sp->in, in_desc, sizeof(in_desc));
	describe_end(&sp->out, out_desc, sizeof(out_desc));
	if (sp->path && !sp->path_end)
		in_s = sp->path;
	else if (sp->path)
		out_s = sp->path;
	snprintf(f->message, sizeof(f->message), "%s (pid %u) blocked %s in %s() from %s to %s%s%s",
		 ev->comm, ev->pid, IOH_DURATION(sp->duration_ns),
		 ioh_splice_call_to_string(sp->call), in_s, out_s, why[0] ? ": " : "", why);
}

static const char *splice_fix(uint32_t blocked)
{
	if (blocked & IOH_SPLICE_PIPE_FULL)
		return "drain the pipe faster or enlarge it with fcntl(fd, F_SETPIPE_SZ, 1 MiB) "
		       "(ceiling: fs.pipe-max-size); use SPLICE_F_NONBLOCK in event loops";
	if (blocked & IOH_SPLICE_SOCKET_FULL)
		return "the peer is slow: send in smaller chunks (nginx sendfile_max_chunk) from a "
		       "non-blocking socket so the event loop regains control";
	if (blocked & IOH_SPLICE_WRITEBACK_WAIT)
		return "the file is being written back while spliced: serve it after writeback "
		       "(fsync the writer first) or copy instead of splicing hot files";
	return "bound each call (smaller len/count) and use non-blocking descriptors so one slow "
	       "transfer cannot stall the caller";
}

static void ss_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	const struct ioh_splice_info *sp = &ev->splice;
	const struct ioh_splice_end *file_end, *other;
	const struct ioh_rule *rule;
	struct ioh_finding f;
	const char *fstype;

	if (ev->type != IOH_EV_SPLICE_STALL)
		return;
	file_end = sp->path_end ? &sp->out : &sp->in;
	other = sp->path_end ? &sp->in : &sp->out;
	fstype =
	    file_end->kind == IOH_END_FILE ? ioh_fstype_from_magic(file_end->file.fs_magic) : NULL;
	rule = ioh_correlator_match_stall(c, IOH_RULE_SPLICE_STALL, sp->duration_ns, sp->path,
					  fstype, ev);
	if (!rule)
		return;
	ioh_finding_from_event(&f, rule, ev); /* never degraded: one record decides it */
	if (file_end->kind == IOH_END_FILE) {
		f.file = file_end->file;
		f.fstype = fstype;
	}
	f.path = sp->path;
	describe_call(&f, ev);
	f.fix = splice_fix(sp->blocked);
	ioh_finding_add_str(&f, "call", ioh_splice_call_to_string(sp->call));
	ioh_finding_add_duration(&f, "duration", sp->duration_ns);
	ioh_finding_add_int(&f, "ret", sp->ret);
	ioh_finding_add_uint(&f, "requested", sp->requested);
	ioh_finding_add_str(&f, "file_end", sp->path_end ? "out" : "in");
	ioh_finding_add_str(&f, "other_end", ioh_end_kind_to_string(other->kind));
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
    .name = "splice-stall",
    .on_event = ss_on_event,
};
