// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmprobe: can this kernel attach a given BPF program type? Used by tests/vm/test_vm_boot.sh
 * inside the 6.1 VM (expect every type to work) and on the 6.18 host (expect fentry to fail with
 * EPERM).
 *
 * Usage: vmprobe fentry|fexit|kprobe|tp_btf
 * Prints one line:  "attach <type>: ok fired=<n> name=<s>"
 *              or   "attach <type>: FAIL stage=<open|load|attach|fire> errno=<n> (<name>)"
 * Exit status: 0 attached and fired with the right data; 1 open/load failed; 2 attach failed;
 * 3 attached but did not fire (or read a wrong name); 64 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "vmprobe.skel.h"

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own diagnostics go to stderr, prefixed so they never look like TAP lines. */
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("# ", stderr); /* libbpf already says "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

static const char *errname(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case ENOTSUP:
		return "EOPNOTSUPP";
	case ESRCH:
		return "ESRCH";
	case E2BIG:
		return "E2BIG";
	case EACCES:
		return "EACCES";
	default:
		return strerror(e);
	}
}

static int fail(const char *type, const char *stage, int err)
{
	if (err < 0)
		err = -err;
	printf("attach %s: FAIL stage=%s errno=%d (%s)\n", type, stage, err, errname(err));
	return strcmp(stage, "attach") == 0 ? 2 : strcmp(stage, "fire") == 0 ? 3 : 1;
}

/* Rename vmprobe-a to vmprobe-b in a fresh temporary directory. */
static int do_rename(void)
{
	char dir[] = "/tmp/vmprobe.XXXXXX", a[64], b[64];
	int fd;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(a, sizeof(a), "%s/vmprobe-a", dir);
	snprintf(b, sizeof(b), "%s/vmprobe-b", dir);
	fd = open(a, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	if (rename(a, b) < 0)
		return -errno;
	unlink(b);
	rmdir(dir);
	return 0;
}

int main(int argc, char **argv)
{
	struct vmprobe_bpf *skel;
	struct bpf_program *prog, *p;
	struct bpf_link *link;
	const char *type, *want;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: vmprobe fentry|fexit|kprobe|tp_btf\n");
		return 64;
	}
	type = argv[1];
	libbpf_set_print(quiet_print);

	skel = vmprobe_bpf__open();
	if (!skel)
		return fail(type, "open", errno);
	if (!strcmp(type, "fentry"))
		prog = skel->progs.fentry_rename;
	else if (!strcmp(type, "fexit"))
		prog = skel->progs.fexit_rename;
	else if (!strcmp(type, "kprobe"))
		prog = skel->progs.kprobe_rename;
	else if (!strcmp(type, "tp_btf"))
		prog = skel->progs.tp_sys_enter;
	else {
		fprintf(stderr, "vmprobe: unknown type %s\n", type);
		return 64;
	}
	/* Load only the program under test, so one unsupported type cannot fail the others. */
	bpf_object__for_each_program(p, skel->obj) bpf_program__set_autoload(p, p == prog);
	skel->rodata->target_tgid = getpid();

	err = vmprobe_bpf__load(skel);
	if (err)
		return fail(type, "load", err);
	link = bpf_program__attach(prog);
	if (!link)
		return fail(type, "attach", errno);

	err = do_rename();
	if (err)
		return fail(type, "fire", err);
	bpf_link__destroy(link);

	/* fexit runs after d_move(): the dentry already carries the new name. */
	want = !strcmp(type, "tp_btf") ? "s" : !strcmp(type, "fexit") ? "vmprobe-b" : "vmprobe-a";
	if (skel->bss->hits == 0 || strcmp(skel->bss->name, want) != 0) {
		printf("attach %s: FAIL stage=fire hits=%llu name=\"%s\" (want \"%s\")\n", type,
		       (unsigned long long)skel->bss->hits, skel->bss->name, want);
		vmprobe_bpf__destroy(skel);
		return 3;
	}
	printf("attach %s: ok fired=%llu name=%s\n", type, (unsigned long long)skel->bss->hits,
	       skel->bss->name);
	vmprobe_bpf__destroy(skel);
	return 0;
}
