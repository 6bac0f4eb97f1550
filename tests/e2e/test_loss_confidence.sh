#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Loss and confidence (issue 12): a loss burst provoked on purpose. A small ring buffer, the
# daemon paused with SIGSTOP, a burst of write+rename without any fsync, SIGCONT. The kernel
# drops most rename records; every finding about a rename made while the daemon was paused
# (whichever process made it) has its window in the interval the loss was found in, and must
# say "confidence": "degraded". A rename made after the burst, with no further loss, must keep
# "high" (skipped when other programs keep the small ring overflowing). The recording replays
# to the same findings and confidences.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

BURST=${IOH_LOSS_BURST:-4000}
RULES_DIR=$E2E_WORK/rules
mkdir -p "$RULES_DIR"
cat >"$RULES_DIR/10-test.rules" <<'RULES'
[rule rename-without-dir-fsync]
severity = warning
window = 1s
[rule rename-unsynced-source]
severity = notice
RULES

REC=$E2E_WORK/events.rec
daemon_start --ringbuf-size 65536 --record "$REC"
if daemon_wait_ready 30; then
	ok "daemon ready with a 64 KiB ring buffer"
else
	fail "daemon ready with a 64 KiB ring buffer" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi

lost_renames() {
	ioh --socket "$DAEMON_SOCK" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["events_lost"]["ringbuf_rename"])' 2>/dev/null ||
		python3 -c 'print(-1)'
}
lost_total() {
	ioh --socket "$DAEMON_SOCK" status --json 2>/dev/null | python3 -c '
import json, sys
lost = json.load(sys.stdin)["events_lost"]
print(sum(v for k, v in lost.items() if k != "malformed_records"))'
}

# write+rename, no fsync at all: both rules for every rename the daemon sees.
burst() { # DIR COUNT (only in the background: it execs, so $! is the renaming pid)
	exec python3 - "$1" "$2" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
for i in range(n):
    tmp, dst = os.path.join(d, ".f%d.tmp" % i), os.path.join(d, "f%d" % i)
    with open(tmp, "w") as f:
        f.write("x" * 64)
    os.rename(tmp, dst)
PY
}

BURST_DIR=$E2E_WORK/work/burst
CONTROL_DIR=$E2E_WORK/work/control
mkdir -p "$BURST_DIR" "$CONTROL_DIR"

T_STOP=$(date +%s%N)
kill -STOP "$DAEMON_PID"
burst "$BURST_DIR" "$BURST" &
BURST_PID=$!
wait "$BURST_PID"
kill -CONT "$DAEMON_PID"
T_CONT=$(date +%s%N)

# The daemon drains what the ring kept and reads the loss counters.
for i in $(seq 50); do
	[ "$(lost_renames)" -gt 0 ] && break
	sleep 0.1
done
LOST=$(lost_renames)
check "rename records were lost (ring buffer full while paused)" "lost: $LOST" \
	[ "$LOST" -gt 0 ]
sleep 1.5 # every window of the burst (1 s) has closed and been judged
LOST_BEFORE_CONTROL=$(lost_total)

burst "$CONTROL_DIR" 1 &
CONTROL_PID=$!
wait "$CONTROL_PID"
sleep 2
LOST_AFTER_CONTROL=$(lost_total)

daemon_stop 10
check "daemon stopped cleanly" "rc $DAEMON_RC" [ "$DAEMON_RC" = 0 ]

# The rename behind each finding: its time for rename-unsynced-source, its time minus the
# window for rename-without-dir-fsync. The machine may be busy with other programs' renames:
# whichever process made a rename while the daemon was paused, its finding must be degraded.
cat >"$E2E_WORK/renames.py" <<'PY'
import calendar, json

RULES = ("rename-unsynced-source", "rename-without-dir-fsync")

def rfc3339_ns(t):
    base, frac = t.rstrip("Z").split(".")
    return calendar.timegm(time_struct(base)) * 10**9 + int(frac.ljust(9, "0")[:9])

def time_struct(base):
    import time
    return time.strptime(base, "%Y-%m-%dT%H:%M:%S")

def findings(path):
    for line in open(path, "rb"):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict) and o.get("rule") in RULES:
            t = rfc3339_ns(o["time"])
            if o["rule"] == "rename-without-dir-fsync":
                t -= int(o["evidence"]["window"] * 1e9 + 0.5)
            o["rename_ns"] = t
            yield o
PY
PYTHONPATH=$E2E_WORK python3 - "$DAEMON_OUT" "$BURST_PID" "$CONTROL_PID" "$LOST_BEFORE_CONTROL" \
	"$LOST_AFTER_CONTROL" "$T_STOP" "$T_CONT" <<'PY'
import sys
from renames import findings
out, burst_pid, control_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lost_before, lost_after = int(sys.argv[4]), int(sys.argv[5])
t_stop, t_cont = int(sys.argv[6]), int(sys.argv[7])
paused, control = [], []
for o in findings(out):
    if t_stop <= o["rename_ns"] <= t_cont:
        paused.append(o)
    if o.get("pid") == control_pid:
        control.append(o)
def res(ok, name, detail=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + detail))
print("# %d findings about renames made while the daemon was paused, %d of them the burst's"
      % (len(paused), sum(1 for o in paused if o["pid"] == burst_pid)))
res(len(paused) > 0, "renames made while paused were reported", "none")
for rule in ("rename-unsynced-source", "rename-without-dir-fsync"):
    n = sum(1 for o in paused if o["rule"] == rule)
    bad = [o for o in paused if o["rule"] == rule and o["confidence"] != "degraded"]
    res(not bad, "every %s finding about a rename while paused is degraded (%d)" % (rule, n),
        "%d of %d high, e.g. pid %s %s" % (len(bad), n, bad[0]["pid"] if bad else "",
                                           bad[0]["path"] if bad else ""))
if lost_before == lost_after:
    rules = sorted(o["rule"] for o in control)
    res(rules == ["rename-unsynced-source", "rename-without-dir-fsync"],
        "a rename after the burst is reported", "got %s" % rules)
    res(all(o["confidence"] == "high" for o in control),
        "a rename after the loss keeps high confidence",
        "%s" % [(o["rule"], o["confidence"]) for o in control])
else:
    print("# other programs kept the small ring buffer overflowing (%d -> %d lost): "
          "high-confidence control skipped" % (lost_before, lost_after))
PY
[ $? -eq 0 ] || E2E_FAILED=$((E2E_FAILED + 1))

# Replay decides the same findings and confidences from the recording.
"$IOHD" --replay "$REC" --rules-dir "$RULES_DIR" --output=json >"$E2E_WORK/replay.jsonl" \
	2>"$E2E_WORK/replay.log"
PYTHONPATH=$E2E_WORK python3 - "$DAEMON_OUT" "$E2E_WORK/replay.jsonl" <<'PY'
import sys
from renames import findings
def load(p):
    return sorted((o["time"], o["rule"], o["pid"], o["path"] or "", o["confidence"])
                  for o in findings(p))
live, replay = load(sys.argv[1]), load(sys.argv[2])
ok = live == replay and len(live) > 0
diff = [x for x in set(live) ^ set(replay)][:2]
print(("ok - " if ok else "not ok - ") + "replay reaches the same rename findings and "
      "confidences (%d)" % len(live) + ("" if ok else ": live %d, replay %d, e.g. %s"
                                         % (len(live), len(replay), diff)))
sys.exit(0 if ok else 1)
PY
[ $? -eq 0 ] || E2E_FAILED=$((E2E_FAILED + 1))
e2e_finish
