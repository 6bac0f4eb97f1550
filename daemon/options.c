// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/options.h"
#include "iohazard.h"
#include "daemon/rules/rules.h"
#include "daemon/util/log.h"
#include "daemon/util/string_table.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: iohazardd [OPTIONS]\n"
	    "Report I/O patterns that lose data after a crash or stall production.\n\n"
	    "  --foreground              do not daemonize\n"
	    "  --output=json|text|none   findings on stdout (default: none when daemonized,\n"
	    "                            json in the foreground)\n"
	    "  --rules-dir DIR           rules directory; repeatable; replaces the default\n"
	    "                            search path (/usr/lib, /etc, /run .../iohazard/rules.d)\n"
	    "  --socket PATH             API socket (default /run/iohazard/api.sock)\n"
	    "  --socket-group NAME       group allowed on the socket (default iohazard)\n"
	    "  --metrics-listen ADDR:PORT|off  Prometheus endpoint (default :9478)\n"
	    "  --backend auto|fentry|kprobe|tracepoint  attach strategy (default auto)\n"
	    "  --record FILE             write the decoded event stream (gzip); FILE must not\n"
	    "                            exist (created 0600, links never followed)\n"
	    "  --record-replace          let --record replace an existing regular file\n"
	    "  --replay FILE             correlate a recorded stream and exit\n"
	    "  --ringbuf-size BYTES      kernel ring buffer (power of two, 64KiB-256MiB,\n"
	    "                            default 8MiB)\n"
	    "  --max-inodes N            per-inode state cap (1-1048576, default 65536)\n"
	    "  --max-pending N           renames awaiting a directory fsync (1-262144,\n"
	    "                            default 16384)\n"
	    "  --log-level LEVEL         error|warning|notice|info|debug (default info)\n"
	    "  --journal auto|on|off     findings to journald (auto: when journald runs)\n"
	    "  --mixed-window DURATION   O_DIRECT and buffered opens this close count as mixed\n"
	    "                            (default 10m)\n"
	    "  --metrics-textfile PATH   also write the metrics for node_exporter's textfile\n"
	    "                            collector (atomically, every 15s)\n"
	    "  --bpf-stats               count in-kernel run time per program while running\n"
	    "                            (kernel.bpf_stats_enabled; costs ~20ns per run)\n"
	    "  --no-stacks               take no user call chains of hazardous calls (also the\n"
	    "                            rules' [daemon] stacks = no)\n"
	    "  -h, --help                this text\n"
	    "  --version                 print the version\n");
}

static const char *const ioh_output_table[] = {
    [IOH_OUTPUT_NONE] = "none",
    [IOH_OUTPUT_JSON] = "json",
    [IOH_OUTPUT_TEXT] = "text",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_output, enum ioh_output, "?");

static const char *const ioh_journal_mode_table[] = {
    [IOH_JOURNAL_AUTO] = "auto",
    [IOH_JOURNAL_ON] = "on",
    [IOH_JOURNAL_OFF] = "off",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_journal_mode, enum ioh_journal_mode, "?");

uint32_t ioh_ringbuf_min_bytes(void)
{
	/* Each ring-buffer record carries an 8-byte header and is rounded up to 8 bytes. */
	uint64_t record =
	    (sizeof(struct ioh_rename_event) + IOH_RENAME_STRINGS_MAX + 8 + 7) & ~7ull;
	uint32_t min = 4096;

	while (min < record * IOH_RINGBUF_MIN_RECORDS)
		min <<= 1;
	return min;
}

/* A count option in [1, max]. */
static int parse_count(const char *opt, const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || v == 0) {
		fprintf(stderr, "iohazardd: %s: invalid number '%s' (expected 1 to %u)\n", opt, s,
			max);
		return -EINVAL;
	}
	if (v > max) {
		fprintf(stderr, "iohazardd: %s: %s is out of range (at most %u)\n", opt, s, max);
		return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

enum {
	OPT_FOREGROUND = 256,
	OPT_OUTPUT,
	OPT_RULES_DIR,
	OPT_SOCKET,
	OPT_SOCKET_GROUP,
	OPT_METRICS,
	OPT_BACKEND,
	OPT_RECORD,
	OPT_REPLAY,
	OPT_RINGBUF,
	OPT_MAX_INODES,
	OPT_MAX_PENDING,
	OPT_LOG_LEVEL,
	OPT_VERSION,
	OPT_JOURNAL,
	OPT_MIXED_WINDOW,
	OPT_TEXTFILE,
	OPT_BPF_STATS,
	OPT_RECORD_REPLACE,
	OPT_NO_STACKS,
};

static const struct option longopts[] = {
    {"foreground", no_argument, NULL, OPT_FOREGROUND},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"rules-dir", required_argument, NULL, OPT_RULES_DIR},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
    {"metrics-listen", required_argument, NULL, OPT_METRICS},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"record", required_argument, NULL, OPT_RECORD},
    {"record-replace", no_argument, NULL, OPT_RECORD_REPLACE},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"ringbuf-size", required_argument, NULL, OPT_RINGBUF},
    {"max-inodes", required_argument, NULL, OPT_MAX_INODES},
    {"max-pending", required_argument, NULL, OPT_MAX_PENDING},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"journal", required_argument, NULL, OPT_JOURNAL},
    {"mixed-window", required_argument, NULL, OPT_MIXED_WINDOW},
    {"metrics-textfile", required_argument, NULL, OPT_TEXTFILE},
    {"bpf-stats", no_argument, NULL, OPT_BPF_STATS},
    {"no-stacks", no_argument, NULL, OPT_NO_STACKS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {0},
};

