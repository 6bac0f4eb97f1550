// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seed case 3: write-to-temp + rename(2) that never becomes durable.
 *
 * rename-unsynced-source: at rename time the renamed inode still has dirty data that was
 *   never fsynced. After a crash the new name can point at an empty or partial file (the
 *   ext4 zero-length-file problem). Decided at once.
 *
 * rename-without-dir-fsync: the directory that received the name must be fsynced (or its
 *   filesystem covered by syncfs/sync) within the rule's window, or the rename itself can
 *   vanish after a crash. Decided when the window closes. Severity is the rule's when the
 *   program fsynced the file first (it wanted durability and missed the directory), one step
 *   lower when it fsynced nothing (it probably never thought about durability).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/util/timeops.h"
#include "daemon/correlator/correlator.h"
#include "daemon/detectors/detectors.h"
#include "daemon/util/duration.h"
#include "daemon/sinks/event_format.h"
#include "daemon/util/fsnames.h"
#include "daemon/util/hash.h"

#define NIL UINT32_MAX

/*
 * Pending renames are grouped two ways: by program (comm and cgroup, so a shell loop of mv
 * processes is one program) and by receiving directory. When the table is full, the oldest
 * entry of the largest group of either kind is dropped: a rename storm loses its own windows,
 * never an unrelated program's single rename. A drop is a loss for its two groups: every
 * window of the same program or directory that was open at the time is reported degraded.
 */
enum { BY_PROGRAM, BY_DIR, N_GROUPINGS };

struct group {
	uint64_t key_a, key_b; /* program: hash of comm and cgroup, 0; directory: dev, ino */
	uint32_t count;	       /* live entries; 0: the group slot is free */
	uint32_t hash_next;
	uint32_t count_prev, count_next; /* groups with the same count */
	uint32_t head, tail;		 /* its entries, oldest first */
	uint64_t evicted;		 /* entries dropped while the group lived */
};

struct group_index {
	struct group *groups; /* `capacity` slots: there are never more groups than entries */
	uint32_t *buckets;
	uint32_t mask;
	uint32_t free_head; /* chained through hash_next */
	uint32_t *by_count; /* head of the list of groups per count, 1..capacity */
	uint32_t max_count;
};

struct group_link {
	uint32_t group;
	uint32_t prev, next; /* entries of the same group */
	uint64_t evicted_at; /* the group's `evicted` when this entry joined */
};

/* A rename waiting for its directory to be synced, under one rule. */
struct pending_rename {
	uint64_t renamed_ns;
	uint64_t deadline_ns;
	uint32_t generation; /* bumped on free; stale heap items are skipped */
	bool live;
	bool file_fsynced;	/* the renamed file had been fsynced before the rename */
	bool resolve_timed_out; /* the renamed name's statx did not finish in time */
	enum ioh_severity severity;
	char rule[IOH_RULE_NAME_MAX];
	struct ioh_file_id dir;	 /* directory that must be synced */
	struct ioh_file_id file; /* the renamed inode, if known */
	uint32_t identity;
	struct ioh_actor who;
	char *path;
	char *old_path;
	struct group_link link[N_GROUPINGS];
	uint32_t next_free;
};

struct heap_item {
	uint64_t deadline_ns;
	uint32_t index;
	uint32_t generation;
};

struct rename_durability {
	struct pending_rename *pending;
	uint32_t capacity;
	uint32_t live;
	uint32_t free_head;
	struct group_index groups[N_GROUPINGS];
	struct heap_item *heap; /* min-heap by deadline */
	uint32_t heap_len;
	uint64_t evictions;
	uint64_t unresolved;
};

/* ---- groups of pending renames ------------------------------------------------------------ */

static uint32_t group_hash(const struct group_index *g, uint64_t a, uint64_t b)
{
	uint64_t h = (a ^ (b * 0xBF58476D1CE4E5B9ull)) * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(h >> 32) & g->mask;
}

