// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"

#define REPLY_MAX (16u << 20)

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

int api_call(int fd, const char *command, struct json_object *extra, int timeout_ms,
	     struct json_object **reply)
{
	struct json_object *req = extra ? extra : json_object_new_object();
	const char *text;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int send_err = 0, r;

	json_object_object_add(req, "command", json_object_new_string(command));
	text = json_object_to_json_string_ext(req, CLI_JSON_FLAGS);
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
		send_err = -errno;
	if (!extra)
		json_object_put(req);
	/* A daemon that refuses us ("permission denied", "too many clients") writes why and
	 * closes at once: our send can fail with EPIPE while the reason waits to be read. */
	if (send_err < 0 && send_err != -EPIPE && send_err != -ECONNRESET)
		return send_err;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char *nl;
		ssize_t n;

		if (len + 4096 > cap) {
			char *p;

			cap = cap ? cap * 2 : 8192;
			if (cap > REPLY_MAX) {
				free(buf);
				return -EMSGSIZE;
			}
			p = realloc(buf, cap);
			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
		}
		r = poll(&pfd, 1, timeout_ms);
		if (r <= 0) {
			free(buf);
			return r == 0 ? -ETIMEDOUT : -errno;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0) {
			r = n == 0 ? -ECONNRESET : -errno;
			free(buf);
			return send_err < 0 ? send_err : r;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			*reply = json_tokener_parse(buf);
			free(buf);
			return *reply ? 0 : -EBADMSG;
		}
	}
}
