#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The VM benchmark's guest half (bench/vm/run.sh boots the VM and runs this inside it, under
# qemu -icount shift=0 -smp 1: one virtual ns = one guest instruction). No python here: awk.
#
#   (1) ROUNDS rounds of the conditions {none fentry kprobe tracepoint} (order rotating from
#       round to round): start iohazardd --backend X (none: no daemon), run the three loops
#       of bench/syscall_loop.c (getppid, cached 4 KiB pread, 512 B pwrite on an ext4 loop
#       mount), stop it. Per loop and condition: the median ns per iteration, and the median
#       of the per-round ratios to that round's "none" run, with their range.
#   (2) FLOOR_ROUNDS rounds of {off slowpath}: the kernel's syscall-tracepoint slow path alone
#       (an ftrace event on renameat2, which the loops never call; no BPF at all): the floor
#       of anything attached to raw sys_enter/sys_exit.
#   (3) Per backend, with kernel.bpf_stats_enabled=1: how many times the daemon's programs ran
#       per loop iteration (run_cnt of the programs on the daemon's fds, minus the runs that
#       the two snapshots cost around a one-iteration loop), and which ones ran how often.
#
# Output: "RAW|..." lines (every measurement) and the report. Knobs: IOH_BENCH_ROUNDS (7),
# IOH_BENCH_FLOOR_ROUNDS (7), IOH_BENCH_N_GETPPID (100000), IOH_BENCH_N_IO (40000),
# IOH_BENCH_CONDS ("none fentry kprobe tracepoint"), IOH_BENCH_CLOCK (cpu|wall, default cpu).
set -uo pipefail

B=${IOH_BUILD:-/ioh/build}
SRC=${IOH_SRC:-/ioh/src}
ROUNDS=${IOH_BENCH_ROUNDS:-7}
FLOOR_ROUNDS=${IOH_BENCH_FLOOR_ROUNDS:-7}
N_GETPPID=${IOH_BENCH_N_GETPPID:-100000}
N_IO=${IOH_BENCH_N_IO:-40000}
CONDS=${IOH_BENCH_CONDS:-none fentry kprobe tracepoint}
CLOCK=${IOH_BENCH_CLOCK:-cpu}
LOOP=$B/bench/syscall_loop
W=/run/ioh-bench
MNT=/mnt/bench
SYSCTL=/proc/sys/kernel/bpf_stats_enabled
LOOPS="getppid pread pwrite"

die() { echo "bench-vm: FAILED: $*"; exit 1; }
DPID='' inst=''
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}
start_daemon() { # backend
	rm -f "$W/api.sock"
	"$B/iohazardd" --foreground --backend "$1" --output=none --rules-dir "$SRC/rules" \
		--socket "$W/api.sock" --metrics-listen off --log-level warning \
		>>"$W/daemon.out" 2>>"$W/daemon-$1.log" &
	DPID=$!
	"$B/iohazard" --socket "$W/api.sock" status --wait-ready=300 >/dev/null 2>&1 ||
		die "iohazardd --backend $1 not ready: $(tail -3 "$W/daemon-$1.log" | tr '\n' ' ')"
	sleep 0.5 # the start-up burst (first polls, mount table scan) settles
}
# The kernel floor: one syscall event (enter), or an enter and an exit event, as a tool that
# needs syscall returns (the tracepoint backend's rename/fsync/splice halves) must register.
slowpath_on() { # [exit]
	inst=/sys/kernel/tracing/instances/ioh-bench
	mkdir "$inst" || die "tracefs instance"
	echo 1 >"$inst/events/syscalls/sys_enter_renameat2/enable" || die "enable sys_enter_renameat2"
	if [ "${1:-}" = exit ]; then
		echo 1 >"$inst/events/syscalls/sys_exit_renameat2/enable" || die "enable sys_exit_renameat2"
	fi
}
slowpath_off() {
	[ -n "$inst" ] || return 0
	echo 0 >"$inst/events/syscalls/sys_enter_renameat2/enable"
	echo 0 >"$inst/events/syscalls/sys_exit_renameat2/enable"
	rmdir "$inst"
	inst=
}
cleanup() {
	stop_daemon
	slowpath_off
	echo 0 >"$SYSCTL" 2>/dev/null
	mountpoint -q "$MNT" && umount "$MNT"
}
trap cleanup EXIT

