// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/stall_status.h"
#include "daemon/stall_status_json.h"
#include "daemon/util/fsnames.h"

#define IOH_BDI_MAX 64

static const struct ioh_evidence *evidence(const struct ioh_finding *f, const char *key)
{
	for (unsigned i = 0; i < f->n_evidence; i++)
		if (strcmp(f->evidence[i].key, key) == 0)
			return &f->evidence[i];
	return NULL;
}

void ioh_stall_board_note(struct ioh_stall_board *b, const struct ioh_finding *f,
			  int64_t realtime_offset_ns)
{
	const struct ioh_evidence *dur = evidence(f, "duration"), *call = evidence(f, "call"),
				  *other = evidence(f, "other_end");
	struct ioh_stall_entry *e;
	size_t slot;

	if (strcmp(f->rule, "splice-stall") != 0 || !dur)
		return;
	/* Keep the worst: replace the smallest when full. */
	if (b->n < IOH_STALL_BOARD_SIZE) {
		slot = b->n++;
	} else {
		slot = 0;
		for (size_t i = 1; i < b->n; i++)
			if (b->worst[i].duration_ns < b->worst[slot].duration_ns)
				slot = i;
		if (b->worst[slot].duration_ns >= dur->u)
			return;
	}
	e = &b->worst[slot];
	memset(e, 0, sizeof(*e));
	e->duration_ns = dur->u;
	e->realtime_ns = (int64_t)f->ts_ns + realtime_offset_ns;
	e->pid = f->pid;
	memcpy(e->comm, f->comm, sizeof(e->comm));
	snprintf(e->call, sizeof(e->call), "%s", call && call->str ? call->str : "?");
	snprintf(e->path, sizeof(e->path), "%s", f->path ? f->path : "");
	snprintf(e->other_end, sizeof(e->other_end), "%s", other && other->str ? other->str : "");
	ioh_unit_from_cgroup(f->cgroup, e->unit, sizeof(e->unit));
}

static void hist_json(struct jsonw *w, const struct ioh_hist_snapshot *h)
{
	int last = -1;

	jsonw_obj_begin(w);
	jsonw_kv_uint(w, IOH_ST_HIST_COUNT, h->count);
	jsonw_kv_double(w, IOH_ST_HIST_SUM_SECONDS, (double)h->sum_ns / 1e9);
	/* buckets[i]: values in [2^i, 2^(i+1)) ns; trailing empty buckets omitted. */
	for (int i = 0; i < IOH_HIST_SLOTS; i++)
		if (h->buckets[i])
			last = i;
	jsonw_key(w, IOH_ST_HIST_BUCKETS);
	jsonw_arr_begin(w);
	for (int i = 0; i <= last; i++)
		jsonw_uint(w, h->buckets[i]);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
}

void ioh_stall_status_json(const struct ioh_stall_board *b, const struct ioh_loader *l,
			   struct jsonw *w)
{
	struct ioh_hist_snapshot *h = calloc(IOH_BDI_MAX, sizeof(*h));
	int n = h ? ioh_loader_read_dirty_histograms(l, h, IOH_BDI_MAX, false) : 0;

	jsonw_key(w, IOH_ST_DIRTY_THROTTLE);
	jsonw_obj_begin(w);
	for (int i = 0; i < n; i++) {
		jsonw_key(w, h[i].bdi[0] ? h[i].bdi : "?");
		hist_json(w, &h[i]);
	}
	jsonw_obj_end(w);
	if (h && ioh_loader_read_splice_histogram(l, h) == 0) {
		jsonw_key(w, IOH_ST_SPLICE_DURATION);
		hist_json(w, h);
	}
	free(h);
	jsonw_key(w, IOH_ST_SPLICE_STALLS);
	jsonw_arr_begin(w);
	for (size_t i = 0; i < b->n; i++) {
		const struct ioh_stall_entry *e = &b->worst[i];

		jsonw_obj_begin(w);
		jsonw_kv_double(w, IOH_ST_STALL_DURATION_SECONDS, (double)e->duration_ns / 1e9);
		jsonw_kv_int(w, IOH_ST_STALL_TIME_NS, e->realtime_ns);
		jsonw_kv_uint(w, IOH_ST_STALL_PID, e->pid);
		jsonw_kv_str(w, IOH_ST_STALL_COMM, e->comm);
		jsonw_key(w, IOH_ST_STALL_UNIT);
		if (e->unit[0])
			jsonw_str(w, e->unit);
		else
			jsonw_null(w);
		jsonw_kv_str(w, IOH_ST_STALL_CALL, e->call);
		jsonw_kv_str(w, IOH_ST_STALL_PATH, e->path);
		jsonw_kv_str(w, IOH_ST_STALL_OTHER_END, e->other_end);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}
