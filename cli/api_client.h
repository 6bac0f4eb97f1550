/* SPDX-License-Identifier: GPL-2.0-only */
/* One request, one reply over the daemon's API socket (JSON lines). */
#ifndef IOH_API_CLIENT_H
#define IOH_API_CLIENT_H

struct json_object;

/* Connects to `path`. Returns an fd, or -errno (-ENOENT/-ECONNREFUSED: daemon not running,
 * -EACCES: not allowed on the socket). */
int api_connect(const char *path);
/* Sends {"command": command} (plus `extra` fields if given) and parses the reply line.
 * Returns 0 and the reply (caller puts it), or -errno. A reply with "ok": false is returned
 * as 0 too; the caller reads "error". Waits at most `timeout_ms` for the reply. */
int api_call(int fd, const char *command, struct json_object *extra, int timeout_ms,
	     struct json_object **reply);

#endif
