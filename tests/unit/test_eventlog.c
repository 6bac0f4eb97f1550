// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recorded event files: every event type round-trips through a real (gzip) file, including
 * hostile strings; a replay reaches exactly the findings the live run reached; and damaged
 * input (truncated, malformed records, oversized lengths, garbage, another version) yields
 * the events before the damage and an error naming where it stopped, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "daemon/record/eventlog.h"
#include "daemon/record/replay.h"
#include "daemon/sinks/finding_format.h"
#include "daemon/util/fsnames.h"
#include "tests/unit/check.h"

#define SEC 1000000000ull
#define OFFSET_NS (1700000000ll * 1000000000ll) /* realtime - monotonic of the "live run" */

static char tmpdir[] = "/tmp/ioh-test-eventlog.XXXXXX";
static char file_path[256];

#include "tests/unit/event_equal.h"

static struct ioh_file_id fid(uint64_t ino, uint32_t mode)
{
	return (struct ioh_file_id){
	    .dev = ioh_kdev_make(254, 0), .mode = mode, .ino = ino, .fs_magic = 0xEF53};
}

static struct ioh_event mk(uint64_t ts, uint32_t type)
{
	struct ioh_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.type = type;
	ev.pid = 1000;
	ev.tid = 1001;
	ev.cgroup_id = 555;
	ev.cgroup = "/system.slice/app.service";
	strcpy(ev.comm, "writer");
	return ev;
}

