#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ferry migration benchmark: the same guest migrated three ways.

  ferry  two Ferry hosts (private bus + real polkitd + ferryd each, from
         tests/e2e/ferrytest.py), Manager.Migrate() over D-Bus
  qmp    a plain QMP script (bench/qmpclient.py) with QEMU's default
         migration parameters
  virsh  `virsh migrate --live --p2p` between two private libvirtd hosts

Runs alternate (ferry qmp virsh ferry qmp virsh ...) and every timed run
is preceded by a pause, so that no path profits from the others' warm
caches or suffers from memory the VM has just handed back.  See
bench/README.md for what is measured and how.  Run as root with
/usr/bin/python3 (PyGObject).
"""

import argparse
import datetime
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC_ROOT, 'tests', 'e2e'))

import benchlib  # noqa: E402

import lvhost  # noqa: E402
import qmpclient  # noqa: E402
from qmpclient import QMP, event_time, is_event  # noqa: E402

QEMU = 'qemu-system-x86_64'
MACHINE = 'pc-q35-10.0'
MEMORY = 256
APPEND = 'wss=100 rate=0 hb=500'
CANCEL_BANDWIDTH = 8 * 1024 * 1024        # bytes/s while a cancel is timed
CANCEL_AFTER = 2.0                        # s of migration before Cancel
# Under a bandwidth cap QEMU's migration thread sleeps out 100 ms windows
# and migrate_cancel does not wake it: a cancel waits for the rest of the
# window, 0-100 ms. A fixed delay lands every run of a path at the same
# point of that window, so each path gets the same random offset instead.
CANCEL_JITTER = 0.1


def cancel_delay(run):
    return CANCEL_AFTER + random.Random(run).uniform(0, CANCEL_JITTER)
PORTS = range(47000, 47040)               # plain QMP incoming ports
VIRSH_PORTS = range(47040, 47080)         # virsh --migrateuri ports
LV_PORTS = {'a': (47080, 47089), 'b': (47090, 47099)}
LV_UUIDS = {'a': '3f6c2a1e-8d4b-4c7a-9e15-b1c2d3e4f5a1',
            'b': '9a8b7c6d-5e4f-4a3b-8c2d-1e0f2a3b4c5d'}

METRICS = [
    ('launch_to_running_ms', 'launch -> running on destination (ms)'),
    ('tool_return_ms', 'until the tool returns (ms)'),
    ('downtime_ms', 'real downtime (ms)'),
    ('cancel_ms', 'cancel -> source running (ms)'),
    ('mgmt_cpu_ms', 'management CPU (ms)'),
    # memory, KiB in the JSON, MiB in the table (see bench/README.md)
    ('mgmt_rss_kib', 'management RSS after the run (MiB)'),
    ('mgmt_peak_kib', 'management peak RSS, migration (MiB)'),
    ('client_peak_kib', 'client peak RSS (MiB)'),
]
KIB_METRICS = ('mgmt_rss_kib', 'mgmt_peak_kib', 'client_peak_kib')
TOOLS = ('ferry', 'qmp', 'virsh')


def log(*args):
    print('[bench %s]' % time.strftime('%H:%M:%S'), *args, file=sys.stderr,
          flush=True)


def own_cpu_ms():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1000.0


def reset_peaks(path):
    """Reset the VmHWM of path's management daemons just before t0, so
    the VmHWM read after the run is this migration's peak."""
    for pid in path.mem_pids().values():
        if not benchlib.reset_peak(pid):
            log('cannot reset VmHWM of %d: peaks are since its start' % pid)


def sample_rss(path, r):
    """After a run: each management daemon's VmRSS (for the leak check)
    and, for a migration, their sum."""
    pids = path.mem_pids()
    if not pids:
        return
    per = {}
    for tag, pid in pids.items():
        m = benchlib.proc_mem_kib(pid)
        per[tag] = m['rss'] if m else None
    r['rss_kib'] = per
    if r.get('kind') == 'migrate' and None not in per.values():
        r['mgmt_rss_kib'] = sum(per.values())


# ---------------------------------------------------------------- guests

def check_handover(src_log, dst_log, timeout=10.0):
    """The guest's heartbeat must continue on the destination: last source
    HB n, first destination HB n+1, no errors anywhere.  Waits until the
    destination has printed two heartbeats."""
    import ferrytest
    deadline = time.monotonic() + timeout
    while True:
        dst = ferrytest.heartbeats(dst_log)
        if len(dst) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    src = ferrytest.heartbeats(src_log)
    if not src or not dst:
        return {'ok': False, 'why': 'no heartbeats (src %d, dst %d)' % (
            len(src), len(dst))}
    # a console log may hold earlier runs of the same name: use the tail
    n = src[-1]['n']
    first = dst[0]['n'] if dst_log != src_log else None
    if first is None:
        # one shared file: find the source's last line in it
        return {'ok': False, 'why': 'shared console file'}
    bad = [b for b in src + dst
           if b.get('err', 0) != 0 or b.get('verify_bad', 0) != 0]
    ok = first == n + 1 and not bad
    return {'ok': ok, 'src_last': n, 'dst_first': first,
            'dst_last': dst[-1]['n'], 'errors': len(bad),
            'why': '' if ok else 'handover %d -> %d, %d bad' % (
                n, first, len(bad))}


