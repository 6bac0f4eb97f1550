#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside `unshare --mount --propagation private` (tests/e2e/test_daemon_service.sh): a
# private tmpfs on /run (and /var/log/journal), a real systemd-journald on it, the real
# iohazardd with --journal=on, one rename-unsynced-source provoked by `mv`, then journalctl
# reading the entries back. Nothing outside this mount namespace changes; the daemon and
# journald are stopped by their pids.
# Usage: journal_daemon_ns.sh IOHAZARDD IOHAZARD RULES_DIR OUT_DIR
# Writes OUT_DIR/{entries.json,mv.pid,daemon.out,daemon.err,journald.err,error}.
set -u
iohd=$1 cli=$2 rules=$3 out=$4
jpid='' dpid=''
# shellcheck disable=SC2317 # called from the EXIT trap
stop() { # pid
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
	[ -n "$dpid" ] && stop "$dpid"
	[ -n "$jpid" ] && stop "$jpid"
}
trap cleanup EXIT
err() { echo "$*" >>"$out/error"; exit 1; }

mount -t tmpfs -o mode=0755 tmpfs /run || err "mount tmpfs /run failed"
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal || err "mount /var/log/journal"; fi
. "$(dirname "$0")/../service/private_journald.sh"
# Not in $(...): jpid must be set in this shell, and journald must be its child.
start_private_journald "$out" >"$out/journald.why" || err "$(cat "$out/journald.why")"

"$iohd" --foreground --output=json --journal=on --rules-dir "$rules" --socket "$out/api.sock" \
	--metrics-listen off >"$out/daemon.out" 2>"$out/daemon.err" &
dpid=$!
"$cli" --socket "$out/api.sock" status --wait-ready=30 >/dev/null 2>&1 ||
	err "daemon not ready: $(tail -3 "$out/daemon.err")"

# The write happens in this shell, the rename in mv: the finding is about mv's pid.
dir=$out/renames
mkdir -p "$dir"
echo x >"$dir/f.tmp"
mv "$dir/f.tmp" "$dir/f" &
mvpid=$!
wait "$mvpid"
echo "$mvpid" >"$out/mv.pid"
echo "$dir/f" >"$out/path"

# journald writes asynchronously: wait (bounded) until the entry is readable.
for _ in $(seq 100); do
	journalctl -D /run/log/journal -t iohazardd -o json --all \
		IOHAZARD_PATH="$dir/f" >"$out/entries.json" 2>"$out/journalctl.err"
	[ -s "$out/entries.json" ] && break
	sleep 0.05
done
[ -s "$out/entries.json" ] || err "no journal entry for $dir/f"
exit 0
