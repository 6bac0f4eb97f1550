#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run one command inside a qemu VM booting Debian 12's 6.1 kernel, with the project's binaries.
#
# Usage: tests/vm/run-vm.sh [options] -- COMMAND [ARG...]
#   --timeout S        kill the VM after S seconds (default 240); exit status 124
#   --mem MB           guest RAM (default 1024)
#   --smp N            guest CPUs (default 2; TCG runs one host thread per vCPU)
#   --bin FILE         one more program to carry (goes to /ioh/bin, or under /ioh/build when it
#                      lives in $IOH_BUILD); may repeat
#   --add SRC=DEST     copy a file or directory into the guest at DEST; may repeat
#   --module NAME      one more kernel module to load at boot; may repeat
#   --env NAME=VALUE   export NAME in the guest before COMMAND; may repeat
#   --append ARGS      extra kernel command line
#   --qemu-arg ARG     one more qemu argument (e.g. --qemu-arg -icount --qemu-arg shift=0 for
#                      instruction-counted guest time, with --smp 1); may repeat
#   --verbose          print the kernel console (to stderr) even when the run passes
#   --print-hash       print the initramfs content hash and exit (no boot; for the cache test)
#
# Inside the guest: the project build is at /ioh/build (IOH_BUILD), the source's tests/, rules/
# and bench/ at /ioh/src (IOH_SRC, also the working directory), IOH_IN_VM=1 is set, and COMMAND runs
# under bash as root. Its stdout and stderr reach this script's stdout unchanged (a separate
# serial port from the kernel console, so kernel messages cannot split test lines). The last
# line is "IOH-VM-EXIT=<status>"; this script exits with that status, 124 on timeout, and 125
# when the VM ended without the marker (kernel panic, init crash). The kernel console goes to
# $IOH_BUILD/vm/last-console.log and to stderr when the run fails.
#
# The initramfs is rebuilt only when its inputs change (a content hash over the harness, the
# kernel, the project files and the host's installed packages), so repeated runs cost only the
# boot, about 6 s under TCG.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${IOH_SRC:-$(cd "$here/../.." && pwd)}
build=${IOH_BUILD:-$src/build}
die() { echo "run-vm: $*" >&2; exit 125; }

timeout_s=240 mem=1024 smp=2 verbose=0 append='' print_hash=0
bins=() adds=() modules=() envs=() qemu_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout_s=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--bin) bins+=("$2"); shift 2 ;;
	--add) adds+=("$2"); shift 2 ;;
	--module) modules+=("$2"); shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--append) append=$2; shift 2 ;;
	--qemu-arg) qemu_args+=("$2"); shift 2 ;;
	--verbose) verbose=1; shift ;;
	--print-hash) print_hash=1; shift ;;
	--) shift; break ;;
	*) die "unknown option $1 (usage: run-vm.sh [options] -- COMMAND...)" ;;
	esac
