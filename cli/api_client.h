/* SPDX-License-Identifier: GPL-2.0-only */
/* Requests and replies over the daemon's API socket (JSON lines, cli/jsonl.h). */
#ifndef IOH_API_CLIENT_H
#define IOH_API_CLIENT_H

#include "cli/jsonl.h"

struct json_object;

/* Connects to `path`. Returns an fd, or -errno (-ENOENT/-ECONNREFUSED: daemon not running,
 * -EACCES: not allowed on the socket). */
int api_connect(const char *path);

/* A connection that carries more than one line back: a reply, then findings or stats. */
struct api_conn {
	int fd;
	struct jsonl_reader in; /* what arrived after the last line returned stays here */
};

/* api_connect() into *c; 0 or -errno. api_close() accepts a closed or failed connection. */
int api_open(struct api_conn *c, const char *path);
void api_close(struct api_conn *c);
/* Sends {"command": command} (plus the fields of `extra` if given) as one line. */
int api_send(struct api_conn *c, const char *command, struct json_object *extra);
/* -EACCES or -EUSERS if `reply` is the daemon refusing the connection itself (credentials,
 * client limit): the daemon is not reachable for us (exit 3), not a failed command. */
int api_refusal(struct json_object *reply);
/* strerror(-err), or the daemon's words when `err` is the refusal api_refusal() last saw. */
const char *api_strerror(int err);
/*
 * api_send(), then the next line as the reply: 0 and the reply (caller puts it), or -errno.
 * A refusal of the connection (api_refusal) is returned as its -errno. Any other reply with
 * "ok": false is returned as 0 too; the caller reads "error". Waits at most
 * `timeout_ms`. Lines that arrive behind the reply stay for api_next().
 */
int api_request(struct api_conn *c, const char *command, struct json_object *extra, int timeout_ms,
		struct json_object **reply);
/* The next line (a finding, stats, a reply): 1 and *msg, or jsonl_read()'s errors. */
int api_next(struct api_conn *c, int timeout_ms, struct json_object **msg);

/* api_request() on a connection that carries one request and nothing else (the caller
 * closes `fd` afterwards, so nothing can follow the reply). */
int api_call(int fd, const char *command, struct json_object *extra, int timeout_ms,
	     struct json_object **reply);

#endif