[ -x "$LOOP" ] || die "$LOOP missing (make bench-vm builds it)"
mkdir -p "$W" "$MNT"
truncate -s 64M "$W/img" && mkfs.ext4 -q -F "$W/img" >/dev/null 2>&1 && mount -o loop "$W/img" "$MNT" ||
	die "ext4 loop mount"
mkdir -p "$MNT/data"

iters_of() { [ "$1" = getppid ] && echo "$N_GETPPID" || echo "$N_IO"; }
run_loop() { # loop -> "elapsed cpu"
	local out
	out=$("$LOOP" --mode "$1" --iterations "$(iters_of "$1")" "$MNT/data") || die "syscall_loop $1"
	sed -n 's/.*elapsed_ns=\([0-9]*\) cpu_ns=\([0-9]*\).*/\1 \2/p' <<<"$out"
}

echo "bench-vm: kernel $(uname -r), $(nproc) vCPU, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "bench-vm: loops getppid x$N_GETPPID, pread/pwrite x$N_IO on ext4 (loop device); clock: $CLOCK"

# ---- (1) rounds -----------------------------------------------------------------------------
read -r -a conds <<<"$CONDS"
nc=${#conds[@]}
: >"$W/raw"
t0=$SECONDS
for r in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((nc - 1))); do
		c=${conds[$(((r + k) % nc))]}
		[ "$c" = none ] || start_daemon "$c"
		for l in $LOOPS; do
			read -r e cpu <<<"$(run_loop "$l")"
			echo "RAW|round|$r|$c|$l|$(iters_of "$l")|$e|$cpu" | tee -a "$W/raw"
		done
		if [ "$c" != none ]; then
			stop_daemon
			# Detaching (RCU grace periods, deferred frees) runs in softirqs for a while after
			# the daemon exits and is charged to whatever task is current: let it finish so it
			# does not land on the next condition's loop.
			sleep 2
		fi
	done
done
echo "bench-vm: (1) $ROUNDS rounds in $((SECONDS - t0)) s"

# ---- (2) the kernel floor -------------------------------------------------------------------
t0=$SECONDS
for r in $(seq "$FLOOR_ROUNDS"); do
	for k in 0 1 2; do
		case $(((r + k) % 3)) in
		0) c=off ;;
		1) c=slowpath; slowpath_on ;;
		2) c=slowpath2; slowpath_on exit ;;
		esac
		for l in $LOOPS; do
			read -r e cpu <<<"$(run_loop "$l")"
			echo "RAW|floor|$r|$c|$l|$(iters_of "$l")|$e|$cpu" | tee -a "$W/raw"
		done
		slowpath_off
	done
done
echo "bench-vm: (2) $FLOOR_ROUNDS floor rounds in $((SECONDS - t0)) s"

# ---- (3) program runs per iteration ---------------------------------------------------------
prog_runs() { # pid -> "id name run_cnt" lines of the programs on its fds
	local ids
	ids=$(cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un | tr '\n' ' ')
	bpftool prog show -j 2>/dev/null | jq -r --arg ids "$ids" \
		'($ids | split(" ") | map(select(. != "") | tonumber)) as $i |
		 .[] | select(.id as $x | $i | index($x)) | "\(.id) \(.name) \(.run_cnt // 0)"'
}
: >"$W/runs"
for c in "${conds[@]}"; do
	[ "$c" = none ] && continue
	start_daemon "$c"
	echo 1 >"$SYSCTL"
	# The snapshots themselves (bpftool and jq starting: opens, mmaps, closes) run programs
	# too; measure them around a one-iteration loop and subtract.
	prog_runs "$DPID" >"$W/p0"
	"$LOOP" --mode getppid --iterations 1 >/dev/null
	prog_runs "$DPID" >"$W/p1"
	awk 'NR == FNR { b[$1] = $3; next } { t += $3 - b[$1] } END { print t + 0 }' "$W/p0" "$W/p1" >"$W/base"
	for l in $LOOPS; do
		prog_runs "$DPID" >"$W/p0"
		run_loop "$l" >/dev/null
		prog_runs "$DPID" >"$W/p1"
		awk -v c="$c" -v l="$l" -v n="$(iters_of "$l")" -v base="$(cat "$W/base")" '
			NR == FNR { b[$1] = $3; next }
			{ d = $3 - b[$1]; tot += d; if (d > 0) per = per sprintf(" %s=%d", $2, d) }
			END { printf "RAW|runs|%s|%s|%d|%.4f|runs during the loop:%s; the snapshots alone: %d\n", c, l, n, (tot - base) / n, per, base }' "$W/p0" "$W/p1" |
			tee -a "$W/runs"
	done
	echo 0 >"$SYSCTL"
	stop_daemon
