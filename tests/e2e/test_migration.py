#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Live migration between two real ferryd hosts over QMP (DESIGN §3):
the five phases on both sides, statistics, the guest's memory intact on
the destination, post-copy, cancel in Prepare and Perform, bad input and
authorization."""

import os
import time

from gi.repository import GLib

import ferrytest
from ferrytest import (DOMAIN_IFACE, ERR, MANAGER_IFACE, MIGRATION_IFACE,
                       ROOT_PATH)

PHASES = ['begin', 'prepare', 'perform', 'finish', 'confirm', 'done']
FINAL = ferrytest.FINAL_STATES


class SignalRecorder:
    """Records every signal ferryd emits on one host's bus."""

    def __init__(self, host):
        self.bus = host.bus()
        self.signals = []
        self.sub = self.bus.signal_subscribe(
            ferrytest.BUS_NAME, None, None, None, None,
            0, self._on_signal)

    def _on_signal(self, conn, sender, path, iface, member, params):
        self.signals.append((path, iface, member, params.unpack()))

    def pump(self):
        """Dispatch the signals received so far."""
        ctx = GLib.MainContext.default()
        while ctx.iteration(False):
            pass

    def of(self, path, member):
        self.pump()
        return [s[3] for s in self.signals
                if s[0] == path and s[2] == member]

    def wait(self, path, member, predicate=lambda args: True, timeout=10):
        """Pump until path emitted member with args satisfying predicate;
        return those args."""
        return ferrytest.wait_for(
            lambda: next((a for a in self.of(path, member) if predicate(a)),
                         None), timeout, 0.02,
            msg='no %s signal from %s' % (member, path))

    def close(self):
        self.bus.signal_unsubscribe(self.sub)


