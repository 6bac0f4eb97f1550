#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `iohazard findings --follow` against a stand-in daemon that answers the subscription and
# sends a finding in the same write: the finding must be printed (the CLI once dropped
# whatever followed the reply's newline). No BPF, no root; the only process stopped is the
# stand-in this script started, by pid.
set -u
here=$(cd "$(dirname "$0")" && pwd)
IOH_SRC=${IOH_SRC:-$(cd "$here/../.." && pwd)}
IOH_BUILD=${IOH_BUILD:-$IOH_SRC/build}
failed=0
ok() { echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1: $(printf '%s' "${2:-}" | tr '\n' ' ' | cut -c1-800)"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ioh-cli-stream.XXXXXX")
spid=
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
		kill -TERM "$spid"
		wait "$spid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

python3 - "$work/api.sock" "$work/ready" <<'PY' &
import socket, sys, time
path, ready = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(1)
open(ready, "w").close()
srv.settimeout(20)
conn, _ = srv.accept()
f = conn.makefile("rb")
f.readline()                                   # {"command":"findings"}
conn.sendall(b'{"ok":true,"findings":[]}\n')
f.readline()                                   # {"command":"subscribe"}
finding = (b'{"time":"2026-11-21T19:40:01.000000001Z","rule":"rename-unsynced-source",'
           b'"severity":"notice","confidence":"high","pid":4242,"comm":"sed","unit":null,'
           b'"cgroup":"/","dev":"254:0","ino":7,"path":"/srv/same-write.conf","fstype":"ext4",'
           b'"message":"renamed","fix":"fsync","evidence":{}}')
conn.sendall(b'{"ok":true}\n{"finding":' + finding + b'}\n')   # one write
time.sleep(0.5)
conn.close()
PY
spid=$!
for _ in $(seq 100); do [ -e "$work/ready" ] && break; sleep 0.05; done

timeout 10 "$IOH_BUILD/iohazard" --socket "$work/api.sock" -j findings --follow \
	>"$work/out" 2>"$work/err"
rc=$?
if grep -q '"path":"/srv/same-write.conf"' "$work/out"; then
	ok "findings --follow prints a finding that came in the same write as the subscribe reply"
else
	fail "findings --follow prints a finding that came in the same write as the subscribe reply" \
		"rc=$rc out=$(cat "$work/out") err=$(cat "$work/err")"
fi
if [ "$rc" -eq 3 ]; then
	ok "findings --follow exits 3 when the daemon closes the connection"
else
	fail "findings --follow exits 3 when the daemon closes the connection" "rc=$rc"
fi
[ "$failed" -eq 0 ]
