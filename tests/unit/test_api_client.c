// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CLI's one JSON-lines reader (cli/jsonl.c) and the API client on top of it, against a
 * socketpair standing in for the daemon: whatever follows a reply in the same write is the
 * next line, never lost.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/jsonl.h"
#include "tests/unit/check.h"

static void put(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* The request the client sent, as the daemon reads it. */
static char *request_line(int fd)
{
	static char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int main(void)
{
	int sv[2];
	struct api_conn c;
	struct json_object *reply = NULL, *msg = NULL, *f;

	TEST_CASE("a reply and a finding in one write: both arrive")
	{
		CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		c.fd = sv[0];
		jsonl_init(&c.in, sv[0]);
		/* The daemon answers the subscription and has a finding ready at once. */
		put(sv[1], "{\"ok\":true}\n{\"finding\":{\"rule\":\"rename-unsynced-source\","
			   "\"pid\":42}}\n");
		CHECK_INT(api_request(&c, "subscribe", NULL, 1000, &reply), 0);
		CHECK(strstr(request_line(sv[1]), "\"command\":\"subscribe\"") != NULL);
		CHECK(reply && json_object_get_boolean(json_object_object_get(reply, "ok")));
		CHECK_INT(api_next(&c, 1000, &msg), 1);
		CHECK(msg && json_object_object_get_ex(msg, "finding", &f) &&
		      strcmp(str_of(f, "rule"), "rename-unsynced-source") == 0);
		json_object_put(reply);
		json_object_put(msg);
		/* Nothing more: a timeout, not a made-up line. */
		CHECK_INT(api_next(&c, 50, &msg), -ETIMEDOUT);
	}
	TEST_CASE("lines split across writes, a bad line, then EOF")
	{
		put(sv[1], "{\"finding\":{\"ru");
		CHECK_INT(api_next(&c, 50, &msg), -ETIMEDOUT);
		put(sv[1], "le\":\"a\"}}\nnot json\n{\"stats\":{\"uptime_seconds\":3}}\n{\"fin");
		CHECK_INT(api_next(&c, 1000, &msg), 1);
		CHECK(msg && json_object_object_get_ex(msg, "finding", &f) &&
		      strcmp(str_of(f, "rule"), "a") == 0);
		json_object_put(msg);
		CHECK_INT(api_next(&c, 1000, &msg), -EBADMSG);
		CHECK_INT(api_next(&c, 1000, &msg), 1);
		CHECK(msg && json_object_object_get_ex(msg, "stats", &f));
		json_object_put(msg);
		close(sv[1]);
		/* A half line at EOF is not a line. */
		CHECK_INT(api_next(&c, 1000, &msg), -ECONNRESET);
		api_close(&c);
	}
	TEST_CASE("api_call: one request, one reply")
	{
		CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		put(sv[1], "{\"ok\":false,\"error\":\"permission denied\"}\n");
		close(sv[1]); /* a refusing daemon writes why and closes */
		CHECK_INT(api_call(sv[0], "status", NULL, 1000, &reply), 0);
		CHECK(reply && strcmp(str_of(reply, "error"), "permission denied") == 0);
		json_object_put(reply);
		close(sv[0]);
	}
	TEST_CASE("a line of more than JSONL_LINE_MAX bytes is refused")
	{
		struct jsonl_reader r;
		static char chunk[1 << 16];
		int fill = 0;
		size_t sent = 0;

		CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		jsonl_init(&r, sv[0]);
		memset(chunk, 'x', sizeof(chunk));
		while (sent <= JSONL_LINE_MAX + sizeof(chunk)) {
			ssize_t n = send(sv[1], chunk, sizeof(chunk), MSG_DONTWAIT);

			if (n > 0)
				sent += (size_t)n;
			fill = jsonl_fill(&r, true);
			if (fill < 0)
				break;
		}
		CHECK_INT(fill, -EMSGSIZE);
		jsonl_fini(&r);
		close(sv[0]);
		close(sv[1]);
	}
	return check_summary();
}
