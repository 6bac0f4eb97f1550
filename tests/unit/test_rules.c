// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rules: units, every key, list appends, error messages with file:line, the search path and
 * merge order, matching, limits against hostile input, and `rules show` round trips.
 * Needs no root; run under valgrind with --leak-check=full to check the frees.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/rules/rules.h"
#include "tests/unit/check.h"

static char tmpdir[] = "/tmp/ioh-test-rules.XXXXXX";

static char *path_in(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s/%s", tmpdir, dir, name) < 0)
		abort();
	return p;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *d, *p = path_in(dir, name);
	FILE *f;

	if (asprintf(&d, "%s/%s", tmpdir, dir) < 0)
		abort();
	mkdir(d, 0755);
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	free(p);
	free(d);
}

/* Load a text as file "t.rules"; returns the load's result, errors in *e. */
static int load_text(const char *text, struct ioh_ruleset **rs, struct ioh_rules_errors *e)
{
	*rs = NULL;
	memset(e, 0, sizeof(*e));
	return ioh_rules_load_buffer("t.rules", text, strlen(text), rs, e);
}

/* The messages of a failed load, one per line, for exact comparison. */
static char *errors_joined(const struct ioh_rules_errors *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < e->count; i++)
		fprintf(f, "%s\n", e->messages[i]);
	fclose(f);
	return buf;
}

static char *printed(const struct ioh_ruleset *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ioh_ruleset_print(rs, f);
	fclose(f);
	return buf;
}

static void test_units(void)
{
	TEST_CASE("durations")
	{
		static const struct {
			const char *text;
			int ret;
			uint64_t ns;
		} cases[] = {
		    {"5s", 0, 5000000000ULL},
		    {"250ms", 0, 250000000ULL},
		    {"100us", 0, 100000ULL},
		    {"10ns", 0, 10},
		    {"1m", 0, 60000000000ULL},
		    {"2min", 0, 120000000000ULL},
		    {"2h", 0, 7200000000000ULL},
		    {"1d", 0, 86400000000000ULL},
		    {"7", 0, 7000000000ULL},
		    {"0", 0, 0},
		    {"18446744073709551615ns", 0, UINT64_MAX},
		    {"213503d", 0, 213503ULL * 86400000000000ULL},
		    {"18446744073709551616ns", -ERANGE, 0},
		    {"213504d", -ERANGE, 0},
		    {"99999999999999999999999s", -ERANGE, 0},
		    {"", -EINVAL, 0},
		    {"-1s", -EINVAL, 0},
		    {"+1s", -EINVAL, 0},
		    {" 1s", -EINVAL, 0},
		    {"1 s", -EINVAL, 0},
		    {"1.5s", -EINVAL, 0},
		    {"1S", -EINVAL, 0},
		    {"s", -EINVAL, 0},
		    {"5x", -EINVAL, 0},
		    {"5sec", -EINVAL, 0},
		    {"0x10", -EINVAL, 0},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint64_t ns = 12345;
			int ret = ioh_parse_duration(cases[i].text, &ns);

			printf("# duration \"%s\"\n", cases[i].text);
			CHECK_INT(ret, cases[i].ret);
			if (!cases[i].ret)
				CHECK(ns == cases[i].ns);
			else
				CHECK_INT(ns, 12345); /* untouched on error */
		}
		CHECK_INT(ioh_parse_duration(NULL, &(uint64_t){0}), -EINVAL);
	}

	TEST_CASE("sizes")
	{
		static const struct {
			const char *text;
			int ret;
			uint64_t bytes;
		} cases[] = {
		    {"512", 0, 512},
		    {"512B", 0, 512},
		    {"4k", 0, 4096},
		    {"4K", 0, 4096},
		    {"4KB", 0, 4096},
		    {"4KiB", 0, 4096},
		    {"64M", 0, 64ULL << 20},
		    {"64MiB", 0, 64ULL << 20},
		    {"1G", 0, 1ULL << 30},
		    {"1GiB", 0, 1ULL << 30},
		    {"3TiB", 0, 3ULL << 40},
		    {"16777215TiB", 0, 16777215ULL << 40},
		    {"16777216TiB", -ERANGE, 0},
		    {"18446744073709551616", -ERANGE, 0},
		    {"", -EINVAL, 0},
		    {"-4k", -EINVAL, 0},
		    {"4 KiB", -EINVAL, 0},
		    {"4kib", -EINVAL, 0},
		    {"1.5G", -EINVAL, 0},
		    {"4Ki", -EINVAL, 0},
		    {"KiB", -EINVAL, 0},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint64_t b = 777;
			int ret = ioh_parse_size(cases[i].text, &b);

			printf("# size \"%s\"\n", cases[i].text);
			CHECK_INT(ret, cases[i].ret);
			CHECK(b == (cases[i].ret ? 777 : cases[i].bytes));
		}
	}
}

static void test_fstypes(void)
{
	TEST_CASE("persistent filesystems")
	{
		static const char *const yes[] = {
		    "ext4",   "ext3",	  "ext2", "xfs",   "btrfs", "f2fs", "jfs",   "reiserfs",
		    "nilfs2", "bcachefs", "zfs",  "ocfs2", "gfs2",  "vfat", "exfat", "ntfs3"};
		static const char *const no[] = {
		    "tmpfs",	"ramfs",     "proc",   "sysfs",	     "cgroup",	 "cgroup2",
		    "devtmpfs", "overlay",   "fuse",   "fuse.sshfs", "fuseblk",	 "nfs",
		    "nfs4",	"cifs",	     "smb3",   "ceph",	     "squashfs", "iso9660",
		    "debugfs",	"tracefs",   "bpf",    "securityfs", "pstore",	 "configfs",
		    "mqueue",	"hugetlbfs", "autofs", "devpts",     "efivarfs", "",
		    "EXT4",	"ext4x",
		};

		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
			CHECK(ioh_fstype_is_persistent(yes[i]));
		for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
			CHECK(!ioh_fstype_is_persistent(no[i]));
		CHECK(!ioh_fstype_is_persistent(NULL));
	}
}

