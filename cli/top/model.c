// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/finding_text.h"
#include "cli/top/model.h"
#include "daemon/correlator/severity.h"
#include "daemon/stall_status_json.h"
#include "daemon/util/hash.h"
#include "daemon/util/strbuf.h"
#include "daemon/util/string_table.h"

static const char *const top_sort_table[] = {
    [TOP_SORT_SEVERITY] = "severity", [TOP_SORT_LAST_SEEN] = "last seen",
    [TOP_SORT_COUNT] = "count",	      [TOP_SORT_FIRST_SEEN] = "first seen",
    [TOP_SORT_RULE] = "rule",	      [TOP_SORT_PATH] = "path",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(top_sort, enum top_sort, "?");

int64_t top_parse_time(const char *text)
{
	struct tm tm = {0};
	const char *p;
	int64_t ns = 0;
	int digits = 0;
	time_t secs;

	if (!text)
		return -1;
	p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (digits++ < 9)
				ns = ns * 10 + (*p - '0');
		}
		for (; digits < 9; digits++)
			ns *= 10;
	}
	if (*p != 'Z' || p[1])
		return -1;
	secs = timegm(&tm);
	if (secs == (time_t)-1)
		return -1;
	return (int64_t)secs * 1000000000 + ns;
}

/* ---- small JSON accessors (absent or mistyped fields read as defaults) ---------------------- */

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static uint64_t juint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_double))
		return json_object_get_double(v) > 0 ? (uint64_t)json_object_get_double(v) : 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return 0;
	return json_object_get_uint64(v);
}

static double jdouble(struct json_object *o, const char *key, double dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return dflt;
	return json_object_get_double(v);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

void top_model_init(struct top_model *m)
{
	memset(m, 0, sizeof(*m));
	m->next_id = 1;
	m->rows_stale = true;
	m->changed = true;
}

static void hazard_free(struct top_hazard *h)
{
	if (!h)
		return;
	free(h->rule);
	free(h->path);
	free(h->callsite);
	free(h->files);
	json_object_put(h->latest);
	free(h);
}

void top_model_fini(struct top_model *m)
{
	for (size_t i = 0; i < m->n_hazards; i++)
		hazard_free(m->hazards[i]);
	for (size_t i = 0; i < m->n_pending; i++)
		json_object_put(m->pending[i]);
	json_object_put(m->pending_stats);
	free(m->pending);
	free(m->hazards);
	free(m->rows);
	free(m->filter_rule);
	memset(m, 0, sizeof(*m));
}

static void touch(struct top_model *m)
{
	m->rows_stale = true;
	m->changed = true;
}

/* ---- findings ------------------------------------------------------------------------------- */

/* FNV-1a over the fields that make one finding unique (the daemon never reports two findings
 * of one rule for one pid and inode in the same nanosecond). */
static uint64_t fingerprint(struct json_object *f)
{
	static const char *const keys[] = {"time", "rule", "pid", "dev", "ino", "path"};
	uint64_t h = IOH_FNV1A_INIT;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		struct json_object *v;
		const char *s =
		    json_object_object_get_ex(f, keys[k], &v) ? json_object_get_string(v) : "";

		h = ioh_fnv1a(ioh_fnv1a_str(h, s), "\xff", 1); /* a byte no field contains */
	}
	return h ? h : 1;
}

static bool seen_before(struct top_model *m, uint64_t fp)
{
	for (size_t i = 0; i < TOP_SEEN_RING; i++)
		if (m->seen[i] == fp)
			return true;
	m->seen[m->seen_next] = fp;
	m->seen_next = (m->seen_next + 1) % TOP_SEEN_RING;
	return false;
}

static struct top_hazard *find_hazard(struct top_model *m, const char *rule, const char *path,
				      const char *callsite)
{
	for (size_t i = 0; i < m->n_hazards; i++) {
		struct top_hazard *h = m->hazards[i];

		if (strcmp(h->rule, rule) != 0)
			continue;
		if (callsite ? h->callsite && strcmp(h->callsite, callsite) == 0
			     : !h->callsite && strcmp(h->path, path) == 0)
			return h;
	}
	return NULL;
}

