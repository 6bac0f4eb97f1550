// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "daemon/ingest/decode.h"

static void decode_header(const struct ioh_event_hdr *hdr, struct ioh_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = hdr->ts_ns;
	ev->type = hdr->type;
	ev->flags = hdr->flags & 0xffff;
	ev->pid = hdr->pid;
	ev->tid = hdr->tid;
	ev->cgroup_id = hdr->cgroup_id;
	memcpy(ev->comm, hdr->comm, IOH_COMM_LEN);
	ev->comm[IOH_COMM_LEN - 1] = '\0';
}

/*
 * A string of `len` bytes (NUL included) packed at `s`, at most `max` bytes: returns it or
 * NULL if absent (len 0); -EBADMSG through *err when it is too long or unterminated. The
 * caller has checked that the record holds `len` bytes at `s`.
 */
static const char *packed_string(const char *s, unsigned len, size_t max, int *err)
{
	if (len == 0)
		return NULL;
	if (len > max || s[len - 1] != '\0') {
		*err = -EBADMSG;
		return NULL;
	}
	return s;
}

/*
 * The `tail` bytes a record (hdr.size) holds past its struct are its path of `path_len`
 * bytes: the path must fit its region and fill the record exactly. Check len >= the struct
 * size before reading path_len.
 */
static bool path_fills_tail(size_t tail, unsigned path_len)
{
	return path_len <= IOH_DIR_PATH_REGION && tail == path_len;
}

void ioh_join_path(char *out, size_t size, const char *dir, const char *name)
{
	size_t dl = strlen(dir);

	if (name[0] == '/' || dl == 0) {
		snprintf(out, size, "%s", name);
		return;
	}
	while (name[0] == '.' && name[1] == '/') /* "./x" is "x" */
		name += 2;
	if (dir[dl - 1] == '/')
		snprintf(out, size, "%s%s", dir, name);
	else
		snprintf(out, size, "%s/%s", dir, name);
}

/* Reverse leaf-first components into "/a/b/c"; a cut-off walk gets a visible prefix. */
static int rebuild_dir(const char *region, unsigned len, unsigned ncomp, bool truncated, char *out,
		       size_t size)
{
	const char *comps[IOH_DIR_COMPONENTS_MAX];
	unsigned n = 0;
	size_t off = 0, used = 0;

	if (len > IOH_DIR_PATH_REGION || ncomp > IOH_DIR_COMPONENTS_MAX)
		return -EBADMSG;
	while (off < len && n < IOH_DIR_COMPONENTS_MAX) {
		const char *s = region + off;
		size_t sl = strnlen(s, len - off);

		if (off + sl >= len) /* unterminated */
			return -EBADMSG;
		comps[n++] = s;
		off += sl + 1;
	}
	if (n != ncomp || off != len)
		return -EBADMSG;
	out[0] = '\0';
	if (truncated)
		used += (size_t)snprintf(out + used, size - used, "%s", IOH_TRUNCATION_MARK);
	for (unsigned i = n; i-- > 0;) {
		if (used >= size)
			break;
		used += (size_t)snprintf(out + used, size - used, "/%s", comps[i]);
	}
	if (n == 0 && !truncated)
		snprintf(out, size, "/");
	return 0;
}

static int decode_rename(const void *data, size_t len, struct ioh_event *ev,
			 struct ioh_decode_scratch *s)
{
	const struct ioh_rename_event *re = data;
	const char *strings = (const char *)(re + 1);
	const char *old_name, *new_name;
	bool truncated = re->hdr.flags & IOH_EVF_PATH_TRUNCATED;
	int err = 0;

	/* Packed strings (iohazard.h): each within its own bound, together exactly what the
	 * record holds past the struct. */
	if (len < sizeof(*re) || re->base_path_len > IOH_DIR_PATH_REGION ||
	    re->old_name_len > IOH_USER_PATH_MAX || re->new_name_len > IOH_NEW_PATH_MAX ||
	    len - sizeof(*re) != (size_t)re->base_path_len + re->old_name_len + re->new_name_len)
		return -EBADMSG;
	ev->rename.dfd = re->dfd;
	ev->rename.rename_flags = re->rename_flags;
	ev->rename.identity = re->identity;
	if (re->identity == IOH_ID_KERNEL) {
		ev->rename.src = re->src;
		ev->rename.dst_dir = re->dst_dir;
	} else if (re->identity != IOH_ID_NONE) {
		return -EBADMSG;
	}
	s->base_dir_id = re->base_dir;
	s->mnt_ns = re->mnt_ns;

