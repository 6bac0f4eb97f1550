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

struct ioh_watchdog {
	sd_event_source *timer; /* the petting timer on the main loop */
	uint64_t usec;		/* WATCHDOG_USEC: the manager kills us after this long silent */
	uint64_t pets;		/* WATCHDOG=1 sent */
};

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

/* ---- watchdog -------------------------------------------------------------------------------- */

static uint64_t pet_period(const struct ioh_watchdog *w)
{
	/* Half the interval, as sd_watchdog_enabled(3) recommends: one late or lost pet does
	 * not kill us, two in a row do. */
	return w->usec / 2 ? w->usec / 2 : 1;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ioh_watchdog *w = userdata;

	if (notify("WATCHDOG=1") == 0)
		w->pets++;
	/* Relative to now, not to the planned time: after a stall we pet at once (we are
	 * here) and then keep the full half-interval margin instead of firing in a burst. */
	return sd_event_source_set_time_relative(s, pet_period(w));
}

int ioh_watchdog_start(sd_event *e, struct ioh_watchdog **out)
{
	struct ioh_watchdog *w;
	uint64_t usec = 0;
	int r;

	*out = NULL;
	/* Checks WATCHDOG_PID too: a child that inherited the environment must not pet on
	 * behalf of its parent. The environment is kept so a re-exec still sees it. */
	r = sd_watchdog_enabled(0, &usec);
	if (r <= 0 || usec == 0)
		return r < 0 ? r : 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->usec = usec;
	/*
	 * Accuracy: sd-event's default (250 ms) lets it coalesce the wakeup that late, longer
	 * than a short test interval. A tenth of the period is slack enough to batch with other
	 * timers and still far inside the margin.
	 */
	r = sd_event_add_time_relative(e, &w->timer, CLOCK_MONOTONIC, pet_period(w),
				       pet_period(w) / 10 ? pet_period(w) / 10 : 1, on_watchdog, w);
	if (r < 0) {
		free(w);
		return r;
	}
	/* Time sources are one-shot by default: keep it on, the callback moves the time. */
	r = sd_event_source_set_enabled(w->timer, SD_EVENT_ON);
	if (r < 0) {
		ioh_watchdog_free(w);
		return r;
	}
	(void)sd_event_source_set_description(w->timer, "watchdog");
	/* Pet once now: startup may have taken a good part of the interval already. */
	if (notify("WATCHDOG=1") == 0)
		w->pets++;
	*out = w;
	return 1;
}

uint64_t ioh_watchdog_usec(const struct ioh_watchdog *w)
{
	return w ? w->usec : 0;
}

uint64_t ioh_watchdog_pets(const struct ioh_watchdog *w)
{
	return w ? w->pets : 0;
}

void ioh_watchdog_free(struct ioh_watchdog *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->timer);
	free(w);
}
