# SPDX-License-Identifier: LGPL-2.1-or-later
"""A deliberately small QMP client for the benchmark's "plain QMP" path.

One unix-socket connection per QEMU, blocking I/O with select(), events
that arrive while waiting for a command reply are queued and can be
waited for later.  Event timestamps are QEMU's (host realtime clock), so
events from two QEMUs on one host can be compared directly.
"""

import json
import os
import select
import socket
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, connect_timeout=10.0):
        self.path = path
        self.events = []
        self._buf = b''
        self._sock = None
        deadline = time.monotonic() + connect_timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                self._sock = s
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise QMPError('cannot connect to %s' % path)
                time.sleep(0.002)
        greeting = self._read_msg(connect_timeout)
        if 'QMP' not in greeting:
            raise QMPError('no QMP greeting: %r' % greeting)
        self.execute('qmp_capabilities')

    # -- wire
    def _read_msg(self, timeout):
        deadline = time.monotonic() + timeout
        while b'\n' not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError('timeout reading from %s' % self.path)
            r, _, _ = select.select([self._sock], [], [], left)
            if not r:
                continue
            chunk = self._sock.recv(65536)
            if not chunk:
                raise QMPError('%s: connection closed' % self.path)
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b'\n')
        return json.loads(line)

    def execute(self, command, arguments=None, timeout=30.0):
        msg = {'execute': command}
        if arguments is not None:
            msg['arguments'] = arguments
        self._sock.sendall(json.dumps(msg).encode() + b'\n')
        while True:
            m = self._read_msg(timeout)
            if 'event' in m:
                self.events.append(m)
                continue
            if 'error' in m:
                raise QMPError('%s: %s' % (command, m['error'].get('desc')))
            return m.get('return')

    def wait_event(self, match, timeout=60.0):
        """Return (and remove) the first queued or arriving event for which
        match(event) is true."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if match(ev):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError('%s: timed out waiting for an event' % self.path)
            m = self._read_msg(left)
            if 'event' in m:
                self.events.append(m)

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def event_time(ev):
    ts = ev['timestamp']
    return ts['seconds'] + ts['microseconds'] / 1e6


def is_event(name, **data):
    def match(ev):
        if ev.get('event') != name:
            return False
        d = ev.get('data') or {}
        return all(d.get(k) == v for k, v in data.items())
    return match


def unlink_quiet(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
