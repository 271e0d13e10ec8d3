#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo: install what is needed (scripts/setup.sh), build Ferry in build/,
# then bring up two local hosts A and B, start a demo VM on A and migrate it
# live to B with ferryctl (see tests/e2e/demo.py). Must run as root.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root (e.g. sudo ./scripts/demo.sh)" >&2
	exit 1
fi

"$top/scripts/setup.sh"

if [ ! -d build/meson-private ]; then
	meson setup build
fi
ninja -C build

FERRYD="$top/build/ferryd/ferryd"
FERRYCTL="$top/build/ferryctl/ferryctl"
FERRY_TEST_GUEST="$top/build/tests/guest/ferry-test-guest.elf"
FERRY_POLICY="$top/build/data/polkit/org.ferryvm.ferry1.policy"
FERRY_BUS_POLICY="$top/data/dbus/org.ferryvm.Ferry1.conf"
PYTHONPATH="$top/tests/e2e"
PYTHONDONTWRITEBYTECODE=1
export FERRYD FERRYCTL FERRY_TEST_GUEST FERRY_POLICY FERRY_BUS_POLICY PYTHONPATH \
	PYTHONDONTWRITEBYTECODE
unset FERRY_ALLOW_SKIP || true

# /usr/bin/python3: the one with PyGObject (python3 on PATH may differ).
exec /usr/bin/python3 "$top/tests/e2e/demo.py"
