// SPDX-License-Identifier: GPL-2.0-only
/*
 * The program whose call chain the unwinder tests recover (built -O2 -g with and without
 * frame pointers, and stripped; see the Makefile). main() calls save_config(), which calls
 * write_config() (always inlined), which calls take_snapshot() where a hazardous call would be: it
 * captures what the BPF side captures at a syscall (the user registers the unwinder needs and up to
 * 8 KiB of stack from rsp) and this task's modules, and writes them to argv[1]
 * (tests/unit/stack_snapshot_file.h).
 *
 * Usage: stack_target OUT [wait]   With "wait", stays alive until stdin closes, after printing
 * "ready" on stdout, so that a test can unwind while the task lives.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/stack_snapshot_file.h"

#define STACK_COPY 8192

static uint8_t stack_copy[STACK_COPY];
static struct ioh_stack_module modules[256];
volatile int sink;

/* The end of the [stack] mapping: the copy must not run past it (BPF's bounded
 * bpf_probe_read_user likewise copies only what is mapped). */
static uint64_t stack_end(uint64_t sp)
{
	char line[512];
	uint64_t lo, hi, end = sp;
	FILE *f = fopen("/proc/self/maps", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp >= lo && sp < hi)
			end = hi;
	if (f)
		fclose(f);
	return end;
}

static __attribute__((noipa)) int take_snapshot(const char *out, uint32_t line_inline,
						uint32_t line_save, uint32_t line_main)
{
	struct ioh_stack_snapshot s = {0};
	uint64_t r[IOH_STACK_NREGS] = {0};
	char *strings = NULL;

	/* rip, rsp and the callee-saved registers (DWARF numbering), at one instruction: the
	 * CFI row of that rip describes this very rsp. */
	__asm__ volatile("lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, 128(%[r])\n\t"
			 "mov %%rsp, 56(%[r])\n\t"
			 "mov %%rbp, 48(%[r])\n\t"
			 "mov %%rbx, 24(%[r])\n\t"
			 "mov %%r12, 96(%[r])\n\t"
			 "mov %%r13, 104(%[r])\n\t"
			 "mov %%r14, 112(%[r])\n\t"
			 "mov %%r15, 120(%[r])\n\t"
			 :
			 : [r] "r"(r)
			 : "rax", "memory");
	memcpy(s.regs, r, sizeof(r));
	s.regs_mask =
	    1u << 16 | 1u << 7 | 1u << 6 | 1u << 3 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15;
	uint64_t sp = r[IOH_STACK_REG_SP], end = stack_end(sp);
	s.stack_len = end - sp < STACK_COPY ? (uint32_t)(end - sp) : STACK_COPY;
	memcpy(stack_copy, (const void *)(uintptr_t)sp, s.stack_len);
	s.stack = stack_copy;
	s.pid = s.tid = (uint32_t)getpid();
	int n = ioh_stack_modules_read(getpid(), modules, 256, &strings);
	if (n < 0)
		return 1;
	s.modules = modules;
	s.n_modules = (uint32_t)n;
	int rc = snapfile_write(out, &s, line_inline, line_save, line_main);
	free(strings);
	return rc;
}

/* Inlined: the chain must still show it, between take_snapshot and save_config (DWARF). */
static inline __attribute__((always_inline)) int write_config(const char *out, uint32_t line_save,
							      uint32_t line_main)
{
	return take_snapshot(out, __LINE__, line_save, line_main) + sink; /* the hazardous call */
}

static __attribute__((noipa)) int save_config(const char *out, uint32_t line_main)
{
	char tmp[512];
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	rc = write_config(out, __LINE__, line_main);
	sink = rc; /* no tail call: save_config keeps its frame */
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OUT [wait]\n", argv[0]);
		return 2;
	}
	int rc = save_config(argv[1], __LINE__);
	sink = rc;
	if (rc != 0)
		return 1;
	if (argc > 2 && strcmp(argv[2], "wait") == 0) {
		char c;
		printf("ready\n");
		fflush(stdout);
		while (read(0, &c, 1) > 0)
			;
	}
	return 0;
}
