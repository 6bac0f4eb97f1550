/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * x86-64: what the BPF side needs to know about the architecture. Selected by common.bpf.h
 * when the build defines __TARGET_ARCH_x86 (Makefile: ARCH from uname -m), with
 * bpf/vmlinux/x86/vmlinux.h. bpf/arch/arm64.bpf.h has the same names.
 */
#ifndef IOH_ARCH_BPF_H
#define IOH_ARCH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* A syscall's own function (CONFIG_ARCH_HAS_SYSCALL_WRAPPER), as a SEC() target. */
#define SYSCALL_FN(name) "__x64_sys_" #name

/*
 * The syscall numbers the hooks dispatch on (arch/x86/entry/syscalls/syscall_64.tbl). The
 * 32-bit compat syscalls of ia32 programs have other numbers and are not decoded.
 */
#define NR_read 0
#define NR_write 1
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_fsync 74
#define NR_fdatasync 75
#define NR_rename 82
#define NR_sync 162
#define NR_renameat 264
#define NR_splice 275
#define NR_tee 276
#define NR_sync_file_range 277
#define NR_vmsplice 278
#define NR_preadv 295
#define NR_pwritev 296
#define NR_syncfs 306
#define NR_renameat2 316
#define NR_copy_file_range 326
#define NR_preadv2 327
#define NR_pwritev2 328

/* Flag values that differ between architectures. x86 takes open(2)'s from
 * include/uapi/asm-generic/fcntl.h and mmap(2)'s from asm-generic/mman-common.h. */
#define O_DSYNC_FLAG 010000
#define O_DIRECT_FLAG 040000
#define MAP_ANONYMOUS_FLAG 0x20

/*
 * The registers of syscall arguments 0-5 in a struct pt_regs (read with SC_REGS_ARG(),
 * common.bpf.h): the pt_regs a syscall's own function receives (fentry and kprobe on
 * SYSCALL_FN()) and the task's user-mode registers (bpf_task_pt_regs()) are one and
 * the same. x86-64 passes them in di, si, dx, r10, r8, r9.
 */
#define SC_REG0 di
#define SC_REG1 si
#define SC_REG2 dx
#define SC_REG3 r10
#define SC_REG4 r8
#define SC_REG5 r9

#define ENOSYS_ERR 38

/*
 * The syscall a task is inside, from its user-mode registers, or -1 when it entered the
 * kernel otherwise (a page fault: an mmap write). Inside a syscall x86-64 keeps -ENOSYS in
 * ax until the syscall returns, and the number in orig_ax.
 */
static __always_inline long regs_syscall_nr(struct pt_regs *regs)
{
	if (BPF_CORE_READ(regs, ax) != (unsigned long)-ENOSYS_ERR)
		return -1;
	return BPF_CORE_READ(regs, orig_ax);
}

#endif
