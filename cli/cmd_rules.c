// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "daemon/rules/rules.h"
#include "daemon/util/jsonw.h"

/* PATHs are all directories (a search path, lowest precedence first) or all files. */
static int load(struct cli *cli, int argc, char **argv, struct ioh_ruleset **rs,
		struct ioh_rules_errors *errors)
{
	int dirs = 0;
	struct stat st;

	/* Directories are a search path, as the daemon reads them: with no *.rules file in
	 * any of them, the built-in vendor rules apply ((*rs)->builtin). */
	if (argc == 0)
		return ioh_rules_load_search_path(ioh_rules_default_dirs,
						  ioh_rules_default_dirs_count, rs, errors);
	for (int i = 0; i < argc; i++)
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			dirs++;
	if (dirs == argc)
		return ioh_rules_load_search_path((const char *const *)argv, (size_t)argc, rs,
						  errors);
	if (dirs)
		return -EINVAL;
	return ioh_rules_load_files((const char *const *)argv, (size_t)argc, rs, errors);
}

static int rules_check(struct cli *cli, int argc, char **argv)
{
	struct ioh_ruleset *rs = NULL;
	struct ioh_rules_errors errors = {0};
	int r = cli_json_help_opts(
	    cli, argc, argv, "rules check",
	    "Usage: iohazard rules check [-j] [PATH...]\n"
	    "  Validates rules files (or directories, merged as a search path;\n"
	    "  default: the installed search path). Every problem is printed as\n"
	    "  file:line: message; the exit status is 1 if there is any.\n",
	    false);

	if (r != CLI_GO_ON)
		return r;
	r = load(cli, argc - optind, argv + optind, &rs, &errors);
	if (r == -EINVAL && errors.count == 0)
		return cli_error(cli, CLI_EXIT_USAGE, "give either files or directories, not both");
	if (cli->json) {
		struct strbuf sb;
		struct jsonw w;

		strbuf_init(&sb);
		jsonw_init(&w, &sb);
		jsonw_obj_begin(&w);
		jsonw_kv_bool(&w, "valid", r == 0);
		jsonw_key(&w, "errors");
		jsonw_arr_begin(&w);
		for (size_t i = 0; i < errors.count; i++)
			jsonw_str(&w, errors.messages[i]);
		jsonw_arr_end(&w);
		jsonw_kv_uint(&w, "rules", rs ? rs->count : 0);
		jsonw_kv_bool(&w, "builtin", rs && rs->builtin);
		jsonw_obj_end(&w);
		printf("%s\n", sb.buf);
		strbuf_free(&sb);
	} else {
		for (size_t i = 0; i < errors.count; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		if (r == 0 && rs->builtin)
			printf("%zu built-in rules (no *.rules file in the search path): OK\n",
			       rs->count);
		else if (r == 0)
			printf("%zu rules from %zu files: OK\n", rs->count, rs->files.count);
	}
	ioh_rules_errors_free(&errors);
	ioh_ruleset_free(rs);
	return r == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int rules_show(struct cli *cli, int argc, char **argv)
{
	struct ioh_ruleset *rs = NULL;
	struct ioh_rules_errors errors = {0};
	int r = cli_json_help_opts(cli, argc, argv, "rules show",
				   "Usage: iohazard rules show [-j] [PATH...]\n"
				   "  Prints the effective merged rules, in rules-file syntax.\n",
				   false);

	if (r != CLI_GO_ON)
		return r;
	r = load(cli, argc - optind, argv + optind, &rs, &errors);
	if (r < 0) {
		for (size_t i = 0; i < errors.count; i++)
			fprintf(stderr, "%s\n", errors.messages[i]);
		ioh_rules_errors_free(&errors);
		return cli_error(cli, CLI_EXIT_FAIL, "rules did not load");
	}
	if (cli->json) {
		/* The effective text as one JSON string: the stream stays parseable. */
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		struct strbuf sb;
		struct jsonw w;

		if (mem) {
			ioh_ruleset_print(rs, mem);
			fclose(mem);
		}
		strbuf_init(&sb);
		jsonw_init(&w, &sb);
		jsonw_obj_begin(&w);
		jsonw_kv_uint(&w, "count", rs->count);
		jsonw_key(&w, "rules");
		jsonw_strn(&w, text ? text : "", text ? len : 0);
		jsonw_obj_end(&w);
		printf("%s\n", sb.buf ? sb.buf : "{}");
		strbuf_free(&sb);
		free(text);
	} else {
		ioh_ruleset_print(rs, stdout);
	}
	ioh_rules_errors_free(&errors);
	ioh_ruleset_free(rs);
	return CLI_EXIT_OK;
}

int cmd_rules(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command table[] = {
	    {"check", rules_check, "validate rules files; file:line errors"},
	    {"show", rules_show, "print the effective merged rules"},
	    {NULL},
	};

	return cli_dispatch(cli, table, "rules", argc - 1, argv + 1);
}
