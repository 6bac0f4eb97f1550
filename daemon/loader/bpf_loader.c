// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "daemon/loader/bpf_loader.h"
#include "daemon/loader/hooks.h"
#include "daemon/util/log.h"
#include "daemon/util/string_table.h"
#include "iohazard.skel.h"

#define DEFAULT_RINGBUF_BYTES (8u << 20)
/* Links of one hook: a per-syscall tracepoint program has one per syscall. */
#define HOOK_LINKS_MAX 24

/* A candidate whose programs passed probing and were loaded. */
struct hook_state {
	const struct ioh_hook_def *def;
	const struct ioh_candidate *chosen; /* attached (or, on demand, ready to attach) */
	struct bpf_link *links[HOOK_LINKS_MAX];
	struct bpf_program *link_prog[HOOK_LINKS_MAX];
	size_t n_links;
	bool attach_failed; /* on demand: this episode's attach failed (logged once) */
};

struct ioh_loader {
	struct iohazard_bpf *skel;
	struct ring_buffer *ringbuf;
	struct hook_state hooks[IOH_HOOKS_MAX];
	struct ioh_hook_status status[IOH_HOOKS_MAX];
	size_t n_hooks;
	/* Programs that were ever attached, for the per-program cost (--bpf-stats). */
	struct bpf_program *ran[64];
	size_t n_ran;
	int canary_fd; /* memfd the daemon fsyncs as its canary */
};

static const char *const ioh_backend_table[] = {
    [IOH_BACKEND_AUTO] = "auto",
    [IOH_BACKEND_FENTRY] = "fentry",
    [IOH_BACKEND_KPROBE] = "kprobe",
    [IOH_BACKEND_TRACEPOINT] = "tracepoint",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_backend, enum ioh_backend, "?");

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

static struct bpf_program *prog_of(const struct ioh_loader *l, const struct ioh_prog_ref *ref)
{
	return *(struct bpf_program **)((char *)l->skel + ref->skel_off);
}

static enum ioh_attach_type prog_type(const struct ioh_candidate *c, const struct ioh_prog_ref *r)
{
	return r->own_type ? r->type : c->type;
}

#define for_each_prog(c, r) for (const struct ioh_prog_ref *r = (c)->progs; r->skel_off; r++)

/* ---- probing ------------------------------------------------------------------------------ */

/* What the kernel offers, read once before any candidate is considered. */
struct kernel_caps {
	struct btf *vmlinux;
	bool kprobes;	/* the kprobe PMU exists */
	char *kallsyms; /* "\nname\n..." of every text symbol, for kprobe targets */
	int fentry;	/* -1 unknown, 0 refused, 1 works */
	char fentry_why[128];
};

static bool btf_has_func(const struct kernel_caps *k, const char *fn)
{
	return k->vmlinux && btf__find_by_name_kind(k->vmlinux, fn, BTF_KIND_FUNC) > 0;
}

static bool btf_has_tracepoint(const struct kernel_caps *k, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return k->vmlinux && btf__find_by_name_kind(k->vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

static char *read_kallsyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256], type;
	size_t len = 1, cap = 1 << 20;
	char *all;

	if (!f)
		return NULL;
	all = malloc(cap);
	if (!all) {
		fclose(f);
		return NULL;
	}
	all[0] = '\n';
	while (fgets(line, sizeof(line), f)) {
		size_t n;

		if (sscanf(line, "%*s %c %255s", &type, name) != 2 || (type != 't' && type != 'T'))
			continue;
		n = strlen(name);
		if (len + n + 2 > cap) {
			char *bigger = realloc(all, cap * 2);

			if (!bigger)
				break;
			all = bigger;
			cap *= 2;
		}
		memcpy(all + len, name, n);
		len += n;
		all[len++] = '\n';
	}
	all[len] = '\0';
	fclose(f);
	return all;
}

static bool kallsyms_has(const struct kernel_caps *k, const char *sym)
{
	char needle[260];

	if (!k->kallsyms)
		return false;
	snprintf(needle, sizeof(needle), "\n%s\n", sym);
	return strstr(k->kallsyms, needle) != NULL;
}

static bool tracefs_has(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s", rel);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s", rel);
	return access(path, F_OK) == 0;
}

/*
 * Whether BPF trampolines work at all (JIT, lockdown, BTF): load a two-instruction fentry
 * program on `fn` and attach it, as libbpf-tools' fentry_can_attach() does. Lockdown refuses
 * the load (EPERM) on the development machines.
 */
