// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/metrics/exposition.h"
#include "daemon/metrics/http_server.h"
#include "daemon/util/log.h"
#include "daemon/util/timeops.h"

/* What we know about one connection MHD holds, to enforce the deadline and evict idlers. */
struct http_conn {
	struct ioh_metrics_http *server;
	struct MHD_Connection *conn; /* NULL: slot free */
	int fd;			     /* MHD's socket: only shutdown(), never closed, by us */
	uint64_t accepted_usec;	     /* CLOCK_MONOTONIC */
	bool requested;		     /* a complete request arrived: not idle, never evicted */
	bool shut;		     /* shutdown() done; MHD closes it on its next run */
};

struct ioh_metrics_http {
	sd_event *event;
	struct MHD_Daemon *mhd;
	sd_event_source *io;	/* MHD's epoll fd */
	sd_event_source *timer; /* min(MHD's timeout, earliest request deadline) */
	ioh_metrics_render_fn render;
	void *ctx;
	uint16_t port;
	/* MHD's connection limit equals the array size, so a slot is always free. */
	struct http_conn conns[IOH_METRICS_HTTP_CONNECTIONS_MAX];
	unsigned n_conns;
	/* A connection closed or was cut during MHD_run(): run it again. At its connection
	 * limit MHD takes the listening socket out of its epoll set and puts it back only at the
	 * start of a later run; nothing would wake us for that, and queued clients (a real
	 * scrape among them) would wait for some unrelated timeout. */
	bool run_again;
};

/* ---- listen address ------------------------------------------------------------------------ */

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int ioh_metrics_parse_listen(const char *addr, struct sockaddr_storage *ss, unsigned *len, int *any)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	uint16_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	*any = 0;
	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (!end || end[1] != ':')
			return -EINVAL;
		hl = (size_t)(end - addr - 1);
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, hl);
		host[hl] = '\0';
		if (parse_port(end + 2, &port) < 0 ||
		    inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	colon = strrchr(addr, ':');
	if (!colon || strchr(addr, ':') != colon) /* bare IPv6 needs brackets */
		return -EINVAL;
	if (parse_port(colon + 1, &port) < 0)
		return -EINVAL;
	hl = (size_t)(colon - addr);
	if (hl == 0) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		*any = 1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		/* inet_pton, not inet_aton: "127.1" and "0x7f.0.0.1" are not addresses here. */
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	}
	return 0;
}

static int open_listener(const char *addr, struct sockaddr_storage *ss, unsigned len, int any)
{
	int fd, one = 1, zero = 0;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && any && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
		/* ":PORT" on a host without IPv6: every IPv4 address instead. */
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		uint16_t port = ((struct sockaddr_in6 *)ss)->sin6_port;

		memset(ss, 0, sizeof(*ss));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = port;
		len = sizeof(*sin);
		any = 0;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0)
		return log_error_errno(-errno, "Failed to create the metrics socket for %s: %m",
				       addr);
	/* A restarted daemon must not wait out TIME_WAIT to get its port back. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* ":PORT" means IPv4 too, whatever net.ipv6.bindv6only says. */
	if (any)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)ss, len) < 0) {
		int r = -errno;

		close(fd);
		return log_error_errno(r, "Failed to bind the metrics endpoint to %s: %m%s", addr,
				       r == -EADDRINUSE ? " (another exporter on this port? set "
							  "--metrics-listen)"
							: "");
	}
	if (listen(fd, IOH_METRICS_HTTP_BACKLOG) < 0) {
		int r = -errno;

		close(fd);
		return log_error_errno(r, "Failed to listen on %s: %m", addr);
	}
	return fd;
}

/* ---- connections ----------------------------------------------------------------------------- */

static struct http_conn *conn_find(struct ioh_metrics_http *s, struct MHD_Connection *conn)
{
	for (unsigned i = 0; i < IOH_METRICS_HTTP_CONNECTIONS_MAX; i++)
		if (s->conns[i].conn == conn)
			return &s->conns[i];
	return NULL;
}

/* shutdown(), not close(): the fd stays MHD's; it sees end of stream on its next run and
 * frees the connection its usual way. */
static void conn_cut(struct http_conn *c, const char *why)
{
	if (c->shut)
		return;
	c->shut = true;
	c->server->run_again = true;
	log_debug("metrics: closing a connection: %s", why);
	(void)shutdown(c->fd, SHUT_RDWR);
}

/* The oldest connection that has not sent a complete request makes room for a new one. A
 * real scrape sends its request within milliseconds of connecting, so it is practically never
 * the oldest idle one; a crowd of silent connections evicts itself. */