static void test_defaults(void)
{
	static const struct {
		const char *name;
		enum ioh_severity sev;
		uint64_t threshold;
	} want[] = {
	    {"rename-without-dir-fsync", IOH_SEV_WARNING, 0},
	    {"rename-unsynced-source", IOH_SEV_NOTICE, 0},
	    {"mixed-direct-buffered", IOH_SEV_CRITICAL, 0},
	    {"dirty-throttle-stall", IOH_SEV_WARNING, 50000000},
	    {"splice-stall", IOH_SEV_WARNING, 100000000},
	    {"writeback-mount", IOH_SEV_WARNING, 0},
	    {"writeback-truncate-unsynced", IOH_SEV_WARNING, 0},
	    {"fsync-error-retried", IOH_SEV_CRITICAL, 0},
	};
	struct ioh_rules_errors e;
	struct ioh_ruleset *rs;
	char text[2048] = "";

	TEST_CASE("defaults per detector")
	{
		CHECK_INT(IOH_RULE__COUNT, 8);
		for (size_t i = 0; i < 8; i++) {
			CHECK_STR(ioh_rule_kinds[i].name, want[i].name);
			strcat(text, "[rule ");
			strcat(text, want[i].name);
			strcat(text, "]\n");
		}
		CHECK_INT(load_text(text, &rs, &e), 0);
		CHECK_INT(e.count, 0);
		CHECK_INT(rs->count, 8);
		for (size_t i = 0; rs && i < rs->count && i < 8; i++) {
			const struct ioh_rule *r = &rs->rules[i];

			CHECK_STR(r->name, want[i].name);
			CHECK_STR(r->detector, want[i].name);
			CHECK(r->enabled);
			CHECK_INT(r->severity, want[i].sev);
			CHECK(!r->severity_set);
			CHECK(r->window_ns == 5000000000ULL);
			CHECK(r->threshold_ns == want[i].threshold);
			CHECK(r->suppress_ns == 0);
			CHECK(r->min_bytes == 0);
			CHECK(!r->include_paths.count && !r->exclude_paths.count &&
			      !r->fstypes.count && !r->comm_allow.count && !r->comm_deny.count &&
			      !r->unit_allow.count && !r->unit_deny.count);
			CHECK_STR(r->source_file, "t.rules");
			CHECK_INT(r->source_line, i + 1);
		}
		CHECK_INT(rs->files.count, 1);
		ioh_ruleset_free(rs);
		ioh_rules_errors_free(&e);
	}

	TEST_CASE("ioh_rule_init")
	{
		struct ioh_rule r;

		CHECK_INT(ioh_rule_init(&r, "splice-stall", NULL), 0);
		CHECK(r.threshold_ns == 100000000);
		CHECK_INT(ioh_rule_init(&r, "my-splice", "splice-stall"), 0);
		CHECK_STR(r.detector, "splice-stall");
		CHECK_INT(ioh_rule_init(&r, "my-splice", NULL), -EINVAL);
		CHECK_INT(ioh_rule_init(&r, "bad name", "splice-stall"), -EINVAL);
		ioh_rule_fini(&r);
	}
}

static void test_keys(void)
{
	struct ioh_rules_errors e;
	struct ioh_ruleset *rs;
	const struct ioh_rule *r;
	char longline[1024];
	size_t n;

	TEST_CASE("every key")
	{
		CHECK_INT(load_text("; a comment\n"
				    "# another\n"
				    "\n"
				    "[rule srv-renames]   # trailing comment\n"
				    "detector = rename-without-dir-fsync\n"
				    "  enabled = no\n"
				    "severity=critical\n"
				    "\twindow = 250ms\n"
				    "threshold = 2s ; inline comment\n"
				    "suppress = 10m\n"
				    "min_bytes = 64MiB\n"
				    "include = /srv/* /data/*\n"
				    "include = /opt/app/*\n"
				    "exclude = /srv/cache/*\n"
				    "fstypes = ext4 xfs\n"
				    "fstypes = btrfs\n"
				    "comm_allow = nginx post*\n"
				    "comm_deny = postgres\n"
				    "unit_allow = nginx.service *.scope\n"
				    "unit_deny = user@1000.service\n",
				    &rs, &e),
			  0);
		r = rs ? ioh_ruleset_find(rs, "srv-renames") : NULL;
		CHECK(r != NULL);
		if (r) {
			CHECK_STR(r->detector, "rename-without-dir-fsync");
			CHECK(!r->enabled);
			CHECK_INT(r->severity, IOH_SEV_CRITICAL);
			CHECK(r->severity_set);
			CHECK(r->window_ns == 250000000ULL);
			CHECK(r->threshold_ns == 2000000000ULL);
			CHECK(r->suppress_ns == 600000000000ULL);
			CHECK(r->min_bytes == 64ULL << 20);
			CHECK_INT(r->include_paths.count, 3);
			CHECK_STR(r->include_paths.items[0], "/srv/*");
			CHECK_STR(r->include_paths.items[1], "/data/*");
			CHECK_STR(r->include_paths.items[2], "/opt/app/*");
			CHECK_INT(r->exclude_paths.count, 1);
			CHECK_INT(r->fstypes.count, 3);
			CHECK_STR(r->fstypes.items[2], "btrfs");
			CHECK_INT(r->comm_allow.count, 2);
			CHECK_STR(r->comm_allow.items[1], "post*");
			CHECK_STR(r->comm_deny.items[0], "postgres");
			CHECK_INT(r->unit_allow.count, 2);
			CHECK_STR(r->unit_allow.items[1], "*.scope");
			CHECK_STR(r->unit_deny.items[0], "user@1000.service");
			CHECK_INT(r->source_line, 4);
		}
		CHECK(ioh_ruleset_find(rs, "nope") == NULL);
		ioh_ruleset_free(rs);
		ioh_rules_errors_free(&e);
	}

	TEST_CASE("booleans")
	{
		static const char *const yes[] = {"yes", "true", "on", "1"};
		static const char *const no[] = {"no", "false", "off", "0"};
		char text[128];

		for (size_t i = 0; i < 4; i++) {
			snprintf(text, sizeof(text), "[rule splice-stall]\nenabled = %s\n", yes[i]);
			CHECK_INT(load_text(text, &rs, &e), 0);
			CHECK(rs && rs->rules[0].enabled);
			ioh_ruleset_free(rs);
			snprintf(text, sizeof(text), "[rule splice-stall]\nenabled = %s\n", no[i]);
			CHECK_INT(load_text(text, &rs, &e), 0);
			CHECK(rs && !rs->rules[0].enabled);
			ioh_ruleset_free(rs);
		}
	}

	TEST_CASE("long list lines are split, not truncated")
	{
		/* Longer than the 200-byte lines of Debian's libinih, which the parser once used.
		 */
		n = (size_t)snprintf(longline, sizeof(longline), "[rule splice-stall]\nexclude =");
		for (int i = 0; i < 60; i++)
			n += (size_t)snprintf(longline + n, sizeof(longline) - n, " /p%02d/*", i);
		snprintf(longline + n, sizeof(longline) - n, " ; comment /x/*\nwindow = 1s\n");
		CHECK_INT(load_text(longline, &rs, &e), 0);
		CHECK_INT(e.count, 0);
		r = rs ? &rs->rules[0] : NULL;
		CHECK(r && r->exclude_paths.count == 60);
		if (r && r->exclude_paths.count == 60) {
			CHECK_STR(r->exclude_paths.items[0], "/p00/*");
			CHECK_STR(r->exclude_paths.items[59], "/p59/*");
		}
		CHECK(r && r->window_ns == 1000000000ULL);
		ioh_ruleset_free(rs);
		ioh_rules_errors_free(&e);
	}

	TEST_CASE("long rule names (beyond the 50 bytes Debian's libinih kept)")
	{
		const char *name63 =
		    "a23456789-123456789-123456789-123456789-123456789-123456789-123";

		snprintf(longline, sizeof(longline), "[rule %s]\ndetector = splice-stall\n",
			 name63);
		CHECK_INT(load_text(longline, &rs, &e), 0);
		CHECK(rs && ioh_ruleset_find(rs, name63));
		ioh_ruleset_free(rs);
		snprintf(longline, sizeof(longline), "[rule %s4]\ndetector = splice-stall\n",
			 name63);
		CHECK_INT(load_text(longline, &rs, &e), -EINVAL);
		CHECK_INT(e.count, 1);
		CHECK(e.count && strstr(e.messages[0], "t.rules:1: invalid rule name \"a2345"));
		ioh_rules_errors_free(&e);
	}
}