	old_name =
	    packed_string(strings + re->base_path_len, re->old_name_len, IOH_USER_PATH_MAX, &err);
	new_name = packed_string(strings + re->base_path_len + re->old_name_len, re->new_name_len,
				 IOH_NEW_PATH_MAX, &err);
	if (err)
		return err;

	s->base_dir[0] = '\0';
	if (re->base_path_len || re->base_dir.ino) { /* 0 components: the walk began at "/" */
		err = rebuild_dir(strings, re->base_path_len, re->base_components, truncated,
				  s->base_dir, sizeof(s->base_dir));
		if (err)
			return err;
	}
	s->new_in_base_dir = false;
	if (new_name && re->new_name_len == IOH_NEW_PATH_MAX) {
		/* The kernel filled the whole buffer (PATH_MAX, so only a kernel with a larger
		 * limit can do this): the name may go on. Mark the cut at the end and never resolve
		 * it (the prefix could name a different, existing file). */
		snprintf(s->cut_name, sizeof(s->cut_name), "%s%s", new_name, IOH_TRUNCATION_MARK);
		new_name = s->cut_name;
		ev->flags |= IOH_EVF_PATH_TRUNCATED | IOH_EVF_RESOLVE_FAILED;
	}
	if (new_name) {
		if (new_name[0] != '/' && !s->base_dir[0])
			return -EBADMSG; /* a relative name must come with its directory */
		ioh_join_path(s->new_path, sizeof(s->new_path), s->base_dir, new_name);
		ev->rename.new_path = s->new_path;
		{
			const char *rel = new_name;

			while (rel[0] == '.' && rel[1] == '/')
				rel += 2; /* "./x" is still directly in the base directory */
			s->new_in_base_dir = rel[0] != '/' && !strchr(rel, '/');
		}
	}
	if (old_name) {
		/* The old name's dirfd is not recorded: a relative old name is shown relative to
		 * the new name's directory, which is right for rename(2) and the common
		 * renameat(dfd, tmp, dfd, name) and says "relative" otherwise. */
		ioh_join_path(s->old_path, sizeof(s->old_path), s->base_dir, old_name);
		ev->rename.old_path = s->old_path;
	}
	if (s->new_in_base_dir && !ev->rename.dst_dir.ino)
		ev->rename.dst_dir = re->base_dir;
	ev->callsite = re->callsite;
	return 0;
}

static int decode_access(const void *data, size_t len, struct ioh_event *ev,
			 struct ioh_decode_scratch *s)
{
	const struct ioh_access_event *ae = data;
	const char *path = (const char *)(ae + 1);
	int err;

	if (len < sizeof(*ae) || !path_fills_tail(len - sizeof(*ae), ae->path_len))
		return -EBADMSG;
	if (ae->kind < IOH_MODE_BOTH_OPEN || ae->kind > IOH_MODE_BUFFERED_WRITE_THEN_DIRECT_READ ||
	    ae->access > IOH_ACC_MMAP || ae->other_access > IOH_ACC_MMAP)
		return -EBADMSG;
	ev->access.file = ae->file;
	ev->access.kind = ae->kind;
	ev->access.access = ae->access;
	ev->access.other_access = ae->other_access;
	ev->access.other_pid = ae->other_pid;
	ev->access.other_ns = ae->other_ns;
	ev->callsite = ae->callsite;
	if (ae->path_len) {
		/* The walk started at the file itself, so its components end with the name. */
		err = rebuild_dir(path, ae->path_len, ae->path_components,
				  ae->hdr.flags & IOH_EVF_PATH_TRUNCATED, s->access_path,
				  sizeof(s->access_path));
		if (err)
			return err;
		ev->access.path = s->access_path;
	}
	return 0;
}

