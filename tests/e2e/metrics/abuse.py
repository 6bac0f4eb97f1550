#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Abusive clients for tests/e2e/test_metrics_http.sh. Traffic goes only to 127.0.0.1; some
clients bind other loopback source addresses (127.0.0.0/8 is all local) to look like other hosts.

  abuse.py idle PORT N SOURCES   open N idle connections spread over SOURCES source addresses
                                 (127.0.1.1, ...; 1 means 127.0.0.2), then time a normal scrape
                                 from 127.0.0.1; prints "scrape STATUS SECONDS accepted K"
  abuse.py slowloris PORT        send a request one byte per second; prints "cut SECONDS" when
                                 the server closes, "alive SECONDS" if it never did (bounded)
Every loop is bounded; every socket is closed on exit.
"""
import errno
import selectors
import socket
import sys
import time
import urllib.request


def scrape(port, timeout):
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
            r.read()
            status = r.status
    except Exception as e:  # noqa: BLE001 - any failure is a failed scrape
        print(f"# scrape error: {e!r}")
        status = 0
    return status, time.monotonic() - start


def idle(port, n, sources):
    socks = []
    sel = selectors.DefaultSelector()
    for i in range(n):
        src = "127.0.0.2" if sources == 1 else f"127.0.1.{1 + i % sources}"
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        rc = s.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    # Wait (bounded) for the handshakes: the scrape must compete with all of them at once.
    pending = set(socks)
    deadline = time.monotonic() + 3
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            pending.discard(key.fileobj)
            sel.unregister(key.fileobj)
    accepted = sum(1 for s in socks if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    status, secs = scrape(port, 1.0)
    print(f"scrape {status} {secs:.3f} accepted {accepted}")
    for s in socks:
        s.close()


def slowloris(port):
    req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    start = time.monotonic()
    try:
        for i in range(len(req)):  # bounded: 90 bytes, 90 s at most
            s.send(req[i:i + 1])
            s.settimeout(1.0)
            try:
                if s.recv(4096) == b"":
                    print(f"cut {time.monotonic() - start:.1f}")
                    return
            except socket.timeout:
                pass
    except (BrokenPipeError, ConnectionResetError):
        print(f"cut {time.monotonic() - start:.1f}")
        return
    finally:
        s.close()
    print(f"alive {time.monotonic() - start:.1f}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "idle":
        idle(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "slowloris":
        slowloris(int(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
