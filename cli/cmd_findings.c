// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/finding_text.h"
#include "daemon/rules/rules.h"
#include "daemon/util/strbuf.h"
#include "daemon/util/timeops.h"

/* One finding object as a readable line: the daemon's --output=text form, with the first
 * frame of its call chain outside libc (cli/finding_text.c). */
static void print_finding_text(struct json_object *f)
{
	struct strbuf sb;

	strbuf_init(&sb);
	cli_finding_text(f, &sb);
	if (sb.buf)
		printf("%s\n", sb.buf);
	strbuf_free(&sb);
}

static void print_finding(struct cli *cli, struct json_object *f)
{
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(f, CLI_JSON_FLAGS));
	else
		print_finding_text(f);
	fflush(stdout);
}

static bool matches(struct json_object *f, const char *rule, int64_t since_ns)
{
	struct json_object *v;

	if (rule && (!json_object_object_get_ex(f, "rule", &v) ||
		     strcmp(json_object_get_string(v), rule) != 0))
		return false;
	(void)since_ns; /* streamed findings are new by definition */
	return true;
}

/* --follow: subscribe and print findings as they come, until the daemon goes away. A
 * finding that arrives in the same read as the subscribe reply is the next line. */
static int follow(struct cli *cli, struct api_conn *c, const char *rule)
{
	struct json_object *reply = NULL, *ok;
	int r = api_request(c, "subscribe", NULL, 5000, &reply);

	if (r < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "subscribe failed: %s",
				 api_strerror(r));
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		json_object_put(reply);
		return cli_error(cli, CLI_EXIT_FAIL, "daemon refused the subscription");
	}
	json_object_put(reply);
	for (;;) {
		struct json_object *msg = NULL, *f;

		r = api_next(c, -1, &msg);
		if (r == -EBADMSG)
			continue; /* a line we do not understand is not worth dying for */
		if (r < 0)
			return cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon closed the connection");
		if (json_object_object_get_ex(msg, "finding", &f) && matches(f, rule, 0))
			print_finding(cli, f);
		json_object_put(msg);
	}
}

/* "10m" ago, or a Unix time in seconds, to realtime ns. -ERANGE for a time that realtime
 * nanoseconds (int64) cannot hold: converting it would wrap, and wrapped it meant "since the
 * beginning" (issue 12). A duration longer than the time since 1970 means everything. */
static int parse_since(const char *text, int64_t *out)
{
	int64_t now_ns = (int64_t)ioh_clock_ns(CLOCK_REALTIME);
	uint64_t ago;
	char *end;
	double secs;
	int r;

	r = ioh_parse_duration(text, &ago);
	if (r == -ERANGE && strpbrk(text, "smhd"))
		ago = UINT64_MAX;
	if ((r == 0 || r == -ERANGE) && strpbrk(text, "smhd")) {
		*out = ago >= (uint64_t)now_ns ? 1 : now_ns - (int64_t)ago;
		return 0;
	}
	errno = 0;
	secs = strtod(text, &end);
	if (end == text || *end || !(secs >= 0))
		return -EINVAL;
	if (errno == ERANGE || secs >= (double)INT64_MAX / 1e9)
		return -ERANGE;
	*out = (int64_t)(secs * 1e9);
	return 0;
}

struct findings_opts {
	const char *rule;
	int64_t since;
	long limit;
	bool follow;
};

