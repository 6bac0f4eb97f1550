// SPDX-License-Identifier: GPL-2.0-only
/*
 * Drives daemon/service/notify.c and daemon/sinks/journal.c the way iohazardd does, for
 * tests/e2e/test_notify_journal.sh, which listens on NOTIFY_SOCKET or runs a journald.
 *
 *   harness notify RUN_MS STALL_MS   READY/STATUS/RELOADING/READY, sd-event's watchdog on
 *                                    an sd_event loop for RUN_MS, then one callback that blocks
 *                                    STALL_MS (no pets may arrive), 300 ms more, STOPPING=1
 *   harness journal PATH_FILE        one finding whose path is PATH_FILE's bytes (hostile),
 *                                    sent twice; prints "sent=N failed=N r=ERR"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon/service/notify.h"
#include "daemon/sinks/journal.h"

static int on_exit_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_stall(sd_event_source *s, uint64_t usec, void *userdata)
{
	long stall_ms = *(long *)userdata;
	struct timespec ts = {stall_ms / 1000, (stall_ms % 1000) * 1000000L};

	/* A callback that does not return: the watchdog timer cannot run meanwhile. */
	nanosleep(&ts, NULL);
	/* Then run on a little, so the test sees the pets resume. From the real clock: the
	 * loop's cached "now" is from before the stall. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return sd_event_add_time(sd_event_source_get_event(s), NULL, CLOCK_MONOTONIC,
				 (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u +
				     300000,
				 1, on_exit_timer, NULL);
}

static int run_notify(long run_ms, long stall_ms)
{
	uint64_t usec = 0;
	sd_event *e = NULL;
	int r;

	r = ioh_notify_ready("Watching: 4/4 hooks attached (tracepoint)\nMAINPID=1");
	if (r < 0)
		return fprintf(stderr, "ready: %s\n", strerror(-r)), 1;
	r = ioh_notify_status("findings=%d last=%s", 3, "r\xff\x01");
	if (r < 0)
		return fprintf(stderr, "status: %s\n", strerror(-r)), 1;
	if (ioh_notify_reloading() < 0 || ioh_notify_ready("reloaded: 8 rules") < 0)
		return fprintf(stderr, "reload notifications failed\n"), 1;
	r = sd_event_new(&e);
	if (r < 0)
		return 1;
	/* As iohazardd does (daemon/manager.c): sd-event's own watchdog. */
	r = sd_event_set_watchdog(e, true);
	if (r > 0)
		(void)sd_watchdog_enabled(0, &usec);
	printf("watchdog_start=%d usec=%llu\n", r, (unsigned long long)usec);
	if (r < 0)
		return 1;
	r = sd_event_add_time_relative(e, NULL, CLOCK_MONOTONIC, (uint64_t)run_ms * 1000, 1,
				       on_stall, &stall_ms);
	if (r < 0)
		return 1;
	r = sd_event_loop(e);
	ioh_notify_stopping();
	sd_event_unref(e);
	return r < 0 ? 1 : 0;
}

static int run_journal(const char *path_file)
{
	static char path[4096];
	struct ioh_journal_stats st;
	struct ioh_finding f = {0};
	FILE *in = fopen(path_file, "rb");
	size_t n;
	int r1, r2;

	if (!in)
		return perror(path_file), 1;
	n = fread(path, 1, sizeof(path) - 1, in);
	fclose(in);
	path[n] = '\0';

	f.ts_ns = 1000000000ull;
	f.rule = "rename-without-dir-fsync";
	f.severity = IOH_SEV_CRITICAL;
	f.pid = (uint32_t)getpid();
	memcpy(f.comm, "ev\nil\xff\"c", 9);
	f.cgroup = "/system.slice/app\\x2dweb.service";
	f.file.dev = (254u << 20) | 1u;
	f.file.ino = 987654;
	f.path = path;
	f.fstype = "ext4";
	snprintf(f.message, sizeof(f.message), "renamed but\nthe directory was not fsynced");
	f.fix = "fsync(2) the parent directory after rename(2)";
	ioh_finding_add_str(&f, "old_path", path);
	ioh_finding_add_duration(&f, "window", 5000000000ull);
	ioh_finding_add_uint(&f, "directory_ino", 42);

	r1 = ioh_journal_send_finding(&f, 0);
	r2 = ioh_journal_send_finding(&f, 0);
	ioh_journal_get_stats(&st);
	printf("pid=%d r1=%d r2=%d sent=%llu failed=%llu\n", getpid(), r1, r2,
	       (unsigned long long)st.sent, (unsigned long long)st.failed);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "notify") == 0)
		return run_notify(atol(argv[2]), atol(argv[3]));
	if (argc == 3 && strcmp(argv[1], "journal") == 0)
		return run_journal(argv[2]);
	fprintf(stderr, "usage: harness notify RUN_MS STALL_MS | journal PATH_FILE\n");
	return 2;
}
