/* SPDX-License-Identifier: GPL-2.0-only */
/* Decoded events as JSON (`iohazard replay --events`): for debugging a recording. */
#ifndef IOH_EVENT_FORMAT_H
#define IOH_EVENT_FORMAT_H

#include "daemon/correlator/event.h"
#include "daemon/util/jsonw.h"

/*
 * Names of the event enums (bpf/iohazard.h), from one table each (string_table.h): the
 * value's name, or the fallback for a value with none ("unknown" for the event type,
 * "unresolved" for the identity source, "?" for the others); X_from_string() is the
 * reverse, -EINVAL for an unknown name.
 */
/* "rename", "sync", ... (enum ioh_event_type) */
const char *ioh_event_type_to_string(uint32_t type);
int ioh_event_type_from_string(const char *s);
/* "fsync", "fdatasync", ... (enum ioh_sync_kind) */
const char *ioh_sync_kind_to_string(uint32_t kind);
int ioh_sync_kind_from_string(const char *s);
/* "ringbuf_rename", ... (enum ioh_loss_where) */
const char *ioh_loss_where_to_string(uint32_t where);
int ioh_loss_where_from_string(const char *s);
/* "direct write", "buffered read", "mmap", ... (enum ioh_access) */
const char *ioh_access_to_string(uint32_t access);
int ioh_access_from_string(const char *s);
/* "splice", "sendfile", ... (enum ioh_splice_call) and "pipe", "socket", ... (ioh_end_kind) */
const char *ioh_splice_call_to_string(uint32_t call);
int ioh_splice_call_from_string(const char *s);
const char *ioh_end_kind_to_string(uint32_t kind);
int ioh_end_kind_from_string(const char *s);
/* "kernel", "userspace", "unresolved" (enum ioh_identity_source) */
const char *ioh_identity_source_to_string(uint32_t identity);
int ioh_identity_source_from_string(const char *s);

void ioh_event_jsonw(const struct ioh_event *ev, int64_t realtime_offset_ns, struct jsonw *w);

#endif
