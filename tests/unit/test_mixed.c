// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mixed-direct-buffered detector (seed case 2) through the correlator, driven by synthetic
 * IOH_EV_ACCESS_MODE events as daemon/ingest makes them from bpf/mixed_io.bpf.h records:
 *
 *  - BOTH_OPEN alone: held for the rule's window, then one finding one step below the rule's
 *    severity, naming both sides;
 *  - BOTH_OPEN, then an order (direct write -> buffered read, buffered write -> direct read)
 *    within the window: only the critical finding, exact message and evidence;
 *  - an order with no BOTH_OPEN before it (fault records carry no path): critical, with the
 *    path from an earlier record of the inode, or null; an exited other side;
 *  - inodes are independent; excluded paths and non-persistent filesystems give nothing;
 *  - a loss during the window degrades the verdict;
 *  - record/replay (daemon/record/eventlog.h) of the same events gives identical findings.
 *
 * Needs no root; run under valgrind with --leak-check=full to check the frees.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

#include "daemon/correlator/correlator.h"
#include "daemon/record/eventlog.h"
#include "daemon/util/fsnames.h"
#include "tests/unit/check.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define EXT4_MAGIC 0xEF53
#define XFS_MAGIC 0x58465342
#define TMPFS_MAGIC 0x01021994
#define INO_A 500
#define INO_B 501
#define WINDOW (2 * SEC) /* the test rule's window */

static uint32_t DEV;

/* ---- captured findings ------------------------------------------------------------------- */

#define MAX_CAPTURED 32
#include "tests/unit/capture.h"

static const char *sev(enum ioh_severity s)
{
	return ioh_severity_to_string(s);
}

/* ---- events ------------------------------------------------------------------------------ */

/* The two sides of every scenario: a database writing with O_DIRECT, a backup agent reading
 * through the page cache. */
#define DB_PID 1000
#define DB_COMM "postgres"
#define DB_CGROUP "/system.slice/postgresql.service"
#define BK_PID 2000
#define BK_COMM "backup-agent"
#define BK_CGROUP "/system.slice/backup.service"
#define PATH_A "/srv/db/base/16384/2619"
#define PATH_B "/srv/db/base/16384/2620"

struct access_args {
	uint64_t ts;
	uint32_t kind;
	uint32_t pid; /* this task: its comm and cgroup follow from DB_PID / BK_PID */
	uint16_t access;
	uint16_t other_access;
	uint64_t other_ns;
	uint64_t ino;
	uint32_t magic;
	const char *path;
	bool other_exited; /* the other side was gone when ingest read /proc */
};

static const char *comm_of(uint32_t pid)
{
	return pid == DB_PID ? DB_COMM : BK_COMM;
}

static const char *cgroup_of(uint32_t pid)
{
	return pid == DB_PID ? DB_CGROUP : BK_CGROUP;
}

static struct ioh_event access_event(const struct access_args *a)
{
	struct ioh_event ev;
	uint32_t other = a->pid == DB_PID ? BK_PID : DB_PID;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = a->ts;
	ev.type = IOH_EV_ACCESS_MODE;
	ev.pid = a->pid;
	ev.tid = a->pid;
	ev.cgroup_id = 4242;
	ev.cgroup = cgroup_of(a->pid);
	snprintf(ev.comm, sizeof(ev.comm), "%s", comm_of(a->pid));
	ev.access.file = (struct ioh_file_id){.dev = DEV,
					      .mode = S_IFREG | 0600,
					      .ino = a->ino ? a->ino : INO_A,
					      .fs_magic = a->magic ? a->magic : EXT4_MAGIC};
	ev.access.kind = a->kind;
	ev.access.access = a->access;
	ev.access.other_access = a->other_access;
	ev.access.other_pid = other;
	ev.access.other_ns = a->other_ns;
	ev.access.path = a->path;
	if (!a->other_exited) {
		snprintf(ev.access.other_comm, sizeof(ev.access.other_comm), "%s", comm_of(other));
		ev.access.other_cgroup = cgroup_of(other);
	}
	return ev;
}

/* Every event fed is also kept, for the record/replay round trip. */
#define MAX_FED 64
static struct ioh_event fed[MAX_FED];
static unsigned n_fed;

static void feed(struct ioh_correlator *c, const struct ioh_event *ev)
{
	if (n_fed < MAX_FED)
		fed[n_fed++] = *ev;
	ioh_correlator_feed(c, ev);
}

