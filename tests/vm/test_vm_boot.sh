#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Proves the VM harness: the host refuses fentry (so the VM is needed at all), the VM boots
# Debian's 6.1 kernel with BTF, loop-mounted ext4/xfs/btrfs, and fentry, fexit, kprobe and
# tp_btf attach there. Also checks the harness itself: the guest's exit status comes back, and a
# hung guest is killed at the timeout with no qemu left behind. Reports the boot time.
#
# Run by `tests/run-all.sh BUILD vm` (IOH_BUILD and IOH_SRC exported), or alone:
#   IOH_BUILD=build tests/vm/test_vm_boot.sh
# Needs root (BPF on the host), qemu-system-x86, busybox-static, cpio, clang, bpftool, libbpf-dev.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export IOH_SRC=${IOH_SRC:-$(cd "$here/../.." && pwd)}
export IOH_BUILD=${IOH_BUILD:-$IOH_SRC/build}
mkdir -p "$IOH_BUILD"
IOH_BUILD=$(cd "$IOH_BUILD" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ioh-vmtest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }

# ---- the attach probe, built on the host against the committed vmlinux.h ----------------------
probe=
if probe=$("$here/probe/build.sh" "$IOH_BUILD/vm/probe" 2>"$tmp/build.log"); then
	ok "probe: vmprobe built (clang -target bpf, bpftool gen skeleton, libbpf)"
else
	notok "probe: vmprobe builds"
	sed 's/^/#   /' "$tmp/build.log"
	probe=
fi

# ---- host: the reason the VM exists -----------------------------------------------------------
host_kver=$(uname -r)
if [ -n "$probe" ]; then
	out=$("$probe" fentry 2>/dev/null) && rc=0 || rc=$?
	if [ "$rc" != 0 ] && echo "$out" | grep -q 'errno=1 (EPERM)'; then
		ok "host ($host_kver): fentry on vfs_rename refused with EPERM ($out)"
	else
		notok "host ($host_kver): fentry on vfs_rename expected to fail with EPERM, got: $out"
	fi
	# The same binary must work for a type the host allows, or the EPERM above could be a
	# broken probe rather than the kernel.
	out=$("$probe" tp_btf 2>/dev/null) && rc=0 || rc=$?
	if [ "$rc" = 0 ]; then
		ok "host ($host_kver): tp_btf/sys_enter attaches with the same probe ($out)"
	else
		notok "host ($host_kver): tp_btf/sys_enter attaches with the same probe: $out"
	fi
	# Informational: how kprobes fail here.
	echo "# host kprobe: $("$probe" kprobe 2>/dev/null || true)"
fi

# ---- guest ------------------------------------------------------------------------------------
start=$(date +%s.%N)
rc=0
"$here/run-vm.sh" --timeout 180 -- tests/vm/guest/boot-checks.sh \
	>"$tmp/vm.out" 2>"$tmp/vm.err" || rc=$?
wall=$(echo "$(date +%s.%N) - $start" | bc)
# Pass the guest's TAP lines through unchanged; run-vm's own diagnostics as comments.
grep -v '^IOH-VM-EXIT=' "$tmp/vm.out" || true
sed 's/^/# /' "$tmp/vm.err"
if grep -q '^IOH-VM-EXIT=' "$tmp/vm.out"; then
	ok "vm: guest ran the command and reported IOH-VM-EXIT=$rc"
else
	notok "vm: guest reported IOH-VM-EXIT (run-vm status $rc)"
fi
# The guest printed its own "not ok" lines; only the exit status is left to carry.
[ "$rc" = 0 ] || fails=$((fails + 1))

# ---- harness behaviour ------------------------------------------------------------------------
# Second boot: the cached initramfs is reused and the guest's status is returned as ours.
start=$(date +%s.%N)
rc=0
"$here/run-vm.sh" --timeout 120 -- bash -c 'exit 7' >"$tmp/exit.out" 2>"$tmp/exit.err" || rc=$?
boot=$(echo "$(date +%s.%N) - $start" | bc)
ready=$(sed -n 's/.*guest ready after \([0-9.]*\)s.*/\1/p' "$tmp/exit.err")
if [ "$rc" = 7 ]; then
	ok "harness: guest exit status 7 becomes run-vm's status"
else
	notok "harness: guest exit status 7 becomes run-vm's status (got $rc)"
	sed 's/^/#   /' "$tmp/exit.err"
fi
# The cache: the same inputs must give the same image name and reuse it. Other engineers may
# rebuild $IOH_BUILD between our two boots (a legitimate rebuild), so when the names differ,
# check instead that the hash is stable for inputs that did not change in between.
img1=$(sed -n 's/^run-vm: initramfs \(initramfs-[0-9a-f]*\.cpio\.gz\) .*/\1/p' "$tmp/vm.err")
img2=$(sed -n 's/^run-vm: initramfs \(initramfs-[0-9a-f]*\.cpio\.gz\) .*/\1/p' "$tmp/exit.err")
if [ -n "$img1" ] && [ "$img1" = "$img2" ]; then
	if grep -q "^run-vm: initramfs $img2 (cached)" "$tmp/exit.err"; then
		ok "harness: unchanged inputs reuse the cached initramfs ($img2)"
	else
		notok "harness: unchanged inputs reuse the cached initramfs ($img2 was rebuilt)"
	fi
else
	h1=$("$here/run-vm.sh" --print-hash)
	h2=$("$here/run-vm.sh" --print-hash)
	if [ "$h1" = "$h2" ]; then
		ok "harness: initramfs hash is stable ($h1; the build changed between boots: $img1 -> $img2)"
	else
		notok "harness: initramfs hash is stable ($h1 vs $h2)"
	fi
fi

# A guest that never finishes is killed at --timeout, reported as 124, and no qemu survives.
rc=0
# Its own TMPDIR names this run's qemu (-initrd TMPDIR/ioh-vm.*/initrd.gz): another VM of the
# same build (make bench-vm, a second suite) must not count as "left behind".
mkdir -p "$tmp/to-tmp"
TMPDIR=$tmp/to-tmp "$here/run-vm.sh" --timeout 12 -- sleep 600 >"$tmp/to.out" 2>"$tmp/to.err" || rc=$?
left=$(pgrep -f -- "-initrd $tmp/to-tmp/" || true)
if [ "$rc" = 124 ] && [ -z "$left" ]; then
	ok "harness: a hung guest is killed at the timeout (status 124, no qemu left)"
else
	notok "harness: a hung guest is killed at the timeout (status $rc, qemu left: ${left:-none})"
fi

printf '# boot: full round trip %.1fs wall (guest userspace ready after %ss of guest uptime); boot checks took %.1fs\n' \
	"$boot" "${ready:-?}" "$wall"
if awk -v b="$boot" 'BEGIN { exit !(b < 60) }'; then
	ok "harness: a VM round trip takes under 60 s ($(printf '%.1f' "$boot") s)"
else
	notok "harness: a VM round trip takes under 60 s ($(printf '%.1f' "$boot") s)"
fi

[ "$fails" -eq 0 ]