done

# ---- report ---------------------------------------------------------------------------------
field=8
[ "$CLOCK" = wall ] && field=7
report() { # kind baseline-condition
	awk -F'|' -v kind="$1" -v base="$2" -v f="$field" -v rf="$W/ratios" '
	function median(arr, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
		return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
	}
	$2 == kind { v[$3, $4, $5] = $f / $6; rounds[$3] = 1; cond[$4] = 1; loop[$5] = 1 }
	END {
		split("getppid pread pwrite", L, " ")
		for (li = 1; li <= 3; li++) {
			l = L[li]
			for (c in cond) {
				n = 0; m = 0
				for (r in rounds) if ((r, c, l) in v) { x[++n] = v[r, c, l] }
				if (!n) continue
				med = median(x, n)
				if (c == base) { printf "  %-8s %-10s %8.1f ns/iteration (median of %d)\n", l, c, med, n; continue }
				for (r in rounds) if ((r, c, l) in v && (r, base, l) in v) y[++m] = v[r, c, l] / v[r, base, l]
				lo = hi = y[1]; for (i = 2; i <= m; i++) { if (y[i] < lo) lo = y[i]; if (y[i] > hi) hi = y[i] }
				r = median(y, m)
				printf "  %-8s %-10s %8.1f ns/iteration  x%.3f of %s (rounds %.3f .. %.3f, n=%d)\n", l, c, med, r, base, lo, hi, m
				printf "%s|%s|%s|%.4f|%.4f|%.4f\n", kind, c, l, r, lo, hi >> rf
				delete y
			}
			delete x
		}
	}' "$W/raw" | sort -s -k1,1
}
: >"$W/ratios"
echo
echo "bench-vm report ($CLOCK time; under -icount shift=0 one ns = one guest instruction)"
echo "(1) the three loops, $ROUNDS rounds, ratio = median of per-round ratios to no daemon"
report round none
echo "(2) the kernel floor, no BPF, $FLOOR_ROUNDS rounds: slowpath = one ftrace syscall event (sys_enter_renameat2), slowpath2 = its enter and exit events"
report floor off
echo "(3) daemon BPF program runs per loop iteration (bpf_stats run_cnt, minus what the snapshots alone cost)"
awk -F'|' '{ printf "  %-10s %-8s %7.3f runs/iteration %s\n", $3, $4, $6, $7 }' "$W/runs"
echo "summary: median ratio to no daemon [range] per loop; targets (issue 11): fentry <= x1.02, kprobe <= x1.05"
for c in fentry kprobe tracepoint; do
	case $c in fentry) t=1.02 ;; kprobe) t=1.05 ;; *) t= ;; esac
	awk -F'|' -v c="$c" -v t="$t" '$1 == "round" && $2 == c {
		v = (t == "" ? "" : ($4 <= t ? "PASS" : "MISS"))
		line = line sprintf("  %s x%.3f [%.3f..%.3f]%s", $3, $4, $5, $6, v == "" ? "" : " " v) }
		END { if (line != "") printf "  %-10s%s%s\n", c, line, (t == "" ? "  (no target)" : "  (target x" t ")") }' "$W/ratios"
done
awk -F'|' '$1 == "floor" { line = line sprintf("  %s:%s x%.3f [%.3f..%.3f]", $2, $3, $4, $5, $6) }
	END { printf "  %-10s%s  (the kernel floor alone, no BPF: slowpath = one enter event, slowpath2 = enter + exit)\n", "floor", line }' "$W/ratios"
awk -F'|' '{ r[$3] = r[$3] sprintf(" %s=%.2f", $4, $6) }
	END { for (c in r) printf "  %-10s program runs per iteration:%s\n", c, r[c] }' "$W/runs" | sort
