// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading rule sets: the sysctl.d-style search path, reading files with bounds, merging
 * rules across files, the error list, lookups and `rules show` output. The per-file parser
 * is parse.c; values and matching are values.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daemon/rules/rules-internal.h"

const char *const ioh_rules_default_dirs[] = {
    "/usr/lib/iohazard/rules.d",
    "/etc/iohazard/rules.d",
    "/run/iohazard/rules.d",
};
const size_t ioh_rules_default_dirs_count =
    sizeof(ioh_rules_default_dirs) / sizeof(ioh_rules_default_dirs[0]);

#define MSEC 1000000ULL

bool ioh_rule_detector_known(const char *detector)
{
	return ioh_rule_kind_find(detector) != NULL;
}

enum ioh_severity ioh_rule_detector_severity(const char *detector)
{
	const struct ioh_rule_kind *k = ioh_rule_kind_find(detector);

	return k ? k->severity : IOH_SEV_WARNING;
}

uint64_t ioh_rule_detector_threshold(const char *detector)
{
	const struct ioh_rule_kind *k = ioh_rule_kind_find(detector);

	return k ? k->threshold_ns : 0;
}

bool ioh_rule_name_valid(const char *name, size_t len)
{
	if (!len || len >= IOH_RULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

void ioh_rule_set_defaults(struct ioh_rule *rule)
{
	memset(rule, 0, sizeof(*rule));
	rule->enabled = true;
	rule->severity = IOH_SEV_WARNING;
	rule->window_ns = 5000 * MSEC;
}

int ioh_rule_init(struct ioh_rule *rule, const char *name, const char *detector)
{
	if (!name || !ioh_rule_name_valid(name, strlen(name)))
		return -EINVAL;
	if (!detector)
		detector = name;
	if (!ioh_rule_detector_known(detector))
		return -EINVAL;
	ioh_rule_set_defaults(rule);
	snprintf(rule->name, sizeof(rule->name), "%s", name);
	snprintf(rule->detector, sizeof(rule->detector), "%s", detector);
	rule->severity = ioh_rule_detector_severity(detector);
	rule->threshold_ns = ioh_rule_detector_threshold(detector);
	return 0;
}

void ioh_rule_fini(struct ioh_rule *rule)
{
	if (!rule)
		return;
	ioh_strlist_free(&rule->include_paths);
	ioh_strlist_free(&rule->exclude_paths);
	ioh_strlist_free(&rule->fstypes);
	ioh_strlist_free(&rule->comm_allow);
	ioh_strlist_free(&rule->comm_deny);
	ioh_strlist_free(&rule->unit_allow);
	ioh_strlist_free(&rule->unit_deny);
}

void ioh_rules_error(struct ioh_rules_load *ld, const char *file, unsigned line, int err,
		     const char *fmt, ...)
{
	struct ioh_rules_errors *e = ld->errors;
	char *msg = NULL, *full = NULL, **messages;
	bool last = e->count + 1 >= IOH_RULES_ERRORS_MAX;
	va_list ap;
	int ret;

	if (!ld->first_err)
		ld->first_err = err < 0 ? err : -EINVAL;
	if (ld->stopped)
		return;
	if (last) {
		/* Hostile input must not grow the list without bound; say so once and stop. */
		ld->stopped = true;
		fmt = "too many errors, giving up";
	}
	va_start(ap, fmt);
	ret = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (ret < 0) {
		ld->first_err = -ENOMEM;
		ld->stopped = true;
		return;
	}
	if (line)
		ret = asprintf(&full, "%s:%u: %s", file, line, msg);
	else
		ret = asprintf(&full, "%s: %s", file, msg);
	free(msg);
	if (ret < 0)
		goto oom;
	messages = realloc(e->messages, (e->count + 1) * sizeof(*messages));
	if (!messages) {
		free(full);
		goto oom;
	}
	messages[e->count++] = full;
	e->messages = messages;
	return;
oom:
	ld->first_err = -ENOMEM;
	ld->stopped = true;
}

void ioh_rules_errors_free(struct ioh_rules_errors *errors)
{
	if (!errors)
		return;
	for (size_t i = 0; i < errors->count; i++)
		free(errors->messages[i]);
	free(errors->messages);
	errors->messages = NULL;
	errors->count = 0;
}

void ioh_ruleset_free(struct ioh_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->count; i++)
		ioh_rule_fini(&rs->rules[i]);
	free(rs->rules);
	ioh_strlist_free(&rs->files);
	free(rs);
}

/*
 * A redefinition replaces the earlier rule wholesale and takes its place at the end, so the
 * set stays in the order the effective definitions were read (what `rules show` prints).
 */
int ioh_rules_merge(struct ioh_rules_load *ld, struct ioh_rule *rule)
{
	struct ioh_ruleset *rs = ld->rs;
	struct ioh_rule *rules;

	for (size_t i = 0; i < rs->count; i++) {
		if (strcmp(rs->rules[i].name, rule->name) != 0)
			continue;
		ioh_rule_fini(&rs->rules[i]);
		memmove(&rs->rules[i], &rs->rules[i + 1], (rs->count - i - 1) * sizeof(*rule));
		rs->count--;
		break;
	}
	if (rs->count >= IOH_RULES_RULES_MAX) {
		ioh_rules_error(ld, rule->source_file, rule->source_line, -E2BIG,
				"too many rules (max %d)", IOH_RULES_RULES_MAX);
		return -E2BIG;
	}
	rules = realloc(rs->rules, (rs->count + 1) * sizeof(*rules));
	if (!rules) {
		ioh_rules_error(ld, rule->source_file, rule->source_line, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	rules[rs->count++] = *rule;
	rs->rules = rules;
	return 0;
}

static bool is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

/*
 * Read a whole file into *text (NUL-terminated for convenience; the parser uses the length).
 * A symlink to /dev/null reads as empty: that is how an admin masks a vendor file.
 */
/* What may be read as a rules file: 1 for /dev/null (an empty file, the way to mask one),
 * 0 for a regular file within the size limit, or -errno (reported). */
static int check_rules_fd(struct ioh_rules_load *ld, const char *path, int fd, struct stat *st)
{
	int err;

	if (fstat(fd, st) < 0) {
		err = -errno;
		ioh_rules_error(ld, path, 0, err, "cannot stat: %s", strerror(-err));
		return err;
	}
	if (is_dev_null(st))
		return 1;
	if (!S_ISREG(st->st_mode)) {
		ioh_rules_error(ld, path, 0, -EINVAL, "not a regular file");
		return -EINVAL;
	}
	if (st->st_size > IOH_RULES_FILE_MAX) {
		ioh_rules_error(ld, path, 0, -EFBIG, "file too large (%lld bytes, max %d)",
				(long long)st->st_size, IOH_RULES_FILE_MAX);
		return -EFBIG;
	}
	return 0;
}

/* Reads `fd` to EOF into a NUL-terminated buffer of at most IOH_RULES_FILE_MAX bytes: the size
 * may change under us, so `size_hint` only sizes the first allocation. */
static int read_bounded(struct ioh_rules_load *ld, const char *path, int fd, size_t size_hint,
			char **text, size_t *len)
{
	size_t cap =
	    size_hint + 1 < IOH_RULES_FILE_MAX + 1 ? size_hint + 1 : IOH_RULES_FILE_MAX + 1;
	size_t n = 0;
	char *buf = malloc(cap + 1), *bigger;
	ssize_t r;
	int err;

	if (!buf)
		goto nomem;
	for (;;) {
		if (n == cap) {
			if (cap > IOH_RULES_FILE_MAX) {
				free(buf);
				ioh_rules_error(ld, path, 0, -EFBIG,
						"file too large (max %d bytes)",
						IOH_RULES_FILE_MAX);
				return -EFBIG;
			}
			cap = cap * 2 > IOH_RULES_FILE_MAX + 1 ? IOH_RULES_FILE_MAX + 1 : cap * 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				free(buf);
				goto nomem;
			}
			buf = bigger;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			free(buf);
			ioh_rules_error(ld, path, 0, err, "cannot read: %s", strerror(-err));
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
nomem:
	ioh_rules_error(ld, path, 0, -ENOMEM, "out of memory");
	return -ENOMEM;
}

static int read_rules_file(struct ioh_rules_load *ld, const char *path, char **text, size_t *len)
{
	struct stat st;
	int fd, err;

	*text = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO named *.rules must not hang the daemon's reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		ioh_rules_error(ld, path, 0, err, "cannot open: %s", strerror(-err));
		return err;
	}
	err = check_rules_fd(ld, path, fd, &st);
	if (err == 0)
		err = read_bounded(ld, path, fd, (size_t)st.st_size, text, len);
	close(fd);
	if (err)
		return err < 0 ? err : 0;
	if (ld->total_bytes + *len > IOH_RULES_TOTAL_MAX) {
		free(*text);
		*text = NULL;
		*len = 0;
		ioh_rules_error(ld, path, 0, -EFBIG,
				"rules files too large together (max %d bytes)",
				IOH_RULES_TOTAL_MAX);
		return -EFBIG;
	}
	ld->total_bytes += *len;
	return 0;
}

static int load_begin(struct ioh_rules_load *ld, struct ioh_rules_errors *errors,
		      struct ioh_rules_errors *local)
{
	memset(ld, 0, sizeof(*ld));
	memset(local, 0, sizeof(*local));
	ld->errors = errors ? errors : local;
	ld->rs = calloc(1, sizeof(*ld->rs));
	return ld->rs ? 0 : -ENOMEM;
}

static int load_end(struct ioh_rules_load *ld, struct ioh_rules_errors *local,
		    struct ioh_ruleset **out)
{
	int ret = ld->first_err;

	ioh_rules_errors_free(local);
	if (ret < 0 || !out) {
		ioh_ruleset_free(ld->rs);
		return ret;
	}
	*out = ld->rs;
	return 0;
}

static void load_one(struct ioh_rules_load *ld, const char *path)
{
	char *text;
	size_t len;

	if (ld->stopped)
		return;
	if (read_rules_file(ld, path, &text, &len) < 0)
		return;
	if (ioh_strlist_append(&ld->rs->files, path) < 0)
		ioh_rules_error(ld, path, 0, -ENOMEM, "out of memory");
	if (text)
		ioh_rules_parse_text(ld, path, text, len);
	free(text);
}

int ioh_rules_load_files(const char *const *files, size_t nfiles, struct ioh_ruleset **out,
			 struct ioh_rules_errors *errors)
{
	struct ioh_rules_errors local;
	struct ioh_rules_load ld;

	if (load_begin(&ld, errors, &local) < 0)
		return -ENOMEM;
	if (nfiles > IOH_RULES_FILES_MAX)
		ioh_rules_error(&ld, "rules", 0, -E2BIG, "too many files (max %d)",
				IOH_RULES_FILES_MAX);
	for (size_t i = 0; i < nfiles && !ld.stopped; i++)
		load_one(&ld, files[i]);
	return load_end(&ld, &local, out);
}

int ioh_rules_load_buffer(const char *name, const char *text, size_t len, struct ioh_ruleset **out,
			  struct ioh_rules_errors *errors)
{
	struct ioh_rules_errors local;
	struct ioh_rules_load ld;

	if (load_begin(&ld, errors, &local) < 0)
		return -ENOMEM;
	if (len > IOH_RULES_FILE_MAX)
		ioh_rules_error(&ld, name, 0, -EFBIG, "file too large (max %d bytes)",
				IOH_RULES_FILE_MAX);
	else if (ioh_strlist_append(&ld.rs->files, name) < 0)
		ioh_rules_error(&ld, name, 0, -ENOMEM, "out of memory");
	else
		ioh_rules_parse_text(&ld, name, text, len);
	return load_end(&ld, &local, out);
}

struct found_file {
	char *name; /* points into path */
	char *path;
};

static int cmp_found(const void *a, const void *b)
{
	return strcmp(((const struct found_file *)a)->name, ((const struct found_file *)b)->name);
}

static bool is_rules_name(const char *name)
{
	size_t len = strlen(name);

	/* Hidden files are editor and package-manager leftovers, not configuration. */
	return name[0] != '.' && len > 6 && strcmp(name + len - 6, ".rules") == 0;
}

static int add_found(struct ioh_rules_load *ld, struct found_file **found, size_t *nfound,
		     const char *dir, const char *name)
{
	struct found_file *f;
	char *path;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < *nfound; i++) {
		if (strcmp((*found)[i].name, name) == 0) {
			/* A later directory overrides the same-named file of an earlier one. */
			free((*found)[i].path);
			(*found)[i].path = path;
			(*found)[i].name = path + strlen(dir) + 1;
			return 0;
		}
	}
	if (*nfound >= IOH_RULES_FILES_MAX) {
		free(path);
		ioh_rules_error(ld, dir, 0, -E2BIG, "too many rules files (max %d)",
				IOH_RULES_FILES_MAX);
		return -E2BIG;
	}
	f = realloc(*found, (*nfound + 1) * sizeof(*f));
	if (!f) {
		free(path);
		return -ENOMEM;
	}
	*found = f;
	f[*nfound].path = path;
	f[*nfound].name = path + strlen(dir) + 1;
	(*nfound)++;
	return 0;
}

static void list_files(struct ioh_rules_load *ld, const char *const *dirs, size_t ndirs,
		       struct ioh_strlist *files)
{
	struct found_file *found = NULL;
	size_t nfound = 0;

	for (size_t d = 0; d < ndirs && !ld->stopped; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir) {
			int err = -errno;

			/* A missing directory is the normal case for /run and often /etc. */
			if (err != -ENOENT && err != -ENOTDIR)
				ioh_rules_error(ld, dirs[d], 0, err, "cannot open directory: %s",
						strerror(-err));
			continue;
		}
		while ((de = readdir(dir)) && !ld->stopped) {
			int ret;

			if (!is_rules_name(de->d_name))
				continue;
			ret = add_found(ld, &found, &nfound, dirs[d], de->d_name);
			if (ret == -ENOMEM)
				ioh_rules_error(ld, dirs[d], 0, ret, "out of memory");
			if (ret < 0)
				break;
		}
		closedir(dir);
	}
	if (nfound)
		qsort(found, nfound, sizeof(*found), cmp_found);
	for (size_t i = 0; i < nfound; i++) {
		if (!ld->stopped && ioh_strlist_append(files, found[i].path) < 0)
			ioh_rules_error(ld, found[i].path, 0, -ENOMEM, "out of memory");
		free(found[i].path);
	}
	free(found);
}

int ioh_rules_list_files(const char *const *dirs, size_t ndirs, struct ioh_strlist *files,
			 struct ioh_rules_errors *errors)
{
	struct ioh_rules_errors local;
	struct ioh_rules_load ld;
	int ret;

	if (load_begin(&ld, errors, &local) < 0)
		return -ENOMEM;
	list_files(&ld, dirs, ndirs, files);
	ret = load_end(&ld, &local, NULL);
	if (ret < 0)
		ioh_strlist_free(files);
	return ret;
}

int ioh_rules_load_dirs(const char *const *dirs, size_t ndirs, struct ioh_ruleset **out,
			struct ioh_rules_errors *errors)
{
	struct ioh_strlist files = {0};
	struct ioh_rules_errors local;
	struct ioh_rules_load ld;

	if (load_begin(&ld, errors, &local) < 0)
		return -ENOMEM;
	list_files(&ld, dirs, ndirs, &files);
	for (size_t i = 0; i < files.count && !ld.stopped; i++)
		load_one(&ld, files.items[i]);
	ioh_strlist_free(&files);
	return load_end(&ld, &local, out);
}

const struct ioh_rule **ioh_ruleset_for_detector(const struct ioh_ruleset *rs, const char *detector,
						 size_t *count)
{
	const struct ioh_rule **v;
	size_t n = 0;

	v = calloc((rs ? rs->count : 0) + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; rs && i < rs->count; i++)
		if (rs->rules[i].enabled && strcmp(rs->rules[i].detector, detector) == 0)
			v[n++] = &rs->rules[i];
	if (count)
		*count = n;
	return v;
}

const struct ioh_rule *ioh_ruleset_find(const struct ioh_ruleset *rs, const char *name)
{
	for (size_t i = 0; rs && i < rs->count; i++)
		if (strcmp(rs->rules[i].name, name) == 0)
			return &rs->rules[i];
	return NULL;
}

uint64_t ioh_rules_min_threshold(const struct ioh_ruleset *rs, const char *detector)
{
	size_t n = 0;
	const struct ioh_rule **rules = rs ? ioh_ruleset_for_detector(rs, detector, &n) : NULL;
	uint64_t min = 0;

	for (size_t i = 0; rules && i < n; i++)
		if (!min || rules[i]->threshold_ns < min)
			min = rules[i]->threshold_ns;
	free(rules);
	return min;
}

struct scale_unit {
	const char *s;
	uint64_t f;
};

/* The largest unit that divides exactly, so printing never rounds. */
static void print_scaled(FILE *out, uint64_t v, const struct scale_unit *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v && v % u[i].f == 0) {
			fprintf(out, "%llu%s", (unsigned long long)(v / u[i].f), u[i].s);
			return;
		}
	}
	fprintf(out, "%llu", (unsigned long long)v);
}

