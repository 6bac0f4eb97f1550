#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Rename durability end to end: every pattern of tests/e2e/workloads/durability.c on the root
# filesystem (a directory in the build tree), and on ext4, xfs and btrfs loop mounts (and a btrfs
# subvolume), under one
# daemon. Each workload pid must get exactly the expected findings (rule, severity, comm, full
# path, fstype, dev, ino, evidence) and the safe patterns none at all.
#
# Patterns that sync whole filesystems (safe-syncfs, safe-sync) run first and on their own:
# a sync() would otherwise make the concurrent unsafe renames durable.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

PHASE_A=(safe-syncfs safe-sync)
PHASE_B=(unsafe fsync-file-only safe safe-fdatasync-dir late-dir-fsync relative relative-safe
	renameat renameat-safe renameat2-noreplace renameat2-noreplace-safe subdir subdir-safe
	# Precision (issue 14): metadata after fsync, O_DSYNC/RWF_DSYNC, inode reuse, ftruncate.
	meta-after-fsync meta-after-fsync-safe dsync-safe rwf-dsync-safe reuse-safe ftruncate-safe)

declare -A FS_DIR
FS_LIST=(root)
FS_DIR[root]=$E2E_WORK/rootfs
mkdir -p "${FS_DIR[root]}"
for fs in ext4 xfs btrfs; do
	if mount_fs "$fs"; then
		FS_DIR[$fs]=$MOUNT_DIR
		FS_LIST+=("$fs")
		ok "mount $fs loop image ($MOUNT_DEV)"
		if [ "$fs" = btrfs ]; then
			# A subvolume has its own st_dev, unlike the superblock's s_dev the kernel
			# side sees: dev numbers must still match up.
			# Inode numbers restart in every subvolume: start this one's 1000 higher so the
			# matrix below never has two directories with the same number (the targeted
			# check after it covers that case).
			if btrfs -q subvolume create "$MOUNT_DIR/subvol" >/dev/null &&
				python3 -c 'import os, sys
d = os.path.join(sys.argv[1], "pad"); os.mkdir(d)
for i in range(1000): os.close(os.open(os.path.join(d, str(i)), os.O_CREAT | os.O_WRONLY))' \
					"$MOUNT_DIR/subvol"; then
				FS_DIR[btrfs-subvol]=$MOUNT_DIR/subvol
				FS_LIST+=(btrfs-subvol)
				ok "btrfs subvolume created"
			else
				fail "btrfs subvolume created" "btrfs subvolume create failed"
			fi
		fi
	else
		fail "mount $fs loop image" "see the log above"
	fi
done

REC=$E2E_WORK/events.rec
daemon_start --record "$REC"
if daemon_wait_ready 30; then
	ok "daemon ready"
else
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi

SPEC=$E2E_WORK/spec.jsonl
PIDS=()
declare -A LABEL

run_pattern() { # round fs pattern
	local fs=$2 pattern=$3 dir fstype
	dir=${FS_DIR[$fs]}/r$1/$pattern
	mkdir -p "$dir"
	fstype=$(findmnt -n -o FSTYPE --target "$dir")
	"$WORKLOAD" "$pattern" "$dir" >"$E2E_WORK/wl-$fs-$pattern.out" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	LABEL[$pid]="$fs/$pattern"
	printf '{"label": "%s/%s", "pid": %d, "pattern": "%s", "dir": "%s", "fstype": "%s"}\n' \
		"$fs" "$pattern" "$pid" "$pattern" "$dir" "$fstype" >>"$SPEC"
}

wait_workloads() {
	local pid rc
	for pid in "${PIDS[@]}"; do
		wait "$pid"
		rc=$?
		if [ "$rc" -ne 0 ]; then
			fail "workload ${LABEL[$pid]} ran" "exit $rc: $(cat "$E2E_WORK/wl-${LABEL[$pid]//\//-}.out")"
		fi
	done
	PIDS=()
}

one_round() { # round
	local start=$SECONDS fs p pid
	for fs in "${FS_LIST[@]}"; do
		for p in "${PHASE_A[@]}"; do run_pattern "$1" "$fs" "$p"; done
	done
	wait_workloads

	# btrfs: a rename into the top-level subvolume's root directory (inode 256), then an
	# fsync of the subvolume's root directory, which is inode 256 too but another directory.
	# The rename is still not durable: exactly one rename-without-dir-fsync is expected.
	if [ -n "${FS_DIR[btrfs-subvol]:-}" ]; then
		"$WORKLOAD" fsync-file-only "${FS_DIR[btrfs]}" >"$E2E_WORK/wl-btrfs-same-ino.out" 2>&1 &
		pid=$!
		if wait "$pid"; then
			python3 -c 'import os, sys; os.fsync(os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY))' \
				"${FS_DIR[btrfs-subvol]}"
			printf '{"label": "%s", "pid": %d, "pattern": "fsync-file-only", "dir": "%s", "fstype": "btrfs"}\n' \
				"btrfs/fsync of another subvolume's dir with the same inode number" "$pid" \
				"${FS_DIR[btrfs]}" >>"$SPEC"
		else
			fail "workload btrfs same-ino ran" "$(cat "$E2E_WORK/wl-btrfs-same-ino.out")"
		fi
	fi

	for fs in "${FS_LIST[@]}"; do
		for p in "${PHASE_B[@]}"; do run_pattern "$1" "$fs" "$p"; done
	done
	wait_workloads
	log "round $1: workloads took $((SECONDS - start))s"
}

check_findings_rounds one_round "$SPEC" "$REC"

if daemon_alive; then ok "daemon still running"; else fail "daemon still running" "$(tail -5 "$DAEMON_ERR")"; fi
python3 "$FINDINGS_PY" lines --out "$DAEMON_OUT" --label "daemon stdout" || E2E_FAILED=$((E2E_FAILED + 1))
if daemon_stop 5 && [ "$DAEMON_RC" = 0 ]; then
	ok "daemon stops on SIGTERM"
else
	fail "daemon stops on SIGTERM" "rc=$DAEMON_RC"
fi
e2e_finish
