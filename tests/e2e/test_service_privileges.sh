#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# systemd unit and privileges (issue 12):
#  - after start the daemon keeps only CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH and
#    CAP_SYS_PTRACE (CAP_SYS_ADMIN instead of the first two on kernels without CAP_BPF), in
#    every set; status names them;
#  - what runs later still works with that: the on-demand attach of `cache_reads` (an
#    O_DIRECT + buffered read of one file, reported as mixed-direct-buffered), a SIGHUP
#    reload, the loss polls (a loss provoked with a 64 KiB ring and SIGSTOP is counted);
#  - the unit's runtime directory lets a member of the socket's group reach the API socket
#    (the directory made with the unit's RuntimeDirectoryMode=, as systemd makes it), and a
#    non-member is still refused by the socket's own mode;
#  - run without privileges it says that it needs root or CAP_BPF+CAP_PERFMON;
#  - the unit keeps /run/iohazard (and its runtime rules) across restarts, and it and the
#    shipped metrics drop-in example pass systemd-analyze verify offline.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

UNIT=$IOH_SRC/packaging/systemd/iohazardd.service
RUNDIR=
cleanup_rundir() { [ -n "$RUNDIR" ] && rm -rf "$RUNDIR"; }
trap 'cleanup_rundir; e2e_cleanup' EXIT

# ---- capabilities ----------------------------------------------------------------------------
daemon_start --ringbuf-size 64KiB
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
ok "daemon ready"