/*
 * The grouping key of a finding's call site: the first frame of its chain outside libc, as
 * "b:<build id>+0x<offset>" (the same binary wherever it is mounted) or, without a build id,
 * "m:<module path>+0x<offset>". Empty (nothing appended) without such a frame.
 */
static void callsite_key(struct json_object *f, struct strbuf *key)
{
	struct json_object *fr = cli_chain_first_app_frame(f);
	const char *bid = fr ? jstr(fr, "build_id") : NULL;

	if (!fr)
		return;
	if (bid && bid[0]) {
		strbuf_puts(key, "b:");
		strbuf_puts(key, bid);
	} else {
		strbuf_puts(key, "m:");
		cli_json_raw(fr, "module", key);
	}
	strbuf_printf(key, "+0x%llx", (unsigned long long)cli_frame_offset(fr));
}

bool top_hazard_site(const struct top_hazard *h, struct strbuf *raw)
{
	struct json_object *fr;

	if (!h->callsite || !(fr = cli_chain_first_app_frame(h->latest)))
		return false;
	cli_frame_site(fr, raw);
	return true;
}

/* Counts the finding's path among the hazard's distinct files, up to TOP_FILES_MAX; by its
 * real bytes ("path_bytes"), so two names shown alike with U+FFFD still count twice. */
static void add_file(struct top_hazard *h, struct json_object *f)
{
	struct strbuf raw;
	uint64_t fp;

	strbuf_init(&raw);
	cli_json_raw(f, "path", &raw);
	fp = raw.len ? ioh_fnv1a(IOH_FNV1A_INIT, raw.buf, raw.len) : 0;
	strbuf_free(&raw);
	if (!fp)
		return; /* a finding about no file */
	for (size_t i = 0; i < h->n_files; i++)
		if (h->files[i] == fp)
			return;
	if (h->n_files == TOP_FILES_MAX) {
		h->files_more = true;
		return;
	}
	if (h->n_files == h->cap_files) {
		size_t cap = h->cap_files ? h->cap_files * 2 : 4;
		uint64_t *p;

		if (cap > TOP_FILES_MAX)
			cap = TOP_FILES_MAX;
		p = realloc(h->files, cap * sizeof(*p));
		if (!p)
			return; /* undercounted, not wrong otherwise */
		h->files = p;
		h->cap_files = cap;
	}
	h->files[h->n_files++] = fp;
}

/* At the bound, the hazard seen least recently goes: it is the least likely to matter now. */
static void evict_one(struct top_model *m)
{
	size_t victim = 0;

	for (size_t i = 1; i < m->n_hazards; i++)
		if (m->hazards[i]->last_ns < m->hazards[victim]->last_ns)
			victim = i;
	hazard_free(m->hazards[victim]);
	m->hazards[victim] = m->hazards[--m->n_hazards];
	m->hazards_dropped++;
}

