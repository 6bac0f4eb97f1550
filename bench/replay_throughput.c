// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark: how fast the correlator consumes decoded events on one core, and how much user
 * space memory a tracked inode costs.
 *
 *   replay_throughput [--rules-dir DIR] [--work-dir DIR] [--events N] [--passes P]
 *                     [--inodes N] [--memory-inodes N] [--record-passes P]
 *
 * 1. feed: a synthetic stream shaped like a busy host (see gen_stream) is generated in memory
 *    once and fed to ioh_correlator_feed() P times with shifted timestamps; the rate of each
 *    pass is measured and the median reported. Generation is not timed, and findings go to a
 *    callback that only counts them, so this is the correlator and detectors alone (no sink).
 * 2. replay: the same stream written with ioh_eventlog_write() to WORK_DIR and read back
 *    through ioh_replay_file(), i.e. what `iohazard replay` does: gzip inflate and decode
 *    included.
 * 3. memory: RSS growth of an inode table filled with N distinct inodes, and of a whole
 *    correlator fed N DIRTY events of distinct inodes, per inode; measured first, on a clean
 *    heap, so nothing else moves RSS.
 *
 * Output is "key=value" lines for bench/run.sh (and humans).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/correlator/correlator.h"
#include "daemon/record/eventlog.h"
#include "daemon/record/replay.h"
#include "daemon/rules/rules.h"
#include "daemon/util/timeops.h"

#define EXT4_MAGIC 0xEF53
#define DEV_SDA1 ((8u << 20) | 1u) /* kernel encoding of 8:1 */
#define N_DIRS 1000
#define INO_BASE_DIR 1000
#define INO_BASE_FILE 1000000

struct opts {
	const char *rules_dir;
	const char *work_dir;
	uint32_t events; /* per pass */
	uint32_t passes;
	uint32_t inodes; /* working set of regular files */
	uint32_t memory_inodes;
	uint32_t record_passes;
};

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t rng_state = 0x243F6A8885A308D3ull;

/* xorshift64*: deterministic, so every run feeds the same stream. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the synthetic stream ----------------------------------------------------------------- */

/*
 * Proportions of a busy host as the kernel side reports it: writeback makes DIRTY and CLEAN
 * the bulk (one DIRTY per clean->dirty transition, one CLEAN per writeback pass), fsync and
 * fdatasync of data files next, directory fsyncs, ~5% renames (a config or state file
 * replaced), about 70% of them done right (file fsynced before, directory right after), a
 * tenth of them under excluded scratch paths. Accesses are skewed: 80% go to a hot fifth of the
 * files. A sync(2) and a loss report appear once per pass, as on a host polled every few seconds.
 */
struct stream {
	struct ioh_event *ev;
	uint32_t n;
	uint64_t span_ns; /* last timestamp - first, plus one gap */
	char *strings;	  /* paths, owned */
	uint64_t counts[IOH_EV_END + 1];
};

static const char *const comms[] = {"postgres", "nginx", "rsyslogd", "containerd",
				    "python3",	"java",	 "dockerd",  "systemd-journal"};
static const char *const cgroups[] = {
    "/system.slice/postgresql.service",
    "/system.slice/nginx.service",
    "/user.slice/user-1000.slice/session-2.scope",
    "/system.slice/containerd.service/kubepods/pod1234/abcd",
    NULL,
};

static struct ioh_file_id file_id(uint64_t ino, bool dir)
{
	return (struct ioh_file_id){
	    .dev = DEV_SDA1,
	    .mode = dir ? (S_IFDIR | 0755) : (S_IFREG | 0644),
	    .ino = ino,
	    .fs_magic = EXT4_MAGIC,
	};
}

static uint64_t pick_file(uint32_t inodes)
{
	uint32_t hot = inodes / 5 ? inodes / 5 : 1;

	if (rng() % 10 < 8)
		return INO_BASE_FILE + rng() % hot;
	return INO_BASE_FILE + rng() % inodes;
}

static void set_task(struct ioh_event *ev, uint32_t who)
{
	ev->pid = 1000 + who;
	ev->tid = ev->pid;
	snprintf(ev->comm, sizeof(ev->comm), "%s", comms[who % 8]);
	ev->cgroup = cgroups[who % 5];
	ev->cgroup_id = 5000 + who % 5;
}

/* Where gen_stream() is: the next event slot, the clock, and the string arena. */
struct gen {
	struct stream *s;
	uint32_t i, n;
	uint64_t t;
	size_t str_len, str_cap;
};

