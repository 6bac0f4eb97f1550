// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/jsonl.h"
#include "daemon/util/timeops.h"

#define JSONL_READ_CHUNK 65536

void jsonl_init(struct jsonl_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
}

void jsonl_fini(struct jsonl_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->start = r->len = r->cap = 0;
}

int jsonl_next(struct jsonl_reader *r, struct json_object **msg)
{
	struct json_tokener *tok;
	char *line = r->buf + r->start, *nl;
	size_t n;

	*msg = NULL;
	if (!r->buf || r->start == r->len)
		return 0;
	nl = memchr(line, '\n', r->len - r->start);
	if (!nl)
		return 0;
	n = (size_t)(nl - line);
	r->start += n + 1;
	/* A length-bounded parse: the line is not NUL-terminated, and must not run on. */
	tok = json_tokener_new_ex(64);
	if (!tok)
		return -ENOMEM;
	*msg = json_tokener_parse_ex(tok, line, (int)n);
	if (*msg && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(*msg);
		*msg = NULL;
	}
	json_tokener_free(tok);
	return *msg ? 1 : -EBADMSG;
}

int jsonl_fill(struct jsonl_reader *r, bool nonblock)
{
	ssize_t n;

	/* Drop what was returned, then make room for one more chunk. */
	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	if (r->len >= JSONL_LINE_MAX)
		return -EMSGSIZE; /* no newline in all of it: not a line we will ever take */
	if (r->cap - r->len < JSONL_READ_CHUNK) {
		size_t cap = r->cap ? r->cap * 2 : 4 * JSONL_READ_CHUNK;
		char *p;

		if (cap > JSONL_LINE_MAX + JSONL_READ_CHUNK)
			cap = JSONL_LINE_MAX + JSONL_READ_CHUNK;
		p = realloc(r->buf, cap);
		if (!p)
			return -ENOMEM;
		r->buf = p;
		r->cap = cap;
	}
	n = recv(r->fd, r->buf + r->len, r->cap - r->len, nonblock ? MSG_DONTWAIT : 0);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	r->len += (size_t)n;
	return (int)(n > 0x7fffffff ? 0x7fffffff : n);
}

int jsonl_read(struct jsonl_reader *r, int timeout_ms, struct json_object **msg)
{
	/* Milliseconds on the monotonic clock; -1: no deadline. */
	long long deadline =
	    timeout_ms < 0 ? -1 : (long long)(ioh_clock_ns(CLOCK_MONOTONIC) / 1000000) + timeout_ms;

	for (;;) {
		struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
		int ret = jsonl_next(r, msg), wait_ms;

		if (ret != 0)
			return ret;
		wait_ms =
		    deadline < 0
			? -1
			: (int)(deadline - (long long)(ioh_clock_ns(CLOCK_MONOTONIC) / 1000000));
		if (deadline >= 0 && wait_ms <= 0)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, wait_ms);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		ret = jsonl_fill(r, true);
		if (ret < 0)
			return ret;
	}
}
