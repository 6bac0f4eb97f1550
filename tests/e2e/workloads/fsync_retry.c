// SPDX-License-Identifier: GPL-2.0-only
/*
 * fsync_retry FILE KIB: PostgreSQL's "fsyncgate" pattern for the fsync-error-retried rule.
 * Opens FILE (which must exist, so creating it needs no new metadata block), appends KIB KiB,
 * fsync()s, then fsync()s again, and reports both results:
 *
 *   pid=N first=<0|-ERRNO-NAME> second=<0|-ERRNO-NAME>
 *
 * The test arranges for the device under FILE to fail writes of new data blocks (the VM suite:
 * an ext4 image on a tmpfs that is full, so the loop device gets ENOSPC for every block that
 * was a hole). Then the first fsync fails, the kernel marks the pages clean and reports the
 * error once per open file, and the retry "succeeds" with the data gone.
 *
 * Exit status: 0 when the first fsync failed and the second returned 0 (the pattern happened),
 * 3 when the first one did not fail (the device did not fail; nothing to test), 1 on other
 * errors. Plain libc only: it runs inside the minimal test VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *errname(int r)
{
	static char buf[64];

	if (r == 0)
		return "0";
	snprintf(buf, sizeof(buf), "-%s", strerrorname_np(-r) ? strerrorname_np(-r) : "?");
	return buf;
}

int main(int argc, char **argv)
{
	static char block[4096];
	int fd, first, second;
	long kib;

	if (argc != 3) {
		fprintf(stderr, "usage: fsync_retry FILE KIB\n");
		return 2;
	}
	kib = atol(argv[2]);
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "fsync_retry: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(block, 'f', sizeof(block));
	for (long i = 0; i < kib / 4; i++)
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			fprintf(stderr, "fsync_retry: write: %s\n", strerror(errno));
			return 1;
		}
	first = fsync(fd) < 0 ? -errno : 0;
	second = fsync(fd) < 0 ? -errno : 0;
	printf("pid=%d first=%s", getpid(), errname(first));
	printf(" second=%s\n", errname(second));
	close(fd);
	if (first == 0)
		return 3;
	return second == 0 ? 0 : 1;
}
