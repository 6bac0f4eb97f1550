// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel records (bpf/iohazard.h) built by hand in the packed layout of ABI 2, decoded into
 * events: paths rebuilt from leaf-first directory components, absolute and relative names, the
 * truncation mark, and every malformed length, string and identity the decoder must refuse
 * with -EBADMSG instead of reading out of bounds. Records are decoded with exactly hdr.size
 * bytes. Unknown types are -ENOMSG so a newer kernel side can be skipped.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "daemon/ingest/decode.h"
#include "daemon/ingest/resolve.h"
#include "daemon/util/fsnames.h"
#include "tests/unit/check.h"

/*
 * A rename record as the BPF side builds it: the struct, then room for the worst case. Only
 * hdr.size bytes are a record: the base directory, old and new names packed back to back.
 */
struct rename_rec {
	struct ioh_rename_event ev;
	char strings[IOH_RENAME_STRINGS_MAX];
};

_Static_assert(offsetof(struct rename_rec, strings) == sizeof(struct ioh_rename_event),
	       "the strings follow the struct directly");

static struct ioh_decode_scratch scratch;
static uint32_t DEV;

static void fill_hdr(struct ioh_event_hdr *h, uint16_t type, size_t size)
{
	h->type = type;
	h->size = (uint16_t)size;
	h->flags = 0;
	h->pid = 4242;
	h->tid = 4243;
	h->ts_ns = 123456789;
	h->cgroup_id = 77;
	memcpy(h->comm, "mv\0garbage-after", IOH_COMM_LEN);
}

static struct ioh_file_id fid(uint64_t ino, uint32_t mode)
{
	return (struct ioh_file_id){.dev = DEV, .mode = mode, .ino = ino, .fs_magic = 0xEF53};
}

static void init_rename(struct rename_rec *r)
{
	memset(r, 0, sizeof(*r));
	fill_hdr(&r->ev.hdr, IOH_EV_RENAME, sizeof(r->ev));
	r->ev.dfd = -100;
	r->ev.identity = IOH_ID_NONE;
}

/* The record's size from its lengths, as the BPF side sets it. */
static void set_size(struct rename_rec *r)
{
	r->ev.hdr.size = (uint16_t)(sizeof(r->ev) + r->ev.base_path_len + r->ev.old_name_len +
				    r->ev.new_name_len);
}

/* Components given leaf first, as the kernel writes them. Before set_names(). */
static void set_base(struct rename_rec *r, const char *const *leaf_first, unsigned n)
{
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(leaf_first[i]) + 1;

		memcpy(r->strings + off, leaf_first[i], l);
		off += l;
	}
	r->ev.base_path_len = (uint16_t)off;
	r->ev.base_components = (uint16_t)n;
	r->ev.base_dir = fid(10, S_IFDIR | 0755);
	set_size(r);
}

/* The names right after the base directory, the new one right after the old one. */
static char *old_at(struct rename_rec *r)
{
	return r->strings + r->ev.base_path_len;
}

static char *new_at(struct rename_rec *r)
{
	return r->strings + r->ev.base_path_len + r->ev.old_name_len;
}

static void set_names(struct rename_rec *r, const char *old_name, const char *new_name)
{
	r->ev.old_name_len = 0;
	if (old_name) {
		strcpy(old_at(r), old_name);
		r->ev.old_name_len = (uint16_t)(strlen(old_name) + 1);
	}
	r->ev.new_name_len = 0;
	if (new_name) {
		strcpy(new_at(r), new_name);
		r->ev.new_name_len = (uint16_t)(strlen(new_name) + 1);
	}
	set_size(r);
}

static int decode(const void *rec, size_t len, struct ioh_event *ev)
{
	return ioh_decode_record(rec, len, ev, &scratch);
}

/* Decode a record from an allocation of exactly hdr.size bytes (a tool like valgrind or ASan
 * then sees any read past it). */
static int decode_exact(const void *rec, struct ioh_event *ev)
{
	size_t size = ((const struct ioh_event_hdr *)rec)->size;
	void *copy = malloc(size);
	int ret;

	if (!copy)
		abort();
	memcpy(copy, rec, size);
	ret = decode(copy, size, ev);
	free(copy);
	return ret;
}

static const char *const srv_app[] = {"app", "srv"};

