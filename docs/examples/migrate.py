#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Migrate DOMAIN to DESTINATION with libferry: migrate.py DOMAIN DEST [BYTES/S]
import sys
import gi
gi.require_version('Ferry', '1.0')
from gi.repository import Ferry  # noqa: E402

client = Ferry.Client.new_sync(None)  # the system bus or DBUS_SYSTEM_BUS_ADDRESS
options = Ferry.MigrateOptions.new()
if len(sys.argv) > 3:
    options.set_max_bandwidth(int(sys.argv[3]))
m = client.migrate_sync(sys.argv[1], sys.argv[2], options, None)
m.connect('notify::progress',
          lambda m, _: print('progress %.3f' % m.props.progress, flush=True))
stats = m.wait_sync(None)  # raises GLib.Error (Ferry.Error) if it failed
for key, value in sorted(stats.unpack().items()):
    print('%s: %s' % (key, value))
