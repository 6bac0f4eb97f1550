// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one BPF object of iohazard. Every hook that may be missing on some kernel has twin
 * programs calling one handler; the loader (daemon/loader) probes which attach types work
 * and turns autoload off for the others. Program names are the ABI with the loader:
 * <hook>_<backend>.
 *
 *   hook            preferred            fallbacks
 *   syscalls        tp_btf sys_enter/exit raw_tp
 *   dirty_state     tp_btf writeback_*    raw_tp
 *   rename_identity fentry vfs_rename     kprobe; none (user space resolves names)
 *   fsync           fexit vfs_fsync_range kprobe+kretprobe; none (sys_exit reports fsync)
 *   mapping_faults  tp_btf mm_filemap_fault raw_tp (optional: older kernels lack it)
 *   direct_io       tp_btf iomap_dio_rw_begin raw_tp (optional)
 *   io_uring        tp_btf io_uring_submit_req (optional)
 *   dirty_throttle  tracepoint writeback/balance_dirty_pages (classic record through CO-RE:
 *                   the tp_btf prototype changed in 6.x, see stalls.bpf.h)
 *   writeback_wait  tp_btf folio_wait_writeback raw_tp (optional; splice-stall's "why")
 *   truncate        tp_btf ext4_truncate_enter raw_tp (optional: ext4 may be a module)
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

/* ---- syscalls ---------------------------------------------------------------------------- */

/* Every syscall passes here: each detector's filter is a compare chain on the number, so an
 * unrelated syscall costs a few instructions. */
static __always_inline int sys_enter_common(struct pt_regs *regs, long id)
{
	if (durability_syscall(id))
		return on_sys_enter(regs, id);
	if (splice_syscall(id))
		return splice_on_enter(regs, id);
	if (id == NR_close)
		return mixed_io_on_close(regs);
	return mixed_io_on_rw(regs, id);
}

static __always_inline int sys_exit_common(struct pt_regs *regs, long nr, long ret)
{
	if (durability_syscall(nr))
		return on_sys_exit(nr, ret);
	if (mixed_io_open_syscall(nr))
		return mixed_io_on_open_exit(regs, nr, ret);
	if (splice_syscall(nr))
		return splice_on_exit(ret);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(syscalls_enter_tp_btf, struct pt_regs *regs, long id)
{
	return sys_enter_common(regs, id);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscalls_exit_tp_btf, struct pt_regs *regs, long ret)
{
	return sys_exit_common(regs, SYSCALL_NR_BTF(regs), ret);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(syscalls_enter_raw_tp, struct pt_regs *regs, long id)
{
	return sys_enter_common(regs, id);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(syscalls_exit_raw_tp, struct pt_regs *regs, long ret)
{
	return sys_exit_common(regs, SYSCALL_NR(regs), ret);
}

/* ---- page faults on file mappings (mixed O_DIRECT/page cache: mmap readers) ---------------- */

SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(mapping_faults_tp_btf, struct address_space *mapping, unsigned long index)
{
	return mixed_io_on_fault(mapping);
}

SEC("raw_tp/mm_filemap_fault")
int BPF_PROG(mapping_faults_raw_tp, struct address_space *mapping, unsigned long index)
{
	return mixed_io_on_fault(mapping);
}

/* ---- dirty state of regular files ---------------------------------------------------------- */

SEC("tp_btf/writeback_mark_inode_dirty")
int BPF_PROG(dirty_state_mark_tp_btf, struct inode *inode, int flags)
{
	return on_mark_inode_dirty(inode, flags);
}

SEC("tp_btf/writeback_single_inode")
int BPF_PROG(dirty_state_written_tp_btf, struct inode *inode, struct writeback_control *wbc,
	     unsigned long nr_to_write)
{
	return on_writeback_single_inode(inode, wbc, nr_to_write);
}

SEC("raw_tp/writeback_mark_inode_dirty")
int BPF_PROG(dirty_state_mark_raw_tp, struct inode *inode, int flags)
{
	return on_mark_inode_dirty(inode, flags);
}

SEC("raw_tp/writeback_single_inode")
int BPF_PROG(dirty_state_written_raw_tp, struct inode *inode, struct writeback_control *wbc,
	     unsigned long nr_to_write)
{
	return on_writeback_single_inode(inode, wbc, nr_to_write);
}

/* ---- identity of renamed inodes ------------------------------------------------------------ */

SEC("fentry/vfs_rename")
int BPF_PROG(rename_identity_fentry, void *rd)
{
	return on_vfs_rename(rd);
}

SEC("kprobe/vfs_rename")
int BPF_KPROBE(rename_identity_kprobe, void *rd)
{
	return on_vfs_rename(rd);
}

/* ---- fsync from the VFS ---------------------------------------------------------------------- */

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

	if (is_self())
		return 0;
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
int BPF_PROG(fsync_exit_fexit, struct file *file, loff_t start, loff_t end, int datasync,
	     int ret)
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

/* ---- I/O submitted through io_uring (mixed O_DIRECT/page cache) ------------------------------ */

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(io_uring_tp_btf, struct io_kiocb *req)
{
	return mixed_io_on_uring(req);
}

/* ---- direct I/O through iomap (ext4, xfs, btrfs) --------------------------------------------- */

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

/* ---- dirty throttling (balance_dirty_pages) -------------------------------------------------- */

SEC("tracepoint/writeback/balance_dirty_pages")
int dirty_throttle_tracepoint(struct trace_event_raw_balance_dirty_pages *ctx)
{
	return on_balance_dirty_pages(ctx);
}

/* ---- page writeback waits (splice-stall: why a call blocked) --------------------------------- */

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

/* ---- truncations on data=writeback mounts ------------------------------------------------------ */

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
