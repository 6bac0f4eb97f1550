// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpora of the decode and eventlog fuzzers: well-formed kernel records of
 * every type (the shapes tests/unit/test_decode.c builds) and one recorded payload per event
 * type. Seeds let libFuzzer start from valid structure instead of guessing packed layouts.
 * Kernel records are written in ABI 2's packed form: exactly hdr.size bytes each.
 * Regenerate after an ABI or format change, from the repo root:
 *   gcc -std=gnu11 -D_GNU_SOURCE -I. -Ibpf tests/fuzz/gen_corpus.c daemon/record/eventlog.c \
 *       -lz -o /tmp/gen_corpus && \
 *   /tmp/gen_corpus tests/fuzz/corpus/decode tests/fuzz/corpus/eventlog
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/record/eventlog.h"

/* Room for the worst case; a record is only its first hdr.size bytes (ABI 2: packed). */
struct rename_rec {
	struct ioh_rename_event ev;
	char strings[IOH_RENAME_STRINGS_MAX];
};

/* Records with one trailing leaf-first path: access, splice, truncate. */
struct access_rec {
	struct ioh_access_event ev;
	char path[IOH_DIR_PATH_REGION];
};

struct splice_rec {
	struct ioh_splice_event ev;
	char path[IOH_DIR_PATH_REGION];
};

struct truncate_rec {
	struct ioh_truncate_event ev;
	char path[IOH_DIR_PATH_REGION];
};

/* A call chain snapshot: registers, stack bytes, the two hint paths (ABI 4). */
struct stack_rec {
	struct ioh_stack_event ev;
	char data[256 + 64];
};

/* "c.json" in /srv/app, leaf first. */
static const char c_json_path[] = "c.json\0app\0srv";

