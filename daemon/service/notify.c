// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "daemon/service/notify.h"
#include "daemon/util/strbuf.h"
#include "daemon/util/timeops.h"

/* sd_notify() returns >0 sent, 0 not under a manager, <0 error: fold the first two. */
static int notify(const char *state)
{
	int r = sd_notify(0, state);

	return r < 0 ? r : 0;
}

/*
 * Appends "STATUS=<text>" with `text` made safe for the protocol: one assignment per line,
 * so a newline inside a comm or path would start a new one; and systemd drops a STATUS= that
 * is not valid UTF-8. strbuf_put_escaped() turns both into \xNN.
 */
static void put_status(struct strbuf *sb, const char *text)
{
	size_t start, len;

	strbuf_puts(sb, "STATUS=");
	start = sb->len;
	strbuf_put_escaped(sb, text, strlen(text));
	len = sb->len - start;
	if (len > IOH_NOTIFY_STATUS_MAX && !sb->oom) {
		/* Cut on a character boundary, never inside a UTF-8 sequence. */
		len = IOH_NOTIFY_STATUS_MAX;
		while (len > 0 && ((unsigned char)sb->buf[start + len] & 0xc0) == 0x80)
			len--;
		sb->len = start + len;
		sb->buf[sb->len] = '\0';
	}
}

static int notify_with_status(const char *prefix, const char *status)
{
	_cleanup_strbuf_ struct strbuf sb;

	strbuf_init(&sb);
	strbuf_puts(&sb, prefix);
	if (status) {
		strbuf_putc(&sb, '\n');
		put_status(&sb, status);
	}
	if (sb.oom)
		return -ENOMEM;
	return notify(sb.buf);
}

int ioh_notify_ready(const char *status)
{
	return notify_with_status("READY=1", status);
}

int ioh_notify_status(const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf sb;
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	strbuf_init(&sb);
	put_status(&sb, s);
	free(s);
	if (sb.oom)
		return -ENOMEM;
	return notify(sb.buf);
}

int ioh_notify_reloading(void)
{
	char msg[64];

	/* The manager compares it with the time it sent SIGHUP, to tell this reload from an
	 * earlier one: CLOCK_MONOTONIC, as sd_notify(3) specifies. */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
		 ioh_clock_ns(CLOCK_MONOTONIC) / 1000u);
	return notify(msg);
}

int ioh_notify_stopping(void)
{
	return notify("STOPPING=1");
}
