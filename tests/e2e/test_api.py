#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The D-Bus API of DESIGN §2 on a private bus: objects, interfaces, members
and their signatures, Manager properties, persisted domains."""

import os

import ferrytest
from ferrytest import (DOMAIN_IFACE, MANAGER_IFACE, OM_IFACE, PEER_IFACE,
                       ROOT_PATH, GLib)

# (kind, name) -> signature (in args + '->' + out args, or the property type)
MANAGER_MEMBERS = {
    ('property', 'Version'): 's',
    ('property', 'Hostname'): 's',
    ('property', 'HostUUID'): 's',
    ('property', 'Backends'): 'as',
    ('property', 'Capabilities'): 'as',
    ('method', 'DefineDomain'): 's->o',
    ('method', 'Migrate'): 'ssa{sv}->o',
    ('method', 'Check'): 'ssa{sv}->a{sv}',
    ('method', 'ListMigrations'): '->ao',
}
DOMAIN_MEMBERS = {
    ('property', 'Name'): 's',
    ('property', 'UUID'): 's',
    ('property', 'Backend'): 's',
    ('property', 'State'): 's',
    ('property', 'Migration'): 'o',
    ('method', 'Start'): '->',
    ('method', 'Shutdown'): '->',
    ('method', 'Migrate'): 'sa{sv}->o',
    ('method', 'Check'): 'sa{sv}->a{sv}',
}
PEER_METHODS = ('Hello', 'Prepare', 'Finish', 'Abort')
OM_MEMBERS = {
    ('method', 'GetManagedObjects'): '->a{oa{sa{sv}}}',
    ('signal', 'InterfacesAdded'): 'oa{sa{sv}}',
    ('signal', 'InterfacesRemoved'): 'oas',
}


def members(iface_info):
    out = {}
    for m in iface_info.methods:
        out[('method', m.name)] = ''.join(a.signature for a in m.in_args) + \
            '->' + ''.join(a.signature for a in m.out_args)
    for p in iface_info.properties:
        out[('property', p.name)] = p.signature
    for s in iface_info.signals:
        out[('signal', s.name)] = ''.join(a.signature for a in s.args)
    return out


class ApiTest(ferrytest.HostTestCase):
    host_name = 'api'

    def assertMembers(self, node, iface, expected):
        info = node.lookup_interface(iface)
        self.assertIsNotNone(info, '%s not implemented' % iface)
        got = members(info)
        for key, sig in expected.items():
            self.assertIn(key, got, '%s lacks %s %s' % (iface, key[0], key[1]))
            self.assertEqual(got[key], sig, 'signature of %s.%s' % (
                iface, key[1]))
        for p in info.properties:
            self.assertFalse(
                p.flags & ferrytest.Gio.DBusPropertyInfoFlags.WRITABLE,
                '%s.%s must not be writable (DESIGN §2)' % (iface, p.name))
        return info

    def test_root_object(self):
        node = self.host.introspect(ROOT_PATH)
        self.assertMembers(node, OM_IFACE, OM_MEMBERS)
        self.assertMembers(node, MANAGER_IFACE, MANAGER_MEMBERS)
        peer = node.lookup_interface(PEER_IFACE)
        self.assertIsNotNone(peer, '%s not implemented' % PEER_IFACE)
        names = {m.name for m in peer.methods}
        for m in PEER_METHODS:
            self.assertIn(m, names, '%s lacks method %s' % (PEER_IFACE, m))

    def test_manager_properties(self):
        h = self.host
        for p in ('Version', 'Hostname', 'HostUUID'):
            v = h.get_prop(ROOT_PATH, MANAGER_IFACE, p)
            self.assertIsInstance(v, str)
            self.assertTrue(v.strip(), 'Manager.%s is empty' % p)
        self.assertIn('qmp', h.get_prop(ROOT_PATH, MANAGER_IFACE, 'Backends'))
        self.assertIn('postcopy',
                      h.get_prop(ROOT_PATH, MANAGER_IFACE, 'Capabilities'))
        allp = h.get_all(ROOT_PATH, MANAGER_IFACE)
        for p in ('Version', 'Hostname', 'HostUUID', 'Backends',
                  'Capabilities'):
            self.assertIn(p, allp, 'GetAll(Manager) lacks %s' % p)
        ms = h.call(ROOT_PATH, MANAGER_IFACE, 'ListMigrations')[0]
        self.assertIsInstance(ms, list)

    def test_domains_objects_and_persistence(self):
        h = self.host
        names = ['api-one', 'apitwo', 'api.three_x']
        paths = {}
        for n in names:
            p = ferrytest.define_guest(h, n)
            self.assertEqual(p, ferrytest.domain_path(n),
                             'object path of domain %r' % n)
            paths[n] = p
            self.assertTrue(os.path.isfile(h.domain_conf(n)),
                            'DefineDomain(%s) not persisted at %s' % (
                                n, h.domain_conf(n)))

        node = h.introspect(paths['api-one'])
        self.assertMembers(node, DOMAIN_IFACE, DOMAIN_MEMBERS)

        # the domain nodes are listed as children of .../domain
        sub = h.introspect(ROOT_PATH + '/domain')
        kids = {n.path for n in sub.nodes}
        for n in names:
            self.assertIn(ferrytest.escape_name(n), kids)

        def snapshot():
            objs = h.managed_objects()
            out = {}
            for n, p in paths.items():
                self.assertIn(p, objs, 'GetManagedObjects lacks %s' % p)
                self.assertIn(DOMAIN_IFACE, objs[p])
                props = objs[p][DOMAIN_IFACE]
                for k in ('Name', 'UUID', 'Backend', 'State', 'Migration'):
                    self.assertIn(k, props, 'GetManagedObjects: %s lacks '
                                  'property %s' % (p, k))
                self.assertEqual(props['Name'], n)
                self.assertEqual(props['Backend'], 'qmp')
                self.assertEqual(props['State'], 'shutoff')
                self.assertEqual(props['Migration'], '/')
                self.assertTrue(props['UUID'])
                out[n] = props['UUID']
            return out

        before = snapshot()
        self.assertEqual(len(set(before.values())), len(names),
                         'domain UUIDs must be distinct')
        for n, p in paths.items():
            self.assertEqual(h.get_prop(p, DOMAIN_IFACE, 'Name'), n)
        host_uuid = h.get_prop(ROOT_PATH, MANAGER_IFACE, 'HostUUID')

        h.restart_ferryd()
        after = snapshot()
        self.assertEqual(before, after, 'domain UUIDs changed on restart')
        self.assertEqual(h.get_prop(ROOT_PATH, MANAGER_IFACE, 'HostUUID'),
                         host_uuid, 'HostUUID changed on restart')

        # a crash (SIGKILL) loses nothing either
        h.kill_ferryd()
        h.start_ferryd()
        self.assertEqual(snapshot(), before)

    def test_interfaces_added_signal(self):
        h = self.host
        bus = h.bus()
        seen = []
        ctx = GLib.MainContext.new()
        ctx.push_thread_default()
        try:
            sub = bus.signal_subscribe(
                ferrytest.BUS_NAME, OM_IFACE, 'InterfacesAdded', ROOT_PATH,
                None, ferrytest.Gio.DBusSignalFlags.NONE,
                lambda *a: seen.append(a[5].unpack()))
            p = ferrytest.define_guest(h, 'api-signal')

            def got():
                while ctx.iteration(False):
                    pass
                return any(s[0] == p for s in seen)
            ferrytest.wait_for(got, 5, 0.05,
                               'InterfacesAdded for %s' % p)
            bus.signal_unsubscribe(sub)
        finally:
            ctx.pop_thread_default()


if __name__ == '__main__':
    ferrytest.main()