static void check_errors(const char *name, const char *text, const char *want)
{
	struct ioh_rules_errors e = {0};
	struct ioh_ruleset *rs = (void *)1;
	const char *files[1];
	char *got, *path;

	write_file("bad", name, text);
	path = path_in("bad", name);
	files[0] = path;
	CHECK_INT(ioh_rules_load_files(files, 1, &rs, &e), -EINVAL);
	CHECK(rs == (void *)1); /* *out untouched on failure */
	got = errors_joined(&e);
	/* want uses "@" for the file's path. */
	{
		char *expect = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&expect, &len);

		for (const char *s = want; *s; s++) {
			if (*s == '@')
				fputs(path, f);
			else
				fputc(*s, f);
		}
		fclose(f);
		CHECK_STR(got, expect);
		free(expect);
	}
	free(got);
	free(path);
	ioh_rules_errors_free(&e);
}

static void test_errors(void)
{
	TEST_CASE("error messages with file:line")
	{
		check_errors(
		    "10-x.rules",
		    "[rule foo]\n"
		    "detector = splice-stall\n"
		    "\n"
		    "# comment\n"
		    "\n"
		    "\n"
		    "windw = 5s\n",
		    "@:7: unknown key \"windw\" in [rule foo] (did you mean \"window\"?)\n");

		check_errors(
		    "values.rules",
		    "[rule rename-without-dir-fsync]\n"
		    "window = 5x\n"
		    "severity = warn\n"
		    "enabled = maybe\n"
		    "exclude =\n"
		    "threshold = -1s\n"
		    "suppress = 99999999999999999999d\n"
		    "min_bytes = 4x\n"
		    "window = 1s\n"
		    "comm_allow = averyveryverylongname short\n"
		    "Severity = info\n"
		    "bogus = 1\n",
		    "@:2: invalid duration \"5x\" for \"window\" in [rule "
		    "rename-without-dir-fsync] (expected a whole number with ns, us, ms, s, "
		    "m, h or d, like 250ms)\n"
		    "@:3: invalid severity \"warn\" in [rule rename-without-dir-fsync] "
		    "(expected info, notice, warning or critical)\n"
		    "@:4: invalid boolean \"maybe\" for \"enabled\" in [rule "
		    "rename-without-dir-fsync] (expected yes or no)\n"
		    "@:5: empty value for \"exclude\" in [rule rename-without-dir-fsync]\n"
		    "@:6: invalid duration \"-1s\" for \"threshold\" in [rule "
		    "rename-without-dir-fsync] (expected a whole number with ns, us, ms, s, "
		    "m, h or d, like 250ms)\n"
		    "@:7: duration \"99999999999999999999d\" for \"suppress\" in [rule "
		    "rename-without-dir-fsync] is too large (at most 7d)\n"
		    "@:8: invalid size \"4x\" for \"min_bytes\" in [rule "
		    "rename-without-dir-fsync] (expected a whole number with B, KiB, MiB, "
		    "GiB or TiB, like 64MiB)\n"
		    "@:9: \"window\" set twice in [rule rename-without-dir-fsync] (first on "
		    "line 2)\n"
		    "@:10: \"averyveryverylongname\" in \"comm_allow\" of [rule "
		    "rename-without-dir-fsync] can never match: the kernel keeps only 15 "
		    "characters of a program name\n"
		    "@:11: unknown key \"Severity\" in [rule rename-without-dir-fsync] (did "
		    "you mean \"severity\"?)\n"
		    "@:12: unknown key \"bogus\" in [rule rename-without-dir-fsync]\n");

		/* Issue 12: a window near 2^64 ns passed and wrapped its deadline. */
		check_errors("durations.rules",
			     "[rule rename-without-dir-fsync]\n"
			     "window = 18446744073709551615ns\n"
			     "[rule splice-stall]\n"
			     "threshold = 8d\n"
			     "[rule dirty-throttle-stall]\n"
			     "suppress = 604801s\n"
			     "[rule mixed-direct-buffered]\n"
			     "window = 7d\n",
			     "@:2: duration \"18446744073709551615ns\" for \"window\" in [rule "
			     "rename-without-dir-fsync] is too large (at most 7d)\n"
			     "@:4: duration \"8d\" for \"threshold\" in [rule splice-stall] is "
			     "too large (at most 7d)\n"
			     "@:6: duration \"604801s\" for \"suppress\" in [rule "
			     "dirty-throttle-stall] is too large (at most 7d)\n");

		check_errors(
		    "sections.rules",
		    "window = 1s\n"
		    "[rule foo]\n"
		    "window = 1s\n"
		    "[frob]\n"
		    "x = 1\n"
		    "[rule a/b]\n"
		    "k = v\n"
		    "[rule]\n"
		    "[rule splice-stall]\n"
		    "[rule splice-stall]\n"
		    "detector = splice-stal\n"
		    "garbage line\n"
		    "= value\n"
		    "[rule x\n"
		    "[rule y] z\n"
		    "[rule myrule]\n"
		    "detector = nope\n",
		    "@:1: key \"window\" outside of a [rule NAME] section\n"
		    "@:2: [rule foo] needs \"detector = NAME\": \"foo\" is not a detector\n"
		    "@:4: unknown section \"[frob]\" (only \"[rule NAME]\" and \"[daemon]\" are "
		    "allowed)\n"
		    "@:6: invalid rule name \"a/b\" (use A-Z a-z 0-9 _ . - and at most 63 "
		    "characters)\n"
		    "@:8: missing rule name in \"[rule]\"\n"
		    "@:10: duplicate rule \"splice-stall\" (first defined on line 9)\n"
		    "@:11: unknown detector \"splice-stal\" in [rule splice-stall] (did you "
		    "mean \"splice-stall\"?)\n"
		    "@:12: expected \"key = value\", \"[rule NAME]\" or a comment, got "
		    "\"garbage line\"\n"
		    "@:13: missing key before \"=\"\n"
		    "@:14: missing \"]\" at the end of the section header\n"
		    "@:15: unexpected text after \"]\": \"z\"\n"
		    "@:17: unknown detector \"nope\" in [rule myrule]\n");

		check_errors("rename-without-dir-fsnc.rules",
			     "[rule rename-without-dir-fsnc]\nwindow = 1s\n",
			     "@:1: [rule rename-without-dir-fsnc] needs \"detector = NAME\": "
			     "\"rename-without-dir-fsnc\" is not a detector (did you mean "
			     "\"rename-without-dir-fsync\"?)\n");
	}

	TEST_CASE("errors from several files are all collected")
	{
		struct ioh_rules_errors e = {0};
		struct ioh_ruleset *rs = NULL;
		char *a, *b, *missing, *got, *want;
		const char *files[3];

		write_file("multi", "a.rules", "[rule splice-stall]\nwindow = x\n");
		write_file("multi", "b.rules", "[rule splice-stall]\nseverity = high\n");
		a = path_in("multi", "a.rules");
		b = path_in("multi", "b.rules");
		missing = path_in("multi", "missing.rules");
		files[0] = a;
		files[1] = missing;
		files[2] = b;
		CHECK(ioh_rules_load_files(files, 3, &rs, &e) < 0);
		CHECK(rs == NULL);
		got = errors_joined(&e);
		if (asprintf(
			&want,
			"%s:2: invalid duration \"x\" for \"window\" in [rule splice-stall] "
			"(expected a whole number with ns, us, ms, s, m, h or d, like 250ms)\n"
			"%s: cannot open: No such file or directory\n"
			"%s:2: invalid severity \"high\" in [rule splice-stall] (expected info, "
			"notice, warning or critical)\n",
			a, missing, b) < 0)
			abort();
		CHECK_STR(got, want);
		free(got);
		free(want);
		free(a);
		free(b);
		free(missing);
		ioh_rules_errors_free(&e);
	}

	TEST_CASE("unreadable file is an error")
	{
		struct ioh_rules_errors e = {0};
		struct ioh_ruleset *rs = NULL;
		const char *dirs[1];
		char *d, *got, *want;

		if (asprintf(&d, "%s/unreadable", tmpdir) < 0)
			abort();
		write_file("unreadable", "ok.rules", "[rule splice-stall]\n");
		write_file("unreadable", "secret.rules", "[rule splice-stall]\n");
		write_file("unreadable", "dir.rules", "");
		{
			char *p = path_in("unreadable", "dir.rules");

			unlink(p);
			mkdir(p, 0755);
			free(p);
		}
		dirs[0] = d;
		if (geteuid() != 0) {
			char *p = path_in("unreadable", "secret.rules");

			chmod(p, 0);
			free(p);
		}
		CHECK(ioh_rules_load_dirs(dirs, 1, &rs, &e) < 0);
		CHECK(rs == NULL);
		got = errors_joined(&e);
		if (geteuid() != 0) {
			if (asprintf(&want,
				     "%s/dir.rules: not a regular file\n"
				     "%s/secret.rules: cannot open: Permission denied\n",
				     d, d) < 0)
				abort();
		} else if (asprintf(&want, "%s/dir.rules: not a regular file\n", d) < 0) {
			abort();
		}
		CHECK_STR(got, want);
		free(got);
		free(want);
		free(d);
		ioh_rules_errors_free(&e);
	}
}

