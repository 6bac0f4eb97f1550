#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the recorded-event payload fuzzer (decode, encode, decode round trip) with clang
# straight from the sources (the Makefile builds with gcc and without sanitizers) and runs it
# for a fixed time on a copy of the seed corpus.
# Prints "ok - fuzz event recordings" or "not ok - ..." for tests/run-all.sh.
# Env: IOH_SRC (source tree, default: this repo), IOH_BUILD (default: $IOH_SRC/build),
#      FUZZ_SECONDS (default 15).
set -u
src=${IOH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${IOH_BUILD:-$src/build}
seconds=${FUZZ_SECONDS:-15}
out=$build/fuzz
mkdir -p "$out"

if ! command -v clang >/dev/null; then
	echo "not ok - fuzz event recordings: clang not found"
	exit 1
fi
cd "$src" || exit 1
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -I. -Ibpf daemon/record/eventlog.c tests/fuzz/fuzz_eventlog.c \
	-lz -o "$out/fuzz_eventlog" 2>"$out/fuzz_eventlog.build.log"; then
	cat "$out/fuzz_eventlog.build.log"
	echo "not ok - fuzz event recordings: build failed"
	exit 1
fi

# Work on a copy: new inputs libFuzzer finds must not dirty the source tree.
corpus=$out/corpus-eventlog
rm -rf "$corpus"
mkdir -p "$corpus"
cp tests/fuzz/corpus/eventlog/* "$corpus"/ 2>/dev/null

if "$out/fuzz_eventlog" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
	-rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/eventlog-" \
	"$corpus" >"$out/fuzz_eventlog.log" 2>&1; then
	grep -E '^stat::number_of_executed_units' "$out/fuzz_eventlog.log" | sed 's/^/# /'
	echo "ok - fuzz event recordings"
else
	tail -40 "$out/fuzz_eventlog.log"
	echo "not ok - fuzz event recordings (log: $out/fuzz_eventlog.log)"
	exit 1
fi
