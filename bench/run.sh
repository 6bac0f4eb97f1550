#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# iohazard benchmark (`make bench`): measures, in one run on this machine, what issues 2, 3 and
# 11 ask for and prints a report with each target next to the measured number.
#
#   bench/run.sh BUILD_DIR
#
#   (h) issue 11, hooks where the work is (bpf_stats on, one daemon):
#       - which BPF programs sit on raw_syscalls sys_enter/sys_exit (bpftool perf list: every
#         raw_tracepoint, tp_btf and perf-event tracepoint attachment a process holds, with its
#         pid; bpftool link list: raw_tracepoint links nobody holds); the daemon's must be none;
#       - per loop (getppid, cached 4 KiB pread, 512 B pwrite, and the rename loops for scale),
#         each daemon program's run_cnt and run_time_ns deltas, and "program runs per loop
#         iteration" (all daemon programs together; counts every task on the host);
#       - one mixed O_DIRECT/buffered episode (tests/e2e/workloads/mixed_io same-process), then
#         short pread/pwrite loops until the runs per iteration are back at <= 0.01: how long
#         after the episode ended, against the mixed window (--mixed-window, shortened here)
#         plus one expiry sweep of the daemon;
#       - (d) kernel memory per tracked inode, from the daemon's maps.
#   (s) issue 11, rename storm: bench/fsync_rename_loop --storm (write a 4 KiB temp file,
#       rename it over the target, no fsync) on one core for 10 s under a directory made in
#       /var/lib (removed after), daemon with default options (8 MiB ring). Renames/s, the
#       daemon's rename events and loss counters (`iohazard status -j`) before and after, and the
#       ring's own producer position and peak lag (bench/ringbuf_watch reads them by map id):
#       bytes per rename as reserved in the ring, and the ring's capacity in renames, from the
#       fixed layout (bench/abi_sizes), from the used bytes only, and as observed. Then the
#       rename path alone (--rename-only) for scale.
#   (w) wall clock of the getppid, pread and pwrite loops in rounds of {off, floor, daemon},
#       order rotating, bpf_stats off; "floor" is the kernel's syscall-tracepoint slow path with
#       no BPF: one ftrace event on a syscall the loops never make (renameat2), in a private
#       tracefs instance. Median of per-round ratios daemon/floor (issue 11's target), with the
#       range over rounds, and daemon/off and floor/off.
#   (b) issue 2: wall clock of the fsync+rename and rename-only loops with and without the
#       daemon (interleaved pairs, order alternating, median of per-pair ratios);
#   (c) correlator throughput on one core (synthetic stream, and through a recorded file);
#   (d) memory per tracked inode, kernel map and user space.
#   IOH_BENCH_LEGACY=1 adds issue 3's comparisons made for the old raw sys_enter/sys_exit
#   programs: empty programs on those tracepoints next to the daemon in both attach orders,
#   the bpftrace baseline (bench/inode_count.bt) and the 41 short floor rounds. They are off by
#   default: issue 11 removed the daemon's programs from those tracepoints, and they take
#   three minutes.
#
# A benchmark, not a test: a missed target prints MISS (FAIL for a program on raw_syscalls) and
# the exit status stays 0. Non-zero only when something failed to run. The machine is shared and
# noisy, so only ratios measured within this run mean anything; absolute times are printed for
# context. A compact table of every ratio ends the report.
#
# Knobs (environment): IOH_BENCH_PAIRS (issue 2's A/B pairs, default 7), IOH_BENCH_ROUNDS
# ((w) rounds, 11), IOH_BENCH_CHUNKS ((w): each loop timed in 50 chunks, the fastest used),
# IOH_BENCH_FSYNC_ITERS (300), IOH_BENCH_RENAME_ITERS (20000),
# IOH_BENCH_SYSCALL_ITERS (1000000, getppid), IOH_BENCH_IO_ITERS (500000, the pread and pwrite
# loops), IOH_BENCH_STORM_SECONDS (10), IOH_BENCH_STORM_CPU (0), IOH_BENCH_MIXED_WINDOW (2s),
# IOH_BENCH_LEGACY (unset), IOH_BENCH_FLOOR_ROUNDS (41, legacy only), IOH_BENCH_STORM_ONLY
# (unset; set: only the rename storm (s), with issue 15's stacks on/off comparison).
#
# Extending: add a workload to COST_WORKLOADS (label|iterations|command) and to AB_WORKLOADS,
# HOT_WORKLOADS or IO_WORKLOADS below.
set -u -o pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
BUILD=$(cd "$build" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_BIN=$BUILD/bench
PAIRS=${IOH_BENCH_PAIRS:-7}
ROUNDS=${IOH_BENCH_ROUNDS:-11}
CHUNKS=${IOH_BENCH_CHUNKS:-50}
STORM_SECONDS=${IOH_BENCH_STORM_SECONDS:-10}
STORM_CPU=${IOH_BENCH_STORM_CPU:-0}
MIXED_WINDOW=${IOH_BENCH_MIXED_WINDOW:-2s}
LEGACY=${IOH_BENCH_LEGACY:-}
STORM_ONLY=${IOH_BENCH_STORM_ONLY:-}
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
watch_pid=
storm_dir=

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
	[ -n "$watch_pid" ] && kill -TERM "$watch_pid" 2>/dev/null
	[ -n "$storm_dir" ] && rm -rf "$storm_dir"
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

start_daemon() { # [extra iohazardd options...]
	rm -f "$WORK/api.sock"
	"$BUILD/iohazardd" --foreground --output=none --rules-dir "$SRC/rules" \
		--socket "$WORK/api.sock" --metrics-listen off --log-level warning "$@" \
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
# Issue 2's A/B pairs: the rename loops. Issue 11's loops (getppid, pread, pwrite) have their
# own rounds in (w), against the kernel floor; issue 3's legacy blocks use the read/write ones.
AB_WORKLOADS=("${COST_WORKLOADS[@]:1:2}")
HOT_WORKLOADS=("${COST_WORKLOADS[0]}" "${COST_WORKLOADS[@]:3:2}")
IO_WORKLOADS=("${COST_WORKLOADS[@]:3:2}")

# ---- preconditions --------------------------------------------------------------------------

for b in iohazardd iohazard bench/fsync_rename_loop bench/syscall_loop bench/replay_throughput \
	bench/empty_loader bench/abi_sizes bench/ringbuf_watch workloads/mixed_io; do
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

# Seconds each phase took, for the last line of the report.
phases=
phase_t0=$SECONDS
mark() { phases="$phases $1 $((SECONDS - phase_t0))s,"; phase_t0=$SECONDS; }

# ---- (h) issue 11: hooks and program runs per iteration; (a) in-kernel cost per invocation ---

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

# Program runs a loop caused, per iteration: the run_cnt deltas over the loop minus what the
# rest of the host ran meanwhile, estimated from two idle windows, one right before the loop
# and one right after it (a shared machine runs the open/close/mmap and direct-I/O programs
# tens of thousands of times a second). Snapshots: PRE, BEFORE, AFTER, IDLE (bpftool prog show
# -j), each with the CLOCK_REALTIME ns it was taken at. Prints "net raw background", all per
# iteration (net: totals subtracted, 0 if negative), then one "name=runs/iteration" per program
# whose own net is >= 0.005.
runs_attributable() { # PRE T0 BEFORE T1 AFTER T2 IDLE T3 ITERS ID...
	python3 - "$@" <<'EOF'
import json, sys
a = sys.argv[1:]
snaps = [{p["id"]: p for p in json.load(open(a[k]))} for k in (0, 2, 4, 6)]
t = [int(a[k]) for k in (1, 3, 5, 7)]
iters, ids = int(a[8]), [int(i) for i in a[9:]]
pre, before, after, idle = snaps
cnt = lambda snap, p: snap.get(p, {}).get("run_cnt", 0)
idle_ns = max(1, (t[1] - t[0]) + (t[3] - t[2]))
loop_ns = t[2] - t[1]
raw = bg = 0
hot = []
for p in ids:
    r = cnt(after, p) - cnt(before, p)
    g = ((cnt(before, p) - cnt(pre, p)) + (cnt(idle, p) - cnt(after, p))) * loop_ns / idle_ns
    raw, bg = raw + r, bg + g
    if (r - g) / iters >= 0.005:
        hot.append("%s=%.3f" % (after.get(p, {}).get("name", "?"), (r - g) / iters))
print("%.4f %.4f %.4f %s" % (max(0, raw - bg) / iters, raw / iters, bg / iters, " ".join(hot)))
EOF
}

# Snapshot of every program's stats into FILE; prints the time it was taken (ns).
prog_snapshot() { # FILE
	"$BPFTOOL" prog show -j >"$1" || fail "bpftool prog show"
	date +%s%N
}

# Every BPF attachment on raw_syscalls sys_enter/sys_exit on this host, one per line:
# owner|pid|prog_id|prog name|how|tracepoint, owner being "daemon" (the iohazardd we started),
# "bench" (our empty programs or bpftrace) or "other". `bpftool perf list` walks every
# process's fds (task_file iterator) and names raw_tracepoint, tp_btf (shown as
# raw_tracepoint) and perf-event tracepoint attachments with the tracepoint and pid;
# per-syscall tracepoints are named sys_enter_<call> there, so only exact names match.
# `bpftool link list` adds raw_tracepoint links that no process holds (pinned).
raw_syscalls_attached() {
	local mine=" " ours

	[ -n "$daemon_pid" ] && mine=" $daemon_pid $(bpf_ids_of "$daemon_pid" prog_id | tr '\n' ' ')"
	ours=" ${loader_pid:-} ${bpftrace_pid:-}"
	"$BPFTOOL" perf list -j >"$WORK/perf.json" 2>/dev/null || echo '[]' >"$WORK/perf.json"
	"$BPFTOOL" link list -j >"$WORK/links.json" 2>/dev/null || echo '[]' >"$WORK/links.json"
	"$BPFTOOL" prog show -j >"$WORK/progs.json" 2>/dev/null || echo '[]' >"$WORK/progs.json"
	python3 - "$WORK" "$daemon_pid" "$mine" "$ours" <<'EOF'
import json, sys
work, dpid = sys.argv[1], sys.argv[2]
mine = set(int(i) for i in sys.argv[3].split()[1:]) if dpid else set()
ours = set(int(i) for i in sys.argv[4].split())
def load(name):
    try:
        return json.load(open(work + "/" + name)) or []
    except ValueError:
        return []
names = {p["id"]: p.get("name", "?") for p in load("progs.json")}
seen = {}
for e in load("perf.json"):
    if e.get("tracepoint") in ("sys_enter", "sys_exit"):
        seen[e["prog_id"]] = (e.get("pid", 0), e.get("fd_type", "?"), e["tracepoint"])
for l in load("links.json"):
    if l.get("type") == "raw_tracepoint" and l.get("tp_name") in ("sys_enter", "sys_exit"):
        seen.setdefault(l["prog_id"], (0, "link", l["tp_name"]))
for prog, (pid, how, tp) in sorted(seen.items()):
    owner = ("daemon" if dpid and (pid == int(dpid) or prog in mine)
             else "bench" if pid in ours else "other")
    print("%s|%d|%d|%s|%s|%s" % (owner, pid, prog, names.get(prog, "?"), how, tp))
EOF
}

# Programs on raw_syscalls that are neither the daemon's nor the benchmark's own: another
# session's daemon or test pays its cost in every condition, so each run records the count.
foreign_programs() {
	raw_syscalls_attached | grep -c '^other|'
}

# The daemon's watched_count (inodes in a mixed episode), from its .bss; empty if unknown.
# The map id is looked up once per daemon (bss_of).
bss_of=
bss_id=
watched_count() {
	if [ "$bss_of" != "$daemon_pid" ]; then
		bss_of=$daemon_pid
		# shellcheck disable=SC2046 # one argument per id
		bss_id=$("$BPFTOOL" map show -j 2>/dev/null | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1:])
print(next((m["id"] for m in json.load(sys.stdin)
            if m["id"] in ids and m.get("name") == "iohazard.bss"), ""))' \
			$(bpf_ids_of "$daemon_pid" map_id))
	fi
	[ -n "$bss_id" ] || return 0
	"$BPFTOOL" map dump id "$bss_id" -j 2>/dev/null | python3 -c '
import json, sys
try:
    for m in json.load(sys.stdin):
        for sec in m.get("formatted", {}).get("value", {}).get(".bss", []):
            if "watched_count" in sec:
                print(sec["watched_count"]); sys.exit(0)
except Exception:
    pass'
}

# The daemon's expiry sweep interval, from its source (HEALTH_EVERY_TICKS ticks of TICK_USEC).
sweep_seconds() {
	awk '/^#define TICK_USEC/ { t = $3 + 0 } /^#define HEALTH_EVERY_TICKS/ { n = $3 + 0 }
		END { if (t && n) printf "%g\n", t * n / 1e6; else print 5 }' "$SRC/daemon/manager.c"
}

kmem_per_inode=
declare -A syscall_cost io_cost io_cost2 per_iter per_iter_raw
raw_daemon=
mixed_back=
mixed_note=
mixed_before=
mixed_after=
SWEEP_S=$(sweep_seconds)
MIXED_S=$(python3 -c 'import re, sys
m = re.fullmatch(r"([0-9.]+)\s*(ms|s|min|m)?", sys.argv[1])
print("%g" % (float(m.group(1)) * {"ms": 0.001, "s": 1, "min": 60, "m": 60, None: 1}[m.group(2)]))' \
	"$MIXED_WINDOW") || fail "IOH_BENCH_MIXED_WINDOW: not a duration: $MIXED_WINDOW"
if [ -n "$kernel_ok" ] && [ -z "$STORM_ONLY" ]; then
	others=$(foreign_programs)
	if [ "$others" != 0 ]; then
		log "warning: $others BPF program(s) of other processes on raw_syscalls" \
			"sys_enter/sys_exit (another daemon, a test); every measurement pays them:"
		raw_syscalls_attached | grep '^other|' | sed 's/^/bench:   /' >&2
	fi

	if [ -n "$LEGACY" ]; then
		mkdir -p "$WORK/bpf"
		"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_"$ARCH" -I"$SRC/bpf" \
			-I"$SRC/bpf/vmlinux/$ARCH" -Wall -Werror -c "$SRC/bench/bpf/empty.bpf.c" \
			-o "$WORK/bpf/empty.bpf.o" 2>>"$LOGS/loader.log" ||
			fail "compiling bench/bpf/empty.bpf.c"
	fi

	stats_orig=$(cat "$SYSCTL")
	echo 1 >"$SYSCTL" || fail "cannot enable $SYSCTL"
	# A short mixed window, so the episode at the end of (h) expires within seconds; nothing
	# else depends on it.
	start_daemon --mixed-window "$MIXED_WINDOW"
	[ -n "$LEGACY" ] && start_loader "$WORK/bpf/empty.bpf.o"
	dids=$(bpf_ids_of "$daemon_pid" prog_id | tr '\n' ' ')
	ids=$dids
	[ -n "$LEGACY" ] && ids="$ids $(bpf_ids_of "$loader_pid" prog_id | tr '\n' ' ')"
	map_ids=$(bpf_ids_of "$daemon_pid" map_id | tr '\n' ' ')
	[ -n "$dids" ] || fail "no BPF programs found on the daemon's file descriptors"

	echo
	echo "(h) issue 11: the daemon's hooks (iohazard status)"
	"$BUILD/iohazard" --socket "$WORK/api.sock" status 2>/dev/null |
		sed -n '/^hooks:/,/^events:/p' | grep -v '^events:' | sed 's/^/  /'
	raw=$(raw_syscalls_attached)
	raw_daemon=$(grep -c '^daemon|' <<<"$raw")
	echo "  BPF programs on raw_syscalls sys_enter/sys_exit, whole host (bpftool perf list, link list):"
	if [ -z "$raw" ]; then
		echo "    none"
	else
		while IFS='|' read -r owner pid prog name how tp; do
			printf '    %-6s pid %-7s prog %-6s %-28s %s on %s\n' "$owner" "$pid" "$prog" \
				"$name" "$how" "$tp"
		done <<<"$raw"
	fi
	if [ "$raw_daemon" != 0 ]; then
		echo "  *** FAIL: the daemon has $raw_daemon program(s) on raw_syscalls sys_enter/sys_exit:"
		echo "  *** every syscall of every process on the host runs them"
	else
		echo "  PASS: no daemon program on raw_syscalls sys_enter/sys_exit"
	fi

	echo
	echo "(h) program runs per loop iteration, and (a) in-kernel cost per run (bpf_stats on;"
	echo "    runs count every task on the host; target for getppid/pread/pwrite: <= 0.01 runs/iteration)"
	echo "    runs per iteration = (runs during the loop - the host's background rate, from idle"
	echo "    windows right before and after it, x the loop's duration) / iterations; raw and"
	echo "    background shown beside it"
	i=0
	for w in "${COST_WORKLOADS[@]}"; do
		IFS='|' read -r label iters cmd <<<"$w"
		# Issue 11's loops are "while nothing is watched": another process's mixed I/O on
		# this host makes the daemon watch its inode (and attach cache_reads) for the mixed
		# window; wait for the sweep (a few seconds with the short window here).
		waited=0
		while [ "$(watched_count | grep . || echo 0)" != 0 ] && [ "$waited" -lt 40 ]; do
			sleep 0.25
			waited=$((waited + 1))
		done
		[ "$waited" != 0 ] && echo "  (waited $((waited / 4)).$((waited % 4 * 25))s for the daemon to stop watching other processes' inodes)"
		wc0=$(watched_count | grep . || echo '?')
		t0=$(prog_snapshot "$WORK/s$i.pre.json") || exit 1
		sleep 0.5
		t1=$(prog_snapshot "$WORK/s$i.json") || exit 1
		cpu0=$(cpu_ns_of "$daemon_pid")
		# shellcheck disable=SC2086 # the command is split on purpose
		elapsed=$(cd "$WORK" && run_workload $cmd) || exit 1
		cpu1=$(cpu_ns_of "$daemon_pid")
		t2=$(prog_snapshot "$WORK/s$i.after.json") || exit 1
		sleep "$(awk -v e="$elapsed" 'BEGIN { printf "%.3f", e / 1e9 }')"
		t3=$(prog_snapshot "$WORK/s$i.idle.json") || exit 1
		# shellcheck disable=SC2086
		read -r corr raw bg hot <<<"$(runs_attributable "$WORK/s$i.pre.json" "$t0" \
			"$WORK/s$i.json" "$t1" "$WORK/s$i.after.json" "$t2" "$WORK/s$i.idle.json" "$t3" \
			"$iters" $dids)"
		per_iter[$label]=$corr
		per_iter_raw[$label]="$raw (background $bg)"
		awk -v l="$label" -v n="$iters" -v e="$elapsed" -v c="$((cpu1 - cpu0))" 'BEGIN {
			printf "  while %s: %d iterations, %.2f us each; daemon CPU %.3f us/iteration\n",
				l, n, e / n / 1000, c / n / 1000 }'
		echo "    daemon programs per iteration: $corr (raw $raw, background $bg); inodes watched at the start: $wc0${hot:+; per-iteration programs: $hot}"
		# shellcheck disable=SC2086
		cost_table "$WORK/s$i.json" "$WORK/s$i.after.json" $ids | awk '$2 != 0'
		if [ -n "$LEGACY" ]; then
			for n in syscalls_enter_tp_btf syscalls_exit_tp_btf empty_sys_enter empty_sys_exit; do
				# shellcheck disable=SC2086
				[ "$i" = 0 ] && syscall_cost[$n]=$(cost_of "$WORK/s0.json" "$WORK/s0.after.json" $n $ids)
				# shellcheck disable=SC2086
				io_cost[$label|$n]=$(cost_of "$WORK/s$i.json" "$WORK/s$i.after.json" $n $ids)
			done
		fi
		i=$((i + 1))
	done
	echo "  (programs that did not run are left out)"
	echo "  events and losses seen by the daemon during (h):"
	"$BUILD/iohazard" --socket "$WORK/api.sock" status 2>/dev/null |
		grep -E '^(events|events lost|tracked inodes|findings)' | sed 's/^/    /'
	# The read/write path is "not interesting" only while no inode is watched (used both
	# ways): say if one was, since another process's mixed I/O changes the numbers above.
	echo "  inodes watched as mixed by the daemon's kernel side at the end: $(watched_count | grep . || echo unknown)"
	[ -n "$LEGACY" ] && awk -v a="${syscall_cost[syscalls_enter_tp_btf]}" \
		-v b="${syscall_cost[empty_sys_enter]}" -v c="${syscall_cost[syscalls_exit_tp_btf]}" \
		-v d="${syscall_cost[empty_sys_exit]}" 'BEGIN {
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

	# After a mixed episode: the daemon watches the inode (and may attach or enable hooks for
	# it) until the episode ends; its sweep drops the inode once one side has been idle for the
	# mixed window. Short pread/pwrite loops on an unrelated file then show when the programs
	# are back to <= 0.01 runs per iteration.
	probe_iters=$((FLOOR_ITERS * 2))
	probe_runs() { # [pread]: max runs/iteration over short pread and pwrite loops
		local w label iters cmd r max=0

		for w in "${IO_WORKLOADS[@]}"; do
			IFS='|' read -r label iters cmd <<<"$w"
			[ -n "${1:-}" ] && [ "${cmd/--mode $1/}" = "$cmd" ] && continue
			cmd=${cmd/--iterations $iters/--iterations $probe_iters}
			t0=$(prog_snapshot "$WORK/p0.json") || exit 1
			sleep 0.2
			t1=$(prog_snapshot "$WORK/p1.json") || exit 1
			# shellcheck disable=SC2086
			e=$(cd "$WORK" && run_workload $cmd) || exit 1
			t2=$(prog_snapshot "$WORK/p2.json") || exit 1
			sleep "$(awk -v e="$e" 'BEGIN { printf "%.3f", e / 1e9 }')"
			t3=$(prog_snapshot "$WORK/p3.json") || exit 1
			# shellcheck disable=SC2086
			r=$(runs_attributable "$WORK/p0.json" "$t0" "$WORK/p1.json" "$t1" "$WORK/p2.json" \
				"$t2" "$WORK/p3.json" "$t3" "$probe_iters" $dids | awk '{ print $1 }')
			max=$(python3 -c 'import sys; print(max(sys.argv[1:], key=float))' "$max" "$r")
		done
		echo "$max"
	}
	echo
	echo "(h) after a mixed O_DIRECT/buffered episode (mixed_io same-process, 1 s; --mixed-window"
	echo "    $MIXED_WINDOW, expiry sweep every ${SWEEP_S}s): runs per iteration of unrelated pread/pwrite"
	echo "    loops ($probe_iters iterations each, the larger of the two)"
	f0=$("$BUILD/iohazard" --socket "$WORK/api.sock" status -j 2>/dev/null |
		python3 -c 'import json, sys
v = json.load(sys.stdin).get("findings_by_rule", {}).get("mixed-direct-buffered", 0)
print(sum(v.values()) if isinstance(v, dict) else int(v))' 2>/dev/null || echo 0)
	mixed_before=$(probe_runs)
	echo "  before: $mixed_before runs/iteration, watched $(watched_count | grep . || echo unknown)"
	"$BUILD/workloads/mixed_io" same-process "$WORK/data/mixed-episode.dat" 1 \
		>>"$LOGS/workload.log" 2>&1 || fail "mixed_io same-process (log: $LOGS/workload.log)"
	ended=$(date +%s.%N)
	since() { python3 -c "import time; print('%.1f' % (time.time() - $ended))"; }
	deadline=$(python3 -c "print($MIXED_S + 2 * $SWEEP_S + 3)")
	# Watch the daemon's own state every 0.2 s from now on, in the background: its watched set
	# and, where the daemon has one, the on-demand cache_reads hook (`iohazard status`). The
	# first poll that finds both idle is when the sweep ran. Meanwhile one short probe shows
	# the hooks the episode switched on; a full probe after "idle" confirms the runs.
	: >"$WORK/poll.txt"
	(
		while :; do
			t=$(since)
			wc=$(watched_count | grep . || echo unknown)
			hs=$("$BUILD/iohazard" --socket "$WORK/api.sock" status 2>/dev/null |
				sed -n 's/^ *cache_reads *[a-z_]* *//p' | head -1)
			echo "$t|$wc|$hs" >>"$WORK/poll.txt"
			[ "$wc" = 0 ] && [ "${hs#attached}" = "$hs" ] && break
			python3 -c "import sys; sys.exit(0 if $t < $deadline else 1)" || break
			sleep 0.2
		done
	) &
	poll_pid=$!
	mixed_after=$(probe_runs pread)
	echo "  +$(since)s after the episode: $mixed_after runs/iteration (pread only)"
	wait "$poll_pid"
	echo "  $(wc -l <"$WORK/poll.txt") polls of the daemon's state; the first: $(head -1 "$WORK/poll.txt"); the last:" \
		"$(tail -1 "$WORK/poll.txt" | awk -F'|' '{ printf "+%ss watched %s, cache_reads %s", $1, $2, ($3 == "" ? "(no such hook)" : $3) }')"
	idle_at=$(awk -F'|' '$2 == "0" && $3 !~ /^attached/ { print $1; exit }' "$WORK/poll.txt")
	while :; do
		r=$(probe_runs)
		t=$(since)
		echo "  +${t}s: $r runs/iteration (pread and pwrite), watched $(watched_count | grep . || echo unknown)"
		if python3 -c "import sys; sys.exit(0 if float('$r') <= 0.01 else 1)"; then
			mixed_back=${idle_at:-$t}
			break
		fi
		python3 -c "import sys; sys.exit(0 if $t < $deadline else 1)" || break
		sleep 0.5
	done
	rm -f "$WORK/data/mixed-episode.dat"
	f1=$("$BUILD/iohazard" --socket "$WORK/api.sock" status -j 2>/dev/null |
		python3 -c 'import json, sys
v = json.load(sys.stdin).get("findings_by_rule", {}).get("mixed-direct-buffered", 0)
print(sum(v.values()) if isinstance(v, dict) else int(v))' 2>/dev/null || echo 0)
	mixed_note="episode reported: $((f1 - f0)) mixed-direct-buffered finding(s)"
	echo "  $mixed_note"
	if [ -n "$mixed_back" ]; then
		echo "  idle again ${mixed_back}s after the episode ended, <= 0.01 runs/iteration confirmed at +${t}s (window ${MIXED_S}s + one sweep ${SWEEP_S}s = $(python3 -c "print($MIXED_S + $SWEEP_S)")s)"
	else
		echo "  *** not back to <= 0.01 runs/iteration within ${deadline}s of the episode's end"
	fi
	stop_daemon

	# Issue 3's loops again with the attach order reversed: programs on one tracepoint run in
	# attach order, and the first one after a 4 KiB copy pays the cold caches. Above, the
	# daemon ran first; here the empty programs do. The verdict uses both orders.
	if [ -n "$LEGACY" ]; then
		echo "  (legacy) the read/write loops again, empty programs attached first (they run first):"
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
	fi
	# Everything after runs without bpf_stats: its accounting is not what production pays.
	echo 0 >"$SYSCTL"
fi

mark "(h)"

# ---- (s) issue 11: rename storm -------------------------------------------------------------

# One storm: fsync_rename_loop MODE for SECONDS on one core in $storm_dir with a default daemon
# (plus OPTIONS); writes "renames rate seen lost lost_detail produced peak size daemon_cpu_ns
# elapsed old new stacks_captured stacks_skipped" to $WORK/storm.res (not a subshell: the daemon
# and the watcher stay this shell's children).
storm_run() { # MODE SECONDS [daemon options...]
	local mode=$1 secs=$2 ring out w m

	shift 2
	start_daemon "$@"
	ring=
	for m in $(bpf_ids_of "$daemon_pid" map_id); do
		"$BPFTOOL" map show id "$m" 2>/dev/null | grep -q "^$m: ringbuf " && ring="$ring $m"
	done
	ring=$(echo $ring)
	[ -n "$ring" ] || fail "no ring buffer among the daemon's maps"
	[ "$(wc -w <<<"$ring")" = 1 ] || log "several ring buffers ($ring); watching the first"
	ring=${ring%% *}
	"$BUILD/iohazard" --socket "$WORK/api.sock" status -j >"$WORK/storm0.json" ||
		fail "iohazard status -j"
	"$BENCH_BIN/ringbuf_watch" "$ring" 200 $((secs + 30)) >"$WORK/watch.out" 2>>"$LOGS/workload.log" &
	watch_pid=$!
	for _ in $(seq 50); do grep -q '^ready' "$WORK/watch.out" 2>/dev/null && break; sleep 0.05; done
	cpu0=$(cpu_ns_of "$daemon_pid")
	out=$(taskset -c "$STORM_CPU" "$BENCH_BIN/fsync_rename_loop" "$mode" --seconds "$secs" \
		"$storm_dir" 2>>"$LOGS/workload.log") || fail "rename storm failed (log: $LOGS/workload.log)"
	# Two daemon ticks to drain what is left in the ring, then read the counters.
	sleep 0.5
	cpu1=$(cpu_ns_of "$daemon_pid")
	"$BUILD/iohazard" --socket "$WORK/api.sock" status -j >"$WORK/storm1.json" ||
		fail "iohazard status -j"
	kill -TERM "$watch_pid" 2>/dev/null
	wait "$watch_pid" 2>/dev/null
	watch_pid=
	stop_daemon
	w=$(tail -1 "$WORK/watch.out")
	python3 - "$WORK/storm0.json" "$WORK/storm1.json" "$out" "$w" "$((cpu1 - cpu0))" \
		>"$WORK/storm.res" <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
kv = dict(x.split("=") for x in (sys.argv[3] + " " + sys.argv[4]).split())
renames, ns = int(kv["iterations"]), int(kv["elapsed_ns"])
seen = b["events"].get("rename", 0) - a["events"].get("rename", 0)
lost = {k: b["events_lost"][k] - a["events_lost"].get(k, 0) for k in b["events_lost"]}
detail = ",".join("%s=%d" % (k, v) for k, v in lost.items() if v) or "none"
snap = lambda s, k: s.get("stacks", {}).get("snapshots", {}).get(k, 0)
captured = snap(b, "captured") - snap(a, "captured")
skipped = sum(snap(b, k) - snap(a, k) for k in ("deduped", "budget", "ringbuf", "fault",
                                                "no_user_regs"))
print(renames, "%.0f" % (renames / ns * 1e9), seen, sum(lost.values()), detail,
      kv.get("produced", "nan"), kv.get("peak_used", "nan"), kv.get("size", "nan"), sys.argv[5],
      "%.2f" % (ns / 1e9), kv["old_name_len"], kv["new_name_len"], captured, skipped)
EOF
}

# Issue 15: the same storm with --no-stacks, right after the default one (stacks on): ring bytes
# and daemon CPU per rename, on against off, and the losses of both.
stacks_storm() { # SECONDS RENAMES LOST PRODUCED DAEMON_CPU_NS CAPTURED SKIPPED  (stacks on)
	local n1 lost1 prod1 cpu1 rest
	storm_run --storm "$1" --no-stacks
	read -r n1 _ _ lost1 _ prod1 _ _ cpu1 rest <"$WORK/storm.res" || fail "rename storm: no result"
	python3 - "$2" "$3" "$4" "$5" "$n1" "$lost1" "$prod1" "$cpu1" "$6" "$7" <<'EOF'
import sys
n, lost, prod, cpu, n1, lost1, prod1, cpu1, cap, skip = (float(x) for x in sys.argv[1:11])
b, b1, c, c1 = prod / n, prod1 / n1, cpu / n / 1000, cpu1 / n1 / 1000
print("  issue 15, stack snapshots on (default) vs --no-stacks, same storm:")
print("    stacks captured %d, skipped %d (deduped or over budget) in %d renames" % (cap, skip, n))
print("    ring bytes per rename: %.1f on, %.1f off (+%.1f B, x%.3f)" % (b, b1, b - b1, b / b1))
print("    daemon CPU per rename: %.2f us on, %.2f us off (x%.3f)" % (c, c1, c / c1 if c1 else 0))
print("    lost: %d on, %d off; renames/s on/off x%.3f" % (lost, lost1, n / n1))
EOF
}

declare -A storm
if [ -n "$kernel_ok" ]; then
	echo
	echo "(s) issue 11: rename storm, one core (cpu $STORM_CPU), daemon with default options"
	storm_dir=$(mktemp -d /var/lib/iohazard-bench.XXXXXX) || fail "cannot create a directory in /var/lib"
	abi_abi_version='' abi_rename_struct_bytes='' abi_rename_fixed_strings_bytes=''
	abi_rename_strings_max_bytes=''
	eval "$("$BENCH_BIN/abi_sizes" | sed -n 's/^\([a-z_]*=[0-9]*\)$/abi_\1/p')"
	# What the kernel reserves per record: an 8-byte header, the record rounded up to 8. The
	# largest rename record (every string at its maximum) is what ABI 1 reserved for each.
	rec_max=$(( (8 + abi_rename_struct_bytes + ${abi_rename_strings_max_bytes:-0} + 7) / 8 * 8 ))
	for mode in storm rename-only; do
		secs=$STORM_SECONDS
		[ "$mode" = rename-only ] && secs=$(( (STORM_SECONDS + 1) / 2 ))
		storm_run "--$mode" "$secs"
		read -r n rate seen lost detail produced peak size dcpu el oldl newl scap sskip \
			<"$WORK/storm.res" || fail "rename storm: no result"
		# A record that carries only the bytes used: the struct, the two names as passed
		# (absolute: no base directory), the ring header, rounded to 8.
		rec_used=$(( (8 + abi_rename_struct_bytes + oldl + newl + 7) / 8 * 8 ))
		per=$(python3 -c "print('%.0f' % ($produced / $n))" 2>/dev/null || echo nan)
		storm[$mode]="$n|$rate|$seen|$lost|$detail|$produced|$peak|$size|$per|$rec_used|$oldl|$newl"
		if [ "$mode" = storm ]; then
			echo "  write 4 KiB temp + rename over the target, no fsync, ${el}s in $storm_dir:"
		else
			echo "  for scale, the rename path alone (--rename-only, two names back and forth), ${el}s:"
		fi
		echo "    $n renames, $rate renames/s; the daemon counted $seen rename events; lost: $lost ($detail)"
		echo "    ring ($size B): $produced B reserved, $per B per rename (every record of the run:"
		echo "    renames and the dirty/sync records around them); peak lag of the daemon $peak B"
		awk -v c="$dcpu" -v n="$n" 'BEGIN { printf "    daemon CPU %.1f us per rename\n", c / n / 1000 }'
		[ "$mode" = storm ] && stacks_storm "$secs" "$n" "$lost" "$produced" "$dcpu" "$scap" "$sskip"
	done
	rm -rf "$storm_dir"
	storm_dir=
	IFS='|' read -r n _ _ _ _ _ _ size per rec_used oldl newl <<<"${storm[storm]}"
	if [ "${abi_rename_fixed_strings_bytes:-0}" != 0 ]; then
		echo "  rename record, ABI v$abi_abi_version: struct $abi_rename_struct_bytes B + fixed strings" \
			"$abi_rename_fixed_strings_bytes B + ring header 8 = $rec_max B reserved per rename"
		max_txt="fixed layout (every rename)"
	else
		echo "  rename record, ABI v$abi_abi_version: struct $abi_rename_struct_bytes B + the names' bytes" \
			"(at most $abi_rename_strings_max_bytes B) + ring header 8, rounded to 8"
		max_txt="largest record (what ABI 1 reserved for every rename)"
	fi
	cap_max=$((size / rec_max))
	cap_used=$((size / rec_used))
	cap_obs=$(python3 -c "print('%.0f' % ($size / $per))" 2>/dev/null || echo nan)
	echo "  ring capacity in renames: $max_txt $cap_max ($rec_max B each);"
	echo "    used bytes only $cap_used ($rec_used B: names of $oldl and $newl B with their NULs);"
	echo "    observed in the storm $cap_obs ($per B per rename, all records)"
fi

mark "(s)"
if [ -n "$STORM_ONLY" ]; then
	echo "bench: IOH_BENCH_STORM_ONLY set: stopping after (s)"
	exit 0
fi

# ---- (w) issue 11 wall clock against the kernel floor; (e) legacy: issue 3's bpftrace ----------

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
elif [ -z "$LEGACY" ]; then
	bt_status="not run (IOH_BENCH_LEGACY=1 runs issue 3's bpftrace comparison)"
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
# With "best", from each run's fastest chunk (syscall_loop --chunks) instead of its total time;
# the keys then end in "|best" (io_ratio[label|daemon/floor|best]).
summarize_rounds() { # FILE [best]
	local sfx=${2:+|$2}

	python3 - "$1" "${2:-}" >"$1.summary" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("|")
    pair, cond, label, iters, ns = f[:5]
    if sys.argv[2] == "best" and len(f) > 6:
        ns = f[6]
    runs.setdefault(label, {}).setdefault(int(pair), {})[cond] = int(ns) / int(iters)
for label, pairs in runs.items():
    conds = sorted({c for p in pairs.values() for c in p if c != "off"})
    off = statistics.median(p["off"] for p in pairs.values()) / 1000
    for c in conds:
        ratios = sorted(p[c] / p["off"] for p in pairs.values() if c in p and "off" in p)
        per = statistics.median(p[c] for p in pairs.values() if c in p) / 1000
        print("%s|%s|%.3f|%.3f|%.3f|%.3f|%.3f" % (label, c, statistics.median(ratios),
                                                ratios[0], ratios[-1], off, per))
    # Issue 11's ratio: the daemon against the kernel floor of the same round.
    ratios = sorted(p["daemon"] / p["floor"] for p in pairs.values()
                    if "daemon" in p and "floor" in p)
    if ratios:
        fl = statistics.median(p["floor"] for p in pairs.values() if "floor" in p) / 1000
        per = statistics.median(p["daemon"] for p in pairs.values() if "daemon" in p) / 1000
        print("%s|daemon/floor|%.3f|%.3f|%.3f|%.3f|%.3f" % (label, statistics.median(ratios),
                                                          ratios[0], ratios[-1], fl, per))
EOF
	while IFS='|' read -r label cond med lo hi off per; do
		if [ "$cond" = daemon/floor ]; then
			printf '  %-26s %-12s median %s (rounds %s .. %s); %s us/iteration (floor: %s)\n' \
				"$label" "$cond" "$med" "$lo" "$hi" "$per" "$off"
		else
			printf '  %-26s %-12s median %s (rounds %s .. %s); %s us/iteration (off: %s)\n' \
				"$label" "$cond/off" "$med" "$lo" "$hi" "$per" "$off"
		fi
		io_ratio[$label|$cond$sfx]=$med
		io_range[$label|$cond$sfx]="$lo..$hi"
	done <"$1.summary"
}

# Wall clock of issue 11's loops (getppid, pread, pwrite) under three conditions, interleaved:
# nothing attached (off), the kernel's syscall-tracepoint slow path alone (floor: one ftrace
# event on a syscall the loops never make, no BPF; see start_slowpath), the daemon. With
# IOH_BENCH_LEGACY, also issue 3's: only the empty programs on sys_enter/sys_exit (empty) and
# the bpftrace script (bpftrace). Each round runs every condition once, in an order rotated
# from round to round; ratios are to that round's "off" run, and daemon/floor to its "floor" run.
if [ -n "$kernel_ok" ]; then
	conds="off floor daemon"
	if [ -n "$LEGACY" ]; then
		conds="$conds empty"
		[ -z "$bt_status" ] && conds="$conds bpftrace"
	fi
	echo
	echo "(w) wall clock of the getppid, pread and pwrite loops: $ROUNDS rounds of {$conds}, order rotating, bpf_stats off"
	read -r -a cond_list <<<"$conds"
	: >"$WORK/io.txt"
	for pair in $(seq "$ROUNDS"); do
		n=${#cond_list[@]}
		for k in $(seq 0 $((n - 1))); do
			cond=${cond_list[$(((pair + k) % n))]}
			case $cond in
			floor) start_slowpath ;;
			daemon) start_daemon ;;
			empty) start_loader "$WORK/bpf/empty.bpf.o" ;;
			bpftrace) start_bpftrace ;;
			esac
			fp=$(foreign_programs)
			wd=-
			[ "$cond" = daemon ] && wd=$(watched_count | grep . || echo '?')
			for w in "${HOT_WORKLOADS[@]}"; do
				IFS='|' read -r label iters cmd <<<"$w"
				# shellcheck disable=SC2086
				out=$(cd "$WORK" && $cmd --chunks "$CHUNKS" 2>>"$LOGS/workload.log") ||
					fail "workload failed: $cmd (log: $LOGS/workload.log)"
				elapsed=$(sed -n 's/.*elapsed_ns=\([0-9]*\).*/\1/p' <<<"$out")
				best=$(sed -n 's/.*best_ns=\([0-9]*\).*/\1/p' <<<"$out")
				echo "$pair|$cond|$label|$iters|$elapsed|$fp|$best|$wd" >>"$WORK/io.txt"
			done
			case $cond in
			floor) stop_slowpath ;;
			daemon) stop_daemon ;;
			empty) stop_loader ;;
			bpftrace) stop_bpftrace ;;
			esac
		done
	done
	cp "$WORK/io.txt" "$LOGS/io.txt"
	echo "  (raw runs: $LOGS/io.txt; round|condition|label|iterations|ns|foreign raw_syscalls programs|best chunk ns x chunks|inodes the daemon watched)"
	echo "  each run's fastest of $CHUNKS chunks (what the summary uses: other tasks only add time):"
	summarize_rounds "$WORK/io.txt" best
	echo "  each run's total time:"
	summarize_rounds "$WORK/io.txt"
	watched_rounds=$(awk -F'|' '$8 != "-" && $8 != 0 { print $1 }' "$WORK/io.txt" | sort -u | wc -l)
	[ "$watched_rounds" != 0 ] && echo "  warning: in $watched_rounds of $ROUNDS rounds the daemon" \
		"watched inodes (other processes' mixed I/O on this host): its on-demand hooks ran then"
	foreign_rounds=$(awk -F'|' '$6 != 0 { print $1 }' "$WORK/io.txt" | sort -u | wc -l)
	[ "$foreign_rounds" != 0 ] && echo "  warning: in $foreign_rounds of $ROUNDS rounds another" \
		"process had programs on raw_syscalls (its cost is in every condition, ratios shrink)"
