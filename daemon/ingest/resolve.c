// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/ingest/mountinfo.h"
#include "daemon/ingest/resolve.h"
#include "daemon/ingest/stat_pool.h"
#include "daemon/util/fsnames.h"
#include "daemon/stacks/capture.h"

#define CGROUP_CACHE_SIZE 1024 /* direct-mapped; a miss costs one syscall pair */
/* FILEID_KERNFS: cgroup ids are kernfs node ids, usable as file handles on cgroupfs. */
#define FILEID_KERNFS 0xfe

/* The mount table of one mount namespace, re-read when the kernel says it changed (POLLPRI on
 * the open mountinfo) or a mount event made it stale; never on a lookup that misses. */
struct ns_mounts {
	uint64_t mnt_ns; /* 0: nothing loaded */
	int fd;		 /* /proc/PID/mountinfo of that namespace; -1: none */
	bool stale;
	struct ioh_mount_table *table;
};

struct cgroup_entry {
	uint64_t id;
	char *path;
};

struct ioh_resolver {
	int cgroup_root_fd;
	size_t cgroup_root_len; /* length of the mount point, stripped from resolved paths */
	char cgroup_root[PATH_MAX];
	struct cgroup_entry cgroups[CGROUP_CACHE_SIZE];
	uint64_t own_mnt_ns; /* names from tasks in our mount namespace need no /proc/PID/root */
	struct ioh_stat_pool *pool;    /* every statx of a name: off the loop, with a deadline */
	struct ns_mounts own_mounts;   /* our namespace */
	struct ns_mounts other_mounts; /* the last other namespace whose mounts were needed */
	char path[PATH_MAX];	       /* a truncated file's path through its mount */
	struct ioh_resolver_stats stats;
	bool timed_out; /* the last ioh_resolver_enrich() gave up on a statx */
};

/* Where cgroup v2 is mounted: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on
 * hybrid ones. */
static void find_cgroup2_mount(char *out, size_t size)
{
	struct ioh_mount_table *t;
	const struct ioh_mount_entry *m;

	snprintf(out, size, "/sys/fs/cgroup");
	if (ioh_mount_table_load("/proc/self/mountinfo", &t) < 0)
		return;
	m = ioh_mount_table_by_fstype(t, "cgroup2");
	if (m)
		snprintf(out, size, "%s", m->mount_point);
	ioh_mount_table_free(t);
}

struct ioh_resolver *ioh_resolver_new(const char *cgroup_root)
{
	struct ioh_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->own_mounts.fd = r->other_mounts.fd = -1;
	if (cgroup_root)
		snprintf(r->cgroup_root, sizeof(r->cgroup_root), "%s", cgroup_root);
	else
		find_cgroup2_mount(r->cgroup_root, sizeof(r->cgroup_root));
	r->cgroup_root_len = strlen(r->cgroup_root);
	r->cgroup_root_fd = open(r->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	{
		struct stat st;

		if (stat("/proc/self/ns/mnt", &st) == 0)
			r->own_mnt_ns = st.st_ino;
	}
	if (ioh_stat_pool_new(IOH_STAT_POOL_TIMEOUT_NS, NULL, &r->pool) < 0) {
		ioh_resolver_free(r);
		return NULL;
	}
	return r;
}

void ioh_resolver_free(struct ioh_resolver *r)
{
	if (!r)
		return;
	if (r->cgroup_root_fd >= 0)
		close(r->cgroup_root_fd);
	for (size_t i = 0; i < CGROUP_CACHE_SIZE; i++)
		free(r->cgroups[i].path);
	ioh_mount_table_free(r->own_mounts.table);
	ioh_mount_table_free(r->other_mounts.table);
	if (r->own_mounts.fd >= 0)
		close(r->own_mounts.fd);
	if (r->other_mounts.fd >= 0)
		close(r->other_mounts.fd);
	ioh_stat_pool_free(r->pool);
	free(r);
}

int ioh_resolver_set_statx(struct ioh_resolver *r, uint64_t timeout_ns, ioh_statx_fn fn)
{
	struct ioh_stat_pool *pool;
	int err = ioh_stat_pool_new(timeout_ns, fn, &pool);

	if (err < 0)
		return err;
	ioh_stat_pool_free(r->pool);
	r->pool = pool;
	return 0;
}

void ioh_resolver_mounts_changed(struct ioh_resolver *r)
{
	r->own_mounts.stale = true;
	r->other_mounts.stale = true;
}

void ioh_resolver_get_stats(struct ioh_resolver *r, struct ioh_resolver_stats *out)
{
	struct ioh_stat_pool_stats ps;

	ioh_stat_pool_get_stats(r->pool, &ps);
	*out = r->stats;
	out->workers = ps.workers;
	out->workers_stuck = ps.stuck;
}

bool ioh_resolver_timed_out(const struct ioh_resolver *r)
{
	return r->timed_out;
}

/*
 * The mount table of `pid`'s namespace `mnt_ns` (ours when 0 or our own), read when not
 * cached or changed since. A task that is gone gives ours: its paths are then tried as we see
 * them. NULL when no table can be read. The open mountinfo pins the namespace and tells of
 * its changes, so a mount id or path that misses is not worth a second read. Reading a mount
 * table asks no file system anything: it cannot block on one.
 */
static struct ioh_mount_table *mount_table(struct ioh_resolver *r, uint32_t pid, uint64_t mnt_ns)
{
	bool ours = !mnt_ns || mnt_ns == r->own_mnt_ns || !pid;
	struct ns_mounts *c = ours ? &r->own_mounts : &r->other_mounts;
	uint64_t key = ours ? r->own_mnt_ns : mnt_ns;
	struct ioh_mount_table *t;
	char name[64];

