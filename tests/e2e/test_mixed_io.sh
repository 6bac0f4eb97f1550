#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Mixed O_DIRECT and page-cache access end to end (rule mixed-direct-buffered, seed case 2):
# tests/e2e/workloads/mixed_io.c and real tools (dd oflag=direct, cat) on the root filesystem
# (a directory in the build tree), ext4, xfs and btrfs loop mounts, under one daemon. Every case
# uses its own file; the findings for that file's path and for each workload pid must be
# exactly the expected ones (severity, order, both sides' pids/comms/access kinds, path, fstype,
# dev, ino, message), and the safe pairs (two O_DIRECT users, two buffered users) get none,
# not even the lower "opened both ways" finding at the end of the rule's window.
#
# Each workload runs under its own comm (a symlink named after its role), so the test sees
# which side is named where. Writers linger after their I/O, so the other side's comm is still
# readable from /proc when the finding is made.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

MIXED_SRC=$IOH_BUILD/workloads/mixed_io
if [ ! -x "$MIXED_SRC" ]; then
	fail "e2e prerequisites" "$MIXED_SRC not built (make test-bins)"
	exit 1
fi
cp "$MIXED_SRC" "$E2E_WORK/bin/mixed_io"
for role in dwriter dreader bwriter breader mmapper sameproc udwriter ubreader ufixed; do
	ln -sf mixed_io "$E2E_WORK/bin/mx-$role"
done
# "${MX}ROLE" args...: called directly, never through a function, so $! is the workload's pid.
MX=$E2E_WORK/bin/mx-

declare -A FS_DIR
FS_LIST=(root)
FS_DIR[root]=$E2E_WORK/rootfs
mkdir -p "${FS_DIR[root]}"
for fs in ext4 xfs btrfs; do
	if mount_fs "$fs"; then
		FS_DIR[$fs]=$MOUNT_DIR
		FS_LIST+=("$fs")
		ok "mount $fs loop image ($MOUNT_DEV)"
	else
		fail "mount $fs loop image" "see the log above"
	fi
done

daemon_start
if daemon_wait_ready 30; then
	ok "daemon ready"
else
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	exit 1
fi
grep -q 'direct_io=tp_btf\|direct_io=raw_tp\|direct_io=fentry\|direct_io=kprobe' "$DAEMON_ERR" ||
	log "daemon log does not show a direct_io hook: $(grep -m1 Ready "$DAEMON_ERR")"

SPEC=$E2E_WORK/spec.jsonl
: >"$SPEC"
BG=() # workload pids to wait for

# [SPEC_ID="INO MAJ:MIN"] spec LABEL FILE KIND FINDING_PID DIRECT_PID DIRECT_COMM DIRECT_ACCESS BUFFERED_PID
#      BUFFERED_COMM BUFFERED_ACCESS PIDS...
# KIND: none | dw-br (direct write, then buffered read) | bw-dr (buffered write, then direct
# read) | both (opened both ways, no hazardous order confirmed: the lower finding). PIDS: every
# pid of the case (none of them may have another finding for this rule).
spec() {
	python3 - "$@" >>"$SPEC" <<'EOF'
import json, os, sys
a = sys.argv[1:]
s = {"label": a[0], "file": a[1], "kind": a[2], "pid": int(a[3]),
     "direct_pid": int(a[4]), "direct_comm": a[5], "direct_access": a[6],
     "buffered_pid": int(a[7]), "buffered_comm": a[8], "buffered_access": a[9],
     "pids": [int(p) for p in a[10:]]}
if os.environ.get("SPEC_ID"):  # the file is deleted before the check
    s["ino"], s["dev"] = os.environ["SPEC_ID"].split()
    s["ino"] = int(s["ino"])
print(json.dumps(s))
EOF
}

