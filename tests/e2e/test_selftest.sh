#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `iohazard selftest` against a live daemon: it must pass on a healthy host (exit 0, every
# rule it checks reported), so that a detector change can never silently turn the documented
# canary into an alert that fires everywhere. Then the daemon must expose the result as
# iohazard_selftest_last_success{rule} = 1 for every rule.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
daemon_start --metrics-listen "127.0.0.1:$port"
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	e2e_finish
fi

# The scratch directory is on the build tree's filesystem (persistent, not excluded by the
# shipped rules), like /var/lib/iohazard/selftest on a host.
st_dir=$E2E_WORK/selftest
"$IOHCLI" --socket "$DAEMON_SOCK" selftest --dir "$st_dir" >"$E2E_WORK/st.out" 2>"$E2E_WORK/st.err"
rc=$?
check "selftest exits 0" "rc=$rc: $(cat "$E2E_WORK/st.out" "$E2E_WORK/st.err")" [ "$rc" -eq 0 ]
for rule in rename-unsynced-source rename-without-dir-fsync mixed-direct-buffered; do
	check "selftest reports $rule" "$(cat "$E2E_WORK/st.out")" \
		grep -Eq "^$rule +ok\$" "$E2E_WORK/st.out"
done
check "selftest says nothing is unreported" "$(cat "$E2E_WORK/st.out")" \
	bash -c "! grep -q 'NOT REPORTED' '$E2E_WORK/st.out'"
check "selftest leaves no scratch files" "$(ls -A "$st_dir" 2>&1)" \
	bash -c "[ -z \"\$(ls -A '$st_dir')\" ]"

# JSON: one object, passed, one entry per check, each passed.
"$IOHCLI" --socket "$DAEMON_SOCK" -j selftest --dir "$st_dir" >"$E2E_WORK/st.json" 2>&1
rc=$?
check "selftest -j exits 0 and every check passed" "rc=$rc: $(cat "$E2E_WORK/st.json")" \
	python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["passed"] is True, o
assert len(o["checks"]) >= 3 and all(c["passed"] for c in o["checks"]), o
' "$E2E_WORK/st.json"

# The canary's metric.
metrics=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
for rule in rename-unsynced-source rename-without-dir-fsync mixed-direct-buffered; do
	check "iohazard_selftest_last_success{rule=\"$rule\"} is 1" \
		"$(printf '%s\n' "$metrics" | grep selftest)" \
		grep -q "^iohazard_selftest_last_success{rule=\"$rule\"} 1\$" <<<"$metrics"
done

daemon_stop 10
check "daemon exits 0" "rc=$DAEMON_RC" [ "$DAEMON_RC" = 0 ]
e2e_finish
