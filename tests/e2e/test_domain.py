#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""QMP-backend domain life cycle (DESIGN §4): Start runs the test guest,
its console reaches the console log, Shutdown stops it, a killed QEMU is
noticed, the QMP socket is private."""

import os
import signal
import stat
import time

import ferrytest
from ferrytest import DOMAIN_IFACE


class DomainTest(ferrytest.HostTestCase):
    host_name = 'dom'
    need_guest = True

    def assertNoQemu(self, name, timeout=15):
        ferrytest.wait_for(lambda: self.host.qemu_pid(name) is None, timeout,
                           msg='QEMU of %s still running' % name)

    def test_lifecycle(self):
        h = self.host
        name = 'life'
        path = ferrytest.define_guest(h, name)
        self.assertEqual(h.domain_state(path), 'shutoff')
        self.assertIsNone(h.qemu_pid(name))

        h.call(path, DOMAIN_IFACE, 'Start')
        h.wait_state(path, 'running', 30)
        pid = h.qemu_pid(name)
        self.assertIsNotNone(pid, 'no QEMU process with %s on its command '
                             'line' % h.qmp_socket(name))

        # the QMP socket is private to root
        qmp = h.qmp_socket(name)
        ferrytest.wait_for(lambda: os.path.exists(qmp), 5,
                           msg='QMP socket %s' % qmp)
        st = os.stat(qmp)
        self.assertTrue(stat.S_ISSOCK(st.st_mode), '%s is not a socket' % qmp)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600,
                         'QMP socket mode is %o' % stat.S_IMODE(st.st_mode))
        self.assertEqual(st.st_uid, 0)

        hb = ferrytest.wait_heartbeats(h, name, 3, 60)
        self.assertGreaterEqual(len(hb), 3)
        for b in hb:
            self.assertEqual(b.get('err'), 0, 'guest reports errors: %r' % b)
            self.assertEqual(b.get('verify_bad', 0), 0, b)
        ns = [b['n'] for b in hb]
        self.assertEqual(ns, sorted(ns), 'heartbeat counter not increasing')
        self.assertEqual(len(set(ns)), len(ns), 'heartbeat counter repeats')

        # ACPI power-down: the guest powers itself off, well before
        # ferryd's grace period would stop QEMU
        t = time.monotonic()
        h.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        h.wait_state(path, 'shutoff', 15)
        self.assertLess(time.monotonic() - t, 2.5,
                        'the guest did not power off by itself')
        self.assertIn('GUEST power off', open(h.console_log(name)).read())
        self.assertNoQemu(name)
        self.assertEqual(h.get_prop(path, DOMAIN_IFACE, 'Migration'), '/')

        # Start again, then kill QEMU behind ferryd's back
        h.call(path, DOMAIN_IFACE, 'Start')
        h.wait_state(path, 'running', 30)
        pid2 = h.qemu_pid(name)
        self.assertIsNotNone(pid2)
        self.assertNotEqual(pid, pid2)
        os.kill(pid2, signal.SIGKILL)
        h.wait_state(path, 'shutoff', 15)
        self.assertNoQemu(name)
        self.assertTrue(h.ferryd_running(), 'ferryd died with its QEMU')

        # and it can be started once more
        h.call(path, DOMAIN_IFACE, 'Start')
        h.wait_state(path, 'running', 30)
        h.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        h.wait_state(path, 'shutoff', 15)
        self.assertNoQemu(name)

    def test_shutdown_of_a_guest_that_ignores_acpi(self):
        # A hung guest ignores the power button: ferryd stops QEMU after
        # its grace period, and Shutdown still ends in shutoff
        h = self.host
        name = 'deaf'
        path = ferrytest.start_guest(h, name, append='wss=4 hb=200 acpi=0')
        ferrytest.wait_heartbeats(h, name, 1)
        t = time.monotonic()
        h.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        h.wait_state(path, 'shutoff', 15)
        self.assertGreaterEqual(time.monotonic() - t, 2.5,
                                'the guest powered off although acpi=0')
        self.assertNotIn('GUEST power off', open(h.console_log(name)).read())
        self.assertNoQemu(name)

    def test_console_log_appends(self):
        h = self.host
        name = 'console'
        path = ferrytest.define_guest(h, name)
        h.call(path, DOMAIN_IFACE, 'Start')
        h.wait_state(path, 'running', 30)
        first = ferrytest.wait_heartbeats(h, name, 2, 60)
        h.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        h.wait_state(path, 'shutoff', 15)
        n_before = len(ferrytest.heartbeats(h.console_log(name)))
        self.assertGreaterEqual(n_before, len(first))
        h.call(path, DOMAIN_IFACE, 'Start')
        h.wait_state(path, 'running', 30)
        ferrytest.wait_heartbeats(h, name, n_before + 2, 60)
        h.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        h.wait_state(path, 'shutoff', 15)
        self.assertNoQemu(name)


if __name__ == '__main__':
    ferrytest.main()
