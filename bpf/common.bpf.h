/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every hook shares: the ring buffer and its loss counters, the record header, and
 * resolving kernel objects (fd, file, inode) into ioh_file_id.
 */
#ifndef IOH_COMMON_BPF_H
#define IOH_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "iohazard.h"

#define AT_FDCWD -100

/* The architecture: syscall numbers, flag values that differ, syscall registers. */
#if defined(__TARGET_ARCH_x86)
#include "arch/x86.bpf.h"
#elif defined(__TARGET_ARCH_arm64)
#include "arch/arm64.bpf.h"
#else
#error "no bpf/arch/ header for this architecture (see docs/kernels.md)"
#endif

/* Syscall argument n (0-5) in a struct pt_regs (registers SC_REG0-5: bpf/arch/): read through
 * CO-RE, or loaded directly from the BTF-typed pointer an fentry/fexit program receives. */
#define SC_REGS_ARG(regs, n) BPF_CORE_READ(regs, SC_REG##n)
#define SC_REGS_ARG_BTF(regs, n) ((regs)->SC_REG##n)

#define S_IFMT 00170000
#define S_IFREG 0100000
#define S_IFDIR 0040000

/* The daemon's own tgid: its own I/O (record files, textfile output) is not reported. */
const volatile __u32 self_tgid = 0;

/* One ring buffer for every record type: it keeps the order of events across CPUs, which the
 * correlator relies on (an fsync must be seen after the rename it follows). The loader sizes
 * it (--ringbuf-size). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Lost records per enum ioh_loss_where, per CPU so counting never contends. User space sums
 * the CPUs and reports deltas (iohazard_events_lost_total{where}, "degraded" findings). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOH_LOSS__MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * Waking the daemon for every record costs a context switch per event, which dominated the
 * daemon's cost on rename-heavy loops. Records are committed without a wakeup; the daemon
 * drains the buffer on its 200 ms tick anyway, and is woken early only once the buffer holds
 * more than this many bytes (the loader sets a quarter of the buffer).
 */
const volatile __u64 ringbuf_wakeup_bytes = 1 << 20;

static __always_inline __u64 ringbuf_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > ringbuf_wakeup_bytes
		   ? BPF_RB_FORCE_WAKEUP
		   : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_loss(__u32 where)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &where);

	if (n)
		*n += 1; /* per-CPU slot: no other writer */
}

/*
 * Submit a record whose leaf-first path (path_len bytes) follows its fixed part in a per-CPU
 * scratch buffer: only the bytes used go to the ring. The length is clamped where the verifier
 * can see it (a copy of the register would not bound the one passed to the helper); hdr->size
 * says the submitted size. A full ring counts a loss at `where`.
 */
static __always_inline void output_with_path(void *rec, __u32 fixed_size, struct ioh_event_hdr *hdr,
					     __u16 path_len, __u32 where, __u64 flags)
{
	__u64 used = path_len;

	barrier_var(used);
	if (used > IOH_DIR_PATH_REGION)
		used = IOH_DIR_PATH_REGION;
	hdr->size = fixed_size + used;
	if (bpf_ringbuf_output(&events, rec, fixed_size + used, flags))
		count_loss(where);
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline bool is_self(void)
{
	return current_tgid() == self_tgid;
}

static __always_inline void fill_header(struct ioh_event_hdr *hdr, __u16 type, __u16 size)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	hdr->type = type;
	hdr->size = size;
	hdr->flags = 0;
	hdr->pid = pid_tgid >> 32;
	hdr->tid = (__u32)pid_tgid;
	hdr->ts_ns = bpf_ktime_get_ns();
	hdr->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(hdr->comm, sizeof(hdr->comm));
}

/*
 * Reserve a fixed-size record of `type` in the ring buffer and fill its header, or count a
 * loss at `where` and return NULL when the ring is full. The caller fills the rest and sends
 * it with bpf_ringbuf_submit(rec, ringbuf_flags()).
 */
static __always_inline void *reserve_record(__u32 size, __u16 type, __u32 where)
{
	struct ioh_event_hdr *hdr = bpf_ringbuf_reserve(&events, size, 0);

	if (!hdr) {
		count_loss(where);
		return NULL;
	}
	fill_header(hdr, type, size);
	return hdr;
}

#define BTRFS_SUPER_MAGIC 0x9123683E
#define EXT4_SUPER_MAGIC 0xEF53
#define XFS_SUPER_MAGIC 0x58465342

