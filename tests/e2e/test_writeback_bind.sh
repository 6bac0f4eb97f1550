#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# writeback-truncate-unsynced through a bind mount of a subdirectory: the kernel names the
# file within its file system ("/sub/f"); the finding must carry the path the program used
# ("<bind dir>/f"), found through the mount's root field, and the bind mount's point has a
# space in its name (\040 in mountinfo). A file outside the bind's root keeps the whole
# mount's path. The lib.sh trap unmounts (the bind first) and detaches the loop device, also
# on failure.
. "$(dirname "$0")/lib.sh"
e2e_init
STALLS=$IOH_BUILD/workloads/stalls
cp "$STALLS" "$E2E_WORK/bin/" && STALLS=$E2E_WORK/bin/stalls

daemon_start --output=json
daemon_wait_ready 30 || { fail "daemon ready" "$(cat "$DAEMON_ERR")"; e2e_finish; }

mount_fs ext4 || { fail "mount ext4" "mkfs/losetup/mount failed"; e2e_finish; }
mount -o remount,data=writeback "$MOUNT_DIR" 2>/dev/null ||
	{ umount "$MOUNT_DIR" && mount -t ext4 -o data=writeback "$MOUNT_DEV" "$MOUNT_DIR"; } ||
	{ fail "data=writeback mount" "cannot mount data=writeback"; e2e_finish; }
mkdir -p "$MOUNT_DIR/sub" "$MOUNT_DIR/other"
BIND="$E2E_WORK/bind dir"
mkdir -p "$BIND"
mount --bind "$MOUNT_DIR/sub" "$BIND" && E2E_MOUNTS+=("$BIND") ||
	{ fail "bind mount" "mount --bind failed"; e2e_finish; }
grep -q 'bind\\040dir' /proc/self/mountinfo || { fail "bind mount" "not in mountinfo"; e2e_finish; }

count_rule() { # rule path
	python3 - "$DAEMON_OUT" "$1" "$2" <<'PY'
import json, sys
out, rule, path = sys.argv[1:4]
print(sum(1 for line in open(out, 'rb')
          if line.strip().startswith(b'{')
          and json.loads(line).get('rule') == rule and json.loads(line).get('path') == path))
PY
}
wait_rule() { # rule path seconds
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(count_rule "$1" "$2")" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}
paths_of() { # rule
	python3 - "$DAEMON_OUT" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], 'rb'):
    if line.strip().startswith(b'{'):
        o = json.loads(line)
        if o.get('rule') == sys.argv[2]:
            print(o.get('path'), o.get('evidence', {}).get('mount_point'))
PY
}

check "writeback-mount reported for the bind mount, its space unescaped" \
	"$(paths_of writeback-mount)" wait_rule writeback-mount "$BIND" 10

"$STALLS" truncate-rewrite "$BIND/unsynced" 0 >/dev/null
"$STALLS" truncate-rewrite "$MOUNT_DIR/other/unsynced" 0 >/dev/null
check "truncate through the bind mount: the path the program used" \
	"$(paths_of writeback-truncate-unsynced)" \
	wait_rule writeback-truncate-unsynced "$BIND/unsynced" 12
check "truncate outside the bind's root: the whole mount's path" \
	"$(paths_of writeback-truncate-unsynced)" \
	wait_rule writeback-truncate-unsynced "$MOUNT_DIR/other/unsynced" 3
python3 - "$DAEMON_OUT" "$BIND" <<'PY' && ok "the finding names the bind mount as its mount" || fail "the finding names the bind mount as its mount" "$(paths_of writeback-truncate-unsynced)"
import json, sys
for line in open(sys.argv[1], 'rb'):
    if line.strip().startswith(b'{'):
        o = json.loads(line)
        if o.get('rule') == 'writeback-truncate-unsynced' and o['path'] == sys.argv[2] + '/unsynced':
            assert o['evidence']['mount_point'] == sys.argv[2], o
            sys.exit(0)
sys.exit(1)
PY
n=$(count_rule writeback-truncate-unsynced "$MOUNT_DIR/sub/unsynced")
check "no finding at the path within the file system (got $n)" "" [ "$n" -eq 0 ]
daemon_stop
e2e_finish
