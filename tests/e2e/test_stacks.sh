#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Call chains of hazardous calls (issue 15), end to end on the running kernel.
#
# tests/e2e/workloads/stack_app.c's save_config() writes and renames a file without fsyncs,
# called from apply_settings(). Built three ways -- -O2 -g without frame pointers, the same
# stripped, and -O2 -g -fno-omit-frame-pointer -- and run alive (the daemon reads its maps)
# and exiting at once (the kernel's mapping hints), plus `mv` from coreutils. Each pid must
# get exactly its rename findings (rule, comm, path) with evidence.stack:
#  - with debug info: a frame save_config at stack_app.c:<the marked line>, then
#    apply_settings;
#  - stripped: frames in the stripped module with its build id, no function names, and the
#    save_config frame's offset inside save_config's range in the unstripped binary;
#  - mv: a frame in the mv executable above (after) the libc frames;
#  - text output names the first frame outside libc ("at save_config (stack_app.c:N) in");
#  - `iohazard replay` of the recording gives the same chains offline;
#  - a mixed O_DIRECT/buffered pair and a splice stall carry the chain of the right side: the
#    task the finding names (two copies of one workload binary under different names tell the
#    sides apart);
#  - --no-stacks: stack_status "disabled", no chain, no snapshot taken by the kernel.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

SRC_C=$IOH_SRC/tests/e2e/workloads/stack_app.c
BIN=$E2E_WORK/bin
CC=${CC:-cc}
LINE=$(grep -n 'rename(tmp, dst); /\* STACK_APP_RENAME_LINE' "$SRC_C" | cut -d: -f1)
MV=$(command -v mv)
MV_REAL=$(readlink -f "$MV")

if $CC -std=gnu11 -O2 -g -fomit-frame-pointer -o "$BIN/stack_app" "$SRC_C" &&
	$CC -std=gnu11 -O2 -g -fno-omit-frame-pointer -o "$BIN/stack_app_fp" "$SRC_C" &&
	$CC -std=gnu11 -O2 -g -fomit-frame-pointer -DSTACK_APP_VARIANT='"stripped"' \
		-o "$E2E_WORK/stack_app_unstripped" "$SRC_C" &&
	strip -o "$BIN/stack_app_strip" "$E2E_WORK/stack_app_unstripped"; then
	ok "stack_app built: -O2 -g (no frame pointers), stripped, -fno-omit-frame-pointer"
else
	fail "stack_app built" "$CC failed"
	e2e_finish
fi

# run_app LABEL BINARY alive|gone: one run in its own directory; appends its spec line.
SPEC=$E2E_WORK/spec.jsonl
: >"$SPEC"
APP_PIDS=()
run_app() {
	local label=$1 bin=$2 mode=$3 dir=$E2E_WORK/$1 pid
	mkdir -p "$dir"
	if [ "$mode" = alive ]; then
		# Alive until stdin closes: the daemon reads /proc/PID/maps on the STACK record.
		sleep 4 | "$bin" "$dir" &
		pid=$!
		APP_PIDS+=("$pid")
	else
		"$bin" "$dir" </dev/null &
		pid=$!
		wait "$pid"
	fi
	printf '{"label": "%s", "pid": %d, "bin": "%s", "dir": "%s", "comm": "%s"}\n' \
		"$label" "$pid" "$bin" "$dir" "$(basename "$bin" | cut -c1-15)" >>"$SPEC"
}

run_mv() {
	local dir=$E2E_WORK/mv
	mkdir -p "$dir"
	echo data >"$dir/a"
	sh -c 'echo $$ >"$1/pid"; exec "$2" "$1/a" "$1/b"' sh "$dir" "$MV"
	printf '{"label": "mv", "pid": %d, "bin": "%s", "dir": "%s", "comm": "mv", "dst": "b"}\n' \
		"$(cat "$dir/pid")" "$MV_REAL" "$dir" >>"$SPEC"
}

REC=$E2E_WORK/events.rec
daemon_start --record "$REC"
if daemon_wait_ready 30; then
	ok "daemon ready"
else
	fail "daemon ready" "$(tail -5 "$DAEMON_ERR")"
	e2e_finish
fi
run_app g "$BIN/stack_app" alive
run_app fp "$BIN/stack_app_fp" alive
run_app strip "$BIN/stack_app_strip" alive
run_app g-gone "$BIN/stack_app" gone
run_mv
# The other hazards: a direct writer, then a buffered reader of the same file (the finding
# names the reader), and a splice into a pipe nobody drains for 600 ms.
cp "$IOH_BUILD/workloads/mixed_io" "$BIN/mx-dwriter" && cp "$BIN/mx-dwriter" "$BIN/mx-breader" &&
	cp "$IOH_BUILD/workloads/stalls" "$BIN/stalls"
