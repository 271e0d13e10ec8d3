#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The libvirt backend with two real libvirtd "hosts" (each in its own
mount namespace, libvirthost.py), each with a ferryd pointed at it by
--libvirt-uri: libvirt's domains appear with Backend=libvirt and follow
libvirt's life cycle; libvirtd going away drops them (and "libvirt" from
Backends) and they come back with it."""

import os
import shutil
import subprocess
import tempfile
import time

from gi.repository import GLib

import ferrytest
from ferrytest import (AUTH_ERRORS, DOMAIN_IFACE, ERR, MANAGER_IFACE,
                       MIGRATION_IFACE, NOBODY, ROOT_PATH)
from libvirthost import LibvirtHost

PHASES = ['begin', 'prepare', 'perform', 'finish', 'confirm', 'done']
MIB = 1048576
# The storage guest rewrites [DSTART, DSTART + DSIZE) KiB of its disk;
# the rest holds what the test wrote there first (pattern, offset, length)
DSTART_KIB, DSIZE_KIB = 1024, 256
PREWRITTEN = [(0x22, 4 * MIB, 2 * MIB), (0x33, 15 * MIB, 1 * MIB)]


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True)


class LibvirtTest(ferrytest.TwoHostTestCase):
    lva = lvb = None
    guests = None

    @classmethod
    def setUpClass(cls):
        ferrytest.require_environment(guest=True)
        if not os.path.exists('/usr/sbin/libvirtd') or \
                not shutil.which('virsh'):
            ferrytest._fail_or_skip('libvirtd and virsh are needed')
        cls._any_failed = False
        cls.guests = tempfile.mkdtemp(prefix='ferry-lvguests-',
                                      dir=os.environ.get('FERRY_TMP', '/tmp'))
        os.chmod(cls.guests, 0o755)
        # the guests' kernel from this test's directory: its path on their
        # QEMU command lines is how teardown finds any QEMU left over
        cls.kernel = os.path.join(cls.guests, 'guest.elf')
        shutil.copy(os.environ['FERRY_TEST_GUEST'], cls.kernel)
        cls._kill_guests = staticmethod(lambda: [
            ferrytest.kill_and_reap(p)
            for p in ferrytest.find_processes([cls.guests + os.sep])])
        ferrytest.add_cleanup(cls._kill_guests)
        try:
            cls.lva = LibvirtHost('A', 49260)
            cls.lvb = LibvirtHost('B', 49270)
            cls.lva.start()
            cls.lvb.start()
            cls.a = ferrytest.Host('A', ferryd_args=[
                '--libvirt-uri', cls.lva.uri])
            cls.a.__enter__()
            cls.b = ferrytest.Host('B', ferryd_args=[
                '--libvirt-uri', cls.lvb.uri])
            cls.b.__enter__()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            for lv in (cls.lvb, cls.lva):
                if lv is not None:
                    lv.close()
            cls.lva = cls.lvb = None
            cls._kill_guests()
            ferrytest.remove_cleanup(cls._kill_guests)
            shutil.rmtree(cls.guests, ignore_errors=True)

    def serial(self, name):
        return os.path.join(self.guests, name + '.serial')

    def backends(self, host):
        return host.get_prop(ROOT_PATH, MANAGER_IFACE, 'Backends')

    def wait_domain(self, host, name, state=None, timeout=20):
        path = ferrytest.domain_path(name)

        def there():
            objs = host.managed_objects()
            if path not in objs:
                return False
            props = objs[path].get(DOMAIN_IFACE, {})
            return state is None or props.get('State') == state
        ferrytest.wait_for(there, timeout, msg='%s %s on host %s' % (
            name, state or 'present', host.name))
        return path

    def wait_no_domain(self, host, name, timeout=20):
        path = ferrytest.domain_path(name)
        ferrytest.wait_for(lambda: path not in host.managed_objects(),
                           timeout, msg='%s gone from host %s' % (
                               name, host.name))

    def migrations(self, host):
        return host.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')[0]

    def wait_incoming(self, host, name, timeout=30):
        """The Migration object of name arriving on host through libvirt's
        own migration (no ferryd on the source involved)."""
        def found():
            for path in reversed(self.migrations(host)):
                p = host.get_all(path, MIGRATION_IFACE)
                if p['Direction'] == 'incoming' and p['DomainName'] == name:
                    return path
            return False
        return ferrytest.wait_for(found, timeout, 0.05,
                                  msg='incoming %s on host %s' % (
                                      name, host.name))

    def test_01_domain_appears(self):
        self.assertEqual(self.backends(self.a), ['qmp', 'libvirt'])
        self.lva.define_guest('lv1', self.serial('lv1'),
                              kernel=self.kernel)
        path = self.wait_domain(self.a, 'lv1', 'shutoff')
        props = self.a.get_all(path, DOMAIN_IFACE)
        self.assertEqual(props['Backend'], 'libvirt')
        self.assertEqual(props['Name'], 'lv1')
        # libvirt's life cycle: started from libvirt, seen by Ferry
        self.lva.virsh('start', 'lv1')
        self.wait_domain(self.a, 'lv1', 'running')
        hb = ferrytest.wait_for(
            lambda: len(ferrytest.heartbeats(self.serial('lv1'))) >= 2 and
            ferrytest.heartbeats(self.serial('lv1')), 60,
            msg='heartbeats of lv1')
        self.assertEqual(hb[-1].get('err'), 0, hb[-1])
        # ... and the other host's ferryd does not show it
        self.assertNotIn(path, self.b.managed_objects())

    def test_02_start_shutdown(self):
        # acpi=0: the guest ignores the power button, so Shutdown's
        # destroy after the grace period is what ends it
        self.lva.define_guest('lv2', self.serial('lv2'),
                              append='wss=16 rate=0 hb=200 acpi=0',
                              kernel=self.kernel)
        path = self.wait_domain(self.a, 'lv2', 'shutoff')
        before = self.migrations(self.a)
        self.a.call(path, DOMAIN_IFACE, 'Start', timeout=30)
        self.wait_domain(self.a, 'lv2', 'running')
        self.assertEqual(self.lva.domstate('lv2'), 'running')
        # a domain that merely starts is no incoming migration
        self.assertEqual(self.migrations(self.a), before)
        # ACPI ignored: destroyed after the grace period
        self.a.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        self.wait_domain(self.a, 'lv2', 'shutoff')
        self.assertEqual(self.lva.domstate('lv2'), 'shut off')
        self.lva.virsh('undefine', 'lv2')
        self.wait_no_domain(self.a, 'lv2')

    def lv_migrate(self, name, src, dst_lv, options=None):
        """Manager.Migrate name on src's ferryd to dst_lv's libvirt URI,
        the data stream on loopback (a port of dst_lv's range)."""
        opts = {'migrate-uri': GLib.Variant(
            's', 'tcp:127.0.0.1:%d' % (dst_lv.port_min + 5))}
        opts.update(options or {})
        (path,) = src.call(ROOT_PATH, MANAGER_IFACE, 'Migrate',
                           GLib.Variant('(ssa{sv})', (name, dst_lv.uri, opts)))
        return path

    def test_02b_names_both_backends_know(self):
        # a QMP domain cannot take a libvirt domain's name ...
        self.assertDBusError(ERR + 'InvalidArgument', ferrytest.define_guest,
                             self.a, 'lv1', contains=('libvirt domain',))
        self.assertEqual(self.a.get_prop(ferrytest.domain_path('lv1'),
                                         DOMAIN_IFACE, 'Backend'), 'libvirt')
        # ... and a libvirt domain named like a QMP one is not shown in its
        # place: the QMP domain keeps the name, the log says why
        qmp = ferrytest.define_guest(self.a, 'both')
        self.lva.define_guest('both', self.serial('both'),
                              kernel=self.kernel)
        ferrytest.wait_for(lambda: "libvirt domain both" in
                           self.a.ferryd_log_text(), 20,
                           msg='the log names the hidden libvirt domain')
        self.assertEqual(self.a.get_prop(qmp, DOMAIN_IFACE, 'Backend'), 'qmp')
        self.lva.virsh('undefine', 'both')

    def test_03_migrate(self):
        hb_before = ferrytest.heartbeats(self.serial('lv1'))
        self.assertTrue(hb_before)
        # capped at 8 MiB/s so that progress can be seen on the way
        path = self.lv_migrate('lv1', self.a, self.lvb, {
            'max-bandwidth': GLib.Variant('t', 8 * MIB)})
        self.assertEqual(self.a.get_prop(path, MIGRATION_IFACE, 'Backend'),
                         'libvirt')
        seen, reads = set(), []

        def sample():
            t = time.monotonic()
            self.a.get_prop(path, MIGRATION_IFACE, 'Progress')
            reads.append(time.monotonic() - t)
            props = self.a.get_all(path, MIGRATION_IFACE)
            if 0 < props['Progress'] < 1:
                seen.add(round(props['Progress'], 3))
            return props['State'] in ferrytest.FINAL_STATES and props
        props = ferrytest.wait_for(sample, 90, 0.05,
                                   msg='libvirt migration to end')
        self.assertEqual(props['State'], 'completed', props['ErrorMessage'])
        self.assertEqual(props['Phase'], 'done')
        stamps = props['PhaseTimestamps']
        self.assertEqual(sorted(stamps, key=stamps.get), PHASES, stamps)
        self.assertGreaterEqual(len(seen), 2,
                                'no intermediate progress: %r' % seen)
        # ferryd answers while libvirt migrates (DESIGN §3): 9 reads in 10
        # within 100 ms on this busy 2-core machine, none over a second
        # (a libvirt call on the main loop would take seconds)
        reads.sort()
        slowest = reads[-1]
        self.assertLess(reads[len(reads) * 9 // 10], 0.1, reads)
        self.assertLess(slowest, 1.0, reads)
        stats = props['Statistics']
        ferrytest.log('libvirt migration: %d progress values, reads: median '
                      '%.3fs slowest %.3fs, phases %r, statistics %r' % (
                          len(seen), reads[len(reads) // 2], slowest, stamps,
                          stats))
        self.assertGreater(stats['total-time'], 0, stats)
        self.assertGreater(stats['memory-transferred'], 0, stats)
        self.assertIn('downtime', stats)
        # libvirt's own measure from the source's pause to the
        # destination's resume: present, and not shorter than the part
        # without the hand-over between the hosts
        self.assertGreater(stats.get('downtime-real', 0), 0, stats)
        self.assertGreaterEqual(stats['downtime-real'], stats['downtime'],
                                stats)
        self.assertLess(stats['downtime-real'], 10000, stats)
        # the guest runs on B only, and B's ferryd shows it
        self.assertEqual(self.lvb.domstate('lv1'), 'running')
        self.assertNotEqual(self.lva.domstate('lv1'), 'running')
        self.wait_domain(self.b, 'lv1', 'running')
        # ... with an incoming Migration that followed libvirt's to its end
        inc = self.wait_final(self.wait_incoming(self.b, 'lv1'), host=self.b,
                              timeout=10)
        ferrytest.log('incoming on B: %r' % {
            k: inc[k] for k in ('State', 'Phase', 'PhaseTimestamps',
                                'Source', 'Statistics', 'ErrorMessage')})
        self.assertEqual(inc['State'], 'completed', inc['ErrorMessage'])
        self.assertEqual(inc['Phase'], 'done')
        self.assertEqual(inc['Backend'], 'libvirt')
        self.assertEqual(inc['DomainName'], 'lv1')
        self.assertEqual(inc['Domain'], ferrytest.domain_path('lv1'))
        stamps = inc['PhaseTimestamps']
        self.assertEqual(sorted(stamps, key=stamps.get), PHASES, stamps)
        # the statistics the source sent libvirt here with the end
        self.assertGreater(inc['Statistics'].get('memory-transferred', 0),
                           0, inc['Statistics'])
        self.wait_domain(self.a, 'lv1', 'shutoff')
        # ... and it lived through: the heartbeat goes on, no errors
        n = hb_before[-1]['n']
        hb = ferrytest.wait_for(
            lambda: [b for b in ferrytest.heartbeats(self.serial('lv1'))
                     if b['n'] > n + 2], 60, msg='heartbeats on B')
        for b in ferrytest.heartbeats(self.serial('lv1')):
            self.assertEqual(b.get('err'), 0, b)
        self.assertTrue(hb)

    def test_04_bandwidth_libvirt_cannot_express(self):
        before = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')[0]
        self.assertDBusError(
            ERR + 'InvalidArgument', self.lv_migrate, 'lv1', self.b, self.lva,
            {'max-bandwidth': GLib.Variant('t', (1 << 44) + 5)},
            contains=('max-bandwidth', 'MiB/s'))
        self.assertEqual(
            self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')[0], before)
        self.assertEqual(self.lvb.domstate('lv1'), 'running')

    def test_05_cancel_and_unprivileged(self):
        # B -> A, capped at 1 MiB/s: it does not end by itself soon
        path = self.lv_migrate('lv1', self.b, self.lva, {
            'max-bandwidth': GLib.Variant('t', MIB)})
        ferrytest.wait_for(
            lambda: self.b.get_prop(path, MIGRATION_IFACE, 'Phase') ==
            'perform', 30, msg='libvirt migration in perform')
        # A shows it arriving; it is cancelled on the source, not there
        inc = self.wait_incoming(self.a, 'lv1')
        self.assertDBusError(ERR + 'NotSupported', self.a.call, inc,
                             MIGRATION_IFACE, 'Cancel',
                             contains=('source',))
        # an unprivileged caller reads, but neither migrates nor controls
        res = self.b.get_prop_as(NOBODY, path, MIGRATION_IFACE, 'Phase')
        self.assertTrue(res.ok, res)
        for method, args in (('Cancel', None),
                             ('SetMaxBandwidth', GLib.Variant('(t)', (MIB,))),
                             ('SetMaxDowntime', GLib.Variant('(t)', (100,)))):
            res = self.b.call_as(NOBODY, path, MIGRATION_IFACE, method, args)
            self.assertCallError(res, AUTH_ERRORS, contains=('control',))
        res = self.b.call_as(NOBODY, ROOT_PATH, MANAGER_IFACE, 'Migrate',
                             GLib.Variant('(ssa{sv})',
                                          ('lv1', self.lva.uri, {})))
        self.assertCallError(res, AUTH_ERRORS, contains=('migrate',))
        # tuning works on a libvirt migration (whole MiB/s only)
        self.b.call(path, MIGRATION_IFACE, 'SetMaxDowntime',
                    GLib.Variant('(t)', (100,)))
        self.assertDBusError(ERR + 'InvalidArgument', self.b.call, path,
                             MIGRATION_IFACE, 'SetMaxBandwidth',
                             GLib.Variant('(t)', (MIB + 1,)))
        self.b.call(path, MIGRATION_IFACE, 'Cancel')
        props = self.wait_final(path, host=self.b)
        self.assertEqual(props['State'], 'cancelled', props)
        self.assertEqual(props['ErrorName'], ERR + 'Cancelled')
        # A's incoming object ended too (A cannot tell a cancel from a
        # failure: the source's libvirtd only stops the domain there)
        props = self.wait_final(inc, host=self.a, timeout=15)
        self.assertIn(props['State'], ('cancelled', 'failed'), props)
        self.assertIn('source', props['ErrorMessage'])
        # the guest keeps running on B; nothing runs on A
        self.assertEqual(self.lvb.domstate('lv1'), 'running')
        self.assertNotEqual(self.lva.domstate('lv1'), 'running')
        self.wait_domain(self.b, 'lv1', 'running')

    def test_05b_source_ferryd_restarted(self):
        # libvirt migrates a fresh guest A -> B (capped: Perform lasts a
        # few seconds) while A's ferryd crashes and starts again
        self.lva.define_guest('lvrs', self.serial('lvrs'),
                              kernel=self.kernel)
        self.lva.virsh('start', 'lvrs')
        self.wait_domain(self.a, 'lvrs', 'running')
        path = self.lv_migrate('lvrs', self.a, self.lvb, {
            'max-bandwidth': GLib.Variant('t', 5 * MIB)})
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Phase') ==
            'perform', 30, 0.05, msg='libvirt migration in perform')
        self.a.kill_ferryd()
        self.addCleanup(lambda: self.a.ferryd_running() or
                        self.a.start_ferryd())
        self.a.start_ferryd()

        # the new ferryd finds libvirt's migration job and follows it
        def found():
            for p in self.migrations(self.a):
                props = self.a.get_all(p, MIGRATION_IFACE)
                if props['DomainName'] == 'lvrs' and \
                        props['Direction'] == 'outgoing':
                    return p, props
            return False
        path, props = ferrytest.wait_for(found, 15, 0.05,
                                         msg='re-attached migration')
        self.assertEqual(props['Backend'], 'libvirt')
        self.assertEqual(props['Destination'], '')   # libvirt does not say
        self.assertIn(props['Phase'], PHASES[2:], props)
        props = self.wait_final(path, host=self.a, timeout=60)
        ferrytest.log('re-attached: %r' % {
            k: props[k] for k in ('State', 'PhaseTimestamps', 'Statistics',
                                  'ErrorMessage')})
        self.assertEqual(props['State'], 'completed', props['ErrorMessage'])
        self.assertEqual(props['Phase'], 'done')
        stamps = props['PhaseTimestamps']
        self.assertEqual(sorted(stamps, key=stamps.get), PHASES, stamps)
        # the guest runs on B, and only there
        self.assertEqual(self.lvb.domstate('lvrs'), 'running')
        self.assertNotEqual(self.lva.domstate('lvrs'), 'running')
        self.wait_domain(self.b, 'lvrs', 'running')
        self.lvb.virsh('destroy', 'lvrs')

    def test_06_postcopy_by_hand(self):
        # dirtying 200 MiB/s over an 8 MiB/s link: pre-copy never ends
        self.lva.define_guest('lvpc', self.serial('lvpc'),
                              kernel=self.kernel,
                              append='wss=16 rate=200 hb=200')
        self.lva.virsh('start', 'lvpc')
        self.wait_domain(self.a, 'lvpc', 'running')
        ferrytest.wait_for(
            lambda: len(ferrytest.heartbeats(self.serial('lvpc'))) >= 2, 60,
            msg='heartbeats of lvpc')
        path = self.lv_migrate('lvpc', self.a, self.lvb, {
            'postcopy': GLib.Variant('s', 'manual'),
            'max-bandwidth': GLib.Variant('t', 8 * MIB)})
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Iteration') >= 2,
            60, msg='no second pre-copy pass')
        last_a = ferrytest.heartbeats(self.serial('lvpc'))[-1]['n']
        self.a.call(path, MIGRATION_IFACE, 'StartPostCopy')
        props = self.wait_final(path, timeout=90)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        self.assertEqual(props['Statistics']['mode'], 'postcopy')
        self.assertEqual(self.lvb.domstate('lvpc'), 'running')
        self.assertNotEqual(self.lva.domstate('lvpc'), 'running')
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.serial('lvpc'))[-1]['n'] >
            last_a + 2, 60, msg='heartbeats of lvpc on B')
        for b in ferrytest.heartbeats(self.serial('lvpc')):
            self.assertEqual(b.get('err'), 0, b)
        self.lvb.virsh('destroy', 'lvpc')

    def test_07_destination_libvirtd_killed(self):
        # lv1 runs on B: towards A, slowly, and A's libvirtd dies
        path = self.lv_migrate('lv1', self.b, self.lva, {
            'max-bandwidth': GLib.Variant('t', MIB)})
        ferrytest.wait_for(
            lambda: self.b.get_prop(path, MIGRATION_IFACE, 'State') ==
            'active', 30, msg='libvirt migration active')
        self.lva.kill()
        props = self.wait_final(path, host=self.b, timeout=60)
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'MigrationFailed')
        self.assertIn("the connection to the destination's libvirtd was "
                      "lost (libvirt: ", props['ErrorMessage'])
        ferrytest.log('destination gone: %s' % props['ErrorMessage'])
        # the guest runs on B, and only there once A's libvirtd is back
        self.assertEqual(self.lvb.domstate('lv1'), 'running')
        self.lva.start()
        ferrytest.wait_for(lambda: self.lva.domstate('lv1') != 'running',
                           30, msg='lv1 not running on A')
        self.wait_domain(self.b, 'lv1', 'running')

    def check(self, host, name, dest, options=None):
        (report,) = host.call(ROOT_PATH, MANAGER_IFACE, 'Check',
                              GLib.Variant('(ssa{sv})',
                                           (name, dest, options or {})))
        return report

    def test_08_check(self):
        r = self.check(self.b, 'lv1', self.lva.uri)
        self.assertTrue(r['ok'], r)
        self.assertTrue(r['destination-checked'], r)
        self.assertIn('postcopy', r['features'])
        self.assertGreater(r['estimated-time'], 0)
        r = self.check(self.b, 'lv1', self.lvb.uri)
        self.assertFalse(r['ok'], r)
        self.assertIn('The destination is this host', r['blockers'])
        r = self.check(self.b, 'lv1', self.lva.uri, {
            'max-bandwidth': GLib.Variant('t', (1 << 44) + 5)})
        self.assertFalse(r['ok'], r)
        self.assertTrue(any('MiB/s' in b for b in r['blockers']), r)
        # an unprivileged caller gets the local part only
        res = self.b.call_as(NOBODY, ROOT_PATH, MANAGER_IFACE, 'Check',
                             GLib.Variant('(ssa{sv})',
                                          ('lv1', self.lva.uri, {})))
        self.assertTrue(res.ok, res)
        self.assertIn('destination-checked', res.stdout)
        self.assertIn('was not checked', res.stdout)

    def test_09_libvirtd_down_and_back(self):
        # a QMP domain stays through it all
        qmp = ferrytest.define_guest(self.b, 'qmpdom')
        self.wait_domain(self.b, 'lv1', 'running')
        self.lvb.kill()
        ferrytest.wait_for(lambda: self.backends(self.b) == ['qmp'], 15,
                           msg='Backends without libvirt')
        self.wait_no_domain(self.b, 'lv1')
        self.assertIn(qmp, self.b.managed_objects())
        self.lvb.start()
        ferrytest.wait_for(
            lambda: self.backends(self.b) == ['qmp', 'libvirt'], 20,
            msg='Backends with libvirt again')
        # libvirtd found its running guest again
        self.wait_domain(self.b, 'lv1', 'running')
        self.assertIn(qmp, self.b.managed_objects())

    def test_10_postcopy_pause_and_recover(self):
        self.lva.define_guest('lvrc', self.serial('lvrc'),
                              kernel=self.kernel,
                              append='wss=16 rate=200 hb=200')
        # whatever happens below, later tests must find B's migration
        # ports free and no lvrc left
        self.addCleanup(self.remove_lvrc)
        self.lva.virsh('start', 'lvrc')
        self.wait_domain(self.a, 'lvrc', 'running')
        path = self.lv_migrate('lvrc', self.a, self.lvb, {
            'postcopy': GLib.Variant('s', 'manual'),
            'max-bandwidth': GLib.Variant('t', 8 * MIB),
            'max-postcopy-bandwidth': GLib.Variant('t', MIB)})
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Iteration') >= 2,
            60, msg='no second pre-copy pass')
        self.a.call(path, MIGRATION_IFACE, 'StartPostCopy')
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'State') ==
            'postcopy-active', 30, msg='post-copy did not start')
        # Pause: libvirt stops post-copy, both sides keep the guest paused
        # (libvirt says post-copy a moment before QEMU is in it, and QEMU
        # pauses only then: a Pause that came too early is refused)
        def pause():
            try:
                self.a.call(path, MIGRATION_IFACE, 'Pause')
                return True
            except GLib.Error as e:
                if 'postcopy-active' not in str(e):
                    raise
                return False
        ferrytest.wait_for(pause, 20, 0.2, msg='Pause accepted')
        # (libvirt's words follow once its migration call has returned)
        props = ferrytest.wait_for(
            lambda: (lambda p: p['State'] == 'postcopy-paused' and
                     'libvirt' in p['ErrorMessage'] and p)(
                         self.a.get_all(path, MIGRATION_IFACE)), 30,
            msg='post-copy paused, with libvirt\'s reason')
        self.assertEqual(props['Mode'], 'postcopy')
        if self.lva.domstate('lvrc') == 'running':
            # libvirt's own race (seen once in about ten runs): its failed
            # Perform found the source still "paused for post-copy", not
            # yet "post-copy failed", and resumed it. The guest then runs
            # on A only; there is nothing to recover.
            ferrytest.log('libvirt resumed the source after the pause')
            self.assertNotEqual(self.lvb.domstate('lvrc'), 'running')
            return
        # Recover: libvirt resumes post-copy, or fails and Ferry says what
        # libvirt did; either way it ends, and ferryd answers throughout
        # (Busy until libvirt's migration call has returned)
        def recover():
            try:
                self.a.call(path, MIGRATION_IFACE, 'Recover',
                            GLib.Variant('(s)', ('tcp:127.0.0.1:%d' % (
                                self.lvb.port_min + 7),)))
                return True
            except GLib.Error as e:
                if ferrytest.dbus_error(e)[0] != ERR + 'Busy':
                    raise
                return False
        ferrytest.wait_for(recover, 30, 0.2, msg='Recover accepted')

        def settled():
            p = self.a.get_all(path, MIGRATION_IFACE)
            if p['State'] == 'completed' or (
                    p['State'] == 'postcopy-paused' and
                    'could not resume' in p['ErrorMessage']):
                return p
            return False
        props = ferrytest.wait_for(settled, 90, msg='recover settled')
        ferrytest.log('libvirt post-copy recover: %s %s' % (
            props['State'], props['ErrorMessage']))
        if props['State'] == 'completed':
            self.assertEqual(self.lvb.domstate('lvrc'), 'running')
        else:
            self.assertNotEqual(self.lva.domstate('lvrc'), 'running')
        self.assertTrue(self.a.ferryd_running())

    def remove_lvrc(self):
        # the guest is lost: A's half through libvirt, B's half (orphaned
        # when B's libvirtd died) directly, so that B's libvirtd, started
        # again, need not wait for it
        self.lva.virsh('destroy', 'lvrc', check=False)
        ours = set(ferrytest.find_processes([self.kernel]))
        for pid in ferrytest.find_processes(['guest=lvrc,']):
            if pid in ours:
                ferrytest.kill_and_reap(pid)
        if not self.lvb.running():
            self.lvb.start()
        self.lvb.virsh('destroy', 'lvrc', check=False)


    def test_11_copy_storage(self):
        # a local qcow2 disk, copied while the guest rewrites part of it;
        # libvirt creates no image outside a storage pool: the operator
        # (here the test, after a first try) makes an empty one of the
        # same size on B
        name = 'lvst'
        run('qemu-img', 'create', '-q', '-f', 'qcow2',
            self.lva.image(name + '.qcow2'), str(16 * MIB))
        run('qemu-io', '-f', 'qcow2', *[
            a for p, off, n in PREWRITTEN
            for a in ('-c', 'write -q -P 0x%x %d %d' % (p, off, n))],
            self.lva.image(name + '.qcow2'))
        self.lva.define_guest(
            name, self.serial(name), memory_mib=32, kernel=self.kernel,
            disk=name + '.qcow2',
            append='wss=8 rate=0 hb=200 disk=1024 dstart=%d dsize=%d' % (
                DSTART_KIB, DSIZE_KIB))
        self.lva.virsh('start', name)
        self.wait_domain(self.a, name, 'running')
        # from its second sweep on, the guest reads back what it wrote
        ferrytest.wait_for(
            lambda: [b for b in ferrytest.heartbeats(self.serial(name))
                     if b.get('dgen', 0) >= 2], 60,
            msg='%s sweeping its disk' % name)
        options = {'copy-storage': GLib.Variant('s', 'all'),
                   'synchronous-writes': GLib.Variant('b', True)}
        # no image on B (and no storage pool there): libvirt refuses
        props = self.wait_final(self.lv_migrate(
            name, self.a, self.lvb, options), timeout=60)
        ferrytest.log('libvirt storage copy without an image: %s' %
                      props['ErrorMessage'])
        self.assertEqual(props['State'], 'failed', props)
        self.assertIn('Storage pool not found', props['ErrorMessage'])
        self.assertEqual(self.lva.domstate(name), 'running')
        self.assertFalse(os.path.exists(self.lvb.image(name + '.qcow2')))
        run('qemu-img', 'create', '-q', '-f', 'qcow2',
            self.lvb.image(name + '.qcow2'), str(16 * MIB))
        path = self.lv_migrate(name, self.a, self.lvb, options)
        props = self.wait_final(path, timeout=60)
        self.assertEqual(props['State'], 'completed', props['ErrorMessage'])
        stats = props['Statistics']
        ferrytest.log('libvirt storage copy: %r' % stats)
        self.assertIn('storage-mirror', stats['features'])
        self.assertIn('synchronous-writes', stats['features'])
        # libvirt reports the mirrors' figures with the completed job
        # (the whole disk, plus what the guest rewrote while it copied;
        # libvirt's completed job may count a last block or two of the
        # guest's writes in the total only: seen 4 KiB apart once)
        self.assertGreaterEqual(stats.get('disk-total', 0), 16 * MIB, stats)
        self.assertGreaterEqual(stats.get('disk-transferred', 0), 16 * MIB,
                                stats)
        self.assertLessEqual(stats['disk-transferred'], stats['disk-total'],
                             stats)
        self.assertEqual(self.lvb.domstate(name), 'running')
        self.assertNotEqual(self.lva.domstate(name), 'running')
        # the guest goes on on B, two more sweeps each read back right
        # (the first reads what A wrote)
        last_a = max(b['dgen'] for b in ferrytest.heartbeats(
            self.serial(name)) if 'dgen' in b)
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.serial(name))[-1].get(
                'dgen', 0) >= last_a + 2, 30, 0.2,
            msg='%s sweeping its disk on B' % name)
        for b in ferrytest.heartbeats(self.serial(name)):
            self.assertEqual((b.get('err'), b.get('derr')), (0, 0), b)
        # the images, once B's QEMU has closed its own: identical outside
        # the region the guest went on rewriting on B
        self.lvb.virsh('destroy', name)
        with tempfile.TemporaryDirectory(dir=self.guests) as tmp:
            copies = []
            for lv in (self.lva, self.lvb):
                copy = os.path.join(tmp, lv.name + '.qcow2')
                shutil.copyfile(lv.image(name + '.qcow2'), copy)
                run('qemu-io', '-f', 'qcow2', '-c', 'write -q -z %d %d' % (
                    DSTART_KIB << 10, DSIZE_KIB << 10), copy)
                copies.append(copy)
            res = subprocess.run(['qemu-img', 'compare', '-f', 'qcow2',
                                  '-F', 'qcow2'] + copies,
                                 capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        for pattern, offset, length in PREWRITTEN:
            run('qemu-io', '-f', 'qcow2', '-c', 'read -q -P 0x%x %d %d' % (
                pattern, offset, length), self.lvb.image(name + '.qcow2'))

    def test_12_timeout_abort(self):
        # dirtying 200 MiB/s over a 4 MiB/s link, pre-copy only: the
        # timeout aborts it, and the guest stays on A
        name = 'lvto'
        self.lva.define_guest(name, self.serial(name), memory_mib=32,
                              kernel=self.kernel,
                              append='wss=8 rate=200 hb=200')
        self.lva.virsh('start', name)
        self.wait_domain(self.a, name, 'running')
        ferrytest.wait_for(
            lambda: len(ferrytest.heartbeats(self.serial(name))) >= 2, 60,
            msg='heartbeats of %s' % name)
        t = time.monotonic()
        path = self.lv_migrate(name, self.a, self.lvb, {
            'postcopy': GLib.Variant('s', 'off'),
            'auto-converge': GLib.Variant('b', False),
            'max-bandwidth': GLib.Variant('t', 4 * MIB),
            'timeout': GLib.Variant('u', 2),
            'timeout-action': GLib.Variant('s', 'abort')})
        props = self.wait_final(path, timeout=60)
        ferrytest.log('libvirt timeout: %.1fs %s %s' % (
            time.monotonic() - t, props['State'], props['ErrorMessage']))
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'MigrationFailed')
        self.assertIn('did not complete within 2 s', props['ErrorMessage'])
        self.assertEqual(props['Mode'], 'precopy')
        # the guest never left A, and nothing of it runs on B
        self.assertEqual(self.lva.domstate(name), 'running')
        self.assertNotEqual(self.lvb.domstate(name), 'running')
        n = ferrytest.heartbeats(self.serial(name))[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.serial(name))[-1]['n'] >= n + 2,
            15, msg='%s on A stopped beating' % name)
        for b in ferrytest.heartbeats(self.serial(name)):
            self.assertEqual(b.get('err'), 0, b)

    def test_13_timeout_postcopy(self):
        # the same guest, timeout-action=postcopy: post-copy after 2 s,
        # and it completes on B
        name = 'lvto'
        last_a = ferrytest.heartbeats(self.serial(name))[-1]['n']
        path = self.lv_migrate(name, self.a, self.lvb, {
            'max-bandwidth': GLib.Variant('t', 4 * MIB),
            'timeout': GLib.Variant('u', 2),
            'timeout-action': GLib.Variant('s', 'postcopy')})
        props = self.wait_final(path, timeout=60)
        self.assertEqual(props['State'], 'completed', props['ErrorMessage'])
        self.assertEqual(props['Mode'], 'postcopy')
        # libvirt needed post-copy enabled from the start for that
        self.assertIn('postcopy', props['Statistics']['features'])
        self.assertEqual(self.lvb.domstate(name), 'running')
        self.assertNotEqual(self.lva.domstate(name), 'running')
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.serial(name))[-1]['n'] >
            last_a + 2, 30, msg='heartbeats of %s on B' % name)
        for b in ferrytest.heartbeats(self.serial(name)):
            self.assertEqual(b.get('err'), 0, b)
        self.lvb.virsh('destroy', name)


if __name__ == '__main__':
    ferrytest.main()
