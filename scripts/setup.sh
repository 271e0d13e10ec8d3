#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install everything Ferry needs to build, test and run its demo on Debian 12.
# Idempotent: safe to run again. Must run as root.
set -eu

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: run as root" >&2
	exit 1
fi

. /etc/os-release
codename=${VERSION_CODENAME:-bookworm}
bpo="/etc/apt/sources.list.d/${codename}-backports.list"

# Packages from the main suite, and those that must come from backports.
pkgs="build-essential gcc-multilib pkg-config meson ninja-build gettext
	libglib2.0-dev libglib2.0-bin libjson-glib-dev libpolkit-gobject-1-dev
	gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 gjs
	dbus dbus-daemon polkitd pkexec python3-gi python3-dbus python3-dbusmock
	libxml2-utils util-linux iproute2 procps clang-format gi-docgen
	glib-networking openssl
	cockpit-ws cockpit-bridge cockpit-system chromium nodejs"
# npm: Debian's, unless the installed nodejs brings its own (a nodejs
# that Provides and Conflicts with npm, e.g. an upstream build).
if ! command -v npm >/dev/null 2>&1; then
	pkgs="$pkgs npm"
fi
bpo_pkgs="qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-dev
	libvirt-glib-1.0-dev"

# Fast path: everything is installed already, QEMU is 10 or newer and
# libvirt 11 or newer. No apt run at all then (a second run costs ~0.1 s).
all_installed() {
	# shellcheck disable=SC2086
	st=$(dpkg-query -W -f='${db:Status-Abbrev}\n' $pkgs $bpo_pkgs 2>/dev/null) || return 1
	[ -z "$(printf '%s\n' "$st" | grep -v '^ii')" ] || return 1
	qv=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null) || return 1
	lv=$(dpkg-query -W -f='${Version}' libvirt-daemon-system 2>/dev/null) || return 1
	dpkg --compare-versions "$qv" ge 1:10 && dpkg --compare-versions "$lv" ge 11
}
install_packages() {

# QEMU 10 (switchover-ack, exit-on-error) and libvirt 11 come from backports.
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	mirror=$(awk '/^deb / && $3 == "'"$codename"'" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	if [ -z "$mirror" ]; then
		mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
	fi
	: "${mirror:=http://deb.debian.org/debian}"
	echo "deb $mirror ${codename}-backports main" >"$bpo"
fi

export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/ferry-update-stamp
if [ ! -f "$stamp" ] || [ -n "$(find "$bpo" -newer "$stamp" 2>/dev/null)" ]; then
	apt-get update -q
	mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi

# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $pkgs

# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends -t "${codename}-backports" $bpo_pkgs
}

if [ "${FERRY_SETUP_FORCE:-0}" != 1 ] && all_installed; then
	echo "setup.sh: all packages already installed (FERRY_SETUP_FORCE=1 re-runs apt)"
else
	install_packages
fi

# playwright-core for the Cockpit page's browser test (tests/e2e/cockpit/), at
# the versions of the committed package-lock.json; it drives the Debian
# chromium, so no browser is downloaded. Skipped when node_modules already
# holds exactly the locked versions.
cockpit_test=$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/cockpit
node_modules_match() {
	[ -d "$cockpit_test/node_modules" ] || return 1
	node -e '
		const dir = process.argv[1];
		const lock = require(dir + "/package-lock.json");
		for (const [k, v] of Object.entries(lock.packages || {})) {
			if (!k) continue;
			let p;
			try { p = require(dir + "/" + k + "/package.json"); } catch (e) { process.exit(1); }
			if (p.version !== v.version) process.exit(1);
		}' "$cockpit_test"
}
if node_modules_match; then
	echo "setup.sh: tests/e2e/cockpit/node_modules is up to date"
else
	(cd "$cockpit_test" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

echo "setup.sh: done"