static void print_duration(FILE *out, uint64_t ns)
{
	static const struct scale_unit units[] = {
	    {"d", 86400000 * MSEC}, {"h", 3600000 * MSEC}, {"m", 60000 * MSEC}, {"s", 1000 * MSEC},
	    {"ms", MSEC},	    {"us", 1000},	   {"ns", 1},
	};

	print_scaled(out, ns, units, sizeof(units) / sizeof(units[0]));
}

static void print_size(FILE *out, uint64_t bytes)
{
	static const struct scale_unit units[] = {
	    {"TiB", 1ULL << 40},
	    {"GiB", 1ULL << 30},
	    {"MiB", 1ULL << 20},
	    {"KiB", 1ULL << 10},
	    {"", 1},
	};

	print_scaled(out, bytes, units, sizeof(units) / sizeof(units[0]));
}

/* Lists wrap at about 100 columns; the key repeats, which appends. */
static void print_list(FILE *out, const char *key, const struct ioh_strlist *list)
{
	size_t col = 0;

	for (size_t i = 0; i < list->count; i++) {
		size_t len = strlen(list->items[i]);

		if (col && col + 1 + len > 100) {
			fputc('\n', out);
			col = 0;
		}
		if (!col)
			col = (size_t)fprintf(out, "%s =", key);
		col += (size_t)fprintf(out, " %s", list->items[i]);
	}
	if (col)
		fputc('\n', out);
}

