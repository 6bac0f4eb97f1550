// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "daemon/util/timeops.h"

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

static void print_counters(const char *title, struct json_object *obj)
{
	printf("%-18s", title);
	json_object_object_foreach(obj, key, val)
	{
		printf(" %s=%s", key, json_object_get_string(val));
	}
	printf("\n");
}

static bool is_blind(struct json_object *st)
{
	struct json_object *v;

	return json_object_object_get_ex(st, "blind", &v) && json_object_get_boolean(v);
}

static void print_status(struct json_object *st)
{
	struct json_object *hooks, *obj;

	printf("iohazardd %s, pid %s, up %.0fs, %s\n", get_str(st, "version"), get_str(st, "pid"),
	       json_object_object_get_ex(st, "uptime_seconds", &obj) ? json_object_get_double(obj)
								     : 0.0,
	       json_object_object_get_ex(st, "ready", &obj) && json_object_get_boolean(obj)
		   ? "ready"
		   : "starting");
	if (json_object_object_get_ex(st, "hooks", &hooks)) {
		printf("hooks:\n");
		json_object_object_foreach(hooks, name, h)
		{
			struct json_object *att, *err, *od, *act;
			bool attached = json_object_object_get_ex(h, "attached", &att) &&
					json_object_get_boolean(att);
			bool on_demand = json_object_object_get_ex(h, "on_demand", &od) &&
					 json_object_get_boolean(od);
			bool active = json_object_object_get_ex(h, "active", &act) &&
				      json_object_get_boolean(act);

			printf("  %-16s %-10s %s", name, get_str(h, "backend"),
			       !attached    ? "NOT ATTACHED"
			       : !on_demand ? "attached"
			       : active	    ? "attached (on demand: an inode is watched)"
					    : "on demand (idle: nothing watched)");
			if (json_object_object_get_ex(h, "error", &err))
				printf(" (%s)", json_object_get_string(err));
			printf("\n");
			if (json_object_object_get_ex(h, "refused", &err))
				printf("  %-16s refused: %s\n", "", json_object_get_string(err));
		}
	}
	if (json_object_object_get_ex(st, "events", &obj))
		print_counters("events:", obj);
	if (json_object_object_get_ex(st, "events_lost", &obj))
		print_counters("events lost:", obj);
	printf("tracked inodes:    %s (evictions %s)\n", get_str(st, "tracked_inodes"),
	       get_str(st, "state_evictions"));
	printf("pending renames:   %s (evicted %s, unresolved %s)\n",
	       get_str(st, "pending_renames"), get_str(st, "pending_evictions"),
	       get_str(st, "renames_unresolved"));
	printf("findings:          %s\n", get_str(st, "findings"));
	printf("rules:             %s in force%s, last reload %s\n", get_str(st, "rules"),
	       json_object_object_get_ex(st, "rules_builtin", &obj) && json_object_get_boolean(obj)
		   ? " (the built-in vendor rules: no rules directory holds any)"
		   : "",
	       !json_object_object_get_ex(st, "rules_last_reload_success", &obj) ? "?"
	       : json_object_get_boolean(obj)					 ? "succeeded"
					      : "REJECTED (the previous rules stay in force)");
	if (is_blind(st))
		printf("blind:             YES: %s\n", get_str(st, "blind_reason"));
	else
		printf("blind:             no (the canary came back through the hooks)\n");
}

/* Wait for the socket to appear (inotify on its directory) instead of sleeping blindly;
 * the short poll cap also covers a socket that exists but is not accepting yet. */
static void wait_for_socket(const char *path, int timeout_ms)
{
	char dir[4096];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), slash ? "/" : ".");
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd >= 0 && inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB) >= 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		poll(&pfd, 1, timeout_ms < 100 ? timeout_ms : 100);
	} else {
		poll(NULL, 0, timeout_ms < 100 ? timeout_ms : 100);
	}
	if (fd >= 0)
		close(fd);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"wait-ready", optional_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	double wait_s = 0, deadline;
	struct json_object *reply = NULL, *st, *ok, *ready;
	int c, fd, r;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'w':
			wait_s = optarg ? strtod(optarg, NULL) : 30;
			if (wait_s <= 0)
				return cli_error(cli, CLI_EXIT_USAGE, "--wait-ready: bad seconds");
			break;
		case 'h':
			printf(
			    "Usage: iohazard status [-j|--json] [--wait-ready[=SECONDS]]\n"
			    "  --wait-ready  wait until the daemon has attached every hook and\n"
			    "                bound its listeners (default 30s); exit 3 on timeout\n"
			    "  Exit 4 when the daemon is blind (its canary did not come back).\n");
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(cli, argv, "status");
		}
	}
	if (optind < argc)
		return cli_extra_args(cli, argc, argv, "status");
	deadline = ioh_clock_ns(CLOCK_MONOTONIC) / 1e9 + wait_s;
	for (;;) {
		fd = api_connect(cli->socket_path);
		if (fd >= 0) {
			r = api_call(fd, "status", NULL, 5000, &reply);
			close(fd);
			if (r == 0 && json_object_object_get_ex(reply, "ok", &ok) &&
			    !json_object_get_boolean(ok))
				break; /* refused (permissions): waiting will not help */
			if (r == 0 && json_object_object_get_ex(reply, "status", &st) &&
			    json_object_object_get_ex(st, "ready", &ready) &&
			    (json_object_get_boolean(ready) || wait_s == 0))
				break;
			json_object_put(reply);
			reply = NULL;
		} else {
			r = fd;
		}
		if (r == -EACCES)
			return cli_error(cli, CLI_EXIT_UNREACHABLE,
					 "permission denied on %s (root or group iohazard)",
					 cli->socket_path);
		if (ioh_clock_ns(CLOCK_MONOTONIC) / 1e9 >= deadline)
			return cli_error(cli, CLI_EXIT_UNREACHABLE,
					 "daemon not reachable on %s: %s%s", cli->socket_path,
					 api_strerror(r), wait_s ? " (timed out waiting)" : "");
		wait_for_socket(cli->socket_path,
				(int)((deadline - ioh_clock_ns(CLOCK_MONOTONIC) / 1e9) * 1000) + 1);
	}
	if (json_object_object_get_ex(reply, "ok", &ok) && !json_object_get_boolean(ok)) {
		r = cli_reply_failed(cli, reply, "daemon: status refused");
		json_object_put(reply);
		return r;
	}
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(st, CLI_JSON_FLAGS));
	else
		print_status(st);
	/* A blind daemon answers, but it does not see I/O: scripts and monitors must notice. */
	r = is_blind(st) ? CLI_EXIT_BLIND : CLI_EXIT_OK;
	json_object_put(reply);
	return r;
}
