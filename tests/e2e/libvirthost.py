# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private libvirtd "host" for the libvirt-backend tests.

libvirtd (monolithic, as Debian builds it) hard-codes its directories, so
each instance runs in its own mount namespace with private directories
bound over /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt
and /var/cache/libvirt (research/libvirt-polkit-here.md). Two instances
share the network namespace, so migration goes over loopback; each has
its own host UUID and migration ports. The client URI is
qemu+unix:///system?socket=<dir>/run/libvirt-sock.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid as uuidlib

import ferrytest

LIBVIRTD = '/usr/sbin/libvirtd'

LIBVIRTD_CONF = '''listen_tls = 0
listen_tcp = 0
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "%(uuid)s"
log_level = 3
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
keepalive_interval = 2
'''

# No KVM, no systemd, no cgroup delegation here: QEMU runs as root
# without namespaces or cgroups; its stdio goes to a file (no virtlogd).
QEMU_CONF = '''user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
migration_port_min = %(pmin)d
migration_port_max = %(pmax)d
'''


def disk_xml(path):
    """A qcow2 disk as the primary IDE master, where the test guest's ATA
    driver looks for it (tests/guest/README.md: `pc` machine, ide.0)."""
    return '''    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='%s'/>
      <target dev='hda' bus='ide'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
''' % path


def guest_xml(name, uuid, kernel, serial_log, memory_mib=64,
              append='wss=16 rate=0 hb=200', disk=None):
    """The project's test guest as a libvirt domain: direct kernel boot,
    TCG (DESIGN §6), serial port appended to serial_log; with disk (a
    path as libvirtd sees it), a qcow2 disk on the `pc` machine's IDE."""
    return '''<domain type='qemu'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>%(mem)d</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='%(machine)s'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <cmdline>%(append)s</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
%(disk)s    <serial type='file'><source path='%(log)s' append='on'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
''' % dict(name=name, uuid=uuid, kernel=kernel, append=append,
           log=serial_log, mem=memory_mib,
           machine='pc' if disk else 'q35',
           disk=disk_xml(disk) if disk else '')