mkdir -p "$E2E_WORK/mixed"
"$BIN/mx-dwriter" direct-writer "$E2E_WORK/mixed/data" 2.5 4 >/dev/null &
MX_W=$!
sleep 0.6
"$BIN/mx-breader" buffered-reader "$E2E_WORK/mixed/data" 1 >/dev/null &
MX_R=$!
head -c 1048576 /dev/zero >"$E2E_WORK/splice-src"
SPLICE_PID=$("$BIN/stalls" splice-pipe "$E2E_WORK/splice-src" 600 | sed -n 's/^pid //p')
wait "${APP_PIDS[@]}" "$MX_W" "$MX_R" # never a bare wait: the daemon is a child too
SYMS=$(nm -S "$E2E_WORK/stack_app_unstripped" | awk '$4 == "save_config" { print $1, $2 }')
BUILD_ID_STRIP=$(readelf -n "$BIN/stack_app_strip" | awk '/Build ID/ { print $3 }')

# Both rename rules close within the 5 s window; wait for them.
check_chains() { # findings-file mode(live|replay)
	python3 - "$1" "$SPEC" "$LINE" "$SYMS" "$BUILD_ID_STRIP" "$2" <<'EOF'
import json, sys, time
out, spec_path, line, syms, strip_id, mode = sys.argv[1:7]
line = int(line)
sym_addr, sym_size = (int(x, 16) for x in syms.split())
spec = [json.loads(l) for l in open(spec_path)]
RULES = ("rename-unsynced-source", "rename-without-dir-fsync")
LIBC = ("libc.so", "libc-", "ld-linux")

def load():
    got = {}
    for l in open(out, "rb"):
        try:
            o = json.loads(l)
        except ValueError:
            continue
        if isinstance(o, dict) and "rule" in o:
            got.setdefault(o["pid"], []).append(o)
    return got

deadline = time.time() + (20 if mode == "live" else 0)
while True:
    got = load()
    if all(len(got.get(s["pid"], [])) >= 2 for s in spec) or time.time() > deadline:
        break
    time.sleep(0.5)
failed = 0

def check(name, cond, detail=""):
    global failed
    print(("ok - " if cond else "not ok - ") + f"[{mode}] {name}" + ("" if cond else f": {detail}"))
    failed += not cond

def is_libc(m):
    return m and any(m.rsplit("/", 1)[-1].startswith(p) for p in LIBC)

for s in spec:
    fs = got.get(s["pid"], [])
    label = s["label"]
    dst = s["dir"] + "/" + s.get("dst", "config.json")
    rules = sorted(f["rule"] for f in fs)
    check(f"{label}: exactly the two rename findings", rules == sorted(RULES), rules)
    for f in fs:
        what = f"{label} {f['rule']}"
        check(f"{what}: comm and path", f["comm"] == s["comm"] and f["path"] == dst,
              (f["comm"], f["path"]))
        ev = f["evidence"]
        st, frames = ev.get("stack_status"), ev.get("stack", [])
        check(f"{what}: stack_status ok", st == "ok", st)
        mods = [fr["module"] for fr in frames]
        check(f"{what}: innermost frame in libc", bool(frames) and is_libc(mods[0]), mods[:2])
        if label == "mv":
            i = next((k for k, m in enumerate(mods) if m and not is_libc(m)), None)
            check(f"{what}: mv module above libc", i is not None and i > 0 and
                  mods[i] == s["bin"], mods)
            continue
        own = [fr for fr in frames if fr["module"] == s["bin"]]
        if label == "strip":
            check(f"{what}: stripped frames have no function names",
                  own and all(fr["function"] is None and fr["file"] is None for fr in own),
                  own)
            check(f"{what}: stripped frames carry the build id",
                  own and all(fr["build_id"] == strip_id for fr in own), (own, strip_id))
            check(f"{what}: save_config's frame offset in its symbol range",
                  own and sym_addr <= own[0]["offset"] < sym_addr + sym_size,
                  (own[:1], hex(sym_addr), sym_size))
            continue
        names = [fr["function"] for fr in own]
        sc = next((fr for fr in own if fr["function"] == "save_config"), None)
        check(f"{what}: save_config at stack_app.c:{line}",
              sc is not None and (sc["file"] or "").endswith("stack_app.c") and sc["line"] == line,
              sc)
        check(f"{what}: apply_settings calls it",
              "save_config" in names and names[names.index("save_config") + 1:][:1] == ["apply_settings"],
              names)
sys.exit(1 if failed else 0)
EOF
}
check_chains "$DAEMON_OUT" live || E2E_FAILED=$((E2E_FAILED + 1))

