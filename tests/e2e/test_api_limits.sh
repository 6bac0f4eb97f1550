#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# API socket limits (issue 12):
#  1. One client writes 64 KiB of pipelined {"command":"findings"} lines and never reads: the
#     daemon's memory stays bounded and another client's status is answered within 1 s.
#  2. 64 clients subscribe: subscribers are capped (48), the rest of the table stays usable;
#     `iohazard status` gets through, `iohazard top` says the subscriber cap was hit.
#  3. Every slot busy (subscribers and half-sent requests): the CLI says "too many clients",
#     not "Broken pipe".
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

daemon_start
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
ok "daemon ready"
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$DAEMON_PID/status"; }
quick_status() { timeout 1 "$IOHCLI" --socket "$DAEMON_SOCK" status >/dev/null 2>&1; }

# Findings to make every reply large: 400 renames into a directory never fsynced.
mkdir -p "$E2E_WORK/churn"
python3 -c 'import os, sys
d = sys.argv[1]
for i in range(400):
    a = os.path.join(d, "tmp%d" % i)
    with open(a, "w") as f: f.write("x")
    os.rename(a, os.path.join(d, "file%d.conf" % i))' "$E2E_WORK/churn"
n=0
for _ in $(seq 100); do
	n=$(timeout 2 "$IOHCLI" --socket "$DAEMON_SOCK" --json findings 2>/dev/null |
		python3 -c 'import json, sys
t = sys.stdin.read()
try:
    d = json.loads(t); print(len(d.get("findings", []) if isinstance(d, dict) else d))
except ValueError:
    print(sum(1 for l in t.splitlines() if l.startswith("{")))' 2>/dev/null)
	[ "${n:-0}" -ge 300 ] && break
	sleep 0.2
done
check "findings to fill replies (>= 300)" "got ${n:-0}" test "${n:-0}" -ge 300

# ---- 1. pipelined requests from a client that does not read -------------------------------
before=$(hwm_kb)
python3 - "$DAEMON_SOCK" "$E2E_WORK/flood.ready" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
line = b'{"command":"findings"}\n'
s.sendall(line * (65536 // len(line)))
open(sys.argv[2], "w").write("sent\n")
time.sleep(8)  # never reads
PY
FLOOD=$!
for _ in $(seq 50); do [ -s "$E2E_WORK/flood.ready" ] && break; sleep 0.1; done
slow=0
for i in $(seq 10); do
	quick_status || slow=$((slow + 1))
	sleep 0.3
done
check "status within 1 s during the flood (10 tries)" "$slow slow" test "$slow" = 0
after=$(hwm_kb)
growth=$(((after - before) / 1024))
check "memory bounded during the flood (VmHWM +${growth} MiB < 64 MiB)" \
	"VmHWM ${before} kB -> ${after} kB" test "$growth" -lt 64
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null

# ---- 2. 64 subscribers ------------------------------------------------------------------------
python3 - "$DAEMON_SOCK" "$E2E_WORK/subs.out" 64 0 <<'PY' &
import socket, sys, time
path, out, n_sub, n_partial = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
socks, replies = [], []
for i in range(n_sub):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    s.sendall(b'{"command":"subscribe"}\n')
    s.settimeout(2)
    try: replies.append(s.recv(4096).split(b"\n")[0].decode())
    except Exception as e: replies.append("error " + str(e))
    socks.append(s)
for i in range(n_partial):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    s.sendall(b'{"command":')  # half a request: a busy slot
    socks.append(s)
time.sleep(0.3)
open(out, "w").write("\n".join(replies) + "\nready\n")
time.sleep(30)
PY
SUBS=$!
for _ in $(seq 100); do grep -q '^ready' "$E2E_WORK/subs.out" 2>/dev/null && break; sleep 0.1; done
ok_subs=$(grep -c '"subscribed":true' "$E2E_WORK/subs.out")
refused_subs=$(grep -c 'too many subscribers' "$E2E_WORK/subs.out")
check "48 subscribers accepted" "$ok_subs accepted" test "$ok_subs" = 48
check "the other 16 told the subscriber cap was hit" "$refused_subs refused" test "$refused_subs" = 16
check "status gets through with 64 connections held" "" quick_status
top_out=$(timeout 5 "$IOHCLI" --socket "$DAEMON_SOCK" top -b -n 1 2>&1)
check "top says the subscriber cap was hit" "$top_out" grep -q "too many subscribers" <<<"$top_out"
kill "$SUBS" 2>/dev/null
wait "$SUBS" 2>/dev/null

# ---- 3. every slot busy --------------------------------------------------------------------
python3 - "$DAEMON_SOCK" "$E2E_WORK/busy.out" 48 16 <<'PY' &
import socket, sys, time
path, out, n_sub, n_partial = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
socks = []
for i in range(n_sub):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    s.sendall(b'{"command":"subscribe"}\n'); s.recv(4096); socks.append(s)
for i in range(n_partial):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    s.sendall(b'{"command":'); socks.append(s)
time.sleep(0.3)
open(out, "w").write("ready\n")
time.sleep(30)
PY
BUSY=$!
for _ in $(seq 100); do grep -q '^ready' "$E2E_WORK/busy.out" 2>/dev/null && break; sleep 0.1; done
st_out=$(timeout 5 "$IOHCLI" --socket "$DAEMON_SOCK" status 2>&1)
check "status says too many clients" "$st_out" grep -q "too many clients" <<<"$st_out"
top_out=$(timeout 5 "$IOHCLI" --socket "$DAEMON_SOCK" top -b -n 1 2>&1)
# Either the refusal arrives before top's requests are sent (send fails: "refused: ...") or
# after (the daemon's reply: "daemon: ..."); never "Broken pipe".
check "top says too many clients, not Broken pipe" "$top_out" \
	eval 'grep -q "too many clients" <<<"$top_out" && ! grep -q "Broken pipe" <<<"$top_out"'
kill "$BUSY" 2>/dev/null
wait "$BUSY" 2>/dev/null
sleep 0.3
check "status works again once they leave" "" quick_status
daemon_stop 5
check "daemon exits cleanly" "rc=$DAEMON_RC" test "$DAEMON_RC" = 0
e2e_finish