/* Moves to the next slot (mean gap 10 us) for task `who`; NULL when the stream is full. */
static struct ioh_event *gen_next(struct gen *g, uint32_t who)
{
	struct ioh_event *ev;

	if (++g->i >= g->n)
		return NULL;
	ev = &g->s->ev[g->i];
	g->t += 1 + rng() % 20000;
	ev->ts_ns = g->t;
	set_task(ev, who);
	return ev;
}

static void set_fsync(struct ioh_event *ev, uint32_t who, struct ioh_file_id file, uint64_t dur)
{
	ev->type = IOH_EV_SYNC;
	ev->sync.kind = IOH_SYNC_FSYNC;
	ev->sync.fd = 3 + who % 20;
	ev->sync.file = file;
	ev->sync.duration_ns = dur;
}

/*
 * A replace of a file: a rename whose old name is the new one plus ".tmp", as editors and
 * libraries do; 70% done right (file fsynced first, directory fsynced after: three events).
 * Returns the last event written, or NULL when the string arena is full.
 */
static struct ioh_event *gen_rename(struct gen *g, struct ioh_event *ev, uint32_t who,
				    uint32_t inodes)
{
	bool scratch = rng() % 10 == 0, dir_fsync = rng() % 10 < 7;
	char *newp = g->s->strings + g->str_len, *oldp;
	uint64_t ino = pick_file(inodes);
	uint32_t dir = (uint32_t)(ino % N_DIRS);
	int len;

	if (g->str_cap - g->str_len < 256)
		return NULL;
	if (scratch)
		len = snprintf(newp, 128, "/tmp/tmp.%06u", (unsigned)(ino % 1000000));
	else
		len = snprintf(newp, 128, "/srv/app/data/d%03u/state-%07llu.json", dir,
			       (unsigned long long)ino);
	g->str_len += (size_t)len + 1;
	oldp = g->s->strings + g->str_len;
	memcpy(oldp, newp, (size_t)len);
	memcpy(oldp + len, ".tmp", 5);
	g->str_len += (size_t)len + 5;

	if (dir_fsync && g->i + 2 < g->n) {
		set_fsync(ev, who, file_id(ino, false), 300000);
		g->s->counts[IOH_EV_SYNC]++;
		ev = gen_next(g, who);
	}
	ev->type = IOH_EV_RENAME;
	ev->flags = IOH_EVF_RESOLVED_IN_USERSPACE;
	ev->rename.dfd = -100; /* AT_FDCWD */
	ev->rename.identity = IOH_ID_USERSPACE;
	ev->rename.src = file_id(ino, false);
	ev->rename.dst_dir = file_id(INO_BASE_DIR + dir, true);
	ev->rename.new_path = newp;
	ev->rename.old_path = oldp;
	if (dir_fsync && g->i + 1 < g->n) {
		struct ioh_file_id dst_dir = ev->rename.dst_dir;

		g->s->counts[ev->type]++;
		ev = gen_next(g, who);
		set_fsync(ev, who, dst_dir, 100000);
	}
	return ev;
}

/* The steady mix, by r in [0, 10000): dirty 40%, clean 33%, file syncs 18%, directory
 * fsyncs 4%, renames 5%. */
static void gen_routine(struct ioh_event *ev, uint32_t r, uint32_t who, uint32_t inodes)
{
	if (r < 4000) {
		ev->type = IOH_EV_INODE_DIRTY;
		ev->inode.file = file_id(pick_file(inodes), false);
	} else if (r < 7300) {
		/* From the flusher thread. */
		ev->type = IOH_EV_INODE_CLEAN;
		ev->pid = ev->tid = 42;
		snprintf(ev->comm, sizeof(ev->comm), "kworker/u4:2");
		ev->cgroup = NULL;
		ev->inode.file = file_id(pick_file(inodes), false);
		ev->inode.dirtied_ns = ev->ts_ns - 1000000;
	} else if (r < 9100) {
		ev->type = IOH_EV_SYNC;
		ev->sync.kind = r < 8800   ? IOH_SYNC_FSYNC
				: r < 9000 ? IOH_SYNC_FDATASYNC
					   : IOH_SYNC_FILE_RANGE;
		ev->sync.fd = 3 + who % 20;
		ev->sync.file = file_id(pick_file(inodes), false);
		ev->sync.duration_ns = 200000;
	} else {
		set_fsync(ev, who, file_id(INO_BASE_DIR + rng() % N_DIRS, true), 100000);
	}
}

