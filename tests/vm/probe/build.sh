#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the attach probe: tests/vm/probe/build.sh OUTDIR  ->  OUTDIR/vmprobe
# The harness builds it itself (not the Makefile) so tests/vm stays self-contained; it uses the
# project's committed vmlinux.h, exactly like the daemon's BPF object, so CO-RE is exercised the
# same way. Rebuilds only when a source is newer than the binary.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
bin=$out/vmprobe

stale=0
[ -x "$bin" ] || stale=1
for f in "$here/vmprobe.bpf.c" "$here/vmprobe.c" "$here/build.sh"; do
	[ "$f" -nt "$bin" ] && stale=1
done
[ "$stale" = 0 ] && { echo "$bin"; exit 0; }

arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
${CLANG:-clang} -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -I"$src/bpf/vmlinux/$arch" \
	-Wall -Werror -c "$here/vmprobe.bpf.c" -o "$out/vmprobe.bpf.o"
${BPFTOOL:-bpftool} gen skeleton "$out/vmprobe.bpf.o" name vmprobe_bpf >"$out/vmprobe.skel.h.tmp"
mv "$out/vmprobe.skel.h.tmp" "$out/vmprobe.skel.h"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
${CC:-gcc} -O2 -g -Wall -Wextra -Werror -I"$out" -o "$bin.tmp" "$here/vmprobe.c" \
	$(pkg-config --cflags --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz
mv "$bin.tmp" "$bin"
echo "$bin"