class MigrationTest(ferrytest.TwoHostTestCase):

    # -- helpers ---------------------------------------------------------

    def incoming(self, name):
        (paths,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        for p in reversed(paths):
            if self.b.get_prop(p, MIGRATION_IFACE, 'DomainName') == name:
                return p
        return None

    def assert_phases(self, props):
        stamps = props['PhaseTimestamps']
        self.assertEqual([p for p in PHASES if p in stamps], PHASES,
                         'phases missing: %r' % stamps)
        times = [stamps[p] for p in PHASES]
        self.assertEqual(times, sorted(times),
                         'phase timestamps not increasing: %r' % stamps)

    def assert_continues(self, name, last_on_a):
        """The destination's heartbeat continues the source's count with
        zero memory errors."""
        hb_b = ferrytest.wait_heartbeats(self.b, name, 3, 30)
        first = hb_b[0]
        self.assertEqual(first['n'], last_on_a + 1,
                         'destination heartbeat does not continue the count: '
                         'source ended at %d, destination began at %d' % (
                             last_on_a, first['n']))
        for hb in hb_b:
            self.assertEqual(hb.get('err'), 0, 'memory errors on B: %r' % hb)
            self.assertEqual(hb.get('verify_bad'), 0, hb)

    def assert_untouched(self, name, dom_a, defined_on_b=False):
        """Guest still runs on A with its heartbeat intact; nothing on B."""
        self.assertEqual(self.a.domain_state(dom_a), 'running')
        before = ferrytest.wait_heartbeats(self.a, name, 1)[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
            >= before + 2, 10, msg='guest on A stopped beating')
        for hb in ferrytest.heartbeats(self.a.console_log(name)):
            self.assertEqual(hb.get('err'), 0, hb)
        self.assertIsNone(self.b.qemu_pid(name), 'QEMU left on B')
        if defined_on_b:
            self.assertEqual(self.b.domain_state(ferrytest.domain_path(name)),
                             'shutoff')
            return
        ferrytest.wait_for(
            lambda: ferrytest.domain_path(name) not in
            self.b.managed_objects(), 5, msg='domain object left on B')

    # -- tests -----------------------------------------------------------

    def test_01_precopy(self):
        name = 'pre'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=32 rate=1 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 3)
        rec_a, rec_b = SignalRecorder(self.a), SignalRecorder(self.b)
        path = self.migrate(name, {'max-downtime': GLib.Variant('t', 200)})
        self.assertEqual(self.a.get_prop(dom_a, DOMAIN_IFACE, 'Migration'),
                         path)
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Phase'], 'done')
        self.assertEqual(props['Direction'], 'outgoing')
        self.assertEqual(props['Progress'], 1.0)
        self.assert_phases(props)
        stats = props['Statistics']
        for key in ('total-time', 'setup-time', 'downtime', 'downtime-real',
                    'memory-total', 'memory-transferred', 'iterations',
                    'mode'):
            self.assertIn(key, stats)
        self.assertGreater(stats['memory-transferred'], 32 << 20)
        self.assertEqual(stats['mode'], 'precopy')
        # ferryd emits PhaseChanged(done) and Completed as it ends the job
        rec_a.wait(path, 'Completed')
        self.assertEqual([s[0] for s in rec_a.of(path, 'PhaseChanged')],
                         PHASES)
        completed = rec_a.of(path, 'Completed')
        self.assertEqual(len(completed), 1)
        self.assertEqual(completed[0][0]['memory-total'],
                         stats['memory-total'])
        self.assertEqual(rec_a.of(path, 'Failed'), [])

        # destination side: an incoming Migration with all phases
        inc = self.incoming(name)
        self.assertIsNotNone(inc, 'no incoming migration on B')
        rec_b.wait(inc, 'PhaseChanged', lambda args: args[0] == 'done')
        inc_props = self.b.get_all(inc, MIGRATION_IFACE)
        self.assertEqual(inc_props['Direction'], 'incoming')
        self.assertEqual(inc_props['State'], 'completed')
        self.assert_phases(inc_props)
        # the destination reports the same job, and the same real downtime
        self.assertEqual(inc_props['Statistics']['memory-transferred'],
                         stats['memory-transferred'])
        self.assertEqual(inc_props['Statistics']['downtime-real'],
                         stats['downtime-real'])
        self.assertNotIn('source-stop-time', inc_props['Statistics'])
        self.assertEqual([s[0] for s in rec_b.of(inc, 'PhaseChanged')],
                         [p for p in PHASES if p != 'begin'] if
                         rec_b.of(inc, 'PhaseChanged')[0][0] == 'prepare'
                         else PHASES)

        # the guest: gone from A, running on B with its memory intact
        dom_b = ferrytest.domain_path(name)
        self.assertEqual(self.b.domain_state(dom_b), 'running')
        self.a.wait_state(dom_a, 'shutoff', 10)
        ferrytest.wait_for(lambda: self.a.qemu_pid(name) is None, 10,
                           msg='source QEMU still running')
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_continues(name, last_a)
        self.assertEqual(self.a.get_prop(dom_a, DOMAIN_IFACE, 'Migration'),
                         '/')
        rec_a.close()
        rec_b.close()
        # tidy: stop it on B
        self.b.call(dom_b, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_02_postcopy(self):
        name = 'post'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=48 rate=200 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 3)
        rec = SignalRecorder(self.a)
        path = self.migrate(name, {
            'postcopy': GLib.Variant('s', 'manual'),
            'max-bandwidth': GLib.Variant('t', 16 << 20)})
        # a guest dirtying 200 MiB/s over a 16 MiB/s link does not converge
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Iteration') >= 3,
            40, msg='no third pre-copy pass')
        props = self.a.get_all(path, MIGRATION_IFACE)
        self.assertEqual(props['State'], 'active')
        self.assertEqual(props['Converging'], 'no', props)
        self.assertGreater(props['DirtyRate'], 0)
        self.assertGreater(props['MemoryRemaining'], 0)
        self.assertGreater(props['Progress'], 0.0)
        self.a.call(path, MIGRATION_IFACE, 'StartPostCopy')
        props = self.wait_final(path, timeout=60)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        self.assertEqual(props['Statistics']['mode'], 'postcopy')
        rec.wait(path, 'Completed')
        self.assertEqual(len(rec.of(path, 'PostCopyStarted')), 1)
        self.assertGreaterEqual(len(rec.of(path, 'Iteration')), 2)
        progress = [p[1]['Progress'] for p in
                    rec.of(path, 'PropertiesChanged')
                    if 'Progress' in p[1]]
        self.assertEqual(progress, sorted(progress),
                         'Progress went backwards: %r' % progress)
        rec.close()
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_continues(name, last_a)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_03_cancel_in_prepare(self):
        name = 'cprep'
        dom_a = ferrytest.start_guest(self.a, name)
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate(name)
        self.assertIn(self.a.get_prop(path, MIGRATION_IFACE, 'Phase'),
                      ('begin', 'prepare'))
        self.a.call(path, MIGRATION_IFACE, 'Cancel')
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'cancelled', props)
        self.assertEqual(props['ErrorName'], ERR + 'Cancelled')
        self.assertNotIn('perform', props['PhaseTimestamps'])
        self.assert_untouched(name, dom_a)
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_04_cancel_in_perform(self):
        name = 'cperf'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate(name, {'max-bandwidth': GLib.Variant('t', 4 << 20)})
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'State') ==
            'active' and self.a.get_prop(path, MIGRATION_IFACE,
                                         'MemoryProcessed') > 0,
            20, msg='migration never became active')
        self.assertEqual(self.a.get_prop(path, MIGRATION_IFACE, 'Phase'),
                         'perform')
        inc = self.incoming(name)
        self.assertIsNotNone(inc)
        self.a.call(path, MIGRATION_IFACE, 'Cancel')
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'cancelled', props)
        self.assertEqual(self.b.get_prop(inc, MIGRATION_IFACE, 'State'),
                         'cancelled')
        self.assert_untouched(name, dom_a)
        # it can migrate again afterwards
        path = self.migrate(name)
        self.assertEqual(self.wait_final(path)['State'], 'completed')
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_05_bad_input(self):
        name = 'bad'
        dom_a = ferrytest.start_guest(self.a, name)
        # its working set filled (not zero pages): the slow migration
        # below cannot end before it is cancelled
        ferrytest.wait_heartbeats(self.a, name, 1)
        mgr = (ROOT_PATH, MANAGER_IFACE, 'Migrate')
        (before,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')

        def migrate(domain, dest, opts):
            return self.a.call(*mgr, GLib.Variant('(ssa{sv})',
                                                  (domain, dest, opts)))
        ferrytest.HostTestCase.assertDBusError(
            self, ERR + 'InvalidArgument', migrate, name, self.b.address,
            {'no-such-option': GLib.Variant('b', True)},
            contains=('no-such-option',))
        ferrytest.HostTestCase.assertDBusError(
            self, ERR + 'InvalidArgument', migrate, name, self.b.address,
            {'max-bandwidth': GLib.Variant('s', 'fast')},
            contains=('max-bandwidth',))
        ferrytest.HostTestCase.assertDBusError(
            self, ERR + 'NotFound', migrate, 'nope', self.b.address, {})
        ferrytest.HostTestCase.assertDBusError(
            self, ERR + 'InvalidArgument', migrate, name, 'not an address',
            {})
        (after,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        self.assertEqual(before, after, 'rejected calls left migrations')

        # a source may not make the destination run any program it likes
        desc = ferrytest.guest_keyfile(name) + '[QEMU]\nBinary=/bin/sh\n'
        ferrytest.HostTestCase.assertDBusError(
            self, ERR + 'InvalidArgument', self.b.call, ROOT_PATH,
            ferrytest.PEER_IFACE, 'Prepare',
            GLib.Variant('(sssa{sv}a{sv})', (name, desc, desc, {}, {})),
            contains=('/bin/sh',))
        self.assertIsNone(self.b.qemu_pid(name))

        # the destination runs the guest with the backend the source
        # names, and refuses one it does not have
        desc = ferrytest.guest_keyfile(name)
        ferrytest.HostTestCase.assertDBusError(
            self, ERR + 'NotSupported', self.b.call, ROOT_PATH,
            ferrytest.PEER_IFACE, 'Prepare',
            GLib.Variant('(sssa{sv}a{sv})',
                         (name, desc, desc, {},
                          {'backend': GLib.Variant('s', 'no-such-backend')})),
            contains=('no-such-backend',))
        self.assertIsNone(self.b.qemu_pid(name))

        # unreachable destination: the migration fails, the guest stays
        path = self.migrate(name, dest='unix:path=/nonexistent/bus')
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'failed')
        self.assertEqual(props['ErrorName'], ERR + 'PeerUnreachable', props)
        self.assertEqual(self.a.domain_state(dom_a), 'running')

        # a destination that refuses: the name already runs there
        ferrytest.start_guest(self.b, name)
        path = self.migrate(name)
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'failed')
        self.assertEqual(props['ErrorName'], ERR + 'PeerRefused', props)
        self.assertIn('already', props['ErrorMessage'])
        self.assertEqual(self.a.domain_state(dom_a), 'running')
        self.assertIsNotNone(self.b.qemu_pid(name))
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

        # a domain already migrating answers Busy
        slow = self.migrate(name, {'max-bandwidth': GLib.Variant('t', 1 << 20)})
        ferrytest.HostTestCase.assertDBusError(
            self, ERR + 'Busy', migrate, name, self.b.address, {})
        self.a.call(slow, MIGRATION_IFACE, 'Cancel')
        self.assertEqual(self.wait_final(slow)['State'], 'cancelled')
        self.assert_untouched(name, dom_a, defined_on_b=True)

    def test_06_unprivileged(self):
        name = 'priv'
        dom_a = ferrytest.start_guest(self.a, name)
        # its working set filled: the 1 MiB/s migration lasts
        ferrytest.wait_heartbeats(self.a, name, 1)
        path = self.migrate(name, {'max-bandwidth': GLib.Variant('t', 1 << 20),
                                   'postcopy': GLib.Variant('s', 'manual')})
        # watching works for everyone
        res = self.a.get_prop_as(65534, path, MIGRATION_IFACE, 'Phase')
        self.assertTrue(res.ok, res)
        res = self.a.call_as(65534, path, MIGRATION_IFACE, 'GetStatistics')
        self.assertTrue(res.ok, res)
        # the peer protocol is for ferryd hosts, not for everyone
        res = self.b.call_as(65534, ROOT_PATH, ferrytest.PEER_IFACE, 'Hello',
                             GLib.Variant('(a{sv})', ({},)))
        self.assertCallError(res, ferrytest.AUTH_ERRORS,
                             contains=(ferrytest.ACTION_PEER,))
        # acting does not
        for method in ('Cancel', 'StartPostCopy'):
            res = self.a.call_as(65534, path, MIGRATION_IFACE, method)
            self.assertCallError(res, ferrytest.AUTH_ERRORS,
                                 contains=(ferrytest.ACTION_CONTROL,))
        res = self.a.call_as(65534, ROOT_PATH, MANAGER_IFACE, 'Migrate',
                             GLib.Variant('(ssa{sv})',
                                          (name, self.b.address, {})))
        self.assertCallError(res, ferrytest.AUTH_ERRORS,
                             contains=(ferrytest.ACTION_MIGRATE,))
        self.assertNotIn(self.a.get_prop(path, MIGRATION_IFACE, 'State'),
                         FINAL)
        self.a.call(path, MIGRATION_IFACE, 'Cancel')
        self.assertEqual(self.wait_final(path)['State'], 'cancelled')
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_07_tune_at_runtime(self):
        name = 'tune'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200')
        # a heartbeat on A before it goes (its count continues on B)
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(name, {'max-bandwidth': GLib.Variant('t', 1 << 20)})
        # it streams, at the cap: another MiB sent, and far from done
        start = self.a.get_prop(path, MIGRATION_IFACE, 'MemoryProcessed')
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'MemoryProcessed')
            >= start + (1 << 20), 20, msg='the migration does not stream')
        self.assertNotIn(self.a.get_prop(path, MIGRATION_IFACE, 'State'),
                         FINAL, 'a 1 MiB/s migration of 64 MiB cannot be done')
        self.assertGreater(
            self.a.get_prop(path, MIGRATION_IFACE, 'MemoryRemaining'),
            32 << 20, 'the bandwidth cap is not applied')
        self.assertDBusError(ERR + 'InvalidArgument', self.a.call, path,
                             MIGRATION_IFACE, 'SetMaxDowntime',
                             GLib.Variant('(t)', (0,)))
        self.a.call(path, MIGRATION_IFACE, 'SetMaxDowntime',
                    GLib.Variant('(t)', (100,)))
        self.a.call(path, MIGRATION_IFACE, 'SetMaxBandwidth',
                    GLib.Variant('(t)', (0,)))
        props = self.wait_final(path, timeout=30)
        self.assertEqual(props['State'], 'completed', props)
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_continues(name, last_a)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_08_destination_qemu_dies(self):
        name = 'dies'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(name, {'max-bandwidth': GLib.Variant('t', 2 << 20)})
        pid = self.b.qemu_pid(name)
        self.assertIsNotNone(pid)
        ferrytest.kill_and_reap(pid)
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'MigrationFailed', props)
        self.assert_untouched(name, dom_a)
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_09_postcopy_failure_pauses_both(self):
        name = 'pcfail'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=48 rate=200 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        b_log = len(self.b.ferryd_log_text())
        path = self.migrate(name, {
            'postcopy': GLib.Variant('s', 'manual'),
            'max-bandwidth': GLib.Variant('t', 16 << 20),
            'max-postcopy-bandwidth': GLib.Variant('t', 1 << 20)})
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Iteration') >= 2,
            30, msg='no second pass')
        self.a.call(path, MIGRATION_IFACE, 'StartPostCopy')
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'State') ==
            'postcopy-active', 20, msg='post-copy did not start')
        # neither side holds the whole guest now: no cancel
        self.assertDBusError(ERR + 'NotSupported', self.a.call, path,
                             MIGRATION_IFACE, 'Cancel')
        inc = self.incoming(name)
        # Let the destination settle into post-copy: its QEMU reports
        # postcopy-active once it listens for pages, but only pauses a
        # broken stream (rather than failing it) once it has loaded the
        # device state and runs the guest, which its RESUME event (in
        # ferryd's --verbose QMP log) tells.
        ferrytest.wait_for(
            lambda: self.b.get_prop(inc, MIGRATION_IFACE, 'State') ==
            'postcopy-active' and '"event": "RESUME"' in
            self.b.ferryd_log_text()[b_log:], 20,
            msg='the guest does not run on B in post-copy')
        self.assertEqual(self.a.get_prop(path, MIGRATION_IFACE, 'State'),
                         'postcopy-active')
        # the link breaks (operator pause cuts it the same way)
        self.a.call(path, MIGRATION_IFACE, 'Pause')
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'State') ==
            'postcopy-paused' and self.b.get_prop(
                inc, MIGRATION_IFACE, 'State') == 'postcopy-paused',
            20, msg='both sides should be postcopy-paused')
        props = self.a.get_all(path, MIGRATION_IFACE)
        self.assertEqual(props['ErrorName'], ERR + 'MigrationFailed')
        self.assertIn('Recover', props['ErrorMessage'])
        # the guest is kept (paused), not lost: both QEMUs still exist
        self.assertIsNotNone(self.a.qemu_pid(name))
        self.assertIsNotNone(self.b.qemu_pid(name))
        # The guest on B waits for pages that cannot come: no heartbeat
        # (beyond one under way) in five heartbeat periods.  An absence
        # needs a window: this one is bounded, and fails early.
        n = len(ferrytest.heartbeats(self.b.console_log(name)))
        ferrytest.holds_for(
            lambda: len(ferrytest.heartbeats(self.b.console_log(name))) <=
            n + 1, 5 * 0.2, msg='guest on B still runs while paused')

    def test_10_postcopy_auto_policy(self):
        name = 'auto'
        ferrytest.start_guest(self.a, name, memory=128,
                              append='wss=48 rate=200 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        rec = SignalRecorder(self.a)
        path = self.migrate(name, {
            'postcopy': GLib.Variant('s', 'auto'),
            'max-bandwidth': GLib.Variant('t', 16 << 20)})
        props = self.wait_final(path, timeout=90)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        actions = rec.of(path, 'PolicyAction')
        self.assertEqual([a[0] for a in actions], ['start-postcopy'])
        self.assertIn('not converging', actions[0][1])
        rec.close()
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_continues(name, last_a)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_11_check(self):
        name = 'chk'
        ferrytest.start_guest(self.a, name)
        (report,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'Check',
                                GLib.Variant('(ssa{sv})',
                                             (name, self.b.address, {})))
        self.assertTrue(report['ok'], report)
        self.assertEqual(report['blockers'], [])
        self.assertIn('postcopy', report['features'])
        self.assertGreater(report['estimated-time'], 0)
        (report,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'Check',
                                GLib.Variant('(ssa{sv})', (
                                    name, 'unix:path=/nonexistent', {})))
        self.assertFalse(report['ok'])
        self.assertEqual(len(report['blockers']), 1, report)
        # Check is a read: open to everyone, and changes nothing
        res = self.a.call_as(65534, ROOT_PATH, MANAGER_IFACE, 'Check',
                             GLib.Variant('(ssa{sv})',
                                          (name, self.b.address, {})))
        self.assertTrue(res.ok, res)
        self.assertIsNone(self.b.qemu_pid(name))
        self.a.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_12_persist_and_undefine_source(self):
        name = 'keep'
        dom_a = ferrytest.start_guest(self.a, name)
        path = self.migrate(name, {'persist': GLib.Variant('b', True),
                                   'undefine-source': GLib.Variant('b', True)})
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'completed', props)
        ferrytest.wait_for(lambda: dom_a not in self.a.managed_objects(), 10,
                           msg='source domain still defined')
        self.assertFalse(os.path.exists(self.a.domain_conf(name)))
        self.assertTrue(os.path.exists(self.b.domain_conf(name)),
                        'destination did not persist the domain')
        # it survives a restart of the destination ferryd
        self.b.restart_ferryd()
        dom_b = ferrytest.domain_path(name)
        self.assertIn(dom_b, self.b.managed_objects())
        self.b.wait_state(dom_b, 'running', 10)
        self.b.call(dom_b, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_13_restart_reattaches(self):
        name = 'again'
        dom_a = ferrytest.start_guest(self.a, name)
        pid = self.a.qemu_pid(name)
        self.a.restart_ferryd()
        # the guest outlives ferryd, and the new ferryd finds it
        self.a.wait_state(dom_a, 'running', 10)
        self.assertEqual(self.a.qemu_pid(name), pid)
        # and again: stopping a ferryd that had re-attached leaves the
        # guest's runtime files (QMP socket, description) for the next one
        self.a.restart_ferryd()
        self.assertTrue(os.path.exists(self.a.qmp_socket(name)),
                        'the QMP socket went with the previous ferryd')
        self.a.wait_state(dom_a, 'running', 10)
        self.assertEqual(self.a.qemu_pid(name), pid)
        # a second Start must not run the guest twice
        self.assertDBusError(ERR + 'Busy', self.a.call, dom_a, DOMAIN_IFACE,
                             'Start')
        # and it can still migrate, once it has beaten on A (its count
        # continues on B)
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate(name)
        self.assertEqual(self.wait_final(path)['State'], 'completed')
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_continues(name, last_a)
        # transient on B (not persisted), yet re-attached after a restart
        self.b.restart_ferryd()
        dom_b = ferrytest.domain_path(name)
        self.b.wait_state(dom_b, 'running', 10)
        self.b.call(dom_b, DOMAIN_IFACE, 'Shutdown', timeout=30)
        self.b.wait_state(dom_b, 'shutoff', 10)
        ferrytest.wait_for(lambda: self.b.qemu_pid(name) is None, 10,
                           msg='QEMU still running after Shutdown')

    def test_14_source_ferryd_dies_in_perform(self):
        name = 'srcdies'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(name, {'max-bandwidth': GLib.Variant('t', 2 << 20)})
        inc = self.incoming(name)
        self.a.kill_ferryd()
        self.addCleanup(lambda: self.a.ferryd_running() or
                        self.a.start_ferryd())
        # the destination sees its source go and drops its half guest
        ferrytest.wait_for(
            lambda: self.b.get_prop(inc, MIGRATION_IFACE, 'State') in FINAL,
            15, msg='destination did not notice the source went away')
        self.assertEqual(self.b.get_prop(inc, MIGRATION_IFACE, 'State'),
                         'failed')
        ferrytest.wait_for(lambda: self.b.qemu_pid(name) is None, 10,
                           msg='QEMU left on B')
        # the guest never stopped on A; the new ferryd finds it running
        self.a.start_ferryd()
        self.a.wait_state(dom_a, 'running', 15)
        self.assert_untouched(name, dom_a)
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_15_destination_ferryd_dies_in_perform(self):
        name = 'dstdies'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(name, {'max-bandwidth': GLib.Variant('t', 4 << 20)})
        self.b.kill_ferryd()
        self.addCleanup(lambda: self.b.ferryd_running() or
                        self.b.start_ferryd())
        props = self.wait_final(path, timeout=60)
        # whatever QEMU did with the stream, the guest runs on A only
        self.assertEqual(props['State'], 'failed', props)
        self.a.wait_state(dom_a, 'running', 10)
        self.b.start_ferryd()
        dom_b = ferrytest.domain_path(name)
        # the new ferryd settles what the old one left: it re-attaches to
        # the QEMU (a domain appears), or drops it (its runtime files go,
        # a half-arrived guest's QEMU is told to quit)
        conf = os.path.join(self.b.runtime_dir, 'qemu', name + '.conf')
        ferrytest.wait_for(
            lambda: not os.path.exists(conf) or
            dom_b in self.b.managed_objects(), 10,
            msg='the new ferryd on B did not deal with the old QEMU')
        objects = self.b.managed_objects()
        if dom_b in objects:
            self.assertNotEqual(self.b.domain_state(dom_b), 'running')
        else:
            ferrytest.wait_for(lambda: self.b.qemu_pid(name) is None, 10,
                               msg='the half-arrived QEMU stays on B')
        for hb in ferrytest.heartbeats(self.b.console_log(name)):
            self.fail('guest ran on B too: %r' % hb)
        self.assert_untouched(name, dom_a)
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_16_multifd(self):
        name = 'mfd'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=20 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate(name, {'multifd-channels': GLib.Variant('u', 2)})
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Options']['multifd-channels'], 2)
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_continues(name, last_a)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_17_progress_coalesced(self):
        """PropertiesChanged on a running migration: a few per second, not
        one per QEMU event or sample."""
        name = 'rate'
        dom_a = ferrytest.start_guest(self.a, name, memory=128,
                                      append='wss=64 rate=50 hb=200')
        # its working set filled: 64 MiB at 8 MiB/s outlast the window
        ferrytest.wait_heartbeats(self.a, name, 1)
        bus = self.a.bus()
        times = []
        sub = bus.signal_subscribe(
            ferrytest.BUS_NAME, ferrytest.PROPS_IFACE, 'PropertiesChanged',
            None, MIGRATION_IFACE, 0, lambda *args: times.append(
                time.monotonic()))
        path = self.migrate(name, {'max-bandwidth': GLib.Variant('t', 8 << 20)})
        # a measurement window (a rate over 5 s), not a wait for an event
        ctx = GLib.MainContext.default()
        end = time.monotonic() + 5
        while time.monotonic() < end:
            ctx.iteration(False)
            time.sleep(0.002)
        bus.signal_unsubscribe(sub)
        self.a.call(path, MIGRATION_IFACE, 'Cancel')
        self.assertEqual(self.wait_final(path)['State'], 'cancelled')
        # after the first second (phases and states change then)
        steady = [t for t in times if t - times[0] >= 1.0]
        rate = len(steady) / 4.0
        self.assertGreater(rate, 1.0, 'progress is not published: %r' % times)
        self.assertLessEqual(rate, 5.0, 'PropertiesChanged not coalesced')
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)



if __name__ == '__main__':
    ferrytest.main()
