#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench-vm`: the cost of iohazardd on unrelated syscalls under each backend, on Debian's
# 6.1 kernel in qemu (tests/vm/run-vm.sh), in one boot.
#
#   bench/vm/run.sh BUILD_DIR
#
# qemu runs with -icount shift=0 and one vCPU: guest time then advances one ns per executed
# guest instruction, so the measurement does not depend on how fast the shared host runs TCG at
# the moment (wall-clock time under TCG jumps between speeds about 1.8x apart). -icount with two
# vCPUs hangs at CPU bring-up on QEMU 7.2, hence -smp 1. The loops time themselves with their
# own CPU time (CLOCK_PROCESS_CPUTIME_ID), so the daemon's own work on the single vCPU does not
# count against them; IOH_BENCH_CLOCK=wall uses CLOCK_MONOTONIC instead.
#
# What runs in the guest, and the report: bench/vm/guest.sh. Knobs (environment, passed to the
# guest): IOH_BENCH_ROUNDS (7), IOH_BENCH_FLOOR_ROUNDS (7), IOH_BENCH_N_GETPPID (100000),
# IOH_BENCH_N_IO (40000), IOH_BENCH_CONDS, IOH_BENCH_CLOCK; IOH_BENCH_VM_TIMEOUT (seconds of
# wall time, default 1500).
#
# A benchmark, not a test: the exit status is 0 whatever the ratios; non-zero when it could not
# run. The raw lines and the report are kept in BUILD_DIR/bench/vm/last-report.txt.
set -uo pipefail

build=${1:?usage: bench/vm/run.sh BUILD_DIR}
BUILD=$(cd "$build" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for f in iohazardd iohazard bench/syscall_loop; do
	[ -x "$BUILD/$f" ] || { echo "bench-vm: $BUILD/$f missing (make all bench-vm builds it)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench-vm: jq missing on the host (make deps)" >&2; exit 1; }

envs=()
for v in IOH_BENCH_ROUNDS IOH_BENCH_FLOOR_ROUNDS IOH_BENCH_N_GETPPID IOH_BENCH_N_IO \
	IOH_BENCH_CONDS IOH_BENCH_CLOCK; do
	[ -n "${!v:-}" ] && envs+=(--env "$v=${!v}")
done
mkdir -p "$BUILD/bench/vm"
out=$BUILD/bench/vm/last-report.txt
start=$SECONDS
echo "bench-vm: booting the 6.1 guest with -icount shift=0 -smp 1 (takes a few minutes)" >&2
IOH_BUILD=$BUILD IOH_SRC=$SRC "$SRC/tests/vm/run-vm.sh" --timeout "${IOH_BENCH_VM_TIMEOUT:-1500}" \
	--smp 1 --qemu-arg -icount --qemu-arg shift=0 --bin "$BUILD/bench/syscall_loop" "${envs[@]}" \
	-- bench/vm/guest.sh >"$out.tmp" 2>"$out.err"
rc=$?
grep -v -E '^(RAW\||IOH-VM-EXIT=)' "$out.tmp"
grep -v '^console: ' "$out.err" | sed 's/^/# /' >&2
echo "bench-vm: $(grep -c '^RAW|' "$out.tmp") measurements, $((SECONDS - start)) s wall; raw lines in $out" >&2
mv "$out.tmp" "$out"
[ "$rc" = 0 ] || { echo "bench-vm: the guest run failed (status $rc; console: $BUILD/vm/last-console.log)" >&2; exit 1; }
