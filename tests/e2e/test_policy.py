#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The convergence policy between two real ferryd hosts: with default
options a guest that dirties far faster than a capped link completes by
itself; Convergence says why before each PolicyAction, and the
PolicyAction's reason carries the figures that drove it."""

import os
import re
import subprocess

from gi.repository import GLib

import ferrytest
from ferrytest import DOMAIN_IFACE, MIGRATION_IFACE

PROPS_IFACE = 'org.freedesktop.DBus.Properties'
RATE = r'([\d.]+ (KiB|MiB|GiB)|\d+ B)/s'
# rates that round alike are quoted exactly (B/s)
FIGURES = re.compile(r'dirty rate (' + RATE + r' [<=>]|not measured yet,) link ' + RATE +
                     r' after \d+ passes, [\d.]+ (B|KiB|MiB|GiB) remaining')


class Recorder:
    """The Convergence values and PolicyAction signals of one migration
    object, in the order the bus delivered them."""

    def __init__(self, host):
        self.bus = host.bus()
        self.events = []
        self.sub = self.bus.signal_subscribe(
            ferrytest.BUS_NAME, None, None, None, None, 0, self._on_signal)

    def _on_signal(self, conn, sender, path, iface, member, params):
        args = params.unpack()
        if iface == PROPS_IFACE and member == 'PropertiesChanged':
            if 'Convergence' in args[1]:
                self.events.append((path, 'Convergence', args[1]['Convergence']))
        elif member == 'PolicyAction':
            self.events.append((path, 'PolicyAction', args))

    def of(self, path):
        ctx = GLib.MainContext.default()
        while ctx.iteration(False):
            pass
        return [(kind, value) for p, kind, value in self.events if p == path]

    def close(self):
        self.bus.signal_unsubscribe(self.sub)


