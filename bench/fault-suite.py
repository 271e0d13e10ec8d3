#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ferry's fault suite: faults injected into migrations between two real
ferryd hosts, and a table of how each one ended.

Not a test (nothing here fails the build): it prints, for each fault,
where the guest ends, whether it runs, whether its memory is intact by
its own check (the heartbeat's counter goes on, err=0, verify_bad=0), the
final state and error of the Migration objects on both hosts, and the
time from the fault until everything is stable (guest running on
exactly one host, both Migration objects in a final state).

Faults: kill -9 of the source or destination ferryd in each phase it can
be caught in (then a restart), kill of the destination QEMU, the data
link cut for real (ss -K) in pre-copy and in post-copy (then Recover),
Cancel, and a dozen bad invocations.  Run as root with /usr/bin/python3:

    sudo /usr/bin/python3 bench/fault-suite.py [--build-dir build]
    ninja -C build fault-suite
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC_ROOT, 'tests', 'e2e'))

import benchlib  # noqa: E402

PRECOPY_GUEST = 'wss=48 rate=0 hb=200'
POSTCOPY_GUEST = 'wss=32 rate=20 hb=200'
FINAL = ('completed', 'failed', 'cancelled')


def log(*args):
    print('[fault-suite %s]' % time.strftime('%H:%M:%S'), *args,
          file=sys.stderr, flush=True)


