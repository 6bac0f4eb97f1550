// SPDX-License-Identifier: GPL-2.0-only
/*
 * The correlator and the rename-durability detector, driven by synthetic decoded events: the
 * exact findings (rule, severity, confidence, identity, evidence) for each pattern of seed
 * case 3, the time contract (deadlines, late events), loss accounting, the caps, and rule
 * reloads. Rules come from a file written to a temp dir and from the shipped
 * rules/10-default.rules (found through IOH_SRC, or the current directory).
 * Needs no root; run under valgrind with --leak-check=full to check the frees.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/correlator/correlator.h"
#include "daemon/util/fsnames.h"
#include "tests/unit/check.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define EXT4_MAGIC 0xEF53
#define TMPFS_MAGIC 0x01021994
#define DIR_INO 10
#define FILE_INO 100
#define WINDOW (2 * SEC) /* the test rules file's window */

static uint32_t DEV; /* 254:0, set in main() */
static uint32_t OTHER_DEV;

/* ---- captured findings ------------------------------------------------------------------- */

#include "tests/unit/capture.h"

static const char *sev(enum ioh_severity s)
{
	return ioh_severity_to_string(s);
}

static void reset_found(void)
{
	n_found = 0;
}

/* ---- events ------------------------------------------------------------------------------ */

static struct ioh_file_id file_id(uint32_t dev, uint64_t ino, uint32_t mode, uint32_t magic)
{
	return (struct ioh_file_id){.dev = dev, .mode = mode, .ino = ino, .fs_magic = magic};
}

static struct ioh_event base_event(uint64_t ts, uint32_t type, uint32_t pid, const char *comm)
{
	struct ioh_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.type = type;
	ev.pid = pid;
	ev.tid = pid;
	ev.cgroup_id = 4242;
	ev.cgroup = "/system.slice/app.service";
	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	return ev;
}

static void feed_dirty(struct ioh_correlator *c, uint64_t ts, uint32_t dev, uint64_t ino)
{
	struct ioh_event ev = base_event(ts, IOH_EV_INODE_DIRTY, 1000, "writer");

	ev.inode.file = file_id(dev, ino, S_IFREG | 0644, EXT4_MAGIC);
	ioh_correlator_feed(c, &ev);
}

static void feed_clean(struct ioh_correlator *c, uint64_t ts, uint32_t dev, uint64_t ino)
{
	/* Reported from the flusher: its own pid and comm. */
	struct ioh_event ev = base_event(ts, IOH_EV_INODE_CLEAN, 77, "kworker/u8:1");

	ev.inode.file = file_id(dev, ino, S_IFREG | 0644, EXT4_MAGIC);
	ioh_correlator_feed(c, &ev);
}

static void feed_sync(struct ioh_correlator *c, uint64_t ts, uint32_t kind, int32_t ret,
		      uint32_t dev, uint64_t ino, uint32_t mode)
{
	struct ioh_event ev = base_event(ts, IOH_EV_SYNC, 1000, "writer");

	ev.sync.kind = kind;
	ev.sync.ret = ret;
	ev.sync.fd = 3;
	ev.sync.file = file_id(dev, ino, mode, EXT4_MAGIC);
	ev.sync.duration_ns = 1 * MS;
	ioh_correlator_feed(c, &ev);
}

static void feed_fsync_file(struct ioh_correlator *c, uint64_t ts)
{
	feed_sync(c, ts, IOH_SYNC_FSYNC, 0, DEV, FILE_INO, S_IFREG | 0644);
}

static void feed_fsync_dir(struct ioh_correlator *c, uint64_t ts)
{
	feed_sync(c, ts, IOH_SYNC_FSYNC, 0, DEV, DIR_INO, S_IFDIR | 0755);
}

struct rename_args {
	uint32_t dev;
	uint64_t src_ino;
	uint64_t dir_ino;
	uint32_t magic;
	const char *new_path;
	const char *old_path;
};

static void feed_rename_args(struct ioh_correlator *c, uint64_t ts, const struct rename_args *a)
{
	struct ioh_event ev = base_event(ts, IOH_EV_RENAME, 1000, "writer");

	ev.rename.dfd = -100; /* AT_FDCWD */
	ev.rename.identity = IOH_ID_KERNEL;
	if (a->src_ino)
		ev.rename.src = file_id(a->dev, a->src_ino, S_IFREG | 0644, a->magic);
	if (a->dir_ino)
		ev.rename.dst_dir = file_id(a->dev, a->dir_ino, S_IFDIR | 0755, a->magic);
	ev.rename.new_path = a->new_path;
	ev.rename.old_path = a->old_path;
	ioh_correlator_feed(c, &ev);
}

/* The common case: /srv/app/.config.json.tmp -> /srv/app/config.json on ext4. */
static void feed_rename(struct ioh_correlator *c, uint64_t ts)
{
	struct rename_args a = {DEV,
				FILE_INO,
				DIR_INO,
				EXT4_MAGIC,
				"/srv/app/config.json",
				"/srv/app/.config.json.tmp"};

	feed_rename_args(c, ts, &a);
}

static void feed_loss(struct ioh_correlator *c, uint64_t ts, uint32_t where, uint64_t count)
{
	struct ioh_event ev = base_event(ts, IOH_EV_LOSS, 0, "");

	ev.cgroup = NULL;
	ev.loss.where = where;
	ev.loss.count = count;
	ev.loss.since_ns = ts > SEC ? ts - SEC : 0;
	ioh_correlator_feed(c, &ev);
}

/* A loss the daemon found between two reads of the kernel's counters, at `from` and `to`. */
static void feed_loss_interval(struct ioh_correlator *c, uint64_t from, uint64_t to, uint64_t count)
{
	struct ioh_event ev = base_event(to, IOH_EV_LOSS, 0, "");

	ev.cgroup = NULL;
	ev.loss.where = IOH_LOSS_RINGBUF_RENAME;
	ev.loss.count = count;
	ev.loss.since_ns = from;
	ioh_correlator_feed(c, &ev);
}

static struct ioh_correlator_stats stats_of(struct ioh_correlator *c)
{
	struct ioh_correlator_stats st;

	ioh_correlator_get_stats(c, &st);
	return st;
}

/* ---- rules ------------------------------------------------------------------------------- */

static char tmpdir[] = "/tmp/ioh-test-correlator.XXXXXX";

static const char test_rules[] = "[rule rename-without-dir-fsync]\n"
				 "severity = warning\n"
				 "window = 2s\n"
				 "exclude = /tmp/*\n"
				 "\n"
				 "[rule rename-unsynced-source]\n"
				 "severity = notice\n"
				 "exclude = /tmp/*\n";

