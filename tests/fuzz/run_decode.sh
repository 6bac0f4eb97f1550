#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the kernel-record decoder fuzzer (decoder, then correlator and finding formatters
# downstream) with clang straight from the sources (the Makefile builds with gcc and without
# sanitizers) and runs it for a fixed time on a copy of the seed corpus.
# Prints "ok - fuzz record decoder" or "not ok - ..." for tests/run-all.sh.
# Env: IOH_SRC (source tree, default: this repo), IOH_BUILD (default: $IOH_SRC/build),
#      FUZZ_SECONDS (default 15).
set -u
src=${IOH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${IOH_BUILD:-$src/build}
seconds=${FUZZ_SECONDS:-15}
out=$build/fuzz
mkdir -p "$out"

if ! command -v clang >/dev/null; then
	echo "not ok - fuzz record decoder: clang not found"
	exit 1
fi
cd "$src" || exit 1
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -I. -Ibpf daemon/ingest/decode.c daemon/correlator/*.c \
	daemon/detectors/*.c daemon/rules/*.c daemon/util/jsonw.c daemon/util/strbuf.c \
	daemon/util/utf8.c daemon/util/fsnames.c daemon/sinks/finding_format.c \
	daemon/sinks/event_format.c \
	tests/fuzz/fuzz_decode.c -linih -o "$out/fuzz_decode" 2>"$out/fuzz_decode.build.log"; then
	cat "$out/fuzz_decode.build.log"
	echo "not ok - fuzz record decoder: build failed"
	exit 1
fi

# Work on a copy: new inputs libFuzzer finds must not dirty the source tree.
corpus=$out/corpus-decode
rm -rf "$corpus"
mkdir -p "$corpus"
cp tests/fuzz/corpus/decode/* "$corpus"/ 2>/dev/null

# max_len: a few rename records (4.5 KiB each) back to back, as one ring buffer poll.
if "$out/fuzz_decode" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
	-rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/decode-" \
	"$corpus" >"$out/fuzz_decode.log" 2>&1; then
	grep -E '^stat::number_of_executed_units' "$out/fuzz_decode.log" | sed 's/^/# /'
	echo "ok - fuzz record decoder"
else
	tail -40 "$out/fuzz_decode.log"
	echo "not ok - fuzz record decoder (log: $out/fuzz_decode.log)"
	exit 1
fi
