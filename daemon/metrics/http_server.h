/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus endpoint: `GET /metrics` (and HEAD) over libmicrohttpd, driven by the daemon's
 * sd_event loop -- no thread. MHD runs in external-epoll mode: its epoll fd is one io source
 * of our loop, and one timer carries both MHD's own timeouts and our request deadline.
 *
 * Anyone who can reach the port is an outside party, so everything they can make us hold is
 * bounded: connections in total and per address, bytes of request per connection, idle time,
 * and total time per request (a slow-loris client that trickles a byte a second never goes idle,
 * so MHD's idle timeout alone would not cut it off). One request per connection (the response
 * says `Connection: close`): a scrape every 15 s does not need keep-alive, and it makes the
 * request deadline a connection deadline. Idle connections beyond a soft limit are evicted
 * oldest first, so a crowd of clients that connect and send nothing cannot keep a real scrape
 * out until their timeouts expire.
 */
#ifndef IOH_METRICS_HTTP_SERVER_H
#define IOH_METRICS_HTTP_SERVER_H

#include <stdint.h>
#include <systemd/sd-event.h>

#include "daemon/util/strbuf.h"

/* All connections; MHD refuses more (a handful of Prometheus servers scrape one host). */
#define IOH_METRICS_HTTP_CONNECTIONS_MAX 32
/* Past this many, a new connection evicts the oldest one that has not sent a request. */
#define IOH_METRICS_HTTP_CONNECTIONS_SOFT 24
/* Connections from one address; more are closed at once. */
#define IOH_METRICS_HTTP_PER_IP_MAX 8
/* MHD's idle timeout, seconds without a byte in either direction. */
#define IOH_METRICS_HTTP_IDLE_TIMEOUT_SEC 3
/* From accept to the last byte of the response. A scrape takes milliseconds; Prometheus
 * itself gives up after its scrape_timeout (10 s by default). */
#define IOH_METRICS_HTTP_DEADLINE_USEC (5ULL * 1000000ULL)
/* Per-connection memory pool: request line, headers and response headers must fit, so a
 * huge header is answered 431 instead of growing memory. Real scrapes send ~300 bytes. */
#define IOH_METRICS_HTTP_MEMORY_LIMIT (16u * 1024u)
/* Kernel accept queue: connections waiting while the loop is busy. */
#define IOH_METRICS_HTTP_BACKLOG 128
/* A render larger than this is a bug (cardinality explosion): answered 500, not sent. */
#define IOH_METRICS_HTTP_RESPONSE_MAX (32u << 20)

/* Renders the whole exposition into `out` (empty, initialized) at scrape time. `out->oom`
 * after the call turns the scrape into a 500. */
typedef void (*ioh_metrics_render_fn)(void *ctx, struct strbuf *out);

struct ioh_metrics_http;

/*
 * Listens on `listen`: "ADDR:PORT" (IPv4), "[ADDR]:PORT" (IPv6) or ":PORT" (every address,
 * IPv6 and IPv4 when the host has IPv6). Port 0 picks a free port (see
 * ioh_metrics_http_port()). Host names are not accepted: the daemon must not depend on DNS
 * at boot. Returns 0 or a negative errno (-EINVAL for a malformed address, the bind error
 * otherwise), logged.
 */
int ioh_metrics_http_new(sd_event *e, const char *listen, ioh_metrics_render_fn render, void *ctx,
			 struct ioh_metrics_http **out);
/* Closes the listener and every connection. Accepts NULL. */
void ioh_metrics_http_free(struct ioh_metrics_http *s);
/* The bound port (useful after port 0). */
uint16_t ioh_metrics_http_port(const struct ioh_metrics_http *s);

/* Strict parse of `listen` (see ioh_metrics_http_new) into a socket address; `any` is set
 * for ":PORT". Returns 0 or -EINVAL; exported for tests. */
struct sockaddr_storage;
int ioh_metrics_parse_listen(const char *listen, struct sockaddr_storage *ss, unsigned *len,
			     int *any);

#endif
