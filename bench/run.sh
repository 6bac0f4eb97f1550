#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# iohazard benchmark (`make bench`): measures, in one run on this machine, what issues 2 and 3
# ask for and prints a report with each target next to the measured number.
#
#   bench/run.sh BUILD_DIR
#
#   (a) in-kernel cost per invocation of each attached program (bpf_stats run_time_ns /
#       run_cnt) while workloads run, next to an empty program on the same hook;
#   (b) wall-clock ratio of workloads with and without the daemon (interleaved A/B pairs,
#       order alternating, median of per-pair ratios);
#   (c) correlator throughput on one core (synthetic stream, and through a recorded file);
#   (d) memory per tracked inode, kernel map and user space;
#   (e) issue 3: a 4 KiB cached pread loop and a 512 B pwrite loop (unrelated files: the
#       read/write hooks' "not interesting" path). (a) for them in both attach orders (daemon
#       first, empty programs first); bench/inode_count.bt's cost per run (a straightforward
#       bpftrace script resolving the fd to an inode and counting per inode on every
#       pread/pwrite; skipped when bpftrace is missing); wall clock in rounds of four
#       conditions: nothing, the daemon, the empty programs alone (the floor of any BPF tool
#       on the sys_enter/sys_exit tracepoints), the bpftrace script; and in many short rounds,
#       the kernel's syscall-tracepoint slow path alone (an ftrace event on an unrelated
#       syscall, no BPF: the floor of anything on those tracepoints).
#
# A benchmark, not a test: a missed target prints MISS and the exit status stays 0. Non-zero
# only when something failed to run. The machine is shared and noisy, so only ratios measured
# within this run mean anything; absolute times are printed for context.
#
# Knobs (environment): IOH_BENCH_PAIRS (A/B pairs, default 9), IOH_BENCH_FSYNC_ITERS (300),
# IOH_BENCH_RENAME_ITERS (20000), IOH_BENCH_SYSCALL_ITERS (1000000), IOH_BENCH_IO_ITERS
# (500000, the pread and pwrite loops), IOH_BENCH_FLOOR_ROUNDS (41 short rounds for the
# syscall slow path alone, a fifth of IO_ITERS each).
#
# Extending: add a workload to COST_WORKLOADS (label|iterations|command) and to AB_WORKLOADS
# or IO_WORKLOADS below, and empty twins of new hooks to bench/bpf/empty.bpf.c.
set -u -o pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
BUILD=$(cd "$build" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_BIN=$BUILD/bench
PAIRS=${IOH_BENCH_PAIRS:-9}
FSYNC_ITERS=${IOH_BENCH_FSYNC_ITERS:-300}
RENAME_ITERS=${IOH_BENCH_RENAME_ITERS:-20000}
SYSCALL_ITERS=${IOH_BENCH_SYSCALL_ITERS:-1000000}
IO_ITERS=${IOH_BENCH_IO_ITERS:-500000}
FLOOR_ROUNDS=${IOH_BENCH_FLOOR_ROUNDS:-41}
FLOOR_ITERS=$((IO_ITERS / 5))
BPFTRACE=${BPFTRACE:-$(command -v bpftrace || true)}
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
bpftrace_pid=
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
	stop_bpftrace
	stop_slowpath
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

# bench/inode_count.bt: the script an on-call engineer would write (issue 3's baseline).
start_bpftrace() {
	: >"$WORK/bpftrace.out"
	"$BPFTRACE" "$SRC/bench/inode_count.bt" >"$WORK/bpftrace.out" 2>>"$LOGS/bpftrace.log" &
	bpftrace_pid=$!
	# The script's BEGIN probe prints "ready" once every probe is attached.
	for _ in $(seq 300); do
		grep -q '^ready' "$WORK/bpftrace.out" 2>/dev/null && { sleep 0.3; return 0; }
		kill -0 "$bpftrace_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "bpftrace did not attach (log: $LOGS/bpftrace.log)"
}

stop_bpftrace() {
	[ -n "$bpftrace_pid" ] || return 0
	kill -INT "$bpftrace_pid" 2>/dev/null
	wait "$bpftrace_pid" 2>/dev/null
	bpftrace_pid=
}

# The kernel's syscall-tracepoint slow path with no BPF at all: one ftrace event on a syscall the
# loops never make (renameat2), in a private tracefs instance. Registering any probe on the
# syscall tracepoints sets SYSCALL_WORK_SYSCALL_TRACEPOINT on every task, so every syscall
# takes the slow entry/exit path: the floor under anything that hooks sys_enter/sys_exit.
tracefs_mounted_here=
slowpath_inst=
start_slowpath() {
	local tr=/sys/kernel/tracing
	if ! mountpoint -q "$tr"; then
		mount -t tracefs nodev "$tr" || fail "cannot mount tracefs"
		tracefs_mounted_here=1
	fi
	slowpath_inst=$tr/instances/iohazard-bench-$$
	mkdir "$slowpath_inst" || fail "cannot create tracefs instance $slowpath_inst"
	echo 1 >"$slowpath_inst/events/syscalls/sys_enter_renameat2/enable" ||
		fail "cannot enable syscalls/sys_enter_renameat2"
}

stop_slowpath() {
	if [ -n "$slowpath_inst" ]; then
		echo 0 >"$slowpath_inst/events/syscalls/sys_enter_renameat2/enable" 2>/dev/null
		rmdir "$slowpath_inst" 2>/dev/null || log "could not remove $slowpath_inst"
		slowpath_inst=
	fi
	if [ -n "$tracefs_mounted_here" ]; then
		umount /sys/kernel/tracing 2>/dev/null
		tracefs_mounted_here=
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
	"pread loop (4 KiB, cached)|$IO_ITERS|$BENCH_BIN/syscall_loop --mode pread --iterations $IO_ITERS $WORK/data"
	"pwrite loop (512 B)|$IO_ITERS|$BENCH_BIN/syscall_loop --mode pwrite --iterations $IO_ITERS $WORK/data"
)
# Issue 3's read/write loops have their own A/B block in (e) (four conditions, not two).
AB_WORKLOADS=("${COST_WORKLOADS[@]:0:3}")
IO_WORKLOADS=("${COST_WORKLOADS[@]:3:2}")

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
	declare -A syscall_cost io_cost io_cost2
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
		for n in syscalls_enter_tp_btf syscalls_exit_tp_btf empty_sys_enter empty_sys_exit; do
			# shellcheck disable=SC2086
			io_cost[$label|$n]=$(cost_of "$WORK/s$i.json" "$WORK/s$((i + 1)).json" $n $ids)
		done
		i=$((i + 1))
	done
	echo "  events and losses seen by the daemon during (a):"
	"$BUILD/iohazard" --socket "$WORK/api.sock" status 2>/dev/null |
		grep -E '^(events|events lost|tracked inodes|findings)' | sed 's/^/    /'
	# The read/write hook takes its "not interesting" path only while no inode is watched
	# (used both ways): say if one was, since another process's mixed I/O changes (a).
	bss=$(for m in $map_ids; do "$BPFTOOL" map show id "$m" 2>/dev/null |
		grep -q ' name iohazard.bss ' && echo "$m"; done | head -1)
	watched=$([ -n "$bss" ] && "$BPFTOOL" map dump id "$bss" -j 2>/dev/null | python3 -c '
import json, sys
try:
    for m in json.load(sys.stdin):
        for sec in m.get("formatted", {}).get("value", {}).get(".bss", []):
            if "watched_count" in sec:
                print(sec["watched_count"]); break
except Exception:
    pass' | head -1)
	echo "  inodes watched as mixed by the daemon's kernel side at the end of (a): ${watched:-unknown}"
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

	# Issue 3's loops again with the attach order reversed: programs on one tracepoint run in
	# attach order, and the first one after a 4 KiB copy pays the cold caches. Above, the
	# daemon ran first; here the empty programs do. The verdict uses both orders.
	echo "  the read/write loops again, empty programs attached first (they run first):"
	start_loader "$WORK/bpf/empty.bpf.o"
	start_daemon
	ids2=$( (bpf_ids_of "$daemon_pid" prog_id; bpf_ids_of "$loader_pid" prog_id) | tr '\n' ' ')
	"$BPFTOOL" prog show -j >"$WORK/r0.json" || fail "bpftool prog show"
	i=0
	for w in "${IO_WORKLOADS[@]}"; do
		IFS='|' read -r label iters cmd <<<"$w"
		# shellcheck disable=SC2086
		elapsed=$(cd "$WORK" && run_workload $cmd) || exit 1
		"$BPFTOOL" prog show -j >"$WORK/r$((i + 1)).json" || fail "bpftool prog show"
		for n in syscalls_enter_tp_btf syscalls_exit_tp_btf empty_sys_enter empty_sys_exit; do
			# shellcheck disable=SC2086
			io_cost2[$label|$n]=$(cost_of "$WORK/r$i.json" "$WORK/r$((i + 1)).json" $n $ids2)
		done
		printf '    %-26s sys_enter %s (empty %s), sys_exit %s (empty %s) ns/run\n' "$label" \
			"${io_cost2[$label|syscalls_enter_tp_btf]}" "${io_cost2[$label|empty_sys_enter]}" \
			"${io_cost2[$label|syscalls_exit_tp_btf]}" "${io_cost2[$label|empty_sys_exit]}"
		i=$((i + 1))
	done
	stop_daemon
	stop_loader
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

# ---- (e) issue 3: the pread/pwrite loops under a bpftrace script -----------------------------

# ns/run over all programs in ID... between two snapshots (each bpftrace probe is a program).
cost_sum() { # BEFORE AFTER ID...
	python3 - "$@" <<'EOF'
import json, sys
before, after = (json.load(open(f)) for f in sys.argv[1:3])
ids = [int(i) for i in sys.argv[3:]]
b = {p["id"]: p for p in before}
runs = ns = 0
for p in after:
    if p["id"] in ids:
        q = b.get(p["id"], {})
        runs += p.get("run_cnt", 0) - q.get("run_cnt", 0)
        ns += p.get("run_time_ns", 0) - q.get("run_time_ns", 0)
print("%.1f" % (ns / runs) if runs else "nan")
EOF
}

declare -A bt_cost
bt_status=
if [ -z "$kernel_ok" ]; then
	bt_status="skipped (needs root)"
elif [ -z "$BPFTRACE" ]; then
	bt_status="skipped: bpftrace not installed (make deps, or apt-get install bpftrace)"
else
	echo
	echo "(e) in-kernel cost of bench/inode_count.bt ($("$BPFTRACE" --version 2>/dev/null)), bpf_stats on"
	echo 1 >"$SYSCTL" || fail "cannot enable $SYSCTL"
	start_bpftrace
	bt_ids=$(bpf_ids_of "$bpftrace_pid" prog_id | tr '\n' ' ')
	[ -n "$bt_ids" ] || fail "no BPF programs found on bpftrace's file descriptors"
	"$BPFTOOL" prog show -j >"$WORK/b0.json" || fail "bpftool prog show"
	i=0
	for w in "${IO_WORKLOADS[@]}"; do
		IFS='|' read -r label iters cmd <<<"$w"
		# shellcheck disable=SC2086
		elapsed=$(cd "$WORK" && run_workload $cmd) || exit 1
		"$BPFTOOL" prog show -j >"$WORK/b$((i + 1)).json" || fail "bpftool prog show"
		awk -v l="$label" -v n="$iters" -v e="$elapsed" 'BEGIN {
			printf "  while %s: %d iterations, %.2f us each\n", l, n, e / n / 1000 }'
		# shellcheck disable=SC2086
		cost_table "$WORK/b$i.json" "$WORK/b$((i + 1)).json" $bt_ids
		# shellcheck disable=SC2086
		bt_cost[$label]=$(cost_sum "$WORK/b$i.json" "$WORK/b$((i + 1)).json" $bt_ids)
		i=$((i + 1))
	done
	stop_bpftrace
	echo 0 >"$SYSCTL"

fi

# Median ratio of each condition to its round's "off" run, per loop, from a file of
# round|condition|label|iterations|ns|foreign lines; fills io_ratio and io_range.
declare -A io_ratio io_range
summarize_rounds() { # FILE
	python3 - "$1" >"$1.summary" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    pair, cond, label, iters, ns, other = line.rstrip("\n").split("|")
    runs.setdefault(label, {}).setdefault(int(pair), {})[cond] = int(ns) / int(iters)
for label, pairs in runs.items():
    conds = sorted({c for p in pairs.values() for c in p if c != "off"})
    off = statistics.median(p["off"] for p in pairs.values()) / 1000
    for c in conds:
        ratios = sorted(p[c] / p["off"] for p in pairs.values() if c in p and "off" in p)
        per = statistics.median(p[c] for p in pairs.values() if c in p) / 1000
        print("%s|%s|%.4f|%.4f|%.4f|%.3f|%.3f" % (label, c, statistics.median(ratios),
                                                ratios[0], ratios[-1], off, per))
EOF
	while IFS='|' read -r label cond med lo hi off per; do
		printf '  %-26s %-8s median ratio %s (rounds ranged %s .. %s); %s us/iteration (off: %s)\n' \
			"$label" "$cond" "$med" "$lo" "$hi" "$per" "$off"
		io_ratio[$label|$cond]=$med
		io_range[$label|$cond]="$lo..$hi"
	done <"$1.summary"
}

# Wall clock of the read/write loops under four conditions, interleaved: nothing attached
# (off), the daemon (daemon), only the empty programs on sys_enter/sys_exit (empty: the floor
# of any BPF tool on the tracepoint path), the bpftrace script (bpftrace). Each round runs every
# condition once, in an order rotated from round to round; ratios are to that round's "off" run.
if [ -n "$kernel_ok" ]; then
	conds="off daemon empty"
	[ -z "$bt_status" ] && conds="$conds bpftrace"
	echo
	echo "(e) wall clock of the read/write loops: $PAIRS rounds of {$conds}, order rotating, bpf_stats off"
	read -r -a cond_list <<<"$conds"
	: >"$WORK/io.txt"
	for pair in $(seq "$PAIRS"); do
		n=${#cond_list[@]}
		for k in $(seq 0 $((n - 1))); do
			cond=${cond_list[$(((pair + k) % n))]}
			case $cond in
			daemon) start_daemon ;;
			empty) start_loader "$WORK/bpf/empty.bpf.o" ;;
			bpftrace) start_bpftrace ;;
			esac
			for w in "${IO_WORKLOADS[@]}"; do
				IFS='|' read -r label iters cmd <<<"$w"
				# shellcheck disable=SC2086
				elapsed=$(cd "$WORK" && run_workload $cmd) || exit 1
				echo "$pair|$cond|$label|$iters|$elapsed|$(foreign_programs)" >>"$WORK/io.txt"
			done
			case $cond in
			daemon) stop_daemon ;;
			empty) stop_loader ;;
			bpftrace) stop_bpftrace ;;
			esac
		done
	done
	cp "$WORK/io.txt" "$LOGS/io.txt"
	echo "  (raw runs: $LOGS/io.txt; round|condition|label|iterations|ns|foreign programs)"
	summarize_rounds "$WORK/io.txt"

	# The kernel's floor, apart: the syscall-tracepoint slow path with no BPF (start_slowpath).
	# Toggling one tracefs event takes microseconds, so many short alternating rounds fit
	# where the daemon allows few, and their median is steadier on a noisy machine.
	echo
	echo "(e) the syscall-tracepoint slow path alone, no BPF: $FLOOR_ROUNDS rounds of {off slowpath}, $FLOOR_ITERS iterations each, order alternating"
	: >"$WORK/floor.txt"
	for pair in $(seq "$FLOOR_ROUNDS"); do
		for k in 0 1; do
			cond=off
			[ $(((pair + k) % 2)) = 1 ] && cond=slowpath
			[ "$cond" = slowpath ] && start_slowpath
			for w in "${IO_WORKLOADS[@]}"; do
				IFS='|' read -r label iters cmd <<<"$w"
				cmd=${cmd/--iterations $iters/--iterations $FLOOR_ITERS}
				# shellcheck disable=SC2086
				elapsed=$(cd "$WORK" && run_workload $cmd) || exit 1
				echo "$pair|$cond|$label|$FLOOR_ITERS|$elapsed|$(foreign_programs)" >>"$WORK/floor.txt"
			done
			[ "$cond" = slowpath ] && stop_slowpath
		done
	done
	cp "$WORK/floor.txt" "$LOGS/floor.txt"
	echo "  (raw runs: $LOGS/floor.txt)"
	summarize_rounds "$WORK/floor.txt"
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

