// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/api/api_server.h"
#include "daemon/api/request.h"
#include "daemon/util/log.h"
#include "daemon/util/timeops.h"

#define IOH_STR_(x) #x
#define IOH_STR(x) IOH_STR_(x)

struct api_client {
	struct ioh_api_server *server;
	int fd;
	sd_event_source *io;
	sd_event_source *idle;
	sd_event_source *more;	   /* deferred: requests left over from a turn's budget */
	uint64_t last_active_usec; /* CLOCK_MONOTONIC of the last request or reply progress */
	char in[IOH_API_REQUEST_MAX + 1];
	size_t in_len;
	struct strbuf out;
	size_t out_off;
	bool subscribed;
};

struct ioh_api_server {
	sd_event *event;
	int fd;
	bool bound; /* the name at `path` is our socket: unlinked on the way out */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t group;
	bool have_group;
	sd_event_source *accept_src;
	ioh_api_handler handler;
	void *ctx;
	struct api_client *clients[IOH_API_CLIENTS_MAX];
	unsigned n_clients;
	unsigned n_subscribers;
	uint64_t dropped_subscribers;
	struct ioh_api_server_stats stats;
};

static void client_free(struct api_client *c)
{
	struct ioh_api_server *s;

	if (!c)
		return;
	s = c->server;
	if (c->subscribed)
		s->n_subscribers--;
	for (unsigned i = 0; i < IOH_API_CLIENTS_MAX; i++) {
		if (s->clients[i] == c) {
			s->clients[i] = NULL;
			s->n_clients--;
		}
	}
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->idle);
	sd_event_source_disable_unref(c->more);
	close(c->fd);
	strbuf_free(&c->out);
	free(c);
}

static size_t pending_output(const struct api_client *c)
{
	return c->out.len - c->out_off;
}

static bool has_request(const struct api_client *c)
{
	return memchr(c->in, '\n', c->in_len) != NULL;
}

/* Read only when the client has no complete request waiting and reads its replies; write
 * while anything is queued. */
static int client_update_events(struct api_client *c)
{
	uint32_t events = 0;

	if (!has_request(c) && pending_output(c) < IOH_API_OUTPUT_HIGH)
		events |= EPOLLIN;
	if (pending_output(c))
		events |= EPOLLOUT;
	return sd_event_source_set_io_events(c->io, events);
}

static void reply_error(struct api_client *c, const char *message)
{
	struct jsonw w;

	jsonw_init(&w, &c->out);
	jsonw_obj_begin(&w);
	jsonw_kv_bool(&w, "ok", false);
	jsonw_kv_str(&w, "error", message);
	jsonw_obj_end(&w);
	strbuf_putc(&c->out, '\n');
}

static void handle_line(struct api_client *c, const char *line, size_t len)
{
	struct json_object *req = NULL;
	const char *error = "internal error", *command;
	size_t mark;
	struct jsonw w;
	int r;

	if (ioh_api_parse_request(line, len, &req, &command, &error) < 0) {
		reply_error(c, error);
		return;
	}
	mark = c->out.len;
	jsonw_init(&w, &c->out);
	jsonw_obj_begin(&w);
	jsonw_kv_bool(&w, "ok", true);
	if (strcmp(command, "subscribe") == 0) {
		if (!c->subscribed && c->server->n_subscribers >= IOH_API_SUBSCRIBERS_MAX) {
			c->out.len = mark;
			if (c->out.buf)
				c->out.buf[mark] = '\0';
			c->server->stats.subscribe_refused++;
			reply_error(c,
				    "too many subscribers (" IOH_STR(
					IOH_API_SUBSCRIBERS_MAX) " watch already, e.g. `iohazard "
								 "top`); other requests still "
								 "work");
			goto out;
		}
		if (!c->subscribed) {
			c->subscribed = true;
			c->server->n_subscribers++;
		}
		/* Subscribers get no idle timeout: a quiet host sends nothing for long. */
		sd_event_source_set_enabled(c->idle, SD_EVENT_OFF);
		jsonw_kv_bool(&w, "subscribed", true);
		jsonw_obj_end(&w);
		strbuf_putc(&c->out, '\n');
		goto out;
	}
	r = c->server->handler(c->server->ctx, command, req, &w, &error);
	if (r < 0) {
		c->out.len = mark; /* discard the partial reply */
		if (c->out.buf)
			c->out.buf[mark] = '\0';
		reply_error(c, error);
		goto out;
	}
	jsonw_obj_end(&w);
	strbuf_putc(&c->out, '\n');
out:
	json_object_put(req);
}

static int client_flush(struct api_client *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		strbuf_reset(&c->out);
		c->out_off = 0;
	}
	return 0;
}

static int on_client_more(sd_event_source *src, void *userdata);

/*
 * Handles queued requests one at a time, checking the client's unread output before each:
 * a client that pipelines thousands of requests without reading gets replies only as fast
 * as it reads them (IOH_API_OUTPUT_HIGH), and at most IOH_API_REQUESTS_PER_TURN per turn.
 * Returns <0 when the client must go.
 */
