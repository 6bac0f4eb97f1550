// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuse_hold MOUNTPOINT READYFILE: a FUSE file system on raw /dev/fuse (no libfuse) whose
 * root holds one regular file, "a". It answers INIT, GETATTR, LOOKUP of "a", RENAME and the
 * calls a rename needs; a LOOKUP of any name after the first RENAME is never answered: the
 * caller sleeps in the kernel until this process exits. Tests use it to check that nothing
 * the daemon does waits on a file system.
 *
 * Mounted with mount(2) as "fuse" (fd=N,rootmode=40000,user_id=0,group_id=0); entries and
 * attributes of "a"/"b" are valid for 0 s so every later stat asks again. Writes its pid to
 * READYFILE once mounted, then serves until SIGTERM or the mount goes. Prints one line per
 * held LOOKUP on stdout ("held LOOKUP NAME"), so a test knows a caller is stuck.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT_INO FUSE_ROOT_ID
#define FILE_INO 2

static int fuse_fd;
static int renamed; /* after the first RENAME every LOOKUP is held */
static char file_name[256] = "a";

static void reply(uint64_t unique, int error, const void *data, size_t len)
{
	char buf[sizeof(struct fuse_out_header) + 4096];
	struct fuse_out_header *out = (void *)buf;

	out->len = (uint32_t)(sizeof(*out) + len);
	out->error = error;
	out->unique = unique;
	if (len)
		memcpy(buf + sizeof(*out), data, len);
	if (write(fuse_fd, buf, out->len) < 0 && errno != ENOENT)
		perror("fuse_hold: write");
}

static void fill_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == ROOT_INO ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->nlink = ino == ROOT_INO ? 2 : 1;
	a->blksize = 4096;
}

static void reply_entry(uint64_t unique, uint64_t ino)
{
	struct fuse_entry_out e;

	memset(&e, 0, sizeof(e));
	e.nodeid = ino;
	fill_attr(&e.attr, ino);
	reply(unique, 0, &e, sizeof(e));
}

int main(int argc, char **argv)
{
	static char buf[1 << 20 | 4096];
	char opts[128];
	FILE *ready;

	if (argc != 3) {
		fprintf(stderr, "usage: fuse_hold MOUNTPOINT READYFILE\n");
		return 2;
	}
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0) {
		perror("fuse_hold: /dev/fuse");
		return 77;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fuse_fd);
	if (mount("fuse_hold", argv[1], "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
		perror("fuse_hold: mount");
		return 77;
	}
	ready = fopen(argv[2], "w");
	if (ready) {
		fprintf(ready, "%d\n", getpid());
		fclose(ready);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		ssize_t n = read(fuse_fd, buf, sizeof(buf));
		struct fuse_in_header *in = (void *)buf;
		const char *arg = buf + sizeof(*in);

		if (n < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue; /* ENOENT: a request was interrupted */
			if (errno == ENODEV)
				return 0; /* unmounted */
			perror("fuse_hold: read");
			return 1;
		}
		if ((size_t)n < sizeof(*in))
			continue;
		switch (in->opcode) {
		case FUSE_INIT: {
			const struct fuse_init_in *ii = (const void *)arg;
			struct fuse_init_out io;

			memset(&io, 0, sizeof(io));
			io.major = FUSE_KERNEL_VERSION;
			io.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION
				       ? ii->minor
				       : FUSE_KERNEL_MINOR_VERSION;
			io.max_readahead = ii->max_readahead;
			io.max_write = 4096;
			reply(in->unique, 0, &io, sizeof(io));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out ao;

			memset(&ao, 0, sizeof(ao));
			fill_attr(&ao.attr, in->nodeid);
			/* The root's attributes stay valid: stat of the directory never waits. */
			ao.attr_valid = in->nodeid == ROOT_INO ? 3600 : 0;
			reply(in->unique, 0, &ao, sizeof(ao));
			break;
		}
		case FUSE_LOOKUP:
			if (renamed) {
				printf("held LOOKUP %s\n", arg);
				break; /* never answered */
			}
			if (in->nodeid == ROOT_INO && strcmp(arg, file_name) == 0)
				reply_entry(in->unique, FILE_INO);
			else
				reply(in->unique, -ENOENT, NULL, 0);
			break;
		case FUSE_RENAME:
		case FUSE_RENAME2: {
			/* old dir's nodeid in the header, then (rename2: flags) newdir, old, new */
			size_t skip = in->opcode == FUSE_RENAME ? sizeof(struct fuse_rename_in)
								: sizeof(struct fuse_rename2_in);
			const char *old_name = arg + skip;
			const char *new_name = old_name + strlen(old_name) + 1;

			snprintf(file_name, sizeof(file_name), "%s", new_name);
			renamed = 1;
			reply(in->unique, 0, NULL, 0);
			break;
		}
		case FUSE_OPENDIR:
		case FUSE_OPEN: {
			struct fuse_open_out oo;

			memset(&oo, 0, sizeof(oo));
			reply(in->unique, 0, &oo, sizeof(oo));
			break;
		}
		case FUSE_RELEASE:
		case FUSE_RELEASEDIR:
		case FUSE_FLUSH:
		case FUSE_FSYNC:
		case FUSE_FSYNCDIR:
			reply(in->unique, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break; /* no reply */
		case FUSE_DESTROY:
			reply(in->unique, 0, NULL, 0);
			return 0;
		default:
			reply(in->unique, -ENOSYS, NULL, 0);
			break;
		}
	}
}