/* Returns CLI_GO_ON, or the exit code (after --help or a usage error). */
static int parse_findings_opts(struct cli *cli, int argc, char **argv, struct findings_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"follow", no_argument, NULL, 'f'},
	    {"rule", required_argument, NULL, 'r'},
	    {"since", required_argument, NULL, 's'},
	    {"limit", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "jfr:s:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'r':
			o->rule = optarg;
			break;
		case 's':
			r = parse_since(optarg, &o->since);
			if (r == -ERANGE)
				return cli_error(cli, CLI_EXIT_USAGE,
						 "--since: %s is out of range (Unix seconds up "
						 "to 9223372036, year 2262)",
						 optarg);
			if (r < 0)
				return cli_error(cli, CLI_EXIT_USAGE,
						 "--since: expected a duration ago (10m) or Unix "
						 "seconds");
			break;
		case 'n':
			o->limit = strtol(optarg, NULL, 10);
			if (o->limit <= 0)
				return cli_error(cli, CLI_EXIT_USAGE, "--limit: expected N > 0");
			break;
		case 'h':
			printf("Usage: iohazard findings [-j] [--rule R] [--since 10m|UNIXTIME] "
			       "[--limit N] [--follow]\n"
			       "  Recent findings kept by the daemon (the last 1024 reported),\n"
			       "  oldest first; --follow then streams new ones.\n");
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(cli, argv, "findings");
		}
	}
	if (optind < argc)
		return cli_extra_args(cli, argc, argv, "findings");
	return CLI_GO_ON;
}

int cmd_findings(struct cli *cli, int argc, char **argv)
{
	struct json_object *req, *reply = NULL, *ok, *list;
	struct findings_opts o = {0};
	struct api_conn conn;
	int r = parse_findings_opts(cli, argc, argv, &o);

	if (r != CLI_GO_ON)
		return r;
	r = api_open(&conn, cli->socket_path);
	if (r < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon not reachable on %s: %s",
				 cli->socket_path, api_strerror(r));
	req = json_object_new_object();
	if (o.rule)
		json_object_object_add(req, "rule", json_object_new_string(o.rule));
	if (o.since)
		json_object_object_add(req, "since_ns", json_object_new_int64(o.since));
	if (o.limit)
		json_object_object_add(req, "limit", json_object_new_int64(o.limit));
	r = api_request(&conn, "findings", req, 5000, &reply);
	json_object_put(req);
	if (r < 0) {
		api_close(&conn);
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "request failed: %s", api_strerror(r));
	}
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(reply, "findings", &list)) {
		r = cli_reply_failed(cli, reply, "bad reply");
		json_object_put(reply);
		api_close(&conn);
		return r;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_finding(cli, json_object_array_get_idx(list, i));
	json_object_put(reply);
	r = o.follow ? follow(cli, &conn, o.rule) : CLI_EXIT_OK;
	api_close(&conn);
	return r;
}

int cmd_reload(struct cli *cli, int argc, char **argv)
{
	struct json_object *reply = NULL, *ok, *v;
	int fd,
	    r = cli_json_help_opts(cli, argc, argv, "reload",
				   "Usage: iohazard reload [-j|--json]\n  Reloads the rules files; "
				   "a bad set is rejected and the previous rules stay in force.\n",
				   true);

	if (r != CLI_GO_ON)
		return r;
	fd = api_connect(cli->socket_path);
	if (fd < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon not reachable on %s: %s",
				 cli->socket_path, strerror(-fd));
	r = api_call(fd, "reload", NULL, 10000, &reply);
	close(fd);
	if (r < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "request failed: %s", api_strerror(r));
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		r = cli_reply_failed(cli, reply, "reload failed");
		json_object_put(reply);
		return r;
	}
	if (json_object_object_get_ex(reply, "reloaded", &v) && !json_object_get_boolean(v)) {
		struct json_object *errs;

		if (cli->json) {
			printf("%s\n", json_object_to_json_string_ext(reply, CLI_JSON_FLAGS));
		} else if (json_object_object_get_ex(reply, "errors", &errs)) {
			for (size_t i = 0; i < json_object_array_length(errs); i++)
				fprintf(stderr, "%s\n",
					json_object_get_string(json_object_array_get_idx(errs, i)));
		}
		json_object_put(reply);
		if (!cli->json)
			fprintf(stderr, "iohazard: rules did not load; the previous rules stay in "
					"force\n");
		return CLI_EXIT_FAIL;
	}
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(reply, CLI_JSON_FLAGS));
	else
		printf("reloaded: %s rules\n", json_object_object_get_ex(reply, "rules", &v)
						   ? json_object_get_string(v)
						   : "?");
	json_object_put(reply);
	return CLI_EXIT_OK;
}