# Does this kernel's btrfs write O_DIRECT through the page cache for files with data checksums
# (since 6.15 it does: writes back and invalidates at once, so no stale cache can result)? One
# O_DIRECT write, watched through iomap_dio_rw_begin in a private tracefs instance, matched by
# the file's inode number. Prints "yes", "no", or "unknown" when tracefs cannot tell.
btrfs_datasum_dio_buffered() { # dir
	local tr=/sys/kernel/tracing mounted_here= inst ino answer=unknown
	if ! mountpoint -q "$tr"; then
		mount -t tracefs nodev "$tr" 2>/dev/null && mounted_here=1
	fi
	inst=$tr/instances/iohazard-e2e-$$
	if mkdir "$inst" 2>/dev/null; then
		# Created by an O_DIRECT writer too: no buffered open, no finding for the probe.
		"$E2E_WORK/bin/mixed_io" direct-writer "$1/probe" 0 >/dev/null
		ino=$(printf '0x%x' "$(stat -c %i "$1/probe")")
		if echo 1 >"$inst/events/iomap/iomap_dio_rw_begin/enable"; then
			"$E2E_WORK/bin/mixed_io" direct-writer "$1/probe" 0 >/dev/null
			echo 0 >"$inst/events/iomap/iomap_dio_rw_begin/enable"
			if grep -q "ino $ino " "$inst/trace"; then answer=no; else answer=yes; fi
		fi
		rmdir "$inst"
		rm -f "$1/probe"
	fi
	[ -n "$mounted_here" ] && umount "$tr"
	echo "$answer"
}