static int group_index_init(struct group_index *g, uint32_t capacity)
{
	uint32_t nb = 1;

	while (nb < capacity * 2)
		nb <<= 1;
	g->groups = calloc(capacity, sizeof(*g->groups));
	g->buckets = malloc(nb * sizeof(*g->buckets));
	g->by_count = malloc(((size_t)capacity + 1) * sizeof(*g->by_count));
	if (!g->groups || !g->buckets || !g->by_count)
		return -1;
	memset(g->buckets, 0xff, nb * sizeof(*g->buckets));
	memset(g->by_count, 0xff, ((size_t)capacity + 1) * sizeof(*g->by_count));
	g->mask = nb - 1;
	for (uint32_t i = 0; i < capacity; i++)
		g->groups[i].hash_next = i + 1 < capacity ? i + 1 : NIL;
	g->free_head = 0;
	g->max_count = 0;
	return 0;
}

static void group_index_free(struct group_index *g)
{
	free(g->groups);
	free(g->buckets);
	free(g->by_count);
}

static void count_unlink(struct group_index *g, uint32_t gi)
{
	struct group *x = &g->groups[gi];

	if (x->count_prev != NIL)
		g->groups[x->count_prev].count_next = x->count_next;
	else
		g->by_count[x->count] = x->count_next;
	if (x->count_next != NIL)
		g->groups[x->count_next].count_prev = x->count_prev;
}

static void count_link(struct group_index *g, uint32_t gi)
{
	struct group *x = &g->groups[gi];

	x->count_prev = NIL;
	x->count_next = g->by_count[x->count];
	if (x->count_next != NIL)
		g->groups[x->count_next].count_prev = gi;
	g->by_count[x->count] = gi;
	if (x->count > g->max_count)
		g->max_count = x->count;
}

/* The group with this key, created empty when missing (there is always a free slot: the
 * caller adds an entry, and entries never outnumber the slots). */
static uint32_t group_get(struct group_index *g, uint64_t a, uint64_t b)
{
	uint32_t h = group_hash(g, a, b), gi = g->buckets[h];
	struct group *x;

	for (; gi != NIL; gi = g->groups[gi].hash_next)
		if (g->groups[gi].key_a == a && g->groups[gi].key_b == b)
			return gi;
	gi = g->free_head;
	x = &g->groups[gi];
	g->free_head = x->hash_next;
	memset(x, 0, sizeof(*x));
	x->key_a = a;
	x->key_b = b;
	x->head = x->tail = NIL;
	x->count_prev = x->count_next = NIL;
	x->hash_next = g->buckets[h];
	g->buckets[h] = gi;
	return gi;
}

static uint32_t group_find(const struct group_index *g, uint64_t a, uint64_t b)
{
	uint32_t gi = g->buckets[group_hash(g, a, b)];

	for (; gi != NIL; gi = g->groups[gi].hash_next)
		if (g->groups[gi].key_a == a && g->groups[gi].key_b == b)
			return gi;
	return NIL;
}

static void group_release_slot(struct group_index *g, uint32_t gi)
{
	struct group *x = &g->groups[gi];
	uint32_t *link = &g->buckets[group_hash(g, x->key_a, x->key_b)];

	while (*link != gi)
		link = &g->groups[*link].hash_next;
	*link = x->hash_next;
	x->hash_next = g->free_head;
	g->free_head = gi;
}

/* FNV-1a of the program's name and cgroup: a shell loop's many mv processes are one program. */
static uint64_t program_key(const char *comm, const char *cgroup)
{
	uint64_t h = ioh_fnv1a(IOH_FNV1A_INIT, comm, strnlen(comm, IOH_COMM_LEN));

	h = ioh_fnv1a(h, "\xff", 1); /* separator no name contains */
	return ioh_fnv1a_str(h, cgroup);
}

static void rd_fini(void *state)
{
	struct rename_durability *d = state;

	free(d->pending);
	free(d->heap);
	group_index_free(&d->groups[BY_PROGRAM]);
	group_index_free(&d->groups[BY_DIR]);
}

static int rd_init(void *state, const struct ioh_correlator_config *cfg)
{
	struct rename_durability *d = state;

	d->capacity = cfg->max_pending;
	d->pending = calloc(d->capacity, sizeof(*d->pending));
	d->heap = calloc((size_t)d->capacity * 2, sizeof(*d->heap));
	if (!d->pending || !d->heap || group_index_init(&d->groups[BY_PROGRAM], d->capacity) < 0 ||
	    group_index_init(&d->groups[BY_DIR], d->capacity) < 0) {
		rd_fini(d);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < d->capacity; i++)
		d->pending[i].next_free = i + 1 < d->capacity ? i + 1 : NIL;
	d->free_head = 0;
	return 0;
}

