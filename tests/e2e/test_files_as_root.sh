#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Files the daemon writes as root (issue 12):
#  --record never follows a planted symlink, never truncates an existing file (unless
#  --record-replace), creates 0600, keeps O_CLOEXEC; a failing write (disk full) stops the
#  recording, status says why, a metric counts it.
#  --socket replaces only a stale socket, never a regular file.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

W=$E2E_WORK/files
mkdir -p "$W/pub"
chmod 1777 "$W/pub"
alive() { timeout 2 "$IOHCLI" --socket "$DAEMON_SOCK" status >/dev/null 2>&1; }
status_json() { timeout 2 "$IOHCLI" --socket "$DAEMON_SOCK" --json status; }
field() { python3 -c 'import json, sys
d = json.load(sys.stdin); d = d.get("status", d)
print(d.get(sys.argv[1]))' "$1" 2>/dev/null; }

# ---- --record through a planted symlink ------------------------------------------------------
printf 'precious\n' >"$W/secret"
chmod 0600 "$W/secret"
ln -s "$W/secret" "$W/pub/rec"
daemon_start --record "$W/pub/rec"
daemon_wait_exit 20
check "--record onto a symlink: refused" "rc=$DAEMON_RC $(tail -2 "$DAEMON_ERR")" \
	test "$DAEMON_RC" != 0 -a "$DAEMON_RC" != timeout
check "--record onto a symlink: the target is untouched" "$(head -c 100 "$W/secret" | od -c | head -2)" \
	test "$(cat "$W/secret")" = precious
check "--record onto a symlink: the link is still a link" "$(ls -l "$W/pub/rec")" test -L "$W/pub/rec"

# ---- --record onto an existing file ----------------------------------------------------------
printf 'old\n' >"$W/pub/existing"
daemon_start --record "$W/pub/existing"
daemon_wait_exit 20
check "--record onto an existing file: refused" "rc=$DAEMON_RC" \
	test "$DAEMON_RC" != 0 -a "$DAEMON_RC" != timeout
check "--record onto an existing file: kept" "$(cat "$W/pub/existing")" \
	test "$(cat "$W/pub/existing")" = old
check "--record onto an existing file: the error names --record-replace" "$(tail -2 "$DAEMON_ERR")" \
	grep -q -- "--record-replace" "$DAEMON_ERR"
daemon_start --record "$W/pub/rec" --record-replace
daemon_wait_exit 20
check "--record-replace onto a symlink: refused" "rc=$DAEMON_RC" \
	test "$DAEMON_RC" != 0 -a "$DAEMON_RC" != timeout
check "--record-replace onto a symlink: target untouched" "" test "$(cat "$W/secret")" = precious

daemon_start --record "$W/pub/existing" --record-replace
if daemon_wait_ready 30; then
	ok "--record-replace replaces a regular file"
	check "recording is mode 0600" "$(stat -c %a "$W/pub/existing")" \
		test "$(stat -c %a "$W/pub/existing")" = 600
	# The recording's descriptor must not leak into anything the daemon runs.
	fdflags=
	for fd in /proc/"$DAEMON_PID"/fd/*; do
		[ "$(readlink "$fd")" = "$W/pub/existing" ] || continue
		fdflags=$(awk '/^flags:/{print $2}' /proc/"$DAEMON_PID"/fdinfo/"$(basename "$fd")")
	done
	check "recording descriptor has O_CLOEXEC" "flags=$fdflags" \
		python3 -c 'import sys; sys.exit(not (int(sys.argv[1], 8) & 0o2000000))' "${fdflags:-0}"
	daemon_stop 5
	check "the replaced recording replays" "$("$IOHCLI" replay "$W/pub/existing" 2>&1 | tail -2)" \
		"$IOHCLI" replay "$W/pub/existing"
else
	fail "--record-replace replaces a regular file" "$(tail -3 "$DAEMON_ERR")"
fi

# ---- a recording that fills its disk ---------------------------------------------------------
mkdir -p "$W/small"
if mount -t tmpfs -o size=64k tmpfs "$W/small"; then
	E2E_MOUNTS+=("$W/small")
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	daemon_start --record "$W/small/rec" --metrics-listen "127.0.0.1:$PORT"
	if daemon_wait_ready 30; then
		mkdir -p "$W/churn"
		stopped=
		for round in $(seq 20); do
			python3 -c 'import os, sys, uuid
d = sys.argv[1]
for i in range(2000):
    a = os.path.join(d, uuid.uuid4().hex); b = os.path.join(d, uuid.uuid4().hex)
    open(a, "w").close(); os.rename(a, b); os.unlink(b)' "$W/churn"
			sleep 0.5
			if [ "$(status_json | field recording)" = None ]; then stopped=1; break; fi
		done
		st=$(status_json)
		check "disk full: the recording stops" "$(printf %s "$st" | head -c 400)" test -n "$stopped"
		check "disk full: status says why" "$(printf %s "$st" | field recording_error)" \
			grep -q "No space left on device" <<<"$(printf %s "$st" | field recording_error)"
		check "disk full: status counts it" "$(printf %s "$st" | field recording_write_errors)" \
			test "$(printf %s "$st" | field recording_write_errors)" = 1
		m=$(curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics")
		check "disk full: iohazard_record_write_errors_total 1" "$(grep record <<<"$m")" \
			grep -q '^iohazard_record_write_errors_total 1' <<<"$m"
		check "disk full: iohazard_recording_active 0" "$(grep record <<<"$m")" \
			grep -q '^iohazard_recording_active 0' <<<"$m"
		check "disk full: logged" "$(tail -2 "$DAEMON_ERR")" \
			grep -q "recording stopped" "$DAEMON_ERR"
		check "disk full: the daemon still answers" "" alive
		daemon_stop 5
		check "disk full: daemon exits cleanly" "rc=$DAEMON_RC" test "$DAEMON_RC" = 0
	else
		fail "daemon ready (disk full)" "$(tail -3 "$DAEMON_ERR")"
	fi
else
	fail "mount a small tmpfs" "mount failed"
fi

# ---- --socket --------------------------------------------------------------------------------
printf 'not a socket\n' >"$W/pub/api.sock"
daemon_start --socket "$W/pub/api.sock"
daemon_wait_exit 20
check "--socket onto a regular file: refused" "rc=$DAEMON_RC $(tail -2 "$DAEMON_ERR")" \
	test "$DAEMON_RC" != 0 -a "$DAEMON_RC" != timeout
check "--socket onto a regular file: the file is kept" "$(ls -l "$W/pub/api.sock" 2>&1)" \
	test "$(cat "$W/pub/api.sock" 2>/dev/null)" = "not a socket"
check "--socket onto a regular file: the error says so" "$(tail -2 "$DAEMON_ERR")" \
	grep -q "exists and is not a socket" "$DAEMON_ERR"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
	"$W/stale.sock"
daemon_start --socket "$W/stale.sock"
DAEMON_SOCK=$W/stale.sock
if daemon_wait_ready 30; then
	ok "--socket replaces a stale socket"
	FIRST=$DAEMON_PID
	daemon_start --socket "$W/stale.sock"
	daemon_wait_exit 20
	check "--socket of a live daemon: refused" "rc=$DAEMON_RC" \
		test "$DAEMON_RC" != 0 -a "$DAEMON_RC" != timeout
	DAEMON_PID=$FIRST
	DAEMON_SOCK=$W/stale.sock
	check "--socket of a live daemon: the first still answers" "" alive
	daemon_stop 5
else
	fail "--socket replaces a stale socket" "$(tail -3 "$DAEMON_ERR")"
fi
e2e_finish
