// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "daemon/record/eventlog.h"

/* Header inside the gzip stream: magic, version, flags, realtime offset. */
#define HEADER_SIZE 24

struct ioh_eventlog_writer {
	gzFile gz;
	uint8_t buf[IOH_EVENTLOG_RECORD_MAX + 4];
};

struct ioh_eventlog_reader {
	gzFile gz;
	uint32_t version; /* of the file: records are decoded as that version wrote them */
	int64_t realtime_offset_ns;
	uint64_t records; /* read so far, for error messages */
	char error[256];
	uint8_t buf[IOH_EVENTLOG_RECORD_MAX];
};

/* ---- payload encoding: little-endian, fixed fields then counted strings ------------------ */

struct cursor {
	uint8_t *p;
	uint32_t len;
	uint32_t off;
	bool bad;
	uint32_t version; /* reading: the format version of the payload */
};

static void put_bytes(struct cursor *c, const void *data, uint32_t n)
{
	if (c->bad || c->len - c->off < n) {
		c->bad = true;
		return;
	}
	memcpy(c->p + c->off, data, n);
	c->off += n;
}

static void put_u16(struct cursor *c, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	put_bytes(c, b, 2);
}

static void put_u32(struct cursor *c, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(c, b, 4);
}

static void put_u64(struct cursor *c, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(c, b, 8);
}

/* u16 length including the NUL (0: absent), then the bytes and the NUL. */
static void put_str(struct cursor *c, const char *s)
{
	size_t n = s ? strlen(s) + 1 : 0;

	if (n > 0xffff) {
		c->bad = true;
		return;
	}
	put_u16(c, (uint16_t)n);
	if (n)
		put_bytes(c, s, (uint32_t)n);
}

static void put_file(struct cursor *c, const struct ioh_file_id *f)
{
	put_u32(c, f->dev);
	put_u32(c, f->mode);
	put_u64(c, f->ino);
	put_u32(c, f->fs_magic);
	put_u32(c, f->gen); /* since version 2 */
}

static void put_splice_end(struct cursor *c, const struct ioh_splice_end *e)
{
	put_file(c, &e->file);
	put_u32(c, (uint32_t)e->fd);
	put_u32(c, e->kind);
	put_u32(c, e->pipe_bytes);
	put_u32(c, e->pipe_used);
	put_u32(c, e->sock_sndbuf);
	put_u32(c, e->sock_queued);
}

static const uint8_t *get_bytes(struct cursor *c, uint32_t n)
{
	const uint8_t *p;

	if (c->bad || c->len - c->off < n) {
		c->bad = true;
		return NULL;
	}
	p = c->p + c->off;
	c->off += n;
	return p;
}

static uint16_t get_u16(struct cursor *c)
{
	const uint8_t *b = get_bytes(c, 2);

	return b ? (uint16_t)(b[0] | b[1] << 8) : 0;
}

