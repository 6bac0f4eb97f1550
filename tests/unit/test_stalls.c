// SPDX-License-Identifier: GPL-2.0-only
/*
 * dirty-throttle-stall, splice-stall, writeback-mount, writeback-truncate-unsynced and
 * fsync-error-retried through the correlator with hand-made events (as replay feeds them),
 * and record/replay of the new event types (the mount table: test_mount_table.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"
#include "daemon/correlator/correlator.h"
#include "daemon/record/eventlog.h"

#define MS 1000000ULL
#define S 1000000000ULL
#define MAX_FOUND 32

struct found {
	char rule[64];
	char severity[16];
	uint32_t pid;
	char comm[16];
	char path[256];
	char message[512];
	char pattern[80];
	bool pipe_full;
};
static struct found found[MAX_FOUND];
static int n_found;

static void on_finding(const struct ioh_finding *f, void *ctx)
{
	struct found *c;

	if (n_found >= MAX_FOUND)
		return;
	c = &found[n_found++];
	memset(c, 0, sizeof(*c));
	snprintf(c->rule, sizeof(c->rule), "%s", f->rule);
	snprintf(c->severity, sizeof(c->severity), "%s", ioh_severity_to_string(f->severity));
	c->pid = f->pid;
	snprintf(c->comm, sizeof(c->comm), "%s", f->comm);
	snprintf(c->path, sizeof(c->path), "%s", f->path ? f->path : "");
	snprintf(c->message, sizeof(c->message), "%s", f->message);
	for (unsigned i = 0; i < f->n_evidence; i++) {
		if (strcmp(f->evidence[i].key, "pattern") == 0)
			snprintf(c->pattern, sizeof(c->pattern), "%s", f->evidence[i].str);
		if (strcmp(f->evidence[i].key, "pipe_full") == 0)
			c->pipe_full = f->evidence[i].b;
	}
}

static struct ioh_ruleset *rules;

static struct ioh_correlator *fresh(void)
{
	n_found = 0;
	return ioh_correlator_new(NULL, rules, on_finding, NULL);
}

static struct ioh_event ev_base(uint32_t type, uint64_t ts, uint32_t pid, const char *comm)
{
	struct ioh_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.ts_ns = ts;
	ev.pid = ev.tid = pid;
	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	return ev;
}

static struct ioh_event sync_ev(uint64_t ts, uint32_t pid, uint32_t kind, int ret, uint64_t ino)
{
	struct ioh_event ev = ev_base(IOH_EV_SYNC, ts, pid, "db");

	ev.sync.kind = kind;
	ev.sync.ret = ret;
	ev.sync.file.dev = 0x800001;
	ev.sync.file.ino = ino;
	ev.sync.file.mode = 0100644;
	ev.sync.file.fs_magic = 0xEF53;
	return ev;
}

static struct ioh_event throttle_ev(uint64_t ts, uint32_t pid, uint64_t pause_ms, uint64_t idle_ns)
{
	struct ioh_event ev = ev_base(IOH_EV_DIRTY_THROTTLE, ts, pid, "writer");

	snprintf(ev.throttle.bdi, sizeof(ev.throttle.bdi), "8:0");
	ev.throttle.pause_ns = pause_ms * MS;
	ev.throttle.limit = 1024;
	ev.throttle.setpoint = 768;
	ev.throttle.dirty = 800;
	ev.throttle.wb_setpoint = 700;
	ev.throttle.wb_dirty = 790;
	ev.throttle.task_ratelimit = 512;
	ev.throttle.bdi_idle_ns = idle_ns;
	return ev;
}

static void test_fsync_error_retried(void)
{
	TEST_CASE("fsync EIO then success on the same inode -> critical")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event e1 = sync_ev(1 * S, 42, IOH_SYNC_FSYNC, -EIO, 7),
				 e2 = sync_ev(2 * S, 42, IOH_SYNC_FSYNC, 0, 7);

		ioh_correlator_feed(c, &e1);
		CHECK_INT(n_found, 0);
		ioh_correlator_feed(c, &e2);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "fsync-error-retried");
		CHECK_STR(found[0].severity, "critical");
		CHECK_INT(found[0].pid, 42);
		CHECK(strstr(found[0].message, "EIO") != NULL);
		ioh_correlator_free(c);
	}
	TEST_CASE("fdatasync error then fsync success counts too; reported once")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event e1 = sync_ev(1 * S, 42, IOH_SYNC_FDATASYNC, -ENOSPC, 7),
				 e2 = sync_ev(2 * S, 42, IOH_SYNC_FSYNC, 0, 7),
				 e3 = sync_ev(3 * S, 42, IOH_SYNC_FSYNC, 0, 7);

		ioh_correlator_feed(c, &e1);
		ioh_correlator_feed(c, &e2);
		ioh_correlator_feed(c, &e3);
		CHECK_INT(n_found, 1);
		ioh_correlator_free(c);
	}
	TEST_CASE("negative controls: other inode, only errors, EINVAL, success only")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event evs[] = {
		    sync_ev(1 * S, 42, IOH_SYNC_FSYNC, -EIO, 7),
		    sync_ev(2 * S, 42, IOH_SYNC_FSYNC, 0, 8),	 /* another inode */
		    sync_ev(3 * S, 42, IOH_SYNC_FSYNC, -EIO, 7), /* still failing */
		    sync_ev(4 * S, 43, IOH_SYNC_FSYNC, -EINVAL, 9),
		    sync_ev(5 * S, 43, IOH_SYNC_FSYNC, 0, 9), /* EINVAL is not a lost write */
		    sync_ev(6 * S, 44, IOH_SYNC_FSYNC, 0, 10),
		};

		for (unsigned i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
			ioh_correlator_feed(c, &evs[i]);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}
}

