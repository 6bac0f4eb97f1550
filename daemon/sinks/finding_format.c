// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/sinks/finding_format.h"
#include "daemon/util/fsnames.h"
#include "daemon/util/utf8.h"

void ioh_format_time(uint64_t mono_ns, int64_t realtime_offset_ns, char *buf, size_t size)
{
	int64_t ns = (int64_t)mono_ns + realtime_offset_ns;
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;

	if (ns < 0 || !gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "invalid");
		return;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long long)(ns % 1000000000));
}

/*
 * JSON strings are UTF-8, so the writer shows an invalid byte as U+FFFD; a file name is bytes,
 * though, and on-call must be able to find that very file. A string that is not valid UTF-8
 * gets a sibling "<key>_bytes": its exact bytes in lowercase hex (docs/operations.md). Valid
 * strings (nearly all) get nothing extra.
 */
static void kv_str_recoverable(struct jsonw *w, const char *key, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char bytes_key[64];
	struct strbuf sb;
	size_t len;

	jsonw_kv_str(w, key, s);
	if (!s || utf8_valid(s, (len = strlen(s))))
		return;
	strbuf_init(&sb);
	for (size_t i = 0; i < len; i++) {
		strbuf_putc(&sb, hex[(unsigned char)s[i] >> 4]);
		strbuf_putc(&sb, hex[(unsigned char)s[i] & 15]);
	}
	snprintf(bytes_key, sizeof(bytes_key), "%s_bytes", key);
	jsonw_kv_str(w, bytes_key, sb.buf ? sb.buf : "");
	strbuf_free(&sb);
}

static void evidence_json(const struct ioh_evidence *e, struct jsonw *w)
{
	if (e->kind == IOH_EVK_STR) {
		kv_str_recoverable(w, e->key, e->str);
		return;
	}
	jsonw_key(w, e->key);
	switch (e->kind) {
	case IOH_EVK_STR:
		break;
	case IOH_EVK_INT:
		jsonw_int(w, e->i);
		break;
	case IOH_EVK_UINT:
		jsonw_uint(w, e->u);
		break;
	case IOH_EVK_BOOL:
		jsonw_bool(w, e->b);
		break;
	case IOH_EVK_DURATION:
		/* Base units (seconds), like the metrics. */
		jsonw_double(w, (double)e->u / 1e9);
		break;
	}
}

/*
 * evidence.stack: the user call chain, innermost frame first; one object per frame (the
 * schema docs/hazards.md documents, "Call chains"):
 *   module    path of the mapped file as the task named it (null: no mapping, e.g. JIT code)
 *   build_id  hex GNU build id of the module (null: unknown)
 *   offset    module-relative address (the ELF address `addr2line -e module` takes)
 *   function  symbol (null without symbols: never guessed)
 *   file, line  source position from debug info (null, 0 without)
 * evidence.stack_status: ok, truncated, omitted, disabled or unresolved (table.h).
 */
