// SPDX-License-Identifier: GPL-2.0-only
/*
 * `iohazard top`: options, the connection and the main loop. One connection carries the
 * subscription (findings as they happen, stats every second), the backlog of recent findings
 * and a first status, so the first frame is complete at once. The loop poll()s the socket and
 * the keyboard and wakes for the refresh tick: no sleeping, no busy waiting. The model
 * (cli/top/model.c) aggregates; batch frames come from cli/top/render_text.c, the live view
 * from cli/top/ui_curses.c.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/top/model.h"
#include "cli/top/render_text.h"
#include "cli/top/ui.h"
#include "daemon/util/timeops.h"

#define FIRST_REPLY_TIMEOUT_MS 5000

struct top_opts {
	double delay_s; /* refresh interval */
	bool batch;
	long frames; /* batch: frames to print, 0 = until interrupted */
	int width;   /* batch: columns, 0 = unlimited */
};

struct conn {
	struct api_conn api; /* the socket and the one JSON-lines reader (cli/jsonl.h) */
	bool got_backlog;    /* the "findings" reply arrived */
	bool got_status;     /* the "status" reply arrived */
	char error[512];     /* the daemon said "ok": false */
	int refused;	     /* -EACCES/-EUSERS: the daemon refused the connection (api_refusal) */
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

static void usage(FILE *out)
{
	struct strbuf keys;

	/* The keys come from the table the live view uses (cli/top/keys.c). */
	strbuf_init(&keys);
	top_render_keys_usage(78, &keys);
	fprintf(out,
		"Usage: iohazard top [-d SECONDS] [-b [-n N] [-w COLS] [-j]]\n"
		"  Live view of the hazards on this host: header (events/s, losses, hooks),\n"
		"  one row per rule and path (or call site) sorted by severity then recency,\n"
		"  and the dirty-throttle and splice panel.\n"
		"  -d, --delay SECONDS   refresh interval (default 2, at least 0.1)\n"
		"  -b, --batch           plain-text frames on stdout, no terminal control\n"
		"  -n, --iterations N    batch: stop after N frames (default: until interrupted)\n"
		"  -w, --width COLS      batch: fit lines to COLS (default: unlimited)\n"
		"  -j, --json            batch: one JSON object per frame\n"
		"%s"
		"  Exit: 0 ok, 1 the daemon refused, 2 usage or no usable terminal, 3 daemon\n"
		"  not reachable (not running, connection lost, or permission denied).\n",
		keys.buf ? keys.buf : "");
	strbuf_free(&keys);
}

/* ---- connection ----------------------------------------------------------------------------- */

static int send_requests(int fd)
{
	/* Subscribe first: a finding made while the backlog is read is then in the stream too,
	 * and the model drops the duplicate, instead of being in neither. */
	static const char req[] = "{\"command\":\"subscribe\"}\n"
				  "{\"command\":\"findings\"}\n"
				  "{\"command\":\"status\"}\n";

	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1))
		return -errno;
	return 0;
}

static void handle_msg(struct conn *c, struct top_model *m, struct json_object *msg)
{
	struct json_object *v;

	if (!json_object_is_type(msg, json_type_object))
		return; /* a line we do not understand is not worth dying for */
	if (json_object_object_get_ex(msg, "finding", &v)) {
		top_model_add_finding(m, v);
	} else if (json_object_object_get_ex(msg, "stats", &v)) {
		top_model_add_stats(m, v, ioh_clock_ns(CLOCK_MONOTONIC) / 1e9);
	} else if (json_object_object_get_ex(msg, "ok", &v) && !json_object_get_boolean(v)) {
		c->refused = api_refusal(msg);
		snprintf(c->error, sizeof(c->error), "%s",
			 json_object_object_get_ex(msg, "error", &v) ? json_object_get_string(v)
								     : "request refused");
	} else if (json_object_object_get_ex(msg, "findings", &v) &&
		   json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			top_model_add_finding(m, json_object_array_get_idx(v, i));
		c->got_backlog = true;
	} else if (json_object_object_get_ex(msg, "status", &v)) {
		top_model_add_stats(m, v, ioh_clock_ns(CLOCK_MONOTONIC) / 1e9);
		c->got_status = true;
	}
}

/* Reads what the socket has, handles every whole line. 0, or -ECONNRESET when the daemon went
 * away, -EMSGSIZE. */
