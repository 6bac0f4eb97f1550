/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loads the one BPF object and attaches, for each hook of the hook table (hooks.c), the first
 * candidate that this kernel allows (design.md "Kernels"). A program runs only where a hazard
 * can start: kernel functions on the fentry/kprobe backends, the few syscalls' own tracepoints
 * on the tracepoint backend, subsystem tracepoints on every backend; never the raw
 * sys_enter/sys_exit. Hooks marked on demand (the page-cache read side of mixed I/O) are
 * attached only while an inode is watched.
 *
 * Steps, libbpf-bootstrap style: probe -> open -> set rodata knobs, map sizes, autoload ->
 * load -> attach, falling back to the next candidate when an attach fails. The choice per
 * hook and why the others were refused are reported by `iohazard status` and
 * iohazard_probe_attached{probe,backend}.
 */
#ifndef IOH_BPF_LOADER_H
#define IOH_BPF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "iohazard.h"

enum ioh_backend {
	IOH_BACKEND_AUTO,
	IOH_BACKEND_FENTRY,
	IOH_BACKEND_KPROBE,
	IOH_BACKEND_TRACEPOINT,
};

/* The --backend words: "auto", "fentry", "kprobe", "tracepoint" ("?" for another value);
 * from_string gives -EINVAL for an unknown word. */
const char *ioh_backend_to_string(enum ioh_backend backend);
int ioh_backend_from_string(const char *s);

struct ioh_hook_status {
	const char *hook;    /* the hook table's name: "rename", "fsync", "cache_reads", ... */
	const char *backend; /* candidate in use: fentry, kprobe, tp_btf, raw_tp, tracepoint;
			      * "none" when every candidate was refused */
	bool attached;	     /* working as intended (an idle on-demand hook counts); false: blind */
	bool on_demand;	     /* attached only while an inode is watched */
	bool active;	     /* its programs are attached right now */
	char error[160];     /* why it is blind, or what the candidate in use cannot see */
	char refused[480];   /* "backend: reason; ..." for each earlier candidate */
};

#define IOH_HOOKS_MAX 16

struct ioh_loader_opts {
	enum ioh_backend backend;
	uint32_t ringbuf_bytes; /* power of two, >= page size; 0: 8 MiB */
	pid_t self_pid;
	uint64_t mixed_window_ns; /* two opens count as "at once" within this; 0: 10 min */
	/* Smallest threshold of the enabled dirty-throttle-stall / splice-stall rules: shorter
	 * pauses and calls only reach the kernel histograms. 0: the BPF defaults (50/100 ms). */
	uint64_t throttle_threshold_ns;
	uint64_t splice_threshold_ns;
	bool no_stacks; /* no call chains: the kernel takes no stack snapshots */
	/* Called for every ring buffer record. */
	int (*on_record)(void *ctx, void *data, size_t len);
	void *ctx;
};

/* Per-program in-kernel cost (needs kernel.bpf_stats_enabled=1 to count). */
struct ioh_prog_stats {
	const char *name;
	uint64_t run_time_ns;
	uint64_t run_cnt;
};

struct ioh_loader;

int ioh_loader_start(const struct ioh_loader_opts *opts, struct ioh_loader **out);
void ioh_loader_stop(struct ioh_loader *l);

/* The ring buffer's epoll fd (for the event loop) and a non-blocking drain. */
int ioh_loader_ringbuf_fd(const struct ioh_loader *l);
int ioh_loader_consume(struct ioh_loader *l);

/* Totals since load, summed over CPUs. */
int ioh_loader_read_losses(const struct ioh_loader *l, uint64_t totals[IOH_LOSS__MAX]);
/* Stack snapshots by outcome (enum ioh_stack_count), totals since load. Skipped snapshots are
 * not lost events: their findings say "stack omitted". */
int ioh_loader_read_stack_counts(const struct ioh_loader *l, uint64_t totals[IOH_STACK__MAX]);
/* Turns stack snapshots on or off in the kernel (--no-stacks, the rules' `stacks = no`;
 * reload). */
void ioh_loader_set_stacks(struct ioh_loader *l, bool on);
/*
 * Stops watching inodes whose mixed episode ended (one side idle for the mixed window), so
 * the read/write hot path returns at its first check again. Returns how many expired.
 */
int ioh_loader_expire_watched(struct ioh_loader *l, uint64_t now_ns);
/*
 * Attaches the on-demand hooks while an inode is watched and detaches them once none is
 * (ioh_loader_consume and ioh_loader_expire_watched call it). Returns 1 if something changed.
 */
int ioh_loader_update_on_demand(struct ioh_loader *l);
/* Whether an on-demand hook attaches through perf_event_open (kprobes, syscall tracepoints):
 * the capabilities kept after start depend on it (daemon/service/privileges.c). */
bool ioh_loader_on_demand_uses_perf(const struct ioh_loader *l);
/* The daemon's canary: an fsync of its own memfd, which every fsync hook answers with a
 * heartbeat record. */
int ioh_loader_send_canary(struct ioh_loader *l);
/* Marks hooks whose links no longer point at a program; returns how many links are gone. */
int ioh_loader_check_links(struct ioh_loader *l);
const struct ioh_hook_status *ioh_loader_hooks(const struct ioh_loader *l, size_t *count);

/* Change the in-kernel thresholds (rules reload). 0 leaves one unchanged. */
void ioh_loader_set_thresholds(struct ioh_loader *l, uint64_t throttle_ns, uint64_t splice_ns);
/* Watch (or stop watching) truncations on a device (kernel s_dev): data=writeback mounts. */
int ioh_loader_watch_writeback_dev(struct ioh_loader *l, uint32_t kdev, bool on);

/* A kernel log2 histogram: buckets[i] counts values in [2^i, 2^(i+1)) ns. */
struct ioh_hist_snapshot {
	char bdi[IOH_BDI_NAME_LEN]; /* dirty throttling: the device ("8:0", "btrfs-1"); "" else */
	uint64_t cgroup_ino;	    /* per-cgroup reads only: the cgroup owning the pages */
	uint64_t buckets[IOH_HIST_SLOTS];
	uint64_t count;
	uint64_t sum_ns;
};

/*
 * Dirty-throttle pause histograms (iohazard_dirty_throttle_pause_seconds{bdi}): one entry per
 * bdi summed over cgroups, or one per (bdi, cgroup) when `per_cgroup`. Fills up to `max`,
 * returns how many (or -errno).
 */
int ioh_loader_read_dirty_histograms(const struct ioh_loader *l, struct ioh_hist_snapshot *out,
				     size_t max, bool per_cgroup);
/* Durations of every splice-family call (iohazard_splice_duration_seconds). */
int ioh_loader_read_splice_histogram(const struct ioh_loader *l, struct ioh_hist_snapshot *out);
/* Fills up to `max` attached programs; returns how many. */
size_t ioh_loader_prog_stats(const struct ioh_loader *l, struct ioh_prog_stats *out, size_t max);

#endif
