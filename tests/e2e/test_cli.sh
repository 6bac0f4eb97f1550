#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The CLI behaves like one program, and what `status` and the metrics say is true:
# - options after positional arguments, -j on every command (errors as JSON too), unknown
#   arguments are usage errors, `version --help`, `iohazard ''`;
# - the exit-code table of docs/cli.md, each code provoked: 0, 1, 2, 3 (not running, and the
#   daemon refusing our credentials over SO_PEERCRED), 4 (blind);
# - selftest touches no directory before the daemon answered;
# - text `status` shows the rules, the last reload and blindness;
# - `--metrics-listen 127.0.0.1:0` logs the bound port, every exported family is documented in
#   docs/metrics.md, the heartbeat event counter counts the daemon's canary.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

out=$E2E_WORK/out
err=$E2E_WORK/err
NOSOCK=$E2E_WORK/nothing-here.sock

# run NAME EXPECTED_RC CLI-ARGS...: runs the CLI, stdout -> $out, stderr -> $err.
run() {
	local name=$1 want=$2 rc
	shift 2
	"$IOHCLI" "$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$name: exit $want"
	else
		fail "$name: exit $want" "got $rc; stdout: $(head -c 300 "$out"); stderr: $(head -c 300 "$err")"
	fi
}
is_json() { python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()] or sys.exit(1)' "$1" 2>/dev/null; }
json_has() { # FILE KEY
	python3 -c 'import json, sys; sys.exit(0 if sys.argv[2] in json.loads(open(sys.argv[1]).readline()) else 1)' "$1" "$2" 2>/dev/null
}

# ---- parsing, without a daemon --------------------------------------------------------------
run "rules check DIR -j (option after a positional argument)" 0 rules check "$RULES_DIR" -j
check "rules check DIR -j prints JSON" "$(head -c 300 "$out")" json_has "$out" valid

run "replay FILE --events (option after the file)" 1 replay "$E2E_WORK/missing.rec" --events
check "replay FILE --events: fails on the file, not on usage" "$(cat "$err")" \
	grep -q "cannot open" "$err"

run "-j findings --bogus" 2 --socket "$NOSOCK" -j findings --bogus
check "-j findings --bogus: the error is JSON on stdout" "$(cat "$out")" json_has "$out" error
check "-j findings --bogus: nothing from getopt on stderr" "$(cat "$err")" test ! -s "$err"

run "version --help" 0 version --help
check "version --help prints a usage" "$(cat "$out")" grep -q "^Usage: iohazard version" "$out"
run "version -j" 0 version -j
check "version -j prints JSON" "$(cat "$out")" json_has "$out" version
run "-j version" 0 -j version
check "-j version prints JSON" "$(cat "$out")" json_has "$out" version
run "version extra" 2 version extra

run "iohazard ''" 2 ""
check "iohazard '': unknown command, not ambiguous" "$(cat "$err")" grep -q "unknown command ''" "$err"
run "findings extra" 2 --socket "$NOSOCK" findings extra
check "findings extra names the argument" "$(cat "$err")" grep -q "unexpected argument 'extra'" "$err"
run "status extra" 2 --socket "$NOSOCK" status extra
run "selftest extra" 2 --socket "$NOSOCK" selftest extra
run "reload extra" 2 --socket "$NOSOCK" reload extra
run "rules show --bogus" 2 rules show --bogus
run "top extra" 2 --socket "$NOSOCK" top -b extra
run "no command" 2
run "-j: no command is a JSON error" 2 -j
check "-j alone prints a JSON error" "$(cat "$out")" json_has "$out" error
run "--help" 0 --help
check "--help lists the exit codes" "$(cat "$out")" grep -q "4 daemon blind" "$out"

# ---- 3: nothing listens ---------------------------------------------------------------------
for cmd in status findings reload selftest; do
	run "$cmd with no daemon" 3 --socket "$NOSOCK" $cmd
done
run "-j reload with no daemon" 3 --socket "$NOSOCK" -j reload
check "-j reload with no daemon: JSON error" "$(cat "$out")" json_has "$out" error

# selftest must not create its directory when the daemon is not there.
STDIR=$E2E_WORK/selftest-dir/sub
run "selftest --dir NEW with no daemon" 3 --socket "$NOSOCK" selftest --dir "$STDIR"
check "selftest with no daemon creates no directory" "$(ls -la "$E2E_WORK")" \
	test ! -e "$E2E_WORK/selftest-dir"

# ---- with a daemon ---------------------------------------------------------------------------
daemon_start --metrics-listen 127.0.0.1:0 --output=text
if daemon_wait_ready 30; then
	ok "daemon ready"
