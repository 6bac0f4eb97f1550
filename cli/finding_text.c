// SPDX-License-Identifier: GPL-2.0-only
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/finding_text.h"
#include "daemon/stacks/table.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool cli_json_raw(struct json_object *o, const char *key, struct strbuf *out)
{
	struct json_object *v;
	char bytes_key[64];
	const char *s;

	if (!o || !json_object_is_type(o, json_type_object))
		return false;
	snprintf(bytes_key, sizeof(bytes_key), "%s_bytes", key);
	if (json_object_object_get_ex(o, bytes_key, &v) &&
	    json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		for (size_t i = 0; s[i] && s[i + 1]; i += 2) {
			int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

			/* A NUL would end the name early; a bad digit shows as '?'. */
			strbuf_putc(out, hi < 0 || lo < 0 || (hi | lo) == 0 ? '?'
									    : (char)(hi << 4 | lo));
		}
		return true;
	}
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return false;
	/* Numbers too (pid): their JSON text. */
	strbuf_puts(out, json_object_get_string(v));
	return true;
}

/* The daemon's own test (daemon/stacks/table.c), so both name the same first frame. */
bool cli_chain_is_libc_module(const char *path)
{
	return ioh_stack_is_libc_module(path);
}

static struct json_object *evidence(struct json_object *f)
{
	struct json_object *ev;

	if (!f || !json_object_object_get_ex(f, "evidence", &ev) ||
	    !json_object_is_type(ev, json_type_object))
		return NULL;
	return ev;
}

const char *cli_chain_status(struct json_object *f)
{
	struct json_object *ev = evidence(f), *v;

	if (!ev || !json_object_object_get_ex(ev, "stack_status", &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *cli_chain_frames(struct json_object *f)
{
	struct json_object *ev = evidence(f), *v;

	if (!ev || !json_object_object_get_ex(ev, "stack", &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

struct json_object *cli_chain_first_app_frame(struct json_object *f)
{
	struct json_object *frames = cli_chain_frames(f);
	struct strbuf module;

	if (!frames)
		return NULL;
	strbuf_init(&module);
	for (size_t i = 0; i < json_object_array_length(frames); i++) {
		struct json_object *fr = json_object_array_get_idx(frames, i);

		strbuf_reset(&module);
		if (cli_json_raw(fr, "module", &module) && module.buf &&
		    !cli_chain_is_libc_module(module.buf)) {
			strbuf_free(&module);
			return fr;
		}
	}
	strbuf_free(&module);
	return NULL;
}

uint64_t cli_frame_offset(struct json_object *fr)
{
	struct json_object *v;

	if (!fr || !json_object_object_get_ex(fr, "offset", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return 0;
	return json_object_get_uint64(v);
}

uint64_t cli_frame_line(struct json_object *fr)
{
	struct json_object *v;

	if (!json_object_object_get_ex(fr, "line", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return 0;
	return json_object_get_uint64(v);
}

/* daemon/sinks/finding_format.c ioh_finding_stack_text(), over JSON. */
void cli_frame_site(struct json_object *fr, struct strbuf *raw)
{
	struct strbuf file;

	if (!cli_json_raw(fr, "function", raw))
		strbuf_printf(raw, "0x%llx", (unsigned long long)cli_frame_offset(fr));
	strbuf_init(&file);
	if (cli_json_raw(fr, "file", &file) && file.buf) {
		const char *base = strrchr(file.buf, '/');

		strbuf_puts(raw, " (");
		strbuf_puts(raw, base ? base + 1 : file.buf);
		strbuf_printf(raw, ":%llu)", (unsigned long long)cli_frame_line(fr));
	}
	strbuf_free(&file);
	strbuf_puts(raw, " in ");
	if (!cli_json_raw(fr, "module", raw))
		strbuf_puts(raw, "?");
}

void cli_finding_chain_text(struct json_object *f, struct strbuf *out)
{
	const char *status = cli_chain_status(f);
	struct json_object *fr;
	struct strbuf raw;

	if (!status)
		return;
	fr = cli_chain_first_app_frame(f);
	if (!fr) {
		strbuf_puts(out, " (stack ");
		if (strcmp(status, "ok") == 0 || strcmp(status, "truncated") == 0)
			strbuf_puts(out, "in libc only");
		else
			strbuf_put_escaped(out, status, strlen(status));
		strbuf_putc(out, ')');
		return;
	}
	strbuf_init(&raw);
	cli_frame_site(fr, &raw);
	strbuf_puts(out, " at ");
	strbuf_put_escaped(out, raw.buf ? raw.buf : "", raw.len);
	strbuf_free(&raw);
}

/* Appends field `key` escaped for the terminal, or `dflt`. */
static void put_field(struct strbuf *sb, struct json_object *f, const char *key, const char *dflt)
{
	struct strbuf raw;

	strbuf_init(&raw);
	if (cli_json_raw(f, key, &raw))
		strbuf_put_escaped(sb, raw.buf ? raw.buf : "", raw.len);
	else
		strbuf_puts(sb, dflt);
	strbuf_free(&raw);
}

/* The daemon's --output=text form, every name escaped for the terminal by
 * strbuf_put_escaped() (the one escaping of human-facing output). */
void cli_finding_text(struct json_object *f, struct strbuf *sb)
{
	static const char *const keys[] = {"time", "severity", "rule"};
	struct json_object *v;

	for (int i = 0; i < 3; i++) {
		put_field(sb, f, keys[i], "?");
		strbuf_putc(sb, ' ');
	}
	if (json_object_object_get_ex(f, "confidence", &v) &&
	    strcmp(json_object_get_string(v), "degraded") == 0)
		strbuf_puts(sb, "(degraded) ");
	strbuf_puts(sb, "pid=");
	put_field(sb, f, "pid", "?");
	strbuf_puts(sb, " comm=");
	put_field(sb, f, "comm", "?");
	if (json_object_object_get_ex(f, "unit", &v) && !json_object_is_type(v, json_type_null)) {
		strbuf_puts(sb, " unit=");
		put_field(sb, f, "unit", "");
	}
	strbuf_puts(sb, " path=");
	put_field(sb, f, "path", "?");
	if (json_object_object_get_ex(f, "message", &v)) {
		strbuf_puts(sb, ": ");
		put_field(sb, f, "message", "");
	}
	cli_finding_chain_text(f, sb);
}
