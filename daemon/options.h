/* SPDX-License-Identifier: GPL-2.0-only */
/* iohazardd's command line (design.md fixes the names; iohazardd(8) documents them). */
#ifndef IOH_OPTIONS_H
#define IOH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/loader/bpf_loader.h"

enum ioh_output { IOH_OUTPUT_NONE, IOH_OUTPUT_JSON, IOH_OUTPUT_TEXT };
enum ioh_journal_mode { IOH_JOURNAL_AUTO, IOH_JOURNAL_ON, IOH_JOURNAL_OFF };

#define IOH_RULES_DIRS_MAX 16

struct ioh_options {
	bool foreground;
	enum ioh_output output;
	const char *rules_dirs[IOH_RULES_DIRS_MAX];
	size_t n_rules_dirs; /* 0: the default search path */
	const char *socket_path;
	const char *socket_group;
	const char *metrics_listen;
	enum ioh_backend backend;
	const char *record_path;
	bool record_replace; /* --record may replace an existing regular file */
	const char *replay_path;
	uint32_t ringbuf_bytes;
	uint32_t max_inodes;
	uint32_t max_pending;
	int log_level;
	enum ioh_journal_mode journal;
	uint64_t mixed_window_ns;
	const char *metrics_textfile;
	bool bpf_stats; /* turn on the kernel's per-program run-time accounting */
};

/* Returns 0, 1 when the program should exit successfully (--help, --version), or a negative
 * errno after printing the problem. */
int ioh_options_parse(int argc, char **argv, struct ioh_options *o);

#endif