static void group_join(struct rename_durability *d, int by, uint32_t i, uint64_t a, uint64_t b)
{
	struct group_index *g = &d->groups[by];
	uint32_t gi = group_get(g, a, b);
	struct group *x = &g->groups[gi];
	struct group_link *l = &d->pending[i].link[by];

	l->group = gi;
	l->evicted_at = x->evicted;
	l->next = NIL;
	l->prev = x->tail;
	if (x->tail != NIL)
		d->pending[x->tail].link[by].next = i;
	else
		x->head = i;
	x->tail = i;
	if (x->count)
		count_unlink(g, gi);
	x->count++;
	count_link(g, gi);
}

static void group_leave(struct rename_durability *d, int by, uint32_t i)
{
	struct group_index *g = &d->groups[by];
	struct group_link *l = &d->pending[i].link[by];
	uint32_t gi = l->group;
	struct group *x = &g->groups[gi];

	if (l->prev != NIL)
		d->pending[l->prev].link[by].next = l->next;
	else
		x->head = l->next;
	if (l->next != NIL)
		d->pending[l->next].link[by].prev = l->prev;
	else
		x->tail = l->prev;
	count_unlink(g, gi);
	if (g->by_count[x->count] == NIL && g->max_count == x->count)
		g->max_count--;
	x->count--;
	if (x->count)
		count_link(g, gi);
	else
		group_release_slot(g, gi);
}

/* Entries of this entry's groups dropped since it joined them: its window lost peers. */
static uint64_t evicted_since(const struct rename_durability *d, const struct pending_rename *p,
			      int by)
{
	const struct group_link *l = &p->link[by];

	return d->groups[by].groups[l->group].evicted - l->evicted_at;
}

static void release(struct rename_durability *d, uint32_t i)
{
	struct pending_rename *p = &d->pending[i];

	group_leave(d, BY_PROGRAM, i);
	group_leave(d, BY_DIR, i);
	free(p->path);
	free(p->old_path);
	p->path = p->old_path = NULL;
	ioh_actor_clear(&p->who);
	p->live = false;
	p->generation++;
	p->next_free = d->free_head;
	d->free_head = i;
	d->live--;
}

/* Release what is still pending, then the tables. */
static void rd_destroy(void *state)
{
	struct rename_durability *d = state;

	for (uint32_t i = 0; i < d->capacity; i++)
		if (d->pending[i].live)
			release(d, i);
	rd_fini(d);
}

/* ---- deadline heap ------------------------------------------------------------------------ */

static void heap_swap(struct heap_item *a, struct heap_item *b)
{
	struct heap_item t = *a;

	*a = *b;
	*b = t;
}

static void heap_push(struct rename_durability *d, uint64_t deadline, uint32_t index)
{
	uint32_t i = d->heap_len++;

	d->heap[i] = (struct heap_item){deadline, index, d->pending[index].generation};
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (d->heap[parent].deadline_ns <= d->heap[i].deadline_ns)
			break;
		heap_swap(&d->heap[parent], &d->heap[i]);
		i = parent;
	}
}

static struct heap_item heap_pop(struct rename_durability *d)
{
	struct heap_item top = d->heap[0];
	uint32_t i = 0;

	d->heap[0] = d->heap[--d->heap_len];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < d->heap_len && d->heap[l].deadline_ns < d->heap[m].deadline_ns)
			m = l;
		if (r < d->heap_len && d->heap[r].deadline_ns < d->heap[m].deadline_ns)
			m = r;
		if (m == i)
			break;
		heap_swap(&d->heap[m], &d->heap[i]);
		i = m;
	}
	return top;
}

static bool heap_item_live(const struct rename_durability *d, const struct heap_item *h)
{
	const struct pending_rename *p = &d->pending[h->index];

	return p->live && p->generation == h->generation;
}

/* Drop heap items whose pending entry was already resolved, so the heap never fills with
 * garbage. It has 2 * capacity slots, so compaction (O(capacity)) happens at most once per
 * `capacity` additions even when every addition evicts, leaving a stale item behind. */
static void heap_compact(struct rename_durability *d)
{
	uint32_t n = d->heap_len;
	struct heap_item *items = d->heap;

	d->heap_len = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct heap_item h = items[i];

		if (heap_item_live(d, &h)) {
			/* Re-pushing in place is safe: the write index never passes the read
			 * index. */
			uint32_t j = d->heap_len++;

			items[j] = h;
			while (j > 0 && items[(j - 1) / 2].deadline_ns > items[j].deadline_ns) {
				heap_swap(&items[(j - 1) / 2], &items[j]);
				j = (j - 1) / 2;
			}
		}
	}
}