	if (ours)
		snprintf(name, sizeof(name), "/proc/self/mountinfo");
	else
		snprintf(name, sizeof(name), "/proc/%u/mountinfo", pid);
	if (c->fd >= 0 && c->mnt_ns == key) {
		bool changed = ioh_mount_table_changed(c->fd); /* asking acknowledges it */

		if (c->table && !c->stale && !changed)
			return c->table;
	} else {
		int fd = open(name, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return ours ? NULL : mount_table(r, 0, 0);
		if (c->fd >= 0)
			close(c->fd);
		ioh_mount_table_free(c->table);
		c->table = NULL;
		c->fd = fd;
		c->mnt_ns = key;
	}
	if (ioh_mount_table_read(c->fd, name, &t) < 0)
		return ours ? c->table : mount_table(r, 0, 0);
	ioh_mount_table_free(c->table);
	c->table = t;
	c->stale = false;
	return t;
}

/* The type of the file system `path` lives on as task `pid` sees it, from the mount table
 * alone (longest mount-point prefix; the later of stacked mounts), or NULL. */
static const char *fstype_of_path(struct ioh_resolver *r, uint32_t pid, uint64_t mnt_ns,
				  const char *path)
{
	const struct ioh_mount_entry *m =
	    ioh_mount_table_by_path(mount_table(r, pid, mnt_ns), path);

	return m ? m->fstype : NULL;
}

/* The type of the mount with this id, from the table of the namespace it was seen from (mount
 * ids are unique across namespaces). */
static const char *fstype_of_mount(struct ioh_resolver *r, uint32_t pid, uint64_t mnt_ns,
				   uint64_t mnt_id)
{
	const struct ioh_mount_entry *m =
	    ioh_mount_table_by_id(mount_table(r, pid, mnt_ns), mnt_id);

	return m ? m->fstype : NULL;
}

const char *ioh_resolver_cgroup_path(struct ioh_resolver *r, uint64_t cgroup_id)
{
	struct cgroup_entry *e = &r->cgroups[cgroup_id % CGROUP_CACHE_SIZE];
	struct {
		struct file_handle fh;
		uint64_t id;
	} handle;
	char link[64], target[PATH_MAX];
	ssize_t n;
	int fd;

	if (cgroup_id == 0 || r->cgroup_root_fd < 0)
		return NULL;
	if (e->id == cgroup_id && e->path)
		return e->path;
	handle.fh.handle_bytes = sizeof(uint64_t);
	handle.fh.handle_type = FILEID_KERNFS;
	handle.id = cgroup_id;
	fd = open_by_handle_at(r->cgroup_root_fd, &handle.fh, O_RDONLY | O_CLOEXEC | O_PATH);
	if (fd < 0)
		return NULL; /* cgroup already gone, or no CAP_DAC_READ_SEARCH */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	free(e->path);
	e->id = cgroup_id;
	if (strncmp(target, r->cgroup_root, r->cgroup_root_len) == 0)
		e->path = strdup(target[r->cgroup_root_len] ? target + r->cgroup_root_len : "/");
	else
		e->path = strdup(target);
	return e->path;
}

int ioh_resolver_mount_fstype(struct ioh_resolver *r, uint64_t mnt_id, const char **fstype)
{
	*fstype = fstype_of_mount(r, 0, 0, mnt_id);
	return *fstype ? 0 : -ENOENT;
}

/*
 * A birth time (CLOCK_REALTIME, from statx) on the event clock (CLOCK_MONOTONIC), with the
 * offset between the two taken now rather than at daemon start, so a clock step (NTP, an
 * admin) since the start does not move births. 1: born before the monotonic clock started.
 */
uint64_t ioh_btime_to_monotonic(int64_t btime_realtime_ns)
{
	struct timespec rt, mono;
	int64_t offset, t;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	offset = ((int64_t)rt.tv_sec - (int64_t)mono.tv_sec) * 1000000000ll +
		 ((int64_t)rt.tv_nsec - (int64_t)mono.tv_nsec);
	t = btime_realtime_ns - offset;
	return t > 0 ? (uint64_t)t : 1;
}

/* statx() a path as task `pid` (in mount namespace `mnt_ns`) sees it; fills a kernel-style
 * file id and, when `btime` is given, the birth time on the event clock (0: unknown). */
static int stat_as_task(struct ioh_resolver *r, uint32_t pid, uint32_t mnt_ns, const char *path,
			struct ioh_file_id *id, uint64_t *btime)
{
	const unsigned mask = STATX_TYPE | STATX_INO | STATX_MNT_ID | (btime ? STATX_BTIME : 0);
	char buf[IOH_PATH_BUF + 32];
	struct statx stx;
	const char *fstype;
	uint64_t mnt_id;
	bool ours = mnt_ns && mnt_ns == r->own_mnt_ns, as_task = !ours;
	int err;

