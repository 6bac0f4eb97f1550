#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# iohazard benchmark (`make bench`): measures, in one run on this machine, what issue 2 asks
# for and prints a report with each target next to the measured number.
#
#   bench/run.sh BUILD_DIR
#
#   (a) in-kernel cost per invocation of each attached program (bpf_stats run_time_ns /
#       run_cnt) while workloads run, next to an empty program on the same hook;
#   (b) wall-clock ratio of workloads with and without the daemon (interleaved A/B pairs,
#       order alternating, median of per-pair ratios);
#   (c) correlator throughput on one core (synthetic stream, and through a recorded file);
#   (d) memory per tracked inode, kernel map and user space.
#
# A benchmark, not a test: a missed target prints MISS and the exit status stays 0. Non-zero
# only when something failed to run. The machine is shared and noisy, so only ratios measured
# within this run mean anything; absolute times are printed for context.
#
# Knobs (environment): IOH_BENCH_PAIRS (A/B pairs, default 9), IOH_BENCH_FSYNC_ITERS (300),
# IOH_BENCH_RENAME_ITERS (20000), IOH_BENCH_SYSCALL_ITERS (1000000).
#
# Extending (issue 3): add a workload to COST_WORKLOADS and AB_WORKLOADS below (label and
# command), and its empty twin programs to bench/bpf/empty.bpf.c; the tables pick them up.
set -u -o pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
BUILD=$(cd "$build" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_BIN=$BUILD/bench
PAIRS=${IOH_BENCH_PAIRS:-9}
FSYNC_ITERS=${IOH_BENCH_FSYNC_ITERS:-300}
RENAME_ITERS=${IOH_BENCH_RENAME_ITERS:-20000}
SYSCALL_ITERS=${IOH_BENCH_SYSCALL_ITERS:-1000000}
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
CLANG=${CLANG:-clang}
ARCH=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# Scratch files live in the build tree, not /tmp: the default rules exclude /tmp/*, and the
# benchmark must exercise the full path (rules matched, renames kept pending).
WORK=$BUILD/bench/run
LOGS=$BUILD/bench/logs
SYSCTL=/proc/sys/kernel/bpf_stats_enabled

daemon_pid=
loader_pid=
stats_orig=
loader_fd_open=

log() { echo "bench: $*" >&2; }
fail() {
	log "FAILED: $*"
	exit 1
}

cleanup() {
	local rc=$?

	stop_loader
	stop_daemon
	if [ -n "$stats_orig" ]; then
		echo "$stats_orig" >"$SYSCTL" 2>/dev/null || log "could not restore $SYSCTL to $stats_orig"
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- processes we start (stopped by pid, never by name) -------------------------------------

start_daemon() {
	rm -f "$WORK/api.sock"
	"$BUILD/iohazardd" --foreground --output=none --rules-dir "$SRC/rules" \
		--socket "$WORK/api.sock" --metrics-listen off --log-level warning \
		>>"$LOGS/daemon.out" 2>>"$LOGS/daemon.log" &
	daemon_pid=$!
	if ! "$BUILD/iohazard" --socket "$WORK/api.sock" status --wait-ready=30 >/dev/null 2>&1; then
		tail -5 "$LOGS/daemon.log" >&2
		fail "iohazardd did not become ready (log: $LOGS/daemon.log)"
	fi
	# Let the start-up burst (program loads, first ring buffer polls) settle.
	sleep 0.3
}

stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
}

start_loader() { # OBJECT
	rm -f "$WORK/loader.in" "$WORK/loader.out"
	mkfifo "$WORK/loader.in"
	"$BENCH_BIN/empty_loader" "$1" <"$WORK/loader.in" >"$WORK/loader.out" \
		2>>"$LOGS/loader.log" &
	loader_pid=$!
	# Holding the fifo's write end: if this script dies, the loader reads EOF and exits.
	exec 9>"$WORK/loader.in"
	loader_fd_open=1
	for _ in $(seq 100); do
		grep -q '^ready' "$WORK/loader.out" 2>/dev/null && return 0
		kill -0 "$loader_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "empty_loader did not attach (log: $LOGS/loader.log)"
}

stop_loader() {
	[ -n "$loader_pid" ] || return 0
	kill -TERM "$loader_pid" 2>/dev/null
	wait "$loader_pid" 2>/dev/null
	loader_pid=
	if [ -n "$loader_fd_open" ]; then
		exec 9>&-
		loader_fd_open=
	fi
}

# BPF object ids a process holds, read from its fds: exact even when another iohazardd (another
# checkout, a test) runs at the same time, which program names could not tell apart.
bpf_ids_of() { # PID prog_id|map_id
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk -v k="$2:" '$1 == k { print $2 }' | sort -un
}

# CPU time of all threads of a process, in ns (schedstat: ns resolution, unlike utime).
cpu_ns_of() { # PID
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

# Run a workload that prints "elapsed_ns=N iterations=M"; print N.
run_workload() { # command...
	local out

	out=$("$@" 2>>"$LOGS/workload.log") || fail "workload failed: $* (log: $LOGS/workload.log)"
	sed -n 's/.*elapsed_ns=\([0-9]*\).*/\1/p' <<<"$out"
}

# ---- workloads ------------------------------------------------------------------------------

# label|iterations|command (run from $WORK). Labels are what the report shows.
COST_WORKLOADS=(
	"syscall loop (getppid)|$SYSCALL_ITERS|$BENCH_BIN/syscall_loop --mode getppid --iterations $SYSCALL_ITERS"
	"fsync+rename loop|$FSYNC_ITERS|$BENCH_BIN/fsync_rename_loop --iterations $FSYNC_ITERS $WORK/data"
	"rename-only loop|$RENAME_ITERS|$BENCH_BIN/fsync_rename_loop --rename-only --iterations $RENAME_ITERS $WORK/data"
)
AB_WORKLOADS=("${COST_WORKLOADS[@]}")

# ---- preconditions --------------------------------------------------------------------------

for b in iohazardd iohazard bench/fsync_rename_loop bench/syscall_loop bench/replay_throughput \
	bench/empty_loader; do
	[ -x "$BUILD/$b" ] || fail "$BUILD/$b missing: run 'make all test-bins' first"
done
mkdir -p "$LOGS"
rm -rf "$WORK"
mkdir -p "$WORK/data"
case $WORK in
/tmp/* | /var/tmp/* | /run/* | /dev/shm/*)
	log "warning: $WORK is under an excluded path; the daemon will filter these renames early" ;;
esac
: >"$LOGS/daemon.log"
: >"$LOGS/workload.log"

kernel_ok=1
if [ "$(id -u)" != 0 ]; then
	log "not root: skipping the kernel measurements (a, b, kernel memory)"
	kernel_ok=
elif [ ! -w "$SYSCTL" ] || [ ! -x "$BPFTOOL" ]; then
	log "no $SYSCTL or bpftool: skipping the kernel measurements"
	kernel_ok=
fi

started=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "iohazard benchmark, $started"
echo "host: $(uname -r), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "scratch directory: $WORK/data ($(df -T "$WORK" | awk 'NR == 2 { print $2 }'))"

# ---- (a) in-kernel cost per invocation -------------------------------------------------------

# Print a table of per-program cost between two `bpftool prog show -j` snapshots.
cost_table() { # BEFORE AFTER ID...
	python3 - "$@" <<'EOF'
import json, sys
before, after = (json.load(open(f)) for f in sys.argv[1:3])
ids = [int(i) for i in sys.argv[3:]]
b = {p["id"]: p for p in before}
for p in sorted(after, key=lambda p: p["name"]):
    if p["id"] not in ids:
        continue
    q = b.get(p["id"], {})
    runs = p.get("run_cnt", 0) - q.get("run_cnt", 0)
    ns = p.get("run_time_ns", 0) - q.get("run_time_ns", 0)
    per = "%.1f" % (ns / runs) if runs else "-"
    print("    %-30s %12d runs  %8s ns/run" % (p["name"], runs, per))
EOF
}

# ns/run of one program name between two snapshots (for the summary lines).
cost_of() { # BEFORE AFTER NAME ID...
	python3 - "$@" <<'EOF'
import json, sys
before, after = (json.load(open(f)) for f in sys.argv[1:3])
name, ids = sys.argv[3], [int(i) for i in sys.argv[4:]]
b = {p["id"]: p for p in before}
for p in after:
    if p["id"] in ids and p["name"] == name:
        q = b.get(p["id"], {})
        runs = p.get("run_cnt", 0) - q.get("run_cnt", 0)
        ns = p.get("run_time_ns", 0) - q.get("run_time_ns", 0)
        print("%.1f" % (ns / runs) if runs else "nan")
EOF
}

# iohazard syscall programs attached by someone else than the daemon we started: another
# session's daemon or test adds its cost to both sides of an A/B pair, so pairs say if one ran.
foreign_programs() {
	local mine=" "

	[ -n "$daemon_pid" ] && mine=" $(bpf_ids_of "$daemon_pid" prog_id | tr '\n' ' ')"
	"$BPFTOOL" prog show -j | python3 -c '
import json, sys
mine = set(int(i) for i in sys.argv[1].split())
print(sum(1 for p in json.load(sys.stdin)
          if p.get("name", "").startswith("syscalls_") and p["id"] not in mine))' "$mine"
}

kmem_per_inode=
if [ -n "$kernel_ok" ]; then
	others=$(foreign_programs)
	[ "$others" != 0 ] && log "warning: $others iohazard syscall programs already attached by" \
		"someone else (another daemon, a test); they run in every measurement"

	mkdir -p "$WORK/bpf"
	"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_"$ARCH" -I"$SRC/bpf" \
		-I"$SRC/bpf/vmlinux/$ARCH" -Wall -Werror -c "$SRC/bench/bpf/empty.bpf.c" \
		-o "$WORK/bpf/empty.bpf.o" 2>>"$LOGS/loader.log" || fail "compiling bench/bpf/empty.bpf.c"

	stats_orig=$(cat "$SYSCTL")
	echo 1 >"$SYSCTL" || fail "cannot enable $SYSCTL"
	start_daemon
	start_loader "$WORK/bpf/empty.bpf.o"
	ids=$( (bpf_ids_of "$daemon_pid" prog_id; bpf_ids_of "$loader_pid" prog_id) | tr '\n' ' ')
	map_ids=$(bpf_ids_of "$daemon_pid" map_id | tr '\n' ' ')
	[ -n "$ids" ] || fail "no BPF programs found on the daemon's file descriptors"

	echo
	echo "(a) in-kernel cost per invocation (bpf_stats; runs count every task on the host)"
	declare -A syscall_cost
	"$BPFTOOL" prog show -j >"$WORK/s0.json" || fail "bpftool prog show"
	i=0
	for w in "${COST_WORKLOADS[@]}"; do
		IFS='|' read -r label iters cmd <<<"$w"
		cpu0=$(cpu_ns_of "$daemon_pid")
		# shellcheck disable=SC2086 # the command is split on purpose
		elapsed=$(cd "$WORK" && run_workload $cmd) || exit 1
		cpu1=$(cpu_ns_of "$daemon_pid")
		"$BPFTOOL" prog show -j >"$WORK/s$((i + 1)).json" || fail "bpftool prog show"
		awk -v l="$label" -v n="$iters" -v e="$elapsed" -v c="$((cpu1 - cpu0))" 'BEGIN {
			printf "  while %s: %d iterations, %.2f us each; daemon CPU %.3f us/iteration\n",
				l, n, e / n / 1000, c / n / 1000 }'
		# shellcheck disable=SC2086
		cost_table "$WORK/s$i.json" "$WORK/s$((i + 1)).json" $ids
		if [ "$i" = 0 ]; then
			for n in syscalls_enter_tp_btf syscalls_exit_tp_btf empty_sys_enter empty_sys_exit; do
				# shellcheck disable=SC2086
				syscall_cost[$n]=$(cost_of "$WORK/s0.json" "$WORK/s1.json" $n $ids)
			done
		fi
		i=$((i + 1))
	done
	echo "  events and losses seen by the daemon during (a):"
	"$BUILD/iohazard" --socket "$WORK/api.sock" status 2>/dev/null |
		grep -E '^(events|events lost|tracked inodes|findings)' | sed 's/^/    /'
	awk -v a="${syscall_cost[syscalls_enter_tp_btf]}" -v b="${syscall_cost[empty_sys_enter]}" \
		-v c="${syscall_cost[syscalls_exit_tp_btf]}" -v d="${syscall_cost[empty_sys_exit]}" 'BEGIN {
		printf "  during the syscall loop: sys_enter %.1f ns/run vs empty %.1f (x%.2f), " \
			"sys_exit %.1f vs empty %.1f (x%.2f)\n", a, b, b ? a / b : 0, c, d, d ? c / d : 0 }'

	# (d), kernel side: the per-inode map, read while the daemon holds it.
	"$BPFTOOL" map show -j >"$WORK/maps.json" || fail "bpftool map show"
	# shellcheck disable=SC2086
	kmem=$(python3 - "$WORK/maps.json" $map_ids <<'EOF'
import json, sys
ids = [int(i) for i in sys.argv[2:]]
maps = [m for m in json.load(open(sys.argv[1])) if m["id"] in ids]
total = sum(m.get("bytes_memlock", 0) for m in maps)
for m in maps:
    if m["name"] == "inode_sync":
        print("%.1f %d %d %d" % (m["bytes_memlock"] / m["max_entries"], m["bytes_memlock"],
                                 m["max_entries"], total))
EOF
)
	read -r kmem_per_inode kmem_bytes kmem_entries kmem_total <<<"$kmem"
	stop_loader
	stop_daemon
	# A/B runs without bpf_stats: its accounting is not what production pays.
	echo 0 >"$SYSCTL"
fi

# ---- (b) wall-clock ratio with and without the daemon -----------------------------------------

declare -A ab_ratio ab_range
if [ -n "$kernel_ok" ]; then
	echo
	echo "(b) wall clock with/without the daemon: $PAIRS interleaved pairs, order alternating"
	: >"$WORK/ab.txt"
	for pair in $(seq "$PAIRS"); do
		if [ $((pair % 2)) = 1 ]; then order="off on"; else order="on off"; fi
		for cond in $order; do
			[ "$cond" = on ] && start_daemon
			for w in "${AB_WORKLOADS[@]}"; do
				IFS='|' read -r label iters cmd <<<"$w"
				# shellcheck disable=SC2086
				elapsed=$(cd "$WORK" && run_workload $cmd) || exit 1
				echo "$pair|$cond|$label|$iters|$elapsed|$(foreign_programs)" \
					>>"$WORK/ab.txt"
			done
			[ "$cond" = on ] && stop_daemon
		done
	done
	cp "$WORK/ab.txt" "$LOGS/ab.txt"
	echo "  (raw runs: $LOGS/ab.txt; label|pair|with-or-without|iterations|ns|foreign programs)"
	python3 - "$WORK/ab.txt" >"$WORK/ab.summary" <<'EOF'
import statistics, sys
runs = {}
foreign = set()
for line in open(sys.argv[1]):
    pair, cond, label, iters, ns, other = line.rstrip("\n").split("|")
    if other != "0":
        foreign.add(int(pair))
    runs.setdefault(label, {}).setdefault(int(pair), {})[cond] = (int(ns), int(iters))
for label, pairs in runs.items():
    ratios = sorted(p["on"][0] / p["off"][0] for p in pairs.values())
    off = statistics.median(p["off"][0] / p["off"][1] for p in pairs.values()) / 1000
    on = statistics.median(p["on"][0] / p["on"][1] for p in pairs.values()) / 1000
    print("%s|%.4f|%.4f|%.4f|%.2f|%.2f|%d" % (label, statistics.median(ratios), ratios[0],
                                                ratios[-1], off, on, len(foreign)))
EOF
	while IFS='|' read -r label med lo hi off on foreign; do
		printf '  %-26s median ratio %s (pairs ranged %s .. %s); median %s us/iteration without, %s with\n' \
			"$label" "$med" "$lo" "$hi" "$off" "$on"
		ab_ratio[$label]=$med
		ab_range[$label]="$lo..$hi"
	done <"$WORK/ab.summary"
	[ "${foreign:-0}" != 0 ] && echo "  warning: in $foreign of $PAIRS pairs another iohazard" \
		"daemon or test had syscall programs attached (its cost is on both sides)"
fi

# ---- (c) correlator throughput ---------------------------------------------------------------

echo
echo "(c) correlator throughput on one core, and (d) user-space memory per inode"
"$BENCH_BIN/replay_throughput" --rules-dir "$SRC/rules" --work-dir "$WORK" \
	>"$WORK/replay.txt" 2>>"$LOGS/replay.log" || fail "replay_throughput (log: $LOGS/replay.log)"
cp "$WORK/replay.txt" "$LOGS/replay.txt"
sed 's/^/    /' "$WORK/replay.txt"
val() { sed -n "s/^.*\b$1=\([0-9.]*\).*/\1/p" "$WORK/replay.txt" | head -1; }
feed_eps=$(val feed_events_per_sec_median)
replay_eps=$(val replay_events_per_sec)
umem_table=$(val inode_table_rss_bytes_per_inode)
umem_corr=$(val correlator_rss_bytes_per_inode)
umem_static=$(val inode_table_bytes_per_entry)

# ---- report ---------------------------------------------------------------------------------

verdict() { # VALUE OP LIMIT  (OP: le or ge)
	if [ -z "$1" ] || [ "$1" = nan ]; then
		echo "n/a"
	elif python3 -c "import sys; v, l = float('$1'), float('$3'); sys.exit(0 if (v <= l if '$2' == 'le' else v >= l) else 1)"; then
		echo "PASS"
	else
		echo "MISS"
	fi
}
line() { # WHAT MEASURED TARGET VERDICT
	printf '  %-52s %-26s %-18s %s\n' "$1" "$2" "$3" "$4"
}

echo
echo "summary ($started; targets from issue 2)"
line "measurement" "measured" "target" ""
if [ -n "$kernel_ok" ]; then
	for w in "${AB_WORKLOADS[@]}"; do
		IFS='|' read -r label _ _ <<<"$w"
		r=${ab_ratio[$label]:-}
		if [ "$label" = "fsync+rename loop" ]; then
			line "(b) $label, with/without daemon" "x$r (${ab_range[$label]})" "<= x1.01" \
				"$(verdict "$r" le 1.01)"
		else
			line "(b) $label, with/without daemon" "x$r (${ab_range[$label]})" "(for scale)" ""
		fi
	done
	line "(a) sys_enter hook, ns/run (empty program)" \
		"${syscall_cost[syscalls_enter_tp_btf]} (${syscall_cost[empty_sys_enter]})" "(see a)" ""
	line "(a) sys_exit hook, ns/run (empty program)" \
		"${syscall_cost[syscalls_exit_tp_btf]} (${syscall_cost[empty_sys_exit]})" "(see a)" ""
	line "(d) kernel bytes per tracked inode (inode_sync)" \
		"$kmem_per_inode ($kmem_bytes B/$kmem_entries)" "<= 128" \
		"$(verdict "$kmem_per_inode" le 128)"
	line "    all daemon maps, bytes_memlock" "$kmem_total" "(for scale)" ""
else
	line "(a), (b), kernel memory" "skipped (needs root)" "" ""
fi
line "(c) correlator feed, events/s (median pass)" "$feed_eps" ">= 3000000" \
	"$(verdict "$feed_eps" ge 3000000)"
line "(c) replay of a recorded file, events/s" "$replay_eps" "(for scale)" ""
line "(d) user bytes per inode, measured RSS (1M table)" "$umem_table" "<= 256" \
	"$(verdict "$umem_table" le 256)"
line "    whole correlator RSS per inode (1M inodes)" "$umem_corr" "<= 256" \
	"$(verdict "$umem_corr" le 256)"
line "    ioh_inode_table_bytes_per_entry()" "$umem_static" "<= 256" \
	"$(verdict "$umem_static" le 256)"
if command -v bpftrace >/dev/null; then
	line "bpftrace comparison" "not measured yet (issue 3)" "" ""
else
	line "bpftrace comparison" "skipped: bpftrace not installed (issue 3 needs it)" "" ""
fi
echo "logs: $LOGS"
exit 0