class LibvirtHost:
    """One private libvirtd; start(), stop(), kill(), uri, virsh()."""

    def __init__(self, name, port_min, tmp_root=None):
        self.name = name
        self.port_min = port_min
        self.host_uuid = str(uuidlib.uuid4())
        self.tmp_root = tmp_root or os.environ.get('FERRY_TMP') or '/tmp'
        self.dir = None
        self.proc = None
        self._cleanup = None

    @property
    def socket(self):
        return os.path.join(self.dir, 'run', 'libvirt-sock')

    @property
    def uri(self):
        return 'qemu+unix:///system?socket=' + self.socket

    def _write(self, rel, text):
        with open(os.path.join(self.dir, rel), 'w') as f:
            f.write(text)

    def setup(self):
        os.makedirs(self.tmp_root, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix='ferry-lv%s-' % self.name,
                                    dir=self.tmp_root)
        os.chmod(self.dir, 0o755)
        for d in ('etc', 'run', 'lib', 'log', 'cache', 'guest'):
            os.makedirs(os.path.join(self.dir, d))
        for d in ('etc/qemu', 'lib/images', 'lib/qemu', 'cache/qemu',
                  'log/qemu'):
            os.makedirs(os.path.join(self.dir, d))
        self._write('etc/libvirtd.conf',
                    LIBVIRTD_CONF % dict(uuid=self.host_uuid))
        self._write('etc/qemu.conf', QEMU_CONF % dict(
            pmin=self.port_min, pmax=self.port_min + 9))
        self._write('etc/libvirt.conf', '')
        # the mount point of every instance's private /run/libvirt
        os.makedirs('/run/libvirt', exist_ok=True)
        self._cleanup = self.kill
        ferrytest.add_cleanup(self._cleanup)

    def start(self, timeout=30.0):
        if self.dir is None:
            self.setup()
        binds = ' && '.join(
            'mount --bind %s/%s %s' % (self.dir, src, dst) for src, dst in (
                ('etc', '/etc/libvirt'), ('run', '/run/libvirt'),
                ('lib', '/var/lib/libvirt'), ('log', '/var/log/libvirt'),
                ('cache', '/var/cache/libvirt')))
        script = '%s && exec %s -f /etc/libvirt/libvirtd.conf ' \
            '-p /run/libvirt/libvirtd.pid' % (binds, LIBVIRTD)
        t = time.monotonic()
        with open(os.path.join(self.dir, 'libvirtd.out'), 'ab') as out:
            self.proc = subprocess.Popen(
                ['unshare', '-m', '--propagation', 'private', '--',
                 '/bin/sh', '-c', script],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=ferrytest._pdeathsig)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError('libvirtd %s exited with %s:\n%s' % (
                    self.name, self.proc.returncode, ferrytest._tail(
                        os.path.join(self.dir, 'log', 'libvirtd.log'))))
            return os.path.exists(self.socket) and self.virsh(
                'uri', check=False).returncode == 0
        ferrytest.wait_for(up, timeout, 0.1, 'libvirtd %s to answer' %
                           self.name)
        ferrytest.log('libvirtd %s (pid %d) up in %.2fs' % (
            self.name, self.proc.pid, time.monotonic() - t))

    def virsh(self, *args, check=True, timeout=60):
        res = subprocess.run(['virsh', '-q', '-c', self.uri] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError('virsh %s on %s: %s' % (
                ' '.join(args), self.name, res.stderr.strip()))
        return res

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def domains(self, all_=False):
        res = self.virsh('list', '--name', *(['--all'] if all_ else []))
        return [n for n in res.stdout.split() if n]

    def domstate(self, name):
        res = self.virsh('domstate', name, check=False)
        return res.stdout.strip() if res.returncode == 0 else None

    def define_guest(self, name, serial_log, memory_mib=64,
                     append='wss=16 rate=0 hb=200', uuid=None, kernel=None,
                     disk=None):
        """Define the test guest, its serial port appended to serial_log
        (an absolute path: after a migration the destination's QEMU
        appends to the file the source's wrote). libvirt hands QEMU the
        serial file as a descriptor, so a test that must find its QEMUs
        by command line gives a kernel path of its own. disk: an image
        name in this host's images directory (image())."""
        kernel = kernel or os.environ['FERRY_TEST_GUEST']
        path = os.path.join(self.dir, 'guest', name + '.xml')
        self._write(path, guest_xml(name, uuid or str(uuidlib.uuid4()),
                                    kernel, serial_log, memory_mib, append,
                                    disk and self.image(disk, inside=True)))
        self.virsh('define', path)

    def image(self, name, inside=False):
        """The path of an image in this host's private images directory:
        as libvirtd and its QEMUs see it (inside=True), or from here.
        The same path names a different file on each host: storage that
        is not shared."""
        if inside:
            return os.path.join('/var/lib/libvirt/images', name)
        return os.path.join(self.dir, 'lib', 'images', name)

    def stop(self, timeout=1.0):
        """Destroy the domains, then stop libvirtd (SIGKILL after
        timeout: a throw-away instance with no domain left; libvirtd 11.3
        without systemd often takes 30 s to exit on SIGTERM)."""
        if self.running():
            for name in self.domains():
                self.virsh('destroy', name, check=False)
            ferrytest.stop_process(self.proc, signal.SIGTERM, timeout)

    def kill(self):
        """libvirtd gone at once (its QEMUs keep running)."""
        if self.proc is not None and self.proc.poll() is None:
            ferrytest.kill_and_reap(self.proc.pid)
            self.proc.wait()
        try:
            os.unlink(self.socket)
        except (FileNotFoundError, TypeError):
            pass

    def close(self):
        try:
            self.stop()
        finally:
            self.kill()
            if self.dir:
                for pid in ferrytest.find_processes([self.dir + os.sep], ''):
                    ferrytest.kill_and_reap(pid)
            if self._cleanup:
                ferrytest.remove_cleanup(self._cleanup)
            if self.dir and not os.environ.get('FERRY_KEEP_TMP'):
                shutil.rmtree(self.dir, ignore_errors=True)
