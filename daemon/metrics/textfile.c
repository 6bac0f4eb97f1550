// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/metrics/textfile.h"

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync of the directory makes the rename itself durable: without it a crash can bring back
 * the old name (or no file) even though the new content was synced. */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int ioh_metrics_write_textfile(const char *path, const char *data, size_t len)
{
	char *dir = NULL, *tmp = NULL, *slash;
	const char *base;
	uint64_t rnd = 0;
	int fd = -1, r;

	if (!path || !*path || (len && !data))
		return -EINVAL;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base)
		return -EISDIR;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;

	/* Same directory, so rename(2) is atomic (same filesystem). The name starts with a dot
	 * and does not end in .prom: node_exporter only reads *.prom, never a half-written
	 * temp. Random suffix plus O_EXCL: two writers (a restarted daemon racing an old one)
	 * never share a temp file. */
	for (int attempt = 0; attempt < 16; attempt++) {
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd ^= ((uint64_t)getpid() << 32) ^ (attempt * 0x9e3779b97f4a7c15ULL);
		free(tmp);
		if (asprintf(&tmp, "%s/.%s.%016llx.tmp", dir, base, (unsigned long long)rnd) < 0) {
			tmp = NULL;
			r = -ENOMEM;
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		r = -errno;
		free(tmp);
		tmp = NULL; /* not ours: nothing to unlink */
		goto out;
	}
	/* The umask must not decide whether node_exporter (another user) can read the file. */
	if (fchmod(fd, 0644) < 0) {
		r = -errno;
		goto fail;
	}
	r = write_all(fd, data, len);
	if (r < 0)
		goto fail;
	if (fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	r = fsync_dir(dir);
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return r;
}
