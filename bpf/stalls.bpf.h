/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stalls (seed cases 4 and 5): dirty-throttle pauses and splice-family calls that block.
 *
 *  - writeback:balance_dirty_pages is read as the *classic* tracepoint record
 *    (trace_event_raw_balance_dirty_pages) through CO-RE: its tp_btf prototype changed in 6.x
 *    (a dirty_throttle_control instead of a dozen numbers), the record's fields only got
 *    renamed (bdi_* -> wb_*), which a CO-RE flavour in compat.bpf.h covers. Every pause
 *    goes into a log2 histogram per (bdi, cgroup); only pauses at or above the threshold
 *    become records.
 *  - splice, tee, vmsplice, sendfile and copy_file_range are timed per thread from entry to
 *    return of the syscall: its own tracepoints (tracepoint backend) or its own function
 *    (SYSCALL_FN(): __x64_sys_*; fentry/fexit, kprobe/kretprobe), never the raw
 *    sys_enter/sys_exit. Every call lands in one log2 histogram; only calls at or above the
 *    threshold become records, naming both ends and why they blocked where it is visible:
 *    a full pipe, a full socket send buffer, or folio_wait_writeback() during the call.
 */
#ifndef IOH_STALLS_BPF_H
#define IOH_STALLS_BPF_H

#include "common.bpf.h"
#include "compat.bpf.h"
#include "path.bpf.h"
#include "stacks.bpf.h"

#define S_IFIFO 0010000
#define S_IFSOCK 0140000
#define FMODE_WRITE_BIT 0x2
#define IOH_PAGE_SIZE 4096

/*
 * Thresholds: the smallest of the enabled rules (the daemon sets them after load and on
 * reload, so they live in .data rather than .rodata). User space applies each rule's own.
 */
volatile __u64 throttle_threshold_ns = 50ULL * 1000000ULL;
volatile __u64 splice_threshold_ns = 100ULL * 1000000ULL;

/* Splice-family calls in flight on the host: folio_wait_writeback() returns at once at 0. */
volatile __u32 splices_inflight;

/* ---- log2 histograms ----------------------------------------------------------------------- */

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xffff) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline void hist_add(struct ioh_hist *h, __u64 ns, __u64 now)
{
	/* 64-bit and clamped in the register that indexes: with a 32-bit slot clang bounds a
	 * copy and indexes with the zero-extended original, which 6.1's verifier rejects. */
	__u64 slot = log2_u64(ns);

	if (slot > IOH_HIST_SLOTS - 1)
		slot = IOH_HIST_SLOTS - 1;
	barrier_var(slot);
	if (slot > IOH_HIST_SLOTS - 1)
		return;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, ns);
	h->last_ns = now;
}

/* ---- dirty throttling ---------------------------------------------------------------------- */

