/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hook table: every place iohazard attaches, with its candidate programs in order of
 * preference. The loader (bpf_loader.c) probes each candidate, keeps the first that loads and
 * attaches, and tells `iohazard status` why the others were refused. Adding a way to attach a
 * hook is a row here and a program in bpf/iohazard.bpf.c; nothing else.
 */
#ifndef IOH_LOADER_HOOKS_H
#define IOH_LOADER_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

/* What a candidate attaches to; decides which --backend may use it. */
enum ioh_attach_class {
	IOH_CLASS_FENTRY,     /* kernel functions through BPF trampolines (fentry/fexit) */
	IOH_CLASS_KPROBE,     /* the same kernel functions through kprobes/kretprobes */
	IOH_CLASS_SUBSYS_TP,  /* subsystem tracepoints (writeback, iomap, filemap): every backend */
	IOH_CLASS_SYSCALL_TP, /* a syscall's own tracepoints: the tracepoint backend only */
};

enum ioh_attach_type {
	IOH_AT_FENTRY,	   /* fentry/fexit: target is the kernel function */
	IOH_AT_KPROBE,	   /* kprobe/kretprobe: idem */
	IOH_AT_TP_BTF,	   /* target is the tracepoint name */
	IOH_AT_RAW_TP,	   /* idem, without BTF */
	IOH_AT_TRACEPOINT, /* classic tracepoint: target is "subsystem/event" */
	IOH_AT_SYSCALL_TP, /* syscalls:sys_enter_X or sys_exit_X for each X in `syscalls` */
};

#define IOH_CAND_PROGS_MAX 10
#define IOH_HOOK_CANDS_MAX 6

struct ioh_prog_ref {
	/* offsetof(struct iohazard_bpf, progs.<name>): a typed reference to the skeleton's
	 * program, so a misspelt program is a build error, not a failed lookup at start. */
	size_t skel_off;
	const char *target;	     /* see enum ioh_attach_type; NULL for IOH_AT_SYSCALL_TP */
	const char *const *syscalls; /* IOH_AT_SYSCALL_TP: NULL-terminated syscall names */
	bool exit;		     /* IOH_AT_SYSCALL_TP: sys_exit_X rather than sys_enter_X */
	/* The candidate works without this program: a function or syscall only some kernels
	 * have, whose work others already do there (filemap_splice_read before 6.5 is
	 * generic_file_splice_read -> filemap_read; openat2 before 5.6). */
	bool optional;
	/* The program attaches its own way (`type`), not the candidate's: io_uring submissions
	 * (a tp_btf) beside the read/write syscalls' tracepoints. */
	bool own_type;
	enum ioh_attach_type type;
};

struct ioh_candidate {
	const char *backend; /* as status shows it: fentry, kprobe, tp_btf, raw_tp, tracepoint */
	enum ioh_attach_class cls;
	enum ioh_attach_type type;
	struct ioh_prog_ref progs[IOH_CAND_PROGS_MAX]; /* ends at the first skel_off == 0 */
	const char *limits;			       /* what this candidate cannot see, or NULL */
};

struct ioh_hook_def {
	const char *name;
	bool required;	   /* no candidate attached: the daemon does not start */
	bool on_demand;	   /* attached only while an inode is watched (mixed O_DIRECT/page cache) */
	const char *blind; /* what is lost when no candidate attaches */
	struct ioh_candidate cands[IOH_HOOK_CANDS_MAX]; /* ends at the first backend == NULL */
};

extern const struct ioh_hook_def ioh_hook_table[];
extern const size_t ioh_hook_count;

#endif
