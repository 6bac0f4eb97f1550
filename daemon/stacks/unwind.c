// SPDX-License-Identifier: GPL-2.0-only
/*
 * Snapshot -> call chain, as perf's DWARF mode does: the registers and the copied stack bytes
 * are handed to libdwfl as a one-thread "process" (Dwfl_Thread_Callbacks), which unwinds with
 * each module's CFI (.eh_frame, else .debug_frame) and, on x86-64, falls back to the frame
 * pointer chain for a frame whose module has no CFI for its pc. Every pc is then symbolized
 * from the module's symbol table and, when debug info exists (the binary's own, or a separate
 * file under <debug dir>/.build-id), its file:line.
 *
 * Costs and caches (docs/performance.md has the numbers):
 *   - A Dwfl holds modules at fixed addresses, so it is built per module layout (the set of
 *     (range, file offset, inode, build id)) and kept in a small LRU: every snapshot of one
 *     process (and of its forks) reuses the opened ELF files and their parsed CFI.
 *   - Symbolization (symbol table search, DWARF line tables) is cached per (build id, offset)
 *     across processes, in a bounded set-associative table.
 *   - Strings (module paths, function and file names) are interned for the unwinder's life:
 *     bounded by what the host's binaries name, not by the number of events.
 *
 * Opening a module's file: while the task lives, /proc/PID/map_files/<range> (the mapped inode)
 * or /proc/PID/root/<path> (its own mount namespace); else the host path. A file is used only if
 * its build id equals the recorded one (or, with none recorded, its inode does): a pid reused by
 * another process, or a binary upgraded since, must not lend its names to the chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>

#include "daemon/stacks/stack.h"

#define LAYOUTS_MAX 16 /* Dwfl per module layout, LRU */
#define SYM_SETS 1024  /* symbol cache: SYM_SETS x SYM_WAYS (build id, offset) entries */
#define SYM_WAYS 4
#define MODULES_MAX 512 /* modules per snapshot used (more are ignored) */
#define SYMFILES_MAX                                                                               \
	8 /* one-module Dwfl per build id, for symbols and lines, LRU: a big                       \
	   * dbgsym file holds ~16 MiB decompressed (libc), see docs/performance.md */

struct layout_module {
	struct ioh_stack_module m; /* path interned */
	uint64_t bias;		   /* start - vaddr */
	Dwfl_Module *mod;	   /* NULL: no usable file (or not tried yet) */
	bool tried;		   /* reported lazily: only the modules a chain passes through */
	char build_id_hex[2 * IOH_STACK_BUILD_ID_MAX + 1];
};

struct layout {
	uint64_t hash;
	uint64_t used; /* LRU clock; 0 = empty */
	Dwfl *dwfl;
	bool attached;
	unsigned n;
	struct layout_module *mods;
};

/* A module's file opened alone at bias 0, by build id: its symbol table and debug info
 * (decompressed, parsed: the expensive part) serve every process that maps it. */
struct symfile {
	uint8_t build_id[IOH_STACK_BUILD_ID_MAX];
	uint8_t build_id_len;
	uint64_t used; /* LRU clock; 0 = empty */
	Dwfl *dwfl;
	Dwfl_Module *mod;
};

#define INLINE_MAX 4 /* inlined calls kept per pc (deeper ones are folded into the outer) */

struct sym_entry {
	uint8_t build_id[IOH_STACK_BUILD_ID_MAX];
	uint8_t build_id_len; /* 0: empty slot */
	uint64_t offset;      /* module-relative address looked up (a return address - 1) */
	uint64_t used;
	/* the function the pc is in (symbol table) and the line in it (of its call to the
	 * outermost inlined function, if any) */
	const char *function, *file;
	uint64_t sym_offset; /* offset - symbol start */
	uint32_t line;
	/* inlined calls at the pc, innermost first (DWARF inlined_subroutine scopes) */
	uint8_t n_inl;
	struct {
		const char *function, *file;
		uint32_t line;
	} inl[INLINE_MAX];
};

