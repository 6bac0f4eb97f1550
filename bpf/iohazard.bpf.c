// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one BPF object of iohazard. A program runs only where a hazard can start: kernel
 * functions (fentry/fexit, or kprobes), subsystem tracepoints (writeback, iomap, filemap), and
 * on the tracepoint backend the own tracepoints of the few syscalls that must be seen. No
 * program is ever attached to the raw sys_enter/sys_exit that every syscall passes.
 *
 * Each hook has candidate programs, one per way of attaching; the loader's hook table
 * (daemon/loader/hooks.c) probes them in order and keeps the first that loads and attaches.
 * Program names are <hook>_<what>_<attach type>.
 *
 *   hook          fentry / kprobe                         tracepoint backend
 *   rename        do_renameat2 + vfs_rename (+ return)     sys_enter/exit_rename{,at,at2}
 *   fsync         vfs_fsync_range (+ return)               sys_enter/exit_f{,data}sync
 *   sync_fs       ksys_sync, sync_filesystem,              sys_enter/exit_sync, syncfs,
 *                 ksys_sync_file_range (+ return)          sync_file_range
 *   opens         do_filp_open (return), __x64_sys_fcntl,  sys_exit_open{,at,at2},
 *                 ksys_mmap_pgoff, __x64_sys_close         sys_enter_fcntl, mmap, close
 *   splice        __x64_sys_{splice,tee,vmsplice,           sys_enter/exit of the same
 *                 sendfile64,copy_file_range} (+ return)
 *   direct_io     iomap:iomap_dio_rw_begin (tp_btf, raw_tp); __iomap_dio_rw (fentry, kprobe)
 *   cache_reads   filemap:mm_filemap_get_pages + mm_filemap_fault (tp_btf); filemap_read,
 *   (on demand)   filemap_splice_read, filemap_fault (fentry, kprobe); last resort: the
 *                 read/write syscalls' own tracepoints and io_uring_submit_req
 *   dirty_state   writeback:writeback_mark_inode_dirty + writeback_single_inode, and
 *                 filemap:mm_filemap_delete_from_page_cache for freed inodes (tp_btf, raw_tp)
 *   dirty_throttle  writeback/balance_dirty_pages (classic record through CO-RE)
 *   writeback_wait  folio_wait_writeback (tp_btf, raw_tp)
 *   truncate      ext4_truncate_enter (tp_btf, raw_tp)
 *
 * __x64_sys_X is the syscall's own function on x86-64: SYSCALL_FN(X) (bpf/arch/) names it for
 * the architecture built for (__arm64_sys_X on arm64).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "iohazard.h"
#include "common.bpf.h"
#include "durability.bpf.h"
#include "mixed_io.bpf.h"
#include "stalls.bpf.h"
#include "writeback_exposure.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- tracepoint backend: the syscalls' own tracepoints ------------------------------------ */
/*
 * Each program serves several syscalls: the loader attaches it to every
 * syscalls:sys_enter_X / sys_exit_X its hook lists, and the record's syscall number says
 * which one fired. An unrelated syscall runs none of them.
 */

SEC("tracepoint")
int rename_enter_tp(struct sc_enter_record *rec)
{
	struct sc_args args;

	sc_args_from_record(&args, rec, rec->nr == NR_rename ? 2 : rec->nr == NR_renameat ? 4 : 5);
	return durability_enter(rec->nr, &args, false);
}

SEC("tracepoint")
int rename_exit_tp(struct sc_exit_record *rec)
{
	return durability_exit(rec->nr, rec->ret);
}

SEC("tracepoint")
int fsync_enter_tp(struct sc_enter_record *rec)
{
	struct sc_args args;

	sc_args_from_record(&args, rec, 1);
	return durability_enter(rec->nr, &args, false);
}

SEC("tracepoint")
int fsync_exit_tp(struct sc_exit_record *rec)
{
	return durability_exit(rec->nr, rec->ret);
}