static void test_search_path(void)
{
	struct ioh_rules_errors e = {0};
	struct ioh_ruleset *rs = NULL;
	char *vendor, *admin, *run, *nodir;
	const char *dirs[4];
	const struct ioh_rule *r;
	struct ioh_strlist files = {0};

	if (asprintf(&vendor, "%s/usr-lib", tmpdir) < 0 || asprintf(&admin, "%s/etc", tmpdir) < 0 ||
	    asprintf(&run, "%s/run", tmpdir) < 0 || asprintf(&nodir, "%s/missing", tmpdir) < 0)
		abort();
	/* vendor: defaults in 50-default, plus a rule that the admin's same-named file drops. */
	write_file("usr-lib", "50-default.rules",
		   "[rule splice-stall]\nthreshold = 1s\nexclude = /vendor/*\n"
		   "[rule dropped]\ndetector = splice-stall\n");
	write_file("usr-lib", "10-early.rules",
		   "[rule dirty-throttle-stall]\nthreshold = 10ms\n"
		   "[rule fsync-error-retried]\n");
	write_file("usr-lib", "90-late.rules", "[rule writeback-mount]\nseverity = info\n");
	write_file("usr-lib", "README", "not a rules file\n");
	write_file("usr-lib", ".hidden.rules", "garbage\n");
	/* admin: replaces 50-default wholesale; 60-admin redefines a rule of 10-early. */
	write_file("etc", "50-default.rules", "[rule splice-stall]\nthreshold = 2s\n");
	write_file("etc", "60-admin.rules",
		   "[rule dirty-throttle-stall]\nseverity = critical\n"
		   "[rule my-splice]\ndetector = splice-stall\nenabled = no\n");
	/* run: replaces 90-late; a rule here wins over everything with the same name. */
	write_file("run", "90-late.rules", "[rule writeback-mount]\nseverity = notice\n");
	write_file("run", "70-runtime.rules", "[rule fsync-error-retried]\nseverity = info\n");

	dirs[0] = vendor;
	dirs[1] = nodir; /* a missing directory is fine */
	dirs[2] = admin;
	dirs[3] = run;

	TEST_CASE("search path: files")
	{
		CHECK_INT(ioh_rules_list_files(dirs, 4, &files, &e), 0);
		CHECK_INT(files.count, 5);
		if (files.count == 5) {
			char *want[5];

			if (asprintf(&want[0], "%s/10-early.rules", vendor) < 0 ||
			    asprintf(&want[1], "%s/50-default.rules", admin) < 0 ||
			    asprintf(&want[2], "%s/60-admin.rules", admin) < 0 ||
			    asprintf(&want[3], "%s/70-runtime.rules", run) < 0 ||
			    asprintf(&want[4], "%s/90-late.rules", run) < 0)
				abort();
			for (int i = 0; i < 5; i++) {
				CHECK_STR(files.items[i], want[i]);
				free(want[i]);
			}
		}
		ioh_strlist_free(&files);
	}

	TEST_CASE("search path: merge order")
	{
		CHECK_INT(ioh_rules_load_dirs(dirs, 4, &rs, &e), 0);
		CHECK_INT(e.count, 0);
		CHECK(rs != NULL);
		if (!rs)
			return;
		CHECK_INT(rs->files.count, 5);
		/* Order of effective definitions: 10-early's fsync rule was redefined in 70. */
		CHECK_INT(rs->count, 5);
		if (rs->count == 5) {
			CHECK_STR(rs->rules[0].name, "splice-stall");
			CHECK_STR(rs->rules[1].name, "dirty-throttle-stall");
			CHECK_STR(rs->rules[2].name, "my-splice");
			CHECK_STR(rs->rules[3].name, "fsync-error-retried");
			CHECK_STR(rs->rules[4].name, "writeback-mount");
		}
		r = ioh_ruleset_find(rs, "splice-stall");
		CHECK(r && r->threshold_ns == 2000000000ULL);
		CHECK(r && r->exclude_paths.count == 0); /* vendor file replaced wholesale */
		CHECK(ioh_ruleset_find(rs, "dropped") == NULL);
		r = ioh_ruleset_find(rs, "dirty-throttle-stall");
		/* Rule redefinition replaces wholesale: 10ms from 10-early is gone. */
		CHECK(r && r->threshold_ns == 50000000ULL && r->severity == IOH_SEV_CRITICAL);
		CHECK(r && strstr(r->source_file, "/etc/60-admin.rules") && r->source_line == 1);
		r = ioh_ruleset_find(rs, "fsync-error-retried");
		CHECK(r && r->severity == IOH_SEV_INFO);
		r = ioh_ruleset_find(rs, "writeback-mount");
		CHECK(r && r->severity == IOH_SEV_NOTICE);
		{
			size_t n = 99;
			const struct ioh_rule **v =
			    ioh_ruleset_for_detector(rs, "splice-stall", &n);

			/* my-splice is disabled, so only the one rule. */
			CHECK_INT(n, 1);
			CHECK(v && v[0] && !strcmp(v[0]->name, "splice-stall") && v[1] == NULL);
			free(v);
			v = ioh_ruleset_for_detector(rs, "mixed-direct-buffered", &n);
			CHECK_INT(n, 0);
			CHECK(v && v[0] == NULL);
			free(v);
		}
		ioh_ruleset_free(rs);
	}

	TEST_CASE("search path: /dev/null masks a vendor file")
	{
		char *p = path_in("etc", "50-default.rules");

		unlink(p);
		CHECK_INT(symlink("/dev/null", p), 0);
		CHECK_INT(ioh_rules_load_dirs(dirs, 4, &rs, &e), 0);
		CHECK(rs && ioh_ruleset_find(rs, "splice-stall") == NULL);
		CHECK(rs && ioh_ruleset_find(rs, "dropped") == NULL);
		CHECK(rs && rs->count == 4);
		ioh_ruleset_free(rs);
		free(p);
	}

	TEST_CASE("no directories at all: empty rule set")
	{
		CHECK_INT(ioh_rules_load_dirs((const char *const[]){nodir}, 1, &rs, &e), 0);
		CHECK(rs && rs->count == 0 && rs->files.count == 0);
		ioh_ruleset_free(rs);
		CHECK(ioh_rules_default_dirs_count == 3);
		CHECK_STR(ioh_rules_default_dirs[0], "/usr/lib/iohazard/rules.d");
		CHECK_STR(ioh_rules_default_dirs[1], "/etc/iohazard/rules.d");
		CHECK_STR(ioh_rules_default_dirs[2], "/run/iohazard/rules.d");
	}
	free(vendor);
	free(admin);
	free(run);
	free(nodir);
}

