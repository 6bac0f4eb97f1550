// SPDX-License-Identifier: GPL-2.0-only
/*
 * The journald sink without a journal: the fields built for a finding (every JSON key, the
 * priority mapping, null keys left out), hostile values kept byte for byte in IOHAZARD_*
 * fields and escaped in MESSAGE, and the MESSAGE_ID table (one valid, unique id per rule).
 */
#include <ctype.h>
#include <stdlib.h>

#include "daemon/rules/registry.h"
#include "daemon/sinks/journal.h"
#include "tests/unit/check.h"

static const char *const design_rules[] = {
    "rename-without-dir-fsync",	   "rename-unsynced-source", "mixed-direct-buffered",
    "dirty-throttle-stall",	   "splice-stall",	     "writeback-mount",
    "writeback-truncate-unsynced", "fsync-error-retried",
};

/* The value of field `name` (a copy, NUL-terminated; *len its length) or NULL. */
static char *field(const struct ioh_journal_fields *jf, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	char *v;

	for (size_t i = 0; i < jf->n; i++) {
		const char *b = jf->iov[i].iov_base;
		size_t l = jf->iov[i].iov_len;

		if (l > nl && memcmp(b, name, nl) == 0 && b[nl] == '=') {
			v = malloc(l - nl);
			memcpy(v, b + nl + 1, l - nl - 1);
			v[l - nl - 1] = '\0';
			if (len)
				*len = l - nl - 1;
			return v;
		}
	}
	return NULL;
}

static int count_fields(const struct ioh_journal_fields *jf, const char *name)
{
	size_t nl = strlen(name);
	int n = 0;

	for (size_t i = 0; i < jf->n; i++)
		if (jf->iov[i].iov_len > nl && memcmp(jf->iov[i].iov_base, name, nl) == 0 &&
		    ((const char *)jf->iov[i].iov_base)[nl] == '=')
			n++;
	return n;
}

#define CHECK_FIELD(jf, name, want)                                                                \
	do {                                                                                       \
		char *v_ = field((jf), (name), NULL);                                              \
		CHECK_STR(v_, (want));                                                             \
		free(v_);                                                                          \
	} while (0)

/* Field names journald accepts: [A-Z0-9_], not starting with '_' or a digit, <= 64 bytes. */
static int names_valid(const struct ioh_journal_fields *jf)
{
	for (size_t i = 0; i < jf->n; i++) {
		const char *b = jf->iov[i].iov_base;
		const char *eq = memchr(b, '=', jf->iov[i].iov_len);
		size_t nl;

		if (!eq || eq == b || b[0] == '_' || isdigit((unsigned char)b[0]))
			return 0;
		nl = (size_t)(eq - b);
		if (nl > 64)
			return 0;
		for (size_t k = 0; k < nl; k++)
			if (!(isupper((unsigned char)b[k]) || isdigit((unsigned char)b[k]) ||
			      b[k] == '_'))
				return 0;
	}
	return 1;
}

static void base_finding(struct ioh_finding *f)
{
	memset(f, 0, sizeof(*f));
	f->ts_ns = 1000000000ull;
	f->rule = "rename-without-dir-fsync";
	f->severity = IOH_SEV_WARNING;
	f->pid = 4242;
	strcpy(f->comm, "sed");
	f->cgroup = "/system.slice/nginx.service";
	f->file.dev = (254u << 20) | 3u;
	f->file.ino = 1234567;
	f->path = "/srv/app/config.json";
	f->fstype = "ext4";
	snprintf(f->message, sizeof(f->message), "renamed into /srv/app but not fsynced");
	f->fix = "fsync(2) the parent directory after rename(2)";
	ioh_finding_add_str(f, "directory", "/srv/app");
	ioh_finding_add_duration(f, "window", 5000000000ull);
	ioh_finding_add_bool(f, "file_fsynced", true);
}

