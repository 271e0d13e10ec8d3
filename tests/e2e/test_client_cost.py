#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client following a migration through libferry never polls (issue 6):
bench/client-follow.py, a Python client on Ferry-1.0 (GObject
introspection) in a process of its own, follows a migration from A to B
while a monitor on A's bus records every method call; after its initial
state fetch it sends none until it has seen the migration end. (Its CPU
time is measured by bench/client-cost.py, not here.)"""

import os
import subprocess

from gi.repository import GLib

import ferrytest
from ferrytest import DOMAIN_IFACE, MANAGER_IFACE, ROOT_PATH

SRC_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FOLLOW = os.path.join(SRC_ROOT, 'bench', 'client-follow.py')
# a few seconds of migration of a 64 MiB working set: several progress
# values to follow
BANDWIDTH = 24 << 20
GUEST_APPEND = 'wss=64 rate=0 hb=200'
# the interpreter is not built with ASan: no leak reports for it
SCRIPT_ASAN_OPTIONS = 'detect_leaks=0:verify_asan_link_order=0'


class SerialMonitor(ferrytest.BusMonitor):
    """A BusMonitor that keeps (sender, serial, interface, member) of each
    message in .stamped: a sender's serials order its messages."""

    def __init__(self, address, rules=()):
        self.stamped = []
        super().__init__(address, rules)

    def _on_message(self, conn, message, incoming):
        if incoming and message.get_destination() != self._me:
            self.stamped.append((message.get_sender(), message.get_serial(),
                                 message.get_interface(),
                                 message.get_member()))
        return super()._on_message(conn, message, incoming)


class ClientCostTest(ferrytest.TwoHostTestCase):

    def test_1_following_sends_no_calls(self):
        if not os.environ.get('GI_TYPELIB_PATH'):
            ferrytest._fail_or_skip('GI_TYPELIB_PATH is not set (libferry '
                                    'built without introspection?)')
        name = 'follow'
        ferrytest.start_guest(self.a, name, memory=128, append=GUEST_APPEND)
        ferrytest.wait_heartbeats(self.a, name, 3)

        mon = SerialMonitor(self.a.address, ["type='method_call'"])
        self.addCleanup(mon.close)
        (path,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'Migrate',
                              GLib.Variant('(ssa{sv})', (
                                  name, self.b.address,
                                  {'max-bandwidth':
                                   GLib.Variant('t', BANDWIDTH)})))
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.a.address)
        preload = os.environ.get('FERRY_SANITIZER_PRELOAD')
        if preload:
            env['LD_PRELOAD'] = preload
            env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') + ':' +
                                   SCRIPT_ASAN_OPTIONS).lstrip(':')
        r = subprocess.run([ferrytest.SYSTEM_PY, FOLLOW, path], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
        ferrytest.log('client-follow.py: rc %d\n%s%s' % (
            r.returncode, r.stdout, r.stderr))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        ready = [ln.split() for ln in lines if ln.startswith('ready ')]
        end = [ln.split() for ln in lines if ln.startswith('end ')]
        self.assertEqual(len(ready), 1, lines)
        self.assertEqual(len(end), 1, lines)
        me, ready_serial = ready[0][1], int(ready[0][2])
        self.assertEqual(end[0][1], 'completed', lines)
        end_serial = int(end[0][2])
        progress = [float(ln.split()[1]) for ln in lines
                    if ln.startswith('progress ')]
        self.assertGreaterEqual(len(set(progress)), 3,
                                'fewer than 3 progress values: %r' % lines)

        # the monitor has seen everything the client sent before it exited
        ferrytest.wait_for(lambda: any(s == me for s, *_ in
                                       list(mon.stamped)), 5)
        mon.close()
        mine = [x for x in mon.stamped if x[0] == me]
        initial = [x for x in mine if x[1] <= ready_serial]
        follow = [x for x in mine if ready_serial < x[1] <= end_serial]
        at_exit = [x for x in mine if x[1] > end_serial]
        ferrytest.log('client %s: %d calls to get its state, %d while '
                      'following, %d on exit' % (me, len(initial),
                                                 len(follow), len(at_exit)))
        self.assertIn('GetManagedObjects', [x[3] for x in initial],
                      'the monitor did not see the initial state fetch')
        self.assertEqual(follow, [], 'the client sent calls while '
                         'following the migration (it polled)')
        # exiting may drop match rules; it calls nothing of ferryd's
        self.assertEqual([x for x in at_exit
                          if x[2] != 'org.freedesktop.DBus'], [], at_exit)

        path_dom = ferrytest.domain_path(name)
        self.b.wait_state(path_dom, 'running')
        self.b.call(path_dom, DOMAIN_IFACE, 'Shutdown')
        self.b.wait_state(path_dom, 'shutoff', 30)


if __name__ == '__main__':
    ferrytest.main()
