#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the initramfs of the iohazard test VM: busybox-static, bash and the GNU tools the
# project's test scripts use, mkfs for ext4/xfs/btrfs, the project's binaries with every shared
# library they link, the kernel modules the tests need, and tests/vm/init.sh as /init.
#
# Usage: tests/vm/mkinitramfs.sh -k KERNEL_DIR -o OUT.cpio.gz [options] [--] [FILE...]
#   -k DIR            kernel package extracted by fetch-kernel.sh (has lib/modules/<ver>/)
#   -o FILE           output (cpio newc, gzip)
#   --build-root DIR  FILEs under DIR go to /ioh/build/<path relative to DIR> (so the layout of
#                     the build directory is kept); other FILEs go to /ioh/bin/<name>
#   --add SRC=DEST    copy a file or directory into the image at DEST (e.g. tests=/ioh/src/tests);
#                     a directory merges into an existing one
#   --host-bin PATH   one more host program to copy, with its libraries
#   --module NAME     one more kernel module to load at boot (its dependencies come along)
#   --run-test FILE   install FILE as /run-test (what /init runs when the kernel command line
#                     has no ioh.cmd=)
#   FILE...           project programs (ELF or scripts); ELF files bring their libraries
#
# Why an initramfs and not a disk image: it needs no root, no partitioning, no guest package
# manager, and it builds in a second or two from what is already installed on the host. The
# guest shares the host's glibc because the libraries are copied from the host, so binaries built
# here run there unchanged.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "mkinitramfs: $*" >&2; exit 1; }

kdir='' out='' build_root='' run_test=''
adds=() host_bins=() modules=() files=()
while [ $# -gt 0 ]; do
	case $1 in
	-k) kdir=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	--build-root) build_root=$(cd "$2" && pwd); shift 2 ;;
	--add) adds+=("$2"); shift 2 ;;
	--host-bin) host_bins+=("$2"); shift 2 ;;
	--module) modules+=("$2"); shift 2 ;;
	--run-test) run_test=$2; shift 2 ;;
	--) shift; files+=("$@"); break ;;
	-*) die "unknown option $1" ;;
	*) files+=("$1"); shift ;;
	esac
done
if [ -z "$kdir" ] || [ -z "$out" ]; then
	die "usage: mkinitramfs.sh -k KERNEL_DIR -o OUT [options] [FILE...]"
fi
kver=$(cat "$kdir/.kver" 2>/dev/null || ls "$kdir/lib/modules")
moddir=$kdir/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep missing (run fetch-kernel.sh)"