static void test_rename_paths(void)
{
	static struct rename_rec r;
	struct ioh_event ev;

	TEST_CASE("rename: absolute names, kernel identity")
	{
		init_rename(&r);
		r.ev.identity = IOH_ID_KERNEL;
		r.ev.src = fid(100, S_IFREG | 0644);
		r.ev.dst_dir = fid(10, S_IFDIR | 0755);
		r.ev.rename_flags = 1;
		set_names(&r, "/srv/app/.config.tmp", "/srv/app/config.json");
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_INT(ev.type, IOH_EV_RENAME);
		CHECK_INT(ev.ts_ns, 123456789);
		CHECK_INT(ev.pid, 4242);
		CHECK_INT(ev.tid, 4243);
		CHECK_INT(ev.cgroup_id, 77);
		CHECK_STR(ev.comm, "mv");
		CHECK(ev.cgroup == NULL);
		CHECK_INT(ev.rename.dfd, -100);
		CHECK_INT(ev.rename.rename_flags, 1);
		CHECK_INT(ev.rename.identity, IOH_ID_KERNEL);
		CHECK_INT(ev.rename.src.ino, 100);
		CHECK_INT(ev.rename.dst_dir.ino, 10);
		CHECK_INT(ev.rename.dst_dir.dev, DEV);
		CHECK_STR(ev.rename.new_path, "/srv/app/config.json");
		CHECK_STR(ev.rename.old_path, "/srv/app/.config.tmp");
	}

	TEST_CASE("rename: relative name joined to the leaf-first base directory")
	{
		init_rename(&r);
		set_base(&r, srv_app, 2);
		set_names(&r, ".config.tmp", "config.json");
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.new_path, "/srv/app/config.json");
		/* The old name's dirfd is not recorded: shown relative to the new one's. */
		CHECK_STR(ev.rename.old_path, "/srv/app/.config.tmp");
		/* A bare name lands in the base directory: it is the receiving directory. */
		CHECK_INT(ev.rename.dst_dir.ino, 10);
		CHECK_INT(ev.rename.dst_dir.mode & S_IFMT, S_IFDIR);
		CHECK_INT(ev.rename.src.ino, 0);
		CHECK(scratch.new_in_base_dir);
		CHECK_INT(scratch.base_dir_id.ino, 10);
	}

	TEST_CASE("rename: relative name with a subdirectory, ./ prefix")
	{
		init_rename(&r);
		set_base(&r, srv_app, 2);
		set_names(&r, NULL, "sub/config.json");
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.new_path, "/srv/app/sub/config.json");
		CHECK(ev.rename.old_path == NULL);
		/* "sub" is not the base directory: its identity is unknown here. */
		CHECK_INT(ev.rename.dst_dir.ino, 0);

		init_rename(&r);
		set_base(&r, srv_app, 2);
		set_names(&r, "./a", "./b");
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.new_path, "/srv/app/b");
		CHECK_STR(ev.rename.old_path, "/srv/app/a");
	}

	TEST_CASE("rename: kernel identity is not overridden by the base directory")
	{
		init_rename(&r);
		r.ev.identity = IOH_ID_KERNEL;
		r.ev.dst_dir = fid(99, S_IFDIR | 0700);
		set_base(&r, srv_app, 2);
		set_names(&r, "a", "b");
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_INT(ev.rename.dst_dir.ino, 99);
	}

	TEST_CASE("rename: truncated walk starts with the ellipsis mark")
	{
		init_rename(&r);
		set_base(&r, srv_app, 2);
		r.ev.hdr.flags = IOH_EVF_PATH_TRUNCATED;
		set_names(&r, NULL, "config.json");
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.new_path, IOH_TRUNCATION_MARK "/srv/app/config.json");
		CHECK_INT(ev.flags, IOH_EVF_PATH_TRUNCATED);
	}

	TEST_CASE("rename: the longest base path fits with its mark")
	{
		/* 48 components of 42 bytes: 2064 bytes, past IOH_DIR_PATH_MAX as the slack
		 * allows; the rebuilt path must still fit the scratch buffer. */
		char comp[IOH_DIR_COMPONENTS_MAX][43];
		const char *comps[IOH_DIR_COMPONENTS_MAX];
		size_t expect_len;

		for (int i = 0; i < IOH_DIR_COMPONENTS_MAX; i++) {
			memset(comp[i], 'a' + i % 26, 42);
			comp[i][42] = '\0';
			comps[i] = comp[i];
		}
		init_rename(&r);
		set_base(&r, comps, IOH_DIR_COMPONENTS_MAX);
		CHECK(r.ev.base_path_len <= IOH_DIR_PATH_REGION);
		r.ev.hdr.flags = IOH_EVF_PATH_TRUNCATED;
		set_names(&r, NULL, "f");
		CHECK_INT(decode_exact(&r, &ev), 0);
		expect_len = strlen(IOH_TRUNCATION_MARK) + IOH_DIR_COMPONENTS_MAX * 43 + 2;
		CHECK_INT(strlen(ev.rename.new_path), expect_len);
		CHECK(strncmp(ev.rename.new_path, IOH_TRUNCATION_MARK "/", 4) == 0);
		/* Leaf-first reversed: the last component given is the first shown. */
		CHECK(strncmp(ev.rename.new_path + 4, comp[IOH_DIR_COMPONENTS_MAX - 1], 42) == 0);
	}

	TEST_CASE("rename: relative name in the root directory")
	{
		/*
		 * With cwd "/" the kernel walk stops at once: zero components, base_path_len 0,
		 * but base_dir identifies "/". `cd / && mv a b` must decode to "/b" in "/".
		 */
		init_rename(&r);
		r.ev.base_dir = fid(2, S_IFDIR | 0755);
		set_names(&r, "a", "b");
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.new_path, "/b");
		CHECK_STR(ev.rename.old_path, "/a");
		CHECK_INT(ev.rename.dst_dir.ino, 2);

		/* A walk cut before its first name: the mark alone stands for the directory. */
		r.ev.hdr.flags = IOH_EVF_PATH_TRUNCATED;
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.new_path, IOH_TRUNCATION_MARK "/b");
	}

	TEST_CASE("rename: no names at all decodes, with no paths")
	{
		init_rename(&r);
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK(ev.rename.new_path == NULL);
		CHECK(ev.rename.old_path == NULL);
	}
}

