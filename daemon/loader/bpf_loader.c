// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "daemon/loader/bpf_loader.h"
#include "daemon/util/log.h"
#include "iohazard.skel.h"

#define DEFAULT_RINGBUF_BYTES (8u << 20)
#define MAX_LINKS 16

enum hook_id {
	HOOK_SYSCALLS,
	HOOK_DIRTY,
	HOOK_RENAME_ID,
	HOOK_FSYNC,
	HOOK_MAPPING_FAULTS,
	HOOK_DIRECT_IO,
	HOOK_IO_URING,
	HOOK_DIRTY_THROTTLE,
	HOOK_WRITEBACK_WAIT,
	HOOK_TRUNCATE,
	HOOK__COUNT
};

struct ioh_loader {
	struct iohazard_bpf *skel;
	struct ring_buffer *ringbuf;
	struct bpf_link *links[MAX_LINKS];
	struct bpf_program *attached[MAX_LINKS];
	enum hook_id link_hook[MAX_LINKS]; /* which hook each link serves */
	size_t n_links;
	struct ioh_hook_status hooks[HOOK__COUNT];
};

int ioh_backend_parse(const char *name, enum ioh_backend *out)
{
	static const char *const names[] = {"auto", "fentry", "kprobe", "tracepoint"};

	for (unsigned i = 0; i < 4; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum ioh_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* libbpf's own messages go through our log at debug level; its warnings stay warnings. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Everything from libbpf is debug output: probing fails on purpose on some kernels,
	 * and the loader reports every failure that matters in its own words. Written
	 * unbuffered and uncut, since a verifier log runs to megabytes. */
	if (ioh_log_get_level() < IOH_LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void set_all_autoload(struct iohazard_bpf *skel, bool on)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, on);
}

/* ---- probing ------------------------------------------------------------------------------ */

static bool btf_has_tracepoint(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

static bool kallsyms_has(const char *symbol)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", name) == 1 && strcmp(name, symbol) == 0;
	fclose(f);
	return found;
}

static bool kprobes_available(void)
{
	return access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
}

/*
 * BPF trampolines (fentry/fexit) either work on a kernel or not (no JIT support, lockdown,
 * missing BTF for the target): try loading and attaching the real programs once.
 */
static bool fentry_works(const char *const *progs, size_t n, char *why, size_t whylen)
{
	struct iohazard_bpf *skel = iohazard_bpf__open();
	bool ok = false;
	int err;

	if (!skel) {
		snprintf(why, whylen, "cannot open BPF object");
		return false;
	}
	set_all_autoload(skel, false);
	for (size_t i = 0; i < n; i++)
		bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, progs[i]),
					  true);
	bpf_map__set_max_entries(skel->maps.events, 4096);
	err = iohazard_bpf__load(skel);
	if (err) {
		snprintf(why, whylen, "fentry load failed: %s", strerror(-err));
		goto out;
	}
	ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		struct bpf_link *link = bpf_program__attach(
			bpf_object__find_program_by_name(skel->obj, progs[i]));

		if (!link) {
			snprintf(why, whylen, "fentry attach failed: %s", strerror(errno));
			ok = false;
		}
		bpf_link__destroy(link);
	}
out:
	iohazard_bpf__destroy(skel);
	return ok;
}

/* The twin chosen for a hook, and its programs (NULL-terminated). */
struct choice {
	const char *backend;
	const char *progs[4];
};

static const struct choice syscalls_tp_btf = {"tp_btf",
					      {"syscalls_enter_tp_btf", "syscalls_exit_tp_btf"}};
static const struct choice syscalls_raw_tp = {"raw_tp",
					      {"syscalls_enter_raw_tp", "syscalls_exit_raw_tp"}};
static const struct choice dirty_tp_btf = {
	"tp_btf", {"dirty_state_mark_tp_btf", "dirty_state_written_tp_btf"}};
static const struct choice dirty_raw_tp = {
	"raw_tp", {"dirty_state_mark_raw_tp", "dirty_state_written_raw_tp"}};
static const struct choice rename_fentry = {"fentry", {"rename_identity_fentry"}};
static const struct choice rename_kprobe = {"kprobe", {"rename_identity_kprobe"}};
static const struct choice rename_user = {"userspace", {NULL}};
static const struct choice fsync_fentry = {"fentry", {"fsync_enter_fentry", "fsync_exit_fexit"}};
static const struct choice fsync_kprobe = {"kprobe",
					   {"fsync_enter_kprobe", "fsync_exit_kretprobe"}};