/* Pause histograms per (bdi, cgroup owning the written-back pages). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct ioh_throttle_key);
	__type(value, struct ioh_hist);
} throttle_hist SEC(".maps");

/* When each bdi last throttled anyone (any pause length): "writeback was idle" evidence. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, char[IOH_BDI_NAME_LEN]);
	__type(value, __u64);
} throttle_bdi_last SEC(".maps");

static __always_inline int on_balance_dirty_pages(struct trace_event_raw_balance_dirty_pages *rec)
{
	struct ioh_throttle_key key = {};
	struct ioh_throttle_event *ev;
	struct ioh_hist *h, fresh = {};
	__u64 now, pause_ns, paused_ns, prev = 0, *last;
	long pause_ms;

	if (is_self())
		return 0;
	/* The tracepoint also fires when no sleep follows (pause <= 0): nothing to count. */
	pause_ms = BPF_CORE_READ(rec, pause);
	if (pause_ms <= 0)
		return 0;
	now = bpf_ktime_get_ns();
	pause_ns = (__u64)pause_ms * 1000000ULL;
	paused_ns = (__u64)BPF_CORE_READ(rec, paused) * 1000000ULL;
	bpf_core_read(&key.bdi, sizeof(key.bdi), &rec->bdi);
	key.cgroup_ino = BPF_CORE_READ(rec, cgroup_ino);

	h = bpf_map_lookup_elem(&throttle_hist, &key);
	if (!h) {
		if (bpf_map_update_elem(&throttle_hist, &key, &fresh, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&throttle_hist, &key))
			count_loss(IOH_LOSS_HIST_MAP_FULL);
		h = bpf_map_lookup_elem(&throttle_hist, &key);
	}
	if (h)
		hist_add(h, pause_ns, now);
	last = bpf_map_lookup_elem(&throttle_bdi_last, &key.bdi);
	if (last) {
		prev = *last;
		*last = now;
	} else {
		bpf_map_update_elem(&throttle_bdi_last, &key.bdi, &now, BPF_ANY);
	}

	if (pause_ns + paused_ns < throttle_threshold_ns)
		return 0;
	ev = reserve_record(sizeof(*ev), IOH_EV_DIRTY_THROTTLE, IOH_LOSS_RINGBUF_THROTTLE);
	if (!ev)
		return 0;
	__builtin_memcpy(ev->bdi, key.bdi, sizeof(ev->bdi));
	ev->pause_ns = pause_ns;
	ev->paused_ns = paused_ns;
	ev->period_ns = (__u64)BPF_CORE_READ(rec, period) * 1000000ULL;
	ev->think_ns = (__s64)BPF_CORE_READ(rec, think) * 1000000LL;
	ev->limit = BPF_CORE_READ(rec, limit);
	ev->setpoint = BPF_CORE_READ(rec, setpoint);
	ev->dirty = BPF_CORE_READ(rec, dirty);
	throttle_wb_figures(rec, &ev->wb_setpoint, &ev->wb_dirty);
	ev->dirty_ratelimit = BPF_CORE_READ(rec, dirty_ratelimit);
	ev->task_ratelimit = BPF_CORE_READ(rec, task_ratelimit);
	ev->dirtied = BPF_CORE_READ(rec, dirtied);
	ev->dirtied_pause = BPF_CORE_READ(rec, dirtied_pause);
	ev->cgroup_ino = key.cgroup_ino;
	ev->bdi_idle_ns = prev && now > prev ? now - prev : 0;
	bpf_ringbuf_submit(ev, ringbuf_flags());
	return 0;
}

/* ---- splice family --------------------------------------------------------------------------- */

struct splice_call {
	__u64 enter_ns;
	__u64 requested;
	__s32 fd_in;  /* -1: none */
	__s32 fd_out; /* -1: none */
	__u32 call;   /* enum ioh_splice_call */
	__u32 wb_waits;
	__u32 pipe_used_in, pipe_used_out;     /* occupancy seen at entry */
	__u32 sock_queued_in, sock_queued_out; /* idem */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct splice_call);
} splice_calls SEC(".maps");

/* Durations of every splice-family call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ioh_hist);
} splice_hist SEC(".maps");

/* Scratch for a splice record, worst-case sized; only sizeof(ev) + path_len is sent. */
struct splice_record {
	struct ioh_splice_event ev;
	char path[IOH_DIR_PATH_REGION];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct splice_record);
} splice_scratch SEC(".maps");

static __always_inline bool splice_syscall(long nr)
{
	switch (nr) {
	case NR_sendfile:
	case NR_splice:
	case NR_tee:
	case NR_vmsplice:
	case NR_copy_file_range:
		return true;
	}
	return false;
}

static __always_inline __u32 end_kind(struct file *file)
{
	__u32 mode;

	if (!file)
		return IOH_END_NONE;
	mode = BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT;
	if (mode == S_IFREG)
		return IOH_END_FILE;
	if (mode == S_IFIFO)
		return IOH_END_PIPE;
	if (mode == S_IFSOCK)
		return IOH_END_SOCKET;
	return IOH_END_OTHER;
}