static void test_matching(void)
{
	struct ioh_rules_errors e;
	struct ioh_ruleset *rs;
	const struct ioh_rule *r, *plain;

	CHECK_INT(load_text("[rule rename-without-dir-fsync]\n"
			    "exclude = /tmp/* /var/tmp/*\n"
			    "[rule scoped]\n"
			    "detector = rename-without-dir-fsync\n"
			    "include = /srv/*\n"
			    "exclude = /srv/cache/*\n"
			    "fstypes = ext4 fuse.*\n"
			    "comm_allow = nginx post*\n"
			    "comm_deny = postgres\n"
			    "unit_allow = nginx.service app-*.scope\n"
			    "unit_deny = app-bad.scope\n"
			    "[rule off]\n"
			    "detector = splice-stall\n"
			    "enabled = no\n",
			    &rs, &e),
		  0);
	if (!rs)
		return;
	plain = ioh_ruleset_find(rs, "rename-without-dir-fsync");
	r = ioh_ruleset_find(rs, "scoped");

	TEST_CASE("matching: empty lists and fstypes")
	{
		CHECK(ioh_rule_matches(plain, "/srv/a", "ext4", "x", NULL));
		CHECK(ioh_rule_matches(plain, "/srv/a", NULL, NULL, NULL)); /* unknowns */
		CHECK(ioh_rule_matches(plain, NULL, "xfs", "x", ""));
		CHECK(!ioh_rule_matches(plain, "/srv/a", "tmpfs", "x", NULL));
		CHECK(!ioh_rule_matches(plain, "/srv/a", "nfs4", "x", NULL));
		/* No FNM_PATHNAME: "*" crosses "/". */
		CHECK(!ioh_rule_matches(plain, "/tmp/a/b/c", "ext4", "x", NULL));
		CHECK(!ioh_rule_matches(plain, "/var/tmp/x", "ext4", "x", NULL));
		CHECK(ioh_rule_matches(plain, "/tmp", "ext4", "x", NULL));
		CHECK(ioh_rule_matches(plain, "/tmpfoo/x", "ext4", "x", NULL));
		CHECK(!ioh_rule_matches(ioh_ruleset_find(rs, "off"), "/srv/a", "ext4", "x", NULL));
		CHECK(!ioh_rule_matches(NULL, "/srv/a", "ext4", "x", NULL));
	}

	TEST_CASE("matching: include, exclude, comm, unit")
	{
		CHECK(ioh_rule_matches(r, "/srv/app/x", "ext4", "nginx", "nginx.service"));
		CHECK(ioh_rule_matches(r, "/srv/app/x", "fuse.sshfs", "postmaster", "app-1.scope"));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "xfs", "nginx", "nginx.service"));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", NULL, "nginx", "nginx.service"));
		CHECK(!ioh_rule_matches(r, "/home/x", "ext4", "nginx", "nginx.service"));
		CHECK(!ioh_rule_matches(r, NULL, "ext4", "nginx", "nginx.service"));
		CHECK(!ioh_rule_matches(r, "/srv/cache/deep/x", "ext4", "nginx", "nginx.service"));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "ext4", "postgres", "nginx.service"));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "ext4", "sed", "nginx.service"));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "ext4", NULL, "nginx.service"));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "ext4", "nginx", NULL));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "ext4", "nginx", ""));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "ext4", "nginx", "other.service"));
		CHECK(!ioh_rule_matches(r, "/srv/app/x", "ext4", "nginx", "app-bad.scope"));
	}
	ioh_ruleset_free(rs);
	ioh_rules_errors_free(&e);
}