static const struct choice fsync_sys_exit = {"sys_exit", {NULL}};
static const struct choice faults_tp_btf = {"tp_btf", {"mapping_faults_tp_btf"}};
static const struct choice faults_none = {"none", {NULL}};
static const struct choice dio_tp_btf = {"tp_btf", {"direct_io_tp_btf"}};
static const struct choice uring_tp_btf = {"tp_btf", {"io_uring_tp_btf"}};
/* The classic tracepoint on every kernel: its record is read through CO-RE (stalls.bpf.h). */
static const struct choice throttle_tracepoint = {"tracepoint", {"dirty_throttle_tracepoint"}};
static const struct choice wb_wait_tp_btf = {"tp_btf", {"writeback_wait_tp_btf"}};
static const struct choice wb_wait_raw_tp = {"raw_tp", {"writeback_wait_raw_tp"}};
static const struct choice truncate_tp_btf = {"tp_btf", {"truncate_tp_btf"}};
static const struct choice truncate_raw_tp = {"raw_tp", {"truncate_raw_tp"}};

/* Whether a tracepoint exists at all (for raw_tp on module tracepoints without BTF here). */
static bool tracefs_has_event(const char *subsys, const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s", subsys, event);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/%s", subsys, event);
	return access(path, F_OK) == 0;
}

/* Pick the twin for a hook that has fentry/kprobe variants. Returns -errno when the
 * operator demanded a backend this kernel does not have. */
static int choose_vfs_twin(enum ioh_backend backend, const char *symbol, bool fentry_ok,
			   const struct choice *fentry, const struct choice *kprobe,
			   const struct choice *fallback, const struct choice **out, char *why,
			   size_t whylen)
{
	bool kprobe_ok = kprobes_available() && kallsyms_has(symbol);

	switch (backend) {
	case IOH_BACKEND_FENTRY:
		if (!fentry_ok)
			return -EOPNOTSUPP;
		*out = fentry;
		return 0;
	case IOH_BACKEND_KPROBE:
		if (!kprobe_ok) {
			snprintf(why, whylen, "kprobes unavailable or %s not in kallsyms", symbol);
			return -EOPNOTSUPP;
		}
		*out = kprobe;
		return 0;
	case IOH_BACKEND_TRACEPOINT:
		*out = fallback;
		return 0;
	case IOH_BACKEND_AUTO:
		break;
	}
	*out = fentry_ok ? fentry : kprobe_ok ? kprobe : fallback;
	return 0;
}

/* ---- load and attach ---------------------------------------------------------------------- */

static int attach_choice(struct ioh_loader *l, enum hook_id hook, const struct choice *ch);

/* A hook whose absence only blinds one detector: say so in status and the log, go on. */
static void attach_optional(struct ioh_loader *l, enum hook_id hook, const struct choice *ch,
			    const char *missing)
{
	struct ioh_hook_status *st = &l->hooks[hook];

	if (!ch->progs[0]) {
		st->backend = "none";
		snprintf(st->error, sizeof(st->error), "%s", missing);
		return;
	}
	if (attach_choice(l, hook, ch) < 0)
		log_warning("%s hook not attached (%s)", st->hook, st->error);
}

static int attach_choice(struct ioh_loader *l, enum hook_id hook, const struct choice *ch)
{
	struct ioh_hook_status *st = &l->hooks[hook];

	st->backend = ch->backend;
	st->attached = true;
	for (int i = 0; ch->progs[i]; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(l->skel->obj,
									    ch->progs[i]);
		struct bpf_link *link;

		if (l->n_links >= MAX_LINKS)
			return -ENOSPC;
		link = bpf_program__attach(prog);
		if (!link) {
			int err = -errno;

			st->attached = false;
			snprintf(st->error, sizeof(st->error), "attach %s: %s", ch->progs[i],
				 strerror(-err));
			return err;
		}
		l->attached[l->n_links] = prog;
		l->link_hook[l->n_links] = hook;
		l->links[l->n_links++] = link;
	}
	return 0;
}

