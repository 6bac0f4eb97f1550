/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every metric family iohazardd exports: name, type and HELP text in one place, so the
 * daemon's render callback (daemon/metrics/render.c), docs/metrics.md and the tests cannot
 * drift apart. Use as
 *
 *	IOH_EXPO_FAMILY(x, FINDINGS_TOTAL);
 *
 * which is ioh_expo_family(x, IOH_M_FINDINGS_TOTAL, IOH_M_FINDINGS_TOTAL_TYPE,
 * IOH_M_FINDINGS_TOTAL_HELP) (daemon/metrics/exposition.h).
 *
 * Base units only (seconds, bytes); no path, pid or comm in any label (unbounded cardinality,
 * and they belong in findings, not in a time series database).
 */
#ifndef IOH_METRICS_FAMILIES_H
#define IOH_METRICS_FAMILIES_H

/* HELP and TYPE of the family IOH_M_<id>, all three taken from this file. */
#define IOH_EXPO_FAMILY(x, id)                                                                     \
	ioh_expo_family((x), IOH_M_##id, IOH_M_##id##_TYPE, IOH_M_##id##_HELP)

/* counter {rule, severity} */
#define IOH_M_FINDINGS_TOTAL "iohazard_findings_total"
#define IOH_M_FINDINGS_TOTAL_HELP                                                                  \
	"Hazards found, by rule and severity. Counts every occurrence, including those the "       \
	"rate limiter suppressed in the logs."
#define IOH_M_FINDINGS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {rule} */
#define IOH_M_FINDINGS_SUPPRESSED_TOTAL "iohazard_findings_suppressed_total"
#define IOH_M_FINDINGS_SUPPRESSED_TOTAL_HELP                                                       \
	"Findings not reported individually because the same rule, inode and program was "         \
	"reported within the suppression window."
#define IOH_M_FINDINGS_SUPPRESSED_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {type}: rename, sync, inode_dirty, inode_clean, loss, ... */
#define IOH_M_EVENTS_TOTAL "iohazard_events_total"
#define IOH_M_EVENTS_TOTAL_HELP "Kernel events decoded from the ring buffer, by event type."
#define IOH_M_EVENTS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {where}: ringbuf_rename, ringbuf_sync, inflight_full, inode_map_full, ... */
#define IOH_M_EVENTS_LOST_TOTAL "iohazard_events_lost_total"
#define IOH_M_EVENTS_LOST_TOTAL_HELP                                                               \
	"Kernel events lost before reaching the daemon, by where they were lost. Findings "        \
	"made while this grows are marked degraded."
#define IOH_M_EVENTS_LOST_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {result}: captured, deduped, budget, ringbuf, fault, no_user_regs (issue 15) */
#define IOH_M_STACK_SNAPSHOTS_TOTAL "iohazard_stack_snapshots_total"
#define IOH_M_STACK_SNAPSHOTS_TOTAL_HELP                                                           \
	"User stack snapshots at hazardous calls, by outcome: captured, or skipped (deduped, "     \
	"budget, ringbuf, fault, no_user_regs). A skipped snapshot is not a lost event."
#define IOH_M_STACK_SNAPSHOTS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {status}: ok, truncated, unresolved */
#define IOH_M_STACK_CHAINS_TOTAL "iohazard_stack_chains_total"
#define IOH_M_STACK_CHAINS_TOTAL_HELP "Stack snapshots unwound into call chains, by status."
#define IOH_M_STACK_CHAINS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {stack}: attached, omitted */
#define IOH_M_STACK_FINDINGS_TOTAL "iohazard_stack_findings_total"
#define IOH_M_STACK_FINDINGS_TOTAL_HELP                                                            \
	"Findings of a user call, with its call chain attached or marked stack omitted."
#define IOH_M_STACK_FINDINGS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter: chains dropped from the bounded (pid, call site) table */
#define IOH_M_STACK_TABLE_EVICTIONS_TOTAL "iohazard_stack_table_evictions_total"
#define IOH_M_STACK_TABLE_EVICTIONS_TOTAL_HELP                                                     \
	"Call chains dropped from the daemon's (pid, call site) table for room."
#define IOH_M_STACK_TABLE_EVICTIONS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter: records the daemon could not decode (version skew between BPF and user space) */
#define IOH_M_DECODE_ERRORS_TOTAL "iohazard_decode_errors_total"
#define IOH_M_DECODE_ERRORS_TOTAL_HELP "Ring buffer records that could not be decoded."
#define IOH_M_DECODE_ERRORS_TOTAL_TYPE IOH_METRIC_COUNTER

/* gauge {probe, backend}: 1 attached, 0 not (backend e.g. fentry, kprobe, tp_btf, none) */
#define IOH_M_PROBE_ATTACHED "iohazard_probe_attached"
#define IOH_M_PROBE_ATTACHED_HELP                                                                  \
	"Whether each hook is attached (1) or not (0), and through which backend. A 0 means "      \
	"the daemon is blind to that class of events."
#define IOH_M_PROBE_ATTACHED_TYPE IOH_METRIC_GAUGE

/* histogram {bdi}, from the kernel's log2 slots in nanoseconds */
#define IOH_M_DIRTY_THROTTLE_PAUSE_SECONDS "iohazard_dirty_throttle_pause_seconds"
#define IOH_M_DIRTY_THROTTLE_PAUSE_SECONDS_HELP                                                    \
	"Time writers were paused by dirty page throttling (balance_dirty_pages), by backing "     \
	"device."
#define IOH_M_DIRTY_THROTTLE_PAUSE_SECONDS_TYPE IOH_METRIC_HISTOGRAM

/* histogram, from the kernel's log2 slots in nanoseconds */
#define IOH_M_SPLICE_DURATION_SECONDS "iohazard_splice_duration_seconds"
#define IOH_M_SPLICE_DURATION_SECONDS_HELP "Duration of splice and sendfile calls."
#define IOH_M_SPLICE_DURATION_SECONDS_TYPE IOH_METRIC_HISTOGRAM

/* gauge */
#define IOH_M_TRACKED_INODES "iohazard_tracked_inodes"
#define IOH_M_TRACKED_INODES_HELP "Inodes whose dirty state the correlator currently tracks."
#define IOH_M_TRACKED_INODES_TYPE IOH_METRIC_GAUGE

/* gauge */
#define IOH_M_TRACKED_INODES_LIMIT "iohazard_tracked_inodes_limit"
#define IOH_M_TRACKED_INODES_LIMIT_HELP                                                            \
	"Most inodes the correlator tracks (--max-inodes); past it the oldest are evicted."
#define IOH_M_TRACKED_INODES_LIMIT_TYPE IOH_METRIC_GAUGE

/* gauge */
#define IOH_M_PENDING_RENAMES "iohazard_pending_renames"
#define IOH_M_PENDING_RENAMES_HELP                                                                 \
	"Renames waiting for their durability deadline (a sync of the file and its directory)."
#define IOH_M_PENDING_RENAMES_TYPE IOH_METRIC_GAUGE

/* counter */
#define IOH_M_STATE_EVICTIONS_TOTAL "iohazard_state_evictions_total"
#define IOH_M_STATE_EVICTIONS_TOTAL_HELP                                                           \
	"Tracked state dropped because a limit was reached. Hazards on evicted state are missed."
#define IOH_M_STATE_EVICTIONS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {prog}; needs kernel.bpf_stats_enabled=1 (only set if the operator asks) */
#define IOH_M_BPF_RUN_SECONDS_TOTAL "iohazard_bpf_run_seconds_total"
#define IOH_M_BPF_RUN_SECONDS_TOTAL_HELP                                                           \
	"CPU time spent in each BPF program (kernel.bpf_stats_enabled must be 1, else 0)."
#define IOH_M_BPF_RUN_SECONDS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter {prog} */
#define IOH_M_BPF_RUN_COUNT_TOTAL "iohazard_bpf_run_count_total"
#define IOH_M_BPF_RUN_COUNT_TOTAL_HELP                                                             \
	"Runs of each BPF program (kernel.bpf_stats_enabled must be 1, else 0)."
#define IOH_M_BPF_RUN_COUNT_TOTAL_TYPE IOH_METRIC_COUNTER

/* gauge: 1 the last reload applied, 0 it was rejected and the previous rules stay in force */
#define IOH_M_RULES_LAST_RELOAD_SUCCESS "iohazard_rules_last_reload_success"
#define IOH_M_RULES_LAST_RELOAD_SUCCESS_HELP                                                       \
	"Whether the last rules load succeeded (1) or was rejected (0, previous rules kept)."
#define IOH_M_RULES_LAST_RELOAD_SUCCESS_TYPE IOH_METRIC_GAUGE

/* gauge, unix time */
#define IOH_M_RULES_LAST_RELOAD_SUCCESS_TIMESTAMP                                                  \
	"iohazard_rules_last_reload_success_timestamp_seconds"
#define IOH_M_RULES_LAST_RELOAD_SUCCESS_TIMESTAMP_HELP                                             \
	"Unix time of the last successful rules load."
#define IOH_M_RULES_LAST_RELOAD_SUCCESS_TIMESTAMP_TYPE IOH_METRIC_GAUGE

/* gauge */
#define IOH_M_RULES_LOADED "iohazard_rules_loaded"
#define IOH_M_RULES_LOADED_HELP "Rules currently in force (enabled ones)."
#define IOH_M_RULES_LOADED_TYPE IOH_METRIC_GAUGE

/* gauge {rule} */
#define IOH_M_SELFTEST_LAST_SUCCESS "iohazard_selftest_last_success"
#define IOH_M_SELFTEST_LAST_SUCCESS_HELP                                                           \
	"Whether the last `iohazard selftest` saw the daemon report each rule's hazard (1) or "    \
	"not (0)."
#define IOH_M_SELFTEST_LAST_SUCCESS_TYPE IOH_METRIC_GAUGE

/* gauge {version}, always 1 */
#define IOH_M_BUILD_INFO "iohazard_build_info"
#define IOH_M_BUILD_INFO_HELP "Always 1; the labels say which iohazard build is running."
#define IOH_M_BUILD_INFO_TYPE IOH_METRIC_GAUGE

/* gauge, unix time */
#define IOH_M_START_TIME_SECONDS "iohazard_start_time_seconds"
#define IOH_M_START_TIME_SECONDS_HELP "Unix time the daemon started."
#define IOH_M_START_TIME_SECONDS_TYPE IOH_METRIC_GAUGE

/* gauge */
#define IOH_M_API_CLIENTS "iohazard_api_clients"
#define IOH_M_API_CLIENTS_HELP "Clients connected to the API socket."
#define IOH_M_API_CLIENTS_TYPE IOH_METRIC_GAUGE

/* counter {reason}: table_full, idle_evicted, subscribers_full, output_limit */
#define IOH_M_API_REFUSED_TOTAL "iohazard_api_refused_total"
#define IOH_M_API_REFUSED_TOTAL_HELP                                                               \
	"API connections or requests turned away by a limit: connections refused with every slot " \
	"busy, idle connections closed to make room, subscriptions over the subscriber cap, "      \
	"clients dropped with 4 MiB of replies unread."
#define IOH_M_API_REFUSED_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter */
#define IOH_M_API_SUBSCRIBERS_DROPPED_TOTAL "iohazard_api_subscribers_dropped_total"
#define IOH_M_API_SUBSCRIBERS_DROPPED_TOTAL_HELP                                                   \
	"API subscribers disconnected because they read too slowly."
#define IOH_M_API_SUBSCRIBERS_DROPPED_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter */
#define IOH_M_RECORD_WRITE_ERRORS_TOTAL "iohazard_record_write_errors_total"
#define IOH_M_RECORD_WRITE_ERRORS_TOTAL_HELP                                                       \
	"Failed writes to the --record file (disk full, I/O error). The first one stops the "      \
	"recording; `iohazard status` says why."
#define IOH_M_RECORD_WRITE_ERRORS_TOTAL_TYPE IOH_METRIC_COUNTER

/* gauge */
#define IOH_M_RECORDING_ACTIVE "iohazard_recording_active"
#define IOH_M_RECORDING_ACTIVE_HELP                                                                \
	"1 while --record is writing the event stream, 0 without --record or once it stopped."
#define IOH_M_RECORDING_ACTIVE_TYPE IOH_METRIC_GAUGE

/* counter */
#define IOH_M_TEXTFILE_WRITE_ERRORS_TOTAL "iohazard_textfile_write_errors_total"
#define IOH_M_TEXTFILE_WRITE_ERRORS_TOTAL_HELP                                                     \
	"Failed writes of the node_exporter textfile (--metrics-textfile)."
#define IOH_M_TEXTFILE_WRITE_ERRORS_TOTAL_TYPE IOH_METRIC_COUNTER

/* gauge */
#define IOH_M_JOURNAL_SENT_TOTAL "iohazard_journal_findings_sent_total"
#define IOH_M_JOURNAL_SENT_TOTAL_HELP "Findings journald accepted (--journal)."
#define IOH_M_JOURNAL_SENT_TOTAL_TYPE IOH_METRIC_COUNTER
#define IOH_M_JOURNAL_FAILURES_TOTAL "iohazard_journal_send_failures_total"
#define IOH_M_JOURNAL_FAILURES_TOTAL_HELP                                                          \
	"Findings that did not reach the journal (no journald socket, its queue full, out of "     \
	"memory); journal.last_error in the status says why."
#define IOH_M_JOURNAL_FAILURES_TOTAL_TYPE IOH_METRIC_COUNTER
#define IOH_M_BLIND "iohazard_blind"
#define IOH_M_BLIND_HELP                                                                           \
	"1 while the daemon cannot see I/O (a hook detached or its canary syscall did not come "   \
	"back through the ring buffer); the status says why."
#define IOH_M_BLIND_TYPE IOH_METRIC_GAUGE

/* counter */
#define IOH_M_BLIND_EPISODES_TOTAL "iohazard_blind_episodes_total"
#define IOH_M_BLIND_EPISODES_TOTAL_HELP "Times the daemon became blind."
#define IOH_M_BLIND_EPISODES_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter */
#define IOH_M_RESOLVE_TIMEOUTS_TOTAL "iohazard_resolve_timeouts_total"
#define IOH_M_RESOLVE_TIMEOUTS_TOTAL_HELP                                                          \
	"Renamed names whose statx did not finish in time (a file system holding a lookup) or "    \
	"found every resolver worker stuck. Their findings are degraded."
#define IOH_M_RESOLVE_TIMEOUTS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter */
#define IOH_M_RESOLVE_SKIPPED_TOTAL "iohazard_resolve_skipped_total"
#define IOH_M_RESOLVE_SKIPPED_TOTAL_HELP                                                           \
	"Renamed names not looked up because their file system may block a lookup or cannot "      \
	"carry a durable-rename finding (fuse, nfs, proc, ...)."
#define IOH_M_RESOLVE_SKIPPED_TOTAL_TYPE IOH_METRIC_COUNTER

/* gauge */
#define IOH_M_RESOLVER_WORKERS_STUCK "iohazard_resolver_workers_stuck"
#define IOH_M_RESOLVER_WORKERS_STUCK_HELP                                                          \
	"Resolver threads still inside a statx that was given up on. At the maximum (8) every "    \
	"rename that needs a lookup is degraded."
#define IOH_M_RESOLVER_WORKERS_STUCK_TYPE IOH_METRIC_GAUGE

/* counter */
#define IOH_M_LOOP_STALLS_TOTAL "iohazard_loop_stalls_total"
#define IOH_M_LOOP_STALLS_TOTAL_HELP                                                               \
	"Times the daemon's event loop did not run for more than 3 s (seen by a separate "         \
	"thread). Each is a blind episode: events of that time may be missing."
#define IOH_M_LOOP_STALLS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter */
#define IOH_M_LOOP_STALL_SECONDS_TOTAL "iohazard_loop_stall_seconds_total"
#define IOH_M_LOOP_STALL_SECONDS_TOTAL_HELP "Time the event loop was gone in those stalls."
#define IOH_M_LOOP_STALL_SECONDS_TOTAL_TYPE IOH_METRIC_COUNTER

/* counter */
#define IOH_M_SCRAPE_ERRORS_TOTAL "iohazard_metrics_render_errors_total"
#define IOH_M_SCRAPE_ERRORS_TOTAL_HELP                                                             \
	"Metric families or samples left out of a scrape by a programming error (see the log)."
#define IOH_M_SCRAPE_ERRORS_TOTAL_TYPE IOH_METRIC_COUNTER

#endif
