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
 *   uring-direct-writer    like direct-writer, the writes submitted through io_uring
 *   uring-buffered-reader  like buffered-reader, the reads submitted through io_uring
 *   uring-fixed-reader     the same with the file registered (IOSQE_FIXED_FILE: the request
 *                          carries a table index, not an fd)
 *
 * After the I/O the process stays alive LINGER seconds (default 0, idle, file closed), so
 * another process's finding can name it by comm. Writers and readers work on the first
 * FILE_SPAN bytes; readers of a file shorter than one block just read what is there. SECONDS
 * is a decimal (default 2). Prints "ok MODE pid=N ops=N" on success; exit 1 on any error.
 * io_uring is driven through the raw syscalls (no liburing), one request at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* A one-entry io_uring used synchronously: submit one request, wait for its completion. */
struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	int fixed; /* the file is registered at index 0 */
};

static void ring_init(const char *mode, struct ring *r, int file_fd, int fixed)
{
	struct io_uring_params p;
	char *sq, *cq;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	r->fd = (int)syscall(__NR_io_uring_setup, 1, &p);
	if (r->fd < 0)
		die(mode, "io_uring_setup");
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		die(mode, "mmap io_uring rings");
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	r->fixed = fixed;
	if (fixed &&
	    syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_FILES, &file_fd, 1) != 0)
		die(mode, "IORING_REGISTER_FILES");
}

/* One read or write of `len` bytes at `off`; returns the completion's result. */
static int ring_rw(const char *mode, struct ring *r, int file_fd, int write, void *buf,
		   unsigned len, off_t off)
{
	unsigned tail = *r->sq_tail, head;
	struct io_uring_sqe *sqe = &r->sqes[tail & *r->sq_mask];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = write ? IORING_OP_WRITE : IORING_OP_READ;
	sqe->fd = r->fixed ? 0 : file_fd;
	sqe->flags = r->fixed ? IOSQE_FIXED_FILE : 0;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = (uint64_t)off;
	r->sq_array[tail & *r->sq_mask] = tail & *r->sq_mask;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) != 1)
		die(mode, "io_uring_enter");
	head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
		errno = EPROTO;
		die(mode, "io_uring: no completion");
	}
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	if (res < 0) {
		errno = -res;
		die(mode, write ? "io_uring write" : "io_uring read");
	}
	return res;
}

/* One pass over the span through the ring (reads stop at end of file). */
static long ring_pass(const char *mode, struct ring *r, int fd, int write, void *buf)
{
	long n = 0;

	for (off_t off = 0; off < FILE_SPAN; off += BLOCK) {
		int done = ring_rw(mode, r, fd, write, buf, BLOCK, off);

		n++;
		if (done < BLOCK) {
			if (write) {
				errno = EIO;
				die(mode, "io_uring short write");
			}
			break;
		}
	}
	return n;
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
			"buffered-writer|mmap-reader|same-process|uring-direct-writer|"
			"uring-buffered-reader|uring-fixed-reader FILE [SECONDS [LINGER]]\n");
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
	} else if (!strncmp(mode, "uring-", 6)) {
		int write = !strcmp(mode, "uring-direct-writer");
		int fixed = !strcmp(mode, "uring-fixed-reader");
		struct ring ring;

		if (!write && strcmp(mode, "uring-buffered-reader") && !fixed) {
			fprintf(stderr, "mixed_io: unknown mode %s\n", mode);
			return 2;
		}
		buf = aligned_block(mode, write ? 'U' : 0);
		fd = write ? open(file, O_WRONLY | O_CREAT | O_DIRECT, 0644) : open(file, O_RDONLY);
		if (fd < 0)
			die(mode, "open");
		ring_init(mode, &ring, fd, fixed);
		do {
			ops += ring_pass(mode, &ring, fd, write, buf);
			pause_a_little();
		} while (now_s() < end);
		close(ring.fd);
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
