/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The API socket: JSON lines over a unix stream socket. Each request is one JSON object on
 * one line ({"command": "status"}), each reply one line ({"ok": true, ...} or
 * {"ok": false, "error": "..."}). Bounded: request size, client count and idle time, and a
 * client whose replies pile up is dropped rather than growing memory.
 *
 * Peers are checked on connect with SO_PEERCRED: root, or a member of the socket's group.
 */
#ifndef IOH_API_SERVER_H
#define IOH_API_SERVER_H

#include <stdint.h>
#include <systemd/sd-event.h>

#include "daemon/util/jsonw.h"

#define IOH_API_REQUEST_MAX 65536
#define IOH_API_CLIENTS_MAX 64
/* Subscribers hold their connection for as long as they like: the rest of the table is kept
 * for short requests (status, findings), so a crowd of `iohazard top` cannot lock them out. */
#define IOH_API_SUBSCRIBERS_MAX 48
#define IOH_API_IDLE_TIMEOUT_USEC (60ULL * 1000000ULL)
#define IOH_API_OUTPUT_MAX (4u << 20)
/* A client's next request is handled only while less than this waits to be read by it; above
 * it the client is not read at all until it catches up. Memory per client is bounded by this
 * plus one reply (the findings ring: about 1 MiB), whatever it has sent. */
#define IOH_API_OUTPUT_HIGH (256u << 10)
/* Requests handled per client per turn of the event loop: one client's pipelined requests do
 * not keep the others (and the ring buffer) waiting. */
#define IOH_API_REQUESTS_PER_TURN 16

struct json_object;

/*
 * Handles one request: writes the reply's fields (after "ok": true) through `w` and returns
 * 0, or returns a negative errno and sets *error to a static message.
 */
typedef int (*ioh_api_handler)(void *ctx, const char *command, struct json_object *request,
			       struct jsonw *w, const char **error);

struct ioh_api_server;

/*
 * "subscribe" is handled here: the client gets {"ok":true,"subscribed":true} and from then on
 * every line passed to ioh_api_server_broadcast(). A subscriber that does not keep up (more
 * than IOH_API_OUTPUT_MAX bytes queued) is dropped and counted, never the daemon's work.
 */
void ioh_api_server_broadcast(struct ioh_api_server *s, const char *line, size_t len);
unsigned ioh_api_server_subscribers(const struct ioh_api_server *s);
uint64_t ioh_api_server_dropped_subscribers(const struct ioh_api_server *s);

/* Connections refused or closed to make room, for status and metrics. */
struct ioh_api_server_stats {
	unsigned clients;	     /* connected now */
	uint64_t refused_full;	     /* connections refused: the table was full of busy clients */
	uint64_t evicted_idle;	     /* idle connections closed to let a new one in */
	uint64_t subscribe_refused;  /* "subscribe" refused: IOH_API_SUBSCRIBERS_MAX reached */
	uint64_t dropped_over_limit; /* clients dropped with IOH_API_OUTPUT_MAX unread */
};
void ioh_api_server_get_stats(const struct ioh_api_server *s, struct ioh_api_server_stats *out);

/* Binds `path` (mode 0660, group `group` if it exists), replacing a stale socket. */
int ioh_api_server_new(sd_event *event, const char *path, const char *group,
		       ioh_api_handler handler, void *ctx, struct ioh_api_server **out);
void ioh_api_server_free(struct ioh_api_server *s);

#endif