static void feed_access(struct ioh_correlator *c, const struct access_args *a)
{
	struct ioh_event ev = access_event(a);

	feed(c, &ev);
}

static void feed_loss(struct ioh_correlator *c, uint64_t ts, uint64_t count)
{
	struct ioh_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.type = IOH_EV_LOSS;
	ev.loss.where = IOH_LOSS_RINGBUF_MODE;
	ev.loss.count = count;
	ev.loss.since_ns = ts - 100 * MS;
	feed(c, &ev);
}

/* A backup agent opens a file postgres has open with O_DIRECT (1 s earlier). */
static void feed_both_open(struct ioh_correlator *c, uint64_t ts, uint64_t ino, const char *path)
{
	feed_access(c, &(struct access_args){.ts = ts,
					     .kind = IOH_MODE_BOTH_OPEN,
					     .pid = BK_PID,
					     .access = IOH_ACC_OPEN_BUFFERED,
					     .other_access = IOH_ACC_OPEN_DIRECT,
					     .other_ns = ts - 1 * SEC,
					     .ino = ino,
					     .path = path});
}

/* The backup agent reads through the page cache 500 ms after postgres's direct write. */
static void feed_dw_br(struct ioh_correlator *c, uint64_t ts, uint64_t ino, const char *path)
{
	feed_access(c, &(struct access_args){.ts = ts,
					     .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
					     .pid = BK_PID,
					     .access = IOH_ACC_BUFFERED_READ,
					     .other_access = IOH_ACC_DIRECT_WRITE,
					     .other_ns = ts - 500 * MS,
					     .ino = ino,
					     .path = path});
}

/* ---- rules ------------------------------------------------------------------------------- */

static const char test_rules[] = "[rule mixed-direct-buffered]\n"
				 "severity = critical\n"
				 "window = 2s\n"
				 "exclude = /var/tmp/*\n";

static struct ioh_ruleset *load_text(const char *text)
{
	struct ioh_rules_errors errs = {0};
	struct ioh_ruleset *rs = NULL;
	int r = ioh_rules_load_buffer("t.rules", text, strlen(text), &rs, &errs);

	for (size_t i = 0; i < errs.count; i++)
		printf("# rules: %s\n", errs.messages[i]);
	ioh_rules_errors_free(&errs);
	return r < 0 ? NULL : rs;
}

static struct ioh_ruleset *rules;

static struct ioh_correlator *fresh(void)
{
	n_found = 0;
	n_fed = 0;
	return ioh_correlator_new(NULL, rules, on_finding, NULL);
}

/* Both sides named in the evidence, as the scenarios above set them up. */
static void check_sides(const struct captured *f, const char *direct_access,
			const char *buffered_access)
{
	CHECK_STR(evidence(f, "direct_pid"), "1000");
	CHECK_STR(evidence(f, "direct_comm"), DB_COMM);
	CHECK_STR(evidence(f, "direct_unit"), "postgresql.service");
	CHECK_STR(evidence(f, "direct_access"), direct_access);
	CHECK_STR(evidence(f, "buffered_pid"), "2000");
	CHECK_STR(evidence(f, "buffered_comm"), BK_COMM);
	CHECK_STR(evidence(f, "buffered_unit"), "backup.service");
	CHECK_STR(evidence(f, "buffered_access"), buffered_access);
}

/* ---- cases ------------------------------------------------------------------------------- */

