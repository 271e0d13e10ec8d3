#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`meson install` into a DESTDIR (issue 6, DESIGN §1): every piece lands
where freedesktop and systemd conventions expect it, and the installed
pieces work: the installed ferryd, with the installed bus policy and polkit
policy, runs two hosts on private buses; the installed ferryctl migrates
the test guest from one to the other; busctl introspect on the installed
ferryd shows the Manager's members of the installed interface XML.

Environment (set by meson): FERRY_BUILD_DIR, FERRY_MESON, FERRY_TEST_GUEST
(and what ferrytest needs)."""

import configparser
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import ferrytest
from ferrytest import MANAGER_IFACE, ROOT_PATH

BUS_NAME = ferrytest.BUS_NAME
ACTIONS = (ferrytest.ACTION_MIGRATE, ferrytest.ACTION_CONTROL,
           ferrytest.ACTION_MANAGE, ferrytest.ACTION_PEER)
INTERFACES = ('Manager', 'Domain', 'Migration', 'Peer')
MAN_PAGES = ('man8/ferryd.8', 'man1/ferryctl.1', 'man5/ferry-domain.5')


def build_options(build_dir, meson):
    r = subprocess.run([meson, 'introspect', '--buildoptions', build_dir],
                       capture_output=True, text=True, check=True)
    return {o['name']: o['value'] for o in json.loads(r.stdout)}


class InstallTest(unittest.TestCase):
    """Tests run in name order: the tree first, then the installed
    programs at work."""

    destdir = None
    a = b = None
    _any_failed = False

    @classmethod
    def setUpClass(cls):
        ferrytest.require_environment(ferryd=False, guest=True,
                                      policy=False, bus_policy=False)
        cls.build_dir = os.environ.get('FERRY_BUILD_DIR')
        cls.meson = os.environ.get('FERRY_MESON') or shutil.which('meson')
        if not cls.build_dir or not os.path.isdir(
                os.path.join(cls.build_dir, 'meson-private')):
            ferrytest._fail_or_skip('FERRY_BUILD_DIR=%r is not a meson build '
                                    'directory (run through "meson test")'
                                    % cls.build_dir)
        if not cls.meson:
            ferrytest._fail_or_skip('meson not found')
        if not shutil.which('busctl'):
            ferrytest._fail_or_skip('busctl not found')
        opts = build_options(cls.build_dir, cls.meson)
        cls.opts = opts
        prefix = opts['prefix']

        def d(name):
            # meson keeps these relative to the prefix, or absolute
            return os.path.join(prefix, opts[name])
        cls.prefix = prefix
        cls.bindir = d('bindir')
        cls.libdir = d('libdir')
        cls.libexecdir = d('libexecdir')
        cls.datadir = d('datadir')
        cls.mandir = d('mandir')
        cls.localedir = d('localedir')
        unitdir = opts.get('systemdsystemunitdir', '')
        cls.unitdir = None if unitdir == 'no' else \
            (unitdir or os.path.join(prefix, 'lib', 'systemd', 'system'))
        cls.docs = opts.get('docs', 'auto') != 'disabled'

        parent = os.environ.get('FERRY_TMP') or None
        cls.destdir = tempfile.mkdtemp(prefix='ferry-install-', dir=parent)
        os.chmod(cls.destdir, 0o755)
        argv = [cls.meson, 'install', '-C', cls.build_dir, '--no-rebuild',
                '--destdir', cls.destdir]
        ferrytest.log('running ' + ' '.join(argv))
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            shutil.rmtree(cls.destdir, ignore_errors=True)
            raise AssertionError('meson install failed (%d):\n%s\n%s' % (
                r.returncode, r.stdout, r.stderr))
        cls.install_log = r.stdout

    @classmethod
    def tearDownClass(cls):
        b, a, cls.a, cls.b = cls.b, cls.a, None, None
        try:
            if b is not None:
                b.close(failed=cls._any_failed)
        finally:
            try:
                if a is not None:
                    a.close(failed=cls._any_failed)
            finally:
                if cls.destdir:
                    if os.environ.get('FERRY_KEEP_TMP') or (
                            cls._any_failed and
                            os.environ.get('FERRY_KEEP_TMP_ON_FAIL')):
                        ferrytest.log('keeping ' + cls.destdir)
                    else:
                        shutil.rmtree(cls.destdir, ignore_errors=True)

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        r = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            type(self)._any_failed = True
        return r

    # -- helpers
    def inst(self, path):
        """path (absolute, as installed) inside the DESTDIR."""
        return os.path.join(self.destdir, path.lstrip('/'))

    def assertFile(self, path, executable=False):
        p = self.inst(path)
        self.assertTrue(os.path.isfile(p), '%s is not installed (no %s)'
                        % (path, p))
        mode = os.stat(p).st_mode
        if executable:
            self.assertTrue(mode & stat.S_IXUSR and mode & stat.S_IXOTH,
                            '%s is not executable (mode %o)' % (path, mode))
        else:
            self.assertFalse(mode & 0o111, '%s is executable (mode %o)' % (
                path, mode))
        self.assertFalse(mode & 0o022, '%s is writable by others (mode %o)'
                         % (path, mode))
        return p

    def assertXml(self, path):
        p = self.assertFile(path)
        try:
            return ET.parse(p).getroot()
        except ET.ParseError as e:
            self.fail('%s does not parse: %s' % (path, e))

    def keyfile(self, path):
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        cp.optionxform = str
        cp.read(self.assertFile(path))
        return cp

    def env(self):
        # no library of ours is shared today; libferry-1.so will be
        return dict(os.environ, LD_LIBRARY_PATH=self.inst(self.libdir))

    @property
    def ferryd(self):
        return self.inst(os.path.join(self.libexecdir, 'ferryd'))

    @property
    def ferryctl_bin(self):
        return self.inst(os.path.join(self.bindir, 'ferryctl'))

    @property
    def policy(self):
        return self.inst(os.path.join(self.datadir, 'polkit-1', 'actions',
                                      'org.ferryvm.ferry1.policy'))

    @property
    def bus_policy(self):
        return self.inst(os.path.join(self.datadir, 'dbus-1', 'system.d',
                                      'org.ferryvm.Ferry1.conf'))

    def ferryctl(self, host, *args, timeout=120):
        argv = [self.ferryctl_bin, '--address', host.address] + list(args)
        ferrytest.log('running ' + ' '.join(argv))
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, env=self.env(),
                           capture_output=True, text=True, timeout=timeout)
        ferrytest.log('exit %d\nstdout:\n%s\nstderr:\n%s' % (
            r.returncode, r.stdout, r.stderr))
        return r

    # -- the tree
    def test_0_everything_meson_installs(self):
        r = subprocess.run([self.meson, 'introspect', '--installed',
                            self.build_dir], capture_output=True, text=True,
                           check=True)
        installed = json.loads(r.stdout)
        self.assertTrue(installed)
        missing = [dst for dst in installed.values()
                   if not os.path.lexists(self.inst(dst))]
        self.assertEqual(missing, [], 'meson lists them, the DESTDIR lacks '
                         'them')

    def test_1_libferry(self):
        # DESIGN §1: libferry-1.so, headers under ferry/ (in the
        # versioned include directory that ferry-1.pc names), pkg-config
        # ferry-1, Ferry-1.0.gir and its typelib.
        lib = self.inst(os.path.join(self.libdir, 'libferry-1.so'))
        self.assertTrue(os.path.lexists(lib), 'libferry-1.so is not installed')
        includedir = os.path.join(self.prefix, self.opts['includedir'])
        header = os.path.join(includedir, 'ferry-1', 'ferry', 'ferry.h')
        self.assertTrue(os.path.isfile(self.inst(header)),
                        'ferry/ferry.h is not installed (%s)' % header)
        pc = self.assertFile(os.path.join(self.libdir, 'pkgconfig',
                                          'ferry-1.pc'))
        with open(pc) as f:
            self.assertRegex(f.read(), r'(?m)^Libs:.*-lferry-1')
        if self.opts.get('introspection', 'auto') != 'disabled' and \
                os.path.exists(self.inst(os.path.join(
                    self.datadir, 'gir-1.0', 'Ferry-1.0.gir'))):
            self.assertXml(os.path.join(self.datadir, 'gir-1.0',
                                        'Ferry-1.0.gir'))
            self.assertFile(os.path.join(self.libdir, 'girepository-1.0',
                                         'Ferry-1.0.typelib'))
        elif self.opts.get('introspection') == 'enabled':
            self.fail('-Dintrospection=enabled but no Ferry-1.0.gir '
                      'installed')

    def test_1_programs(self):
        self.assertFile(os.path.join(self.libexecdir, 'ferryd'), True)
        self.assertFile(os.path.join(self.bindir, 'ferryctl'), True)
        # ferryd is a service, not a command
        self.assertFalse(os.path.exists(self.inst(os.path.join(
            self.bindir, 'ferryd'))), 'ferryd installed in bindir')
        # the installed programs need nothing from the build tree
        for exe in (self.ferryd, self.ferryctl_bin):
            r = subprocess.run(['ldd', exe], capture_output=True, text=True,
                               env=self.env())
            self.assertNotIn('not found', r.stdout, r.stdout)
            self.assertNotIn(os.path.realpath(self.build_dir), r.stdout)
        r = subprocess.run([self.ferryctl_bin, '--help'], env=self.env(),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('migrate', r.stdout)

    def test_2_dbus(self):
        conf = self.assertXml(os.path.join(
            self.datadir, 'dbus-1', 'system.d', 'org.ferryvm.Ferry1.conf'))
        self.assertEqual(conf.tag, 'busconfig')
        self.assertIn(BUS_NAME, [e.get('own') for e in conf.iter('allow')])

        service = self.keyfile(os.path.join(
            self.datadir, 'dbus-1', 'system-services',
            'org.ferryvm.Ferry1.service'))
        sec = service['D-BUS Service']
        self.assertEqual(sec['Name'], BUS_NAME)
        self.assertEqual(sec['Exec'].split()[0],
                         os.path.join(self.libexecdir, 'ferryd'))
        self.assertEqual(sec['User'], 'root')
        self.assertEqual(sec['SystemdService'], 'ferryd.service')

        for iface in INTERFACES:
            name = 'org.ferryvm.Ferry1.%s' % iface
            root = self.assertXml(os.path.join(
                self.datadir, 'dbus-1', 'interfaces', name + '.xml'))
            self.assertEqual([i.get('name') for i in root.iter('interface')],
                             [name])

    def test_3_systemd_unit(self):
        if self.unitdir is None:
            self.skipTest('-Dsystemdsystemunitdir=no')
        unit = self.keyfile(os.path.join(self.unitdir, 'ferryd.service'))
        svc = unit['Service']
        self.assertEqual(svc['Type'], 'dbus')
        self.assertEqual(svc['BusName'], BUS_NAME)
        self.assertEqual(svc['ExecStart'].split()[0],
                         os.path.join(self.libexecdir, 'ferryd'))
        self.assertNotIn('@', svc['ExecStart'], 'unsubstituted variable')

    def test_4_polkit(self):
        root = self.assertXml(os.path.join(
            self.datadir, 'polkit-1', 'actions', 'org.ferryvm.ferry1.policy'))
        ids = [a.get('id') for a in root.iter('action')]
        self.assertEqual(sorted(ids), sorted(ACTIONS))
        # translated through po/
        langs = {m.get('{http://www.w3.org/XML/1998/namespace}lang')
                 for m in root.iter('message')}
        self.assertIn('de', langs)

    def test_5_translations(self):
        with open(os.path.join(ferrytest.HERE, '..', '..', 'po',
                               'LINGUAS')) as f:
            linguas = [ln.strip() for ln in f
                       if ln.strip() and not ln.startswith('#')]
        self.assertTrue(linguas)
        for lang in linguas:
            p = self.assertFile(os.path.join(self.localedir, lang,
                                             'LC_MESSAGES', 'ferry.mo'))
            with open(p, 'rb') as f:
                magic = f.read(4)
            self.assertIn(magic, (b'\xde\x12\x04\x95', b'\x95\x04\x12\xde'),
                          '%s is not a .mo file' % p)

    def test_6_completion_and_docs(self):
        p = self.assertFile(os.path.join(
            self.datadir, 'bash-completion', 'completions', 'ferryctl'))
        r = subprocess.run(['bash', '-n', p], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        if not self.docs:
            self.skipTest('-Ddocs=disabled')
        for page in MAN_PAGES:
            self.assertFile(os.path.join(self.mandir, page))
        doc = os.path.join(self.datadir, 'doc', 'ferry')
        self.assertFile(os.path.join(doc, 'operators-guide.md'))
        self.assertXml(os.path.join(doc, 'api', 'ferry-dbus-api.xml'))
        for iface in INTERFACES:
            self.assertXml(os.path.join(
                doc, 'api', 'ferry-dbus-doc-org.ferryvm.Ferry1.%s.xml'
                % iface))
        # the libferry-1 reference (gi-docgen; built when it is found)
        if shutil.which('gi-docgen'):
            ref = os.path.join(self.datadir, 'doc', 'libferry-1')
            for f in ('index.html', 'class.Client.html',
                      'class.Migration.html', 'libferry-1.devhelp2'):
                self.assertFile(os.path.join(ref, f))

    def test_7_nothing_outside_the_prefix(self):
        allowed = [self.inst(self.prefix)]
        if self.unitdir:
            allowed.append(self.inst(self.unitdir))
        stray = []
        for root, dirs, files in os.walk(self.destdir):
            for f in files:
                p = os.path.join(root, f)
                if not any(p.startswith(a + os.sep) for a in allowed):
                    stray.append(os.path.relpath(p, self.destdir))
        self.assertEqual(stray, [], 'installed outside the prefix')

    # -- the installed programs at work
    def test_8_migrate(self):
        cls = type(self)
        cls.a = ferrytest.Host('iA', ferryd=self.ferryd, policy=self.policy,
                               bus_policy=self.bus_policy)
        cls.a.__enter__()
        cls.b = ferrytest.Host('iB', ferryd=self.ferryd, policy=self.policy,
                               bus_policy=self.bus_policy)
        cls.b.__enter__()
        a, b = cls.a, cls.b
        ferrytest.start_guest(a, 'demo', timeout=60)
        ferrytest.wait_heartbeats(a, 'demo', 2, 60)

        r = self.ferryctl(a, 'migrate', 'demo', b.address)
        self.assertEqual(r.returncode, 0, 'ferryctl migrate exited %d\n%s\n%s'
                         % (r.returncode, r.stdout, r.stderr))
        self.assertIn('migration 1 completed', r.stdout)
        path = ferrytest.domain_path('demo')
        b.wait_state(path, 'running', 30)
        self.assertNotEqual(a.domain_state(path), 'running')
        hb = ferrytest.wait_heartbeats(b, 'demo', 2, 60)
        self.assertTrue(all(x.get('err') == 0 for x in hb), hb)

        r = self.ferryctl(b, 'list')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'(?m)^demo +running +qmp')

    def test_9_busctl_introspect(self):
        if self.a is None:
            self.skipTest('no hosts (test_8_migrate failed)')
        argv = ['busctl', '--address=' + self.a.address, 'introspect',
                '--no-pager', '--no-legend', BUS_NAME, ROOT_PATH]
        ferrytest.log('running ' + ' '.join(argv))
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        # NAME TYPE SIGNATURE RESULT/VALUE FLAGS, members as ".Name" below
        # their interface's line
        members = {}
        iface = None
        for ln in r.stdout.splitlines():
            f = ln.split()
            if len(f) >= 2 and f[1] == 'interface':
                iface = f[0]
                members[iface] = {}
            elif len(f) >= 2 and f[0].startswith('.') and iface:
                members[iface][f[0][1:]] = f[1]
        self.assertIn(MANAGER_IFACE, members, r.stdout)
        self.assertIn('org.freedesktop.DBus.ObjectManager', members)

        xml = ET.parse(self.inst(os.path.join(
            self.datadir, 'dbus-1', 'interfaces',
            MANAGER_IFACE + '.xml'))).getroot()
        documented = {}
        for node in xml.iter('interface'):
            for kind in ('method', 'property', 'signal'):
                for m in node.iter(kind):
                    documented[m.get('name')] = kind
        self.assertTrue(documented)
        for name in ('Version', 'Hostname', 'HostUUID', 'Backends',
                     'Capabilities', 'DefineDomain', 'Migrate', 'Check',
                     'ListMigrations'):
            self.assertIn(name, documented, 'installed XML lacks %s' % name)
        self.assertEqual(members[MANAGER_IFACE], documented,
                         'busctl introspect of the installed ferryd and the '
                         'installed interface XML differ')
        version = re.search(r'(?m)^\.Version +property +s +"([^"]*)"',
                            r.stdout)
        self.assertIsNotNone(version, r.stdout)
        self.assertTrue(version.group(1))


if __name__ == '__main__':
    ferrytest.main()
