#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input gets the right error and leaves no trace (DESIGN §2, §4)."""

import os
import re

import ferrytest
from ferrytest import DOMAIN_IFACE, MANAGER_IFACE, ROOT_PATH, GLib

V = GLib.Variant
E = ferrytest.ERR
NO_DEST = 'unix:path=/nonexistent/ferry-test/bus'


class BadInputTest(ferrytest.HostTestCase):
    host_name = 'bad'
    need_guest = True
    valid = set()          # names of domains that must exist at the end

    def define(self, text):
        return self.host.call(ROOT_PATH, MANAGER_IFACE, 'DefineDomain',
                              V('(s)', (text,)), timeout=10)[0]

    def kf(self, name, **over):
        keys = {'Name': name, 'Memory': '64', 'CPUs': '1', 'Machine': 'q35',
                'Kernel': os.environ['FERRY_TEST_GUEST'],
                'Append': 'wss=16 rate=0 hb=200'}
        keys.update(over)
        return '[Domain]\n' + ''.join('%s=%s\n' % (k, v)
                                      for k, v in keys.items()
                                      if v is not None)

    def test_1_bad_descriptions(self):
        cases = [
            ('malformed', 'this is [not a keyfile\n=\n', ()),
            ('no [Domain]', '[QEMU]\nBinary=qemu-system-x86_64\n',
             ('Domain',)),
            ('missing Name', self.kf(None), ('Name',)),
            ('empty Name', self.kf(''), ('Name',)),
            ('Memory=abc', self.kf('bad-mem', Memory='abc'), ('Memory',)),
            ('Memory=0', self.kf('bad-mem0', Memory='0'), ('Memory',)),
            ('Memory=-64', self.kf('bad-memneg', Memory='-64'), ('Memory',)),
            ('CPUs=-1', self.kf('bad-cpus', CPUs='-1'), ('CPUs',)),
            ('CPUs=0', self.kf('bad-cpus0', CPUs='0'), ('CPUs',)),
            ('unknown section', self.kf('bad-sect') + '[Bogus]\nX=1\n',
             ('Bogus',)),
            ('unknown key', self.kf('bad-key') + 'Colour=blue\n',
             ('Colour',)),
            ('name with /', self.kf('a/b'), ('Name',)),
            ('disk without Path', self.kf('bad-disk') +
             '[Disk vda]\nFormat=qcow2\n', ('Path',)),
        ]
        for label, text, words in cases:
            with self.subTest(label):
                self.assertDBusError(E + 'InvalidArgument', self.define, text,
                                     contains=words)
        self.assertAlive()

    def test_2_not_found(self):
        for method, args in (
                ('Migrate', V('(ssa{sv})', ('no-such-dom', NO_DEST, {}))),
                ('Check', V('(ssa{sv})', ('no-such-dom', NO_DEST, {})))):
            with self.subTest(method):
                self.assertDBusError(E + 'NotFound', self.host.call,
                                     ROOT_PATH, MANAGER_IFACE, method, args)

    def test_3_running_domain(self):
        h = self.host
        path = self.define(self.kf('bad-run'))
        type(self).valid.add('bad-run')
        h.call(path, DOMAIN_IFACE, 'Start')
        h.wait_state(path, 'running', 30)
        pid = h.qemu_pid('bad-run')

        # second Start
        self.assertDBusError(E + 'Busy', h.call, path, DOMAIN_IFACE, 'Start')
        # redefining a running domain
        self.assertDBusError(E + 'Busy', self.define,
                             self.kf('bad-run', Memory='128'))
        self.assertEqual(h.qemu_pid('bad-run'), pid,
                         'the running QEMU was disturbed')

        # options: wrong types and unknown keys, on both Migrate methods and
        # on Check
        bad_opts = [
            ({'max-bandwidth': V('s', 'fast')}, 'max-bandwidth'),
            ({'live': V('s', 'yes')}, 'live'),
            ({'multifd-channels': V('s', '4')}, 'multifd-channels'),
            ({'postcopy': V('b', True)}, 'postcopy'),
            ({'postcopy': V('s', 'sometimes')}, 'postcopy'),
            ({'no-such-option': V('b', True)}, 'no-such-option'),
        ]
        for opts, key in bad_opts:
            for what, call in (
                ('Manager.Migrate', lambda o: h.call(
                    ROOT_PATH, MANAGER_IFACE, 'Migrate',
                    V('(ssa{sv})', ('bad-run', NO_DEST, o)))),
                ('Domain.Migrate', lambda o: h.call(
                    path, DOMAIN_IFACE, 'Migrate',
                    V('(sa{sv})', (NO_DEST, o)))),
                ('Manager.Check', lambda o: h.call(
                    ROOT_PATH, MANAGER_IFACE, 'Check',
                    V('(ssa{sv})', ('bad-run', NO_DEST, o)))),
            ):
                with self.subTest(what, key=key):
                    self.assertDBusError(E + 'InvalidArgument', call, opts,
                                         contains=(key,))
        self.assertEqual(h.get_prop(path, DOMAIN_IFACE, 'State'), 'running')
        self.assertEqual(h.get_prop(path, DOMAIN_IFACE, 'Migration'), '/')
        self.assertEqual(h.call(ROOT_PATH, MANAGER_IFACE,
                                'ListMigrations')[0], [],
                         'a rejected Migrate left a migration object')

        h.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        h.wait_state(path, 'shutoff', 15)

    def test_4_redefine_shutoff_replaces(self):
        h = self.host
        p1 = self.define(self.kf('bad-redef', Memory='64'))
        type(self).valid.add('bad-redef')
        uuid = h.get_prop(p1, DOMAIN_IFACE, 'UUID')
        p2 = self.define(self.kf('bad-redef', Memory='96',
                                 Append='wss=8 rate=0 hb=100'))
        self.assertEqual(p1, p2)
        with open(h.domain_conf('bad-redef')) as f:
            conf = f.read()
        self.assertRegex(conf, r'(?m)^Memory\s*=\s*96\s*$',
                         'redefinition not persisted')
        self.assertNotRegex(conf, r'(?m)^Memory\s*=\s*64\s*$')
        self.assertEqual(h.get_prop(p2, DOMAIN_IFACE, 'UUID'), uuid,
                         'redefining a domain changed its UUID')
        objs = [p for p in h.managed_objects() if p == p1]
        self.assertEqual(len(objs), 1)

    def test_9_no_trace(self):
        """Runs last: ferryd answers, no QEMU left, state dir clean."""
        h = self.host
        self.assertAlive()
        ferrytest.wait_for(lambda: h.qemu_pids() == [], 15,
                           msg='QEMU processes of this host: %r' % (
                               h.qemu_pids(),))
        ddir = os.path.join(h.state_dir, 'domains')
        present = sorted(os.listdir(ddir)) if os.path.isdir(ddir) else []
        self.assertEqual(present, sorted(n + '.conf' for n in self.valid),
                         'unexpected files in %s' % ddir)
        stray = []
        tmp_like = re.compile(r'(^\.|~$|\.tmp$|\.swp$|'
                              r'\.(conf|json|ini|state|log)\.[A-Za-z0-9]{6}$)')
        for root, dirs, files in os.walk(h.state_dir):
            for f in files:
                if tmp_like.search(f):
                    stray.append(os.path.join(root, f))
        self.assertEqual(stray, [], 'temporary files left in the state dir')
        doms = {p for p, ifs in h.managed_objects().items()
                if ferrytest.DOMAIN_IFACE in ifs}
        self.assertEqual(doms, {ferrytest.domain_path(n) for n in self.valid})
        # and after a restart, the same
        h.restart_ferryd()
        doms = {p for p, ifs in h.managed_objects().items()
                if ferrytest.DOMAIN_IFACE in ifs}
        self.assertEqual(doms, {ferrytest.domain_path(n) for n in self.valid})

    def assertAlive(self):
        self.assertTrue(self.host.ferryd_running(), 'ferryd exited')
        self.assertTrue(self.host.get_prop(ROOT_PATH, MANAGER_IFACE,
                                           'Version'))


if __name__ == '__main__':
    ferrytest.main()
