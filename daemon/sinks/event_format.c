// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

#include "daemon/sinks/event_format.h"
#include "daemon/sinks/finding_format.h"
#include "daemon/util/fsnames.h"
#include "daemon/util/string_table.h"

/* The names are the `type`, `kind`, `where`, ... values of `iohazard replay --events`, the
 * iohazard_events_total{type} and iohazard_events_lost_total{where} labels, and finding
 * evidence: keep them stable. */
static const char *const ioh_event_type_table[] = {
    [IOH_EV_RENAME] = "rename",
    [IOH_EV_SYNC] = "sync",
    [IOH_EV_INODE_DIRTY] = "inode_dirty",
    [IOH_EV_INODE_CLEAN] = "inode_clean",
    [IOH_EV_ACCESS_MODE] = "access_mode",
    [IOH_EV_HEARTBEAT] = "heartbeat",
    [IOH_EV_DIRTY_THROTTLE] = "dirty_throttle",
    [IOH_EV_SPLICE_STALL] = "splice_stall",
    [IOH_EV_TRUNCATE] = "truncate",
    [IOH_EV_STACK] = "stack",
    [IOH_EV_MOUNT] = "mount",
    [IOH_EV_LOSS] = "loss",
    [IOH_EV_END] = "end",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_event_type, uint32_t, "unknown");

static const char *const ioh_sync_kind_table[] = {
    [IOH_SYNC_FSYNC] = "fsync",
    [IOH_SYNC_FDATASYNC] = "fdatasync",
    [IOH_SYNC_FILE_RANGE] = "sync_file_range",
    [IOH_SYNC_SYNCFS] = "syncfs",
    [IOH_SYNC_SYNC] = "sync",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_sync_kind, uint32_t, "?");

static const char *const ioh_loss_where_table[IOH_LOSS__MAX] = {
    [IOH_LOSS_RINGBUF_RENAME] = "ringbuf_rename",
    [IOH_LOSS_RINGBUF_SYNC] = "ringbuf_sync",
    [IOH_LOSS_RINGBUF_INODE] = "ringbuf_inode",
    [IOH_LOSS_INFLIGHT_FULL] = "inflight_full",
    [IOH_LOSS_INODE_MAP_FULL] = "inode_map_full",
    [IOH_LOSS_USER_STRING] = "user_string",
    [IOH_LOSS_RINGBUF_MODE] = "ringbuf_mode",
    [IOH_LOSS_MODE_MAP_FULL] = "mode_map_full",
    [IOH_LOSS_RINGBUF_THROTTLE] = "ringbuf_throttle",
    [IOH_LOSS_RINGBUF_SPLICE] = "ringbuf_splice",
    [IOH_LOSS_SPLICE_INFLIGHT_FULL] = "splice_inflight_full",
    [IOH_LOSS_HIST_MAP_FULL] = "hist_map_full",
    [IOH_LOSS_RINGBUF_TRUNCATE] = "ringbuf_truncate",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_loss_where, uint32_t, "?");

static const char *const ioh_access_table[] = {
    [IOH_ACC_NONE] = "none",
    [IOH_ACC_OPEN_DIRECT] = "O_DIRECT open",
    [IOH_ACC_OPEN_BUFFERED] = "buffered open",
    [IOH_ACC_DIRECT_READ] = "direct read",
    [IOH_ACC_DIRECT_WRITE] = "direct write",
    [IOH_ACC_BUFFERED_READ] = "buffered read",
    [IOH_ACC_BUFFERED_WRITE] = "buffered write",
    [IOH_ACC_MMAP] = "mmap",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_access, uint32_t, "?");

static const char *const ioh_splice_call_table[] = {
    [IOH_SPLICE_CALL_SPLICE] = "splice",
    [IOH_SPLICE_CALL_TEE] = "tee",
    [IOH_SPLICE_CALL_VMSPLICE] = "vmsplice",
    [IOH_SPLICE_CALL_SENDFILE] = "sendfile",
    [IOH_SPLICE_CALL_COPY_FILE_RANGE] = "copy_file_range",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_splice_call, uint32_t, "?");

static const char *const ioh_end_kind_table[] = {
    [IOH_END_NONE] = "none",	 [IOH_END_FILE] = "file",   [IOH_END_PIPE] = "pipe",
    [IOH_END_SOCKET] = "socket", [IOH_END_OTHER] = "other",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_end_kind, uint32_t, "?");

