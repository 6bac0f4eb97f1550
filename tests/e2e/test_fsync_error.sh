#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fsync-error-retried end to end on this kernel (PostgreSQL's "fsyncgate"): a real failed fsync
# and its "successful" retry, and the finding names the file.
#
# The failing device: ext4 (no journal) on a loop device whose backing file lives in an 8 MiB
# tmpfs that is then filled up. The file exists before the fill, so appending to it needs only
# new data blocks, which are holes in the image: the loop device's writes to them fail (ENOSPC
# from tmpfs), writeback records the error, the first fsync returns it (EIO or ENOSPC) and the
# kernel marks the pages clean, so the retry returns 0 with the data gone.
# tests/e2e/workloads/fsync_retry.c does the appending and the two fsyncs.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

RETRY=$IOH_BUILD/workloads/fsync_retry
[ -x "$RETRY" ] || { fail "e2e prerequisites" "$RETRY not built (make test-bins)"; exit 1; }
cp "$RETRY" "$E2E_WORK/bin/fe-retry"

ERRFS=$E2E_WORK/errfs
MNT=$E2E_WORK/mnt-err
mkdir -p "$ERRFS" "$MNT"
if ! mount -t tmpfs -o size=8M tmpfs "$ERRFS"; then
	fail "mount an 8 MiB tmpfs" "mount failed"
	exit 1
fi
E2E_MOUNTS+=("$ERRFS")
truncate -s 64M "$ERRFS/img" &&
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=1,nodiscard "$ERRFS/img" >/dev/null 2>&1 ||
	{ fail "mkfs.ext4 on the tmpfs image" "mkfs failed"; exit 1; }
DEV=$(losetup --find --show "$ERRFS/img") || { fail "losetup" "no loop device"; exit 1; }
E2E_LOOPS+=("$DEV")
if ! mount -o noinit_itable "$DEV" "$MNT"; then
	fail "mount the failing ext4" "mount failed"
	exit 1
fi
E2E_MOUNTS+=("$MNT")
touch "$MNT/f" && sync -f "$MNT/f"
# Fill the tmpfs: from now on every new block the image needs fails to be written.
dd if=/dev/zero of="$ERRFS/filler" bs=64k 2>/dev/null
ok "failing ext4 prepared ($DEV on a full tmpfs)"

REC=$E2E_WORK/events.rec
daemon_start --record "$REC"
if ! daemon_wait_ready 30; then
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi

"$E2E_WORK/bin/fe-retry" "$MNT/f" 1024 >"$E2E_WORK/fe.out" 2>&1 &
pid=$!
wait "$pid"
rc=$?
log "fe-retry: $(cat "$E2E_WORK/fe.out") (exit $rc)"
if [ "$rc" = 3 ]; then
	fail "the device failed the writes" "the first fsync succeeded: $(cat "$E2E_WORK/fe.out")"
	exit 1
fi
check "fsync failed, then the retry returned 0" "exit $rc: $(cat "$E2E_WORK/fe.out")" [ "$rc" = 0 ]

for _ in $(seq 50); do
	grep -q '"rule":"fsync-error-retried"' "$DAEMON_OUT" && break
	sleep 0.1
done
f=$(findings_for "$pid" "$DAEMON_OUT" | grep '"rule": "fsync-error-retried"' | head -1)
check "fsync-error-retried reported for pid $pid" "$(tail -3 "$DAEMON_OUT")" [ -n "$f" ]
if [ -n "$f" ]; then
	python3 - "$f" "$MNT/f" <<'EOF' || E2E_FAILED=$((E2E_FAILED + 1))
import json, sys
f, path = json.loads(sys.argv[1]), sys.argv[2]
def res(good, name, details=""):
    print(("ok - %s" % name) if good else ("not ok - %s: %s" % (name, details)))
    return good
good = res(f["severity"] == "critical", "the finding is critical", f["severity"])
good &= res(f["comm"] == "fe-retry", "it names the program", f["comm"])
good &= res(f["path"] == path, "it names the file whose data was lost", f"path={f['path']!r}")
good &= res(path in f["message"], "the message names the file", f["message"])
good &= res(f["evidence"].get("first_error_name") in ("EIO", "ENOSPC"),
            "evidence: the first error", f["evidence"])
sys.exit(0 if good else 1)
EOF
fi
daemon_stop 15

# The recording carries the failed fsync's path: replay names the file too.
"$IOHCLI" replay --rules-dir "$RULES_DIR" -j "$REC" >"$E2E_WORK/replay.out" 2>"$E2E_WORK/replay.err"
check "replay: the same finding names the file" "$(head -c 600 "$E2E_WORK/replay.out")" \
	python3 -c 'import json, sys
found = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sys.exit(0 if any(f.get("rule") == "fsync-error-retried" and f.get("path") == sys.argv[2]
                  for f in found) else 1)' "$E2E_WORK/replay.out" "$MNT/f"

# The loop device holds the image in the tmpfs: unmount and detach it before the tmpfs goes.
umount "$MNT" && losetup -d "$DEV"
e2e_finish
