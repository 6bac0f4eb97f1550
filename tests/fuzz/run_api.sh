#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the API request-parser fuzzer (tests/fuzz/fuzz_api.c over daemon/api/request.c) with
# clang straight from the sources (the Makefile builds with gcc and without sanitizers) and runs
# it for a fixed time on a copy of the seed corpus.
# Prints "ok - fuzz API request parser" or "not ok - ..." for tests/run-all.sh.
# Env: IOH_SRC (source tree, default: this repo), IOH_BUILD (default: $IOH_SRC/build),
#      FUZZ_SECONDS (default 15).
set -u
src=${IOH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${IOH_BUILD:-$src/build}
seconds=${FUZZ_SECONDS:-15}
out=$build/fuzz
mkdir -p "$out"

if ! command -v clang >/dev/null; then
	echo "not ok - fuzz API request parser: clang not found"
	exit 1
fi
cd "$src" || exit 1
# shellcheck disable=SC2046 # pkg-config output is meant to split
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -I. $(pkg-config --cflags json-c) daemon/api/request.c \
	tests/fuzz/fuzz_api.c $(pkg-config --libs json-c 2>/dev/null || echo -ljson-c) \
	-o "$out/fuzz_api" 2>"$out/fuzz_api.build.log"; then
	cat "$out/fuzz_api.build.log"
	echo "not ok - fuzz API request parser: build failed"
	exit 1
fi

# Work on a copy: new inputs libFuzzer finds must not dirty the source tree.
corpus=$out/corpus-api
rm -rf "$corpus"
mkdir -p "$corpus"
cp tests/fuzz/corpus/api/* "$corpus"/ 2>/dev/null

# -max_len: the daemon never hands the parser more than one 64 KiB request line.
if "$out/fuzz_api" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
	-rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/api-" \
	-dict=tests/fuzz/api.dict "$corpus" >"$out/fuzz_api.log" 2>&1; then
	grep -E '^stat::number_of_executed_units' "$out/fuzz_api.log" | sed 's/^/# /'
	echo "ok - fuzz API request parser"
else
	tail -40 "$out/fuzz_api.log"
	echo "not ok - fuzz API request parser (log: $out/fuzz_api.log)"
	exit 1
fi