fi

if [ -n "$kernel_ok" ] && [ -n "$LEGACY" ]; then
	# The kernel's floor, apart: the syscall-tracepoint slow path with no BPF (start_slowpath).
	# Toggling one tracefs event takes microseconds, so many short alternating rounds fit
	# where the daemon allows few, and their median is steadier on a noisy machine.
	echo
	echo "(e, legacy) the syscall-tracepoint slow path alone, no BPF: $FLOOR_ROUNDS rounds of {off slowpath}, $FLOOR_ITERS iterations each, order alternating"
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

mark "(w)"

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

mark "(b)"

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

mark "(c)"

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

# Issue 11 first: the compact table of ratios.
echo
echo "summary, issue 11: hooks where the work is ($started; $(uname -r), tracepoint backend on this host)"
echo "  (wall-clock ratios: median over $ROUNDS rounds of per-round ratios, each run's fastest of $CHUNKS chunks; range over rounds)"
line "measurement" "measured" "target" ""
if [ -n "$kernel_ok" ]; then
	if [ "${raw_daemon:-0}" = 0 ]; then v=PASS; else v=FAIL; fi
	line "daemon programs on raw_syscalls sys_enter/exit" "${raw_daemon:-?}" "0" "$v"
	for w in "${HOT_WORKLOADS[@]}"; do
		IFS='|' read -r label _ _ <<<"$w"
		lim=1.05
		[ "$label" = "syscall loop (getppid)" ] && lim=1.03
		r=${io_ratio[$label|daemon/floor|best]:-}
		line "$label, daemon / kernel floor" "x$r (${io_range[$label|daemon/floor|best]:-})" \
			"<= x$lim" "$(verdict "$r" le $lim)"
		line "    the same from total times, not fastest chunks" \
			"x${io_ratio[$label|daemon/floor]:-} (${io_range[$label|daemon/floor]:-})" "" ""
		line "    daemon / nothing; floor / nothing" \
			"x${io_ratio[$label|daemon|best]:-} ; x${io_ratio[$label|floor|best]:-}" "(for scale)" ""
		r=${per_iter[$label]:-}
		line "    daemon program runs per iteration" "$r" "<= 0.01" "$(verdict "$r" le 0.01)"
		line "      raw, before subtracting the idle windows" "${per_iter_raw[$label]:-}" "" ""
	done
	line "    (w) rounds with others' raw_syscalls programs" "${foreign_rounds:-?} of $ROUNDS" \
		"(host noise)" ""
	line "    (w) daemon rounds with inodes watched" "${watched_rounds:-?} of $ROUNDS" \
		"(others' mixed I/O)" ""
	for w in "${AB_WORKLOADS[@]}"; do
		IFS='|' read -r label _ _ <<<"$w"
		line "$label: program runs per iteration" "${per_iter[$label]:-}" "(for scale)" ""
	done
	line "after a mixed episode: runs/iteration before; just after" \
		"${mixed_before:-?} ; ${mixed_after:-?}" "" ""
	if [ -n "$mixed_back" ]; then
		lim=$(python3 -c "print($MIXED_S + $SWEEP_S)")
		line "    idle again (watched 0, hooks detached), confirmed" "${mixed_back}s" \
			"<= ${lim}s (window+sweep)" "$(verdict "$mixed_back" le "$lim")"
	else
		line "    back to <= 0.01 runs/iteration after" "never (waited ${deadline:-?}s)" \
			"window+sweep" "MISS"
	fi
	IFS='|' read -r n rate seen lost detail produced peak size per rec_used oldl newl \
		<<<"${storm[storm]:-}"
	line "rename storm (4 KiB write + rename, 1 core), renames/s" "${rate:-?}" "(sustained)" ""
	if [ -n "${n:-}" ] && [ "$lost" = 0 ] && [ "$seen" -ge "$n" ]; then v=PASS; else v=MISS; fi
	line "    events lost; rename events / renames" "${lost:-?}; ${seen:-?} / ${n:-?}" "0; all" "$v"
	line "    daemon's peak lag in the ring (of ${size:-?} B)" "${peak:-?} B" "< ring" ""
	line "    ring capacity, renames: ABI 1 / used bytes" "${cap_max:-?} / ${cap_used:-?}" \
		"(${rec_max:-?} / ${rec_used:-?} B)" ""
	line "    ring capacity, renames: observed" "${cap_obs:-?}" "(${per:-?} B/rename)" ""
	IFS='|' read -r n rate seen lost detail produced peak size per _ _ _ <<<"${storm[rename-only]:-}"
	if [ -n "${n:-}" ] && [ "$lost" = 0 ] && [ "$seen" -ge "$n" ]; then v=ok; else v=LOSS; fi
	line "rename-only storm, renames/s; lost; seen/renames" "${rate:-?}; ${lost:-?}; ${seen:-?}/${n:-?}" \
		"(for scale)" "$v"
else
	line "issue 11 measurements" "skipped (needs root)" "" ""
fi

echo
echo "summary, issue 2"
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
	if [ -n "$LEGACY" ]; then
		line "(a) sys_enter hook, ns/run (empty program)" \
			"${syscall_cost[syscalls_enter_tp_btf]} (${syscall_cost[empty_sys_enter]})" "(see a)" ""
		line "(a) sys_exit hook, ns/run (empty program)" \
			"${syscall_cost[syscalls_exit_tp_btf]} (${syscall_cost[empty_sys_exit]})" "(see a)" ""
	fi
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
if [ -n "$LEGACY" ]; then
echo
echo "summary, issue 3, legacy (unrelated files: the read/write hooks' \"not interesting\" path)"
line "measurement" "measured" "target" ""
fi
if [ -n "$kernel_ok" ] && [ -n "$LEGACY" ]; then
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
elif [ -n "$LEGACY" ]; then
	line "(a), (b), (e)" "skipped (needs root)" "" ""
fi
echo "logs: $LOGS"
phases=${phases# }
echo "runtime: ${SECONDS}s (${phases%,}; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
exit 0
