// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/ingest/mountinfo.h"
#include "daemon/rules/rules.h"
#include "daemon/util/fsnames.h"

/* Hazardous mounts remembered between scans; more are reported but not followed. */
#define WATCH_MAX 512

struct known_mount {
	uint64_t mnt_id;
	char *mount_point;
	uint32_t flags;
	uint32_t dev;
	uint32_t commit_s;
	bool seen; /* in the current scan */
};

struct ioh_mount_watch {
	char path[256];
	int fd;
	struct known_mount known[WATCH_MAX];
	size_t n_known;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

int ioh_mountinfo_parse_line(char *line, struct ioh_mount_entry *out)
{
	char *fields[7], *save = NULL, *tok, *sep;
	unsigned major, minor;
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	sep = strstr(line, " - ");
	if (!sep)
		return -EINVAL;
	*sep = '\0';
	/* id parent major:minor root mount_point mount_opts [optional...] */
	for (tok = strtok_r(line, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
		fields[n++] = tok;
	if (n < 6)
		return -EINVAL;
	out->mnt_id = strtoull(fields[0], NULL, 10);
	if (sscanf(fields[2], "%u:%u", &major, &minor) != 2)
		return -EINVAL;
	out->dev = ioh_kdev_make(major, minor);
	out->mount_point = fields[4];
	unescape(out->mount_point);
	out->mount_opts = fields[5];
	/* fstype source super_opts */
	save = NULL;
	n = 0;
	for (tok = strtok_r(sep + 3, " ", &save); tok && n < 3; tok = strtok_r(NULL, " ", &save))
		fields[n++] = tok;
	if (n < 3)
		return -EINVAL;
	out->fstype = fields[0];
	out->source = fields[1];
	unescape(out->source);
	out->super_opts = fields[2];
	return 0;
}

uint32_t ioh_mount_hazards(const char *opts, uint32_t *commit_s)
{
	char buf[4096], *save = NULL, *o;
	uint32_t flags = 0;

	snprintf(buf, sizeof(buf), "%s", opts ? opts : "");
	for (o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "data=writeback") == 0)
			flags |= IOH_MNT_DATA_WRITEBACK;
		else if (strcmp(o, "nobarrier") == 0 || strcmp(o, "barrier=0") == 0)
			flags |= IOH_MNT_NOBARRIER;
		else if (strcmp(o, "journal_async_commit") == 0)
			flags |= IOH_MNT_JOURNAL_ASYNC_COMMIT;
		else if (strncmp(o, "commit=", 7) == 0) {
			unsigned long s = strtoul(o + 7, NULL, 10);

			if (commit_s)
				*commit_s = (uint32_t)s;
			if (s > IOH_COMMIT_LONG_S)
				flags |= IOH_MNT_LONG_COMMIT;
		}
	}
	return flags;
}

int ioh_mount_watch_new(const char *path, struct ioh_mount_watch **out)
{
	struct ioh_mount_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	snprintf(w->path, sizeof(w->path), "%s", path ? path : "/proc/self/mountinfo");
	w->fd = open(w->path, O_RDONLY | O_CLOEXEC);
	if (w->fd < 0) {
		int err = -errno;

		free(w);
		return err;
	}
	*out = w;
	return 0;
}

void ioh_mount_watch_free(struct ioh_mount_watch *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_known; i++)
		free(w->known[i].mount_point);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

int ioh_mount_watch_fd(const struct ioh_mount_watch *w)
{
	return w->fd;
}

static struct known_mount *find_known(struct ioh_mount_watch *w, uint64_t id, const char *mp)
{
	for (size_t i = 0; i < w->n_known; i++)
		if (w->known[i].mnt_id == id && strcmp(w->known[i].mount_point, mp) == 0)
			return &w->known[i];
	return NULL;
}

static void emit(const struct ioh_mount_entry *m, uint32_t flags, uint32_t commit_s,
		 uint64_t now_ns, ioh_mount_cb cb, void *ctx)
{
	struct ioh_event ev = {0};

	ev.type = IOH_EV_MOUNT;
	ev.ts_ns = now_ns;
	ev.mount.mnt_id = m->mnt_id;
	ev.mount.dev = m->dev;
	ev.mount.flags = flags;
	ev.mount.commit_s = commit_s;
	ev.mount.mount_point = m->mount_point;
	ev.mount.fstype = m->fstype;
	ev.mount.source = m->source;
	ev.mount.options = m->super_opts;
	cb(&ev, ctx);
}

int ioh_mount_watch_scan(struct ioh_mount_watch *w, uint64_t now_ns, ioh_mount_cb cb, void *ctx)
{
	FILE *f = fopen(w->path, "re");
	char line[8192];
	int events = 0;

	/* Reading the polled descriptor to the end re-arms POLLPRI. */
	if (lseek(w->fd, 0, SEEK_SET) == 0)
		while (read(w->fd, line, sizeof(line)) > 0)
			;
	if (!f)
		return -errno;
	for (size_t i = 0; i < w->n_known; i++)
		w->known[i].seen = false;
	while (fgets(line, sizeof(line), f)) {
		struct ioh_mount_entry m;
		struct known_mount *k;
		uint32_t flags, commit_s = 0;

		if (ioh_mountinfo_parse_line(line, &m) < 0 || !ioh_fstype_is_persistent(m.fstype))
			continue;
		/* Superblock options carry data=, barrier and commit for ext3/ext4; the
		 * per-mount ones never do, but a "nobarrier" there counts the same. */
		flags = ioh_mount_hazards(m.super_opts, &commit_s) |
			ioh_mount_hazards(m.mount_opts, NULL);
		k = find_known(w, m.mnt_id, m.mount_point);
		if (k) {
			k->seen = true;
			if (k->flags != flags || k->commit_s != commit_s) {
				emit(&m, flags, commit_s, now_ns, cb, ctx);
				events++;
				k->flags = flags;
				k->commit_s = commit_s;
			}
			continue;
		}
		if (!flags)
			continue;
		emit(&m, flags, commit_s, now_ns, cb, ctx);
		events++;
		if (w->n_known < WATCH_MAX) {
			k = &w->known[w->n_known];
			k->mount_point = strdup(m.mount_point);
			if (!k->mount_point)
				continue;
			k->mnt_id = m.mnt_id;
			k->flags = flags;
			k->dev = m.dev;
			k->commit_s = commit_s;
			k->seen = true;
			w->n_known++;
		}
	}
	fclose(f);
	/* Unmounted, or fixed earlier and not hazardous now: forget. */
	for (size_t i = 0; i < w->n_known;) {
		struct known_mount *k = &w->known[i];

		if (k->seen && k->flags) {
			i++;
			continue;
		}
		if (!k->seen) {
			struct ioh_mount_entry gone = {.mnt_id = k->mnt_id,
						       .dev = k->dev,
						       .mount_point = k->mount_point};

			emit(&gone, IOH_MNT_GONE, 0, now_ns, cb, ctx);
			events++;
		}
		free(k->mount_point);
		w->known[i] = w->known[--w->n_known];
	}
	return events;
}