static struct ioh_ruleset *load_dir(const char *dir)
{
	struct ioh_rules_errors errs = {0};
	struct ioh_ruleset *rs = NULL;
	const char *dirs[] = {dir};
	int r = ioh_rules_load_dirs(dirs, 1, &rs, &errs);

	for (size_t i = 0; i < errs.count; i++)
		printf("# rules: %s\n", errs.messages[i]);
	ioh_rules_errors_free(&errs);
	if (r < 0)
		return NULL;
	return rs;
}

static struct ioh_ruleset *load_test_rules(void)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/test.rules", tmpdir);
	f = fopen(path, "w");
	if (!f || fputs(test_rules, f) < 0 || fclose(f) != 0)
		abort();
	return load_dir(tmpdir);
}

static struct ioh_ruleset *load_text(const char *text)
{
	struct ioh_rules_errors errs = {0};
	struct ioh_ruleset *rs = NULL;
	int r = ioh_rules_load_buffer("t.rules", text, strlen(text), &rs, &errs);

	ioh_rules_errors_free(&errs);
	return r < 0 ? NULL : rs;
}

static struct ioh_ruleset *rules; /* the test rules file, for most cases */

static struct ioh_correlator *new_correlator(uint32_t max_inodes, uint32_t max_pending)
{
	struct ioh_correlator_config cfg = {.max_inodes = max_inodes, .max_pending = max_pending};

	reset_found();
	return ioh_correlator_new(&cfg, rules, on_finding, NULL);
}

/* ---- cases ------------------------------------------------------------------------------- */

static void test_unsafe_rename(void)
{
	TEST_CASE("write+rename, no fsync: both rules")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct ioh_correlator_stats st;

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename(c, 3 * SEC);
		/* rename-unsynced-source is decided at the rename itself. */
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK_STR(sev(found[0].severity), "notice");
		CHECK(!found[0].degraded);
		CHECK_INT(found[0].ts_ns, 3 * SEC);
		CHECK_INT(found[0].pid, 1000);
		CHECK_STR(found[0].comm, "writer");
		CHECK_STR(found[0].cgroup, "/system.slice/app.service");
		CHECK_STR(found[0].path, "/srv/app/config.json");
		CHECK_STR(found[0].fstype, "ext4");
		CHECK_INT(found[0].file.ino, FILE_INO);
		CHECK_INT(found[0].file.dev, DEV);
		CHECK_STR(evidence(&found[0], "old_path"), "/srv/app/.config.json.tmp");
		CHECK_STR(evidence(&found[0], "dirty_for"), "2000000000");
		CHECK_STR(evidence(&found[0], "dirtied_by_pid"), "1000");
		CHECK_STR(evidence(&found[0], "ever_fsynced"), "false");
		CHECK_STR(evidence(&found[0], "identity"), "kernel");
		CHECK(strstr(found[0].message, "/srv/app/config.json") != NULL);

		st = stats_of(c);
		CHECK_INT(st.pending_renames, 1);
		CHECK_INT(st.events[IOH_EV_RENAME], 1);
		CHECK_INT(st.events[IOH_EV_INODE_DIRTY], 1);

		/* One nanosecond before the deadline: still waiting. */
		ioh_correlator_advance(c, 3 * SEC + WINDOW - 1);
		CHECK_INT(n_found, 1);
		ioh_correlator_advance(c, 3 * SEC + WINDOW);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[1].rule, "rename-without-dir-fsync");
		/* The program never fsynced anything: one step below the rule's warning. */
		CHECK_STR(sev(found[1].severity), "notice");
		CHECK(!found[1].degraded);
		CHECK_INT(found[1].ts_ns, 3 * SEC + WINDOW);
		CHECK_INT(found[1].pid, 1000);
		CHECK_STR(found[1].comm, "writer");
		CHECK_STR(found[1].path, "/srv/app/config.json");
		CHECK_STR(found[1].fstype, "ext4");
		CHECK_INT(found[1].file.ino, FILE_INO);
		CHECK_STR(evidence(&found[1], "old_path"), "/srv/app/.config.json.tmp");
		CHECK_STR(evidence(&found[1], "directory"), "/srv/app");
		CHECK_STR(evidence(&found[1], "directory_ino"), "10");
		CHECK_STR(evidence(&found[1], "file_fsynced"), "false");
		CHECK_STR(evidence(&found[1], "window"), "2000000000");
		CHECK_STR(evidence(&found[1], "identity"), "kernel");
		CHECK_STR(found[1].message,
			  "renamed into /srv/app but the directory was not fsynced within 2s");

		st = stats_of(c);
		CHECK_INT(st.findings, 2);
		CHECK_INT(st.pending_renames, 0);
		/* Advancing further emits nothing twice. */
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 2);
		ioh_correlator_free(c);
	}
}

static void test_file_fsynced(void)
{
	TEST_CASE("write+fsync(file)+rename, no dir fsync: dir rule only, rule's severity")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 3 * SEC + WINDOW);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		CHECK_STR(sev(found[0].severity), "warning");
		CHECK_STR(evidence(&found[0], "file_fsynced"), "true");
		CHECK_INT(found[0].ts_ns, 3 * SEC + WINDOW);
		ioh_correlator_free(c);
	}

	TEST_CASE("fdatasync of the file counts as fsynced")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_sync(c, 2 * SEC, IOH_SYNC_FDATASYNC, 0, DEV, FILE_INO, S_IFREG | 0600);
		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 10 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		CHECK_STR(evidence(&found[0], "file_fsynced"), "true");
		ioh_correlator_free(c);
	}

	TEST_CASE("dirtied again after fsync: unsynced source again, file_fsynced=false")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_fsync_file(c, 2 * SEC);
		feed_dirty(c, 2 * SEC + 500 * MS, DEV, FILE_INO);
		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 10 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK_STR(evidence(&found[0], "ever_fsynced"), "true");
		CHECK_STR(evidence(&found[0], "dirty_for"), "500000000");
		CHECK_STR(found[1].rule, "rename-without-dir-fsync");
		CHECK_STR(evidence(&found[1], "file_fsynced"), "false");
		CHECK_STR(sev(found[1].severity), "notice");
		ioh_correlator_free(c);
	}
}

