// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics endpoint alone, for tests/e2e/test_metrics_http.sh: an sd_event loop with the
 * HTTP server on the given address (port 0 picks one) and a render callback that emits every
 * family of daemon/metrics/families.h with representative values, including label values that
 * need escaping. Prints "port N" once listening; exits on SIGTERM/SIGINT.
 *
 * Usage: metrics-harness LISTEN [--render-once FILE]
 *   --render-once FILE   write one render to FILE (for promtool) and exit without serving
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "daemon/metrics/exposition.h"
#include "daemon/metrics/families.h"
#include "daemon/metrics/http_server.h"
#include "daemon/metrics/textfile.h"
#include "daemon/util/log.h"

static unsigned long scrapes;

static void render(void *ctx, struct strbuf *out)
{
	static const uint64_t pause_ns[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 7, 12, 30, 9, 2, 1};
	static const uint64_t splice_ns[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 40, 2};
	static const char *const progs[] = {"handle_rename", "handle_fsync", "handle_dirty"};
	struct ioh_expo x;

	scrapes++;
	ioh_expo_init(&x, out);
	IOH_EXPO_FAMILY(&x, FINDINGS_TOTAL);
	ioh_expo_u64(&x, IOH_LABELS({"rule", "rename-without-fsync"}, {"severity", "error"}), 17);
	ioh_expo_u64(
	    &x, IOH_LABELS({"rule", "weird \"rule\"\\with\nnewline"}, {"severity", "warning"}), 2);
	IOH_EXPO_FAMILY(&x, EVENTS_TOTAL);
	ioh_expo_u64(&x, IOH_LABELS({"type", "rename"}), 1000 + scrapes);
	ioh_expo_u64(&x, IOH_LABELS({"type", "sync"}), 4242);
	IOH_EXPO_FAMILY(&x, EVENTS_LOST_TOTAL);
	ioh_expo_u64(&x, IOH_LABELS({"where", "ringbuf_rename"}), 0);
	ioh_expo_u64(&x, IOH_LABELS({"where", "inode_map_full"}), 3);
	IOH_EXPO_FAMILY(&x, PROBE_ATTACHED);
	ioh_expo_u64(&x, IOH_LABELS({"probe", "syscalls"}, {"backend", "fentry"}), 1);
	ioh_expo_u64(&x, IOH_LABELS({"probe", "dirty_state"}, {"backend", "none"}), 0);
	IOH_EXPO_FAMILY(&x, DIRTY_THROTTLE_PAUSE_SECONDS);
	ioh_expo_log2_histogram(&x, IOH_LABELS({"bdi", "8:0"}), pause_ns, 20, 1e-9, 123456789, 64);
	ioh_expo_log2_histogram(&x, IOH_LABELS({"bdi", "259:0"}), pause_ns, 20, 1e-9, 0, 0);
	IOH_EXPO_FAMILY(&x, SPLICE_DURATION_SECONDS);
	ioh_expo_log2_histogram(&x, IOH_NO_LABELS, splice_ns, 12, 1e-9, 98765, 47);
	IOH_EXPO_FAMILY(&x, TRACKED_INODES);
	ioh_expo_u64(&x, IOH_NO_LABELS, 812);
	IOH_EXPO_FAMILY(&x, PENDING_RENAMES);
	ioh_expo_u64(&x, IOH_NO_LABELS, 4);
	IOH_EXPO_FAMILY(&x, STATE_EVICTIONS_TOTAL);
	ioh_expo_u64(&x, IOH_NO_LABELS, 0);
	IOH_EXPO_FAMILY(&x, BPF_RUN_SECONDS_TOTAL);
	for (unsigned i = 0; i < 3; i++)
		ioh_expo_double(&x, IOH_LABELS({"prog", progs[i]}), 0.000125 * (i + 1));
	IOH_EXPO_FAMILY(&x, BPF_RUN_COUNT_TOTAL);
	for (unsigned i = 0; i < 3; i++)
		ioh_expo_u64(&x, IOH_LABELS({"prog", progs[i]}), 1000 * (i + 1));
	IOH_EXPO_FAMILY(&x, RULES_LAST_RELOAD_SUCCESS);
	ioh_expo_u64(&x, IOH_NO_LABELS, 1);
	IOH_EXPO_FAMILY(&x, RULES_LAST_RELOAD_SUCCESS_TIMESTAMP);
	ioh_expo_double(&x, IOH_NO_LABELS, 1700000000.5);
	IOH_EXPO_FAMILY(&x, SELFTEST_LAST_SUCCESS);
	ioh_expo_u64(&x, IOH_LABELS({"rule", "rename-without-fsync"}), 1);
	IOH_EXPO_FAMILY(&x, BUILD_INFO);
	ioh_expo_u64(&x, IOH_LABELS({"version", "0.1.0"}), 1);
	IOH_EXPO_FAMILY(&x, SCRAPE_ERRORS_TOTAL);
	ioh_expo_u64(&x, IOH_NO_LABELS, x.errors);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

int main(int argc, char **argv)
{
	struct ioh_metrics_http *http = NULL;
	sd_event *e = NULL;
	sigset_t mask;
	int r;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--render-once") == 0)) {
		fprintf(stderr, "usage: %s LISTEN [--render-once FILE]\n", argv[0]);
		return 2;
	}
	ioh_log_set_level(getenv("IOH_DEBUG") ? IOH_LOG_DEBUG : IOH_LOG_INFO);
	if (argc == 4) {
		struct strbuf sb;

		strbuf_init(&sb);
		render(NULL, &sb);
		r = ioh_metrics_write_textfile(argv[3], sb.buf, sb.len);
		strbuf_free(&sb);
		return r < 0 ? 1 : 0;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (sd_event_default(&e) < 0)
		return 1;
	sd_event_add_signal(e, NULL, SIGTERM, on_signal, NULL);
	sd_event_add_signal(e, NULL, SIGINT, on_signal, NULL);
	r = ioh_metrics_http_new(e, argv[1], render, NULL, &http);
	if (r < 0)
		return 1;
	printf("port %u\n", ioh_metrics_http_port(http));
	fflush(stdout);
	r = sd_event_loop(e);
	ioh_metrics_http_free(http);
	sd_event_unref(e);
	fprintf(stderr, "harness: %lu scrapes rendered\n", scrapes);
	return r < 0 ? 1 : 0;
}
