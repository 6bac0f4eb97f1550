# SPDX-License-Identifier: GPL-2.0-only
# Shared by tests/fuzz/run_*.sh: builds one libFuzzer harness with clang straight from the
# sources (the Makefile builds with gcc and without sanitizers) and runs it for a fixed time on
# a copy of its seed corpus, printing "ok - LABEL" or "not ok - LABEL: why" for
# tests/run-all.sh.
# Env: IOH_SRC (source tree, default: this repo), IOH_BUILD (default: $IOH_SRC/build),
#      FUZZ_SECONDS (default: the caller's).
set -u
fuzz_src=${IOH_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# The build tree also holds generated sources (builtin_rules.inc for daemon/rules/builtin.c).
fuzz_build=${IOH_BUILD:-$fuzz_src/build}
fuzz_out=$fuzz_build/fuzz

# fuzz_run NAME LABEL SECONDS MAX_LEN DICT|- -- CLANG_ARGS...
# NAME: the harness (tests/fuzz/fuzz_NAME.c is among CLANG_ARGS) and its corpus directory
# tests/fuzz/corpus/NAME; DICT: a libFuzzer dictionary or "-". FUZZ_EXTRA_SEEDS: more seed
# files (globs relative to the source tree).
fuzz_run() {
	local name=$1 label=$2 seconds=${FUZZ_SECONDS:-$3} max_len=$4 dict=$5
	local bin=$fuzz_out/fuzz_$name corpus=$fuzz_out/corpus-$name
	local dict_arg=()

	shift 6 # the five above and "--"
	mkdir -p "$fuzz_out"
	if ! command -v clang >/dev/null; then
		echo "not ok - $label: clang not found"
		return 1
	fi
	cd "$fuzz_src" || return 1
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-std=gnu11 -D_GNU_SOURCE -I. -Ibpf -I"$fuzz_build" "$@" -o "$bin" \
		2>"$bin.build.log"; then
		cat "$bin.build.log"
		echo "not ok - $label: build failed"
		return 1
	fi
	# Work on a copy: new inputs libFuzzer finds must not dirty the source tree.
	rm -rf "$corpus"
	mkdir -p "$corpus"
	# shellcheck disable=SC2086 # the globs are meant to expand
	cp "tests/fuzz/corpus/$name"/* ${FUZZ_EXTRA_SEEDS:-} "$corpus"/ 2>/dev/null
	[ "$dict" != - ] && dict_arg=(-dict="$dict")
	if "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$fuzz_out/$name-" "${dict_arg[@]}" \
		"$corpus" >"$bin.log" 2>&1; then
		grep -E '^stat::number_of_executed_units' "$bin.log" | sed 's/^/# /'
		echo "ok - $label"
	else
		tail -40 "$bin.log"
		echo "not ok - $label (log: $bin.log)"
		return 1
	fi
}