static void round_trip(const char *what, const struct ioh_ruleset *rs)
{
	struct ioh_rules_errors e = {0};
	struct ioh_ruleset *again = NULL;
	char *first = printed(rs), *second;

	CHECK_INT(ioh_rules_load_buffer("shown.rules", first, strlen(first), &again, &e), 0);
	CHECK_INT(e.count, 0);
	for (size_t i = 0; i < e.count; i++)
		printf("# %s: %s\n", what, e.messages[i]);
	CHECK(again && again->count == rs->count);
	for (size_t i = 0; again && i < again->count && i < rs->count; i++) {
		const struct ioh_rule *a = &rs->rules[i], *b = &again->rules[i];

		CHECK_STR(b->name, a->name);
		CHECK_STR(b->detector, a->detector);
		CHECK(a->enabled == b->enabled && a->severity == b->severity &&
		      a->window_ns == b->window_ns && a->threshold_ns == b->threshold_ns &&
		      a->suppress_ns == b->suppress_ns && a->min_bytes == b->min_bytes);
		CHECK(a->exclude_paths.count == b->exclude_paths.count &&
		      a->include_paths.count == b->include_paths.count &&
		      a->comm_allow.count == b->comm_allow.count);
	}
	/* Printing again gives the same text but for the "# from" comments. */
	second = printed(again);
	{
		char *s1 = strdup(first), *s2 = strdup(second);
		size_t n1 = 0, n2 = 0;

		/* Drop "# from" lines. */
		for (char *src = first, *dst = s1; *src;) {
			char *nl = strchr(src, '\n');
			size_t len = nl ? (size_t)(nl - src) + 1 : strlen(src);

			if (strncmp(src, "# from ", 7) != 0) {
				memcpy(dst, src, len);
				dst += len;
				n1 += len;
			}
			src += len;
			*dst = '\0';
		}
		for (char *src = second, *dst = s2; *src;) {
			char *nl = strchr(src, '\n');
			size_t len = nl ? (size_t)(nl - src) + 1 : strlen(src);

			if (strncmp(src, "# from ", 7) != 0) {
				memcpy(dst, src, len);
				dst += len;
				n2 += len;
			}
			src += len;
			*dst = '\0';
		}
		CHECK(n1 > 0 && n1 == n2);
		CHECK_STR(s2, s1);
		free(s1);
		free(s2);
	}
	CHECK(strstr(second, "# from shown.rules:") != NULL);
	free(first);
	free(second);
	ioh_ruleset_free(again);
	ioh_rules_errors_free(&e);
}

static void test_print(void)
{
	struct ioh_rules_errors e = {0};
	struct ioh_ruleset *rs = NULL;
	char path[4096], *out;
	const char *src = getenv("IOH_SRC");
	char longline[2048];
	size_t n;

	TEST_CASE("print format")
	{
		CHECK_INT(load_text("[rule my.rule_1]\ndetector = dirty-throttle-stall\n"
				    "threshold = 1500ms\nsuppress = 90s\nwindow = 3600s\n"
				    "min_bytes = 4096\nexclude = /a/* /b/*\ncomm_deny = x\n",
				    &rs, &e),
			  0);
		out = rs ? printed(rs) : NULL;
		CHECK_STR(out, "# from t.rules:1\n"
			       "[rule my.rule_1]\n"
			       "detector = dirty-throttle-stall\n"
			       "enabled = yes\n"
			       "severity = warning\n"
			       "window = 1h\n"
			       "threshold = 1500ms\n"
			       "suppress = 90s\n"
			       "min_bytes = 4KiB\n"
			       "exclude = /a/* /b/*\n"
			       "comm_deny = x\n");
		free(out);
		if (rs)
			round_trip("small", rs);
		ioh_ruleset_free(rs);
		rs = NULL;
	}

	TEST_CASE("round trip: shipped 10-default.rules")
	{
		snprintf(path, sizeof(path), "%s/rules/10-default.rules", src ? src : ".");
		CHECK_INT(ioh_rules_load_files((const char *const[]){path}, 1, &rs, &e), 0);
		for (size_t i = 0; i < e.count; i++)
			printf("# %s\n", e.messages[i]);
		CHECK(rs && rs->count == 8);
		for (size_t i = 0; rs && i < IOH_RULE__COUNT; i++)
			CHECK(ioh_ruleset_find(rs, ioh_rule_kinds[i].name) != NULL);
		if (rs) {
			const struct ioh_rule *r = ioh_ruleset_find(rs, "rename-without-dir-fsync");

			CHECK(r && r->window_ns == 5000000000ULL &&
			      r->suppress_ns == 600000000000ULL);
			CHECK(r && ioh_rule_matches(r, "/srv/x", "ext4", "sed", NULL));
			CHECK(r && !ioh_rule_matches(r, "/tmp/x", "ext4", "sed", NULL));
			CHECK(r && !ioh_rule_matches(r, "/dev/shm/x", "ext4", "sed", NULL));
			round_trip("10-default.rules", rs);
		}
		ioh_ruleset_free(rs);
		rs = NULL;
		ioh_rules_errors_free(&e);
	}

	TEST_CASE("round trip: long lists wrap")
	{
		n = (size_t)snprintf(longline, sizeof(longline),
				     "[rule a]\ndetector = splice-stall\nsuppress = 0\n");
		for (int i = 0; i < 40; i++)
			n += (size_t)snprintf(longline + n, sizeof(longline) - n,
					      "exclude = /some/long/path/%02d/*\n", i);
		snprintf(longline + n, sizeof(longline) - n,
			 "[rule b]\ndetector = splice-stall\nenabled = no\nseverity = info\n"
			 "threshold = 1ns\nwindow = 7us\nmin_bytes = 3GiB\ncomm_allow = a?c [xy]z\n"
			 "unit_allow = x.service\nunit_deny = y.service\nfstypes = ext4\n"
			 "include = /p\ncomm_deny = q\n");
		CHECK_INT(load_text(longline, &rs, &e), 0);
		if (rs)
			round_trip("lists", rs);
		ioh_ruleset_free(rs);
		rs = NULL;
	}

	TEST_CASE("print of an empty set")
	{
		struct ioh_ruleset empty = {0};

		out = printed(&empty);
		CHECK_STR(out, "# no rules\n");
		free(out);
	}
}

