#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A stand-in for the service manager's notification socket, for the real daemon
(tests/e2e/test_daemon_service.sh).

  notify_probe.py SOCKET OUT READY_FILE TIMEOUT API_SOCKET METRICS_PORT

Binds SOCKET (AF_UNIX datagram, SO_PASSCRED), records every message with its arrival time and
sender pid as JSON lines in OUT. The moment the first READY=1 arrives it checks, before reading
anything else, that the daemon keeps its promise: the API socket accepts a connection and
answers a status request with "ready": true, and the metrics port accepts a TCP connection.
That result is written to OUT as {"ready_probe": {...}}. Exits after STOPPING=1 or TIMEOUT
seconds; creates READY_FILE once bound. Traffic only to 127.0.0.1 and the given unix socket.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'service'))
from notify_listen import listen  # noqa: E402  the shared listener loop


def probe(api_path, port):
    res = {'api_connect': False, 'api_ready': None, 'metrics_connect': False, 'error': ''}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(api_path)
            res['api_connect'] = True
            s.sendall(b'{"command":"status"}\n')
            buf = b''
            deadline = time.monotonic() + 2
            while b'\n' not in buf and time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            reply = json.loads(buf.split(b'\n')[0])
            res['api_ready'] = reply.get('status', {}).get('ready')
    except (OSError, ValueError) as e:
        res['error'] += 'api: %r ' % (e,)
    if port:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=2):
                res['metrics_connect'] = True
        except OSError as e:
            res['error'] += 'metrics: %r' % (e,)
    return res


def main():
    path, out, ready_file, timeout, api_path, port = sys.argv[1:7]
    probed = False

    def on_message(f, lines):
        nonlocal probed
        if b'READY=1' in lines and not probed:
            probed = True
            f.write(json.dumps({'t': time.monotonic(),
                                'ready_probe': probe(api_path, int(port))}) + '\n')
            f.flush()

    listen(path, out, ready_file, float(timeout), on_message)


main()