SEC("tracepoint")
int sync_fs_enter_tp(struct sc_enter_record *rec)
{
	struct sc_args args;

	sc_args_from_record(&args, rec, rec->nr == NR_sync ? 0 : 1);
	return durability_enter(rec->nr, &args, false);
}

SEC("tracepoint")
int sync_fs_exit_tp(struct sc_exit_record *rec)
{
	return durability_exit(rec->nr, rec->ret);
}

/* open, openat, openat2 returned a file descriptor. */
SEC("tracepoint")
int opens_open_exit_tp(struct sc_exit_record *rec)
{
	if (rec->ret < 0)
		return 0;
	return mixed_io_on_opened(fd_to_file(rec->ret));
}

SEC("tracepoint")
int opens_fcntl_enter_tp(struct sc_enter_record *rec)
{
	return mixed_io_on_setfl(rec->args[0], rec->args[1], rec->args[2]);
}

/* mmap(addr, len, prot, flags, fd, off) */
SEC("tracepoint")
int opens_mmap_enter_tp(struct sc_enter_record *rec)
{
	if (rec->args[3] & MAP_ANONYMOUS_FLAG)
		return 0;
	return mixed_io_on_mmap(fd_to_file(rec->args[4]));
}

SEC("tracepoint")
int opens_close_enter_tp(struct sc_enter_record *rec)
{
	return mixed_io_on_close(rec->args[0]);
}

SEC("tracepoint")
int splice_enter_tp(struct sc_enter_record *rec)
{
	struct sc_args args;

	sc_args_from_record(&args, rec,
			    rec->nr == NR_splice || rec->nr == NR_copy_file_range ? 6 : 4);
	return splice_on_enter(rec->nr, &args);
}

SEC("tracepoint")
int splice_exit_tp(struct sc_exit_record *rec)
{
	return splice_on_exit(rec->ret);
}

/* Last resort for cache_reads (kernels without the filemap hooks): the read/write family's own
 * tracepoints, attached only while an inode is watched. */
SEC("tracepoint")
int cache_reads_rw_enter_tp(struct sc_enter_record *rec)
{
	return mixed_io_on_rw(rec->nr, rec->args[0]);
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(cache_reads_uring_tp_btf, struct io_kiocb *req)
{
	return mixed_io_on_uring(req);
}

/* ---- fentry / kprobe backends: kernel functions ------------------------------------------- */

/* rename: do_renameat2() holds the names, vfs_rename() the inodes and the result. */
SEC("fentry/do_renameat2")
int BPF_PROG(rename_names_fentry, int olddfd, struct filename *from, int newdfd,
	     struct filename *to, unsigned int flags)
{
	return on_do_renameat2(olddfd, from, newdfd, to, flags);
}

SEC("fexit/vfs_rename")
int BPF_PROG(rename_done_fexit, struct renamedata *rd, int ret)
{
	on_vfs_rename(rd);
	return durability_exit(NR_renameat2, ret);
}

SEC("kprobe/do_renameat2")
int BPF_KPROBE(rename_names_kprobe, int olddfd, struct filename *from, int newdfd,
	       struct filename *to, unsigned int flags)
{
	return on_do_renameat2(olddfd, from, newdfd, to, flags);
}

SEC("kprobe/vfs_rename")
int BPF_KPROBE(rename_identity_kprobe, struct renamedata *rd)
{
	return on_vfs_rename(rd);
}

SEC("kretprobe/vfs_rename")
int BPF_KRETPROBE(rename_done_kretprobe, long ret)
{
	return durability_exit(NR_renameat2, ret);
}

/* fsync: vfs_fsync_range() is every fsync, whatever its entry point. */

/* Entry time and arguments of vfs_fsync_range(), per thread, for the return side. */
struct vfs_fsync_call {
	__u64 enter_ns;
	struct file *file;
	__s32 datasync;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct vfs_fsync_call);
} vfs_fsync_calls SEC(".maps");

