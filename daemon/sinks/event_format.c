// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

#include "daemon/sinks/event_format.h"
#include "daemon/sinks/finding_format.h"
#include "daemon/util/fsnames.h"

const char *ioh_event_type_name(uint32_t type)
{
	switch (type) {
	case IOH_EV_RENAME:
		return "rename";
	case IOH_EV_SYNC:
		return "sync";
	case IOH_EV_INODE_DIRTY:
		return "inode_dirty";
	case IOH_EV_INODE_CLEAN:
		return "inode_clean";
	case IOH_EV_ACCESS_MODE:
		return "access_mode";
	case IOH_EV_HEARTBEAT:
		return "heartbeat";
	case IOH_EV_DIRTY_THROTTLE:
		return "dirty_throttle";
	case IOH_EV_SPLICE_STALL:
		return "splice_stall";
	case IOH_EV_TRUNCATE:
		return "truncate";
	case IOH_EV_STACK:
		return "stack";
	case IOH_EV_MOUNT:
		return "mount";
	case IOH_EV_LOSS:
		return "loss";
	case IOH_EV_END:
		return "end";
	}
	return "unknown";
}

const char *ioh_sync_kind_name(uint32_t kind)
{
	static const char *const names[] = {"?",	     "fsync",  "fdatasync",
					    "sync_file_range", "syncfs", "sync"};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *ioh_loss_where_name(uint32_t where)
{
	static const char *const names[IOH_LOSS__MAX] = {
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

	return where < IOH_LOSS__MAX ? names[where] : "?";
}

const char *ioh_access_name(uint32_t access)
{
	static const char *const names[] = {
		[IOH_ACC_NONE] = "none",
		[IOH_ACC_OPEN_DIRECT] = "O_DIRECT open",
		[IOH_ACC_OPEN_BUFFERED] = "buffered open",
		[IOH_ACC_DIRECT_READ] = "direct read",
		[IOH_ACC_DIRECT_WRITE] = "direct write",
		[IOH_ACC_BUFFERED_READ] = "buffered read",
		[IOH_ACC_BUFFERED_WRITE] = "buffered write",
		[IOH_ACC_MMAP] = "mmap",
	};

	return access < sizeof(names) / sizeof(names[0]) ? names[access] : "?";
}

const char *ioh_splice_call_name(uint32_t call)
{
	static const char *const names[] = {
		[IOH_SPLICE_CALL_SPLICE] = "splice",
		[IOH_SPLICE_CALL_TEE] = "tee",
		[IOH_SPLICE_CALL_VMSPLICE] = "vmsplice",
		[IOH_SPLICE_CALL_SENDFILE] = "sendfile",
		[IOH_SPLICE_CALL_COPY_FILE_RANGE] = "copy_file_range",
	};

	return call && call < sizeof(names) / sizeof(names[0]) ? names[call] : "?";
}

const char *ioh_end_kind_name(uint32_t kind)
{
	static const char *const names[] = {
		[IOH_END_NONE] = "none", [IOH_END_FILE] = "file",     [IOH_END_PIPE] = "pipe",
		[IOH_END_SOCKET] = "socket", [IOH_END_OTHER] = "other",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static void file_jsonw(struct jsonw *w, const char *key, const struct ioh_file_id *f);

static void splice_end_jsonw(struct jsonw *w, const char *key, const struct ioh_splice_end *e)
{
	jsonw_key(w, key);
	jsonw_obj_begin(w);
	jsonw_kv_int(w, "fd", e->fd);
	jsonw_kv_str(w, "kind", ioh_end_kind_name(e->kind));
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

void ioh_event_jsonw(const struct ioh_event *ev, int64_t realtime_offset_ns, struct jsonw *w)
{
	char time[64];

	ioh_format_time(ev->ts_ns, realtime_offset_ns, time, sizeof(time));
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "time", time);
	jsonw_kv_uint(w, "ts_ns", ev->ts_ns);
	jsonw_kv_str(w, "type", ioh_event_type_name(ev->type));
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
		jsonw_kv_str(w, "kind", ioh_sync_kind_name(ev->sync.kind));
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
		jsonw_kv_str(w, "access", ioh_access_name(ev->access.access));
		jsonw_kv_uint(w, "other_pid", ev->access.other_pid);
		jsonw_kv_str(w, "other_comm", ev->access.other_comm);
		jsonw_kv_str(w, "other_access", ioh_access_name(ev->access.other_access));
		jsonw_kv_str(w, "path", ev->access.path);
		file_jsonw(w, "file", &ev->access.file);
		break;
	case IOH_EV_DIRTY_THROTTLE: {
		const struct ioh_throttle_info *t = &ev->throttle;

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
		break;
	}
	case IOH_EV_SPLICE_STALL:
		jsonw_kv_str(w, "call", ioh_splice_call_name(ev->splice.call));
		jsonw_kv_uint(w, "blocked", ev->splice.blocked);
		jsonw_kv_int(w, "ret", ev->splice.ret);
		jsonw_kv_uint(w, "duration_ns", ev->splice.duration_ns);
		jsonw_kv_uint(w, "requested", ev->splice.requested);
		jsonw_kv_uint(w, "wb_waits", ev->splice.wb_waits);
		jsonw_kv_str(w, "path", ev->splice.path);
		jsonw_kv_str(w, "path_end", ev->splice.path_end ? "out" : "in");
		splice_end_jsonw(w, "in", &ev->splice.in);
		splice_end_jsonw(w, "out", &ev->splice.out);
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
	case IOH_EV_MOUNT: {
		char dev[32];

		snprintf(dev, sizeof(dev), "%u:%u", ioh_kdev_major(ev->mount.dev),
			 ioh_kdev_minor(ev->mount.dev));
		jsonw_kv_uint(w, "mnt_id", ev->mount.mnt_id);
		jsonw_kv_str(w, "dev", dev);
		jsonw_kv_uint(w, "flags", ev->mount.flags);
		jsonw_kv_uint(w, "commit_s", ev->mount.commit_s);
		jsonw_kv_str(w, "mount_point", ev->mount.mount_point);
		jsonw_kv_str(w, "fstype", ev->mount.fstype);
		jsonw_kv_str(w, "source", ev->mount.source);
		jsonw_kv_str(w, "options", ev->mount.options);
		break;
	}
	case IOH_EV_LOSS:
		jsonw_kv_str(w, "where", ioh_loss_where_name(ev->loss.where));
		jsonw_kv_uint(w, "count", ev->loss.count);
		break;
	}
	jsonw_obj_end(w);
}