static int gen_stream(struct stream *s, uint32_t n, uint32_t inodes)
{
	/* Two paths per rename at most; a rename is ~5% of events. */
	struct gen g = {.s = s, .n = n, .t = 1000000000ull, .str_cap = (size_t)n * 12 + 4096};
	uint64_t last_loss = g.t;
	bool synced = false, lost = false;

	memset(s, 0, sizeof(*s));
	s->ev = calloc(n, sizeof(*s->ev));
	s->strings = malloc(g.str_cap);
	if (!s->ev || !s->strings)
		return -ENOMEM;

	for (g.i = 0; g.i < n; g.i++) {
		struct ioh_event *ev = &s->ev[g.i];
		uint32_t r = rng() % 10000, who = rng() % 64;

		/* Mean gap 10 us: ~100k events/s, so 5 s windows hold ~5k pending renames. */
		g.t += 1 + rng() % 20000;
		ev->ts_ns = g.t;
		set_task(ev, who);

		if (!synced && g.i >= n / 2) {
			synced = true;
			ev->type = IOH_EV_SYNC; /* someone ran sync(1) */
			ev->sync.kind = IOH_SYNC_SYNC;
			ev->sync.fd = -1;
		} else if (!lost && g.i >= n / 3) {
			lost = true;
			ev->type = IOH_EV_LOSS;
			ev->loss.where = IOH_LOSS_RINGBUF_INODE;
			ev->loss.count = 3;
			ev->loss.since_ns = last_loss;
			last_loss = g.t;
		} else if (r < 9500) {
			gen_routine(ev, r, who, inodes);
		} else if (!(ev = gen_rename(&g, ev, who, inodes))) {
			return -ENOSPC;
		}
		s->counts[ev->type]++;
	}
	s->n = n;
	s->span_ns = g.t - s->ev[0].ts_ns + 10000;
	return 0;
}

static void shift_stream(struct stream *s, uint64_t by)
{
	for (uint32_t i = 0; i < s->n; i++) {
		s->ev[i].ts_ns += by;
		if (s->ev[i].type == IOH_EV_LOSS)
			s->ev[i].loss.since_ns += by;
	}
}

/* ---- measurements ------------------------------------------------------------------------- */

/* Findings by rule: a replay must reach the same verdicts as a direct feed of the stream. */
struct finding_counts {
	uint64_t total;
	uint64_t dir_fsync;
	uint64_t unsynced_source;
	uint64_t degraded;
};

static void count_finding(const struct ioh_finding *f, void *ctx)
{
	struct finding_counts *fc = ctx;

	fc->total++;
	if (!strcmp(f->rule, "rename-without-dir-fsync"))
		fc->dir_fsync++;
	else if (!strcmp(f->rule, "rename-unsynced-source"))
		fc->unsynced_source++;
	fc->degraded += f->degraded;
}

static void count_replay_finding(const struct ioh_finding *f, int64_t off, void *ctx)
{
	count_finding(f, ctx);
}

static void print_findings(const char *prefix, const struct finding_counts *fc)
{
	printf("%s_findings=%llu (rename-without-dir-fsync %llu, rename-unsynced-source %llu, "
	       "degraded %llu)\n",
	       prefix, (unsigned long long)fc->total, (unsigned long long)fc->dir_fsync,
	       (unsigned long long)fc->unsynced_source, (unsigned long long)fc->degraded);
}

static int measure_memory(uint32_t n)
{
	struct ioh_correlator_config cfg = {.max_inodes = n};
	struct ioh_inode_table *t;
	struct ioh_correlator *c;
	struct ioh_event ev = {.type = IOH_EV_INODE_DIRTY, .pid = 1, .tid = 1};
	uint64_t before, after;

	printf("inode_table_bytes_per_entry=%zu\n", ioh_inode_table_bytes_per_entry());
	printf("inode_state_struct_bytes=%zu\n", sizeof(struct ioh_inode_state));

	before = rss_bytes();
	t = ioh_inode_table_new(n);
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		ioh_inode_get(t, DEV_SDA1, INO_BASE_FILE + i)->dirty_since_ns = 1;
	after = rss_bytes();
	printf("inode_table_rss_bytes_per_inode=%.1f (%u inodes, evictions %llu)\n",
	       (double)(after - before) / n, ioh_inode_table_count(t),
	       (unsigned long long)ioh_inode_table_evictions(t));
	ioh_inode_table_free(t);

	/* The whole correlator: inode table plus whatever detectors keep per inode. */
	before = rss_bytes();
	c = ioh_correlator_new(&cfg, NULL, NULL, NULL);
	if (!c)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		ev.ts_ns = 1000 + i;
		ev.inode.file = file_id(INO_BASE_FILE + i, false);
		ioh_correlator_feed(c, &ev);
	}
	after = rss_bytes();
	printf("correlator_rss_bytes_per_inode=%.1f (%u inodes)\n", (double)(after - before) / n,
	       ioh_inode_table_count(ioh_correlator_inodes(c)));
	ioh_correlator_free(c);
	return 0;
}