static int client_work(struct api_client *c)
{
	unsigned handled = 0;
	char *nl;

	while (pending_output(c) < IOH_API_OUTPUT_HIGH && handled < IOH_API_REQUESTS_PER_TURN &&
	       (nl = memchr(c->in, '\n', c->in_len))) {
		size_t line_len = (size_t)(nl - c->in);

		handle_line(c, c->in, line_len);
		memmove(c->in, nl + 1, c->in_len - line_len - 1);
		c->in_len -= line_len + 1;
		c->in[c->in_len] = '\0';
		handled++;
		if (client_flush(c) < 0 || c->out.oom || pending_output(c) > IOH_API_OUTPUT_MAX) {
			c->server->stats.dropped_over_limit += !c->out.oom;
			return -EMSGSIZE; /* gone, or one reply alone over the limit */
		}
	}
	if (handled)
		c->last_active_usec = ioh_clock_ns(CLOCK_MONOTONIC) / 1000;
	if (!has_request(c) && c->in_len == IOH_API_REQUEST_MAX) {
		reply_error(c, "request too large");
		client_flush(c);
		return -E2BIG;
	}
	/* Budget used up with requests left and room for their replies: next turn, without
	 * waiting for the socket (it may have nothing more to say). */
	if (has_request(c) && pending_output(c) < IOH_API_OUTPUT_HIGH) {
		if (c->more)
			sd_event_source_set_enabled(c->more, SD_EVENT_ONESHOT);
		else if (sd_event_add_defer(c->server->event, &c->more, on_client_more, c) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int on_client_more(sd_event_source *src, void *userdata)
{
	struct api_client *c = userdata;

	if (client_work(c) < 0 || client_flush(c) < 0) {
		client_free(c);
		return 0;
	}
	client_update_events(c);
	return 0;
}

static int on_client_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct api_client *c = userdata;

	sd_event_source_set_time_relative(c->idle, IOH_API_IDLE_TIMEOUT_USEC);
	if (revents & EPOLLOUT) {
		size_t before = pending_output(c);

		if (client_flush(c) < 0) {
			client_free(c);
			return 0;
		}
		if (pending_output(c) < before)
			c->last_active_usec = ioh_clock_ns(CLOCK_MONOTONIC) / 1000;
	}
	if ((revents & EPOLLIN) && !has_request(c) && pending_output(c) < IOH_API_OUTPUT_HIGH) {
		ssize_t n =
		    recv(fd, c->in + c->in_len, IOH_API_REQUEST_MAX - c->in_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_free(c);
			return 0;
		}
		if (n > 0)
			c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
	} else if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN)) {
		client_free(c);
		return 0;
	}
	if (client_work(c) < 0 || client_flush(c) < 0) {
		client_free(c);
		return 0;
	}
	client_update_events(c);
	return 0;
}

void ioh_api_server_broadcast(struct ioh_api_server *s, const char *line, size_t len)
{
	for (unsigned i = 0; i < IOH_API_CLIENTS_MAX && s->n_subscribers; i++) {
		struct api_client *c = s->clients[i];

		if (!c || !c->subscribed)
			continue;
		if (pending_output(c) + len + 1 > IOH_API_OUTPUT_MAX) {
			s->dropped_subscribers++;
			log_warning("Dropping an API subscriber that does not keep up");
			client_free(c);
			continue;
		}
		strbuf_append(&c->out, line, len);
		strbuf_putc(&c->out, '\n');
		if (client_flush(c) < 0 || c->out.oom) {
			client_free(c);
			continue;
		}
		client_update_events(c);
	}
}

unsigned ioh_api_server_subscribers(const struct ioh_api_server *s)
{
	return s ? s->n_subscribers : 0;
}

uint64_t ioh_api_server_dropped_subscribers(const struct ioh_api_server *s)
{
	return s ? s->dropped_subscribers : 0;
}

void ioh_api_server_get_stats(const struct ioh_api_server *s, struct ioh_api_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	*out = s->stats;
	out->clients = s->n_clients;
}

/*
 * The table is full: make room by closing the connection idle the longest, if it is not a
 * subscriber (capped on their own) and has no request or reply in flight. A new client then
 * always gets in unless every slot is busy right now. Returns whether a slot was freed.
 */
