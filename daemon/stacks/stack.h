/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User call chains of hazardous calls (issue 15): the snapshot taken at the call, and the
 * frames unwound from it.
 *
 * Data flow:
 *   BPF (bpf/stacks.bpf.h) copies, at a call that can start a hazard, the task's user registers
 *   and a bounded part of its user stack into an IOH_EV_STACK record, which precedes the
 *   hazard's own record and shares its `callsite` key (0 = no stack taken).
 *   -> daemon/ingest (decode + resolve): the decoded STACK event gets the task's executable
 *   mappings (ioh_stack_modules_read(), while the process may still be alive; kernel hints
 *   otherwise). What a snapshot needs is complete here: this form is what recordings carry,
 *   so replay unwinds the same bytes offline.
 *   -> daemon/stacks/unwind.c: snapshot -> frames with the modules' CFI (libdwfl), cached per
 *   build id; frames of one (pid, callsite) kept for findings whose record carried no stack.
 *
 * Only x86-64 for now: `regs` are in DWARF register order (libdwfl's initial-register frame).
 */
#ifndef IOHAZARD_STACKS_STACK_H
#define IOHAZARD_STACKS_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* x86-64 DWARF register numbers: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip. */
#define IOH_STACK_NREGS 17
#define IOH_STACK_REG_BP 6
#define IOH_STACK_REG_SP 7
#define IOH_STACK_REG_IP 16

#define IOH_STACK_FRAMES_MAX 64
#define IOH_STACK_BUILD_ID_MAX 20 /* GNU build ids are 20 bytes (sha1); longer ones are cut */

/* One file-backed executable mapping of the task, as /proc/PID/maps shows it. */
struct ioh_stack_module {
	uint64_t start, end; /* virtual address range [start, end) */
	uint64_t pgoff;	     /* file offset (bytes) mapped at `start` */
	uint64_t dev;	     /* st_dev as user space encodes it (makedev) */
	uint64_t ino;
	/* The path as the task names it (inside its own root; /proc/PID/maps form, without the
	 * " (deleted)" suffix). Open it through /proc/PID/root or map_files while the task lives;
	 * afterwards, only a file whose build id matches may stand in for it. */
	const char *path;
	uint8_t build_id[IOH_STACK_BUILD_ID_MAX];
	uint8_t build_id_len; /* 0: unknown (not read, or the file has none) */
	/* The ELF virtual address mapped at `start` (from the file's program headers, read with
	 * the build id), so that load bias = start - vaddr. It lets a frame carry its
	 * module-relative offset after the file is gone. Without it (vaddr_known false), the
	 * unwinder assumes vaddr == pgoff, which holds for the usual linker layouts. */
	uint64_t vaddr;
	bool vaddr_known;
};

/* What was captured at the call. Pointers are borrowed from the event that carries it. */
struct ioh_stack_snapshot {
	uint32_t pid, tid;
	uint64_t callsite;		/* the kernel's key for this call site in this process */
	uint64_t regs[IOH_STACK_NREGS]; /* DWARF order; see IOH_STACK_REG_* */
	uint32_t regs_mask;		/* bit n: regs[n] is valid */
	const uint8_t *stack;		/* user stack bytes from regs[SP] upwards */
	uint32_t stack_len;
	const struct ioh_stack_module *modules;
	uint32_t n_modules;
	bool process_gone; /* the mappings are the kernel's hints: the task had exited */
};

/* One frame of an unwound chain, innermost first. Strings are owned by the unwinder's
 * caches (interned) and live as long as the unwinder. */
struct ioh_stack_frame {
	uint64_t pc;	    /* address in the task */
	const char *module; /* module path as the task names it; NULL: no mapping */
	char build_id[2 * IOH_STACK_BUILD_ID_MAX + 1]; /* hex; "" when unknown */
	/* The module-relative address: pc minus the module's load bias, i.e. the ELF virtual
	 * address `addr2line -e <module>` and `objdump` take. */
	uint64_t offset;
	const char *function; /* NULL when the module has no symbol for it: never guessed */
	uint64_t function_offset;
	const char *file; /* source file from debug info, NULL without */
	uint32_t line;
	uint8_t how; /* enum ioh_stack_frame_how: how this frame's pc was found */
	/* An inlined call (from DWARF): same pc as the next frame, the function that was
	 * inlined into it, with the line inside this function; the next frame's line is
	 * the call site. function_offset 0. */
	bool inlined;
};

/* How a frame was found: the innermost from the captured registers; each caller by the
 * callee's CFI (.eh_frame/.debug_frame), or by libdwfl's x86-64 frame-pointer fallback when
 * the callee's module has no CFI for its pc. */
enum ioh_stack_frame_how {
	IOH_STACK_FRAME_REGS = 0,
	IOH_STACK_FRAME_CFI = 1,
	IOH_STACK_FRAME_FP = 2,
};

/* Why a chain is short, or absent (finding evidence: "stack_status"). */
enum ioh_stack_status {
	IOH_STACK_NONE = 0,	  /* the hazard has no user call (kernel writeback, ...) */
	IOH_STACK_OK = 1,	  /* unwound to the outermost frame the CFI describes */
	IOH_STACK_TRUNCATED = 2,  /* ran out of copied stack bytes or frames */
	IOH_STACK_OMITTED = 3,	  /* not captured: budget or dedupe miss; counted, never guessed */
	IOH_STACK_DISABLED = 4,	  /* --no-stacks or the rules' `stacks = no` */
	IOH_STACK_UNRESOLVED = 5, /* captured, but no module could be opened to unwind it */
};

struct ioh_unwinder;

/* Live side, at the STACK event: the task's executable file mappings (daemon/stacks/modules.c).
 * Returns the number of modules written (<= max; later mappings are dropped), or -errno
 * (ESRCH: the task is gone). All paths are allocated in one block returned in *strings
 * (caller frees it with free(); NULL when no module). Build ids and vaddr come from the
 * file, opened through /proc/PID/map_files (deleted files too) or /proc/PID/root/<path>,
 * cached per (dev, ino, size, mtime) of the file. Thread-safe. */
int ioh_stack_modules_read(pid_t pid, struct ioh_stack_module *out, size_t max, char **strings);

/* The build-id cache behind ioh_stack_modules_read() (process-wide, bounded). */
struct ioh_stack_modules_stats {
	uint64_t lookups, hits, evictions, unreadable; /* unreadable: file could not be opened */
};
void ioh_stack_modules_stats(struct ioh_stack_modules_stats *st);

/* Hex form of a build id into `out` (2 * IOH_STACK_BUILD_ID_MAX + 1 bytes). */
void ioh_stack_build_id_hex(const uint8_t *id, unsigned len, char *out);

/* An unwinder with its caches (daemon/stacks/unwind.c). Not thread-safe: one per thread. */
struct ioh_unwinder *ioh_unwinder_new(void);
void ioh_unwinder_free(struct ioh_unwinder *u);

/* Where separate debug info is looked up by build id: <dir>/.build-id/xx/yyyy.debug (what
 * Debian's -dbgsym packages install). Default "/usr/lib/debug"; tests point it elsewhere.
 * Never the network: debuginfod is not consulted, whatever the environment says. */
int ioh_unwinder_set_debug_dir(struct ioh_unwinder *u, const char *dir);

struct ioh_unwinder_stats {
	uint64_t unwinds;
	uint64_t layouts_built, layouts_reused, layouts_evicted; /* one Dwfl per module layout */
	uint64_t modules_opened, modules_unopened, modules_mismatched; /* build id differs */
	uint64_t sym_lookups, sym_hits, sym_evicted; /* (build id, offset) cache */
	uint64_t symfiles_opened, symfiles_evicted;  /* per build id: symbols + debug info */
	uint64_t frames_cfi, frames_fp;
};
void ioh_unwinder_stats(const struct ioh_unwinder *u, struct ioh_unwinder_stats *st);

/* Unwinds `snap` into at most `max` frames; returns the number written and sets *status
 * (OK, TRUNCATED or UNRESOLVED; UNRESOLVED with 0 frames when `regs_mask` lacks IP or SP).
 * A caller frame's `pc` is its return address; its function and file:line are those of the
 * call (pc - 1). With snap->process_gone, module files are looked up by host path only. */
int ioh_unwind(struct ioh_unwinder *u, const struct ioh_stack_snapshot *snap,
	       struct ioh_stack_frame *frames, int max, enum ioh_stack_status *status);

#endif
