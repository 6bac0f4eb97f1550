#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the rules-parser fuzzer with clang straight from the sources (the Makefile builds with
# gcc and without sanitizers) and runs it for a fixed time on a copy of the seed corpus.
# Prints "ok - fuzz rules parser" or "not ok - ..." for tests/run-all.sh.
# Env: IOH_SRC (source tree, default: this repo), IOH_BUILD (default: $IOH_SRC/build),
#      FUZZ_SECONDS (default 20).
set -u
src=${IOH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${IOH_BUILD:-$src/build}
seconds=${FUZZ_SECONDS:-20}
out=$build/fuzz
mkdir -p "$out"

if ! command -v clang >/dev/null; then
	echo "not ok - fuzz rules parser: clang not found"
	exit 1
fi
cd "$src" || exit 1
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -I. -Ibpf daemon/rules/*.c daemon/correlator/severity.c \
	tests/fuzz/fuzz_rules.c -linih -o "$out/fuzz_rules" 2>"$out/fuzz_rules.build.log"; then
	cat "$out/fuzz_rules.build.log"
	echo "not ok - fuzz rules parser: build failed"
	exit 1
fi

# Work on a copy: new inputs libFuzzer finds must not dirty the source tree.
corpus=$out/corpus-rules
rm -rf "$corpus"
mkdir -p "$corpus"
cp tests/fuzz/corpus/rules/* rules/*.rules "$corpus"/ 2>/dev/null

if "$out/fuzz_rules" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
	-rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/rules-" \
	-dict=tests/fuzz/rules.dict "$corpus" >"$out/fuzz_rules.log" 2>&1; then
	grep -E '^stat::number_of_executed_units' "$out/fuzz_rules.log" | sed 's/^/# /'
	echo "ok - fuzz rules parser"
else
	tail -40 "$out/fuzz_rules.log"
	echo "not ok - fuzz rules parser (log: $out/fuzz_rules.log)"
	exit 1
fi
