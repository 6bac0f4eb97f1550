#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Findings checks for tests/e2e/test_real_apps.sh (python3 standard library only).

  real_apps.py check --out FINDINGS --spec SPEC [--quiet S] [--max S]
                     [--record REC --cli CLI --since-ns NS --devs D1,D2 --window S]
                     [--socket SOCK --evictions-before N] [--retryable --retry-out FILE]

SPEC: JSON lines, one per case (one real program run in a directory of its own):

  {"label": "ext4/rsync --fsync", "root": "/abs/case/dir",
   "expect": [ENTRY...],   each must match at least one finding (one ok/not ok line each)
   "forbid": [ENTRY...],   none may match (one ok/not ok line each: the precision checks)
   "allow":  [ENTRY...],   may match, need not (racy or policy-dependent; see the test)
   "key": K, "t0_ns": T0, "t1_ns": T1}   what to run again; CLOCK_MONOTONIC span of the run

ENTRY: {"rule": R, "path": REGEX, ["severity": S], ["comm": C], ["evidence": {K: V}],
        ["why": TEXT]}. REGEX is matched (re.fullmatch) against the finding's path relative to
"root"; "evidence" is a subset match. Every finding whose path is under a case's root and
that matches neither "expect" nor "allow" fails the case's "no other finding" line: the
expectations are exact.

The check polls FINDINGS (the daemon's stdout) until every "expect" entry is matched and at
least --quiet seconds have passed (the rename window, 5 s, plus the daemon's tick: findings
that must not appear get the same time to show up), at most --max seconds.

With --retryable and --record, a case with a missing expected finding is inconclusive (its
lines are printed as "# (inconclusive)" comments and its "key" is written to --retry-out, for
the caller to run it again) when another process called sync(2), or syncfs(2) on one of
--devs, between the case's "t0_ns" and "t1_ns" plus the window (pending renames became
durable: the daemon is right to stay quiet). So is every such case of a round during which
the daemon evicted pending renames (--socket, --evictions-before): another program's rename
storm on this host. Exit 1 if a conclusive check failed.
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from findings import FIXED_KEYS, read_findings  # noqa: E402


def foreign_syncs(a):
    """Successful sync(2) calls, and syncfs(2) calls on one of --devs, since --since-ns, by
    processes other than ours (the live recording). A syncfs of another filesystem (other
    tests on this host run them all the time) changes nothing here."""
    import subprocess
    devs = set(d for d in (a.devs or "").split(",") if d)
    out = subprocess.run([a.cli, "replay", "--events", a.record], capture_output=True).stdout
    hits = []
    for line in out.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("type") != "sync" or e.get("ret") != 0 or e.get("ts_ns", 0) < a.since_ns:
            continue
        dev = (e.get("file") or {}).get("dev")
        if e.get("kind") == "sync" or (e.get("kind") == "syncfs" and dev in devs):
            hits.append((e.get("ts_ns", 0), f"{e.get('kind')} by pid {e.get('pid')}"
                         f" ({e.get('comm')}) dev {dev} at {e.get('time')}"))
    return hits


def evictions(a):
    """Pending renames and inode states the daemon dropped at its limits (status)."""
    import subprocess
    if not a.socket:
        return 0
    r = subprocess.run([a.cli, "--socket", a.socket, "--json", "status"], capture_output=True)
    try:
        st = json.loads(r.stdout)
        return int(st.get("pending_evictions", 0)) + int(st.get("state_evictions", 0))
    except (ValueError, TypeError, AttributeError):
        return 0


def rel_path(case, f):
    p = f.get("path")
    root = case["root"].rstrip("/") + "/"
    if isinstance(p, str) and p.startswith(root):
        return p[len(root):]
    return None


def matches(entry, f, rel):
    if rel is None or f.get("rule") != entry["rule"]:
        return False
    if not re.fullmatch(entry["path"], rel):
        return False
    if "severity" in entry and f.get("severity") != entry["severity"]:
        return False
    if "comm" in entry and f.get("comm") != entry["comm"]:
        return False
    ev = f.get("evidence") or {}
    for k, v in (entry.get("evidence") or {}).items():
        if ev.get(k) != v:
            return False
    return True


def short(f, case):
    ev = f.get("evidence") or {}
    keep = {k: ev[k] for k in ("old_path", "file_fsynced", "dirty_for", "dirtied_by_pid",
                               "order", "direct_comm", "direct_access", "buffered_comm",
                               "buffered_access") if k in ev}
    if "old_path" in keep and isinstance(keep["old_path"], str):
        keep["old_path"] = keep["old_path"].replace(case["root"].rstrip("/") + "/", "")
    return (f"{f.get('rule')}/{f.get('severity')} comm={f.get('comm')} pid={f.get('pid')}"
            f" path={rel_path(case, f) or f.get('path')} {json.dumps(keep, sort_keys=True)}")