static void enable_progs(struct iohazard_bpf *skel, const struct choice *ch)
{
	for (int i = 0; ch->progs[i]; i++)
		bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, ch->progs[i]),
					  true);
}

static int handle_record(void *ctx, void *data, size_t len)
{
	const struct ioh_loader_opts *opts = ctx;

	return opts->on_record(opts->ctx, data, len);
}

int ioh_loader_start(const struct ioh_loader_opts *opts, struct ioh_loader **out)
{
	static const char *const fentry_probe_progs[] = {"rename_identity_fentry",
							  "fsync_enter_fentry", "fsync_exit_fexit"};
	const struct choice *syscalls, *dirty, *rename_id, *fsync, *faults, *dio, *uring;
	const struct choice *throttle, *wb_wait, *truncate;
	struct ioh_loader *l;
	struct btf *vmlinux;
	char why[160] = "";
	bool fentry_ok = false;
	uint32_t ringbuf_bytes;
	int err;

	libbpf_set_print(libbpf_print);
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->hooks[HOOK_SYSCALLS].hook = "syscalls";
	l->hooks[HOOK_DIRTY].hook = "dirty_state";
	l->hooks[HOOK_RENAME_ID].hook = "rename_identity";
	l->hooks[HOOK_FSYNC].hook = "fsync";
	l->hooks[HOOK_MAPPING_FAULTS].hook = "mapping_faults";
	l->hooks[HOOK_DIRECT_IO].hook = "direct_io";
	l->hooks[HOOK_IO_URING].hook = "io_uring";
	l->hooks[HOOK_DIRTY_THROTTLE].hook = "dirty_throttle";
	l->hooks[HOOK_WRITEBACK_WAIT].hook = "writeback_wait";
	l->hooks[HOOK_TRUNCATE].hook = "truncate";

	vmlinux = btf__load_vmlinux_btf();
	syscalls = btf_has_tracepoint(vmlinux, "sys_enter") ? &syscalls_tp_btf : &syscalls_raw_tp;
	dirty = btf_has_tracepoint(vmlinux, "writeback_mark_inode_dirty") ? &dirty_tp_btf
									   : &dirty_raw_tp;
	/* filemap:mm_filemap_fault is newer than some supported kernels; without it mmap
	 * readers are still seen when they map the file. */
	faults = btf_has_tracepoint(vmlinux, "mm_filemap_fault") ? &faults_tp_btf : &faults_none;
	/* Without iomap_dio_rw_begin, direct I/O is still seen at the syscall layer once an
	 * inode is watched. */
	dio = btf_has_tracepoint(vmlinux, "iomap_dio_rw_begin") ? &dio_tp_btf : &faults_none;
	uring = btf_has_tracepoint(vmlinux, "io_uring_submit_req") ? &uring_tp_btf : &faults_none;
	throttle = tracefs_has_event("writeback", "balance_dirty_pages") ? &throttle_tracepoint
									  : &faults_none;
	/* folio_wait_writeback is 5.17+; without it splice-stall cannot say "page under
	 * writeback" but still times the calls. */
	wb_wait = btf_has_tracepoint(vmlinux, "folio_wait_writeback")	? &wb_wait_tp_btf
		  : tracefs_has_event("writeback", "folio_wait_writeback") ? &wb_wait_raw_tp
									     : &faults_none;
	/* ext4 built in: its tracepoints are in vmlinux BTF; as a module (Debian's 6.1), raw_tp
	 * attaches by name without needing the module's BTF. */
	truncate = btf_has_tracepoint(vmlinux, "ext4_truncate_enter")	? &truncate_tp_btf
		   : tracefs_has_event("ext4", "ext4_truncate_enter") ? &truncate_raw_tp
									: &faults_none;
	btf__free(vmlinux);

	if (opts->backend == IOH_BACKEND_AUTO || opts->backend == IOH_BACKEND_FENTRY)
		fentry_ok = fentry_works(fentry_probe_progs, 3, why, sizeof(why));
	err = choose_vfs_twin(opts->backend, "vfs_rename", fentry_ok, &rename_fentry,
			      &rename_kprobe, &rename_user, &rename_id, why, sizeof(why));
	if (!err)
		err = choose_vfs_twin(opts->backend, "vfs_fsync_range", fentry_ok, &fsync_fentry,
				      &fsync_kprobe, &fsync_sys_exit, &fsync, why, sizeof(why));
	if (err) {
		log_error("Requested backend is not available on this kernel: %s", why);
		free(l);
		return err;
	}
	if (!fentry_ok && why[0])
		log_info("fentry unavailable (%s); using %s for vfs hooks", why,
			 rename_id->backend);

	l->skel = iohazard_bpf__open();
	if (!l->skel) {
		err = -errno;
		free(l);
		return log_error_errno(err, "Failed to open the BPF object: %m");
	}
	set_all_autoload(l->skel, false);
	enable_progs(l->skel, syscalls);
	enable_progs(l->skel, dirty);
	enable_progs(l->skel, rename_id);
	enable_progs(l->skel, fsync);
	enable_progs(l->skel, faults);
	enable_progs(l->skel, dio);
	enable_progs(l->skel, uring);
	enable_progs(l->skel, throttle);
	enable_progs(l->skel, wb_wait);
	enable_progs(l->skel, truncate);
	if (opts->throttle_threshold_ns)
		l->skel->data->throttle_threshold_ns = opts->throttle_threshold_ns;
	if (opts->splice_threshold_ns)
		l->skel->data->splice_threshold_ns = opts->splice_threshold_ns;
	if (opts->mixed_window_ns)
		l->skel->rodata->mode_window_ns = opts->mixed_window_ns;
	l->skel->rodata->self_tgid = (uint32_t)opts->self_pid;
	ringbuf_bytes = opts->ringbuf_bytes ? opts->ringbuf_bytes : DEFAULT_RINGBUF_BYTES;
	l->skel->rodata->ringbuf_wakeup_bytes = ringbuf_bytes / 4;
	err = bpf_map__set_max_entries(l->skel->maps.events, ringbuf_bytes);
	if (err) {
		log_error_errno(err, "Invalid ring buffer size: %m");
		goto fail;
	}
	err = iohazard_bpf__load(l->skel);
	if (err) {
		log_error_errno(err, "Failed to load BPF programs: %m (run with --log-level=debug "
				     "for the verifier log)");
		goto fail;
	}

	err = attach_choice(l, HOOK_SYSCALLS, syscalls);
	if (err) {
		log_error_errno(err, "Failed to attach syscall tracepoints (%s): %m",
				l->hooks[HOOK_SYSCALLS].error);
		goto fail;
	}
	if (attach_choice(l, HOOK_DIRTY, dirty) < 0)
		log_warning("dirty-state hook not attached (%s): rename-unsynced-source is blind",
			    l->hooks[HOOK_DIRTY].error);
	if (attach_choice(l, HOOK_RENAME_ID, rename_id) < 0) {
		if (opts->backend != IOH_BACKEND_AUTO) {
			err = -EOPNOTSUPP;
			log_error("%s", l->hooks[HOOK_RENAME_ID].error);
			goto fail;
		}
		log_warning("vfs_rename hook (%s) failed (%s); resolving renames in user space",
			    rename_id->backend, l->hooks[HOOK_RENAME_ID].error);
		attach_choice(l, HOOK_RENAME_ID, &rename_user);
	}
	if (attach_choice(l, HOOK_FSYNC, fsync) < 0) {
		if (opts->backend != IOH_BACKEND_AUTO) {
			err = -EOPNOTSUPP;
			log_error("%s", l->hooks[HOOK_FSYNC].error);
			goto fail;
		}
		log_warning("vfs_fsync_range hook (%s) failed (%s); using sys_exit",
			    fsync->backend, l->hooks[HOOK_FSYNC].error);
		fsync = &fsync_sys_exit;
		attach_choice(l, HOOK_FSYNC, fsync);
	}
	if (faults == &faults_none) {
		l->hooks[HOOK_MAPPING_FAULTS].backend = "none";
		snprintf(l->hooks[HOOK_MAPPING_FAULTS].error,
			 sizeof(l->hooks[HOOK_MAPPING_FAULTS].error),
			 "no mm_filemap_fault tracepoint: mmap readers seen at mmap() only");
	} else if (attach_choice(l, HOOK_MAPPING_FAULTS, faults) < 0) {
		log_warning("mapping-fault hook not attached (%s): mmap readers seen at mmap() only",
			    l->hooks[HOOK_MAPPING_FAULTS].error);
	}
	if (dio == &faults_none) {
		l->hooks[HOOK_DIRECT_IO].backend = "none";
		snprintf(l->hooks[HOOK_DIRECT_IO].error, sizeof(l->hooks[HOOK_DIRECT_IO].error),
			 "no iomap_dio_rw_begin tracepoint: direct I/O seen on watched files only");
	} else if (attach_choice(l, HOOK_DIRECT_IO, dio) < 0) {
		log_warning("direct I/O hook not attached (%s)", l->hooks[HOOK_DIRECT_IO].error);
	} else {
		/* From now on O_DIRECT I/O on iomap filesystems is taken from the hook, which sees
		 * whether the kernel really bypassed the page cache (bpf/mixed_io.bpf.h). */
		l->skel->bss->direct_io_from_iomap = 1;
	}
	attach_optional(l, HOOK_DIRTY_THROTTLE, throttle,
			"no writeback:balance_dirty_pages tracepoint: dirty-throttle-stall is blind");
	attach_optional(l, HOOK_WRITEBACK_WAIT, wb_wait,
			"no folio_wait_writeback tracepoint: splice stalls cannot blame writeback");
	attach_optional(l, HOOK_TRUNCATE, truncate,
			"no ext4_truncate_enter tracepoint: writeback-truncate-unsynced is blind");
	if (uring == &faults_none) {
		l->hooks[HOOK_IO_URING].backend = "none";
		snprintf(l->hooks[HOOK_IO_URING].error, sizeof(l->hooks[HOOK_IO_URING].error),
			 "no io_uring_submit_req tracepoint: io_uring I/O not ordered");
	} else if (attach_choice(l, HOOK_IO_URING, uring) < 0) {
		log_warning("io_uring hook not attached (%s)", l->hooks[HOOK_IO_URING].error);
	}
	/* Only now that the VFS twin runs may sys_exit stop reporting fsync itself. */
	l->skel->bss->fsync_from_vfs = fsync != &fsync_sys_exit;

	l->ringbuf = ring_buffer__new(bpf_map__fd(l->skel->maps.events), handle_record,
				      (void *)opts, NULL);
	if (!l->ringbuf) {
		err = -errno;
		log_error_errno(err, "Failed to set up the ring buffer: %m");
		goto fail;
	}
	*out = l;
	return 0;
fail:
	ioh_loader_stop(l);
	return err;
}

