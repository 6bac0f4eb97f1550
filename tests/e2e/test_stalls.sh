#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# splice-stall and dirty-throttle-stall against the real daemon:
#  - splice into a pipe nobody drains for 600 ms -> finding naming the file and a full pipe;
#  - sendfile to a slow TCP reader -> finding naming the socket;
#  - a fast splice -> none;
#  - vm.dirty_bytes / vm.dirty_background_bytes lowered for the test only (restored by the
#    EXIT trap, also on failure), a fast writer -> dirty-throttle-stall with plausible figures.
. "$(dirname "$0")/lib.sh"
e2e_init
STALLS=$IOH_BUILD/workloads/stalls
cp "$STALLS" "$E2E_WORK/bin/" && STALLS=$E2E_WORK/bin/stalls

old_dirty=$(cat /proc/sys/vm/dirty_bytes)
old_dirty_ratio=$(cat /proc/sys/vm/dirty_ratio)
old_bg=$(cat /proc/sys/vm/dirty_background_bytes)
old_bg_ratio=$(cat /proc/sys/vm/dirty_background_ratio)
restore_sysctls() {
	# Writing a *_ratio resets the matching *_bytes to 0 and the other way round: restore
	# whichever was in force.
	if [ "$old_dirty" != 0 ]; then echo "$old_dirty" >/proc/sys/vm/dirty_bytes
	else echo "$old_dirty_ratio" >/proc/sys/vm/dirty_ratio; fi
	if [ "$old_bg" != 0 ]; then echo "$old_bg" >/proc/sys/vm/dirty_background_bytes
	else echo "$old_bg_ratio" >/proc/sys/vm/dirty_background_ratio; fi
}
trap 'restore_sysctls; e2e_cleanup' EXIT

# A lower throttle threshold than the default so the test does not depend on the disk's speed.
mkdir -p "$E2E_WORK/rules"
sed 's/^threshold = 50ms/threshold = 20ms/' "$RULES_DIR/10-default.rules" >"$E2E_WORK/rules/10-default.rules"
daemon_start --output=json --rules-dir "$E2E_WORK/rules"
daemon_wait_ready 30 || { fail "daemon ready" "$(cat "$DAEMON_ERR")"; e2e_finish; }

head -c 2M /dev/urandom >"$E2E_WORK/src"
wait_pid_rule() { # pid rule seconds
	local i
	for i in $(seq $(($3 * 10))); do
		findings_for "$1" "$DAEMON_OUT" | grep -q "\"rule\": \"$2\"" && return 0
		sleep 0.1
	done
	return 1
}

pid=$("$STALLS" splice-pipe "$E2E_WORK/src" 600 | sed -n 's/^pid //p')
if wait_pid_rule "$pid" splice-stall 5; then
	f=$(findings_for "$pid" "$DAEMON_OUT" | grep splice-stall | head -1)
	python3 - "$f" "$E2E_WORK/src" <<'PY' && ok "splice into an undrained pipe: file path, pipe size, pipe full" || fail "splice finding fields" "$f"
import json, sys
o = json.loads(sys.argv[1]); e = o['evidence']
assert o['path'] == sys.argv[2], o['path']
assert e['call'] == 'splice' and e['other_end'] == 'pipe' and e['pipe_bytes'] == 65536, e
assert e['pipe_full'] is True and 0.5 <= e['duration'] < 5, e
assert 'F_SETPIPE_SZ' in o['fix']
PY
else
	fail "splice into an undrained pipe -> splice-stall" "$(tail -3 "$DAEMON_OUT")"
fi

pid=$("$STALLS" splice-fast "$E2E_WORK/src" | sed -n 's/^pid //p' | head -1)
sleep 1
n=$(findings_for "$pid" "$DAEMON_OUT" | grep -c splice-stall)
check "fast splice -> no splice-stall (got $n)" "" [ "$n" -eq 0 ]

head -c 1M /dev/urandom >"$E2E_WORK/src1m"
pid=$("$STALLS" sendfile-slow "$E2E_WORK/src1m" | sed -n 's/^pid //p')
if wait_pid_rule "$pid" splice-stall 10; then
	f=$(findings_for "$pid" "$DAEMON_OUT" | grep splice-stall | head -1)
	python3 - "$f" <<'PY' && ok "sendfile to a slow reader: socket on the other end" || fail "sendfile finding fields" "$f"
import json, sys
o = json.loads(sys.argv[1]); e = o['evidence']
assert e['call'] == 'sendfile' and e['other_end'] == 'socket' and e['file_end'] == 'in', e
assert e['duration'] >= 0.1, e
PY
else
	fail "sendfile to a slow reader -> splice-stall" "$(tail -3 "$DAEMON_OUT")"
fi

# Dirty throttling: a tiny dirty limit and a writer much faster than the limit allows.
echo $((4 << 20)) >/proc/sys/vm/dirty_bytes
echo $((1 << 20)) >/proc/sys/vm/dirty_background_bytes
pid=$("$STALLS" write-burst "$E2E_WORK/burst" 256 | sed -n 's/^pid //p')
restore_sysctls
rm -f "$E2E_WORK/burst"
if wait_pid_rule "$pid" dirty-throttle-stall 5; then
	f=$(findings_for "$pid" "$DAEMON_OUT" | grep dirty-throttle-stall | head -1)
	python3 - "$f" <<'PY' && ok "dirty-throttle-stall with plausible figures" || fail "throttle finding fields" "$f"
import json, sys
o = json.loads(sys.argv[1]); e = o['evidence']
assert o['comm'] == 'stalls' and e['bdi'], o
assert 0.02 <= e['pause'] + e['paused_before'] <= 5, e
assert 0 < e['limit_pages'] <= 4096, e  # 4 MiB of 4 KiB pages
assert e['dirty_pages'] > 0 and e['pattern'], e
PY
else
	fail "fast writer under a 4 MiB dirty limit -> dirty-throttle-stall" "$(tail -3 "$DAEMON_OUT")"
fi
st=$(ioh --socket "$DAEMON_SOCK" status --json)
python3 - "$st" <<'PY' && ok "status: dirty_throttle histograms, splice_duration, splice_stalls, hooks" || fail "status sections" "$st"
import json, sys
d = json.loads(sys.argv[1]); s = d.get('status', d)
assert s['dirty_throttle'] and all(v['count'] > 0 for v in s['dirty_throttle'].values()), s['dirty_throttle']
assert s['splice_duration']['count'] > 0 and s['splice_stalls'], s
for h in ('dirty_throttle', 'writeback_wait', 'truncate'):
    assert s['hooks'][h]['attached'], s['hooks']
PY
daemon_stop
e2e_finish