static void test_dirty_throttle(void)
{
	TEST_CASE("pause below 50 ms: none; above: one, idle pattern")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event small = throttle_ev(1 * S, 5, 40, 0),
				 big = throttle_ev(2 * S, 5, 120, 0);

		ioh_correlator_feed(c, &small);
		CHECK_INT(n_found, 0);
		ioh_correlator_feed(c, &big);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "dirty-throttle-stall");
		CHECK_INT(found[0].pid, 5);
		CHECK_STR(found[0].pattern,
			  "first writes after idle writeback (bandwidth estimate decayed)");
		CHECK(strstr(found[0].message, "8:0") != NULL);
		ioh_correlator_free(c);
	}
	TEST_CASE("own fsync just before the pause -> sawtooth; busy device -> sustained")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event fs = sync_ev(10 * S, 5, IOH_SYNC_FSYNC, 0, 3);
		struct ioh_event t1 = throttle_ev(10 * S + 500 * MS, 5, 100, 100 * MS);
		struct ioh_event t2 = throttle_ev(20 * S, 6, 100, 100 * MS);

		ioh_correlator_feed(c, &fs);
		ioh_correlator_feed(c, &t1);
		ioh_correlator_feed(c, &t2);
		CHECK_INT(n_found, 2);
		CHECK_STR(found[0].pattern, "fsync-then-burst sawtooth");
		CHECK_STR(found[1].pattern, "sustained throttling");
		ioh_correlator_free(c);
	}
}

static struct ioh_event splice_ev(uint64_t ts, uint64_t dur_ms, uint32_t blocked)
{
	struct ioh_event ev = ev_base(IOH_EV_SPLICE_STALL, ts, 9, "proxy");

	ev.splice.call = IOH_SPLICE_CALL_SPLICE;
	ev.splice.blocked = blocked;
	ev.splice.duration_ns = dur_ms * MS;
	ev.splice.in.kind = IOH_END_FILE;
	ev.splice.in.file.ino = 11;
	ev.splice.in.file.fs_magic = 0xEF53;
	ev.splice.out.kind = IOH_END_PIPE;
	ev.splice.out.pipe_bytes = 65536;
	ev.splice.out.pipe_used = 16;
	ev.splice.path = "/srv/www/big.iso";
	return ev;
}

static void test_splice_stall(void)
{
	TEST_CASE("splice 150 ms into a full pipe -> finding; 90 ms -> none")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event fast = splice_ev(1 * S, 90, 0),
				 slow = splice_ev(2 * S, 150, IOH_SPLICE_PIPE_FULL);

		ioh_correlator_feed(c, &fast);
		CHECK_INT(n_found, 0);
		ioh_correlator_feed(c, &slow);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "splice-stall");
		CHECK_STR(found[0].path, "/srv/www/big.iso");
		CHECK(found[0].pipe_full);
		CHECK(strstr(found[0].message, "pipe (64 KiB") != NULL);
		ioh_correlator_free(c);
	}
}