def check_source_alive(console, after_n, timeout=3.0):
    """After a cancel the source guest keeps printing heartbeats."""
    import ferrytest
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hb = ferrytest.heartbeats(console)
        if hb and hb[-1]['n'] > after_n:
            bad = [b for b in hb if b.get('err', 0) or b.get('verify_bad', 0)]
            return {'ok': not bad, 'hb_last': hb[-1]['n'], 'errors': len(bad)}
        time.sleep(0.1)
    return {'ok': False, 'why': 'source heartbeat stopped'}


def last_hb(console):
    import ferrytest
    hb = ferrytest.heartbeats(console)
    return hb[-1]['n'] if hb else -1


def wait_hb(console, count=2, timeout=30.0):
    import ferrytest
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(ferrytest.heartbeats(console)) >= count:
            return
        time.sleep(0.05)
    raise RuntimeError('guest on %s printed no heartbeats' % console)


def reap(proc, sig=signal.SIGKILL, timeout=10.0):
    import ferrytest
    ferrytest.stop_process(proc, sig, timeout)


# ---------------------------------------------------------------- A) Ferry

class FerryPath:
    name = 'ferry'

    def __init__(self, args, tmp):
        import ferrytest
        from gi.repository import Gio, GLib
        self.ft, self.Gio, self.GLib = ferrytest, Gio, GLib
        self.args, self.tmp = args, tmp
        self.a = self.b = None

    def start(self):
        ft = self.ft
        ft.require_environment(guest=True)
        self.a = ft.Host('bench-a', tmp_root=self.tmp)
        self.a.__enter__()
        self.b = ft.Host('bench-b', tmp_root=self.tmp)
        self.b.__enter__()
        self.ctx = self.GLib.MainContext.default()
        self.seen = {}     # (bus, path, what) -> (time, value)
        self.subs = []
        self.subs.append((self.a.bus(), self.a.bus().signal_subscribe(
            ft.BUS_NAME, ft.MIGRATION_IFACE, None, None, None,
            self.Gio.DBusSignalFlags.NONE, self._on_mig_signal, 'a')))
        for h, tag in ((self.a, 'a'), (self.b, 'b')):
            self.subs.append((h.bus(), h.bus().signal_subscribe(
                ft.BUS_NAME, ft.PROPS_IFACE, 'PropertiesChanged', None, None,
                self.Gio.DBusSignalFlags.NONE, self._on_props, tag)))

    def stop(self):
        for bus, sid in getattr(self, 'subs', []):
            try:
                bus.signal_unsubscribe(sid)
            except Exception:  # noqa: BLE001
                pass
        for h in (self.b, self.a):
            if h is not None:
                h.close(failed=False)

    # -- signal plumbing
    def _on_mig_signal(self, conn, sender, path, iface, signal_name, params,
                       tag):
        self.seen.setdefault((tag, path, signal_name),
                             (time.time(), params.unpack()))

    def _on_props(self, conn, sender, path, iface, signal_name, params, tag):
        now = time.time()
        ifname, changed, _ = params.unpack()
        st = changed.get('State')
        if st is not None:
            self.seen.setdefault((tag, path, 'State=' + st), (now, st))

    def pump(self, pred, timeout):
        """Dispatch D-Bus signals until pred() is true or timeout."""
        deadline = time.monotonic() + timeout
        tid = self.GLib.timeout_add(5, lambda: True)
        try:
            while True:
                v = pred()
                if v:
                    return v
                if time.monotonic() >= deadline:
                    return None
                self.ctx.iteration(True)
        finally:
            self.GLib.source_remove(tid)

    def _cpu(self):
        return lvhost.proc_cpu_ms(self.a.ferryd_pid) + \
            lvhost.proc_cpu_ms(self.b.ferryd_pid)

    def mem_pids(self):
        """The management daemons whose memory is counted: both ferryds
        (the client is this script, not counted)."""
        return {'a': self.a.ferryd_pid, 'b': self.b.ferryd_pid}

    def _start_guest(self, name):
        ft = self.ft
        if self.args.reuse_names:
            # the hand-over check reads the consoles from their start
            for h in (self.a, self.b):
                if os.path.exists(h.console_log(name)):
                    os.truncate(h.console_log(name), 0)
        keyfile = ft.guest_keyfile(name, memory=MEMORY, append=APPEND,
                                   machine=MACHINE)
        path = self.a.define_domain(keyfile)
        self.a.call(path, ft.DOMAIN_IFACE, 'Start')
        self.a.wait_state(path, 'running', 30)
        wait_hb(self.a.console_log(name))
        return path

    def _kill_guest(self, host, name):
        pid = host.qemu_pid(name)
        if pid:
            self.ft.kill_and_reap(pid)

    def _name(self, prefix, run):
        """A new domain per run by default; with --reuse-names the same two
        names every run, so that Domain objects do not pile up in the
        ferryds and their RSS growth is the migrations' alone."""
        return prefix if self.args.reuse_names else '%s%d' % (prefix, run)

    def _settle(self, name):
        """With --reuse-names: wait until the domain is shut off on both
        hosts (or absent), so that the next run may define it again."""
        if not self.args.reuse_names:
            return
        path = self.ft.domain_path(name)
        for h in (self.a, self.b):
            def off():
                try:
                    return h.domain_state(path) == 'shutoff'
                except Exception:  # noqa: BLE001 - no such domain
                    return True
            self.ft.wait_for(off, 15, msg='%s shut off' % name)

    def _migrate(self, name, options):
        GLib = self.GLib
        opts = {k: GLib.Variant('t', v) for k, v in options.items()}
        return self.a.call(self.ft.ROOT_PATH, self.ft.MANAGER_IFACE,
                           'Migrate', GLib.Variant('(ssa{sv})', (
                               name, self.b.address, opts)))[0]

    def _ferryd_event_ts(self, host, event, after):
        """Timestamp of the last QMP event `event` in host's ferryd log
        (ferryd --verbose logs the QMP traffic) that is later than after."""
        pat = re.compile(r'<- (\{.*"event": ?"%s".*\})' % event)
        best = None
        for line in host.ferryd_log_text().splitlines():
            m = pat.search(line)
            if not m:
                continue
            try:
                ev = json.loads(m.group(1))
            except ValueError:
                continue
            t = event_time(ev)
            if t >= after:
                best = t
        return best

    def _ferryd_cmd_time(self, host, command, after):
        """Wall-clock time ferryd logged sending QMP `command` (first one
        later than after); the log carries local HH:MM:SS.mmm stamps."""
        pat = re.compile(r'(\d\d):(\d\d):(\d\d)\.(\d{3}): -> '
                         r'\{"execute":"%s"' % re.escape(command))
        day = datetime.datetime.fromtimestamp(after).replace(
            hour=0, minute=0, second=0, microsecond=0)
        for line in host.ferryd_log_text().splitlines():
            m = pat.search(line)
            if not m:
                continue
            h, mi, se, ms = (int(x) for x in m.groups())
            t = (day + datetime.timedelta(hours=h, minutes=mi, seconds=se,
                                          milliseconds=ms)).timestamp()
            if t >= after - 0.001:
                return t
        return None

    def migrate(self, run):
        ft = self.ft
        name = self._name('bench-f', run)
        self._start_guest(name)
        time.sleep(self.args.pause)
        bdom = ft.domain_path(name)
        reset_peaks(self)
        cpu0 = self._cpu()
        t0 = time.time()
        mig = self._migrate(name, {})
        done = self.pump(lambda: self.seen.get(('a', mig, 'Completed')) or
                         self.seen.get(('a', mig, 'Failed')), 120)
        t_ret = time.time()
        cpu1 = self._cpu()
        peak = benchlib.mem_sum(self.mem_pids().values(), 'hwm')
        if not done or ('a', mig, 'Completed') not in self.seen:
            raise RuntimeError('ferry migration did not complete: %r %s' % (
                done, self.a.get_all(mig, ft.MIGRATION_IFACE).get(
                    'ErrorMessage')))
        t_ret = self.seen[('a', mig, 'Completed')][0]
        # B's Domain State 'running' as seen by the client
        self.pump(lambda: self.seen.get(('b', bdom, 'State=running')), 10)
        b_running = self.seen.get(('b', bdom, 'State=running'), (None,))[0]
        stats = self.a.get_prop(mig, ft.MIGRATION_IFACE, 'Statistics')
        resume = self._ferryd_event_ts(self.b, 'RESUME', t0)
        stop = self._ferryd_event_ts(self.a, 'STOP', t0)
        mig_cmd = self._ferryd_cmd_time(self.a, 'migrate', t0)
        hand = check_handover(self.a.console_log(name),
                              self.b.console_log(name))
        self._kill_guest(self.b, name)
        self._settle(name)
        r = {
            'tool': 'ferry', 'kind': 'migrate', 'run': run,
            'launch_to_running_ms': (resume - t0) * 1000 if resume else None,
            'dst_state_running_ms': (b_running - t0) * 1000
            if b_running else None,
            'tool_return_ms': (t_ret - t0) * 1000,
            'downtime_ms': stats.get('downtime-real'),
            'downtime_qemu_ms': stats.get('downtime'),
            'downtime_events_ms': (resume - stop) * 1000
            if resume and stop else None,
            'mgmt_cpu_ms': cpu1 - cpu0,
            'mgmt_peak_kib': peak,
            'total_time_qemu_ms': stats.get('total-time'),
            'setup_time_qemu_ms': stats.get('setup-time'),
            'memory_transferred': stats.get('memory-transferred'),
            'stop_after_t0_ms': (stop - t0) * 1000 if stop else None,
            'migrate_cmd_after_t0_ms': (mig_cmd - t0) * 1000
            if mig_cmd else None,
            'handover': hand,
        }
        return r

    def cancel(self, run):
        ft = self.ft
        name = self._name('bench-fc', run)
        apath = self._start_guest(name)
        time.sleep(self.args.pause)
        mig = self._migrate(name, {'max-bandwidth': CANCEL_BANDWIDTH})
        self.pump(lambda: False, cancel_delay(run))
        hb_before = last_hb(self.a.console_log(name))
        cpu0 = self._cpu()
        tc = time.time()
        self.a.call(mig, ft.MIGRATION_IFACE, 'Cancel')
        t_call = time.time()
        done = self.pump(lambda: self.seen.get(('a', mig, 'State=cancelled'))
                         or self.seen.get(('a', mig, 'State=failed'))
                         or self.seen.get(('a', mig, 'State=completed')), 60)
        cpu1 = self._cpu()
        state = self.a.get_prop(mig, ft.MIGRATION_IFACE, 'State')
        dstate = self.a.domain_state(apath)
        alive = check_source_alive(self.a.console_log(name), hb_before)
        leftover = self.b.qemu_pid(name)
        self._kill_guest(self.a, name)
        self._settle(name)
        if state != 'cancelled' or not done:
            raise RuntimeError('ferry cancel ended in state %s' % state)
        return {
            'tool': 'ferry', 'kind': 'cancel', 'run': run,
            'cancel_ms': (done[0] - tc) * 1000,
            'cancel_call_ms': (t_call - tc) * 1000,
            'cancel_cpu_ms': cpu1 - cpu0,
            'source_state': dstate, 'dst_qemu_left': bool(leftover),
            'source_alive': alive,
        }


