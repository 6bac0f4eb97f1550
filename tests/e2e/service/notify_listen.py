#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A stand-in for the service manager's notification socket: binds SOCKET (AF_UNIX datagram),
# records every message with its arrival time and sender pid (SCM_CREDENTIALS) as JSON lines
# in OUT, and exits after STOPPING=1 or TIMEOUT seconds. Creates READY_FILE once bound.
# tests/e2e/daemon_service/notify_probe.py imports listen() and acts on READY=1.
import json, socket, struct, sys, time


def listen(path, out, ready_file, timeout, on_message=None):
    """Record messages to OUT; on_message(f, lines), if given, runs after each is written."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(path)
    open(ready_file, 'w').close()
    deadline = time.monotonic() + timeout
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
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack('iII', cdata[:12])[0]
            f.write(json.dumps({'t': time.monotonic(), 'pid': pid,
                                'data': data.decode('utf-8', 'surrogateescape')}) + '\n')
            f.flush()
            lines = data.split(b'\n')
            if on_message:
                on_message(f, lines)
            if b'STOPPING=1' in lines:
                break


if __name__ == '__main__':
    listen(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
