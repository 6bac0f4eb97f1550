// SPDX-License-Identifier: GPL-2.0-only
/*
 * Self-contained attach probe for the VM harness (tests/vm/test_vm_boot.sh). One program per
 * attach type the daemon's backends use; user space (vmprobe.c) loads exactly one of them,
 * triggers it and checks it fired. It shares nothing with bpf/iohazard.bpf.c on purpose: the
 * harness must be provable before (and independently of) the daemon.
 *
 * The rename programs also read the renamed file's name through CO-RE
 * (renamedata->old_dentry->d_name.name). struct renamedata differs between 6.1 (old_dir,
 * old_mnt_userns) and the 6.18 vmlinux.h this is built against (old_parent, mnt_idmap), so a
 * correct name proves relocation against the running kernel's BTF works, not only attaching.
 * (fexit sees the new name: vfs_rename has d_move()d the dentry by then.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load: only count events from the probe process itself. */
const volatile __u32 target_tgid = 0;

__u64 hits = 0;
char name[32] = {};

static __always_inline bool mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void record_rename(struct renamedata *rd)
{
	const unsigned char *n = BPF_CORE_READ(rd, old_dentry, d_name.name);

	bpf_probe_read_kernel_str(name, sizeof(name), n);
	__sync_fetch_and_add(&hits, 1);
}

SEC("fentry/vfs_rename")
int BPF_PROG(fentry_rename, struct renamedata *rd)
{
	if (mine())
		record_rename(rd);
	return 0;
}

SEC("fexit/vfs_rename")
int BPF_PROG(fexit_rename, struct renamedata *rd, int ret)
{
	if (mine() && ret == 0)
		record_rename(rd);
	return 0;
}

SEC("kprobe/vfs_rename")
int BPF_KPROBE(kprobe_rename, struct renamedata *rd)
{
	if (mine())
		record_rename(rd);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(tp_sys_enter, struct pt_regs *regs, long id)
{
	if (mine()) {
		__sync_fetch_and_add(&hits, 1);
		name[0] = 's'; /* marks that the syscall path ran; checked as "s" by user space */
		name[1] = 0;
	}
	return 0;
}
