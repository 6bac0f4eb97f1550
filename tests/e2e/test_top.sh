#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `iohazard top` end to end against the real daemon: batch frames checked exactly (count, the
# rows for the findings provoked here, nothing on stderr), the live view driven through tmux
# (help, details with the fix, resize, quit), hostile file names shown escaped, and the clear
# errors: TERM unset or dumb (exit 2), no daemon (exit 3), no permission on the socket (3),
# daemon gone mid-run (3).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

TMUX_SOCK=iohazard-top-test-$$ # a tmux server of our own: never touch the user's sessions
TMUX_SESSION=top
tmux_started=0
tmx() { tmux -L "$TMUX_SOCK" "$@"; }
top_cleanup() {
	if [ "$tmux_started" = 1 ]; then
		tmx kill-session -t "$TMUX_SESSION" 2>/dev/null
		tmx kill-server 2>/dev/null
	fi
}
trap 'rc=$?; top_cleanup; (exit $rc); e2e_cleanup' EXIT

if ! command -v tmux >/dev/null; then
	fail "tmux installed" "tmux is missing (make deps installs it)"
	exit 1
fi

daemon_start --output=none
if daemon_wait_ready 30; then
	ok "daemon ready"
else
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
S=$DAEMON_SOCK

# Findings to show: a plain unsafe rename, and one with a newline and an invalid UTF-8 byte in
# its name. Under the build tree: the default rules exclude /tmp.
W=$E2E_WORK/w
mkdir -p "$W"
# The hostile one is renamed by python, not mv: findings from one call site (the first frame
# of the call chain outside libc, issue 15) are one row, and this test wants a row per file.
HOSTILE=$(printf 'bad\nname\xff')
(cd "$W" && echo x >f.tmp && mv f.tmp f && echo y >"$HOSTILE.tmp" &&
	python3 -c 'import os, sys; os.rename(os.fsencode(sys.argv[1]) + b".tmp", os.fsencode(sys.argv[1]))' "$HOSTILE")

# rename-without-dir-fsync comes when its 5 s window closes; ask the daemon, not the clock.
wait_finding() { # rule path-suffix
	local i
	for i in $(seq 60); do
		ioh --socket "$S" findings -j --rule "$1" 2>/dev/null |
			grep -q "\"path\":\"$W/$2\"" && return 0
		sleep 0.25
	done
	return 1
}
check "rename-unsynced-source reported" "no finding for $W/f" wait_finding rename-unsynced-source f
check "rename-without-dir-fsync reported" "no finding for $W/f" \
	wait_finding rename-without-dir-fsync f

# ---- batch mode ------------------------------------------------------------------------------
OUT=$E2E_WORK/batch.out
ERR=$E2E_WORK/batch.err
LANG=C.UTF-8 LC_ALL=C.UTF-8 ioh --socket "$S" top -b -n 2 -d 1 >"$OUT" 2>"$ERR"
rc=$?
check "batch exits 0" "rc=$rc: $(cat "$ERR")" [ "$rc" = 0 ]
check "batch writes nothing on stderr" "$(cat "$ERR")" [ ! -s "$ERR" ]
frames=$(grep -c '^iohazard top - ' "$OUT")
check "batch prints exactly 2 frames" "got $frames" [ "$frames" = 2 ]
check "batch frames have no terminal escapes" "$(grep -c $'\e' "$OUT") lines" \
	bash -c "! grep -q $'\e' '$OUT'"
# Each frame holds both rows for $W/f (severity, rule, count, then the path at the end).
rows_ok() {
	python3 - "$OUT" "$W" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding='utf-8', errors='replace').read()
w = sys.argv[2]
frames = [f for f in text.split('iohazard top - ')[1:]]
ok = len(frames) == 2
for f in frames:
    for rule in ('rename-unsynced-source', 'rename-without-dir-fsync'):
        pat = r'^(INFO|NOTE|WARN|CRIT) +%s +1 +\S+ +\S+ mv\[\d+\].* %s$' % (re.escape(rule), re.escape(w + '/f'))
        if not re.search(pat, f, re.M):
            print('missing %s row in frame:\n%s' % (rule, f))
            ok = False
    # The daemon reports dirty throttling: the panel shows devices, or says none paused.
    if 'Dirty-throttle pauses per device' not in f or 'no data (this iohazardd' in f:
        ok = False
        print('no dirty-throttle panel')
sys.exit(0 if ok else 1)
EOF
}
check "batch frames show the provoked rows" "$(rows_ok)" rows_ok
check "hostile name escaped in batch mode" "$(grep -a 'bad' "$OUT" | head -2)" \
	grep -q "$W/bad\\\\x0aname" "$OUT"
check "no raw newline-split or invalid byte from the name" "$(grep -ac '^name' "$OUT")" \
	bash -c "! grep -aq '^name' '$OUT' && ! LC_ALL=C grep -aq $'\xff' '$OUT'"

