#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ferryctl(1) against two real hosts (DESIGN §1, §2): migrate with
progress and a summary, list/show/watch/check in text and JSON, and the
exit status of each kind of failure (1 failure, 2 usage, 3 authorization
refused, 4 not found)."""

import json
import os
import re
import subprocess

import ferrytest
from ferrytest import MIGRATION_IFACE, NOBODY

PHASES = ['begin', 'prepare', 'perform', 'finish', 'confirm', 'done']
MIGRATION_1 = ferrytest.ROOT_PATH + '/migration/1'


class FerryctlTest(ferrytest.HostTestCase):
    """Host a (self.host) is the source; host b the destination."""
    host_name = 'a'
    need_guest = True
    other = None

    @classmethod
    def setUpClass(cls):
        exe = os.environ.get('FERRYCTL')
        if not exe or not os.access(exe, os.X_OK):
            ferrytest._fail_or_skip('FERRYCTL=%r is not an executable (run '
                                    'through "meson test --suite e2e")' % exe)
        cls.ferryctl_bin = exe
        super().setUpClass()
        b = ferrytest.Host('b')
        try:
            b.__enter__()
        except BaseException:
            super().tearDownClass()
            raise
        cls.other = b
        ferrytest.start_guest(cls.host, 'demo', timeout=60)
        ferrytest.wait_heartbeats(cls.host, 'demo', 2, 60)

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.other is not None:
                other, cls.other = cls.other, None
                other.close(failed=cls._any_failed)
        finally:
            super().tearDownClass()

    def ferryctl(self, *args, host=None, timeout=120):
        """Run ferryctl --address <host bus> args with stdout/stderr piped
        (not a terminal); return the CompletedProcess."""
        host = host or self.host
        argv = [self.ferryctl_bin, '--address', host.address] + list(args)
        ferrytest.log('running ' + ' '.join(argv))
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        ferrytest.log('exit %d\nstdout:\n%s\nstderr:\n%s' % (
            r.returncode, r.stdout, r.stderr))
        return r

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code, 'ferryctl exited %d, expected '
                         '%d\nstdout: %s\nstderr: %s' % (
                             r.returncode, code, r.stdout, r.stderr))

    # Tests run in name order and build on each other.

    def test_1_migrate(self):
        a, b = self.host, self.other
        r = self.ferryctl('migrate', 'demo', b.address)
        self.assertExit(r, 0)
        self.assertNotIn('\r', r.stdout, 'progress redrawn although stdout '
                         'is not a terminal')
        lines = r.stdout.splitlines()
        phases = [m.group(1) for m in
                  (re.match(r'^phase (\S+)$', ln) for ln in lines) if m]
        self.assertEqual(phases, PHASES, 'phase lines: %r' % lines)
        progress = [ln for ln in lines if ln.startswith('progress ')]
        for ln in progress:
            self.assertRegex(ln, r'^progress +\d+%  phase \S+  \S+')
        self.assertIn('state completed', lines)
        self.assertIn('migration 1 completed', r.stdout)
        for label in ('total time', 'downtime', 'real downtime',
                      'transferred', 'mode'):
            self.assertRegex(r.stdout, r'(?m)^  %s +\S' % label,
                             'summary without %s' % label)
        self.assertEqual(r.stderr.strip(), '')

        # the guest runs on b, and only there, intact
        b.wait_state(ferrytest.domain_path('demo'), 'running', 30)
        self.assertNotEqual(a.domain_state(ferrytest.domain_path('demo')),
                            'running')
        hb = ferrytest.wait_heartbeats(b, 'demo', 2, 60)
        self.assertTrue(all(x.get('err') == 0 for x in hb), hb)

    def test_2_list_json(self):
        r = self.ferryctl('--json', 'list')
        self.assertExit(r, 0)
        doc = json.loads(r.stdout)
        migs = {m['id']: m for m in doc['migrations']}
        self.assertIn(1, migs, doc)
        m = migs[1]
        self.assertEqual(m['path'], MIGRATION_1)
        self.assertEqual(m['domain'], 'demo')
        self.assertEqual(m['direction'], 'outgoing')
        self.assertEqual(m['state'], 'completed')
        self.assertEqual(m['phase'], 'done')
        self.assertEqual(m['progress'], 1)
        doms = {d['name']: d for d in doc['domains']}
        self.assertIn('demo', doms)
        self.assertIsNone(doms['demo']['migration'])

        # the destination lists its incoming side
        r = self.ferryctl('list', host=self.other)
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r'(?m)^demo +running +qmp')
        self.assertRegex(r.stdout, r'(?m)^\d+ +demo +incoming +done +'
                         r'completed +100%')

    def test_3_show(self):
        r = self.ferryctl('show', '1')
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r'(?m)^State +completed$')
        self.assertRegex(r.stdout, r'(?m)^Phase +done$')
        self.assertRegex(r.stdout, r'(?m)^Direction +outgoing$')
        self.assertRegex(r.stdout, r'(?m)^Statistics$')
        self.assertRegex(r.stdout, r'(?m)^  total-time +\d')

        r = self.ferryctl('--json', 'show', MIGRATION_1)
        self.assertExit(r, 0)
        doc = json.loads(r.stdout)
        self.assertEqual(doc['State'], 'completed')
        self.assertEqual(doc['id'], 1)
        self.assertIn('total-time', doc['Statistics'])
        self.assertEqual(doc['Statistics'],
                         self.host.get_prop(MIGRATION_1, MIGRATION_IFACE,
                                            'Statistics'))

    def test_4_watch_finished(self):
        # a migration that ended before ferryctl looked
        r = self.ferryctl('watch', '1')
        self.assertExit(r, 0)
        self.assertIn('migration 1 completed', r.stdout)
        r = self.ferryctl('--json', 'watch', '1')
        self.assertExit(r, 0)
        events = [json.loads(ln) for ln in r.stdout.splitlines()]
        self.assertEqual(events[-1]['event'], 'result')
        self.assertEqual(events[-1]['state'], 'completed')

    def test_5_migrate_back_json(self):
        a, b = self.host, self.other
        r = self.ferryctl('--json', 'check', 'demo', a.address, host=b)
        self.assertExit(r, 0)
        self.assertIs(json.loads(r.stdout)['ok'], True)

        r = self.ferryctl('--json', 'migrate', 'demo', a.address,
                          '--max-downtime=500', '--multifd-channels=2',
                          host=b)
        self.assertExit(r, 0)
        events = [json.loads(ln) for ln in r.stdout.splitlines()]
        self.assertEqual(events[0]['event'], 'started')
        self.assertEqual([e['phase'] for e in events
                          if e['event'] == 'phase'], PHASES)
        last = events[-1]
        self.assertEqual(last['event'], 'result')
        self.assertEqual(last['state'], 'completed')
        self.assertIn('downtime', last['statistics'])
        # the options reached the daemon with the contract's types
        path = last['path']
        opts = b.get_prop(path, MIGRATION_IFACE, 'Options')
        self.assertEqual(opts.get('max-downtime'), 500)
        self.assertEqual(opts.get('multifd-channels'), 2)
        a.wait_state(ferrytest.domain_path('demo'), 'running', 30)

    def test_5b_pause_recover_need_postcopy(self):
        # migration 1 has ended: nothing to pause or recover, refused as
        # Cancel is (the post-copy cases are in e2e-faults)
        for args in (['pause', '1'], ['recover', '1'],
                     ['recover', MIGRATION_1, 'tcp:127.0.0.1:1']):
            r = self.ferryctl(*args)
            self.assertExit(r, 1)
            self.assertIn('ferryctl: org.ferryvm.Ferry1.Error.Failed: '
                          'Migration already ended', r.stderr)
        r = self.ferryctl('recover', '99')
        self.assertExit(r, 4)

    def test_6_not_found(self):
        r = self.ferryctl('cancel', '99')
        self.assertExit(r, 4)
        self.assertIn('ferryctl: org.ferryvm.Ferry1.Error.NotFound: ',
                      r.stderr)
        self.assertNotIn('GDBus.Error', r.stderr)
        r = self.ferryctl('show', '99')
        self.assertExit(r, 4)
        r = self.ferryctl('migrate', 'no-such-domain', self.other.address)
        self.assertExit(r, 4)

    def test_7_unauthorized(self):
        # nobody, no polkit agent: Migrate is refused
        rc, out, err = self.host.as_user(
            NOBODY, [self.ferryctl_bin, 'migrate', 'demo',
                     self.other.address])
        self.assertEqual(rc, 3, 'exit %d\nstdout: %s\nstderr: %s' % (
            rc, out, err))
        self.assertRegex(err, r'^ferryctl: \S+\.(AccessDenied|NotAuthorized)'
                         r': ')
        # and the guest did not move
        self.assertEqual(self.host.domain_state(
            ferrytest.domain_path('demo')), 'running')
        # reads need no authorization
        rc, out, err = self.host.as_user(NOBODY, [self.ferryctl_bin, 'list'])
        self.assertEqual(rc, 0, err)

    def test_8_usage(self):
        for args in (['migrate', 'demo', self.other.address,
                      '--max-bandwidth=fast'],
                     ['migrate', 'demo', self.other.address,
                      '--postcopy=sometimes'],
                     ['migrate', 'demo'],
                     ['frobnicate'],
                     [],
                     ['list', '--postcopy=auto'],
                     ['show', 'one'],
                     ['pause'],
                     ['pause', '1', '2'],
                     ['recover', '1', 'tcp:127.0.0.1:1', 'more']):
            r = self.ferryctl(*args)
            self.assertExit(r, 2)
            self.assertIn('ferryctl: ', r.stderr)
        self.assertEqual(self.host.domain_state(
            ferrytest.domain_path('demo')), 'running')
        r = self.ferryctl('--help')
        self.assertExit(r, 0)
        self.assertIn('migrate', r.stdout)
        self.assertIn('recover', r.stdout)


if __name__ == '__main__':
    ferrytest.main()
