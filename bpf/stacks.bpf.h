/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User call chains (issue 15): at a call that can start a hazard (a rename, the O_DIRECT open
 * or direct I/O and the buffered access of a mixed pair, a splice-family stall, a truncate),
 * copy the task's user registers and a bounded part of its user stack into an IOH_EV_STACK
 * record, sent just before the hazard's own record. User space unwinds the copy with the
 * binaries' CFI (perf's DWARF mode; daemon/stacks). Nothing here runs on the hot path: only
 * where a record is about to be sent anyway.
 *
 * Cost bounds:
 *  - dedupe: one snapshot per (process, call site) per IOH_STACK_DEDUPE_NS; the hazard record
 *    still carries the key and the daemon reuses the chain it already has;
 *  - budget: a token bucket per process (IOH_STACK_BURST, refilled IOH_STACK_PER_SEC);
 *  - every skip is counted in `stack_counts` (not a loss: the event itself is sent).
 * The loader's `stacks_enabled` (.bss: reloads change it) turns all of it off.
 *
 * The call's user registers: bpf_task_pt_regs() (5.15+; tracing, kprobe, classic tracepoint
 * and raw_tp programs alike). They are the user's only if the task has an mm and the saved
 * code segment is the user one.
 */
#ifndef IOH_STACKS_BPF_H
#define IOH_STACKS_BPF_H

#include "common.bpf.h"
#include "path.bpf.h"

#define IOH_STACK_DEDUPE_NS (10ULL * 1000000000ULL)
#define IOH_STACK_BURST 16
#define IOH_STACK_PER_SEC 4
#define IOH_STACK_KEY_WORDS 32
#define USER_CS_X86_64 0x33

/* Set by the loader (--no-stacks, the rules' `stacks = no`); a reload may change it. */
volatile __u32 stacks_enabled = 1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOH_STACK__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stack_counts SEC(".maps");

/* Last snapshot sent per (address space, call site): the mm pointer rather than the tgid, so a
 * reused pid does not inherit a dead process's entries. */
struct stack_seen_key {
	__u64 mm;
	__u64 callsite;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct stack_seen_key);
	__type(value, __u64); /* when sent */
} stack_seen SEC(".maps");

struct stack_budget {
	__u64 last_ns;
	__u64 tokens;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid */
	__type(value, struct stack_budget);
} stack_budgets SEC(".maps");

/* Scratch for a STACK record: the stack bytes, then the two hint paths; the paths are walked
 * into `hint` first (fixed offsets: a walk into a variable offset is more than the 6.1
 * verifier can bound through bpf_loop's context) and copied behind the bytes. Only
 * sizeof(ev) + the used part of `data` is sent. */
#define IOH_STACK_STRINGS_MAX (IOH_STACK_BYTES_MAX + 2 * IOH_DIR_PATH_REGION)

struct ioh_stack_record {
	struct ioh_stack_event ev;
	char data[IOH_STACK_STRINGS_MAX];
	char hint[2][IOH_DIR_PATH_REGION];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ioh_stack_record);
} stack_scratch SEC(".maps");

static __always_inline void count_stack(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&stack_counts, &what);

	if (n)
		*n += 1;
}