static int decode_throttle(const void *data, size_t len, struct ioh_event *ev)
{
	const struct ioh_throttle_event *te = data;
	struct ioh_throttle_info *t = &ev->throttle;

	if (len < sizeof(*te))
		return -EBADMSG;
	memcpy(t->bdi, te->bdi, IOH_BDI_NAME_LEN);
	t->bdi[IOH_BDI_NAME_LEN - 1] = '\0';
	t->pause_ns = te->pause_ns;
	t->paused_ns = te->paused_ns;
	t->period_ns = te->period_ns;
	t->think_ns = te->think_ns;
	t->limit = te->limit;
	t->setpoint = te->setpoint;
	t->dirty = te->dirty;
	t->wb_setpoint = te->wb_setpoint;
	t->wb_dirty = te->wb_dirty;
	t->dirty_ratelimit = te->dirty_ratelimit;
	t->task_ratelimit = te->task_ratelimit;
	t->dirtied = te->dirtied;
	t->dirtied_pause = te->dirtied_pause;
	t->cgroup_ino = te->cgroup_ino;
	t->bdi_idle_ns = te->bdi_idle_ns;
	return 0;
}

static int decode_splice(const void *data, size_t len, struct ioh_event *ev,
			 struct ioh_decode_scratch *s)
{
	const struct ioh_splice_event *se = data;
	struct ioh_splice_info *sp = &ev->splice;

	if (len < sizeof(*se) || !path_fills_tail(len - sizeof(*se), se->path_len))
		return -EBADMSG;
	if (se->call < IOH_SPLICE_CALL_SPLICE || se->call > IOH_SPLICE_CALL_COPY_FILE_RANGE ||
	    se->in.kind > IOH_END_OTHER || se->out.kind > IOH_END_OTHER || se->path_end > 1)
		return -EBADMSG;
	sp->call = se->call;
	sp->blocked = se->blocked;
	sp->ret = se->ret;
	sp->duration_ns = se->duration_ns;
	sp->requested = se->requested;
	sp->wb_waits = se->wb_waits;
	sp->path_end = se->path_end;
	sp->in = se->in;
	sp->out = se->out;
	ev->callsite = se->callsite;
	if (se->path_len) {
		/* Walked from the file itself: the components end with its name. */
		int err = rebuild_dir((const char *)(se + 1), se->path_len, se->path_components,
				      se->hdr.flags & IOH_EVF_PATH_TRUNCATED, s->access_path,
				      sizeof(s->access_path));
		if (err)
			return err;
		sp->path = s->access_path;
	}
	return 0;
}

static int decode_truncate(const void *data, size_t len, struct ioh_event *ev,
			   struct ioh_decode_scratch *s)
{
	const struct ioh_truncate_event *te = data;

	if (len < sizeof(*te) || !path_fills_tail(len - sizeof(*te), te->path_len))
		return -EBADMSG;
	ev->truncate.file = te->file;
	ev->truncate.old_size = te->old_size;
	ev->callsite = te->callsite;
	if (te->path_len) {
		/* Components up to the filesystem's root: a path within the filesystem. */
		int err = rebuild_dir((const char *)(te + 1), te->path_len, te->path_components,
				      te->hdr.flags & IOH_EVF_PATH_TRUNCATED, s->access_path,
				      sizeof(s->access_path));
		if (err)
			return err;
		ev->truncate.path = s->access_path;
	}
	return 0;
}

/* A kernel mapping hint (struct ioh_stack_vma) as a module; its path at `path`, which the
 * caller checked holds path_len bytes. Returns 1 if it is one, 0 if absent, -EBADMSG. */
static int decode_stack_vma(const struct ioh_stack_vma *v, const char *path, bool truncated,
			    struct ioh_stack_module *m, char *out, size_t size)
{
	int err;

	if (!v->end)
		return 0;
	if (v->end <= v->start || !v->path_len)
		return -EBADMSG;
	err = rebuild_dir(path, v->path_len, v->path_components, truncated, out, size);
	if (err)
		return err;
	memset(m, 0, sizeof(*m));
	m->start = v->start;
	m->end = v->end;
	m->pgoff = v->pgoff;
	m->dev = makedev(v->dev >> 20, v->dev & 0xfffff); /* kernel encoding -> st_dev's */
	m->ino = v->ino;
	m->path = out;
	return 1;
}

/*
 * A STACK record: registers, stack bytes, then the two hint paths; the sizes must add up to
 * the record exactly. The modules are the kernel's hints until resolve.c reads the task's own
 * mappings.
 */