/* A base directory given as raw bytes (possibly malformed), then the names after it. */
static void set_base_raw(struct rename_rec *r, const void *bytes, size_t len, unsigned ncomp)
{
	memcpy(r->strings, bytes, len);
	r->ev.base_path_len = (uint16_t)len;
	r->ev.base_components = (uint16_t)ncomp;
	r->ev.base_dir = fid(10, S_IFDIR | 0755);
	set_size(r);
}

static void test_rename_sizes(void)
{
	static struct rename_rec r;
	struct ioh_event ev;

	TEST_CASE("rename: an exact-size packed record decodes")
	{
		/* `mv /var/lib/app/x.tmp /var/lib/app/x.json` from /root: absolute names, so no
		 * base directory; the record is the struct and 19 + 20 bytes of names. */
		init_rename(&r);
		r.ev.rename_flags = 1; /* RENAME_NOREPLACE, as coreutils mv passes */
		set_names(&r, "/var/lib/app/x.tmp", "/var/lib/app/x.json");
		CHECK_INT(r.ev.hdr.size, sizeof(struct ioh_rename_event) + 19 + 20);
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.old_path, "/var/lib/app/x.tmp");
		CHECK_STR(ev.rename.new_path, "/var/lib/app/x.json");

		/* All three strings, each right after the previous one. */
		init_rename(&r);
		set_base(&r, srv_app, 2);
		set_names(&r, ".c.tmp", "c.json");
		CHECK_INT(r.ev.hdr.size, sizeof(struct ioh_rename_event) + 8 + 7 + 7);
		CHECK(memcmp(r.strings, "app\0srv\0.c.tmp\0c.json\0", 22) == 0);
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.old_path, "/srv/app/.c.tmp");
		CHECK_STR(ev.rename.new_path, "/srv/app/c.json");

		/* Old name only, new name only, nothing: absent strings take no bytes. */
		init_rename(&r);
		set_names(&r, "/only-old", NULL);
		CHECK_INT(r.ev.hdr.size, sizeof(struct ioh_rename_event) + 10);
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_STR(ev.rename.old_path, "/only-old");
		CHECK(ev.rename.new_path == NULL);
		init_rename(&r);
		CHECK_INT(r.ev.hdr.size, sizeof(struct ioh_rename_event));
		CHECK_INT(decode_exact(&r, &ev), 0);
	}

	TEST_CASE("rename: every string at its own maximum decodes")
	{
		static char old_name[IOH_USER_PATH_MAX], new_name[IOH_NEW_PATH_MAX];
		char comp[IOH_DIR_COMPONENTS_MAX][48];
		const char *comps[IOH_DIR_COMPONENTS_MAX];

		/* 48 components of 47 bytes and a NUL: exactly IOH_DIR_PATH_REGION bytes. */
		_Static_assert(IOH_DIR_COMPONENTS_MAX * 48 == IOH_DIR_PATH_REGION, "region size");
		for (int i = 0; i < IOH_DIR_COMPONENTS_MAX; i++) {
			memset(comp[i], 'a' + i % 26, 47);
			comp[i][47] = '\0';
			comps[i] = comp[i];
		}
		memset(old_name, 'o', sizeof(old_name) - 1);
		old_name[sizeof(old_name) - 1] = '\0';
		memset(new_name, 'n', sizeof(new_name) - 1);
		new_name[sizeof(new_name) - 1] = '\0';
		init_rename(&r);
		set_base(&r, comps, IOH_DIR_COMPONENTS_MAX);
		CHECK_INT(r.ev.base_path_len, IOH_DIR_PATH_REGION);
		r.ev.hdr.flags = IOH_EVF_PATH_TRUNCATED;
		set_names(&r, old_name, new_name);
		CHECK_INT(r.ev.hdr.size, sizeof(struct ioh_rename_event) + IOH_RENAME_STRINGS_MAX);
		CHECK_INT(decode_exact(&r, &ev), 0);
		/* A full new name may go on: marked, never resolved. */
		CHECK(ev.flags & IOH_EVF_RESOLVE_FAILED);
		CHECK(strncmp(ev.rename.new_path, IOH_TRUNCATION_MARK "/", 4) == 0);
	}

	TEST_CASE("rename: lengths beyond the record's size are -EBADMSG")
	{
		init_rename(&r);
		set_base(&r, srv_app, 2);
		set_names(&r, ".c.tmp", "c.json");
		CHECK_INT(decode_exact(&r, &ev), 0);

		/* Each length claiming one byte more than the record holds. */
		r.ev.new_name_len++;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.new_name_len--;
		r.ev.old_name_len++;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.old_name_len--;
		r.ev.base_path_len++;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.base_path_len--;
		/* Lengths as large as the bounds allow, in a small record. */
		r.ev.new_name_len = IOH_NEW_PATH_MAX;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.new_name_len = 7;
		CHECK_INT(decode_exact(&r, &ev), 0);

		/* hdr.size one short (the last NUL cut off), one long (a trailing byte), or past
		 * the buffer the ring buffer handed over. */
		r.ev.hdr.size--;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.hdr.size += 2;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.hdr.size--;
		CHECK_INT(decode(&r, r.ev.hdr.size - 1, &ev), -EBADMSG);
		CHECK_INT(decode(&r, r.ev.hdr.size, &ev), 0);

		/* A record shorter than the struct itself. */
		r.ev.hdr.size = sizeof(struct ioh_rename_event) - 1;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* An ABI 1 record: the strings at fixed offsets in 7424 bytes. Its lengths do not
		 * add up to its size. */
		init_rename(&r);
		set_names(&r, "/a", "/b");
		r.ev.hdr.size = sizeof(r);
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
	}
}

