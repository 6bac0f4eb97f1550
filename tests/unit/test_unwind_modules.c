// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioh_stack_modules_read(): the executable mappings of a live task, their build ids (checked
 * against readelf's) and load bias (checked against nm's address of a function), a deleted
 * mapped file, an exited task, and the build-id cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/stacks/stack.h"
#include "tests/unit/check.h"

#define MAX_MODS 256

/* The build id readelf prints for `path` ("" if none): an independent reading of the note. */
static void readelf_build_id(const char *path, char *out, size_t len)
{
	char cmd[4200];
	FILE *p;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null | sed -n 's/.*Build ID: *//p'",
		 path);
	p = popen(cmd, "r");
	if (!p)
		return;
	if (fgets(out, (int)len, p))
		out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/* nm's address of `sym` in `path`, 0 if none. */
static uint64_t nm_address(const char *path, const char *sym)
{
	char cmd[4200], line[256];
	unsigned long long a = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm '%s' 2>/dev/null | awk '$3 == \"%s\" { print $1 }'", path,
		 sym);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (fgets(line, sizeof(line), p))
		a = strtoull(line, NULL, 16);
	pclose(p);
	return a;
}

static const struct ioh_stack_module *module_at(const struct ioh_stack_module *m, int n,
						uint64_t addr)
{
	for (int i = 0; i < n; i++)
		if (addr >= m[i].start && addr < m[i].end)
			return &m[i];
	return NULL;
}

int main(void)
{
	static struct ioh_stack_module mods[MAX_MODS];
	char *strings = NULL;
	char exe[4096], hex[2 * IOH_STACK_BUILD_ID_MAX + 1], want[128];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[el > 0 ? el : 0] = '\0';

	TEST_CASE("self")
	{
		int n = ioh_stack_modules_read(getpid(), mods, MAX_MODS, &strings);
		CHECK(n >= 2); /* this program and libc at least */
		const struct ioh_stack_module *me = module_at(mods, n, (uint64_t)(uintptr_t)main);
		CHECK(me != NULL);
		if (me) {
			CHECK_STR(me->path, exe);
			struct stat sb;
			CHECK(stat(exe, &sb) == 0);
			CHECK_INT(me->ino, sb.st_ino);
			ioh_stack_build_id_hex(me->build_id, me->build_id_len, hex);
			readelf_build_id(exe, want, sizeof(want));
			CHECK(want[0] != '\0');
			CHECK_STR(hex, want);
			CHECK(me->vaddr_known);
			/* load bias = start - vaddr; main's runtime address - bias = nm's address
			 */
			uint64_t bias = me->start - me->vaddr;
			CHECK_INT((uint64_t)(uintptr_t)main - bias, nm_address(exe, "main"));
		}
		const struct ioh_stack_module *libc =
		    module_at(mods, n, (uint64_t)(uintptr_t)rename);
		CHECK(libc != NULL);
		if (libc) {
			CHECK(strstr(libc->path, "libc") != NULL);
			CHECK(libc->build_id_len == 20);
			ioh_stack_build_id_hex(libc->build_id, libc->build_id_len, hex);
			readelf_build_id(libc->path, want, sizeof(want));
			CHECK_STR(hex, want);
		}
		for (int i = 0; i < n; i++)
			CHECK(mods[i].path[0] == '/');
		free(strings);
	}

	TEST_CASE("cache")
	{
		struct ioh_stack_modules_stats a, b;
		ioh_stack_modules_stats(&a);
		int n = ioh_stack_modules_read(getpid(), mods, MAX_MODS, &strings);
		free(strings);
		ioh_stack_modules_stats(&b);
		CHECK(n > 0);
		CHECK_INT(b.lookups - a.lookups, n);
		CHECK_INT(b.hits - a.hits, n); /* every file was seen in "self" */
	}

	TEST_CASE("max")
	{
		int n = ioh_stack_modules_read(getpid(), mods, 1, &strings);
		CHECK_INT(n, 1);
		free(strings);
	}

	TEST_CASE("deleted mapped file")
	{
		char tmp[] = "/tmp/ioh-unwind-mod-XXXXXX";
		char cmd[4300];
		int fd = mkstemp(tmp);
		CHECK(fd >= 0);
		snprintf(cmd, sizeof(cmd), "cat '%s' > '%s'", exe, tmp);
		CHECK(system(cmd) == 0);
		struct stat sb;
		fstat(fd, &sb);
		void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
		CHECK(p != MAP_FAILED);
		close(fd);
		unlink(tmp);
		int n = ioh_stack_modules_read(getpid(), mods, MAX_MODS, &strings);
		const struct ioh_stack_module *m = module_at(mods, n, (uint64_t)(uintptr_t)p);
		CHECK(m != NULL);
		if (m) {
			CHECK_STR(m->path, tmp); /* " (deleted)" stripped */
			CHECK_INT(m->ino, sb.st_ino);
			ioh_stack_build_id_hex(m->build_id, m->build_id_len, hex);
			readelf_build_id(exe, want, sizeof(want));
			CHECK_STR(hex, want); /* read through map_files: the file is gone */
			CHECK(m->vaddr_known);
			CHECK_INT(m->vaddr, 0);
		}
		free(strings);
		if (p != MAP_FAILED)
			munmap(p, (size_t)sb.st_size);
	}

	TEST_CASE("file rewritten in place: the cached build id is not reused")
	{
		char tmp[] = "/tmp/ioh-unwind-mod-XXXXXX";
		char cmd[4300];
		const char *other = "/bin/true";
		int fd = mkstemp(tmp);
		struct stat sb;
		CHECK(fd >= 0);
		for (int round = 0; round < 2; round++) {
			/* same inode, other content: `cat >` truncates and rewrites */
			snprintf(cmd, sizeof(cmd), "cat '%s' > '%s'", round ? other : exe, tmp);
			CHECK(system(cmd) == 0);
			fstat(fd, &sb);
			void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE,
				       fd, 0);
			CHECK(p != MAP_FAILED);
			int n = ioh_stack_modules_read(getpid(), mods, MAX_MODS, &strings);
			const struct ioh_stack_module *m =
			    module_at(mods, n, (uint64_t)(uintptr_t)p);
			CHECK(m != NULL);
			if (m) {
				ioh_stack_build_id_hex(m->build_id, m->build_id_len, hex);
				readelf_build_id(round ? other : exe, want, sizeof(want));
				CHECK_STR(hex, want);
			}
			free(strings);
			if (p != MAP_FAILED)
				munmap(p, (size_t)sb.st_size);
		}
		close(fd);
		unlink(tmp);
	}

	TEST_CASE("exited task")
	{
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		waitpid(c, NULL, 0);
		strings = (char *)1;
		CHECK_INT(ioh_stack_modules_read(c, mods, MAX_MODS, &strings), -ESRCH);
		CHECK(strings == NULL);
	}

	return check_summary();
}
