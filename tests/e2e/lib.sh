# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the end-to-end tests (sourced, bash). Root, real BPF on the running kernel.
#
#   ok NAME / fail NAME DETAILS        TAP-like lines that tests/run-all.sh counts
#   check NAME DETAILS CMD...          ok if CMD succeeds, else not ok with DETAILS
#   e2e_init                           work dir (under the build tree, never /tmp: the default
#                                      rules exclude /tmp/*) and the cleanup trap
#   daemon_start [ARGS...]             iohazardd in $E2E_WORK/d<N>/: stdout -> DAEMON_OUT,
#                                      stderr -> DAEMON_ERR, socket DAEMON_SOCK, pid DAEMON_PID
#   daemon_wait_ready [SECONDS]        `iohazard status --wait-ready`, never a sleep
#   daemon_stop [SECONDS]              SIGTERM to DAEMON_PID only; waits; sets DAEMON_RC
#   daemon_wait_exit SECONDS           for a start that must fail: wait, no signal first
#   mount_fs TYPE                      loop-mount a fresh ext4|xfs|btrfs image at MOUNT_DIR
#                                      (call it directly, not in $(...): the trap must see it)
#   mount_ext4_writeback               mount_fs ext4, mounted data=writeback
#   findings_for PID FILE              that pid's findings from a JSON-lines file
#   ioh CLI-ARGS...                    build/iohazard
#
# The EXIT trap always unmounts what mount_fs mounted, detaches the loop devices it attached
# (by name), stops the daemons daemon_start started (by pid) and removes the work dir, also
# when a test fails or is interrupted. IOH_KEEP=1 keeps the work dir for debugging.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IOH_SRC=${IOH_SRC:-$(cd "$E2E_DIR/../.." && pwd)}
IOH_BUILD=${IOH_BUILD:-$IOH_SRC/build}
IOHD=$IOH_BUILD/iohazardd
IOHCLI=$IOH_BUILD/iohazard
WORKLOAD=$IOH_BUILD/workloads/durability
RULES_DIR=$IOH_SRC/rules
FINDINGS_PY=$E2E_DIR/findings.py

E2E_WORK=
E2E_MOUNTS=()  # mount points, unmounted in reverse order
E2E_LOOPS=()   # loop devices we attached
E2E_DAEMONS=() # daemon pids we started
E2E_FAILED=0
DAEMON_PID=
DAEMON_RC=
_daemon_seq=0

ok() { echo "ok - $1"; }
fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	# One line per result: fold newlines in the details.
	echo "not ok - $1: $(printf '%s' "${2:-}" | tr '\n' ' ' | cut -c1-1500)"
}
check() { # name details cmd...
	local name=$1 details=$2
	shift 2
	if "$@"; then ok "$name"; else fail "$name" "$details"; fi
}
log() { echo "# $*"; }

ioh() { "$IOHCLI" "$@"; }

e2e_cleanup() {
	local rc=$? i pid dev mnt
	trap - EXIT INT TERM
	for pid in "${E2E_DAEMONS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	for ((i = ${#E2E_MOUNTS[@]} - 1; i >= 0; i--)); do
		mnt=${E2E_MOUNTS[i]}
		if mountpoint -q "$mnt"; then
			umount "$mnt" 2>/dev/null || { sleep 0.5; umount "$mnt"; } ||
				umount -l "$mnt" || echo "# cleanup: could not unmount $mnt" >&2
		fi
	done
	for dev in "${E2E_LOOPS[@]}"; do
		losetup "$dev" >/dev/null 2>&1 && { losetup -d "$dev" ||
			echo "# cleanup: could not detach $dev" >&2; }
	done
	if [ -n "$E2E_WORK" ] && [ -d "$E2E_WORK" ]; then
		if [ "${IOH_KEEP:-0}" = 1 ]; then
			echo "# kept $E2E_WORK" >&2
		else
			rm -rf "$E2E_WORK"
		fi
	fi
	exit "$rc"
}