static __always_inline int vfs_fsync_enter(struct file *file, int datasync)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vfs_fsync_call call = {
	    .enter_ns = bpf_ktime_get_ns(),
	    .file = file,
	    .datasync = datasync,
	};

	if (is_self()) {
		emit_heartbeat(); /* the daemon's canary fsync */
		return 0;
	}
	if (bpf_map_update_elem(&vfs_fsync_calls, &tid, &call, BPF_ANY))
		count_loss(IOH_LOSS_INFLIGHT_FULL);
	return 0;
}

static __always_inline int vfs_fsync_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vfs_fsync_call *call = bpf_map_lookup_elem(&vfs_fsync_calls, &tid);

	if (!call)
		return 0;
	on_vfs_fsync_return(call->file, call->datasync, ret, call->enter_ns);
	bpf_map_delete_elem(&vfs_fsync_calls, &tid);
	return 0;
}

SEC("fentry/vfs_fsync_range")
int BPF_PROG(fsync_enter_fentry, struct file *file, loff_t start, loff_t end, int datasync)
{
	return vfs_fsync_enter(file, datasync);
}

SEC("fexit/vfs_fsync_range")
int BPF_PROG(fsync_exit_fexit, struct file *file, loff_t start, loff_t end, int datasync, int ret)
{
	return vfs_fsync_exit(ret);
}

SEC("kprobe/vfs_fsync_range")
int BPF_KPROBE(fsync_enter_kprobe, struct file *file, loff_t start, loff_t end, int datasync)
{
	return vfs_fsync_enter(file, datasync);
}

SEC("kretprobe/vfs_fsync_range")
int BPF_KRETPROBE(fsync_exit_kretprobe, long ret)
{
	return vfs_fsync_exit(ret);
}

/* sync_fs: sync(2) is ksys_sync(), syncfs(2) is sync_filesystem() (umount and freeze also
 * call it, and do sync the filesystem), sync_file_range(2) is ksys_sync_file_range(). */

static __always_inline int sync_sb_enter(long nr, struct super_block *sb)
{
	struct syscall_inflight in = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (is_self())
		return 0;
	in.nr = nr;
	in.enter_ns = bpf_ktime_get_ns();
	in.fd = -1;
	if (sb) {
		in.file.dev = BPF_CORE_READ(sb, s_dev);
		in.file.fs_magic = BPF_CORE_READ(sb, s_magic);
	}
	if (bpf_map_update_elem(&inflight, &tid, &in, BPF_ANY))
		count_loss(IOH_LOSS_INFLIGHT_FULL);
	return 0;
}

SEC("fentry/ksys_sync")
int BPF_PROG(sync_fs_sync_fentry)
{
	return sync_sb_enter(NR_sync, NULL);
}

SEC("fexit/ksys_sync")
int BPF_PROG(sync_fs_sync_fexit)
{
	return durability_exit(NR_sync, 0);
}

SEC("fentry/sync_filesystem")
int BPF_PROG(sync_fs_syncfs_fentry, struct super_block *sb)
{
	return sync_sb_enter(NR_syncfs, sb);
}

SEC("fexit/sync_filesystem")
int BPF_PROG(sync_fs_syncfs_fexit, struct super_block *sb, int ret)
{
	return durability_exit(NR_syncfs, ret);
}

static __always_inline int sync_file_range_enter(int fd)
{
	struct sc_args args = {};

	args.a[0] = fd;
	return durability_enter(NR_sync_file_range, &args, false);
}

SEC("fentry/ksys_sync_file_range")
int BPF_PROG(sync_fs_range_fentry, int fd)
{
	return sync_file_range_enter(fd);
}

SEC("fexit/ksys_sync_file_range")
int BPF_PROG(sync_fs_range_fexit, int fd, loff_t offset, loff_t nbytes, unsigned int flags, int ret)
{
	return durability_exit(NR_sync_file_range, ret);
}

SEC("kprobe/ksys_sync")
int BPF_KPROBE(sync_fs_sync_kprobe)
{
	return sync_sb_enter(NR_sync, NULL);
}