static void test_correct_pattern(void)
{
	TEST_CASE("write+fsync+rename+fsync(dir) in the window: nothing")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_fsync_dir(c, 3 * SEC + 10 * MS);
		CHECK_INT(stats_of(c).pending_renames, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		CHECK_INT(stats_of(c).findings, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("fdatasync of the directory counts")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_sync(c, 4 * SEC, IOH_SYNC_FDATASYNC, 0, DEV, DIR_INO, S_IFDIR | 0755);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("fsync of another directory does not count")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_sync(c, 4 * SEC, IOH_SYNC_FSYNC, 0, DEV, DIR_INO + 1, S_IFDIR | 0755);
		/* Same inode number on another filesystem is another directory. */
		feed_sync(c, 4 * SEC, IOH_SYNC_FSYNC, 0, OTHER_DEV, DIR_INO, S_IFDIR | 0755);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		ioh_correlator_free(c);
	}

	TEST_CASE("fsync of the directory's inode reported as a regular file does not count")
	{
		/* Only a directory's fsync commits names; the mode decides what the fd was. */
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_sync(c, 4 * SEC, IOH_SYNC_FSYNC, 0, DEV, DIR_INO, S_IFREG | 0644);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		ioh_correlator_free(c);
	}
}

static void test_late_dir_fsync(void)
{
	TEST_CASE("dir fsync after the window: finding at exactly the deadline")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		/* No advance in between: feeding the late fsync expires the deadline first. */
		feed_fsync_dir(c, 3 * SEC + WINDOW + 1);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		CHECK_INT(found[0].ts_ns, 3 * SEC + WINDOW);
		CHECK_STR(sev(found[0].severity), "warning");
		ioh_correlator_free(c);
	}

	TEST_CASE("dir fsync one ns before the deadline is in time")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_fsync_dir(c, 3 * SEC + WINDOW - 1);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("dir fsync at exactly the deadline is too late")
	{
		/*
		 * Feeding an event first expires every deadline at or before its timestamp (the
		 * same "at or before" as ioh_correlator_advance), so live runs, whose timer may
		 * advance to exactly the deadline, and replays agree on this boundary.
		 */
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_fsync_dir(c, 3 * SEC + WINDOW);
		CHECK_INT(n_found, 1);
		CHECK_INT(found[0].ts_ns, 3 * SEC + WINDOW);
		ioh_correlator_free(c);
	}

	TEST_CASE("ordering: an in-window fsync fed after advance past the deadline")
	{
		/*
		 * The correlator trusts its callers' clock: once advance() passed the deadline
		 * the verdict is out, and an fsync whose timestamp was inside the window but
		 * that arrives later cannot take it back. Time never goes backwards: later
		 * events do not rewind the clock (the daemon advances only to now minus a
		 * grace period so ring buffer latency does not cause this).
		 */
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 3 * SEC + WINDOW + 1 * SEC);
		CHECK_INT(n_found, 1);
		feed_fsync_dir(c, 3 * SEC + 1 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_INT(stats_of(c).pending_renames, 0);
		CHECK_INT(stats_of(c).events[IOH_EV_SYNC], 2);

		/* A rename whose event is older than the correlator's clock still gets its full
		 * window measured from its own timestamp, expiring at the next advance. */
		feed_rename(c, 4 * SEC + 500 * MS);
		CHECK_INT(stats_of(c).pending_renames, 1);
		ioh_correlator_advance(c, 3 * SEC + WINDOW + 1 * SEC);
		CHECK_INT(n_found, 1);
		ioh_correlator_advance(c, 4 * SEC + 500 * MS + WINDOW);
		CHECK_INT(n_found, 2);
		CHECK_INT(found[1].ts_ns, 4 * SEC + 500 * MS + WINDOW);
		ioh_correlator_free(c);
	}

	TEST_CASE("advance backwards is ignored")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 3 * SEC + 1);
		ioh_correlator_advance(c, 1 * SEC);
		CHECK_INT(stats_of(c).pending_renames, 1);
		ioh_correlator_free(c);
	}

	TEST_CASE("a deadline past 2^64 ns saturates instead of wrapping (issue 12)")
	{
		/* Timestamps come from recordings too, which are untrusted. A wrapped deadline
		 * fired at once, stamped before its own rename. */
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, UINT64_MAX - 3 * SEC);
		feed_rename(c, UINT64_MAX - SEC);
		ioh_correlator_advance(c, UINT64_MAX - SEC + 1);
		CHECK_INT(n_found, 0);
		CHECK_INT(stats_of(c).pending_renames, 1);
		ioh_correlator_free(c);
	}

	TEST_CASE("several renames expire in deadline order")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct rename_args a = {DEV, 0, 20, EXT4_MAGIC, "/srv/b/x", "/srv/b/x.tmp"};

		feed_rename(c, 3 * SEC);
		feed_rename_args(c, 3 * SEC + 100, &a);
		a.dir_ino = 30;
		a.new_path = "/srv/c/y";
		feed_rename_args(c, 3 * SEC + 50, &a); /* fed late but within the clock */
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 3);
		CHECK_INT(found[0].ts_ns, 3 * SEC + WINDOW);
		CHECK_INT(found[1].ts_ns, 3 * SEC + 50 + WINDOW);
		CHECK_STR(found[1].path, "/srv/c/y");
		CHECK_INT(found[2].ts_ns, 3 * SEC + 100 + WINDOW);
		/* No source inode known: the finding is about the directory. */
		CHECK_INT(found[2].file.ino, 20);
		ioh_correlator_free(c);
	}
}

static void test_sync_family(void)
{
	TEST_CASE("syncfs on the same filesystem satisfies, and makes the file clean")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_sync(c, 2 * SEC, IOH_SYNC_SYNCFS, 0, DEV, 2, S_IFDIR | 0755);
		feed_rename(c, 3 * SEC);
		CHECK_INT(n_found, 0); /* syncfs wrote the data: no unsynced source */
		feed_sync(c, 4 * SEC, IOH_SYNC_SYNCFS, 0, DEV, 2, S_IFDIR | 0755);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("syncfs on another filesystem does not")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_sync(c, 2 * SEC, IOH_SYNC_SYNCFS, 0, OTHER_DEV, 2, S_IFDIR | 0755);
		feed_rename(c, 3 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		feed_sync(c, 4 * SEC, IOH_SYNC_SYNCFS, 0, OTHER_DEV, 2, S_IFDIR | 0755);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[1].rule, "rename-without-dir-fsync");
		ioh_correlator_free(c);
	}

	TEST_CASE("sync() satisfies every pending rename")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct rename_args a = {OTHER_DEV, 0, 20, EXT4_MAGIC, "/data/x", "/data/x.tmp"};

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_rename_args(c, 3 * SEC, &a);
		CHECK_INT(stats_of(c).pending_renames, 2);
		feed_sync(c, 4 * SEC, IOH_SYNC_SYNC, 0, 0, 0, 0);
		CHECK_INT(stats_of(c).pending_renames, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("failed fsync of the directory does not count")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_sync(c, 4 * SEC, IOH_SYNC_FSYNC, -EIO, DEV, DIR_INO, S_IFDIR | 0755);
		feed_sync(c, 4 * SEC, IOH_SYNC_SYNCFS, -EIO, DEV, 2, S_IFDIR | 0755);
		feed_sync(c, 4 * SEC, IOH_SYNC_SYNC, -EIO, 0, 0, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		ioh_correlator_free(c);
	}

	TEST_CASE("failed fsync of the file does not make it synced")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_sync(c, 2 * SEC, IOH_SYNC_FSYNC, -EIO, DEV, FILE_INO, S_IFREG | 0644);
		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK_STR(evidence(&found[0], "ever_fsynced"), "false");
		CHECK_STR(evidence(&found[1], "file_fsynced"), "false");
		ioh_correlator_free(c);
	}

	TEST_CASE("sync_file_range is no durability point")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_sync(c, 2 * SEC, IOH_SYNC_FILE_RANGE, 0, DEV, FILE_INO, S_IFREG | 0644);
		feed_rename(c, 3 * SEC);
		feed_sync(c, 4 * SEC, IOH_SYNC_FILE_RANGE, 0, DEV, DIR_INO, S_IFDIR | 0755);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK_STR(found[1].rule, "rename-without-dir-fsync");
		ioh_correlator_free(c);
	}

	TEST_CASE("writeback CLEAN before the rename: no unsynced source")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_clean(c, 2 * SEC, DEV, FILE_INO);
		feed_rename(c, 3 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 60 * SEC);
		/* Written back but never fsynced: the dir rule still fires, one step lower. */
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		CHECK_STR(evidence(&found[0], "file_fsynced"), "false");
		CHECK_STR(sev(found[0].severity), "notice");
		ioh_correlator_free(c);
	}

	TEST_CASE("rename of a file never seen dirty: dir rule only")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_rename(c, 3 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(evidence(&found[0], "file_fsynced"), "false");
		ioh_correlator_free(c);
	}
}