static __always_inline __u64 mix64(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/* One token per snapshot; IOH_STACK_PER_SEC come back per second up to IOH_STACK_BURST.
 * Races between a process's threads only blur the count. */
static __always_inline bool stack_budget_take(__u32 tgid, __u64 now)
{
	struct stack_budget *b = bpf_map_lookup_elem(&stack_budgets, &tgid), fresh;
	__u64 refill;

	if (!b) {
		fresh.last_ns = now;
		fresh.tokens = IOH_STACK_BURST - 1;
		bpf_map_update_elem(&stack_budgets, &tgid, &fresh, BPF_ANY);
		return true;
	}
	refill = (now - b->last_ns) / (1000000000ULL / IOH_STACK_PER_SEC);
	if (refill) {
		b->tokens =
		    b->tokens + refill > IOH_STACK_BURST ? IOH_STACK_BURST : b->tokens + refill;
		b->last_ns = now;
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

struct vma_hint_ctx {
	__u64 start, end, pgoff;
	struct file *file;
};

static long vma_hint_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_hint_ctx *c = data;

	c->start = BPF_CORE_READ(vma, vm_start);
	c->end = BPF_CORE_READ(vma, vm_end);
	c->pgoff = BPF_CORE_READ(vma, vm_pgoff) << 12;
	c->file = BPF_CORE_READ(vma, vm_file);
	return 0;
}

/* The file mapping holding `addr`: range, file identity and path (into `buf`, a
 * IOH_DIR_PATH_REGION-sized part of the scratch). Anonymous memory (JIT code) stays empty. */
static __always_inline void stack_vma_hint(struct task_struct *task, __u64 addr,
					   struct ioh_stack_vma *h, char *buf)
{
	struct vma_hint_ctx c = {};
	struct path_walk walk = {};
	struct inode *inode;
	struct file *file;

	__builtin_memset(h, 0, sizeof(*h));
	if (!addr || bpf_find_vma(task, addr, vma_hint_cb, &c, 0) || !c.file)
		return;
	/* A copy: CO-RE must not relocate our own struct's field (path.bpf.h). */
	file = c.file;
	inode = BPF_CORE_READ(file, f_inode);
	h->start = c.start;
	h->end = c.end;
	h->pgoff = c.pgoff;
	h->dev = inode_dev(inode);
	h->ino = BPF_CORE_READ(inode, i_ino);
	walk_dir_path((struct path *)__builtin_preserve_access_index(&file->f_path), buf, &walk);
	h->path_len = walk.len;
	h->path_components = walk.components;
}

/*
 * Read `want` stack bytes at `sp`; on a fault (the copy ran past the stack's mapping) retry
 * with less: half, a quarter, then up to the end of sp's page. Returns the bytes read.
 */
static __always_inline __u32 stack_copy(char *dst, __u64 sp, __u32 want)
{
	__u64 n = want;
	int i;

	for (i = 0; i < 4; i++) {
		if (i == 3)
			n = 4096 - (sp & 4095);
		barrier_var(n);
		if (n > IOH_STACK_BYTES_MAX)
			n = IOH_STACK_BYTES_MAX;
		if (n == 0)
			return 0;
		if (!bpf_probe_read_user(dst, n, (const void *)sp))
			return n;
		n >>= 1;
	}
	return 0;
}

/*
 * Take a snapshot of the current task's user call, unless skipped. Returns the call site key
 * for the hazard record (0: no user call, or stacks are off).
 */
#if !defined(__TARGET_ARCH_x86)
/* The snapshot layout (registers in DWARF order) is x86-64's only: elsewhere no chains. */
static __always_inline __u64 stack_capture(void)
{
	return 0;
}
#else
/* The call site key: the user ip and the first return address into the executable's text
 * among the IOH_STACK_KEY_WORDS words at sp (else the word at sp). `words` is scratch. */
static __always_inline __u64 stack_callsite_key(__u64 *words, __u64 ip, __u64 sp, __u64 start_code,
						__u64 end_code)
{
	__u64 ret = 0;
	int i;

	if (!bpf_probe_read_user(words, IOH_STACK_KEY_WORDS * 8, (const void *)sp)) {
		ret = words[0];
		for (i = 0; i < IOH_STACK_KEY_WORDS; i++) {
			if (words[i] >= start_code && words[i] < end_code) {
				ret = words[i];
				break;
			}
		}
	}
	return mix64(ip * 31 + mix64(ret)) | 1;
}

/* The user registers in DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip. */
static __always_inline void stack_fill_regs(struct ioh_stack_event *ev, struct pt_regs *regs,
					    __u64 ip, __u64 sp)
{
	ev->regs[0] = BPF_CORE_READ(regs, ax);
	ev->regs[1] = BPF_CORE_READ(regs, dx);
	ev->regs[2] = BPF_CORE_READ(regs, cx);
	ev->regs[3] = BPF_CORE_READ(regs, bx);
	ev->regs[4] = BPF_CORE_READ(regs, si);
	ev->regs[5] = BPF_CORE_READ(regs, di);
	ev->regs[6] = BPF_CORE_READ(regs, bp);
	ev->regs[7] = sp;
	ev->regs[8] = BPF_CORE_READ(regs, r8);
	ev->regs[9] = BPF_CORE_READ(regs, r9);
	ev->regs[10] = BPF_CORE_READ(regs, r10);
	ev->regs[11] = BPF_CORE_READ(regs, r11);
	ev->regs[12] = BPF_CORE_READ(regs, r12);
	ev->regs[13] = BPF_CORE_READ(regs, r13);
	ev->regs[14] = BPF_CORE_READ(regs, r14);
	ev->regs[15] = BPF_CORE_READ(regs, r15);
	ev->regs[16] = ip;
	ev->regs_mask = (1u << IOH_STACK_REGS) - 1;
}

/*
 * Hints for a task gone before user space reads its maps (mv exits at once): the executable's
 * text and the ip's mapping, their paths packed behind the `used` stack bytes. Offsets and
 * lengths are clamped where the verifier sees it. Returns the bytes used in rec->data.
 */
static __always_inline __u64 stack_append_hints(struct ioh_stack_record *rec,
						struct task_struct *task, __u64 used, __u64 ip,
						__u64 start_code, __u64 end_code)
{
	__u64 n, off2;

	stack_vma_hint(task, start_code, &rec->ev.exe, rec->hint[0]);
	if (ip >= start_code && ip < end_code)
		__builtin_memset(&rec->ev.code, 0, sizeof(rec->ev.code)); /* the exe itself */
	else
		stack_vma_hint(task, ip, &rec->ev.code, rec->hint[1]);
	n = rec->ev.exe.path_len;
	barrier_var(n);
	if (n > IOH_DIR_PATH_REGION)
		n = IOH_DIR_PATH_REGION;
	bpf_probe_read_kernel(rec->data + used, n, rec->hint[0]);
	off2 = used + n;
	barrier_var(off2);
	if (off2 > IOH_STACK_BYTES_MAX + IOH_DIR_PATH_REGION)
		off2 = IOH_STACK_BYTES_MAX + IOH_DIR_PATH_REGION;
	n = rec->ev.code.path_len;
	barrier_var(n);
	if (n > IOH_DIR_PATH_REGION)
		n = IOH_DIR_PATH_REGION;
	bpf_probe_read_kernel(rec->data + off2, n, rec->hint[1]);
	return off2 + n;
}

static __always_inline __u64 stack_capture(void)
{
	struct task_struct *task;
	struct pt_regs *regs;
	struct mm_struct *mm;
	struct ioh_stack_record *rec;
	struct stack_seen_key seen = {};
	__u64 ip, sp, start_code, end_code, start_stack, now, used, off3, *last;
	__u32 zero = 0, want;

	if (!stacks_enabled)
		return 0;
	task = bpf_get_current_task_btf();
	mm = BPF_CORE_READ(task, mm);
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!mm || !regs || BPF_CORE_READ(regs, cs) != USER_CS_X86_64) {
		count_stack(IOH_STACK_NO_USER);
		return 0;
	}
	rec = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!rec)
		return 0;
	ip = BPF_CORE_READ(regs, ip);
	sp = BPF_CORE_READ(regs, sp);
	start_code = BPF_CORE_READ(mm, start_code);
	end_code = BPF_CORE_READ(mm, end_code);
	start_stack = BPF_CORE_READ(mm, start_stack);
	seen.mm = (__u64)mm;
	seen.callsite = stack_callsite_key((__u64 *)rec->data, ip, sp, start_code, end_code);

	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&stack_seen, &seen);
	if (last && now - *last < IOH_STACK_DEDUPE_NS) {
		count_stack(IOH_STACK_DEDUPED);
		return seen.callsite;
	}
	if (!stack_budget_take(current_tgid(), now)) {
		count_stack(IOH_STACK_BUDGET);
		return seen.callsite;
	}

	fill_header(&rec->ev.hdr, IOH_EV_STACK, sizeof(rec->ev));
	rec->ev.callsite = seen.callsite;
	stack_fill_regs(&rec->ev, regs, ip, sp);
	/* The main thread's frames end at start_stack (argc); other threads' stacks are
	 * mappings of their own, read up to IOH_STACK_BYTES_MAX with retries on a fault. */
	want = IOH_STACK_BYTES_MAX;
	if (sp < start_stack && start_stack - sp < IOH_STACK_BYTES_MAX)
		want = start_stack - sp;
	used = stack_copy(rec->data, sp, want);
	if (!used) {
		count_stack(IOH_STACK_FAULT);
		return 0;
	}
	if (used < want)
		rec->ev.hdr.flags |= IOH_EVF_STACK_SHORT;
	barrier_var(used);
	if (used > IOH_STACK_BYTES_MAX)
		used = IOH_STACK_BYTES_MAX;
	rec->ev.stack_len = used;
	off3 = stack_append_hints(rec, task, used, ip, start_code, end_code);
	barrier_var(off3);
	if (off3 > IOH_STACK_STRINGS_MAX)
		off3 = IOH_STACK_STRINGS_MAX;
	rec->ev.hdr.size = sizeof(rec->ev) + off3;
	if (bpf_ringbuf_output(&events, rec, sizeof(rec->ev) + off3, ringbuf_flags())) {
		count_stack(IOH_STACK_RINGBUF);
		return seen.callsite;
	}
	count_stack(IOH_STACK_CAPTURED);
	bpf_map_update_elem(&stack_seen, &seen, &now, BPF_ANY);
	return seen.callsite;
}
#endif /* __TARGET_ARCH_x86 */

#endif