static void evict_idle(struct ioh_metrics_http *s, const struct http_conn *keep)
{
	struct http_conn *oldest = NULL;

	for (unsigned i = 0; i < IOH_METRICS_HTTP_CONNECTIONS_MAX; i++) {
		struct http_conn *c = &s->conns[i];

		if (!c->conn || c == keep || c->shut || c->requested)
			continue;
		if (!oldest || c->accepted_usec < oldest->accepted_usec)
			oldest = c;
	}
	if (oldest)
		conn_cut(oldest, "evicted: idle while the server is near its connection limit");
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct ioh_metrics_http *s = cls;
	struct http_conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = conn_find(s, NULL);
		if (!c || !info) /* cannot happen: MHD's limit is our array size */
			return;
		*c = (struct http_conn){.server = s,
					.conn = conn,
					.fd = info->connect_fd,
					.accepted_usec = ioh_clock_ns(CLOCK_MONOTONIC) / 1000};
		s->n_conns++;
		if (s->n_conns > IOH_METRICS_HTTP_CONNECTIONS_SOFT)
			evict_idle(s, c);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		c = conn_find(s, conn);
		if (c) {
			memset(c, 0, sizeof(*c));
			s->n_conns--;
			s->run_again = true;
		}
	}
}

/* ---- requests -------------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     struct MHD_Response *resp, const char *content_type)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO; /* out of memory: MHD closes the connection */
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	/* One request per connection: see the header comment. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text,
				  const char *allow)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

	if (resp && allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return reply(conn, status, resp, "text/plain; charset=utf-8");
}

static bool has_body(struct MHD_Connection *conn)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && strspn(cl, "0") != strlen(cl);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct ioh_metrics_http *s = cls;
	struct http_conn *c = conn_find(s, conn);
	struct MHD_Response *resp;
	struct strbuf sb;

	if (c)
		c->requested = true;
	/* Every answer is decided on the first call, with the headers complete and before any
	 * body is read: nothing a client sends after its headers is ever buffered. */
	if (*req_cls)
		return MHD_NO;
	*req_cls = s;
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "Not found; try /metrics\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed\n",
				  "GET, HEAD");
	if (has_body(conn))
		return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "Request body not accepted\n",
				  NULL);

	strbuf_init(&sb);
	s->render(s->ctx, &sb);
	if (sb.oom || sb.len > IOH_METRICS_HTTP_RESPONSE_MAX) {
		log_error("metrics: scrape failed: %s",
			  sb.oom ? "out of memory" : "exposition larger than the response limit");
		strbuf_free(&sb);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "Rendering failed\n", NULL);
	}
	if (!sb.buf) /* nothing rendered */
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(sb.len, sb.buf, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		strbuf_free(&sb);
	/* On success the response owns sb.buf and free()s it when the last sender is done. */
	return reply(conn, MHD_HTTP_OK, resp, IOH_EXPO_CONTENT_TYPE);
}

/* ---- the event loop ------------------------------------------------------------------------- */

/* One timer for both MHD's timeouts and our deadlines; re-armed after every MHD_run(). */
static void rearm(struct ioh_metrics_http *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now = ioh_clock_ns(CLOCK_MONOTONIC) / 1000, next = UINT64_MAX;

	if (s->run_again)
		next = now;
	else if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		next = now + (ms > UINT64_MAX / 2000 ? UINT64_MAX / 2 : (uint64_t)ms * 1000);
	for (unsigned i = 0; i < IOH_METRICS_HTTP_CONNECTIONS_MAX; i++) {
		const struct http_conn *c = &s->conns[i];

		if (c->conn && !c->shut && c->accepted_usec + IOH_METRICS_HTTP_DEADLINE_USEC < next)
			next = c->accepted_usec + IOH_METRICS_HTTP_DEADLINE_USEC;
	}
	if (next == UINT64_MAX) {
		sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(s->timer, next);
	sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static void run_mhd(struct ioh_metrics_http *s)
{
	/* Bounded: a flood of connections must not starve the daemon's other sources; what is
	 * left runs on the next loop iteration (rearm() arms the timer for "now"). */
	for (int i = 0; i < 8; i++) {
		s->run_again = false;
		if (MHD_run(s->mhd) != MHD_YES)
			log_debug("metrics: MHD_run failed");
		if (!s->run_again)
			break;
	}
	rearm(s);
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	run_mhd(userdata);
	return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct ioh_metrics_http *s = userdata;
	uint64_t now = ioh_clock_ns(CLOCK_MONOTONIC) / 1000;

	for (unsigned i = 0; i < IOH_METRICS_HTTP_CONNECTIONS_MAX; i++) {
		struct http_conn *c = &s->conns[i];

		if (c->conn && now >= c->accepted_usec + IOH_METRICS_HTTP_DEADLINE_USEC)
			conn_cut(c, "request deadline passed");
	}
	run_mhd(s);
	return 0;
}

/* MHD's own messages (limits hit, malformed requests) are about clients, not about us. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("metrics: microhttpd: %s", msg);
}

/* MHD on an already bound socket: MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD, so
 * no thread; the loop drives it. */
static int start_mhd(struct ioh_metrics_http *s, int fd, const char *listen_addr)
{
	s->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)IOH_METRICS_HTTP_CONNECTIONS_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)IOH_METRICS_HTTP_PER_IP_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IOH_METRICS_HTTP_IDLE_TIMEOUT_SEC,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)IOH_METRICS_HTTP_MEMORY_LIMIT,
	    MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (size_t)1024,
	    /* Reject sloppy HTTP rather than guess what a client meant. */
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_END);
	/* On failure MHD may or may not have closed the socket it was given, so it is left
	 * alone: one descriptor leaked on a startup failure beats closing a number that may
	 * already belong to someone else. */
	if (!s->mhd)
		return log_error_errno(-EIO, "Failed to start the metrics HTTP server on %s",
				       listen_addr);
	return 0;
}

