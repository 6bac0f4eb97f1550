#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Checks what tests/e2e/service/journal_ns.sh read back from a real journald: every field of
# the harness's hostile finding byte for byte, OBJECT_*, MESSAGE, the rule query and the
# catalog text of `journalctl -x`. Usage: check_journal.py OUT_DIR PATH_FILE REGISTRY_C
# (daemon/rules/registry.c, where each rule's MESSAGE_ID is defined)
import json, re, sys

d, path_file, registry_c = sys.argv[1:4]
failed = 0


def check(name, cond, detail=''):
    global failed
    print(('ok - ' if cond else 'not ok - ') + name + ('' if cond else ': ' + str(detail)[:800]))
    failed += not cond


def raw(v):
    """journalctl -o json gives a str, or a list of byte values for unprintable data."""
    if isinstance(v, list) and v and isinstance(v[0], int):
        return bytes(v)
    if isinstance(v, str):
        return v.encode()
    return v


out = open(d + '/harness.out').read()
check('journal: both sends succeeded', re.search(r' r1=0 r2=0 sent=2 failed=0$', out, re.M), out)
m = re.search(r'pid=(\d+)', out)
hpid = m.group(1) if m else '?'
entries = [json.loads(l) for l in open(d + '/entries.json') if l.strip()]
check('journal: two entries from iohazardd', len(entries) == 2, len(entries))
e = entries[0] if entries else {}
path = open(path_file, 'rb').read()
# {"rule-name", severity, threshold, "message id", "detector"}
ids = dict(re.findall(r'\{"([a-z-]+)",[^{}"]*"([0-9a-f]{32})"', open(registry_c).read()))
want = {
    'MESSAGE_ID': ids.get('rename-without-dir-fsync', '?').encode(),
    'PRIORITY': b'2',
    'SYSLOG_IDENTIFIER': b'iohazardd',
    'IOHAZARD_TIME': b'1970-01-01T00:00:01.000000000Z',
    'IOHAZARD_RULE': b'rename-without-dir-fsync',
    'IOHAZARD_SEVERITY': b'critical',
    'IOHAZARD_CONFIDENCE': b'high',
    'IOHAZARD_PID': hpid.encode(),
    'IOHAZARD_COMM': b'ev\nil\xff"c',
    'IOHAZARD_UNIT': b'app\\x2dweb.service',
    'IOHAZARD_CGROUP': b'/system.slice/app\\x2dweb.service',
    'IOHAZARD_DEV': b'254:1',
    'IOHAZARD_INO': b'987654',
    'IOHAZARD_PATH': path,
    'IOHAZARD_FSTYPE': b'ext4',
    'IOHAZARD_MESSAGE': b'renamed but\nthe directory was not fsynced',
    'IOHAZARD_FIX': b'fsync(2) the parent directory after rename(2)',
}
for k, v in want.items():
    got = raw(e.get(k))
    check('journal: %s byte-exact' % k, got == v, '%r != %r' % (got, v))
ev = raw(e.get('IOHAZARD_EVIDENCE'))
try:
    evo = json.loads(ev)
except (TypeError, ValueError):
    evo = None
check('journal: IOHAZARD_EVIDENCE is the evidence object as JSON',
      evo == {'old_path': path.decode('utf-8', 'replace'), 'old_path_bytes': path.hex(),
              'window': 5, 'directory_ino': 42}, ev)
op = e.get('OBJECT_PID')
check('journal: OBJECT_PID is the process the finding is about',
      op == hpid or (isinstance(op, list) and hpid in op), op)
ou = e.get('OBJECT_SYSTEMD_UNIT')
check('journal: OBJECT_SYSTEMD_UNIT from the cgroup',
      ou == 'app\\x2dweb.service' or (isinstance(ou, list) and 'app\\x2dweb.service' in ou), ou)
msg = raw(e.get('MESSAGE')) or b''
check('journal: MESSAGE is one printable line with names escaped',
      b'\n' not in msg and b'\x1b' not in msg and b'\xff' not in msg and
      msg.startswith(b'rename-without-dir-fsync: ev\\x0ail') and
      b'/srv/app/con\\x0aPRIORITY=0' in msg, msg)
by_rule = [l for l in open(d + '/by-rule.json') if l.strip()]
check('journal: journalctl IOHAZARD_RULE=rename-without-dir-fsync matches both', len(by_rule) == 2,
      len(by_rule))
x = open(d + '/explained.txt', encoding='utf-8', errors='replace').read()
check('journal: journalctl -x shows the catalog entry with fields substituted',
      'Defined-By: iohazard' in x and 'renamed a file into a directory' in x and
      '(pid %s, unit app\\x2dweb.service)' % hpid in x and '@IOHAZARD_' not in x, x)
sys.exit(1 if failed else 0)