	/* Going through /proc/PID/root costs a second path walk: only for other namespaces. */
	if (ours)
		snprintf(buf, sizeof(buf), "%s", path);
	else
		snprintf(buf, sizeof(buf), "/proc/%u/root%s", pid, path);
	err = ioh_stat_pool_statx(r->pool, buf, AT_SYMLINK_NOFOLLOW, mask, &stx);
	if (err < 0) {
		if (ours || err == -ETIMEDOUT || err == -EBUSY)
			return err;
		/* The task may be gone already (mv exits at once): try the path as we see it,
		 * which is the same for tasks in the host's mount namespace. */
		snprintf(buf, sizeof(buf), "%s", path);
		err = ioh_stat_pool_statx(r->pool, buf, AT_SYMLINK_NOFOLLOW, mask, &stx);
		if (err < 0)
			return err;
		as_task = false;
	}
	/* stat's device is what the kernel side reports too (bpf/common.bpf.h inode_dev():
	 * s_dev, or the subvolume's anonymous device on btrfs). The mount (glibc takes struct
	 * statx from <linux/stat.h>, which has stx_mnt_id) gives the filesystem type from the
	 * mount table of the namespace the name was looked up in, without a statfs(2), which
	 * would be a second call into the file system. */
	mnt_id = stx.stx_mnt_id;
	id->dev = ioh_kdev_make(stx.stx_dev_major, stx.stx_dev_minor);
	id->fs_magic = 0;
	if ((stx.stx_mask & STATX_MNT_ID) &&
	    (fstype = fstype_of_mount(r, as_task ? pid : 0, as_task ? mnt_ns : 0, mnt_id)))
		id->fs_magic = ioh_fstype_magic_from_name(fstype);
	id->ino = stx.stx_ino;
	id->mode = stx.stx_mode;
	id->gen = 0; /* statx does not report i_generation */
	if (btime)
		*btime = (stx.stx_mask & STATX_BTIME)
			     ? ioh_btime_to_monotonic((int64_t)stx.stx_btime.tv_sec * 1000000000ll +
						      stx.stx_btime.tv_nsec)
			     : 0;
	return 0;
}

static void resolve_rename(struct ioh_resolver *r, struct ioh_event *ev,
			   struct ioh_decode_scratch *s)
{
	struct ioh_rename_info *rn = &ev->rename;
	char dir[IOH_PATH_BUF];
	char *slash;
	const char *fstype;
	bool failed = false, timed_out = false;
	int err;