static struct ioh_event mount_ev(uint64_t ts, uint32_t flags, const char *mp)
{
	struct ioh_event ev = ev_base(IOH_EV_MOUNT, ts, 0, "");

	ev.mount.mnt_id = 77;
	ev.mount.dev = 0x700001;
	ev.mount.flags = flags;
	ev.mount.mount_point = mp;
	ev.mount.fstype = "ext4";
	ev.mount.source = "/dev/loop1";
	ev.mount.options = "rw,data=writeback";
	return ev;
}

static struct ioh_event truncate_ev(uint64_t ts, uint64_t ino)
{
	struct ioh_event ev = ev_base(IOH_EV_TRUNCATE, ts, 21, "app");

	ev.truncate.file.dev = 0x700001;
	ev.truncate.file.ino = ino;
	ev.truncate.file.mode = 0100644;
	ev.truncate.file.fs_magic = 0xEF53;
	ev.truncate.path = "/conf/state.json";
	return ev;
}

static struct ioh_event dirty_ev(uint64_t ts, uint64_t ino)
{
	struct ioh_event ev = ev_base(IOH_EV_INODE_DIRTY, ts, 21, "app");

	ev.inode.file.dev = 0x700001;
	ev.inode.file.ino = ino;
	ev.inode.file.mode = 0100644;
	return ev;
}

static void test_writeback(void)
{
	TEST_CASE("data=writeback mount: one finding, not per scan; fixed then back: again")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event m1 = mount_ev(1 * S, IOH_MNT_DATA_WRITEBACK, "/srv"),
				 m2 = mount_ev(2 * S, IOH_MNT_DATA_WRITEBACK, "/srv"),
				 fixed = mount_ev(3 * S, 0, "/srv"),
				 back = mount_ev(4 * S, IOH_MNT_DATA_WRITEBACK, "/srv");

		ioh_correlator_feed(c, &m1);
		ioh_correlator_feed(c, &m2);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "writeback-mount");
		CHECK_STR(found[0].path, "/srv");
		CHECK_INT(found[0].pid, 0);
		CHECK_STR(found[0].comm, "");
		ioh_correlator_feed(c, &fixed);
		ioh_correlator_feed(c, &back);
		CHECK_INT(n_found, 2);
		ioh_correlator_free(c);
	}
	TEST_CASE("truncate + rewrite without fsync -> finding after the window; with fsync none")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event m = mount_ev(1 * S, IOH_MNT_DATA_WRITEBACK, "/srv");
		struct ioh_event t1 = truncate_ev(2 * S, 100), d1 = dirty_ev(2 * S + MS, 100);
		struct ioh_event t2 = truncate_ev(2 * S, 200), d2 = dirty_ev(2 * S + MS, 200);
		struct ioh_event s2 = sync_ev(3 * S, 21, IOH_SYNC_FSYNC, 0, 200);

		s2.sync.file.dev = 0x700001;
		ioh_correlator_feed(c, &m);
		n_found = 0;
		ioh_correlator_feed(c, &t1);
		ioh_correlator_feed(c, &d1);
		ioh_correlator_feed(c, &t2);
		ioh_correlator_feed(c, &d2);
		ioh_correlator_feed(c, &s2);
		ioh_correlator_advance(c, 6 * S);
		CHECK_INT(n_found, 0);
		ioh_correlator_advance(c, 8 * S);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].rule, "writeback-truncate-unsynced");
		CHECK_STR(found[0].path, "/srv/conf/state.json");
		CHECK_INT(found[0].pid, 21);
		ioh_correlator_free(c);
	}
	TEST_CASE("truncate through a bind mount (IOH_EVF_PATH_MOUNTED): its path and mount")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event m = mount_ev(1 * S, IOH_MNT_DATA_WRITEBACK, "/srv");
		struct ioh_event b = mount_ev(1 * S, IOH_MNT_DATA_WRITEBACK, "/srv/b");
		struct ioh_event t = truncate_ev(2 * S, 100), d = dirty_ev(2 * S + MS, 100);

		b.mount.mnt_id = 78; /* /srv/b: a bind mount of /srv's "/conf" */
		t.truncate.path = "/srv/b/state.json";
		t.flags |= IOH_EVF_PATH_MOUNTED;
		ioh_correlator_feed(c, &m);
		ioh_correlator_feed(c, &b);
		n_found = 0;
		ioh_correlator_feed(c, &t);
		ioh_correlator_feed(c, &d);
		ioh_correlator_advance(c, 8 * S);
		CHECK_INT(n_found, 1);
		CHECK_STR(found[0].path, "/srv/b/state.json");
		CHECK(strstr(found[0].message, "data=writeback mount /srv/b ") != NULL);
		ioh_correlator_free(c);
	}
	TEST_CASE("truncate without a data=writeback mount, or never rewritten -> none")
	{
		struct ioh_correlator *c = fresh();
		struct ioh_event t1 = truncate_ev(2 * S, 100), d1 = dirty_ev(2 * S + MS, 100);
		struct ioh_event m = mount_ev(3 * S, IOH_MNT_DATA_WRITEBACK, "/srv");
		struct ioh_event t2 = truncate_ev(4 * S, 300);

		ioh_correlator_feed(c, &t1);
		ioh_correlator_feed(c, &d1);
		ioh_correlator_feed(c, &m);
		n_found = 0;
		ioh_correlator_feed(c, &t2);
		ioh_correlator_advance(c, 60 * S);
		CHECK_INT(n_found, 0);
		ioh_correlator_free(c);
	}
}