/* One of each type, with strings that must survive: newlines, invalid UTF-8, absent. */
static unsigned sample_events(struct ioh_event *out)
{
	unsigned n = 0;
	struct ioh_event ev;

	ev = mk(1 * SEC, IOH_EV_INODE_DIRTY);
	ev.inode.file = fid(100, S_IFREG | 0644);
	ev.inode.file.gen = 0x12345678; /* version 2 */
	ev.inode.dirtied_ns = 1 * SEC - 5;
	out[n++] = ev;

	ev = mk(2 * SEC, IOH_EV_SYNC);
	ev.sync.kind = IOH_SYNC_FSYNC;
	ev.sync.ret = -EIO;
	ev.sync.fd = -1;
	ev.sync.file = fid(100, S_IFREG | 0644);
	ev.sync.duration_ns = 12345;
	ev.sync.path = "/srv/db/pg_wal/000000010000000000000001"; /* version 3 */
	ev.cgroup = NULL;
	out[n++] = ev;
	ev.sync.path = NULL;

	ev = mk(3 * SEC, IOH_EV_RENAME);
	ev.flags = IOH_EVF_PATH_TRUNCATED | IOH_EVF_RESOLVED_IN_USERSPACE;
	ev.rename.dfd = -100;
	ev.rename.rename_flags = 2;
	ev.rename.identity = IOH_ID_USERSPACE;
	ev.rename.src = fid(100, S_IFREG | 0644);
	ev.rename.src_btime_ns = 3 * SEC - 77; /* version 2 */
	ev.rename.dst_dir = fid(10, S_IFDIR | 0755);
	ev.rename.dst_dir.gen = 0xfffffffeu;
	ev.rename.new_path = "/srv/app/new\nline\xff\xfe name";
	ev.rename.old_path = "/srv/app/\x01tab\there \xc3\x28";
	strcpy(ev.comm, "c\x1b[31m\xff");
	out[n++] = ev;

	/* Version 4: a call chain snapshot and the rename that carries its key. */
	{
		static uint8_t stack[300];
		static struct ioh_stack_module mods[2] = {
		    {.start = 0x555500001000,
		     .end = 0x555500009000,
		     .pgoff = 0x1000,
		     .dev = 0x801,
		     .ino = 77,
		     .path = "/usr/bin/mv",
		     .build_id = {0xde, 0xad, 0xbe, 0xef},
		     .build_id_len = 4,
		     .vaddr = 0x1000,
		     .vaddr_known = true},
		    {.start = 0x7f0000028000,
		     .end = 0x7f00001bd000,
		     .pgoff = 0x28000,
		     .dev = 0x801,
		     .ino = 5,
		     .path = "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		};

		for (unsigned i = 0; i < sizeof(stack); i++)
			stack[i] = (uint8_t)(i * 7);
		ev = mk(3 * SEC + 1, IOH_EV_STACK);
		ev.callsite = ev.stack.callsite = 0xfeedfacecafe;
		ev.stack.pid = ev.pid;
		ev.stack.tid = ev.tid;
		for (int i = 0; i < IOH_STACK_NREGS; i++)
			ev.stack.regs[i] = 0x7ffc00000000ull + (uint64_t)i;
		ev.stack.regs_mask = (1u << IOH_STACK_NREGS) - 1;
		ev.stack.stack = stack;
		ev.stack.stack_len = sizeof(stack);
		ev.stack.modules = mods;
		ev.stack.n_modules = 2;
		ev.stack.process_gone = true;
		out[n++] = ev;
		ev = mk(3 * SEC + 2, IOH_EV_RENAME);
		ev.callsite = 0xfeedfacecafe;
		ev.rename.identity = IOH_ID_KERNEL;
		ev.rename.new_path = "/srv/app/cfg";
		out[n++] = ev;
	}

	ev = mk(4 * SEC, IOH_EV_RENAME);
	ev.rename.identity = IOH_ID_NONE;
	ev.rename.new_path = NULL;
	ev.rename.old_path = "";
	out[n++] = ev;

	ev = mk(5 * SEC, IOH_EV_INODE_CLEAN);
	ev.inode.file = fid(100, S_IFREG | 0644);
	ev.inode.dirtied_ns = 1 * SEC;
	out[n++] = ev;

	ev = mk(6 * SEC, IOH_EV_LOSS);
	ev.loss.where = IOH_LOSS_USER_STRING;
	ev.loss.count = UINT64_MAX;
	ev.loss.since_ns = 5 * SEC;
	out[n++] = ev;

	ev = mk(7 * SEC, IOH_EV_SYNC);
	ev.sync.kind = IOH_SYNC_SYNC;
	out[n++] = ev;

	ev = mk(UINT64_MAX, IOH_EV_END);
	out[n++] = ev;
	return n;
}

static int write_events(const char *path, int64_t offset, const struct ioh_event *evs, unsigned n)
{
	struct ioh_eventlog_writer *w;
	int r = ioh_eventlog_create(path, offset, IOH_EVENTLOG_REPLACE, &w);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < n && r == 0; i++)
		r = ioh_eventlog_write(w, &evs[i]);
	if (ioh_eventlog_close(w) < 0 && r == 0)
		r = -EIO;
	return r;
}

/* Reads every event; returns how many matched `expect` in order, -1 on open failure. The
 * final read's result and error are left in *last and err. */
static int read_back(const char *path, const struct ioh_event *expect, unsigned n, int *last,
		     char *err, size_t errlen)
{
	struct ioh_eventlog_reader *r;
	struct ioh_event ev;
	int matched = 0, rc;

	err[0] = '\0';
	if (ioh_eventlog_open(path, &r, err, errlen) < 0)
		return -1;
	while ((rc = ioh_eventlog_read(r, &ev)) > 0) {
		if ((unsigned)matched < n && events_equal(&ev, &expect[matched]))
			matched++;
		else
			matched = -1000;
	}
	*last = rc;
	snprintf(err, errlen, "%s", ioh_eventlog_error(r));
	ioh_eventlog_close_reader(r);
	return matched;
}

static void test_round_trip(void)
{
	TEST_CASE("every event type round-trips through a file")
	{
		struct ioh_event evs[16];
		unsigned n = sample_events(evs);
		struct ioh_eventlog_reader *r;
		char err[256];
		int last;

		CHECK_INT(write_events(file_path, -OFFSET_NS, evs, n), 0);
		CHECK_INT(read_back(file_path, evs, n, &last, err, sizeof(err)), n);
		CHECK_INT(last, 0);
		CHECK_STR(err, "");
		CHECK_INT(ioh_eventlog_open(file_path, &r, err, sizeof(err)), 0);
		CHECK_INT(ioh_eventlog_realtime_offset(r), -OFFSET_NS);
		ioh_eventlog_close_reader(r);
	}

	TEST_CASE("payload: unknown type is -ENOMSG, trailing bytes -EBADMSG")
	{
		uint8_t buf[IOH_EVENTLOG_RECORD_MAX];
		struct ioh_event ev = mk(1, 77), out;
		int n = ioh_eventlog_encode_payload(&ev, buf, sizeof(buf));

		CHECK(n > 0);
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), -ENOMSG);
		ev = mk(1, IOH_EV_END);
		n = ioh_eventlog_encode_payload(&ev, buf, sizeof(buf));
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), 0);
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n + 1, &out), -EBADMSG);
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n - 1, &out), -EBADMSG);
		CHECK_INT(ioh_eventlog_decode_payload(buf, 0, &out), -EBADMSG);
	}

	TEST_CASE("payload: out-of-range enums and embedded NULs are -EBADMSG")
	{
		uint8_t buf[IOH_EVENTLOG_RECORD_MAX];
		struct ioh_event ev = mk(1, IOH_EV_SYNC), out;
		int n;

		ev.sync.kind = IOH_SYNC_SYNC + 1;
		n = ioh_eventlog_encode_payload(&ev, buf, sizeof(buf));
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), -EBADMSG);
		ev = mk(1, IOH_EV_LOSS);
		ev.loss.where = IOH_LOSS__MAX;
		n = ioh_eventlog_encode_payload(&ev, buf, sizeof(buf));
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), -EBADMSG);
		ev = mk(1, IOH_EV_RENAME);
		ev.rename.identity = IOH_ID_USERSPACE + 1;
		n = ioh_eventlog_encode_payload(&ev, buf, sizeof(buf));
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), -EBADMSG);

		/* cgroup "ab": header (48 bytes) then u16 3, 'a' 'b' NUL. Make it 'a' NUL NUL. */
		ev = mk(1, IOH_EV_END);
		ev.cgroup = "ab";
		n = ioh_eventlog_encode_payload(&ev, buf, sizeof(buf));
		CHECK_INT(n, 48 + 2 + 3);
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), 0);
		CHECK_STR(out.cgroup, "ab");
		buf[48 + 2 + 1] = '\0';
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), -EBADMSG);
		buf[48 + 2 + 1] = 'b';
		buf[48 + 2 + 2] = 'c'; /* unterminated */
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)n, &out), -EBADMSG);
	}

	TEST_CASE("payload: malformed STACK events are -EBADMSG")
	{
		static uint8_t buf[IOH_EVENTLOG_RECORD_MAX];
		struct ioh_event evs[16], out;
		unsigned n = sample_events(evs), i;
		int len;

		for (i = 0; i < n && evs[i].type != IOH_EV_STACK; i++)
			;
		CHECK(i < n);
		if (i == n)
			break;
		len = ioh_eventlog_encode_payload(&evs[i], buf, sizeof(buf));
		CHECK(len > 0);
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)len, &out), 0);
		CHECK(events_equal(&out, &evs[i]));
		CHECK(out.stack.modules[0].vaddr_known && !out.stack.modules[1].vaddr_known);
		/* Every cut is refused, never read past. */
		for (int cut = 0; cut < len; cut += 7)
			CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)cut, &out), -EBADMSG);
		evs[i].stack.stack_len = IOH_STACK_BYTES_MAX + 1;
		{
			static uint8_t big[IOH_STACK_BYTES_MAX + 1];

			evs[i].stack.stack = big;
			len = ioh_eventlog_encode_payload(&evs[i], buf, sizeof(buf));
			CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)len, &out), -EBADMSG);
		}
		evs[i].stack.stack_len = 0;
		evs[i].stack.callsite = 0; /* a snapshot without its key */
		len = ioh_eventlog_encode_payload(&evs[i], buf, sizeof(buf));
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)len, &out), -EBADMSG);
		evs[i].stack.callsite = 9;
		evs[i].stack.n_modules = 1;
		len = ioh_eventlog_encode_payload(&evs[i], buf, sizeof(buf));
		CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)len, &out), 0);
		/* The module count is just before the first module: more than recorded. */
		{
			uint32_t count_at = (uint32_t)len -
					    (5 * 8 + 1 + IOH_STACK_BUILD_ID_MAX + 2 + 8 + 2 +
					     (uint32_t)strlen("/usr/bin/mv") + 1) -
					    2;

			CHECK_INT(buf[count_at], 1);
			buf[count_at] = 2;
			CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)len, &out), -EBADMSG);
			buf[count_at] = 0xff;
			buf[count_at + 1] = 0xff; /* beyond IOH_STACK_MODULES_MAX */
			CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)len, &out), -EBADMSG);
			buf[count_at] = 1;
			buf[count_at + 1] = 0;
			buf[count_at + 2 + 40] = IOH_STACK_BUILD_ID_MAX + 1; /* build id length */
			CHECK_INT(ioh_eventlog_decode_payload(buf, (uint32_t)len, &out), -EBADMSG);
		}
	}

	TEST_CASE("encode: too big is -E2BIG")
	{
		static uint8_t buf[IOH_EVENTLOG_RECORD_MAX];
		static char huge[70000];
		struct ioh_event ev = mk(1, IOH_EV_RENAME);

		memset(huge, 'x', sizeof(huge) - 1);
		ev.rename.new_path = huge;
		CHECK_INT(ioh_eventlog_encode_payload(&ev, buf, sizeof(buf)), -E2BIG);
		huge[40000] = '\0';
		ev.rename.old_path = huge;
		/* Each string fits its u16, both together exceed the record. */
		CHECK_INT(ioh_eventlog_encode_payload(&ev, buf, sizeof(buf)), -E2BIG);
		ev.rename.old_path = NULL;
		CHECK(ioh_eventlog_encode_payload(&ev, buf, sizeof(buf)) > 40000);
		CHECK_INT(ioh_eventlog_encode_payload(&ev, buf, 100), -E2BIG);
	}
}

