/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capabilities after start. Once every hook is attached and every listener bound, the daemon
 * keeps only what it still uses while it serves (docs/service.md, "Privileges"):
 *
 *   CAP_BPF, CAP_PERFMON  every bpf(2) call (loss polls, map updates for reloads and watched
 *                         inodes, link checks) and the on-demand attach and detach of the
 *                         `cache_reads` hook (tp_btf/raw_tp links, perf_event_open for
 *                         tracepoints and kprobes)
 *   CAP_SYS_ADMIN         only on kernels without CAP_BPF (before 5.8), where bpf(2) and
 *                         perf_event_open(2) need it
 *   CAP_DAC_READ_SEARCH   open_by_handle_at(2) for cgroup ids -> units; stat of renamed names
 *   CAP_SYS_PTRACE        /proc/PID/root of other users' processes (the resolver)
 *
 * Everything else (CAP_SYS_RESOURCE, CAP_CHOWN, CAP_NET_BIND_SERVICE, CAP_SETUID, ...) is
 * dropped from the effective, permitted, inheritable, ambient and (when CAP_SETPCAP allows)
 * bounding sets. Capabilities are per thread: call this before creating threads, or have
 * each existing thread drop for itself.
 */
#ifndef IOH_PRIVILEGES_H
#define IOH_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Drops every capability but the ones above. `kept` receives the names of those still held,
 * comma-separated ("cap_bpf,cap_perfmon,..."), for status. 0 or a negative errno.
 */
int ioh_drop_capabilities(char *kept, size_t size, bool runtime_perf_events);

/*
 * Whether the effective set allows loading and attaching the BPF programs: CAP_BPF and
 * CAP_PERFMON, or CAP_SYS_ADMIN. 0 if so, -EPERM (after logging what is needed) if not.
 */
int ioh_check_bpf_capabilities(void);

/*
 * The mask of capabilities the daemon keeps on this kernel (bit N = capability N).
 * `runtime_perf_events`: hooks attached at run time go through perf_event_open (kprobes, the
 * syscalls' own tracepoints: the on-demand cache_reads hook on kernels without its filemap
 * tracepoints). Kernels with kernel.perf_event_paranoid above 2 (Debian's patch "allow further
 * restriction of perf_event_open") then demand CAP_SYS_ADMIN, which is kept.
 */
uint64_t ioh_capabilities_keep_mask(bool runtime_perf_events);

#endif
