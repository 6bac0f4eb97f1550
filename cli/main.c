// SPDX-License-Identifier: GPL-2.0-only
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/util/jsonw.h"

static const struct cli_command commands[] = {
    {"status", cmd_status, "daemon health: hooks, events, losses, tracked inodes"},
    {"findings", cmd_findings, "recent findings, filtered; --follow streams new ones"},
    {"top", cmd_top, "live view of the hazards on this host (-b for plain-text frames)"},
    {"reload", cmd_reload, "reload the rules (a bad set is rejected, the old one stays)"},
    {"replay", cmd_replay, "correlate a recorded event file and print its findings"},
    {"selftest", cmd_selftest, "run each hazard's pattern and check the daemon reports it"},
    {"rules", cmd_rules, "check or show rules files"},
    {"version", cmd_version, "print the version"},
    {NULL},
};

int cli_error(struct cli *cli, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli->json) {
		struct strbuf sb;
		struct jsonw w;

		strbuf_init(&sb);
		jsonw_init(&w, &sb);
		jsonw_obj_begin(&w);
		jsonw_kv_str(&w, "error", msg);
		jsonw_obj_end(&w);
		printf("%s\n", sb.buf ? sb.buf : "{}");
		strbuf_free(&sb);
	} else {
		fprintf(stderr, "iohazard: %s\n", msg);
	}
	return code;
}

static void print_table(FILE *out, const struct cli_command *table, const char *what)
{
	fprintf(out, "Commands%s%s:\n", what[0] ? " of " : "", what);
	for (const struct cli_command *c = table; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

int cli_dispatch(struct cli *cli, const struct cli_command *table, const char *what, int argc,
		 char **argv)
{
	const struct cli_command *found = NULL;
	size_t len;

	if (argc < 1 || strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0) {
		if (argc < 1 && cli->json)
			return cli_error(cli, CLI_EXIT_USAGE, "missing command%s%s",
					 what[0] ? " of " : "", what);
		print_table(argc < 1 ? stderr : stdout, table, what);
		return argc < 1 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	len = strlen(argv[0]);
	if (len == 0 || argv[0][0] == '-') {
		/* An empty word is a prefix of every name, not an ambiguous command. */
		if (!cli->json)
			print_table(stderr, table, what);
		return cli_error(cli, CLI_EXIT_USAGE, "%s '%s'",
				 len ? "unknown option" : "unknown command", argv[0]);
	}
	for (const struct cli_command *c = table; c->name; c++) {
		if (strcmp(c->name, argv[0]) == 0) {
			found = c;
			break;
		}
		if (strncmp(c->name, argv[0], len) == 0) {
			if (found)
				return cli_error(cli, CLI_EXIT_USAGE, "'%s' is ambiguous", argv[0]);
			found = c;
		}
	}
	if (!found) {
		if (!cli->json)
			print_table(stderr, table, what);
		return cli_error(cli, CLI_EXIT_USAGE, "unknown command '%s'", argv[0]);
	}
	cli_getopt_reset();
	return found->run(cli, argc, argv);
}

void cli_getopt_reset(void)
{
	/* optind = 0 (not 1) makes glibc start over: the '+' of the level above (stop at the
	 * first non-option) does not persist, so options may follow positional arguments
	 * (`rules check rules/ -j`). opterr = 0: cli_bad_option() reports, as JSON under -j. */
	optind = 0;
	opterr = 0;
}

int cli_bad_option(struct cli *cli, char **argv, const char *command)
{
	char shortopt[3] = {'-', (char)optopt, '\0'};
	const char *last = optind > 0 ? argv[optind - 1] : NULL;
	/* A long option is named as written (optopt may hold its short twin when its value is
	 * missing); a short one by optopt, which a cluster like -jx needs. */
	const char *arg = last && strncmp(last, "--", 2) == 0 ? last : optopt ? shortopt : "?";

	if (!command)
		return cli_error(cli, CLI_EXIT_USAGE,
				 "unknown option or missing value '%s' (see 'iohazard --help')",
				 arg);
	return cli_error(cli, CLI_EXIT_USAGE,
			 "%s: unknown option or missing value '%s' (see 'iohazard %s --help')",
			 command, arg, command);
}

int cli_extra_args(struct cli *cli, int argc, char **argv, const char *command)
{
	if (optind >= argc)
		return 0;
	return cli_error(cli, CLI_EXIT_USAGE, "%s: unexpected argument '%s'", command,
			 argv[optind]);
}

int cli_json_help_opts(struct cli *cli, int argc, char **argv, const char *command,
		       const char *usage, bool no_args)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c == 'j') {
			cli->json = true;
		} else if (c == 'h') {
			printf("%s", usage);
			return CLI_EXIT_OK;
		} else {
			return cli_bad_option(cli, argv, command);
		}
	}
	if (no_args && optind < argc)
		return cli_extra_args(cli, argc, argv, command);
	return CLI_GO_ON;
}

int cli_reply_failed(struct cli *cli, struct json_object *reply, const char *fallback)
{
	struct json_object *err;

	if (json_object_object_get_ex(reply, "error", &err))
		return cli_error(cli, CLI_EXIT_FAIL, "daemon: %s", json_object_get_string(err));
	return cli_error(cli, CLI_EXIT_FAIL, "%s", fallback);
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	int r =
	    cli_json_help_opts(cli, argc, argv, "version",
			       "Usage: iohazard version [-j|--json]\n  Prints the version of this "
			       "program (not of the running daemon: see status).\n",
			       true);

	if (r != CLI_GO_ON)
		return r;
	if (cli->json)
		printf("{\"version\":\"%s\"}\n", IOH_VERSION);
	else
		printf("iohazard %s\n", IOH_VERSION);
	return CLI_EXIT_OK;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: iohazard [--socket PATH] [-j|--json] COMMAND [ARGS]\n\n");
	print_table(out, commands, "");
	fprintf(out,
		"\n'iohazard COMMAND --help' describes a command. Exit codes: 0 ok, 1 failed,\n"
		"2 usage, 3 daemon not reachable, 4 daemon blind (status).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct cli cli = {.socket_path = "/run/iohazard/api.sock"};
	int c;

	opterr = 0; /* errors are ours: JSON under -j */
	/* '+': stop at the command name; options after it belong to the command. */
	while ((c = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			cli.socket_path = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			if (!cli.json)
				usage(stderr);
			return cli_bad_option(&cli, argv, NULL);
		}
	}
	if (optind >= argc) {
		if (cli.json)
			return cli_error(&cli, CLI_EXIT_USAGE, "missing command");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return cli_dispatch(&cli, commands, "", argc - optind, argv + optind);
}