/* ---- damaged files ---------------------------------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A file with the real header and then exactly `tail` bytes after `n` good records. */
static void write_raw(const char *path, uint32_t version, const struct ioh_event *evs, unsigned n,
		      const uint8_t *tail, size_t tail_len)
{
	static uint8_t buf[IOH_EVENTLOG_RECORD_MAX + 4];
	uint8_t header[24] = {0};
	gzFile gz = gzopen(path, "wb");

	memcpy(header, IOH_EVENTLOG_MAGIC, 8);
	put_le32(header + 8, version);
	if (!gz || gzwrite(gz, header, sizeof(header)) != (int)sizeof(header))
		abort();
	for (unsigned i = 0; i < n; i++) {
		int len = ioh_eventlog_encode_payload(&evs[i], buf + 4, IOH_EVENTLOG_RECORD_MAX);

		if (len < 0)
			abort();
		put_le32(buf, (uint32_t)len);
		if (gzwrite(gz, buf, (unsigned)len + 4) != len + 4)
			abort();
	}
	if (tail_len && gzwrite(gz, tail, (unsigned)tail_len) != (int)tail_len)
		abort();
	gzclose(gz);
}

static void write_plain(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

/* ---- the previous format version ------------------------------------------------------- */

struct le {
	uint8_t b[512];
	size_t n;
};

static void le_put(struct le *o, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		o->b[o->n++] = (uint8_t)(v >> (8 * i));
}

static void le_str(struct le *o, const char *s)
{
	size_t n = strlen(s) + 1;

	le_put(o, n, 2);
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

/* The common part of every version-1 record. */
static void v1_head(struct le *o, uint16_t type, uint64_t ts)
{
	char comm[IOH_COMM_LEN] = "writer";

	le_put(o, type, 2);
	le_put(o, 0, 2);
	le_put(o, 0, 4); /* flags */
	le_put(o, ts, 8);
	le_put(o, 1000, 4); /* pid */
	le_put(o, 1000, 4); /* tid */
	le_put(o, 0, 8);    /* cgroup id */
	memcpy(o->b + o->n, comm, sizeof(comm));
	o->n += sizeof(comm);
	le_put(o, 0, 2); /* no cgroup path */
}

/* A version-1 file id: dev, mode, ino, magic; no generation. */
static void v1_file(struct le *o, uint64_t ino, uint32_t mode)
{
	le_put(o, ioh_kdev_make(254, 0), 4);
	le_put(o, mode, 4);
	le_put(o, ino, 8);
	le_put(o, 0xEF53, 4);
}

static void test_previous_version(void)
{
	TEST_CASE("a version-1 recording reads, with generation and birth time 0")
	{
		uint8_t header[24] = {0};
		struct le dirty = {0}, rename = {0};
		struct ioh_eventlog_reader *r;
		struct ioh_event ev;
		char err[256];
		gzFile gz;

		v1_head(&dirty, IOH_EV_INODE_DIRTY, 1 * SEC);
		v1_file(&dirty, 100, S_IFREG | 0644);
		le_put(&dirty, 1 * SEC - 5, 8);
		v1_head(&rename, IOH_EV_RENAME, 2 * SEC);
		le_put(&rename, (uint32_t)-100, 4); /* dfd */
		le_put(&rename, 0, 4);		    /* flags */
		le_put(&rename, IOH_ID_KERNEL, 4);
		v1_file(&rename, 100, S_IFREG | 0644);
		v1_file(&rename, 10, S_IFDIR | 0755);
		le_str(&rename, "/srv/app/config.json");
		le_str(&rename, "/srv/app/config.json.tmp");

		memcpy(header, IOH_EVENTLOG_MAGIC, 8);
		put_le32(header + 8, 1);
		gz = gzopen(file_path, "wb");
		CHECK(gz != NULL);
		gzwrite(gz, header, sizeof(header));
		for (int i = 0; i < 2; i++) {
			struct le *rec = i ? &rename : &dirty;
			uint8_t len[4];

			put_le32(len, (uint32_t)rec->n);
			gzwrite(gz, len, 4);
			gzwrite(gz, rec->b, (unsigned)rec->n);
		}
		gzclose(gz);

		CHECK_INT(ioh_eventlog_open(file_path, &r, err, sizeof(err)), 0);
		CHECK_INT(ioh_eventlog_read(r, &ev), 1);
		CHECK_INT(ev.type, IOH_EV_INODE_DIRTY);
		CHECK_INT(ev.inode.file.ino, 100);
		CHECK_INT(ev.inode.file.fs_magic, 0xEF53);
		CHECK_INT(ev.inode.file.gen, 0);
		CHECK_INT(ev.inode.dirtied_ns, 1 * SEC - 5);
		CHECK_INT(ioh_eventlog_read(r, &ev), 1);
		CHECK_INT(ev.type, IOH_EV_RENAME);
		CHECK_INT(ev.rename.src.ino, 100);
		CHECK_INT(ev.rename.src.gen, 0);
		CHECK_INT(ev.rename.dst_dir.ino, 10);
		CHECK_INT(ev.rename.src_btime_ns, 0);
		CHECK_STR(ev.rename.new_path, "/srv/app/config.json");
		CHECK_STR(ev.rename.old_path, "/srv/app/config.json.tmp");
		CHECK_INT(ioh_eventlog_read(r, &ev), 0);
		ioh_eventlog_close_reader(r);

		/* The same bytes are not a valid version-2 payload (fields missing). */
		CHECK_INT(ioh_eventlog_decode_payload(rename.b, (uint32_t)rename.n, &ev), -EBADMSG);
		CHECK_INT(ioh_eventlog_decode_payload_version(rename.b, (uint32_t)rename.n, 1, &ev),
			  0);
	}
}

static void test_damage(void)
{
	struct ioh_event evs[16];
	unsigned n = sample_events(evs) - 1; /* without END */
	char err[256];
	int last;

	TEST_CASE("record cut short: events before it, then the error names it")
	{
		uint8_t tail[4 + 10] = {0};

		put_le32(tail, 100); /* claims 100 bytes, has 10 */
		write_raw(file_path, IOH_EVENTLOG_VERSION, evs, 3, tail, sizeof(tail));
		CHECK_INT(read_back(file_path, evs, n, &last, err, sizeof(err)), 3);
		CHECK_INT(last, -EBADMSG);
		CHECK_STR(err, "truncated after record 3");

		write_raw(file_path, IOH_EVENTLOG_VERSION, evs, 2, tail, 2); /* half a length */
		CHECK_INT(read_back(file_path, evs, n, &last, err, sizeof(err)), 2);
		CHECK_INT(last, -EBADMSG);
		CHECK_STR(err, "truncated after record 2");
	}

	TEST_CASE("malformed record and oversized length are named")
	{
		uint8_t tail[4 + 200];
		struct ioh_event bad = mk(1, IOH_EV_SYNC);
		int len;

		bad.sync.kind = 99;
		len = ioh_eventlog_encode_payload(&bad, tail + 4, sizeof(tail) - 4);
		put_le32(tail, (uint32_t)len);
		write_raw(file_path, IOH_EVENTLOG_VERSION, evs, 4, tail, (size_t)len + 4);
		CHECK_INT(read_back(file_path, evs, n, &last, err, sizeof(err)), 4);
		CHECK_INT(last, -EBADMSG);
		CHECK_STR(err, "record 5: malformed");

		put_le32(tail, IOH_EVENTLOG_RECORD_MAX + 1);
		write_raw(file_path, IOH_EVENTLOG_VERSION, evs, 1, tail, 4);
		CHECK_INT(read_back(file_path, evs, n, &last, err, sizeof(err)), 1);
		CHECK_INT(last, -EBADMSG);
		CHECK_STR(err, "record 2: length 65537 exceeds the limit of 65536 bytes");
	}

	TEST_CASE("records of an unknown type are skipped")
	{
		uint8_t tail[4 + 200];
		struct ioh_event future = mk(1, 42);
		int len = ioh_eventlog_encode_payload(&future, tail + 4, sizeof(tail) - 4);

		put_le32(tail, (uint32_t)len);
		write_raw(file_path, IOH_EVENTLOG_VERSION, evs, 2, tail, (size_t)len + 4);
		CHECK_INT(read_back(file_path, evs, n, &last, err, sizeof(err)), 2);
		CHECK_INT(last, 0);
	}

	TEST_CASE("compressed stream cut in the middle")
	{
		static struct ioh_event many[400];
		static uint8_t bytes[1 << 20];
		FILE *f;
		size_t size;
		int got;

		for (unsigned i = 0; i < 400; i++) {
			many[i] = evs[i % n];
			many[i].ts_ns = i;
		}
		CHECK_INT(write_events(file_path, 0, many, 400), 0);
		f = fopen(file_path, "rb");
		size = fread(bytes, 1, sizeof(bytes), f);
		fclose(f);
		write_plain(file_path, bytes, size * 2 / 3);
		got = read_back(file_path, many, 400, &last, err, sizeof(err));
		/* zlib hands out what it could inflate; the rest is lost, and said so. */
		CHECK(got >= 0 && got < 400);
		CHECK_INT(last, -EBADMSG);
		CHECK(strncmp(err, "truncated after record ", 23) == 0);
		CHECK_INT(strtol(err + 23, NULL, 10), got);
	}

	TEST_CASE("garbage, empty, missing file and another version")
	{
		struct ioh_eventlog_reader *r = NULL;
		char expect[512];

		write_plain(file_path, "this is not a recording at all, just text\n", 42);
		CHECK_INT(ioh_eventlog_open(file_path, &r, err, sizeof(err)), -EBADMSG);
		snprintf(expect, sizeof(expect), "%s: not an iohazard event recording (bad header)",
			 file_path);
		CHECK_STR(err, expect);
		write_plain(file_path, "", 0);
		CHECK_INT(ioh_eventlog_open(file_path, &r, err, sizeof(err)), -EBADMSG);
		CHECK_STR(err, expect);

		write_raw(file_path, IOH_EVENTLOG_VERSION + 1, evs, 2, NULL, 0);
		CHECK_INT(ioh_eventlog_open(file_path, &r, err, sizeof(err)), -EPROTONOSUPPORT);
		snprintf(expect, sizeof(expect),
			 "%s: recording format version %d, this build reads 1 to %d", file_path,
			 IOH_EVENTLOG_VERSION + 1, IOH_EVENTLOG_VERSION);
		CHECK_STR(err, expect);
		write_raw(file_path, 0, evs, 2, NULL, 0);
		CHECK_INT(ioh_eventlog_open(file_path, &r, err, sizeof(err)), -EPROTONOSUPPORT);

		unlink(file_path);
		CHECK_INT(ioh_eventlog_open(file_path, &r, err, sizeof(err)), -ENOENT);
		CHECK(strstr(err, "cannot open") != NULL);
		CHECK(r == NULL);
	}
}

/* ---- replay vs live ----------------------------------------------------------------------- */

struct collected {
	char *lines[64];
	unsigned n;
};

static void collect(struct collected *c, const struct ioh_finding *f, int64_t offset)
{
	struct strbuf sb;

	strbuf_init(&sb);
	ioh_finding_json(f, offset, &sb);
	if (c->n < 64)
		c->lines[c->n++] = strdup(sb.buf);
	strbuf_free(&sb);
}

static void on_live(const struct ioh_finding *f, void *ctx)
{
	collect(ctx, f, OFFSET_NS);
}

static void on_replay(const struct ioh_finding *f, int64_t offset, void *ctx)
{
	collect(ctx, f, offset);
}

static void collected_free(struct collected *c)
{
	for (unsigned i = 0; i < c->n; i++)
		free(c->lines[i]);
	c->n = 0;
}

/* A workload: unsafe writes, a correct one, a late one, a loss, hostile names. */
static unsigned workload(struct ioh_event *out)
{
	unsigned n = 0;
	struct ioh_event ev;

	for (int i = 0; i < 3; i++) {
		uint64_t t = (uint64_t)(10 + 10 * i) * SEC;

		ev = mk(t, IOH_EV_INODE_DIRTY);
		ev.inode.file = fid(100 + i, S_IFREG | 0644);
		out[n++] = ev;
		if (i > 0) {
			ev = mk(t + 1, IOH_EV_SYNC);
			ev.sync.kind = IOH_SYNC_FSYNC;
			ev.sync.file = fid(100 + i, S_IFREG | 0644);
			out[n++] = ev;
		}
		ev = mk(t + 2, IOH_EV_RENAME);
		ev.rename.identity = IOH_ID_KERNEL;
		ev.rename.src = fid(100 + i, S_IFREG | 0644);
		ev.rename.dst_dir = fid(10 + i, S_IFDIR | 0755);
		ev.rename.new_path = i == 0 ? "/srv/a/new\nname\xff" : "/srv/b/x.json";
		ev.rename.old_path = "/srv/a/.tmp";
		out[n++] = ev;
		if (i == 1) { /* the correct pattern */
			ev = mk(t + 3, IOH_EV_SYNC);
			ev.sync.kind = IOH_SYNC_FSYNC;
			ev.sync.file = fid(10 + i, S_IFDIR | 0755);
			out[n++] = ev;
		}
	}
	ev = mk(31 * SEC, IOH_EV_LOSS);
	ev.loss.where = IOH_LOSS_RINGBUF_SYNC;
	ev.loss.count = 2;
	out[n++] = ev;
	/* A rename whose window is still open when the recording ends. */
	ev = mk(40 * SEC, IOH_EV_RENAME);
	ev.rename.identity = IOH_ID_KERNEL;
	ev.rename.dst_dir = fid(50, S_IFDIR | 0755);
	ev.rename.new_path = "/srv/open/window";
	out[n++] = ev;
	ev = mk(41 * SEC, IOH_EV_END); /* the live correlator's clock at the end */
	out[n++] = ev;
	return n;
}

static void test_replay(void)
{
	static const char rules_text[] = "[rule rename-without-dir-fsync]\n"
					 "severity = warning\n"
					 "window = 5s\n"
					 "[rule rename-unsynced-source]\n"
					 "severity = notice\n";
	struct ioh_rules_errors errs = {0};
	struct ioh_ruleset *rs = NULL;

	CHECK_INT(ioh_rules_load_buffer("t.rules", rules_text, strlen(rules_text), &rs, &errs), 0);
	ioh_rules_errors_free(&errs);
	if (!rs)
		return;

	TEST_CASE("replay reaches exactly the live findings")
	{
		struct ioh_event evs[32];
		unsigned n = workload(evs);
		struct collected live = {0}, replayed = {0};
		struct ioh_correlator *c = ioh_correlator_new(NULL, rs, on_live, &live);
		struct ioh_stacks *stacks = ioh_stacks_new(0); /* as the daemon has */
		struct ioh_replay_result res;
		char err[256] = "";
		bool same;

		/* Live: the daemon feeds events and its timer advances; END marks the clock. */
		ioh_correlator_set_stacks(c, stacks);
		for (unsigned i = 0; i < n; i++) {
			ioh_correlator_feed(c, &evs[i]);
			ioh_correlator_advance(c, evs[i].ts_ns);
		}
		ioh_correlator_free(c);
		ioh_stacks_free(stacks);

		CHECK_INT(write_events(file_path, OFFSET_NS, evs, n), 0);
		CHECK_INT(ioh_replay_file(file_path, rs, NULL, on_replay, &replayed, &res, err,
					  sizeof(err)),
			  0);
		CHECK_STR(err, "");
		CHECK_INT(res.events, n);
		CHECK_INT(res.findings, replayed.n);
		CHECK_INT(res.stats.findings, replayed.n);
		CHECK_INT(res.stats.pending_renames, 1); /* /srv/open/window was still open */
		CHECK_INT(res.stats.lost[IOH_LOSS_RINGBUF_SYNC], 2);
		/* dir 0 (unsynced source + dir), dir 2 (dir only, degraded by the loss). */
		CHECK_INT(live.n, 3);
		CHECK_INT(replayed.n, live.n);
		same = replayed.n == live.n;
		for (unsigned i = 0; same && i < live.n; i++)
			same = strcmp(live.lines[i], replayed.lines[i]) == 0;
		CHECK(same);
		if (live.n == 3) {
			CHECK(strstr(live.lines[0], "\"rule\":\"rename-unsynced-source\"") != NULL);
			CHECK(strstr(live.lines[0], "\"path\":\"/srv/a/new\\nname\\ufffd\"") !=
			      NULL);
			CHECK(strstr(live.lines[0],
				     "\"time\":\"2023-11-14T22:13:30.000000002Z\"") != NULL);
			CHECK(strstr(live.lines[2], "\"confidence\":\"degraded\"") != NULL);
		}
		collected_free(&live);
		collected_free(&replayed);
	}

	TEST_CASE("replay of a recording without END stops at the last event")
	{
		struct ioh_event evs[32];
		unsigned n = workload(evs) - 1;
		struct collected replayed = {0};
		struct ioh_replay_result res;
		char err[256] = "";

		CHECK_INT(write_events(file_path, 0, evs, n), 0);
		CHECK_INT(ioh_replay_file(file_path, rs, NULL, on_replay, &replayed, &res, err,
					  sizeof(err)),
			  0);
		CHECK_INT(replayed.n, 3);
		CHECK_INT(res.stats.pending_renames, 1);
		collected_free(&replayed);
	}

	TEST_CASE("replay of a damaged recording reports findings before the damage")
	{
		struct ioh_event evs[32];
		unsigned n = workload(evs);
		uint8_t tail[4] = {0xff, 0xff, 0xff, 0x7f};
		struct collected replayed = {0};
		struct ioh_replay_result res;
		char err[256] = "", expect[512];

		/* Everything up to the first unsafe rename, then a bad length. */
		write_raw(file_path, IOH_EVENTLOG_VERSION, evs, 2, tail, sizeof(tail));
		CHECK_INT(ioh_replay_file(file_path, rs, NULL, on_replay, &replayed, &res, err,
					  sizeof(err)),
			  -EBADMSG);
		snprintf(expect, sizeof(expect),
			 "%s: record 3: length 2147483647 exceeds the limit of 65536 bytes",
			 file_path);
		CHECK_STR(err, expect);
		CHECK_INT(res.events, 2);
		/* The source verdict is immediate; the window stays open at the last event. */
		CHECK_INT(replayed.n, 1);
		CHECK_INT(res.stats.pending_renames, 1);
		collected_free(&replayed);
		(void)n;
	}

	TEST_CASE("replay of a missing file")
	{
		struct ioh_replay_result res;
		char err[256] = "";

		unlink(file_path);
		CHECK_INT(
		    ioh_replay_file(file_path, rs, NULL, on_replay, NULL, &res, err, sizeof(err)),
		    -ENOENT);
		CHECK(strstr(err, "cannot open") != NULL);
	}
	ioh_ruleset_free(rs);
}

/* The daemon writes recordings as root, often in /tmp (issue 12). */
static void test_create_safely(void)
{
	TEST_CASE("create: no symlink, no truncation, 0600, O_CLOEXEC, explicit replace")
	{
		char target[600], link[600], existing[600], buf[16] = "";
		struct ioh_eventlog_writer *w = NULL;
		struct stat st;
		FILE *f;
		int fd;

		snprintf(target, sizeof(target), "%s/secret", tmpdir);
		snprintf(link, sizeof(link), "%s/link.gz", tmpdir);
		snprintf(existing, sizeof(existing), "%s/existing.gz", tmpdir);
		f = fopen(target, "w");
		CHECK(f != NULL);
		if (!f)
			return;
		fputs("precious", f);
		fclose(f);
		CHECK_INT(symlink(target, link), 0);
		CHECK_INT(ioh_eventlog_create(link, 0, 0, &w), -EEXIST);
		CHECK_INT(ioh_eventlog_create(link, 0, IOH_EVENTLOG_REPLACE, &w), -EEXIST);
		f = fopen(target, "r");
		if (f) {
			CHECK(fgets(buf, sizeof(buf), f) != NULL);
			fclose(f);
		}
		CHECK_STR(buf, "precious");
		CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));

		f = fopen(existing, "w");
		if (f) {
			fputs("old", f);
			fclose(f);
		}
		CHECK_INT(ioh_eventlog_create(existing, 0, 0, &w), -EEXIST);
		CHECK(stat(existing, &st) == 0 && st.st_size == 3);
		CHECK_INT(ioh_eventlog_create(existing, 0, IOH_EVENTLOG_REPLACE, &w), 0);
		CHECK(stat(existing, &st) == 0 && (st.st_mode & 07777) == 0600);
		/* The recording's descriptor (found by its name) must be close-on-exec. */
		fd = -1;
		for (int i = 0; i < 1024 && fd < 0; i++) {
			char proc[64], name[600];
			ssize_t n;

			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", i);
			n = readlink(proc, name, sizeof(name) - 1);
			if (n > 0 && (name[n] = '\0', strcmp(name, existing) == 0))
				fd = i;
		}
		CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
		CHECK_INT(ioh_eventlog_close(w), 0);
		unlink(link);
		unlink(target);
		unlink(existing);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(file_path, sizeof(file_path), "%s/events.gz", tmpdir);
	test_round_trip();
	test_damage();
	test_previous_version();
	test_replay();
	test_create_safely();
	unlink(file_path);
	rmdir(tmpdir);
	return check_summary();
}