# Issue 3: unrelated reads and writes.
ratio() { # A B: A/B with two decimals, or nan
	python3 -c 'import sys
a, b = sys.argv[1:]
try:
    print("%.2f" % (float(a) / float(b)))
except (ValueError, ZeroDivisionError):
    print("nan")' "$1" "$2"
}
gmean() { # R1 R2: geometric mean of two ratios, or nan
	python3 -c 'import sys
try:
    print("%.2f" % ((float(sys.argv[1]) * float(sys.argv[2])) ** 0.5))
except ValueError:
    print("nan")' "$1" "$2"
}
echo
echo "summary, issue 3 (unrelated files: the read/write hooks' \"not interesting\" path)"
line "measurement" "measured" "target" ""
if [ -n "$kernel_ok" ]; then
	for w in "${IO_WORKLOADS[@]}"; do
		IFS='|' read -r label _ _ <<<"$w"
		echo "  $label:"
		for hook in enter exit; do
			d1=${io_cost[$label|syscalls_${hook}_tp_btf]:-nan}
			e1=${io_cost[$label|empty_sys_$hook]:-nan}
			d2=${io_cost2[$label|syscalls_${hook}_tp_btf]:-nan}
			e2=${io_cost2[$label|empty_sys_$hook]:-nan}
			r1=$(ratio "$d1" "$e1")
			r2=$(ratio "$d2" "$e2")
			g=$(gmean "$r1" "$r2")
			line "(a) sys_$hook ns/run: daemon first; empty first" \
				"$d1/$e1 x$r1; $d2/$e2 x$r2" "" ""
			line "    sys_$hook, daemon/empty (geometric mean)" "x$g" "<= x1.3" \
				"$(verdict "$g" le 1.3)"
		done
		r=${io_ratio[$label|daemon]:-}
		line "(b) with/without daemon" "x$r (${io_range[$label|daemon]:-})" "<= x1.05" \
			"$(verdict "$r" le 1.05)"
		r=${io_ratio[$label|empty]:-}
		line "    with/without empty programs only (floor)" \
			"x$r (${io_range[$label|empty]:-})" "(for scale)" ""
		r=${io_ratio[$label|slowpath]:-}
		line "    with/without the syscall slow path alone, no BPF" \
			"x$r (${io_range[$label|slowpath]:-})" "(kernel floor)" ""
		if [ -z "$bt_status" ]; then
			line "(e) bpftrace script, ns/run (daemon sys_enter)" \
				"${bt_cost[$label]:-nan} (${io_cost[$label|syscalls_enter_tp_btf]:-nan})" \
				"far above daemon" \
				"$(verdict "$(ratio "${io_cost[$label|syscalls_enter_tp_btf]:-nan}" \
					"${bt_cost[$label]:-nan}")" le 0.5)"
			r=${io_ratio[$label|bpftrace]:-}
			line "    with/without bpftrace script" "x$r (${io_range[$label|bpftrace]:-})" \
				"(baseline)" ""
		fi
	done
	[ -n "$bt_status" ] && line "(e) bpftrace comparison" "$bt_status" "" ""
else
	line "(a), (b), (e)" "skipped (needs root)" "" ""
fi
echo "logs: $LOGS"
exit 0
