#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside `unshare --mount --propagation private` (tests/e2e/test_notify_journal.sh): a
# private tmpfs on /run, /var/log/journal and the catalog directories, a real
# systemd-journald on it, the harness sending a finding, then journalctl reading it back.
# Nothing outside this mount namespace changes; journald is stopped by its pid.
# Usage: journal_ns.sh HARNESS PATH_FILE CATALOG OUT_DIR
set -u
harness=$1 path_file=$2 catalog=$3 out=$4
jpid=
cleanup() { [ -n "$jpid" ] && kill "$jpid" 2>/dev/null && wait "$jpid" 2>/dev/null; }
trap cleanup EXIT

mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
[ -d /var/log/journal ] && { mount -t tmpfs tmpfs /var/log/journal || exit 1; }
# The catalog: systemd's own files plus ours, compiled into a private database.
cp -a /usr/lib/systemd/catalog "$out/catalog-src"
cp "$catalog" "$out/catalog-src/iohazard.catalog"
mount --bind "$out/catalog-src" /usr/lib/systemd/catalog || exit 1
mkdir -p /var/lib/systemd/catalog 2>/dev/null
mount -t tmpfs tmpfs /var/lib/systemd/catalog || exit 1
journalctl --update-catalog 2>"$out/update-catalog.err" || exit 1

. "$(dirname "$0")/private_journald.sh"
start_private_journald "$out" >"$out/error" || exit 1
rm -f "$out/error"

"$harness" journal "$path_file" >"$out/harness.out" 2>"$out/harness.err"
# journald writes asynchronously; --sync is not available without the varlink peer, so
# wait until the entries are readable.
for _ in $(seq 100); do
	journalctl -D /run/log/journal -t iohazardd -o json --all >"$out/entries.json" 2>/dev/null
	[ "$(wc -l <"$out/entries.json")" -ge 2 ] && break
	sleep 0.05
done
journalctl -D /run/log/journal -t iohazardd -x -o short -n 1 --no-pager \
	>"$out/explained.txt" 2>&1
journalctl -D /run/log/journal IOHAZARD_RULE=rename-without-dir-fsync -o json --all \
	>"$out/by-rule.json" 2>&1
exit 0