static struct top_hazard *new_hazard(struct top_model *m, const char *rule, const char *path,
				     const char *callsite)
{
	struct top_hazard *h;

	if (m->n_hazards >= TOP_HAZARDS_MAX)
		evict_one(m);
	if (m->n_hazards == m->cap_hazards) {
		size_t cap = m->cap_hazards ? m->cap_hazards * 2 : 64;
		struct top_hazard **p = realloc(m->hazards, cap * sizeof(*p));

		if (!p)
			return NULL;
		m->hazards = p;
		m->cap_hazards = cap;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->rule = strdup(rule);
	h->path = strdup(path);
	h->callsite = callsite ? strdup(callsite) : NULL;
	if (!h->rule || !h->path || (callsite && !h->callsite)) {
		hazard_free(h);
		return NULL;
	}
	h->id = m->next_id++;
	h->severity = -1;
	h->first_ns = INT64_MAX;
	h->last_ns = INT64_MIN;
	m->hazards[m->n_hazards++] = h;
	return h;
}

static void add_program(struct top_hazard *h, struct json_object *f, int64_t ts)
{
	uint32_t pid = (uint32_t)juint(f, "pid");
	const char *comm = jstr(f, "comm");
	const char *unit = jstr(f, "unit");
	struct top_program *p = NULL;

	for (size_t i = 0; i < h->n_programs; i++)
		if (h->programs[i].pid == pid && strcmp(h->programs[i].comm, comm ? comm : "") == 0)
			p = &h->programs[i];
	if (!p) {
		if (h->n_programs == TOP_PROGRAMS_MAX) {
			h->programs_more++;
			return;
		}
		p = &h->programs[h->n_programs++];
		p->pid = pid;
		copy_str(p->comm, sizeof(p->comm), comm);
		p->last_ns = INT64_MIN;
	}
	copy_str(p->unit, sizeof(p->unit), unit);
	p->count++;
	if (ts >= p->last_ns)
		p->last_ns = ts;
	/* Latest program first: the one most likely still running. */
	while (p > h->programs && p[-1].last_ns < p->last_ns) {
		struct top_program tmp = p[-1];

		p[-1] = *p;
		*p = tmp;
		p--;
	}
}

static int ingest_finding(struct top_model *m, struct json_object *f)
{
	const char *rule = jstr(f, "rule"), *path = jstr(f, "path"), *conf, *site;
	struct top_hazard *h;
	struct strbuf key;
	int64_t ts;
	int sev;

	if (!rule)
		return -EINVAL;
	if (seen_before(m, fingerprint(f)))
		return 0;
	if (!path)
		path = ""; /* a finding about no file (a mount, a device) is still a hazard */
	strbuf_init(&key);
	callsite_key(f, &key);
	site = key.len ? key.buf : NULL;
	h = find_hazard(m, rule, path, site);
	if (!h)
		h = new_hazard(m, rule, path, site);
	strbuf_free(&key);
	if (!h)
		return -ENOMEM;
	ts = top_parse_time(jstr(f, "time"));
	sev = ioh_severity_from_string(jstr(f, "severity")); /* -EINVAL: never above -1 */
	if (sev > h->severity)
		h->severity = sev;
	conf = jstr(f, "confidence");
	if (conf && strcmp(conf, "degraded") == 0)
		h->degraded = true;
	h->count++;
	if (ts >= 0 && ts < h->first_ns)
		h->first_ns = ts;
	if (ts >= h->last_ns || !h->latest) {
		if (ts > h->last_ns)
			h->last_ns = ts;
		json_object_put(h->latest);
		h->latest = json_object_get(f);
		if (h->callsite && strcmp(h->path, path) != 0) {
			char *latest = strdup(path);

			if (latest) {
				free(h->path);
				h->path = latest;
			}
		}
	}
	add_file(h, f);
	add_program(h, f, ts);
	m->findings_ingested++;
	touch(m);
	return 1;
}

int top_model_add_finding(struct top_model *m, struct json_object *f)
{
	if (!f || !json_object_is_type(f, json_type_object))
		return -EINVAL;
	if (m->paused && m->n_pending < TOP_PENDING_MAX) {
		if (m->n_pending == m->cap_pending) {
			size_t cap = m->cap_pending ? m->cap_pending * 2 : 64;
			struct json_object **p = realloc(m->pending, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			m->pending = p;
			m->cap_pending = cap;
		}
		m->pending[m->n_pending++] = json_object_get(f);
		return 1;
	}
	return ingest_finding(m, f);
}

/* ---- stats ---------------------------------------------------------------------------------- */

static uint64_t sum_object(struct json_object *o)
{
	uint64_t sum = 0;

	if (!o || !json_object_is_type(o, json_type_object))
		return 0;
	json_object_object_foreach(o, key, val)
	{
		(void)key;
		if (json_object_is_type(val, json_type_int) && json_object_get_int64(val) > 0)
			sum += json_object_get_uint64(val);
	}
	return sum;
}

static double sum_object_double(struct json_object *o)
{
	double sum = 0;

	json_object_object_foreach(o, key, val)
	{
		(void)key;
		if (json_object_is_type(val, json_type_double) ||
		    json_object_is_type(val, json_type_int))
			sum += json_object_get_double(val);
	}
	return sum;
}

static void parse_throttle(struct top_stats *st, struct json_object *section)
{
	st->has_throttle = true;
	json_object_object_foreach(section, bdi, dev)
	{
		struct top_throttle_dev *d;
		struct json_object *buckets;

		if (st->n_throttle == TOP_DEVICES_MAX)
			break;
		if (!json_object_is_type(dev, json_type_object))
			continue;
		d = &st->throttle[st->n_throttle++];
		copy_str(d->bdi, sizeof(d->bdi), bdi);
		if (json_object_object_get_ex(dev, IOH_ST_HIST_BUCKETS, &buckets) &&
		    json_object_is_type(buckets, json_type_array)) {
			size_t n = json_object_array_length(buckets);

			d->n_buckets = n < TOP_BUCKETS_MAX ? n : TOP_BUCKETS_MAX;
			for (size_t i = 0; i < d->n_buckets; i++) {
				int64_t v =
				    json_object_get_int64(json_object_array_get_idx(buckets, i));

				d->buckets[i] = v > 0 ? (uint64_t)v : 0;
			}
		}
		d->count = juint(dev, IOH_ST_HIST_COUNT);
		if (!d->count)
			for (size_t i = 0; i < d->n_buckets; i++)
				d->count += d->buckets[i];
		d->sum_seconds = jdouble(dev, IOH_ST_HIST_SUM_SECONDS, -1);
	}
}

static int stall_cmp(const void *a, const void *b)
{
	const struct top_splice_stall *x = a, *y = b;

	return (x->seconds < y->seconds) - (x->seconds > y->seconds);
}

static void parse_stalls(struct top_stats *st, struct json_object *list)
{
	st->has_splice = true;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		struct top_splice_stall s = {0};

		if (!json_object_is_type(o, json_type_object))
			continue;
		s.pid = (uint32_t)juint(o, IOH_ST_STALL_PID);
		copy_str(s.comm, sizeof(s.comm), jstr(o, IOH_ST_STALL_COMM));
		copy_str(s.unit, sizeof(s.unit), jstr(o, IOH_ST_STALL_UNIT));
		copy_str(s.call, sizeof(s.call), jstr(o, IOH_ST_STALL_CALL));
		copy_str(s.path, sizeof(s.path), jstr(o, IOH_ST_STALL_PATH));
		s.seconds = jdouble(o, IOH_ST_STALL_DURATION_SECONDS, 0);
		if (st->n_stalls < TOP_STALLS_MAX) {
			st->stalls[st->n_stalls++] = s;
		} else if (s.seconds > st->stalls[TOP_STALLS_MAX - 1].seconds) {
			st->stalls[TOP_STALLS_MAX - 1] = s;
		} else {
			continue;
		}
		qsort(st->stalls, st->n_stalls, sizeof(st->stalls[0]), stall_cmp);
	}
}

static void ingest_stats(struct top_model *m, struct json_object *o, double now_s)
{
	struct top_stats *st = &m->stats;
	struct json_object *v;
	double interval;

	m->prev_stats = m->stats;
	memset(st, 0, sizeof(*st));
	st->valid = true;
	copy_str(st->version, sizeof(st->version), jstr(o, "version"));
	st->uptime_seconds = jdouble(o, "uptime_seconds", -1);
	if (json_object_object_get_ex(o, "events", &v))
		st->events_total = sum_object(v);
	if (json_object_object_get_ex(o, "events_lost", &v))
		st->lost_total = sum_object(v);
	st->tracked_inodes = juint(o, "tracked_inodes");
	st->pending_renames = juint(o, "pending_renames");
	st->findings = juint(o, "findings");
	if (json_object_object_get_ex(o, "hooks", &v) && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, name, hook)
		{
			struct top_hook *hk;
			struct json_object *att;

			if (st->n_hooks == TOP_HOOKS_MAX)
				break;
			hk = &st->hooks[st->n_hooks++];
			copy_str(hk->name, sizeof(hk->name), name);
			copy_str(hk->backend, sizeof(hk->backend), jstr(hook, "backend"));
			hk->attached = json_object_object_get_ex(hook, "attached", &att) &&
				       json_object_get_boolean(att);
			copy_str(hk->error, sizeof(hk->error), jstr(hook, "error"));
		}
	}
	if (json_object_object_get_ex(o, "bpf_run_seconds", &v) &&
	    json_object_is_type(v, json_type_object)) {
		st->has_bpf_cost = true;
		st->bpf_run_seconds = sum_object_double(v);
	}
	if (json_object_object_get_ex(o, IOH_ST_DIRTY_THROTTLE, &v) &&
	    json_object_is_type(v, json_type_object))
		parse_throttle(st, v);
	if (json_object_object_get_ex(o, IOH_ST_SPLICE_STALLS, &v) &&
	    json_object_is_type(v, json_type_array))
		parse_stalls(st, v);

	/* Rates use the daemon's own uptime as the clock: delivery jitter on the socket (or a
	 * paused reader) must not show up as a burst. Without it, the caller's clock. */
	if (st->uptime_seconds < 0)
		st->uptime_seconds = now_s;
	interval = st->uptime_seconds - m->prev_stats.uptime_seconds;
	m->rates_valid = m->prev_stats.valid && interval > 0.05 &&
			 st->events_total >= m->prev_stats.events_total &&
			 st->lost_total >= m->prev_stats.lost_total;
	if (m->rates_valid) {
		m->events_per_second =
		    (double)(st->events_total - m->prev_stats.events_total) / interval;
		m->lost_delta = st->lost_total - m->prev_stats.lost_total;
		m->bpf_cpu_percent =
		    st->has_bpf_cost && m->prev_stats.has_bpf_cost
			? 100.0 * (st->bpf_run_seconds - m->prev_stats.bpf_run_seconds) / interval
			: 0;
	} else {
		/* First sample, or the daemon restarted (counters went back): no rate yet. */
		m->events_per_second = 0;
		m->lost_delta = 0;
		m->bpf_cpu_percent = 0;
	}
	m->changed = true;
}

