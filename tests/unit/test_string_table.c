// SPDX-License-Identifier: GPL-2.0-only
/*
 * The enum <-> name tables (daemon/util/string_table.h): the macro's edge cases (holes,
 * negative and out-of-range values, the fallback, NULL and unknown names), then every table
 * in the tree with its exact names (they are the JSON, metric-label and CLI contract) both
 * ways, and its fallback.
 */
#include <stdint.h>

#include "cli/top/model.h"
#include "daemon/correlator/severity.h"
#include "daemon/loader/bpf_loader.h"
#include "daemon/metrics/exposition.h"
#include "daemon/options.h"
#include "daemon/sinks/event_format.h"
#include "daemon/util/log.h"
#include "daemon/util/string_table.h"
#include "tests/unit/check.h"

enum colour { COLOUR_RED = 1, COLOUR_BLUE = 3 };

static const char *const colour_table[] = {
    [COLOUR_RED] = "red",
    [COLOUR_BLUE] = "blue",
};
IOH_DEFINE_PRIVATE_STRING_TABLE_LOOKUP(colour, int, "?");

static const char *const bare_table[] = {"zero", "one"};
IOH_DEFINE_PRIVATE_STRING_TABLE_LOOKUP(bare, unsigned, NULL);

struct name {
	long value;
	const char *name;
};