static void test_rename_malformed(void)
{
	static struct rename_rec r;
	struct ioh_event ev;

	TEST_CASE("rename: malformed records are -EBADMSG")
	{
		init_rename(&r);
		set_names(&r, NULL, "/x");
		CHECK_INT(decode_exact(&r, &ev), 0); /* the base case is fine */

		/* Each string's own bound holds even when the record has the bytes. */
		init_rename(&r);
		memset(new_at(&r), 'n', IOH_NEW_PATH_MAX);
		new_at(&r)[IOH_NEW_PATH_MAX] = '\0';
		r.ev.new_name_len = IOH_NEW_PATH_MAX + 1;
		set_size(&r);
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		init_rename(&r);
		memset(old_at(&r), 'o', IOH_USER_PATH_MAX);
		old_at(&r)[IOH_USER_PATH_MAX] = '\0';
		r.ev.old_name_len = IOH_USER_PATH_MAX + 1;
		strcpy(new_at(&r), "/x");
		r.ev.new_name_len = 3;
		set_size(&r);
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.old_name_len = 0xffff;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* Unterminated names. */
		init_rename(&r);
		set_names(&r, NULL, "/x");
		r.ev.new_name_len = 2; /* "/x" without its NUL */
		set_size(&r);
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		init_rename(&r);
		memset(old_at(&r), 'o', IOH_USER_PATH_MAX);
		r.ev.old_name_len = IOH_USER_PATH_MAX; /* its whole bound, no NUL */
		strcpy(new_at(&r), "/x");
		r.ev.new_name_len = 3;
		set_size(&r);
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		/* The sum is right but the split is not: the old name's NUL is counted as the
		 * new name's first byte. */
		init_rename(&r);
		set_names(&r, "/old", "/x");
		r.ev.old_name_len--;
		r.ev.new_name_len++;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* Identity: only NONE and KERNEL come from the kernel. */
		init_rename(&r);
		set_names(&r, NULL, "/x");
		r.ev.identity = IOH_ID_USERSPACE;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.identity = 77;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* A relative name without a directory. */
		init_rename(&r);
		set_names(&r, NULL, "x");
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
	}

	TEST_CASE("rename: malformed base directory is -EBADMSG")
	{
		static char big[IOH_DIR_PATH_REGION + 1];

		init_rename(&r);
		set_base(&r, srv_app, 2);
		set_names(&r, NULL, "x");
		r.ev.base_components = 3; /* more than written */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.base_components = 1; /* fewer */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.base_components = 2;
		CHECK_INT(decode_exact(&r, &ev), 0);
		r.ev.base_components = IOH_DIR_COMPONENTS_MAX + 1;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* The last component unterminated: it must not run into the names after it. */
		init_rename(&r);
		set_base_raw(&r, "app\0srv", 7, 2);
		set_names(&r, NULL, "x");
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* Past its bound, even with the bytes present and terminated. */
		init_rename(&r);
		memset(big, 'd', sizeof(big));
		for (size_t i = 100; i < sizeof(big); i += 100)
			big[i] = '\0';
		big[sizeof(big) - 1] = '\0';
		set_base_raw(&r, big, sizeof(big), (sizeof(big) + 99) / 100);
		set_names(&r, NULL, "x");
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* The whole region without a NUL. */
		init_rename(&r);
		memset(big, 'd', IOH_DIR_PATH_REGION);
		set_base_raw(&r, big, IOH_DIR_PATH_REGION, 1);
		set_names(&r, NULL, "x");
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);

		/* More components than the walk can produce. */
		init_rename(&r);
		for (int i = 0; i < IOH_DIR_COMPONENTS_MAX + 1; i++)
			big[2 * i] = 'c', big[2 * i + 1] = '\0';
		set_base_raw(&r, big, 2 * (IOH_DIR_COMPONENTS_MAX + 1), IOH_DIR_COMPONENTS_MAX);
		set_names(&r, NULL, "x");
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
	}
}

/* A record with one trailing leaf-first path (access, splice, truncate): struct, then room. */
#define PATH_REC(name, type)                                                                       \
	struct name {                                                                              \
		type ev;                                                                           \
		char path[IOH_DIR_PATH_REGION + 8];                                                \
	}
PATH_REC(access_rec, struct ioh_access_event);
PATH_REC(splice_rec, struct ioh_splice_event);
PATH_REC(truncate_rec, struct ioh_truncate_event);

/* "app.db" in /srv/app, leaf first, with the final NUL: 15 bytes. */
static const char app_db[] = "app.db\0app\0srv";
#define APP_DB_LEN sizeof(app_db)