# The right side: the first frame outside libc is in the binary of the task the finding names.
python3 - "$DAEMON_OUT" "$MX_R" "$BIN/mx-breader" "$SPLICE_PID" "$BIN/stalls" <<'EOF' ||
import json, sys, time
out, mx_pid, mx_bin, sp_pid, sp_bin = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4] or 0), sys.argv[5]
LIBC = ("libc.so", "libc-", "ld-linux")
deadline, fs = time.time() + 10, []
while time.time() < deadline:
    fs = [json.loads(l) for l in open(out) if l.startswith("{")]
    if any(f["pid"] == mx_pid for f in fs) and any(f["pid"] == sp_pid for f in fs):
        break
    time.sleep(0.5)
failed = 0
for pid, rule, binary, names in ((mx_pid, "mixed-direct-buffered", mx_bin, None),
                                  (sp_pid, "splice-stall", sp_bin, ("splice_pipe", "main"))):
    got = [f for f in fs if f["pid"] == pid and f["rule"] == rule]
    ok = bool(got)
    for f in got:
        frames = f["evidence"].get("stack", [])
        app = [fr for fr in frames if fr["module"] and
               not any(fr["module"].rsplit("/", 1)[-1].startswith(p) for p in LIBC)]
        ok = ok and f["evidence"].get("stack_status") == "ok" and bool(app) and \
            app[0]["module"] == binary and (names is None or app[0]["function"] in names)
    print(("ok" if ok else "not ok") + f" - {rule}: the chain is the named task's ({binary})" +
          ("" if ok else f": {got}"))
    failed += not ok
sys.exit(1 if failed else 0)
EOF
	E2E_FAILED=$((E2E_FAILED + 1))
daemon_stop

# Offline: the recording carries the snapshots and modules, replay unwinds them again.
"$IOHCLI" replay --rules-dir "$RULES_DIR" --json "$REC" >"$E2E_WORK/replay.out" 2>"$E2E_WORK/replay.err"
check "replay exits 0" "$(head -c 300 "$E2E_WORK/replay.err")" [ $? -eq 0 ]
check_chains "$E2E_WORK/replay.out" replay || E2E_FAILED=$((E2E_FAILED + 1))
"$IOHCLI" replay --rules-dir "$RULES_DIR" "$REC" >"$E2E_WORK/replay.txt" 2>/dev/null
check "text output names the call site" "$(grep -m1 'comm=stack_app ' "$E2E_WORK/replay.txt")" \
	grep -q "at save_config (stack_app.c:$LINE) in $BIN/stack_app" "$E2E_WORK/replay.txt"

# --no-stacks: nothing captured, findings say so.
: >"$SPEC"
daemon_start --no-stacks
if daemon_wait_ready 30; then
	run_app off "$BIN/stack_app" gone
	python3 - "$DAEMON_OUT" "$(head -1 "$SPEC")" <<'EOF'
import json, sys, time
out, s = sys.argv[1], json.loads(sys.argv[2])
deadline, fs = time.time() + 15, []
while time.time() < deadline:
    fs = [json.loads(l) for l in open(out) if l.startswith("{")]
    fs = [f for f in fs if f["pid"] == s["pid"]]
    if len(fs) >= 2:
        break
    time.sleep(0.5)
ok = len(fs) == 2 and all(f["evidence"].get("stack_status") == "disabled" and
                          "stack" not in f["evidence"] for f in fs)
print(("ok" if ok else "not ok") + " - --no-stacks: both findings say stack disabled" +
      ("" if ok else f": {fs}"))
sys.exit(0 if ok else 1)
EOF
	[ $? -eq 0 ] || E2E_FAILED=$((E2E_FAILED + 1))
	"$IOHCLI" --socket "$DAEMON_SOCK" status -j >"$E2E_WORK/status.json" 2>/dev/null
	check "--no-stacks: status says off, the kernel took no snapshot" \
		"$(head -c 400 "$E2E_WORK/status.json")" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["stacks"]
sys.exit(0 if not s["enabled"] and s["snapshots"]["captured"] == 0 else 1)' "$E2E_WORK/status.json"
	daemon_stop
else
	fail "daemon --no-stacks ready" "$(tail -5 "$DAEMON_ERR")"
fi
e2e_finish
