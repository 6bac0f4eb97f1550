/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel records (bpf/iohazard.h) to decoded events (daemon/correlator/event.h). Pure and
 * defensive: every length and offset in a record is checked, so a malformed record (a kernel
 * or ABI bug, or a fuzzer) yields -EBADMSG, never a read out of bounds. Paths are rebuilt
 * here (leaf-first components reversed, relative names joined to their directory); anything
 * that needs the live system (stat, cgroup names) is daemon/ingest/resolve's job.
 */
#ifndef IOH_DECODE_H
#define IOH_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/correlator/event.h"

/* Room for a rebuilt path: a truncated directory prefix plus a full user name. */
#define IOH_PATH_BUF (IOH_DIR_PATH_REGION + IOH_NEW_PATH_MAX + 16)

/* Shown in place of the part of a path that did not fit (a UTF-8 ellipsis). */
#define IOH_TRUNCATION_MARK "\xe2\x80\xa6"

/* Storage for the strings a decoded event points into; one per decoder, reused. */
struct ioh_decode_scratch {
	char base_dir[IOH_PATH_BUF]; /* the directory a relative new name is relative to */
	char new_path[IOH_PATH_BUF];
	char old_path[IOH_PATH_BUF];
	char access_path[IOH_PATH_BUF];	     /* the file of an access-mode record */
	char sync_path[IOH_PATH_BUF];	     /* the file of a failed fsync */
	char cut_name[IOH_NEW_PATH_MAX + 8]; /* a full-buffer new name with the cut marked */
	char other_cgroup[4096];	     /* resolve.c: cgroup of the other side */
	/* The new name had no '/': the kernel's base_dir *is* the receiving directory. */
	bool new_in_base_dir;
	struct ioh_file_id base_dir_id;
	uint32_t mnt_ns; /* the renaming task's mount namespace (0: unknown) */
	/* A STACK record: its modules (the kernel's hints here; resolve.c replaces them with the
	 * task's mappings while it lives) and the hint paths. */
	struct ioh_stack_module stack_modules[IOH_STACK_MODULES_MAX];
	char stack_hint_path[2][IOH_DIR_PATH_REGION + 16];
	char *stack_strings; /* resolve.c: strings of ioh_stack_modules_read() (malloc'd) */
};

/*
 * Decode one ring buffer record. Returns 0, -EBADMSG when malformed, -ENOMSG for a record
 * type this version does not know (skip it; the kernel side is newer).
 */
int ioh_decode_record(const void *data, size_t len, struct ioh_event *ev,
		      struct ioh_decode_scratch *scratch);

/* "/a/b" + "c" -> "/a/b/c"; "x/./y" stays as is (no lexical ".." folding: symlinks). */
void ioh_join_path(char *out, size_t size, const char *dir, const char *name);

#endif
