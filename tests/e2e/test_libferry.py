#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libferry-1 through GObject introspection and C (DESIGN §1b, issue 6):
the examples of docs/examples/ (Python, GJS, C) migrate the test guest
A→B and B→A with a live progress readout and the final statistics, and
the guest's heartbeat continues on the destination; errors come back in
the Ferry error domain."""

import os
import re
import shutil
import subprocess

import sys


def _preload_sanitizers():
    """In an ASan/UBSan build, libferry-1.so needs the sanitizer runtimes
    loaded first, which dlopen from Python cannot do: run again with them
    preloaded (no leak checks for Python itself). Children (ferryd, the C
    example) get the original environment back."""
    preload = os.environ.get('FERRY_SANITIZER_PRELOAD')
    if not preload:
        return
    if os.environ.get('FERRY_SANITIZER_PRELOADED') != '1':
        env = dict(os.environ, LD_PRELOAD=preload,
                   FERRY_SANITIZER_PRELOADED='1',
                   FERRY_ORIG_ASAN_OPTIONS=os.environ.get('ASAN_OPTIONS', ''))
        env['ASAN_OPTIONS'] = (env['FERRY_ORIG_ASAN_OPTIONS'] +
                               ':' + SCRIPT_ASAN_OPTIONS).lstrip(':')
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    os.environ['ASAN_OPTIONS'] = os.environ.pop('FERRY_ORIG_ASAN_OPTIONS')
    os.environ.pop('LD_PRELOAD', None)
    if not os.environ['ASAN_OPTIONS']:
        del os.environ['ASAN_OPTIONS']


# the interpreters (Python, GJS) are not built with ASan: no leak reports
# for them, and they load the runtime by LD_PRELOAD
SCRIPT_ASAN_OPTIONS = 'detect_leaks=0:verify_asan_link_order=0'
_preload_sanitizers()

import gi  # noqa: E402

import ferrytest  # noqa: E402
from ferrytest import DOMAIN_IFACE  # noqa: E402

gi.require_version('Ferry', '1.0')
from gi.repository import Ferry, Gio, GLib  # noqa: E402

EXAMPLES = os.environ.get('FERRY_EXAMPLES', '')
EXAMPLE_C = os.environ.get('FERRY_EXAMPLE_C', '')
GJS = shutil.which('gjs')
# low enough that a migration of the guest's 64 MiB working set takes a few
# seconds, so ferryd publishes several progress values
BANDWIDTH = 24 << 20
GUEST_APPEND = 'wss=64 rate=0 hb=200'
PROGRESS = re.compile(r'^progress ([0-9.]+)$')
STAT = re.compile(r'^([a-z-]+): (.*)$')


class LibferryTest(ferrytest.TwoHostTestCase):

    def example_argv(self, kind):
        if kind == 'py':
            return [ferrytest.SYSTEM_PY, os.path.join(EXAMPLES, 'migrate.py')]
        if kind == 'js':
            if GJS is None:
                self.fail('gjs is not installed (scripts/setup.sh installs it)')
            return [GJS, os.path.join(EXAMPLES, 'migrate.js')]
        self.assertTrue(EXAMPLE_C, 'FERRY_EXAMPLE_C not set')
        return [EXAMPLE_C]

    def run_example(self, kind, src, dst, name, bandwidth=BANDWIDTH):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=src.address)
        preload = os.environ.get('FERRY_SANITIZER_PRELOAD')
        if preload and kind != 'c':
            env['LD_PRELOAD'] = preload
            env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') + ':' +
                                   SCRIPT_ASAN_OPTIONS).lstrip(':')
        argv = self.example_argv(kind) + [name, dst.address]
        if bandwidth:
            argv.append(str(bandwidth))
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=180)
        ferrytest.log('%s example %s→%s: rc %d\n%s%s' % (
            kind, src.name, dst.name, r.returncode, r.stdout, r.stderr))
        return r

    def assert_migrates(self, kind, src, dst, name):
        dst_log = dst.console_log(name)
        before_on_dst = len(ferrytest.heartbeats(dst_log))
        ferrytest.wait_heartbeats(src, name, 3)
        r = self.run_example(kind, src, dst, name)
        self.assertEqual(r.returncode, 0, 'example failed:\n' + r.stderr)
        lines = r.stdout.splitlines()
        progress = [float(m.group(1)) for m in map(PROGRESS.match, lines)
                    if m]
        self.assertEqual(progress, sorted(progress),
                         'progress went backwards: %r' % progress)
        self.assertGreaterEqual(len(set(progress)), 3,
                                'fewer than 3 progress values: %r' % progress)
        self.assertTrue(all(0.0 <= p <= 1.0 for p in progress), progress)
        stats = dict(m.groups() for m in map(STAT.match, lines) if m)
        for key in ('total-time', 'downtime', 'memory-total',
                    'memory-transferred', 'mode'):
            self.assertIn(key, stats, 'statistics not printed: %r' % lines)
        self.assertGreater(int(stats['memory-transferred']), 32 << 20)

        # the heartbeat continues on the destination, memory intact
        last_on_src = ferrytest.heartbeats(src.console_log(name))[-1]['n']
        new = ferrytest.wait_for(
            lambda: (lambda hb: len(hb) >= before_on_dst + 3 and
                     hb[before_on_dst:])(ferrytest.heartbeats(dst_log)),
            30, 0.2, msg='no heartbeat of %s on %s' % (name, dst.name))
        self.assertEqual(new[0]['n'], last_on_src + 1,
                         'heartbeat does not continue on %s: %r after %d' % (
                             dst.name, new[0], last_on_src))
        for hb in new:
            self.assertEqual(hb.get('err'), 0, hb)
            self.assertEqual(hb.get('verify_bad'), 0, hb)
        path = ferrytest.domain_path(name)
        dst.wait_state(path, 'running')

    def there_and_back(self, kind):
        name = 'lib' + kind
        ferrytest.start_guest(self.a, name, memory=128, append=GUEST_APPEND)
        self.assert_migrates(kind, self.a, self.b, name)
        self.assert_migrates(kind, self.b, self.a, name)
        self.a.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown')
        self.a.wait_state(ferrytest.domain_path(name), 'shutoff', 30)

    def test_01_python(self):
        self.there_and_back('py')

    def test_02_gjs(self):
        self.there_and_back('js')

    def test_03_c(self):
        self.there_and_back('c')

    def test_04_unknown_domain(self):
        """A Ferry.Error, not a raw D-Bus error, in process and from the
        examples."""
        client = Ferry.Client.new_for_connection(self.a.bus())
        with self.assertRaises(GLib.Error) as cm:
            client.migrate_sync('no-such-domain', self.b.address,
                                Ferry.MigrateOptions.new(), None)
        err = cm.exception
        self.assertEqual(err.domain, 'ferry-error-quark', err)
        self.assertTrue(err.matches(Ferry.error_quark(),
                                    Ferry.Error.NOT_FOUND), err)
        self.assertNotIn('GDBus.Error', err.message)
        self.assertEqual(Ferry.error_get_dbus_name(err),
                         'org.ferryvm.Ferry1.Error.NotFound')
        # wrong option types and unknown options
        opts = Ferry.MigrateOptions.new()
        opts.set_value('no-such-option', GLib.Variant('s', 'x'))
        with self.assertRaises(GLib.Error) as cm:
            client.migrate_sync('no-such-domain', self.b.address, opts, None)
        self.assertEqual(cm.exception.domain, 'ferry-error-quark')
        for kind in ('py', 'js', 'c'):
            r = self.run_example(kind, self.a, self.b, 'no-such-domain')
            self.assertNotEqual(r.returncode, 0)
            self.assertNotIn('org.freedesktop.DBus.Error', r.stderr)
            if kind == 'py':
                self.assertIn('ferry-error-quark', r.stderr)

    def test_05_objects_and_async(self):
        """Domains and migrations as objects; the async API."""
        name = 'libasync'
        client = Ferry.Client.new_for_connection(self.a.bus())
        added = []
        client.connect('domain-added', lambda c, d: added.append(d.props.name))
        client.connect('migration-added', lambda c, m: added.append(m))
        ferrytest.start_guest(self.a, name, memory=64)
        ctx = GLib.MainContext.default()
        ferrytest.wait_for(lambda: ctx.iteration(False) or
                           client.lookup_domain(name), 10)
        self.assertIn(name, added)
        dom = client.lookup_domain(name)
        self.assertIn(dom.props.name,
                      [d.props.name for d in client.get_domains()])
        self.assertEqual(dom.get_backend(), 'qmp')
        self.assertIsNone(client.lookup_domain('no-such-domain'))

        states = []
        dom.connect('notify::state', lambda d, _: states.append(d.props.state))
        loop = GLib.MainLoop()
        result = {}

        def done(c, res):
            try:
                result['m'] = c.migrate_finish(res)
            except GLib.Error as e:
                result['e'] = e
            loop.quit()
        client.migrate_async(name, self.b.address, None, None, done)
        loop.run()
        self.assertNotIn('e', result)
        m = result['m']
        # following a migration costs no calls: no polling
        me = self.a.bus().get_unique_name()
        mon = self.a.monitor(["type='method_call'"])
        self.addCleanup(mon.close)
        self.assertEqual(m.props.domain_name, name)
        self.assertEqual(m.props.direction, 'outgoing')
        self.assertIs(client.lookup_migration(m.get_object_path()), m)
        phases = []
        m.connect('phase-changed', lambda m, p: phases.append(p))

        def waited(mig, res):
            result['stats'] = mig.wait_finish(res)
            loop.quit()
        m.wait_async(None, waited)
        loop.run()
        self.assertIn('total-time', result['stats'].unpack())
        mon.close()
        self.assertEqual([x for x in mon.messages if x.sender == me], [],
                         'the client polled while following the migration')
        self.assertEqual(m.props.state, 'completed')
        self.assertEqual(m.props.progress, 1.0)
        self.assertTrue(m.is_finished())
        # the source domain's properties followed the D-Bus object
        path_a = ferrytest.domain_path(name)
        ferrytest.wait_for(lambda: ctx.iteration(False) or
                           dom.props.state == self.a.domain_state(path_a), 10)
        self.assertIn('migrating', states)
        self.assertEqual(states[-1], dom.props.state)
        self.assertIn('done', phases)
        self.assertIn(m.get_object_path(),
                      [x.get_object_path() for x in client.get_migrations()])
        # a finished migration: wait returns at once, statistics too
        self.assertIn('memory-total', m.wait_sync(None).unpack())
        self.assertIn('memory-total', m.get_statistics_sync(None).unpack())
        # why it got there: the Convergence verdict, property and getter
        conv = m.dup_convergence().unpack()
        self.assertIn(conv['verdict'], ('converging', 'unknown'), conv)
        self.assertIn('suggestion', conv)
        self.assertEqual(m.props.convergence.unpack(), conv)
        # control calls on a finished migration: a Ferry error
        with self.assertRaises(GLib.Error) as cm:
            m.start_postcopy_sync(None)
        self.assertEqual(cm.exception.domain, 'ferry-error-quark')
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown')
        self.b.wait_state(ferrytest.domain_path(name), 'shutoff', 30)

    def test_06_interactive_flag(self):
        """set_interactive() puts ALLOW_INTERACTIVE_AUTHORIZATION on calls."""
        flag = Gio.DBusMessageFlags.ALLOW_INTERACTIVE_AUTHORIZATION
        client = Ferry.Client.new_for_connection(self.a.bus())
        me = self.a.bus().get_unique_name()
        for interactive in (False, True):
            client.set_interactive(interactive)
            self.assertEqual(client.props.interactive, interactive)
            with self.a.monitor(["type='method_call',member='Check'"]) as mon:
                with self.assertRaises(GLib.Error):
                    client.check_sync('no-such-domain', self.b.address, None,
                                      None)
                call = mon.wait(lambda x: x.sender == me)
            self.assertEqual(bool(call.flags & flag), interactive)

    def test_07_not_authorized(self):
        """An unprivileged caller gets Ferry.Error.NOT_AUTHORIZED."""
        ferrytest.define_guest(self.a, 'libauth')
        code = ('import gi; gi.require_version("Ferry", "1.0")\n'
                'from gi.repository import Ferry, GLib\n'
                'c = Ferry.Client.new_sync(None)\n'
                'try:\n'
                '    c.migrate_sync("libauth", "unix:path=/nonexistent",'
                ' None, None)\n'
                'except GLib.Error as e:\n'
                '    print(e.domain, e.code)\n')
        env = {k: os.environ[k] for k in ('GI_TYPELIB_PATH', 'LD_LIBRARY_PATH')
               if k in os.environ}
        if os.environ.get('FERRY_SANITIZER_PRELOAD'):
            env['LD_PRELOAD'] = os.environ['FERRY_SANITIZER_PRELOAD']
            env['ASAN_OPTIONS'] = SCRIPT_ASAN_OPTIONS
        rc, out, err = self.a.as_user(ferrytest.NOBODY,
                                      [ferrytest.SYSTEM_PY, '-c', code],
                                      env=env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), ['ferry-error-quark',
                                       str(int(Ferry.Error.NOT_AUTHORIZED))])


    def test_08_no_ferryd(self):
        """No ferryd on the bus (and none to activate): a Ferry error from
        the sync and the async constructor, not a client without objects."""
        with ferrytest.Host('C', start_ferryd=False) as c:
            with self.assertRaises(GLib.Error) as cm:
                Ferry.Client.new_for_connection(c.bus())
            self.assertEqual(cm.exception.domain, 'ferry-error-quark')
            self.assertIn('ServiceUnknown', cm.exception.message)
            loop = GLib.MainLoop()
            result = {}

            def done(_, res):
                try:
                    Ferry.Client.new_for_connection_finish(res)
                except GLib.Error as e:
                    result['e'] = e
                loop.quit()
            Ferry.Client.new_for_connection_async(c.bus(), None, done)
            loop.run()
            self.assertEqual(result['e'].domain, 'ferry-error-quark')


if __name__ == '__main__':
    ferrytest.main()
