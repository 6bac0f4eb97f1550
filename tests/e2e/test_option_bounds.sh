#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Options and values out of range (issue 12): every size option has documented bounds and a
# value outside them is refused before anything is loaded, with a message that names them;
# the bounds themselves are accepted. An unknown --socket-group is refused, not ignored. `iohazard findings --since` refuses a Unix time that
# nanoseconds cannot hold instead of wrapping it to "everything".
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

# refused OPTION VALUE PATTERN: exit status 2 (usage) and PATTERN on stderr. --replay of a
# missing file keeps an accepted option from starting anything.
refused() {
	local err rc
	err=$("$IOHD" --rules-dir "$RULES_DIR" "$1" "$2" --replay "$E2E_WORK/none" 2>&1 >/dev/null)
	rc=$?
	check "$1 $2 refused" "rc $rc: $err" [ "$rc" = 2 ]
	check "$1 $2: the message gives the bounds" "$err" grep -q -- "$3" <<<"$err"
}
accepted() {
	local err rc
	err=$("$IOHD" --rules-dir "$RULES_DIR" "$@" --replay "$E2E_WORK/none" 2>&1 >/dev/null)
	rc=$?
	# The option passed; the replay of a missing file fails (1).
	check "$* accepted" "rc $rc: $err" [ "$rc" = 1 ]
}

refused --ringbuf-size 4096 "from 64 KiB"
refused --ringbuf-size 32KiB "from 64 KiB"
refused --ringbuf-size 2GiB "to 256 MiB"
refused --ringbuf-size 96KiB "power of two"
refused --max-pending 100000000 "at most 262144"
refused --max-pending 0 "1 to 262144"
refused --max-inodes 100000000 "at most 1048576"
refused --max-inodes -5 "1 to 1048576"
refused --mixed-window 8d "to 7d"
refused --socket-group ioh-no-such-group-$$ "no group named"
accepted --ringbuf-size 64KiB --max-pending 262144 --max-inodes 1048576 --mixed-window 7d
accepted --ringbuf-size 256MiB --max-pending 1 --max-inodes 1

# A ring at the minimum still carries renames: a daemon with it sees a rename with long names.
daemon_start --ringbuf-size 64KiB
if daemon_wait_ready 30; then
	ok "daemon ready with the smallest ring buffer"
	long=$E2E_WORK/$(printf 'd%.0s' $(seq 200))/$(printf 'n%.0s' $(seq 200))
	mkdir -p "$(dirname "$long")"
	python3 -c 'import os, sys
p = sys.argv[1]
open(p + ".tmp", "w").write("x")
os.rename(p + ".tmp", p)' "$long" &
	pid=$!
	wait $pid
	for i in $(seq 100); do
		grep -q "\"pid\":$pid," "$DAEMON_OUT" && break
		sleep 0.1
	done
	check "a rename with long names reaches the daemon through a 64 KiB ring" \
		"no finding for pid $pid" grep -q "\"pid\":$pid,.*\"rule\":\"rename-unsynced-source\"\\|\"rule\":\"rename-unsynced-source\".*\"pid\":$pid," "$DAEMON_OUT"
	daemon_stop 10
else
	fail "daemon ready with the smallest ring buffer" "$(tail -5 "$DAEMON_ERR")"
fi

# --since: a Unix time past 2262 does not fit in int64 nanoseconds.
err=$("$IOHCLI" --socket "$E2E_WORK/none.sock" findings --since 99999999999 2>&1)
rc=$?
check "findings --since 99999999999 refused as out of range" "rc $rc: $err" \
	grep -q "out of range" <<<"$err"
err=$("$IOHCLI" --socket "$E2E_WORK/none.sock" findings --since 9999999999999d 2>&1)
check "findings --since with a huge duration means everything (no usage error)" "$err" \
	grep -q "not reachable" <<<"$err"
e2e_finish