else
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
S=(--socket "$DAEMON_SOCK")

run "reload -j" 0 "${S[@]}" reload -j
check "reload -j prints JSON" "$(cat "$out")" json_has "$out" rules
run "-j reload" 0 "${S[@]}" -j reload
check "-j reload prints JSON" "$(cat "$out")" json_has "$out" rules

run "status (text)" 0 "${S[@]}" status
check "status shows the rules in force and the last reload" "$(cat "$out")" \
	grep -Eq '^rules: +[0-9]+ in force, last reload succeeded' "$out"
check "status shows that the daemon is not blind" "$(cat "$out")" grep -Eq '^blind: +no' "$out"

# ---- --output=text escapes what a terminal would act on ---------------------------------------
HOSTILE_DIR=$E2E_WORK/hostile
mkdir -p "$HOSTILE_DIR"
hostile_name=$(printf 'cfg\xc2\x9b2J\xe2\x80\xaegnp.exe\xff')
echo data >"$HOSTILE_DIR/.tmp" && mv "$HOSTILE_DIR/.tmp" "$HOSTILE_DIR/$hostile_name"
for i in $(seq 40); do grep -q 'cfg\\u009b2J' "$DAEMON_OUT" && break; sleep 0.25; done
check "--output=text: C1 CSI, U+202E and invalid bytes are escaped" "$(grep -a cfg "$DAEMON_OUT" | head -2)" \
	grep -qF 'cfg\u009b2J\u202egnp.exe\xff' "$DAEMON_OUT"
check "--output=text: no raw C1 or bidi override reaches stdout" "$(od -c "$DAEMON_OUT" | head -3)" \
	python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(1 if b"\xc2\x9b" in d or b"\xe2\x80\xae" in d else 0)' "$DAEMON_OUT"
check "--output=text: rename to a new name says \"renamed to\"" "$(grep -a cfg "$DAEMON_OUT" | head -2)" \
	grep -q 'renamed to .*hostile/cfg' "$DAEMON_OUT"

# ---- 3: the daemon refuses our credentials (SO_PEERCRED), not the file system -------------
# Make the socket reachable for everybody so that only the daemon's own check can refuse.
d=$DAEMON_SOCK
while [ "$d" != / ]; do d=$(dirname "$d"); chmod o+x "$d" 2>/dev/null; done
chmod 0666 "$DAEMON_SOCK"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$IOHCLI" "$@"; }
for cmd in status findings reload; do
	as_nobody "${S[@]}" $cmd >"$out" 2>"$err"
	rc=$?
	if [ "$rc" = 3 ]; then ok "$cmd refused by SO_PEERCRED: exit 3"; else
		fail "$cmd refused by SO_PEERCRED: exit 3" "got $rc: $(cat "$out" "$err" | head -c 300)"; fi
done
as_nobody "${S[@]}" top -b -n 1 >"$out" 2>"$err"
rc=$?
[ "$rc" = 3 ] && ok "top refused by SO_PEERCRED: exit 3" ||
	fail "top refused by SO_PEERCRED: exit 3" "got $rc: $(cat "$out" "$err" | head -c 300)"
chmod 0660 "$DAEMON_SOCK"

# ---- metrics: the bound port, every family documented, heartbeats counted -------------------
port=$(sed -n 's|.*Metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$DAEMON_ERR" | head -1)
if [ -n "$port" ] && [ "$port" != 0 ]; then
	ok "--metrics-listen 127.0.0.1:0 logs the bound port ($port)"
else
	fail "--metrics-listen 127.0.0.1:0 logs the bound port" "$(grep -i metrics "$DAEMON_ERR")"
	port=$(ss -Hltnp 2>/dev/null | awk -v p="pid=$DAEMON_PID," '$0 ~ p {sub(/.*:/, "", $4); print $4; exit}')
fi
heartbeats=0
for i in $(seq 30); do
	curl -s --max-time 2 "http://127.0.0.1:$port/metrics" >"$E2E_WORK/metrics.txt"
	heartbeats=$(sed -n 's/^iohazard_events_total{type="heartbeat"} \([0-9]*\)$/\1/p' "$E2E_WORK/metrics.txt")
	[ "${heartbeats:-0}" -gt 0 ] && break
	sleep 0.5
done
check "iohazard_events_total{type=\"heartbeat\"} counts the canary" \
	"heartbeat=${heartbeats:-missing}" test "${heartbeats:-0}" -gt 0
"$IOHCLI" "${S[@]}" status -j >"$out"
check "status -j events.heartbeat counts the canary" "$(head -c 400 "$out")" \
	python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["events"]["heartbeat"] > 0 else 1)' "$out"