/* ---- findings ----------------------------------------------------------------------------- */

static void dirname_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;

	if (slash == path)
		len = 1; /* "/x" lives in "/" */
	if (!slash) {
		snprintf(out, size, ".");
		return;
	}
	if (len >= size)
		len = size - 1;
	memcpy(out, path, len);
	out[len] = '\0';
}

static void emit_dir_fsync(struct rename_durability *d, struct ioh_correlator *c,
			   struct pending_rename *p)
{
	struct ioh_finding f;
	char dir[512];
	uint64_t window = p->deadline_ns - p->renamed_ns;
	uint64_t lost_program = evicted_since(d, p, BY_PROGRAM);
	uint64_t lost_dir = evicted_since(d, p, BY_DIR);

	dirname_of(p->path, dir, sizeof(dir));
	ioh_finding_start(&f, p->deadline_ns, p->rule, p->severity, &p->who);
	f.degraded = lost_program || lost_dir || p->resolve_timed_out ||
		     ioh_correlator_loss_overlaps(c, p->renamed_ns, p->deadline_ns);
	f.file = p->file.ino ? p->file : p->dir;
	f.path = p->path;
	f.fstype = ioh_fstype_from_magic(p->dir.fs_magic);
	snprintf(f.message, sizeof(f.message),
		 "renamed into %s but the directory was not fsynced within %s", dir,
		 IOH_DURATION(window));
	f.fix = "fsync(2) the parent directory after rename(2)";
	ioh_finding_add_str(&f, "old_path", p->old_path);
	ioh_finding_add_str(&f, "directory", dir);
	ioh_finding_add_uint(&f, "directory_ino", p->dir.ino);
	ioh_finding_add_bool(&f, "file_fsynced", p->file_fsynced);
	ioh_finding_add_duration(&f, "window", window);
	/* The name was still not durable when the window closed: at least this long. */
	ioh_finding_add_duration(&f, "exposure_at_least", window);
	ioh_finding_add_str(&f, "identity", ioh_identity_source_to_string(p->identity));
	if (lost_program || lost_dir) {
		/* The pending table was full: renames of this program or into this directory
		 * were dropped unjudged while the window was open, so this finding stands for
		 * more renames than it says, and some of them went unreported. */
		ioh_finding_add_str(&f, "degraded_by", "pending-table-full");
		ioh_finding_add_uint(&f, "dropped_same_program", lost_program);
		ioh_finding_add_uint(&f, "dropped_same_directory", lost_dir);
	} else if (p->resolve_timed_out) {
		/* The file system did not answer the resolver's statx in time: the renamed
		 * inode is unknown, so its fsync could not be credited. */
		ioh_finding_add_str(&f, "degraded_by", "resolve-timeout");
	}
	ioh_correlator_emit(c, &f);
}

static void emit_unsynced_source(struct ioh_correlator *c, const struct ioh_rule *rule,
				 const struct ioh_event *ev, const struct ioh_inode_state *st,
				 const char *fstype)
{
	struct ioh_finding f;
	uint64_t dirty_for = ev->ts_ns - st->dirty_since_ns;

	ioh_finding_from_event(&f, rule, ev);
	/* A lost SYNC or CLEAN record since the file got dirty could mean it was synced. */
	f.degraded = ioh_correlator_loss_overlaps(c, st->dirty_since_ns, ev->ts_ns);
	f.file = ev->rename.src;
	f.path = ev->rename.new_path;
	f.fstype = fstype;
	snprintf(f.message, sizeof(f.message),
		 "renamed %s %s while its data was never fsynced (dirty for %s)",
		 /* "over" only when the kernel saw a file there: a new name is not replaced */
		 ev->flags & IOH_EVF_RENAME_REPLACED ? "over" : "to", ev->rename.new_path,
		 IOH_DURATION(dirty_for));
	f.fix = "fsync(2) the file before rename(2), then fsync(2) the directory";
	ioh_finding_add_str(&f, "old_path", ev->rename.old_path);
	ioh_finding_add_duration(&f, "dirty_for", dirty_for);
	ioh_finding_add_uint(&f, "dirtied_by_pid", st->dirtier_pid);
	ioh_finding_add_bool(&f, "ever_fsynced", st->last_sync_ns != 0);
	ioh_finding_add_str(&f, "identity", ioh_identity_source_to_string(ev->rename.identity));
	ioh_correlator_emit(c, &f);
}

