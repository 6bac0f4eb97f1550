/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CLI's one reader of the daemon's JSON lines. Bytes are kept across reads, so whatever
 * follows a line in the same read (a finding right behind the subscribe reply, a stats line
 * behind the backlog) is the next line, never lost. Every connection of the CLI reads
 * through it: api_client.c (replies), findings --follow, selftest and top.
 */
#ifndef IOH_CLI_JSONL_H
#define IOH_CLI_JSONL_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* The longest line accepted: the backlog reply (1024 findings with long paths). */
#define JSONL_LINE_MAX (32u << 20)

struct jsonl_reader {
	int fd;	      /* the socket; not owned */
	char *buf;    /* received bytes; [start, len) not returned yet */
	size_t start; /* first byte of the next line */
	size_t len;   /* bytes in buf */
	size_t cap;   /* allocated size of buf */
};

void jsonl_init(struct jsonl_reader *r, int fd);
void jsonl_fini(struct jsonl_reader *r);

/*
 * The next whole line already received, without touching the socket. Returns 1 and the parsed
 * object in *msg (the caller puts it), 0 when no whole line is buffered, -EBADMSG when the
 * line was not JSON (it is consumed; the caller may go on).
 */
int jsonl_next(struct jsonl_reader *r, struct json_object **msg);

/*
 * One recv() from the socket into the buffer (MSG_DONTWAIT when `nonblock`). Returns the bytes
 * read (> 0), 0 when nothing was there (nonblock), -ECONNRESET when the peer closed,
 * -EMSGSIZE when a line grew beyond JSONL_LINE_MAX, or -errno.
 */
int jsonl_fill(struct jsonl_reader *r, bool nonblock);

/*
 * The next line, waiting at most `timeout_ms` (< 0: no limit) for it to arrive. Returns 1 and
 * *msg, or -ETIMEDOUT, -EBADMSG (a line that was not JSON, consumed) and jsonl_fill's errors.
 */
int jsonl_read(struct jsonl_reader *r, int timeout_ms, struct json_object **msg);

#endif
