#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One D-Bus method call or property Get on the system bus
($DBUS_SYSTEM_BUS_ADDRESS), for the e2e tests' unprivileged callers.

  dbus-call.py [--timeout S] [--interactive] call DEST PATH IFACE METHOD [ARGS]
  dbus-call.py [--timeout S] get DEST PATH IFACE PROPERTY

ARGS is the GVariant text of the argument tuple, e.g. "('demo',)" (use
type annotations where needed: "('a', 'b', @a{sv} {})").
Prints the reply (GVariant text) and exits 0, or prints
"ERROR <dbus error name>: <message>" and exits 1.  Exit 2: usage error.
"""
import sys

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402


def main(argv):
    timeout = 25.0
    flags = Gio.DBusCallFlags.NONE
    while argv and argv[0].startswith('--'):
        opt = argv.pop(0)
        if opt == '--timeout':
            timeout = float(argv.pop(0))
        elif opt == '--interactive':
            flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
        else:
            print('unknown option ' + opt, file=sys.stderr)
            return 2
    if len(argv) < 5 or argv[0] not in ('call', 'get'):
        print(__doc__, file=sys.stderr)
        return 2
    verb, dest, path, iface, member = argv[:5]
    if verb == 'get':
        method_iface, method = 'org.freedesktop.DBus.Properties', 'Get'
        args = GLib.Variant('(ss)', (iface, member))
    else:
        method_iface, method = iface, member
        args = None
        if len(argv) > 5:
            try:
                args = GLib.Variant.parse(None, argv[5], None, None)
            except GLib.Error as e:
                print('cannot parse arguments %r: %s' % (argv[5], e.message),
                      file=sys.stderr)
                return 2
    try:
        bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
        reply = bus.call_sync(dest, path, method_iface, method, args, None,
                              flags, int(timeout * 1000), None)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        msg = e.message or ''
        if name:
            prefix = 'GDBus.Error:' + name + ': '
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        else:
            name = 'local.%s.%d' % (GLib.quark_to_string(e.domain)
                                   if isinstance(e.domain, int) else e.domain,
                                   e.code)
        print('ERROR %s: %s' % (name, msg), flush=True)
        return 1
    if verb == 'get':
        reply = reply.get_child_value(0).get_variant()
    print(reply.print_(True), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
