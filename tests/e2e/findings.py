#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Findings checks for the end-to-end tests (python3 standard library only).

  findings.py check --out FINDINGS --spec SPEC [--window S] [--extra S]
      SPEC: JSON lines {"label", "pid", "pattern", "dir", "fstype"} for workloads that have
      all exited. Polls FINDINGS (the daemon's stdout) until every expected finding is there
      and the window has passed for the negative controls (at most window + extra seconds),
      then prints one "ok - ..."/"not ok - ..." line per check. Exit 1 if any failed.
  findings.py filter --out FINDINGS --pids P1,P2,...
      those pids' findings, canonical JSON (sorted keys), sorted, one a line.
  findings.py lines --out FINDINGS
      every line is a JSON object with the fixed keys, ASCII-safe (no raw control byte,
      valid UTF-8); prints ok/not ok.

The expectations mirror tests/e2e/workloads/durability.c.
"""
import argparse
import json
import os
import sys
import time

COMM = "durability"
DIR_RULE = "rename-without-dir-fsync"
SRC_RULE = "rename-unsynced-source"
FIXED_KEYS = {"time", "rule", "severity", "confidence", "pid", "comm", "unit", "cgroup",
              "dev", "ino", "path", "fstype", "message", "fix", "evidence"}
HOSTILE_NAME = b"bad\nname with  spaces \xff\xfe\xc3(.cfg"
HOSTILE_JSON = b'q"uote\\back\\slash\ttab\x01\x7f \xc3\xa9 \xf0\x9f\x92\xa3.json'
LONG_LEVELS, LONG_ABS_LEVELS, LONG_COMPONENT = 12, 7, 200
ELLIPSIS = "\u2026"

# pattern -> expected findings: (rule, severity, evidence subset)
UNSAFE = [(SRC_RULE, "notice", {}), (DIR_RULE, "notice", {"file_fsynced": False})]
DIR_ONLY = [(DIR_RULE, "warning", {"file_fsynced": True})]
EXPECT = {
    "unsafe": UNSAFE,
    "fsync-file-only": DIR_ONLY,
    "late-dir-fsync": DIR_ONLY,
    "relative": UNSAFE,
    "renameat": UNSAFE,
    "renameat2-noreplace": UNSAFE,
    "subdir": UNSAFE,
    "hostile-name": UNSAFE,
    "hostile-json": UNSAFE,
    "long-path": None,  # checked separately: path complete or visibly truncated
    "long-abs": None,
    # Precision (issue 14): metadata changes after the fsync leave the file fsynced.
    "meta-after-fsync": DIR_ONLY,
}
for p in ("safe", "safe-fdatasync-dir", "safe-syncfs", "safe-sync", "relative-safe",
          "renameat-safe", "renameat2-noreplace-safe", "subdir-safe",
          "meta-after-fsync-safe", "dsync-safe", "rwf-dsync-safe", "reuse-safe", "ftruncate-safe"):
    EXPECT[p] = []


RESULTS = None  # when a list, emit() collects instead of printing


def emit(good, name, details=""):
    if RESULTS is not None:
        RESULTS.append((good, name, details))
        return good
    if good:
        print(f"ok - {name}")
    else:
        details = " ".join(str(details).split("\n"))[:1500]
        print(f"not ok - {name}: {details}")
    sys.stdout.flush()
    return good


def read_findings(path):
    """Complete lines only (the daemon may be writing the last one)."""
    out = []
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return out
    for raw in data.split(b"\n")[:-1]:
        try:
            o = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            o = {"_unparsable": raw.decode("utf-8", "replace")}
        out.append(o)
    return out


def targets(pattern, d):
    """(new path bytes, old path bytes) the workload renames."""
    d = d.encode()
    if pattern in ("subdir", "subdir-safe"):
        return d + b"/sub/a", d + b"/sub/a.tmp"
    if pattern == "hostile-name":
        return d + b"/" + HOSTILE_NAME, d + b"/hostile.tmp"
    if pattern == "hostile-json":
        return d + b"/" + HOSTILE_JSON, d + b"/hostile.tmp"
    if pattern in ("long-path", "long-abs"):
        p = d
        for i in range(LONG_LEVELS if pattern == "long-path" else LONG_ABS_LEVELS):
            comp = bytearray([ord("a") + i] * LONG_COMPONENT)
            comp[0] = ord("0") + i % 10
            p += b"/" + bytes(comp)
        return p + b"/long-target", p + b"/long-target.tmp"
    return d + b"/a", d + b"/a.tmp"


def json_str(b):
    """How a byte path should look after JSON decoding (invalid bytes -> U+FFFD)."""
    return b.decode("utf-8", "replace")


def mount_dev(path):
    """major:minor of the mount holding path, as /proc/self/mountinfo shows it."""
    best, dev = "", None
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mp = fields[4].encode().decode("unicode_escape")
            if (path == mp or path.startswith(mp.rstrip("/") + "/")) and len(mp) >= len(best):
                best, dev = mp, fields[2]
    return dev


def stat_dev(path):
    st = os.stat(path)
    return f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"


def long_stat(path_bytes, base):
    """stat a path longer than PATH_MAX by walking it with dir fds."""
    rel = path_bytes[len(base.encode()):].lstrip(b"/").split(b"/")
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for comp in rel[:-1]:
            nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return os.stat(rel[-1], dir_fd=fd, follow_symlinks=False)
    finally:
        os.close(fd)


def by_pid(findings):
    m = {}
    for f in findings:
        if isinstance(f, dict) and "pid" in f:
            m.setdefault(f["pid"], []).append(f)
    return m


def satisfied(spec, found):
    for w in spec:
        exp = EXPECT[w["pattern"]]
        n = len(found.get(w["pid"], []))
        if exp is None:
            if n < 1:
                return False
        elif n < len(exp):
            return False
    return True


def cmd_check(a):
    spec = [json.loads(l) for l in open(a.spec) if l.strip()]
    start = time.monotonic()
    # Negative controls need the whole window (plus the daemon's tick and grace) to pass.
    quiet = a.window + 0.8
    while True:
        found = by_pid(read_findings(a.out))
        el = time.monotonic() - start
        if (el >= quiet and satisfied(spec, found)) or el >= a.window + a.extra:
            break
        time.sleep(0.2)
    waited = time.monotonic() - start
    print(f"# waited {waited:.1f}s for findings")
    global RESULTS
    RESULTS = []
    failed = 0
    for w in spec:
        failed += not check_workload(w, found.get(w["pid"], []))
    results, RESULTS = RESULTS, None
    if failed and a.record and a.retryable:
        foreign = foreign_syncs(a, {w["pid"] for w in spec})
        if foreign:
            # A sync(2)/syncfs(2) by another process makes pending renames durable: the
            # product is right, the run proves nothing. The caller runs it again.
            for good, name, details in results:
                if not good:
                    print(f"# (inconclusive) {name}: {' '.join(str(details).split())[:300]}")
            for e in foreign[:5]:
                print(f"# interference: {e}")
            return 75
    for r in results:
        emit(*r)
    return 1 if failed else 0


def foreign_syncs(a, pids):
    """sync/syncfs calls by other processes since --since (from the live recording)."""
    import subprocess
    out = subprocess.run([a.cli, "replay", "--events", a.record], capture_output=True).stdout
    hits = []
    for line in out.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("type") != "sync" or e.get("kind") not in ("sync", "syncfs"):
            continue
        if e.get("pid") in pids or e.get("ts_ns", 0) < a.since_ns:
            continue
        hits.append(f"{e.get('kind')} by pid {e.get('pid')} ({e.get('comm')}) at {e.get('time')}")
    return hits


def check_fields(w, f, rule, severity, ev, new_b, old_b, want_ino, want_dev, problems):
    def want(key, exp, got):
        if got != exp:
            problems.append(f"{rule}.{key}={got!r} want {exp!r}")

    missing = FIXED_KEYS - set(f)
    if missing:
        problems.append(f"{rule}: missing keys {sorted(missing)}")
    want("severity", severity, f.get("severity"))
    want("confidence", "high", f.get("confidence"))
    want("comm", COMM, f.get("comm"))
    want("path", json_str(new_b), f.get("path"))
    want("fstype", w["fstype"], f.get("fstype"))
    if want_dev is not None:
        want("dev", want_dev, f.get("dev"))
    if want_ino is not None:
        want("ino", want_ino, f.get("ino"))
    evd = f.get("evidence") or {}
    want("evidence.old_path", json_str(old_b), evd.get("old_path"))
    for k, v in ev.items():
        want(f"evidence.{k}", v, evd.get(k))
    for k in ("message", "fix"):
        if not isinstance(f.get(k), str) or not f.get(k):
            problems.append(f"{rule}.{k} empty")


def summary(fs):
    return "; ".join(f"{f.get('rule')}/{f.get('severity')} path={f.get('path')!r}"
                     f" ev={json.dumps(f.get('evidence'), sort_keys=True)}" for f in fs)


def check_workload(w, fs):
    label, pattern = w["label"], w["pattern"]
    exp = EXPECT[pattern]
    new_b, old_b = targets(pattern, w["dir"])
    if exp is None:
        return check_long_path(w, fs, new_b)
    got_rules = sorted((f.get("rule"), f.get("severity")) for f in fs)
    want_rules = sorted((r, s) for r, s, _ in exp)
    if got_rules != want_rules:
        return emit(False, f"{label}: exact findings (pid {w['pid']})",
                    f"got {got_rules} want {want_rules}; {summary(fs)}")
    if not exp:
        return emit(True, f"{label}: no finding (pid {w['pid']})")
    emit(True, f"{label}: exact findings {[r for r, _ in want_rules]} (pid {w['pid']})")
    problems = []
    try:
        st = os.stat(new_b, follow_symlinks=False)
        want_ino = st.st_ino
    except OSError as e:
        problems.append(f"stat {new_b!r}: {e}")
        want_ino = None
    # Findings identify files as stat(2) does: on btrfs each subvolume has its own device
    # number (mountinfo shows the filesystem's), and inode numbers restart per subvolume.
    want_dev = stat_dev(w["dir"])
    for rule, sev, ev in exp:
        f = next(x for x in fs if x.get("rule") == rule)
        check_fields(w, f, rule, sev, ev, new_b, old_b, want_ino, want_dev, problems)
    if problems and mount_dev(w["dir"]) != want_dev:
        problems.append(f"(mountinfo says {mount_dev(w['dir'])}, stat() st_dev of the dir is"
                        f" {want_dev})")
    return emit(not problems, f"{label}: finding fields (rule, severity, comm, path, fstype,"
                f" dev, ino, evidence)", "; ".join(problems))


def check_long_path(w, fs, new_b):
    label = w["label"]
    full = json_str(new_b)
    if not fs:
        return emit(False, f"{label}: finding for a {len(new_b)}-byte path",
                    "no finding for the deep rename (unsafe pattern)")
    problems = []
    for f in fs:
        p = f.get("path")
        if not isinstance(p, str):
            problems.append(f"{f.get('rule')}: path {p!r}")
        elif p == full:
            continue
        elif p.startswith(ELLIPSIS):  # the head was cut (directory chain)
            if not full.endswith(p[len(ELLIPSIS):]):
                problems.append(f"{f.get('rule')}: truncated path is not a tail of the real"
                                f" one: {p[:80]!r}...{p[-80:]!r}")
        elif p.endswith(ELLIPSIS):  # the tail was cut (a long user string)
            if not full.startswith(p[:-len(ELLIPSIS)]):
                problems.append(f"{f.get('rule')}: truncated path is not a head of the real"
                                f" one: {p[:80]!r}...{p[-80:]!r}")
        else:
            cut = (" (silently cut: it is a prefix of the real path)"
                   if full.startswith(p) else "")
            problems.append(f"{f.get('rule')}: path neither complete nor marked truncated with"
                            f" a leading or trailing \u2026{cut} (len {len(p.encode())} bytes,"
                            f" real {len(full.encode())}): {p[:60]!r}...{p[-60:]!r}")
    kinds = sorted(set("complete" if f.get("path") == full else "truncated" for f in fs))
    emit(not problems, f"{label}: {len(fs)} finding(s), path {'/'.join(kinds)} for a"
         f" {len(new_b)}-byte path (truncation visible)", "; ".join(problems))
    got_rules = sorted(f.get("rule") for f in fs)
    if got_rules != sorted([SRC_RULE, DIR_RULE]):
        # Not a contract (the design only asks for visible truncation): a cut path cannot be
        # resolved in user space, so rename-unsynced-source is missed. Reported, not failed.
        print(f"# note: {label}: rules fired: {got_rules} (both expected for an unsafe rename)")
    return not problems


def cmd_filter(a):
    pids = {int(p) for p in a.pids.split(",") if p}
    rows = sorted(json.dumps(f, sort_keys=True) for f in read_findings(a.out)
                  if isinstance(f, dict) and f.get("pid") in pids)
    for r in rows:
        print(r)


def cmd_lines(a):
    with open(a.out, "rb") as f:
        data = f.read()
    problems = []
    if data and not data.endswith(b"\n"):
        problems.append("last line not terminated")
    for i, raw in enumerate(data.split(b"\n")[:-1], 1):
        bad = [c for c in raw if c < 0x20 or c == 0x7f]
        if bad:
            problems.append(f"line {i}: raw control bytes {bad[:5]}")
        try:
            o = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            problems.append(f"line {i}: not JSON/UTF-8: {e}: {raw[:200]!r}")
            continue
        if not isinstance(o, dict) or FIXED_KEYS - set(o):
            problems.append(f"line {i}: missing keys {sorted(FIXED_KEYS - set(o))}")
    n = data.count(b"\n")
    return 0 if emit(not problems, f"{a.label}: all {n} stdout lines are valid JSON findings",
                     "; ".join(problems[:10])) else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--out", required=True)
    c.add_argument("--spec", required=True)
    c.add_argument("--window", type=float, default=5.0)
    c.add_argument("--extra", type=float, default=3.0)
    c.add_argument("--record", help="the daemon's live --record file, to spot foreign syncs")
    c.add_argument("--cli", default="iohazard")
    c.add_argument("--since-ns", type=int, default=0, help="CLOCK_MONOTONIC ns of the round")
    c.add_argument("--retryable", action="store_true",
                   help="exit 75 instead of failing when a foreign sync explains a miss")
    f = sub.add_parser("filter")
    f.add_argument("--out", required=True)
    f.add_argument("--pids", required=True)
    ln = sub.add_parser("lines")
    ln.add_argument("--out", required=True)
    ln.add_argument("--label", default="findings")
    a = ap.parse_args()
    return {"check": cmd_check, "filter": cmd_filter, "lines": cmd_lines}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
