#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Correct on any host (DESIGN §2, §4): the accelerator a guest runs
with, crashed guests, what a peer may send, Check that stays local for
callers who could not migrate, options that are never ignored or
wrapped, object paths, and a destination ferryd restarted mid-migration.
Two real ferryd hosts, real polkitd, real QEMU (TCG) and the test guest."""

import os
import socket
import stat
import subprocess
import tempfile

from gi.repository import GLib

import ferrytest
from ferrytest import (DOMAIN_IFACE, ERR, MANAGER_IFACE, MIGRATION_IFACE,
                       PEER_IFACE, ROOT_PATH)


# Runs ferryd in a mount namespace of its own in which /dev/kvm (if the
# machine has one) is an empty file: a host without usable KVM, on any
# machine. Filled in with the empty file and ferryd.
NO_KVM_WRAPPER = '''#!/bin/sh
exec unshare -m --propagation private -- /bin/sh -c '
  if [ -e /dev/kvm ]; then mount --bind "$0" /dev/kvm || exit 1; fi
  exec "$@"' %s %s "$@"
'''


def qemu_argv(pid):
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        return [a.decode() for a in f.read().split(b'\0') if a]


def accel_of(pid):
    argv = qemu_argv(pid)
    return argv[argv.index('-accel') + 1]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def tcp_ports_in_use():
    """Local and remote ports of the machine's IPv4 TCP sockets that are
    established (state 01)."""
    ports = set()
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] != '01':
                continue
            ports.add(int(fields[1].split(':')[1], 16))
            ports.add(int(fields[2].split(':')[1], 16))
    return ports


class SafetyTest(ferrytest.TwoHostTestCase):

    # -- helpers ---------------------------------------------------------

    def assert_only_on_a(self, name, dom_a):
        """The guest runs on A, beating, and nothing of it is on B."""
        self.a.wait_state(dom_a, 'running', 15)
        before = ferrytest.wait_heartbeats(self.a, name, 1)[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
            >= before + 2, 15, msg='guest on A stopped beating')
        self.assert_nothing_on_b(name)

    def assert_nothing_on_b(self, name):
        ferrytest.wait_for(lambda: self.b.qemu_pid(name) is None, 10,
                           msg='QEMU left on B')
        ferrytest.wait_for(
            lambda: ferrytest.domain_path(name) not in
            self.b.managed_objects(), 10, msg='domain object left on B')

    def shutdown(self, host, name):
        path = ferrytest.domain_path(name)
        host.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        host.wait_state(path, 'shutoff', 15)

    # -- the accelerator -------------------------------------------------

    def test_accel_tcg_everywhere_and_after_migration(self):
        name = 'tcg'
        dom_a = ferrytest.start_guest(self.a, name, memory=64)
        ferrytest.wait_heartbeats(self.a, name, 2)
        self.assertEqual(accel_of(self.a.qemu_pid(name)), 'tcg')
        self.assertIn('-device', qemu_argv(self.a.qemu_pid(name)))
        self.assertIn('pvpanic', qemu_argv(self.a.qemu_pid(name)))
        path = self.migrate(name)
        self.assertEqual(self.wait_final(path)['State'], 'completed')
        self.a.wait_state(dom_a, 'shutoff', 10)
        pid_b = ferrytest.wait_for(lambda: self.b.qemu_pid(name), 10)
        self.assertEqual(accel_of(pid_b), 'tcg',
                         'the destination runs the guest differently')
        self.shutdown(self.b, name)

    def test_accel_kvm_refused_without_kvm(self):
        fake = os.path.join(self.a.dir, 'no-kvm')
        open(fake, 'w').close()
        wrapper = os.path.join(self.a.dir, 'ferryd-no-kvm')
        with open(wrapper, 'w') as f:
            f.write(NO_KVM_WRAPPER % (fake, os.environ['FERRYD']))
        os.chmod(wrapper, stat.S_IRWXU)
        with ferrytest.Host('C', ferryd=wrapper) as c:
            path = ferrytest.define_guest(c, 'kvm', accel='kvm')
            self.assertDBusError(ERR + 'NotSupported', c.call, path,
                                 DOMAIN_IFACE, 'Start',
                                 contains=('KVM', 'Accel=tcg'))
            self.assertEqual(c.domain_state(path), 'shutoff')
            self.assertIsNone(c.qemu_pid('kvm'))
            # a guest that says auto runs there, with TCG
            path = ferrytest.start_guest(c, 'auto', accel='auto')
            self.assertEqual(accel_of(c.qemu_pid('auto')), 'tcg')
            c.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)

    # -- crashed guests --------------------------------------------------

    def test_panic_makes_crashed_until_shutdown(self):
        name = 'panic'
        path = ferrytest.start_guest(self.a, name,
                                     append='wss=8 rate=0 hb=100 panic=3')
        self.a.wait_state(path, 'crashed', 30)
        reason = self.a.get_prop(path, DOMAIN_IFACE, 'StateReason')
        self.assertIn('panic', reason)
        pid = self.a.qemu_pid(name)
        self.assertIsNotNone(pid, 'the crashed guest\'s QEMU must stay')
        self.assertEqual([h['n'] for h in ferrytest.heartbeats(
            self.a.console_log(name))], [1, 2, 3])
        # nothing restarts it by accident
        self.assertDBusError(ERR + 'Busy', self.a.call, path, DOMAIN_IFACE,
                             'Start')
        self.a.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        self.a.wait_state(path, 'shutoff', 15)
        self.assertEqual(self.a.get_prop(path, DOMAIN_IFACE, 'StateReason'),
                         '')
        ferrytest.wait_for(lambda: self.a.qemu_pid(name) is None, 10,
                           msg='QEMU still there after Shutdown')

    def test_panic_during_migration(self):
        name = 'panicmig'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200 panic=25')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(name, {'max-bandwidth':
                                   GLib.Variant('t', 2 << 20)})
        self.assertLess(
            len(ferrytest.heartbeats(self.a.console_log(name))), 25,
            'the guest panicked before the migration streamed')
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'MigrationFailed')
        self.assertIn('crashed', props['ErrorMessage'])
        self.assertIn('panicked', props['ErrorMessage'])
        # never resumed: it stays crashed on A, its QEMU kept
        self.assertEqual(self.a.domain_state(dom_a), 'crashed')
        self.assertIsNotNone(self.a.qemu_pid(name))
        # nothing half-made on B
        self.assert_nothing_on_b(name)
        self.shutdown(self.a, name)

    # -- what a peer may send --------------------------------------------

    def test_peer_extra_args_refused(self):
        name = 'extra'
        dom_a = ferrytest.start_guest(
            self.a, name, extra='[QEMU]\nExtraArgs=-msg timestamp=on\n')
        ferrytest.wait_heartbeats(self.a, name, 2)
        # honoured for a domain defined on the host itself
        self.assertIn('timestamp=on', qemu_argv(self.a.qemu_pid(name)))
        path = self.migrate(name)
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'PeerRefused', props)
        self.assertIn('ExtraArgs', props['ErrorMessage'])
        self.assert_only_on_a(name, dom_a)
        self.shutdown(self.a, name)

    # -- Check stays local for callers who could not migrate -------------

    def test_check_local_for_unprivileged(self):
        name = 'chklocal'
        ferrytest.start_guest(self.a, name)
        monitor = ferrytest.BusMonitor(
            self.b.address,
            ["type='method_call',interface='%s'" % PEER_IFACE])
        self.addCleanup(monitor.close)
        args = GLib.Variant('(ssa{sv})', (name, self.b.address, {}))
        res = self.a.call_as(ferrytest.NOBODY, ROOT_PATH, MANAGER_IFACE,
                             'Check', args)
        self.assertTrue(res.ok, res)
        self.assertIn("'destination-checked': <false>", res.reply)
        self.assertIn('not checked', res.reply)
        # root may migrate: its Check asks the destination
        (report,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'Check', args)
        self.assertTrue(report['destination-checked'], report)
        self.assertTrue(report['ok'], report)
        monitor.wait(lambda m: True, 10, msg='root\'s Check did not reach B')
        calls = [m.member for m in monitor.messages]
        # the bus delivers in order: a call for nobody would come first
        self.assertEqual(calls, ['Hello'],
                         'the unprivileged Check contacted B: %r' % calls)
        self.shutdown(self.a, name)

    # -- options ---------------------------------------------------------

    def test_options_never_ignored_or_wrapped(self):
        name = 'opts'
        dom_a = ferrytest.start_guest(self.a, name)
        (before,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        for opts, key in (
                ({'synchronous-writes': GLib.Variant('b', True)},
                 'copy-storage'),
                ({'disks': GLib.Variant('as', ['vda'])}, 'copy-storage'),
                ({'max-bandwidth': GLib.Variant('t', 1 << 63)},
                 'max-bandwidth'),
                ({'max-bandwidth': GLib.Variant('t', (1 << 64) - 1)},
                 'max-bandwidth'),
                ({'compression': GLib.Variant('s', 'zstd')},
                 'multifd-channels'),
                ({'migrate-uri': GLib.Variant('s', 'tcp:127.0.0.1:0')},
                 'migrate-uri')):
            self.assertDBusError(ERR + 'InvalidArgument', self.migrate,
                                 name, opts, contains=(key,))
        (after,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        self.assertEqual(before, after, 'a refused call left a migration')
        self.assertEqual(self.a.domain_state(dom_a), 'running')
        self.shutdown(self.a, name)

    def test_migrate_uri_port_is_used(self):
        name = 'uri'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        port = free_port()
        path = self.migrate_until_active(name, {
            'migrate-uri': GLib.Variant('s', 'tcp:127.0.0.1:%d' % port),
            'max-bandwidth': GLib.Variant('t', 16 << 20)})
        ferrytest.wait_for(lambda: port in tcp_ports_in_use(), 10,
                           msg='no stream on port %d' % port)
        # the limit is refused while it runs, as in the options
        self.assertDBusError(ERR + 'InvalidArgument', self.a.call, path,
                             MIGRATION_IFACE, 'SetMaxBandwidth',
                             GLib.Variant('(t)', (1 << 63,)))
        self.a.call(path, MIGRATION_IFACE, 'SetMaxBandwidth',
                    GLib.Variant('(t)', (0,)))
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'completed', props)
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        hb_b = ferrytest.wait_heartbeats(self.b, name, 1)
        self.assertEqual(hb_b[0]['n'], last_a + 1)
        self.shutdown(self.b, name)

    # -- object paths ----------------------------------------------------

    def test_leading_digit_path(self):
        path = ferrytest.define_guest(self.a, '1vm')
        self.assertEqual(path, '/org/ferryvm/Ferry1/domain/_31vm')
        self.assertEqual(path, ferrytest.domain_path('1vm'))
        self.assertEqual(self.a.get_prop(path, DOMAIN_IFACE, 'Name'), '1vm')

    # -- daemon flags of DESIGN §5 -----------------------------------------

    def test_daemon_flags(self):
        with ferrytest.Host('D', ferryd_args=['--libvirt-uri', 'none']) as d:
            self.assertEqual(d.get_prop(ROOT_PATH, MANAGER_IFACE, 'Backends'),
                             ['qmp'])
        # a listener without its certificates does not start (test_tls
        # covers one with them)
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([os.environ['FERRYD'], '--tls-listen',
                                '127.0.0.1:7777', '--config-dir', d,
                                '--state-dir', d + '/state',
                                '--runtime-dir', d + '/run', '--address',
                                'unix:path=/nonexistent'],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn('ca-cert.pem is missing', r.stderr)

    # -- a destination that does not know the migration ------------------

    def test_abort_unknown_migration(self):
        self.assertDBusError(ERR + 'NotFound', self.b.call, ROOT_PATH,
                             PEER_IFACE, 'Abort',
                             GLib.Variant('(os)', (
                                 '/org/ferryvm/Ferry1/migration/999',
                                 'test')))
        self.assertTrue(self.b.ferryd_running())
        self.assertTrue(self.b.get_prop(ROOT_PATH, MANAGER_IFACE, 'Version'))

    def test_destination_ferryd_restarted_in_perform(self):
        name = 'dstagain'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(name, {'max-bandwidth':
                                   GLib.Variant('t', 2 << 20)})
        # a crash and an immediate restart: the source's rollback then
        # talks to a ferryd that never heard of its migration
        self.b.kill_ferryd()
        self.b.start_ferryd()
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'failed', props)
        self.assertTrue(self.b.ferryd_running(),
                        'the restarted destination ferryd died:\n' +
                        self.b.ferryd_log_tail())
        self.assertTrue(self.b.get_prop(ROOT_PATH, MANAGER_IFACE, 'Version'))
        self.assert_only_on_a(name, dom_a)
        self.shutdown(self.a, name)


if __name__ == '__main__':
    ferrytest.main()
