#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs with nothing configured: with no *.rules file in the search path, the daemon and
# `iohazard replay` use the vendor rules compiled into them, and say so (log, status,
# stderr) instead of silently reporting nothing.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init

NORULES=$E2E_WORK/norules
mkdir -p "$NORULES"
echo "not a rules file" >"$NORULES/README"
REC=$E2E_WORK/ev.gz
RULES_DIR=$NORULES daemon_start --record "$REC"
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	e2e_finish
fi

check "the log says the built-in rules apply and where it looked" "$(cat "$DAEMON_ERR")" \
	grep -q "No \*.rules file in $NORULES: using the 8 built-in vendor rules" "$DAEMON_ERR"
"$IOHCLI" --socket "$DAEMON_SOCK" -j status >"$E2E_WORK/status.json" 2>&1
check "status -j: rules_builtin true, 8 rules" "$(head -c 600 "$E2E_WORK/status.json")" \
	python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["rules_builtin"] is True and o["rules"] == 8, o
' "$E2E_WORK/status.json"

# write-to-temp + rename: the built-in rename rules report it.
mkdir -p "$E2E_WORK/app"
bash -c 'exec -a iohbuiltin sh -c "echo hello >'"$E2E_WORK"'/app/cfg.tmp && mv '"$E2E_WORK"'/app/cfg.tmp '"$E2E_WORK"'/app/cfg.json"'
found=
for _ in $(seq 100); do
	if grep -q '"rule":"rename-unsynced-source".*app/cfg.json' "$DAEMON_OUT"; then found=1; break; fi
	sleep 0.1
done
check "a rename is reported with the built-in rules" "$(tail -c 600 "$DAEMON_OUT")" [ -n "$found" ]

# A reload keeps using them (and still says so).
"$IOHCLI" --socket "$DAEMON_SOCK" reload >/dev/null 2>&1
"$IOHCLI" --socket "$DAEMON_SOCK" -j status >"$E2E_WORK/status2.json" 2>&1
check "after reload: still the built-in rules" "$(head -c 600 "$E2E_WORK/status2.json")" \
	python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["rules_builtin"] is True and o["rules"] == 8, o
' "$E2E_WORK/status2.json"

daemon_stop 10
check "daemon exits 0" "rc=$DAEMON_RC" [ "$DAEMON_RC" = 0 ]

# Offline: the same recording replayed with no rules installed gives findings, not "0".
"$IOHCLI" replay --rules-dir "$NORULES" "$REC" >"$E2E_WORK/replay.out" 2>"$E2E_WORK/replay.err"
rc=$?
check "replay with no rules files: exit 0" "rc=$rc: $(cat "$E2E_WORK/replay.err")" [ "$rc" -eq 0 ]
check "replay with no rules files: says the built-in rules apply" "$(cat "$E2E_WORK/replay.err")" \
	grep -q "no \*.rules file in $NORULES: using the 8 built-in vendor rules" "$E2E_WORK/replay.err"
check "replay with no rules files: the rename is found again" "$(cat "$E2E_WORK/replay.out" "$E2E_WORK/replay.err")" \
	grep -q "rename-unsynced-source" "$E2E_WORK/replay.out"
e2e_finish