static void test_path_records(void)
{
	static struct access_rec a;
	static struct splice_rec sp;
	static struct truncate_rec t;
	struct ioh_event ev;

	TEST_CASE("access record: sizeof + path_len bytes")
	{
		memset(&a, 0, sizeof(a));
		fill_hdr(&a.ev.hdr, IOH_EV_ACCESS_MODE, sizeof(a.ev) + APP_DB_LEN);
		a.ev.file = fid(100, S_IFREG | 0644);
		a.ev.kind = IOH_MODE_BOTH_OPEN;
		a.ev.access = IOH_ACC_OPEN_DIRECT;
		a.ev.other_access = IOH_ACC_OPEN_BUFFERED;
		memcpy(a.path, app_db, APP_DB_LEN);
		a.ev.path_len = APP_DB_LEN;
		a.ev.path_components = 3;
		CHECK_INT(decode_exact(&a, &ev), 0);
		CHECK_STR(ev.access.path, "/srv/app/app.db");
		CHECK_INT(ev.access.file.ino, 100);

		a.ev.path_len++; /* one byte more than the record holds */
		CHECK_INT(decode_exact(&a, &ev), -EBADMSG);
		a.ev.path_len -= 2; /* one byte less: a trailing byte, and "srv" unterminated */
		CHECK_INT(decode_exact(&a, &ev), -EBADMSG);
		a.ev.hdr.size--; /* consistent again, but "srv" unterminated */
		CHECK_INT(decode_exact(&a, &ev), -EBADMSG);
		a.ev.path_len = IOH_DIR_PATH_REGION + 1; /* past the bound, with the bytes there */
		a.ev.hdr.size = sizeof(a.ev) + a.ev.path_len;
		memset(a.path, 0, sizeof(a.path));
		CHECK_INT(decode_exact(&a, &ev), -EBADMSG);
		a.ev.hdr.size = sizeof(a.ev) - 1; /* shorter than the struct */
		CHECK_INT(decode_exact(&a, &ev), -EBADMSG);

		/* No path (a fault with no struct file): the bare struct. */
		a.ev.path_len = 0;
		a.ev.path_components = 0;
		a.ev.hdr.size = sizeof(a.ev);
		CHECK_INT(decode_exact(&a, &ev), 0);
		CHECK(ev.access.path == NULL);
		/* An ABI 1 record: the path region always whole. */
		a.ev.hdr.size = sizeof(a.ev) + IOH_DIR_PATH_REGION;
		CHECK_INT(decode(&a, sizeof(a), &ev), -EBADMSG);
	}

	TEST_CASE("splice record: sizeof + path_len bytes")
	{
		memset(&sp, 0, sizeof(sp));
		fill_hdr(&sp.ev.hdr, IOH_EV_SPLICE_STALL, sizeof(sp.ev) + APP_DB_LEN);
		sp.ev.call = IOH_SPLICE_CALL_SENDFILE;
		sp.ev.in.kind = IOH_END_FILE;
		sp.ev.out.kind = IOH_END_SOCKET;
		memcpy(sp.path, app_db, APP_DB_LEN);
		sp.ev.path_len = APP_DB_LEN;
		sp.ev.path_components = 3;
		CHECK_INT(decode_exact(&sp, &ev), 0);
		CHECK_STR(ev.splice.path, "/srv/app/app.db");
		sp.ev.path_len++;
		CHECK_INT(decode_exact(&sp, &ev), -EBADMSG);
		sp.ev.path_len--;
		sp.ev.hdr.size++;
		CHECK_INT(decode(&sp, sizeof(sp), &ev), -EBADMSG);
		sp.ev.path_len = sp.ev.path_components = 0;
		sp.ev.hdr.size = sizeof(sp.ev);
		CHECK_INT(decode_exact(&sp, &ev), 0);
		CHECK(ev.splice.path == NULL);
	}

	TEST_CASE("truncate record: sizeof + path_len bytes")
	{
		memset(&t, 0, sizeof(t));
		fill_hdr(&t.ev.hdr, IOH_EV_TRUNCATE, sizeof(t.ev) + APP_DB_LEN);
		t.ev.file = fid(100, S_IFREG | 0644);
		t.ev.old_size = 4096;
		memcpy(t.path, app_db, APP_DB_LEN);
		t.ev.path_len = APP_DB_LEN;
		t.ev.path_components = 3;
		CHECK_INT(decode_exact(&t, &ev), 0);
		CHECK_STR(ev.truncate.path, "/srv/app/app.db");
		CHECK_INT(ev.truncate.old_size, 4096);
		t.ev.path_len++;
		CHECK_INT(decode_exact(&t, &ev), -EBADMSG);
		t.ev.path_len = 0xffff;
		CHECK_INT(decode_exact(&t, &ev), -EBADMSG);
		t.ev.path_len = t.ev.path_components = 0;
		t.ev.hdr.size = sizeof(t.ev);
		CHECK_INT(decode_exact(&t, &ev), 0);
		CHECK(ev.truncate.path == NULL);
	}
}

