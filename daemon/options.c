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
	fprintf(out,
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
	uint64_t record = (sizeof(struct ioh_rename_event) + IOH_RENAME_STRINGS_MAX + 8 + 7) & ~7ull;
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

int ioh_options_parse(int argc, char **argv, struct ioh_options *o)
{
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
	bool output_set = false;
	int c, r;

	memset(o, 0, sizeof(*o));
	o->socket_path = "/run/iohazard/api.sock";
	o->socket_group = "iohazard";
	o->metrics_listen = ":9478";
	o->log_level = IOH_LOG_INFO;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FOREGROUND:
			o->foreground = true;
			break;
		case OPT_OUTPUT:
			output_set = true;
			r = ioh_output_from_string(optarg);
			if (r < 0) {
				fprintf(stderr, "iohazardd: --output: expected json, text or none\n");
				return -EINVAL;
			}
			o->output = r;
			break;
		case OPT_RULES_DIR:
			if (o->n_rules_dirs == IOH_RULES_DIRS_MAX) {
				fprintf(stderr, "iohazardd: at most %d --rules-dir\n",
					IOH_RULES_DIRS_MAX);
				return -E2BIG;
			}
			o->rules_dirs[o->n_rules_dirs++] = optarg;
			break;
		case OPT_SOCKET:
			o->socket_path = optarg;
			break;
		case OPT_SOCKET_GROUP:
			/* The default group may be missing (a host without the package's
			 * sysusers.d); a group asked for by name must exist. */
			if (!getgrnam(optarg)) {
				fprintf(stderr, "iohazardd: --socket-group: no group named '%s'\n",
					optarg);
				return -EINVAL;
			}
			o->socket_group = optarg;
			break;
		case OPT_METRICS:
			o->metrics_listen = optarg;
			break;
		case OPT_BACKEND:
			r = ioh_backend_from_string(optarg);
			if (r < 0) {
				fprintf(stderr, "iohazardd: --backend: expected auto, fentry, kprobe "
						"or tracepoint\n");
				return -EINVAL;
			}
			o->backend = r;
			break;
		case OPT_RECORD:
			o->record_path = optarg;
			break;
		case OPT_RECORD_REPLACE:
			o->record_replace = true;
			break;
		case OPT_REPLAY:
			o->replay_path = optarg;
			break;
		case OPT_RINGBUF: {
			uint64_t v;

			if (ioh_parse_size(optarg, &v) < 0 || v < ioh_ringbuf_min_bytes() ||
			    v > IOH_RINGBUF_MAX || (v & (v - 1))) {
				fprintf(stderr,
					"iohazardd: --ringbuf-size: '%s' must be a power of two from "
					"%u KiB (%u of the largest record) to %u MiB\n",
					optarg, ioh_ringbuf_min_bytes() >> 10,
					IOH_RINGBUF_MIN_RECORDS, IOH_RINGBUF_MAX >> 20);
				return -EINVAL;
			}
			o->ringbuf_bytes = (uint32_t)v;
			break;
		}
		case OPT_MAX_INODES:
			if (parse_count("--max-inodes", optarg, IOH_MAX_INODES_MAX,
					&o->max_inodes) < 0)
				return -EINVAL;
			break;
		case OPT_MAX_PENDING:
			if (parse_count("--max-pending", optarg, IOH_MAX_PENDING_MAX,
					&o->max_pending) < 0)
				return -EINVAL;
			break;
		case OPT_LOG_LEVEL:
			r = ioh_log_level_from_string(optarg);
			if (r < 0) {
				fprintf(stderr, "iohazardd: --log-level: unknown level '%s'\n", optarg);
				return -EINVAL;
			}
			o->log_level = r;
			break;
		case OPT_JOURNAL:
			r = ioh_journal_mode_from_string(optarg);
			if (r < 0) {
				fprintf(stderr, "iohazardd: --journal: expected auto, on or off\n");
				return -EINVAL;
			}
			o->journal = r;
			break;
		case OPT_MIXED_WINDOW:
			if (ioh_parse_duration(optarg, &o->mixed_window_ns) < 0 ||
			    o->mixed_window_ns == 0 || o->mixed_window_ns > IOH_DURATION_MAX_NS) {
				fprintf(stderr,
					"iohazardd: --mixed-window: invalid duration '%s' (1ns to "
					IOH_DURATION_MAX_TEXT ")\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_TEXTFILE:
			o->metrics_textfile = optarg;
			break;
		case OPT_NO_STACKS:
			o->no_stacks = true;
			break;
		case OPT_BPF_STATS:
			o->bpf_stats = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("iohazardd %s\n", IOH_VERSION);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iohazardd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!output_set)
		o->output = o->foreground || o->replay_path ? IOH_OUTPUT_JSON : IOH_OUTPUT_NONE;
	return 0;
}
