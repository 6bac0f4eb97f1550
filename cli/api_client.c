// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"

int api_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The daemon's own words for the last refusal api_refusal() recognised: "too many clients:
 * all 64 connections are busy" says more than strerror(EUSERS). */
static char last_refusal[160];
static int last_refusal_err;

const char *api_strerror(int err)
{
	if (err < 0 && err == last_refusal_err && last_refusal[0])
		return last_refusal;
	return strerror(err < 0 ? -err : err);
}

static int remember_refusal(int err, const char *text)
{
	snprintf(last_refusal, sizeof(last_refusal), "%s", text);
	last_refusal_err = err;
	return err;
}

int api_refusal(struct json_object *reply)
{
	struct json_object *ok, *err;
	const char *e;

	if (!json_object_object_get_ex(reply, "ok", &ok) || json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(reply, "error", &err) || !(e = json_object_get_string(err)))
		return 0;
	/* The daemon's refusals at accept time (api_server.c): the peer's credentials
	 * (SO_PEERCRED) are not root or group iohazard, or every client slot is taken. */
	if (strcmp(e, "permission denied") == 0)
		return remember_refusal(-EACCES, e);
	/* "too many clients: all 64 connections are busy", "too many subscribers ...". */
	if (strncmp(e, "too many ", 9) == 0)
		return remember_refusal(-EUSERS, e);
	return 0;
}

int api_open(struct api_conn *c, const char *path)
{
	c->fd = api_connect(path);
	jsonl_init(&c->in, c->fd);
	return c->fd < 0 ? c->fd : 0;
}

void api_close(struct api_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	jsonl_fini(&c->in);
}

int api_send(struct api_conn *c, const char *command, struct json_object *extra)
{
	struct json_object *req = extra ? extra : json_object_new_object();
	const char *text;
	int r = 0;

	json_object_object_add(req, "command", json_object_new_string(command));
	text = json_object_to_json_string_ext(req, CLI_JSON_FLAGS);
	if (send(c->fd, text, strlen(text), MSG_NOSIGNAL) < 0 ||
	    send(c->fd, "\n", 1, MSG_NOSIGNAL) < 0)
		r = -errno;
	if (!extra)
		json_object_put(req);
	return r;
}

int api_request(struct api_conn *c, const char *command, struct json_object *extra, int timeout_ms,
		struct json_object **reply)
{
	int send_err = api_send(c, command, extra), r;

	*reply = NULL;
	/* A daemon that refuses us ("permission denied", "too many clients") writes why and
	 * closes at once: our send can fail with EPIPE while the reason waits to be read. */
	if (send_err < 0 && send_err != -EPIPE && send_err != -ECONNRESET)
		return send_err;
	r = jsonl_read(&c->in, timeout_ms, reply);
	if (r == 1) {
		r = api_refusal(*reply);
		if (r < 0) {
			json_object_put(*reply);
			*reply = NULL;
		}
		return r;
	}
	return r == -ECONNRESET && send_err < 0 ? send_err : r;
}

int api_next(struct api_conn *c, int timeout_ms, struct json_object **msg)
{
	return jsonl_read(&c->in, timeout_ms, msg);
}

int api_call(int fd, const char *command, struct json_object *extra, int timeout_ms,
	     struct json_object **reply)
{
	struct api_conn c = {.fd = fd};
	int r;

	jsonl_init(&c.in, fd);
	r = api_request(&c, command, extra, timeout_ms, reply);
	jsonl_fini(&c.in);
	return r;
}