void ioh_loader_stop(struct ioh_loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->ringbuf);
	for (size_t i = 0; i < l->n_links; i++)
		bpf_link__destroy(l->links[i]);
	iohazard_bpf__destroy(l->skel);
	free(l);
}

int ioh_loader_ringbuf_fd(const struct ioh_loader *l)
{
	return ring_buffer__epoll_fd(l->ringbuf);
}

int ioh_loader_consume(struct ioh_loader *l)
{
	return ring_buffer__consume(l->ringbuf);
}

int ioh_loader_read_losses(const struct ioh_loader *l, uint64_t totals[IOH_LOSS__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(l->skel->maps.lost);
	uint64_t *values;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	values = calloc((size_t)ncpu, sizeof(*values));
	if (!values)
		return -ENOMEM;
	for (uint32_t where = 0; where < IOH_LOSS__MAX; where++) {
		totals[where] = 0;
		if (bpf_map_lookup_elem(fd, &where, values) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			totals[where] += values[c];
	}
	free(values);
	return 0;
}

int ioh_loader_expire_watched(struct ioh_loader *l, uint64_t now_ns)
{
	int watched = bpf_map__fd(l->skel->maps.watched);
	int modes = bpf_map__fd(l->skel->maps.mode_state);
	uint64_t window = l->skel->rodata->mode_window_ns;
	uint64_t ptr, next, stale[256];
	bool more = bpf_map_get_next_key(watched, NULL, &next) == 0;
	int n = 0, expired = 0;

	/* Collect first, delete after: deleting while iterating restarts the walk. */
	while (more && n < 256) {
		struct ioh_inode_key key;
		struct ioh_mode_state st;

		ptr = next;
		more = bpf_map_get_next_key(watched, &ptr, &next) == 0;
		if (bpf_map_lookup_elem(watched, &ptr, &key) < 0)
			continue;
		if (bpf_map_lookup_elem(modes, &key, &st) == 0 && now_ns - st.direct_ns <= window &&
		    now_ns - st.buffered_ns <= window)
			continue; /* both sides still active: the episode goes on */
		stale[n++] = ptr;
	}
	for (int i = 0; i < n; i++) {
		if (bpf_map_delete_elem(watched, &stale[i]) == 0) {
			__sync_fetch_and_sub(&l->skel->bss->watched_count, 1);
			expired++;
		}
	}
	return expired;
}

int ioh_loader_check_links(struct ioh_loader *l)
{
	int detached = 0;

	for (size_t i = 0; i < l->n_links; i++) {
		struct ioh_hook_status *st = &l->hooks[l->link_hook[i]];
		struct bpf_link_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_link__fd(l->links[i]), &info, &len) == 0 &&
		    info.prog_id != 0)
			continue;
		/* Someone ran `bpftool link detach` (or the kernel tore the link down). */
		if (st->attached)
			snprintf(st->error, sizeof(st->error), "%s detached",
				 bpf_program__name(l->attached[i]));
		st->attached = false;
		detached++;
	}
	return detached;
}