static void test_scope(void)
{
	TEST_CASE("excluded path (/tmp): nothing")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct rename_args a = {
		    DEV, FILE_INO, DIR_INO, EXT4_MAGIC, "/tmp/x/config.json", "/tmp/x/.tmp"};

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename_args(c, 3 * SEC, &a);
		CHECK_INT(stats_of(c).pending_renames, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("tmpfs is not persistent: nothing")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct rename_args a = {
		    DEV, FILE_INO, DIR_INO, TMPFS_MAGIC, "/srv/app/config.json", "/srv/app/.tmp"};

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename_args(c, 3 * SEC, &a);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		CHECK_INT(stats_of(c).renames_unresolved, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("rename without a new path is ignored")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct rename_args a = {DEV, FILE_INO, DIR_INO, EXT4_MAGIC, NULL, "/srv/app/.tmp"};

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename_args(c, 3 * SEC, &a);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("unresolved destination directory: counted, no pending, source rule still")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct rename_args a = {
		    DEV, FILE_INO, 0, EXT4_MAGIC, "/srv/app/config.json", "/srv/app/.tmp"};
		struct ioh_correlator_stats st;

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename_args(c, 3 * SEC, &a);
		st = stats_of(c);
		CHECK_INT(st.renames_unresolved, 1);
		CHECK_INT(st.pending_renames, 0);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		ioh_correlator_free(c);
	}

	TEST_CASE("no rules: nothing, events still counted")
	{
		struct ioh_correlator *c;

		reset_found();
		c = ioh_correlator_new(NULL, NULL, on_finding, NULL);
		CHECK(c != NULL);
		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		CHECK_INT(stats_of(c).events[IOH_EV_RENAME], 1);
		CHECK_INT(stats_of(c).tracked_inodes, 1);
		ioh_correlator_free(c);
	}
}

static void test_losses(void)
{
	TEST_CASE("loss inside the window: degraded")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct ioh_correlator_stats st;

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_loss(c, 4 * SEC, IOH_LOSS_RINGBUF_SYNC, 7);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK(found[0].degraded);
		st = stats_of(c);
		CHECK_INT(st.lost[IOH_LOSS_RINGBUF_SYNC], 7);
		CHECK_INT(st.events[IOH_EV_LOSS], 1);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss report with count 0 changes nothing")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		feed_loss(c, 4 * SEC, IOH_LOSS_RINGBUF_SYNC, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK(!found[0].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss before the window: high confidence")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_loss(c, 1 * SEC, IOH_LOSS_RINGBUF_INODE, 3);
		feed_dirty(c, 2 * SEC, DEV, FILE_INO);
		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK(!found[0].degraded);
		CHECK_STR(found[1].rule, "rename-without-dir-fsync");
		CHECK(!found[1].degraded);
		CHECK_INT(stats_of(c).lost[IOH_LOSS_RINGBUF_INODE], 3);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss after the file got dirty: unsynced source degraded")
	{
		/* The lost record could have been the fsync that made the file clean. */
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_loss(c, 2 * SEC, IOH_LOSS_RINGBUF_SYNC, 1);
		feed_rename(c, 3 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK(found[0].degraded);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 2);
		/* The window opened after the loss: the directory verdict is sure. */
		CHECK(!found[1].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss read after the deadline passed, before it was judged: degraded")
	{
		/* The daemon reads the counters before it advances its clock past a deadline; the
		 * report carries the read time, later than the deadline, and must not expire the
		 * window before it counts. */
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC); /* deadline 5 s */
		feed_loss_interval(c, 4 * SEC, 6 * SEC, 5);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK(found[0].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("records older than the loss report, fed after it: degraded")
	{
		/* A full ring buffer: the counters are read while older records still wait in it.
		 * Their windows overlap the interval the loss happened in. */
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_loss_interval(c, 2 * SEC, 4 * SEC, 100);
		feed_dirty(c, 2500 * MS, DEV, FILE_INO);
		feed_rename(c, 3 * SEC);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK(found[0].degraded);
		CHECK_STR(found[1].rule, "rename-without-dir-fsync");
		CHECK(found[1].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("a loss interval that ended before the window: high confidence")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_loss_interval(c, 1 * SEC, 2 * SEC, 1);
		feed_loss_interval(c, 10 * SEC, 11 * SEC, 1);
		feed_fsync_file(c, 2500 * MS);
		feed_rename(c, 3 * SEC); /* window 3..5 s: between the two */
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK(!found[0].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("more loss intervals than remembered: old ones merge, never vanish")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		/* 200 short losses 1 s apart from t=100 s; the window at 50..52 s is before all of
		 * them, one at 150.3 s sits in a gap that merging may cover (degraded is allowed),
		 * and one at 100.2 s is inside the oldest (degraded is required). */
		for (int i = 0; i < 200; i++)
			feed_loss_interval(c, (100 + i) * SEC, (100 + i) * SEC + 500 * MS, 1);
		feed_fsync_file(c, 49 * SEC);
		feed_rename(c, 50 * SEC);
		ioh_correlator_advance(c, 53 * SEC);
		CHECK_INT(n_found, 1);
		CHECK(!found[0].degraded);
		feed_fsync_file(c, 99 * SEC);
		feed_rename(c, 100 * SEC + 100 * MS);
		ioh_correlator_advance(c, 400 * SEC);
		CHECK_INT(n_found, 2);
		CHECK(found[1].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("loss of an unknown `where` is counted nowhere but still degrades")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct ioh_correlator_stats st;

		feed_rename(c, 3 * SEC);
		feed_loss(c, 4 * SEC, IOH_LOSS__MAX + 5, 2);
		ioh_correlator_advance(c, 60 * SEC);
		st = stats_of(c);
		CHECK_INT(n_found, 1);
		CHECK(found[0].degraded);
		uint64_t total = 0;

		for (int i = 0; i < IOH_LOSS__MAX; i++)
			total += st.lost[i];
		CHECK_INT(total, 0);
		ioh_correlator_free(c);
	}
}

static void test_caps(void)
{
	TEST_CASE("pending table full: the closest deadline is evicted and counted")
	{
		struct ioh_correlator *c = new_correlator(0, 2);
		struct rename_args a = {DEV, 0, 0, EXT4_MAGIC, NULL, NULL};
		char paths[4][32];
		struct ioh_correlator_stats st;

		for (int i = 0; i < 4; i++) {
			snprintf(paths[i], sizeof(paths[i]), "/srv/d%d/f", i);
			a.dir_ino = 50 + i;
			a.new_path = paths[i];
			feed_rename_args(c, 3 * SEC + i * MS, &a);
		}
		st = stats_of(c);
		CHECK_INT(st.pending_renames, 2);
		CHECK_INT(st.pending_evictions, 2);
		ioh_correlator_advance(c, 60 * SEC);
		/* d0 and d1 were given up on; the two newest are reported. */
		CHECK_INT(n_found, 2);
		CHECK_STR(found[0].path, "/srv/d2/f");
		CHECK_STR(found[1].path, "/srv/d3/f");
		CHECK_INT(stats_of(c).pending_evictions, 2);
		ioh_correlator_free(c);
	}

	TEST_CASE("pending table full: a storm loses its own windows, not another program's")
	{
		struct ioh_correlator *c = new_correlator(0, 8);
		struct ioh_event ev;
		char paths[20][40];
		struct ioh_correlator_stats st;
		unsigned storm = 0, b = 0;

		/* pid 1000 ("writer", feed_rename) has one pending rename... */
		feed_rename(c, 2 * SEC);
		/* ...while pid 2000 "stormer" renames 20 files into /srv/spool. */
		for (int i = 0; i < 20; i++) {
			ev = base_event(3 * SEC + i * MS, IOH_EV_RENAME, 2000, "stormer");
			ev.cgroup = "/system.slice/storm.service";
			ev.rename.identity = IOH_ID_KERNEL;
			ev.rename.dst_dir = file_id(DEV, 500, S_IFDIR | 0755, EXT4_MAGIC);
			snprintf(paths[i], sizeof(paths[i]), "/srv/spool/job%02d", i);
			ev.rename.new_path = paths[i];
			ev.rename.old_path = "/srv/spool/.tmp";
			ioh_correlator_feed(c, &ev);
		}
		st = stats_of(c);
		CHECK_INT(st.pending_renames, 8);
		CHECK_INT(st.pending_evictions, 13); /* 21 renames, 8 slots: all from the storm */
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 8);
		for (unsigned i = 0; i < n_found; i++) {
			if (strcmp(found[i].comm, "writer") == 0) {
				b++;
				CHECK_STR(found[i].path, "/srv/app/config.json");
				CHECK(!found[i].degraded); /* nothing of its own was lost */
				CHECK_STR(evidence(&found[i], "degraded_by"), "(missing)");
			} else {
				storm++;
				CHECK_STR(found[i].comm, "stormer");
			}
		}
		CHECK_INT(b, 1);
		CHECK_INT(storm, 7);
		/* The storm's survivors are its newest renames; those open when an older one was
		 * dropped say so, the one added last (after the final drop) does not. */
		CHECK_STR(found[1].path, "/srv/spool/job13");
		CHECK(found[1].degraded);
		CHECK_STR(evidence(&found[1], "degraded_by"), "pending-table-full");
		CHECK_STR(evidence(&found[1], "dropped_same_program"), "6");
		CHECK_STR(evidence(&found[1], "dropped_same_directory"), "6");
		CHECK_STR(found[7].path, "/srv/spool/job19");
		CHECK(!found[7].degraded);
		ioh_correlator_free(c);
	}

	TEST_CASE("pending table full: many programs into one directory lose that directory's")
	{
		struct ioh_correlator *c = new_correlator(0, 4);
		struct ioh_event ev;
		char comms[10][16];
		unsigned b = 0;

		feed_rename(c, 2 * SEC); /* "writer" into /srv/app */
		for (int i = 0; i < 10; i++) {
			snprintf(comms[i], sizeof(comms[i]), "mv%d", i);
			ev = base_event(3 * SEC + i * MS, IOH_EV_RENAME, 3000 + i, comms[i]);
			ev.rename.identity = IOH_ID_KERNEL;
			ev.rename.dst_dir = file_id(DEV, 500, S_IFDIR | 0755, EXT4_MAGIC);
			ev.rename.new_path = "/srv/spool/job";
			ioh_correlator_feed(c, &ev);
		}
		CHECK_INT(stats_of(c).pending_evictions, 7);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 4);
		for (unsigned i = 0; i < n_found; i++)
			if (strcmp(found[i].comm, "writer") == 0) {
				b++;
				CHECK(!found[i].degraded);
			}
		CHECK_INT(b, 1);
		/* A directory fsync still finds every entry of the directory after evictions. */
		ioh_correlator_free(c);
	}

	TEST_CASE("pending table full: directory fsync after evictions releases the rest")
	{
		struct ioh_correlator *c = new_correlator(0, 4);
		struct rename_args a = {DEV, 0, 500, EXT4_MAGIC, "/srv/spool/job", NULL};

		for (int i = 0; i < 10; i++)
			feed_rename_args(c, 3 * SEC + i * MS, &a);
		CHECK_INT(stats_of(c).pending_evictions, 6);
		feed_sync(c, 3 * SEC + 20 * MS, IOH_SYNC_FSYNC, 0, DEV, 500, S_IFDIR | 0755);
		CHECK_INT(stats_of(c).pending_renames, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		/* The slots and groups are reusable. */
		for (int i = 0; i < 10; i++)
			feed_rename_args(c, 70 * SEC + i * MS, &a);
		CHECK_INT(stats_of(c).pending_renames, 4);
		CHECK_INT(stats_of(c).pending_evictions, 12);
		ioh_correlator_free(c);
	}

	TEST_CASE("pending table churn: groups stay consistent (renames, fsyncs, evictions)")
	{
		struct ioh_correlator *c = new_correlator(0, 5);
		static const char *const comms[] = {"a", "b", "c"};
		uint64_t renames = 0, most = 0;
		unsigned seed = 12345;

		for (int i = 0; i < 3000; i++) {
			uint64_t ts = 3 * SEC + (uint64_t)i * MS;
			unsigned r;

			seed = seed * 1103515245u + 12345u;
			r = (seed >> 16) % 100;
			if (r < 70) {
				struct ioh_event ev =
				    base_event(ts, IOH_EV_RENAME, 100 + r % 3, comms[(r / 3) % 3]);

				ev.rename.identity = IOH_ID_KERNEL;
				ev.rename.dst_dir =
				    file_id(DEV, 500 + (r / 9) % 4, S_IFDIR | 0755, EXT4_MAGIC);
				ev.rename.new_path = "/srv/churn/f";
				ioh_correlator_feed(c, &ev);
				renames++;
			} else if (r < 95) {
				feed_sync(c, ts, IOH_SYNC_FSYNC, 0, DEV, 500 + r % 4,
					  S_IFDIR | 0755);
			} else {
				feed_sync(c, ts, IOH_SYNC_SYNCFS, 0, DEV, 0, 0);
			}
			if (stats_of(c).pending_renames > most)
				most = stats_of(c).pending_renames;
		}
		CHECK_INT(most, 5);
		CHECK(stats_of(c).pending_evictions > 0);
		CHECK(stats_of(c).pending_evictions < renames);
		feed_sync(c, 10 * SEC, IOH_SYNC_SYNC, 0, 0, 0, 0);
		CHECK_INT(stats_of(c).pending_renames, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("pending table of 1: satisfied entries are reused without eviction")
	{
		struct ioh_correlator *c = new_correlator(0, 1);

		for (int i = 0; i < 10; i++) {
			feed_rename(c, (3 + i) * SEC);
			feed_fsync_dir(c, (3 + i) * SEC + 1);
		}
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 0);
		CHECK_INT(stats_of(c).pending_evictions, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("many directory fsyncs and renames: heap never overflows")
	{
		/* Satisfied entries leave stale heap items; the heap has 2 * max_pending
		 * slots and must compact instead of overflowing. */
		struct ioh_correlator *c = new_correlator(0, 4);

		for (int i = 0; i < 200; i++) {
			struct rename_args a = {DEV,	    0,		1000 + (i % 3),
						EXT4_MAGIC, "/srv/x/f", "/srv/x/t"};

			feed_rename_args(c, 3 * SEC + i * MS, &a);
			if (i % 3 != 2)
				feed_sync(c, 3 * SEC + i * MS + 1, IOH_SYNC_FSYNC, 0, DEV,
					  1000 + (i % 3), S_IFDIR | 0755);
		}
		ioh_correlator_advance(c, 600 * SEC);
		/* Every rename into dir 1002 was left unsynced: 66 of them, 4 slots. */
		CHECK_INT(n_found + stats_of(c).pending_evictions, 66);
		CHECK_INT(stats_of(c).pending_renames, 0);
		ioh_correlator_free(c);
	}

	TEST_CASE("inode table LRU: evictions counted, evicted state forgotten")
	{
		struct ioh_correlator *c = new_correlator(2, 0);
		struct ioh_correlator_stats st;

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_dirty(c, 1 * SEC + 1, DEV, FILE_INO + 1);
		feed_dirty(c, 1 * SEC + 2, DEV, FILE_INO + 2); /* evicts FILE_INO */
		st = stats_of(c);
		CHECK_INT(st.tracked_inodes, 2);
		CHECK_INT(st.inode_evictions, 1);
		feed_rename(c, 3 * SEC);
		/* Its dirty state is gone with it: no unsynced-source verdict is possible. */
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}
}

/* ---- a new file with a deleted file's inode number (issue 14, cause 2) ---------------------- */

static void feed_inode_gen(struct ioh_correlator *c, uint64_t ts, uint32_t type, uint32_t pid,
			   uint32_t gen)
{
	struct ioh_event ev = base_event(ts, type, pid, "writer");

	ev.inode.file = file_id(DEV, FILE_INO, S_IFREG | 0644, EXT4_MAGIC);
	ev.inode.file.gen = gen;
	ioh_correlator_feed(c, &ev);
}

static void feed_fsync_gen(struct ioh_correlator *c, uint64_t ts, uint32_t gen)
{
	struct ioh_event ev = base_event(ts, IOH_EV_SYNC, 1000, "writer");

	ev.sync.kind = IOH_SYNC_FSYNC;
	ev.sync.file = file_id(DEV, FILE_INO, S_IFREG | 0644, EXT4_MAGIC);
	ev.sync.file.gen = gen;
	ioh_correlator_feed(c, &ev);
}

/* FILE_INO renamed into DIR_INO; `gen` 0 with `btime` is the tracepoint backend's statx. */
static void feed_rename_gen(struct ioh_correlator *c, uint64_t ts, uint32_t gen, uint64_t btime)
{
	struct ioh_event ev = base_event(ts, IOH_EV_RENAME, 3000, "logrotate");

	ev.rename.dfd = -100;
	ev.rename.identity = gen ? IOH_ID_KERNEL : IOH_ID_USERSPACE;
	ev.rename.src = file_id(DEV, FILE_INO, S_IFREG | 0644, EXT4_MAGIC);
	ev.rename.src.gen = gen;
	ev.rename.src_btime_ns = btime;
	ev.rename.dst_dir = file_id(DEV, DIR_INO, S_IFDIR | 0755, EXT4_MAGIC);
	ev.rename.new_path = "/var/log/app.log";
	ev.rename.old_path = "/var/log/app.log.new";
	ioh_correlator_feed(c, &ev);
}

/* A rename whose file statx was given up (a file system holding the lookup): the directory
 * is known, so the window opens, and its finding is degraded and says why. */
static void test_resolve_timeout(void)
{
	TEST_CASE("resolve timeout: degraded, degraded_by resolve-timeout")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct ioh_event ev = base_event(3 * SEC, IOH_EV_RENAME, 1000, "writer");

		reset_found();
		ev.rename.dfd = -100;
		ev.rename.identity = IOH_ID_USERSPACE;
		ev.flags = IOH_EVF_RESOLVED_IN_USERSPACE | IOH_EVF_RESOLVE_FAILED |
			   IOH_EVF_RESOLVE_TIMEOUT;
		ev.rename.dst_dir = file_id(DEV, DIR_INO, S_IFDIR | 0755, EXT4_MAGIC);
		ev.rename.new_path = "/srv/app/config.json";
		ev.rename.old_path = "/srv/app/.config.json.tmp";
		ioh_correlator_feed(c, &ev);
		ioh_correlator_advance(c, 3 * SEC + WINDOW + 1);
		CHECK_INT(n_found, 1);
		if (n_found == 1) {
			CHECK_STR(found[0].rule, "rename-without-dir-fsync");
			CHECK(found[0].degraded);
			CHECK_STR(evidence(&found[0], "degraded_by"), "resolve-timeout");
		}
		/* The same rename resolved in time is not degraded. */
		reset_found();
		ev.ts_ns = 20 * SEC;
		ev.flags &= ~(IOH_EVF_RESOLVE_TIMEOUT | IOH_EVF_RESOLVE_FAILED);
		ev.rename.src = file_id(DEV, FILE_INO + 7, S_IFREG | 0644, EXT4_MAGIC);
		ioh_correlator_feed(c, &ev);
		ioh_correlator_advance(c, 20 * SEC + WINDOW + 1);
		CHECK_INT(n_found, 1);
		if (n_found == 1) {
			CHECK(!found[0].degraded);
			CHECK_STR(evidence(&found[0], "degraded_by"), "(missing)");
		}
		ioh_correlator_free(c);
	}
}

/* statx resolved the new name to a file born after the rename (the name was replaced again
 * before the daemon got to it): that file's state is not the renamed one's. */
static void test_stale_identity(void)
{
	TEST_CASE("statx found a file born after the rename: source verdict left open")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct ioh_correlator_stats st;

		reset_found();
		/* The file at that number was dirtied after the rename (by the later writer). */
		feed_inode_gen(c, 3 * SEC + 50000000ULL, IOH_EV_INODE_DIRTY, 1000, 0);
		feed_rename_gen(c, 3 * SEC, 0, 3 * SEC + 40000000ULL);
		CHECK_INT(n_found, 0); /* no rename-unsynced-source about the wrong file */
		ioh_correlator_get_stats(c, &st);
		CHECK_INT(st.renames_unresolved, 1);
		/* The directory is still judged. */
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		if (n_found == 1)
			CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		ioh_correlator_free(c);
	}
}

static void test_inode_reuse(void)
{
	TEST_CASE("reused inode number, kernel identity: the new file's generation decides")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		/* The old file (generation 7) was written by pid 1000 and deleted; an empty new
		 * file got its number (generation 8) and is renamed. */
		feed_inode_gen(c, 1 * SEC, IOH_EV_INODE_DIRTY, 1000, 7);
		feed_rename_gen(c, 3 * SEC, 8, 0);
		CHECK_INT(n_found, 0); /* no rename-unsynced-source */
		/* The old file's state is gone: a later lookup of generation 7 finds nothing. */
		CHECK(ioh_inode_lookup(ioh_correlator_inodes(c), DEV, FILE_INO) == NULL);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-without-dir-fsync");
		CHECK_STR(evidence(&found[0], "file_fsynced"), "false");
		ioh_correlator_free(c);
	}

	TEST_CASE("reused inode number: a deleted file's fsync does not make the new one fsynced")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_inode_gen(c, 1 * SEC, IOH_EV_INODE_DIRTY, 1000, 7);
		feed_fsync_gen(c, 1 * SEC + MS, 7);
		feed_rename_gen(c, 3 * SEC, 8, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(evidence(&found[0], "file_fsynced"), "false");
		CHECK_STR(sev(found[0].severity), "notice"); /* fsynced nothing: one step lower */
		ioh_correlator_free(c);
	}

	TEST_CASE("reused inode number, new file written: reported with the new writer")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_inode_gen(c, 1 * SEC, IOH_EV_INODE_DIRTY, 1000, 7);
		feed_inode_gen(c, 2 * SEC, IOH_EV_INODE_DIRTY, 2000, 8);
		feed_rename_gen(c, 3 * SEC, 8, 0);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK_STR(evidence(&found[0], "dirtied_by_pid"), "2000");
		CHECK_STR(evidence(&found[0], "dirty_for"), "1000000000"); /* since 2 s, not 1 s */
		CHECK_STR(evidence(&found[0], "ever_fsynced"), "false");
		ioh_correlator_free(c);
	}

	TEST_CASE("same generation: the file's own dirty state is kept")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_inode_gen(c, 1 * SEC, IOH_EV_INODE_DIRTY, 1000, 7);
		feed_rename_gen(c, 3 * SEC, 7, 0);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		ioh_correlator_free(c);
	}

	TEST_CASE("reused inode number, statx identity: state older than the birth is dropped")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_inode_gen(c, 1 * SEC, IOH_EV_INODE_DIRTY, 1000, 7);
		feed_fsync_gen(c, 1 * SEC + MS, 7);
		feed_inode_gen(c, 1 * SEC + 2 * MS, IOH_EV_INODE_DIRTY, 1000, 7);
		/* Born at 2 s (after every fact above), renamed at 3 s: never written. */
		feed_rename_gen(c, 3 * SEC, 0, 2 * SEC);
		CHECK_INT(n_found, 0);
		CHECK(ioh_inode_lookup(ioh_correlator_inodes(c), DEV, FILE_INO) == NULL);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(evidence(&found[0], "file_fsynced"), "false");
		CHECK_STR(evidence(&found[0], "identity"), "userspace");
		ioh_correlator_free(c);
	}

	TEST_CASE("statx identity: state after the birth is the file's own")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		/* Born at 0.5 s, dirtied at 1 s: a real unsynced rename. */
		feed_inode_gen(c, 1 * SEC, IOH_EV_INODE_DIRTY, 1000, 7);
		feed_rename_gen(c, 3 * SEC, 0, SEC / 2);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		/* Birth time unknown (0): as before, (dev, ino) decides. */
		reset_found();
		feed_rename_gen(c, 4 * SEC, 0, 0);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		ioh_correlator_free(c);
	}

	TEST_CASE("statx identity: a sync(2) after the birth covered the new file too")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_inode_gen(c, 1 * SEC, IOH_EV_INODE_DIRTY, 1000, 7);
		feed_sync(c, 2 * SEC + MS, IOH_SYNC_SYNC, 0, 0, 0, 0);
		feed_rename_gen(c, 3 * SEC, 0, 2 * SEC);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(evidence(&found[0], "file_fsynced"), "true");
		ioh_correlator_free(c);
	}
}