static void test_header(void)
{
	struct ioh_sync_event s;
	struct ioh_event ev;

	TEST_CASE("header: bad sizes")
	{
		memset(&s, 0, sizeof(s));
		fill_hdr(&s.hdr, IOH_EV_SYNC, sizeof(s));
		s.kind = IOH_SYNC_FSYNC;
		CHECK_INT(decode(&s, sizeof(s), &ev), 0);
		CHECK_INT(decode(&s, sizeof(s.hdr) - 1, &ev), -EBADMSG);
		CHECK_INT(decode(&s, 0, &ev), -EBADMSG);
		s.hdr.size = sizeof(s.hdr) - 1;
		CHECK_INT(decode(&s, sizeof(s), &ev), -EBADMSG);
		s.hdr.size = 0;
		CHECK_INT(decode(&s, sizeof(s), &ev), -EBADMSG);
		s.hdr.size = sizeof(s) + 1;
		CHECK_INT(decode(&s, sizeof(s), &ev), -EBADMSG);
		/* A header-only sync record is too short for its type. */
		s.hdr.size = sizeof(s.hdr);
		CHECK_INT(decode(&s, sizeof(s), &ev), -EBADMSG);
	}

	TEST_CASE("header: unknown types are -ENOMSG, skippable by size")
	{
		struct ioh_event_hdr h;

		fill_hdr(&h, 99, sizeof(h));
		CHECK_INT(decode(&h, sizeof(h), &ev), -ENOMSG);
		h.type = 0;
		CHECK_INT(decode(&h, sizeof(h), &ev), -ENOMSG);
		/* Decoded-only types never come from the kernel. */
		h.type = IOH_EV_LOSS;
		CHECK_INT(decode(&h, sizeof(h), &ev), -ENOMSG);
		h.type = IOH_EV_END;
		CHECK_INT(decode(&h, sizeof(h), &ev), -ENOMSG);
		/* A bad size still wins over an unknown type. */
		h.type = 99;
		h.size = sizeof(h) + 8;
		CHECK_INT(decode(&h, sizeof(h), &ev), -EBADMSG);
	}

	TEST_CASE("header: comm is always terminated, high flag bits dropped")
	{
		memset(&s, 0, sizeof(s));
		fill_hdr(&s.hdr, IOH_EV_SYNC, sizeof(s));
		memset(s.hdr.comm, 'z', IOH_COMM_LEN);
		s.hdr.flags = 0xffff0000u | IOH_EVF_NAME_UNREADABLE;
		s.kind = IOH_SYNC_SYNC;
		CHECK_INT(decode(&s, sizeof(s), &ev), 0);
		CHECK_INT(strlen(ev.comm), IOH_COMM_LEN - 1);
		/* Bits 16+ are decoded-only flags: the kernel cannot set them. */
		CHECK_INT(ev.flags, IOH_EVF_NAME_UNREADABLE);
	}
}

/* A STACK record (issue 15): registers, stack bytes, then the two hint paths. */
struct stack_rec {
	struct ioh_stack_event ev;
	char data[IOH_STACK_BYTES_MAX + 2 * IOH_DIR_PATH_REGION];
};