# One filesystem's cases, all at once (distinct files and pids). Every reader starts 0.6 s
# after its writer so the order is unambiguous.
run_cases() { # fs
	local fs=$1 d p1 p2 p3 ds
	d=${FS_DIR[$fs]}/cases
	mkdir -p "$d"
	if [ "$fs" = btrfs ]; then
		# No data checksums (chattr +C, inherited by new files): O_DIRECT stays direct, the
		# same cases as on the other filesystems apply. The default is one case below.
		chattr +C "$d" || fail "btrfs: chattr +C $d" "chattr failed"
		ds=${FS_DIR[$fs]}/datasum
		mkdir -p "$ds"
		case $(btrfs_datasum_dio_buffered "$ds") in
		yes)
			# Writes are coherent with the cache: only the lower "opened both ways".
			"${MX}dwriter" direct-writer "$ds/dw-br" 2.5 4 >/dev/null & p1=$!
			sleep 0.6
			"${MX}breader" buffered-reader "$ds/dw-br" 1 >/dev/null & p2=$!
			spec "btrfs/data checksums: O_DIRECT writes go through the page cache" \
				"$ds/dw-br" both "$p2" "$p1" mx-dwriter "O_DIRECT open" "$p2" mx-breader \
				"buffered open" "$p1" "$p2"
			BG+=("$p1" "$p2")
			;;
		no) log "btrfs writes O_DIRECT directly with data checksums on this kernel" ;;
		*) fail "btrfs: probe O_DIRECT with data checksums" "tracefs instance unavailable" ;;
		esac
	fi

	# A direct writer running while a buffered reader reads.
	"${MX}dwriter" direct-writer "$d/dw-br" 2.5 4 >/dev/null & p1=$!
	sleep 0.6
	"${MX}breader" buffered-reader "$d/dw-br" 1 >/dev/null & p2=$!
	spec "$fs/direct writer + buffered reader" "$d/dw-br" dw-br "$p2" "$p1" mx-dwriter \
		"direct write" "$p2" mx-breader "buffered read" "$p1" "$p2"
	BG+=("$p1" "$p2")

	# The reverse: a buffered writer leaves dirty pages, then a direct reader.
	"${MX}bwriter" buffered-writer "$d/bw-dr" 1 4 >/dev/null & p1=$!
	sleep 1.2
	"${MX}dreader" direct-reader "$d/bw-dr" 1 >/dev/null & p2=$!
	spec "$fs/buffered writer, then direct reader" "$d/bw-dr" bw-dr "$p2" "$p2" mx-dreader \
		"direct read" "$p1" mx-bwriter "buffered write" "$p1" "$p2"
	BG+=("$p1" "$p2")

	# An mmap reader after direct writes (confirmed by mapping faults: no read syscall).
	"${MX}dwriter" direct-writer "$d/dw-mmap" 2.5 4 >/dev/null & p1=$!
	sleep 0.6
	"${MX}mmapper" mmap-reader "$d/dw-mmap" 1 >/dev/null & p2=$!
	spec "$fs/direct writer + mmap reader" "$d/dw-mmap" dw-br "$p2" "$p1" mx-dwriter \
		"direct write" "$p2" mx-mmapper mmap "$p1" "$p2"
	BG+=("$p1" "$p2")

	# One process, two fds: O_DIRECT writes, buffered reads.
	"${MX}sameproc" same-process "$d/same" 1.5 >/dev/null & p1=$!
	spec "$fs/same process, two fds" "$d/same" dw-br "$p1" "$p1" mx-sameproc "direct write" \
		"$p1" mx-sameproc "buffered read" "$p1"
	BG+=("$p1")

	# io_uring on both sides: direct writes and buffered reads submitted through a ring (no
	# read/write syscalls; the reads are seen at io_uring_submit_req).
	"${MX}udwriter" uring-direct-writer "$d/uring" 2.5 4 >/dev/null & p1=$!
	sleep 0.6
	"${MX}ubreader" uring-buffered-reader "$d/uring" 1 >/dev/null & p2=$!
	spec "$fs/io_uring direct writer + io_uring buffered reader" "$d/uring" dw-br "$p2" "$p1" \
		mx-udwriter "direct write" "$p2" mx-ubreader "buffered read" "$p1" "$p2"
	BG+=("$p1" "$p2")

	# A registered file: the request carries a table index, not an fd.
	"${MX}dwriter" direct-writer "$d/uring-fixed" 2.5 4 >/dev/null & p1=$!
	sleep 0.6
	"${MX}ufixed" uring-fixed-reader "$d/uring-fixed" 1 >/dev/null & p2=$!
	spec "$fs/direct writer + io_uring reader of a registered file" "$d/uring-fixed" dw-br \
		"$p2" "$p1" mx-dwriter "direct write" "$p2" mx-ufixed "buffered read" "$p1" "$p2"
	BG+=("$p1" "$p2")

	# Files used both ways one after the other, each deleted before the next: a new inode
	# often reuses the freed one's memory, and its episode must not be mistaken for the old.
	if [ "$fs" = root ]; then
		for i in 1 2 3 4; do
			"${MX}sameproc" same-process "$d/reuse$i" 0.3 >/dev/null & p1=$!
			wait "$p1" || fail "workload pid $p1" "exited with $?"
			SPEC_ID=$(stat -c '%i %Hd:%Ld' "$d/reuse$i") spec "$fs/file $i of 4 deleted after use" \
				"$d/reuse$i" dw-br "$p1" "$p1" mx-sameproc "direct write" "$p1" mx-sameproc \
				"buffered read" "$p1"
			rm "$d/reuse$i"
		done
	fi

	# One side closed before the other opens: not "at once", and nothing can be stale (the
	# direct writes are complete, the clean cached pages are invalidated by the next direct
	# write). A direct writer, then a buffered reader, then a direct writer again, each
	# closing its file before the next starts.
	"${MX}dwriter" direct-writer "$d/closed" 0.3 >/dev/null & p1=$!
	wait "$p1" || fail "workload pid $p1" "exited with $?"
	"${MX}breader" buffered-reader "$d/closed" 0.3 >/dev/null & p2=$!
	wait "$p2" || fail "workload pid $p2" "exited with $?"
	"${MX}dwriter" direct-writer "$d/closed" 0.3 >/dev/null & p3=$!
	wait "$p3" || fail "workload pid $p3" "exited with $?"
	spec "$fs/each side closed before the other opens" "$d/closed" none 0 0 - - 0 - - \
		"$p1" "$p2" "$p3"

	# Safe pairs: both O_DIRECT, both buffered.
	"${MX}dwriter" direct-writer "$d/dw-dr" 2 >/dev/null & p1=$!
	sleep 0.6
	"${MX}dreader" direct-reader "$d/dw-dr" 1 >/dev/null & p2=$!
	spec "$fs/two O_DIRECT processes" "$d/dw-dr" none 0 0 - - 0 - - "$p1" "$p2"
	BG+=("$p1" "$p2")
	"${MX}bwriter" buffered-writer "$d/bw-br" 2 >/dev/null & p1=$!
	sleep 0.6
	"${MX}breader" buffered-reader "$d/bw-br" 1 >/dev/null & p2=$!
	spec "$fs/two buffered processes" "$d/bw-br" none 0 0 - - 0 - - "$p1" "$p2"
	BG+=("$p1" "$p2")

	# Precision (issue 14, cause 4): a file created through the page cache and given its size
	# with ftruncate (no data written), closed, then used only through O_DIRECT (how MariaDB
	# makes ib_logfile0). No page was ever written into the cache: nothing to report, not
	# "buffered write, then direct read" and not "opened both ways" either.
	truncate -s 1M "$d/created-buffered" & p1=$!
	wait "$p1" || fail "truncate $d/created-buffered" "exited with $?"
	"${MX}dwriter" direct-writer "$d/created-buffered" 1.5 >/dev/null & p2=$!
	sleep 0.6
	"${MX}dreader" direct-reader "$d/created-buffered" 0.5 >/dev/null & p3=$!
	spec "$fs/created buffered + ftruncate, then O_DIRECT only" "$d/created-buffered" none 0 0 - \
		- 0 - - "$p1" "$p2" "$p3"
	BG+=("$p2" "$p3")

	# The seed's backup case: cp copies a file while a direct writer works on it. cp reads
	# through copy_file_range (the page cache, filemap_splice_read), so it is the buffered
	# reader and must be named. Root and ext4 only: xfs and btrfs clone the file (FICLONE)
	# without reading it. 64 MiB of data (written and fsynced first, so its writer leaves no
	# buffered side) keep cp reading well after the read-side hook is attached on demand.
	if [ "$fs" = root ] || [ "$fs" = ext4 ]; then
		dd if=/dev/urandom of="$d/backup" bs=1M count=64 conv=fsync status=none ||
			fail "$fs: prepare $d/backup" "dd failed"
		"${MX}dwriter" direct-writer "$d/backup" 2.5 4 >/dev/null & p1=$!
		sleep 0.6
		cp "$d/backup" "$d/backup.copy" & p2=$!
		wait "$p2" || fail "cp $d/backup" "exited with $?"
		spec "$fs/cp (copy_file_range) while a direct writer writes" "$d/backup" dw-br "$p2" \
			"$p1" mx-dwriter "direct write" "$p2" cp "buffered read" "$p1" "$p2"
		BG+=("$p1")
	fi

	# Real tools: dd oflag=direct fed slowly (stays alive ~2 s), cat reads meanwhile.
	(for _ in $(seq 20); do head -c 4096 /dev/zero; sleep 0.1; done) |
		dd of="$d/dd-cat" bs=4096 iflag=fullblock oflag=direct status=none & p1=$!
	sleep 0.6
	cat "$d/dd-cat" >/dev/null & p3=$!
	wait "$p3"
	# $! of a pipeline is its last command: dd.
	spec "$fs/dd oflag=direct + cat" "$d/dd-cat" dw-br "$p3" "$p1" dd "direct write" "$p3" \
		cat "buffered read" "$p1" "$p3"
	BG+=("$p1")
}