/* File names may hold any byte but '/' and NUL; keep the comment on one line. */
static void print_comment_text(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

void ioh_ruleset_print(const struct ioh_ruleset *rs, FILE *out)
{
	if (!rs || !rs->count) {
		fputs("# no rules\n", out);
		return;
	}
	for (size_t i = 0; i < rs->count; i++) {
		const struct ioh_rule *r = &rs->rules[i];

		if (i)
			fputc('\n', out);
		fputs("# from ", out);
		print_comment_text(out, r->source_file);
		fprintf(out, ":%u\n[rule %s]\n", r->source_line, r->name);
		for (size_t k = 0; k < ioh_rule_keys_count; k++) {
			const struct ioh_rule_key *key = &ioh_rule_keys[k];
			const void *field = (const char *)r + key->offset;

			switch (key->type) {
			case IOH_KEY_DETECTOR:
				fprintf(out, "%s = %s\n", key->name, r->detector);
				break;
			case IOH_KEY_BOOL:
				fprintf(out, "%s = %s\n", key->name,
					*(const bool *)field ? "yes" : "no");
				break;
			case IOH_KEY_SEVERITY:
				fprintf(out, "%s = %s\n", key->name,
					ioh_severity_to_string(r->severity));
				break;
			case IOH_KEY_DURATION:
				fprintf(out, "%s = ", key->name);
				print_duration(out, *(const uint64_t *)field);
				fputc('\n', out);
				break;
			case IOH_KEY_SIZE:
				fprintf(out, "%s = ", key->name);
				print_size(out, *(const uint64_t *)field);
				fputc('\n', out);
				break;
			case IOH_KEY_LIST:
				print_list(out, key->name, field);
				break;
			}
		}
	}
}