static void test_record_roundtrip(void)
{
	TEST_CASE("new event types survive encode/decode")
	{
		uint8_t buf[IOH_EVENTLOG_RECORD_MAX];
		struct ioh_event in[4], out;

		in[0] = throttle_ev(1 * S, 5, 120, 3 * S);
		in[0].throttle.page_cgroup = "/system.slice/noisy.service";
		in[1] = splice_ev(2 * S, 150, IOH_SPLICE_PIPE_FULL);
		in[2] = truncate_ev(3 * S, 100);
		in[3] = mount_ev(4 * S, IOH_MNT_DATA_WRITEBACK, "/srv");
		for (int i = 0; i < 4; i++) {
			int n = ioh_eventlog_encode_payload(&in[i], buf, sizeof(buf));

			CHECK(n > 0);
			CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), 0);
			CHECK_INT(out.type, in[i].type);
			CHECK_INT(out.ts_ns, in[i].ts_ns);
		}
		{
			int n = ioh_eventlog_encode_payload(&in[0], buf, sizeof(buf));

			ioh_eventlog_decode_payload(buf, (uint32_t)n, &out);
			CHECK_STR(out.throttle.bdi, "8:0");
			CHECK_INT(out.throttle.pause_ns, 120 * MS);
			CHECK_STR(out.throttle.page_cgroup, "/system.slice/noisy.service");
			n = ioh_eventlog_encode_payload(&in[1], buf, sizeof(buf));
			ioh_eventlog_decode_payload(buf, (uint32_t)n, &out);
			CHECK_STR(out.splice.path, "/srv/www/big.iso");
			CHECK_INT(out.splice.out.pipe_bytes, 65536);
			n = ioh_eventlog_encode_payload(&in[3], buf, sizeof(buf));
			ioh_eventlog_decode_payload(buf, (uint32_t)n, &out);
			CHECK_STR(out.mount.mount_point, "/srv");
			CHECK_INT(out.mount.flags, IOH_MNT_DATA_WRITEBACK);
			/* A truncated payload is malformed, never read past. */
			CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n - 3, &out),
				  -EBADMSG);
		}
	}
}

int main(void)
{
	struct ioh_rules_errors errs = {0};
	const char *src = getenv("IOH_SRC");
	char path[4096], text[16384];
	size_t len;
	FILE *f;

	/* The shipped rules, so the defaults (50 ms, 100 ms, 5 s, critical) are what is tested. */
	snprintf(path, sizeof(path), "%s/rules/10-default.rules", src ? src : ".");
	f = fopen(path, "r");
	if (!f) {
		printf("not ok - cannot read %s\n", path);
		return 1;
	}
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	if (ioh_rules_load_buffer("10-default.rules", text, len, &rules, &errs) < 0) {
		printf("not ok - default rules do not load\n");
		return 1;
	}
	test_fsync_error_retried();
	test_dirty_throttle();
	test_splice_stall();
	test_writeback();
	test_record_roundtrip();
	ioh_ruleset_free(rules);
	return check_summary();
}