static void test_reload(void)
{
	TEST_CASE("set_rules keeps pending renames with their original settings")
	{
		struct ioh_ruleset *other = load_text("[rule rename-without-dir-fsync]\n"
						      "severity = critical\n"
						      "window = 30s\n");
		struct ioh_correlator *c = new_correlator(0, 0);

		CHECK(other != NULL);
		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		ioh_correlator_set_rules(c, other);
		CHECK_INT(stats_of(c).pending_renames, 1);
		ioh_correlator_advance(c, 3 * SEC + WINDOW);
		CHECK_INT(n_found, 1);
		CHECK_STR(sev(found[0].severity), "warning");
		CHECK_INT(found[0].ts_ns, 3 * SEC + WINDOW);

		/* A new rename uses the new rule: no source rule, 30s, critical. */
		feed_dirty(c, 10 * SEC, DEV, FILE_INO);
		feed_fsync_file(c, 10 * SEC + 1);
		feed_rename(c, 11 * SEC);
		ioh_correlator_advance(c, 11 * SEC + 30 * SEC - 1);
		CHECK_INT(n_found, 1);
		ioh_correlator_advance(c, 11 * SEC + 30 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(sev(found[1].severity), "critical");
		CHECK_STR(evidence(&found[1], "window"), "30000000000");

		/* Reload to nothing: later renames are ignored. */
		ioh_correlator_set_rules(c, NULL);
		feed_rename(c, 50 * SEC);
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 2);
		ioh_correlator_free(c);
		ioh_ruleset_free(other);
	}

	TEST_CASE("disabled rule and a second instance of a detector")
	{
		struct ioh_ruleset *rs = load_text("[rule rename-without-dir-fsync]\n"
						   "enabled = no\n"
						   "[rule srv-rename]\n"
						   "detector = rename-without-dir-fsync\n"
						   "severity = critical\n"
						   "window = 1s\n"
						   "include = /srv/*\n");
		struct ioh_correlator *c;

		CHECK(rs != NULL);
		reset_found();
		c = ioh_correlator_new(NULL, rs, on_finding, NULL);
		feed_fsync_file(c, 2 * SEC);
		feed_rename(c, 3 * SEC);
		struct rename_args a = {DEV, 0, 20, EXT4_MAGIC, "/var/lib/x", "/var/lib/x.tmp"};

		feed_rename_args(c, 3 * SEC, &a);
		ioh_correlator_advance(c, 60 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "srv-rename");
		CHECK_STR(sev(found[0].severity), "critical");
		CHECK_INT(found[0].ts_ns, 4 * SEC);
		ioh_correlator_free(c);
		ioh_ruleset_free(rs);
	}
}

