#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The daemon never waits on a file system (issue 12). A FUSE server on raw /dev/fuse
# (tests/e2e/workloads/fuse_hold.c) answers a rename and then holds every LOOKUP forever.
#  1. A rename on the FUSE mount itself: the resolver must not look the name up at all (the
#     mount table says fuse); status and /metrics answer within 1 s.
#  2. A rename on a local file system whose directory is then replaced by a symlink into the
#     FUSE mount (daemon stopped meanwhile, so the order is fixed): the mount table cannot
#     tell, the statx is sent and held. It is given up after its deadline, status and
#     /metrics still answer within 1 s, and the finding is degraded "resolve-timeout".
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

FUSE_HOLD=$IOH_BUILD/workloads/fuse_hold
if [ ! -x "$FUSE_HOLD" ]; then
	fail "prerequisites" "not built: $FUSE_HOLD (make test-bins)"
	exit 1
fi
cp "$FUSE_HOLD" "$E2E_WORK/bin/" && FUSE_HOLD=$E2E_WORK/bin/fuse_hold
if [ ! -c /dev/fuse ]; then
	echo "ok - skipped: no /dev/fuse # SKIP"
	exit 0
fi

MNT=$E2E_WORK/fuse
mkdir -p "$MNT"
FUSE_PID=
fuse_cleanup() {
	local rc=$?
	# The server first: its death fails every held request, so nothing stays stuck.
	[ -n "$FUSE_PID" ] && kill -KILL "$FUSE_PID" 2>/dev/null && wait "$FUSE_PID" 2>/dev/null
	mountpoint -q "$MNT" && umount -l "$MNT"
	# e2e_cleanup exits with the status it is called with ($?): the test's, not mountpoint's.
	(exit "$rc")
	e2e_cleanup
}
trap fuse_cleanup EXIT

"$FUSE_HOLD" "$MNT" "$E2E_WORK/fuse.ready" >"$E2E_WORK/fuse.out" 2>"$E2E_WORK/fuse.err" &
FUSE_PID=$!
for _ in $(seq 50); do [ -s "$E2E_WORK/fuse.ready" ] && break; sleep 0.1; done
if ! mountpoint -q "$MNT"; then
	rc=0
	kill -0 "$FUSE_PID" 2>/dev/null || { wait "$FUSE_PID"; rc=$?; }
	if [ "$rc" = 77 ]; then
		echo "ok - skipped: cannot mount fuse here ($(cat "$E2E_WORK/fuse.err")) # SKIP"
		exit 0
	fi
	fail "fuse_hold mounts" "$(cat "$E2E_WORK/fuse.err")"
	exit 1
fi
ok "fuse_hold mounted $MNT"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
daemon_start --metrics-listen "127.0.0.1:$PORT"
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
ok "daemon ready"

# Both must answer within 1 s; prints the status JSON.
responsive() { # label
	local t0 t1 ms
	t0=$(date +%s%N)
	if ! timeout 1 "$IOHCLI" --socket "$DAEMON_SOCK" --json status >"$E2E_WORK/status.json" 2>&1; then
		fail "$1: status within 1 s" "$(head -c 300 "$E2E_WORK/status.json")"
		return 1
	fi
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	ok "$1: status within 1 s (${ms} ms)"
	if curl -s --max-time 1 -o "$E2E_WORK/metrics.txt" "http://127.0.0.1:$PORT/metrics"; then
		ok "$1: /metrics within 1 s"
	else
		fail "$1: /metrics within 1 s" "curl failed"
		return 1
	fi
}
status_field() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d = d.get("status", d)
for k in sys.argv[2].split("."): d = d[k]
print(d)' "$E2E_WORK/status.json" "$1" 2>/dev/null || echo -1; }

# ---- 1. a rename on the FUSE mount: skipped before any lookup -------------------------------
python3 -c 'import os, sys; os.rename(sys.argv[1] + "/a", sys.argv[1] + "/held")' "$MNT" ||
	fail "rename on the fuse mount" "rename failed"
# The server now holds lookups: prove it with a stat of our own, which must hang.
if (timeout -s KILL 1 stat "$MNT/held" >/dev/null 2>&1) 2>/dev/null; then
	fail "fuse_hold holds LOOKUP after the rename" "stat returned"
else
	ok "fuse_hold holds LOOKUP after the rename"
fi
sleep 0.5
responsive "rename on fuse" &&
	check "the fuse rename was not looked up (resolver.skipped >= 1)" \
		"$(head -c 400 "$E2E_WORK/status.json")" \
		test "$(status_field resolver.skipped)" -ge 1
check "metrics count skipped lookups" "$(grep resolve_skipped "$E2E_WORK/metrics.txt")" \
	grep -q '^iohazard_resolve_skipped_total [1-9]' "$E2E_WORK/metrics.txt"

# ---- 2. a local rename whose directory turns into a symlink into the FUSE mount ------------
W=$E2E_WORK/local
mkdir -p "$W/d"
: >"$W/d/a"
kill -STOP "$DAEMON_PID"
python3 -c 'import os, sys; os.rename(sys.argv[1] + "/d/a", sys.argv[1] + "/d/held")' "$W"
mv "$W/d" "$W/d.real"
ln -s "$MNT" "$W/d"
kill -CONT "$DAEMON_PID"
sleep 0.5
for i in 1 2 3; do
	responsive "while a statx is held ($i)" || break
	sleep 0.3
done
check "the held statx was given up (resolver.timeouts >= 1)" \
	"$(head -c 600 "$E2E_WORK/status.json")" test "$(status_field resolver.timeouts)" -ge 1
check "a worker is still stuck (resolver.workers_stuck >= 1)" \
	"$(head -c 600 "$E2E_WORK/status.json")" test "$(status_field resolver.workers_stuck)" -ge 1
check "metrics count the timeout" "$(grep resolve "$E2E_WORK/metrics.txt")" \
	grep -q '^iohazard_resolve_timeouts_total [1-9]' "$E2E_WORK/metrics.txt"
[ "$(grep -c "held LOOKUP held" "$E2E_WORK/fuse.out")" -ge 2 ] && ok "the daemon's lookup reached the server" ||
	fail "the daemon's lookup reached the server" "$(cat "$E2E_WORK/fuse.out")"

# The 5 s window of rename-without-dir-fsync closes: the finding is degraded and says why.
found=
for _ in $(seq 100); do
	found=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    try: f = json.loads(line)
    except ValueError: continue
    if f.get("rule") == "rename-without-dir-fsync" and f.get("path", "").endswith("/local/d/held"):
        print(json.dumps(f)); break' "$DAEMON_OUT")
	[ -n "$found" ] && break
	sleep 0.1
done
if [ -z "$found" ]; then
	fail "finding for the held rename" "none in $(wc -l <"$DAEMON_OUT") lines"
else
	check "the finding is degraded by resolve-timeout" "$found" python3 -c 'import json, sys
f = json.loads(sys.argv[1])
sys.exit(not (f["confidence"] == "degraded" and f["evidence"].get("degraded_by") == "resolve-timeout"))' "$found"
fi
responsive "after the window"

# Killing the server releases the stuck worker; the daemon stops cleanly.
kill -KILL "$FUSE_PID" 2>/dev/null
wait "$FUSE_PID" 2>/dev/null
FUSE_PID=
umount -l "$MNT"
daemon_stop 5
check "daemon exits cleanly after the server died" "rc=$DAEMON_RC" test "$DAEMON_RC" = 0
e2e_finish
