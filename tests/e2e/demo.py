#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ferry demo: two local "hosts" A and B (each a private system bus, the
real polkitd and a ferryd), a demo guest started on A and live-migrated to
B, and its heartbeat carrying on there.

Run through scripts/demo.sh, which builds Ferry and sets:
  FERRYD, FERRY_TEST_GUEST, FERRY_POLICY, FERRY_BUS_POLICY (see ferrytest.py)
  FERRYCTL   the ferryctl client (default: next to FERRYD; without it the
             demo drives Manager.Migrate itself and prints a progress line)

Also an e2e test (e2e-demo): exits non-zero when the migration fails or the
guest's heartbeat does not continue on B.
"""

import os
import shutil
import subprocess
import sys
import time

import ferrytest as ft
from gi.repository import GLib

DOMAIN = 'demo'
MEMORY = 256
APPEND = 'wss=100 rate=0 hb=500'


def title(text):
    print('\n\033[1m==> %s\033[0m' % text if sys.stdout.isatty()
          else '\n==> %s' % text, flush=True)


def run(argv):
    print('$ ' + ' '.join(argv), flush=True)
    r = subprocess.run(argv, stdin=subprocess.DEVNULL)
    return r.returncode


def show_host(host, dom_path):
    if shutil.which('busctl'):
        run(['busctl', '--address=' + host.address, 'tree', ft.BUS_NAME])
        run(['busctl', '--address=' + host.address, 'introspect',
             ft.BUS_NAME, dom_path, ft.DOMAIN_IFACE])
    else:
        run(['gdbus', 'introspect', '--address', host.address, '--dest',
             ft.BUS_NAME, '--object-path', ft.ROOT_PATH, '--recurse',
             '--only-properties'])
    props = host.get_all(dom_path, ft.DOMAIN_IFACE)
    print('Domain properties on host %s:' % host.name)
    for k in sorted(props):
        print('  %-10s %r' % (k, props[k]))


def migrate_with_ferryctl(ferryctl, a, b):
    # A bandwidth cap makes the 100 MiB copy last a couple of seconds, long
    # enough to watch ferryctl's progress bar (FERRY_DEMO_BANDWIDTH=0: none).
    bandwidth = os.environ.get('FERRY_DEMO_BANDWIDTH', '48M')
    argv = [ferryctl, '--address', a.address, 'migrate', DOMAIN, b.address]
    if bandwidth not in ('', '0'):
        argv.append('--max-bandwidth=' + bandwidth)
    return run(argv) == 0


def console_tail(host, n=6):
    path = host.console_log(DOMAIN)
    try:
        with open(path, 'rb') as f:
            lines = f.read().decode(errors='replace').replace(
                '\r', '\n').splitlines()
    except OSError as e:
        return '  (no console log: %s)' % e
    return '\n'.join('  ' + ln for ln in [x for x in lines if x.strip()][-n:])


def main():
    ft.install_signal_teardown()
    ft.require_environment(ferryd=True, guest=True)
    # default: the ferryctl of the build tree ferryd comes from
    # (<build>/ferryd/ferryd -> <build>/ferryctl/ferryctl)
    ferryctl = os.environ.get('FERRYCTL') or os.path.join(
        os.path.dirname(os.path.dirname(os.environ['FERRYD'])), 'ferryctl',
        'ferryctl')
    if not os.access(ferryctl, os.X_OK):
        raise SystemExit('demo: ferryctl not found at %s (build first)'
                         % ferryctl)

    title('Bringing up two hosts (private system bus + polkitd + ferryd)')
    with ft.Host('A') as a, ft.Host('B') as b:
        print('host A: %s\nhost B: %s' % (a.address, b.address))

        title('Starting the demo guest on A (%d MiB, "%s")' % (MEMORY,
                                                                 APPEND))
        dom_a = ft.start_guest(a, DOMAIN, memory=MEMORY, append=APPEND)
        hb = ft.wait_heartbeats(a, DOMAIN, count=3, timeout=60)
        print('guest is running on A; heartbeat #%d seen' % hb[-1]['n'])

        title('What host A shows on its bus')
        show_host(a, dom_a)

        title('Migrating %s from A to B' % DOMAIN)
        t0 = time.monotonic()
        ok = migrate_with_ferryctl(ferryctl, a, b)
        print('migration %s after %.2fs' % ('finished' if ok else 'FAILED',
                                           time.monotonic() - t0))
        if not ok:
            a.failed = b.failed = True
            return 1

        title('The guest carries on on B')
        dom_b = ft.domain_path(DOMAIN)
        b.wait_state(dom_b, 'running', 30)
        last_a = ft.heartbeats(a.console_log(DOMAIN))
        last_n = last_a[-1]['n'] if last_a else -1

        def newer_on_b():
            hbs = ft.heartbeats(b.console_log(DOMAIN))
            return [h for h in hbs if h['n'] > last_n][:2] or None
        try:
            newer = ft.wait_for(newer_on_b, 30, 0.2)
        except AssertionError:
            newer = None
        print('console of %s on A (source, stopped):' % DOMAIN)
        print(console_tail(a))
        print('console of %s on B (destination, running):' % DOMAIN)
        print(console_tail(b))
        try:
            state_a = a.domain_state(dom_a)
        except GLib.Error:
            state_a = '(no longer defined)'
        print('State on A: %s   State on B: %s' % (state_a,
                                                   b.domain_state(dom_b)))
        if not newer:
            print('NO new heartbeat from the guest on B after #%d' % last_n)
            a.failed = b.failed = True
            return 1
        print('heartbeat #%d was the last on A; B continues with #%d '
              '(same guest memory, same counter)' % (last_n, newer[0]['n']))

        title('Tearing down')
        try:
            b.call(dom_b, ft.DOMAIN_IFACE, 'Shutdown')
        except GLib.Error as e:
            print('Shutdown on B: %s' % (ft.dbus_error(e),))
    print('done.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