static const char *const ioh_identity_source_table[] = {
    [IOH_ID_NONE] = "unresolved",
    [IOH_ID_KERNEL] = "kernel",
    [IOH_ID_USERSPACE] = "userspace",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_identity_source, uint32_t, "unresolved");

static void file_jsonw(struct jsonw *w, const char *key, const struct ioh_file_id *f);

static void splice_end_jsonw(struct jsonw *w, const char *key, const struct ioh_splice_end *e)
{
	jsonw_key(w, key);
	jsonw_obj_begin(w);
	jsonw_kv_int(w, "fd", e->fd);
	jsonw_kv_str(w, "kind", ioh_end_kind_to_string(e->kind));
	if (e->kind == IOH_END_PIPE) {
		jsonw_kv_uint(w, "pipe_bytes", e->pipe_bytes);
		jsonw_kv_uint(w, "pipe_used_slots", e->pipe_used);
	} else if (e->kind == IOH_END_SOCKET) {
		jsonw_kv_uint(w, "sndbuf", e->sock_sndbuf);
		jsonw_kv_uint(w, "queued", e->sock_queued);
	}
	file_jsonw(w, "file", &e->file);
	jsonw_obj_end(w);
}

static void file_jsonw(struct jsonw *w, const char *key, const struct ioh_file_id *f)
{
	char dev[32];

	snprintf(dev, sizeof(dev), "%u:%u", ioh_kdev_major(f->dev), ioh_kdev_minor(f->dev));
	jsonw_key(w, key);
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "dev", dev);
	jsonw_kv_uint(w, "ino", f->ino);
	jsonw_kv_uint(w, "mode", f->mode);
	jsonw_kv_str(w, "fstype", ioh_fstype_from_magic(f->fs_magic));
	jsonw_obj_end(w);
}

static void throttle_jsonw(struct jsonw *w, const struct ioh_throttle_info *t)
{
	jsonw_kv_str(w, "bdi", t->bdi);
	jsonw_kv_uint(w, "pause_ns", t->pause_ns);
	jsonw_kv_uint(w, "paused_ns", t->paused_ns);
	jsonw_kv_uint(w, "period_ns", t->period_ns);
	jsonw_kv_int(w, "think_ns", t->think_ns);
	jsonw_kv_uint(w, "limit", t->limit);
	jsonw_kv_uint(w, "setpoint", t->setpoint);
	jsonw_kv_uint(w, "dirty", t->dirty);
	jsonw_kv_uint(w, "wb_setpoint", t->wb_setpoint);
	jsonw_kv_uint(w, "wb_dirty", t->wb_dirty);
	jsonw_kv_uint(w, "dirty_ratelimit", t->dirty_ratelimit);
	jsonw_kv_uint(w, "task_ratelimit", t->task_ratelimit);
	jsonw_kv_uint(w, "dirtied", t->dirtied);
	jsonw_kv_uint(w, "dirtied_pause", t->dirtied_pause);
	jsonw_kv_uint(w, "cgroup_ino", t->cgroup_ino);
	jsonw_kv_str(w, "page_cgroup", t->page_cgroup);
	jsonw_kv_uint(w, "bdi_idle_ns", t->bdi_idle_ns);
}

static void splice_jsonw(struct jsonw *w, const struct ioh_splice_info *sp)
{
	jsonw_kv_str(w, "call", ioh_splice_call_to_string(sp->call));
	jsonw_kv_uint(w, "blocked", sp->blocked);
	jsonw_kv_int(w, "ret", sp->ret);
	jsonw_kv_uint(w, "duration_ns", sp->duration_ns);
	jsonw_kv_uint(w, "requested", sp->requested);
	jsonw_kv_uint(w, "wb_waits", sp->wb_waits);
	jsonw_kv_str(w, "path", sp->path);
	jsonw_kv_str(w, "path_end", sp->path_end ? "out" : "in");
	splice_end_jsonw(w, "in", &sp->in);
	splice_end_jsonw(w, "out", &sp->out);
}