static void test_plain(void)
{
	struct ioh_journal_fields jf;
	struct ioh_finding f;
	/* 1 s monotonic + offset = 2026-11-21T19:40:01Z */
	int64_t offset = 1795290000ll * 1000000000ll;

	base_finding(&f);
	ioh_journal_fields_init(&jf);
	TEST_CASE("plain finding")
	{
		CHECK_INT(ioh_journal_build_fields(&f, offset, &jf), 0);
		CHECK(names_valid(&jf));
		CHECK_FIELD(&jf, "MESSAGE",
			    "rename-without-dir-fsync: sed[4242] (nginx.service) "
			    "/srv/app/config.json: renamed into /srv/app but not "
			    "fsynced");
		CHECK_FIELD(&jf, "MESSAGE_ID", "82e1c9cf451148419450c3aab90f0204");
		CHECK_FIELD(&jf, "PRIORITY", "4");
		CHECK_FIELD(&jf, "SYSLOG_IDENTIFIER", "iohazardd");
		CHECK_FIELD(&jf, "IOHAZARD_TIME", "2026-11-21T19:40:01.000000000Z");
		CHECK_FIELD(&jf, "IOHAZARD_RULE", "rename-without-dir-fsync");
		CHECK_FIELD(&jf, "IOHAZARD_SEVERITY", "warning");
		CHECK_FIELD(&jf, "IOHAZARD_CONFIDENCE", "high");
		CHECK_FIELD(&jf, "IOHAZARD_PID", "4242");
		CHECK_FIELD(&jf, "IOHAZARD_COMM", "sed");
		CHECK_FIELD(&jf, "IOHAZARD_UNIT", "nginx.service");
		CHECK_FIELD(&jf, "IOHAZARD_CGROUP", "/system.slice/nginx.service");
		CHECK_FIELD(&jf, "IOHAZARD_DEV", "254:3");
		CHECK_FIELD(&jf, "IOHAZARD_INO", "1234567");
		CHECK_FIELD(&jf, "IOHAZARD_PATH", "/srv/app/config.json");
		CHECK_FIELD(&jf, "IOHAZARD_FSTYPE", "ext4");
		CHECK_FIELD(&jf, "IOHAZARD_MESSAGE", "renamed into /srv/app but not fsynced");
		CHECK_FIELD(&jf, "IOHAZARD_FIX", "fsync(2) the parent directory after rename(2)");
		CHECK_FIELD(&jf, "IOHAZARD_EVIDENCE",
			    "{\"directory\":\"/srv/app\",\"window\":5,\"file_fsynced\":true}");
		CHECK_FIELD(&jf, "OBJECT_PID", "4242");
		CHECK_FIELD(&jf, "OBJECT_SYSTEMD_UNIT", "nginx.service");
		CHECK_INT(count_fields(&jf, "MESSAGE"), 1);
		CHECK_INT(jf.n, 21);
	}

	TEST_CASE("priority from severity")
	{
		static const struct {
			enum ioh_severity sev;
			const char *prio;
		} map[] = {{IOH_SEV_CRITICAL, "2"},
			   {IOH_SEV_WARNING, "4"},
			   {IOH_SEV_NOTICE, "5"},
			   {IOH_SEV_INFO, "6"}};

		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
			f.severity = map[i].sev;
			CHECK_INT(ioh_journal_build_fields(&f, offset, &jf), 0);
			CHECK_FIELD(&jf, "PRIORITY", map[i].prio);
		}
	}

	TEST_CASE("unknown keys are left out")
	{
		base_finding(&f);
		f.cgroup = NULL;
		f.path = NULL;
		f.fstype = NULL;
		f.degraded = true;
		f.rule = "my-own-rule";
		CHECK_INT(ioh_journal_build_fields(&f, offset, &jf), 0);
		CHECK_INT(count_fields(&jf, "IOHAZARD_UNIT"), 0);
		CHECK_INT(count_fields(&jf, "OBJECT_SYSTEMD_UNIT"), 0);
		CHECK_INT(count_fields(&jf, "IOHAZARD_CGROUP"), 0);
		CHECK_INT(count_fields(&jf, "IOHAZARD_PATH"), 0);
		CHECK_INT(count_fields(&jf, "IOHAZARD_FSTYPE"), 0);
		/* A rule outside design.md has no catalog entry but is still logged. */
		CHECK_INT(count_fields(&jf, "MESSAGE_ID"), 0);
		CHECK_FIELD(&jf, "IOHAZARD_CONFIDENCE", "degraded");
		CHECK_FIELD(&jf, "MESSAGE",
			    "my-own-rule: sed[4242] ?: renamed into /srv/app but "
			    "not fsynced (degraded: events were lost)");
	}
	ioh_journal_fields_free(&jf);
}

/* Issue 13: what a terminal acts on (C1 CSI) or that turns text around (U+202E) never
 * reaches `journalctl` raw: MESSAGE uses the same escaping as every human-facing output. */
static void test_c1_bidi(void)
{
	struct ioh_journal_fields jf;
	struct ioh_finding f;
	size_t len;
	char *v;

	base_finding(&f);
	f.path = "/srv/\xc2\x9b"
		 "2Jx\xe2\x80\xae"
		 "fdp.exe";
	snprintf(f.message, sizeof(f.message), "renamed to %s", f.path);
	ioh_journal_fields_init(&jf);
	TEST_CASE("MESSAGE escapes C1 controls and bidi overrides")
	{
		CHECK_INT(ioh_journal_build_fields(&f, 0, &jf), 0);
		v = field(&jf, "MESSAGE", &len);
		CHECK(v && strstr(v, "/srv/\\u009b2Jx\\u202efdp.exe") != NULL);
		CHECK(v && !strstr(v, "\xc2\x9b") && !strstr(v, "\xe2\x80\xae"));
		free(v);
	}
	ioh_journal_fields_free(&jf);
}

