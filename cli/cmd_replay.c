// SPDX-License-Identifier: GPL-2.0-only
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/record/eventlog.h"
#include "daemon/record/replay.h"
#include "daemon/rules/rules.h"
#include "daemon/sinks/event_format.h"
#include "daemon/sinks/finding_format.h"

#define MAX_RULES_DIRS 16

struct replay_out {
	bool json;
	struct strbuf line;
};

static void print_finding(const struct ioh_finding *f, int64_t offset, void *ctx)
{
	struct replay_out *out = ctx;

	strbuf_reset(&out->line);
	if (out->json)
		ioh_finding_json(f, offset, &out->line);
	else
		ioh_finding_text(f, offset, &out->line);
	if (out->line.buf)
		printf("%s\n", out->line.buf);
}

/* --events: the decoded stream itself, one JSON object per line. */
static int dump_events(struct cli *cli, const char *path)
{
	struct ioh_eventlog_reader *r;
	struct ioh_event ev;
	struct strbuf sb;
	char err[512];
	int n;

	if (ioh_eventlog_open(path, &r, err, sizeof(err)) < 0)
		return cli_error(cli, CLI_EXIT_FAIL, "%s", err);
	strbuf_init(&sb);
	while ((n = ioh_eventlog_read(r, &ev)) > 0) {
		struct jsonw w;

		strbuf_reset(&sb);
		jsonw_init(&w, &sb);
		ioh_event_jsonw(&ev, ioh_eventlog_realtime_offset(r), &w);
		printf("%s\n", sb.buf ? sb.buf : "");
	}
	strbuf_free(&sb);
	if (n < 0) {
		n = cli_error(cli, CLI_EXIT_FAIL, "%s: %s", path, ioh_eventlog_error(r));
		ioh_eventlog_close_reader(r);
		return n;
	}
	ioh_eventlog_close_reader(r);
	return CLI_EXIT_OK;
}

int cmd_replay(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"rules-dir", required_argument, NULL, 'r'},
	    {"events", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *dirs[MAX_RULES_DIRS];
	size_t ndirs = 0;
	bool events = false;
	struct ioh_ruleset *rules = NULL;
	struct ioh_rules_errors errors = {0};
	struct ioh_replay_result res;
	struct replay_out out = {0};
	char err[512];
	int c, r;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'r':
			if (ndirs == MAX_RULES_DIRS)
				return cli_error(cli, CLI_EXIT_USAGE, "too many --rules-dir");
			dirs[ndirs++] = optarg;
			break;
		case 'e':
			events = true;
			break;
		case 'h':
			printf(
			    "Usage: iohazard replay [-j|--json] [--rules-dir DIR]... [--events] "
			    "FILE\n"
			    "  Runs the daemon's correlator over a file written by\n"
			    "  `iohazardd --record FILE` and prints the same findings.\n"
			    "  --rules-dir  rules to apply (default: the installed search path)\n"
			    "  --events     print the decoded events instead (JSON lines)\n");
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(cli, argv, "replay");
		}
	}
	if (optind + 1 != argc)
		return cli_error(cli, CLI_EXIT_USAGE, "replay needs exactly one FILE");
	if (events)
		return dump_events(cli, argv[optind]);

	if (!ndirs)
		for (; ndirs < ioh_rules_default_dirs_count; ndirs++)
			dirs[ndirs] = ioh_rules_default_dirs[ndirs];
	r = ioh_rules_load_search_path(dirs, ndirs, &rules, &errors);
	if (r < 0) {
		for (size_t i = 0; i < errors.count; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		ioh_rules_errors_free(&errors);
		return cli_error(cli, CLI_EXIT_FAIL, "rules did not load");
	}
	ioh_rules_errors_free(&errors);
	if (rules->builtin) {
		/* On stderr in every mode: stdout stays the findings. */
		fprintf(stderr, "iohazard: no *.rules file in");
		for (size_t i = 0; i < ndirs; i++)
			fprintf(stderr, "%s %s", i ? "," : "", dirs[i]);
		fprintf(stderr, ": using the %zu built-in vendor rules\n", rules->count);
	}
	out.json = cli->json;
	strbuf_init(&out.line);
	r = ioh_replay_file(argv[optind], rules, NULL, print_finding, &out, &res, err, sizeof(err));
	strbuf_free(&out.line);
	ioh_ruleset_free(rules);
	if (r < 0)
		return cli_error(cli, CLI_EXIT_FAIL, "%s", err);
	if (!cli->json)
		fprintf(stderr, "iohazard: replayed %llu events, %llu findings\n",
			(unsigned long long)res.events, (unsigned long long)res.findings);
	return CLI_EXIT_OK;
}
