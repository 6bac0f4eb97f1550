// SPDX-License-Identifier: GPL-2.0-only
/*
 * Empty programs on the hooks iohazard uses, for scale: what the kernel charges for merely
 * running a BPF program there (trampoline, bpf_stats accounting) with no work in it. bench/run.sh
 * compiles this (clang -target bpf) and bench/empty_loader attaches it next to the daemon, so
 * both are measured over the same invocations. Issue 3 adds its read/write hooks here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(empty_sys_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(empty_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