class Suite:
    def __init__(self, ft, GLib, tmp):
        self.ft, self.GLib = ft, GLib
        self.a = ft.Host('fault-a', tmp_root=tmp)
        self.a.__enter__()
        self.b = ft.Host('fault-b', tmp_root=tmp)
        self.b.__enter__()
        self.rows = []
        self.n = 0

    def close(self):
        for h in (self.b, self.a):
            try:
                h.close(failed=False)
            except Exception:  # noqa: BLE001
                traceback.print_exc()

    # -- helpers --------------------------------------------------------

    def V(self, t, v):
        return self.GLib.Variant(t, v)

    def prop(self, host, path, name):
        try:
            return host.get_prop(path, self.ft.MIGRATION_IFACE, name)
        except Exception:  # noqa: BLE001
            return None

    def migrate(self, name, options):
        (path,) = self.a.call(self.ft.ROOT_PATH, self.ft.MANAGER_IFACE,
                              'Migrate', self.V('(ssa{sv})', (
                                  name, self.b.address, options)))
        return path

    def incoming(self, name):
        try:
            (paths,) = self.b.call(self.ft.ROOT_PATH, self.ft.MANAGER_IFACE,
                                   'ListMigrations')
        except Exception:  # noqa: BLE001
            return None
        for p in reversed(paths):
            if self.prop(self.b, p, 'DomainName') == name:
                return p
        return None

    def start_guest(self, append):
        self.n += 1
        name = 'f%02d' % self.n
        self.ft.start_guest(self.a, name, memory=96, append=append)
        self.ft.wait_heartbeats(self.a, name, 2)
        return name

    def wait(self, pred, timeout=30):
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            try:
                if pred():
                    return True
            except Exception:  # noqa: BLE001
                pass
            time.sleep(0.02)
        return False

    def ensure_ferryds(self):
        for h in (self.a, self.b):
            if not h.ferryd_running():
                h.start_ferryd()

    def where(self, name):
        """(hosts whose QEMU runs the guest, its state on each)."""
        out = []
        for h in (self.a, self.b):
            if h.qemu_pid(name) is None:
                continue
            try:
                st = h.domain_state(self.ft.domain_path(name))
            except Exception:  # noqa: BLE001
                st = '?'
            out.append((h.name[-1].upper(), st))
        return out

    def stable(self, name, path, inc):
        w = self.where(name)
        if len(w) != 1 or w[0][1] not in ('running', 'paused', 'crashed'):
            return False
        for h, p in ((self.a, path), (self.b, inc)):
            if p and self.prop(h, p, 'State') not in FINAL + (
                    'postcopy-paused',):
                return False
        return True

    def intact(self, name, host_tag):
        """The guest's own check on the host it ended on: the heartbeat
        goes on (two more beats) with err=0 and verify_bad=0, and on a
        new host continues the count."""
        host = self.a if host_tag == 'A' else self.b
        log_path = host.console_log(name)
        hb = self.ft.heartbeats(log_path)
        if not hb:
            return 'no heartbeat'
        last = hb[-1]['n']
        if not self.wait(lambda: self.ft.heartbeats(log_path)[-1]['n'] >=
                         last + 2, 15):
            return 'stopped'
        hb = self.ft.heartbeats(log_path)
        if any(h.get('err') or h.get('verify_bad') for h in hb):
            return 'ERRORS'
        if host_tag == 'B':
            a_hb = self.ft.heartbeats(self.a.console_log(name))
            if a_hb and hb[0]['n'] != a_hb[-1]['n'] + 1:
                return 'count %d->%d' % (a_hb[-1]['n'], hb[0]['n'])
        return 'yes'

    def record(self, fault, phase, name, path, inc, t_fault, note=''):
        ok = self.wait(lambda: self.stable(name, path, inc), 60)
        took = time.monotonic() - t_fault
        w = self.where(name)
        where = ','.join(t for t, _ in w) or 'none'
        state = ','.join(s for _, s in w) or '-'
        intact = self.intact(name, w[0][0]) if len(w) == 1 and \
            w[0][1] == 'running' else '-'

        def outcome(h, p):
            if not p:
                return '-'
            st = self.prop(h, p, 'State') or 'gone'
            err = (self.prop(h, p, 'ErrorName') or '').rsplit('.', 1)[-1]
            return st + ('/' + err if err else '')
        row = {
            'fault': fault, 'phase': phase or '-', 'guest on': where,
            'guest': state, 'memory intact': intact,
            'source migration': outcome(self.a, path),
            'destination migration': outcome(self.b, inc),
            'stable after': ('%.2f s' % took) if ok else 'NOT STABLE',
            'note': note,
        }
        self.rows.append(row)
        log(row)
        self.cleanup(name)

    def cleanup(self, name):
        self.ensure_ferryds()
        for h in (self.a, self.b):
            dom = self.ft.domain_path(name)
            try:
                if h.qemu_pid(name) is not None:
                    h.call(dom, self.ft.DOMAIN_IFACE, 'Shutdown', timeout=30)
            except Exception:  # noqa: BLE001
                pid = h.qemu_pid(name)
                if pid:
                    self.ft.kill_and_reap(pid)

    def precopy(self, name):
        path = self.migrate(name, {'max-bandwidth': self.V('t', 2 << 20)})
        self.wait(lambda: self.prop(self.a, path, 'State') == 'active')
        return path, self.incoming(name)

    def postcopy(self, name, pc_bw=8 << 20):
        b_log = len(self.b.ferryd_log_text())
        path = self.migrate(name, {
            'postcopy': self.V('s', 'manual'),
            'max-bandwidth': self.V('t', 16 << 20),
            'max-postcopy-bandwidth': self.V('t', pc_bw)})
        self.wait(lambda: self.prop(self.a, path, 'Iteration') >= 2)
        self.a.call(path, self.ft.MIGRATION_IFACE, 'StartPostCopy')
        inc = self.incoming(name)
        self.wait(lambda: self.prop(self.b, inc, 'State') ==
                  'postcopy-active' and '"event": "RESUME"' in
                  self.b.ferryd_log_text()[b_log:])
        return path, inc

    # -- faults ---------------------------------------------------------

    def kill_source_in(self, phase):
        name = self.start_guest(PRECOPY_GUEST if phase != 'postcopy'
                                else POSTCOPY_GUEST)
        if phase == 'postcopy':
            path, inc = self.postcopy(name)
        elif phase == 'perform':
            path, inc = self.precopy(name)
        else:
            path = self.migrate(name, {'max-bandwidth':
                                       self.V('t', 2 << 20)})
            if phase == 'prepare':
                self.wait(lambda: self.prop(self.a, path, 'Phase') ==
                          'prepare', 10)
            inc = None
        seen = self.prop(self.a, path, 'Phase')
        if phase == 'postcopy':
            seen = 'perform/' + (self.prop(self.a, path, 'State') or '?')
        self.a.kill_ferryd()
        t = time.monotonic()
        inc = inc or self.incoming(name)
        self.a.start_ferryd()
        self.record('kill -9 source ferryd, restart', seen, name, path, inc,
                    t)

    def kill_destination_in(self, phase):
        name = self.start_guest(PRECOPY_GUEST if phase != 'postcopy'
                                else POSTCOPY_GUEST)
        if phase == 'postcopy':
            path, inc = self.postcopy(name)
        elif phase == 'perform':
            path, inc = self.precopy(name)
        else:
            path = self.migrate(name, {'max-bandwidth':
                                       self.V('t', 2 << 20)})
            self.wait(lambda: self.incoming(name) is not None, 10)
            inc = self.incoming(name)
        seen = self.prop(self.b, inc, 'Phase') if inc else '?'
        if phase == 'postcopy':
            seen = 'perform/' + (self.prop(self.b, inc, 'State') or '?')
        self.b.kill_ferryd()
        t = time.monotonic()
        noticed = self.wait(lambda: self.prop(self.a, path, 'State') in
                            FINAL, 5) and time.monotonic() - t
        self.b.start_ferryd()
        note = ('source ended in %.3f s' % noticed) if noticed and \
            phase != 'postcopy' else ''
        self.record('kill -9 destination ferryd, restart', seen, name, path,
                    inc, t, note)

    def kill_destination_qemu(self):
        name = self.start_guest(PRECOPY_GUEST)
        path, inc = self.precopy(name)
        self.ft.kill_and_reap(self.b.qemu_pid(name))
        t = time.monotonic()
        self.record('kill destination QEMU', 'perform/active', name, path,
                    inc, t)

    def cut_precopy(self):
        name = self.start_guest(PRECOPY_GUEST)
        path, inc = self.precopy(name)
        self.b.cut_data_link(name)
        t = time.monotonic()
        self.record('data link cut (ss -K)', 'perform/active', name, path,
                    inc, t)

    def cut_postcopy(self):
        name = self.start_guest(POSTCOPY_GUEST)
        path, inc = self.postcopy(name, 4 << 20)
        self.b.cut_data_link(name)
        t = time.monotonic()
        paused = self.wait(lambda: self.prop(self.a, path, 'State') ==
                           'postcopy-paused' and self.prop(
                               self.b, inc, 'State') == 'postcopy-paused',
                           20)
        note = 'both postcopy-paused in %.2f s; ' % (time.monotonic() - t) \
            if paused else 'NOT PAUSED; '
        self.a.call(path, self.ft.MIGRATION_IFACE, 'Recover',
                    self.V('(s)', ('',)))
        self.b.cut_data_link(name)
        paused = self.wait(lambda: self.prop(self.a, path, 'State') ==
                           'postcopy-paused', 20)
        note += 'cut again during recovery: %s; ' % (
            'paused again' if paused else 'NOT PAUSED')
        self.a.call(path, self.ft.MIGRATION_IFACE, 'Recover',
                    self.V('(s)', ('',)))
        self.wait(lambda: self.prop(self.a, path, 'State') in FINAL, 90)
        note += 'Recover x2'
        self.record('data link cut (ss -K) twice, Recover', 'perform/'
                    'postcopy-active', name, path, inc, t, note)

    def cancel(self):
        name = self.start_guest(PRECOPY_GUEST)
        path, inc = self.precopy(name)
        self.a.call(path, self.ft.MIGRATION_IFACE, 'Cancel')
        t = time.monotonic()
        self.record('Cancel', 'perform/active', name, path, inc, t)

    def bad_invocations(self):
        """A dozen calls that must be refused with the right error and
        change nothing."""
        ft, V = self.ft, self.V
        name = self.start_guest(PRECOPY_GUEST)
        dom = ft.domain_path(name)
        # a finished migration, for calls on one
        fin = self.migrate(name, {})
        self.wait(lambda: self.prop(self.a, fin, 'State') in FINAL, 60)
        back = self.b.call(ft.ROOT_PATH, ft.MANAGER_IFACE, 'Migrate',
                           V('(ssa{sv})', (name, self.a.address, {})))[0]
        self.wait(lambda: self.prop(self.b, back, 'State') in FINAL, 60)
        # to this host: Migrate answers at once, the migration then fails
        # in Begin (Hello finds the same host UUID)
        t = time.monotonic()
        (selfpath,) = self.a.call(ft.ROOT_PATH, ft.MANAGER_IFACE, 'Migrate',
                                  V('(ssa{sv})', (name, self.a.address, {})))
        self.wait(lambda: self.prop(self.a, selfpath, 'State') in FINAL, 10)
        err = (self.prop(self.a, selfpath, 'ErrorName') or '').rsplit('.', 1)
        self.rows.append({
            'fault': 'bad call: Migrate to this host', 'phase': 'begin',
            'guest on': ','.join(x for x, _ in self.where(name)),
            'guest': self.a.domain_state(dom), 'memory intact': '-',
            'source migration': self.prop(self.a, selfpath, 'State'),
            'destination migration': '-',
            'stable after': '%.3f s' % (time.monotonic() - t),
            'note': 'failed: ' + err[-1]})
        log(self.rows[-1])
        pre, _ = self.precopy(name)
        calls = [
            ('Migrate an unknown domain', self.a, ft.ROOT_PATH,
             ft.MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', ('no-such-domain', self.b.address, {}))),
            ('Migrate to a bad destination', self.a, ft.ROOT_PATH,
             ft.MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', (name, 'no:such:address', {}))),
            ('Migrate with an unknown option', self.a, ft.ROOT_PATH,
             ft.MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', (name, self.b.address, {'bogus': V('b', True)}))),
            ('Migrate with an option of the wrong type', self.a,
             ft.ROOT_PATH, ft.MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', (name, self.b.address,
                             {'max-bandwidth': V('s', 'fast')}))),
            ('Migrate a domain already migrating', self.a, ft.ROOT_PATH,
             ft.MANAGER_IFACE, 'Migrate',
             V('(ssa{sv})', (name, self.b.address, {}))),
            ('Recover in pre-copy', self.a, pre, ft.MIGRATION_IFACE,
             'Recover', V('(s)', ('',))),
            ('Pause in pre-copy', self.a, pre, ft.MIGRATION_IFACE, 'Pause',
             None),
            ('StartPostCopy without post-copy', self.a, pre,
             ft.MIGRATION_IFACE, 'StartPostCopy', None),
            ('SetMaxDowntime out of range', self.a, pre, ft.MIGRATION_IFACE,
             'SetMaxDowntime', V('(t)', (1 << 62,))),
            ('Cancel a finished migration', self.a, fin, ft.MIGRATION_IFACE,
             'Cancel', None),
            ('Recover on the destination\'s object', self.b,
             self.incoming(name), ft.MIGRATION_IFACE, 'Recover',
             V('(s)', ('',))),
            ('Migration that does not exist', self.a,
             ft.ROOT_PATH + '/migration/99999', ft.MIGRATION_IFACE,
             'Cancel', None),
        ]
        for what, host, path, iface, method, args in calls:
            t = time.monotonic()
            try:
                host.call(path, iface, method, args)
                err = 'ACCEPTED'
            except Exception as e:  # noqa: BLE001
                err = (ft.dbus_error(e)[0] or str(e)).rsplit('.', 1)[-1]
            still = self.prop(self.a, pre, 'State')
            row = {
                'fault': 'bad call: ' + what, 'phase': '-',
                'guest on': 'A', 'guest': 'running',
                'memory intact': '-', 'source migration': still,
                'destination migration': '-',
                'stable after': '%.3f s' % (time.monotonic() - t),
                'note': 'refused: ' + err,
            }
            self.rows.append(row)
            log(row)
        self.a.call(pre, ft.MIGRATION_IFACE, 'Cancel')
        t = time.monotonic()
        self.record('Cancel after the bad calls', 'perform/active', name,
                    pre, self.incoming(name), t)

    def run(self, only=None):
        plan = [
            ('kill-src-begin', lambda: self.kill_source_in('begin')),
            ('kill-src-prepare', lambda: self.kill_source_in('prepare')),
            ('kill-src-perform', lambda: self.kill_source_in('perform')),
            ('kill-src-postcopy', lambda: self.kill_source_in('postcopy')),
            ('kill-dst-prepare', lambda: self.kill_destination_in('prepare')),
            ('kill-dst-perform', lambda: self.kill_destination_in('perform')),
            ('kill-dst-postcopy',
             lambda: self.kill_destination_in('postcopy')),
            ('kill-dst-qemu', self.kill_destination_qemu),
            ('cut-precopy', self.cut_precopy),
            ('cut-postcopy', self.cut_postcopy),
            ('cancel', self.cancel),
            ('bad-calls', self.bad_invocations),
        ]
        for key, fn in plan:
            if only and key not in only:
                continue
            log('--- %s' % key)
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                self.rows.append({'fault': key, 'note': 'SUITE ERROR: %s' % e})
                self.ensure_ferryds()

    def table(self):
        cols = ['fault', 'phase', 'guest on', 'guest', 'memory intact',
                'source migration', 'destination migration', 'stable after',
                'note']
        lines = ['| ' + ' | '.join(cols) + ' |',
                 '|' + '---|' * len(cols)]
        for r in self.rows:
            lines.append('| ' + ' | '.join(str(r.get(c, '')) for c in cols)
                         + ' |')
        return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build-dir', default=os.path.join(SRC_ROOT, 'build'))
    ap.add_argument('--only', default='',
                    help='comma-separated fault keys (default: all)')
    args = ap.parse_args()
    benchlib.use_build(args.build_dir)
    benchlib.require_root('fault-suite')
    import ferrytest
    from gi.repository import GLib
    ferrytest.require_environment(guest=True)
    tmp = tempfile.mkdtemp(prefix='ferry-faults-')
    os.chmod(tmp, 0o755)
    suite = Suite(ferrytest, GLib, tmp)
    t = time.monotonic()
    try:
        suite.run([k for k in args.only.split(',') if k])
    finally:
        suite.close()
        if not os.environ.get('FERRY_KEEP_TMP'):
            shutil.rmtree(tmp, ignore_errors=True)
    print(suite.table())
    print('\n%d faults in %.0f s' % (len(suite.rows), time.monotonic() - t))


if __name__ == '__main__':
    main()