static void test_both_open_alone(void)
{
	TEST_CASE("BOTH_OPEN alone: one finding below the rule's severity at the window's end")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 10 * SEC + WINDOW - 1);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 10 * SEC + WINDOW);
		CHECK_INT(n_found, 1);
		CHECK_INT(found[0].ts_ns, 10 * SEC + WINDOW);
		CHECK_STR(found[0].rule, "mixed-direct-buffered");
		CHECK_STR(sev(found[0].severity), "warning");
		CHECK(!found[0].degraded);
		/* The finding is the later side's: the backup agent opened second. */
		CHECK_INT(found[0].pid, BK_PID);
		CHECK_STR(found[0].comm, BK_COMM);
		CHECK_STR(found[0].cgroup, BK_CGROUP);
		CHECK_STR(found[0].path, PATH_A);
		CHECK_STR(found[0].fstype, "ext4");
		CHECK_INT(found[0].file.ino, INO_A);
		CHECK_INT(found[0].file.dev, DEV);
		CHECK_STR(found[0].message,
			  "used with O_DIRECT by postgres (pid 1000) and through the page cache by "
			  "backup-agent (pid 2000): reads can see stale data");
		CHECK_STR(found[0].fix,
			  "do not mix O_DIRECT and buffered access to one file (backup "
			  "agents, cp, rsync and tar read through the page cache)");
		check_sides(&found[0], "O_DIRECT open", "buffered open");
		CHECK_STR(evidence(&found[0], "order"), "opened both ways");
		CHECK_STR(evidence(&found[0], "gap"), "1000000000");
		/* Nothing more, ever. */
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 1);
		ioh_correlator_free(c);
	}

	TEST_CASE("BOTH_OPEN reported by the O_DIRECT opener: sides swap, same finding shape")
	{
		struct ioh_correlator *c = fresh();

		feed_access(c, &(struct access_args){.ts = 10 * SEC,
						     .kind = IOH_MODE_BOTH_OPEN,
						     .pid = DB_PID,
						     .access = IOH_ACC_OPEN_DIRECT,
						     .other_access = IOH_ACC_MMAP,
						     .other_ns = 9750 * MS,
						     .path = PATH_A});
		ioh_correlator_advance(c, 20 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "warning");
		CHECK_INT(found[0].pid, DB_PID);
		CHECK_STR(found[0].comm, DB_COMM);
		CHECK_STR(found[0].message,
			  "used with O_DIRECT by postgres (pid 1000) and through the page cache by "
			  "backup-agent (pid 2000): reads can see stale data");
		check_sides(&found[0], "O_DIRECT open", "mmap");
		CHECK_STR(evidence(&found[0], "gap"), "250000000");
		ioh_correlator_free(c);
	}

	TEST_CASE("a second BOTH_OPEN of the same inode in the window: still one finding")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_both_open(c, 11 * SEC, INO_A, PATH_A);
		ioh_correlator_advance(c, 11 * SEC + WINDOW);
		CHECK_INT(n_found, 1);
		/* The deadline is the first record's. */
		CHECK_INT(found[0].ts_ns, 10 * SEC + WINDOW);
		ioh_correlator_free(c);
	}
}

static void test_orders(void)
{
	TEST_CASE("BOTH_OPEN, then direct write -> buffered read in the window: only critical")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_dw_br(c, 11 * SEC, INO_A, PATH_A);
		CHECK_INT(n_found, 1);
		CHECK_INT(found[0].ts_ns, 11 * SEC);
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK(!found[0].degraded);
		CHECK_INT(found[0].pid, BK_PID);
		CHECK_STR(found[0].comm, BK_COMM);
		CHECK_STR(found[0].path, PATH_A);
		CHECK_STR(
		    found[0].message,
		    "backup-agent (pid 2000) read through the page cache 500ms after postgres "
		    "(pid 1000) wrote it with O_DIRECT: the read may return stale cached data");
		CHECK_STR(
		    found[0].fix,
		    "do not mix O_DIRECT and buffered access to one file: make the reader use "
		    "O_DIRECT too (or read from a snapshot/backup API), or drop the writer's "
		    "O_DIRECT");
		check_sides(&found[0], "direct write", "buffered read");
		CHECK_STR(evidence(&found[0], "order"), "direct write, then buffered read");
		CHECK_STR(evidence(&found[0], "gap"), "500000000");
		/* The pending BOTH_OPEN was replaced: nothing at its deadline. */
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 1);
		ioh_correlator_free(c);
	}

	TEST_CASE("BOTH_OPEN, then buffered write -> direct read in the window: only critical")
	{
		struct ioh_correlator *c = fresh();

		/* postgres opens O_DIRECT after the backup agent opened buffered... */
		feed_access(c, &(struct access_args){.ts = 10 * SEC,
						     .kind = IOH_MODE_BOTH_OPEN,
						     .pid = DB_PID,
						     .access = IOH_ACC_OPEN_DIRECT,
						     .other_access = IOH_ACC_OPEN_BUFFERED,
						     .other_ns = 9 * SEC,
						     .path = PATH_A});
		/* ...and reads with O_DIRECT 250 ms after the agent's buffered write. */
		feed_access(c,
			    &(struct access_args){.ts = 10500 * MS,
						  .kind = IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ,
						  .pid = DB_PID,
						  .access = IOH_ACC_DIRECT_READ,
						  .other_access = IOH_ACC_BUFFERED_WRITE,
						  .other_ns = 10250 * MS,
						  .path = PATH_A});
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_INT(found[0].ts_ns, 10500 * MS);
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK_INT(found[0].pid, DB_PID);
		CHECK_STR(found[0].comm, DB_COMM);
		CHECK_STR(found[0].cgroup, DB_CGROUP);
		CHECK_STR(found[0].message,
			  "postgres (pid 1000) read with O_DIRECT 250ms after backup-agent (pid "
			  "2000) wrote through the page cache: the direct read can miss the dirty "
			  "cached data");
		CHECK_STR(found[0].fix,
			  "fsync(2) the buffered writes before any O_DIRECT reader, or "
			  "use one access mode for the file");
		check_sides(&found[0], "direct read", "buffered write");
		CHECK_STR(evidence(&found[0], "order"), "buffered write, then direct read");
		CHECK_STR(evidence(&found[0], "gap"), "250000000");
		ioh_correlator_free(c);
	}

	TEST_CASE("order after the window closed: the warning, then the critical")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_dw_br(c, 10 * SEC + WINDOW, INO_A, PATH_A);
		CHECK_INT(n_found, 2);
		CHECK_STR(sev(found[0].severity), "warning");
		CHECK_INT(found[0].ts_ns, 10 * SEC + WINDOW);
		CHECK_STR(sev(found[1].severity), "critical");
		ioh_correlator_free(c);
	}
}