static uint32_t get_u32(struct cursor *c)
{
	const uint8_t *b = get_bytes(c, 4);
	uint32_t v = 0;

	for (int i = 0; b && i < 4; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static uint64_t get_u64(struct cursor *c)
{
	const uint8_t *b = get_bytes(c, 8);
	uint64_t v = 0;

	for (int i = 0; b && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static const char *get_str(struct cursor *c)
{
	uint16_t n = get_u16(c);
	const uint8_t *b;

	if (n == 0)
		return NULL;
	b = get_bytes(c, n);
	/* Exactly one NUL, at the end: no embedded NULs hiding a different string. */
	if (!b || b[n - 1] != '\0' || memchr(b, '\0', n - 1)) {
		c->bad = true;
		return NULL;
	}
	return (const char *)b;
}

static void get_file(struct cursor *c, struct ioh_file_id *f)
{
	f->dev = get_u32(c);
	f->mode = get_u32(c);
	f->ino = get_u64(c);
	f->fs_magic = get_u32(c);
	/* Version 1 did not record i_generation: 0, unknown, matches by (dev, ino) alone. */
	f->gen = c->version >= 2 ? get_u32(c) : 0;
}

static void get_splice_end(struct cursor *c, struct ioh_splice_end *e)
{
	get_file(c, &e->file);
	e->fd = (int32_t)get_u32(c);
	e->kind = get_u32(c);
	e->pipe_bytes = get_u32(c);
	e->pipe_used = get_u32(c);
	e->sock_sndbuf = get_u32(c);
	e->sock_queued = get_u32(c);
	if (e->kind > IOH_END_OTHER)
		c->bad = true;
}

/* Most bytes one module of a STACK record takes. */
#define STACK_MODULE_BYTES_MAX(path_len)                                                           \
	(5 * 8 + 1 + IOH_STACK_BUILD_ID_MAX + 2 + 8 + 2 + (path_len))

/*
 * A STACK event: key, registers, flags, the stack bytes (u32 length), then the modules (u16
 * count; each range, offset, dev, ino, build id (u8 length + IOH_STACK_BUILD_ID_MAX bytes),
 * ELF vaddr (u8 known + u64) and path). Modules that would not fit the record are left out:
 * the chain then ends where they begin, which is better than stopping the recording.
 */
static void put_stack(struct cursor *c, const struct ioh_stack_snapshot *s)
{
	uint32_t n = 0, count_at;

	put_u64(c, s->callsite);
	put_u32(c, s->regs_mask);
	for (int i = 0; i < IOH_STACK_NREGS; i++)
		put_u64(c, s->regs[i]);
	put_u16(c, s->process_gone ? 1 : 0);
	put_u32(c, s->stack_len);
	put_bytes(c, s->stack, s->stack_len);
	count_at = c->off;
	put_u16(c, 0); /* patched below */
	for (uint32_t i = 0; i < s->n_modules && i < IOH_STACK_MODULES_MAX; i++) {
		const struct ioh_stack_module *m = &s->modules[i];
		size_t pl = m->path ? strlen(m->path) + 1 : 0;

		if (c->bad || c->len - c->off < STACK_MODULE_BYTES_MAX(pl))
			break;
		put_u64(c, m->start);
		put_u64(c, m->end);
		put_u64(c, m->pgoff);
		put_u64(c, m->dev);
		put_u64(c, m->ino);
		put_bytes(c,
			  &(uint8_t){m->build_id_len > IOH_STACK_BUILD_ID_MAX
					 ? IOH_STACK_BUILD_ID_MAX
					 : m->build_id_len},
			  1);
		put_bytes(c, m->build_id, IOH_STACK_BUILD_ID_MAX);
		put_u16(c, m->vaddr_known ? 1 : 0);
		put_u64(c, m->vaddr);
		put_str(c, m->path);
		n++;
	}
	if (!c->bad) {
		c->p[count_at] = (uint8_t)n;
		c->p[count_at + 1] = (uint8_t)(n >> 8);
	}
}

/* Decoded modules of the last STACK event read (strings point into the payload): valid
 * until the next decode on this thread, like the strings. */
static _Thread_local struct ioh_stack_module decoded_modules[IOH_STACK_MODULES_MAX];

static void get_stack(struct cursor *c, struct ioh_event *ev)
{
	struct ioh_stack_snapshot *s = &ev->stack;
	uint16_t gone, n;

	s->pid = ev->pid;
	s->tid = ev->tid;
	s->callsite = get_u64(c);
	s->regs_mask = get_u32(c);
	for (int i = 0; i < IOH_STACK_NREGS; i++)
		s->regs[i] = get_u64(c);
	gone = get_u16(c);
	s->process_gone = gone == 1;
	s->stack_len = get_u32(c);
	if (s->stack_len > IOH_STACK_BYTES_MAX || gone > 1 || !s->callsite ||
	    (s->regs_mask >> IOH_STACK_NREGS)) {
		c->bad = true;
		return;
	}
	s->stack = get_bytes(c, s->stack_len);
	n = get_u16(c);
	if (n > IOH_STACK_MODULES_MAX) {
		c->bad = true;
		return;
	}
	s->modules = decoded_modules;
	for (uint16_t i = 0; i < n && !c->bad; i++) {
		struct ioh_stack_module *m = &decoded_modules[i];
		const uint8_t *id_len, *id;
		uint16_t known;

		memset(m, 0, sizeof(*m));
		m->start = get_u64(c);
		m->end = get_u64(c);
		m->pgoff = get_u64(c);
		m->dev = get_u64(c);
		m->ino = get_u64(c);
		id_len = get_bytes(c, 1);
		id = get_bytes(c, IOH_STACK_BUILD_ID_MAX);
		known = get_u16(c);
		m->vaddr = get_u64(c);
		m->path = get_str(c);
		if (!id_len || !id || *id_len > IOH_STACK_BUILD_ID_MAX || known > 1 || !m->path ||
		    m->end <= m->start) {
			c->bad = true;
			break;
		}
		m->build_id_len = *id_len;
		memcpy(m->build_id, id, IOH_STACK_BUILD_ID_MAX);
		m->vaddr_known = known == 1;
	}
	s->n_modules = c->bad ? 0 : n;
	ev->callsite = s->callsite;
}

/* ---- per-type payloads (the same order both ways) --------------------------------------- */

static void put_access(struct cursor *c, const struct ioh_access_info *a)
{
	put_file(c, &a->file);
	put_u32(c, a->kind);
	put_u16(c, a->access);
	put_u16(c, a->other_access);
	put_u32(c, a->other_pid);
	put_u64(c, a->other_ns);
	put_str(c, a->path);
	put_bytes(c, a->other_comm, IOH_COMM_LEN);
	put_str(c, a->other_cgroup);
}

static void get_access(struct cursor *c, struct ioh_access_info *a)
{
	const uint8_t *other_comm;

	get_file(c, &a->file);
	a->kind = get_u32(c);
	a->access = get_u16(c);
	a->other_access = get_u16(c);
	a->other_pid = get_u32(c);
	a->other_ns = get_u64(c);
	a->path = get_str(c);
	other_comm = get_bytes(c, IOH_COMM_LEN);
	if (other_comm && other_comm[IOH_COMM_LEN - 1] != '\0')
		c->bad = true;
	else if (other_comm)
		memcpy(a->other_comm, other_comm, IOH_COMM_LEN);
	a->other_cgroup = get_str(c);
	if (a->kind < IOH_MODE_BOTH_OPEN || a->kind > IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ ||
	    a->access > IOH_ACC_MMAP || a->other_access > IOH_ACC_MMAP)
		c->bad = true;
}

static void put_throttle(struct cursor *c, const struct ioh_throttle_info *t)
{
	put_bytes(c, t->bdi, IOH_BDI_NAME_LEN);
	put_u64(c, t->pause_ns);
	put_u64(c, t->paused_ns);
	put_u64(c, t->period_ns);
	put_u64(c, (uint64_t)t->think_ns);
	put_u64(c, t->limit);
	put_u64(c, t->setpoint);
	put_u64(c, t->dirty);
	put_u64(c, t->wb_setpoint);
	put_u64(c, t->wb_dirty);
	put_u64(c, t->dirty_ratelimit);
	put_u64(c, t->task_ratelimit);
	put_u32(c, t->dirtied);
	put_u32(c, t->dirtied_pause);
	put_u64(c, t->cgroup_ino);
	put_u64(c, t->bdi_idle_ns);
	put_str(c, t->page_cgroup);
}

static void get_throttle(struct cursor *c, struct ioh_throttle_info *t)
{
	const uint8_t *bdi = get_bytes(c, IOH_BDI_NAME_LEN);

	/* A fixed field written from a NUL-terminated name: anything else is damage. */
	if (bdi && bdi[IOH_BDI_NAME_LEN - 1] != '\0')
		c->bad = true;
	else if (bdi)
		memcpy(t->bdi, bdi, IOH_BDI_NAME_LEN);
	t->pause_ns = get_u64(c);
	t->paused_ns = get_u64(c);
	t->period_ns = get_u64(c);
	t->think_ns = (int64_t)get_u64(c);
	t->limit = get_u64(c);
	t->setpoint = get_u64(c);
	t->dirty = get_u64(c);
	t->wb_setpoint = get_u64(c);
	t->wb_dirty = get_u64(c);
	t->dirty_ratelimit = get_u64(c);
	t->task_ratelimit = get_u64(c);
	t->dirtied = get_u32(c);
	t->dirtied_pause = get_u32(c);
	t->cgroup_ino = get_u64(c);
	t->bdi_idle_ns = get_u64(c);
	t->page_cgroup = get_str(c);
}

static void put_splice(struct cursor *c, const struct ioh_splice_info *sp)
{
	put_u32(c, sp->call);
	put_u32(c, sp->blocked);
	put_u64(c, (uint64_t)sp->ret);
	put_u64(c, sp->duration_ns);
	put_u64(c, sp->requested);
	put_u32(c, sp->wb_waits);
	put_u32(c, sp->path_end);
	put_splice_end(c, &sp->in);
	put_splice_end(c, &sp->out);
	put_str(c, sp->path);
}

static void get_splice(struct cursor *c, struct ioh_splice_info *sp)
{
	sp->call = get_u32(c);
	sp->blocked = get_u32(c);
	sp->ret = (int64_t)get_u64(c);
	sp->duration_ns = get_u64(c);
	sp->requested = get_u64(c);
	sp->wb_waits = get_u32(c);
	sp->path_end = get_u32(c);
	get_splice_end(c, &sp->in);
	get_splice_end(c, &sp->out);
	sp->path = get_str(c);
	if (sp->call < IOH_SPLICE_CALL_SPLICE || sp->call > IOH_SPLICE_CALL_COPY_FILE_RANGE ||
	    sp->path_end > 1)
		c->bad = true;
}

static void get_mount(struct cursor *c, struct ioh_mount_info *m)
{
	m->mnt_id = get_u64(c);
	m->dev = get_u32(c);
	m->flags = get_u32(c);
	m->commit_s = get_u32(c);
	m->mount_point = get_str(c);
	m->fstype = get_str(c);
	m->source = get_str(c);
	m->options = get_str(c);
	if (!m->mount_point)
		c->bad = true;
}

/* The fields every event has, type first. */
static void get_header(struct cursor *c, struct ioh_event *ev)
{
	const uint8_t *comm;

	ev->type = get_u16(c);
	get_u16(c);
	ev->flags = get_u32(c);
	ev->ts_ns = get_u64(c);
	ev->pid = get_u32(c);
	ev->tid = get_u32(c);
	ev->cgroup_id = get_u64(c);
	comm = get_bytes(c, IOH_COMM_LEN);
	if (comm) {
		memcpy(ev->comm, comm, IOH_COMM_LEN);
		ev->comm[IOH_COMM_LEN - 1] = '\0';
	}
	ev->cgroup = get_str(c);
}

static void get_rename(struct cursor *c, struct ioh_rename_info *r, uint32_t version)
{
	r->dfd = (int32_t)get_u32(c);
	r->rename_flags = get_u32(c);
	r->identity = get_u32(c);
	get_file(c, &r->src);
	get_file(c, &r->dst_dir);
	if (version >= 2)
		r->src_btime_ns = get_u64(c);
	r->new_path = get_str(c);
	r->old_path = get_str(c);
	if (r->identity > IOH_ID_USERSPACE)
		c->bad = true;
}

static void get_sync(struct cursor *c, struct ioh_sync_info *si, uint32_t version)
{
	si->kind = get_u32(c);
	si->ret = (int32_t)get_u32(c);
	si->fd = (int32_t)get_u32(c);
	get_file(c, &si->file);
	si->duration_ns = get_u64(c);
	si->path = version >= 3 ? get_str(c) : NULL;
	if (si->kind < IOH_SYNC_FSYNC || si->kind > IOH_SYNC_SYNC)
		c->bad = true;
}

int ioh_eventlog_encode_payload(const struct ioh_event *ev, uint8_t *buf, uint32_t size)
{
	struct cursor c = {.p = buf, .len = size};

	put_u16(&c, (uint16_t)ev->type);
	put_u16(&c, 0);
	put_u32(&c, ev->flags);
	put_u64(&c, ev->ts_ns);
	put_u32(&c, ev->pid);
	put_u32(&c, ev->tid);
	put_u64(&c, ev->cgroup_id);
	put_bytes(&c, ev->comm, IOH_COMM_LEN);
	put_str(&c, ev->cgroup);
	switch (ev->type) {
	case IOH_EV_RENAME:
		put_u32(&c, (uint32_t)ev->rename.dfd);
		put_u32(&c, ev->rename.rename_flags);
		put_u32(&c, ev->rename.identity);
		put_file(&c, &ev->rename.src);
		put_file(&c, &ev->rename.dst_dir);
		put_u64(&c, ev->rename.src_btime_ns); /* since version 2 */
		put_str(&c, ev->rename.new_path);
		put_str(&c, ev->rename.old_path);
		put_u64(&c, ev->callsite); /* since version 4, as for the next three types */
		break;
	case IOH_EV_SYNC:
		put_u32(&c, ev->sync.kind);
		put_u32(&c, (uint32_t)ev->sync.ret);
		put_u32(&c, (uint32_t)ev->sync.fd);
		put_file(&c, &ev->sync.file);
		put_u64(&c, ev->sync.duration_ns);
		put_str(&c, ev->sync.path); /* since version 3 */
		break;
	case IOH_EV_INODE_DIRTY:
	case IOH_EV_INODE_CLEAN:
		put_file(&c, &ev->inode.file);
		put_u64(&c, ev->inode.dirtied_ns);
		break;
	case IOH_EV_ACCESS_MODE:
		put_access(&c, &ev->access);
		put_u64(&c, ev->callsite);
		break;
	case IOH_EV_DIRTY_THROTTLE:
		put_throttle(&c, &ev->throttle);
		break;
	case IOH_EV_SPLICE_STALL:
		put_splice(&c, &ev->splice);
		put_u64(&c, ev->callsite);
		break;
	case IOH_EV_TRUNCATE:
		put_file(&c, &ev->truncate.file);
		put_u64(&c, ev->truncate.old_size);
		put_str(&c, ev->truncate.path);
		put_u64(&c, ev->callsite);
		break;
	case IOH_EV_STACK:
		put_stack(&c, &ev->stack);
		break;
	case IOH_EV_MOUNT:
		put_u64(&c, ev->mount.mnt_id);
		put_u32(&c, ev->mount.dev);
		put_u32(&c, ev->mount.flags);
		put_u32(&c, ev->mount.commit_s);
		put_str(&c, ev->mount.mount_point);
		put_str(&c, ev->mount.fstype);
		put_str(&c, ev->mount.source);
		put_str(&c, ev->mount.options);
		break;
	case IOH_EV_LOSS:
		put_u32(&c, ev->loss.where);
		put_u64(&c, ev->loss.count);
		put_u64(&c, ev->loss.since_ns);
		break;
	}
	return c.bad ? -E2BIG : (int)c.off;
}

int ioh_eventlog_decode_payload(const uint8_t *payload, uint32_t len, struct ioh_event *ev)
{
	return ioh_eventlog_decode_payload_version(payload, len, IOH_EVENTLOG_VERSION, ev);
}

int ioh_eventlog_decode_payload_version(const uint8_t *payload, uint32_t len, uint32_t version,
					struct ioh_event *ev)
{
	struct cursor c = {.p = (uint8_t *)payload, .len = len, .version = version};

	memset(ev, 0, sizeof(*ev));
	get_header(&c, ev);
	switch (ev->type) {
	case IOH_EV_RENAME:
		get_rename(&c, &ev->rename, version);
		if (version >= 4)
			ev->callsite = get_u64(&c);
		break;
	case IOH_EV_SYNC:
		get_sync(&c, &ev->sync, version);
		break;
	case IOH_EV_INODE_DIRTY:
	case IOH_EV_INODE_CLEAN:
		get_file(&c, &ev->inode.file);
		ev->inode.dirtied_ns = get_u64(&c);
		break;
	case IOH_EV_ACCESS_MODE:
		get_access(&c, &ev->access);
		if (version >= 4)
			ev->callsite = get_u64(&c);
		break;
	case IOH_EV_DIRTY_THROTTLE:
		get_throttle(&c, &ev->throttle);
		break;
	case IOH_EV_SPLICE_STALL:
		get_splice(&c, &ev->splice);
		if (version >= 4)
			ev->callsite = get_u64(&c);
		break;
	case IOH_EV_TRUNCATE:
		get_file(&c, &ev->truncate.file);
		ev->truncate.old_size = get_u64(&c);
		ev->truncate.path = get_str(&c);
		if (version >= 4)
			ev->callsite = get_u64(&c);
		break;
	case IOH_EV_STACK:
		if (version < 4)
			c.bad = true;
		else
			get_stack(&c, ev);
		break;
	case IOH_EV_MOUNT:
		get_mount(&c, &ev->mount);
		break;
	case IOH_EV_LOSS:
		ev->loss.where = get_u32(&c);
		ev->loss.count = get_u64(&c);
		ev->loss.since_ns = get_u64(&c);
		if (ev->loss.where >= IOH_LOSS__MAX)
			c.bad = true;
		break;
	case IOH_EV_END:
		break;
	default:
		return c.bad ? -EBADMSG : -ENOMSG;
	}
	if (c.bad || c.off != len)
		return -EBADMSG;
	return 0;
}

/* ---- files ------------------------------------------------------------------------------- */

/*
 * The daemon writes recordings as root, often into directories others can write (/tmp,
 * /var/tmp): never follow a link planted at the name, never truncate what is there. The
 * file is created (O_EXCL|O_NOFOLLOW, 0600); an existing one is refused unless `flags` has
 * IOH_EVENTLOG_REPLACE, and even then only a regular file is unlinked first (a link is
 * removed as a name, never followed). The descriptor keeps O_CLOEXEC: gzdopen() takes it
 * as is (a dup() would drop the flag).
 */
static int create_exclusive(const char *path, unsigned flags)
{
	const int oflags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int fd = open(path, oflags, 0600);

	if (fd >= 0 || errno != EEXIST || !(flags & IOH_EVENTLOG_REPLACE))
		return fd >= 0 ? fd : -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EEXIST; /* a link, a device, a fifo: not ours to replace */
	if (unlink(path) < 0)
		return -errno;
	fd = open(path, oflags, 0600); /* someone recreating it in between: EEXIST again */
	return fd >= 0 ? fd : -errno;
}

int ioh_eventlog_create(const char *path, int64_t realtime_offset_ns, unsigned flags,
			struct ioh_eventlog_writer **out)
{
	struct ioh_eventlog_writer *w = calloc(1, sizeof(*w));
	uint8_t header[HEADER_SIZE];
	struct cursor c = {.p = header, .len = sizeof(header)};
	int fd;

	if (!w)
		return -ENOMEM;
	fd = create_exclusive(path, flags);
	if (fd < 0) {
		free(w);
		return fd;
	}
	w->gz = gzdopen(fd, "wb6");
	if (!w->gz) {
		close(fd);
		free(w);
		return -ENOMEM;
	}
	put_bytes(&c, IOH_EVENTLOG_MAGIC, 8);
	put_u32(&c, IOH_EVENTLOG_VERSION);
	put_u32(&c, 0);
	put_u64(&c, (uint64_t)realtime_offset_ns);
	if (gzwrite(w->gz, header, sizeof(header)) != (int)sizeof(header)) {
		gzclose(w->gz);
		free(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

/* The write(2) error behind a failed gz call (ENOSPC, EIO, ...), else -EIO. */
static int gz_errno(gzFile gz)
{
	int saved = errno, zerr = Z_OK;

	gzerror(gz, &zerr);
	return zerr == Z_ERRNO && saved > 0 ? -saved : -EIO;
}

int ioh_eventlog_write(struct ioh_eventlog_writer *w, const struct ioh_event *ev)
{
	int n = ioh_eventlog_encode_payload(ev, w->buf + 4, IOH_EVENTLOG_RECORD_MAX);
	struct cursor c = {.p = w->buf, .len = 4};

	if (n < 0)
		return n;
	put_u32(&c, (uint32_t)n);
	if (gzwrite(w->gz, w->buf, (unsigned)n + 4) != n + 4)
		return gz_errno(w->gz);
	return 0;
}

int ioh_eventlog_flush(struct ioh_eventlog_writer *w)
{
	return gzflush(w->gz, Z_SYNC_FLUSH) == Z_OK ? 0 : gz_errno(w->gz);
}

int ioh_eventlog_close(struct ioh_eventlog_writer *w)
{
	int r;

	if (!w)
		return 0;
	r = gzclose(w->gz) == Z_OK ? 0 : -EIO;
	free(w);
	return r;
}

int ioh_eventlog_open(const char *path, struct ioh_eventlog_reader **out, char *err, size_t errlen)
{
	struct ioh_eventlog_reader *r = calloc(1, sizeof(*r));
	uint8_t header[HEADER_SIZE];
	struct cursor c = {.p = header, .len = sizeof(header)};
	uint32_t version;
	int n;

	if (!r)
		return -ENOMEM;
	r->gz = gzopen(path, "rbe");
	if (!r->gz) {
		int e = errno ? -errno : -ENOMEM;

		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-e));
		free(r);
		return e;
	}
	n = gzread(r->gz, header, sizeof(header));
	if (n != (int)sizeof(header) || memcmp(header, IOH_EVENTLOG_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s: not an iohazard event recording (bad header)", path);
		ioh_eventlog_close_reader(r);
		return -EBADMSG;
	}
	get_bytes(&c, 8);
	version = get_u32(&c);
	get_u32(&c);
	r->realtime_offset_ns = (int64_t)get_u64(&c);
	if (version < IOH_EVENTLOG_VERSION_MIN || version > IOH_EVENTLOG_VERSION) {
		snprintf(err, errlen, "%s: recording format version %u, this build reads %u to %u",
			 path, version, IOH_EVENTLOG_VERSION_MIN, IOH_EVENTLOG_VERSION);
		ioh_eventlog_close_reader(r);
		return -EPROTONOSUPPORT;
	}
	r->version = version;
	*out = r;
	return 0;
}

int64_t ioh_eventlog_realtime_offset(const struct ioh_eventlog_reader *r)
{
	return r->realtime_offset_ns;
}

/*
 * Whether a read that returned nothing met the end of a complete gzip stream: a file cut short
 * between two records decompresses to whole records, and only zlib's "unexpected end of file"
 * (Z_BUF_ERROR) tells it from a clean end.
 */
static bool gz_stream_complete(gzFile gz)
{
	int zerr = Z_OK;

	gzerror(gz, &zerr);
	return zerr == Z_OK || zerr == Z_STREAM_END;
}

int ioh_eventlog_read(struct ioh_eventlog_reader *r, struct ioh_event *ev)
{
	uint8_t lenbuf[4];
	struct cursor c = {.p = lenbuf, .len = 4};
	uint32_t len;
	int n, e;

	for (;;) {
		n = gzread(r->gz, lenbuf, 4);
		if (n == 0 && gz_stream_complete(r->gz))
			return 0;
		if (n != 4)
			goto truncated;
		len = get_u32(&c);
		c.off = 0;
		if (len > IOH_EVENTLOG_RECORD_MAX) {
			snprintf(r->error, sizeof(r->error),
				 "record %llu: length %u exceeds the limit of %u bytes",
				 (unsigned long long)r->records + 1, len, IOH_EVENTLOG_RECORD_MAX);
			return -EBADMSG;
		}
		n = gzread(r->gz, r->buf, len);
		if (n != (int)len)
			goto truncated;
		r->records++;
		e = ioh_eventlog_decode_payload_version(r->buf, len, r->version, ev);
		if (e == -ENOMSG)
			continue; /* written by a newer version: skip what we do not know */
		if (e < 0) {
			snprintf(r->error, sizeof(r->error), "record %llu: malformed",
				 (unsigned long long)r->records);
			return e;
		}
		return 1;
	}
truncated:
	snprintf(r->error, sizeof(r->error), "truncated after record %llu%s",
		 (unsigned long long)r->records, gzeof(r->gz) ? "" : " (damaged compressed data)");
	return -EBADMSG;
}

const char *ioh_eventlog_error(const struct ioh_eventlog_reader *r)
{
	return r->error;
}

void ioh_eventlog_close_reader(struct ioh_eventlog_reader *r)
{
	if (!r)
		return;
	if (r->gz)
		gzclose(r->gz);
	free(r);
}
