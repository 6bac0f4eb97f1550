/* SPDX-License-Identifier: GPL-2.0-only */
/* Decoded events as JSON (`iohazard replay --events`): for debugging a recording. */
#ifndef IOH_EVENT_FORMAT_H
#define IOH_EVENT_FORMAT_H

#include "daemon/correlator/event.h"
#include "daemon/util/jsonw.h"

const char *ioh_event_type_name(uint32_t type);
const char *ioh_sync_kind_name(uint32_t kind);
const char *ioh_loss_where_name(uint32_t where);
/* "direct write", "buffered read", "mmap", ... (enum ioh_access) */
const char *ioh_access_name(uint32_t access);
/* "splice", "sendfile", ... (enum ioh_splice_call) and "pipe", "socket", ... (ioh_end_kind) */
const char *ioh_splice_call_name(uint32_t call);
const char *ioh_end_kind_name(uint32_t kind);
void ioh_event_jsonw(const struct ioh_event *ev, int64_t realtime_offset_ns, struct jsonw *w);

#endif
