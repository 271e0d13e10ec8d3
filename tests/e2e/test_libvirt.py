#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The libvirt backend with two real libvirtd "hosts" (each in its own
mount namespace, libvirthost.py), each with a ferryd pointed at it by
--libvirt-uri: libvirt's domains appear with Backend=libvirt and follow
libvirt's life cycle; libvirtd going away drops them (and "libvirt" from
Backends) and they come back with it."""

import os
import shutil
import tempfile

import ferrytest
from ferrytest import DOMAIN_IFACE, MANAGER_IFACE, ROOT_PATH
from libvirthost import LibvirtHost


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

    def test_01_domain_appears(self):
        self.assertEqual(self.backends(self.a), ['qmp', 'libvirt'])
        self.lva.define_guest('lv1', self.serial('lv1'))
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
        self.lva.define_guest('lv2', self.serial('lv2'))
        path = self.wait_domain(self.a, 'lv2', 'shutoff')
        self.a.call(path, DOMAIN_IFACE, 'Start', timeout=30)
        self.wait_domain(self.a, 'lv2', 'running')
        self.assertEqual(self.lva.domstate('lv2'), 'running')
        # the guest ignores ACPI: destroyed after the grace period
        self.a.call(path, DOMAIN_IFACE, 'Shutdown', timeout=30)
        self.wait_domain(self.a, 'lv2', 'shutoff')
        self.assertEqual(self.lva.domstate('lv2'), 'shut off')
        self.lva.virsh('undefine', 'lv2')
        self.wait_no_domain(self.a, 'lv2')

    def test_09_libvirtd_down_and_back(self):
        # a QMP domain stays through it all
        qmp = ferrytest.define_guest(self.a, 'qmpdom')
        self.wait_domain(self.a, 'lv1')
        self.lva.kill()
        ferrytest.wait_for(lambda: self.backends(self.a) == ['qmp'], 15,
                           msg='Backends without libvirt')
        self.wait_no_domain(self.a, 'lv1')
        self.assertIn(qmp, self.a.managed_objects())
        self.lva.start()
        ferrytest.wait_for(
            lambda: self.backends(self.a) == ['qmp', 'libvirt'], 20,
            msg='Backends with libvirt again')
        # libvirtd found its running guest again
        self.wait_domain(self.a, 'lv1', 'running')
        self.assertIn(qmp, self.a.managed_objects())


if __name__ == '__main__':
    ferrytest.main()
