/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A finding object (the API's JSON, design.md) read back for people: the one-line text form
 * `iohazard findings` prints (the daemon's --output=text line), and the user call chain of
 * the finding (issue 15: evidence.stack, evidence.stack_status; docs/hazards.md "Call
 * chains") as `findings` and `top` show it.
 *
 * The CLI never links the daemon's stack table, so cli_chain_first_app_frame() is the JSON
 * twin of daemon/stacks/table.c ioh_stack_first_app_frame(): the same rule for "outside libc"
 * (libc.so*, libc-*, libpthread*, ld-linux*), applied to the frames as JSON. Change both
 * together.
 *
 * Names reach these functions raw: a "<key>_bytes" sibling (hex of a name that is not valid
 * UTF-8) gives back the real bytes. Callers escape what they show.
 */
#ifndef IOH_CLI_FINDING_TEXT_H
#define IOH_CLI_FINDING_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/util/strbuf.h"

struct json_object;

/* The raw bytes of string field `key` of `o` (from "<key>_bytes" when present) appended to
 * `out`; false (nothing appended) when the field is absent, null or not a string. */
bool cli_json_raw(struct json_object *o, const char *key, struct strbuf *out);

/* The C library and the dynamic loader: the frames text output looks past. */
bool cli_chain_is_libc_module(const char *path);

/* evidence.stack_status ("ok", "truncated", "omitted", "disabled", "unresolved"); NULL when
 * the finding has none (its hazard has no user call). */
const char *cli_chain_status(struct json_object *finding);
/* evidence.stack (an array, innermost frame first), NULL when absent. */
struct json_object *cli_chain_frames(struct json_object *finding);
/* The first frame with a module outside libc, NULL when none. */
struct json_object *cli_chain_first_app_frame(struct json_object *finding);

/* A frame's module-relative offset ("offset"), 0 when absent. */
uint64_t cli_frame_offset(struct json_object *frame);
/* Its source line ("line"), 0 when unknown. */
uint64_t cli_frame_line(struct json_object *frame);
/* "save_config (config.c:118) in /usr/bin/app", raw: the function or 0x<offset>, the file's
 * base name and line when known, the module. The daemon's text form of a frame. */
void cli_frame_site(struct json_object *frame, struct strbuf *raw);

/* What the daemon's text line appends for the chain, escaped: " at <cli_frame_site>",
 * " (stack in libc only)", " (stack omitted)" etc., or nothing without a status. */
void cli_finding_chain_text(struct json_object *finding, struct strbuf *out);

/* The whole line of `iohazard findings` (no newline), every name escaped for the terminal. */
void cli_finding_text(struct json_object *finding, struct strbuf *out);

#endif