def entry_name(e):
    s = e["rule"]
    if "severity" in e:
        s += f"/{e['severity']}"
    if "comm" in e:
        s += f" by {e['comm']}"
    s += f" on {e['path']}"
    if e.get("evidence"):
        s += f" {json.dumps(e['evidence'], sort_keys=True)}"
    return s


def case_findings(case, findings):
    out = []
    for f in findings:
        if isinstance(f, dict) and rel_path(case, f) is not None:
            out.append(f)
    return out


def satisfied(spec, findings):
    for case in spec:
        fs = case_findings(case, findings)
        for e in case.get("expect", []):
            if not any(matches(e, f, rel_path(case, f)) for f in fs):
                return False
    return True


def check_case(case, findings, results):
    label = case["label"]
    fs = case_findings(case, findings)
    missing = 0
    for e in case.get("expect", []):
        hit = [f for f in fs if matches(e, f, rel_path(case, f))]
        if hit:
            results.append((True, f"{label}: {entry_name(e)}", ""))
        else:
            missing += 1
            # Same rule and path with other fields: say what is there instead.
            near = [short(f, case) for f in fs if f.get("rule") == e["rule"] and
                    re.fullmatch(e["path"], rel_path(case, f))]
            results.append((False, f"{label}: {entry_name(e)}",
                            f"missing ({e.get('why', '')}); same rule and path: "
                            f"{'; '.join(near) if near else 'none'}"))
    for e in case.get("forbid", []):
        hit = [f for f in fs if matches(e, f, rel_path(case, f))]
        results.append((not hit, f"{label}: no {entry_name(e)}",
                        f"{len(hit)} finding(s) ({e.get('why', '')}): "
                        + "; ".join(short(f, case) for f in hit[:6])))
    known = case.get("expect", []) + case.get("allow", [])
    other = [f for f in fs if not any(matches(e, f, rel_path(case, f)) for e in known)]
    bad_keys = [f for f in fs if FIXED_KEYS - set(f)]
    results.append((not other and not bad_keys,
                    f"{label}: no other finding ({len(fs)} under the case dir)",
                    "; ".join(short(f, case) for f in other[:8]) +
                    (f" (+{len(other) - 8} more)" if len(other) > 8 else "") +
                    (f"; {len(bad_keys)} finding(s) miss fixed keys" if bad_keys else "")))
    return missing


def cmd_check(a):
    spec = [json.loads(line) for line in open(a.spec) if line.strip()]
    start = time.monotonic()
    while True:
        findings = read_findings(a.out)
        el = time.monotonic() - start
        if (el >= a.quiet and satisfied(spec, findings)) or el >= a.max:
            break
        time.sleep(0.25)
    print(f"# waited {time.monotonic() - start:.1f}s for findings")
    evicted = evictions(a) - a.evictions_before if a.socket else 0
    syncs = foreign_syncs(a) if a.record else []
    failed = 0
    retry = []
    for case in spec:
        results = []
        missing = check_case(case, findings, results)
        why = []
        if missing:
            # A sync while the case's renames were pending, or evictions anywhere in the
            # round, explain a missing finding: the product was right to stay quiet.
            t0, t1 = case.get("t0_ns", 0), case.get("t1_ns", 1 << 62) + int(
                (a.window + 1.5) * 1e9)
            why = [e for ts, e in syncs if t0 <= ts <= t1]
            if evicted > 0:
                why.append(f"{evicted} pending renames/inode states evicted during the round")
        if why and a.retryable:
            retry.append(case.get("key", case["label"]))
            for good, name, details in results:
                if not good:
                    print(f"# (inconclusive) {name}: {' '.join(details.split())[:300]}")
            for e in why[:3]:
                print(f"# interference: {e}")
            continue
        for e in why[:3]:
            print(f"# note: may explain a missing finding: {e}")
        for good, name, details in results:
            if good:
                print(f"ok - {name}")
            else:
                failed += 1
                print(f"not ok - {name}: {' '.join(details.split())[:1500]}")
    if a.retry_out:
        with open(a.retry_out, "w") as f:
            for k in dict.fromkeys(retry):
                f.write(k + "\n")
    sys.stdout.flush()
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--out", required=True)
    c.add_argument("--spec", required=True)
    c.add_argument("--quiet", type=float, default=6.5)
    c.add_argument("--max", type=float, default=12.0)
    c.add_argument("--record")
    c.add_argument("--cli", default="iohazard")
    c.add_argument("--since-ns", type=int, default=0)
    c.add_argument("--retryable", action="store_true")
    c.add_argument("--window", type=float, default=5.0, help="the rename rule's window")
    c.add_argument("--retry-out", help="write the keys of inconclusive cases here")
    c.add_argument("--devs", help="major:minor of our filesystems, comma separated")
    c.add_argument("--socket", help="the daemon's API socket, to read its eviction counters")
    c.add_argument("--evictions-before", type=int, default=0)
    a = ap.parse_args()
    return {"check": cmd_check}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