static void test_hostile(void)
{
	struct ioh_rules_errors e;
	struct ioh_ruleset *rs;
	size_t cap = 2 * 1024 * 1024, n = 0;
	char *big = malloc(cap);

	TEST_CASE("hostile: 100k sections")
	{
		for (int i = 0; i < 100000 && n + 64 < cap; i++)
			n += (size_t)snprintf(big + n, cap - n, "[rule r%d]\n", i);
		/* Too large for one file: rejected before parsing. */
		CHECK(ioh_rules_load_buffer("big.rules", big, n, &rs, &e) == -EFBIG);
		CHECK_INT(e.count, 1);
		ioh_rules_errors_free(&e);
		/* Under the size limit: parsing stops at the rule limit with one message. */
		n = 0;
		for (int i = 0; i < 60000 && n + 64 < IOH_RULES_FILE_MAX; i++)
			n += (size_t)snprintf(big + n, cap - n,
					      "[rule r%d]\ndetector=splice-stall\n", i);
		memset(&e, 0, sizeof(e));
		CHECK_INT(ioh_rules_load_buffer("many.rules", big, n, &rs, &e), -EINVAL);
		CHECK_INT(e.count, 1);
		CHECK(e.count && strstr(e.messages[0], "too many rules in one file (max 1024)"));
		ioh_rules_errors_free(&e);
	}

	TEST_CASE("hostile: errors are capped")
	{
		n = 0;
		for (int i = 0; i < 50000 && n + 64 < IOH_RULES_FILE_MAX; i++)
			n += (size_t)snprintf(big + n, cap - n, "[junk%d]\n", i);
		memset(&e, 0, sizeof(e));
		CHECK_INT(ioh_rules_load_buffer("junk.rules", big, n, &rs, &e), -EINVAL);
		CHECK_INT(e.count, IOH_RULES_ERRORS_MAX);
		CHECK(e.count && strstr(e.messages[e.count - 1], "too many errors, giving up"));
		ioh_rules_errors_free(&e);
	}

	TEST_CASE("hostile: binary, NULs, long lines, many list entries")
	{
		static const char nul[] = "[rule splice-stall]\nwindow = 1s\0garbage\n";

		memset(&e, 0, sizeof(e));
		CHECK_INT(ioh_rules_load_buffer("nul.rules", nul, sizeof(nul) - 1, &rs, &e),
			  -EINVAL);
		CHECK(e.count == 1 &&
		      !strcmp(e.messages[0], "nul.rules:2: invalid control character 0x00 in "
					     "column 12"));
		ioh_rules_errors_free(&e);

		for (size_t i = 0; i < 100000; i++)
			big[i] = (char)((i * 7919 + 13) & 0xff);
		memset(&e, 0, sizeof(e));
		CHECK(ioh_rules_load_buffer("bin.rules", big, 100000, &rs, &e) < 0);
		CHECK(e.count > 0 && e.count <= IOH_RULES_ERRORS_MAX);
		ioh_rules_errors_free(&e);

		memset(big, 'a', 100000);
		memcpy(big, "[rule splice-stall]\nexclude = ", 30);
		big[100000] = '\0';
		CHECK_INT(load_text(big, &rs, &e), -EINVAL);
		CHECK(e.count == 1 &&
		      !strcmp(e.messages[0], "t.rules:2: line too long (max 4096 bytes)"));
		ioh_rules_errors_free(&e);

		n = (size_t)snprintf(big, cap, "[rule splice-stall]\n");
		for (int i = 0; i < 300; i++)
			n += (size_t)snprintf(big + n, cap - n, "exclude = /x%d\n", i);
		CHECK_INT(load_text(big, &rs, &e), -EINVAL);
		CHECK_INT(e.count, 300 - IOH_RULES_LIST_MAX);
		CHECK(e.count && !strcmp(e.messages[0], "t.rules:258: too many entries for "
							"\"exclude\" in [rule splice-stall] "
							"(max 256)"));
		ioh_rules_errors_free(&e);

		/* One entry longer than IOH_RULES_VALUE_MAX, in a long line. */
		n = (size_t)snprintf(big, cap, "[rule splice-stall]\nexclude = /ok ");
		memset(big + n, 'b', 300);
		strcpy(big + n + 300, " /ok2\n");
		CHECK_INT(load_text(big, &rs, &e), -EINVAL);
		CHECK(e.count == 1 && strstr(e.messages[0], "t.rules:2: value \"bbbb") &&
		      strstr(e.messages[0], "...\" for \"exclude\" in [rule splice-stall] is too "
					    "long (max 160 bytes)"));
		ioh_rules_errors_free(&e);

		/* A lone CR is not whitespace. */
		CHECK_INT(load_text("[rule splice-stall]\nexclude = a \r b\n", &rs, &e), -EINVAL);
		CHECK(e.count == 1 && !strcmp(e.messages[0], "t.rules:2: invalid control "
							     "character 0x0d in column 13"));
		ioh_rules_errors_free(&e);

		CHECK_INT(load_text("[rule splice-stall]\nexclude =;x\n", &rs, &e), -EINVAL);
		CHECK(e.count == 1 &&
		      !strcmp(e.messages[0], "t.rules:2: value \";x\" for "
					     "\"exclude\" in [rule splice-stall] may "
					     "not start with \";\""));
		ioh_rules_errors_free(&e);

		/* "key: value" and a comment after the section header. */
		CHECK_INT(load_text("[rule splice-stall] ; c\nthreshold: 1s\n", &rs, &e), 0);
		CHECK(rs && rs->rules[0].threshold_ns == 1000000000ULL);
		ioh_ruleset_free(rs);

		/* A UTF-8 byte order mark and CRLF line ends are fine. */
		CHECK_INT(load_text("\xef\xbb\xbf[rule splice-stall]\r\nwindow = 2s\r\n", &rs, &e),
			  0);
		CHECK(rs && rs->rules[0].window_ns == 2000000000ULL);
		ioh_ruleset_free(rs);
	}
	free(big);
}

/* The shipped rules parse, and known-regenerable files are excluded from both rename rules
 * while everything else PostgreSQL (or anyone) renames is not (issue 14). */