class PolicyTest(ferrytest.TwoHostTestCase):

    def assert_continues(self, name):
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        hb_b = ferrytest.wait_heartbeats(self.b, name, 2, 30)
        self.assertEqual(hb_b[0]['n'], last_a + 1)
        for hb in hb_b:
            self.assertEqual(hb.get('err'), 0, 'memory errors on B: %r' % hb)

    def assert_explained_first(self, events, action):
        """Convergence said stalled or diverging, with a reason and a
        suggestion, before the PolicyAction action."""
        kinds = [k for k, _ in events]
        at = next(i for i, (k, v) in enumerate(events)
                  if k == 'PolicyAction' and v[0] == action)
        before = [v for k, v in events[:at] if k == 'Convergence']
        said = [c for c in before
                if c['verdict'] in ('stalled', 'diverging')]
        self.assertTrue(said, 'Convergence never said stalled/diverging '
                        'before %s: %r' % (action, kinds))
        last = said[-1]
        self.assertIn(last['reason'], ('dirty-rate-over-link',
                                       'downtime-limit'), last)
        self.assertTrue(last['suggestion'], last)
        for key in ('dirty-rate', 'transfer-rate', 'remaining', 'passes'):
            self.assertIn(key, last)
        return last

    def test_01_hard_guest_default_options(self):
        # 200 MiB/s of writes over 48 MiB against a 16 MiB/s link: pre-copy
        # alone never finishes, and the working set does not fit 300 ms.
        name = 'hard'
        ferrytest.start_guest(self.a, name, memory=128,
                              append='wss=48 rate=200 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        rec = Recorder(self.a)
        path = self.migrate(name, {'max-bandwidth': GLib.Variant('t', 16 << 20)})
        # ferryctl watch tells the same story, in the same order
        watch = subprocess.Popen(
            [os.environ['FERRYCTL'], '--address', self.a.address, 'watch',
             path.rsplit('/', 1)[1]], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.addCleanup(ferrytest.stop_process, watch)
        props = self.wait_final(path, timeout=90)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        out = watch.communicate(timeout=30)[0]
        said = re.search(r'convergence (diverging|stalled) '
                         r'\((dirty-rate-over-link|downtime-limit)\): dirty rate',
                         out)
        acted = out.find('policy action start-postcopy: ')
        self.assertTrue(said and 0 <= said.start() < acted, out)
        events = rec.of(path)
        rec.close()
        actions = [v for k, v in events if k == 'PolicyAction']
        ferrytest.log('PolicyAction:', actions)
        self.assertEqual([a[0] for a in actions], ['start-postcopy'], actions)
        self.assertRegex(actions[0][1], FIGURES)
        last = self.assert_explained_first(events, 'start-postcopy')
        # Diverging, or (when a busy host slows the guest's writes to
        # just below the link) stalled: either way, it said why.
        if last['verdict'] == 'diverging':
            self.assertGreaterEqual(last['dirty-rate'], last['transfer-rate'])
        self.assertIn('post-copy', last['suggestion'])
        # After the switch, the verdict says why it gets there now.
        final = self.a.get_prop(path, MIGRATION_IFACE, 'Convergence')
        self.assertEqual(final['verdict'], 'converging', final)
        self.assertEqual(final['reason'], 'postcopy', final)
        self.assert_continues(name)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_02_small_working_set_raises_downtime(self):
        # A 2 MiB working set sent at 16 MiB/s takes about 125 ms: more
        # than the 50 ms Ferry starts with, less than 300 ms. The least
        # invasive step is enough: the downtime limit grows, and pre-copy
        # completes.
        name = 'small'
        ferrytest.start_guest(self.a, name, memory=64,
                              append='wss=2 rate=200 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        rec = Recorder(self.a)
        path = self.migrate(name, {'max-bandwidth': GLib.Variant('t', 16 << 20)})
        props = self.wait_final(path, timeout=90)
        self.assertEqual(props['State'], 'completed', props)
        events = rec.of(path)
        rec.close()
        actions = [v for k, v in events if k == 'PolicyAction']
        ferrytest.log('PolicyAction:', actions)
        self.assertTrue(actions, 'no PolicyAction')
        self.assertEqual(actions[0][0], 'raise-downtime', actions)
        self.assertRegex(actions[0][1], r'downtime limit 50 -> \d+ ms')
        self.assertRegex(actions[0][1], FIGURES)
        self.assertRegex(actions[0][1], r'a pass begins with [\d.]+ (KiB|MiB)')
        self.assert_explained_first(events, 'raise-downtime')
        self.assertEqual(props['Mode'], 'precopy', actions)
        self.assert_continues(name)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_03_no_postcopy_throttles_and_timeout_still_acts(self):
        # postcopy=off: no switch; auto-converge (on by default then)
        # throttles the guest, each rise a PolicyAction with its figures;
        # timeout/timeout-action still end it, and the guest stays on A.
        name = 'nopc'
        ferrytest.start_guest(self.a, name, memory=64,
                              append='wss=16 rate=200 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        rec = Recorder(self.a)
        path = self.migrate(name, {
            'postcopy': GLib.Variant('s', 'off'),
            'max-bandwidth': GLib.Variant('t', 16 << 20),
            'timeout': GLib.Variant('u', 10),
            'timeout-action': GLib.Variant('s', 'abort')})
        props = self.wait_final(path, timeout=60)
        events = rec.of(path)
        rec.close()
        actions = [v for k, v in events if k == 'PolicyAction']
        ferrytest.log('PolicyAction:', actions)
        self.assertEqual(props['State'], 'failed', props)
        self.assertIn('did not complete within 10 s', props['ErrorMessage'])
        self.assertEqual(props['Mode'], 'precopy')
        kinds = [a[0] for a in actions]
        self.assertIn('throttle', kinds, actions)
        self.assertNotIn('start-postcopy', kinds)
        self.assertEqual(kinds[-1], 'abort', actions)
        # the timeout's reason carries the last verdict's figures too
        self.assertRegex(actions[-1][1], FIGURES)
        for action, reason in actions:
            if action == 'throttle':
                self.assertRegex(reason, r'lose \d+ % of their time: ')
                self.assertRegex(reason, FIGURES)
        said = [v for k, v in events if k == 'Convergence'
                and v['verdict'] in ('stalled', 'diverging')]
        self.assertTrue(said, events)
        self.assertIn('auto-converge', said[-1]['suggestion'])
        # the guest never left A
        before = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
            >= before + 2, 10, msg='guest on A stopped beating')
        self.a.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)


if __name__ == '__main__':
    ferrytest.main()
