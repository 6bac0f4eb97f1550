// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpora of the decode and eventlog fuzzers: well-formed kernel records of
 * every type (the shapes tests/unit/test_decode.c builds) and one recorded payload per event
 * type. Seeds let libFuzzer start from valid structure instead of guessing 4 KiB layouts.
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

struct rename_rec {
	struct ioh_rename_event ev;
	char strings[IOH_RENAME_STRINGS_SIZE];
};

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

static void rename_rec(struct rename_rec *r, uint64_t ts, const char *base_leaf_first,
		       size_t base_len, uint16_t ncomp, const char *old_name, const char *new_name,
		       uint32_t identity, uint32_t flags)
{
	memset(r, 0, sizeof(*r));
	hdr(&r->ev.hdr, IOH_EV_RENAME, sizeof(*r), ts, 1000);
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
	strcpy(r->strings + IOH_RENAME_OLD_OFF, old_name);
	r->ev.old_name_len = (uint16_t)(strlen(old_name) + 1);
	strcpy(r->strings + IOH_RENAME_NEW_OFF, new_name);
	r->ev.new_name_len = (uint16_t)(strlen(new_name) + 1);
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

static void decode_seeds(const char *dir)
{
	static struct rename_rec r;
	static uint8_t stream[3 * sizeof(struct rename_rec)];
	struct ioh_sync_event s;
	struct ioh_inode_event in;
	size_t off = 0;

	rename_rec(&r, 3000, "", 0, 0, "/srv/app/.c.tmp", "/srv/app/c.json", IOH_ID_KERNEL, 0);
	write_seed(dir, "rename-absolute", &r, sizeof(r));
	rename_rec(&r, 3000, "app\0srv", 8, 2, ".c.tmp", "c.json", IOH_ID_NONE, 0);
	write_seed(dir, "rename-relative", &r, sizeof(r));
	rename_rec(&r, 3000, "app\0srv", 8, 2, "./a", "sub/b", IOH_ID_NONE, IOH_EVF_PATH_TRUNCATED);
	write_seed(dir, "rename-truncated", &r, sizeof(r));
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
	rename_rec(&r, 3000, "app\0srv", 8, 2, ".c.tmp", "c.json", IOH_ID_NONE, 0);
	memcpy(stream + off, &r, sizeof(r));
	off += sizeof(r);
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
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s DECODE_DIR EVENTLOG_DIR\n", argv[0]);
		return 2;
	}
	decode_seeds(argv[1]);
	eventlog_seeds(argv[2]);
	return 0;
}
