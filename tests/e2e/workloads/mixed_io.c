// SPDX-License-Identifier: GPL-2.0-only
/*
 * Workload for tests/e2e/test_mixed_io.sh: one side of a mixed O_DIRECT / page-cache access to
 * one file (seed case 2). Plain libc only: it also runs inside a minimal VM.
 *
 *   mixed_io MODE FILE [SECONDS [LINGER]]
 *
 *   direct-writer    O_DIRECT aligned 4 KiB writes (O_CREAT) for SECONDS
 *   direct-reader    O_DIRECT aligned 4 KiB reads for SECONDS
 *   buffered-reader  reads through the page cache for SECONDS
 *   buffered-writer  writes through the page cache (O_CREAT, never synced) for SECONDS
 *   mmap-reader      maps the file and touches every page, dropping the mapping's pages
 *                    (MADV_DONTNEED) after each pass so every pass faults again, for SECONDS
 *   same-process     one process: fd 1 O_DIRECT (O_CREAT), aligned writes; then a second,
 *                    buffered fd on the same file and buffered reads through it
 *
 * After the I/O the process stays alive LINGER seconds (default 0, idle, file closed), so
 * another process's finding can name it by comm. Writers and readers work on the first
 * FILE_SPAN bytes; readers of a file shorter than one block just read what is there. SECONDS
 * is a decimal (default 2). Prints "ok MODE pid=N ops=N" on success; exit 1 on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define FILE_SPAN (256 * 1024)
#define PAUSE_NS (20 * 1000 * 1000) /* between passes: a steady trickle, not a flood */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *mode, const char *what)
{
	fprintf(stderr, "mixed_io %s: %s: %s\n", mode, what, strerror(errno));
	exit(1);
}

static void pause_a_little(void)
{
	struct timespec ts = {0, PAUSE_NS};

	nanosleep(&ts, NULL);
}

static void *aligned_block(const char *mode, int fill)
{
	void *buf;

	errno = posix_memalign(&buf, BLOCK, BLOCK);
	if (errno)
		die(mode, "posix_memalign");
	memset(buf, fill, BLOCK);
	return buf;
}

/* One pass of aligned writes over the span. */
static long write_pass(const char *mode, int fd, void *buf)
{
	for (off_t off = 0; off < FILE_SPAN; off += BLOCK)
		if (pwrite(fd, buf, BLOCK, off) != BLOCK)
			die(mode, "pwrite");
	return FILE_SPAN / BLOCK;
}

/* One pass of reads over the span (stops at end of file). */
static long read_pass(const char *mode, int fd, void *buf)
{
	long n = 0;

	for (off_t off = 0; off < FILE_SPAN; off += BLOCK) {
		ssize_t r = pread(fd, buf, BLOCK, off);

		if (r < 0)
			die(mode, "pread");
		n++;
		if (r < BLOCK)
			break;
	}
	return n;
}

static long mmap_pass(const char *mode, int fd)
{
	struct stat st;
	volatile const char *p;
	size_t len;
	long sum = 0;

	if (fstat(fd, &st) != 0)
		die(mode, "fstat");
	len = st.st_size < FILE_SPAN ? (size_t)st.st_size : FILE_SPAN;
	if (len == 0)
		return 0;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die(mode, "mmap");
	for (size_t off = 0; off < len; off += BLOCK)
		sum += p[off];
	munmap((void *)p, len);
	return sum >= 0 ? (long)(len / BLOCK) : 0;
}

int main(int argc, char **argv)
{
	const char *mode, *file;
	double seconds = 2, linger = 0, end;
	long ops = 0;
	void *buf;
	int fd, fd2;

	if (argc < 3 || argc > 5) {
		fprintf(stderr,
			"usage: mixed_io direct-writer|direct-reader|buffered-reader|"
			"buffered-writer|mmap-reader|same-process FILE [SECONDS [LINGER]]\n");
		return 2;
	}
	mode = argv[1];
	file = argv[2];
	if (argc > 3)
		seconds = strtod(argv[3], NULL);
	if (argc > 4)
		linger = strtod(argv[4], NULL);
	end = now_s() + seconds;

	if (!strcmp(mode, "direct-writer")) {
		buf = aligned_block(mode, 'D');
		fd = open(file, O_WRONLY | O_CREAT | O_DIRECT, 0644);
		if (fd < 0)
			die(mode, "open O_DIRECT");
		do {
			ops += write_pass(mode, fd, buf);
			pause_a_little();
		} while (now_s() < end);
	} else if (!strcmp(mode, "direct-reader")) {
		buf = aligned_block(mode, 0);
		fd = open(file, O_RDONLY | O_DIRECT);
		if (fd < 0)
			die(mode, "open O_DIRECT");
		do {
			ops += read_pass(mode, fd, buf);
			pause_a_little();
		} while (now_s() < end);
	} else if (!strcmp(mode, "buffered-reader")) {
		buf = aligned_block(mode, 0);
		fd = open(file, O_RDONLY);
		if (fd < 0)
			die(mode, "open");
		do {
			ops += read_pass(mode, fd, buf);
			pause_a_little();
		} while (now_s() < end);
	} else if (!strcmp(mode, "buffered-writer")) {
		buf = aligned_block(mode, 'B');
		fd = open(file, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			die(mode, "open");
		do {
			ops += write_pass(mode, fd, buf);
			pause_a_little();
		} while (now_s() < end);
	} else if (!strcmp(mode, "mmap-reader")) {
		fd = open(file, O_RDONLY);
		if (fd < 0)
			die(mode, "open");
		do {
			ops += mmap_pass(mode, fd);
			pause_a_little();
		} while (now_s() < end);
	} else if (!strcmp(mode, "same-process")) {
		buf = aligned_block(mode, 'S');
		fd = open(file, O_RDWR | O_CREAT | O_DIRECT, 0644);
		if (fd < 0)
			die(mode, "open O_DIRECT");
		ops += write_pass(mode, fd, buf);
		fd2 = open(file, O_RDONLY);
		if (fd2 < 0)
			die(mode, "open buffered");
		do {
			ops += write_pass(mode, fd, buf);
			ops += read_pass(mode, fd2, buf);
			pause_a_little();
		} while (now_s() < end);
		close(fd2);
	} else {
		fprintf(stderr, "mixed_io: unknown mode %s\n", mode);
		return 2;
	}
	close(fd);
	printf("ok %s pid=%d ops=%ld\n", mode, (int)getpid(), ops);
	fflush(stdout);
	if (linger > 0) {
		struct timespec ts = {(time_t)linger, (long)((linger - (time_t)linger) * 1e9)};

		nanosleep(&ts, NULL);
	}
	return 0;
}
