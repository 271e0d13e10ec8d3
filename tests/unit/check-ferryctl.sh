#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ferryctl is a client of libferry-1 (issue 6, DESIGN §1b):
#   - no file under ferryctl/ makes D-Bus calls or uses the generated
#     D-Bus code (g_dbus_*, g_bus_*, GDBusProxy, FerryDBus*, ferry_dbus_*,
#     ferry-dbus.h): libferry does all of that;
#   - the ferryctl binary links libferry-1.so.
# usage: check-ferryctl.sh FERRYCTL_SRCDIR FERRYCTL_BINARY
set -u

srcdir=$1
binary=$2
status=0

if [ ! -d "$srcdir" ] || [ ! -x "$binary" ]; then
  echo "check-ferryctl: no directory $srcdir or no executable $binary" >&2
  exit 1
fi

hits=$(grep -rnE 'g_dbus_|g_bus_|GDBusProxy|FerryDBus|ferry_dbus_|ferry-dbus\.h' "$srcdir")
if [ -n "$hits" ]; then
  echo "check-ferryctl: ferryctl/ uses D-Bus directly (use libferry):" >&2
  echo "$hits" >&2
  status=1
fi

if ! ldd "$binary" | grep -q 'libferry-1\.so'; then
  echo "check-ferryctl: $binary does not link libferry-1.so:" >&2
  ldd "$binary" >&2
  status=1
fi

if nm "$binary" 2>/dev/null | grep -q ' [TtDdBb] ferry_dbus_'; then
  echo "check-ferryctl: $binary carries its own copy of the generated D-Bus code" >&2
  status=1
fi

[ $status -eq 0 ] && echo "check-ferryctl: ok"
exit $status
