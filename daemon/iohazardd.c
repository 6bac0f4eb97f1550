// SPDX-License-Identifier: GPL-2.0-only
/*
 * iohazardd: options, the manager (daemon/manager.h), daemonization, the loop.
 *
 *   loader (BPF) -> ring buffer -> ingest (decode, resolve) -> [record] -> correlator
 *        -> findings -> sinks (stdout, journal) ; status over the API socket, /metrics
 */
#include <stdlib.h>

#include "daemon/manager.h"
#include "daemon/service/daemonize.h"
#include "daemon/service/notify.h"
#include "daemon/service/privileges.h"
#include "daemon/util/log.h"

static int run(int argc, char **argv, struct daemon *d)
{
	int ready_fd = -1;
	int r;

	r = ioh_options_parse(argc, argv, &d->opts);
	if (r != 0)
		return r > 0 ? 0 : 2;
	ioh_log_set_level(d->opts.log_level);
	/* Under journald (systemd connects stderr to it and says so in JOURNAL_STREAM), every line
	 * carries its syslog priority as a "<N>" prefix, so `journalctl -p err` finds the errors.
	 */
	ioh_log_set_syslog_prefix(ioh_stderr_is_journal());

	if (manager_load_rules(d) < 0)
		return 1;
	if (d->opts.replay_path)
		return manager_replay(d) < 0 ? 1 : 0;

	if (ioh_check_bpf_capabilities() < 0)
		return 1;
	if (!d->opts.foreground && ioh_daemonize(&ready_fd) < 0)
		return 1;
	if (manager_start(d) < 0)
		return 1;
	ioh_daemonize_ready(&ready_fd);
	manager_announce_ready(d);

	r = sd_event_loop(d->event);
	ioh_notify_stopping();
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct daemon *d;
	int r;

	if (manager_new(&d) < 0)
		return 1;
	r = run(argc, argv, d);
	manager_free(d); /* ends the recording, writes the last textfile, detaches the hooks */
	return r;
}