/* Options that take any value (paths, addresses) or none. Returns 0, or -ENOENT when `c` is
 * not one of them. */
static int set_plain_option(int c, const char *arg, struct ioh_options *o)
{
	switch (c) {
	case OPT_FOREGROUND:
		o->foreground = true;
		break;
	case OPT_SOCKET:
		o->socket_path = arg;
		break;
	case OPT_METRICS:
		o->metrics_listen = arg;
		break;
	case OPT_RECORD:
		o->record_path = arg;
		break;
	case OPT_RECORD_REPLACE:
		o->record_replace = true;
		break;
	case OPT_REPLAY:
		o->replay_path = arg;
		break;
	case OPT_TEXTFILE:
		o->metrics_textfile = arg;
		break;
	case OPT_BPF_STATS:
		o->bpf_stats = true;
		break;
	case OPT_NO_STACKS:
		o->no_stacks = true;
		break;
	default:
		return -ENOENT;
	}
	return 0;
}

/* A word option: `r` is its X_from_string(); `what` says what was expected. */
static int set_word(const char *option, int r, const char *what, int *out)
{
	if (r < 0) {
		fprintf(stderr, "iohazardd: %s: %s\n", option, what);
		return -EINVAL;
	}
	*out = r;
	return 0;
}

static int set_ringbuf_size(const char *arg, struct ioh_options *o)
{
	uint64_t v;

	if (ioh_parse_size(arg, &v) < 0 || v < ioh_ringbuf_min_bytes() || v > IOH_RINGBUF_MAX ||
	    (v & (v - 1))) {
		fprintf(stderr,
			"iohazardd: --ringbuf-size: '%s' must be a power of two from %u KiB (%u of "
			"the largest record) to %u MiB\n",
			arg, ioh_ringbuf_min_bytes() >> 10, IOH_RINGBUF_MIN_RECORDS,
			IOH_RINGBUF_MAX >> 20);
		return -EINVAL;
	}
	o->ringbuf_bytes = (uint32_t)v;
	return 0;
}

/* Options whose value is checked. Returns 0, -errno (reported), or -ENOENT when `c` is not
 * one of them. */
static int set_checked_option(int c, const char *arg, struct ioh_options *o)
{
	int v = 0, r;

	switch (c) {
	case OPT_OUTPUT:
		r = set_word("--output", ioh_output_from_string(arg), "expected json, text or none",
			     &v);
		o->output = v;
		return r;
	case OPT_BACKEND:
		r = set_word("--backend", ioh_backend_from_string(arg),
			     "expected auto, fentry, kprobe or tracepoint", &v);
		o->backend = v;
		return r;
	case OPT_JOURNAL:
		r = set_word("--journal", ioh_journal_mode_from_string(arg),
			     "expected auto, on or off", &v);
		o->journal = v;
		return r;
	case OPT_LOG_LEVEL:
		if ((r = ioh_log_level_from_string(arg)) < 0) {
			fprintf(stderr, "iohazardd: --log-level: unknown level '%s'\n", arg);
			return -EINVAL;
		}
		o->log_level = r;
		return 0;
	case OPT_RULES_DIR:
		if (o->n_rules_dirs == IOH_RULES_DIRS_MAX) {
			fprintf(stderr, "iohazardd: at most %d --rules-dir\n", IOH_RULES_DIRS_MAX);
			return -E2BIG;
		}
		o->rules_dirs[o->n_rules_dirs++] = arg;
		return 0;
	case OPT_SOCKET_GROUP:
		/* The default group may be missing (a host without the package's sysusers.d);
		 * a group asked for by name must exist. */
		if (!getgrnam(arg)) {
			fprintf(stderr, "iohazardd: --socket-group: no group named '%s'\n", arg);
			return -EINVAL;
		}
		o->socket_group = arg;
		return 0;
	case OPT_RINGBUF:
		return set_ringbuf_size(arg, o);
	case OPT_MAX_INODES:
		return parse_count("--max-inodes", arg, IOH_MAX_INODES_MAX, &o->max_inodes);
	case OPT_MAX_PENDING:
		return parse_count("--max-pending", arg, IOH_MAX_PENDING_MAX, &o->max_pending);
	case OPT_MIXED_WINDOW:
		if (ioh_parse_duration(arg, &o->mixed_window_ns) < 0 || o->mixed_window_ns == 0 ||
		    o->mixed_window_ns > IOH_DURATION_MAX_NS) {
			fprintf(stderr,
				"iohazardd: --mixed-window: invalid duration '%s' (1ns "
				"to " IOH_DURATION_MAX_TEXT ")\n",
				arg);
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

int ioh_options_parse(int argc, char **argv, struct ioh_options *o)
{
	bool output_set = false;
	int c, r;

	memset(o, 0, sizeof(*o));
	o->socket_path = "/run/iohazard/api.sock";
	o->socket_group = "iohazard";
	o->metrics_listen = ":9478";
	o->log_level = IOH_LOG_INFO;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h' || c == OPT_VERSION) {
			if (c == 'h')
				usage(stdout);
			else
				printf("iohazardd %s\n", IOH_VERSION);
			return 1;
		}
		output_set |= c == OPT_OUTPUT;
		r = set_plain_option(c, optarg, o);
		if (r == -ENOENT)
			r = set_checked_option(c, optarg, o);
		if (r == -ENOENT) {
			usage(stderr);
			return -EINVAL;
		}
		if (r < 0)
			return r == -E2BIG ? r : -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "iohazardd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!output_set)
		o->output = o->foreground || o->replay_path ? IOH_OUTPUT_JSON : IOH_OUTPUT_NONE;
	return 0;
}