/* MHD's epoll descriptor and its timeout, as sources of the daemon's loop. */
static int attach_to_loop(struct ioh_metrics_http *s, sd_event *e)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	int r;

	if (!info)
		return log_error_errno(-EIO, "Failed to get microhttpd's epoll descriptor");
	r = sd_event_add_io(e, &s->io, info->epoll_fd, EPOLLIN, on_io, s);
	if (r >= 0)
		/* Accuracy 1 us, not sd_event's default 250 ms: MHD asks for "0 ms" whenever a
		 * connection still has buffered work that epoll will not signal again (it uses
		 * edge triggering), and each of those must run now, not a quarter second later. */
		r = sd_event_add_time(e, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, s);
	if (r < 0)
		return log_error_errno(r,
				       "Failed to add the metrics endpoint to the event loop: %m");
	(void)sd_event_source_set_description(s->io, "metrics-http");
	(void)sd_event_source_set_description(s->timer, "metrics-http-timer");
	sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
	rearm(s);
	return 0;
}

int ioh_metrics_http_new(sd_event *e, const char *listen_addr, ioh_metrics_render_fn render,
			 void *ctx, struct ioh_metrics_http **out)
{
	struct ioh_metrics_http *s;
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned len;
	int fd, any, r;

	*out = NULL;
	if (!e || !render)
		return -EINVAL;
	r = ioh_metrics_parse_listen(listen_addr, &ss, &len, &any);
	if (r < 0)
		return log_error_errno(r,
				       "Invalid metrics listen address \"%s\": expected ADDR:PORT, "
				       "[IPV6-ADDR]:PORT, :PORT or off",
				       listen_addr ? listen_addr : "(null)");
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES)
		return log_error_errno(
		    -EOPNOTSUPP, "libmicrohttpd was built without epoll; the metrics endpoint "
				 "needs it");
	s = calloc(1, sizeof(*s));
	if (!s)
		return log_error_errno(-ENOMEM, "Out of memory");
	s->event = sd_event_ref(e);
	s->render = render;
	s->ctx = ctx;
	fd = open_listener(listen_addr, &ss, len, any);
	if (fd < 0) {
		ioh_metrics_http_free(s);
		return fd;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	if ((r = start_mhd(s, fd, listen_addr)) < 0 || (r = attach_to_loop(s, e)) < 0) {
		ioh_metrics_http_free(s);
		return r;
	}
	/* The bound port, not the asked one: ":0" lets the kernel choose. */
	log_info("Metrics on http://%.*s:%u/metrics",
		 (int)(strrchr(listen_addr, ':') ? strrchr(listen_addr, ':') - listen_addr : 0),
		 listen_addr, s->port);
	*out = s;
	return 0;
}

void ioh_metrics_http_free(struct ioh_metrics_http *s)
{
	if (!s)
		return;
	sd_event_source_disable_unref(s->io);
	sd_event_source_disable_unref(s->timer);
	/* Closes the listening socket and every connection; the CLOSED notifications still
	 * reach on_connection, so `s` must outlive this call. */
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	sd_event_unref(s->event);
	free(s);
}

uint16_t ioh_metrics_http_port(const struct ioh_metrics_http *s)
{
	return s ? s->port : 0;
}
