#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What TLS costs a migration: the same guest migrated between two Ferry
hosts on this machine, alternately in clear (a D-Bus address destination,
no `tls`) and over TLS (a tls:// destination: mutual TLS peer link and a
TLS data stream on both QEMUs), with medians side by side and the ratios
tls/clear.

Measured per run: end-to-end time (Migrate() until the Migration's State
is completed), the source QEMU's CPU time and the source ferryd's CPU
time over the same span (utime+stime from /proc; the QEMU is sampled
until it exits). Run as root with /usr/bin/python3 (PyGObject):

    sudo /usr/bin/python3 bench/tls-cost.py --rounds 5
"""

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC_ROOT, 'tests', 'e2e'))

import benchlib  # noqa: E402

from gi.repository import GLib  # noqa: E402

import ferrypki  # noqa: E402
import ferrytest  # noqa: E402
from ferrytest import (DOMAIN_IFACE, MANAGER_IFACE, MIGRATION_IFACE,  # noqa
                       ROOT_PATH)

TICK = os.sysconf('SC_CLK_TCK')


def cpu_ms(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / TICK


class CpuSampler:
    """The last CPU time seen of a process, sampled until it exits."""

    def __init__(self, pid):
        self.pid = pid
        self.start = cpu_ms(pid)
        self.last = self.start
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop:
            v = cpu_ms(self.pid)
            if v is None:
                return
            self.last = v
            time.sleep(0.02)

    def used(self):
        self._stop = True
        self.thread.join()
        return self.last - self.start


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def tls_host(name, ca, cn, listen=None):
    args = ['--tls-listen', '127.0.0.1:%d' % listen] if listen else []
    h = ferrytest.Host(name, start_ferryd=False, ferryd_args=args)
    h.__enter__()
    ca.host_pki(os.path.join(h.config_dir, 'pki'), cn)
    h.start_ferryd()
    return h


def one_run(a, b, name, dest, memory, append, pause):
    dom = ferrytest.domain_path(name)
    if dom not in a.managed_objects():
        ferrytest.define_guest(a, name, memory=memory, append=append)
    log = a.console_log(name)
    seen = len(ferrytest.heartbeats(log))
    a.call(dom, DOMAIN_IFACE, 'Start')
    a.wait_state(dom, 'running', 30)
    # the console log goes on across runs: two heartbeats of this one
    # (the working set is written by then)
    ferrytest.wait_for(lambda: len(ferrytest.heartbeats(log)) >= seen + 2,
                       60, 0.1, msg='no heartbeats')
    time.sleep(pause)
    qemu = CpuSampler(a.qemu_pid(name))
    ferryd = cpu_ms(a.ferryd_pid)
    t0 = time.monotonic()
    (path,) = a.call(ROOT_PATH, MANAGER_IFACE, 'Migrate',
                     GLib.Variant('(ssa{sv})', (name, dest, {})))
    state = ferrytest.wait_for(
        lambda: (lambda s: s if s in ferrytest.FINAL_STATES else None)(
            a.get_prop(path, MIGRATION_IFACE, 'State')), 300, 0.01)
    elapsed = (time.monotonic() - t0) * 1000
    ferryd = cpu_ms(a.ferryd_pid) - ferryd
    q = qemu.used()
    stats = a.get_prop(path, MIGRATION_IFACE, 'Statistics')
    stamps = a.get_prop(path, MIGRATION_IFACE, 'PhaseTimestamps')
    phases = ' '.join('%s+%d' % (p, (stamps[p] - stamps['begin']) // 1000)
                      for p in ('prepare', 'perform', 'finish', 'confirm',
                                'done') if p in stamps)
    if state != 'completed':
        raise RuntimeError('migration %s: %s' % (path, state))
    b.call(dom, DOMAIN_IFACE, 'Shutdown', timeout=30)
    b.wait_state(dom, 'shutoff', 30)
    return {'time_ms': elapsed, 'qemu_cpu_ms': q, 'ferryd_cpu_ms': ferryd,
            'downtime_ms': stats.get('downtime-real', 0),
            'mib': stats.get('memory-transferred', 0) / (1 << 20),
            'features': stats.get('features', []), 'phases': phases}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--memory', type=int, default=256, help='MiB')
    ap.add_argument('--append', default='wss=100 rate=0 hb=500')
    ap.add_argument('--pause', type=float, default=3.0)
    ap.add_argument('--build-dir', default=os.path.join(SRC_ROOT, 'build'))
    args = ap.parse_args()
    benchlib.use_build(args.build_dir)
    benchlib.require_root('tls-cost')
    ferrytest.install_signal_teardown()
    tmp = tempfile.mkdtemp(prefix='ferry-tls-bench-')
    port = free_port()
    ca = ferrypki.CA(tmp, 'bench CA')
    a = b = None
    results = {'clear': [], 'tls': []}
    try:
        a = tls_host('A', ca, 'bench-a')
        b = tls_host('B', ca, 'bench-b', listen=port)
        dests = {'clear': b.address, 'tls': 'tls://127.0.0.1:%d' % port}
        for r in range(args.rounds):
            for kind in ('clear', 'tls'):
                res = one_run(a, b, 'bench', dests[kind], args.memory,
                              args.append, args.pause)
                results[kind].append(res)
                print('round %d %-5s %7.0f ms  qemu %6.0f ms cpu  ferryd '
                      '%5.0f ms cpu  downtime %4d ms  %5.1f MiB  %s' % (
                          r + 1, kind, res['time_ms'], res['qemu_cpu_ms'],
                          res['ferryd_cpu_ms'], res['downtime_ms'], res['mib'],
                          res['phases']), flush=True)
    finally:
        for h in (b, a):
            if h is not None:
                h.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print('\nmedians of %d rounds (guest %d MiB, %s):' % (
        args.rounds, args.memory, args.append))
    print('%-22s %10s %10s %8s' % ('', 'clear', 'tls', 'tls/clear'))
    for key, label in (('time_ms', 'end-to-end time (ms)'),
                       ('qemu_cpu_ms', 'source QEMU CPU (ms)'),
                       ('ferryd_cpu_ms', 'source ferryd CPU (ms)'),
                       ('downtime_ms', 'downtime-real (ms)'),
                       ('mib', 'memory sent (MiB)')):
        c = statistics.median(x[key] for x in results['clear'])
        t = statistics.median(x[key] for x in results['tls'])
        print('%-22s %10.0f %10.0f %8s' % (
            label, c, t, '%.2f' % (t / c) if c else '-'))


if __name__ == '__main__':
    main()