/* Occupied slots of a pipe, and its size in bytes. */
static __always_inline __u32 pipe_used(struct file *file, __u32 *bytes, bool *full)
{
	struct pipe_inode_info *pipe = BPF_CORE_READ(file, private_data);
	__u32 head, tail, max_usage;

	if (!pipe)
		return 0;
	head = BPF_CORE_READ(pipe, head);
	tail = BPF_CORE_READ(pipe, tail);
	max_usage = BPF_CORE_READ(pipe, max_usage);
	if (bytes)
		*bytes = BPF_CORE_READ(pipe, ring_size) * IOH_PAGE_SIZE;
	if (full)
		*full = max_usage && head - tail >= max_usage;
	return head - tail;
}

static __always_inline __u32 sock_queued(struct file *file, __u32 *sndbuf)
{
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;

	if (!sk)
		return 0;
	if (sndbuf)
		*sndbuf = BPF_CORE_READ(sk, sk_sndbuf);
	return BPF_CORE_READ(sk, sk_wmem_queued);
}

/* State of one end at entry: occupancy to compare with the exit's. */
static __always_inline void sample_end(int fd, __u32 *pipe_slots, __u32 *queued)
{
	struct file *file;

	if (fd < 0)
		return;
	file = fd_to_file(fd);
	switch (end_kind(file)) {
	case IOH_END_PIPE:
		*pipe_slots = pipe_used(file, NULL, NULL);
		break;
	case IOH_END_SOCKET:
		*queued = sock_queued(file, NULL);
		break;
	}
}

static __always_inline int splice_on_enter(long nr, const struct sc_args *args)
{
	struct splice_call call = {.fd_in = -1, .fd_out = -1};
	__u32 tid;

	if (is_self())
		return 0;
	switch (nr) {
	case NR_splice: /* fd_in, off_in, fd_out, off_out, len, flags */
	case NR_copy_file_range:
		call.fd_in = args->a[0];
		call.fd_out = args->a[2];
		call.requested = args->a[4];
		call.call =
		    nr == NR_splice ? IOH_SPLICE_CALL_SPLICE : IOH_SPLICE_CALL_COPY_FILE_RANGE;
		break;
	case NR_tee: /* fd_in, fd_out, len, flags */
		call.fd_in = args->a[0];
		call.fd_out = args->a[1];
		call.requested = args->a[2];
		call.call = IOH_SPLICE_CALL_TEE;
		break;
	case NR_sendfile: /* out_fd, in_fd, offset, count */
		call.fd_out = args->a[0];
		call.fd_in = args->a[1];
		call.requested = args->a[3];
		call.call = IOH_SPLICE_CALL_SENDFILE;
		break;
	case NR_vmsplice: { /* fd, iov, nr_segs, flags: user memory to or from a pipe */
		int fd = args->a[0];
		struct file *file = fd_to_file(fd);

		if (file && (BPF_CORE_READ(file, f_mode) & FMODE_WRITE_BIT))
			call.fd_out = fd;
		else
			call.fd_in = fd;
		call.requested = args->a[2]; /* segments, not bytes */
		call.call = IOH_SPLICE_CALL_VMSPLICE;
		break;
	}
	default:
		return 0;
	}
	sample_end(call.fd_in, &call.pipe_used_in, &call.sock_queued_in);
	sample_end(call.fd_out, &call.pipe_used_out, &call.sock_queued_out);
	call.enter_ns = bpf_ktime_get_ns();
	tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&splice_calls, &tid, &call, BPF_ANY)) {
		count_loss(IOH_LOSS_SPLICE_INFLIGHT_FULL);
		return 0;
	}
	__sync_fetch_and_add(&splices_inflight, 1);
	return 0;
}