static int measure_feed(struct stream *s, const struct ioh_ruleset *rules, uint32_t passes)
{
	struct finding_counts fc = {0};
	struct ioh_correlator *c = ioh_correlator_new(NULL, rules, count_finding, &fc);
	struct ioh_correlator_stats st;
	double *rates = calloc(passes, sizeof(*rates));
	uint64_t total_ns = 0;
	double med;

	if (!c || !rates)
		return -ENOMEM;
	for (uint32_t p = 0; p < passes; p++) {
		uint64_t t0, dt;

		if (p)
			shift_stream(s, s->span_ns);
		t0 = ioh_clock_ns(CLOCK_MONOTONIC);
		for (uint32_t i = 0; i < s->n; i++)
			ioh_correlator_feed(c, &s->ev[i]);
		dt = ioh_clock_ns(CLOCK_MONOTONIC) - t0;
		total_ns += dt;
		rates[p] = s->n / (dt / 1e9);
	}
	ioh_correlator_advance(c, s->ev[s->n - 1].ts_ns + 60 * 1000000000ull);
	ioh_correlator_get_stats(c, &st);
	printf("feed_events=%llu feed_ns=%llu\n", (unsigned long long)s->n * passes,
	       (unsigned long long)total_ns);
	med = median(rates, passes); /* sorts: rates[0] is the slowest pass afterwards */
	printf("feed_events_per_sec_median=%.0f\n", med);
	printf("feed_events_per_sec_min=%.0f feed_events_per_sec_max=%.0f\n", rates[0],
	       rates[passes - 1]);
	printf("feed_ns_per_event_median=%.1f\n", 1e9 / med);
	print_findings("feed", &fc);
	printf("feed_tracked_inodes=%llu inode_evictions=%llu pending_evictions=%llu\n",
	       (unsigned long long)st.tracked_inodes, (unsigned long long)st.inode_evictions,
	       (unsigned long long)st.pending_evictions);
	ioh_correlator_free(c);
	free(rates);
	return 0;
}

static int measure_replay(struct stream *s, const struct ioh_ruleset *rules, const char *dir,
			  uint32_t passes)
{
	struct ioh_eventlog_writer *w;
	struct ioh_replay_result res;
	struct ioh_event end = {.type = IOH_EV_END};
	char path[4096], err[512];
	struct finding_counts fc = {0};
	uint64_t t0, dt, written = 0;
	struct stat sb;
	int r;

	snprintf(path, sizeof(path), "%s/replay-bench-%d.ioh", dir, (int)getpid());
	r = ioh_eventlog_create(path, 0, IOH_EVENTLOG_REPLACE, &w);
	if (r < 0) {
		fprintf(stderr, "replay_throughput: %s: %s\n", path, strerror(-r));
		return r;
	}
	t0 = ioh_clock_ns(CLOCK_MONOTONIC);
	for (uint32_t p = 0; p < passes; p++) {
		shift_stream(s, s->span_ns);
		for (uint32_t i = 0; i < s->n; i++, written++)
			if ((r = ioh_eventlog_write(w, &s->ev[i])) < 0)
				break;
	}
	end.ts_ns = s->ev[s->n - 1].ts_ns + 60 * 1000000000ull;
	if (r >= 0)
		r = ioh_eventlog_write(w, &end);
	if (ioh_eventlog_close(w) < 0 || r < 0) {
		unlink(path);
		fprintf(stderr, "replay_throughput: writing %s failed\n", path);
		return -EIO;
	}
	dt = ioh_clock_ns(CLOCK_MONOTONIC) - t0;
	stat(path, &sb);
	printf("record_events=%llu record_events_per_sec=%.0f record_bytes_per_event=%.1f\n",
	       (unsigned long long)written + 1, (written + 1) / (dt / 1e9),
	       (double)sb.st_size / (written + 1));

	t0 = ioh_clock_ns(CLOCK_MONOTONIC);
	r = ioh_replay_file(path, rules, NULL, count_replay_finding, &fc, &res, err, sizeof(err));
	dt = ioh_clock_ns(CLOCK_MONOTONIC) - t0;
	unlink(path);
	if (r < 0) {
		fprintf(stderr, "replay_throughput: replay: %s\n", err);
		return r;
	}
	printf("replay_events=%llu replay_ns=%llu\n", (unsigned long long)res.events,
	       (unsigned long long)dt);
	/* ioh_replay_file() suppresses repeats like the daemon's sinks: fewer than "feed". */
	print_findings("replay", &fc);
	printf("replay_events_per_sec=%.0f\n", res.events / (dt / 1e9));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: replay_throughput [--rules-dir DIR] [--work-dir DIR] [--events N]"
			" [--passes P] [--inodes N] [--memory-inodes N] [--record-passes P]\n");
	exit(2);
}

