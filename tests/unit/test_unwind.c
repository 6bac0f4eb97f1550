// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unwinder on real snapshots: tests/unit/stack_target (-O2 -g, no frame pointers; stripped;
 * with frame pointers; with frame pointers and no CFI) captures its registers and stack at a
 * call in save_config() as the BPF side does, and the chain is recovered while the task lives
 * and after it exited, from a -dbgsym-style debug file, and never from a file whose build id
 * differs from the recorded one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "tests/unit/stack_snapshot_file.h"

static char build[PATH_MAX], tmpdir[PATH_MAX];

/* Runs `prog` to write its snapshot to `out`. With `live`, the target stays alive (until
 * target_release) and its pid is returned through *child. */
static int target_run(const char *prog, const char *out, bool live, pid_t *child, int *hold)
{
	int in[2], outp[2];

	if (pipe(in) != 0 || pipe(outp) != 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[1]);
		close(outp[0]);
		execl(prog, prog, out, live ? "wait" : NULL, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	if (live) {
		char buf[16] = "";
		ssize_t n = read(outp[0], buf, sizeof(buf) - 1);
		close(outp[0]);
		*child = c;
		*hold = in[1];
		return n > 0 && strncmp(buf, "ready", 5) == 0 ? 0 : -1;
	}
	close(in[1]);
	close(outp[0]);
	int st;
	waitpid(c, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void target_release(pid_t c, int hold)
{
	close(hold);
	waitpid(c, NULL, 0);
}

static const struct ioh_stack_frame *frame_named(const struct ioh_stack_frame *f, int n,
						 const char *fn)
{
	for (int i = 0; i < n; i++)
		if (f[i].function && strcmp(f[i].function, fn) == 0)
			return &f[i];
	return NULL;
}

static int frame_index(const struct ioh_stack_frame *f, const struct ioh_stack_frame *x)
{
	return x ? (int)(x - f) : -1;
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

static void readelf_build_id(const char *path, char *out, size_t len)
{
	char cmd[PATH_MAX + 100];
	FILE *p;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' | sed -n 's/.*Build ID: *//p'", path);
	p = popen(cmd, "r");
	if (p && fgets(out, (int)len, p))
		out[strcspn(out, "\n")] = '\0';
	if (p)
		pclose(p);
}

/* Rewrites the build id `hex` in the file at `path` into another one (last byte flipped). */
static int flip_build_id(const char *path, const char *hex)
{
	uint8_t id[IOH_STACK_BUILD_ID_MAX];
	size_t len = strlen(hex) / 2, size;
	int rc = -1;

	if (len == 0 || len > sizeof(id))
		return -1;
	for (size_t i = 0; i < len; i++)
		sscanf(hex + 2 * i, "%2hhx", &id[i]);
	FILE *f = fopen(path, "r+e");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	size = (size_t)ftell(f);
	uint8_t *buf = malloc(size);
	rewind(f);
	if (buf && fread(buf, 1, size, f) == size) {
		for (size_t o = 0; o + len <= size; o++) {
			if (memcmp(buf + o, id, len) != 0)
				continue;
			buf[o + len - 1] ^= 0xff;
			rewind(f);
			rc = fwrite(buf, 1, size, f) == size ? 0 : -1;
			break;
		}
	}
	free(buf);
	return fclose(f) == 0 ? rc : -1;
}

/* The frames of a -g build: take_snapshot <- write_config (inlined) <- save_config <- main,
 * each at the line of its call. */
static void check_named_chain(const char *prog, const struct snapfile *sf,
			      const struct ioh_stack_frame *f, int n, enum ioh_stack_status st,
			      int how_expected)
{
	char want[128];
	const struct ioh_stack_frame *t = frame_named(f, n, "take_snapshot");
	const struct ioh_stack_frame *i = frame_named(f, n, "write_config");
	const struct ioh_stack_frame *s = frame_named(f, n, "save_config");
	const struct ioh_stack_frame *m = frame_named(f, n, "main");

	CHECK_INT(st, IOH_STACK_OK);
	CHECK(n >= 5); /* ... and libc's start frames */
	CHECK_INT(frame_index(f, t), 0);
	CHECK_INT(frame_index(f, i), 1);
	CHECK_INT(frame_index(f, s), 2);
	CHECK_INT(frame_index(f, m), 3);
	if (!s || !m || !t || !i)
		return;
	CHECK(i->inlined);
	CHECK(!s->inlined && !m->inlined && !t->inlined);
	CHECK_INT(i->pc, s->pc); /* one physical frame */
	CHECK_STR(base_name(i->file), "stack_target.c");
	CHECK_INT(i->line, sf->expect_line_inline);
	CHECK_INT(i->how, how_expected);
	CHECK_STR(base_name(s->file), "stack_target.c");
	CHECK_INT(s->line, sf->expect_line_save);
	CHECK_STR(base_name(m->file), "stack_target.c");
	CHECK_INT(m->line, sf->expect_line_main);
	CHECK_STR(s->module, prog);
	readelf_build_id(prog, want, sizeof(want));
	CHECK_STR(s->build_id, want);
	/* The caller frames hold return addresses: just past the call, inside the function. */
	CHECK(s->function_offset > 0 && s->offset > s->function_offset);
	CHECK_INT(s->how, how_expected);
	CHECK_INT(m->how, how_expected);
	CHECK_INT(t->how, IOH_STACK_FRAME_REGS);
	/* Past main: libc, unwound with libc's CFI. */
	CHECK(f[4].module && strstr(f[4].module, "libc") != NULL);
	CHECK_INT(f[n - 1].how, IOH_STACK_FRAME_CFI);
}

/* The chain as TAP comments, for the log. */
static void dump(const struct ioh_stack_frame *f, int n, enum ioh_stack_status st)
{
	static const char *how[] = {"regs", "cfi", "fp"};

	printf("# status %d, %d frames\n", st, n);
	for (int i = 0; i < n; i++)
		printf("#  #%d %s 0x%" PRIx64 " %s+0x%" PRIx64 " (%s:%u) in %s [%s] +0x%" PRIx64
		       "\n",
		       i, how[f[i].how % 3], f[i].pc, f[i].function ? f[i].function : "?",
		       f[i].function_offset, f[i].file ? base_name(f[i].file) : "?", f[i].line,
		       f[i].module ? f[i].module : "?", f[i].build_id, f[i].offset);
}

static int unwind_file(struct ioh_unwinder *u, const char *snap_path, bool gone,
		       struct snapfile *sf, struct ioh_stack_frame *f, enum ioh_stack_status *st)
{
	if (snapfile_read(snap_path, sf) != 0)
		return -1;
	sf->snap.process_gone = gone;
	int n = ioh_unwind(u, &sf->snap, f, IOH_STACK_FRAMES_MAX, st);
	dump(f, n, *st);
	return n;
}

/* Runs `prog` to completion (snapshot `<tmpdir>/<name>.snap`) and unwinds it afterwards. */
static int run_and_unwind(struct ioh_unwinder *u, const char *prog, const char *name,
			  struct snapfile *sf, struct ioh_stack_frame *f, enum ioh_stack_status *st)
{
	char snap[PATH_MAX + 64];

	snprintf(snap, sizeof(snap), "%s/%s.snap", tmpdir, name);
	CHECK(target_run(prog, snap, false, NULL, NULL) == 0);
	return unwind_file(u, snap, true, sf, f, st);
}

int main(void)
{
	struct ioh_stack_frame f[IOH_STACK_FRAMES_MAX];
	enum ioh_stack_status st;
	struct snapfile sf;
	char prog[PATH_MAX + 64], snap[PATH_MAX + 64], cmd[3 * PATH_MAX];
	const char *b = getenv("IOH_BUILD");
	int n;

	if (!realpath(b ? b : "build", build)) {
		printf("not ok - IOH_BUILD not found\n");
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ioh-unwind-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("not ok - mkdtemp\n");
		return 1;
	}

	TEST_CASE("no frame pointers, task alive")
	{
		struct ioh_unwinder *u = ioh_unwinder_new();
		pid_t c = 0;
		int hold = -1;
		snprintf(prog, sizeof(prog), "%s/tests/stack_target", build);
		snprintf(snap, sizeof(snap), "%s/live.snap", tmpdir);
		CHECK(target_run(prog, snap, true, &c, &hold) == 0);
		n = unwind_file(u, snap, false, &sf, f, &st);
		check_named_chain(prog, &sf, f, n, st, IOH_STACK_FRAME_CFI);
		if (c > 0)
			target_release(c, hold);

		/* Warm: the same snapshot again, after the task exited: the layout and the symbols
		 * are cached, the chain is the same. */
		struct ioh_unwinder_stats a, z;
		struct ioh_stack_frame g[IOH_STACK_FRAMES_MAX];
		ioh_unwinder_stats(u, &a);
		sf.snap.process_gone = true;
		int n2 = ioh_unwind(u, &sf.snap, g, IOH_STACK_FRAMES_MAX, &st);
		ioh_unwinder_stats(u, &z);
		CHECK_INT(n2, n);
		CHECK_INT(z.layouts_reused - a.layouts_reused, 1);
		CHECK_INT(z.layouts_built, a.layouts_built);
		int physical = 0;
		for (int k = 0; k < n2; k++)
			physical += !g[k].inlined;
		CHECK_INT(z.sym_hits - a.sym_hits, physical); /* one lookup per pc */
		CHECK(memcmp(f, g, sizeof(f[0]) * (size_t)(n2 > 0 ? n2 : 0)) == 0);

		/* Bounded: max frames, and stack bytes that run out. */
		n2 = ioh_unwind(u, &sf.snap, g, 2, &st);
		CHECK_INT(n2, 2);
		CHECK_INT(st, IOH_STACK_TRUNCATED);
		sf.snap.stack_len = 16;
		n2 = ioh_unwind(u, &sf.snap, g, IOH_STACK_FRAMES_MAX, &st);
		CHECK(n2 >= 1 && n2 < n);
		CHECK_INT(st, IOH_STACK_TRUNCATED);
		CHECK_STR(g[0].function, "take_snapshot");
		snapfile_free(&sf);
		ioh_unwinder_free(u);
	}

	/* Unwound after the task exited, files opened by path + build id. Without frame
	 * pointers (CFI), with them (CFI still preferred), with them and no CFI at all (libdwfl's
	 * x86-64 frame-pointer fallback). */
	static const struct {
		const char *name, *bin;
		int how;
	} named[] = {
	    {"no frame pointers, task exited", "stack_target", IOH_STACK_FRAME_CFI},
	    {"frame pointers", "stack_target_fp", IOH_STACK_FRAME_CFI},
	    {"frame pointers, no CFI: libdwfl's frame-pointer fallback", "stack_target_fp_nocfi",
	     IOH_STACK_FRAME_FP},
	};
	for (size_t v = 0; v < sizeof(named) / sizeof(named[0]); v++)
		TEST_CASE(named[v].name)
		{
			struct ioh_unwinder *u = ioh_unwinder_new();
			struct ioh_unwinder_stats z;
			snprintf(prog, sizeof(prog), "%s/tests/%s", build, named[v].bin);
			n = run_and_unwind(u, prog, named[v].bin, &sf, f, &st);
			check_named_chain(prog, &sf, f, n, st, named[v].how);
			ioh_unwinder_stats(u, &z);
			CHECK(named[v].how == IOH_STACK_FRAME_FP ? z.frames_fp >= 3
								 : z.frames_fp == 0);
			snapfile_free(&sf);
			ioh_unwinder_free(u);
		}

	TEST_CASE("stripped: module, build id, offset, no names")
	{
		struct ioh_unwinder *u = ioh_unwinder_new();
		char want[128];
		snprintf(prog, sizeof(prog), "%s/tests/stack_target.stripped", build);
		n = run_and_unwind(u, prog, "stripped", &sf, f, &st);
		CHECK_INT(st, IOH_STACK_OK); /* .eh_frame survives strip */
		CHECK(n >= 4);
		readelf_build_id(prog, want, sizeof(want));
		int own = 0;
		for (int i = 0; i < n; i++) {
			if (!f[i].module || strcmp(f[i].module, prog) != 0)
				continue;
			own++;
			CHECK(f[i].function == NULL);
			CHECK(f[i].file == NULL);
			CHECK_STR(f[i].build_id, want);
			CHECK(f[i].offset > 0);
		}
		CHECK_INT(own, 4); /* take_snapshot, save_config, main; _start above libc */

		/* The same with a -dbgsym-style file under <dir>/.build-id: names and lines. */
		char dbg[PATH_MAX + 64];
		snprintf(dbg, sizeof(dbg), "%s/debug/.build-id/%.2s", tmpdir, want);
		snprintf(cmd, sizeof(cmd),
			 "mkdir -p '%s' && objcopy --only-keep-debug '%s/tests/stack_target' "
			 "'%s/%s.debug'",
			 dbg, build, dbg, want + 2);
		CHECK(system(cmd) == 0);
		snprintf(dbg, sizeof(dbg), "%s/debug", tmpdir);
		CHECK(ioh_unwinder_set_debug_dir(u, dbg) == 0);
		n = ioh_unwind(u, &sf.snap, f, IOH_STACK_FRAMES_MAX, &st);
		check_named_chain(prog, &sf, f, n, st, IOH_STACK_FRAME_CFI);
		snapfile_free(&sf);
		ioh_unwinder_free(u);
	}

	TEST_CASE("build id mismatch: no names from another file")
	{
		struct ioh_unwinder *u = ioh_unwinder_new();
		struct ioh_unwinder_stats z;
		char want[128], got[128];
		snprintf(prog, sizeof(prog), "%s/stack_target_copy", tmpdir);
		snprintf(cmd, sizeof(cmd), "cp '%s/tests/stack_target' '%s'", build, prog);
		CHECK(system(cmd) == 0);
		snprintf(snap, sizeof(snap), "%s/copy.snap", tmpdir);
		CHECK(target_run(prog, snap, false, NULL, NULL) == 0);
		/* Rebuilt since: same path, same code, another build id. */
		readelf_build_id(prog, want, sizeof(want));
		CHECK(flip_build_id(prog, want) == 0);
		readelf_build_id(prog, got, sizeof(got));
		CHECK(strcmp(want, got) != 0);
		n = unwind_file(u, snap, true, &sf, f, &st);
		CHECK(n >= 1);
		CHECK_STR(f[0].module, prog);
		CHECK_STR(f[0].build_id, want); /* the recorded one */
		for (int i = 0; i < n; i++)
			if (f[i].module && strcmp(f[i].module, prog) == 0)
				CHECK(f[i].function == NULL && f[i].file == NULL);
		CHECK(frame_named(f, n, "save_config") == NULL);
		CHECK(frame_named(f, n, "main") == NULL);
		CHECK(st != IOH_STACK_OK);
		ioh_unwinder_stats(u, &z);
		CHECK(z.modules_mismatched >= 1);
		snapfile_free(&sf);
		ioh_unwinder_free(u);
	}

	TEST_CASE("no module can be opened: unresolved")
	{
		struct ioh_unwinder *u = ioh_unwinder_new();
		snprintf(snap, sizeof(snap), "%s/stack_target.snap", tmpdir);
		CHECK(snapfile_read(snap, &sf) == 0);
		sf.snap.process_gone = true;
		for (uint32_t i = 0; i < sf.snap.n_modules; i++) {
			free(sf.paths[i]);
			sf.paths[i] = strdup("/nonexistent/ioh-module");
			sf.modules[i].path = sf.paths[i];
		}
		n = ioh_unwind(u, &sf.snap, f, IOH_STACK_FRAMES_MAX, &st);
		CHECK_INT(st, IOH_STACK_UNRESOLVED);
		CHECK_INT(n, 1);
		CHECK_STR(f[0].module, "/nonexistent/ioh-module");
		CHECK(f[0].build_id[0] != '\0');
		CHECK(f[0].function == NULL);
		CHECK(f[0].offset > 0);
		snapfile_free(&sf);
		ioh_unwinder_free(u);
	}

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return check_summary();
}