families=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$E2E_WORK/metrics.txt")
check "the daemon exports metric families" "$(head -c 300 "$E2E_WORK/metrics.txt")" test -n "$families"
undocumented=
for f in $families; do
	grep -q "^| \`$f\` |" "$IOH_SRC/docs/metrics.md" || undocumented="$undocumented $f"
done
check "every exported metric family has a row in docs/metrics.md" "missing:$undocumented" \
	test -z "$undocumented"

# ---- 4: blind ---------------------------------------------------------------------------------
# A real daemon becomes blind when a hook detaches or its canary is lost, which a test cannot
# cause on the tracepoint backend (`bpftool link detach` does not apply to perf links). The CLI
# side of the contract is checked against a stand-in that answers `status` as a blind daemon.
FAKE_SOCK=$E2E_WORK/blind.sock
python3 - "$FAKE_SOCK" <<'PY' &
import json, os, socket, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
srv.settimeout(60)
status = {"version": "0.1.0", "pid": os.getpid(), "uptime_seconds": 12.0, "ready": True,
          "hooks": {}, "events": {"heartbeat": 2}, "events_lost": {}, "tracked_inodes": 0,
          "findings": 1, "rules": 8, "rules_builtin": True,
          "rules_last_reload_success": False, "blind": True,
          "blind_reason": "canary syscall not seen through the hooks and ring buffer for 10.0s"}
# A hostile name as the daemon reports it: C1 CSI, U+202E, and two bytes that are not UTF-8
# (U+FFFD in "path", the real bytes in "path_bytes").
raw = b"/srv/\xc2\x9b2Jx\xe2\x80\xaefdp.exe\xff\xfe"
finding = {"time": "2026-11-21T19:40:01.123456789Z", "rule": "rename-unsynced-source",
           "severity": "notice", "confidence": "high", "pid": 42, "comm": "sed",
           "unit": None, "cgroup": "/", "dev": "254:0", "ino": 7,
           "path": raw.decode("utf-8", "replace"), "path_bytes": raw.hex(), "fstype": "ext4",
           "message": "renamed to " + raw.decode("utf-8", "replace"), "fix": "fsync",
           "evidence": {}}
while True:
    try:
        c, _ = srv.accept()
    except OSError:
        break
    req = json.loads(c.recv(65536).split(b"\n")[0])
    if req.get("command") == "findings":
        reply = {"ok": True, "findings": [finding]}
    else:
        reply = {"ok": True, "status": status}
    c.sendall((json.dumps(reply) + "\n").encode())
    c.close()
PY
fake_pid=$!
for i in $(seq 50); do [ -S "$FAKE_SOCK" ] && break; sleep 0.1; done
run "status of a blind daemon" 4 --socket "$FAKE_SOCK" status
check "status says blind and why" "$(tail -3 "$out")" \
	grep -Eq '^blind: +YES: canary syscall not seen' "$out"
check "status says the last reload was rejected" "$(tail -3 "$out")" \
	grep -Eq '^rules: +8 in force \(the built-in vendor rules.*\), last reload REJECTED' "$out"
run "status -j of a blind daemon" 4 --socket "$FAKE_SOCK" status -j
check "status -j of a blind daemon has blind_reason" "$(head -c 300 "$out")" \
	json_has "$out" blind_reason
run "findings (text) with a hostile name" 0 --socket "$FAKE_SOCK" findings
check "findings escapes C1 CSI and U+202E, and shows non-UTF-8 bytes as \\xNN" "$(cat "$out")" \
	grep -qF ' path=/srv/\u009b2Jx\u202efdp.exe\xff\xfe: renamed to /srv/\u009b2Jx\u202efdp.exe' "$out"
check "findings writes no raw C1 or bidi override" "$(od -c "$out" | head -5)" \
	python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(1 if b"\xc2\x9b" in d or b"\xe2\x80\xae" in d else 0)' "$out"
kill "$fake_pid" 2>/dev/null
wait "$fake_pid" 2>/dev/null

daemon_stop
# ---- iohazardd: usage errors exit 2, as its man page says ------------------------------------
"$IOHD" --bogus >/dev/null 2>&1
rc=$?
check "iohazardd --bogus exits 2" "got $rc" test "$rc" = 2
check "iohazardd.8 documents exit 2 for usage errors" "see packaging/man/iohazardd.8" \
	grep -q "^Usage error" "$IOH_SRC/packaging/man/iohazardd.8"
e2e_finish