struct intern {
	char **slots;
	size_t cap, n;
};

struct ioh_unwinder {
	Dwfl_Callbacks callbacks;
	char *debug_dir;
	struct layout layouts[LAYOUTS_MAX];
	struct sym_entry syms[SYM_SETS][SYM_WAYS];
	struct symfile symfiles[SYMFILES_MAX];
	uint64_t clock;
	struct intern strings;
	struct ioh_unwinder_stats st;
	/* the unwind in progress, for the libdwfl callbacks */
	const struct ioh_stack_snapshot *snap;
	struct layout *cur;
	bool read_failed; /* a word libdwfl asked for was not in the copy nor a module */
};

/* ---- interned strings ----------------------------------------------------------------- */

static uint64_t hash_bytes(const void *p, size_t len, uint64_t h)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

static const char *intern(struct intern *t, const char *s)
{
	if (!s)
		return NULL;
	if (t->n * 2 >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char **slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slots[i])
				continue;
			size_t j =
			    hash_bytes(t->slots[i], strlen(t->slots[i]), 0xcbf29ce484222325ull) &
			    (cap - 1);
			while (slots[j])
				j = (j + 1) & (cap - 1);
			slots[j] = t->slots[i];
		}
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	size_t j = hash_bytes(s, strlen(s), 0xcbf29ce484222325ull) & (t->cap - 1);
	while (t->slots[j]) {
		if (strcmp(t->slots[j], s) == 0)
			return t->slots[j];
		j = (j + 1) & (t->cap - 1);
	}
	t->slots[j] = strdup(s);
	if (!t->slots[j])
		return NULL;
	t->n++;
	return t->slots[j];
}

static void intern_free(struct intern *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
}

/* ---- libdwfl callbacks ---------------------------------------------------------------- */

/* Separate debug info by build id only, from the unwinder's debug dir: never debuginfod (a
 * daemon must not reach the network per binary it sees). The module's userdata is the
 * unwinder. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const struct ioh_unwinder *u = *userdata;
	const unsigned char *bits;
	GElf_Addr vaddr;
	char hex[2 * IOH_STACK_BUILD_ID_MAX + 1], path[4096];
	int len = dwfl_module_build_id(mod, &bits, &vaddr);

	if (!u || len <= 1 || len > IOH_STACK_BUILD_ID_MAX)
		return -1;
	ioh_stack_build_id_hex(bits, (unsigned)len, hex);
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", u->debug_dir, hex, hex + 2);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		*debuginfo_file_name = strdup(path);
	return fd;
}

static pid_t next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	struct ioh_unwinder *u = dwfl_arg;

	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return (pid_t)u->snap->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg, void **thread_argp)
{
	struct ioh_unwinder *u = dwfl_arg;

	*thread_argp = u;
	return tid == (pid_t)u->snap->tid;
}

static struct layout_module *layout_find(const struct layout *l, uint64_t addr)
{
	unsigned lo = 0, hi = l->n;

	while (lo < hi) { /* modules sorted by start */
		unsigned mid = (lo + hi) / 2;

		if (addr < l->mods[mid].m.start)
			hi = mid;
		else if (addr >= l->mods[mid].m.end)
			lo = mid + 1;
		else
			return &l->mods[mid];
	}
	return NULL;
}

static Dwfl_Module *module_report(struct ioh_unwinder *u, struct layout *l,
				  struct layout_module *lm);