# ---------------------------------------------------------------- B) QMP

class QmpPath:
    name = 'qmp'

    def __init__(self, args, tmp):
        self.args = args
        self.dir = os.path.join(tmp, 'qmp')
        os.makedirs(self.dir, exist_ok=True)
        self.procs = []

    def start(self):
        pass

    def stop(self):
        for p in self.procs:
            reap(p)
        self.procs = []

    def mem_pids(self):
        """None: the QMP client is this script, whose resident set (the
        interpreter, PyGObject for the other paths) says nothing about a
        QMP client's needs."""
        return {}

    def _argv(self, tag, incoming):
        argv = [QEMU, '-machine', MACHINE, '-accel', 'tcg', '-cpu', 'qemu64',
                '-m', str(MEMORY), '-smp', '1', '-display', 'none',
                '-nodefaults', '-kernel', self.args.guest, '-append', APPEND,
                '-serial', 'file:' + self._f(tag, 'serial'),
                '-qmp', 'unix:%s,server=on,wait=off' % self._f(tag, 'qmp'),
                '-name', tag]
        if incoming:
            argv += ['-incoming', 'defer']
        return argv

    def _f(self, tag, ext):
        return os.path.join(self.dir, '%s.%s' % (tag, ext))

    def _launch(self, tag, incoming):
        for ext in ('qmp', 'serial'):
            qmpclient.unlink_quiet(self._f(tag, ext))
        p = subprocess.Popen(self._argv(tag, incoming),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=open(self._f(tag, 'stderr'), 'wb'))
        self.procs.append(p)
        return p, QMP(self._f(tag, 'qmp'))

    def _quit(self, proc, qmp):
        try:
            qmp.execute('quit', timeout=5)
        except Exception:  # noqa: BLE001
            pass
        qmp.close()
        reap(proc, signal.SIGTERM, 5)
        if proc in self.procs:
            self.procs.remove(proc)

    def migrate(self, run):
        port = PORTS[run % len(PORTS)]
        src_tag, dst_tag = 'm%d-src' % run, 'm%d-dst' % run
        sproc, src = self._launch(src_tag, False)
        dproc = dst = None
        try:
            wait_hb(self._f(src_tag, 'serial'))
            time.sleep(self.args.pause)
            cpu0 = own_cpu_ms()
            t0 = time.time()
            dproc, dst = self._launch(dst_tag, True)
            caps = {'capabilities': [{'capability': 'events', 'state': True}]
                    + [{'capability': c, 'state': True}
                       for c in self.args.qmp_caps.split(',') if c]}
            dst.execute('migrate-set-capabilities', caps)
            dst.execute('migrate-incoming', {
                'uri': 'tcp:127.0.0.1:%d' % port, 'exit-on-error': False})
            src.execute('migrate-set-capabilities', caps)
            if self.args.qmp_params:
                src.execute('migrate-set-parameters',
                            json.loads(self.args.qmp_params))
            t_mig = time.time()
            src.execute('migrate', {'uri': 'tcp:127.0.0.1:%d' % port})
            done = src.wait_event(lambda e: e.get('event') == 'MIGRATION' and
                                  e['data']['status'] in
                                  ('completed', 'failed', 'cancelled'), 120)
            if done['data']['status'] != 'completed':
                raise RuntimeError('plain QMP migration %s' %
                                   done['data']['status'])
            resume = dst.wait_event(is_event('RESUME'), 30)
            t_ret = time.time()
            cpu1 = own_cpu_ms()
            stop = src.wait_event(is_event('STOP'), 5)
            info = src.execute('query-migrate')
            hand = check_handover(self._f(src_tag, 'serial'),
                                  self._f(dst_tag, 'serial'))
            return {
                'tool': 'qmp', 'kind': 'migrate', 'run': run,
                'launch_to_running_ms': (event_time(resume) - t0) * 1000,
                'tool_return_ms': (t_ret - t0) * 1000,
                'downtime_ms': (event_time(resume) - event_time(stop)) * 1000,
                'downtime_qemu_ms': info.get('downtime'),
                'mgmt_cpu_ms': cpu1 - cpu0,
                'total_time_qemu_ms': info.get('total-time'),
                'setup_time_qemu_ms': info.get('setup-time'),
                'memory_transferred': info.get('ram', {}).get('transferred'),
                'stop_after_t0_ms': (event_time(stop) - t0) * 1000,
                'migrate_cmd_after_t0_ms': (t_mig - t0) * 1000,
                'downtime_bytes': info.get('ram', {}).get('downtime-bytes'),
                'handover': hand,
            }
        finally:
            self._quit(sproc, src)
            if dproc is not None:
                self._quit(dproc, dst)

    def cancel(self, run):
        port = PORTS[(run + 20) % len(PORTS)]
        src_tag, dst_tag = 'c%d-src' % run, 'c%d-dst' % run
        sproc, src = self._launch(src_tag, False)
        dproc = dst = None
        try:
            wait_hb(self._f(src_tag, 'serial'))
            time.sleep(self.args.pause)
            dproc, dst = self._launch(dst_tag, True)
            caps = {'capabilities': [{'capability': 'events', 'state': True}]
                    + [{'capability': c, 'state': True}
                       for c in self.args.qmp_caps.split(',') if c]}
            dst.execute('migrate-set-capabilities', caps)
            dst.execute('migrate-incoming', {
                'uri': 'tcp:127.0.0.1:%d' % port, 'exit-on-error': False})
            src.execute('migrate-set-capabilities', caps)
            params = json.loads(self.args.qmp_params or '{}')
            params['max-bandwidth'] = CANCEL_BANDWIDTH
            src.execute('migrate-set-parameters', params)
            src.execute('migrate', {'uri': 'tcp:127.0.0.1:%d' % port})
            time.sleep(cancel_delay(run))
            hb_before = last_hb(self._f(src_tag, 'serial'))
            cpu0 = own_cpu_ms()
            tc = time.time()
            src.execute('migrate_cancel')
            t_call = time.time()
            ev = src.wait_event(lambda e: e.get('event') == 'MIGRATION' and
                                e['data']['status'] in
                                ('cancelled', 'failed', 'completed'), 60)
            t_end = time.time()
            cpu1 = own_cpu_ms()
            status = src.execute('query-status')
            if ev['data']['status'] != 'cancelled':
                raise RuntimeError('plain QMP cancel: %s' % ev['data'])
            return {
                'tool': 'qmp', 'kind': 'cancel', 'run': run,
                'cancel_ms': (t_end - tc) * 1000,
                'cancel_event_ms': (event_time(ev) - tc) * 1000,
                'cancel_call_ms': (t_call - tc) * 1000,
                'cancel_cpu_ms': cpu1 - cpu0,
                'source_state': status.get('status'),
                'source_alive': check_source_alive(
                    self._f(src_tag, 'serial'), hb_before),
            }
        finally:
            self._quit(sproc, src)
            if dproc is not None:
                self._quit(dproc, dst)