/* ---- events ------------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * The table is full: drop the oldest rename of the largest group (program or directory; a
 * tie goes to the program), count it, and mark the loss on both its groups. Its heap item
 * goes stale and is skipped or compacted away.
 */
static void evict_one(struct rename_durability *d)
{
	int by =
	    d->groups[BY_DIR].max_count > d->groups[BY_PROGRAM].max_count ? BY_DIR : BY_PROGRAM;
	struct group_index *g = &d->groups[by];
	uint32_t i;

	if (!g->max_count)
		return;
	i = g->groups[g->by_count[g->max_count]].head;
	for (int k = 0; k < N_GROUPINGS; k++)
		d->groups[k].groups[d->pending[i].link[k].group].evicted++;
	release(d, i);
	d->evictions++;
}

static void add_pending(struct rename_durability *d, const struct ioh_rule *rule,
			const struct ioh_event *ev, bool file_fsynced)
{
	struct pending_rename *p;
	uint32_t i;

	if (d->free_head == NIL) {
		evict_one(d);
		if (d->free_head == NIL)
			return;
	}
	if (d->heap_len == 2 * (uint64_t)d->capacity)
		heap_compact(d);
	i = d->free_head;
	p = &d->pending[i];
	d->free_head = p->next_free;

	p->renamed_ns = ev->ts_ns;
	p->deadline_ns = ioh_deadline_ns(ev->ts_ns, rule->window_ns);
	p->live = true;
	p->resolve_timed_out = ev->flags & IOH_EVF_RESOLVE_TIMEOUT;
	p->file_fsynced = file_fsynced;
	p->severity = file_fsynced ? rule->severity : ioh_severity_lower(rule->severity);
	snprintf(p->rule, sizeof(p->rule), "%s", rule->name);
	p->dir = ev->rename.dst_dir;
	p->file = ev->rename.src;
	p->identity = ev->rename.identity;
	ioh_actor_from_event(&p->who, ev);
	p->path = dup_or_null(ev->rename.new_path);
	p->old_path = dup_or_null(ev->rename.old_path);

	group_join(d, BY_PROGRAM, i, program_key(p->who.comm, p->who.cgroup), 0);
	group_join(d, BY_DIR, i, p->dir.dev, p->dir.ino);
	d->live++;
	heap_push(d, p->deadline_ns, i);
}

/* Latest time the state learned anything about its file. */
static uint64_t state_latest_ns(const struct ioh_inode_state *st)
{
	uint64_t t = st->dirty_since_ns;

	if (st->last_sync_ns > t)
		t = st->last_sync_ns;
	if (st->last_clean_ns > t)
		t = st->last_clean_ns;
	return t;
}

/*
 * The renamed file's durability state, never an earlier file's that had the same inode
 * number: by generation when the identity carries it (kernel identities), else by birth time
 * (names resolved with statx: STATX_BTIME). State whose every fact predates the file's birth
 * is a deleted file's: it is ignored and dropped. A fact after the birth (a dirty page, an
 * fsync, a sync(2) that covered every inode) is about the file the number now names.
 */
static const struct ioh_inode_state *source_state(struct ioh_inode_table *t,
						  const struct ioh_rename_info *r)
{
	struct ioh_inode_state *st = ioh_inode_lookup_gen(t, r->src.dev, r->src.ino, r->src.gen);

	if (st && !r->src.gen && r->src_btime_ns && state_latest_ns(st) < r->src_btime_ns) {
		ioh_inode_remove(t, st);
		return NULL;
	}
	return st;
}