/* A word of the task's memory: from the copied stack, else from a module's file (its text is
 * what the task had mapped, as the build id check guarantees). */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *dwfl_arg)
{
	struct ioh_unwinder *u = dwfl_arg;
	const struct ioh_stack_snapshot *s = u->snap;
	uint64_t sp = s->regs[IOH_STACK_REG_SP];

	if (addr >= sp && addr - sp <= (uint64_t)s->stack_len &&
	    s->stack_len - (addr - sp) >= sizeof(*result)) {
		memcpy(result, s->stack + (addr - sp), sizeof(*result));
		return true;
	}
	struct layout_module *lm = layout_find(u->cur, addr);
	if (lm && module_report(u, u->cur, lm)) {
		Dwarf_Addr bias;
		Elf *elf = dwfl_module_getelf(lm->mod, &bias);
		size_t size = 0;
		const char *raw = elf ? elf_rawfile(elf, &size) : NULL;
		uint64_t off = addr - lm->m.start + lm->m.pgoff;

		if (raw && off < size && size - off >= sizeof(*result)) {
			memcpy(result, raw + off, sizeof(*result));
			return true;
		}
	}
	/* Mostly: above the copy (the stack bytes ran out). libdwfl then ends the chain as if
	 * the return address were undefined, i.e. as if it were complete: remember it. */
	u->read_failed = true;
	return false;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct ioh_unwinder *u = thread_arg;
	const struct ioh_stack_snapshot *s = u->snap;

	for (unsigned r = 0; r < IOH_STACK_NREGS; r++) {
		if (!(s->regs_mask & (1u << r)))
			continue;
		Dwarf_Word v = s->regs[r];
		if (!dwfl_thread_state_registers(thread, (int)r, 1, &v))
			return false;
	}
	dwfl_thread_state_register_pc(thread, s->regs[IOH_STACK_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

/* ---- module layouts ------------------------------------------------------------------- */

static uint64_t module_hash(const struct ioh_stack_module *m, uint64_t h)
{
	uint64_t k[4] = {m->start, m->end, m->pgoff, m->ino};

	h = hash_bytes(k, sizeof(k), h);
	return hash_bytes(m->build_id, m->build_id_len, h);
}

static bool module_same(const struct ioh_stack_module *a, const struct ioh_stack_module *b)
{
	return a->start == b->start && a->end == b->end && a->pgoff == b->pgoff &&
	       a->ino == b->ino && a->build_id_len == b->build_id_len &&
	       memcmp(a->build_id, b->build_id, a->build_id_len) == 0;
}

static void layout_clear(struct layout *l)
{
	if (l->dwfl)
		dwfl_end(l->dwfl);
	free(l->mods);
	memset(l, 0, sizeof(*l));
}

/*
 * Opens the file that may stand for module `m` of task `pid`: the first candidate whose build
 * id equals the recorded one (with none recorded: whose inode equals it and which has none).
 * Returns the fd and the ELF's load bias for `m`, or -1.
 */
static int module_open(struct ioh_unwinder *u, const struct ioh_stack_snapshot *s,
		       const struct ioh_stack_module *m, uint64_t *bias, char *used,
		       size_t used_len)
{
	char cand[3][4200];
	int nc = 0;

	if (!s->process_gone) {
		snprintf(cand[nc++], sizeof(cand[0]), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64,
			 s->pid, m->start, m->end);
		snprintf(cand[nc++], sizeof(cand[0]), "/proc/%u/root%s", s->pid, m->path);
	}
	snprintf(cand[nc++], sizeof(cand[0]), "%s", m->path);

	for (int i = 0; i < nc; i++) {
		int fd = open(cand[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		const void *id = NULL;
		ssize_t idlen = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
		struct stat sb;
		bool ok;

		if (idlen > IOH_STACK_BUILD_ID_MAX)
			idlen = IOH_STACK_BUILD_ID_MAX;
		if (m->build_id_len)
			ok =
			    idlen == m->build_id_len && memcmp(id, m->build_id, (size_t)idlen) == 0;
		else
			ok = idlen <= 0 && fstat(fd, &sb) == 0 && (uint64_t)sb.st_ino == m->ino;
		if (!ok && elf && idlen > 0)
			u->st.modules_mismatched++;
		/* The load bias: the segment holding the mapping's file offset. */
		size_t phnum;
		bool found = false;
		if (ok && elf_getphdrnum(elf, &phnum) == 0) {
			for (size_t p = 0; p < phnum && !found; p++) {
				GElf_Phdr ph;
				if (!gelf_getphdr(elf, (int)p, &ph) || ph.p_type != PT_LOAD)
					continue;
				if (m->pgoff >= (ph.p_offset & ~4095ull) &&
				    m->pgoff < ph.p_offset + ph.p_filesz) {
					*bias = m->start - (ph.p_vaddr - ph.p_offset + m->pgoff);
					found = true;
				}
			}
		}
		elf_end(elf);
		if (ok && found) {
			snprintf(used, used_len, "%s", cand[i]);
			return fd;
		}
		close(fd);
	}
	return -1;
}

static struct symfile *symfile_find(struct ioh_unwinder *u, const struct ioh_stack_module *m)
{
	if (!m->build_id_len)
		return NULL;
	for (int i = 0; i < SYMFILES_MAX; i++) {
		struct symfile *sf = &u->symfiles[i];

		if (sf->used && sf->build_id_len == m->build_id_len &&
		    memcmp(sf->build_id, m->build_id, m->build_id_len) == 0) {
			sf->used = ++u->clock;
			return sf;
		}
	}
	return NULL;
}

static void symfile_clear(struct symfile *sf)
{
	if (sf->dwfl)
		dwfl_end(sf->dwfl);
	memset(sf, 0, sizeof(*sf));
}

/* Keeps the file at fd (ours to close) as module m's symfile, unless one exists. */
static void symfile_add(struct ioh_unwinder *u, const struct ioh_stack_module *m, int fd,
			const char *file)
{
	struct symfile *sf = &u->symfiles[0];

	if (!m->build_id_len || symfile_find(u, m)) {
		close(fd);
		return;
	}
	for (int i = 1; i < SYMFILES_MAX; i++)
		if (u->symfiles[i].used < sf->used)
			sf = &u->symfiles[i];
	if (sf->used)
		u->st.symfiles_evicted++;
	symfile_clear(sf);
	sf->dwfl = dwfl_begin(&u->callbacks);
	if (!sf->dwfl) {
		close(fd);
		return;
	}
	dwfl_report_begin(sf->dwfl);
	sf->mod = dwfl_report_elf(sf->dwfl, m->path, file, fd, 0, true);
	if (dwfl_report_end(sf->dwfl, NULL, NULL) != 0 || !sf->mod) {
		symfile_clear(sf);
		return;
	}
	void **ud;
	dwfl_module_info(sf->mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	*ud = u;
	memcpy(sf->build_id, m->build_id, m->build_id_len);
	sf->build_id_len = m->build_id_len;
	sf->used = ++u->clock;
	u->st.symfiles_opened++;
}

static int cmp_module_start(const void *a, const void *b)
{
	const struct layout_module *x = a, *y = b;

	return x->m.start < y->m.start ? -1 : x->m.start > y->m.start;
}

/* Builds the Dwfl for the snapshot's modules into `l`. */
static int layout_build(struct ioh_unwinder *u, struct layout *l,
			const struct ioh_stack_snapshot *s, unsigned n, uint64_t hash)
{
	l->mods = calloc(n ? n : 1, sizeof(*l->mods));
	l->dwfl = dwfl_begin(&u->callbacks);
	if (!l->mods || !l->dwfl) {
		layout_clear(l);
		return -ENOMEM;
	}
	l->hash = hash;
	l->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct layout_module *lm = &l->mods[i];

		lm->m = s->modules[i];
		lm->m.path = intern(&u->strings, s->modules[i].path ? s->modules[i].path : "?");
		ioh_stack_build_id_hex(lm->m.build_id, lm->m.build_id_len, lm->build_id_hex);
		lm->bias = lm->m.start - (lm->m.vaddr_known ? lm->m.vaddr : lm->m.pgoff);
	}
	qsort(l->mods, n, sizeof(*l->mods), cmp_module_start);

	dwfl_report_begin(l->dwfl);
	if (dwfl_report_end(l->dwfl, NULL, NULL) != 0) {
		layout_clear(l);
		return -EINVAL;
	}
	return 0;
}

/*
 * Opens and reports module `lm` of layout `l` into its Dwfl, once: only the modules a chain
 * may pass through (those the stack copy points into: 2-4 of a program's 5-30).
 */
static Dwfl_Module *module_report(struct ioh_unwinder *u, struct layout *l,
				  struct layout_module *lm)
{
	char used[4200];
	uint64_t bias;
	int fd;

	if (lm->tried)
		return lm->mod;
	lm->tried = true;
	/* A second mapping of a file already reported (same inode and bias). */
	for (unsigned j = 0; j < l->n; j++) {
		const struct layout_module *o = &l->mods[j];

		if (o->mod && o->m.ino == lm->m.ino && o->bias == lm->bias &&
		    strcmp(o->m.path, lm->m.path) == 0)
			return lm->mod = o->mod;
	}
	if (!lm->m.path || lm->m.path[0] != '/')
		return NULL;
	fd = module_open(u, u->snap, &lm->m, &bias, used, sizeof(used));
	if (fd < 0) {
		u->st.modules_unopened++;
		return NULL;
	}
	if (!symfile_find(u, &lm->m)) {
		int fd2 = dup(fd);
		if (fd2 >= 0)
			symfile_add(u, &lm->m, fd2, used);
	}
	/* libdwfl owns fd from here (closed by dwfl_end). */
	dwfl_report_begin_add(l->dwfl);
	lm->mod = dwfl_report_elf(l->dwfl, lm->m.path, used, fd, bias, true);
	if (dwfl_report_end(l->dwfl, NULL, NULL) != 0 || !lm->mod) {
		lm->mod = NULL;
		u->st.modules_unopened++;
		return NULL;
	}
	u->st.modules_opened++;
	lm->bias = bias;
	void **ud;
	dwfl_module_info(lm->mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	*ud = u;
	return lm->mod;
}

/* The layout for `s`'s modules: cached, or built into the least recently used slot. */
static struct layout *layout_get(struct ioh_unwinder *u, const struct ioh_stack_snapshot *s)
{
	unsigned n = s->n_modules < MODULES_MAX ? s->n_modules : MODULES_MAX;
	uint64_t hash = 0xcbf29ce484222325ull;
	struct layout *victim = &u->layouts[0];

	for (unsigned i = 0; i < n; i++)
		hash = module_hash(&s->modules[i], hash);
	for (int i = 0; i < LAYOUTS_MAX; i++) {
		struct layout *l = &u->layouts[i];

		if (l->used && l->hash == hash && l->n == n) {
			/* same modules, maybe in another order: compare by start */
			bool same = true;
			for (unsigned k = 0; k < n && same; k++) {
				const struct layout_module *lm =
				    layout_find(l, s->modules[k].start);
				same = lm && module_same(&lm->m, &s->modules[k]);
			}
			if (same) {
				l->used = ++u->clock;
				u->st.layouts_reused++;
				return l;
			}
		}
		if (l->used < victim->used)
			victim = l;
	}
	if (victim->used)
		u->st.layouts_evicted++;
	layout_clear(victim);
	if (layout_build(u, victim, s, n, hash) != 0)
		return NULL;
	victim->used = ++u->clock;
	u->st.layouts_built++;
	return victim;
}

/* ---- symbolization -------------------------------------------------------------------- */

/*
 * The inlined calls at `addr` in `mod` (DWARF scopes), innermost first, into e->inl; e->file and
 * e->line (the line table's, i.e. the innermost location) move to the innermost inlined frame,
 * and the function's own frame gets the call site of the outermost one.
 */
static void inlines(struct ioh_unwinder *u, Dwfl_Module *mod, uint64_t addr, struct sym_entry *e)
{
	Dwarf_Addr cubias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &cubias), *scopes = NULL;
	Dwarf_Files *files = NULL;
	const char *file = e->file;
	uint32_t line = e->line;
	int ns;

	if (!cu || (ns = dwarf_getscopes(cu, addr - cubias, &scopes)) <= 0)
		return;
	if (dwarf_getsrcfiles(cu, &files, NULL) != 0)
		files = NULL;
	for (int i = 0; i < ns; i++) {
		int tag = dwarf_tag(&scopes[i]);
		Dwarf_Attribute a;
		Dwarf_Word v;

		if (tag == DW_TAG_subprogram)
			break;
		if (tag != DW_TAG_inlined_subroutine)
			continue; /* lexical blocks */
		if (e->n_inl < INLINE_MAX) {
			e->inl[e->n_inl].function = intern(&u->strings, dwarf_diename(&scopes[i]));
			e->inl[e->n_inl].file = file;
			e->inl[e->n_inl].line = line;
			e->n_inl++;
		}
		/* where it was called from: a line of the next scope out */
		line = dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &v) == 0
			   ? (uint32_t)v
			   : 0;
		file =
		    files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &v) == 0
			? intern(&u->strings, dwarf_filesrc(files, v, NULL, NULL))
			: NULL;
	}
	if (e->n_inl) {
		e->file = line ? file : NULL;
		e->line = file ? line : 0;
	}
	free(scopes);
}

/* The symbol entry for `lookup` (a pc inside the call, for a caller frame) in lm: from the
 * cache, else looked up into the cache (or into *tmp for a module without build id). */
static const struct sym_entry *symbolize(struct ioh_unwinder *u, const struct layout_module *lm,
					 uint64_t lookup, struct sym_entry *tmp_out)
{
	uint64_t off = lookup - lm->bias;
	struct sym_entry *set = NULL, *e;

	if (!lm->mod)
		return NULL; /* no file: module + build id + offset only, never a guessed name */
	u->st.sym_lookups++;
	if (lm->m.build_id_len) {
		uint64_t h =
		    hash_bytes(lm->m.build_id, lm->m.build_id_len, off * 0x9e3779b97f4a7c15ull);
		set = u->syms[h % SYM_SETS];
		for (int w = 0; w < SYM_WAYS; w++) {
			e = &set[w];
			if (e->build_id_len == lm->m.build_id_len && e->offset == off &&
			    memcmp(e->build_id, lm->m.build_id, e->build_id_len) == 0) {
				e->used = ++u->clock;
				u->st.sym_hits++;
				return e;
			}
		}
	}

	/* By build id at bias 0 (debug info loaded once for all processes), else in the layout. */
	struct symfile *sf = symfile_find(u, &lm->m);
	Dwfl_Module *mod = sf ? sf->mod : lm->mod;
	uint64_t addr = sf ? off : lookup;
	struct sym_entry tmp = {0};
	GElf_Off sym_off = 0;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod, addr, &sym_off, &sym, NULL, NULL, NULL);
	if (name) {
		/* Without the symbol version ("__libc_start_main@@GLIBC_2.34"): C and C++
		 * (mangled) names have no '@'. */
		char plain[512];
		size_t len = strcspn(name, "@");
		if (name[len] && len < sizeof(plain)) {
			memcpy(plain, name, len);
			plain[len] = '\0';
			name = plain;
		}
		tmp.function = intern(&u->strings, name);
		tmp.sym_offset = sym_off;
	}
	Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
	if (line) {
		int lineno = 0;
		const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		if (file && lineno > 0) {
			tmp.file = intern(&u->strings, file);
			tmp.line = (uint32_t)lineno;
		}
		inlines(u, mod, addr, &tmp);
	}
	*tmp_out = tmp;
	e = tmp_out;
	if (set) {
		e = &set[0];
		for (int w = 1; w < SYM_WAYS; w++)
			if (set[w].used < e->used)
				e = &set[w];
		if (e->used)
			u->st.sym_evicted++;
		*e = tmp;
		memcpy(e->build_id, lm->m.build_id, lm->m.build_id_len);
		e->build_id_len = lm->m.build_id_len;
		e->offset = off;
		e->used = ++u->clock;
	}
	return e;
}

/* ---- the walk ------------------------------------------------------------------------- */

struct walk {
	struct ioh_unwinder *u;
	struct ioh_stack_frame *frames;
	int max, n;
	int physical;	      /* frames libdwfl gave (n also counts inlined calls) */
	uint64_t prev_lookup; /* the callee's pc as libdwfl unwound it */
};

/* Whether libdwfl found CFI for `pc` (the callee of the next frame): if not, it used the
 * frame pointer (x86-64 backend) to find the caller. */
static bool has_cfi(const struct layout *l, uint64_t pc)
{
	const struct layout_module *lm = layout_find(l, pc);
	Dwarf_Addr bias;
	Dwarf_Frame *fr = NULL;

	if (!lm || !lm->mod)
		return false;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(lm->mod, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &fr) == 0) {
		free(fr);
		return true;
	}
	cfi = dwfl_module_dwarf_cfi(lm->mod, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &fr) == 0) {
		free(fr);
		return true;
	}
	return false;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	struct ioh_unwinder *u = w->u;
	Dwarf_Addr pc;
	bool activation;

	if (w->n >= w->max)
		return DWARF_CB_ABORT;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;

	struct ioh_stack_frame fr, *f = &fr;
	/* A return address points after the call: look up the call itself. */
	uint64_t lookup = activation ? pc : pc - 1;

	memset(f, 0, sizeof(*f));
	f->pc = pc;
	if (w->physical++ == 0) {
		f->how = IOH_STACK_FRAME_REGS;
	} else if (has_cfi(u->cur, w->prev_lookup)) {
		f->how = IOH_STACK_FRAME_CFI;
		u->st.frames_cfi++;
	} else {
		f->how = IOH_STACK_FRAME_FP;
		u->st.frames_fp++;
	}
	w->prev_lookup = lookup;
	struct layout_module *lm = layout_find(u->cur, pc);
	if (lm) {
		module_report(u, u->cur, lm); /* a no-op unless the pc came from no stack word */
		f->module = lm->m.path;
		memcpy(f->build_id, lm->build_id_hex, sizeof(f->build_id));
		f->offset = pc - lm->bias;
		struct sym_entry tmp;
		const struct sym_entry *e = symbolize(u, lm, lookup, &tmp);
		if (e) {
			/* the inlined calls first: same pc, each inside the next */
			for (unsigned i = 0; i < e->n_inl; i++) {
				if (w->n >= w->max)
					return DWARF_CB_ABORT;
				struct ioh_stack_frame *g = &w->frames[w->n++];
				*g = fr;
				g->inlined = true;
				g->function = e->inl[i].function;
				g->file = e->inl[i].file;
				g->line = e->inl[i].line;
			}
			f->function = e->function;
			f->function_offset = e->function ? e->sym_offset + (pc - lookup) : 0;
			f->file = e->file;
			f->line = e->line;
		}
	}
	if (w->n >= w->max)
		return DWARF_CB_ABORT;
	w->frames[w->n++] = fr;
	return DWARF_CB_OK;
}

