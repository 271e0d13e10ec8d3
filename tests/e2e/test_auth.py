#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Authorization (DESIGN §2): reads are free, privileged calls go through the
real polkitd for the real caller, authorization comes before argument checks,
and a hung polkitd does not hang ferryd."""

import os
import signal
import time

import ferrytest
from ferrytest import (ACTION_MANAGE, ACTION_MIGRATE, AUTH_ERRORS,
                       DOMAIN_IFACE, MANAGER_IFACE, NOBODY, OM_IFACE,
                       ROOT_PATH, GLib)

V = GLib.Variant
NO_DEST = 'unix:path=/nonexistent/ferry-test/bus'


class AuthTest(ferrytest.HostTestCase):
    host_name = 'auth'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # defined by root: root is allowed
        cls.dom = ferrytest.define_guest(cls.host, 'auth-dom')

    def nobody(self, path, iface, method, args=None, **kw):
        return self.host.call_as(NOBODY, path, iface, method, args, **kw)

    def assertDenied(self, res, action):
        self.assertCallError(res, AUTH_ERRORS, contains=(action,))

    def test_reads_need_no_authorization(self):
        h = self.host
        for p in ('Version', 'Hostname', 'HostUUID', 'Backends',
                  'Capabilities'):
            r = h.get_prop_as(NOBODY, ROOT_PATH, MANAGER_IFACE, p)
            self.assertTrue(r.ok, 'nobody cannot read Manager.%s: %r' % (p, r))
        r = h.get_prop_as(NOBODY, self.dom, DOMAIN_IFACE, 'State')
        self.assertTrue(r.ok, r)
        self.assertIn('shutoff', r.reply)
        r = self.nobody(ROOT_PATH, OM_IFACE, 'GetManagedObjects')
        self.assertTrue(r.ok, r)
        self.assertIn(self.dom, r.reply)
        r = self.nobody(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        self.assertTrue(r.ok, r)
        r = self.nobody(ROOT_PATH, 'org.freedesktop.DBus.Introspectable',
                        'Introspect')
        self.assertTrue(r.ok, r)

    def test_check_needs_no_authorization(self):
        for res in (
            self.nobody(ROOT_PATH, MANAGER_IFACE, 'Check',
                        V('(ssa{sv})', ('auth-dom', NO_DEST, {}))),
            self.nobody(self.dom, DOMAIN_IFACE, 'Check',
                        V('(sa{sv})', (NO_DEST, {})))):
            if res.ok:
                self.assertIn("'ok'", res.reply, 'Check report lacks ok: %r'
                              % res)
            else:
                # an unreachable destination may be an error, but never an
                # authorization error
                self.assertNotIn(res.error_name, AUTH_ERRORS, res)
                self.assertIsNotNone(res.error_name, res)
                self.assertTrue(res.error_name.startswith(ferrytest.ERR), res)

    def test_privileged_calls_denied(self):
        kf = ferrytest.guest_keyfile('auth-by-nobody',
                                     kernel=self.host.placeholder_kernel())
        cases = [
            (ROOT_PATH, MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', ('auth-dom', NO_DEST, {})), ACTION_MIGRATE),
            (self.dom, DOMAIN_IFACE, 'Migrate',
             V('(sa{sv})', (NO_DEST, {})), ACTION_MIGRATE),
            (ROOT_PATH, MANAGER_IFACE, 'DefineDomain', V('(s)', (kf,)),
             ACTION_MANAGE),
            (self.dom, DOMAIN_IFACE, 'Start', None, ACTION_MANAGE),
            (self.dom, DOMAIN_IFACE, 'Shutdown', None, ACTION_MANAGE),
        ]
        for path, iface, method, args, action in cases:
            with self.subTest(method=iface + '.' + method):
                self.assertDenied(self.nobody(path, iface, method, args),
                                  action)
        self.assertNotIn(ferrytest.domain_path('auth-by-nobody'),
                         self.host.managed_objects())
        self.assertFalse(os.path.exists(
            self.host.domain_conf('auth-by-nobody')))
        self.assertEqual(self.host.domain_state(self.dom), 'shutoff')
        self.assertEqual(self.host.qemu_pids(), [])

    def test_authorization_before_argument_checks(self):
        cases = [
            (ROOT_PATH, MANAGER_IFACE, 'DefineDomain',
             V('(s)', ('this is [not a keyfile',)), ACTION_MANAGE),
            (ROOT_PATH, MANAGER_IFACE, 'DefineDomain',
             V('(s)', ('[Domain]\nMemory=abc\n',)), ACTION_MANAGE),
            (ROOT_PATH, MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', ('no-such-domain', NO_DEST, {})),
             ACTION_MIGRATE),
            (ROOT_PATH, MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', ('auth-dom', NO_DEST,
                             {'no-such-option': V('b', True)})),
             ACTION_MIGRATE),
            (ROOT_PATH, MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', ('auth-dom', NO_DEST,
                             {'max-bandwidth': V('s', 'fast')})),
             ACTION_MIGRATE),
            (self.dom, DOMAIN_IFACE, 'Migrate',
             V('(sa{sv})', ('', {'live': V('s', 'yes')})), ACTION_MIGRATE),
        ]
        for path, iface, method, args, action in cases:
            with self.subTest(method=method, args=args.print_(False)):
                self.assertDenied(self.nobody(path, iface, method, args),
                                  action)

    def test_rule_grants_manage_domains(self):
        h = self.host
        kf = ferrytest.guest_keyfile('auth-granted',
                                     kernel=h.placeholder_kernel())
        args = V('(s)', (kf,))
        self.assertDenied(self.nobody(ROOT_PATH, MANAGER_IFACE,
                                      'DefineDomain', args), ACTION_MANAGE)
        h.allow_rule('50-nobody-manage', ACTION_MANAGE, 'nobody')
        try:
            r = self.nobody(ROOT_PATH, MANAGER_IFACE, 'DefineDomain', args)
            self.assertTrue(r.ok, 'granted DefineDomain failed: %r' % r)
            self.assertIn(ferrytest.domain_path('auth-granted'), r.reply)
            # the grant is for manage-domains only
            self.assertDenied(self.nobody(
                ROOT_PATH, MANAGER_IFACE, 'Migrate',
                V('(ssa{sv})', ('auth-granted', NO_DEST, {}))),
                ACTION_MIGRATE)
        finally:
            h.remove_rule('50-nobody-manage')
        # hot reload: denied again
        self.assertDenied(self.nobody(ROOT_PATH, MANAGER_IFACE,
                                      'DefineDomain', args), ACTION_MANAGE)
        with open(h.polkitd_log) as f:
            plog = f.read()
        self.assertIn('ferrytest: grant org.ferryvm.ferry1.manage-domains '
                      'to nobody', plog,
                      'the rule was not consulted by polkitd')
        # root needs no rule
        p = ferrytest.define_guest(h, 'auth-granted')
        self.assertEqual(p, ferrytest.domain_path('auth-granted'))

    def test_hung_polkitd_does_not_block_reads(self):
        h = self.host
        kf = ferrytest.guest_keyfile('auth-hung',
                                     kernel=h.placeholder_kernel())
        ferryd = h.name_owner(ferrytest.BUS_NAME)
        mon = h.monitor(["type='method_call',"
                         "interface='org.freedesktop.PolicyKit1.Authority',"
                         "member='CheckAuthorization'"])
        self.addCleanup(mon.close)
        os.kill(h.polkitd_pid, signal.SIGSTOP)
        bg = res = None
        try:
            bg = self.nobody(ROOT_PATH, MANAGER_IFACE, 'DefineDomain',
                             V('(s)', (kf,)), background=True, timeout=60)
            # the check is now pending in ferryd: it asked polkitd
            mon.wait(lambda m: m.sender == ferryd and
                     m.args[1] == ACTION_MANAGE, 30,
                     msg='ferryd never asked polkitd about DefineDomain')
            for attempt in range(3):
                t = time.monotonic()
                v = h.get_prop(ROOT_PATH, MANAGER_IFACE, 'Version',
                               timeout=2)
                self.assertTrue(v)
                h.get_prop(self.dom, DOMAIN_IFACE, 'State', timeout=2)
                h.call(ROOT_PATH, OM_IFACE, 'GetManagedObjects', timeout=2)
                self.assertLess(time.monotonic() - t, 2.0)
            r = h.get_prop_as(NOBODY, ROOT_PATH, MANAGER_IFACE, 'Hostname',
                              timeout=2)
            self.assertTrue(r.ok, 'unprivileged read blocked: %r' % r)
            if bg.poll() is not None:
                early = ferrytest.CallResult.from_proc(bg)
                bg = None
                self.fail('the privileged call did not wait for polkitd '
                          '(answered while polkitd was stopped): %r' % early)
        finally:
            os.kill(h.polkitd_pid, signal.SIGCONT)
            if bg is not None:
                res = ferrytest.CallResult.from_proc(bg, timeout=90)
        self.assertDenied(res, ACTION_MANAGE)
        # ferryd is still healthy
        self.assertTrue(h.get_prop(ROOT_PATH, MANAGER_IFACE, 'Version'))


if __name__ == '__main__':
    ferrytest.main()
