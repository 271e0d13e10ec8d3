#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A Python client that follows one migration through libferry (GObject
introspection), as a GNOME or Cockpit front-end would: the measured
client of bench/client-cost.py and tests/e2e/test_client_cost.py.

  client-follow.py MIGRATION_PATH

Connects to DBUS_SYSTEM_BUS_ADDRESS (or the system bus), fetches the
service's state once (Ferry.Client.new_sync), then prints

  ready NAME SERIAL     its unique bus name and the serial of the last
                        message it sent, once the initial fetch is done
  progress P            one line per notify::progress
  end STATE SERIAL      when the migration ended (wait_async), with the
                        serial of the last message it sent
  notifies N            property notifications it received while following

and exits 0 if the migration completed, 1 otherwise. Following must cost
no D-Bus call: a message with a serial between the two is one the client
should not have sent. (Exiting costs a few: GDBus drops the match rules
of the objects Python finalizes at exit with RemoveMatch.)"""

import sys

import gi

gi.require_version('Ferry', '1.0')
from gi.repository import Ferry, GLib  # noqa: E402


def main(path):
    client = Ferry.Client.new_sync(None)
    conn = client.get_connection()
    m = client.lookup_migration(path)
    if m is None:
        print('no migration %s' % path, file=sys.stderr)
        return 2
    counts = {'notify': 0}

    def on_notify(obj, pspec):
        counts['notify'] += 1
        if pspec.name == 'progress':
            print('progress %.4f' % obj.props.progress, flush=True)

    m.connect('notify', on_notify)
    loop = GLib.MainLoop()
    result = {}

    def done(mig, res):
        try:
            result['stats'] = mig.wait_finish(res)
        except GLib.Error as e:
            result['error'] = e
        loop.quit()

    # the last serial this thread used: everything above it is a message
    # sent while following
    print('ready %s %d' % (conn.get_unique_name(), conn.get_last_serial()),
          flush=True)
    m.wait_async(None, done)
    loop.run()
    print('end %s %d' % (m.props.state, conn.get_last_serial()), flush=True)
    print('notifies %d' % counts['notify'], flush=True)
    if 'error' in result:
        print('error: %s' % result['error'].message, file=sys.stderr)
    return 0 if m.props.state == 'completed' else 1


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