static void test_shipped_regenerable(void)
{
	static const char *const excluded[] = {
	    "/var/lib/postgresql/16/main/global/pg_internal.init",
	    "/var/lib/postgresql/16/main/base/16384/pg_internal.init",
	    "/var/lib/postgresql/16/main/pg_stat/pgstat.stat",
	    "/var/lib/pgsql/data/pg_stat/global.stat",
	    "/var/lib/pgsql/data/pg_stat/db_16384.stat",
	    "/var/lib/postgresql/13/main/pg_stat_tmp/global.stat",
	    "/var/lib/postgresql/13/main/pg_stat_tmp/db_0.stat",
	};
	static const char *const reported[] = {
	    "/srv/app/config.json",
	    /* ALTER SYSTEM: PostgreSQL fsyncs it (durable_rename); a lapse must be seen. */
	    "/var/lib/postgresql/16/main/postgresql.auto.conf",
	    "/var/lib/postgresql/16/main/pg_stat/pg_stat_statements.stat",
	    "/var/lib/postgresql/16/main/base/16384/16385",
	    "/home/u/pg_internal.init.bak",
	    "/home/u/pg_stat/notes.txt",
	};
	static const char *const rules[] = {"rename-without-dir-fsync", "rename-unsynced-source"};
	const char *src = getenv("IOH_SRC");
	struct ioh_rules_errors e = {0};
	struct ioh_ruleset *rs = NULL;
	char path[512];
	const char *files[1] = {path};

	TEST_CASE("shipped rules: known-regenerable files are excluded from the rename rules")
	{
		snprintf(path, sizeof(path), "%s/rules/10-default.rules", src ? src : ".");
		CHECK_INT(ioh_rules_load_files(files, 1, &rs, &e), 0);
		CHECK_INT(e.count, 0);
		for (size_t k = 0; rs && k < 2; k++) {
			const struct ioh_rule *r = ioh_ruleset_find(rs, rules[k]);

			CHECK(r != NULL);
			if (!r)
				continue;
			for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++) {
				if (ioh_rule_matches(r, excluded[i], "ext4", "postgres", NULL))
					printf("# %s still applies to %s\n", rules[k], excluded[i]);
				CHECK(!ioh_rule_matches(r, excluded[i], "ext4", "postgres", NULL));
			}
			for (size_t i = 0; i < sizeof(reported) / sizeof(reported[0]); i++) {
				if (!ioh_rule_matches(r, reported[i], "ext4", "postgres", NULL))
					printf("# %s does not apply to %s\n", rules[k],
					       reported[i]);
				CHECK(ioh_rule_matches(r, reported[i], "ext4", "postgres", NULL));
			}
		}
		ioh_ruleset_free(rs);
		ioh_rules_errors_free(&e);
	}
}

/* The vendor rules compiled in: used only when no directory holds a *.rules file. */
static void test_builtin(void)
{
	const char *src = getenv("IOH_SRC");
	struct ioh_rules_errors e = {0};
	struct ioh_ruleset *rs = NULL, *shipped = NULL;
	char path[512], *empty, *masked, *missing, *other;
	const char *files[1] = {path};
	const char *dirs[2];

	if (asprintf(&empty, "%s/builtin-empty", tmpdir) < 0 ||
	    asprintf(&masked, "%s/builtin-masked", tmpdir) < 0 ||
	    asprintf(&missing, "%s/builtin-missing", tmpdir) < 0 ||
	    asprintf(&other, "%s/builtin-other", tmpdir) < 0)
		abort();
	mkdir(empty, 0755);
	write_file("builtin-empty", "README", "not a rules file\n");
	write_file("builtin-masked", "10-default.rules", "# masks the vendor file\n");
	write_file("builtin-other", "50-site.rules", "[rule splice-stall]\nthreshold = 1s\n");

	TEST_CASE("built-in rules: the text is rules/10-default.rules")
	{
		FILE *f;
		char *text = NULL;
		size_t len = 0, n;

		snprintf(path, sizeof(path), "%s/rules/10-default.rules", src ? src : ".");
		f = fopen(path, "r");
		CHECK(f != NULL);
		if (f) {
			text = malloc(ioh_builtin_rules_len + 2);
			n = text ? fread(text, 1, ioh_builtin_rules_len + 1, f) : 0;
			len = n;
			fclose(f);
		}
		CHECK_INT(len, ioh_builtin_rules_len);
		CHECK(text && len == ioh_builtin_rules_len &&
		      memcmp(text, ioh_builtin_rules_text, len) == 0);
		free(text);
	}
	TEST_CASE("built-in rules: no *.rules file in the search path")
	{
		dirs[0] = missing;
		dirs[1] = empty;
		CHECK_INT(ioh_rules_load_search_path(dirs, 2, &rs, &e), 0);
		CHECK_INT(ioh_rules_load_files(files, 1, &shipped, &e), 0);
		CHECK(rs && rs->builtin);
		CHECK(rs && shipped && rs->count == shipped->count && rs->count >= 8);
		for (size_t i = 0; rs && shipped && i < shipped->count; i++) {
			const struct ioh_rule *b = ioh_ruleset_find(rs, shipped->rules[i].name);

			CHECK(b && b->window_ns == shipped->rules[i].window_ns &&
			      b->threshold_ns == shipped->rules[i].threshold_ns &&
			      b->severity == shipped->rules[i].severity &&
			      b->exclude_paths.count == shipped->rules[i].exclude_paths.count);
		}
		CHECK(rs && rs->files.count == 1 &&
		      strcmp(rs->files.items[0], ioh_builtin_rules_name) == 0);
		ioh_ruleset_free(rs);
		ioh_ruleset_free(shipped);
		rs = shipped = NULL;
	}
	TEST_CASE("built-in rules: any *.rules file wins, even an empty one (masking)")
	{
		dirs[0] = masked;
		CHECK_INT(ioh_rules_load_search_path(dirs, 1, &rs, &e), 0);
		CHECK(rs && !rs->builtin && rs->count == 0);
		ioh_ruleset_free(rs);
		dirs[0] = empty;
		dirs[1] = other;
		CHECK_INT(ioh_rules_load_search_path(dirs, 2, &rs, &e), 0);
		CHECK(rs && !rs->builtin && rs->count == 1);
		ioh_ruleset_free(rs);
		rs = NULL;
	}
	ioh_rules_errors_free(&e);
	free(empty);
	free(masked);
	free(missing);
	free(other);
}

static void rm_rf(const char *dir)
{
	char *cmd;

	if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
		abort();
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
}

/* [daemon] stacks = no|yes (issue 15): the last file that says wins; other keys and values
 * are errors. */
static void test_daemon_section(void)
{
	struct ioh_rules_errors e = {0};
	struct ioh_ruleset *rs = NULL;
	const char *off = "[daemon]\nstacks = no\n[rule r]\ndetector = splice-stall\n";
	const char *on = "[daemon]\nstacks = yes ; comment\n";

	CHECK_INT(ioh_rules_load_buffer("d.rules", off, strlen(off), &rs, &e), 0);
	CHECK(rs && rs->no_stacks && rs->count == 1);
	ioh_ruleset_free(rs);
	rs = NULL;
	CHECK_INT(ioh_rules_load_buffer("d.rules", on, strlen(on), &rs, &e), 0);
	CHECK(rs && !rs->no_stacks);
	ioh_ruleset_free(rs);
	check_errors("daemon.rules", "[daemon]\nstacks = maybe\nframes = 3\n",
		     "@:2: invalid value \"maybe\" for \"stacks\" (yes or no)\n"
		     "@:3: unknown key \"frames\" in [daemon] (known: stacks)\n");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_units();
	test_fstypes();
	test_defaults();
	test_keys();
	test_errors();
	test_search_path();
	test_matching();
	test_print();
	test_hostile();
	test_shipped_regenerable();
	test_builtin();
	test_daemon_section();
	rm_rf(tmpdir);
	return check_summary();
}
