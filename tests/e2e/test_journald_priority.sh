#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The daemon under journald (issue 12, "Journald"):
#  - with stderr connected to the journal (systemd sets JOURNAL_STREAM=dev:ino of that stream),
#    every log line carries its syslog priority as a "<N>" prefix, so journald files errors at
#    PRIORITY=3 and `journalctl -p err` shows them; without it the plain "iohazardd: level:"
#    form stays;
#  - findings that cannot reach the journal (`--journal=on` with no journald socket here) are
#    counted in `status --json` (journal.sent/failed/last_error) and in the metrics
#    (iohazard_journal_send_failures_total).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

if [ -S /run/systemd/journal/socket ]; then
	log "a journald socket exists on this host: the failure counters cannot be provoked"
	JOURNAL_PRESENT=1
else
	JOURNAL_PRESENT=
fi

# daemon_start redirects stderr into $E2E_WORK/d<N>/daemon.log; the redirection truncates an
# existing file, so creating it first gives the inode the daemon's stderr will have.
next=$E2E_WORK/d$((_daemon_seq + 1))
mkdir -p "$next"
: >"$next/daemon.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$next/daemon.log")
export JOURNAL_STREAM
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
daemon_start --journal=on --metrics-listen "127.0.0.1:$PORT"
unset JOURNAL_STREAM
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
ok "daemon ready with JOURNAL_STREAM naming its stderr"

# An unsafe rename: a finding the journal sink tries to send.
mkdir -p "$E2E_WORK/files"
echo data >"$E2E_WORK/files/a.tmp"
mv "$E2E_WORK/files/a.tmp" "$E2E_WORK/files/a"
for _ in $(seq 50); do
	grep -q '"rule":"rename-unsynced-source"' "$DAEMON_OUT" && break
	sleep 0.1
done
check "the rename is reported on stdout" "$(tail -2 "$DAEMON_OUT")" \
	grep -q '"rule":"rename-unsynced-source"' "$DAEMON_OUT"

# Every stderr line has a "<N>" priority prefix (no plain "iohazardd: info:" line), and the
# ready line is at info (6).
check "every log line carries a <N> priority prefix" "$(grep -v '^<[0-7]>' "$DAEMON_ERR" | head -3)" \
	eval '! grep -qv "^<[0-7]>" "$DAEMON_ERR"'
check "the ready line is logged at info (<6>)" "$(grep -m1 Ready "$DAEMON_ERR")" \
	grep -q '^<6>Ready:' "$DAEMON_ERR"

if [ -z "$JOURNAL_PRESENT" ]; then
	check "the failed journal send is logged as a warning (<4>)" "$(cat "$DAEMON_ERR")" \
		grep -q '^<4>Failed to send a finding to the journal' "$DAEMON_ERR"
	"$IOHCLI" --socket "$DAEMON_SOCK" status --json >"$E2E_WORK/status.json"
	r=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1])).get("journal") or {}
print(j.get("sent"), j.get("failed"), j.get("last_error"))' "$E2E_WORK/status.json")
	read -r sent failed lasterr <<<"$r"
	check "status --json: journal.failed counts the lost finding ($r)" "$r" \
		eval '[ "$failed" != None ] && [ "$failed" -ge 1 ] && [ "$sent" = 0 ] && [ "$lasterr" != None ]'
	curl -s "http://127.0.0.1:$PORT/metrics" >"$E2E_WORK/metrics.txt"
	n=$(awk '$1 == "iohazard_journal_send_failures_total" { print $2 }' "$E2E_WORK/metrics.txt")
	check "iohazard_journal_send_failures_total counts it (${n:-missing})" \
		"$(grep journal "$E2E_WORK/metrics.txt")" eval '[ "${n:-0}" -ge 1 ]'
fi
daemon_stop 15

# Without JOURNAL_STREAM (a terminal, a file): the plain form.
daemon_start
if daemon_wait_ready 30; then
	check "without JOURNAL_STREAM the lines are plain" "$(head -2 "$DAEMON_ERR")" \
		grep -q '^iohazardd: info: Ready:' "$DAEMON_ERR"
	"$IOHCLI" --socket "$DAEMON_SOCK" status --json >"$E2E_WORK/status2.json"
	check "status --json: journal is null when the sink is off" "" \
		python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["journal"] is None else 1)' \
		"$E2E_WORK/status2.json"
else
	fail "second daemon ready" "$(tail -5 "$DAEMON_ERR")"
fi
daemon_stop 15
e2e_finish