const struct ioh_hook_status *ioh_loader_hooks(const struct ioh_loader *l, size_t *count)
{
	*count = HOOK__COUNT;
	return l->hooks;
}

size_t ioh_loader_prog_stats(const struct ioh_loader *l, struct ioh_prog_stats *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n_links && n < max; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(l->attached[i]), &info, &len))
			continue;
		out[n].name = bpf_program__name(l->attached[i]);
		out[n].run_time_ns = info.run_time_ns;
		out[n].run_cnt = info.run_cnt;
		n++;
	}
	return n;
}

void ioh_loader_set_thresholds(struct ioh_loader *l, uint64_t throttle_ns, uint64_t splice_ns)
{
	if (throttle_ns)
		l->skel->data->throttle_threshold_ns = throttle_ns;
	if (splice_ns)
		l->skel->data->splice_threshold_ns = splice_ns;
}

int ioh_loader_watch_writeback_dev(struct ioh_loader *l, uint32_t kdev, bool on)
{
	int fd = bpf_map__fd(l->skel->maps.writeback_devs);
	uint32_t one = 1;
	int r;

	if (on) {
		r = bpf_map_update_elem(fd, &kdev, &one, BPF_NOEXIST);
		if (r == 0)
			__sync_fetch_and_add(&l->skel->bss->writeback_devs_count, 1);
		else if (errno == EEXIST)
			r = 0;
		else
			r = -errno;
		return r;
	}
	if (bpf_map_delete_elem(fd, &kdev) == 0)
		__sync_fetch_and_sub(&l->skel->bss->writeback_devs_count, 1);
	return 0;
}

