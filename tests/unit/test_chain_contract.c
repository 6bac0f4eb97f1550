// SPDX-License-Identifier: GPL-2.0-only
/*
 * The call-chain contract between the daemon and the CLI (issue 15): findings with a chain are
 * written by the daemon's real writer (ioh_finding_jsonw()), read back by the CLI's reader
 * (cli/finding_text.c) and top's model. The CLI's text of the chain must be the daemon's
 * (ioh_finding_stack_text()), byte for byte, and top must group by the daemon's call site.
 */
#include "tests/unit/check.h"

/* The daemon's call chains (daemon/stacks/, issue 15) land on another branch: until then this
 * test has nothing to check against. */
#if __has_include("daemon/stacks/table.h")
#include <json-c/json.h>
#include <locale.h>
#include <stdlib.h>

#include "cli/finding_text.h"
#include "cli/top/model.h"
#include "cli/top/render_text.h"
#include "daemon/correlator/finding.h"
#include "daemon/sinks/finding_format.h"
#include "daemon/stacks/table.h"
#include "daemon/util/jsonw.h"

static struct json_object *to_json(const struct ioh_finding *f)
{
	struct strbuf sb;
	struct json_object *o;

	strbuf_init(&sb);
	ioh_finding_json(f, 0, &sb);
	o = json_tokener_parse(sb.buf);
	strbuf_free(&sb);
	return o;
}

static void finding_init(struct ioh_finding *f, const char *path, const struct ioh_stack_frame *fr,
			 uint32_t n, enum ioh_stack_status status)
{
	memset(f, 0, sizeof(*f));
	f->ts_ns = 1000000000ULL * 1800000000ULL;
	f->rule = "rename-without-dir-fsync";
	f->severity = IOH_SEV_WARNING;
	f->pid = 4242;
	snprintf(f->comm, sizeof(f->comm), "mariadbd");
	f->path = path;
	f->fstype = "ext4";
	snprintf(f->message, sizeof(f->message), "renamed without fsync");
	f->fix = "fsync the directory";
	f->user_call = true;
	f->stack.status = status;
	f->stack.n_frames = n;
	f->stack.frames = fr;
}

int main(void)
{
	static const char *const evil_fn = "evil\nfn\x1b]0;x\x07";
	static const struct {
		uint32_t first, n;
		enum ioh_stack_status status;
		bool strip, hostile;
	} cases[] = {
	    {0, 3, IOH_STACK_OK, false, false},	      {0, 3, IOH_STACK_TRUNCATED, false, false},
	    {0, 1, IOH_STACK_OK, false, false},	      {0, 0, IOH_STACK_OMITTED, false, false},
	    {0, 0, IOH_STACK_DISABLED, false, false}, {0, 0, IOH_STACK_UNRESOLVED, false, false},
	    {0, 3, IOH_STACK_OK, true, false},	      {2, 1, IOH_STACK_OK, false, false},
	    {0, 3, IOH_STACK_OK, false, true},	      {0, 0, IOH_STACK_NONE, false, false},
	};
	struct ioh_stack_frame frames[3];
	struct ioh_finding f;
	struct strbuf a, b;

	setlocale(LC_ALL, "C.UTF-8");
	memset(frames, 0, sizeof(frames));
	frames[0].module = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	snprintf(frames[0].build_id, sizeof(frames[0].build_id), "aa01");
	frames[0].offset = 0x4a1f;
	frames[0].function = "renameat2";
	frames[1].module = "/usr/sbin/mariadbd";
	snprintf(frames[1].build_id, sizeof(frames[1].build_id), "3f2a");
	frames[1].offset = 0x1139;
	frames[1].function = "save_config";
	frames[1].file = "/src/config.c";
	frames[1].line = 118;
	frames[2].module = "/usr/sbin/mariadbd";
	frames[2].offset = 0x2200;

	TEST_CASE("the CLI's text of a chain is the daemon's")
	{
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct ioh_stack_frame fr[3];
			struct json_object *o;

			memcpy(fr, frames, sizeof(fr));
			if (cases[i].strip) {
				fr[1].function = NULL;
				fr[1].file = NULL;
			}
			if (cases[i].hostile) {
				fr[1].function = evil_fn;
				fr[1].module = "/opt/\xe2\x80\xae"
					       "app\xff"; /* not UTF-8: module_bytes */
			}
			finding_init(&f, "/var/lib/a", fr + cases[i].first, cases[i].n,
				     cases[i].status);
			strbuf_init(&a);
			strbuf_init(&b);
			ioh_finding_stack_text(&f, &a);
			o = to_json(&f);
			CHECK(o != NULL);
			cli_finding_chain_text(o, &b);
			CHECK_STR(b.buf ? b.buf : "", a.buf ? a.buf : "");
			json_object_put(o);
			strbuf_free(&a);
			strbuf_free(&b);
		}
	}
	TEST_CASE("top groups the daemon's findings by call site")
	{
		struct top_hazard *const *rows;
		struct top_columns cols;
		struct top_model m;
		char path[64];
		size_t n;

		top_model_init(&m);
		for (int i = 0; i < 102; i++) {
			struct json_object *o;

			snprintf(path, sizeof(path), "/var/lib/mysql/t%d.frm", i);
			finding_init(&f, path, frames, 3, IOH_STACK_OK);
			f.ts_ns += (uint64_t)i * 1000;
			o = to_json(&f);
			CHECK_INT(top_model_add_finding(&m, o), 1);
			json_object_put(o);
		}
		rows = top_model_rows(&m, &n);
		CHECK_INT(n, 1);
		CHECK_INT(n ? rows[0]->n_files : 0, 102);
		strbuf_init(&a);
		top_columns_layout(&m, 0, &cols);
		if (n)
			top_render_row(rows[0], &cols, 0, &a);
		printf("# %s\n", a.buf ? a.buf : "");
		CHECK(a.buf && strstr(a.buf, "102 files from save_config (config.c:118) in "
					     "/usr/sbin/mariadbd"));
		strbuf_free(&a);
		top_model_fini(&m);
	}
	return check_summary();
}
#else
int main(void)
{
	printf("# skipped: this tree has no daemon/stacks/table.h (the chain producer)\n");
	CHECK(1);
	return check_summary();
}
#endif