static bool fentry_works(struct kernel_caps *k, const char *fn)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int id, prog, link;

	if (k->fentry >= 0)
		return k->fentry;
	k->fentry = 0;
	id = k->vmlinux ? btf__find_by_name_kind(k->vmlinux, fn, BTF_KIND_FUNC) : -1;
	if (id <= 0) {
		snprintf(k->fentry_why, sizeof(k->fentry_why), "no kernel BTF for %s", fn);
		return false;
	}
	opts.attach_btf_id = id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ioh_probe", "GPL", insns, 2, &opts);
	if (prog < 0) {
		snprintf(k->fentry_why, sizeof(k->fentry_why), "fentry refused by the kernel (%s)",
			 strerror(-prog));
		return false;
	}
	link = bpf_link_create(prog, 0, BPF_TRACE_FENTRY, NULL);
	if (link < 0)
		snprintf(k->fentry_why, sizeof(k->fentry_why), "fentry attach refused (%s)",
			 strerror(-link));
	else
		k->fentry = 1;
	if (link >= 0)
		close(link);
	close(prog);
	return k->fentry;
}

/* Whether --backend allows a candidate of this class. */
static bool backend_allows(enum ioh_backend b, enum ioh_attach_class cls)
{
	switch (b) {
	case IOH_BACKEND_AUTO:
		return true;
	case IOH_BACKEND_FENTRY:
		return cls == IOH_CLASS_FENTRY || cls == IOH_CLASS_SUBSYS_TP;
	case IOH_BACKEND_KPROBE:
		return cls == IOH_CLASS_KPROBE || cls == IOH_CLASS_SUBSYS_TP;
	case IOH_BACKEND_TRACEPOINT:
		return cls == IOH_CLASS_SUBSYS_TP || cls == IOH_CLASS_SYSCALL_TP;
	}
	return false;
}

/* Whether one program's attach point exists. */
static bool target_exists(struct kernel_caps *k, enum ioh_attach_type t,
			  const struct ioh_prog_ref *r, char *why, size_t whylen)
{
	char rel[160];

	switch (t) {
	case IOH_AT_FENTRY:
		if (btf_has_func(k, r->target))
			return true;
		snprintf(why, whylen, "no BTF for %s()", r->target);
		return false;
	case IOH_AT_KPROBE:
		if (kallsyms_has(k, r->target))
			return true;
		snprintf(why, whylen, "%s() not in kallsyms", r->target);
		return false;
	case IOH_AT_TP_BTF:
		if (btf_has_tracepoint(k, r->target))
			return true;
		snprintf(why, whylen, "no tracepoint %s", r->target);
		return false;
	case IOH_AT_RAW_TP:
	case IOH_AT_TRACEPOINT:
		snprintf(rel, sizeof(rel), "%s", r->target);
		for (char *c = rel; *c; c++)
			if (*c == ':')
				*c = '/';
		if (tracefs_has(rel))
			return true;
		snprintf(why, whylen, "no tracepoint %s", r->target);
		return false;
	case IOH_AT_SYSCALL_TP:
		for (const char *const *sc = r->syscalls; *sc; sc++) {
			snprintf(rel, sizeof(rel), "syscalls/sys_%s_%s", r->exit ? "exit" : "enter",
				 *sc);
			if (!tracefs_has(rel)) {
				snprintf(why, whylen, "no tracepoint syscalls:sys_%s_%s",
					 r->exit ? "exit" : "enter", *sc);
				return false;
			}
		}
		return true;
	}
	return false;
}

/* Whether a candidate can be tried; says why not in `why`. */
static bool candidate_probe(struct kernel_caps *k, const struct ioh_candidate *c, char *why,
			    size_t whylen)
{
	if (c->cls == IOH_CLASS_FENTRY && !fentry_works(k, c->progs[0].target)) {
		snprintf(why, whylen, "%s", k->fentry_why);
		return false;
	}
	if (c->cls == IOH_CLASS_KPROBE && !k->kprobes) {
		snprintf(why, whylen, "kprobes not built into this kernel");
		return false;
	}
	for_each_prog(c, r)
	{
		if (!r->optional && !target_exists(k, prog_type(c, r), r, why, whylen))
			return false;
	}
	return true;
}

/* ---- attaching ---------------------------------------------------------------------------- */

static void append_refusal(struct ioh_hook_status *st, const char *backend, const char *why)
{
	size_t used = strlen(st->refused);

	snprintf(st->refused + used, sizeof(st->refused) - used, "%s%s: %s", used ? "; " : "",
		 backend, why);
}

static int add_link(struct ioh_loader *l, struct hook_state *h, struct bpf_program *prog,
		    struct bpf_link *link)
{
	size_t i;