want=$(python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_CAPBSET_READ = 23
has_bpf = libc.prctl(PR_CAPBSET_READ, 39, 0, 0, 0) >= 0
mask = (1 << 2) | (1 << 19)  # CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE
mask |= ((1 << 38) | (1 << 39)) if has_bpf else (1 << 21)
print("%016x" % mask)')
for set in CapEff CapPrm CapBnd; do
	got=$(sed -n "s/^$set:\t*//p" "/proc/$DAEMON_PID/status")
	check "$set after start is $want" "got $got" [ "$got" = "$want" ]
done
got=$(sed -n "s/^CapAmb:\t*//p" "/proc/$DAEMON_PID/status")
check "no ambient capabilities" "got $got" [ "$got" = 0000000000000000 ]
caps=$(ioh --socket "$DAEMON_SOCK" status --json |
	python3 -c 'import json, sys; print(json.load(sys.stdin).get("capabilities"))')
check "status names the kept capabilities" "got $caps" \
	[ "$caps" = cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_ptrace -o "$caps" = cap_sys_admin,cap_dac_read_search,cap_sys_ptrace ]

# On-demand attach after the drop: O_DIRECT read, then a buffered read of the same file.
mkdir -p "$E2E_WORK/work"
python3 - "$E2E_WORK/work/mixed.dat" <<'PY' &
import mmap, os, sys
p = sys.argv[1]
with open(p, "wb") as f:
    f.write(b"x" * 65536)
    f.flush()
    os.fsync(f.fileno())
fd = os.open(p, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
os.preadv(fd, [buf], 0)
fd2 = os.open(p, os.O_RDONLY)
os.pread(fd2, 4096, 8192)
PY
mixed_pid=$!
wait $mixed_pid
active=
for i in $(seq 50); do
	active=$(ioh --socket "$DAEMON_SOCK" status --json | python3 -c '
import json, sys
h = json.load(sys.stdin)["hooks"].get("cache_reads", {})
print(h.get("active"))')
	[ "$active" = True ] && break
	sleep 0.1
done
check "cache_reads attached on demand after the drop" "active=$active; $(grep -i cache_reads "$DAEMON_ERR" | tail -2)" \
	[ "$active" = True ]
for i in $(seq 100); do
	grep -q "\"rule\":\"mixed-direct-buffered\".*\"pid\":$mixed_pid," "$DAEMON_OUT" && break
	sleep 0.1
done
check "mixed O_DIRECT/buffered access reported (through the on-demand hook)" \
	"no finding for pid $mixed_pid" grep -q "\"rule\":\"mixed-direct-buffered\".*\"pid\":$mixed_pid," "$DAEMON_OUT"

kill -HUP "$DAEMON_PID"
sleep 0.5
reload=$(ioh --socket "$DAEMON_SOCK" status --json |
	python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["rules_last_reload_success"], s["blind"])')
check "SIGHUP reload after the drop" "got $reload; $(tail -3 "$DAEMON_ERR")" [ "$reload" = "True False" ]

# Loss polls after the drop: fill the 64 KiB ring while the daemon is stopped.
kill -STOP "$DAEMON_PID"
python3 -c 'import os, sys
d = sys.argv[1]
for i in range(3000):
    p = os.path.join(d, "l%d" % i)
    open(p + ".tmp", "w").close()
    os.rename(p + ".tmp", p)' "$E2E_WORK/work"
kill -CONT "$DAEMON_PID"
lost=0
for i in $(seq 50); do
	lost=$(ioh --socket "$DAEMON_SOCK" status --json |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["events_lost"]["ringbuf_rename"])')
	[ "$lost" -gt 0 ] && break
	sleep 0.1
done
check "loss counters read after the drop" "ringbuf_rename lost: $lost" [ "$lost" -gt 0 ]
check "no permission error in the log" "$(grep -i 'not permitted\|permission denied' "$DAEMON_ERR" | head -3)" \
	eval '! grep -qi "not permitted\|permission denied" "$DAEMON_ERR"'
daemon_stop 10

# ---- the runtime directory and the socket group ------------------------------------------------
mode=$(sed -n 's/^RuntimeDirectoryMode=//p' "$UNIT")
RUNDIR=$(mktemp -d /run/ioh-e2e.XXXXXX)
chmod "$mode" "$RUNDIR"
# nogroup stands for iohazard: a group the test need not create.
daemon_start --socket "$RUNDIR/api.sock" --socket-group nogroup
DAEMON_SOCK=$RUNDIR/api.sock
if daemon_wait_ready 30; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$IOHCLI" --socket "$RUNDIR/api.sock" status 2>&1)
	check "a member of the socket's group reaches the socket in a RuntimeDirectoryMode=$mode directory" \
		"$out" [ $? = 0 ]
	out=$(setpriv --reuid=65534 --regid=65533 --clear-groups "$IOHCLI" --socket "$RUNDIR/api.sock" status 2>&1)
	check "a non-member is refused by the socket's mode" "$out" [ $? != 0 ]
else
	fail "daemon ready on $RUNDIR/api.sock" "$(tail -5 "$DAEMON_ERR")"
fi
daemon_stop 10

# ---- without privileges -----------------------------------------------------------------------
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$IOHD" --foreground --rules-dir "$RULES_DIR" \
	--socket "$E2E_WORK/nobody.sock" --metrics-listen off 2>&1 >/dev/null)
rc=$?
check "as nobody: refused with what it needs" "rc $rc: $(echo "$err" | tail -2)" \
	eval '[ "$rc" = 1 ] && grep -q "needs root, or CAP_BPF and CAP_PERFMON" <<<"$err"'

# ---- the unit ----------------------------------------------------------------------------------
preserve=$(sed -n 's/^RuntimeDirectoryPreserve=//p' "$UNIT")
check "RuntimeDirectoryPreserve= keeps /run/iohazard (runtime rules) across restarts" \
	"RuntimeDirectoryPreserve=$preserve" [ "$preserve" = yes -o "$preserve" = restart ]
T=$E2E_WORK/unit
mkdir -p "$T/iohazardd.service.d"
cp "$UNIT" "$T/"
cp "$IOH_SRC/packaging/systemd/metrics-ipaddress.conf.example" "$T/iohazardd.service.d/50-metrics.conf"
out=$(systemd-analyze verify --man=no "$T/iohazardd.service" 2>&1 |
	grep -v 'Command /usr/sbin/iohazardd is not executable')
check "systemd-analyze verify: the unit with the metrics drop-in example" "$out" test -z "$out"
e2e_finish