static void test_order_without_both_open(void)
{
	TEST_CASE("fault order, no record of the inode before: critical, path null")
	{
		struct ioh_correlator *c = fresh();

		feed_access(c,
			    &(struct access_args){.ts = 5 * SEC,
						  .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
						  .pid = BK_PID,
						  .access = IOH_ACC_MMAP,
						  .other_access = IOH_ACC_DIRECT_WRITE,
						  .other_ns = 4 * SEC,
						  .path = NULL});
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK_STR(found[0].path, "(null)");
		CHECK_INT(found[0].file.ino, INO_A);
		CHECK_STR(
		    found[0].message,
		    "backup-agent (pid 2000) read through the page cache 1s after postgres (pid "
		    "1000) wrote it with O_DIRECT: the read may return stale cached data");
		check_sides(&found[0], "direct write", "mmap");
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 1);
		ioh_correlator_free(c);
	}

	TEST_CASE("fault order after an earlier record with a path: the path is kept")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 1 * SEC, INO_A, PATH_A);
		ioh_correlator_advance(c, 50 * SEC); /* the warning */
		feed_access(c,
			    &(struct access_args){.ts = 60 * SEC,
						  .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
						  .pid = BK_PID,
						  .access = IOH_ACC_MMAP,
						  .other_access = IOH_ACC_DIRECT_WRITE,
						  .other_ns = 59 * SEC,
						  .path = NULL});
		CHECK_INT(n_found, 2);
		CHECK_STR(sev(found[1].severity), "critical");
		CHECK_STR(found[1].path, PATH_A);
		ioh_correlator_free(c);
	}

	TEST_CASE("the other side exited before ingest read /proc: named \"(exited)\"")
	{
		struct ioh_correlator *c = fresh();

		feed_access(c,
			    &(struct access_args){.ts = 5 * SEC,
						  .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
						  .pid = BK_PID,
						  .access = IOH_ACC_BUFFERED_READ,
						  .other_access = IOH_ACC_DIRECT_WRITE,
						  .other_ns = 4 * SEC,
						  .path = PATH_A,
						  .other_exited = true});
		CHECK_INT(n_found, 1);
		CHECK_STR(
		    found[0].message,
		    "backup-agent (pid 2000) read through the page cache 1s after (exited) (pid "
		    "1000) wrote it with O_DIRECT: the read may return stale cached data");
		CHECK_STR(evidence(&found[0], "direct_pid"), "1000");
		CHECK_STR(evidence(&found[0], "direct_comm"), "(null)");
		CHECK_STR(evidence(&found[0], "direct_unit"), "(null)");
		CHECK_STR(evidence(&found[0], "buffered_comm"), BK_COMM);
		ioh_correlator_free(c);
	}
}

