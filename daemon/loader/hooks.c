// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hook table (see hooks.h and the map at the top of bpf/iohazard.bpf.c). Order within a
 * hook is preference under --backend auto: kernel functions first where the work is one
 * function (fentry, then kprobe), subsystem tracepoints first where the kernel has one at the
 * right place (iomap, filemap: cheaper than a trampoline and stable), and the syscalls' own
 * tracepoints last. No hook has a candidate on the raw sys_enter/sys_exit.
 */
#include <stddef.h>

#include "daemon/loader/hooks.h"
#include "iohazard.skel.h"

#define PROG(name) offsetof(struct iohazard_bpf, progs.name)

/* Syscall names as their tracepoints spell them (syscalls:sys_enter_<name>). */
static const char *const sc_rename[] = {"rename", "renameat", "renameat2", NULL};
static const char *const sc_fsync[] = {"fsync", "fdatasync", NULL};
static const char *const sc_sync_fs[] = {"sync", "syncfs", "sync_file_range", NULL};
static const char *const sc_open[] = {"open", "openat", NULL};
static const char *const sc_openat2[] = {"openat2", NULL};
static const char *const sc_fcntl[] = {"fcntl", NULL};
static const char *const sc_mmap[] = {"mmap", NULL};
static const char *const sc_close[] = {"close", NULL};
static const char *const sc_splice[] = {"splice",	   "tee", "vmsplice", "sendfile64",
					"copy_file_range", NULL};
static const char *const sc_rw[] = {"read",    "pread64",  "readv",    "preadv",
				    "preadv2", "write",	   "pwrite64", "writev",
				    "pwritev", "pwritev2", NULL};

/* A kernel function (fentry/fexit or kprobe/kretprobe: the program's SEC says which). */
#define FN(p, fn)                                                                                  \
	{                                                                                          \
		.skel_off = PROG(p), .target = fn                                                  \
	}
#define FN_OPT(p, fn)                                                                              \
	{                                                                                          \
		.skel_off = PROG(p), .target = fn, .optional = true                                \
	}
#define TP(p, tp)                                                                                  \
	{                                                                                          \
		.skel_off = PROG(p), .target = tp                                                  \
	}
#define TP_OPT(p, tp)                                                                              \
	{                                                                                          \
		.skel_off = PROG(p), .target = tp, .optional = true                                \
	}
#define SC_ENTER(p, list)                                                                          \
	{                                                                                          \
		.skel_off = PROG(p), .syscalls = list                                              \
	}
#define SC_EXIT(p, list)                                                                           \
	{                                                                                          \
		.skel_off = PROG(p), .syscalls = list, .exit = true                                \
	}
#define SC_EXIT_OPT(p, list)                                                                       \
	{                                                                                          \
		.skel_off = PROG(p), .syscalls = list, .exit = true, .optional = true              \
	}

#define CAND_FENTRY(...)                                                                           \
	{                                                                                          \
		"fentry", IOH_CLASS_FENTRY, IOH_AT_FENTRY, {__VA_ARGS__}, NULL                     \
	}
#define CAND_KPROBE(...)                                                                           \
	{                                                                                          \
		"kprobe", IOH_CLASS_KPROBE, IOH_AT_KPROBE, {__VA_ARGS__}, NULL                     \
	}
#define CAND_TP_BTF(...)                                                                           \
	{                                                                                          \
		"tp_btf", IOH_CLASS_SUBSYS_TP, IOH_AT_TP_BTF, {__VA_ARGS__}, NULL                  \
	}
#define CAND_RAW_TP(...)                                                                           \
	{                                                                                          \
		"raw_tp", IOH_CLASS_SUBSYS_TP, IOH_AT_RAW_TP, {__VA_ARGS__}, NULL                  \
	}
#define CAND_SYSCALL(limits, ...)                                                                  \
	{                                                                                          \
		"tracepoint", IOH_CLASS_SYSCALL_TP, IOH_AT_SYSCALL_TP, {__VA_ARGS__}, limits       \
	}

