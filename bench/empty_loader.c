// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attach every program of a BPF object and hold them until SIGTERM/SIGINT or stdin EOF.
 *
 *   empty_loader OBJECT
 *
 * bpftool 7.1 (Debian 12) has no `prog loadall ... autoattach`, and pinning links in bpffs
 * would outlive a crashed benchmark; a process owning the links cannot leak them. Prints
 * "prog_id=<id> name=<name>" per program, then "ready", so bench/run.sh knows which ids to
 * read from `bpftool prog show`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[16];
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned n = 0;
	int r = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: empty_loader OBJECT\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "empty_loader: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "empty_loader: load %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (n == sizeof(links) / sizeof(links[0]))
			break;
		links[n] = bpf_program__attach(prog);
		if (!links[n]) {
			fprintf(stderr, "empty_loader: attach %s: %s\n", bpf_program__name(prog),
				strerror(errno));
			goto out;
		}
		n++;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			printf("prog_id=%u name=%s\n", info.id, bpf_program__name(prog));
	}
	printf("ready\n");
	fflush(stdout);

	/* stdin EOF also stops us: the benchmark dying closes the pipe. */
	while (!stop) {
		char c;
		ssize_t got = read(STDIN_FILENO, &c, 1);

		if (got == 0 || (got < 0 && errno != EINTR))
			break;
	}
	r = 0;
out:
	while (n)
		bpf_link__destroy(links[--n]);
	bpf_object__close(obj);
	return r;
}