static void stack_frames_json(const struct ioh_stack_chain *c, struct jsonw *w)
{
	jsonw_arr_begin(w);
	for (uint32_t i = 0; i < c->n_frames; i++) {
		const struct ioh_stack_frame *fr = &c->frames[i];

		jsonw_obj_begin(w);
		kv_str_recoverable(w, "module", fr->module);
		jsonw_kv_str(w, "build_id", fr->build_id[0] ? fr->build_id : NULL);
		jsonw_kv_uint(w, "offset", fr->offset);
		kv_str_recoverable(w, "function", fr->function);
		kv_str_recoverable(w, "file", fr->file);
		jsonw_kv_uint(w, "line", fr->line);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

/* The frames are rendered once per chain and kept in the chain table's cache (table.h). */
static void stack_json(const struct ioh_stack_chain *c, struct jsonw *w)
{
	struct strbuf sb;
	struct jsonw fw;

	jsonw_kv_str(w, "stack_status", ioh_stack_status_name(c->status));
	if (!c->n_frames)
		return;
	jsonw_key(w, "stack");
	if (c->json && c->json->text) {
		jsonw_raw(w, c->json->text, c->json->len);
		return;
	}
	strbuf_init(&sb);
	jsonw_init(&fw, &sb);
	stack_frames_json(c, &fw);
	if (sb.oom || !sb.buf) {
		strbuf_free(&sb);
		stack_frames_json(c, w);
		return;
	}
	jsonw_raw(w, sb.buf, sb.len);
	if (c->json) {
		c->json->text = sb.buf; /* the cache takes the buffer */
		c->json->len = sb.len;
	} else {
		strbuf_free(&sb);
	}
}

void ioh_finding_jsonw(const struct ioh_finding *f, int64_t realtime_offset_ns, struct jsonw *w)
{
	char time[64], dev[32], unit[256];

	ioh_format_time(f->ts_ns, realtime_offset_ns, time, sizeof(time));
	snprintf(dev, sizeof(dev), "%u:%u", ioh_kdev_major(f->file.dev),
		 ioh_kdev_minor(f->file.dev));
	ioh_unit_from_cgroup(f->cgroup, unit, sizeof(unit));

	jsonw_obj_begin(w);
	jsonw_kv_str(w, "time", time);
	jsonw_kv_str(w, "rule", f->rule);
	jsonw_kv_str(w, "severity", ioh_severity_to_string(f->severity));
	jsonw_kv_str(w, "confidence", f->degraded ? "degraded" : "high");
	jsonw_kv_uint(w, "pid", f->pid);
	kv_str_recoverable(w, "comm", f->comm);
	jsonw_key(w, "unit");
	if (unit[0])
		jsonw_str(w, unit);
	else
		jsonw_null(w);
	jsonw_kv_str(w, "cgroup", f->cgroup);
	jsonw_kv_str(w, "dev", dev);
	jsonw_kv_uint(w, "ino", f->file.ino);
	kv_str_recoverable(w, "path", f->path);
	jsonw_kv_str(w, "fstype", f->fstype);
	jsonw_kv_str(w, "message", f->message);
	jsonw_kv_str(w, "fix", f->fix);
	jsonw_key(w, "evidence");
	jsonw_obj_begin(w);
	for (unsigned i = 0; i < f->n_evidence; i++)
		evidence_json(&f->evidence[i], w);
	if (f->stack.status != IOH_STACK_NONE)
		stack_json(&f->stack, w);
	jsonw_obj_end(w);
	jsonw_obj_end(w);
}

void ioh_finding_json(const struct ioh_finding *f, int64_t realtime_offset_ns, struct strbuf *out)
{
	struct jsonw w;

	jsonw_init(&w, out);
	ioh_finding_jsonw(f, realtime_offset_ns, &w);
}

void ioh_finding_stack_text(const struct ioh_finding *f, struct strbuf *out)
{
	const struct ioh_stack_frame *fr;

	if (f->stack.status == IOH_STACK_NONE)
		return;
	fr = ioh_stack_first_app_frame(&f->stack);
	if (!fr) {
		strbuf_printf(out, " (stack %s)",
			      f->stack.status == IOH_STACK_OK ||
				      f->stack.status == IOH_STACK_TRUNCATED
				  ? "in libc only"
				  : ioh_stack_status_name(f->stack.status));
		return;
	}
	strbuf_puts(out, " at ");
	if (fr->function)
		strbuf_put_escaped(out, fr->function, strlen(fr->function));
	else
		strbuf_printf(out, "0x%llx", (unsigned long long)fr->offset);
	if (fr->file) {
		const char *base = strrchr(fr->file, '/');

		base = base ? base + 1 : fr->file;
		strbuf_puts(out, " (");
		strbuf_put_escaped(out, base, strlen(base));
		strbuf_printf(out, ":%u)", fr->line);
	}
	strbuf_puts(out, " in ");
	strbuf_put_escaped(out, fr->module, strlen(fr->module));
}

void ioh_finding_text(const struct ioh_finding *f, int64_t realtime_offset_ns, struct strbuf *out)
{
	char time[64], unit[256];

	ioh_format_time(f->ts_ns, realtime_offset_ns, time, sizeof(time));
	ioh_unit_from_cgroup(f->cgroup, unit, sizeof(unit));
	strbuf_printf(out, "%s %s %s%s pid=%u comm=", time, ioh_severity_to_string(f->severity),
		      f->rule, f->degraded ? " (degraded)" : "", f->pid);
	strbuf_put_escaped(out, f->comm, strlen(f->comm));
	if (unit[0]) {
		strbuf_puts(out, " unit=");
		strbuf_put_escaped(out, unit, strlen(unit));
	}
	strbuf_puts(out, " path=");
	if (f->path)
		strbuf_put_escaped(out, f->path, strlen(f->path));
	else
		strbuf_puts(out, "?");
	strbuf_puts(out, ": ");
	strbuf_put_escaped(out, f->message, strlen(f->message));
	ioh_finding_stack_text(f, out);
	strbuf_puts(out, " -- fix: ");
	strbuf_put_escaped(out, f->fix ? f->fix : "", f->fix ? strlen(f->fix) : 0);
}
