// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mount table (daemon/ingest/mountinfo.c, libmount underneath): escaped names, lines
 * longer than 8 KiB, the root field of bind mounts (a path within a file system to the path
 * through a mount), lookups by id and path, the watcher's events as the table changes, and
 * the resolver turning a truncated file's path into the one the task used.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "daemon/ingest/mountinfo.h"
#include "daemon/ingest/resolve.h"
#include "daemon/util/fsnames.h"

static char table_path[] = "/tmp/ioh-test-mountinfo.XXXXXX";

static void write_table(const char *text)
{
	FILE *f = fopen(table_path, "w"); /* same inode: the watcher's descriptor sees it */

	if (!f) {
		printf("not ok - cannot write %s\n", table_path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static struct ioh_mount_table *load(const char *text)
{
	struct ioh_mount_table *t = NULL;

	write_table(text);
	CHECK_INT(ioh_mount_table_load(table_path, &t), 0);
	return t;
}

static void test_escapes(void)
{
	TEST_CASE("mountinfo escapes: \\040 space, \\011 tab, \\134 backslash; super options; "
		  "a malformed line skipped")
	{
		struct ioh_mount_table *t =
		    load("36 35 7:1 / /mnt/my\\040disk rw,relatime shared:1 - ext4 /dev/loop1 "
			 "rw,nobarrier,data=writeback,commit=60\n"
			 "99 35 7:9 / /mnt/no-separator rw ext4 /dev/loop9 rw\n" /* skipped */
			 "37 35 7:2 / /mnt/tab\\011here rw - ext4 /dev/my\\040loop rw\n"
			 "38 35 7:3 /a\\134b /mnt/back\\134slash rw - xfs /dev/loop3 rw\n");
		const struct ioh_mount_entry *m;
		uint32_t commit = 0;

		CHECK_INT(ioh_mount_table_size(t), 3);
		m = ioh_mount_table_at(t, 0);
		CHECK_STR(m->mount_point, "/mnt/my disk");
		CHECK_STR(m->fstype, "ext4");
		CHECK_STR(m->root, "/");
		CHECK_STR(m->super_opts, "rw,nobarrier,data=writeback,commit=60");
		CHECK_INT(m->mnt_id, 36);
		CHECK_INT(m->dev, ioh_kdev_make(7, 1));
		CHECK_INT(ioh_mount_hazards(m->super_opts, &commit),
			  IOH_MNT_DATA_WRITEBACK | IOH_MNT_NOBARRIER | IOH_MNT_LONG_COMMIT);
		CHECK_INT(commit, 60);
		m = ioh_mount_table_at(t, 1);
		CHECK_STR(m->mount_point, "/mnt/tab\there");
		CHECK_STR(m->source, "/dev/my loop");
		m = ioh_mount_table_at(t, 2);
		CHECK_STR(m->mount_point, "/mnt/back\\slash");
		CHECK_STR(m->root, "/a\\b");
		CHECK(ioh_mount_table_by_path(t, "/mnt/my disk/x") == ioh_mount_table_at(t, 0));
		CHECK(ioh_mount_table_by_path(t, "/mnt/my") == NULL);
		CHECK_INT(ioh_mount_hazards("rw,data=ordered,commit=5,barrier=1", NULL), 0);
		CHECK_INT(ioh_mount_hazards("rw,barrier=0,journal_async_commit", NULL),
			  IOH_MNT_NOBARRIER | IOH_MNT_JOURNAL_ASYNC_COMMIT);
		ioh_mount_table_free(t);
	}
}

static void test_long_line(void)
{
	TEST_CASE("a line over 8 KiB is one mount, and the next line is intact")
	{
		size_t n = 12000, used;
		char *text = malloc(n + 512);
		struct ioh_mount_table *t;
		const struct ioh_mount_entry *m;

		/* overlay with many layers: the super options alone pass 8 KiB */
		used = (size_t)sprintf(text, "40 35 0:50 / /var/lib/c/merged rw - overlay overlay "
					     "rw,lowerdir=");
		while (used < n)
			used += (size_t)sprintf(text + used, "/var/lib/c/l/%06zu:", used);
		used += (size_t)sprintf(text + used, "/x,upperdir=/u,workdir=/w\n"
						     "41 35 7:4 / /mnt/after rw - ext4 /dev/loop4 "
						     "rw,data=writeback\n");
		t = load(text);
		CHECK_INT(ioh_mount_table_size(t), 2);
		m = ioh_mount_table_by_id(t, 40);
		CHECK(m && strlen(m->super_opts) > 8192);
		CHECK(m && strstr(m->super_opts, ",workdir=/w") != NULL);
		m = ioh_mount_table_by_id(t, 41);
		CHECK(m && strcmp(m->mount_point, "/mnt/after") == 0);
		CHECK(m && strcmp(m->super_opts, "rw,data=writeback") == 0);
		ioh_mount_table_free(t);
		free(text);
	}
}

static void test_bind_root(void)
{
	TEST_CASE("bind mount of a subdirectory: a path within the file system through it")
	{
		struct ioh_mount_table *t =
		    load("20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
			 "50 20 7:5 / /mnt/wb rw - ext4 /dev/loop5 rw,data=writeback\n"
			 "51 20 7:5 /sub /srv/b\\040x rw - ext4 /dev/loop5 rw,data=writeback\n"
			 "52 20 7:5 / /a rw - ext4 /dev/loop5 rw,data=writeback\n");
		char out[256];

		CHECK_INT(ioh_mount_table_path(t, ioh_kdev_make(7, 5), "/sub/f", out, sizeof(out)),
			  0);
		CHECK_STR(out, "/srv/b x/f");
		CHECK_INT(ioh_mount_table_path(t, ioh_kdev_make(7, 5), "/sub", out, sizeof(out)),
			  0);
		CHECK_STR(out, "/srv/b x");
		/* not under the bind's root ("/subway" is not "/sub"): the shortest whole mount */
		CHECK_INT(
		    ioh_mount_table_path(t, ioh_kdev_make(7, 5), "/subway/f", out, sizeof(out)), 0);
		CHECK_STR(out, "/a/subway/f");
		CHECK_INT(ioh_mount_table_path(t, ioh_kdev_make(8, 1), "/etc/x", out, sizeof(out)),
			  0);
		CHECK_STR(out, "/etc/x");
		CHECK_INT(ioh_mount_table_path(t, ioh_kdev_make(8, 2), "/etc/x", out, sizeof(out)),
			  -ENOENT);
		CHECK_INT(ioh_mount_table_path(t, ioh_kdev_make(7, 5), "/sub/f", out, 8),
			  -ENAMETOOLONG);
		ioh_mount_table_free(t);
	}
	TEST_CASE("only the bind mount: what is outside its root is not reachable")
	{
		struct ioh_mount_table *t =
		    load("51 20 7:5 /sub /srv/b rw - ext4 /dev/loop5 rw,data=writeback\n");
		char out[256];

		CHECK_INT(
		    ioh_mount_table_path(t, ioh_kdev_make(7, 5), "/sub/d/f", out, sizeof(out)), 0);
		CHECK_STR(out, "/srv/b/d/f");
		CHECK_INT(ioh_mount_table_path(t, ioh_kdev_make(7, 5), "/other", out, sizeof(out)),
			  -ENOENT);
		ioh_mount_table_free(t);
	}
	TEST_CASE("by id; by path: the longest mount point, the later of stacked mounts")
	{
		struct ioh_mount_table *t = load("20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
						 "30 20 0:40 / /mnt rw - tmpfs none rw\n"
						 "31 30 0:41 / /mnt/f rw - fuse.sshfs h:/ rw\n"
						 "32 30 0:42 / /mnt/f rw - nfs4 h:/ rw\n");

		CHECK_STR(ioh_mount_table_by_path(t, "/mnt/f/x")->fstype, "nfs4");
		CHECK_STR(ioh_mount_table_by_path(t, "/mnt/fx")->fstype, "tmpfs");
		CHECK_STR(ioh_mount_table_by_path(t, "/etc")->fstype, "ext4");
		CHECK_STR(ioh_mount_table_by_id(t, 31)->fstype, "fuse.sshfs");
		CHECK(ioh_mount_table_by_id(t, 33) == NULL);
		CHECK_STR(ioh_mount_table_by_fstype(t, "tmpfs")->mount_point, "/mnt");
		ioh_mount_table_free(t);
	}
}

struct seen {
	int n;
	uint64_t mnt_id[8];
	uint32_t flags[8];
	char mount_point[8][64];
};

static void on_mount(const struct ioh_event *ev, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->mnt_id[s->n] = ev->mount.mnt_id;
		s->flags[s->n] = ev->mount.flags;
		snprintf(s->mount_point[s->n], sizeof(s->mount_point[0]), "%s",
			 ev->mount.mount_point);
	}
	s->n++;
}

static void test_watch(void)
{
	TEST_CASE("watcher: hazardous mounts reported once; fixed, moved, gone")
	{
		struct ioh_mount_watch *w;
		struct seen s = {0};
		const char *base = "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
				   "30 20 0:40 / /run rw - tmpfs none rw,data=writeback\n";
		char text[1024];

		write_table(base);
		CHECK_INT(ioh_mount_watch_new(table_path, &w), 0);
		CHECK_INT(ioh_mount_watch_scan(w, 1, on_mount, &s), 0); /* tmpfs: not persistent */
		snprintf(text, sizeof(text),
			 "%s50 20 7:5 / /mnt/w\\040b rw - ext4 /dev/loop5 rw,data=writeback\n",
			 base);
		write_table(text);
		CHECK_INT(ioh_mount_watch_scan(w, 2, on_mount, &s), 1);
		CHECK_INT(s.flags[0], IOH_MNT_DATA_WRITEBACK);
		CHECK_STR(s.mount_point[0], "/mnt/w b");
		CHECK_INT(ioh_mount_watch_scan(w, 3, on_mount, &s), 0); /* unchanged: no news */
		snprintf(text, sizeof(text),
			 "%s50 20 7:5 / /mnt/w\\040b rw - ext4 /dev/loop5 rw,data=writeback,"
			 "commit=60\n",
			 base);
		write_table(text);
		CHECK_INT(ioh_mount_watch_scan(w, 4, on_mount, &s), 1);
		CHECK_INT(s.flags[1], IOH_MNT_DATA_WRITEBACK | IOH_MNT_LONG_COMMIT);
		snprintf(text, sizeof(text), "%s50 20 7:5 / /mnt/w\\040b rw - ext4 /dev/loop5 rw\n",
			 base);
		write_table(text);
		CHECK_INT(ioh_mount_watch_scan(w, 5, on_mount, &s), 1);
		CHECK_INT(s.flags[2], 0); /* fixed */
		CHECK_INT(ioh_mount_watch_scan(w, 6, on_mount, &s), 0);
		snprintf(text, sizeof(text),
			 "%s51 20 7:5 / /mnt/a rw - ext4 /dev/loop5 rw,data=writeback\n", base);
		write_table(text);
		CHECK_INT(ioh_mount_watch_scan(w, 7, on_mount, &s), 1);
		snprintf(text, sizeof(text),
			 "%s51 20 7:5 / /mnt/moved rw - ext4 /dev/loop5 rw,data=writeback\n", base);
		write_table(text);
		CHECK_INT(ioh_mount_watch_scan(w, 8, on_mount, &s), 2); /* mount --move */
		CHECK_INT(s.flags[4], IOH_MNT_GONE);			/* the gone first */
		CHECK_STR(s.mount_point[4], "/mnt/a");
		CHECK_STR(s.mount_point[5], "/mnt/moved");
		CHECK_INT(s.flags[5], IOH_MNT_DATA_WRITEBACK);
		write_table(base);
		CHECK_INT(ioh_mount_watch_scan(w, 9, on_mount, &s), 1);
		CHECK_INT(s.flags[6], IOH_MNT_GONE);
		CHECK_INT(s.mnt_id[6], 51);
		ioh_mount_watch_free(w);
	}
	TEST_CASE("watcher: a bind mount goes; the device's other mount is reported again")
	{
		struct ioh_mount_watch *w;
		struct seen s = {0};
		const char *both = "50 20 7:5 / /mnt/wb rw - ext4 /dev/loop5 rw,data=writeback\n"
				   "51 20 7:5 /sub /srv/b rw - ext4 /dev/loop5 rw,data=writeback\n"
				   "52 20 7:6 / /mnt/o rw - ext4 /dev/loop6 rw,data=writeback\n";

		write_table(both);
		CHECK_INT(ioh_mount_watch_new(table_path, &w), 0);
		CHECK_INT(ioh_mount_watch_scan(w, 1, on_mount, &s), 3);
		write_table("50 20 7:5 / /mnt/wb rw - ext4 /dev/loop5 rw,data=writeback\n"
			    "52 20 7:6 / /mnt/o rw - ext4 /dev/loop6 rw,data=writeback\n");
		CHECK_INT(ioh_mount_watch_scan(w, 2, on_mount, &s), 2); /* 7:6 is not repeated */
		CHECK_INT(s.flags[3], IOH_MNT_GONE);
		CHECK_STR(s.mount_point[3], "/srv/b");
		CHECK_INT(s.flags[4], IOH_MNT_DATA_WRITEBACK);
		CHECK_STR(s.mount_point[4], "/mnt/wb");
		CHECK_INT(ioh_mount_watch_scan(w, 3, on_mount, &s), 0);
		ioh_mount_watch_free(w);
	}
}

static void test_resolver_truncate(void)
{
	TEST_CASE("resolver: a truncated file's path through the task's mount")
	{
		struct ioh_resolver *r = ioh_resolver_new("/nonexistent");
		struct ioh_mount_table *t = NULL;
		struct ioh_decode_scratch *scratch = calloc(1, sizeof(*scratch));
		const struct ioh_mount_entry *root;
		struct ioh_event ev = {0};
		char want[4096];

		CHECK_INT(ioh_mount_table_load("/proc/self/mountinfo", &t), 0);
		root = ioh_mount_table_by_path(t, "/");
		CHECK(root != NULL);
		if (root && r && scratch) {
			ev.type = IOH_EV_TRUNCATE;
			ev.pid = (uint32_t)getpid();
			ev.truncate.file.dev = root->dev;
			ev.truncate.path = "/x/y";
			CHECK_INT(ioh_mount_table_path(t, root->dev, "/x/y", want, sizeof(want)),
				  0);
			ioh_resolver_enrich(r, &ev, scratch);
			CHECK(ev.flags & IOH_EVF_PATH_MOUNTED);
			CHECK_STR(ev.truncate.path, want);
			/* a cut path stays within its file system */
			memset(&ev.flags, 0, sizeof(ev.flags));
			ev.truncate.path = "\xe2\x80\xa6/y";
			ioh_resolver_enrich(r, &ev, scratch);
			CHECK(!(ev.flags & IOH_EVF_PATH_MOUNTED));
			CHECK_STR(ev.truncate.path, "\xe2\x80\xa6/y");
			/* a device no mount shows */
			ev.truncate.file.dev = ioh_kdev_make(4095, 4095);
			ev.truncate.path = "/x/y";
			ioh_resolver_enrich(r, &ev, scratch);
			CHECK(!(ev.flags & IOH_EVF_PATH_MOUNTED));
			CHECK_STR(ev.truncate.path, "/x/y");
		}
		ioh_mount_table_free(t);
		ioh_resolver_free(r);
		free(scratch);
	}
}

/* In a private mount namespace of a child: 0 when a mount made after the resolver read the
 * table is found by id without being told (POLLPRI on its mountinfo); 77 when mounting is not
 * possible here; 1 otherwise. */
static int new_mount_child(void)
{
	char dir[] = "/tmp/ioh-test-mnt.XXXXXX";
	struct ioh_resolver *r;
	struct statx stx;
	const char *fstype = NULL;
	int err;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    !mkdtemp(dir))
		return 77;
	r = ioh_resolver_new("/nonexistent");
	if (!r || statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &stx) < 0 ||
	    ioh_resolver_mount_fstype(r, stx.stx_mnt_id, &fstype) < 0) /* reads the table */
		return 1;
	if (mount("none", dir, "tmpfs", 0, NULL) < 0) {
		rmdir(dir);
		return 77;
	}
	err = statx(AT_FDCWD, dir, 0, STATX_MNT_ID, &stx) < 0 ||
	      ioh_resolver_mount_fstype(r, stx.stx_mnt_id, &fstype) < 0 ||
	      strcmp(fstype, "tmpfs") != 0;
	umount(dir);
	rmdir(dir);
	ioh_resolver_free(r);
	return err;
}

static void test_resolver_sees_new_mounts(void)
{
	TEST_CASE("resolver: a mount made after it read the table is found by its id")
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0)
			_exit(new_mount_child());
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
		if (WEXITSTATUS(status) == 77)
			printf("ok - %s # SKIP cannot mount here\n", check_case);
		else
			CHECK_INT(WEXITSTATUS(status), 0);
	}
}

int main(void)
{
	int fd = mkstemp(table_path);

	if (fd < 0) {
		printf("not ok - mkstemp\n");
		return 1;
	}
	close(fd);
	test_escapes();
	test_long_line();
	test_bind_root();
	test_watch();
	test_resolver_truncate();
	test_resolver_sees_new_mounts();
	unlink(table_path);
	return check_summary();
}