	if (h->n_links >= HOOK_LINKS_MAX) {
		bpf_link__destroy(link);
		return -ENOSPC;
	}
	h->links[h->n_links] = link;
	h->link_prog[h->n_links++] = prog;
	for (i = 0; i < l->n_ran && l->ran[i] != prog; i++)
		;
	if (i == l->n_ran && l->n_ran < sizeof(l->ran) / sizeof(l->ran[0]))
		l->ran[l->n_ran++] = prog;
	return 0;
}

static void detach_hook(struct hook_state *h)
{
	for (size_t i = 0; i < h->n_links; i++)
		bpf_link__destroy(h->links[i]);
	h->n_links = 0;
}

/* Attaches every program of a candidate; on failure detaches what it attached. */
static int attach_candidate(struct ioh_loader *l, struct hook_state *h,
			    const struct ioh_candidate *c, char *why, size_t whylen)
{
	for_each_prog(c, r)
	{
		struct bpf_program *prog = prog_of(l, r);
		int err = 0;

		if (!bpf_program__autoload(prog))
			continue; /* an optional program this kernel has no place for */
		if (prog_type(c, r) == IOH_AT_SYSCALL_TP) {
			for (const char *const *sc = r->syscalls; *sc && !err; sc++) {
				char event[64];
				struct bpf_link *link;

				snprintf(event, sizeof(event), "sys_%s_%s",
					 r->exit ? "exit" : "enter", *sc);
				link = bpf_program__attach_tracepoint(prog, "syscalls", event);
				if (!link) {
					err = -errno;
					snprintf(why, whylen, "attach syscalls:%s: %s", event,
						 strerror(-err));
				} else {
					err = add_link(l, h, prog, link);
				}
			}
		} else {
			struct bpf_link *link = bpf_program__attach(prog);

			if (!link) {
				err = -errno;
				snprintf(why, whylen, "attach %s: %s", bpf_program__name(prog),
					 strerror(-err));
			} else {
				err = add_link(l, h, prog, link);
			}
		}
		if (err) {
			if (err == -ENOSPC)
				snprintf(why, whylen, "too many links");
			detach_hook(h);
			return err;
		}
	}
	return 0;
}

/* Attach the first loaded candidate that attaches. On-demand hooks are attached once to prove
 * they can be, then detached until something is watched. */
static void attach_hook(struct ioh_loader *l, size_t i)
{
	struct hook_state *h = &l->hooks[i];
	struct ioh_hook_status *st = &l->status[i];

	for (const struct ioh_candidate *c = h->def->cands; c->backend; c++) {
		char why[160] = "";

		if (!bpf_program__autoload(prog_of(l, &c->progs[0])) && !c->progs[0].optional) {
			continue; /* refused at probing (the reason is already recorded) */
		}
		if (attach_candidate(l, h, c, why, sizeof(why)) < 0) {
			append_refusal(st, c->backend, why);
			continue;
		}
		h->chosen = c;
		st->backend = c->backend;
		st->attached = true;
		st->active = true;
		if (c->limits)
			snprintf(st->error, sizeof(st->error), "%s", c->limits);
		if (h->def->on_demand) {
			detach_hook(h);
			st->active = false;
		}
		return;
	}
	st->backend = "none";
	st->attached = false;
	snprintf(st->error, sizeof(st->error), "%s", h->def->blind);
}

bool ioh_loader_on_demand_uses_perf(const struct ioh_loader *l)
{
	for (size_t i = 0; i < l->n_hooks; i++) {
		const struct ioh_candidate *c = l->hooks[i].chosen;

		if (!l->hooks[i].def->on_demand || !c)
			continue;
		for_each_prog(c, r)
		{
			enum ioh_attach_type t = prog_type(c, r);

			if (t == IOH_AT_KPROBE || t == IOH_AT_SYSCALL_TP || t == IOH_AT_TRACEPOINT)
				return true;
		}
	}
	return false;
}

int ioh_loader_update_on_demand(struct ioh_loader *l)
{
	bool watched = l->skel->bss->watched_count > 0;
	int changed = 0;

	for (size_t i = 0; i < l->n_hooks; i++) {
		struct hook_state *h = &l->hooks[i];
		struct ioh_hook_status *st = &l->status[i];
		char why[160] = "";

		if (!h->def->on_demand || !h->chosen)
			continue;
		if (!watched)
			h->attach_failed = false; /* the next episode tries again */
		if (st->active == watched)
			continue;
		if (!watched) {
			if (st->active) {
				detach_hook(h);
				st->active = false;
				changed = 1;
				log_debug("%s: nothing watched, detached", st->hook);
			}
			continue;
		}
		if (h->attach_failed)
			continue; /* said once; not retried on every drain of this episode */
		changed = 1;
		if (attach_candidate(l, h, h->chosen, why, sizeof(why)) < 0) {
			h->attach_failed = true;
			st->attached = false;
			snprintf(st->error, sizeof(st->error), "%s", why);
			log_warning("%s hook not attached on demand (%s)", st->hook, why);
			continue;
		}
		st->attached = true;
		st->active = true;
		log_debug("%s: an inode is watched, attached (%s)", st->hook, st->backend);
	}
	return changed;
}