/*
 * The device number stat(2) reports for an inode, which is what user space resolves names
 * to. It is the superblock's s_dev except on btrfs, where every subvolume has its own
 * anonymous device (and inode numbers restart per subvolume): there, the subvolume root's
 * anon_dev, or two subvolumes' inodes would be confused.
 */
static __always_inline __u32 inode_dev(struct inode *inode)
{
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);

	if (bpf_core_type_exists(struct btrfs_inode) &&
	    BPF_CORE_READ(sb, s_magic) == BTRFS_SUPER_MAGIC) {
		struct btrfs_inode *bi = container_of(inode, struct btrfs_inode, vfs_inode);
		__u32 anon = BPF_CORE_READ(bi, root, anon_dev);

		if (anon)
			return anon;
	}
	return BPF_CORE_READ(sb, s_dev);
}

static __always_inline void file_id_from_inode(struct ioh_file_id *id, struct inode *inode)
{
	if (!inode)
		return;
	id->dev = inode_dev(inode);
	id->ino = BPF_CORE_READ(inode, i_ino);
	id->mode = BPF_CORE_READ(inode, i_mode);
	id->fs_magic = BPF_CORE_READ(inode, i_sb, s_magic);
	id->gen = BPF_CORE_READ(inode, i_generation);
}

/*
 * The key of every per-inode table: device, inode number and generation. ext4 and xfs hand a
 * deleted file's inode number to the next file at once; without the generation a new file
 * would inherit the old one's state (its "dirty, never synced", its O_DIRECT side).
 */
static __always_inline void inode_key(struct inode *inode, struct ioh_inode_key *key)
{
	key->dev = inode_dev(inode);
	key->gen = BPF_CORE_READ(inode, i_generation);
	key->ino = BPF_CORE_READ(inode, i_ino);
}

static __always_inline void inode_key_of_id(const struct ioh_file_id *id, struct ioh_inode_key *key)
{
	key->dev = id->dev;
	key->gen = id->gen;
	key->ino = id->ino;
}

/*
 * A syscall's six arguments, however the hook got them: from a per-syscall tracepoint's record
 * (tracepoint backend) or from the pt_regs a syscall's own function (SYSCALL_FN():
 * __x64_sys_*) receives (fentry and kprobe backends). Handlers take this, so one handler
 * serves every backend.
 */
struct sc_args {
	__u64 a[6];
};

/* The record of a per-syscall tracepoint (syscalls:sys_enter_X): stable since 2.6.33. Only the
 * arguments the syscall has are in it, and the kernel refuses to attach (EACCES) a program
 * whose direct context reads go past the record of any syscall it is attached to: programs
 * serving several syscalls copy the arguments with sc_args_from_record(). */
struct sc_enter_record {
	__u64 common; /* struct trace_entry */
	__s32 nr;
	__u32 _pad;
	__u64 args[6];
};

struct sc_exit_record {
	__u64 common;
	__s32 nr;
	__u32 _pad;
	__s64 ret;
};

/* The arguments in the pt_regs a syscall's own function receives (bpf/arch/). */
static __always_inline void sc_args_from_regs(struct sc_args *a, struct pt_regs *regs)
{
	a->a[0] = SC_REGS_ARG(regs, 0);
	a->a[1] = SC_REGS_ARG(regs, 1);
	a->a[2] = SC_REGS_ARG(regs, 2);
	a->a[3] = SC_REGS_ARG(regs, 3);
	a->a[4] = SC_REGS_ARG(regs, 4);
	a->a[5] = SC_REGS_ARG(regs, 5);
}

/* Copies the first `n` arguments (the ones this syscall has) of a sys_enter_X record. */
static __always_inline void sc_args_from_record(struct sc_args *a, struct sc_enter_record *rec,
						__u32 n)
{
	__builtin_memset(a, 0, sizeof(*a));
	if (n > 6)
		n = 6;
	if (n)
		bpf_probe_read_kernel(a->a, n * sizeof(__u64), rec->args);
}

/* The struct file behind `fd` in the current task, or NULL. Bounded by fdt->max_fds. */
static __always_inline struct file *fd_to_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

static __always_inline struct inode *file_inode_of(struct file *file)
{
	return file ? BPF_CORE_READ(file, f_inode) : NULL;
}

#endif