static bool evict_idle(struct ioh_api_server *s)
{
	static const char msg[] = "{\"ok\":false,\"error\":\"closed: idle while the daemon's "
				  "client table was full\"}\n";
	struct api_client *victim = NULL;

	for (unsigned i = 0; i < IOH_API_CLIENTS_MAX; i++) {
		struct api_client *c = s->clients[i];

		if (!c || c->subscribed || c->in_len || pending_output(c))
			continue;
		if (!victim || c->last_active_usec < victim->last_active_usec)
			victim = c;
	}
	if (!victim)
		return false;
	(void)!send(victim->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	client_free(victim);
	s->stats.evicted_idle++;
	return true;
}

static int on_client_idle(sd_event_source *src, uint64_t usec, void *userdata)
{
	client_free(userdata);
	return 0;
}

/*
 * Root, or the socket's group as primary or supplementary group of the peer. Both come from
 * the socket (SO_PEERCRED, SO_PEERGROUPS: recorded at connect time), not from /proc/PID,
 * which a peer could race by exiting and letting its pid be reused.
 */
static bool peer_allowed(struct ioh_api_server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if (cred.uid == 0)
		return true;
	if (!s->have_group)
		return false;
	if (cred.gid == s->group)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false; /* more than 256 groups (ERANGE) or no support: refuse */
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == s->group)
			return true;
	return false;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct ioh_api_server *s = userdata;
	struct api_client *c;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	unsigned slot;

	if (cfd < 0)
		return 0;
	if (!peer_allowed(s, cfd)) {
		static const char msg[] = "{\"ok\":false,\"error\":\"permission denied\"}\n";

		(void)!send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return 0;
	}
	if (s->n_clients >= IOH_API_CLIENTS_MAX && !evict_idle(s)) {
		static const char msg[] =
		    "{\"ok\":false,\"error\":\"too many clients: all " IOH_STR(
			IOH_API_CLIENTS_MAX) " connections are busy; try again\"}\n";

		s->stats.refused_full++;
		(void)!send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->server = s;
	c->fd = cfd;
	c->last_active_usec = ioh_clock_ns(CLOCK_MONOTONIC) / 1000;
	strbuf_init(&c->out);
	for (slot = 0; slot < IOH_API_CLIENTS_MAX && s->clients[slot]; slot++)
		;
	s->clients[slot] = c;
	s->n_clients++;
	if (sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_client_io, c) < 0 ||
	    sd_event_add_time_relative(s->event, &c->idle, CLOCK_MONOTONIC,
				       IOH_API_IDLE_TIMEOUT_USEC, 0, on_client_idle, c) < 0)
		client_free(c);
	return 0;
}

/*
 * A socket left by a crashed daemon is replaced; nothing else is. A name that is not a
 * socket (a regular file, a link someone planted) is refused, never unlinked; a socket a
 * live daemon answers on is left alone (a second daemon must not steal its clients). The
 * name is unlinked only after a refused connect, and only if it is still the same socket.
 */
static int remove_stale_socket(struct ioh_api_server *s, const struct sockaddr_un *addr)
{
	struct stat before, after;
	int fd, r;

	if (lstat(s->path, &before) < 0)
		return errno == ENOENT ? 0
				       : log_error_errno(-errno, "Cannot check %s: %m", s->path);
	if (!S_ISSOCK(before.st_mode))
		return log_error_errno(-EEXIST, "%s exists and is not a socket; not replacing it",
				       s->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ? 0 : -errno;
	close(fd);
	if (r == 0)
		return log_error_errno(-EADDRINUSE, "Another daemon is listening on %s", s->path);
	if (r != -ECONNREFUSED)
		return log_error_errno(r, "Cannot check whether %s is in use: %m", s->path);
	if (lstat(s->path, &after) < 0 || after.st_dev != before.st_dev ||
	    after.st_ino != before.st_ino || !S_ISSOCK(after.st_mode))
		return log_error_errno(-EEXIST, "%s changed while checking it; not replacing it",
				       s->path);
	if (unlink(s->path) < 0 && errno != ENOENT)
		return log_error_errno(-errno, "Cannot remove the stale socket %s: %m", s->path);
	return 0;
}

int ioh_api_server_new(sd_event *event, const char *path, const char *group,
		       ioh_api_handler handler, void *ctx, struct ioh_api_server **out)
{
	struct ioh_api_server *s = calloc(1, sizeof(*s));
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct group *gr;
	int r;

	if (!s)
		return -ENOMEM;
	s->event = event;
	s->handler = handler;
	s->ctx = ctx;
	s->fd = -1;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		free(s);
		return log_error_errno(-ENAMETOOLONG, "Socket path too long: %s", path);
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	gr = group ? getgrnam(group) : NULL;
	if (gr) {
		s->group = gr->gr_gid;
		s->have_group = true;
	}

	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		r = -errno;
		goto fail;
	}
	r = remove_stale_socket(s, &addr);
	if (r < 0)
		goto fail;
	if (bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = log_error_errno(-errno, "Failed to bind %s: %m", path);
		goto fail;
	}
	s->bound = true;
	if (chmod(path, 0660) < 0 || (s->have_group && chown(path, 0, s->group) < 0)) {
		r = log_error_errno(-errno, "Failed to set permissions on %s: %m", path);
		goto fail;
	}
	if (listen(s->fd, 16) < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &s->accept_src, s->fd, EPOLLIN, on_accept, s);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	ioh_api_server_free(s);
	return r;
}

void ioh_api_server_free(struct ioh_api_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < IOH_API_CLIENTS_MAX; i++)
		client_free(s->clients[i]);
	sd_event_source_disable_unref(s->accept_src);
	if (s->fd >= 0)
		close(s->fd);
	if (s->bound)
		unlink(s->path);
	free(s);
}