static void test_default_rules(void)
{
	TEST_CASE("shipped rules/10-default.rules")
	{
		const char *src = getenv("IOH_SRC");
		char dir[4096];
		struct ioh_ruleset *rs;
		struct ioh_correlator *c;
		struct rename_args a = {DEV,	    FILE_INO + 1, DIR_INO,
					EXT4_MAGIC, "/var/tmp/x", "/var/tmp/x.tmp"};

		snprintf(dir, sizeof(dir), "%s/rules", src && *src ? src : ".");
		rs = load_dir(dir);
		CHECK(rs != NULL);
		if (!rs)
			break;
		reset_found();
		c = ioh_correlator_new(NULL, rs, on_finding, NULL);
		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename(c, 3 * SEC);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "rename-unsynced-source");
		CHECK_STR(sev(found[0].severity), "notice");
		/* The vendor window is 5s. */
		ioh_correlator_advance(c, 8 * SEC - 1);
		CHECK_INT(n_found, 1);
		ioh_correlator_advance(c, 8 * SEC);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[1].rule, "rename-without-dir-fsync");
		CHECK_STR(sev(found[1].severity), "notice");
		CHECK_STR(evidence(&found[1], "window"), "5000000000");
		CHECK_STR(found[1].message,
			  "renamed into /srv/app but the directory was not fsynced within 5s");

		/* /var/tmp is excluded by the vendor rules. */
		feed_dirty(c, 10 * SEC, DEV, FILE_INO + 1);
		feed_rename_args(c, 11 * SEC, &a);
		ioh_correlator_advance(c, 100 * SEC);
		CHECK_INT(n_found, 2);
		ioh_correlator_free(c);
		ioh_ruleset_free(rs);
	}
}

