#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt benchmark: the same libvirt domain migrated through Ferry and
through `virsh migrate --live --p2p`, alternating, in one run.

Two private libvirtd "hosts" (bench/lvhost.py) A and B. The Ferry path is
a ferryd on A (private bus + real polkitd, tests/e2e/ferrytest.py) with
--libvirt-uri pointed at A's libvirtd: Manager.Migrate(domain, <B's
libvirt URI>), which makes libvirt migrate peer-to-peer, then waits for
the Migration's Completed signal. The virsh path runs `virsh migrate
--live --p2p` against A. Both pass the same data address
(tcp://127.0.0.1:PORT in B's range) and migrate a freshly started
transient domain (the project test guest, direct kernel boot, TCG).

Measured per run:
  end-to-end     Migrate call → Completed signal / virsh start → exit
  real downtime  source "Suspended" → destination "Resumed" lifecycle
                 events (`virsh event --loop --timestamp` on each host)
  cancel         the cancel call (Migration.Cancel / virsh domjobabort)
                 → the migration's end, at 8 MiB/s, 2 s in
  management CPU CPU time of both libvirtds plus the client side: ferryd
                 for Ferry, the virsh process for virsh
  memory         peak resident set during the migration (VmHWM, reset at
                 the start) of both libvirtds plus the client side: ferryd,
                 or virsh's own peak (GNU time); VmRSS after each run, and
                 the leak check: ferryd's (and the libvirtds') VmRSS growth
                 per migration from the first run to the last
Prints medians and the ratios ferry/virsh. Not a test; run as root with
/usr/bin/python3 (PyGObject): ninja -C build libvirt-bench.
"""

import argparse
import json
import os
import resource
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

import lvhost  # noqa: E402

MEMORY = 256
APPEND = 'wss=100 rate=0 hb=500'
CANCEL_MIB = 8
CANCEL_AFTER = 2.0
UUIDS = {'a': '3f0e6d52-7b1c-4c8e-9f21-5a6b7c8d9e01',
         'b': '8a2b4c6d-1e3f-4a5b-8c7d-9e0f1a2b3c02'}
PORTS = {'a': (49300, 49319), 'b': (49320, 49339)}


def log(*args):
    print('[libvirt-bench %s]' % time.strftime('%H:%M:%S'), *args,
          file=sys.stderr, flush=True)


def children_cpu_ms():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime + ru.ru_stime) * 1000.0


def events(path, domain):
    """[(time, detail)] of the life-cycle events in a virsh event log."""
    return [(ts, detail) for ts, typ, detail in lvhost.parse_events(path, domain)
            if typ == 'lifecycle']


class Bench:
    def __init__(self, args, tmp):
        import ferrytest
        from gi.repository import GLib
        self.ft, self.GLib = ferrytest, GLib
        self.args, self.tmp = args, tmp
        self.hosts = {}
        self.event_procs = []
        self.ferry = None
        self.port = 0

    def start(self):
        for tag in ('a', 'b'):
            self.hosts[tag] = lvhost.LibvirtHost(tag, self.tmp, UUIDS[tag],
                                                 *PORTS[tag])
            self.hosts[tag].start()
            out = open(os.path.join(self.hosts[tag].dir, 'events.log'), 'w')
            self.event_procs.append(subprocess.Popen(
                ['virsh', '-c', self.hosts[tag].uri, 'event', '--all',
                 '--loop', '--timestamp'], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT))
            out.close()
        self.ferry = self.ft.Host('A', tmp_root=self.tmp, ferryd_args=[
            '--libvirt-uri', self.hosts['a'].uri])
        self.ferry.__enter__()
        self.ft.wait_for(lambda: 'libvirt' in self.ferry.get_prop(
            self.ft.ROOT_PATH, self.ft.MANAGER_IFACE, 'Backends'), 30,
            msg='ferryd connected to libvirt')

    def stop(self):
        if self.ferry:
            self.ferry.close()
        for p in self.event_procs:
            p.terminate()
            p.wait()
        for h in self.hosts.values():
            h.stop()
        lvhost.cleanup_mountpoint()

    def mem_pids(self, with_ferryd):
        pids = {'libvirtd ' + t.upper(): h.pid for t, h in self.hosts.items()}
        if with_ferryd:
            pids['ferryd'] = self.ferry.ferryd_pid
        return pids

    def reset_peaks(self, with_ferryd):
        for pid in self.mem_pids(with_ferryd).values():
            if not benchlib.reset_peak(pid):
                log('cannot reset VmHWM of %d: peaks are since its start' %
                    pid)

    def peaks(self, with_ferryd):
        """VmHWM of each daemon (KiB) since reset_peaks()."""
        return {k: (benchlib.proc_mem_kib(pid) or {}).get('hwm')
                for k, pid in self.mem_pids(with_ferryd).items()}

    def rss(self):
        """VmRSS of ferryd and both libvirtds (KiB), after a run."""
        return {k: (benchlib.proc_mem_kib(pid) or {}).get('rss')
                for k, pid in self.mem_pids(True).items()}

    def cpu(self, with_ferryd):
        ms = sum(h.cpu_ms() for h in self.hosts.values())
        if with_ferryd:
            ms += lvhost.proc_cpu_ms(self.ferry.ferryd_pid)
        return ms

    def serial(self, name):
        return os.path.join(self.tmp, name + '.serial')

    def create(self, name):
        xml = os.path.join(self.tmp, name + '.xml')
        with open(xml, 'w') as f:
            f.write('''<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>%d</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type>
    <kernel>%s</kernel><cmdline>%s</cmdline></os>
  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='%s' append='on'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
''' % (name, MEMORY, self.args.guest, APPEND, self.serial(name)))
        self.hosts['a'].virsh('create', xml)
        self.ft.wait_for(lambda: len(self.ft.heartbeats(self.serial(name)))
                         >= 2, 60, msg='heartbeats of %s' % name)
        self.ft.wait_for(lambda: self.ferry.get_prop(
            self.ft.domain_path(name), self.ft.DOMAIN_IFACE, 'State') ==
            'running', 30, msg='ferryd sees %s running' % name)

    def destroy(self, name):
        for h in self.hosts.values():
            h.virsh('destroy', name, check=False)

    def next_uri(self):
        self.port = (self.port + 1) % 20
        return 'tcp://127.0.0.1:%d' % (PORTS['b'][0] + self.port)

    def downtime(self, name, t0):
        def first(tag, word):
            for ts, detail in events(os.path.join(self.hosts[tag].dir,
                                                  'events.log'), name):
                if ts >= t0 and detail.startswith(word):
                    return ts
            return None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            s, r = first('a', 'Suspended'), first('b', 'Resumed')
            if s and r:
                return (r - s) * 1000
            time.sleep(0.05)
        return None

    # Ferry: Migrate, then the Completed/Failed signal
    def ferry_migrate(self, name, options):
        GLib = self.GLib
        bus = self.ferry.bus()
        done = {}

        def on_signal(conn, sender, path, iface, signal, params, data):
            if signal in ('Completed', 'Failed'):
                done[path] = signal
        sub = bus.signal_subscribe(
            None, self.ft.MIGRATION_IFACE, None, None, None,
            0, on_signal, None)
        try:
            opts = {'migrate-uri': GLib.Variant(
                's', self.next_uri().replace('tcp://', 'tcp:'))}
            opts.update(options)
            (path,) = self.ferry.call(
                self.ft.ROOT_PATH, self.ft.MANAGER_IFACE, 'Migrate',
                GLib.Variant('(ssa{sv})', (name, self.hosts['b'].uri, opts)))
            return path, lambda: done.get(path) in ('Completed', 'Failed'), \
                bus
        finally:
            self._sub = (bus, sub)

    def pump(self, pred, timeout):
        ctx = self.GLib.MainContext.default()
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise RuntimeError('timed out')
            ctx.iteration(False) or time.sleep(0.002)

    def unsubscribe(self):
        bus, sub = self._sub
        bus.signal_unsubscribe(sub)

    def run_migrate(self, tool, n):
        name = 'lvb-%s%d' % (tool[0], n)
        self.create(name)
        try:
            time.sleep(self.args.pause)
            if tool == 'ferry':
                self.reset_peaks(True)
                cpu0 = self.cpu(True)
                t0 = time.time()
                path, ended, _ = self.ferry_migrate(name, {})
                self.pump(ended, 180)
                t1 = time.time()
                cpu1 = self.cpu(True)
                peaks = self.peaks(True)
                client_peak = peaks.pop('ferryd')
                self.unsubscribe()
                props = self.ferry.get_all(path, self.ft.MIGRATION_IFACE)
                if props['State'] != 'completed':
                    raise RuntimeError('ferry: %s' % props['ErrorMessage'])
            else:
                self.reset_peaks(False)
                c0 = children_cpu_ms()
                cpu0 = self.cpu(False)
                t0 = time.time()
                # through GNU time: virsh's own peak RSS and CPU
                rc, _, err, client_peak, _ = benchlib.run_peak(
                    ['virsh', '-q', '-c', self.hosts['a'].uri, 'migrate',
                     '--live', '--p2p', name, self.hosts['b'].uri,
                     '--migrateuri', self.next_uri()], timeout=180)
                t1 = time.time()
                peaks = self.peaks(False)
                if rc != 0:
                    raise RuntimeError('virsh migrate: %s' % err.strip())
                # virsh's CPU reaches us through time's wait (and time's
                # own, well under 1 ms)
                cpu1 = self.cpu(False) + children_cpu_ms() - c0
            lv_peak = sum(peaks.values())
            return {'tool': tool, 'kind': 'migrate',
                    'end_to_end_ms': (t1 - t0) * 1000,
                    'downtime_ms': self.downtime(name, t0),
                    'mgmt_cpu_ms': cpu1 - cpu0,
                    'mgmt_peak_kib': lv_peak + client_peak
                    if client_peak is not None else None,
                    'client_peak_kib': client_peak,
                    'libvirtd_peak_kib': lv_peak,
                    'libvirtd_peaks_kib': peaks}
        finally:
            self.destroy(name)

    def run_cancel(self, tool, n):
        name = 'lvc-%s%d' % (tool[0], n)
        self.create(name)
        try:
            time.sleep(self.args.pause)
            if tool == 'ferry':
                path, ended, _ = self.ferry_migrate(name, {
                    'max-bandwidth': self.GLib.Variant('t', CANCEL_MIB << 20)})
                time.sleep(CANCEL_AFTER)
                cpu0 = self.cpu(True)
                tc = time.time()
                self.ferry.call(path, self.ft.MIGRATION_IFACE, 'Cancel')
                self.pump(ended, 60)
                t1 = time.time()
                cpu1 = self.cpu(True)
                self.unsubscribe()
                state = self.ferry.get_prop(path, self.ft.MIGRATION_IFACE,
                                            'State')
                if state != 'cancelled':
                    raise RuntimeError('ferry cancel ended %s' % state)
            else:
                p = subprocess.Popen(
                    ['virsh', '-q', '-c', self.hosts['a'].uri, 'migrate',
                     '--live', '--p2p', '--bandwidth', str(CANCEL_MIB), name,
                     self.hosts['b'].uri, '--migrateuri', self.next_uri()],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
                time.sleep(CANCEL_AFTER)
                c0 = children_cpu_ms()
                cpu0 = self.cpu(False)
                tc = time.time()
                subprocess.run(['virsh', '-q', '-c', self.hosts['a'].uri,
                                'domjobabort', name], check=True,
                               capture_output=True)
                p.communicate(timeout=60)
                t1 = time.time()
                cpu1 = self.cpu(False) + children_cpu_ms() - c0
                if p.returncode == 0:
                    raise RuntimeError('virsh migrate was not cancelled')
            return {'tool': tool, 'kind': 'cancel',
                    'cancel_ms': (t1 - tc) * 1000,
                    'cancel_cpu_ms': cpu1 - cpu0}
        finally:
            self.destroy(name)


METRICS = (('end_to_end_ms', 'end-to-end (ms)'),
           ('downtime_ms', 'real downtime (ms)'),
           ('mgmt_cpu_ms', 'management CPU, migrate (ms)'),
           ('cancel_ms', 'cancel (ms)'),
           ('cancel_cpu_ms', 'management CPU, cancel (ms)'),
           # KiB in the JSON, MiB in the table; see bench/README.md
           ('mgmt_peak_kib', 'mgmt peak RSS, migrate (MiB)'),
           ('client_peak_kib', '  ferryd / virsh peak (MiB)'),
           ('libvirtd_peak_kib', '  libvirtd A+B peak (MiB)'),
           ('mgmt_rss_kib', 'mgmt RSS after the run (MiB)'))


def sample_rss(bench, r):
    """After every run: the daemons' VmRSS for the leak check and, for a
    migration, what stays resident on that path: both libvirtds, plus
    ferryd on the Ferry path (virsh has exited)."""
    per = bench.rss()
    r['rss_kib'] = per
    if r['kind'] == 'migrate' and None not in per.values():
        r['mgmt_rss_kib'] = per['libvirtd A'] + per['libvirtd B'] + (
            per['ferryd'] if r['tool'] == 'ferry' else 0)


def leak_check(results):
    """VmRSS after the first and the last run, as growth per migration:
    ferryd over the Ferry runs, each libvirtd over all runs (both paths
    use them). Cancelled migrations count as migrations."""
    print('leak check: VmRSS after the first and after the last run')
    for daemon in ('ferryd', 'libvirtd A', 'libvirtd B'):
        runs = [r for r in results
                if daemon != 'ferryd' or r['tool'] == 'ferry']
        g = benchlib.growth_per_run([(i, r['rss_kib'].get(daemon))
                                     for i, r in enumerate(runs)])
        if g:
            print('  %-10s %8d -> %8d KiB, %2d migrations later: %+8.1f '
                  'KiB/migration' % ((daemon,) + g))


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--pause', type=float, default=3.0)
    ap.add_argument('--no-cancel', action='store_true')
    ap.add_argument('--build-dir', default=os.path.join(SRC_ROOT, 'build'))
    ap.add_argument('--json', help='write the raw results here')
    args = ap.parse_args()
    benchlib.use_build(args.build_dir)
    args.guest = os.environ['FERRY_TEST_GUEST']
    benchlib.require_root('libvirt-bench')
    tmp = tempfile.mkdtemp(prefix='ferry-lvbench-')
    os.chmod(tmp, 0o755)
    bench = Bench(args, tmp)
    results = []
    try:
        bench.start()
        for n in range(args.rounds):
            # alternate which tool goes first
            order = ('ferry', 'virsh') if n % 2 == 0 else ('virsh', 'ferry')
            for tool in order:
                r = bench.run_migrate(tool, n)
                sample_rss(bench, r)
                log(json.dumps(r))
                results.append(r)
            if not args.no_cancel:
                for tool in order:
                    r = bench.run_cancel(tool, n)
                    sample_rss(bench, r)
                    log(json.dumps(r))
                    results.append(r)
        leak_rows = list(results)
    finally:
        bench.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    print('%-32s %10s %10s %8s' % ('median of %d rounds' % args.rounds,
                                   'ferry', 'virsh', 'ratio'))
    ratios = {}
    for key, label in METRICS:
        f = median(r.get(key) for r in results if r['tool'] == 'ferry')
        v = median(r.get(key) for r in results if r['tool'] == 'virsh')
        if f is None or v is None:
            continue
        ratios[key] = f / v if v else None
        if key.endswith('_kib'):
            f, v = f / 1024.0, v / 1024.0
        print('%-32s %10.*f %10.*f %8s' % (
            label, 1 if key.endswith('_kib') else 0, f,
            1 if key.endswith('_kib') else 0, v,
            '%.2fx' % ratios[key] if ratios[key] else '-'))
    leak_check(leak_rows)
    e2e = ratios.get('end_to_end_ms')
    if e2e is not None:
        print('target: Ferry within 1.05x of virsh end to end: %s (%.2fx)' % (
            'met' if e2e <= 1.05 else 'missed', e2e))


if __name__ == '__main__':
    main()