static int conn_read(struct conn *c, struct top_model *m)
{
	struct json_object *msg;
	int r = jsonl_fill(&c->api.in, true);

	if (r < 0)
		return r;
	while ((r = jsonl_next(&c->api.in, &msg)) != 0) {
		if (r == 1)
			handle_msg(c, m, msg);
		json_object_put(msg);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

static int unreachable(struct cli *cli, int err)
{
	if (err == -EACCES || err == -EPERM)
		return cli_error(cli, CLI_EXIT_UNREACHABLE,
				 "permission denied on %s: run as root or as a member of group "
				 "iohazard",
				 cli->socket_path);
	if (err == -ENOENT || err == -ECONNREFUSED)
		return cli_error(cli, CLI_EXIT_UNREACHABLE,
				 "iohazardd is not running (nothing listens on %s); start it with "
				 "'systemctl start iohazardd'",
				 cli->socket_path);
	return cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon not reachable on %s: %s",
			 cli->socket_path, api_strerror(err));
}

/* ---- main loop ------------------------------------------------------------------------------ */

static void print_frame(struct cli *cli, struct top_model *m, const char *host, int width)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (cli->json) {
		top_render_json(m, host, (int64_t)ioh_clock_ns(CLOCK_REALTIME), &sb);
		strbuf_putc(&sb, '\n');
	} else {
		top_render_frame(m, host, width, (int64_t)ioh_clock_ns(CLOCK_REALTIME), &sb);
	}
	if (sb.buf)
		fwrite(sb.buf, 1, sb.len, stdout);
	fflush(stdout);
	strbuf_free(&sb);
}

/* Reads what the daemon sent. CLI_GO_ON, or the exit code once the daemon refused a request
 * or the connection is gone (the terminal is given back first, to show why). */
static int read_socket(struct cli *cli, struct conn *c, struct top_model *m, struct top_ui **ui)
{
	int err = conn_read(c, m);

	if (!c->error[0] && err >= 0)
		return CLI_GO_ON;
	top_ui_fini(*ui);
	*ui = NULL;
	if (c->error[0] && c->refused)
		return unreachable(cli, c->refused);
	if (c->error[0])
		return cli_error(cli, CLI_EXIT_FAIL, "daemon: %s", c->error);
	return cli_error(cli, CLI_EXIT_UNREACHABLE, "lost the connection to iohazardd on %s: %s",
			 cli->socket_path,
			 err == -ECONNRESET ? "the daemon closed it" : strerror(-err));
}

static int run(struct cli *cli, const struct top_opts *o, struct conn *c, struct top_model *m,
	       const char *host)
{
	struct top_ui *ui = NULL;
	double started = ioh_clock_ns(CLOCK_MONOTONIC) / 1e9, next_tick = 0;
	long frames = 0;
	bool ready = false;
	int r;

	if (!o->batch) {
		r = top_ui_init(&ui, m, host);
		if (r < 0)
			return cli_error(cli, CLI_EXIT_USAGE,
					 "cannot use this terminal (TERM=%s): %s; use -b for plain "
					 "text",
					 getenv("TERM") ? getenv("TERM") : "", strerror(-r));
	}
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = c->api.fd, .events = POLLIN},
		    {.fd = STDIN_FILENO, .events = POLLIN},
		};
		double now = ioh_clock_ns(CLOCK_MONOTONIC) / 1e9;
		int timeout_ms;

		if (!ready && c->got_backlog && c->got_status) {
			/* The first frame as soon as the picture is complete. */
			ready = true;
			next_tick = now;
		}
		if (!ready && now - started > FIRST_REPLY_TIMEOUT_MS / 1000.0) {
			r = cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon on %s did not answer",
				      cli->socket_path);
			break;
		}
		if (ready && now >= next_tick) {
			next_tick = now + o->delay_s;
			if (ui) {
				top_ui_draw(ui, (int64_t)ioh_clock_ns(CLOCK_REALTIME), true);
			} else {
				print_frame(cli, m, host, o->width);
				if (o->frames && ++frames >= o->frames) {
					r = CLI_EXIT_OK;
					break;
				}
			}
		}
		timeout_ms = ready ? (int)ceil((next_tick - now) * 1000) : 100;
		if (timeout_ms < 0)
			timeout_ms = 0;
		r = poll(pfd, ui ? 2 : 1, timeout_ms);
		if (stop_requested) {
			r = CLI_EXIT_OK;
			break;
		}
		if (r < 0 && errno != EINTR) {
			r = cli_error(cli, CLI_EXIT_FAIL, "poll: %s", strerror(errno));
			break;
		}
		/* EINTR included: SIGWINCH arrives that way and getch() then yields KEY_RESIZE. */
		if (ui && top_ui_input(ui)) {
			r = CLI_EXIT_OK;
			break;
		}
		if (r > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (r = read_socket(cli, c, m, &ui)) != CLI_GO_ON)
			return r;
		/* Keys show at once; data waits for the tick, so a burst of findings costs
		 * one redraw per interval on a slow terminal. */
		if (ui && ready)
			top_ui_draw(ui, (int64_t)ioh_clock_ns(CLOCK_REALTIME), false);
	}
	top_ui_fini(ui);
	return r;
}

