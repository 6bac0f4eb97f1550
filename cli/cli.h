/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The `iohazard` CLI: one table of {name, handler, help} per command level (bpftool style),
 * unique prefixes accepted, `-j/--json` for machine output through the one JSON writer, and
 * errors as JSON in JSON mode so the stream stays parseable.
 *
 * Exit codes: 0 success, 1 the command failed (daemon said no, findings in `rules check`),
 * 2 usage error, 3 the daemon is not reachable (also: it refused our credentials), 4 `status`
 * found the daemon blind. docs/cli.md has the table; tests/e2e/test_cli.sh checks each code.
 */
#ifndef IOH_CLI_H
#define IOH_CLI_H

#include <stdbool.h>

struct json_object;

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_UNREACHABLE 3
#define CLI_EXIT_BLIND 4 /* status: the daemon answers but does not see I/O */

/* json-c would escape every '/' in paths; the daemon's writer does not. */
#define CLI_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct cli {
	const char *socket_path;
	bool json;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

/* Finds `name` in `table` (exact name or unique prefix) and runs it; prints help on error. */
int cli_dispatch(struct cli *cli, const struct cli_command *table, const char *what, int argc,
		 char **argv);

/* Every command level starts its getopt_long() loop from here (optind = 0, opterr = 0). */
void cli_getopt_reset(void);
/* getopt_long() returned '?' in `command` (NULL: the global options): a usage error. */
int cli_bad_option(struct cli *cli, char **argv, const char *command);
/* A usage error if positional arguments remain after the options (argv[optind]...). */
int cli_extra_args(struct cli *cli, int argc, char **argv, const char *command);

#define CLI_GO_ON (-1)
/*
 * The options of a command that has only -j/--json and -h/--help: prints `usage` for -h.
 * Returns CLI_GO_ON to go on (arguments start at argv[optind]), or the exit code to return.
 * With `no_args`, an argument after the options is a usage error.
 */
int cli_json_help_opts(struct cli *cli, int argc, char **argv, const char *command,
		       const char *usage, bool no_args);
/* A reply without "ok": true: reports "daemon: <its error>" (or `fallback` when it gave none)
 * and returns CLI_EXIT_FAIL. Does not free `reply`. */
int cli_reply_failed(struct cli *cli, struct json_object *reply, const char *fallback);

/* Reports an error on stderr, or as {"error": ...} on stdout in JSON mode. Returns `code`. */
int cli_error(struct cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_replay(struct cli *cli, int argc, char **argv);
int cmd_rules(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_findings(struct cli *cli, int argc, char **argv);
int cmd_reload(struct cli *cli, int argc, char **argv);
int cmd_selftest(struct cli *cli, int argc, char **argv);
int cmd_top(struct cli *cli, int argc, char **argv);

#endif
