/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A test-private file form of a stack snapshot (registers, stack bytes, modules), written by
 * tests/unit/stack_target.c and read by the unwinder tests and bench/unwind_bench.c. The
 * daemon's recordings carry snapshots in their own event form (daemon/record); this is not it.
 *
 * Layout (native endian): "IOHSNAP1", u32 pid, tid, regs_mask, stack_len, n_modules,
 * expect_line_inline, expect_line_save, expect_line_main, u64 regs[IOH_STACK_NREGS], stack bytes,
 * then per module: u64 start, end, pgoff, dev, ino, vaddr, u8 vaddr_known, build_id_len,
 * build_id[20], u32 path_len, path bytes (no NUL).
 */
#ifndef IOH_TEST_STACK_SNAPSHOT_FILE_H
#define IOH_TEST_STACK_SNAPSHOT_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/stacks/stack.h"

#define SNAPFILE_MAGIC "IOHSNAP1"

struct snapfile {
	struct ioh_stack_snapshot snap;
	/* the source lines of the calls: in the inlined write_config(), in save_config(), main() */
	uint32_t expect_line_inline, expect_line_save, expect_line_main;
	uint8_t *stack;
	struct ioh_stack_module *modules;
	char **paths;
};

static inline int snapfile_write(const char *path, const struct ioh_stack_snapshot *s,
				 uint32_t line_inline, uint32_t line_save, uint32_t line_main)
{
	FILE *f = fopen(path, "we");
	uint32_t h[8] = {s->pid,       s->tid,	    s->regs_mask, s->stack_len,
			 s->n_modules, line_inline, line_save,	  line_main};

	if (!f)
		return -1;
	fwrite(SNAPFILE_MAGIC, 1, 8, f);
	fwrite(h, sizeof(h), 1, f);
	fwrite(s->regs, sizeof(s->regs), 1, f);
	fwrite(s->stack, 1, s->stack_len, f);
	for (uint32_t i = 0; i < s->n_modules; i++) {
		const struct ioh_stack_module *m = &s->modules[i];
		uint64_t v[6] = {m->start, m->end, m->pgoff, m->dev, m->ino, m->vaddr};
		uint8_t b[2] = {m->vaddr_known, m->build_id_len};
		uint32_t len = (uint32_t)strlen(m->path);

		fwrite(v, sizeof(v), 1, f);
		fwrite(b, sizeof(b), 1, f);
		fwrite(m->build_id, 1, IOH_STACK_BUILD_ID_MAX, f);
		fwrite(&len, sizeof(len), 1, f);
		fwrite(m->path, 1, len, f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static inline void snapfile_free(struct snapfile *sf)
{
	if (sf->paths)
		for (uint32_t i = 0; i < sf->snap.n_modules; i++)
			free(sf->paths[i]);
	free(sf->paths);
	free(sf->stack);
	free(sf->modules);
	memset(sf, 0, sizeof(*sf));
}

static inline int snapfile_read(const char *path, struct snapfile *sf)
{
	FILE *f = fopen(path, "re");
	char magic[8];
	uint32_t h[8];
	int ok = 0;

	memset(sf, 0, sizeof(*sf));
	if (!f)
		return -1;
	if (fread(magic, 8, 1, f) != 1 || memcmp(magic, SNAPFILE_MAGIC, 8) != 0 ||
	    fread(h, sizeof(h), 1, f) != 1 || h[3] > (1u << 24) || h[4] > 4096)
		goto out;
	sf->snap.pid = h[0];
	sf->snap.tid = h[1];
	sf->snap.regs_mask = h[2];
	sf->snap.stack_len = h[3];
	sf->snap.n_modules = h[4];
	sf->expect_line_inline = h[5];
	sf->expect_line_save = h[6];
	sf->expect_line_main = h[7];
	sf->stack = malloc(h[3] ? h[3] : 1);
	sf->modules = calloc(h[4] ? h[4] : 1, sizeof(*sf->modules));
	sf->paths = calloc(h[4] ? h[4] : 1, sizeof(*sf->paths));
	if (!sf->stack || !sf->modules || !sf->paths ||
	    fread(sf->snap.regs, sizeof(sf->snap.regs), 1, f) != 1 ||
	    fread(sf->stack, 1, h[3], f) != h[3])
		goto out;
	for (uint32_t i = 0; i < h[4]; i++) {
		struct ioh_stack_module *m = &sf->modules[i];
		uint64_t v[6];
		uint8_t b[2];
		uint32_t len;

		if (fread(v, sizeof(v), 1, f) != 1 || fread(b, sizeof(b), 1, f) != 1 ||
		    fread(m->build_id, 1, IOH_STACK_BUILD_ID_MAX, f) != IOH_STACK_BUILD_ID_MAX ||
		    fread(&len, sizeof(len), 1, f) != 1 || len > 4096)
			goto out;
		sf->paths[i] = calloc(1, len + 1);
		if (!sf->paths[i] || fread(sf->paths[i], 1, len, f) != len)
			goto out;
		m->start = v[0], m->end = v[1], m->pgoff = v[2], m->dev = v[3], m->ino = v[4];
		m->vaddr = v[5];
		m->vaddr_known = b[0];
		m->build_id_len = b[1] > IOH_STACK_BUILD_ID_MAX ? IOH_STACK_BUILD_ID_MAX : b[1];
		m->path = sf->paths[i];
	}
	sf->snap.stack = sf->stack;
	sf->snap.modules = sf->modules;
	ok = 1;
out:
	fclose(f);
	if (!ok)
		snapfile_free(sf);
	return ok ? 0 : -1;
}

#endif
