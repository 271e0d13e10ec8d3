#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Self-test of the e2e harness, without ferryd: the private bus comes up
with the project's bus policy, the real polkitd loads the project's actions,
a rule dropped into the private rules directory takes effect (and stops
when removed), unprivileged callers reach the bus, and teardown leaves
nothing behind."""

import json
import os
import signal
import subprocess
import tempfile
import unittest

import ferrytest
from ferrytest import Host, GLib

STANDIN_POLICY = '''<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
%s
</policyconfig>
'''
# A test process (the harness' signal handling, a host, a QEMU of it in its
# own session) that blocks in a D-Bus call to its stopped polkitd once told
# to go.
SIGTERM_CHILD = r'''
import json, os, signal, subprocess, sys
import ferrytest
from ferrytest import GLib
ferrytest.install_signal_teardown()
h = ferrytest.Host('sigterm', start_ferryd=False, policy=sys.argv[1],
                   bus_policy=sys.argv[2])
h.start()
qemu = subprocess.Popen(['qemu-system-x86_64', '-c',
                         'import time; time.sleep(300)',
                         h.runtime_dir + '/qemu/fake.qmp'],
                        executable=sys.executable, start_new_session=True)
os.kill(h.polkitd_pid, signal.SIGSTOP)
print(json.dumps({'address': h.address, 'dir': h.dir,
                  'me': h.bus().get_unique_name(),
                  'pids': [h.dbus_proc.pid, h.polkitd_pid, qemu.pid]}),
      flush=True)
sys.stdin.readline()
h.call('/org/freedesktop/PolicyKit1/Authority', ferrytest.PROPS_IFACE, 'Get',
       GLib.Variant('(ss)', ('org.freedesktop.PolicyKit1.Authority',
                             'BackendName')),
       timeout=120, dest='org.freedesktop.PolicyKit1')
sys.exit(3)
'''
STANDIN_ACTION = '''  <action id="%s">
    <description>stand-in</description>
    <message>stand-in</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive>
      <allow_active>%s</allow_active></defaults>
  </action>'''


class HarnessTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        ferrytest.require_environment(ferryd=False, policy=False,
                                      bus_policy=False)
        cls.tmp = tempfile.mkdtemp(prefix='ferry-harness-')
        cls.policy = os.environ.get('FERRY_POLICY')
        if not cls.policy or not os.path.exists(cls.policy):
            ferrytest.log('!!! FERRY_POLICY not available: using a stand-in '
                          'policy with the four DESIGN actions')
            cls.policy = os.path.join(cls.tmp, 'org.ferryvm.ferry1.policy')
            with open(cls.policy, 'w') as f:
                f.write(STANDIN_POLICY % '\n'.join(
                    STANDIN_ACTION % a for a in (
                        (ferrytest.ACTION_MIGRATE, 'auth_admin_keep'),
                        (ferrytest.ACTION_CONTROL, 'auth_admin_keep'),
                        (ferrytest.ACTION_MANAGE, 'auth_admin'),
                        (ferrytest.ACTION_PEER, 'auth_admin'))))
        cls.bus_policy = os.environ.get('FERRY_BUS_POLICY')
        if cls.bus_policy and not os.path.exists(cls.bus_policy):
            ferrytest.log('!!! FERRY_BUS_POLICY=%s missing: bus without it'
                          % cls.bus_policy)
            cls.bus_policy = ''

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def _host(self):
        return Host('harness', start_ferryd=False, policy=self.policy,
                    bus_policy=self.bus_policy or '')

    def _nobody_sleeper(self, h):
        p = h.as_user(ferrytest.NOBODY, ['sleep', '60'], background=True)
        self.addCleanup(lambda: (p.kill(), p.communicate()))

        # setpriv and env exec: the pid becomes nobody's sleep (polkitd
        # reads the subject's uid and start time from /proc)
        def is_sleep():
            with open('/proc/%d/cmdline' % p.pid, 'rb') as f:
                argv0 = f.read().split(b'\0')[0]
            with open('/proc/%d/status' % p.pid) as f:
                uids = [ln.split()[1:] for ln in f if ln.startswith('Uid:')]
            return argv0 == b'sleep' and uids == [[str(ferrytest.NOBODY)] * 4]
        ferrytest.wait_for(is_sleep, 10, 0.01, msg='nobody sleep started')
        return p

    def test_polkit_rules_take_effect(self):
        with self._host() as h:
            sleeper = self._nobody_sleeper(h)
            # setpriv/env exec: the Popen pid is the sleep process
            for action in (ferrytest.ACTION_MANAGE, ferrytest.ACTION_MIGRATE,
                           ferrytest.ACTION_CONTROL, ferrytest.ACTION_PEER):
                authorized, challenge, details = h.check_authorization(
                    sleeper.pid, action)
                self.assertFalse(authorized, '%s granted to nobody by '
                                 'default' % action)
            h.allow_rule('50-nobody-manage', ferrytest.ACTION_MANAGE)
            authorized, _, _ = h.check_authorization(
                sleeper.pid, ferrytest.ACTION_MANAGE)
            self.assertTrue(authorized, 'rule did not take effect')
            authorized, _, _ = h.check_authorization(
                sleeper.pid, ferrytest.ACTION_MIGRATE)
            self.assertFalse(authorized, 'rule leaked to another action')
            h.remove_rule('50-nobody-manage')
            authorized, _, _ = h.check_authorization(
                sleeper.pid, ferrytest.ACTION_MANAGE)
            self.assertFalse(authorized, 'rule removal did not take effect')
            # root is always authorized by the real polkitd
            authorized, _, _ = h.check_authorization(
                os.getpid(), ferrytest.ACTION_MANAGE)
            self.assertTrue(authorized)
            # polkitd knows the project's actions (unknown ones error out)
            with self.assertRaises(GLib.Error):
                h.check_authorization(os.getpid(),
                                      'org.ferryvm.ferry1.no-such-action')
            # the private rules dir is invisible outside the namespace
            self.assertFalse(os.path.exists(
                '/etc/polkit-1/rules.d/50-nobody-manage.rules'))

    def test_unprivileged_caller_and_hung_polkitd(self):
        with self._host() as h:
            res = h.call_as(ferrytest.NOBODY, '/org/freedesktop/DBus',
                            'org.freedesktop.DBus', 'GetNameOwner',
                            GLib.Variant('(s)', ('org.freedesktop.PolicyKit1',)),
                            dest='org.freedesktop.DBus')
            self.assertTrue(res.ok, res)
            res = h.call_as(ferrytest.NOBODY, '/org/freedesktop/DBus',
                            'org.freedesktop.DBus', 'GetNameOwner',
                            GLib.Variant('(s)', ('org.ferryvm.Ferry1',)),
                            dest='org.freedesktop.DBus')
            self.assertFalse(res.ok)
            self.assertEqual(res.error_name,
                             'org.freedesktop.DBus.Error.NameHasNoOwner', res)
            rc, out, err = h.as_user(ferrytest.NOBODY, ['id', '-u'])
            self.assertEqual(out.strip(), '65534')
            # SIGSTOP polkitd: a check hangs; SIGCONT: it answers
            sleeper = self._nobody_sleeper(h)
            os.kill(h.polkitd_pid, signal.SIGSTOP)
            try:
                with self.assertRaises(GLib.Error):
                    h.call('/org/freedesktop/PolicyKit1/Authority',
                           'org.freedesktop.DBus.Properties', 'Get',
                           GLib.Variant('(ss)', (
                               'org.freedesktop.PolicyKit1.Authority',
                               'BackendName')),
                           timeout=1, dest='org.freedesktop.PolicyKit1')
            finally:
                os.kill(h.polkitd_pid, signal.SIGCONT)
            authorized, _, _ = h.check_authorization(sleeper.pid,
                                                     ferrytest.ACTION_MANAGE)
            self.assertFalse(authorized)

    def test_teardown_leaves_nothing(self):
        h = self._host()
        with h:
            pids = [h.dbus_proc.pid, h.polkitd_pid]
            d = h.dir
            # a fake "QEMU" of this host that is not our child
            fake = subprocess.Popen(
                ['/bin/bash', '-c', '(exec -a qemu-system-x86_64 /usr/bin/python3 -c '
                 '"import time; time.sleep(300)" %s/qemu/fake.qmp) '
                 '>/dev/null & echo $!' % h.runtime_dir],
                stdout=subprocess.PIPE, text=True)
            qpid = int(fake.stdout.read().strip())
            fake.stdout.close()
            fake.wait()
            ferrytest.wait_for(lambda: qpid in h.qemu_pids(), 5,
                               msg='fake qemu visible')
        for pid in pids:
            self.assertTrue(ferrytest._gone(pid), 'pid %d survived' % pid)
        self.assertTrue(ferrytest._gone(qpid), 'fake qemu survived')
        self.assertFalse(os.path.exists(d), 'tmp tree not removed')
        with open('/proc/self/mountinfo') as f:
            self.assertNotIn(d, f.read())

    def test_sigterm_while_blocked_in_a_call(self):
        """meson's timeout SIGTERM while the test waits in a D-Bus call:
        the host is torn down at once, its QEMU (own session) too."""
        child = subprocess.Popen(
            [ferrytest.SYSTEM_PY, '-c', SIGTERM_CHILD, self.policy,
             self.bus_policy or ''], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (child.kill(), child.communicate()))
        info = json.loads(child.stdout.readline())
        self.addCleanup(lambda: [ferrytest.kill_and_reap(p)
                                 for p in info['pids']])
        with ferrytest.BusMonitor(info['address'],
                                  ["type='method_call'"]) as mon:
            child.stdin.write('go\n')
            child.stdin.flush()
            mon.wait(lambda m: m.sender == info['me'] and
                     m.member == 'Get', 10, msg='the call was not made')
            child.send_signal(signal.SIGTERM)
            rc = child.wait(5)
        self.assertEqual(rc, 128 + signal.SIGTERM)
        for pid in info['pids']:
            self.assertTrue(ferrytest._gone(pid), 'pid %d survived' % pid)
        self.assertFalse(os.path.exists(info['dir']), 'tmp tree not removed')

    def test_teardown_on_exception(self):
        h = self._host()
        with self.assertRaises(ZeroDivisionError):
            with h:
                pids = [h.dbus_proc.pid, h.polkitd_pid]
                d = h.dir
                1 / 0
        for pid in pids:
            self.assertTrue(ferrytest._gone(pid))
        self.assertFalse(os.path.exists(d))

    def test_escape(self):
        e = ferrytest.escape_name
        self.assertEqual(e(''), '_')
        self.assertEqual(e('demo'), 'demo')
        self.assertEqual(e('a-b.c'), 'a_2db_2ec')
        self.assertEqual(e('vm1'), 'vm1')
        self.assertEqual(e('1vm'), '_31vm')
        self.assertEqual(e('a_b'), 'a_5fb')

    def test_heartbeats(self):
        p = os.path.join(self.tmp, 'c.log')
        with open(p, 'w') as f:
            f.write('boot\r\nHB 1 ms=200 gen=1 cur=3 dirtied_pages=0 err=0 '
                    'verify_bad=0\r\nnoise\nHB 2 ms=400 gen=1 cur=4 '
                    'dirtied_pages=12 err=0 verify_bad=0\n')
        hb = ferrytest.heartbeats(p)
        self.assertEqual([x['n'] for x in hb], [1, 2])
        self.assertEqual(hb[1]['dirtied_pages'], 12)
        self.assertEqual(hb[1]['err'], 0)


if __name__ == '__main__':
    ferrytest.main()