static uint32_t parse_u32(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v == 0 || v > UINT32_MAX / 2)
		usage();
	return (uint32_t)v;
}

static struct opts parse_opts(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"rules-dir", required_argument, NULL, 'r'},
	    {"work-dir", required_argument, NULL, 'w'},
	    {"events", required_argument, NULL, 'e'},
	    {"passes", required_argument, NULL, 'p'},
	    {"inodes", required_argument, NULL, 'i'},
	    {"memory-inodes", required_argument, NULL, 'm'},
	    {"record-passes", required_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {
	    .rules_dir = "rules",
	    .work_dir = ".",
	    .events = 500000,
	    .passes = 8,
	    .inodes = 50000,
	    .memory_inodes = 1000000,
	    .record_passes = 2,
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.rules_dir = optarg;
			break;
		case 'w':
			o.work_dir = optarg;
			break;
		case 'e':
			o.events = parse_u32(optarg);
			break;
		case 'p':
			o.passes = parse_u32(optarg);
			break;
		case 'i':
			o.inodes = parse_u32(optarg);
			break;
		case 'm':
			o.memory_inodes = parse_u32(optarg);
			break;
		case 'R':
			o.record_passes = parse_u32(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return o;
}

int main(int argc, char **argv)
{
	struct opts o = parse_opts(argc, argv);
	struct ioh_rules_errors errors = {0};
	struct ioh_ruleset *rules;
	struct stream s;
	int r;

	/* Memory first: a clean heap, so RSS growth is the table's alone. */
	if ((r = measure_memory(o.memory_inodes)) < 0) {
		fprintf(stderr, "replay_throughput: memory: %s\n", strerror(-r));
		return 1;
	}

	r = ioh_rules_load_dirs(&o.rules_dir, 1, &rules, &errors);
	if (r < 0) {
		for (size_t i = 0; i < errors.count; i++)
			fprintf(stderr, "replay_throughput: %s\n", errors.messages[i]);
		ioh_rules_errors_free(&errors);
		return 1;
	}
	if (rules->count == 0) {
		fprintf(stderr, "replay_throughput: no rules found in %s\n", o.rules_dir);
		return 1;
	}

	if ((r = gen_stream(&s, o.events, o.inodes)) < 0) {
		fprintf(stderr, "replay_throughput: generating: %s\n", strerror(-r));
		return 1;
	}
	printf("stream_events=%u inodes=%u dirty=%.1f%% clean=%.1f%% sync=%.1f%% rename=%.1f%% "
	       "loss_reports=%llu span_s=%.2f\n",
	       s.n, o.inodes, 100.0 * s.counts[IOH_EV_INODE_DIRTY] / s.n,
	       100.0 * s.counts[IOH_EV_INODE_CLEAN] / s.n, 100.0 * s.counts[IOH_EV_SYNC] / s.n,
	       100.0 * s.counts[IOH_EV_RENAME] / s.n, (unsigned long long)s.counts[IOH_EV_LOSS],
	       s.span_ns / 1e9);

	if (measure_feed(&s, rules, o.passes) < 0 ||
	    measure_replay(&s, rules, o.work_dir, o.record_passes) < 0)
		return 1;

	free(s.ev);
	free(s.strings);
	ioh_ruleset_free(rules);
	return 0;
}
