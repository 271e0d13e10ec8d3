# SPDX-License-Identifier: LGPL-2.1-or-later
"""A throw-away privileged libvirtd "host" for the benchmark's virsh path.

libvirtd hard-codes its state paths, so each instance runs in its own
mount namespace (unshare -m) with private directories bind-mounted over
/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and
/var/cache/libvirt.  Nothing outside the instance's tree is written to,
except that an empty /run/libvirt is created as a mount point if it is
missing (and removed again by cleanup_mountpoint()).
"""

import datetime
import os
import re
import shutil
import signal
import subprocess
import time

_EV = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)([+-]\d{4}): "
                 r"event '(\S+)' for domain '([^']+)': (.*)$")


def parse_events(path, domain):
    """[(time, type, detail)] of a `virsh event --loop --timestamp` log."""
    out = []
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        m = _EV.match(line.strip())
        if not m or m.group(4) != domain:
            continue
        ts = datetime.datetime.strptime(m.group(1) + m.group(2),
                                        '%Y-%m-%d %H:%M:%S.%f%z').timestamp()
        out.append((ts, m.group(3), m.group(5)))
    return out

LIBVIRTD = '/usr/sbin/libvirtd'
BIND = (('etc', '/etc/libvirt'), ('run', '/run/libvirt'),
        ('lib', '/var/lib/libvirt'), ('log', '/var/log/libvirt'),
        ('cache', '/var/cache/libvirt'))

_created_mountpoint = False


def proc_cpu_ms(pid):
    """utime+stime of pid in ms (0 if it is gone)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1000.0 / os.sysconf('SC_CLK_TCK')


class LibvirtHost:
    def __init__(self, name, root, host_uuid, port_min, port_max):
        self.name = name
        self.dir = os.path.join(root, 'libvirt-' + name)
        self.host_uuid = host_uuid
        self.port_min, self.port_max = port_min, port_max
        self.proc = None

    @property
    def uri(self):
        return 'qemu+unix:///system?socket=%s/run/libvirt-sock' % self.dir

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _write(self, rel, text):
        with open(self.path(rel), 'w') as f:
            f.write(text)

    def start(self, timeout=60.0):
        global _created_mountpoint
        shutil.rmtree(self.dir, ignore_errors=True)
        for sub, _ in BIND:
            os.makedirs(self.path(sub))
        for sub in ('lib/images', 'lib/qemu', 'cache/qemu', 'log/qemu'):
            os.makedirs(self.path(sub), exist_ok=True)
        self._write('etc/libvirtd.conf', '''listen_tls = 0
listen_tcp = 0
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "%s"
log_level = 3
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
''' % self.host_uuid)
        # Sandbox settings: no virtlogd (stdio_handler), no cgroups, no
        # security driver, QEMU as root.  migration_address must not be
        # loopback; the benchmark passes --migrateuri instead.
        self._write('etc/qemu.conf', '''user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
migration_port_min = %d
migration_port_max = %d
''' % (self.port_min, self.port_max))
        self._write('etc/libvirt.conf', '')
        if not os.path.isdir('/run/libvirt'):
            os.makedirs('/run/libvirt')
            _created_mountpoint = True
        script = ' && '.join('mount --bind "%s" %s' % (self.path(sub), dst)
                             for sub, dst in BIND)
        script += ' && exec %s -f /etc/libvirt/libvirtd.conf ' \
                  '-p /run/libvirt/libvirtd.pid' % LIBVIRTD
        out = open(self.path('libvirtd.stdout'), 'wb')
        # unshare and sh both exec: the Popen pid is libvirtd's pid
        self.proc = subprocess.Popen(
            ['unshare', '-m', '--propagation', 'private', '--',
             '/bin/sh', '-c', script],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('libvirtd %s exited early (%s); see %s' % (
                    self.name, self.proc.returncode, self.dir))
            if os.path.exists(self.path('run', 'libvirt-sock')):
                r = subprocess.run(['virsh', '-c', self.uri, 'version'],
                                   capture_output=True, text=True)
                if r.returncode == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError('libvirtd %s did not come up' % self.name)

    def virsh(self, *args, check=True, timeout=120):
        r = subprocess.run(['virsh', '-q', '-c', self.uri] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError('virsh %s on %s failed: %s' % (
                ' '.join(args), self.name, r.stderr.strip()))
        return r.stdout

    def cpu_ms(self):
        return proc_cpu_ms(self.pid) if self.pid else 0.0

    def stop(self, wait=15.0):
        """Destroy running domains, SIGTERM libvirtd, wait, SIGKILL."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                names = self.virsh('list', '--name', check=False, timeout=20)
                for d in names.split():
                    self.virsh('destroy', d, check=False, timeout=20)
            except Exception:  # noqa: BLE001
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def cleanup_mountpoint():
    global _created_mountpoint
    if _created_mountpoint:
        try:
            os.rmdir('/run/libvirt')
        except OSError:
            pass
        _created_mountpoint = False