/* Issue 13: "renamed over X" only when X existed; the dirty time for people, not 2.24e-05s. */
static void test_unsynced_message(void)
{
	TEST_CASE("rename-unsynced-source: \"renamed to\" a new name, for people")
	{
		struct ioh_correlator *c = new_correlator(0, 0);

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		feed_rename(c, 1 * SEC + 22400); /* no REPLACED flag: a new name, or unknown */
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].message, "renamed to /srv/app/config.json while its data was "
					    "never fsynced (dirty for 22µs)");
		CHECK_STR(evidence(&found[0], "dirty_for"), "22400");
		ioh_correlator_free(c);
	}
	TEST_CASE("rename-unsynced-source: \"renamed over\" when the kernel saw the old file")
	{
		struct ioh_correlator *c = new_correlator(0, 0);
		struct ioh_event ev =
		    base_event(1 * SEC + 1400 * 1000000ull, IOH_EV_RENAME, 1000, "writer");

		feed_dirty(c, 1 * SEC, DEV, FILE_INO);
		ev.flags = IOH_EVF_RENAME_REPLACED;
		ev.rename.dfd = -100;
		ev.rename.identity = IOH_ID_KERNEL;
		ev.rename.src = file_id(DEV, FILE_INO, S_IFREG | 0644, EXT4_MAGIC);
		ev.rename.dst_dir = file_id(DEV, DIR_INO, S_IFDIR | 0755, EXT4_MAGIC);
		ev.rename.new_path = "/srv/app/config.json";
		ev.rename.old_path = "/srv/app/.config.json.tmp";
		ioh_correlator_feed(c, &ev);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].message, "renamed over /srv/app/config.json while its data was "
					    "never fsynced (dirty for 1.4s)");
		ioh_correlator_free(c);
	}
}

int main(void)
{
	char path[256];

	DEV = ioh_kdev_make(254, 0);
	OTHER_DEV = ioh_kdev_make(8, 1);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	rules = load_test_rules();
	TEST_CASE("test rules load")
	CHECK(rules != NULL);
	if (!rules)
		return check_summary();

	test_unsafe_rename();
	test_file_fsynced();
	test_correct_pattern();
	test_late_dir_fsync();
	test_sync_family();
	test_scope();
	test_losses();
	test_caps();
	test_resolve_timeout();
	test_stale_identity();
	test_inode_reuse();
	test_reload();
	test_default_rules();
	test_unsynced_message();

	ioh_ruleset_free(rules);
	snprintf(path, sizeof(path), "%s/test.rules", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return check_summary();
}
