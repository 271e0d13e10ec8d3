#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a client costs: following a migration, side by side.

  py    bench/client-follow.py, a Python client on libferry through
        GObject introspection (Ferry.Client, notify::progress, wait_async)
  ctl   `ferryctl watch ID` (plain output to a pipe)

Two Ferry hosts from tests/e2e/ferrytest.py. Each run starts the test
guest on A (128 MiB, append 'wss=64 rate=0 hb=200', TCG), starts
Manager.Migrate(guest, B, {max-bandwidth: 8 MiB/s}) on A's bus, and then
the client, which follows the migration until it ends. Runs alternate
py ctl py ctl ...; the guest is shut down on B after each run.

Measured per run, for the client process:
  - D-Bus method calls it sends on A's bus (a monitor on A's bus, the
    sender mapped to the client by its PID): in the follow phase, on exit
    and in all. The follow phase starts when the client has its initial
    state and ends when it has seen the end: for py the calls with a
    serial between the ones it reports on its "ready" and "end" lines
    (those above "end" are its exit), for ctl the calls after its first
    line of output (it exits when the migration ends);
  - CPU time (utime+stime, all threads) while following: os.wait4()'s
    rusage at exit minus the sum of /proc/PID/task/*/schedstat (ns) at the
    start of the follow phase; and in all (wait4);
  - the follow phase's wall time and the client's output lines.

Run as root with /usr/bin/python3 (PyGObject); see bench/README.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from gi.repository import Gio, GLib

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC_ROOT, 'tests', 'e2e'))

import benchlib  # noqa: E402

import ferrytest  # noqa: E402
from ferrytest import DOMAIN_IFACE, MANAGER_IFACE  # noqa: E402
from ferrytest import MIGRATION_IFACE, ROOT_PATH  # noqa: E402

MEMORY = 128
APPEND = 'wss=64 rate=0 hb=200'
BANDWIDTH = 8 << 20
CLIENTS = ('py', 'ctl')
LABELS = {'py': 'Python on libferry', 'ctl': 'ferryctl watch'}


def log(*args):
    print('[client-cost %s]' % time.strftime('%H:%M:%S'), *args,
          file=sys.stderr, flush=True)


class StampedMonitor(ferrytest.BusMonitor):
    """A BusMonitor that also keeps each message's serial and the
    monotonic time it arrived: .stamped is [(t, serial, BusMessage)]."""

    def __init__(self, address, rules=()):
        self.stamped = []
        super().__init__(address, rules)

    def _on_message(self, conn, message, incoming):
        if not incoming or message.get_destination() == self._me:
            return message
        self.stamped.append((time.monotonic(), message.get_serial(),
                             ferrytest.BusMessage(message)))
        return None


def cpu_ns(pid):
    """CPU time of all threads of pid so far (ns), from schedstat."""
    total = 0
    tasks = '/proc/%d/task' % pid
    for tid in os.listdir(tasks):
        try:
            with open('%s/%s/schedstat' % (tasks, tid)) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def name_of_pid(bus, pid, names_seen):
    """The unique name on bus that belongs to process pid, or None."""
    for name in names_seen:
        try:
            (p,) = bus.call_sync(
                'org.freedesktop.DBus', '/org/freedesktop/DBus',
                'org.freedesktop.DBus', 'GetConnectionUnixProcessID',
                GLib.Variant('(s)', (name,)), GLib.VariantType('(u)'),
                Gio.DBusCallFlags.NONE, 2000, None).unpack()
        except GLib.Error:
            continue
        if p == pid:
            return name
    return None


def run_one(kind, run, a, b, args):
    name = 'cost%d' % run
    path_dom = ferrytest.domain_path(name)
    ferrytest.start_guest(a, name, memory=MEMORY, append=APPEND, timeout=60)
    ferrytest.wait_heartbeats(a, name, 3)
    time.sleep(args.pause)

    mon = StampedMonitor(a.address, ["type='method_call'"])
    (mpath,) = a.call(ROOT_PATH, MANAGER_IFACE, 'Migrate',
                      GLib.Variant('(ssa{sv})', (
                          name, b.address,
                          {'max-bandwidth': GLib.Variant('t', BANDWIDTH)})))
    mid = mpath.rsplit('/', 1)[1]
    if kind == 'py':
        argv = [ferrytest.SYSTEM_PY, os.path.join(HERE, 'client-follow.py'),
                mpath]
    else:
        argv = [args.ferryctl, '--address', a.address, 'watch', mid]
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=a.address)
    t_start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines = []
    first = {}

    def reader():
        for ln in proc.stdout:
            t = time.monotonic()
            if not first:
                # the follow phase starts here: the client has its state
                first['t'] = t
                try:
                    first['cpu_ns'] = cpu_ns(proc.pid)
                except FileNotFoundError:
                    first['cpu_ns'] = None
            lines.append((t, ln.rstrip('\n')))
    th = threading.Thread(target=reader, daemon=True)
    th.start()

    # the client's unique name: by its PID, while it runs
    bus = a.bus()
    client_name = None
    while client_name is None and proc.poll() is None:
        senders = {m.sender for _, _, m in list(mon.stamped)}
        client_name = name_of_pid(bus, proc.pid, senders)
        if client_name is None:
            time.sleep(0.02)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    t_end = time.monotonic()
    th.join(5)
    err = proc.stderr.read()
    time.sleep(0.2)          # the monitor's last messages
    mon.close()

    ferrytest.wait_for(lambda: a.get_prop(mpath, MIGRATION_IFACE, 'State') in
                       ferrytest.FINAL_STATES, 60)
    state = a.get_prop(mpath, MIGRATION_IFACE, 'State')
    stats = dict(a.get_prop(mpath, MIGRATION_IFACE, 'Statistics'))

    calls = [(t, s, m) for t, s, m in mon.stamped
             if client_name and m.sender == client_name]
    ready_serial = end_serial = None
    if kind == 'py':
        for _, ln in lines:
            if ln.startswith('ready '):
                _, uname, serial = ln.split()
                ready_serial = int(serial)
                if uname != client_name:
                    raise AssertionError('client says it is %s, the bus %s'
                                         % (uname, client_name))
            elif ln.startswith('end '):
                end_serial = int(ln.split()[2])
        follow = [m for t, s, m in calls if ready_serial < s <= end_serial]
        at_exit = [m for t, s, m in calls if s > end_serial]
    else:
        # ferryctl exits as soon as the migration ended; what it sends
        # last, dropping its match rules as it tears down, is its exit
        follow = [m for t, s, m in calls if first and t > first['t']]
        at_exit = []
        while follow and follow[-1].interface == 'org.freedesktop.DBus' \
                and follow[-1].member == 'RemoveMatch':
            at_exit.insert(0, follow.pop())
    cpu_total_ms = (ru.ru_utime + ru.ru_stime) * 1000.0
    cpu_ready_ms = first.get('cpu_ns', 0) / 1e6 if first.get('cpu_ns') \
        is not None else None
    r = {
        'client': kind, 'run': run, 'exit': proc.returncode,
        'migration_state': state,
        'migration_total_ms': stats.get('total-time'),
        'client_name': client_name,
        'calls_total': len(calls),
        'calls_follow': len(follow),
        'calls_follow_list': ['%s.%s' % (m.interface, m.member)
                              for m in follow],
        'calls_exit': len(at_exit),
        'calls_exit_list': ['%s.%s' % (m.interface, m.member)
                            for m in at_exit],
        'calls_initial_list': ['%s.%s' % (m.interface, m.member)
                               for _, _, m in calls][:40],
        'cpu_total_ms': cpu_total_ms,
        'cpu_follow_ms': (cpu_total_ms - cpu_ready_ms)
        if cpu_ready_ms is not None else None,
        'follow_s': (t_end - first['t']) if first else None,
        'startup_s': (first['t'] - t_start) if first else None,
        'lines': len(lines),
        'output_head': [ln for _, ln in lines[:3]],
        'output_tail': [ln for _, ln in lines[-3:]],
    }
    if proc.returncode != 0:
        r['stderr'] = err[-2000:]
    # the guest is on B now (or still on A if the migration failed)
    for h in (b, a):
        try:
            if h.domain_state(path_dom) == 'running':
                h.call(path_dom, DOMAIN_IFACE, 'Shutdown')
                h.wait_state(path_dom, 'shutoff', 30)
        except GLib.Error:
            pass
    return r


def median(results, kind, key):
    vals = [r[key] for r in results if r['client'] == kind and
            r.get(key) is not None and 'error' not in r]
    return statistics.median(vals) if vals else None


ROWS = [
    ('calls_follow', 'D-Bus method calls while following', '%.0f'),
    ('calls_exit', 'D-Bus method calls on exit', '%.0f'),
    ('calls_total', 'D-Bus method calls in all', '%.0f'),
    ('cpu_follow_ms', 'CPU while following (ms)', '%.1f'),
    ('cpu_total_ms', 'CPU in all, incl. start-up (ms)', '%.1f'),
    ('follow_s', 'follow phase (s, wall)', '%.2f'),
    ('cpu_follow_pct', 'CPU while following (% of one core)', '%.2f'),
    ('startup_s', 'start-up until it has its state (s)', '%.3f'),
    ('lines', 'output lines', '%.0f'),
]


def print_runs(results):
    print('run client  exit  calls(follow/exit/all)  CPU follow/all (ms)  '
          'follow (s)  migration')
    for r in results:
        if 'error' in r:
            print('%3d %-6s  error: %s' % (r['run'], r['client'], r['error']))
            continue
        print('%3d %-6s  %4d  %6d/%d/%-12d  %8.1f/%-9.1f  %10.2f  %s %s ms' % (
            r['run'], r['client'], r['exit'], r['calls_follow'],
            r['calls_exit'], r['calls_total'], r['cpu_follow_ms'] or 0,
            r['cpu_total_ms'], r['follow_s'] or 0, r['migration_state'],
            r['migration_total_ms']))


def print_table(results):
    for r in results:
        if r.get('cpu_follow_ms') is not None and r.get('follow_s'):
            r['cpu_follow_pct'] = r['cpu_follow_ms'] / 10.0 / r['follow_s']
    w = max(len(lbl) for _, lbl, _ in ROWS)
    print('%-*s | %18s | %14s | %s' % (w, 'median of %d+%d runs' % (
        sum(r['client'] == 'py' for r in results),
        sum(r['client'] == 'ctl' for r in results)),
        LABELS['py'], LABELS['ctl'], 'py/ctl'))
    print('-' * (w + 50))
    for key, label, fmt in ROWS:
        p, c = median(results, 'py', key), median(results, 'ctl', key)
        if p is None or c is None:
            ratio = '-'
        elif c:
            ratio = '%.2f' % (p / c)
        else:
            ratio = 'both 0' if not p else 'inf'
        print('%-*s | %18s | %14s | %s' % (
            w, label, '-' if p is None else fmt % p,
            '-' if c is None else fmt % c, ratio))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build-dir', default=os.path.join(SRC_ROOT, 'build'))
    ap.add_argument('--pairs', type=int, default=3,
                    help='runs of each client (alternating), default 3')
    ap.add_argument('--pause', type=float, default=3.0,
                    help='seconds between the guest booting and Migrate')
    ap.add_argument('--json', help='write the raw results here')
    args = ap.parse_args()
    bd = os.path.abspath(args.build_dir)
    benchlib.use_build(bd,
                       FERRYCTL=os.path.join(bd, 'ferryctl', 'ferryctl'),
                       GI_TYPELIB_PATH=os.path.join(bd, 'libferry'),
                       LD_LIBRARY_PATH=os.path.join(bd, 'libferry'))
    args.ferryctl = os.environ['FERRYCTL']
    for k in ('FERRYD', 'FERRYCTL', 'FERRY_TEST_GUEST'):
        if not os.path.exists(os.environ[k]):
            sys.exit('%s=%s not built (ninja -C %s)' % (k, os.environ[k], bd))
    if not os.path.exists(os.path.join(bd, 'libferry', 'Ferry-1.0.typelib')):
        sys.exit('Ferry-1.0.typelib not built in %s/libferry' % bd)
    benchlib.require_root('client-cost')
    ferrytest.install_signal_teardown()

    tmp = tempfile.mkdtemp(prefix='ferry-client-cost-')
    os.chmod(tmp, 0o755)
    results = []
    with ferrytest.Host('A', tmp_root=tmp) as a, \
            ferrytest.Host('B', tmp_root=tmp) as b:
        run = 0
        for i in range(args.pairs):
            for kind in CLIENTS:
                run += 1
                log('run %d: %s' % (run, kind))
                try:
                    r = run_one(kind, run, a, b, args)
                except Exception as e:  # noqa: BLE001
                    log('run %d failed: %s' % (run, e))
                    r = {'client': kind, 'run': run, 'error': str(e)}
                log(json.dumps({k: (round(v, 2) if isinstance(v, float)
                                    else v) for k, v in r.items()}))
                results.append(r)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    print()
    print_runs(results)
    print()
    print_table(results)
    bad = [r for r in results if 'error' in r or r.get('exit') != 0 or
           r.get('migration_state') != 'completed']
    polled = [r for r in results if r.get('calls_follow')]
    if polled:
        print('\nclients that sent calls while following:')
        for r in polled:
            print('  run %d %s: %s' % (r['run'], r['client'],
                                       ', '.join(r['calls_follow_list'])))
    if bad:
        print('\n%d run(s) failed' % len(bad))
    return 1 if bad or any(r['client'] == 'py' for r in polled) else 0


if __name__ == '__main__':
    sys.exit(main())
