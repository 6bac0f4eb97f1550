#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Raw clients of iohazardd's API socket for tests/e2e/test_daemon_service.sh. Every loop and
wait is bounded; every socket is closed on exit. Results are printed as one JSON object.

  api.py req SOCK TEXT            send TEXT + "\\n" as is; print the reply line (parsed)
  api.py big SOCK BYTES           send one BYTES-long line (a JSON string value that never
                                  ends, no newline); print the reply and whether the server
                                  closed the connection
  api.py clients SOCK N           N clients, each made to round-trip one request (so the
                                  daemon has accepted it) then idle; one more gets in and the
                                  first (idle longest) is told why and closed; the next four
                                  still answer; print the results
  api.py subscribe SOCK SECS OUT READY
                                  subscribe and write every line received for SECS seconds
                                  to OUT; create READY once the subscription is confirmed
  api.py stall SOCK SECS READY    subscribe and never read; wait up to SECS for the daemon
                                  to close the connection (POLLRDHUP); create READY once the
                                  request is sent; print {"dropped": bool, "after": secs}
  api.py churn DIR N              N unsynced write+rename (rename-unsynced-source each), fast
"""
import json
import os
import select
import socket
import sys
import time


def connect(path, rcvbuf=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(path)
    return s


def read_line(s, timeout=5):
    buf = b''
    deadline = time.monotonic() + timeout
    s.settimeout(timeout)
    while b'\n' not in buf and time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, OSError):
            break
        if not chunk:
            break
        buf += chunk
    if b'\n' not in buf:
        return None
    line = buf.split(b'\n')[0]
    try:
        return json.loads(line)
    except ValueError:
        return {'unparsable': line.decode('utf-8', 'replace')}


def closed_by_peer(s, timeout):
    """True when the server closed the connection within TIMEOUT (reads what is left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            return False
        try:
            if not s.recv(65536):
                return True
        except ConnectionResetError:
            return True
        except OSError:
            return True
    return False


def cmd_req(path, text):
    with connect(path) as s:
        s.sendall(text.encode('utf-8', 'surrogateescape') + b'\n')
        print(json.dumps({'reply': read_line(s)}))


def cmd_big(path, n):
    n = int(n)
    with connect(path) as s:
        data = b'{"command":"status","pad":"' + b'a' * n
        sent = 0
        try:
            while sent < len(data):
                sent += s.send(data[sent:sent + 65536])
        except OSError:
            pass
        reply = read_line(s)
        print(json.dumps({'sent': sent, 'reply': reply, 'closed': closed_by_peer(s, 3)}))


def cmd_clients(path, n):
    n = int(n)
    socks, accepted = [], 0
    try:
        for _ in range(n):
            s = connect(path)
            socks.append(s)
            s.sendall(b'{"command":"nope"}\n')
            r = read_line(s)
            if r and r.get('ok') is False and 'unknown command' in r.get('error', ''):
                accepted += 1
        # The table is full: the 65th gets in, and the connection idle longest (the
        # first) is told why and closed.
        extra = connect(path)
        extra.sendall(b'{"command":"status"}\n')
        r = read_line(extra, 3)
        extra_served = bool(r and r.get('ok') is True)
        extra.close()
        evicted_reply = read_line(socks[0], 3)
        evicted_closed = closed_by_peer(socks[0], 3)
        # The others are still served.
        still = 0
        for s in socks[1:5]:
            s.sendall(b'{"command":"status"}\n')
            r = read_line(s)
            still += bool(r and r.get('ok') is True)
        print(json.dumps({'accepted': accepted, 'extra_served': extra_served,
                          'evicted_reply': evicted_reply, 'evicted_closed': evicted_closed,
                          'first_still_served': still}))
    finally:
        for s in socks:
            s.close()


def cmd_subscribe(path, secs, out, ready):
    deadline = time.monotonic() + float(secs)
    with connect(path) as s, open(out, 'wb') as f:
        s.sendall(b'{"command":"subscribe"}\n')
        buf = b''
        confirmed = False
        while time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                f.write(line + b'\n')
                f.flush()
                if not confirmed:
                    confirmed = True
                    open(ready, 'w').close()


def cmd_stall(path, secs, ready):
    s = connect(path, rcvbuf=4096)
    start = time.monotonic()
    s.sendall(b'{"command":"subscribe"}\n')
    open(ready, 'w').close()
    p = select.poll()
    p.register(s, select.POLLRDHUP | select.POLLHUP)
    dropped = False
    while time.monotonic() - start < float(secs):
        ev = p.poll(100)
        if any(e & (select.POLLRDHUP | select.POLLHUP | select.POLLERR) for _, e in ev):
            dropped = True
            break
    print(json.dumps({'dropped': dropped, 'after': round(time.monotonic() - start, 3)}))
    s.close()


def cmd_churn(d, n):
    for i in range(int(n)):
        tmp = os.path.join(d, 'c%d.tmp' % (i % 64))
        with open(tmp, 'wb') as f:
            f.write(b'x' * 64)
        os.rename(tmp, os.path.join(d, 'c%d' % (i % 64)))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {'req': cmd_req, 'big': cmd_big, 'clients': cmd_clients, 'subscribe': cmd_subscribe,
     'stall': cmd_stall, 'churn': cmd_churn}[cmd](*args)


main()
