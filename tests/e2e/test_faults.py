#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults in the middle of a migration between two real ferryd hosts
(DESIGN §3): a data link cut for real in post-copy pauses both sides,
Recover resumes over a new channel, and a second cut during recovery
pauses again and is recovered again; kill -9 of either ferryd in
pre-copy and in post-copy, then a restart: each time the guest ends on
exactly one host, running, with its memory intact, and the restarted
ferryd shows how the migration ended."""

import os
import signal
import subprocess
import time

from gi.repository import GLib

import ferrytest
from ferrytest import (DOMAIN_IFACE, ERR, MANAGER_IFACE, MIGRATION_IFACE,
                       ROOT_PATH)


# Dirties faster than pre-copy sends (16 MiB/s): it never converges, and
# post-copy has pages to fetch.
POSTCOPY_GUEST = 'wss=32 rate=20 hb=200'
PROPS_CHANGED = ("type='signal',interface='org.freedesktop.DBus.Properties',"
                 "member='PropertiesChanged'")


def state_changes(monitor, path):
    """The successive State values path announced (repeats dropped)."""
    out = []
    for m in list(monitor.messages):
        if m.path == path and 'State' in m.args[1]:
            state = m.args[1]['State']
            if not out or out[-1] != state:
                out.append(state)
    return out


def continue_process(pid):
    """SIGCONT pid if it is still there (so teardown can stop it)."""
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


class FaultsTest(ferrytest.TwoHostTestCase):

    finished_on_b = None  # an incoming migration that completed

    def incoming(self, name):
        (paths,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        for p in reversed(paths):
            if self.b.get_prop(p, MIGRATION_IFACE, 'DomainName') == name:
                return p
        return None

    def states(self, path, inc):
        return (self.a.get_prop(path, MIGRATION_IFACE, 'State'),
                self.b.get_prop(inc, MIGRATION_IFACE, 'State'))

    def wait_states(self, path, inc, want, timeout=20, msg=None):
        ferrytest.wait_for(lambda: self.states(path, inc) == want, timeout,
                           0.02, msg=msg or 'states never became %r (now %r)'
                           % (want, self.states(path, inc)))

    def assert_continues(self, name, last_on_a):
        hb_b = ferrytest.wait_heartbeats(self.b, name, 3, 30)
        self.assertEqual(hb_b[0]['n'], last_on_a + 1,
                         'the heartbeat does not continue on B: %r' % hb_b)
        for hb in hb_b:
            self.assertEqual(hb.get('err'), 0, 'memory errors on B: %r' % hb)
            self.assertEqual(hb.get('verify_bad'), 0, hb)

    def start_postcopy(self, name, postcopy_bandwidth):
        """Migrate name from A to B and switch to post-copy; return once
        the guest runs on B (its QEMU pauses a broken stream, rather than
        failing it, only from then on)."""
        b_log = len(self.b.ferryd_log_text())
        path = self.migrate(name, {
            'postcopy': GLib.Variant('s', 'manual'),
            'max-bandwidth': GLib.Variant('t', 16 << 20),
            'max-postcopy-bandwidth': GLib.Variant('t', postcopy_bandwidth)})
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Iteration') >= 2,
            30, msg='no second pass')
        self.a.call(path, MIGRATION_IFACE, 'StartPostCopy')
        inc = self.incoming(name)
        ferrytest.wait_for(
            lambda: self.states(path, inc) ==
            ('postcopy-active', 'postcopy-active') and
            '"event": "RESUME"' in self.b.ferryd_log_text()[b_log:], 20,
            msg='the guest does not run on B in post-copy')
        return path, inc

    def assert_paused(self, name, path, inc):
        self.wait_states(path, inc, ('postcopy-paused', 'postcopy-paused'),
                         msg='a cut link should pause both sides')
        for host, p in ((self.a, path), (self.b, inc)):
            props = host.get_all(p, MIGRATION_IFACE)
            self.assertEqual(props['ErrorName'], ERR + 'MigrationFailed')
            self.assertIn('Recover', props['ErrorMessage'])
        # the guest is kept on both, paused: nothing is lost
        self.assertIsNotNone(self.a.qemu_pid(name))
        self.assertIsNotNone(self.b.qemu_pid(name))

    def ferryctl(self, host, *args):
        argv = [os.environ['FERRYCTL'], '--address', host.address] + list(
            args)
        ferrytest.log('running ' + ' '.join(argv))
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        ferrytest.log('exit %d\nstdout:\n%s\nstderr:\n%s' % (
            r.returncode, r.stdout, r.stderr))
        return r

    def test_01_postcopy_link_cut_recover(self):
        name = 'cut'
        for h in (self.a, self.b):
            self.assertIn('postcopy-recover', h.get_prop(
                ROOT_PATH, MANAGER_IFACE, 'Capabilities'))
        dom_a = ferrytest.start_guest(self.a, name, memory=96,
                                      append=POSTCOPY_GUEST)
        ferrytest.wait_heartbeats(self.a, name, 2)
        # a slow background copy: the link is cut, twice, before the end
        path, inc = self.start_postcopy(name, 4 << 20)
        mons = [ferrytest.BusMonitor(h.address, [PROPS_CHANGED])
                for h in (self.a, self.b)]
        for m in mons:
            self.addCleanup(m.close)

        # 1. a real cut of the data link in post-copy
        self.b.cut_data_link(name)
        self.assert_paused(name, path, inc)
        # Recover is only for a paused post-copy, and only on the source
        self.assertDBusError(ERR + 'NotSupported', self.b.call, inc,
                             MIGRATION_IFACE, 'Recover',
                             GLib.Variant('(s)', ('',)))
        # the operator's way: ferryctl recover, without a URI (the
        # destination picks a fresh port on the first channel's address);
        # on the destination's object it is refused (status 1)
        r = self.ferryctl(self.b, 'recover', inc)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn('NotSupported', r.stderr + r.stdout)
        r = self.ferryctl(self.a, 'recover', path)
        self.assertEqual(r.returncode, 0, r)
        # 2. a second cut while the recovered stream is under way
        self.b.cut_data_link(name)
        self.assert_paused(name, path, inc)
        self.assertDBusError(ERR + 'NotSupported', self.a.call, path,
                             MIGRATION_IFACE, 'Cancel')
        self.a.call(path, MIGRATION_IFACE, 'Recover',
                    GLib.Variant('(s)', ('',)))
        props = self.wait_final(path, timeout=90)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        self.assertEqual(props['ErrorName'], '')
        ferrytest.wait_for(
            lambda: self.b.get_prop(inc, MIGRATION_IFACE, 'State') ==
            'completed', 20, msg='the destination did not complete')
        self.assertEqual(self.b.get_prop(inc, MIGRATION_IFACE, 'ErrorName'),
                         '')
        type(self).finished_on_b = inc
        # both objects followed QEMU: paused, active again, completed
        for mon, p in zip(mons, (path, inc)):
            seen = state_changes(mon, p)
            self.assertEqual(seen[-3:], ['postcopy-paused', 'postcopy-active',
                                         'completed'], seen)
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_continues(name, last_a)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    # -- a ferryd killed (-9) mid-migration, then started again ----------

    def restart(self, host):
        self.addCleanup(lambda: host.ferryd_running() or host.start_ferryd())
        host.start_ferryd()

    def migration_on(self, host, path):
        """The Migration at path on host (after a restart too)."""
        return ferrytest.wait_for(
            lambda: path in host.managed_objects() and
            host.get_all(path, MIGRATION_IFACE), 10,
            msg='%s not exported on %s' % (path, host.name))

    def assert_runs_on(self, name, host, other, last=None):
        """The guest runs on host with its memory intact (its count goes
        on, from last + 1 when given) and nowhere on other."""
        dom = ferrytest.domain_path(name)
        host.wait_state(dom, 'running', 20)
        before = ferrytest.wait_heartbeats(host, name, 1)[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(host.console_log(name))[-1]['n'] >=
            before + 2, 20, msg='the guest on %s does not beat' % host.name)
        hbs = ferrytest.heartbeats(host.console_log(name))
        for hb in hbs:
            self.assertEqual(hb.get('err'), 0, hb)
            self.assertEqual(hb.get('verify_bad', 0), 0, hb)
        if last is not None:
            self.assertEqual(hbs[0]['n'], last + 1, hbs[:3])
        ferrytest.wait_for(lambda: other.qemu_pid(name) is None, 15,
                           msg='QEMU left on %s' % other.name)

    def precopy(self, name):
        ferrytest.start_guest(self.a, name, memory=96,
                              append='wss=48 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(
            name, {'max-bandwidth': GLib.Variant('t', 2 << 20)})
        return path, self.incoming(name)

    def test_02_destination_killed_in_precopy(self):
        name = 'dstk'
        path, inc = self.precopy(name)
        self.b.kill_ferryd()
        t = time.monotonic()
        # the source notices at once that its peer went away
        props = self.wait_final(path, timeout=10)
        took = time.monotonic() - t
        ferrytest.log('source noticed the dead destination in %.3fs' % took)
        self.assertLess(took, 1.5)
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'PeerUnreachable')
        self.restart(self.b)
        props = self.migration_on(self.b, inc)
        # the history survives the restart: test_01's migration is still
        # there (same path), with how it ended
        if self.finished_on_b:
            self.assertEqual(self.migration_on(self.b, self.finished_on_b)
                             ['State'], 'completed')
        ferrytest.wait_for(
            lambda: self.b.get_prop(inc, MIGRATION_IFACE, 'State') ==
            'failed', 15, msg='the restarted destination did not settle')
        self.assertIn('restarted',
                      self.b.get_prop(inc, MIGRATION_IFACE, 'ErrorMessage'))
        self.assert_runs_on(name, self.a, self.b)
        self.a.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_03_source_killed_in_precopy(self):
        name = 'srck'
        path, inc = self.precopy(name)
        self.a.kill_ferryd()
        ferrytest.wait_for(
            lambda: self.b.get_prop(inc, MIGRATION_IFACE, 'State') ==
            'failed', 15, msg='the destination did not drop its half')
        self.restart(self.a)
        ferrytest.wait_for(
            lambda: self.migration_on(self.a, path)['State'] == 'failed',
            20, msg='the restarted source did not roll back')
        props = self.a.get_all(path, MIGRATION_IFACE)
        self.assertIn('rolled back', props['ErrorMessage'])
        self.assert_runs_on(name, self.a, self.b)
        self.a.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def postcopy_then_kill(self, name, host):
        ferrytest.start_guest(self.a, name, memory=96, append=POSTCOPY_GUEST)
        ferrytest.wait_heartbeats(self.a, name, 2)
        path, inc = self.start_postcopy(name, 8 << 20)
        host.kill_ferryd()
        return path, inc

    def assert_completed_both(self, name, path, inc):
        for host, p in ((self.a, path), (self.b, inc)):
            ferrytest.wait_for(
                lambda: self.migration_on(host, p)['State'] in
                ferrytest.FINAL_STATES, 60,
                msg='%s did not end on %s' % (p, host.name))
            props = host.get_all(p, MIGRATION_IFACE)
            self.assertEqual(props['State'], 'completed', props)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        self.assert_runs_on(name, self.b, self.a, last_a)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_04_destination_killed_in_postcopy(self):
        name = 'dstpk'
        path, inc = self.postcopy_then_kill(name, self.b)
        self.restart(self.b)
        self.assert_completed_both(name, path, inc)

    def test_05_source_killed_in_postcopy(self):
        name = 'srcpk'
        path, inc = self.postcopy_then_kill(name, self.a)
        self.restart(self.a)
        self.assert_completed_both(name, path, inc)

    def test_06_destination_gone_after_finish(self):
        """Pre-copy, the whole guest reached B and A asked B's ferryd to
        resume it (Finish), then B's ferryd died without answering: A
        cannot know whether the guest runs on B, so it keeps its copy
        paused (never two running copies) and says so."""
        name = 'fin'
        dom_a = ferrytest.start_guest(self.a, name, memory=32,
                                      append='wss=2 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate_until_active(
            name, {'max-bandwidth': GLib.Variant('t', 8 << 20)})
        inc = self.incoming(name)
        # B's ferryd hears Finish but cannot act on it: stopped, then
        # killed once A waits for its answer
        pid = self.b.ferryd_pid
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(lambda: self.b.ferryd_running() or
                        self.b.start_ferryd())
        self.addCleanup(continue_process, pid)
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Phase') ==
            'finish', 30, 0.05, msg='A never sent Finish')
        self.b.kill_ferryd()
        props = self.wait_final(path, timeout=10)
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'PeerUnreachable')
        self.assertIn('kept paused on the source', props['ErrorMessage'])
        # paused, not resumed, and it stays so
        self.assertEqual(self.a.domain_state(dom_a), 'paused')
        beats = len(ferrytest.heartbeats(self.a.console_log(name)))
        self.restart(self.b)
        self.migration_on(self.b, inc)
        self.assertEqual(self.a.domain_state(dom_a), 'paused')
        self.assertEqual(
            len(ferrytest.heartbeats(self.a.console_log(name))), beats,
            'the guest ran on A again')
        # B has no copy: the operator lets A's run again with Start
        self.assertIsNone(self.b.qemu_pid(name), 'a copy runs on B')
        self.a.call(dom_a, DOMAIN_IFACE, 'Start', timeout=30)
        self.a.wait_state(dom_a, 'running', 15)
        ferrytest.wait_heartbeats(self.a, name, beats + 2, 30)
        for b in ferrytest.heartbeats(self.a.console_log(name)):
            self.assertEqual(b.get('err'), 0, b)
        # and Start on a running domain is still refused
        with self.assertRaises(GLib.GError) as cm:
            self.a.call(dom_a, DOMAIN_IFACE, 'Start', timeout=30)
        self.assertIn(ERR + 'Busy', str(cm.exception))
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)
        self.a.wait_state(dom_a, 'shutoff', 15)


if __name__ == '__main__':
    ferrytest.main()