SEC("kretprobe/ksys_sync")
int BPF_KRETPROBE(sync_fs_sync_kretprobe)
{
	return durability_exit(NR_sync, 0);
}

SEC("kprobe/sync_filesystem")
int BPF_KPROBE(sync_fs_syncfs_kprobe, struct super_block *sb)
{
	return sync_sb_enter(NR_syncfs, sb);
}

SEC("kretprobe/sync_filesystem")
int BPF_KRETPROBE(sync_fs_syncfs_kretprobe, long ret)
{
	return durability_exit(NR_syncfs, ret);
}

SEC("kprobe/ksys_sync_file_range")
int BPF_KPROBE(sync_fs_range_kprobe, int fd)
{
	return sync_file_range_enter(fd);
}

SEC("kretprobe/ksys_sync_file_range")
int BPF_KRETPROBE(sync_fs_range_kretprobe, long ret)
{
	return durability_exit(NR_sync_file_range, ret);
}

/* opens: every open returns through do_filp_open(); fcntl and close have no narrower
 * function shared by 6.1 and 6.18 than their syscall's own; mappings go through do_mmap(). */

SEC("fexit/do_filp_open")
int BPF_PROG(opens_open_fexit, int dfd, struct filename *pathname, void *op, struct file *ret)
{
	return mixed_io_on_opened(ret);
}

SEC("fexit/" SYSCALL_FN(fcntl))
int BPF_PROG(opens_fcntl_fexit, struct pt_regs *regs, long ret)
{
	if (ret < 0)
		return 0;
	return mixed_io_on_setfl(SC_REGS_ARG_BTF(regs, 0), SC_REGS_ARG_BTF(regs, 1),
				 SC_REGS_ARG_BTF(regs, 2));
}

/* ksys_mmap_pgoff(addr, len, prot, flags, fd, pgoff): mmap(2) itself, 6 arguments (do_mmap has
 * 8, more than 6.1's trampolines take). */
static __always_inline int mmap_syscall(__u64 flags, int fd)
{
	if (flags & MAP_ANONYMOUS_FLAG)
		return 0;
	return mixed_io_on_mmap(fd_to_file(fd));
}

SEC("fentry/ksys_mmap_pgoff")
int BPF_PROG(opens_mmap_fentry, unsigned long addr, unsigned long len, unsigned long prot,
	     unsigned long flags, unsigned long fd)
{
	return mmap_syscall(flags, fd);
}

SEC("fentry/" SYSCALL_FN(close))
int BPF_PROG(opens_close_fentry, struct pt_regs *regs)
{
	return mixed_io_on_close(SC_REGS_ARG_BTF(regs, 0));
}

SEC("kretprobe/do_filp_open")
int BPF_KRETPROBE(opens_open_kretprobe, struct file *ret)
{
	return mixed_io_on_opened(ret);
}

SEC("kprobe/" SYSCALL_FN(fcntl))
int BPF_KPROBE(opens_fcntl_kprobe, struct pt_regs *regs)
{
	return mixed_io_on_setfl(SC_REGS_ARG(regs, 0), SC_REGS_ARG(regs, 1), SC_REGS_ARG(regs, 2));
}

SEC("kprobe/ksys_mmap_pgoff")
int BPF_KPROBE(opens_mmap_kprobe, unsigned long addr, unsigned long len, unsigned long prot,
	       unsigned long flags, unsigned long fd)
{
	return mmap_syscall(flags, fd);
}

SEC("kprobe/" SYSCALL_FN(close))
int BPF_KPROBE(opens_close_kprobe, struct pt_regs *regs)
{
	return mixed_io_on_close(SC_REGS_ARG(regs, 0));
}

/* splice: the syscalls' own functions, timed from entry to return. */