static void write_seed(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void hdr(struct ioh_event_hdr *h, uint16_t type, size_t size, uint64_t ts, uint32_t pid)
{
	h->type = type;
	h->size = (uint16_t)size;
	h->pid = pid;
	h->tid = pid;
	h->ts_ns = ts;
	h->cgroup_id = 1;
	memcpy(h->comm, "seed", 5);
}

static struct ioh_file_id fid(uint64_t ino, uint32_t mode)
{
	return (struct ioh_file_id){
	    .dev = 254u << 20, .mode = mode, .ino = ino, .fs_magic = 0xEF53};
}

/* Builds a packed rename record; returns its size (hdr.size). */
static size_t rename_rec(struct rename_rec *r, uint64_t ts, const char *base_leaf_first,
			 size_t base_len, uint16_t ncomp, const char *old_name,
			 const char *new_name, uint32_t identity, uint32_t flags)
{
	size_t off;

	memset(r, 0, sizeof(*r));
	hdr(&r->ev.hdr, IOH_EV_RENAME, sizeof(r->ev), ts, 1000);
	r->ev.hdr.flags = flags;
	r->ev.dfd = -100;
	r->ev.identity = identity;
	if (identity == IOH_ID_KERNEL) {
		r->ev.src = fid(100, S_IFREG | 0644);
		r->ev.dst_dir = fid(10, S_IFDIR | 0755);
	}
	if (base_len) {
		memcpy(r->strings, base_leaf_first, base_len);
		r->ev.base_path_len = (uint16_t)base_len;
		r->ev.base_components = ncomp;
		r->ev.base_dir = fid(10, S_IFDIR | 0755);
	}
	off = base_len;
	strcpy(r->strings + off, old_name);
	r->ev.old_name_len = (uint16_t)(strlen(old_name) + 1);
	off += r->ev.old_name_len;
	strcpy(r->strings + off, new_name);
	r->ev.new_name_len = (uint16_t)(strlen(new_name) + 1);
	off += r->ev.new_name_len;
	r->ev.hdr.size = (uint16_t)(sizeof(r->ev) + off);
	return r->ev.hdr.size;
}

static void sync_rec(struct ioh_sync_event *s, uint64_t ts, uint32_t kind, uint64_t ino,
		     uint32_t mode)
{
	memset(s, 0, sizeof(*s));
	hdr(&s->hdr, IOH_EV_SYNC, sizeof(*s), ts, 1000);
	s->kind = kind;
	s->fd = 3;
	s->file = fid(ino, mode);
	s->duration_ns = 1000;
}

static void inode_rec(struct ioh_inode_event *in, uint16_t type, uint64_t ts)
{
	memset(in, 0, sizeof(*in));
	hdr(&in->hdr, type, sizeof(*in), ts, 1000);
	in->file = fid(100, S_IFREG | 0644);
	in->dirtied_ns = ts;
}

/* The path-carrying records: sizeof(struct) + path_len bytes. */
static void path_seeds(const char *dir)
{
	static struct access_rec a;
	static struct splice_rec sp;
	static struct truncate_rec t;
	const uint16_t plen = sizeof(c_json_path);

	memset(&a, 0, sizeof(a));
	hdr(&a.ev.hdr, IOH_EV_ACCESS_MODE, sizeof(a.ev) + plen, 5000, 1000);
	a.ev.file = fid(100, S_IFREG | 0644);
	a.ev.kind = IOH_MODE_DIRECT_WRITE_THEN_BUFFERED_READ;
	a.ev.access = IOH_ACC_BUFFERED_READ;
	a.ev.other_access = IOH_ACC_DIRECT_WRITE;
	a.ev.other_pid = 1001;
	a.ev.other_ns = 4000;
	memcpy(a.path, c_json_path, plen);
	a.ev.path_len = plen;
	a.ev.path_components = 3;
	write_seed(dir, "access-mode", &a, a.ev.hdr.size);

	memset(&sp, 0, sizeof(sp));
	hdr(&sp.ev.hdr, IOH_EV_SPLICE_STALL, sizeof(sp.ev) + plen, 6000, 1000);
	sp.ev.call = IOH_SPLICE_CALL_SENDFILE;
	sp.ev.blocked = IOH_SPLICE_SOCKET_FULL;
	sp.ev.ret = 65536;
	sp.ev.duration_ns = 2000000000;
	sp.ev.requested = 65536;
	sp.ev.in.kind = IOH_END_FILE;
	sp.ev.in.file = fid(100, S_IFREG | 0644);
	sp.ev.in.fd = 3;
	sp.ev.out.kind = IOH_END_SOCKET;
	sp.ev.out.fd = 4;
	memcpy(sp.path, c_json_path, plen);
	sp.ev.path_len = plen;
	sp.ev.path_components = 3;
	write_seed(dir, "splice-stall", &sp, sp.ev.hdr.size);

	memset(&t, 0, sizeof(t));
	hdr(&t.ev.hdr, IOH_EV_TRUNCATE, sizeof(t.ev) + plen, 7000, 1000);
	t.ev.file = fid(100, S_IFREG | 0644);
	t.ev.old_size = 4096;
	memcpy(t.path, c_json_path, plen);
	t.ev.path_len = plen;
	t.ev.path_components = 3;
	write_seed(dir, "truncate", &t, t.ev.hdr.size);
}

static void decode_seeds(const char *dir)
{
	static struct rename_rec r;
	static uint8_t stream[3 * sizeof(struct rename_rec)];
	struct ioh_sync_event s;
	struct ioh_inode_event in;
	size_t off = 0, n;

	n = rename_rec(&r, 3000, "", 0, 0, "/srv/app/.c.tmp", "/srv/app/c.json", IOH_ID_KERNEL, 0);
	write_seed(dir, "rename-absolute", &r, n);
	n = rename_rec(&r, 3000, "app\0srv", 8, 2, ".c.tmp", "c.json", IOH_ID_NONE, 0);
	write_seed(dir, "rename-relative", &r, n);
	n = rename_rec(&r, 3000, "app\0srv", 8, 2, "./a", "sub/b", IOH_ID_NONE,
		       IOH_EVF_PATH_TRUNCATED);
	write_seed(dir, "rename-truncated", &r, n);
	path_seeds(dir);
	for (uint32_t k = IOH_SYNC_FSYNC; k <= IOH_SYNC_SYNC; k++) {
		char name[32];

		sync_rec(&s, 2000, k, k == IOH_SYNC_FSYNC ? 10 : 100,
			 k == IOH_SYNC_FSYNC ? S_IFDIR | 0755 : S_IFREG | 0644);
		snprintf(name, sizeof(name), "sync-%u", k);
		write_seed(dir, name, &s, sizeof(s));
	}
	inode_rec(&in, IOH_EV_INODE_DIRTY, 1000);
	write_seed(dir, "inode-dirty", &in, sizeof(in));
	inode_rec(&in, IOH_EV_INODE_CLEAN, 1500);
	write_seed(dir, "inode-clean", &in, sizeof(in));

	/* A stream as the ring buffer delivers it: dirty, fsync(file), rename, fsync(dir). */
	inode_rec(&in, IOH_EV_INODE_DIRTY, 1000);
	memcpy(stream + off, &in, sizeof(in));
	off += sizeof(in);
	sync_rec(&s, 2000, IOH_SYNC_FSYNC, 100, S_IFREG | 0644);
	memcpy(stream + off, &s, sizeof(s));
	off += sizeof(s);
	n = rename_rec(&r, 3000, "app\0srv", 8, 2, ".c.tmp", "c.json", IOH_ID_NONE, 0);
	memcpy(stream + off, &r, n);
	off += n;
	sync_rec(&s, 4000, IOH_SYNC_FSYNC, 10, S_IFDIR | 0755);
	memcpy(stream + off, &s, sizeof(s));
	off += sizeof(s);
	write_seed(dir, "stream-safe-rename", stream, off);
}

static void payload_seed(const char *dir, const char *name, const struct ioh_event *ev)
{
	static uint8_t buf[IOH_EVENTLOG_RECORD_MAX];
	int n = ioh_eventlog_encode_payload(ev, buf, sizeof(buf));

	if (n < 0)
		exit(1);
	write_seed(dir, name, buf, (size_t)n);
}

static void eventlog_seeds(const char *dir)
{
	struct ioh_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = 1000;
	ev.pid = ev.tid = 1000;
	strcpy(ev.comm, "seed");
	ev.cgroup = "/system.slice/app.service";

	ev.type = IOH_EV_RENAME;
	ev.rename.identity = IOH_ID_USERSPACE;
	ev.rename.src = fid(100, S_IFREG | 0644);
	ev.rename.dst_dir = fid(10, S_IFDIR | 0755);
	ev.rename.new_path = "/srv/app/c.json";
	ev.rename.old_path = "/srv/app/.c\n\xff.tmp";
	payload_seed(dir, "rename", &ev);

	memset(&ev.rename, 0, sizeof(ev.rename));
	ev.type = IOH_EV_SYNC;
	ev.sync.kind = IOH_SYNC_FDATASYNC;
	ev.sync.ret = -5;
	ev.sync.file = fid(10, S_IFDIR | 0755);
	payload_seed(dir, "sync", &ev);

	memset(&ev.sync, 0, sizeof(ev.sync));
	ev.cgroup = NULL;
	ev.type = IOH_EV_INODE_DIRTY;
	ev.inode.file = fid(100, S_IFREG | 0644);
	payload_seed(dir, "inode-dirty", &ev);
	ev.type = IOH_EV_INODE_CLEAN;
	payload_seed(dir, "inode-clean", &ev);

	memset(&ev.inode, 0, sizeof(ev.inode));
	ev.type = IOH_EV_LOSS;
	ev.loss.where = IOH_LOSS_RINGBUF_RENAME;
	ev.loss.count = 3;
	payload_seed(dir, "loss", &ev);

	memset(&ev.loss, 0, sizeof(ev.loss));
	ev.type = IOH_EV_END;
	payload_seed(dir, "end", &ev);

	{
		static const uint8_t bytes[64] = {1, 2, 3, 4};
		static const struct ioh_stack_module mods[] = {
		    {.start = 0x1000,
		     .end = 0x9000,
		     .pgoff = 0x1000,
		     .dev = 0x801,
		     .ino = 7,
		     .path = "/usr/bin/mv",
		     .build_id = {0xab},
		     .build_id_len = 1},
		};

		ev.type = IOH_EV_STACK;
		ev.callsite = ev.stack.callsite = 0x1234;
		ev.stack.regs[IOH_STACK_REG_IP] = 0x1234;
		ev.stack.regs[IOH_STACK_REG_SP] = 0x7ffc0000;
		ev.stack.regs_mask = (1u << IOH_STACK_NREGS) - 1;
		ev.stack.stack = bytes;
		ev.stack.stack_len = sizeof(bytes);
		ev.stack.modules = mods;
		ev.stack.n_modules = 1;
		payload_seed(dir, "stack", &ev);
	}
}

/* A STACK record with both mapping hints (exe: /usr/bin/mv, ip: /lib/libc.so.6). */
static void stack_seed(const char *dir)
{
	static const char exe[] = "mv\0bin\0usr", libc[] = "libc.so.6\0lib";
	static struct stack_rec r;

	memset(&r, 0, sizeof(r));
	r.ev.callsite = 0x1234;
	r.ev.regs[16] = 0x7f0000001000;
	r.ev.regs[7] = 0x7ffc00000000;
	r.ev.regs_mask = (1u << IOH_STACK_REGS) - 1;
	r.ev.stack_len = 256;
	r.ev.exe = (struct ioh_stack_vma){.start = 0x1000,
					  .end = 0x9000,
					  .pgoff = 0x1000,
					  .ino = 7,
					  .dev = 0x800001,
					  .path_len = sizeof(exe),
					  .path_components = 3};
	r.ev.code = (struct ioh_stack_vma){.start = 0x7f0000000000,
					   .end = 0x7f0000100000,
					   .ino = 5,
					   .dev = 0x800001,
					   .path_len = sizeof(libc),
					   .path_components = 2};
	memcpy(r.data + 256, exe, sizeof(exe));
	memcpy(r.data + 256 + sizeof(exe), libc, sizeof(libc));
	hdr(&r.ev.hdr, IOH_EV_STACK, sizeof(r.ev) + 256 + sizeof(exe) + sizeof(libc), 5000, 1000);
	write_seed(dir, "stack", &r, r.ev.hdr.size);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s DECODE_DIR EVENTLOG_DIR\n", argv[0]);
		return 2;
	}
	decode_seeds(argv[1]);
	stack_seed(argv[1]);
	eventlog_seeds(argv[2]);
	return 0;
}
