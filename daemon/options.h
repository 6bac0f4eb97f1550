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

/* The --output and --journal words ("json", "auto", ...; "?" for another value), and back
 * (-EINVAL for an unknown word). */
const char *ioh_output_to_string(enum ioh_output output);
int ioh_output_from_string(const char *s);
const char *ioh_journal_mode_to_string(enum ioh_journal_mode mode);
int ioh_journal_mode_from_string(const char *s);

#define IOH_RULES_DIRS_MAX 16

/*
 * Bounds of the size options (docs/operations.md, "Limits"); values outside are refused.
 * The ring buffer's lower bound is computed: it must hold the largest record (a rename with
 * every string at its maximum) IOH_RINGBUF_MIN_RECORDS times, or a few large renames would
 * fill it and every one after them be lost.
 */
#define IOH_RINGBUF_MIN_RECORDS 8
#define IOH_RINGBUF_MAX (256u << 20)   /* 256 MiB */
#define IOH_MAX_INODES_MAX (1u << 20)  /* 1048576: ~64 MiB of per-inode state */
#define IOH_MAX_PENDING_MAX (1u << 18) /* 262144: each holds its paths, ~0.3-6 KiB */

/* The smallest --ringbuf-size accepted (a power of two). */
uint32_t ioh_ringbuf_min_bytes(void);

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
	bool no_stacks; /* --no-stacks: no user call chains (issue 15) */
};

/* Returns 0, 1 when the program should exit successfully (--help, --version), or a negative
 * errno after printing the problem. */
int ioh_options_parse(int argc, char **argv, struct ioh_options *o);

#endif