	if (rn->identity == IOH_ID_KERNEL || !rn->new_path)
		return;
	if ((ev->flags & IOH_EVF_RESOLVE_FAILED) ||
	    strncmp(rn->new_path, IOH_TRUNCATION_MARK, strlen(IOH_TRUNCATION_MARK)) == 0) {
		ev->flags |= IOH_EVF_RESOLVE_FAILED; /* a cut path cannot be looked up */
		return;
	}
	/* Never look a name up where a lookup may hang or no finding can arise. The type
	 * comes from the mount table, which asks no file system. */
	fstype = fstype_of_path(r, ev->pid, s->mnt_ns, rn->new_path);
	if (fstype && ioh_fstype_skip_resolve(fstype)) {
		rn->dst_dir.fs_magic = ioh_fstype_magic_from_name(fstype);
		ev->flags |= IOH_EVF_RESOLVE_FAILED | IOH_EVF_RESOLVE_SKIPPED;
		r->stats.skipped++;
		return;
	}
	/* The directory first: without it no window opens; the file only sharpens the
	 * verdict (its fsync), so a timeout there still leaves a (degraded) finding. */
	if (!rn->dst_dir.ino) {
		snprintf(dir, sizeof(dir), "%s", rn->new_path);
		slash = strrchr(dir, '/');
		if (slash) {
			if (slash == dir)
				slash[1] = '\0';
			else
				*slash = '\0';
			err = stat_as_task(r, ev->pid, s->mnt_ns, dir, &rn->dst_dir, NULL);
			if (err < 0) {
				memset(&rn->dst_dir, 0, sizeof(rn->dst_dir));
				failed = true;
				timed_out |= err == -ETIMEDOUT || err == -EBUSY;
			}
		}
	}
	/* The inode and its birth time in one statx: the birth tells this file apart from a
	 * deleted one that had the same number (the generation is not available here). A
	 * directory that did not answer will not answer for its entry either. */
	err = timed_out
		  ? -ETIMEDOUT
		  : stat_as_task(r, ev->pid, s->mnt_ns, rn->new_path, &rn->src, &rn->src_btime_ns);
	if (err < 0) {
		memset(&rn->src, 0, sizeof(rn->src));
		rn->src_btime_ns = 0;
		failed = true;
		timed_out |= err == -ETIMEDOUT || err == -EBUSY;
	}
	if (timed_out) {
		ev->flags |= IOH_EVF_RESOLVE_TIMEOUT;
		r->stats.timeouts++;
		r->timed_out = true;
	}
	/* Same filesystem as the new name: take its magic when only the kernel's is known. */
	if (!rn->dst_dir.fs_magic)
		rn->dst_dir.fs_magic = s->base_dir_id.fs_magic;
	rn->identity = IOH_ID_USERSPACE;
	ev->flags |= IOH_EVF_RESOLVED_IN_USERSPACE;
	if (failed)
		ev->flags |= IOH_EVF_RESOLVE_FAILED;
}

/*
 * The other side of a mixed-access record is named only by pid: read its comm and cgroup
 * now, while it (probably) still runs, so the finding can name both programs.
 */
static void resolve_other_side(struct ioh_event *ev, struct ioh_decode_scratch *s)
{
	char path[64], line[4096];
	FILE *f;
	size_t n;

	ev->access.other_comm[0] = '\0';
	ev->access.other_cgroup = NULL;
	if (!ev->access.other_pid)
		return;
	snprintf(path, sizeof(path), "/proc/%u/comm", ev->access.other_pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(ev->access.other_comm, IOH_COMM_LEN, f)) {
			n = strcspn(ev->access.other_comm, "\n");
			ev->access.other_comm[n] = '\0';
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", ev->access.other_pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* cgroup v2: the "0::" line. */
		if (strncmp(line, "0::", 3) == 0) {
			n = strcspn(line + 3, "\n");
			line[3 + n] = '\0';
			snprintf(s->other_cgroup, sizeof(s->other_cgroup), "%s", line + 3);
			ev->access.other_cgroup = s->other_cgroup;
			break;
		}
	}
	fclose(f);
}

/*
 * A STACK event: the task's executable mappings, read now, while it may still live (a
 * snapshot needs them to be unwound, also later in a replay). A task already gone keeps the
 * kernel's hints (the executable and the ip's mapping) and is marked process_gone.
 */
static void resolve_stack(struct ioh_event *ev, struct ioh_decode_scratch *s)
{
	char *strings = NULL;
	int n = ioh_stack_modules_read((pid_t)ev->stack.pid, s->stack_modules,
				       IOH_STACK_MODULES_MAX, &strings);

	if (n > 0) {
		free(s->stack_strings);
		s->stack_strings = strings;
		ev->stack.modules = s->stack_modules;
		ev->stack.n_modules = (uint32_t)n;
		ev->stack.process_gone = false;
		return;
	}
	free(strings);
	/* modules_read wrote over the hints only when it found modules: n <= 0 left them. */
	ev->stack.process_gone = true;
	for (uint32_t i = 0; i < ev->stack.n_modules; i++)
		ioh_stack_hint_fill(&s->stack_modules[i]);
}

/* The mount namespace of a task (the inode of /proc/PID/ns/mnt, on nsfs); 0 when gone. */
static uint64_t task_mnt_ns(uint32_t pid)
{
	char name[64];
	struct stat st;

	snprintf(name, sizeof(name), "/proc/%u/ns/mnt", pid);
	return pid && stat(name, &st) == 0 ? st.st_ino : 0;
}

/*
 * The kernel names a truncated file within its file system ("/dir/file" from the file
 * system's root). The truncating task's mount table turns that into the path the task reaches
 * it by: through the mount of that device whose root holds it, so on a bind mount of "/dir"
 * at /srv/b it is /srv/b/file. The event then carries IOH_EVF_PATH_MOUNTED. A cut path, or
 * one no mount shows, stays within its file system.
 */
static void resolve_truncate(struct ioh_resolver *r, struct ioh_event *ev)
{
	struct ioh_truncate_info *ti = &ev->truncate;
	uint64_t mnt_ns;

	if (!ti->path || (ev->flags & IOH_EVF_PATH_TRUNCATED) ||
	    strncmp(ti->path, IOH_TRUNCATION_MARK, strlen(IOH_TRUNCATION_MARK)) == 0)
		return;
	mnt_ns = task_mnt_ns(ev->pid);
	if (ioh_mount_table_path(mount_table(r, ev->pid, mnt_ns), ti->file.dev, ti->path, r->path,
				 sizeof(r->path)) < 0)
		return;
	ti->path = r->path;
	ev->flags |= IOH_EVF_PATH_MOUNTED;
}

void ioh_resolver_enrich(struct ioh_resolver *r, struct ioh_event *ev,
			 struct ioh_decode_scratch *scratch)
{
	r->timed_out = false;
	ev->cgroup = ioh_resolver_cgroup_path(r, ev->cgroup_id);
	if (ev->type == IOH_EV_RENAME)
		resolve_rename(r, ev, scratch);
	else if (ev->type == IOH_EV_ACCESS_MODE)
		resolve_other_side(ev, scratch);
	else if (ev->type == IOH_EV_STACK)
		resolve_stack(ev, scratch);
	else if (ev->type == IOH_EV_TRUNCATE)
		resolve_truncate(r, ev);
	else if (ev->type == IOH_EV_DIRTY_THROTTLE && ev->throttle.cgroup_ino) {
		/* cgroup v2 ids are kernfs inode numbers: the same lookup as the task's. Copied
		 * into scratch (other_cgroup, unused by this type), because the next lookup may
		 * evict the cache slot; then the task's is looked up again for the same reason. */
		const char *p = ioh_resolver_cgroup_path(r, ev->throttle.cgroup_ino);

		if (p) {
			snprintf(scratch->other_cgroup, sizeof(scratch->other_cgroup), "%s", p);
			ev->throttle.page_cgroup = scratch->other_cgroup;
		}
		ev->cgroup = ioh_resolver_cgroup_path(r, ev->cgroup_id);
	}
}
