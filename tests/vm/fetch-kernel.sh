#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch Debian 12's own 6.1 cloud kernel for the test VM and print the path of its vmlinuz.
#
# Usage: tests/vm/fetch-kernel.sh [OUTDIR]
#   OUTDIR defaults to $IOH_BUILD/vm when IOH_BUILD is set, else build/vm.
#
# Why this kernel: the development machines run 6.18, where only the tracepoint backend loads
# (fentry gets EPERM, kprobes are not built in). Debian's 6.1 kernel has BPF trampolines,
# kprobes and BTF, so booting it under qemu covers the fentry and kprobe backends. The
# "-unsigned" cloud flavour is small (no hardware drivers we do not need) and its modules can be
# loaded without Debian's signing key (MODULE_SIG is not forced).
#
# Layout of OUTDIR:
#   debs/                     downloaded .deb files (cache; never re-downloaded)
#   kernel-<pkgname>/         dpkg -x of the package, plus a modules.dep we generate
#   current -> kernel-<...>   the newest extracted kernel (used when apt cannot answer)
#
# Idempotent: a second run with the same archive state only checks apt's cache and prints the
# path. Safe to run concurrently (flock on OUTDIR/.lock).
set -euo pipefail

die() { echo "fetch-kernel: $*" >&2; exit 1; }

if [ $# -ge 1 ] && [ -n "$1" ]; then
	out=$1
elif [ -n "${IOH_BUILD:-}" ]; then
	out=$IOH_BUILD/vm
else
	out=build/vm
fi
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)

# One fetch at a time: two test scripts starting together must not both extract into the same
# directory.
exec 9>"$out/.lock"
flock 9

# Newest 6.1 cloud kernel apt knows about. The regex pins the 6.1.0-N ABI names so 6.12 backports
# (linux-image-6.12.*+deb12-cloud-amd64-unsigned) are not picked up. `sort -V` orders N
# numerically (6.1.0-9 < 6.1.0-56).
newest_pkg() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n1
}

# apt-cache costs most of a second; remember its answer until apt's lists change (their
# directory's mtime moves on every `apt-get update`).
lists_stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo none)
pkg=
if [ -f "$out/.resolved" ] && [ "$(sed -n 1p "$out/.resolved")" = "$lists_stamp" ]; then
	pkg=$(sed -n 2p "$out/.resolved")
fi
if [ -z "$pkg" ]; then
	pkg=$(newest_pkg || true)
	[ -n "$pkg" ] && printf '%s\n%s\n' "$lists_stamp" "$pkg" >"$out/.resolved"
fi
if [ -z "$pkg" ]; then
	# apt lists may be missing (fresh container without `apt-get update`). Fall back to whatever
	# we extracted before so offline re-runs still work.
	if [ -e "$out/current/.complete" ]; then
		pkg=$(cat "$out/current/.package")
		echo "fetch-kernel: apt-cache knows no 6.1 cloud kernel; using cached $pkg" >&2
	else
		die "apt-cache knows no linux-image-6.1.0-*-cloud-amd64-unsigned; run 'apt-get update'"
	fi
fi

kdir=$out/kernel-$pkg
if [ ! -e "$kdir/.complete" ]; then
	deb=$(ls "$out"/debs/"${pkg}"_*.deb 2>/dev/null | sort -V | tail -n1 || true)
	if [ -z "$deb" ]; then
		echo "fetch-kernel: downloading $pkg" >&2
		# apt-get download writes into the current directory. It runs as root here, so apt
		# warns that the _apt sandbox user cannot write the directory; the download itself
		# works, hence the filter.
		(cd "$out/debs" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed as root' >&2) ||
			true
		deb=$(ls "$out"/debs/"${pkg}"_*.deb 2>/dev/null | sort -V | tail -n1 || true)
		[ -n "$deb" ] || die "apt-get download $pkg failed"
	fi
	# Extract into a temporary directory and rename, so an interrupted run never leaves a
	# half-extracted kernel that a later run would trust.
	tmp=$(mktemp -d "$out/.extract.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg -x "$deb" "$tmp"
	kver=$(ls "$tmp/lib/modules")
	[ -f "$tmp/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in $deb"
	# The package ships no modules.dep (its postinst runs depmod). busybox's depmod writes one
	# that mkinitramfs.sh reads to pull in module dependencies (xfs needs libcrc32c, btrfs needs
	# xor, raid6_pq, zstd_compress, libcrc32c).
	busybox depmod -b "$tmp" "$kver"
	echo "$pkg" >"$tmp/.package"
	echo "$kver" >"$tmp/.kver"
	basename "$deb" >"$tmp/.deb"
	touch "$tmp/.complete"
	rm -rf "$kdir"
	mv "$tmp" "$kdir"
	trap - EXIT
fi
ln -sfn "kernel-$pkg" "$out/current.tmp" && mv -T "$out/current.tmp" "$out/current"

kver=$(cat "$kdir/.kver")
echo "$kdir/boot/vmlinuz-$kver"