static void test_stack(void)
{
	static struct stack_rec r;
	static const char exe[] = "mv\0bin\0usr";    /* leaf first: /usr/bin/mv */
	static const char libc[] = "libc.so.6\0lib"; /* /lib/libc.so.6 */
	struct ioh_event ev;

	TEST_CASE("stack record: registers, bytes and the hints as modules")
	{
		memset(&r, 0, sizeof(r));
		r.ev.callsite = 0x1234567;
		for (int i = 0; i < IOH_STACK_REGS; i++)
			r.ev.regs[i] = 1000 + i;
		r.ev.regs_mask = 0xffffffffu; /* bits past the registers are dropped */
		r.ev.stack_len = 64;
		memset(r.data, 0xab, 64);
		r.ev.exe = (struct ioh_stack_vma){.start = 0x5000,
						  .end = 0x9000,
						  .pgoff = 0x2000,
						  .ino = 77,
						  .dev = (8u << 20) | 1,
						  .path_len = sizeof(exe),
						  .path_components = 3};
		memcpy(r.data + 64, exe, sizeof(exe));
		r.ev.code = (struct ioh_stack_vma){.start = 0x7f00,
						   .end = 0x7fff,
						   .ino = 5,
						   .dev = (8u << 20) | 1,
						   .path_len = sizeof(libc),
						   .path_components = 2};
		memcpy(r.data + 64 + sizeof(exe), libc, sizeof(libc));
		fill_hdr(&r.ev.hdr, IOH_EV_STACK, sizeof(r.ev) + 64 + sizeof(exe) + sizeof(libc));
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_INT(ev.type, IOH_EV_STACK);
		CHECK(ev.callsite == 0x1234567 && ev.stack.callsite == 0x1234567);
		CHECK_INT(ev.stack.pid, 4242);
		CHECK_INT(ev.stack.tid, 4243);
		CHECK(ev.stack.regs[IOH_STACK_REG_IP] == 1016 &&
		      ev.stack.regs[IOH_STACK_REG_SP] == 1007);
		CHECK_INT(ev.stack.regs_mask, (1u << IOH_STACK_NREGS) - 1);
		CHECK_INT(ev.stack.stack_len, 64);
		CHECK_INT(decode(&r, r.ev.hdr.size, &ev), 0); /* the bytes point into the record */
		CHECK(ev.stack.stack == (const uint8_t *)r.data && ev.stack.stack[63] == 0xab);
		CHECK_INT(ev.stack.n_modules, 2);
		CHECK_STR(ev.stack.modules[0].path, "/usr/bin/mv");
		CHECK(ev.stack.modules[0].pgoff == 0x2000 && ev.stack.modules[0].ino == 77);
		CHECK(ev.stack.modules[0].dev == makedev(8, 1)); /* st_dev form */
		CHECK_STR(ev.stack.modules[1].path, "/lib/libc.so.6");
		CHECK(!ev.stack.process_gone && ev.stack.modules[0].build_id_len == 0);
	}

	TEST_CASE("stack record: no hints, no bytes beyond the registers")
	{
		r.ev.exe.end = r.ev.code.end = 0;
		r.ev.exe.path_len = r.ev.code.path_len = 0;
		r.ev.stack_len = 8;
		r.ev.hdr.size = sizeof(r.ev) + 8;
		CHECK_INT(decode_exact(&r, &ev), 0);
		CHECK_INT(ev.stack.n_modules, 0);
	}

	TEST_CASE("stack record: bad sizes are -EBADMSG")
	{
		r.ev.hdr.size = sizeof(r.ev) + 7; /* one byte short of stack_len */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.hdr.size = sizeof(r.ev) + 9; /* one byte too many */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.hdr.size = sizeof(r.ev) - 1; /* shorter than the struct */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.stack_len = IOH_STACK_BYTES_MAX + 1;
		r.ev.hdr.size = sizeof(r.ev) + IOH_STACK_BYTES_MAX + 1;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.stack_len = 0xffffffffu; /* would wrap a 32-bit sum */
		r.ev.hdr.size = sizeof(r.ev) + 8;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.stack_len = 8;
		r.ev.callsite = 0; /* a STACK record always has its key */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.callsite = 1;
		CHECK_INT(decode_exact(&r, &ev), 0);
	}

	TEST_CASE("stack record: malformed hints are -EBADMSG")
	{
		r.ev.stack_len = 0;
		r.ev.exe = (struct ioh_stack_vma){
		    .start = 0x5000, .end = 0x9000, .path_len = sizeof(exe), .path_components = 3};
		memcpy(r.data, exe, sizeof(exe));
		r.ev.hdr.size = sizeof(r.ev) + sizeof(exe);
		CHECK_INT(decode_exact(&r, &ev), 0);
		r.ev.exe.path_components = 2; /* the components do not match */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.exe.path_components = 3;
		r.data[sizeof(exe) - 1] = 'x'; /* unterminated */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.data[sizeof(exe) - 1] = '\0';
		r.ev.exe.end = r.ev.exe.start; /* empty range */
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.exe.end = 0x9000;
		r.ev.exe.path_len = 0; /* a mapping without its path */
		r.ev.hdr.size = sizeof(r.ev);
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
		r.ev.exe.path_len = IOH_DIR_PATH_REGION + 1;
		r.ev.hdr.size = sizeof(r.ev) + IOH_DIR_PATH_REGION + 1;
		CHECK_INT(decode_exact(&r, &ev), -EBADMSG);
	}
}

static void test_sync_inode(void)
{
	struct ioh_sync_event s;
	struct ioh_inode_event in;
	struct ioh_event ev;

	TEST_CASE("sync record")
	{
		memset(&s, 0, sizeof(s));
		fill_hdr(&s.hdr, IOH_EV_SYNC, sizeof(s));
		s.kind = IOH_SYNC_FDATASYNC;
		s.ret = -EIO;
		s.fd = 7;
		s.file = fid(100, S_IFREG | 0600);
		s.duration_ns = 5000;
		CHECK_INT(decode(&s, sizeof(s), &ev), 0);
		CHECK_INT(ev.type, IOH_EV_SYNC);
		CHECK_INT(ev.sync.kind, IOH_SYNC_FDATASYNC);
		CHECK_INT(ev.sync.ret, -EIO);
		CHECK_INT(ev.sync.fd, 7);
		CHECK_INT(ev.sync.file.ino, 100);
		CHECK_INT(ev.sync.file.dev, DEV);
		CHECK_INT(ev.sync.file.mode, S_IFREG | 0600);
		CHECK_INT(ev.sync.file.fs_magic, 0xEF53);
		CHECK_INT(ev.sync.duration_ns, 5000);

		for (uint32_t k = IOH_SYNC_FSYNC; k <= IOH_SYNC_SYNC; k++) {
			s.kind = k;
			CHECK_INT(decode(&s, sizeof(s), &ev), 0);
		}
		s.kind = 0;
		CHECK_INT(decode(&s, sizeof(s), &ev), -EBADMSG);
		s.kind = IOH_SYNC_SYNC + 1;
		CHECK_INT(decode(&s, sizeof(s), &ev), -EBADMSG);
		s.kind = IOH_SYNC_FSYNC;
		s.hdr.size = sizeof(s) - 1;
		CHECK_INT(decode(&s, sizeof(s), &ev), -EBADMSG);
	}

	TEST_CASE("inode records")
	{
		memset(&in, 0, sizeof(in));
		fill_hdr(&in.hdr, IOH_EV_INODE_DIRTY, sizeof(in));
		in.file = fid(555, S_IFREG | 0644);
		in.dirtied_ns = 42;
		CHECK_INT(decode(&in, sizeof(in), &ev), 0);
		CHECK_INT(ev.type, IOH_EV_INODE_DIRTY);
		CHECK_INT(ev.inode.file.ino, 555);
		CHECK_INT(ev.inode.dirtied_ns, 42);
		in.hdr.type = IOH_EV_INODE_CLEAN;
		CHECK_INT(decode(&in, sizeof(in), &ev), 0);
		CHECK_INT(ev.type, IOH_EV_INODE_CLEAN);
		CHECK_INT(ev.inode.file.ino, 555);
		in.hdr.size = sizeof(in) - 8;
		CHECK_INT(decode(&in, sizeof(in), &ev), -EBADMSG);
		/* A longer record (a newer kernel side appending fields) is fine. */
		{
			unsigned char big[sizeof(in) + 16] __attribute__((aligned(8))) = {0};

			in.hdr.size = sizeof(big);
			memcpy(big, &in, sizeof(in));
			CHECK_INT(decode(big, sizeof(big), &ev), 0);
			CHECK_INT(ev.inode.file.ino, 555);
		}
	}
}