int top_model_add_stats(struct top_model *m, struct json_object *o, double now_s)
{
	if (!o || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (m->paused) {
		json_object_put(m->pending_stats);
		m->pending_stats = json_object_get(o);
		m->pending_stats_now = now_s;
		return 0;
	}
	ingest_stats(m, o, now_s);
	return 0;
}

/* ---- view: sort, filter, select ------------------------------------------------------------- */

static int cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

/* Each order puts the most urgent first; ties fall back to recency, then id (stable). */
static int compare(const struct top_hazard *a, const struct top_hazard *b, enum top_sort sort)
{
	int r = 0;

	switch (sort) {
	case TOP_SORT_SEVERITY:
		r = cmp_i64(b->severity, a->severity);
		break;
	case TOP_SORT_LAST_SEEN:
		break;
	case TOP_SORT_COUNT:
		r = cmp_i64((int64_t)b->count, (int64_t)a->count);
		break;
	case TOP_SORT_FIRST_SEEN:
		r = cmp_i64(a->first_ns, b->first_ns);
		break;
	case TOP_SORT_RULE:
		r = strcmp(a->rule, b->rule);
		break;
	case TOP_SORT_PATH:
		r = strcmp(a->path, b->path);
		break;
	case TOP_SORT__MAX:
		break;
	}
	if (!r)
		r = cmp_i64(b->last_ns, a->last_ns);
	if (!r)
		r = cmp_i64((int64_t)a->id, (int64_t)b->id);
	return r;
}

static enum top_sort qsort_order;
static bool qsort_reverse;

static int qsort_cmp(const void *pa, const void *pb)
{
	int r =
	    compare(*(struct top_hazard *const *)pa, *(struct top_hazard *const *)pb, qsort_order);

	return qsort_reverse ? -r : r;
}

static void rebuild(struct top_model *m)
{
	size_t n = 0;

	if (!m->rows_stale)
		return;
	free(m->rows);
	m->rows = calloc(m->n_hazards ? m->n_hazards : 1, sizeof(*m->rows));
	if (!m->rows) {
		m->n_rows = 0;
		return;
	}
	for (size_t i = 0; i < m->n_hazards; i++)
		if (!m->filter_rule || strcmp(m->hazards[i]->rule, m->filter_rule) == 0)
			m->rows[n++] = m->hazards[i];
	/* qsort has no context argument in C11; this is single-threaded. */
	qsort_order = m->sort;
	qsort_reverse = m->reverse;
	qsort(m->rows, n, sizeof(*m->rows), qsort_cmp);
	m->n_rows = n;
	m->rows_stale = false;
	m->selected = 0;
	for (size_t i = 0; i < n; i++)
		if (m->rows[i]->id == m->selected_id)
			m->selected = i;
	if (n)
		m->selected_id = m->rows[m->selected]->id;
}

struct top_hazard *const *top_model_rows(struct top_model *m, size_t *n)
{
	rebuild(m);
	*n = m->n_rows;
	return m->rows;
}

void top_model_set_sort(struct top_model *m, enum top_sort sort)
{
	if (sort < 0 || sort >= TOP_SORT__MAX)
		return;
	m->sort = sort;
	touch(m);
}

void top_model_next_sort(struct top_model *m)
{
	top_model_set_sort(m, (enum top_sort)((m->sort + 1) % TOP_SORT__MAX));
}

void top_model_toggle_reverse(struct top_model *m)
{
	m->reverse = !m->reverse;
	touch(m);
}

int top_model_set_filter(struct top_model *m, const char *rule)
{
	char *copy = NULL;

	if (rule && !(copy = strdup(rule)))
		return -ENOMEM;
	free(m->filter_rule);
	m->filter_rule = copy;
	m->scroll = 0;
	touch(m);
	return 0;
}

void top_model_next_filter(struct top_model *m)
{
	const char *next = NULL;

	/* The smallest rule name greater than the current one; none left: every rule. */
	for (size_t i = 0; i < m->n_hazards; i++) {
		const char *r = m->hazards[i]->rule;

		if (m->filter_rule && strcmp(r, m->filter_rule) <= 0)
			continue;
		if (!next || strcmp(r, next) < 0)
			next = r;
	}
	top_model_set_filter(m, next);
}

void top_model_set_paused(struct top_model *m, bool paused)
{
	if (m->paused == paused)
		return;
	m->paused = paused;
	m->changed = true;
	if (paused)
		return;
	for (size_t i = 0; i < m->n_pending; i++) {
		ingest_finding(m, m->pending[i]);
		json_object_put(m->pending[i]);
	}
	m->n_pending = 0;
	if (m->pending_stats) {
		ingest_stats(m, m->pending_stats, m->pending_stats_now);
		json_object_put(m->pending_stats);
		m->pending_stats = NULL;
	}
}

static void select_row(struct top_model *m, size_t row)
{
	if (!m->n_rows)
		return;
	if (row >= m->n_rows)
		row = m->n_rows - 1;
	m->selected = row;
	m->selected_id = m->rows[row]->id;
	m->changed = true;
}

void top_model_move(struct top_model *m, long delta)
{
	long row;

	rebuild(m);
	row = (long)m->selected + delta;
	select_row(m, row < 0 ? 0 : (size_t)row);
}

void top_model_select_first(struct top_model *m)
{
	rebuild(m);
	select_row(m, 0);
}

void top_model_select_last(struct top_model *m)
{
	rebuild(m);
	select_row(m, m->n_rows ? m->n_rows - 1 : 0);
}

struct top_hazard *top_model_selected(struct top_model *m)
{
	rebuild(m);
	return m->n_rows ? m->rows[m->selected] : NULL;
}

void top_model_scroll_to_selection(struct top_model *m, size_t visible)
{
	rebuild(m);
	if (!visible)
		return;
	if (m->selected < m->scroll)
		m->scroll = m->selected;
	else if (m->selected >= m->scroll + visible)
		m->scroll = m->selected - visible + 1;
	if (m->n_rows <= visible)
		m->scroll = 0;
	else if (m->scroll > m->n_rows - visible)
		m->scroll = m->n_rows - visible;
}