/* Equal strings, or both NULL (a NULL fallback). */
static int same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Every name maps to its value and back; the values in between have none. */
#define CHECK_TABLE(prefix, fallback, ...)                                                         \
	do {                                                                                       \
		static const struct name names_[] = {__VA_ARGS__};                                 \
		for (size_t i_ = 0; i_ < IOH_ELEMENTSOF(names_); i_++) {                           \
			CHECK_STR(prefix##_to_string(names_[i_].value), names_[i_].name);          \
			CHECK_INT(prefix##_from_string(names_[i_].name), names_[i_].value);        \
		}                                                                                  \
		CHECK_INT(prefix##_from_string("no such name"), -EINVAL);                          \
		CHECK_INT(prefix##_from_string(NULL), -EINVAL);                                    \
		CHECK(same(prefix##_to_string(100000), (fallback)));                               \
	} while (0)

int main(void)
{
	TEST_CASE("macro: names by value, holes and out-of-range values take the fallback")
	{
		CHECK_STR(colour_to_string(COLOUR_RED), "red");
		CHECK_STR(colour_to_string(COLOUR_BLUE), "blue");
		CHECK_STR(colour_to_string(0), "?");  /* hole before the first name */
		CHECK_STR(colour_to_string(2), "?");  /* hole between names */
		CHECK_STR(colour_to_string(4), "?");  /* one past the end */
		CHECK_STR(colour_to_string(-1), "?"); /* negative: never an index */
		CHECK_STR(colour_to_string(INT32_MIN), "?");
		CHECK(bare_to_string(2) == NULL); /* a NULL fallback stays NULL */
		CHECK(bare_to_string(UINT32_MAX) == NULL);
		CHECK_STR(bare_to_string(0), "zero");
	}

	TEST_CASE("macro: names back to values, exactly")
	{
		CHECK_INT(colour_from_string("red"), COLOUR_RED);
		CHECK_INT(colour_from_string("blue"), COLOUR_BLUE);
		CHECK_INT(colour_from_string("?"), -EINVAL); /* the fallback is not a name */
		CHECK_INT(colour_from_string(""), -EINVAL);
		CHECK_INT(colour_from_string("Red"), -EINVAL);
		CHECK_INT(colour_from_string("re"), -EINVAL);
		CHECK_INT(colour_from_string("redd"), -EINVAL);
		CHECK_INT(colour_from_string(NULL), -EINVAL);
		CHECK_INT(bare_from_string("zero"), 0);
		CHECK_INT(bare_from_string("one"), 1);
	}

	TEST_CASE("severity")
	{
		CHECK_TABLE(ioh_severity, "unknown", {IOH_SEV_INFO, "info"},
			    {IOH_SEV_NOTICE, "notice"}, {IOH_SEV_WARNING, "warning"},
			    {IOH_SEV_CRITICAL, "critical"});
		CHECK_STR(ioh_severity_to_string(-1), "unknown"); /* top's "none seen" */
	}

	TEST_CASE("event type")
	{
		CHECK_TABLE(ioh_event_type, "unknown", {IOH_EV_RENAME, "rename"},
			    {IOH_EV_SYNC, "sync"}, {IOH_EV_INODE_DIRTY, "inode_dirty"},
			    {IOH_EV_INODE_CLEAN, "inode_clean"},
			    {IOH_EV_ACCESS_MODE, "access_mode"}, {IOH_EV_HEARTBEAT, "heartbeat"},
			    {IOH_EV_DIRTY_THROTTLE, "dirty_throttle"},
			    {IOH_EV_SPLICE_STALL, "splice_stall"}, {IOH_EV_TRUNCATE, "truncate"},
			    {IOH_EV_MOUNT, "mount"}, {IOH_EV_LOSS, "loss"}, {IOH_EV_END, "end"});
		CHECK_STR(ioh_event_type_to_string(0), "unknown");
		CHECK_STR(ioh_event_type_to_string(IOH_EV__KERNEL_MAX), "unknown");
		/* every kernel type has a name (the per-type counters are labelled by it) */
		for (uint32_t t = 1; t < IOH_EV__KERNEL_MAX; t++)
			CHECK(strcmp(ioh_event_type_to_string(t), "unknown") != 0);
	}

	TEST_CASE("sync kind")
	{
		CHECK_TABLE(ioh_sync_kind, "?", {IOH_SYNC_FSYNC, "fsync"},
			    {IOH_SYNC_FDATASYNC, "fdatasync"},
			    {IOH_SYNC_FILE_RANGE, "sync_file_range"}, {IOH_SYNC_SYNCFS, "syncfs"},
			    {IOH_SYNC_SYNC, "sync"});
		CHECK_STR(ioh_sync_kind_to_string(0), "?");
		CHECK_STR(ioh_sync_kind_to_string(6), "?");
	}

	TEST_CASE("loss where")
	{
		CHECK_TABLE(ioh_loss_where, "?", {IOH_LOSS_RINGBUF_RENAME, "ringbuf_rename"},
			    {IOH_LOSS_RINGBUF_SYNC, "ringbuf_sync"},
			    {IOH_LOSS_RINGBUF_INODE, "ringbuf_inode"},
			    {IOH_LOSS_INFLIGHT_FULL, "inflight_full"},
			    {IOH_LOSS_INODE_MAP_FULL, "inode_map_full"},
			    {IOH_LOSS_USER_STRING, "user_string"},
			    {IOH_LOSS_RINGBUF_MODE, "ringbuf_mode"},
			    {IOH_LOSS_MODE_MAP_FULL, "mode_map_full"},
			    {IOH_LOSS_RINGBUF_THROTTLE, "ringbuf_throttle"},
			    {IOH_LOSS_RINGBUF_SPLICE, "ringbuf_splice"},
			    {IOH_LOSS_SPLICE_INFLIGHT_FULL, "splice_inflight_full"},
			    {IOH_LOSS_HIST_MAP_FULL, "hist_map_full"},
			    {IOH_LOSS_RINGBUF_TRUNCATE, "ringbuf_truncate"});
		/* a new loss counter without a name would be a metric label "?" */
		for (uint32_t w = 0; w < IOH_LOSS__MAX; w++)
			CHECK(strcmp(ioh_loss_where_to_string(w), "?") != 0);
		CHECK_STR(ioh_loss_where_to_string(IOH_LOSS__MAX), "?");
	}

	TEST_CASE("access")
	{
		CHECK_TABLE(
		    ioh_access, "?", {IOH_ACC_NONE, "none"}, {IOH_ACC_OPEN_DIRECT, "O_DIRECT open"},
		    {IOH_ACC_OPEN_BUFFERED, "buffered open"}, {IOH_ACC_DIRECT_READ, "direct read"},
		    {IOH_ACC_DIRECT_WRITE, "direct write"},
		    {IOH_ACC_BUFFERED_READ, "buffered read"},
		    {IOH_ACC_BUFFERED_WRITE, "buffered write"}, {IOH_ACC_MMAP, "mmap"});
		CHECK_STR(ioh_access_to_string(8), "?");
	}

	TEST_CASE("splice call and end kind")
	{
		CHECK_TABLE(ioh_splice_call, "?", {IOH_SPLICE_CALL_SPLICE, "splice"},
			    {IOH_SPLICE_CALL_TEE, "tee"}, {IOH_SPLICE_CALL_VMSPLICE, "vmsplice"},
			    {IOH_SPLICE_CALL_SENDFILE, "sendfile"},
			    {IOH_SPLICE_CALL_COPY_FILE_RANGE, "copy_file_range"});
		CHECK_STR(ioh_splice_call_to_string(0), "?");
		CHECK_STR(ioh_splice_call_to_string(6), "?");
		CHECK_TABLE(ioh_end_kind, "?", {IOH_END_NONE, "none"}, {IOH_END_FILE, "file"},
			    {IOH_END_PIPE, "pipe"}, {IOH_END_SOCKET, "socket"},
			    {IOH_END_OTHER, "other"});
		CHECK_STR(ioh_end_kind_to_string(5), "?");
	}

	TEST_CASE("identity source")
	{
		CHECK_TABLE(ioh_identity_source, "unresolved", {IOH_ID_NONE, "unresolved"},
			    {IOH_ID_KERNEL, "kernel"}, {IOH_ID_USERSPACE, "userspace"});
		CHECK_STR(ioh_identity_source_to_string(3), "unresolved");
	}

	TEST_CASE("log level")
	{
		CHECK_TABLE(ioh_log_level, "debug", {IOH_LOG_ERR, "error"},
			    {IOH_LOG_WARNING, "warning"}, {IOH_LOG_NOTICE, "notice"},
			    {IOH_LOG_INFO, "info"}, {IOH_LOG_DEBUG, "debug"});
		CHECK_STR(ioh_log_level_to_string(0), "debug"); /* below IOH_LOG_ERR */
		CHECK_STR(ioh_log_level_to_string(8), "debug");
	}

	TEST_CASE("daemon options: --output, --journal, --backend")
	{
		CHECK_TABLE(ioh_output, "?", {IOH_OUTPUT_NONE, "none"}, {IOH_OUTPUT_JSON, "json"},
			    {IOH_OUTPUT_TEXT, "text"});
		CHECK_TABLE(ioh_journal_mode, "?", {IOH_JOURNAL_AUTO, "auto"},
			    {IOH_JOURNAL_ON, "on"}, {IOH_JOURNAL_OFF, "off"});
		CHECK_TABLE(ioh_backend, "?", {IOH_BACKEND_AUTO, "auto"},
			    {IOH_BACKEND_FENTRY, "fentry"}, {IOH_BACKEND_KPROBE, "kprobe"},
			    {IOH_BACKEND_TRACEPOINT, "tracepoint"});
	}

	TEST_CASE("metric type")
	{
		CHECK_TABLE(ioh_metric_type, NULL, {IOH_METRIC_COUNTER, "counter"},
			    {IOH_METRIC_GAUGE, "gauge"}, {IOH_METRIC_HISTOGRAM, "histogram"});
		CHECK(ioh_metric_type_to_string(3) == NULL);
	}

	TEST_CASE("top sort order")
	{
		CHECK_TABLE(top_sort, "?", {TOP_SORT_SEVERITY, "severity"},
			    {TOP_SORT_LAST_SEEN, "last seen"}, {TOP_SORT_COUNT, "count"},
			    {TOP_SORT_FIRST_SEEN, "first seen"}, {TOP_SORT_RULE, "rule"},
			    {TOP_SORT_PATH, "path"});
		CHECK_STR(top_sort_to_string(TOP_SORT__MAX), "?");
		CHECK_STR(top_sort_to_string(-1), "?");
	}

	return check_summary();
}