const struct ioh_hook_def ioh_hook_table[] = {
    {
	.name = "rename",
	.required = true,
	.blind = "renames are not seen: both rename rules are blind",
	.cands =
	    {
		CAND_FENTRY(FN(rename_names_fentry, "do_renameat2"),
			    FN(rename_done_fexit, "vfs_rename")),
		CAND_KPROBE(FN(rename_names_kprobe, "do_renameat2"),
			    FN(rename_identity_kprobe, "vfs_rename"),
			    FN(rename_done_kretprobe, "vfs_rename")),
		CAND_SYSCALL("the renamed inode is resolved by user space (statx)",
			     SC_ENTER(rename_enter_tp, sc_rename),
			     SC_EXIT(rename_exit_tp, sc_rename)),
	    },
    },
    {
	.name = "fsync",
	.required = true,
	.blind = "fsync/fdatasync are not seen",
	.cands =
	    {
		CAND_FENTRY(FN(fsync_enter_fentry, "vfs_fsync_range"),
			    FN(fsync_exit_fexit, "vfs_fsync_range")),
		CAND_KPROBE(FN(fsync_enter_kprobe, "vfs_fsync_range"),
			    FN(fsync_exit_kretprobe, "vfs_fsync_range")),
		CAND_SYSCALL("fsyncs submitted through io_uring are not seen",
			     SC_ENTER(fsync_enter_tp, sc_fsync), SC_EXIT(fsync_exit_tp, sc_fsync)),
	    },
    },
    {
	.name = "sync_fs",
	.blind = "sync(2), syncfs(2) and sync_file_range(2) are not seen",
	.cands =
	    {
		CAND_FENTRY(FN(sync_fs_sync_fentry, "ksys_sync"),
			    FN(sync_fs_sync_fexit, "ksys_sync"),
			    FN(sync_fs_syncfs_fentry, "sync_filesystem"),
			    FN(sync_fs_syncfs_fexit, "sync_filesystem"),
			    FN(sync_fs_range_fentry, "ksys_sync_file_range"),
			    FN(sync_fs_range_fexit, "ksys_sync_file_range")),
		CAND_KPROBE(FN(sync_fs_sync_kprobe, "ksys_sync"),
			    FN(sync_fs_sync_kretprobe, "ksys_sync"),
			    FN(sync_fs_syncfs_kprobe, "sync_filesystem"),
			    FN(sync_fs_syncfs_kretprobe, "sync_filesystem"),
			    FN(sync_fs_range_kprobe, "ksys_sync_file_range"),
			    FN(sync_fs_range_kretprobe, "ksys_sync_file_range")),
		CAND_SYSCALL(NULL, SC_ENTER(sync_fs_enter_tp, sc_sync_fs),
			     SC_EXIT(sync_fs_exit_tp, sc_sync_fs)),
	    },
    },
    {
	.name = "opens",
	.blind = "opens, fcntl(F_SETFL), mmap and close are not seen: "
		 "mixed-direct-buffered only sees direct I/O",
	.cands =
	    {
		CAND_FENTRY(FN(opens_open_fexit, "do_filp_open"),
			    FN(opens_fcntl_fexit, "__x64_sys_fcntl"),
			    FN(opens_mmap_fentry, "ksys_mmap_pgoff"),
			    FN(opens_close_fentry, "__x64_sys_close")),
		CAND_KPROBE(FN(opens_open_kretprobe, "do_filp_open"),
			    FN(opens_fcntl_kprobe, "__x64_sys_fcntl"),
			    FN(opens_mmap_kprobe, "ksys_mmap_pgoff"),
			    FN(opens_close_kprobe, "__x64_sys_close")),
		CAND_SYSCALL(NULL, SC_EXIT(opens_open_exit_tp, sc_open),
			     SC_EXIT_OPT(opens_open_exit_tp, sc_openat2),
			     SC_ENTER(opens_fcntl_enter_tp, sc_fcntl),
			     SC_ENTER(opens_mmap_enter_tp, sc_mmap),
			     SC_ENTER(opens_close_enter_tp, sc_close)),
	    },
    },
    {
	.name = "direct_io",
	.blind = "direct I/O is seen at open only: the order of direct and buffered I/O "
		 "is not confirmed",
	.cands =
	    {
		CAND_TP_BTF(TP(direct_io_tp_btf, "iomap_dio_rw_begin")),
		CAND_FENTRY(FN(direct_io_fentry, "__iomap_dio_rw")),
		/* 6.1's trampolines take at most 6 arguments; __iomap_dio_rw has 7. */
		CAND_FENTRY(FN(direct_io_done_fentry, "iomap_dio_complete")),
		CAND_KPROBE(FN(direct_io_kprobe, "__iomap_dio_rw")),
		CAND_RAW_TP(TP(direct_io_raw_tp, "iomap:iomap_dio_rw_begin")),
	    },
    },
    {
	.name = "cache_reads",
	.on_demand = true,
	.blind = "buffered reads of watched files are not seen: the order of direct and "
		 "buffered I/O is not confirmed",
	.cands =
	    {
		CAND_TP_BTF(TP(cache_reads_get_pages_tp_btf, "mm_filemap_get_pages"),
			    TP(cache_reads_fault_tp_btf, "mm_filemap_fault")),
		CAND_FENTRY(FN(cache_reads_read_fentry, "filemap_read"),
			    FN_OPT(cache_reads_splice_fentry, "filemap_splice_read"),
			    FN(cache_reads_fault_fentry, "filemap_fault")),
		CAND_KPROBE(FN(cache_reads_read_kprobe, "filemap_read"),
			    FN_OPT(cache_reads_splice_kprobe, "filemap_splice_read"),
			    FN(cache_reads_fault_kprobe, "filemap_fault")),
		CAND_RAW_TP(TP(cache_reads_get_pages_raw_tp, "filemap:mm_filemap_get_pages"),
			    TP(cache_reads_fault_raw_tp, "filemap:mm_filemap_fault")),
		CAND_SYSCALL("reads through copy_file_range/sendfile/splice and mmap faults "
			     "are not seen",
			     SC_ENTER(cache_reads_rw_enter_tp, sc_rw),
			     {.skel_off = PROG(cache_reads_uring_tp_btf),
			      .target = "io_uring_submit_req",
			      .own_type = true,
			      .type = IOH_AT_TP_BTF,
			      .optional = true}),
	    },
    },
    {
	.name = "dirty_state",
	.blind = "files going dirty are not seen: rename-unsynced-source is blind",
	.cands =
	    {
		CAND_TP_BTF(TP(dirty_state_mark_tp_btf, "writeback_mark_inode_dirty"),
			    TP(dirty_state_written_tp_btf, "writeback_single_inode"),
			    TP_OPT(dirty_state_freed_tp_btf, "mm_filemap_delete_from_page_cache")),
		CAND_RAW_TP(
		    TP(dirty_state_mark_raw_tp, "writeback:writeback_mark_inode_dirty"),
		    TP(dirty_state_written_raw_tp, "writeback:writeback_single_inode"),
		    TP_OPT(dirty_state_freed_raw_tp, "filemap:mm_filemap_delete_from_page_cache")),
	    },
    },
    {
	.name = "splice",
	.blind = "splice-family calls are not timed: splice-stall is blind",
	.cands =
	    {
		CAND_FENTRY(FN(splice_splice_fentry, "__x64_sys_splice"),
			    FN(splice_splice_fexit, "__x64_sys_splice"),
			    FN(splice_tee_fentry, "__x64_sys_tee"),
			    FN(splice_tee_fexit, "__x64_sys_tee"),
			    FN(splice_vmsplice_fentry, "__x64_sys_vmsplice"),
			    FN(splice_vmsplice_fexit, "__x64_sys_vmsplice"),
			    FN(splice_sendfile64_fentry, "__x64_sys_sendfile64"),
			    FN(splice_sendfile64_fexit, "__x64_sys_sendfile64"),
			    FN(splice_copy_file_range_fentry, "__x64_sys_copy_file_range"),
			    FN(splice_copy_file_range_fexit, "__x64_sys_copy_file_range")),
		CAND_KPROBE(FN(splice_splice_kprobe, "__x64_sys_splice"),
			    FN(splice_splice_kretprobe, "__x64_sys_splice"),
			    FN(splice_tee_kprobe, "__x64_sys_tee"),
			    FN(splice_tee_kretprobe, "__x64_sys_tee"),
			    FN(splice_vmsplice_kprobe, "__x64_sys_vmsplice"),
			    FN(splice_vmsplice_kretprobe, "__x64_sys_vmsplice"),
			    FN(splice_sendfile64_kprobe, "__x64_sys_sendfile64"),
			    FN(splice_sendfile64_kretprobe, "__x64_sys_sendfile64"),
			    FN(splice_copy_file_range_kprobe, "__x64_sys_copy_file_range"),
			    FN(splice_copy_file_range_kretprobe, "__x64_sys_copy_file_range")),
		CAND_SYSCALL(NULL, SC_ENTER(splice_enter_tp, sc_splice),
			     SC_EXIT(splice_exit_tp, sc_splice)),
	    },
    },
    {
	.name = "dirty_throttle",
	.blind = "dirty-throttle-stall is blind",
	.cands =
	    {
		/* The classic record on every kernel: its tp_btf prototype changed in 6.x
		 * (bpf/stalls.bpf.h). */
		{"tracepoint",
		 IOH_CLASS_SUBSYS_TP,
		 IOH_AT_TRACEPOINT,
		 {TP(dirty_throttle_tracepoint, "writeback/balance_dirty_pages")},
		 NULL},
	    },
    },
    {
	.name = "writeback_wait",
	.blind = "splice stalls cannot blame writeback",
	.cands =
	    {
		CAND_TP_BTF(TP(writeback_wait_tp_btf, "folio_wait_writeback")),
		CAND_RAW_TP(TP(writeback_wait_raw_tp, "writeback:folio_wait_writeback")),
	    },
    },
    {
	.name = "truncate",
	.blind = "writeback-truncate-unsynced is blind",
	.cands =
	    {
		CAND_TP_BTF(TP(truncate_tp_btf, "ext4_truncate_enter")),
		/* ext4 as a module (Debian's 6.1): raw_tp attaches by name without the
		 * module's BTF. */
		CAND_RAW_TP(TP(truncate_raw_tp, "ext4:ext4_truncate_enter")),
	    },
    },
};

const size_t ioh_hook_count = sizeof(ioh_hook_table) / sizeof(ioh_hook_table[0]);
