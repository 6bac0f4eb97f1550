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
#include "daemon/rules/rules.h"
#include "daemon/util/strbuf.h"

/* Appends field `key` escaped for the terminal; the daemon's "<key>_bytes" (hex of a name
 * that is not valid UTF-8) gives back the real bytes, which then show as \xNN. */
static void put_field(struct strbuf *sb, struct json_object *f, const char *key, const char *dflt)
{
	struct json_object *v;
	char bytes_key[64];
	const char *s;

	snprintf(bytes_key, sizeof(bytes_key), "%s_bytes", key);
	if (json_object_object_get_ex(f, bytes_key, &v) && (s = json_object_get_string(v))) {
		size_t n = strlen(s) / 2;
		char *raw = malloc(n + 1);

		if (raw) {
			for (size_t i = 0; i < n; i++) {
				unsigned byte;

				if (sscanf(s + 2 * i, "%2x", &byte) != 1)
					byte = '?';
				raw[i] = (char)byte;
			}
			strbuf_put_escaped(sb, raw, n);
			free(raw);
			return;
		}
	}
	if (json_object_object_get_ex(f, key, &v) && !json_object_is_type(v, json_type_null) &&
	    (s = json_object_get_string(v)))
		strbuf_put_escaped(sb, s, strlen(s));
	else
		strbuf_puts(sb, dflt);
}

static bool is_libc_module(const char *m)
{
	const char *base = strrchr(m, '/');

	base = base ? base + 1 : m;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) ||
	       !strncmp(base, "libpthread", 10) || !strncmp(base, "ld-linux", 8);
}

/* The call site, as the daemon's text form names it (daemon/sinks/finding_format.c): the first
 * frame of evidence.stack outside libc, " at FUNC (FILE:LINE) in MODULE", or why there is none. */
static void put_call_site(struct strbuf *sb, struct json_object *f)
{
	struct json_object *ev, *status, *stack, *fr = NULL, *v;
	const char *st;

	if (!json_object_object_get_ex(f, "evidence", &ev) ||
	    !json_object_object_get_ex(ev, "stack_status", &status))
		return;
	st = json_object_get_string(status);
	if (json_object_object_get_ex(ev, "stack", &stack) &&
	    json_object_is_type(stack, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(stack) && !fr; i++) {
			struct json_object *c = json_object_array_get_idx(stack, i);

			if (json_object_object_get_ex(c, "module", &v) &&
			    json_object_is_type(v, json_type_string) &&
			    !is_libc_module(json_object_get_string(v)))
				fr = c;
		}
	}
	if (!fr) {
		strbuf_puts(sb, " (stack ");
		strbuf_put_escaped(sb, st, strlen(st));
		strbuf_putc(sb, ')');
		return;
	}
	strbuf_puts(sb, " at ");
	if (json_object_object_get_ex(fr, "function", &v) && json_object_is_type(v, json_type_string))
		put_field(sb, fr, "function", "?");
	else if (json_object_object_get_ex(fr, "offset", &v))
		strbuf_printf(sb, "0x%llx", (unsigned long long)json_object_get_int64(v));
	if (json_object_object_get_ex(fr, "file", &v) && json_object_is_type(v, json_type_string)) {
		const char *file = json_object_get_string(v), *base = strrchr(file, '/');

		base = base ? base + 1 : file;
		strbuf_puts(sb, " (");
		strbuf_put_escaped(sb, base, strlen(base));
		json_object_object_get_ex(fr, "line", &v);
		strbuf_printf(sb, ":%d)", v ? json_object_get_int(v) : 0);
	}
	strbuf_puts(sb, " in ");
	put_field(sb, fr, "module", "?");
}

/* One finding object as a readable line: the daemon's --output=text form, every name escaped
 * for the terminal by strbuf_put_escaped() (the one escaping of human-facing output). */
