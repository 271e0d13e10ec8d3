#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerate docs/cockpit-ferry.png, the Cockpit page during a live
# migration: runs the browser test e2e-cockpit (two local test hosts,
# cockpit-ws, headless Chromium), which takes the screenshot while the
# migration is in its perform phase. Must run as root.
# BUILD=DIR picks the build tree (default build-screenshot).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
build=${BUILD:-build-screenshot}
[ -f "$build/build.ninja" ] || meson setup "$build"
ninja -C "$build"
FERRY_COCKPIT_SCREENSHOT="$PWD/docs/cockpit-ferry.png" \
	meson test -C "$build" --print-errorlogs e2e-cockpit
echo "cockpit-screenshot.sh: wrote docs/cockpit-ferry.png"