static void test_scope(void)
{
	TEST_CASE("two inodes are independent")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_both_open(c, 10500 * MS, INO_B, PATH_B);
		feed_dw_br(c, 11 * SEC, INO_A, PATH_A);
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK_INT(found[0].file.ino, INO_A);
		CHECK_STR(found[0].path, PATH_A);
		ioh_correlator_advance(c, 10500 * MS + WINDOW);
		CHECK_INT(n_found, 2);
		CHECK_STR(sev(found[1].severity), "warning");
		CHECK_INT(found[1].file.ino, INO_B);
		CHECK_STR(found[1].path, PATH_B);
		CHECK_INT(found[1].ts_ns, 10500 * MS + WINDOW);
		ioh_correlator_free(c);
	}

	TEST_CASE("same inode number on another device is another inode")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event ev;

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		ev = access_event(
		    &(struct access_args){.ts = 11 * SEC,
					  .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
					  .pid = BK_PID,
					  .access = IOH_ACC_BUFFERED_READ,
					  .other_access = IOH_ACC_DIRECT_WRITE,
					  .other_ns = 10 * SEC,
					  .path = "/mnt/other/2619"});
		ev.access.file.dev = ioh_kdev_make(8, 1);
		feed(c, &ev);
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK_STR(found[0].path, "/mnt/other/2619");
		CHECK_STR(sev(found[1].severity), "warning");
		CHECK_STR(found[1].path, PATH_A);
		ioh_correlator_free(c);
	}

	TEST_CASE("excluded path: nothing")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, "/var/tmp/scratch.db");
		feed_dw_br(c, 11 * SEC, INO_A, "/var/tmp/scratch.db");
		feed_both_open(c, 12 * SEC, INO_B, "/var/tmp/other.db");
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("fault order on an inode known under an excluded path: nothing")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, "/var/tmp/scratch.db");
		feed_access(c,
			    &(struct access_args){.ts = 11 * SEC,
						  .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
						  .pid = BK_PID,
						  .access = IOH_ACC_MMAP,
						  .other_access = IOH_ACC_DIRECT_WRITE,
						  .other_ns = 10 * SEC,
						  .path = NULL});
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("tmpfs is not persistent: nothing")
	{
		struct ioh_correlator *c = fresh();
		struct access_args a = {.ts = 10 * SEC,
					.kind = IOH_MODE_BOTH_OPEN,
					.pid = BK_PID,
					.access = IOH_ACC_OPEN_BUFFERED,
					.other_access = IOH_ACC_OPEN_DIRECT,
					.other_ns = 9 * SEC,
					.magic = TMPFS_MAGIC,
					.path = "/dev/shm/x"};

		feed_access(c, &a);
		a.ts = 11 * SEC;
		a.kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ;
		a.access = IOH_ACC_BUFFERED_READ;
		a.other_access = IOH_ACC_DIRECT_WRITE;
		a.other_ns = 10500 * MS;
		feed_access(c, &a);
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("xfs is persistent: fstype named")
	{
		struct ioh_correlator *c = fresh();

		feed_access(c,
			    &(struct access_args){.ts = 11 * SEC,
						  .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
						  .pid = BK_PID,
						  .access = IOH_ACC_BUFFERED_READ,
						  .other_access = IOH_ACC_DIRECT_WRITE,
						  .other_ns = 10 * SEC,
						  .magic = XFS_MAGIC,
						  .path = PATH_A});
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].fstype, "xfs");
		ioh_correlator_free(c);
	}

	TEST_CASE("no rules: nothing")
	{
		struct ioh_correlator *c;

		n_found = 0;
		c = ioh_correlator_new(NULL, NULL, on_finding, NULL);
		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_dw_br(c, 11 * SEC, INO_A, PATH_A);
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}
}

