#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Oversized headers held open while a normal scrape runs (tests/e2e/test_daemon_service.sh).

  http_bigheader.py PORT N KIB

N clients (source addresses 127.0.3.1..N, so the per-IP limit is not what is tested) each send
half of a KIB KiB header and stop there; then a normal scrape from 127.0.0.1 is timed; then
the clients send the rest and read the answer. Prints one JSON object: the scrape's status and
seconds, and what each abuser got (an HTTP status, or "closed"). Traffic only to 127.0.0.1;
bounded; every socket closed."""
import json
import socket
import sys
import time
import urllib.request


def main():
    port, n, kib = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    head = b'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: '
    big = b'a' * (kib * 1024)
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('127.0.3.%d' % (i + 1), 0))
        s.settimeout(3)
        try:
            s.connect(('127.0.0.1', port))
            s.sendall(head + big[:len(big) // 2])
        except OSError:
            pass
        socks.append(s)
    start = time.monotonic()
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=1) as r:
            r.read()
            status = r.status
    except Exception as e:  # noqa: BLE001 - any failure is a failed scrape
        print('# scrape error: %r' % (e,), file=sys.stderr)
        status = 0
    secs = time.monotonic() - start
    got = []
    for s in socks:
        try:
            s.sendall(big[len(big) // 2:] + b'\r\n\r\n')
        except OSError:
            pass
        try:
            data = s.recv(4096)
            got.append(data.split(b' ')[1].decode() if data.startswith(b'HTTP/') else 'closed')
        except (OSError, IndexError):
            got.append('closed')
        s.close()
    print(json.dumps({'scrape': status, 'seconds': round(secs, 3), 'abusers': got}))


main()
