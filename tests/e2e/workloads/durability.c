// SPDX-License-Identifier: GPL-2.0-only
/*
 * durability PATTERN DIR: replace a file in DIR with one write-to-temp + rename(2) pattern,
 * safe or not, so the end-to-end tests can check iohazardd's findings for this pid.
 *
 * Plain libc only: it also runs inside the minimal test VM.
 *
 * Prints "pid=<pid> target=<path of the new name as the test should expect it>" on stdout
 * first, then "done" when the pattern is complete. Exit status 0 on success, 1 on a failed
 * system call (with a message on stderr), 2 on usage errors.
 *
 * Patterns (the target is DIR/a unless said otherwise; "unsafe" = no fsync at all,
 * "safe" = fsync(file) before rename and the directory made durable after it):
 *   unsafe               write a.tmp, rename over a
 *   fsync-file-only      write a.tmp, fsync it, rename over a; no directory fsync
 *   safe                 ... then fsync(open(DIR, O_RDONLY|O_DIRECTORY))
 *   safe-fdatasync-dir   ... then fdatasync(dirfd)
 *   safe-syncfs          ... then syncfs(dirfd)
 *   safe-sync            ... then sync()
 *   late-dir-fsync       write, fsync file, rename, sleep 6 s, then fsync(dirfd)
 *   relative             chdir(DIR), rename("a.tmp", "a") unsafe
 *   relative-safe        same, safe (fsync file, fsync ".")
 *   renameat             renameat(dirfd, "a.tmp", dirfd, "a") unsafe
 *   renameat-safe        same, safe
 *   renameat2-noreplace  renameat2(dirfd, "a.tmp", dirfd, "a", RENAME_NOREPLACE) unsafe
 *                        (a does not exist before)
 *   renameat2-noreplace-safe  same, safe
 *   subdir               chdir(DIR), rename("sub/a.tmp", "sub/a") unsafe; target DIR/sub/a
 *   subdir-safe          same, safe (fsyncs DIR/sub)
 *   hostile-name         unsafe rename to a name with a newline, spaces and invalid UTF-8
 *   hostile-json         unsafe rename to a name with a quote, backslashes, a tab, \x01,
 *                        \x7f and valid non-ASCII (é, U+1F4A3)
 *   long-path            unsafe relative rename deep below DIR (full path > 2048 bytes),
 *                        built with mkdir+chdir so no syscall sees the whole path
 *   long-abs             unsafe rename with absolute paths of about 1.5 KB each (more than
 *                        the 1024 bytes the kernel side copies of a user string)
 *
 * Precision (issue 14): each must report nothing (the "-safe" ones) or only the directory.
 *   meta-after-fsync-safe  write a.tmp, fsync, then chmod, utimensat, chown (as rsync
 *                        --fsync, git gc, logrotate, redis do), rename, fsync the directory
 *   meta-after-fsync     the same without the directory fsync: only rename-without-dir-fsync,
 *                        at warning (the file counts as fsynced)
 *   dsync-safe           a.tmp opened O_DSYNC and written (as dd oflag=dsync), rename, fsync dir
 *   rwf-dsync-safe       a.tmp written with pwritev2(RWF_DSYNC), rename, fsync dir
 *   reuse-safe           write and delete a victim file (64 KiB, never synced), create an
 *                        empty a.tmp (ext4 and xfs hand it the victim's inode number), rename,
 *                        fsync dir: the empty file was never written
 *   ftruncate-safe       create a.tmp, ftruncate it to 1 MiB (no data written), rename,
 *                        fsync dir: a size change alone is not unsynced data
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define HOSTILE_NAME "bad\nname with  spaces \xff\xfe\xc3(.cfg"
#define HOSTILE_JSON "q\"uote\\back\\slash\ttab\x01\x7f \xc3\xa9 \xf0\x9f\x92\xa3.json"
#define LONG_LEVELS 12
#define LONG_ABS_LEVELS 7
#define LONG_COMPONENT 200

static const char *pattern;

static void die(const char *what)
{
	fprintf(stderr, "durability %s: %s: %s\n", pattern, what, strerror(errno));
	exit(1);
}

static void write_file(int dirfd, const char *name, const char *data, int do_fsync)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(data);

	if (fd < 0)
		die(name);
	if (write(fd, data, len) != (ssize_t)len)
		die("write");
	if (do_fsync && fsync(fd) < 0)
		die("fsync(file)");
	if (close(fd) < 0)
		die("close");
}

static int open_dir(int at, const char *path)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		die(path);
	return fd;
}

static void fsync_dir(int at, const char *path)
{
	int fd = open_dir(at, path);

	if (fsync(fd) < 0)
		die("fsync(dir)");
	close(fd);
}

static void announce(const char *dir, const char *rel)
{
	printf("pid=%d target=%s/%s\n", (int)getpid(), dir, rel);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *dir;
	int dfd, safe;
	size_t plen;

	if (argc != 3) {
		fprintf(stderr, "usage: durability PATTERN DIR\n");
		return 2;
	}
	pattern = argv[1];
	dir = argv[2];
	plen = strlen(pattern);
	safe = plen > 5 && strcmp(pattern + plen - 5, "-safe") == 0;
	dfd = open_dir(AT_FDCWD, dir);

	if (!strcmp(pattern, "unsafe") || !strcmp(pattern, "fsync-file-only") ||
	    !strcmp(pattern, "safe") || !strcmp(pattern, "safe-fdatasync-dir") ||
	    !strcmp(pattern, "safe-syncfs") || !strcmp(pattern, "safe-sync") ||
	    !strcmp(pattern, "late-dir-fsync")) {
		char tmp[4096], target[4096];
		int unsafe = !strcmp(pattern, "unsafe");

		snprintf(tmp, sizeof(tmp), "%s/a.tmp", dir);
		snprintf(target, sizeof(target), "%s/a", dir);
		announce(dir, "a");
		write_file(AT_FDCWD, target, "old contents\n", 1);
		write_file(AT_FDCWD, tmp, "new contents\n", !unsafe);
		if (rename(tmp, target) < 0)
			die("rename");
		if (!strcmp(pattern, "safe")) {
			fsync_dir(AT_FDCWD, dir);
		} else if (!strcmp(pattern, "safe-fdatasync-dir")) {
			int fd = open_dir(AT_FDCWD, dir);

			if (fdatasync(fd) < 0)
				die("fdatasync(dir)");
			close(fd);
		} else if (!strcmp(pattern, "safe-syncfs")) {
			int fd = open_dir(AT_FDCWD, dir);

			if (syncfs(fd) < 0)
				die("syncfs");
			close(fd);
		} else if (!strcmp(pattern, "safe-sync")) {
			sync();
		} else if (!strcmp(pattern, "late-dir-fsync")) {
			sleep(6);
			fsync_dir(AT_FDCWD, dir);
		}
	} else if (!strcmp(pattern, "meta-after-fsync-safe") ||
		   !strcmp(pattern, "meta-after-fsync")) {
		struct timespec times[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};

		announce(dir, "a");
		write_file(dfd, "a", "old contents\n", 1);
		write_file(dfd, "a.tmp", "new contents\n", 1);
		if (fchmodat(dfd, "a.tmp", 0600, 0) < 0)
			die("chmod");
		if (utimensat(dfd, "a.tmp", times, 0) < 0)
			die("utimensat");
		if (fchownat(dfd, "a.tmp", getuid(), getgid(), 0) < 0)
			die("chown");
		if (renameat(dfd, "a.tmp", dfd, "a") < 0)
			die("rename");
		if (safe)
			fsync_dir(dfd, ".");
	} else if (!strcmp(pattern, "dsync-safe") || !strcmp(pattern, "rwf-dsync-safe")) {
		char block[4096];
		struct iovec iov = {.iov_base = block, .iov_len = sizeof(block)};
		int dsync = !strcmp(pattern, "dsync-safe");
		int fd;

		announce(dir, "a");
		write_file(dfd, "a", "old contents\n", 1);
		memset(block, 'd', sizeof(block));
		fd = openat(dfd, "a.tmp",
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (dsync ? O_DSYNC : 0), 0644);
		if (fd < 0)
			die("a.tmp");
		for (int i = 0; i < 4; i++) {
			ssize_t n =
			    dsync ? write(fd, block, sizeof(block))
				  : pwritev2(fd, &iov, 1, (off_t)i * sizeof(block), RWF_DSYNC);

			if (n != (ssize_t)sizeof(block))
				die(dsync ? "write" : "pwritev2");
		}
		close(fd);
		if (renameat(dfd, "a.tmp", dfd, "a") < 0)
			die("rename");
		fsync_dir(dfd, ".");
	} else if (!strcmp(pattern, "reuse-safe")) {
		static char victim[64 * 1024];
		int fd;

		announce(dir, "a");
		write_file(dfd, "a", "old contents\n", 1);
		memset(victim, 'v', sizeof(victim) - 1);
		write_file(dfd, "victim", victim, 0);
		if (unlinkat(dfd, "victim", 0) < 0)
			die("unlink");
		fd = openat(dfd, "a.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || close(fd) < 0)
			die("a.tmp");
		if (renameat(dfd, "a.tmp", dfd, "a") < 0)
			die("rename");
		fsync_dir(dfd, ".");
	} else if (!strcmp(pattern, "ftruncate-safe")) {
		int fd;

		announce(dir, "a");
		write_file(dfd, "a", "old contents\n", 1);
		fd = openat(dfd, "a.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || close(fd) < 0)
			die("a.tmp");
		if (renameat(dfd, "a.tmp", dfd, "a") < 0)
			die("rename");
		fsync_dir(dfd, ".");
	} else if (!strcmp(pattern, "relative") || !strcmp(pattern, "relative-safe")) {
		if (chdir(dir) < 0)
			die("chdir");
		announce(dir, "a");
		write_file(AT_FDCWD, "a", "old contents\n", 1);
		write_file(AT_FDCWD, "a.tmp", "new contents\n", safe);
		if (rename("a.tmp", "a") < 0)
			die("rename");
		if (safe)
			fsync_dir(AT_FDCWD, ".");
	} else if (!strcmp(pattern, "renameat") || !strcmp(pattern, "renameat-safe")) {
		announce(dir, "a");
		write_file(dfd, "a", "old contents\n", 1);
		write_file(dfd, "a.tmp", "new contents\n", safe);
		if (renameat(dfd, "a.tmp", dfd, "a") < 0)
			die("renameat");
		if (safe && fsync(dfd) < 0)
			die("fsync(dir)");
	} else if (!strcmp(pattern, "renameat2-noreplace") ||
		   !strcmp(pattern, "renameat2-noreplace-safe")) {
		announce(dir, "a");
		if (unlinkat(dfd, "a", 0) < 0 && errno != ENOENT)
			die("unlink");
		write_file(dfd, "a.tmp", "new contents\n", safe);
		if (syscall(SYS_renameat2, dfd, "a.tmp", dfd, "a", RENAME_NOREPLACE) < 0)
			die("renameat2");
		if (safe && fsync(dfd) < 0)
			die("fsync(dir)");
	} else if (!strcmp(pattern, "subdir") || !strcmp(pattern, "subdir-safe")) {
		if (chdir(dir) < 0)
			die("chdir");
		if (mkdir("sub", 0755) < 0 && errno != EEXIST)
			die("mkdir");
		announce(dir, "sub/a");
		write_file(AT_FDCWD, "sub/a", "old contents\n", 1);
		write_file(AT_FDCWD, "sub/a.tmp", "new contents\n", safe);
		if (rename("sub/a.tmp", "sub/a") < 0)
			die("rename");
		if (safe)
			fsync_dir(AT_FDCWD, "sub");
	} else if (!strcmp(pattern, "hostile-name")) {
		announce(dir, HOSTILE_NAME);
		write_file(dfd, "hostile.tmp", "new contents\n", 0);
		if (renameat(dfd, "hostile.tmp", dfd, HOSTILE_NAME) < 0)
			die("renameat");
	} else if (!strcmp(pattern, "hostile-json")) {
		announce(dir, HOSTILE_JSON);
		write_file(dfd, "hostile.tmp", "new contents\n", 0);
		if (renameat(dfd, "hostile.tmp", dfd, HOSTILE_JSON) < 0)
			die("renameat");
	} else if (!strcmp(pattern, "long-abs")) {
		char comp[LONG_COMPONENT + 1], full[2048], tmp[4096], target[4096];
		size_t used = (size_t)snprintf(full, sizeof(full), "%s", dir);

		for (int i = 0; i < LONG_ABS_LEVELS; i++) {
			memset(comp, 'a' + i, LONG_COMPONENT);
			comp[LONG_COMPONENT] = '\0';
			comp[0] = '0' + i % 10;
			used += (size_t)snprintf(full + used, sizeof(full) - used, "/%s", comp);
			if (used >= sizeof(full)) {
				errno = ENAMETOOLONG;
				die("DIR too long");
			}
			if (mkdir(full, 0755) < 0 && errno != EEXIST)
				die("mkdir");
		}
		announce(full, "long-target");
		if (snprintf(tmp, sizeof(tmp), "%s/long-target.tmp", full) >= (int)sizeof(tmp) ||
		    snprintf(target, sizeof(target), "%s/long-target", full) >= (int)sizeof(target))
			die("path too long");
		write_file(AT_FDCWD, tmp, "new contents\n", 0);
		if (rename(tmp, target) < 0)
			die("rename");
	} else if (!strcmp(pattern, "long-path")) {
		char comp[LONG_COMPONENT + 1], *full;
		size_t cap = strlen(dir) + LONG_LEVELS * (LONG_COMPONENT + 1) + 64, used;

		full = malloc(cap);
		if (!full)
			die("malloc");
		if (chdir(dir) < 0)
			die("chdir");
		used = (size_t)snprintf(full, cap, "%s", dir);
		for (int i = 0; i < LONG_LEVELS; i++) {
			memset(comp, 'a' + i, LONG_COMPONENT);
			comp[LONG_COMPONENT] = '\0';
			comp[0] = '0' + i % 10;
			if (mkdir(comp, 0755) < 0 && errno != EEXIST)
				die("mkdir");
			if (chdir(comp) < 0)
				die("chdir");
			used += (size_t)snprintf(full + used, cap - used, "/%s", comp);
		}
		announce(full, "long-target");
		free(full);
		write_file(AT_FDCWD, "long-target.tmp", "new contents\n", 0);
		if (rename("long-target.tmp", "long-target") < 0)
			die("rename");
	} else {
		fprintf(stderr, "durability: unknown pattern %s\n", pattern);
		return 2;
	}
	close(dfd);
	printf("done\n");
	fflush(stdout);
	return 0;
}
