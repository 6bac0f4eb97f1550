#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Blindness is detected independently of the event loop (issue 12): the daemon is stopped
# (SIGSTOP) for 4.5 s (the limit is 3 s), the way a loop stuck in the kernel would look from outside. Once it
# runs again, status and /metrics say blind with the reason, the stall is counted, the log
# (the journal under systemd) has it, and a fresh canary ends the episode.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
daemon_start --metrics-listen "127.0.0.1:$PORT"
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
ok "daemon ready"
status() { timeout 2 "$IOHCLI" --socket "$DAEMON_SOCK" --json status; }
field() { python3 -c 'import json, sys
d = json.load(sys.stdin); d = d.get("status", d)
print(d.get(sys.argv[1], ""))' "$1" 2>/dev/null; }

sleep 1
check "not blind before" "$(status | head -c 300)" test "$(status | field blind)" = False

kill -STOP "$DAEMON_PID"
sleep 4.5
kill -CONT "$DAEMON_PID"
sleep 0.5
m=$(curl -s --max-time 1 "http://127.0.0.1:$PORT/metrics")
st=$(status)
check "status: blind after the stall" "$(printf %s "$st" | head -c 600)" \
	test "$(printf %s "$st" | field blind)" = True
check "status: the reason names the event loop" "$(printf %s "$st" | field blind_reason)" \
	grep -q "event loop did not run for" <<<"$(printf %s "$st" | field blind_reason)"
check "status: loop_stalls = 1" "$(printf %s "$st" | field loop_stalls)" \
	test "$(printf %s "$st" | field loop_stalls)" = 1
check "metrics: iohazard_blind 1" "$(grep '^iohazard_blind' <<<"$m")" grep -q '^iohazard_blind 1' <<<"$m"
check "metrics: iohazard_loop_stalls_total 1" "$(grep '^iohazard_loop' <<<"$m")" \
	grep -q '^iohazard_loop_stalls_total 1' <<<"$m"
check "metrics: a blind episode" "$(grep '^iohazard_blind_episodes' <<<"$m")" \
	grep -q '^iohazard_blind_episodes_total [1-9]' <<<"$m"
check "log: the event loop stall" "$(tail -5 "$DAEMON_ERR")" \
	grep -q "Blind: the event loop did not run for" "$DAEMON_ERR"
check "findings: an iohazard-blind finding" "$(tail -3 "$DAEMON_OUT")" \
	grep -q '"rule":"iohazard-blind".*event loop did not run' "$DAEMON_OUT"

# The canary comes back: seeing again within a few seconds.
seeing=
for _ in $(seq 40); do
	[ "$(status | field blind)" = False ] && { seeing=1; break; }
	sleep 0.25
done
check "seeing again after a canary round trip" "$(status | head -c 300)" test -n "$seeing"
check "log: seeing again" "$(tail -3 "$DAEMON_ERR")" grep -q "Seeing again" "$DAEMON_ERR"
daemon_stop 5
check "daemon exits cleanly" "rc=$DAEMON_RC" test "$DAEMON_RC" = 0
e2e_finish
