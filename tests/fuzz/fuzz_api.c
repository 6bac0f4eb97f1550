// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the API request parser (daemon/api/request.c), the first thing that
 * touches bytes a local client sends to the daemon. Beyond "no crash, no leak, no undefined
 * behaviour" it checks the contract api_server.c relies on:
 *  - accepted: *req is a JSON object whose "command" member is the string *command, without
 *    embedded NUL and at most IOH_API_COMMAND_MAX bytes; the request re-serialized by json-c
 *    parses again to the same command (what a well-behaved client would have sent);
 *  - refused: *req and *command are NULL and *error is a non-empty message, the same for the
 *    same input (no hidden state between calls).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *req = (struct json_object *)1, *again = NULL, *cmd;
	const char *command = "x", *error = "x", *command2 = NULL, *error2 = NULL;
	const char *text;
	int r, r2;

	r = ioh_api_parse_request((const char *)data, size, &req, &command, &error);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (req || command || !error || !error[0])
			abort();
		/* Deterministic: the same bytes are refused with the same message. */
		r2 = ioh_api_parse_request((const char *)data, size, &again, &command2, &error2);
		if (r2 != r || again || error2 != error)
			abort();
		return 0;
	}
	if (r != 0 || !req || !command || error)
		abort();
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "command", &cmd) ||
	    !json_object_is_type(cmd, json_type_string) || json_object_get_string(cmd) != command)
		abort();
	if (strlen(command) > IOH_API_COMMAND_MAX ||
	    (size_t)json_object_get_string_len(cmd) != strlen(command))
		abort();

	/* What json-c writes back is one line and a valid request with the same command. */
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (!text || strchr(text, '\n'))
		abort();
	r2 = ioh_api_parse_request(text, strlen(text), &again, &command2, &error2);
	if (r2 != 0 || strcmp(command2, command) != 0) {
		fprintf(stderr, "re-serialized request refused (%s): %s\n", error2 ? error2 : "?",
			text);
		abort();
	}
	json_object_put(again);
	json_object_put(req);
	return 0;
}
