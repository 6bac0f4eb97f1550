#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# writeback-mount and writeback-truncate-unsynced against the real daemon: an ext4 image
# loop-mounted data=writeback gives one mount finding (not one per rescan); a file truncated
# (O_TRUNC, ftruncate) and rewritten without fsync gives a file finding; with fsync, none;
# through a bind mount of a subdirectory, the finding has the path the program used.
# The lib.sh trap unmounts and detaches the loop device, also on failure.
. "$(dirname "$0")/lib.sh"
e2e_init
STALLS=$IOH_BUILD/workloads/stalls
cp "$STALLS" "$E2E_WORK/bin/" && STALLS=$E2E_WORK/bin/stalls

daemon_start --output=json
daemon_wait_ready 30 || { fail "daemon ready" "$(cat "$DAEMON_ERR")"; e2e_finish; }

mount_ext4_writeback 2>"$E2E_WORK/mount.err" ||
	{ fail "data=writeback mount" "$(cat "$E2E_WORK/mount.err")"; e2e_finish; }

count_rule() { # rule [path]
	python3 - "$DAEMON_OUT" "$1" "${2:-}" <<'PY'
import json, sys
out, rule, path = sys.argv[1:4]
n = 0
for line in open(out, 'rb'):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get('rule') == rule and (not path or o.get('path') == path):
        n += 1
print(n)
PY
}
wait_rule() { # rule path want seconds
	local i
	for i in $(seq $(($4 * 10))); do
		[ "$(count_rule "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

check "writeback-mount reported for $MOUNT_DIR" "$(tail -3 "$DAEMON_OUT")" \
	wait_rule writeback-mount "$MOUNT_DIR" 1 10
# A rescan (another mount table change) must not report it again.
mkdir -p "$E2E_WORK/tmpfs" && mount -t tmpfs none "$E2E_WORK/tmpfs" && E2E_MOUNTS+=("$E2E_WORK/tmpfs")
umount "$E2E_WORK/tmpfs"
sleep 1
n=$(count_rule writeback-mount "$MOUNT_DIR")
check "writeback-mount reported once (got $n)" "" [ "$n" -eq 1 ]
python3 - "$DAEMON_OUT" "$MOUNT_DIR" <<'PY' && ok "writeback-mount finding has pid 0, empty comm, options" || fail "writeback-mount fields" "$(grep writeback-mount "$DAEMON_OUT")"
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get('rule') == 'writeback-mount' and o.get('path') == sys.argv[2]:
        assert o['pid'] == 0 and o['comm'] == '' and o['fstype'] == 'ext4', o
        assert 'data=writeback' in o['evidence']['options'], o
        sys.exit(0)
sys.exit(1)
PY

"$STALLS" truncate-rewrite "$MOUNT_DIR/unsynced" 0 >/dev/null
"$STALLS" ftruncate-rewrite "$MOUNT_DIR/unsynced-ftruncate" 0 >/dev/null
"$STALLS" truncate-rewrite "$MOUNT_DIR/synced" 1 >/dev/null
check "truncate+rewrite without fsync (O_TRUNC) -> writeback-truncate-unsynced" "$(tail -3 "$DAEMON_OUT")" \
	wait_rule writeback-truncate-unsynced "$MOUNT_DIR/unsynced" 1 12
check "ftruncate+rewrite without fsync -> writeback-truncate-unsynced" "$(tail -3 "$DAEMON_OUT")" \
	wait_rule writeback-truncate-unsynced "$MOUNT_DIR/unsynced-ftruncate" 1 3
n=$(count_rule writeback-truncate-unsynced "$MOUNT_DIR/synced")
check "truncate+rewrite with fsync -> no finding (got $n)" "" [ "$n" -eq 0 ]

# A remount that fixes the mount clears it: a later data=writeback is news again.
umount "$MOUNT_DIR" && mount -t ext4 "$MOUNT_DEV" "$MOUNT_DIR"
sleep 1
"$STALLS" truncate-rewrite "$MOUNT_DIR/ordered" 0 >/dev/null
sleep 6.5
n=$(count_rule writeback-truncate-unsynced "$MOUNT_DIR/ordered")
check "data=ordered: truncate+rewrite gives no finding (got $n)" "" [ "$n" -eq 0 ]
umount "$MOUNT_DIR" && mount -t ext4 -o data=writeback "$MOUNT_DEV" "$MOUNT_DIR"
check "remounted data=writeback is reported again" "$(tail -3 "$DAEMON_OUT")" \
	wait_rule writeback-mount "$MOUNT_DIR" 2 10

# A bind mount of a subdirectory, with a space in its name (\040 in mountinfo): the kernel
# names a truncated file within its file system ("/sub/f"); the finding carries the path the
# program used, found through the mount's root field. Outside the bind's root: the whole
# mount's path. The trap unmounts the bind first.
mkdir -p "$MOUNT_DIR/sub" "$MOUNT_DIR/other"
BIND="$E2E_WORK/bind dir"
mkdir -p "$BIND"
mount --bind "$MOUNT_DIR/sub" "$BIND" && E2E_MOUNTS+=("$BIND") ||
	{ fail "bind mount" "mount --bind failed"; e2e_finish; }
paths_of() { # rule: "path mount_point" per finding
	python3 - "$DAEMON_OUT" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], 'rb'):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get('rule') == sys.argv[2]:
        print(o.get('path'), o.get('evidence', {}).get('mount_point'))
PY
}
check "writeback-mount reported for the bind mount, its name unescaped" \
	"$(grep -c writeback-mount "$DAEMON_OUT")" wait_rule writeback-mount "$BIND" 1 10
"$STALLS" truncate-rewrite "$BIND/unsynced" 0 >/dev/null
"$STALLS" truncate-rewrite "$MOUNT_DIR/other/unsynced" 0 >/dev/null
wait_rule writeback-truncate-unsynced "$BIND/unsynced" 1 12
check "truncate through the bind mount: the path the program used" \
	"$(paths_of writeback-truncate-unsynced)" \
	wait_rule writeback-truncate-unsynced "$BIND/unsynced" 1 1
check "truncate outside the bind's root: the whole mount's path" \
	"$(paths_of writeback-truncate-unsynced)" \
	wait_rule writeback-truncate-unsynced "$MOUNT_DIR/other/unsynced" 1 3
check "the finding names the bind mount as its mount" "$(paths_of writeback-truncate-unsynced)" \
	grep -qxF "$BIND/unsynced $BIND" <(paths_of writeback-truncate-unsynced)
n=$(count_rule writeback-truncate-unsynced "$MOUNT_DIR/sub/unsynced")
check "no finding at the path within the file system (got $n)" "" [ "$n" -eq 0 ]
daemon_stop
e2e_finish