JOUT=$E2E_WORK/batch.json
ioh --socket "$S" top -b -n 1 -d 1 --json >"$JOUT" 2>"$ERR"
json_ok() {
	python3 - "$JOUT" "$W" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
paths = {(h['rule'], h['path']) for h in o['hazards']}
assert ('rename-unsynced-source', sys.argv[2] + '/f') in paths, paths
assert isinstance(o['dirty_throttle'], (dict, list)), o['dirty_throttle']
assert isinstance(o['splice_stalls'], list), o['splice_stalls']
EOF
}
check "batch --json: one parseable object per frame" "$(json_ok 2>&1 | tail -3)" json_ok

# ---- interactive view in tmux ----------------------------------------------------------------
pane() { tmx capture-pane -p -t "$TMUX_SESSION"; }
wait_pane() { # pattern [tries of 0.1 s]
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		pane | grep -q -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
RCFILE=$E2E_WORK/top.rc
tmx new-session -d -s "$TMUX_SESSION" -x 120 -y 30 \
	"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 '$IOHCLI' --socket '$S' top -d 1 \
		2>'$E2E_WORK/top.err'; echo \$? >'$RCFILE'; sleep 600" && tmux_started=1
check "live view starts" "$(pane)" wait_pane 'SEV  RULE'
check "live view shows the hostile name escaped" "$(pane)" wait_pane 'bad\\x0aname'
check "live view has the panel" "$(pane)" wait_pane 'Dirty-throttle pauses'
tmx send-keys -t "$TMUX_SESSION" '?'
check "? shows help" "$(pane)" wait_pane 'filter by rule: cycles'
tmx send-keys -t "$TMUX_SESSION" Escape
check "a key closes help" "$(pane)" wait_pane 'SEV  RULE'
tmx send-keys -t "$TMUX_SESSION" Enter
check "Enter shows details" "$(pane)" wait_pane 'How to fix it:'
check "details give the fix" "$(pane)" wait_pane 'fsync(2)'
check "details give the evidence" "$(pane)" wait_pane 'Evidence:'
tmx send-keys -t "$TMUX_SESSION" Escape
check "Esc returns to the table" "$(pane)" wait_pane 'SEV  RULE'
tmx resize-window -t "$TMUX_SESSION" -x 80 -y 24
narrow_ok() {
	wait_pane 'SEV  RULE' && [ "$(tmx display -p -t "$TMUX_SESSION" '#{pane_width}')" = 80 ] &&
		pane | grep -q 'q quit' && pane | grep -q 'Worst splice stalls'
}
check "redrawn at 80x24 after resize" "$(pane)" narrow_ok
tmx resize-window -t "$TMUX_SESSION" -x 60 -y 20
check "too small a terminal says so" "$(pane)" wait_pane 'needs at least 80x24'
tmx resize-window -t "$TMUX_SESSION" -x 100 -y 30
check "back to the table after growing" "$(pane)" wait_pane 'SEV  RULE'
for k in s r f p; do tmx send-keys -t "$TMUX_SESSION" "$k"; done
check "keys s r f p change the view" "$(pane)" wait_pane '\[PAUSED\]'
tmx send-keys -t "$TMUX_SESSION" q
quit_ok() {
	local i
	for i in $(seq 50); do [ -s "$RCFILE" ] && break; sleep 0.1; done
	[ "$(cat "$RCFILE" 2>/dev/null)" = 0 ] && [ ! -s "$E2E_WORK/top.err" ]
}
check "q quits cleanly (exit 0, no stderr)" \
	"rc=$(cat "$RCFILE" 2>/dev/null) err=$(cat "$E2E_WORK/top.err" 2>/dev/null)" quit_ok
top_cleanup
tmux_started=0

# ---- errors ----------------------------------------------------------------------------------
expect_exit() { # name code stderr-pattern cmd...
	local name=$1 code=$2 pattern=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null </dev/null)
	rc=$?
	if [ "$rc" = "$code" ] && printf '%s' "$err" | grep -q -- "$pattern"; then
		ok "$name"
	else
		fail "$name" "exit $rc (want $code), stderr: $err"
	fi
}
expect_exit "TERM=dumb: clear error, exit 2" 2 "TERM is 'dumb'.*-b" \
	env TERM=dumb "$IOHCLI" --socket "$S" top
expect_exit "TERM unset: clear error, exit 2" 2 "TERM is not set" \
	env -u TERM "$IOHCLI" --socket "$S" top
expect_exit "no daemon: exit 3" 3 "iohazardd is not running" \
	"$IOHCLI" --socket "$E2E_WORK/none.sock" top -b -n 1
# Only where nobody can run the CLI at all (the build tree may be private).
if command -v setpriv >/dev/null &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$IOHCLI" version >/dev/null 2>&1; then
	expect_exit "permission denied on the socket: exit 3" 3 "permission denied" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$IOHCLI" --socket "$S" \
		top -b -n 1
fi
expect_exit "usage error: exit 2" 2 "-n: expected" "$IOHCLI" --socket "$S" top -b -n x

# The daemon going away mid-run is an exit 3 with a sentence, in batch mode too.
ioh --socket "$S" top -b -d 0.2 >/dev/null 2>"$ERR" &
top_pid=$!
sleep 0.5
daemon_stop 10
wait "$top_pid"
rc=$?
check "daemon gone: exit 3" "rc=$rc $(cat "$ERR")" [ "$rc" = 3 ]
check "daemon gone: says so" "$(cat "$ERR")" grep -q "lost the connection" "$ERR"

e2e_finish