static void print_finding_text(struct json_object *f)
{
	static const char *const keys[] = {"time", "severity", "rule"};
	struct json_object *v;
	struct strbuf sb;

	strbuf_init(&sb);
	for (int i = 0; i < 3; i++) {
		put_field(&sb, f, keys[i], "?");
		strbuf_putc(&sb, ' ');
	}
	if (json_object_object_get_ex(f, "confidence", &v) &&
	    strcmp(json_object_get_string(v), "degraded") == 0)
		strbuf_puts(&sb, "(degraded) ");
	strbuf_puts(&sb, "pid=");
	put_field(&sb, f, "pid", "?");
	strbuf_puts(&sb, " comm=");
	put_field(&sb, f, "comm", "?");
	if (json_object_object_get_ex(f, "unit", &v) && !json_object_is_type(v, json_type_null)) {
		strbuf_puts(&sb, " unit=");
		put_field(&sb, f, "unit", "");
	}
	strbuf_puts(&sb, " path=");
	put_field(&sb, f, "path", "?");
	if (json_object_object_get_ex(f, "message", &v)) {
		strbuf_puts(&sb, ": ");
		put_field(&sb, f, "message", "");
	}
	put_call_site(&sb, f);
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
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "subscribe failed: %s", api_strerror(r));
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
	struct timespec now;
	uint64_t ago;
	int64_t now_ns;
	char *end;
	double secs;
	int r;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
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

int cmd_findings(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},  {"follow", no_argument, NULL, 'f'},
		{"rule", required_argument, NULL, 'r'}, {"since", required_argument, NULL, 's'},
		{"limit", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
		{0},
	};
	struct json_object *req, *reply = NULL, *ok, *list;
	struct api_conn conn;
	const char *rule = NULL;
	int64_t since = 0;
	long limit = 0;
	bool follow_mode = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "jfr:s:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'f':
			follow_mode = true;
			break;
		case 'r':
			rule = optarg;
			break;
		case 's':
			r = parse_since(optarg, &since);
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
			limit = strtol(optarg, NULL, 10);
			if (limit <= 0)
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
	r = api_open(&conn, cli->socket_path);
	if (r < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon not reachable on %s: %s",
				 cli->socket_path, api_strerror(r));
	req = json_object_new_object();
	if (rule)
		json_object_object_add(req, "rule", json_object_new_string(rule));
	if (since)
		json_object_object_add(req, "since_ns", json_object_new_int64(since));
	if (limit)
		json_object_object_add(req, "limit", json_object_new_int64(limit));
	r = api_request(&conn, "findings", req, 5000, &reply);
	json_object_put(req);
	if (r < 0) {
		api_close(&conn);
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "request failed: %s", api_strerror(r));
	}
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(reply, "findings", &list)) {
		struct json_object *err;

		r = cli_error(cli, CLI_EXIT_FAIL, "daemon: %s",
			      json_object_object_get_ex(reply, "error", &err)
				      ? json_object_get_string(err) : "bad reply");
		json_object_put(reply);
		api_close(&conn);
		return r;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_finding(cli, json_object_array_get_idx(list, i));
	json_object_put(reply);
	r = follow_mode ? follow(cli, &conn, rule) : CLI_EXIT_OK;
	api_close(&conn);
	return r;
}

int cmd_reload(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct json_object *reply = NULL, *ok, *v;
	int c, fd, r;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'h':
			printf("Usage: iohazard reload [-j|--json]\n  Reloads the rules files; a bad "
			       "set is rejected and the previous rules stay in force.\n");
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(cli, argv, "reload");
		}
	}
	if (optind < argc)
		return cli_extra_args(cli, argc, argv, "reload");
	fd = api_connect(cli->socket_path);
	if (fd < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "daemon not reachable on %s: %s",
				 cli->socket_path, strerror(-fd));
	r = api_call(fd, "reload", NULL, 10000, &reply);
	close(fd);
	if (r < 0)
		return cli_error(cli, CLI_EXIT_UNREACHABLE, "request failed: %s", api_strerror(r));
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		r = cli_error(cli, CLI_EXIT_FAIL, "%s",
			      json_object_object_get_ex(reply, "error", &v) ? json_object_get_string(v)
									   : "reload failed");
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
		printf("reloaded: %s rules\n",
		       json_object_object_get_ex(reply, "rules", &v) ? json_object_get_string(v) : "?");
	json_object_put(reply);
	return CLI_EXIT_OK;
}