root=$(mktemp -d "${TMPDIR:-/tmp}/ioh-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

# Merged /usr like the Debian 12 host, so the paths ldd prints (/lib/x86_64-linux-gnu/...,
# /lib64/ld-linux-x86-64.so.2) and the ones in shebangs (/bin/bash) all resolve.
mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{proc,sys,dev,tmp,run,root,etc,var,mnt}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done

declare -A copied=()

# Copy one host file to the same path inside the image (following symlinks for the content but
# also recreating the link name, so both /usr/lib/x86_64-linux-gnu/libz.so.1 and its target
# exist when a program or library names either).
copy_path() {
	local src=$1 dest=${2:-$1}
	[ -n "${copied[$dest]:-}" ] && return 0
	copied[$dest]=1
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$src" "$root$dest"
}

# Copy an ELF program and every shared library it links, including the dynamic loader. Static
# programs (busybox) make ldd fail with "not a dynamic executable", which is fine.
copy_libs() {
	local f=$1 lib
	file_is_elf "$f" || return 0
	while read -r lib; do
		[ -n "$lib" ] && copy_path "$lib"
	done < <(ldd "$f" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }')
}

file_is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

copy_bin() { # host program, same path inside
	local p=$1
	[ -e "$p" ] || return 0
	copy_path "$p"
	copy_libs "$p"
}

# ---- busybox ----------------------------------------------------------------------------------
command -v busybox >/dev/null || die "busybox not found (apt-get install busybox-static)"
bb=$(command -v busybox)
file_is_elf "$bb" && ldd "$bb" >/dev/null 2>&1 && die "$bb is dynamic; install busybox-static"
cp "$bb" "$root/usr/bin/busybox"

# ---- host tools -------------------------------------------------------------------------------
# bash runs the project's tests. GNU coreutils, grep, sed, findutils, procps and util-linux
# replace busybox applets because the tests are written against the host's tools (GNU options
# like `stat -c`, `date +%s%N`, `timeout -k`, `pgrep -f`, and programs busybox lacks:
# mountpoint, flock, pgrep, pkill, findmnt). mkfs.* make the loop-mounted file systems. jq reads
# the daemon's JSON (findings, status) in the guest, which has no python.
host_tools=(
	/bin/bash
	/usr/bin/awk /usr/bin/mawk /usr/bin/gawk
	/bin/grep /bin/sed /usr/bin/find /usr/bin/xargs
	/usr/bin/ps /usr/bin/pgrep /usr/bin/pkill /usr/bin/pidof /usr/bin/free
	/bin/mount /bin/umount /sbin/losetup /bin/mountpoint /usr/bin/flock /bin/findmnt
	/usr/bin/unshare /usr/bin/nsenter /usr/bin/setsid /usr/bin/taskset /bin/dmesg /sbin/blkid
	/sbin/blockdev /sbin/wipefs /sbin/fstrim /usr/bin/fallocate
	/sbin/mkfs.ext4 /sbin/mke2fs /sbin/tune2fs
	/sbin/mkfs.xfs /usr/sbin/xfs_io
	/sbin/mkfs.btrfs
	/usr/sbin/bpftool
	/usr/bin/jq
)
# All of coreutils, whatever its version ships.
while read -r p; do
	case $p in /usr/bin/* | /bin/* | /usr/sbin/* | /sbin/*) host_tools+=("$p") ;; esac
done < <(dpkg -L coreutils 2>/dev/null)
for p in "${host_tools[@]}" "${host_bins[@]}"; do
	if [ -f "$p" ] && [ -x "$p" ]; then
		copy_bin "$p"
	fi
done
# Config files the tools read (mke2fs.conf picks the same ext4 features as on the host).
for f in /etc/mke2fs.conf /etc/ld.so.conf; do [ -f "$f" ] && copy_path "$f"; done

# Busybox applets fill in whatever the host tools did not provide (sh, insmod, poweroff, ip,
# stty, base64, ...). Never overwrite a real program with an applet.
while read -r a; do
	[ -n "$a" ] || continue
	if [ ! -e "$root/$a" ] && [ ! -L "$root/$a" ]; then
		mkdir -p "$root/$(dirname "$a")"
		ln -s /usr/bin/busybox "$root/$a"
	fi
done < <("$root/usr/bin/busybox" --list-full)

# Minimal identity files so `id`, `ls -l`, `whoami` print names, and nobody exists for
# privilege-drop tests.
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo "hosts: files" >"$root/etc/nsswitch.conf"
echo "127.0.0.1 localhost ioh-vm" >"$root/etc/hosts"
: >"$root/etc/fstab"
ln -sf /proc/self/mounts "$root/etc/mtab"

# ---- kernel modules ---------------------------------------------------------------------------
# The cloud kernel builds ext4 in but has loop, xfs and btrfs as modules; load them with their
# dependencies in order. Modules that are built in (listed in modules.builtin) are skipped.
want_modules=(loop xfs btrfs "${modules[@]}")
mod_path() { # module name -> path relative to moddir, empty if builtin/unknown
	local n=${1//-/_}
	awk -F: -v n="$n" '{ p=$1; b=p; sub(/.*\//, "", b); sub(/\.ko.*$/, "", b); gsub(/-/, "_", b)
		if (b == n) { print p; exit } }' "$moddir/modules.dep"
}
# One chain per wanted module: its dependency closure, dependencies first. modules.dep lists
# the full closure of each module with the direct dependencies first, so loading it back to
# front satisfies each module's own needs before it loads.
chains=()
for m in "${want_modules[@]}"; do
	p=$(mod_path "$m")
	if [ -z "$p" ]; then
		grep -q "/${m//_/[_-]}\.ko" "$moddir/modules.builtin" 2>/dev/null ||
			echo "mkinitramfs: module $m neither built in nor found; skipped" >&2
		continue
	fi
	deps=$(awk -F': *' -v p="$p" '$1 == p { print $2; exit }' "$moddir/modules.dep")
	read -r -a arr <<<"$deps"
	chain=
	for ((i = ${#arr[@]} - 1; i >= 0; i--)); do chain+="${arr[$i]} "; done
	chains+=("$chain$p")
done
# Loading xfs and btrfs costs about a second each under TCG (signature check and relocation of
# multi-megabyte modules), so /init loads the chains in parallel, one per vCPU thread. Modules
# that several chains share (libcrc32c) form group 0 and load first, alone.
declare -A uses=() group_of=()
for c in "${chains[@]}"; do for p in $c; do uses[$p]=$((${uses[$p]:-0} + 1)); done; done
mod_lines=()
for c in "${chains[@]}"; do
	for p in $c; do
		[ "${uses[$p]}" -gt 1 ] && [ -z "${group_of[$p]:-}" ] && group_of[$p]=0 && mod_lines+=("0 $p")
	done
done
g=0
for c in "${chains[@]}"; do
	g=$((g + 1))
	for p in $c; do
		[ -z "${group_of[$p]:-}" ] && group_of[$p]=$g && mod_lines+=("$g $p")
	done
done
mkdir -p "$root/etc/ioh" "$root/lib/modules/$kver"
: >"$root/etc/ioh/modules"
for l in "${mod_lines[@]}"; do
	p=${l#* }
	mkdir -p "$root/lib/modules/$kver/$(dirname "$p")"
	cp "$moddir/$p" "$root/lib/modules/$kver/$p"
	params=
	# Eight loop devices up front: the tests mount several images at once.
	case $p in */loop.ko) params=max_loop=8 ;; esac
	echo "$l $params" >>"$root/etc/ioh/modules"