/* Describe one end at exit; returns its struct file. */
static __always_inline struct file *fill_end(struct ioh_splice_end *end, int fd,
					     __u32 used_at_entry, __u32 queued_at_entry,
					     bool writes_into, __u32 *blocked)
{
	struct file *file;
	bool full = false;

	__builtin_memset(end, 0, sizeof(*end));
	end->fd = fd;
	if (fd < 0)
		return NULL;
	file = fd_to_file(fd);
	if (!file)
		return NULL;
	end->kind = end_kind(file);
	file_id_from_inode(&end->file, file_inode_of(file));
	if (end->kind == IOH_END_PIPE) {
		__u32 used = pipe_used(file, &end->pipe_bytes, &full);

		end->pipe_used = used > used_at_entry ? used : used_at_entry;
		if (writes_into && (full || (end->pipe_bytes &&
					     end->pipe_used * IOH_PAGE_SIZE >= end->pipe_bytes)))
			*blocked |= IOH_SPLICE_PIPE_FULL;
		if (!writes_into && used_at_entry == 0)
			*blocked |= IOH_SPLICE_PIPE_EMPTY;
	} else if (end->kind == IOH_END_SOCKET) {
		__u32 q = sock_queued(file, &end->sock_sndbuf);

		end->sock_queued = q > queued_at_entry ? q : queued_at_entry;
		/* sk_stream_wait_memory() sleeps while wmem_queued >= sndbuf; a send buffer
		 * still at least half full at exit means the peer was not draining it. */
		if (writes_into && end->sock_sndbuf && end->sock_queued * 2 >= end->sock_sndbuf)
			*blocked |= IOH_SPLICE_SOCKET_FULL;
	}
	return file;
}

static __always_inline void emit_splice(struct splice_call *call, long ret, __u64 duration)
{
	__u32 zero = 0;
	struct splice_record *rec = bpf_map_lookup_elem(&splice_scratch, &zero);
	struct file *in_file, *out_file, *path_file = NULL;
	__u32 blocked = 0;
	__u64 callsite = stack_capture();

	if (!rec)
		return;
	fill_header(&rec->ev.hdr, IOH_EV_SPLICE_STALL, sizeof(rec->ev));
	rec->ev.callsite = callsite;
	rec->ev.call = call->call;
	rec->ev.ret = ret;
	rec->ev.duration_ns = duration;
	rec->ev.requested = call->requested;
	rec->ev.wb_waits = call->wb_waits;
	rec->ev.path_len = 0;
	rec->ev.path_components = 0;
	rec->ev.path_end = 0;
	rec->ev._pad = 0;
	in_file = fill_end(&rec->ev.in, call->fd_in, call->pipe_used_in, call->sock_queued_in,
			   false, &blocked);
	out_file = fill_end(&rec->ev.out, call->fd_out, call->pipe_used_out, call->sock_queued_out,
			    true, &blocked);
	if (call->wb_waits)
		blocked |= IOH_SPLICE_WRITEBACK_WAIT;
	rec->ev.blocked = blocked;
	if (in_file && rec->ev.in.kind == IOH_END_FILE) {
		path_file = in_file;
	} else if (out_file && rec->ev.out.kind == IOH_END_FILE) {
		path_file = out_file;
		rec->ev.path_end = 1;
	}
	if (path_file)
		record_file_path(path_file, rec->path, &rec->ev.hdr, &rec->ev.path_len,
				 &rec->ev.path_components);
	output_with_path(rec, sizeof(rec->ev), &rec->ev.hdr, rec->ev.path_len,
			 IOH_LOSS_RINGBUF_SPLICE, ringbuf_flags());
}

static __always_inline int splice_on_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	struct splice_call *call = bpf_map_lookup_elem(&splice_calls, &tid);
	struct ioh_hist *h;
	__u64 now, duration;

	if (!call)
		return 0;
	now = bpf_ktime_get_ns();
	duration = now - call->enter_ns;
	h = bpf_map_lookup_elem(&splice_hist, &zero);
	if (h)
		hist_add(h, duration, now);
	if (duration >= splice_threshold_ns)
		emit_splice(call, ret, duration);
	bpf_map_delete_elem(&splice_calls, &tid);
	__sync_fetch_and_add(&splices_inflight, -1);
	return 0;
}

/* folio_wait_writeback() (5.17+; wait_on_page_writeback before): count it for a thread in a
 * splice-family call. */
static __always_inline int splice_on_writeback_wait(void)
{
	__u32 tid;
	struct splice_call *call;

	if (!splices_inflight)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	call = bpf_map_lookup_elem(&splice_calls, &tid);
	if (call)
		__sync_fetch_and_add(&call->wb_waits, 1);
	return 0;
}

#endif
