// SPDX-License-Identifier: GPL-2.0-only
/*
 * Workloads for the stall and data=writeback tests (tests/e2e/test_stalls.sh,
 * test_writeback_mount.sh). Each prints "pid N" for the process whose findings to expect.
 *
 *   stalls splice-pipe FILE HOLD_MS    splice FILE into a pipe nobody drains for HOLD_MS
 *   stalls splice-fast FILE            splice 4 KiB into an empty pipe (must stay quiet)
 *   stalls sendfile-slow FILE          sendfile FILE to a TCP peer that reads slowly
 *   stalls write-burst FILE MIB        write MIB MiB as fast as possible (dirty throttling)
 *   stalls truncate-rewrite FILE SYNC  write, fsync, O_TRUNC-rewrite; fsync again if SYNC=1
 *   stalls ftruncate-rewrite FILE SYNC the same through ftruncate(2)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void drain(int fd, long first_delay_ms, long per_read_delay_ms)
{
	char buf[65536];

	sleep_ms(first_delay_ms);
	while (read(fd, buf, sizeof(buf)) > 0)
		if (per_read_delay_ms)
			sleep_ms(per_read_delay_ms);
}

static int splice_pipe(const char *path, long hold_ms, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), p[2];
	pid_t child;
	size_t done = 0;

	if (fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		die("open/pipe");
	printf("pid %d\n", getpid());
	fflush(stdout);
	child = fork();
	if (child == 0) {
		close(p[1]);
		drain(p[0], hold_ms, 0);
		_exit(0);
	}
	close(p[0]);
	while (done < len) {
		ssize_t n = splice(fd, NULL, p[1], NULL, len - done, 0);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(p[1]);
	waitpid(child, NULL, 0);
	return 0;
}

static int sendfile_slow(const char *path)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd, fd, small = 16384;
	struct stat st;
	off_t off = 0;
	pid_t child;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
		die("listen");
	printf("pid %d\n", getpid());
	fflush(stdout);
	child = fork();
	if (child == 0) {
		int a = accept(lfd, NULL, NULL);

		setsockopt(a, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		drain(a, 400, 20);
		_exit(0);
	}
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (connect(cfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("open");
	while (off < st.st_size)
		if (sendfile(cfd, fd, &off, (size_t)(st.st_size - off)) <= 0)
			break;
	close(cfd);
	waitpid(child, NULL, 0);
	return 0;
}

static int write_burst(const char *path, long mib)
{
	static char buf[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die("open");
	memset(buf, 'x', sizeof(buf));
	printf("pid %d\n", getpid());
	fflush(stdout);
	for (long i = 0; i < mib; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			die("write");
	close(fd);
	return 0;
}

static int truncate_rewrite(const char *path, int sync_after, int use_ftruncate)
{
	char buf[65536];
	int fd;

	memset(buf, 'a', sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fsync(fd) < 0)
		die("first write");
	close(fd);
	printf("pid %d\n", getpid());
	fflush(stdout);
	if (use_ftruncate) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 0) < 0)
			die("ftruncate");
	} else {
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0)
			die("open O_TRUNC");
	}
	memset(buf, 'b', sizeof(buf));
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		die("rewrite");
	if (sync_after && fsync(fd) < 0)
		die("fsync");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "splice-pipe") == 0)
		return splice_pipe(argv[2], atol(argv[3]), 1 << 20);
	if (argc >= 3 && strcmp(argv[1], "splice-fast") == 0) {
		printf("pid %d\n", getpid());
		fflush(stdout);
		return splice_pipe(argv[2], 0, 4096);
	}
	if (argc >= 3 && strcmp(argv[1], "sendfile-slow") == 0)
		return sendfile_slow(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "write-burst") == 0)
		return write_burst(argv[2], atol(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "truncate-rewrite") == 0)
		return truncate_rewrite(argv[2], atoi(argv[3]), 0);
	if (argc >= 4 && strcmp(argv[1], "ftruncate-rewrite") == 0)
		return truncate_rewrite(argv[2], atoi(argv[3]), 1);
	fprintf(stderr, "usage: see the comment at the top of stalls.c\n");
	return 2;
}
