#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs INSIDE the test VM (tests/vm/test_vm_boot.sh starts it through run-vm.sh): checks that
# the guest is the kernel and environment the fentry/kprobe tests rely on. One "ok - ..." or
# "not ok - ..." line per check; every check runs even when an earlier one failed.
set -uo pipefail

fails=0
check() { # description, command...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "ok - vm: $desc"
	else
		echo "not ok - vm: $desc"
		echo "$out" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
}

kernel_is_61() { uname -r | grep -q '^6\.1\.'; }
check "kernel is 6.1 ($(uname -r))" kernel_is_61
check "BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux
check "bpffs, tracefs, debugfs and cgroup2 mounted" \
	bash -c 'for m in /sys/fs/bpf:bpf /sys/kernel/tracing:tracefs /sys/kernel/debug:debugfs \
		/sys/fs/cgroup:cgroup2; do findmnt -n -t "${m#*:}" "${m%%:*}" >/dev/null || exit 1; done'

# A loop-mounted image of each file system the daemon's tests use: make it, mount it, write and
# read back a file with fsync, unmount. Sparse files on the guest's /tmp (tmpfs) cost only the
# blocks mkfs writes. xfs needs at least 300 MB.
fs_roundtrip() { # fstype, size
	local fs=$1 size=$2 img=/tmp/fs-$1.img mnt=/mnt/$1
	truncate -s "$size" "$img" || return 1
	case $fs in
	ext4) mkfs.ext4 -q -F "$img" ;;
	xfs) mkfs.xfs -q -f "$img" ;;
	btrfs) mkfs.btrfs -q -f "$img" >/dev/null ;;
	esac || return 1
	mkdir -p "$mnt"
	mount -o loop -t "$fs" "$img" "$mnt" || return 1
	local rc=0
	{ echo "iohazard $fs" >"$mnt/f" && sync "$mnt/f" && [ "$(cat "$mnt/f")" = "iohazard $fs" ] &&
		mv "$mnt/f" "$mnt/g" && findmnt -n -t "$fs" "$mnt" >/dev/null; } || rc=1
	umount "$mnt" || rc=1
	rm -f "$img"
	return "$rc"
}
check "ext4 on a loop device" fs_roundtrip ext4 64M
check "xfs on a loop device" fs_roundtrip xfs 320M
check "btrfs on a loop device" fs_roundtrip btrfs 256M

probe=$IOH_BUILD/vm/probe/vmprobe
for t in fentry fexit kprobe tp_btf; do
	case $t in
	fentry) what="fentry on vfs_rename" ;;
	fexit) what="fexit on vfs_rename" ;;
	kprobe) what="kprobe on vfs_rename" ;;
	tp_btf) what="tp_btf/sys_enter" ;;
	esac
	if [ ! -x "$probe" ]; then
		echo "not ok - vm: $what attaches (no $probe)"
		fails=$((fails + 1))
		continue
	fi
	out=$("$probe" "$t" 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok - vm: $what attaches and fires ($(echo "$out" | grep '^attach'))"
	else
		echo "not ok - vm: $what attaches and fires"
		echo "$out" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
done

exit $((fails > 0))