int ioh_unwind(struct ioh_unwinder *u, const struct ioh_stack_snapshot *snap,
	       struct ioh_stack_frame *frames, int max, enum ioh_stack_status *status)
{
	struct walk w = {.u = u, .frames = frames, .max = max};
	const uint32_t need = (1u << IOH_STACK_REG_IP) | (1u << IOH_STACK_REG_SP);

	u->st.unwinds++;
	*status = IOH_STACK_UNRESOLVED;
	if (max <= 0)
		return 0;
	if ((snap->regs_mask & need) != need)
		return 0;
	struct layout *l = layout_get(u, snap);
	if (!l)
		return 0;
	u->snap = snap;
	u->cur = l;
	u->read_failed = false;

	/* The innermost frame's module, and every module a word of the copied stack points into
	 * (the return addresses are among them): libdwfl must find a frame's module when it
	 * unwinds the frame below it, before the frame callback sees it. Reporting all modules
	 * instead costs 5x more per new process (docs/performance.md). */
	struct layout_module *first = layout_find(l, snap->regs[IOH_STACK_REG_IP]);
	bool any = first && module_report(u, l, first);
	unsigned untried = 0;
	for (unsigned i = 0; i < l->n; i++)
		untried += !l->mods[i].tried;
	uint64_t lo = l->n ? l->mods[0].m.start : 0, hi = l->n ? l->mods[l->n - 1].m.end : 0;
	for (uint32_t off = 0; untried && off + 8 <= snap->stack_len; off += 8) {
		uint64_t word;
		memcpy(&word, snap->stack + off, sizeof(word));
		if (word < lo || word >= hi) /* small values, stack addresses */
			continue;
		struct layout_module *lm = layout_find(l, word);
		if (lm && !lm->tried) {
			any = module_report(u, l, lm) != NULL || any;
			untried--;
		}
	}
	/* libdwfl needs one ELF for the architecture, even to walk frame pointers. */
	for (unsigned i = 0; i < l->n && !any; i++)
		any = module_report(u, l, &l->mods[i]) != NULL;
	if (!any) {
		/* Nothing to unwind with: the innermost frame, from the registers alone. */
		struct ioh_stack_frame *f = &frames[0];
		uint64_t pc = snap->regs[IOH_STACK_REG_IP];
		const struct layout_module *lm = layout_find(l, pc);

		u->snap = NULL;
		u->cur = NULL;
		memset(f, 0, sizeof(*f));
		f->pc = pc;
		if (lm) {
			f->module = lm->m.path;
			memcpy(f->build_id, lm->build_id_hex, sizeof(f->build_id));
			f->offset = pc - lm->bias;
		}
		return 1;
	}
	if (!l->attached) {
		if (!dwfl_attach_state(l->dwfl, NULL, (pid_t)snap->pid, &thread_callbacks, u))
			return 0;
		l->attached = true;
	}
	int r = dwfl_getthread_frames(l->dwfl, (pid_t)snap->tid, frame_cb, &w);
	if (r == 0 && !u->read_failed)
		*status = IOH_STACK_OK;
	else if (w.n > 0)
		*status = IOH_STACK_TRUNCATED; /* max frames, copied bytes ran out, or no CFI/fp */
	u->snap = NULL;
	u->cur = NULL;
	return w.n;
}

