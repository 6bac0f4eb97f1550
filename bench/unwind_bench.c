// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark: what a call chain costs the daemon (issue 15), per snapshot.
 *
 *   unwind_bench [--target PROG] [--iters N]
 *
 * PROG (default $IOH_BUILD/tests/stack_target, else build/tests/stack_target) is run 20 times;
 * each run writes the snapshot taken in its save_config() (registers + 8 KiB of
 * stack + modules, tests/unit/stack_snapshot_file.h) and exits. Then, per unwind, median over N:
 *   cold         a new unwinder per unwind: the build ids are new (ELF files opened, CFI and
 *                symbol tables and DWARF line tables read). Paid once per binary per daemon.
 *   new_process  one unwinder, the 20 runs in turn: each a new module layout (another
 *                process, other ASLR addresses; the unwinder keeps 16) of known build ids: a
 *                Dwfl is built (files opened, CFI re-read), symbols come from the cache. A
 *                storm of short-lived processes (`mv` in a loop).
 *   warm         one unwinder, the same snapshot again: layout and symbols cached. A rename
 *                storm from one process.
 *   modules_read ioh_stack_modules_read() of this process (the live side, per STACK event),
 *                build-id cache warm; and the first call (cold).
 * IOH_BENCH_SKIP_COLD=1 times the cold case once only (to profile the others).
 * IOH_BENCH_DEBUG_DIR=DIR looks for separate debug info there instead of /usr/lib/debug (a
 * directory without .build-id measures a host without -dbgsym packages).
 * Output is "key=value" lines (and humans read them). Page cache warm in every case: the files
 * were just executed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/stacks/stack.h"
#include "tests/unit/stack_snapshot_file.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n ? v[n / 2] : 0;
}

static struct ioh_unwinder *unwinder(void)
{
	struct ioh_unwinder *u = ioh_unwinder_new();
	const char *d = getenv("IOH_BENCH_DEBUG_DIR");

	if (u && d)
		ioh_unwinder_set_debug_dir(u, d);
	return u;
}

static int run_target(const char *prog, const char *out)
{
	pid_t c = fork();
	int st;

	if (c == 0) {
		execl(prog, prog, out, (char *)NULL);
		_exit(127);
	}
	if (c < 0 || waitpid(c, &st, 0) != c)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* `procs` runs of the target, each leaving a snapshot of its own stack (then exiting). */
static struct snapfile *record_snapshots(const char *prog, int procs)
{
	char dir[] = "/tmp/ioh-unwind-bench-XXXXXX", path[PATH_MAX + 32];
	struct snapfile *sf = calloc((size_t)procs, sizeof(*sf));

	if (!sf || !mkdtemp(dir))
		return NULL;
	for (int i = 0; i < procs; i++) {
		snprintf(path, sizeof(path), "%s/%d.snap", dir, i);
		if (run_target(prog, path) != 0 || snapfile_read(path, &sf[i]) != 0) {
			fprintf(stderr, "unwind_bench: %s did not write a snapshot\n", prog);
			return NULL;
		}
		sf[i].snap.process_gone = true;
		unlink(path);
	}
	rmdir(dir);
	return sf;
}

/* Cold: a new unwinder each time, so every module and its symbols are read again. */
static void bench_cold(const struct snapfile *sf, int iters, double *t)
{
	struct ioh_stack_frame f[IOH_STACK_FRAMES_MAX];
	enum ioh_stack_status st = IOH_STACK_NONE;
	int depth = 0, n = getenv("IOH_BENCH_SKIP_COLD") ? 1 : iters;

	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		struct ioh_unwinder *u = unwinder();

		depth = ioh_unwind(u, &sf[0].snap, f, IOH_STACK_FRAMES_MAX, &st);
		ioh_unwinder_free(u);
		t[i] = now_us() - t0;
	}
	printf("unwind_frames=%d\nunwind_status=%d\nunwind_stack_bytes=%u\nunwind_modules=%u\n",
	       depth, st, sf[0].snap.stack_len, sf[0].snap.n_modules);
	printf("unwind_cold_us=%.1f\n", median(t, n));
}

/* Median time of `iters` unwinds of snapshot i % nsnap with one unwinder. */
static double bench_unwinds(struct ioh_unwinder *u, const struct snapfile *sf, int nsnap, int iters,
			    double *t)
{
	struct ioh_stack_frame f[IOH_STACK_FRAMES_MAX];
	enum ioh_stack_status st;

	for (int i = 0; i < iters; i++) {
		double t0 = now_us();

		ioh_unwind(u, &sf[i % nsnap].snap, f, IOH_STACK_FRAMES_MAX, &st);
		t[i] = now_us() - t0;
	}
	return median(t, iters);
}

static void print_unwinder_stats(struct ioh_unwinder *u)
{
	struct ioh_unwinder_stats s;
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("max_rss_kib=%ld\n", ru.ru_maxrss);
	ioh_unwinder_stats(u, &s);
	printf("unwind_frames_cfi=%" PRIu64 "\nunwind_frames_fp=%" PRIu64 "\n", s.frames_cfi,
	       s.frames_fp);
	printf("unwind_modules_opened_per_layout=%.1f\n",
	       (double)s.modules_opened / (double)(s.layouts_built ? s.layouts_built : 1));
}

/* The live side: this process's modules, the first time and from the cache. */
static void bench_modules_read(int iters, double *t)
{
	struct ioh_stack_module mods[256];
	char *strings;
	double t0 = now_us();
	int n = ioh_stack_modules_read(getpid(), mods, 256, &strings);

	printf("modules_read_cold_us=%.1f\nmodules_read_modules=%d\n", now_us() - t0, n);
	free(strings);
	for (int i = 0; i < iters; i++) {
		t0 = now_us();
		ioh_stack_modules_read(getpid(), mods, 256, &strings);
		t[i] = now_us() - t0;
		free(strings);
	}
	printf("modules_read_warm_us=%.1f\n", median(t, iters));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"iters", required_argument, NULL, 'n'},
	    {0},
	};
	const char *b = getenv("IOH_BUILD");
	char prog[PATH_MAX];
	int iters = 200, o;
	const int procs = 20;
	struct ioh_unwinder *u;
	struct snapfile *sf;
	double *t;

	snprintf(prog, sizeof(prog), "%s/tests/stack_target", b ? b : "build");
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 't')
			snprintf(prog, sizeof(prog), "%s", optarg);
		else if (o == 'n')
			iters = atoi(optarg);
		else
			return 2;
	}
	if (iters < 1)
		return 2;
	sf = record_snapshots(prog, procs);
	t = calloc((size_t)iters, sizeof(*t));
	if (!sf || !t)
		return 1;

	bench_cold(sf, iters, t);
	/* New process, known build ids: one unwinder, the runs in turn; there are more runs than
	 * layouts the unwinder keeps (16), so each is a new layout (another process, other ASLR
	 * addresses) of build ids whose symbols are cached. */
	u = unwinder();
	bench_unwinds(u, sf, procs, procs, t);
	printf("unwind_new_process_us=%.1f\n", bench_unwinds(u, sf, procs, iters, t));
	/* Warm: the same snapshot again and again. */
	bench_unwinds(u, sf, 1, 1, t);
	printf("unwind_warm_us=%.1f\n", bench_unwinds(u, sf, 1, iters, t));
	print_unwinder_stats(u);
	ioh_unwinder_free(u);
	bench_modules_read(iters, t);

	for (int i = 0; i < procs; i++)
		snapfile_free(&sf[i]);
	free(sf);
	free(t);
	return 0;
}
