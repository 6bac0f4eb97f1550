// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for recorded-event payloads (daemon/record/eventlog.c), the part of
 * --replay that reads untrusted bytes. Beyond "no crash, no leak" it checks the round trip a
 * recording relies on: a payload that decodes re-encodes to the same bytes (up to the
 * reserved field and comm's forced final NUL, which the reader normalises) and decodes again
 * to an equal event.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/record/eventlog.h"

/* Offsets in the payload (docs/record-format.md): reserved u16 at 2, comm at 32..47. */
#define RESERVED_OFF 2
#define COMM_LAST_OFF (32 + IOH_COMM_LEN - 1)

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool file_eq(const struct ioh_file_id *a, const struct ioh_file_id *b)
{
	return a->dev == b->dev && a->mode == b->mode && a->ino == b->ino &&
	       a->fs_magic == b->fs_magic;
}

static bool events_equal(const struct ioh_event *a, const struct ioh_event *b)
{
	if (a->ts_ns != b->ts_ns || a->type != b->type || a->flags != b->flags ||
	    a->pid != b->pid || a->tid != b->tid || a->cgroup_id != b->cgroup_id ||
	    memcmp(a->comm, b->comm, IOH_COMM_LEN) != 0 || !str_eq(a->cgroup, b->cgroup))
		return false;
	switch (a->type) {
	case IOH_EV_RENAME:
		return a->rename.dfd == b->rename.dfd &&
		       a->rename.rename_flags == b->rename.rename_flags &&
		       a->rename.identity == b->rename.identity &&
		       file_eq(&a->rename.src, &b->rename.src) &&
		       file_eq(&a->rename.dst_dir, &b->rename.dst_dir) &&
		       str_eq(a->rename.new_path, b->rename.new_path) &&
		       str_eq(a->rename.old_path, b->rename.old_path);
	case IOH_EV_SYNC:
		return a->sync.kind == b->sync.kind && a->sync.ret == b->sync.ret &&
		       a->sync.fd == b->sync.fd && file_eq(&a->sync.file, &b->sync.file) &&
		       a->sync.duration_ns == b->sync.duration_ns;
	case IOH_EV_INODE_DIRTY:
	case IOH_EV_INODE_CLEAN:
		return file_eq(&a->inode.file, &b->inode.file) &&
		       a->inode.dirtied_ns == b->inode.dirtied_ns;
	case IOH_EV_LOSS:
		return a->loss.where == b->loss.where && a->loss.count == b->loss.count &&
		       a->loss.since_ns == b->loss.since_ns;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[IOH_EVENTLOG_RECORD_MAX];
	struct ioh_event ev, again;
	uint8_t *in;
	int r, n;

	if (size > IOH_EVENTLOG_RECORD_MAX)
		return 0; /* the file reader refuses longer records before decoding */
	/* An exact-size copy: ASan flags any read past the payload. */
	in = malloc(size ? size : 1);
	if (!in)
		abort();
	memcpy(in, data, size);
	r = ioh_eventlog_decode_payload(in, (uint32_t)size, &ev);
	if (r != 0 && r != -EBADMSG && r != -ENOMSG)
		abort();
	if (r == 0) {
		n = ioh_eventlog_encode_payload(&ev, out, sizeof(out));
		if (n < 0 || (size_t)n != size)
			abort();
		for (size_t i = 0; i < size; i++) {
			if (i == RESERVED_OFF || i == RESERVED_OFF + 1)
				continue;
			if (i == COMM_LAST_OFF && out[i] == 0)
				continue;
			if (out[i] != in[i])
				abort();
		}
		if (ioh_eventlog_decode_payload(out, (uint32_t)n, &again) != 0 ||
		    !events_equal(&ev, &again))
			abort();
	}
	free(in);
	return 0;
}