static void test_hostile(void)
{
	/* A newline (would end a field in the simple protocol), invalid UTF-8, quotes and a
	 * backslash (JSON), an escape sequence (terminals) and an embedded "FIELD=" text. */
	static const char path[] = "/srv/a\nPRIORITY=0\n\"q\"\\\xff\xfe\x1b[31m.json";
	static const char comm[IOH_COMM_LEN] = {'e', 'v', 'i', 'l', '\n', '\xc3', '"', 'x',
						'x', 'x', 'x', 'x', 'x',  'x',	  'x', 'y'};
	struct ioh_journal_fields jf;
	struct ioh_finding f;
	size_t len;
	char *v;

	base_finding(&f);
	f.path = path;
	memcpy(f.comm, comm, sizeof(comm)); /* all 16 bytes used: no terminating NUL */
	ioh_finding_add_str(&f, "old_path", path);
	ioh_journal_fields_init(&jf);
	TEST_CASE("hostile values")
	{
		CHECK_INT(ioh_journal_build_fields(&f, 0, &jf), 0);
		CHECK(names_valid(&jf));
		v = field(&jf, "IOHAZARD_PATH", &len);
		CHECK(v && len == sizeof(path) - 1 && memcmp(v, path, len) == 0);
		free(v);
		v = field(&jf, "IOHAZARD_COMM", &len);
		CHECK(v && len == sizeof(comm) && memcmp(v, comm, len) == 0);
		free(v);
		/* The injected line is a value, not a field of its own. */
		CHECK_INT(count_fields(&jf, "PRIORITY"), 1);
		CHECK_FIELD(&jf, "PRIORITY", "4");
		/* MESSAGE stays one printable line. */
		v = field(&jf, "MESSAGE", &len);
		CHECK(v && !memchr(v, '\n', len) && !memchr(v, '\x1b', len) &&
		      !memchr(v, '\xff', len));
		CHECK(v && strstr(v, "evil\\x0a\\xc3\"xxxxxxxxy[4242]"));
		CHECK(v &&
		      strstr(v, "/srv/a\\x0aPRIORITY=0\\x0a\"q\"\\\\\\xff\\xfe\\x1b[31m.json"));
		free(v);
		/* The evidence is valid JSON text: escaped, U+FFFD for the bad bytes, and the
		 * exact bytes in old_path_bytes (hex). */
		v = field(&jf, "IOHAZARD_EVIDENCE", &len);
		CHECK(v && strstr(v, "\"old_path\":\"/srv/a\\nPRIORITY=0\\n\\\"q\\\"\\\\"
				     "\\ufffd\\ufffd\\u001b[31m.json\","));
		CHECK(v && strstr(v, "\"old_path_bytes\":"
				     "\"2f7372762f610a5052494f524954593d300a2271225cfffe1b5b33316d2"
				     "e6a736f6e\"}"));
		CHECK(v && v[0] == '{' && v[len - 1] == '}');
		free(v);
	}
	TEST_CASE("evidence key inside a value")
	{
		/* A path that spells the evidence key must not move the cut. */
		base_finding(&f);
		f.path = "/x\",\"evidence\":{\"a\":1}";
		CHECK_INT(ioh_journal_build_fields(&f, 0, &jf), 0);
		CHECK_FIELD(&jf, "IOHAZARD_EVIDENCE",
			    "{\"directory\":\"/srv/app\",\"window\":5,\"file_fsynced\":true}");
		f.n_evidence = 0;
		CHECK_INT(ioh_journal_build_fields(&f, 0, &jf), 0);
		CHECK_FIELD(&jf, "IOHAZARD_EVIDENCE", "{}");
	}
	ioh_journal_fields_free(&jf);
}

static void test_message_ids(void)
{
	TEST_CASE("message ids")
	{
		int all_valid = 1, unique = 1, v4 = 1;

		CHECK_INT(IOH_RULE__COUNT, 8);
		for (size_t i = 0; i < sizeof(design_rules) / sizeof(design_rules[0]); i++) {
			const char *id = ioh_journal_message_id(design_rules[i]);

			CHECK(id != NULL);
			if (!id)
				continue;
			if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
				all_valid = 0;
			/* sd_id128_randomize() / systemd-id128 new: RFC 4122 v4, variant 1. */
			if (id[12] != '4' || !strchr("89ab", id[16]))
				v4 = 0;
			for (size_t k = 0; k < i; k++) {
				const char *other = ioh_journal_message_id(design_rules[k]);

				if (other && strcmp(other, id) == 0)
					unique = 0;
			}
		}
		CHECK(all_valid);
		CHECK(v4);
		CHECK(unique);
		CHECK(ioh_journal_message_id("no-such-rule") == NULL);
		CHECK(ioh_journal_message_id(NULL) == NULL);
	}
}

int main(void)
{
	test_plain();
	test_hostile();
	test_c1_bidi();
	test_message_ids();
	return check_summary();
}