static void mount_jsonw(struct jsonw *w, const struct ioh_mount_info *m)
{
	char dev[32];

	snprintf(dev, sizeof(dev), "%u:%u", ioh_kdev_major(m->dev), ioh_kdev_minor(m->dev));
	jsonw_kv_uint(w, "mnt_id", m->mnt_id);
	jsonw_kv_str(w, "dev", dev);
	jsonw_kv_uint(w, "flags", m->flags);
	jsonw_kv_uint(w, "commit_s", m->commit_s);
	jsonw_kv_str(w, "mount_point", m->mount_point);
	jsonw_kv_str(w, "fstype", m->fstype);
	jsonw_kv_str(w, "source", m->source);
	jsonw_kv_str(w, "options", m->options);
}

void ioh_event_jsonw(const struct ioh_event *ev, int64_t realtime_offset_ns, struct jsonw *w)
{
	char time[64];

	ioh_format_time(ev->ts_ns, realtime_offset_ns, time, sizeof(time));
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "time", time);
	jsonw_kv_uint(w, "ts_ns", ev->ts_ns);
	jsonw_kv_str(w, "type", ioh_event_type_to_string(ev->type));
	jsonw_kv_uint(w, "flags", ev->flags);
	jsonw_kv_uint(w, "pid", ev->pid);
	jsonw_kv_uint(w, "tid", ev->tid);
	jsonw_kv_str(w, "comm", ev->comm);
	jsonw_kv_str(w, "cgroup", ev->cgroup);
	if (ev->callsite)
		jsonw_kv_uint(w, "callsite", ev->callsite);
	switch (ev->type) {
	case IOH_EV_RENAME:
		jsonw_kv_str(w, "new_path", ev->rename.new_path);
		jsonw_kv_str(w, "old_path", ev->rename.old_path);
		jsonw_kv_uint(w, "identity", ev->rename.identity);
		jsonw_kv_uint(w, "rename_flags", ev->rename.rename_flags);
		file_jsonw(w, "src", &ev->rename.src);
		file_jsonw(w, "dst_dir", &ev->rename.dst_dir);
		break;
	case IOH_EV_SYNC:
		jsonw_kv_str(w, "kind", ioh_sync_kind_to_string(ev->sync.kind));
		jsonw_kv_int(w, "ret", ev->sync.ret);
		jsonw_kv_int(w, "fd", ev->sync.fd);
		jsonw_kv_uint(w, "duration_ns", ev->sync.duration_ns);
		file_jsonw(w, "file", &ev->sync.file);
		break;
	case IOH_EV_INODE_DIRTY:
	case IOH_EV_INODE_CLEAN:
		file_jsonw(w, "file", &ev->inode.file);
		break;
	case IOH_EV_ACCESS_MODE:
		jsonw_kv_uint(w, "kind", ev->access.kind);
		jsonw_kv_str(w, "access", ioh_access_to_string(ev->access.access));
		jsonw_kv_uint(w, "other_pid", ev->access.other_pid);
		jsonw_kv_str(w, "other_comm", ev->access.other_comm);
		jsonw_kv_str(w, "other_access", ioh_access_to_string(ev->access.other_access));
		jsonw_kv_str(w, "path", ev->access.path);
		file_jsonw(w, "file", &ev->access.file);
		break;
	case IOH_EV_DIRTY_THROTTLE:
		throttle_jsonw(w, &ev->throttle);
		break;
	case IOH_EV_SPLICE_STALL:
		splice_jsonw(w, &ev->splice);
		break;
	case IOH_EV_TRUNCATE:
		jsonw_kv_str(w, "path", ev->truncate.path);
		jsonw_kv_uint(w, "old_size", ev->truncate.old_size);
		file_jsonw(w, "file", &ev->truncate.file);
		break;
	case IOH_EV_STACK:
		jsonw_kv_uint(w, "stack_bytes", ev->stack.stack_len);
		jsonw_kv_uint(w, "modules", ev->stack.n_modules);
		jsonw_kv_bool(w, "process_gone", ev->stack.process_gone);
		break;
	case IOH_EV_MOUNT:
		mount_jsonw(w, &ev->mount);
		break;
	case IOH_EV_LOSS:
		jsonw_kv_str(w, "where", ioh_loss_where_to_string(ev->loss.where));
		jsonw_kv_uint(w, "count", ev->loss.count);
		break;
	}
	jsonw_obj_end(w);
}
