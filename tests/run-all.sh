#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs the test suites and prints the one line CI reads: "N passed, N failed".
# Usage: tests/run-all.sh BUILD_DIR [unit|lint|e2e|fuzz|vm]...   (default: every suite)
# Every test prints TAP-like lines ("ok - ..." / "not ok - ..."); this script counts them. A test
# program that exits non-zero without printing a "not ok" line is counted as one failure, so a
# crash can never pass silently.
set -u
build=${1:?usage: run-all.sh BUILD_DIR [suite...]}
shift
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit e2e)
here=$(cd "$(dirname "$0")" && pwd)
export IOH_BUILD=$(cd "$build" && pwd)
export IOH_SRC=$(cd "$here/.." && pwd)
log_dir="$IOH_BUILD/test-logs"
mkdir -p "$log_dir"

passed=0
failed=0
failed_names=()

run_one() { # name, command...
	local name=$1; shift
	local log="$log_dir/$(echo "$name" | tr '/ ' '__').log"
	local start=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	local p f
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		printf '%-48s %4d passed %4d FAILED  (%ds) log: %s\n' "$name" "$p" "$f" $((SECONDS - start)) "$log"
		grep '^not ok ' "$log" | head -20 | sed 's/^/    /'
	else
		printf '%-48s %4d passed  (%ds)\n' "$name" "$p" $((SECONDS - start))
	fi
}

for suite in "${suites[@]}"; do
	case $suite in
	unit)
		for t in "$IOH_BUILD"/tests/test_*; do
			[ -x "$t" ] || continue
			run_one "unit/$(basename "$t")" "$t"
		done
		;;
	e2e)
		for t in "$here"/e2e/test_*.sh; do
			[ -x "$t" ] || continue
			run_one "e2e/$(basename "$t" .sh)" timeout 600 "$t"
		done
		;;
	fuzz)
		for t in "$here"/fuzz/run_*.sh; do
			[ -x "$t" ] || continue
			run_one "fuzz/$(basename "$t" .sh)" "$t"
		done
		;;
	lint)
		for t in "$here"/lint/test_*.sh; do
			[ -x "$t" ] || continue
			run_one "lint/$(basename "$t" .sh)" "$t"
		done
		;;
	vm)
		for t in "$here"/vm/test_*.sh; do
			[ -x "$t" ] || continue
			run_one "vm/$(basename "$t" .sh)" "$t"
		done
		;;
	*) echo "unknown suite: $suite" >&2; exit 2 ;;
	esac
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