#define SPLICE_FENTRY(call, nr)                                                                    \
	SEC("fentry/" SYSCALL_FN(call))                                                            \
	int BPF_PROG(splice_##call##_fentry, struct pt_regs *regs)                                 \
	{                                                                                          \
		struct sc_args args;                                                               \
		sc_args_from_regs(&args, regs);                                                    \
		return splice_on_enter(nr, &args);                                                 \
	}                                                                                          \
	SEC("fexit/" SYSCALL_FN(call))                                                             \
	int BPF_PROG(splice_##call##_fexit, struct pt_regs *regs, long ret)                        \
	{                                                                                          \
		return splice_on_exit(ret);                                                        \
	}                                                                                          \
	SEC("kprobe/" SYSCALL_FN(call))                                                            \
	int BPF_KPROBE(splice_##call##_kprobe, struct pt_regs *regs)                               \
	{                                                                                          \
		struct sc_args args;                                                               \
		sc_args_from_regs(&args, regs);                                                    \
		return splice_on_enter(nr, &args);                                                 \
	}                                                                                          \
	SEC("kretprobe/" SYSCALL_FN(call))                                                         \
	int BPF_KRETPROBE(splice_##call##_kretprobe, long ret)                                     \
	{                                                                                          \
		return splice_on_exit(ret);                                                        \
	}

SPLICE_FENTRY(splice, NR_splice)
SPLICE_FENTRY(tee, NR_tee)
SPLICE_FENTRY(vmsplice, NR_vmsplice)
SPLICE_FENTRY(sendfile64, NR_sendfile)
SPLICE_FENTRY(copy_file_range, NR_copy_file_range)

/* ---- subsystem tracepoints and functions, every backend ---------------------------------- */

/* direct_io: iomap's direct I/O (ext4, xfs, btrfs). O_DIRECT only: buffered I/O never runs it. */
SEC("tp_btf/iomap_dio_rw_begin")
int BPF_PROG(direct_io_tp_btf, struct kiocb *iocb, struct iov_iter *iter, unsigned int dio_flags,
	     size_t done_before)
{
	return mixed_io_on_dio(iocb, iter);
}

SEC("raw_tp/iomap_dio_rw_begin")
int BPF_PROG(direct_io_raw_tp, struct kiocb *iocb, struct iov_iter *iter, unsigned int dio_flags,
	     size_t done_before)
{
	return mixed_io_on_dio(iocb, iter);
}

SEC("fentry/__iomap_dio_rw")
int BPF_PROG(direct_io_fentry, struct kiocb *iocb, struct iov_iter *iter)
{
	return mixed_io_on_dio(iocb, iter);
}

SEC("fentry/iomap_dio_complete")
int BPF_PROG(direct_io_done_fentry, struct iomap_dio *dio)
{
	return mixed_io_on_dio_complete(dio);
}

SEC("kprobe/__iomap_dio_rw")
int BPF_KPROBE(direct_io_kprobe, struct kiocb *iocb, struct iov_iter *iter)
{
	return mixed_io_on_dio(iocb, iter);
}

/* cache_reads (attached only while an inode is watched): reads through the page cache and
 * faults on file mappings. */
SEC("tp_btf/mm_filemap_get_pages")
int BPF_PROG(cache_reads_get_pages_tp_btf, struct address_space *mapping)
{
	return mixed_io_on_cache_read(mapping);
}

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(cache_reads_fault_tp_btf, struct address_space *mapping, unsigned long index)
{
	return mixed_io_on_fault(mapping);
}

SEC("raw_tp/mm_filemap_get_pages")
int BPF_PROG(cache_reads_get_pages_raw_tp, struct address_space *mapping)
{
	return mixed_io_on_cache_read(mapping);
}

SEC("raw_tp/mm_filemap_fault")
int BPF_PROG(cache_reads_fault_raw_tp, struct address_space *mapping, unsigned long index)
{
	return mixed_io_on_fault(mapping);
}

static __always_inline struct address_space *kiocb_mapping(struct kiocb *iocb)
{
	return BPF_CORE_READ(iocb, ki_filp, f_mapping);
}

SEC("fentry/filemap_read")
int BPF_PROG(cache_reads_read_fentry, struct kiocb *iocb)
{
	return mixed_io_on_cache_read(kiocb_mapping(iocb));
}

SEC("fentry/filemap_splice_read")
int BPF_PROG(cache_reads_splice_fentry, struct file *in)
{
	return mixed_io_on_cache_read(BPF_CORE_READ(in, f_mapping));
}

SEC("fentry/filemap_fault")
int BPF_PROG(cache_reads_fault_fentry, struct vm_fault *vmf)
{
	return mixed_io_on_fault(BPF_CORE_READ(vmf, vma, vm_file, f_mapping));
}

SEC("kprobe/filemap_read")
int BPF_KPROBE(cache_reads_read_kprobe, struct kiocb *iocb)
{
	return mixed_io_on_cache_read(kiocb_mapping(iocb));
}

SEC("kprobe/filemap_splice_read")
int BPF_KPROBE(cache_reads_splice_kprobe, struct file *in)
{
	return mixed_io_on_cache_read(BPF_CORE_READ(in, f_mapping));
}

SEC("kprobe/filemap_fault")
int BPF_KPROBE(cache_reads_fault_kprobe, struct vm_fault *vmf)
{
	return mixed_io_on_fault(BPF_CORE_READ(vmf, vma, vm_file, f_mapping));
}

/* dirty_state: regular files going dirty (page data only) and written back. */
SEC("tp_btf/writeback_mark_inode_dirty")
int BPF_PROG(dirty_state_mark_tp_btf, struct inode *inode, int flags)
{
	return on_mark_inode_dirty(inode, flags, true);
}

SEC("tp_btf/writeback_single_inode")
int BPF_PROG(dirty_state_written_tp_btf, struct inode *inode, struct writeback_control *wbc,
	     unsigned long nr_to_write)
{
	return on_writeback_single_inode(inode, wbc, nr_to_write);
}

SEC("tp_btf/mm_filemap_delete_from_page_cache")
int BPF_PROG(dirty_state_freed_tp_btf, struct folio *folio)
{
	return on_page_cache_delete(folio);
}

SEC("raw_tp/mm_filemap_delete_from_page_cache")
int BPF_PROG(dirty_state_freed_raw_tp, struct folio *folio)
{
	return on_page_cache_delete(folio);
}

/* Without BTF for the tracepoint there is no bpf_task_pt_regs(): O_SYNC/O_DSYNC writes then
 * count as dirtying until their fsync is seen (fsync hook). */
SEC("raw_tp/writeback_mark_inode_dirty")
int BPF_PROG(dirty_state_mark_raw_tp, struct inode *inode, int flags)
{
	return on_mark_inode_dirty(inode, flags, false);
}

SEC("raw_tp/writeback_single_inode")
int BPF_PROG(dirty_state_written_raw_tp, struct inode *inode, struct writeback_control *wbc,
	     unsigned long nr_to_write)
{
	return on_writeback_single_inode(inode, wbc, nr_to_write);
}

/* dirty_throttle: balance_dirty_pages, read as the classic record (stalls.bpf.h). */
SEC("tracepoint/writeback/balance_dirty_pages")
int dirty_throttle_tracepoint(struct trace_event_raw_balance_dirty_pages *ctx)
{
	return on_balance_dirty_pages(ctx);
}

/* writeback_wait: page writeback waits (splice-stall: why a call blocked). */
SEC("tp_btf/folio_wait_writeback")
int BPF_PROG(writeback_wait_tp_btf, struct folio *folio, struct address_space *mapping)
{
	return splice_on_writeback_wait();
}

SEC("raw_tp/folio_wait_writeback")
int BPF_PROG(writeback_wait_raw_tp, struct folio *folio, struct address_space *mapping)
{
	return splice_on_writeback_wait();
}

/* truncate: truncations on data=writeback mounts. */
SEC("tp_btf/ext4_truncate_enter")
int BPF_PROG(truncate_tp_btf, struct inode *inode)
{
	return on_ext4_truncate(inode);
}

SEC("raw_tp/ext4_truncate_enter")
int BPF_PROG(truncate_raw_tp, struct inode *inode)
{
	return on_ext4_truncate(inode);
}