/* The options, checked together. CLI_GO_ON, or the exit code (usage errors, --help). */
static int parse_opts(struct cli *cli, int argc, char **argv, struct top_opts *o)
{
	static const struct option longopts[] = {
	    {"delay", required_argument, NULL, 'd'},
	    {"batch", no_argument, NULL, 'b'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"width", required_argument, NULL, 'w'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "d:bn:w:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			o->delay_s = strtod(optarg, &end);
			if (end == optarg || *end || !(o->delay_s >= 0.1) || o->delay_s > 86400)
				return cli_error(cli, CLI_EXIT_USAGE,
						 "-d: expected seconds between 0.1 and 86400");
			break;
		case 'b':
			o->batch = true;
			break;
		case 'n':
			o->frames = strtol(optarg, &end, 10);
			if (end == optarg || *end || o->frames <= 0)
				return cli_error(cli, CLI_EXIT_USAGE, "-n: expected a count > 0");
			break;
		case 'w':
			o->width = (int)strtol(optarg, &end, 10);
			if (end == optarg || *end || o->width < 0 || o->width > 10000)
				return cli_error(cli, CLI_EXIT_USAGE,
						 "-w: expected columns (0 for unlimited)");
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(cli, argv, "top");
		}
	}
	if (optind < argc)
		return cli_extra_args(cli, argc, argv, "top");
	if (o->width && o->width < 40)
		return cli_error(cli, CLI_EXIT_USAGE, "-w: at least 40 columns");
	if (!o->batch && (o->frames || o->width))
		return cli_error(cli, CLI_EXIT_USAGE, "-n and -w are for batch mode (-b)");
	if (!o->batch && cli->json)
		return cli_error(cli, CLI_EXIT_USAGE, "--json needs batch mode (-b)");
	return CLI_GO_ON;
}

int cmd_top(struct cli *cli, int argc, char **argv)
{
	struct top_opts o = {.delay_s = 2};
	struct conn c = {.api = {.fd = -1}};
	struct top_model m;
	struct sigaction sa = {.sa_handler = on_stop_signal};
	char host[256] = "?";
	const char *why;
	int r;

	r = parse_opts(cli, argc, argv, &o);
	if (r != CLI_GO_ON)
		return r;
	/* Names are shown in the user's character set; escaping adapts to it. */
	setlocale(LC_ALL, "");
	if (!o.batch && top_ui_check_terminal(&why) < 0)
		return cli_error(cli, CLI_EXIT_USAGE, "%s", why);

	r = api_open(&c.api, cli->socket_path);
	if (r < 0)
		return unreachable(cli, r);
	r = send_requests(c.api.fd);
	if (r < 0) {
		struct json_object *msg = NULL, *v;

		/* A daemon that refuses us writes why and closes at once: the send then fails
		 * (EPIPE) while the reason waits to be read. */
		if ((r == -EPIPE || r == -ECONNRESET) && api_next(&c.api, 1000, &msg) == 1 &&
		    api_refusal(msg) < 0 && json_object_object_get_ex(msg, "error", &v)) {
			r = cli_error(cli, CLI_EXIT_UNREACHABLE, "iohazardd on %s refused: %s",
				      cli->socket_path, json_object_get_string(v));
			json_object_put(msg);
			api_close(&c.api);
			return r;
		}
		json_object_put(msg);
		api_close(&c.api);
		return unreachable(cli, r);
	}
	gethostname(host, sizeof(host) - 1);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	top_model_init(&m);
	r = run(cli, &o, &c, &m, host);
	top_model_fini(&m);
	api_close(&c.api);
	return r;
}