t0=$(date +%s)
for fs in "${FS_LIST[@]}"; do
	run_cases "$fs"
done
for p in "${BG[@]}"; do
	wait "$p" || fail "workload pid $p" "exited with $?"
done
# A short buffered reader that finishes before the read-side hook is attached (it is attached
# on demand, when the daemon sees the inode become watched): its close(2) orders it. Made
# deterministic by stopping the daemon, so nothing can be attached meanwhile; the records wait
# in the ring buffer.
d=${FS_DIR[root]}/cases
sleep 1 # the daemon has made the findings above (it names their sides from /proc)
kill -STOP "$DAEMON_PID"
"${MX}dwriter" direct-writer "$d/short-reader" 1 3 >/dev/null & p1=$!
sleep 0.5
cat "$d/short-reader" >/dev/null & p2=$!
wait "$p2" || fail "cat $d/short-reader" "exited with $?"
kill -CONT "$DAEMON_PID"
spec "root/cat done before the read side is attached (daemon stopped)" "$d/short-reader" dw-br \
	"$p2" "$p1" mx-dwriter "direct write" "$p2" cat "buffered read" "$p1" "$p2"
wait "$p1" || fail "workload pid $p1" "exited with $?"

# A BOTH_OPEN that no order confirms becomes a finding when the rule's window (5 s) closes:
# wait past it so "no finding" also covers that lower finding.
sleep 6
log "workloads took $(($(date +%s) - t0)) s"

python3 - "$DAEMON_OUT" "$SPEC" <<'EOF' || E2E_FAILED=$((E2E_FAILED + 1))
import json, os, re, sys