static int decode_stack(const void *data, size_t len, struct ioh_event *ev,
			struct ioh_decode_scratch *s)
{
	const struct ioh_stack_event *se = data;
	const char *tail = (const char *)(se + 1);
	struct ioh_stack_snapshot *snap = &ev->stack;
	int r;

	if (len < sizeof(*se) || se->stack_len > IOH_STACK_BYTES_MAX || !se->callsite ||
	    se->exe.path_len > IOH_DIR_PATH_REGION || se->code.path_len > IOH_DIR_PATH_REGION ||
	    len - sizeof(*se) != (size_t)se->stack_len + se->exe.path_len + se->code.path_len)
		return -EBADMSG;
	snap->pid = se->hdr.pid;
	snap->tid = se->hdr.tid;
	snap->callsite = se->callsite;
	_Static_assert(IOH_STACK_REGS == IOH_STACK_NREGS, "ABI and snapshot registers differ");
	memcpy(snap->regs, se->regs, sizeof(snap->regs));
	snap->regs_mask = se->regs_mask & ((1u << IOH_STACK_NREGS) - 1);
	snap->stack = (const uint8_t *)tail;
	snap->stack_len = se->stack_len;
	snap->modules = s->stack_modules;
	snap->n_modules = 0;
	tail += se->stack_len;
	r = decode_stack_vma(&se->exe, tail, false, &s->stack_modules[0], s->stack_hint_path[0],
			     sizeof(s->stack_hint_path[0]));
	if (r < 0)
		return r;
	snap->n_modules += r;
	tail += se->exe.path_len;
	r = decode_stack_vma(&se->code, tail, false, &s->stack_modules[snap->n_modules],
			     s->stack_hint_path[1], sizeof(s->stack_hint_path[1]));
	if (r < 0)
		return r;
	snap->n_modules += r;
	ev->callsite = se->callsite;
	return 0;
}

int ioh_decode_record(const void *data, size_t len, struct ioh_event *ev,
		      struct ioh_decode_scratch *scratch)
{
	const struct ioh_event_hdr *hdr = data;

	if (len < sizeof(*hdr) || hdr->size > len || hdr->size < sizeof(*hdr))
		return -EBADMSG;
	len = hdr->size;
	decode_header(hdr, ev);

	switch (hdr->type) {
	case IOH_EV_RENAME:
		return decode_rename(data, len, ev, scratch);
	case IOH_EV_SYNC: {
		const struct ioh_sync_event *se = data;

		if (len < sizeof(*se) || !path_fills_tail(len - sizeof(*se), se->path_len) ||
		    se->kind < IOH_SYNC_FSYNC || se->kind > IOH_SYNC_SYNC)
			return -EBADMSG;
		ev->sync.kind = se->kind;
		ev->sync.ret = se->ret;
		ev->sync.fd = se->fd;
		ev->sync.file = se->file;
		ev->sync.duration_ns = se->duration_ns;
		if (se->path_len) {
			/* A failed fsync: the walk started at the file, so it ends with its name.
			 */
			int err =
			    rebuild_dir((const char *)(se + 1), se->path_len, se->path_components,
					se->hdr.flags & IOH_EVF_PATH_TRUNCATED, scratch->sync_path,
					sizeof(scratch->sync_path));

			if (err)
				return err;
			ev->sync.path = scratch->sync_path;
		}
		return 0;
	}
	case IOH_EV_ACCESS_MODE:
		return decode_access(data, len, ev, scratch);
	case IOH_EV_DIRTY_THROTTLE:
		return decode_throttle(data, len, ev);
	case IOH_EV_SPLICE_STALL:
		return decode_splice(data, len, ev, scratch);
	case IOH_EV_TRUNCATE:
		return decode_truncate(data, len, ev, scratch);
	case IOH_EV_STACK:
		return decode_stack(data, len, ev, scratch);
	case IOH_EV_HEARTBEAT:
		return 0; /* header only: the daemon consumes it, nothing records it */
	case IOH_EV_INODE_DIRTY:
	case IOH_EV_INODE_CLEAN: {
		const struct ioh_inode_event *ie = data;

		if (len < sizeof(*ie))
			return -EBADMSG;
		ev->inode.file = ie->file;
		ev->inode.dirtied_ns = ie->dirtied_ns;
		return 0;
	}
	default:
		return -ENOMSG;
	}
}
