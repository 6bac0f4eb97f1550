// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "daemon/api/request.h"

static int refuse(const char **error, const char *message, int err)
{
	*error = message;
	return err;
}

int ioh_api_parse_request(const char *line, size_t len, struct json_object **req,
			  const char **command, const char **error)
{
	struct json_tokener *tok;
	struct json_object *obj, *cmd;
	enum json_tokener_error jerr;
	const char *name;
	size_t off;
	int r = 0;

	*req = NULL;
	*command = NULL;
	*error = NULL;
	if (len > INT_MAX)
		return refuse(error, "request too large", -EINVAL);
	tok = json_tokener_new(); /* default depth limit (32): nesting cannot recurse deeply */
	if (!tok)
		return refuse(error, "out of memory", -ENOMEM);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success || !json_object_is_type(obj, json_type_object)) {
		r = refuse(error, "request is not a JSON object", -EINVAL);
		goto out;
	}
	/* One object per line: "{...} {...}" or "{...}garbage" is not a request. */
	for (; off < len; off++) {
		if (line[off] != ' ' && line[off] != '\t' && line[off] != '\r') {
			r = refuse(error, "request has data after the JSON object", -EINVAL);
			goto out;
		}
	}
	if (!json_object_object_get_ex(obj, "command", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		r = refuse(error, "request has no \"command\" string", -EINVAL);
		goto out;
	}
	name = json_object_get_string(cmd);
	/* "status\u0000x" must not pass for "status" in the handler's strcmp(). */
	if ((size_t)json_object_get_string_len(cmd) != strlen(name) ||
	    strlen(name) > IOH_API_COMMAND_MAX) {
		r = refuse(error, IOH_API_UNKNOWN_COMMAND, -EINVAL);
		goto out;
	}
	*req = obj;
	*command = name;
	return 0;
out:
	json_object_put(obj);
	return r;
}