out, spec = sys.argv[1:3]
findings = []
for line in open(out, "rb"):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if isinstance(o, dict) and o.get("rule") == "mixed-direct-buffered":
        findings.append(o)

def ok(name):
    print("ok - %s" % name)

failed = 0
def fail(name, details):
    global failed
    failed += 1
    print("not ok - %s: %s" % (name, str(details).replace("\n", " ")[:1500]))

def fstype_of(path):
    best, fstype = "", None
    for line in open("/proc/self/mounts"):
        dev, mnt, fs = line.split()[:3]
        mnt = mnt.replace("\\040", " ")
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, fstype = mnt, fs
    return fstype

ORDER = {"dw-br": "direct write, then buffered read", "bw-dr": "buffered write, then direct read",
         "both": "opened both ways"}
for line in open(spec):
    s = json.loads(line)
    label, path = s["label"], s["file"]
    by_path = [f for f in findings if f.get("path") == path]
    by_pid = [f for f in findings if f.get("pid") in s["pids"]]
    if s["kind"] == "none":
        if by_path or by_pid:
            fail(label + ": no finding", by_path + by_pid)
        else:
            ok(label + ": no finding")
        continue
    if len(by_path) != 1 or len(by_pid) != 1:
        fail(label + ": exactly one finding", "for the path: %r; for the pids: %r"
             % (by_path, by_pid))
        continue
    f = by_path[0]
    ev = f.get("evidence", {})
    if "ino" in s:
        ino, dev = s["ino"], s["dev"]
    else:
        st = os.stat(path)
        ino, dev = st.st_ino, "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))
    want = {
        "severity": "warning" if s["kind"] == "both" else "critical", "pid": s["pid"],
        "comm": s["direct_comm"] if s["kind"] == "bw-dr" else s["buffered_comm"],
        "path": path, "fstype": fstype_of(path), "ino": ino, "dev": dev,
    }
    if s["kind"] != "both":
        want["confidence"] = "high"
    want_ev = {
        "order": ORDER[s["kind"]],
        "direct_pid": s["direct_pid"], "direct_comm": s["direct_comm"],
        "direct_access": s["direct_access"],
        "buffered_pid": s["buffered_pid"], "buffered_comm": s["buffered_comm"],
        "buffered_access": s["buffered_access"],
    }
    bad = ["%s=%r (want %r)" % (k, f.get(k), v) for k, v in want.items() if f.get(k) != v]
    bad += ["evidence.%s=%r (want %r)" % (k, ev.get(k), v) for k, v in want_ev.items()
            if ev.get(k) != v]
    if not isinstance(ev.get("gap"), (int, float)) or ev["gap"] < 0 or ev["gap"] > 10:
        bad.append("evidence.gap=%r" % ev.get("gap"))
    if s["kind"] == "both":
        rx = (r"used with O_DIRECT by %s \(pid %d\) and through the page cache by %s \(pid %d\)"
              % (re.escape(s["direct_comm"]), s["direct_pid"],
                 re.escape(s["buffered_comm"]), s["buffered_pid"]))
    elif s["kind"] == "dw-br":
        rx = (r"%s \(pid %d\) read through the page cache [0-9.e+-]+s after %s \(pid %d\) "
              r"wrote it with O_DIRECT: the read may return stale cached data$"
              % (re.escape(s["buffered_comm"]), s["buffered_pid"],
                 re.escape(s["direct_comm"]), s["direct_pid"]))
    else:
        rx = (r"%s \(pid %d\) read with O_DIRECT [0-9.e+-]+s after %s \(pid %d\) wrote "
              r"through the page cache: the direct read can miss the dirty cached data$"
              % (re.escape(s["direct_comm"]), s["direct_pid"],
                 re.escape(s["buffered_comm"]), s["buffered_pid"]))
    if not re.match(rx, f.get("message", "")):
        bad.append("message=%r" % f.get("message"))
    if bad:
        fail(label + ": %s '%s'" % (want["severity"], ORDER[s["kind"]]), "; ".join(bad))
    else:
        ok(label + ": %s '%s', both sides named" % (want["severity"], ORDER[s["kind"]]))
sys.exit(1 if failed else 0)
EOF

daemon_stop 10
check "daemon exits cleanly" "exit status $DAEMON_RC; $(tail -3 "$DAEMON_ERR")" \
	test "$DAEMON_RC" = 0
e2e_finish
