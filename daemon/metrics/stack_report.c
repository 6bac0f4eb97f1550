// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/metrics/families.h"
#include "daemon/metrics/stack_report.h"

const char *ioh_stack_count_name(uint32_t what)
{
	switch (what) {
	case IOH_STACK_CAPTURED:
		return "captured";
	case IOH_STACK_DEDUPED:
		return "deduped";
	case IOH_STACK_BUDGET:
		return "budget";
	case IOH_STACK_RINGBUF:
		return "ringbuf";
	case IOH_STACK_FAULT:
		return "fault";
	case IOH_STACK_NO_USER:
		return "no_user_regs";
	}
	return "unknown";
}

void ioh_stacks_status_jsonw(struct jsonw *w, bool enabled, const uint64_t *kernel,
			     const struct ioh_stacks *t)
{
	struct ioh_stacks_stats st = {0};

	if (t)
		ioh_stacks_get_stats(t, &st);
	jsonw_key(w, "stacks");
	jsonw_obj_begin(w);
	jsonw_kv_bool(w, "enabled", enabled);
	jsonw_key(w, "snapshots");
	jsonw_obj_begin(w);
	for (uint32_t i = 0; i < IOH_STACK__MAX; i++)
		jsonw_kv_uint(w, ioh_stack_count_name(i), kernel ? kernel[i] : 0);
	jsonw_obj_end(w);
	jsonw_kv_uint(w, "unwound", st.snapshots);
	jsonw_kv_uint(w, "chains_ok", st.ok);
	jsonw_kv_uint(w, "chains_truncated", st.truncated);
	jsonw_kv_uint(w, "chains_unresolved", st.unresolved);
	jsonw_kv_uint(w, "findings_with_chain", st.attached);
	jsonw_kv_uint(w, "findings_stack_omitted", st.omitted);
	jsonw_kv_uint(w, "table_entries", st.entries);
	jsonw_kv_uint(w, "table_capacity", st.capacity);
	jsonw_kv_uint(w, "table_evictions", st.evictions);
	jsonw_obj_end(w);
}

void ioh_stacks_metrics(struct ioh_expo *x, const uint64_t *kernel, const struct ioh_stacks *t)
{
	struct ioh_stacks_stats st = {0};

	if (t)
		ioh_stacks_get_stats(t, &st);
	IOH_EXPO_FAMILY(x, STACK_SNAPSHOTS_TOTAL);
	for (uint32_t i = 0; i < IOH_STACK__MAX; i++)
		ioh_expo_u64(x, IOH_LABELS({"result", ioh_stack_count_name(i)}),
			     kernel ? kernel[i] : 0);
	IOH_EXPO_FAMILY(x, STACK_CHAINS_TOTAL);
	ioh_expo_u64(x, IOH_LABELS({"status", "ok"}), st.ok);
	ioh_expo_u64(x, IOH_LABELS({"status", "truncated"}), st.truncated);
	ioh_expo_u64(x, IOH_LABELS({"status", "unresolved"}), st.unresolved);
	IOH_EXPO_FAMILY(x, STACK_FINDINGS_TOTAL);
	ioh_expo_u64(x, IOH_LABELS({"stack", "attached"}), st.attached);
	ioh_expo_u64(x, IOH_LABELS({"stack", "omitted"}), st.omitted);
	IOH_EXPO_FAMILY(x, STACK_TABLE_EVICTIONS_TOTAL);
	ioh_expo_u64(x, IOH_NO_LABELS, st.evictions);
}
