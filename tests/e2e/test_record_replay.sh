#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# --record / iohazard replay: the findings replayed from a recording equal, field for field,
# what the live daemon printed for the workloads; a damaged recording is refused cleanly.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

REC=$E2E_WORK/events.rec
BASE=$E2E_WORK/fs
PATTERNS=(unsafe fsync-file-only safe relative subdir-safe renameat2-noreplace)

daemon_start --record "$REC"
if daemon_wait_ready 30; then
	ok "daemon ready (recording to a file)"
else
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi

SPEC=$E2E_WORK/spec.jsonl
all_pids=()
one_round() { # round
	local p pid dir pids=()
	for p in "${PATTERNS[@]}"; do
		dir=$BASE/r$1/$p
		mkdir -p "$dir"
		"$WORKLOAD" "$p" "$dir" >"$E2E_WORK/wl-$p.out" 2>&1 &
		pid=$!
		pids+=("$pid")
		printf '{"label": "live/%s", "pid": %d, "pattern": "%s", "dir": "%s", "fstype": "%s"}\n' \
			"$p" "$pid" "$p" "$dir" "$(findmnt -n -o FSTYPE --target "$BASE")" >>"$SPEC"
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || fail "workload pid $pid ran" "$(cat "$E2E_WORK"/wl-*.out)"
	done
	all_pids+=("${pids[@]}")
}
# Every window closes while the daemon runs, so live and replay see the same verdicts.
mkdir -p "$BASE"
check_findings_rounds one_round "$SPEC" "$REC"
PIDLIST=$(IFS=,; echo "${all_pids[*]}")

if daemon_stop 5 && [ "$DAEMON_RC" = 0 ]; then
	ok "daemon stops on SIGTERM (recording closed)"
else
	fail "daemon stops on SIGTERM" "rc=$DAEMON_RC; $(tail -5 "$DAEMON_ERR")"
fi
if [ -s "$REC" ]; then ok "recording written ($(stat -c %s "$REC") bytes)"; else fail "recording written" "$REC is empty or missing"; fi

python3 "$FINDINGS_PY" filter --out "$DAEMON_OUT" --pids "$PIDLIST" >"$E2E_WORK/live.jsonl"
"$IOHCLI" replay --rules-dir "$RULES_DIR" --json "$REC" >"$E2E_WORK/replay.out" 2>"$E2E_WORK/replay.err"
rc=$?
check "replay exits 0" "rc=$rc: $(head -c 500 "$E2E_WORK/replay.err")" [ "$rc" -eq 0 ]
python3 "$FINDINGS_PY" filter --out "$E2E_WORK/replay.out" --pids "$PIDLIST" >"$E2E_WORK/replay.jsonl"
n_live=$(wc -l <"$E2E_WORK/live.jsonl")
if [ "$n_live" -gt 0 ] && cmp -s "$E2E_WORK/live.jsonl" "$E2E_WORK/replay.jsonl"; then
	ok "replay prints the live findings, every field equal ($n_live findings)"
else
	fail "replay prints the live findings, every field equal" \
		"live $n_live, replay $(wc -l <"$E2E_WORK/replay.jsonl"); diff: $(diff "$E2E_WORK/live.jsonl" "$E2E_WORK/replay.jsonl" | head -c 1200)"
fi
# The whole stream too (other processes' findings included), as a set.
python3 - "$DAEMON_OUT" "$E2E_WORK/replay.out" <<'EOF' || E2E_FAILED=$((E2E_FAILED + 1))
import json, sys
def load(p):
    return sorted(json.dumps(json.loads(l), sort_keys=True) for l in open(p, 'rb') if l.strip())
live, rep = load(sys.argv[1]), load(sys.argv[2])
if live == rep:
    print(f"ok - replay equals the live stream as a whole ({len(live)} findings)")
else:
    only_l = [x for x in live if x not in rep][:2]
    only_r = [x for x in rep if x not in live][:2]
    print(f"not ok - replay equals the live stream as a whole: live {len(live)}, replay {len(rep)};"
          f" only live: {only_l}; only replay: {only_r}"[:1500])
    sys.exit(1)
EOF

# ---- damaged recordings ---------------------------------------------------------------------
size=$(stat -c %s "$REC")
# A clear error: a message on stderr, or with --json an {"error": "..."} object as the last
# stdout line; a non-zero exit that is neither a crash (signal) nor a hang.
damaged() { # name file
	local name=$1 file=$2 rc err
	timeout 20 "$IOHCLI" replay --rules-dir "$RULES_DIR" --json "$file" \
		>"$file.out" 2>"$file.err"
	rc=$?
	err=$(head -c 300 "$file.err" | tr '\n' ' ')
	[ -n "$err" ] || err=$(tail -n 1 "$file.out" | python3 -c 'import json, sys
try:
    print(json.loads(sys.stdin.read()).get("error", ""))
except Exception:
    pass')
	if [ "$rc" -ge 124 ]; then
		fail "replay of a $name recording fails cleanly" "rc=$rc (crash, signal or hang): $err"
	elif [ "$rc" -eq 0 ]; then
		fail "replay of a $name recording fails cleanly" "exit 0; error: $err"
	elif [ -z "$err" ]; then
		fail "replay of a $name recording fails cleanly" "exit $rc but no error message"
	else
		ok "replay of a $name recording fails cleanly (exit $rc: $err)"
	fi
}
head -c $((size / 2)) "$REC" >"$E2E_WORK/truncated.rec"
damaged "truncated (half)" "$E2E_WORK/truncated.rec"
head -c 10 "$REC" >"$E2E_WORK/header-only.rec"
damaged "truncated (10 bytes)" "$E2E_WORK/header-only.rec"
: >"$E2E_WORK/empty.rec"
damaged "empty" "$E2E_WORK/empty.rec"
python3 - "$REC" "$E2E_WORK/corrupt.rec" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
# Flip bytes in the middle of the compressed stream (after any header).
for i in range(len(b) // 2, min(len(b), len(b) // 2 + 64)):
    b[i] ^= 0x5a
open(sys.argv[2], 'wb').write(b)
EOF
damaged "corrupted (bytes flipped mid-stream)" "$E2E_WORK/corrupt.rec"
printf 'not a recording at all\n' >"$E2E_WORK/text.rec"
damaged "foreign (text file)" "$E2E_WORK/text.rec"
damaged "missing (no such file)" "$E2E_WORK/does-not-exist.rec"
e2e_finish
