#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How fast Ferry's convergence policy finishes a guest that dirties far
faster than the link, against what an operator would do by hand.

Two Ferry hosts (tests/e2e/ferrytest.py), the test guest dirtying
200 MiB/s over a 48 MiB working set (128 MiB, 1 vCPU, TCG), the link
capped with max-bandwidth (16 MiB/s). Three ways, alternating in one run:

  default   Migrate with max-bandwidth only: the policy decides
  by-hand   postcopy=manual, StartPostCopy as soon as Iteration reaches 2
            (the first full pass is over)
  autoconv  postcopy=off, auto-converge=true: QEMU throttles the guest

Each run starts a fresh guest on A; the time is wall-clock from the
Migrate call to State=completed (the client's view). Prints medians and
the ratios default/by-hand (target <= 1.2) and default/autoconv.

    sudo /usr/bin/python3 bench/policy-bench.py [--rounds 2] [--build-dir build]
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC_ROOT, 'tests', 'e2e'))

import benchlib  # noqa: E402

MiB = 1 << 20
LINK = 16 * MiB
APPEND = 'wss=48 rate=200 hb=200'
MEMORY = 128
MODES = ('default', 'by-hand', 'autoconv')


def log(*args):
    print('[policy-bench %s]' % time.strftime('%H:%M:%S'), *args, flush=True)


def options(mode):
    from gi.repository import GLib
    opts = {'max-bandwidth': GLib.Variant('t', LINK)}
    if mode == 'by-hand':
        opts['postcopy'] = GLib.Variant('s', 'manual')
    elif mode == 'autoconv':
        opts['postcopy'] = GLib.Variant('s', 'off')
        opts['auto-converge'] = GLib.Variant('b', True)
    return opts


def run_once(ft, a, b, mode, n, timeout):
    """One migration; returns a dict of what was measured."""
    name = 'pb%d%s' % (n, mode.replace('-', ''))
    ft.start_guest(a, name, memory=MEMORY, append=APPEND)
    ft.wait_heartbeats(a, name, 2)
    t0 = time.time()
    (path,) = a.call(ft.ROOT_PATH, ft.MANAGER_IFACE, 'Migrate',
                     ft.GLib.Variant('(ssa{sv})',
                                     (name, b.address, options(mode))))
    switched = None
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        props = a.get_all(path, ft.MIGRATION_IFACE)
        state = props['State']
        if state in ft.FINAL_STATES:
            break
        if (mode == 'by-hand' and switched is None and
                props['Iteration'] >= 2 and state == 'active'):
            a.call(path, ft.MIGRATION_IFACE, 'StartPostCopy')
            switched = time.time() - t0
        time.sleep(0.05)
    elapsed = time.time() - t0
    if state not in ft.FINAL_STATES:
        a.call(path, ft.MIGRATION_IFACE, 'Cancel')
        props = ft.wait_for(
            lambda: a.get_prop(path, ft.MIGRATION_IFACE, 'State')
            in ft.FINAL_STATES and a.get_all(path, ft.MIGRATION_IFACE), 60)
    stats = props['Statistics']
    result = {
        'mode': mode, 'round': n, 'state': props['State'],
        'time_s': round(elapsed, 2), 'migration_mode': props['Mode'],
        'iterations': stats.get('iterations'),
        'downtime_ms': stats.get('downtime-real', stats.get('downtime')),
        'transferred_mib': round(stats.get('memory-transferred', 0) / MiB, 1),
        'switched_s': round(switched, 2) if switched else None,
    }
    log(result)
    # tidy: the guest ends wherever it is
    for host in (b, a):
        dom = ft.domain_path(name)
        try:
            if host.domain_state(dom) not in ('shutoff',):
                host.call(dom, ft.DOMAIN_IFACE, 'Shutdown', timeout=30)
        except Exception:  # noqa: BLE001 - not defined there
            pass
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--timeout', type=float, default=300.0,
                    help='a run that has not completed by then is cancelled')
    ap.add_argument('--build-dir', default=os.path.join(SRC_ROOT, 'build'))
    args = ap.parse_args()
    benchlib.use_build(args.build_dir)
    benchlib.require_root('policy-bench')

    import ferrytest as ft
    ft.require_environment(guest=True)
    results = []
    with ft.Host('pbench-a') as a, ft.Host('pbench-b') as b:
        for n in range(args.rounds):
            for mode in MODES:
                results.append(run_once(ft, a, b, mode, n, args.timeout))

    print()
    print('%-9s %9s %6s %10s  %s' % ('mode', 'median s', 'runs', 'completed',
                                     'times'))
    med = {}
    for mode in MODES:
        rs = [r for r in results if r['mode'] == mode]
        ok = [r['time_s'] for r in rs if r['state'] == 'completed']
        med[mode] = statistics.median(ok) if ok else None
        print('%-9s %9s %6d %10d  %s' % (
            mode, '%.1f' % med[mode] if ok else '-', len(rs), len(ok),
            ' '.join('%.1f' % r['time_s'] for r in rs)))
    print()
    if med['default'] and med['by-hand']:
        ratio = med['default'] / med['by-hand']
        print('default / by-hand  = %.2fx (target <= 1.2x: %s)' % (
            ratio, 'met' if ratio <= 1.2 else 'MISSED'))
    if med['default'] and med['autoconv']:
        print('default / autoconv = %.2fx' % (med['default'] / med['autoconv']))
    elif med['default']:
        print('default / autoconv = autoconv did not complete within %d s' %
              args.timeout)


if __name__ == '__main__':
    main()
