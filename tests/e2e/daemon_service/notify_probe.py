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
import socket
import struct
import sys
import time


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
    port = int(port)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(path)
    open(ready_file, 'w').close()
    deadline = time.monotonic() + float(timeout)
    probed = False
    with open(out, 'w') as f:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                break
            t = time.monotonic()
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack('iII', cdata[:12])[0]
            lines = data.split(b'\n')
            f.write(json.dumps({'t': t, 'pid': pid,
                                'data': data.decode('utf-8', 'surrogateescape')}) + '\n')
            f.flush()
            if b'READY=1' in lines and not probed:
                probed = True
                f.write(json.dumps({'t': time.monotonic(),
                                    'ready_probe': probe(api_path, port)}) + '\n')
                f.flush()
            if b'STOPPING=1' in lines:
                break


main()