done
cp "$moddir"/modules.{dep,builtin,order} "$root/lib/modules/$kver/" 2>/dev/null || true

# ---- project files ----------------------------------------------------------------------------
mkdir -p "$root/ioh/build" "$root/ioh/bin" "$root/ioh/src"
for f in "${files[@]}"; do
	[ -e "$f" ] || die "no such file: $f"
	abs=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
	if [ -n "$build_root" ] && [ "${abs#"$build_root"/}" != "$abs" ]; then
		dest=/ioh/build/${abs#"$build_root"/}
	else
		dest=/ioh/bin/$(basename "$f")
	fi
	mkdir -p "$root$(dirname "$dest")"
	cp -a "$abs" "$root$dest"
	[ -f "$abs" ] && copy_libs "$abs"
done
for a in "${adds[@]}"; do
	src=${a%%=*} dest=${a#*=}
	[ "$src" != "$a" ] || die "--add wants SRC=DEST, got $a"
	[ -e "$src" ] || die "--add: no such file: $src"
	case $dest in /?*) ;; *) die "--add: DEST must be an absolute path below /, got '$dest'" ;; esac
	# Directories merge into what is there (several --add may fill one tree); files replace.
	if [ -d "$src" ]; then
		mkdir -p "$root$dest"
		cp -a "$src/." "$root$dest/"
	else
		mkdir -p "$root$(dirname "$dest")"
		cp -a "$src" "$root$dest"
	fi
	# Programs inside added trees (a .deb's extracted /usr/sbin, a helper built elsewhere) need
	# their libraries too.
	while read -r f; do copy_libs "$f"; done < <(find "$src" -type f -perm -u+x 2>/dev/null)
done

# ---- init -------------------------------------------------------------------------------------
install -m 0755 "$here/init.sh" "$root/init"
if [ -n "$run_test" ]; then
	install -m 0755 "$run_test" "$root/run-test"
fi

# ---- archive ----------------------------------------------------------------------------------
# Write to a temporary name first so a concurrent reader never sees a truncated archive. gzip -1:
# the kernel's decompression under TCG costs more than a smaller archive saves.
mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet --owner=0:0 | gzip -1) >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
echo "mkinitramfs: $out ($(du -h "$out" | cut -f1), kernel $kver, modules: ${#mod_lines[@]})" >&2
