/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * arm64: what the BPF side needs to know about the architecture. Selected by common.bpf.h
 * when the build defines __TARGET_ARCH_arm64, with bpf/vmlinux/arm64/vmlinux.h (not
 * committed yet: `make vmlinux` on an arm64 host makes it). Same names as
 * bpf/arch/x86.bpf.h. Untested: no arm64 kernel has run these programs yet.
 */
#ifndef IOH_ARCH_BPF_H
#define IOH_ARCH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* A syscall's own function (CONFIG_ARCH_HAS_SYSCALL_WRAPPER), as a SEC() target. */
#define SYSCALL_FN(name) "__arm64_sys_" #name

/*
 * The syscall numbers the hooks dispatch on: arm64 uses the generic table
 * (include/uapi/asm-generic/unistd.h, with __ARCH_WANT_RENAMEAT). It has no rename(2) (nor
 * open(2)): NR_NONE stands for it, a number no syscall record carries, so the dispatch
 * never takes that branch, and the per-syscall tracepoint sys_enter_rename does not exist
 * to be attached. renameat(2) and renameat2(2) remain.
 */
#define NR_NONE (-1)

#define NR_renameat 38
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_pread64 67
#define NR_pwrite64 68
#define NR_preadv 69
#define NR_pwritev 70
#define NR_sendfile 71
#define NR_vmsplice 75
#define NR_splice 76
#define NR_tee 77
#define NR_sync 81
#define NR_fsync 82
#define NR_fdatasync 83
#define NR_sync_file_range 84
#define NR_syncfs 267
#define NR_renameat2 276
#define NR_copy_file_range 285
#define NR_preadv2 286
#define NR_pwritev2 287
#define NR_rename NR_NONE

/*
 * Flag values that differ between architectures: arch/arm64/include/uapi/asm/fcntl.h swaps
 * two of asm-generic's: O_DIRECTORY is 040000 (x86's O_DIRECT) and O_DIRECT is 0200000.
 * O_DSYNC and MAP_ANONYMOUS are asm-generic's.
 */
#define O_DSYNC_FLAG 010000
#define O_DIRECT_FLAG 0200000
#define MAP_ANONYMOUS_FLAG 0x20

/*
 * The registers of syscall arguments 0-5 in a struct pt_regs (read with SC_REGS_ARG(),
 * common.bpf.h): the pt_regs a syscall's own function receives (fentry and kprobe on
 * SYSCALL_FN()) and the task's user-mode registers (bpf_task_pt_regs()) are one and
 * the same. arm64 passes them in x0-x5; x0 is also the return value, so the first argument
 * is read from orig_x0, the copy the entry code keeps (as libbpf's
 * PT_REGS_PARM1_CORE_SYSCALL does).
 */
#define SC_REG0 orig_x0
#define SC_REG1 regs[1]
#define SC_REG2 regs[2]
#define SC_REG3 regs[3]
#define SC_REG4 regs[4]
#define SC_REG5 regs[5]

/*
 * The syscall a task is inside, from its user-mode registers, or -1 when it entered the
 * kernel otherwise (a page fault: an mmap write): the entry code sets syscallno to
 * NO_SYSCALL (-1) on every entry from user space and to the number for a syscall.
 */
static __always_inline long regs_syscall_nr(struct pt_regs *regs)
{
	return (int)BPF_CORE_READ(regs, syscallno);
}

#endif
