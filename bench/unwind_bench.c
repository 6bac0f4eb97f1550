// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark: what a call chain costs the daemon (issue 15), per snapshot.
 *
 *   unwind_bench [--target PROG] [--iters N]
 *
 * PROG (default $IOH_BUILD/tests/stack_target, else build/tests/stack_target) is run twice;
 * each run writes the snapshot taken in its save_config() (registers + 8 KiB of
 * stack + modules, tests/unit/stack_snapshot_file.h) and exits. Then, per unwind, median over N:
 *   cold         a new unwinder per unwind: the build ids are new (ELF files opened, CFI and
 *                symbol tables and DWARF line tables read). Paid once per binary per daemon.
 *   new_process  an unwinder that has unwound one run, on another run: a new module layout
 *                (another process, other ASLR addresses) of known build ids: a Dwfl is built
 *                (files opened, CFI re-read), symbols come from the cache. A storm of `mv`s.
 *   warm         one unwinder, the same snapshot again: layout and symbols cached. A rename
 *                storm from one process.
 *   modules_read ioh_stack_modules_read() of this process (the live side, per STACK event),
 *                build-id cache warm; and the first call (cold).
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

int main(int argc, char **argv)
{
	char prog[PATH_MAX], dir[] = "/tmp/ioh-unwind-bench-XXXXXX", path[PATH_MAX + 32];
	const char *b = getenv("IOH_BUILD");
	int iters = 200, depth = 0;
	const int procs = 2;
	struct ioh_stack_frame f[IOH_STACK_FRAMES_MAX];
	enum ioh_stack_status st;
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "iters", required_argument, NULL, 'n' },
		{ 0 },
	};
	int o;

	snprintf(prog, sizeof(prog), "%s/tests/stack_target", b ? b : "build");
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 't')
			snprintf(prog, sizeof(prog), "%s", optarg);
		else if (o == 'n')
			iters = atoi(optarg);
		else
			return 2;
	}
	if (iters < 1 || !mkdtemp(dir))
		return 2;

	struct snapfile *sf = calloc((size_t)procs, sizeof(*sf));
	double *t = calloc((size_t)iters, sizeof(*t));
	for (int i = 0; i < procs; i++) {
		snprintf(path, sizeof(path), "%s/%d.snap", dir, i);
		if (run_target(prog, path) != 0 || snapfile_read(path, &sf[i]) != 0) {
			fprintf(stderr, "unwind_bench: %s did not write a snapshot\n", prog);
			return 1;
		}
		sf[i].snap.process_gone = true;
		unlink(path);
	}
	rmdir(dir);

	/* cold */
	for (int i = 0; i < iters; i++) {
		double t0 = now_us();
		struct ioh_unwinder *u = ioh_unwinder_new();
		depth = ioh_unwind(u, &sf[0].snap, f, IOH_STACK_FRAMES_MAX, &st);
		ioh_unwinder_free(u);
		t[i] = now_us() - t0;
	}
	printf("unwind_frames=%d\nunwind_status=%d\nunwind_stack_bytes=%u\nunwind_modules=%u\n",
	       depth, st, sf[0].snap.stack_len, sf[0].snap.n_modules);
	printf("unwind_cold_us=%.1f\n", median(t, iters));

	/* new process, known build ids: a fresh unwinder has seen snapshot 0 (untimed); snapshot
	 * 1 is another process of the same binary (another layout) */
	for (int i = 0; i < iters; i++) {
		struct ioh_unwinder *v = ioh_unwinder_new();
		ioh_unwind(v, &sf[0].snap, f, IOH_STACK_FRAMES_MAX, &st);
		double t0 = now_us();
		ioh_unwind(v, &sf[1].snap, f, IOH_STACK_FRAMES_MAX, &st);
		t[i] = now_us() - t0;
		ioh_unwinder_free(v);
	}
	printf("unwind_new_process_us=%.1f\n", median(t, iters));
	struct ioh_unwinder *u = ioh_unwinder_new();

	/* warm */
	ioh_unwind(u, &sf[0].snap, f, IOH_STACK_FRAMES_MAX, &st);
	for (int i = 0; i < iters; i++) {
		double t0 = now_us();
		ioh_unwind(u, &sf[0].snap, f, IOH_STACK_FRAMES_MAX, &st);
		t[i] = now_us() - t0;
	}
	printf("unwind_warm_us=%.1f\n", median(t, iters));
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("max_rss_kib=%ld\n", ru.ru_maxrss);
	struct ioh_unwinder_stats s;
	ioh_unwinder_stats(u, &s);
	printf("unwind_frames_cfi=%" PRIu64 "\nunwind_frames_fp=%" PRIu64 "\n", s.frames_cfi,
	       s.frames_fp);
	ioh_unwinder_free(u);

	/* the live side */
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

	for (int i = 0; i < procs; i++)
		snapfile_free(&sf[i]);
	free(sf);
	free(t);
	return 0;
}
