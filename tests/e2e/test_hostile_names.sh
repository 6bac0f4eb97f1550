#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Hostile file names under the daemon: a newline, spaces and invalid UTF-8; JSON
# metacharacters and control bytes; a relative rename more than 2 KB deep and an absolute one of
# 1.5 KB. Findings must stay valid JSON lines with the bytes escaped, long paths must be complete
# or visibly truncated (leading "…"), and the daemon must stay up.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

PATTERNS=(hostile-name hostile-json long-path long-abs)
declare -A FS_DIR
FS_LIST=(root)
FS_DIR[root]=$E2E_WORK/rootfs
mkdir -p "${FS_DIR[root]}"
if mount_fs xfs; then
	FS_DIR[xfs]=$MOUNT_DIR
	FS_LIST+=(xfs)
else
	fail "mount xfs loop image" "see the log"
fi

REC=$E2E_WORK/events.rec
daemon_start --record "$REC"
if daemon_wait_ready 30; then
	ok "daemon ready"
else
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi

SPEC=$E2E_WORK/spec.jsonl
all_pids=()
one_round() { # round
	local fs p dir pid pids=()
	for fs in "${FS_LIST[@]}"; do
		for p in "${PATTERNS[@]}"; do
			dir=${FS_DIR[$fs]}/r$1/$p
			mkdir -p "$dir"
			"$WORKLOAD" "$p" "$dir" >"$E2E_WORK/wl-$fs-$p.out" 2>&1 &
			pid=$!
			pids+=("$pid")
			printf '{"label": "%s/%s", "pid": %d, "pattern": "%s", "dir": "%s", "fstype": "%s"}\n' \
				"$fs" "$p" "$pid" "$p" "$dir" "$(findmnt -n -o FSTYPE --target "$dir")" >>"$SPEC"
		done
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || fail "workload pid $pid ran" "$(cat "$E2E_WORK"/wl-*.out | tr -c '[:print:]\n' '?')"
	done
	all_pids+=("${pids[@]}")
}
check_findings_rounds one_round "$SPEC" "$REC"
pids=("${all_pids[@]}")

# The raw bytes: one finding per line, no raw control byte, valid UTF-8, the newline of the
# hostile name escaped as \n, the invalid bytes replaced (never copied through).
python3 "$FINDINGS_PY" lines --out "$DAEMON_OUT" --label "daemon stdout" || E2E_FAILED=$((E2E_FAILED + 1))
python3 - "$DAEMON_OUT" "$(IFS=,; echo "${pids[*]}")" <<'PY' || E2E_FAILED=$((E2E_FAILED + 1))
import json, sys
pids = {int(p) for p in sys.argv[2].split(",")}
raw = [l for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
mine = [l for l in raw if json.loads(l).get("pid") in pids]
bad = 0
def res(good, name, details=""):
    global bad
    print(f"ok - {name}" if good else f"not ok - {name}: {details}"[:1500])
    bad += not good
hostile = [l for l in mine if b"bad\\nname with  spaces " in l]
res(len(hostile) >= 2, "the newline of a hostile name is escaped as \\n in the raw line",
    f"{len(hostile)} raw lines contain it")
res(all(b"\xff" not in l and b"\xfe" not in l for l in mine), "invalid UTF-8 bytes never reach stdout",
    "raw 0xff/0xfe byte found")
for l in hostile:
    p = json.loads(l)["path"]
    res("\ufffd" in p and p.endswith("(.cfg") and "\n" in p,
        f"{json.loads(l)['rule']}: hostile path decodes with U+FFFD for the bad bytes",
        f"path={p!r}")
js = [l for l in mine if b"uote" in l]
res(len(js) >= 2 and all(b'q\\"uote\\\\back\\\\slash\\ttab\\u0001' in l for l in js),
    "quote, backslash, tab and \\x01 are JSON-escaped", f"{[l[:300] for l in js]}")
sys.exit(1 if bad else 0)
PY

if daemon_alive && "$IOHCLI" --socket "$DAEMON_SOCK" status >/dev/null 2>&1; then
	ok "daemon still up and answering status"
else
	fail "daemon still up and answering status" "$(tail -5 "$DAEMON_ERR")"
fi
if grep -qiE 'malformed|error' "$DAEMON_ERR"; then
	fail "no decode error logged" "$(grep -iE 'malformed|error' "$DAEMON_ERR" | head -3)"
else
	ok "no decode error logged"
fi
python3 - "$DAEMON_SOCK" "$IOHCLI" <<'PY' || E2E_FAILED=$((E2E_FAILED + 1))
import json, subprocess, sys
st = json.loads(subprocess.run([sys.argv[2], "--socket", sys.argv[1], "status", "--json"],
                               capture_output=True).stdout)
lost = st.get("events_lost", {})
mal = lost.get("malformed_records", 0)
print(f"# events_lost: {lost}")
print("ok - no malformed records" if mal == 0 else f"not ok - no malformed records: {mal}")
sys.exit(0 if mal == 0 else 1)
PY
daemon_stop 5
check "daemon stops on SIGTERM with exit 0" "rc=$DAEMON_RC" [ "$DAEMON_RC" = 0 ]
e2e_finish
