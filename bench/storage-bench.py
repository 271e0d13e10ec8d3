#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storage migration benchmark: Ferry against virsh, same guest and image.

The project's test guest (pc machine, 1 vCPU, TCG) with a 64 MiB qcow2
disk on IDE, 24 MiB of it written beforehand, the guest rewriting a
256 KiB region of it at 256 KiB/s while it migrates, copied four ways:

  ferry       Manager.Migrate(copy-storage=all) between two Ferry hosts
  ferry-sync  ... with synchronous-writes=true
  virsh       virsh migrate --live --p2p --copy-storage-all between two
              private libvirtd instances (bench/lvhost.py)
  virsh-sync  ... with --copy-storage-synchronous-writes

Runs alternate between the four, N rounds; medians of the total time (the
client's call until the guest runs on the destination) and of the real
downtime (the destination's RESUME minus the source's STOP, both from
the QMP event timestamps or libvirt's lifecycle events), and the ratios
Ferry / virsh.  Run as root with /usr/bin/python3 (PyGObject).
"""

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC_ROOT, 'tests', 'e2e'))

import benchlib  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    'migrate_bench', os.path.join(HERE, 'migrate-bench.py'))
mb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mb)
lvhost = mb.lvhost

MIB = 1 << 20
DISK_SIZE = 64 * MIB
MEMORY = 64
APPEND = 'wss=8 rate=0 hb=200 disk=256 dstart=1024 dsize=256'
PREWRITE = [(0x11, 4 * MIB, 8 * MIB), (0x22, 20 * MIB, 8 * MIB),
            (0x33, 40 * MIB, 8 * MIB)]
VARIANTS = ('ferry', 'ferry-sync', 'virsh', 'virsh-sync')
NBD_PORTS = range(47100, 47140)


def make_image(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path,
                    str(DISK_SIZE)], check=True)
    cmds = []
    for pattern, offset, length in PREWRITE:
        cmds += ['-c', 'write -q -P 0x%x %d %d' % (pattern, offset, length)]
    subprocess.run(['qemu-io', '-f', 'qcow2'] + cmds + [path], check=True)


class Ferry(mb.FerryPath):
    def image(self, host, name):
        return os.path.join(host.state_dir, 'images', name + '.qcow2')

    def run(self, run, sync):
        ft = self.ft
        name = 'sb-f%d%s' % (run, 's' if sync else '')
        make_image(self.image(self.a, name))
        keyfile = ft.guest_keyfile(
            name, memory=MEMORY, append=APPEND, machine='pc',
            extra='[Disk vda]\nPath=%s.qcow2\nFormat=qcow2\nBus=ide\n' % name)
        path = self.a.define_domain(keyfile)
        self.a.call(path, ft.DOMAIN_IFACE, 'Start')
        self.a.wait_state(path, 'running', 30)
        mb.wait_hb(self.a.console_log(name))
        time.sleep(self.args.pause)
        opts = {'copy-storage': self.GLib.Variant('s', 'all')}
        if sync:
            opts['synchronous-writes'] = self.GLib.Variant('b', True)
        if self.args.postcopy:
            opts['postcopy'] = self.GLib.Variant('s', self.args.postcopy)
        if self.args.switchover_ack:
            opts['switchover-ack'] = self.GLib.Variant(
                's', self.args.switchover_ack)
        t0 = time.time()
        mig = self.a.call(ft.ROOT_PATH, ft.MANAGER_IFACE, 'Migrate',
                          self.GLib.Variant('(ssa{sv})', (
                              name, self.b.address, opts)))[0]
        done = self.pump(lambda: self.seen.get(('a', mig, 'Completed')) or
                         self.seen.get(('a', mig, 'Failed')), 180)
        if not done or ('a', mig, 'Completed') not in self.seen:
            raise RuntimeError('ferry: %s' % self.a.get_prop(
                mig, ft.MIGRATION_IFACE, 'ErrorMessage'))
        resume = self._ferryd_event_ts(self.b, 'RESUME', t0)
        stop = self._ferryd_event_ts(self.a, 'STOP', t0)
        hand = mb.check_handover(self.a.console_log(name),
                                 self.b.console_log(name))
        self._kill_guest(self.b, name)
        return {'total_ms': (resume - t0) * 1000 if resume else None,
                'downtime_ms': (resume - stop) * 1000
                if resume and stop else None,
                'handover': hand}


class Virsh(mb.VirshPath):
    def _image(self, tag, name):
        return self.hosts[tag].path('lib', 'images', name + '.qcow2')

    def _xml(self, name):
        xml = super()._xml(name)
        # the base guest's machine type (q35) has no legacy IDE: pc here
        xml = xml.replace(mb.MACHINE, 'pc-i440fx-10.0')
        xml = xml.replace('<memory unit=\'MiB\'>%d</memory>' % mb.MEMORY,
                          '<memory unit=\'MiB\'>%d</memory>' % MEMORY)
        xml = xml.replace(mb.APPEND, APPEND)
        return xml.replace('<memballoon', '''<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/%s.qcow2'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <memballoon''' % name)

    def run(self, run, sync):
        a, b = self.hosts['a'], self.hosts['b']
        name = 'sb-v%d%s' % (run, 's' if sync else '')
        port = mb.VIRSH_PORTS[run * 2 % len(mb.VIRSH_PORTS) + sync]
        nbd = NBD_PORTS[run * 2 % len(NBD_PORTS) + sync]
        make_image(self._image('a', name))
        # libvirt creates no image for a disk outside a storage pool: an
        # empty one of the same size, as Ferry's Prepare makes
        os.makedirs(os.path.dirname(self._image('b', name)), exist_ok=True)
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2',
                        self._image('b', name), str(DISK_SIZE)], check=True)
        self._create(name)
        try:
            time.sleep(self.args.pause)
            extra = ['--copy-storage-all', '--disks-uri',
                     'tcp://127.0.0.1:%d' % nbd]
            if sync:
                extra.append('--copy-storage-synchronous-writes')
            t0 = time.time()
            p = subprocess.run(self._migrate_argv(name, port, extra),
                               capture_output=True, text=True, timeout=300)
            if p.returncode != 0:
                raise RuntimeError('virsh: %s' % p.stderr.strip())
            resumed = suspended = None
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and resumed is None:
                for ts, typ, detail in mb.parse_events(
                        os.path.join(b.dir, 'events.log'), name):
                    if typ == 'lifecycle' and \
                            detail.startswith('Resumed') and ts >= t0:
                        resumed = ts
                        break
                else:
                    time.sleep(0.05)
            for ts, typ, detail in mb.parse_events(
                    os.path.join(a.dir, 'events.log'), name):
                if typ == 'lifecycle' and detail.startswith('Suspended') \
                        and ts >= t0:
                    suspended = ts
                    break
            hand = mb.check_handover(self._serial('a', name),
                                     self._serial('b', name))
            return {'total_ms': (resumed - t0) * 1000 if resumed else None,
                    'downtime_ms': (resumed - suspended) * 1000
                    if resumed and suspended else None,
                    'handover': hand}
        finally:
            a.virsh('destroy', name, check=False)
            b.virsh('destroy', name, check=False)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--pause', type=float, default=2.0)
    ap.add_argument('--variants', default=','.join(VARIANTS))
    ap.add_argument('--switchover-ack', default=None,
                    help="Ferry's switchover-ack option (default: auto)")
    ap.add_argument('--postcopy', default=None,
                    help="Ferry's postcopy option (default: not given)")
    ap.add_argument('--build-dir', default=os.path.join(SRC_ROOT, 'build'))
    args = ap.parse_args()
    variants = args.variants.split(',')
    bd = benchlib.use_build(args.build_dir)
    benchlib.require_root('storage-bench')
    args.guest = os.environ['FERRY_TEST_GUEST']
    tmp = tempfile.mkdtemp(prefix='ferry-storage-bench-')
    os.chmod(tmp, 0o755)  # polkitd (its own user) reaches the buses
    paths = {}
    results = []
    try:
        if any(v.startswith('ferry') for v in variants):
            paths['ferry'] = Ferry(args, tmp)
            paths['ferry'].start()
        if any(v.startswith('virsh') for v in variants):
            paths['virsh'] = Virsh(args, tmp)
            paths['virsh'].start()
        for run in range(args.rounds):
            for v in variants:
                tool, sync = v.split('-')[0], v.endswith('-sync')
                try:
                    r = paths[tool].run(run, sync)
                except Exception as e:  # noqa: BLE001
                    r = {'error': str(e)}
                r.update(variant=v, run=run)
                mb.log('%s #%d: %r' % (v, run, r))
                results.append(r)
    finally:
        for p in paths.values():
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print('\n%-26s' % 'median' + ''.join('%12s' % v for v in variants) +
          '  ferry/virsh  sync: ferry/virsh')
    for key, label in (('total_ms', 'total time (ms)'),
                       ('downtime_ms', 'real downtime (ms)')):
        med = {v: median(r.get(key) for r in results
                         if r['variant'] == v and 'error' not in r)
               for v in variants}
        ratios = []
        for f, o in (('ferry', 'virsh'), ('ferry-sync', 'virsh-sync')):
            if med.get(f) is not None and med.get(o):
                ratios.append('%.2fx' % (med[f] / med[o]))
            else:
                ratios.append('-')
        print('%-26s' % label + ''.join(
            '%12s' % ('-' if med[v] is None else '%.0f' % med[v])
            for v in variants) + '  %11s  %17s' % tuple(ratios))
    ok = {v: sum(1 for r in results if r['variant'] == v and
                 r.get('handover', {}).get('ok')) for v in variants}
    print('heartbeat hand-over ok: ' + ', '.join(
        '%s %d/%d' % (v, ok[v], args.rounds) for v in variants))
    errs = [r for r in results if 'error' in r]
    for r in errs:
        print('failed: %s #%d: %s' % (r['variant'], r['run'], r['error']))
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())