e2e_init() {
	local missing=
	for f in "$IOHD" "$IOHCLI" "$WORKLOAD"; do [ -x "$f" ] || missing="$missing $f"; done
	if [ -n "$missing" ]; then
		fail "e2e prerequisites" "not built:$missing (make all test-bins)"
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		fail "e2e prerequisites" "needs root (BPF, mounts)"
		exit 1
	fi
	# Workloads must run where the shipped rules look: a checkout under /tmp (CI may clone
	# there) would have every finding excluded, so such trees test under /var/lib instead.
	local e2e_root=$IOH_BUILD/e2e
	case $e2e_root in
	/tmp/* | /var/tmp/* | /run/* | /dev/shm/*) e2e_root=/var/lib/iohazard-tests ;;
	esac
	mkdir -p "$e2e_root"
	E2E_WORK=$(mktemp -d "$e2e_root/$(basename "$0" .sh).XXXXXX") || exit 1
	trap e2e_cleanup EXIT
	# Run private copies: a rebuild of build/ during the test (another shell's make) must not
	# swap or remove the binaries under a running test.
	mkdir -p "$E2E_WORK/bin"
	for f in "$IOHD" "$IOHCLI" "$WORKLOAD"; do
		local n
		for n in 1 2 3 4 5; do
			cp "$f" "$E2E_WORK/bin/" && "$E2E_WORK/bin/$(basename "$f")" --help >/dev/null 2>&1
			[ $? -le 2 ] && break
			sleep 1
		done
	done
	IOHD=$E2E_WORK/bin/iohazardd
	IOHCLI=$E2E_WORK/bin/iohazard
	WORKLOAD=$E2E_WORK/bin/durability
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Exit status of the test script: non-zero when anything failed.
e2e_finish() {
	[ "$E2E_FAILED" -eq 0 ]
	exit $?
}

# ---- daemon -------------------------------------------------------------------------------

daemon_start() {
	_daemon_seq=$((_daemon_seq + 1))
	DAEMON_DIR=$E2E_WORK/d$_daemon_seq
	mkdir -p "$DAEMON_DIR"
	DAEMON_SOCK=$DAEMON_DIR/api.sock
	DAEMON_OUT=$DAEMON_DIR/findings.jsonl
	DAEMON_ERR=$DAEMON_DIR/daemon.log
	"$IOHD" --foreground --output=json --rules-dir "$RULES_DIR" --socket "$DAEMON_SOCK" \
		--metrics-listen off "$@" >"$DAEMON_OUT" 2>"$DAEMON_ERR" &
	DAEMON_PID=$!
	E2E_DAEMONS+=("$DAEMON_PID")
}

daemon_wait_ready() { # [seconds]
	"$IOHCLI" --socket "$DAEMON_SOCK" status --wait-ready="${1:-30}" >/dev/null 2>&1 && return 0
	daemon_alive || echo "# daemon pid $DAEMON_PID exited: $(tail -3 "$DAEMON_ERR" | tr '\n' ' ')"
	return 1
}

# SIGTERM to the daemon we started; waits up to SECONDS (default 5). DAEMON_RC is its exit
# status, or "timeout" (it is then killed) / "gone".
daemon_stop() { # [seconds]
	local limit=${1:-5} i
	DAEMON_RC=gone
	[ -n "$DAEMON_PID" ] || return 1
	kill -TERM "$DAEMON_PID" 2>/dev/null || { wait "$DAEMON_PID"; DAEMON_RC=$?; return 1; }
	for ((i = 0; i < limit * 20; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		DAEMON_RC=timeout
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
		return 1
	fi
	wait "$DAEMON_PID"
	DAEMON_RC=$?
	return 0
}

# Wait up to SECONDS for the daemon to exit by itself (a start that must fail); SIGTERM after
# that. DAEMON_RC: its exit status, or "timeout" when it had to be stopped.
daemon_wait_exit() { # seconds
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		daemon_stop 5
		DAEMON_RC=timeout
		return 1
	fi
	wait "$DAEMON_PID"
	DAEMON_RC=$?
}

daemon_alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }

# ---- filesystems --------------------------------------------------------------------------

# mount_fs TYPE: a sparse image in the work dir, mkfs, a loop device of our own, a mount
# point in the work dir. Sets MOUNT_DIR and MOUNT_DEV (the loop device).
mount_fs() {
	local type=$1 img=$E2E_WORK/$1.img mnt=$E2E_WORK/mnt-$1 dev size=400M
	MOUNT_DIR=
	MOUNT_DEV=
	truncate -s "$size" "$img" || return 1
	case $type in
	ext4) mkfs.ext4 -q -F "$img" >/dev/null 2>&1 ;;
	xfs) mkfs.xfs -q -f "$img" >/dev/null 2>&1 ;;
	btrfs) mkfs.btrfs -q -f "$img" >/dev/null 2>&1 ;;
	*) echo "mount_fs: unknown type $type" >&2; return 1 ;;
	esac || { echo "mount_fs: mkfs.$type failed" >&2; return 1; }
	dev=$(losetup --find --show "$img") || return 1
	E2E_LOOPS+=("$dev")
	mkdir -p "$mnt"
	mount -t "$type" "$dev" "$mnt" || return 1
	E2E_MOUNTS+=("$mnt")
	MOUNT_DIR=$mnt
	MOUNT_DEV=$dev
}

# mount_ext4_writeback: mount_fs ext4, then data=writeback (a remount, or a fresh mount where
# the kernel will not change data= on a remount). Sets MOUNT_DIR and MOUNT_DEV.
mount_ext4_writeback() {
	mount_fs ext4 || { echo "mount_ext4_writeback: mkfs/losetup/mount failed" >&2; return 1; }
	mount -o remount,data=writeback "$MOUNT_DIR" 2>/dev/null ||
		{ umount "$MOUNT_DIR" && mount -t ext4 -o data=writeback "$MOUNT_DEV" "$MOUNT_DIR"; } ||
		{ echo "mount_ext4_writeback: cannot mount data=writeback" >&2; return 1; }
	grep -q "data=writeback" /proc/self/mountinfo ||
		{ echo "mount_ext4_writeback: data=writeback not in mountinfo" >&2; return 1; }
}

# ---- findings -----------------------------------------------------------------------------

# CLOCK_MONOTONIC in ns, the clock of the daemon's event timestamps.
mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }

# check_findings_rounds ROUND_FN SPEC RECORD: ROUND_FN N runs the workloads of round N (fresh
# directories) and writes SPEC. Then findings.py check. A sync(2)/syncfs(2) by a foreign
# process during a round makes pending renames durable (the product is right to stay quiet),
# so such a round is inconclusive and runs again, up to 3 rounds. The daemon must run with
# --record RECORD.
check_findings_rounds() {
	local fn=$1 spec=$2 rec=$3 round since rc retry
	for round in 1 2 3; do
		since=$(mono_ns)
		: >"$spec"
		"$fn" "$round"
		retry=--retryable
		[ "$round" -eq 3 ] && retry=
		python3 "$FINDINGS_PY" check --out "$DAEMON_OUT" --spec "$spec" --window 5 --extra 3 \
			--record "$rec" --cli "$IOHCLI" --since-ns "$since" $retry
		rc=$?
		if [ "$rc" -eq 75 ]; then
			log "round $round inconclusive (a foreign process synced); running it again"
			continue
		fi
		[ "$rc" -ne 0 ] && E2E_FAILED=$((E2E_FAILED + 1))
		return "$rc"
	done
}

# findings_for PID FILE: that pid's findings, one JSON object per line.
findings_for() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
pid, path = int(sys.argv[1]), sys.argv[2]
with open(path, 'rb') as f:
    for line in f:
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict) and o.get('pid') == pid:
            print(json.dumps(o, sort_keys=True))
EOF
}