static void test_losses(void)
{
	TEST_CASE("loss during the window: the BOTH_OPEN finding is degraded")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_loss(c, 11 * SEC, 3);
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "warning");
		CHECK(found[0].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss between the direct write and the read: the critical finding is degraded")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_loss(c, 10700 * MS, 1); /* the write was at 10.5 s, the read at 11 s */
		feed_dw_br(c, 11 * SEC, INO_A, PATH_A);
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK(found[0].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss in the window but before the order's first access: critical, high")
	{
		/* The kernel confirmed both accesses of the order itself; records lost before the
		 * first of them cannot change that verdict. */
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_loss(c, 10100 * MS, 1);
		feed_dw_br(c, 11 * SEC, INO_A, PATH_A);
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK(!found[0].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss report with count 0, and loss long before: high confidence")
	{
		struct ioh_correlator *c = fresh();

		feed_loss(c, 1 * SEC, 5);
		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_loss(c, 11 * SEC, 0);
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 1);
		CHECK(!found[0].degraded);
		ioh_correlator_free(c);
	}
}

static void test_default_rules(void)
{
	TEST_CASE("shipped rules/10-default.rules: critical orders, warning BOTH_OPEN after 5s")
	{
		const char *src = getenv("IOH_SRC");
		const char *dirs[1];
		char dir[4096];
		struct ioh_rules_errors errs = {0};
		struct ioh_ruleset *rs = NULL;
		struct ioh_correlator *c;

		snprintf(dir, sizeof(dir), "%s/rules", src && *src ? src : ".");
		dirs[0] = dir;
		CHECK(ioh_rules_load_dirs(dirs, 1, &rs, &errs) >= 0 && rs);
		ioh_rules_errors_free(&errs);
		if (!rs)
			break;
		n_found = 0;
		c = ioh_correlator_new(NULL, rs, on_finding, NULL);
		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		ioh_correlator_advance(c, 15 * SEC - 1);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 15 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "warning");
		feed_dw_br(c, 20 * SEC, INO_B, PATH_B);
		CHECK_INT(n_found, 2);
		CHECK_STR(sev(found[1].severity), "critical");
		ioh_correlator_free(c);
		ioh_ruleset_free(rs);
	}
}

/* ---- record/replay ----------------------------------------------------------------------- */

/* One scenario with every kind of record: two orders (one degraded, one naming an exited
 * process), a fault order without a path. */
static void scenario(struct ioh_correlator *c)
{
	feed_both_open(c, 10 * SEC, INO_A, PATH_A);
	feed_both_open(c, 10100 * MS, INO_B, PATH_B);
	feed_dw_br(c, 11 * SEC, INO_A, PATH_A);
	feed_loss(c, 11500 * MS, 2);
	feed_access(c, &(struct access_args){.ts = 11800 * MS,
					     .kind = IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ,
					     .pid = DB_PID,
					     .access = IOH_ACC_DIRECT_READ,
					     .other_access = IOH_ACC_BUFFERED_WRITE,
					     .other_ns = 11400 * MS,
					     .ino = INO_B,
					     .path = PATH_B,
					     .other_exited = true});
	feed_access(c, &(struct access_args){.ts = 40 * SEC,
					     .kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ,
					     .pid = BK_PID,
					     .access = IOH_ACC_MMAP,
					     .other_access = IOH_ACC_DIRECT_WRITE,
					     .other_ns = 39 * SEC,
					     .ino = INO_B + 1,
					     .path = NULL});
	ioh_correlator_advance(c, 100 * SEC);
}

static void test_record_replay(void)
{
	TEST_CASE("record/replay of access events: identical findings")
	{
		char dir[] = "/tmp/ioh-test-mixed.XXXXXX", path[64];
		struct ioh_eventlog_writer *w = NULL;
		struct ioh_eventlog_reader *r = NULL;
		struct captured live[MAX_CAPTURED];
		unsigned n_live, n_read = 0;
		struct ioh_correlator *c = fresh();
		struct ioh_event ev;
		char err[256];
		int rc;

		scenario(c);
		ioh_correlator_free(c);
		n_live = n_found;
		memcpy(live, found, sizeof(live));
		CHECK_INT(n_live, 3);

		CHECK(mkdtemp(dir) != NULL);
		snprintf(path, sizeof(path), "%s/events.rec", dir);
		CHECK_INT(ioh_eventlog_create(path, 0, 0, &w), 0);
		if (!w)
			break;
		for (unsigned i = 0; i < n_fed; i++)
			CHECK_INT(ioh_eventlog_write(w, &fed[i]), 0);
		CHECK_INT(ioh_eventlog_close(w), 0);

		CHECK_INT(ioh_eventlog_open(path, &r, err, sizeof(err)), 0);
		if (!r)
			break;
		c = fresh();
		while ((rc = ioh_eventlog_read(r, &ev)) == 1) {
			n_read++;
			ioh_correlator_feed(c, &ev);
		}
		CHECK_INT(rc, 0);
		ioh_eventlog_close_reader(r);
		ioh_correlator_advance(c, 100 * SEC);
		ioh_correlator_free(c);
		unlink(path);
		rmdir(dir);

		CHECK_INT(n_read, 6);
		CHECK_INT(n_found, n_live);
		for (unsigned i = 0; i < n_live && i < n_found; i++) {
			CHECK_INT(found[i].ts_ns, live[i].ts_ns);
			CHECK_STR(found[i].rule, live[i].rule);
			CHECK_INT(found[i].severity, live[i].severity);
			CHECK_INT(found[i].degraded, live[i].degraded);
			CHECK_INT(found[i].pid, live[i].pid);
			CHECK_STR(found[i].comm, live[i].comm);
			CHECK_STR(found[i].cgroup, live[i].cgroup);
			CHECK(memcmp(&found[i].file, &live[i].file, sizeof(found[i].file)) == 0);
			CHECK_STR(found[i].path, live[i].path);
			CHECK_STR(found[i].fstype, live[i].fstype);
			CHECK_STR(found[i].message, live[i].message);
			CHECK_INT(found[i].n_evidence, live[i].n_evidence);
			for (unsigned k = 0; k < live[i].n_evidence; k++)
				CHECK_STR(found[i].evidence[k], live[i].evidence[k]);
		}
		/* What the scenario makes, so "identical" is not "identically empty". */
		CHECK_STR(sev(live[0].severity), "critical");
		CHECK_INT(live[0].file.ino, INO_A);
		CHECK(!live[0].degraded);
		CHECK_STR(sev(live[1].severity), "critical");
		CHECK_INT(live[1].file.ino, INO_B);
		CHECK(live[1].degraded); /* the loss fell between its write and its read */
		CHECK(strstr(live[1].message, "(exited)") != NULL);
		CHECK_STR(live[2].path, "(null)");
	}
}

/* An fsync that returns EIO on a file used both ways: the kernel's "collision with buffered
 * I/O" error, tied back to both sides. Other errors, other files, successful fsyncs: nothing. */
static void feed_fsync(struct ioh_correlator *c, uint64_t ts, uint64_t ino, int32_t ret)
{
	struct ioh_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.type = IOH_EV_SYNC;
	ev.pid = DB_PID;
	snprintf(ev.comm, sizeof(ev.comm), "%s", DB_COMM);
	ev.sync.kind = IOH_SYNC_FSYNC;
	ev.sync.ret = ret;
	ev.sync.file =
	    (struct ioh_file_id){.dev = DEV, .ino = ino, .mode = 0100644, .fs_magic = EXT4_MAGIC};
	feed(c, &ev);
}

static void test_fsync_eio_collision(void)
{
	TEST_CASE("fsync EIO after mixed access: critical, tied to both sides")
	{
		struct ioh_correlator *c = fresh();

		feed_both_open(c, 10 * SEC, INO_A, PATH_A);
		feed_fsync(c, 10 * SEC + 100 * MS, INO_B, -EIO);    /* another file: nothing */
		feed_fsync(c, 10 * SEC + 200 * MS, INO_A, -ENOSPC); /* not the planted EIO */
		feed_fsync(c, 10 * SEC + 300 * MS, INO_A, 0);
		CHECK_INT(n_found, 0);
		feed_fsync(c, 10 * SEC + 400 * MS, INO_A, -EIO);
		CHECK_INT(n_found, 1);
		if (n_found == 1) {
			CHECK_STR(found[0].rule, "mixed-direct-buffered");
			CHECK_STR(sev(found[0].severity), "critical");
			CHECK_INT(found[0].pid, DB_PID);
			CHECK_STR(found[0].path, PATH_A);
			CHECK_STR(evidence(&found[0], "order"),
				  "fsync EIO after mixed access (collision)");
			CHECK_STR(evidence(&found[0], "fsync_error"), "-5");
			check_sides(&found[0], "O_DIRECT open", "buffered open");
		}
		/* The collision finding replaced the pending both-open one. */
		ioh_correlator_advance(c, 20 * SEC);
		CHECK_INT(n_found, 1);
		ioh_correlator_free(c);
	}
}

int main(void)
{
	DEV = ioh_kdev_make(254, 0);
	rules = load_text(test_rules);
	TEST_CASE("test rules load")
	CHECK(rules != NULL);
	if (!rules)
		return check_summary();

	test_both_open_alone();
	test_orders();
	test_order_without_both_open();
	test_scope();
	test_losses();
	test_default_rules();
	test_record_replay();
	test_fsync_eio_collision();

	ioh_ruleset_free(rules);
	return check_summary();
}
