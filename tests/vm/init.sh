#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the iohazard test VM (installed by tests/vm/mkinitramfs.sh). Runs as PID 1 under
# busybox ash: sets up the mounts a BPF daemon expects on a normal host, loads the modules the
# tests need, runs one command and powers off.
#
# Channels: the kernel console is ttyS0; the test command's stdout/stderr go to ttyS1, which
# run-vm.sh streams to its stdout unchanged. Keeping kernel messages off the test channel
# means a printk can never split an "ok - ..." line. The last line on ttyS1 is always
# "IOH-VM-EXIT=<status>"; if it is missing the VM crashed or timed out.
#
# The command is, in order of preference:
#   ioh.cmd=<base64 of a bash command line> on the kernel command line
#   /run-test (a bash script; run-vm.sh appends it as a second cpio archive)
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
TERM=dumb
export PATH HOME TERM

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# bash process substitution and many scripts need /dev/fd; devtmpfs does not create it.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr

out=/dev/ttyS1
# Raw mode: no \n -> \r\n translation, so lines reach the host byte for byte.
stty -F "$out" raw -echo 2>/dev/null

mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /var/tmp /mnt
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ip link set lo up 2>/dev/null
hostname ioh-vm
# The daemon raises RLIMIT_MEMLOCK itself on old kernels, but tools like bpftool may not.
# shellcheck disable=SC3045 # busybox ash supports -l
ulimit -l unlimited 2>/dev/null

kver=$(uname -r)
# /etc/ioh/modules: "group path [params]" a line, dependencies first within a group. Group 0
# (modules several others need) loads first; the other groups are independent chains (loop;
# xfs; xor, raid6_pq, zstd_compress, btrfs) and load in parallel because each big module costs
# about a second under TCG.
load_group() { # group number
	while read -r g mod params; do
		[ "$g" = "$1" ] || continue
		# shellcheck disable=SC2086 # params are word-split on purpose
		insmod "/lib/modules/$kver/$mod" $params 2>/dev/console ||
			echo "ioh-init: insmod $mod failed" >/dev/console
	done </etc/ioh/modules
}
if [ -f /etc/ioh/modules ]; then
	load_group 0
	for g in $(cut -d' ' -f1 /etc/ioh/modules | sort -un); do
		[ "$g" = 0 ] || load_group "$g" &
	done
	wait
fi
# loop was loaded with max_loop=8 so /dev/loop0..7 exist; losetup -f also works via
# /dev/loop-control. If loop is built in, make the nodes anyway.
for i in 0 1 2 3 4 5 6 7; do
	[ -e /dev/loop$i ] || mknod /dev/loop$i b 7 $i 2>/dev/null
done

echo "ioh-init: ready at $(cut -d' ' -f1 /proc/uptime)s uptime, kernel $kver" >/dev/console

cmd=
for w in $(cat /proc/cmdline); do
	case $w in
	ioh.cmd=*) cmd=${w#ioh.cmd=} ;;
	esac
done

cd /ioh/src 2>/dev/null || cd /
if [ -n "$cmd" ]; then
	printf '%s' "$cmd" | base64 -d >/tmp/.ioh-cmd
	/bin/bash /tmp/.ioh-cmd </dev/null >"$out" 2>&1
	rc=$?
elif [ -f /run-test ]; then
	/bin/bash /run-test </dev/null >"$out" 2>&1
	rc=$?
else
	echo "ioh-init: no ioh.cmd= on the kernel command line and no /run-test" >"$out"
	rc=127
fi

echo "ioh-init: command finished with status $rc at $(cut -d' ' -f1 /proc/uptime)s" >/dev/console
sync
echo "IOH-VM-EXIT=$rc" >"$out"
poweroff -f
# poweroff -f does not return; if it somehow does, exiting PID 1 panics and panic=-1 with
# qemu's -no-reboot ends the VM.
exit "$rc"