static int handle_record(void *ctx, void *data, size_t len)
{
	const struct ioh_loader_opts *opts = ctx;

	return opts->on_record(opts->ctx, data, len);
}

/* Probe: every candidate the backend allows and the kernel has gets its programs loaded;
 * attaching picks the first of them per hook. -EOPNOTSUPP when a required hook has none under
 * an explicit --backend. */
static int probe_hooks(struct ioh_loader *l, const struct ioh_loader_opts *opts,
		       struct kernel_caps *caps)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, l->skel->obj) bpf_program__set_autoload(prog, false);
	for (size_t i = 0; i < l->n_hooks; i++) {
		const struct ioh_hook_def *def = &ioh_hook_table[i];
		struct ioh_hook_status *st = &l->status[i];
		bool any = false;

		l->hooks[i].def = def;
		st->hook = def->name;
		st->backend = "none";
		st->on_demand = def->on_demand;
		for (const struct ioh_candidate *c = def->cands; c->backend; c++) {
			char why[160] = "";

			if (!backend_allows(opts->backend, c->cls))
				continue;
			if (!candidate_probe(caps, c, why, sizeof(why))) {
				append_refusal(st, c->backend, why);
				continue;
			}
			for_each_prog(c, r)
			{
				char skip[160];

				if (r->optional &&
				    !target_exists(caps, prog_type(c, r), r, skip, sizeof(skip)))
					continue;
				bpf_program__set_autoload(prog_of(l, r), true);
			}
			any = true;
		}
		if (!any && def->required && opts->backend != IOH_BACKEND_AUTO) {
			log_error("--backend cannot attach the %s hook on this kernel: %s",
				  def->name, st->refused);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* The programs' settings (rodata before load, data and bss any time) and the ring size. */
static int configure(struct ioh_loader *l, const struct ioh_loader_opts *opts)
{
	uint32_t ringbuf_bytes = opts->ringbuf_bytes ? opts->ringbuf_bytes : DEFAULT_RINGBUF_BYTES;
	int err;

	if (opts->throttle_threshold_ns)
		l->skel->data->throttle_threshold_ns = opts->throttle_threshold_ns;
	if (opts->splice_threshold_ns)
		l->skel->data->splice_threshold_ns = opts->splice_threshold_ns;
	if (opts->mixed_window_ns)
		l->skel->rodata->mode_window_ns = opts->mixed_window_ns;
	l->skel->rodata->self_tgid = (uint32_t)opts->self_pid;
	l->skel->data->stacks_enabled = opts->no_stacks ? 0 : 1;
	l->skel->rodata->ringbuf_wakeup_bytes = ringbuf_bytes / 4;
	err = bpf_map__set_max_entries(l->skel->maps.events, ringbuf_bytes);
	if (err)
		return log_error_errno(err, "Invalid ring buffer size: %m");
	return 0;
}

/* Attaches every hook to its first candidate that works; -EOPNOTSUPP when a required one
 * attaches nowhere. */
static int attach_hooks(struct ioh_loader *l)
{
	for (size_t i = 0; i < l->n_hooks; i++) {
		struct ioh_hook_status *st = &l->status[i];

		attach_hook(l, i);
		if (st->attached)
			continue;
		if (l->hooks[i].def->required) {
			log_error("No way to attach the %s hook on this kernel (%s)", st->hook,
				  st->refused[0] ? st->refused : "no candidate");
			return -EOPNOTSUPP;
		}
		log_warning("%s hook not attached: %s (%s)", st->hook, st->error, st->refused);
	}
	/* On iomap filesystems, O_DIRECT I/O is taken from the direct_io hook only: it sees
	 * whether the kernel really bypassed the page cache (bpf/mixed_io.bpf.h). */
	for (size_t i = 0; i < l->n_hooks; i++)
		if (strcmp(l->status[i].hook, "direct_io") == 0 && l->status[i].attached)
			l->skel->bss->direct_io_from_iomap = 1;
	return 0;
}

int ioh_loader_start(const struct ioh_loader_opts *opts, struct ioh_loader **out)
{
	struct kernel_caps caps = {.fentry = -1};
	struct ioh_loader *l;
	int err;

	libbpf_set_print(libbpf_print);
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->canary_fd = -1;
	l->n_hooks = ioh_hook_count < IOH_HOOKS_MAX ? ioh_hook_count : IOH_HOOKS_MAX;

	l->skel = iohazard_bpf__open();
	if (!l->skel) {
		err = -errno;
		free(l);
		return log_error_errno(err, "Failed to open the BPF object: %m");
	}
	caps.vmlinux = btf__load_vmlinux_btf();
	caps.kprobes = access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
	caps.kallsyms = caps.kprobes ? read_kallsyms() : NULL;
	err = probe_hooks(l, opts, &caps);
	btf__free(caps.vmlinux);
	free(caps.kallsyms);
	if (err || (err = configure(l, opts)))
		goto fail;
	err = iohazard_bpf__load(l->skel);
	if (err) {
		log_error_errno(err, "Failed to load BPF programs: %m (run with --log-level=debug "
				     "for the verifier log)");
		goto fail;
	}
	if ((err = attach_hooks(l)))
		goto fail;

	l->canary_fd = memfd_create("iohazard-canary", MFD_CLOEXEC);
	if (l->canary_fd < 0)
		log_warning_errno(-errno, "Failed to create the canary memfd: %m");
	l->ringbuf =
	    ring_buffer__new(bpf_map__fd(l->skel->maps.events), handle_record, (void *)opts, NULL);
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

int ioh_loader_send_canary(struct ioh_loader *l)
{
	if (l->canary_fd < 0)
		return -EBADF;
	return fsync(l->canary_fd) < 0 ? -errno : 0;
}

void ioh_loader_stop(struct ioh_loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->ringbuf);
	for (size_t i = 0; i < l->n_hooks; i++)
		detach_hook(&l->hooks[i]);
	if (l->canary_fd >= 0)
		close(l->canary_fd);
	iohazard_bpf__destroy(l->skel);
	free(l);
}

int ioh_loader_ringbuf_fd(const struct ioh_loader *l)
{
	return ring_buffer__epoll_fd(l->ringbuf);
}

int ioh_loader_consume(struct ioh_loader *l)
{
	int r = ring_buffer__consume(l->ringbuf);

	/* A mixed episode that began in what was just consumed needs the read side now. */
	ioh_loader_update_on_demand(l);
	return r;
}

/* Sums the CPUs of each of the `n` slots of a per-CPU u64 array. */
static int read_percpu_counters(int fd, uint64_t *totals, uint32_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *values;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	values = calloc((size_t)ncpu, sizeof(*values));
	if (!values)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		totals[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, values) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			totals[i] += values[c];
	}
	free(values);
	return 0;
}

int ioh_loader_read_losses(const struct ioh_loader *l, uint64_t totals[IOH_LOSS__MAX])
{
	return read_percpu_counters(bpf_map__fd(l->skel->maps.lost), totals, IOH_LOSS__MAX);
}

int ioh_loader_read_stack_counts(const struct ioh_loader *l, uint64_t totals[IOH_STACK__MAX])
{
	return read_percpu_counters(bpf_map__fd(l->skel->maps.stack_counts), totals,
				    IOH_STACK__MAX);
}

void ioh_loader_set_stacks(struct ioh_loader *l, bool on)
{
	l->skel->data->stacks_enabled = on ? 1 : 0;
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
	ioh_loader_update_on_demand(l);
	return expired;
}

int ioh_loader_check_links(struct ioh_loader *l)
{
	int detached = 0;

	for (size_t h = 0; h < l->n_hooks; h++) {
		struct hook_state *hs = &l->hooks[h];
		struct ioh_hook_status *st = &l->status[h];

		for (size_t i = 0; i < hs->n_links; i++) {
			struct bpf_link_info info;
			__u32 len = sizeof(info);

			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(bpf_link__fd(hs->links[i]), &info, &len) == 0 &&
			    info.prog_id != 0)
				continue;
			/* Someone ran `bpftool link detach` (or the kernel tore the link down). */
			if (st->attached)
				snprintf(st->error, sizeof(st->error), "%s detached",
					 bpf_program__name(hs->link_prog[i]));
			st->attached = false;
			detached++;
		}
	}
	return detached;
}

const struct ioh_hook_status *ioh_loader_hooks(const struct ioh_loader *l, size_t *count)
{
	*count = l->n_hooks;
	return l->status;
}

size_t ioh_loader_prog_stats(const struct ioh_loader *l, struct ioh_prog_stats *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n_ran && n < max; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(l->ran[i]), &info, &len))
			continue;
		out[n].name = bpf_program__name(l->ran[i]);
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