static void test_join(void)
{
	TEST_CASE("ioh_join_path")
	{
		char out[64];

		ioh_join_path(out, sizeof(out), "/a/b", "c");
		CHECK_STR(out, "/a/b/c");
		ioh_join_path(out, sizeof(out), "/", "c");
		CHECK_STR(out, "/c");
		ioh_join_path(out, sizeof(out), "/a/b", "/abs");
		CHECK_STR(out, "/abs");
		ioh_join_path(out, sizeof(out), "", "rel");
		CHECK_STR(out, "rel");
		ioh_join_path(out, sizeof(out), "/a", "././c");
		CHECK_STR(out, "/a/c");
		ioh_join_path(out, sizeof(out), "/a", "../c"); /* no lexical folding: symlinks */
		CHECK_STR(out, "/a/../c");
		ioh_join_path(out, 8, "/abcdef", "ghijk"); /* cut, still terminated */
		CHECK_STR(out, "/abcdef");
	}
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The tracepoint backend's rename: user space finds the inode with statx, with its birth. */
static void test_resolve_birth(void)
{
	TEST_CASE("resolver: a statx-resolved rename carries the birth time on the event clock")
	{
		char dir[] = "/tmp/ioh-test-resolve.XXXXXX", path[64];
		struct ioh_resolver *r = ioh_resolver_new("/nonexistent");
		struct ioh_event ev;
		struct statx stx;
		struct stat st;
		uint64_t before, after;
		int fd;

		CHECK(r != NULL && mkdtemp(dir) != NULL);
		snprintf(path, sizeof(path), "%s/f", dir);
		before = mono_now();
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(fd >= 0);
		close(fd);
		after = mono_now();
		memset(&ev, 0, sizeof(ev));
		memset(&scratch, 0, sizeof(scratch));
		if (stat("/proc/self/ns/mnt", &st) == 0)
			scratch.mnt_ns = (uint32_t)st.st_ino;
		ev.type = IOH_EV_RENAME;
		ev.pid = (uint32_t)getpid();
		ev.rename.identity = IOH_ID_NONE;
		ev.rename.new_path = path;
		ioh_resolver_enrich(r, &ev, &scratch);
		CHECK_INT(ev.rename.identity, IOH_ID_USERSPACE);
		CHECK(stat(path, &st) == 0);
		CHECK_INT(ev.rename.src.ino, st.st_ino);
		CHECK_INT(ev.rename.src.gen, 0);
		CHECK_INT(ev.rename.dst_dir.mode & S_IFMT, S_IFDIR);
		if (statx(AT_FDCWD, path, 0, STATX_BTIME, &stx) == 0 &&
		    (stx.stx_mask & STATX_BTIME)) {
			/* The kernel stamps births with its coarse clock: up to a tick early. */
			CHECK(ev.rename.src_btime_ns + 20000000ull >= before);
			CHECK(ev.rename.src_btime_ns <= after + 1000000ull);
		} else {
			printf("# %s has no birth times: src_btime_ns must be 0\n", dir);
			CHECK_INT(ev.rename.src_btime_ns, 0);
		}
		unlink(path);
		rmdir(dir);
		ioh_resolver_free(r);
	}

	TEST_CASE("birth time conversion: before boot is 1, now is now")
	{
		struct timespec rt;
		uint64_t m0 = mono_now(), m;

		CHECK_INT(ioh_btime_to_monotonic(0), 1);
		clock_gettime(CLOCK_REALTIME, &rt);
		m = ioh_btime_to_monotonic((int64_t)rt.tv_sec * 1000000000ll + rt.tv_nsec);
		CHECK(m + 1000000ull >= m0 && m <= mono_now() + 1000000ull);
	}
}

int main(void)
{
	DEV = ioh_kdev_make(254, 1);
	test_rename_paths();
	test_rename_sizes();
	test_rename_malformed();
	test_path_records();
	test_header();
	test_sync_inode();
	test_stack();
	test_join();
	test_resolve_birth();
	return check_summary();
}