/* ---- life ----------------------------------------------------------------------------- */

int ioh_unwinder_set_debug_dir(struct ioh_unwinder *u, const char *dir)
{
	char *d = strdup(dir);

	if (!d)
		return -ENOMEM;
	free(u->debug_dir);
	u->debug_dir = d;
	/* Names from the old dir must not linger. */
	for (int i = 0; i < LAYOUTS_MAX; i++)
		layout_clear(&u->layouts[i]);
	for (int i = 0; i < SYMFILES_MAX; i++)
		symfile_clear(&u->symfiles[i]);
	memset(u->syms, 0, sizeof(u->syms));
	return 0;
}

struct ioh_unwinder *ioh_unwinder_new(void)
{
	struct ioh_unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->debug_dir = strdup("/usr/lib/debug");
	if (!u->debug_dir) {
		free(u);
		return NULL;
	}
	elf_version(EV_CURRENT);
	u->callbacks.find_elf = dwfl_linux_proc_find_elf; /* unused: modules come with an fd */
	u->callbacks.find_debuginfo = find_debuginfo;
	return u;
}

void ioh_unwinder_free(struct ioh_unwinder *u)
{
	if (!u)
		return;
	for (int i = 0; i < LAYOUTS_MAX; i++)
		layout_clear(&u->layouts[i]);
	for (int i = 0; i < SYMFILES_MAX; i++)
		symfile_clear(&u->symfiles[i]);
	intern_free(&u->strings);
	free(u->debug_dir);
	free(u);
}

void ioh_unwinder_stats(const struct ioh_unwinder *u, struct ioh_unwinder_stats *st)
{
	*st = u->st;
}