static void hist_accumulate(struct ioh_hist_snapshot *dst, const struct ioh_hist *src)
{
	for (unsigned i = 0; i < IOH_HIST_SLOTS; i++)
		dst->buckets[i] += src->slots[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
}

int ioh_loader_read_dirty_histograms(const struct ioh_loader *l, struct ioh_hist_snapshot *out,
				     size_t max, bool per_cgroup)
{
	int fd = bpf_map__fd(l->skel->maps.throttle_hist);
	struct ioh_throttle_key key, next;
	struct ioh_hist value;
	size_t n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		size_t i;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &value) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (strncmp(out[i].bdi, key.bdi, IOH_BDI_NAME_LEN) == 0 &&
			    (!per_cgroup || out[i].cgroup_ino == key.cgroup_ino))
				break;
		if (i == n) {
			if (n >= max)
				continue;
			memset(&out[n], 0, sizeof(out[n]));
			memcpy(out[n].bdi, key.bdi, IOH_BDI_NAME_LEN);
			out[n].bdi[IOH_BDI_NAME_LEN - 1] = '\0';
			out[n].cgroup_ino = per_cgroup ? key.cgroup_ino : 0;
			n++;
		}
		hist_accumulate(&out[i], &value);
	}
	return (int)n;
}

int ioh_loader_read_splice_histogram(const struct ioh_loader *l, struct ioh_hist_snapshot *out)
{
	uint32_t zero = 0;
	struct ioh_hist value;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.splice_hist), &zero, &value) < 0)
		return -errno;
	hist_accumulate(out, &value);
	return 0;
}