done
[ $# -gt 0 ] || [ "$print_hash" = 1 ] || die "no command (usage: run-vm.sh [options] -- COMMAND...)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
[ "$(uname -m)" = x86_64 ] || die "only x86_64 hosts are supported"

mkdir -p "$build/vm"
build=$(cd "$build" && pwd)
vmdir=$build/vm

# ---- kernel -----------------------------------------------------------------------------------
vmlinuz=$("$here/fetch-kernel.sh" "$vmdir")
kdir=$(cd "$(dirname "$vmlinuz")/.." && pwd)
kver=$(cat "$kdir/.kver")

# ---- what goes into the image -----------------------------------------------------------------
# Everything the tests run: the daemon, the CLI, the workloads, the BPF objects, the attach probe.
files=()
for f in "$build/iohazardd" "$build/iohazard" "$build"/*.bpf.o "$build"/workloads/* \
	"$build"/vm/probe/vmprobe \
	"$build"/bench/syscall_loop "${bins[@]}"; do
	[ -f "$f" ] && files+=("$f")
done
# The source's tests/ and rules/ change with every edit, need no libraries and are small: they
# travel in the per-run archive below, so editing a test never rebuilds the cached image.
all_adds=("${adds[@]}")

mk_args=(-k "$kdir" --build-root "$build")
for a in "${all_adds[@]}"; do mk_args+=(--add "$a"); done
for m in "${modules[@]}"; do mk_args+=(--module "$m"); done

# Content hash of every input. dpkg's status file changes whenever a host package (bash, glibc,
# e2fsprogs, ...) is installed or upgraded, which covers the host tools cheaply.
hash=$(
	{
		echo "kernel $kdir"
		printf '%s\n' "${mk_args[@]}" "${files[@]}"
		stat -c '%n %s %Y' /var/lib/dpkg/status
		sha256sum "$here/mkinitramfs.sh" "$here/init.sh"
		[ ${#files[@]} -eq 0 ] || sha256sum "${files[@]}"
		for a in "${all_adds[@]}"; do
			find "${a%%=*}" -type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0r sha256sum
		done
	} | sha256sum | cut -c1-16
)
if [ "$print_hash" = 1 ]; then
	echo "$hash"
	exit 0
fi
# ---- per-run part -----------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ioh-vm.XXXXXX")
tpid='' tailpid=''
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	# Never leave qemu behind: timeout(1) forwards TERM to qemu; KILL it if it lingers.
	if [ -n "$tpid" ] && kill -0 "$tpid" 2>/dev/null; then
		kill -TERM "$tpid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$tpid" 2>/dev/null || break; sleep 0.2; done
		if kill -0 "$tpid" 2>/dev/null; then
			pkill -KILL -P "$tpid" 2>/dev/null || true # qemu, by its parent's pid
			kill -KILL "$tpid" 2>/dev/null || true
		fi
	fi
	if [ -n "$tailpid" ]; then kill "$tailpid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The command travels as /run-test in a second, small cpio archive appended to the cached one
# (the kernel unpacks concatenated archives in order, later files win). That keeps the big image
# cacheable and the command free of kernel command-line quoting and length limits.
mkdir -p "$tmp/root/ioh/src"
for d in tests rules bench; do
	[ -d "$src/$d" ] && cp -a "$src/$d" "$tmp/root/ioh/src/$d"
done
{
	echo '#!/bin/bash'
	echo 'export IOH_BUILD=/ioh/build IOH_SRC=/ioh/src IOH_IN_VM=1'
	echo 'export PATH=/ioh/bin:$PATH'
	for e in "${envs[@]}"; do
		[ "${e%%=*}" != "$e" ] || die "--env wants NAME=VALUE, got $e"
		printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
	done
	echo 'cd /ioh/src'
	printf '%q ' "$@"
	echo
} >"$tmp/root/run-test"
chmod 0755 "$tmp/root/run-test"
(cd "$tmp/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --owner=0:0 |
	gzip -1) >"$tmp/cmd.cpio.gz"
initramfs=$vmdir/initramfs-$hash.cpio.gz
(
	# One builder at a time; a second run waits and then reuses the result. The copy into
	# this run's initrd happens under the same lock, so a concurrent run with other inputs
	# cannot delete the image between build and use.
	flock 9
	if [ -f "$initramfs" ]; then
		echo "run-vm: initramfs $(basename "$initramfs") (cached)" >&2
	else
		"$here/mkinitramfs.sh" -o "$initramfs" "${mk_args[@]}" -- "${files[@]}"
		echo "run-vm: initramfs $(basename "$initramfs") (built)" >&2
		# Keep the cache small: drop images of older inputs.
		find "$vmdir" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -newer "$initramfs" \
			! -name "$(basename "$initramfs")" -delete
	fi
	cat "$initramfs" "$tmp/cmd.cpio.gz" >"$tmp/initrd.gz"
) 9>"$vmdir/.initramfs.lock"

: >"$tmp/test.out"
: >"$tmp/console.log"
start=$(date +%s.%N)
# -accel tcg: KVM hangs on these hosts. -cpu max: all instructions TCG can emulate (the kernel's
# BPF JIT and the host-built binaries use them). -nodefaults: no NIC, no VGA, no disks; the
# guest has no network. ttyS0 = kernel console, ttyS1 = test output.
timeout --kill-after=5 "$timeout_s" \
	qemu-system-x86_64 -nodefaults -no-user-config -display none -monitor none -no-reboot \
	-machine pc -accel tcg -cpu max -smp "$smp" -m "$mem" "${qemu_args[@]}" \
	-kernel "$vmlinuz" -initrd "$tmp/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 $append" \
	-serial "file:$tmp/console.log" -serial "file:$tmp/test.out" \
	</dev/null >"$tmp/qemu.log" 2>&1 &
tpid=$!
# Stream the test channel while the VM runs; tail stops once timeout(1) (and so qemu) exits.
# tail runs in the background and we `wait` for it: bash runs a trap only after a foreground
# child ends, but interrupts `wait`, so a TERM/INT to this script kills the VM at once.
tail -n +1 -s 0.2 -f --pid="$tpid" "$tmp/test.out" &
tailpid=$!
wait "$tailpid" || true
tailpid=
rc=0
wait "$tpid" || rc=$?
tpid=
elapsed=$(echo "$(date +%s.%N) - $start" | bc)

cp "$tmp/console.log" "$vmdir/last-console.log" 2>/dev/null || true
ready=$(sed -n 's/.*ioh-init: ready at \([0-9.]*\)s uptime.*/\1/p' "$tmp/console.log" | tail -n1)
status=$(tr -d '\r' <"$tmp/test.out" | sed -n 's/^IOH-VM-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1)

show_console() {
	echo "run-vm: ---- kernel console ($kver) ----" >&2
	tr -d '\r' <"$tmp/console.log" | sed 's/^/console: /' >&2
	[ -s "$tmp/qemu.log" ] && sed 's/^/qemu: /' "$tmp/qemu.log" >&2
	echo "run-vm: ---- end of console ----" >&2
}

printf 'run-vm: kernel %s, wall %.1fs, guest ready after %ss of guest uptime\n' \
	"$kver" "$elapsed" "${ready:-?}" >&2
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	show_console
	echo "run-vm: timed out after ${timeout_s}s; qemu killed" >&2
	exit 124
fi
if [ -z "$status" ]; then
	show_console
	echo "run-vm: no IOH-VM-EXIT marker (qemu status $rc): the guest crashed or init failed" >&2
	exit 125
fi
# Kernel warnings and oopses matter even when the command passed (a BPF program tripping a
# WARN is a bug); surface them.
if [ "$verbose" = 1 ] || [ "$status" != 0 ] ||
	grep -qE 'BUG:|WARNING:|Oops|Call Trace|general protection' "$tmp/console.log"; then
	show_console
fi
exit "$status"
