#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A missing build dependency is named, with its Debian package and a pointer to `make deps`,
# before anything is compiled (not "'bpf/bpf_core_read.h' file not found" from clang). The
# missing pieces are simulated: a clang that does not exist, pkg-config with no modules, and
# a compiler that sees no system headers. Builds into a scratch directory; no root needed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
IOH_SRC=${IOH_SRC:-$(cd "$here/../.." && pwd)}
failed=0
ok() { echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1: $(printf '%s' "${2:-}" | tr '\n' ' ' | cut -c1-800)"; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ioh-build-deps.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

expect() { # name pattern
	if grep -qF -- "$2" "$work/err"; then ok "$1"; else fail "$1" "$(cat "$work/err")"; fi
}

if make -s -C "$IOH_SRC" check-build-deps >"$work/out" 2>"$work/err"; then
	ok "this host has every build dependency"
else
	fail "this host has every build dependency" "$(cat "$work/err")"
fi

make -C "$IOH_SRC" BUILD="$work/b1" CLANG=clang-not-installed PKG_CONFIG_LIBDIR=/nonexistent \
	all >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" -ne 0 ]; then ok "missing tools and libraries: make fails"; else fail "missing tools and libraries: make fails" "rc=0"; fi
expect "a missing clang is named with its package" "clang-not-installed (command; Debian package clang)"
expect "a missing libbpf is named with its package" "libbpf (pkg-config module; Debian package libbpf-dev)"
expect "a missing json-c is named with its package" "json-c (pkg-config module; Debian package libjson-c-dev)"
expect "the message points to make deps" "make deps"
if [ -z "$(find "$work/b1" -name '*.o' 2>/dev/null)" ]; then
	ok "nothing is compiled before the check"
else
	fail "nothing is compiled before the check" "$(find "$work/b1" -name '*.o' | head -3)"
fi

# No system headers: the BPF helpers' header is named, not a clang error about it.
make -C "$IOH_SRC" BUILD="$work/b2" CC="gcc -nostdinc" all >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" -ne 0 ]; then ok "missing headers: make fails"; else fail "missing headers: make fails" "rc=0"; fi
expect "bpf/bpf_core_read.h is named with its package" "bpf/bpf_core_read.h (header; Debian package libbpf-dev)"
expect "gelf.h is named with its package" "gelf.h (header; Debian package libelf-dev)"
expect "the message points to make deps (headers)" "make deps"
[ "$failed" -eq 0 ]
