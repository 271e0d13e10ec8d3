#!/bin/sh
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
	libxml2-utils util-linux iproute2 procps clang-format"
bpo_pkgs="qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-dev"

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
if [ "${FERRY_SETUP_FORCE:-0}" != 1 ] && all_installed; then
	echo "setup.sh: all packages already installed (FERRY_SETUP_FORCE=1 re-runs apt)"
	exit 0
fi

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

echo "setup.sh: done"
