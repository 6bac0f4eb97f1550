/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One API request line, parsed: pure (no I/O, no daemon state), so tests/fuzz/fuzz_api.c can
 * drive it directly. A request is exactly one JSON object with a "command" string, optionally
 * followed by whitespace (a client sending CRLF line ends is fine); anything else is refused
 * with a static message meant for the client.
 */
#ifndef IOH_API_REQUEST_H
#define IOH_API_REQUEST_H

#include <stddef.h>

struct json_object;

/* Longest command name accepted (the known ones are far shorter). */
#define IOH_API_COMMAND_MAX 64
/* The reply to a command no table knows (request.c for a malformed name, commands.c for an
 * unknown one): one text, so the client sees the same either way. */
#define IOH_API_UNKNOWN_COMMAND "unknown command (status, findings, subscribe, rules, reload)"

/*
 * Parses LINE (LEN bytes, no terminator needed, may contain NUL bytes). On success returns 0,
 * *req is the request object (the caller drops it with json_object_put()) and *command points
 * at its "command" string (valid while *req lives). On failure returns -EINVAL (or -ENOMEM),
 * *req is NULL, *command NULL and *error a static message.
 */
int ioh_api_parse_request(const char *line, size_t len, struct json_object **req,
			  const char **command, const char **error);

#endif
