#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""TLS end to end (DESIGN §3, §4a, §5): a tls:// destination reached over
mutual x509 TLS, the data stream TLS on both QEMUs, peers from another
CA, with an expired certificate or under a wrong host name refused before
any Peer method runs, a TLS peer limited to the Peer interface, cancel
and a killed destination behaving as without TLS, and a disk copied over
an NBD stream that is TLS too.

Hosts A and B hold certificates of one throw-away CA, host C of another;
B listens with --tls-listen on 127.0.0.1."""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading

from gi.repository import Gio, GLib

import ferrypki
import ferrytest
import test_storage
from ferrytest import (DOMAIN_IFACE, ERR, MANAGER_IFACE, MIGRATION_IFACE,
                       PEER_IFACE, ROOT_PATH)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Sniffer:
    """The TCP payload sent to one port on the loopback interface, as a
    packet capture sees it (AF_PACKET, root), in arrival order."""

    def __init__(self, port, limit=256 << 10):
        self.port = port  # None: every port, each in streams[port]
        self.limit = limit
        self.data = bytearray()
        self.streams = {}
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.ntohs(0x0003))
        # room for bursts while the reader waits for a busy CPU
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(('lo', 0))
        self.sock.settimeout(0.2)
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop and len(self.data) < self.limit:
            try:
                frame, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue  # loopback shows each packet twice
            ip = frame[14:]
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            tcp = ip[(ip[0] & 0xf) * 4:]
            if len(tcp) < 20:
                continue
            dport = struct.unpack('!H', tcp[2:4])[0]
            payload = tcp[(tcp[12] >> 4) * 4:]
            if self.port is None and payload:
                self.streams.setdefault(dport, bytearray()).extend(payload)
                self.data += payload
            elif dport == self.port:
                self.data += payload

    def close(self):
        self._stop = True
        self.thread.join(5)
        self.sock.close()


class TlsTest(ferrytest.TwoHostTestCase):
    """A and B: one CA; C: another; B listens on TLS."""

    c = None

    @classmethod
    def tls_host(cls, name, ca, cn, listen=None):
        args = ['--tls-listen', '127.0.0.1:%d' % listen] if listen else []
        h = ferrytest.Host(name, start_ferryd=False, ferryd_args=args)
        h.__enter__()
        try:
            h.pki = ca.host_pki(os.path.join(h.config_dir, 'pki'), cn)
            h.start_ferryd()
        except BaseException:
            h.close(failed=True)
            raise
        return h

    @classmethod
    def setUpClass(cls):
        ferrytest.require_environment(guest=True)
        cls._any_failed = False
        cls.tmp = tempfile.mkdtemp(prefix='ferry-tls-')
        cls.ca = ferrypki.CA(cls.tmp, 'Ferry test CA')
        cls.other_ca = ferrypki.CA(cls.tmp, 'Another CA')
        cls.port = free_port()
        cls.dest = 'tls://127.0.0.1:%d' % cls.port
        try:
            cls.a = cls.tls_host('A', cls.ca, 'host-a')
            cls.b = cls.tls_host('B', cls.ca, 'host-b', listen=cls.port)
            cls.c = cls.tls_host('C', cls.other_ca, 'host-c')
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        c, cls.c = cls.c, None
        try:
            if c is not None:
                c.close(failed=cls._any_failed)
        finally:
            super().tearDownClass()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers ---------------------------------------------------------

    def incoming(self, name):
        (paths,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        for p in reversed(paths):
            if self.b.get_prop(p, MIGRATION_IFACE, 'DomainName') == name:
                return p
        return None

    def tls_link(self, cert, key, ca, host='127.0.0.1'):
        """A peer-to-peer D-Bus link to B's listener, as a source makes it
        (raises GLib.Error when refused)."""
        client = Gio.SocketClient.new()
        tcp = client.connect_to_host('%s:%d' % (host, self.port), 0, None)
        tls = Gio.TlsClientConnection.new(
            tcp, Gio.NetworkAddress.new(host, self.port))
        tls.set_certificate(Gio.TlsCertificate.new_from_files(cert, key))
        tls.set_database(Gio.TlsFileDatabase.new(ca))
        tls.handshake(None)
        return Gio.DBusConnection.new_sync(
            tls, None, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None,
            None)

    def assert_untouched(self, host, name, dom, b_migrations):
        """The guest runs on its source; B has no QEMU, domain or
        migration of it."""
        self.assertEqual(host.domain_state(dom), 'running')
        before = ferrytest.wait_heartbeats(host, name, 1)[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(host.console_log(name))[-1]['n']
            >= before + 2, 10, msg='guest on %s stopped beating' % host.name)
        self.assertIsNone(self.b.qemu_pid(name), 'QEMU left on B')
        self.assertNotIn(ferrytest.domain_path(name), self.b.managed_objects())
        (paths,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        self.assertEqual(paths, b_migrations)

    def b_log_since(self, offset):
        return self.b.ferryd_log_text()[offset:]

    # -- tests -----------------------------------------------------------

    def test_01_listener_needs_its_certificates(self):
        with tempfile.TemporaryDirectory(dir=self.tmp) as d:
            r = subprocess.run(
                [os.environ['FERRYD'], '--state-dir', d + '/state',
                 '--runtime-dir', d + '/run', '--config-dir', d + '/config',
                 '--tls-listen', '127.0.0.1:%d' % free_port(), '--address',
                 'unix:path=/nonexistent'],
                capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn('pki/ca-cert.pem is missing', r.stderr)
        self.assertIn('tls', self.b.get_prop(ROOT_PATH, MANAGER_IFACE,
                                             'Capabilities'))

    def test_02_precopy_over_tls(self):
        name = 'tlspre'
        dom_a = ferrytest.start_guest(self.a, name, memory=64,
                                      append='wss=16 rate=1 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 3)
        (report,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'Check',
                                GLib.Variant('(ssa{sv})',
                                             (name, self.dest, {})))
        self.assertTrue(report['ok'], report)
        self.assertIn('tls', report['features'])
        # the data stream on a port of the test's choosing, captured
        data_port = free_port()
        sniffer = Sniffer(data_port)
        self.addCleanup(sniffer.close)
        path = self.migrate(name, {'migrate-uri': GLib.Variant(
            's', 'tcp:127.0.0.1:%d' % data_port)}, dest=self.dest)
        props = self.wait_final(path)
        sniffer.close()
        self.assertEqual(props['State'], 'completed', props)
        self.assertIn('tls', props['Statistics']['features'])
        inc = self.incoming(name)
        self.assertIn('CN=host-a', self.b.get_prop(inc, MIGRATION_IFACE,
                                                   'Source'))
        self.assertIn('tls', self.b.get_prop(inc, MIGRATION_IFACE,
                                             'Statistics')['features'])
        # a TLS record (handshake, 0x16 0x03) first, never QEMU's clear
        # stream ("QEVM" magic) nor the guest's pages
        self.assertGreater(len(sniffer.data), 4096, 'no data stream seen')
        self.assertEqual(sniffer.data[:2], b'\x16\x03',
                         'stream starts %r' % bytes(sniffer.data[:16]))
        self.assertNotIn(b'QEVM', sniffer.data)
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        hb_b = ferrytest.wait_heartbeats(self.b, name, 3, 30)
        self.assertEqual(hb_b[0]['n'], last_a + 1)
        for hb in hb_b:
            self.assertEqual(hb.get('err'), 0, hb)
            self.assertEqual(hb.get('verify_bad'), 0, hb)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_03_postcopy_over_tls(self):
        name = 'tlspost'
        dom_a = ferrytest.start_guest(self.a, name, memory=64,
                                      append='wss=32 rate=100 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        path = self.migrate(name, {
            'postcopy': GLib.Variant('s', 'manual'),
            'max-bandwidth': GLib.Variant('t', 8 << 20)}, dest=self.dest)
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'Iteration') >= 2,
            40, msg='no second pre-copy pass')
        self.a.call(path, MIGRATION_IFACE, 'StartPostCopy')
        props = self.wait_final(path, timeout=60)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        for feature in ('postcopy', 'tls'):
            self.assertIn(feature, props['Statistics']['features'])
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        hb_b = ferrytest.wait_heartbeats(self.b, name, 2, 30)
        self.assertEqual(hb_b[0]['n'], last_a + 1)
        for hb in hb_b:
            self.assertEqual(hb.get('err'), 0, hb)
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def test_04_peer_of_another_ca_refused(self):
        name = 'otherca'
        dom_c = ferrytest.start_guest(self.c, name)
        ferrytest.wait_heartbeats(self.c, name, 2)
        (before,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        # C refuses B's certificate, which its own CA did not sign
        path = self.migrate(name, host=self.c, dest=self.dest)
        props = self.wait_final(path, host=self.c)
        self.assertEqual(props['State'], 'failed', props)
        self.assertEqual(props['ErrorName'], ERR + 'PeerRefused')
        self.assertIn("not signed by this host's CA", props['ErrorMessage'])
        (report,) = self.c.call(ROOT_PATH, MANAGER_IFACE, 'Check',
                                GLib.Variant('(ssa{sv})',
                                             (name, self.dest, {})))
        self.assertFalse(report['ok'])
        self.assertTrue(any("not signed by this host's CA" in b
                            for b in report['blockers']), report)
        # and B refuses C's certificate before any Peer method runs
        offset = len(self.b.ferryd_log_text())
        pki = self.c.pki
        with self.assertRaises(GLib.Error):
            link = self.tls_link(pki + '/client-cert.pem',
                                 pki + '/client-key.pem',
                                 self.a.pki + '/ca-cert.pem')
            link.call_sync(ferrytest.BUS_NAME, ROOT_PATH, PEER_IFACE,
                           'Hello', GLib.Variant('(a{sv})', ({},)), None,
                           Gio.DBusCallFlags.NONE, 5000, None)
        ferrytest.wait_for(
            lambda: "refused: its certificate is not signed by this host's CA"
            in self.b_log_since(offset), 10, msg='B did not say why')
        self.assert_untouched(self.c, name, dom_c, before)
        self.c.call(dom_c, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_05_expired_certificate_refused(self):
        name = 'expired'
        dom_a = ferrytest.start_guest(self.a, name)
        (before,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        keep = os.path.join(self.tmp, 'a-client')
        os.makedirs(keep, exist_ok=True)
        for f in ('client-cert.pem', 'client-key.pem'):
            shutil.copy(os.path.join(self.a.pki, f), keep)

        def restore():
            for f in ('client-cert.pem', 'client-key.pem'):
                shutil.copy(os.path.join(keep, f), self.a.pki)
        self.addCleanup(restore)
        self.ca.issue(os.path.join(self.a.pki, 'client-cert.pem'),
                      os.path.join(self.a.pki, 'client-key.pem'), 'host-a',
                      start='20200101000000Z', end='20200201000000Z')
        # the source knows its own certificate expired: nothing starts
        self.assertDBusError(ERR + 'Failed', self.a.call, ROOT_PATH,
                             MANAGER_IFACE, 'Migrate',
                             GLib.Variant('(ssa{sv})',
                                          (name, self.dest, {})),
                             contains=('client-cert.pem', 'has expired'))
        (report,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'Check',
                                GLib.Variant('(ssa{sv})',
                                             (name, self.dest, {})))
        self.assertFalse(report['ok'])
        self.assertEqual(len(report['blockers']), 1, report)
        self.assertIn('has expired', report['blockers'][0])
        # a peer that shows it all the same is refused by B
        offset = len(self.b.ferryd_log_text())
        with self.assertRaises(GLib.Error):
            link = self.tls_link(self.a.pki + '/client-cert.pem',
                                 self.a.pki + '/client-key.pem',
                                 self.a.pki + '/ca-cert.pem')
            link.call_sync(ferrytest.BUS_NAME, ROOT_PATH, PEER_IFACE,
                           'Hello', GLib.Variant('(a{sv})', ({},)), None,
                           Gio.DBusCallFlags.NONE, 5000, None)
        ferrytest.wait_for(
            lambda: 'refused: its certificate has expired'
            in self.b_log_since(offset), 10, msg='B did not say why')
        restore()
        self.assert_untouched(self.a, name, dom_a, before)
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_06_wrong_host_name_refused(self):
        name = 'wrongname'
        ferrytest.define_guest(self.a, name)
        # B's certificate names 127.0.0.1, not localhost
        dest = 'tls://localhost:%d' % self.port
        (report,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'Check',
                                GLib.Variant('(ssa{sv})', (name, dest, {})))
        self.assertFalse(report['destination-checked'], report)
        self.assertTrue(any('does not match the host name' in b
                            for b in report['blockers']), report)
        # an explicit clear data stream to a TLS peer is refused
        self.assertDBusError(ERR + 'InvalidArgument', self.a.call, ROOT_PATH,
                             MANAGER_IFACE, 'Migrate',
                             GLib.Variant('(ssa{sv})', (name, self.dest, {
                                 'tls': GLib.Variant('b', False)})),
                             contains=('tls',))

    def test_07_tls_peer_gets_the_peer_interface_only(self):
        pki = self.a.pki
        link = self.tls_link(pki + '/client-cert.pem',
                             pki + '/client-key.pem', pki + '/ca-cert.pem')
        self.addCleanup(link.close_sync, None)
        (info,) = link.call_sync(
            None, ROOT_PATH, PEER_IFACE, 'Hello',
            GLib.Variant('(a{sv})', ({},)), None, Gio.DBusCallFlags.NONE,
            5000, None).unpack()
        self.assertEqual(info['api'], 1)
        self.assertIn('tls', info['capabilities'])
        for iface, method, args in (
                (MANAGER_IFACE, 'DefineDomain', GLib.Variant('(s)', ('',))),
                (MANAGER_IFACE, 'ListMigrations', None),
                ('org.freedesktop.DBus.ObjectManager', 'GetManagedObjects',
                 None)):
            with self.assertRaises(GLib.Error, msg=method) as cm:
                link.call_sync(None, ROOT_PATH, iface, method, args, None,
                               Gio.DBusCallFlags.NONE, 5000, None)
            self.assertIn('Unknown', cm.exception.message)
        # nor touch a migration another source prepared (test_02's)
        (paths,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        self.assertTrue(paths)
        for method, args in (('Abort', (paths[0], 'test')),
                             ('Finish', (paths[0], False, {}))):
            with self.assertRaises(GLib.Error, msg=method) as cm:
                link.call_sync(None, ROOT_PATH, PEER_IFACE, method,
                               GLib.Variant('(os)' if method == 'Abort'
                                            else '(oba{sv})', args), None,
                               Gio.DBusCallFlags.NONE, 5000, None)
            self.assertIn('No incoming migration', cm.exception.message)
        # a source on the TLS link may not ask for a clear data stream
        with self.assertRaises(GLib.Error) as cm:
            link.call_sync(None, ROOT_PATH, PEER_IFACE, 'Prepare',
                           GLib.Variant('(sssa{sv}a{sv})', (
                               'x', '', '', {}, {
                                   'features': GLib.Variant('as', [
                                       'events'])})),
                           None, Gio.DBusCallFlags.NONE, 5000, None)
        self.assertIn('must encrypt', cm.exception.message)

    def test_08_cancel_and_killed_destination(self):
        name = 'tlscancel'
        dom_a = ferrytest.start_guest(self.a, name, memory=64,
                                      append='wss=32 rate=0 hb=200')
        ferrytest.wait_heartbeats(self.a, name, 2)
        (before,) = self.b.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        opts = {'max-bandwidth': GLib.Variant('t', 2 << 20)}
        path = self.migrate(name, opts, dest=self.dest)
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'State') ==
            'active' and self.a.get_prop(path, MIGRATION_IFACE,
                                         'MemoryProcessed') > 0,
            20, msg='migration never became active')
        inc = self.incoming(name)
        self.assertIsNotNone(inc)
        self.a.call(path, MIGRATION_IFACE, 'Cancel')
        props = self.wait_final(path)
        self.assertEqual(props['State'], 'cancelled', props)
        self.assertEqual(self.b.get_prop(inc, MIGRATION_IFACE, 'State'),
                         'cancelled')
        ferrytest.wait_for(lambda: self.b.qemu_pid(name) is None, 10,
                           msg='QEMU left on B')
        # the destination's ferryd killed in Perform
        path = self.migrate(name, opts, dest=self.dest)
        ferrytest.wait_for(
            lambda: self.a.get_prop(path, MIGRATION_IFACE, 'State') ==
            'active', 20, msg='migration never became active')
        self.b.kill_ferryd()
        self.addCleanup(lambda: self.b.ferryd_running() or
                        self.b.start_ferryd())
        props = self.wait_final(path, timeout=60)
        self.assertEqual(props['State'], 'failed', props)
        self.a.wait_state(dom_a, 'running', 10)
        self.b.start_ferryd()
        conf = os.path.join(self.b.runtime_dir, 'qemu', name + '.conf')
        ferrytest.wait_for(
            lambda: not os.path.exists(conf) or
            ferrytest.domain_path(name) in self.b.managed_objects(), 10,
            msg='the new ferryd on B did not deal with the old QEMU')
        ferrytest.wait_for(lambda: self.b.qemu_pid(name) is None, 10,
                           msg='the half-arrived QEMU stays on B')
        for hb in ferrytest.heartbeats(self.b.console_log(name)):
            self.fail('guest ran on B too: %r' % hb)
        before = ferrytest.wait_heartbeats(self.a, name, 1)[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
            >= before + 2, 10, msg='guest on A stopped beating')
        # and it migrates over TLS again
        path = self.migrate(name, dest=self.dest)
        self.assertEqual(self.wait_final(path)['State'], 'completed')
        self.b.call(ferrytest.domain_path(name), DOMAIN_IFACE, 'Shutdown',
                    timeout=30)

    def sniffed_migration(self, name, src, dst, options):
        """Migrate name from src to dst's bus with options, its data
        stream on a port of the test's choosing, captured; return the
        final properties and the bytes the source sent."""
        data_port = free_port()
        sniffer = Sniffer(data_port)
        self.addCleanup(sniffer.close)
        options = dict(options, **{'migrate-uri': GLib.Variant(
            's', 'tcp:127.0.0.1:%d' % data_port)})
        (path,) = src.call(ROOT_PATH, MANAGER_IFACE, 'Migrate',
                           GLib.Variant('(ssa{sv})',
                                        (name, dst.address, options)))
        props = self.wait_final(path, host=src)
        sniffer.close()
        self.assertEqual(props['State'], 'completed', props)
        self.assertGreater(len(sniffer.data), 4096, 'no data stream seen')
        return props, bytes(sniffer.data)

    def test_09_tls_data_stream_over_a_bus_peer_link(self):
        # tls=true with any destination: the data stream alone is TLS
        name = 'tlsbus'
        dom_a = ferrytest.start_guest(self.a, name)
        ferrytest.wait_heartbeats(self.a, name, 2)
        # the control: in clear, the capture sees QEMU's stream
        props, data = self.sniffed_migration(name, self.a, self.b, {})
        self.assertNotIn('tls', props['Statistics']['features'])
        self.assertEqual(data[:4], b'QEVM', 'stream starts %r' % data[:16])
        self.b.wait_state(ferrytest.domain_path(name), 'running', 10)
        ferrytest.wait_heartbeats(self.b, name, 1, 30)
        # back from B to A with tls=true: never QEMU's clear stream
        props, data = self.sniffed_migration(name, self.b, self.a, {
            'tls': GLib.Variant('b', True)})
        self.assertIn('tls', props['Statistics']['features'])
        self.assertEqual(data[:2], b'\x16\x03', 'stream starts %r' % data[:16])
        self.assertNotIn(b'QEVM', data)
        # the source is named by its bus, not by a certificate
        (paths,) = self.a.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')
        self.assertNotIn('CN=', self.a.get_prop(paths[-1], MIGRATION_IFACE,
                                                'Source'))
        self.a.wait_state(dom_a, 'running', 10)
        last_b = ferrytest.heartbeats(self.b.console_log(name))[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
            > last_b + 1, 30, msg='guest on A does not beat')
        for hb in ferrytest.heartbeats(self.a.console_log(name)):
            self.assertEqual(hb.get('err'), 0, hb)
        self.a.call(dom_a, DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_10_storage_copy_over_tls(self):
        # copy-storage over a tls:// destination: the disks' NBD stream
        # (its port chosen by B) is TLS as well as the memory's
        name = 'tlsdisk'
        image_a = os.path.join(self.a.state_dir, 'images', name + '.qcow2')
        image_b = os.path.join(self.b.state_dir, 'images', name + '.qcow2')
        test_storage.make_image(image_a)
        dom_a = ferrytest.start_guest(
            self.a, name, memory=48, machine='pc',
            extra='[Disk vda]\nPath=%s.qcow2\nFormat=qcow2\nBus=ide\n' % name,
            append='wss=4 rate=1 hb=200 disk=256 dstart=%d dsize=256' %
            test_storage.DSTART_KIB)
        ferrytest.wait_for(
            lambda: max([hb.get('dgen', 0) for hb in ferrytest.heartbeats(
                self.a.console_log(name))] or [0]) >= 2, 30, 0.1,
            msg='guest does not sweep its disk')
        # every TCP payload on the loopback (memory, NBD, D-Bus)
        sniffer = Sniffer(None, limit=64 << 20)
        self.addCleanup(sniffer.close)
        path = self.migrate(name, {
            'copy-storage': GLib.Variant('s', 'all')}, dest=self.dest)
        props = self.wait_final(path)
        sniffer.close()
        self.assertEqual(props['State'], 'completed', props)
        for feature in ('tls', 'storage-mirror'):
            self.assertIn(feature, props['Statistics']['features'])
        # NBD's client starts in clear ("IHAVEOPT" options); the first it
        # asks for must be STARTTLS (option 5), and TLS records follow
        # (the client's stream: its 4 flag bytes, then its first option)
        nbd = [bytes(d) for d in sniffer.streams.values()
               if d[4:12] == b'IHAVEOPT']
        self.assertTrue(nbd, 'no NBD client stream seen')
        starttls = b'IHAVEOPT\0\0\0\x05\0\0\0\0'
        for d in nbd:
            self.assertEqual(d[4:20], starttls, 'first option %r' % d[4:20])
            self.assertEqual(d[20:22], b'\x16\x03', 'after STARTTLS %r' %
                             d[20:36])
        self.assertGreater(max(len(d) for d in nbd), 1 << 20,
                           'disk copy not captured')
        # and nothing on the loopback shows the disk's data in clear
        for pattern, _, _ in test_storage.PREWRITTEN:
            self.assertNotIn(bytes([pattern]) * 4096, sniffer.data,
                             'pattern 0x%x in clear' % pattern)
        # the guest beats on B, its memory and disk checks without error
        self.a.wait_state(dom_a, 'shutoff', 10)
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]
        hb_b = ferrytest.wait_heartbeats(self.b, name, 3, 30)
        self.assertEqual(hb_b[0]['n'], last_a['n'] + 1)
        for hb in hb_b:
            self.assertEqual(hb.get('err'), 0, hb)
            self.assertEqual(hb.get('derr'), 0, hb)
        # the images: identical outside the region the guest rewrites
        ferrytest.kill_and_reap(self.b.qemu_pid(name))
        self.b.wait_state(ferrytest.domain_path(name), 'shutoff', 15)
        copies = []
        for image in (image_a, image_b):
            copy = os.path.join(self.tmp, os.path.basename(
                os.path.dirname(os.path.dirname(image))) + '-disk.qcow2')
            shutil.copyfile(image, copy)
            test_storage.run('qemu-io', '-f', 'qcow2', '-c',
                             'write -q -z %d %d' % (
                                 test_storage.DSTART_KIB << 10, 256 << 10),
                             copy)
            copies.append(copy)
        res = subprocess.run(['qemu-img', 'compare', '-f', 'qcow2', '-F',
                              'qcow2'] + copies, capture_output=True,
                             text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)


if __name__ == '__main__':
    ferrytest.main()