static void on_rename(struct rename_durability *d, struct ioh_correlator *c,
		      const struct ioh_event *ev)
{
	const struct ioh_rename_info *r = &ev->rename;
	const struct ioh_inode_state *st = NULL;
	const struct ioh_rule *const *rules;
	size_t n;
	const char *fstype;
	bool file_fsynced;

	if (!r->new_path)
		return;
	fstype = ioh_fstype_from_magic(r->dst_dir.fs_magic ? r->dst_dir.fs_magic : r->src.fs_magic);
	/*
	 * A name resolved with statx when the event was processed can already name a later file
	 * (a program that replaces the same name in a loop faster than the daemon drains): a
	 * birth after the rename says so. That file's state is not the renamed one's: the
	 * source verdict is left open (counted as unresolved), the directory is still judged.
	 */
	if (r->src.ino && !r->src.gen && r->src_btime_ns > ev->ts_ns) {
		d->unresolved++;
	} else if (r->src.ino) {
		st = source_state(ioh_correlator_inodes(c), r);
	}
	file_fsynced = st && st->last_sync_ns && !st->dirty_since_ns;

	/* Every rule that applies, not only the first: each is its own policy. */
	rules = ioh_correlator_rules_of(c, IOH_RULE_RENAME_UNSYNCED_SOURCE, &n);
	for (size_t i = 0; st && st->dirty_since_ns && i < n; i++)
		if (ioh_correlator_rule_applies(rules[i], r->new_path, fstype, ev))
			emit_unsynced_source(c, rules[i], ev, st, fstype);

	rules = ioh_correlator_rules_of(c, IOH_RULE_RENAME_WITHOUT_DIR_FSYNC, &n);
	for (size_t i = 0; i < n; i++) {
		if (!ioh_correlator_rule_applies(rules[i], r->new_path, fstype, ev))
			continue;
		if (!r->dst_dir.ino) {
			d->unresolved++; /* no directory to wait for; counted, not guessed */
			continue;
		}
		add_pending(d, rules[i], ev, file_fsynced);
	}
}

static void satisfy_dir(struct rename_durability *d, uint32_t dev, uint64_t ino)
{
	struct group_index *g = &d->groups[BY_DIR];
	uint32_t gi = group_find(g, dev, ino);

	/* Releasing the last entry frees the group: read the next index first. */
	while (gi != NIL && g->groups[gi].count) {
		uint32_t i = g->groups[gi].head;
		bool last = g->groups[gi].count == 1;

		release(d, i);
		if (last)
			break;
	}
}

static void satisfy_all(struct rename_durability *d, bool one_dev, uint32_t dev)
{
	for (uint32_t i = 0; i < d->capacity; i++)
		if (d->pending[i].live && (!one_dev || d->pending[i].dir.dev == dev))
			release(d, i);
}

static void rd_on_event(void *state, struct ioh_correlator *c, const struct ioh_event *ev)
{
	struct rename_durability *d = state;

	switch (ev->type) {
	case IOH_EV_RENAME:
		on_rename(d, c, ev);
		break;
	case IOH_EV_SYNC:
		if (ev->sync.ret != 0 || d->live == 0)
			break;
		switch (ev->sync.kind) {
		case IOH_SYNC_FSYNC:
		case IOH_SYNC_FDATASYNC:
			if ((ev->sync.file.mode & S_IFMT) == S_IFDIR)
				satisfy_dir(d, ev->sync.file.dev, ev->sync.file.ino);
			break;
		case IOH_SYNC_SYNCFS:
			satisfy_all(d, true, ev->sync.file.dev);
			break;
		case IOH_SYNC_SYNC:
			satisfy_all(d, false, 0);
			break;
		}
		break;
		/* Losses are judged when a window closes (ioh_correlator_loss_overlaps), not when
		 * they are reported: a LOSS event can arrive before older records, and after the
		 * clock passed a deadline that the daemon expired but a replay expires later. */
	}
}

static void rd_advance(void *state, struct ioh_correlator *c, uint64_t now_ns)
{
	struct rename_durability *d = state;

	while (d->heap_len && d->heap[0].deadline_ns <= now_ns) {
		struct heap_item h = heap_pop(d);

		if (!heap_item_live(d, &h))
			continue;
		emit_dir_fsync(d, c, &d->pending[h.index]);
		release(d, h.index);
	}
}

static void rd_stats(const void *state, struct ioh_correlator_stats *st)
{
	const struct rename_durability *d = state;

	st->pending_renames += d->live;
	st->pending_evictions += d->evictions;
	st->renames_unresolved += d->unresolved;
}

const struct ioh_detector ioh_detector_rename_durability = {
    .name = "rename-durability",
    .state_size = sizeof(struct rename_durability),
    .init = rd_init,
    .fini = rd_destroy,
    .on_event = rd_on_event,
    .advance = rd_advance,
    .stats = rd_stats,
};