# ---------------------------------------------------------------- C) virsh

parse_events = lvhost.parse_events


class VirshPath:
    name = 'virsh'

    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.hosts = {}
        self.event_procs = []

    def start(self):
        for tag in ('a', 'b'):
            self.hosts[tag] = lvhost.LibvirtHost(
                tag, self.tmp, LV_UUIDS[tag], *LV_PORTS[tag])
        try:
            for h in self.hosts.values():
                t = time.monotonic()
                h.start()
                log('libvirtd %s (pid %d) up in %.1fs' % (
                    h.name, h.pid, time.monotonic() - t))
            for tag, h in self.hosts.items():
                out = open(os.path.join(h.dir, 'events.log'), 'w')
                p = subprocess.Popen(['virsh', '-c', h.uri, 'event', '--all',
                                      '--loop', '--timestamp'],
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT)
                out.close()
                self.event_procs.append(p)
            time.sleep(0.5)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for p in self.event_procs:
            reap(p, signal.SIGTERM, 5)
        self.event_procs = []
        for h in self.hosts.values():
            t = time.monotonic()
            h.stop()
            log('libvirtd %s stopped in %.1fs' % (h.name,
                                                  time.monotonic() - t))
        self.hosts = {}
        lvhost.cleanup_mountpoint()

    def _serial(self, tag, name):
        # /var/log/libvirt is private per host: same path, two files
        return os.path.join(self.hosts[tag].dir, 'log', 'qemu',
                            name + '.serial')

    def _xml(self, name):
        return '''<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>%d</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='%s'>hvm</type>
    <kernel>%s</kernel>
    <cmdline>%s</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>
  <devices>
    <emulator>/usr/bin/%s</emulator>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/%s.serial' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
''' % (name, MEMORY, MACHINE, self.args.guest, APPEND, QEMU, name)

    def _create(self, name):
        a = self.hosts['a']
        xml = os.path.join(a.dir, name + '.xml')
        with open(xml, 'w') as f:
            f.write(self._xml(name))
        a.virsh('create', xml)
        wait_hb(self._serial('a', name))

    def _cpu(self):
        return sum(h.cpu_ms() for h in self.hosts.values())

    def mem_pids(self):
        """Both libvirtds; virsh's own peak is counted apart (client)."""
        return {tag: h.pid for tag, h in self.hosts.items()}

    def _migrate_argv(self, name, port, extra=()):
        return ['virsh', '-q', '-c', self.hosts['a'].uri, 'migrate', '--live',
                '--p2p'] + list(extra) + [
                name, self.hosts['b'].uri,
                '--migrateuri', 'tcp://127.0.0.1:%d' % port]

    def migrate(self, run):
        a, b = self.hosts['a'], self.hosts['b']
        name = 'bench-v%d' % run
        port = VIRSH_PORTS[run % len(VIRSH_PORTS)]
        self._create(name)
        try:
            time.sleep(self.args.pause)
            reset_peaks(self)
            cpu0 = self._cpu()
            t0 = time.time()
            # through GNU time: virsh's own peak RSS and CPU
            rc, out, err, vpeak, vcpu = benchlib.run_peak(
                self._migrate_argv(name, port), timeout=180)
            t_ret = time.time()
            cpu1 = self._cpu()
            peak = benchlib.mem_sum(self.mem_pids().values(), 'hwm')
            if rc != 0:
                raise RuntimeError('virsh migrate failed: %s' % err.strip())
            evfile_b = os.path.join(b.dir, 'events.log')
            evfile_a = os.path.join(a.dir, 'events.log')
            deadline = time.monotonic() + 5
            resumed = None
            while time.monotonic() < deadline and resumed is None:
                for ts, typ, detail in parse_events(evfile_b, name):
                    if typ == 'lifecycle' and detail.startswith('Resumed') \
                            and ts >= t0:
                        resumed = ts
                        break
                else:
                    time.sleep(0.05)
            suspended = None
            for ts, typ, detail in parse_events(evfile_a, name):
                if typ == 'lifecycle' and detail.startswith('Suspended') \
                        and ts >= t0:
                    suspended = ts
                    break
            info = b.virsh('domjobinfo', name, '--completed', check=False)
            downtime = elapsed = None
            m = re.search(r'Total downtime:\s+(\d+)', info)
            if m:
                downtime = int(m.group(1))
            m = re.search(r'Time elapsed:\s+(\d+)', info)
            if m:
                elapsed = int(m.group(1))
            hand = check_handover(self._serial('a', name),
                                  self._serial('b', name))
            return {
                'tool': 'virsh', 'kind': 'migrate', 'run': run,
                'launch_to_running_ms': (resumed - t0) * 1000
                if resumed else None,
                'tool_return_ms': (t_ret - t0) * 1000,
                'downtime_ms': downtime,
                'downtime_events_ms': (resumed - suspended) * 1000
                if resumed and suspended else None,
                'mgmt_cpu_ms': cpu1 - cpu0,
                'mgmt_peak_kib': peak,
                'client_peak_kib': vpeak,
                'client_cpu_ms': vcpu,
                'total_time_libvirt_ms': elapsed,
                'handover': hand,
            }
        finally:
            a.virsh('destroy', name, check=False)
            b.virsh('destroy', name, check=False)

    def cancel(self, run):
        a, b = self.hosts['a'], self.hosts['b']
        name = 'bench-vc%d' % run
        port = VIRSH_PORTS[(run + 20) % len(VIRSH_PORTS)]
        self._create(name)
        p = None
        try:
            time.sleep(self.args.pause)
            bw = str(max(1, CANCEL_BANDWIDTH >> 20))   # MiB/s
            p = subprocess.Popen(self._migrate_argv(
                name, port, ['--bandwidth', bw]), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(cancel_delay(run))
            if p.poll() is not None:
                raise RuntimeError('virsh migrate ended before the cancel: '
                                   '%s' % p.stderr.read())
            hb_before = last_hb(self._serial('a', name))
            cpu0 = self._cpu()
            tc = time.time()
            r = subprocess.run(['virsh', '-q', '-c', a.uri, 'domjobabort',
                                name], capture_output=True, text=True)
            t_call = time.time()
            out, err = p.communicate(timeout=60)
            t_end = time.time()
            cpu1 = self._cpu()
            state = a.virsh('domstate', name, check=False).strip()
            if r.returncode != 0 or p.returncode == 0:
                raise RuntimeError('virsh cancel: abort rc=%d (%s), migrate '
                                   'rc=%d' % (r.returncode, r.stderr.strip(),
                                              p.returncode))
            return {
                'tool': 'virsh', 'kind': 'cancel', 'run': run,
                'cancel_ms': (t_end - tc) * 1000,
                'cancel_call_ms': (t_call - tc) * 1000,
                'cancel_cpu_ms': cpu1 - cpu0,
                'source_state': state,
                'migrate_error': err.strip()[-200:],
                'dst_left': name in b.virsh('list', '--name', check=False),
                'source_alive': check_source_alive(self._serial('a', name),
                                                   hb_before),
            }
        finally:
            if p is not None:
                reap(p)
            a.virsh('destroy', name, check=False)
            b.virsh('destroy', name, check=False)


# ---------------------------------------------------------------- report

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(results, tools):
    table = {}
    for key, _ in METRICS:
        for tool in tools:
            table[(key, tool)] = median(r.get(key) for r in results
                                        if r['tool'] == tool and 'error'
                                        not in r)
    return table


def fmt(v, ratio=False, kib=False):
    if v is None:
        return '-'
    if kib:
        return '%.1f' % (v / 1024.0)
    return ('%.2fx' % v) if ratio else ('%.0f' % v)


def print_table(table, tools, results, out=sys.stdout):
    cols = list(tools)
    ratio_cols = [t for t in ('qmp', 'virsh') if 'ferry' in tools and
                  t in tools]
    head = ['metric (median)'] + cols + ['ferry/%s' % t for t in ratio_cols]
    rows = []
    for key, label in METRICS:
        row = [label] + [fmt(table[(key, t)], kib=key in KIB_METRICS)
                         for t in cols]
        for t in ratio_cols:
            f, o = table[(key, 'ferry')], table[(key, t)]
            row.append(fmt(f / o, True) if f is not None and o else '-')
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: '  '.join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(head), file=out)
    print('  '.join('-' * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)
    n = {t: sum(1 for r in results if r['tool'] == t and
                r['kind'] == 'migrate' and 'error' not in r) for t in tools}
    hand = {t: sum(1 for r in results if r['tool'] == t and
                   r['kind'] == 'migrate' and r.get('handover', {}).get('ok'))
            for t in tools}
    errs = [r for r in results if 'error' in r]
    leak_check(results, tools, out)
    print('\nmigrations ok / heartbeat hand-over n->n+1, err=0: ' + ', '.join(
        '%s %d/%d' % (t, hand[t], n[t]) for t in tools), file=out)
    if errs:
        print('failed runs: ' + ', '.join('%s %s #%d' % (
            r['tool'], r['kind'], r['run']) for r in errs), file=out)


def leak_check(results, tools, out=sys.stdout):
    """Each daemon's VmRSS after its path's first run and after its last,
    as growth per migration (cancelled ones count: they are migrations
    too). ferryd keeps every finished Migration object (history, by
    design), so some growth per migration is expected."""
    lines = []
    for t in tools:
        runs = [r for r in results if r['tool'] == t]
        tags = sorted({tag for r in runs for tag in r.get('rss_kib', {})})
        for tag in tags:
            g = benchlib.growth_per_run(
                [(i, r.get('rss_kib', {}).get(tag))
                 for i, r in enumerate(runs)])
            if g:
                lines.append('  %-6s %-10s %8d -> %8d KiB, %2d migrations '
                             'later: %+8.1f KiB/migration' % (
                                 (t, DAEMON[t] + ' ' + tag.upper()) + g))
    if lines:
        print('\nleak check: VmRSS after the first and after the last run '
              'of a path (cancels count as migrations):', file=out)
        for line in lines:
            print(line, file=out)


DAEMON = {'ferry': 'ferryd', 'virsh': 'libvirtd', 'qmp': '-'}


def targets(table, out=sys.stdout):
    def get(k, t):
        return table.get((k, t))
    checks = []
    f, q = get('launch_to_running_ms', 'ferry'), get('launch_to_running_ms',
                                                     'qmp')
    if f and q:
        checks.append(('Ferry end-to-end <= 1.0x plain QMP', f / q, f <= q))
    f, v = get('downtime_ms', 'ferry'), get('downtime_ms', 'virsh')
    if f is not None and v:
        checks.append(('Ferry real downtime <= 0.4x virsh', f / v,
                       f <= 0.4 * v))
    f = get('cancel_ms', 'ferry')
    if f is not None:
        checks.append(('Ferry cancel <= 50 ms', f, f <= 50))
    if checks:
        print('\ntargets:', file=out)
        for label, val, ok in checks:
            print('  %-40s %8.2f  %s' % (label, val, 'MET' if ok else
                                         'MISSED'), file=out)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--pause', type=float, default=3.0,
                    help='idle seconds before every timed run')
    ap.add_argument('--tools', default=','.join(TOOLS),
                    help='comma-separated subset of ferry,qmp,virsh')
    ap.add_argument('--no-cancel', action='store_true')
    ap.add_argument('--build-dir', default=os.environ.get(
        'FERRY_BUILD_DIR', os.path.join(SRC_ROOT, 'build')))
    ap.add_argument('--results-dir', default=os.path.join(HERE, 'results'))
    ap.add_argument('--keep-tmp', action='store_true')
    ap.add_argument('--reuse-names', action='store_true',
                    help='leak check: the Ferry path migrates two domain '
                    'names over and over instead of a new domain per run')
    ap.add_argument('--qmp-params', default='',
                    help='what-if: JSON object for migrate-set-parameters on '
                    'the plain QMP source (default: none, QEMU defaults)')
    ap.add_argument('--qmp-caps', default='',
                    help='what-if: extra capabilities (comma-separated) on '
                    'both plain QMP QEMUs, e.g. return-path')
    args = ap.parse_args()
    tools = [t for t in args.tools.split(',') if t]
    for t in tools:
        if t not in TOOLS:
            ap.error('unknown tool %s' % t)
    bd = benchlib.use_build(args.build_dir)
    args.guest = os.environ['FERRY_TEST_GUEST']
    if not os.path.exists(args.guest):
        sys.exit('guest %s not built (ninja -C %s)' % (args.guest, bd))
    benchlib.require_root('migrate-bench')

    if args.keep_tmp:
        os.environ['FERRY_KEEP_TMP'] = '1'
    tmp = tempfile.mkdtemp(prefix='ferry-bench-')
    os.chmod(tmp, 0o755)
    paths = []
    results = []
    stamp = time.strftime('%Y%m%d-%H%M%S')
    os.makedirs(args.results_dir, exist_ok=True)
    out_json = os.path.join(args.results_dir, stamp + '.json')

    def on_term(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_term)
    try:
        cls = {'ferry': FerryPath, 'qmp': QmpPath, 'virsh': VirshPath}
        for t in tools:
            p = cls[t](args, tmp)
            paths.append(p)
            log('starting %s' % t)
            p.start()
        kinds = ['migrate'] + ([] if args.no_cancel else ['cancel'])
        for rnd in range(args.rounds):
            for kind in kinds:
                for p in paths:
                    log('round %d/%d: %s %s' % (rnd + 1, args.rounds, p.name,
                                                kind))
                    try:
                        r = getattr(p, kind)(rnd)
                    except Exception as e:  # noqa: BLE001
                        traceback.print_exc()
                        r = {'tool': p.name, 'kind': kind, 'run': rnd,
                             'error': str(e)}
                    sample_rss(p, r)
                    log('  ' + json.dumps({k: (round(v, 1) if isinstance(
                        v, float) else v) for k, v in r.items()}))
                    results.append(r)
                    with open(out_json, 'w') as f:
                        json.dump({'started': stamp, 'args': vars(args),
                                   'results': results}, f, indent=1)
    finally:
        for p in reversed(paths):
            try:
                p.stop()
            except Exception:  # noqa: BLE001
                traceback.print_exc()
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log('kept %s' % tmp)

    table = summarize(results, tools)
    with open(out_json, 'w') as f:
        json.dump({'started': stamp, 'args': vars(args), 'results': results,
                   'medians': {'%s/%s' % k: v for k, v in table.items()}},
                  f, indent=1)
    print()
    print_table(table, tools, results)
    targets(table)
    print('\nraw results: %s' % out_json)
    return 1 if any('error' in r for r in results) else 0


if __name__ == '__main__':
    sys.exit(main())
