// SPDX-License-Identifier: GPL-2.0-only
/*
 * Call chain workload (issue 15, tests/e2e/test_stacks.sh): save_config() writes a file and
 * renames it over the target without any fsync, called from apply_settings(), called from
 * main(). The test builds it -O2 without frame pointers and with -g, the same stripped, and
 * with -fno-omit-frame-pointer, and expects the finding's chain to name save_config at the
 * line marked STACK_APP_RENAME_LINE and apply_settings as its caller.
 *
 *   stack_app DIR   writes DIR/config.json via DIR/config.json.tmp, then waits for stdin EOF
 *                   (the test closes it once the daemon has seen the STACK record; a finding
 *                   of a live process resolves through /proc/PID/maps).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The stripped variant is built with another value: its own build id, so no copy with
 * symbols can stand in for it. */
#ifndef STACK_APP_VARIANT
#define STACK_APP_VARIANT "debug"
#endif

static volatile int generation; /* keeps the calls from being folded away */

__attribute__((noinline, noclone)) static int save_config(const char *dir, const char *text)
{
	char tmp[4096], dst[4096]; /* two PATH_MAX buffers: 8 KiB of stack below the caller */
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s/config.json.tmp", dir);
	snprintf(dst, sizeof(dst), "%s/config.json", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	r = rename(tmp, dst); /* STACK_APP_RENAME_LINE: no fsync of the file, nor of the dir */
	generation++;
	return r;
}

__attribute__((noinline, noclone)) static int apply_settings(const char *dir, int level)
{
	char text[64];
	int r;

	snprintf(text, sizeof(text), "{\"level\": %d}\n", level);
	r = save_config(dir, text);
	generation += r; /* after the call: no tail call, so this frame stays on the stack */
	return r;
}

int main(int argc, char **argv)
{
	char buf[64];
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: stack_app DIR (%s build)\n", STACK_APP_VARIANT);
		return 2;
	}
	r = apply_settings(argv[1], 3);
	if (r != 0) {
		perror("rename");
		return 1;
	}
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return generation == 1 ? 0 : 1;
}
