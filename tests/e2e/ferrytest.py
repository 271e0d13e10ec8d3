# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ferry end-to-end test harness.

A "host" is a private system-type dbus-daemon, the real polkitd (in its own
mount namespace, with private rules and actions directories bind-mounted over
the hard-coded ones) and a ferryd with its own state/runtime/config
directories.  Run with /usr/bin/python3 (PyGObject).

Environment:
  FERRYD            ferryd executable
  FERRY_TEST_GUEST  the test guest kernel (ferry-test-guest.elf)
  FERRY_POLICY      the built polkit policy (org.ferryvm.ferry1.policy)
  FERRY_BUS_POLICY  the bus policy (data/dbus/org.ferryvm.Ferry1.conf)
  FERRY_KEEP_TMP    keep the temporary tree of each host
  FERRY_ALLOW_SKIP  =1: an environment that cannot run the tests skips them
                    (exit 77) instead of failing
  FERRY_TMP         parent directory of the temporary trees (default /tmp)
"""

import atexit
import ctypes
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import gi

gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = 'org.ferryvm.Ferry1'
ROOT_PATH = '/org/ferryvm/Ferry1'
DOMAIN_PREFIX = ROOT_PATH + '/domain/'
MANAGER_IFACE = 'org.ferryvm.Ferry1.Manager'
DOMAIN_IFACE = 'org.ferryvm.Ferry1.Domain'
MIGRATION_IFACE = 'org.ferryvm.Ferry1.Migration'
PEER_IFACE = 'org.ferryvm.Ferry1.Peer'
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'
ERR = 'org.ferryvm.Ferry1.Error.'
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
# DESIGN §2: AccessDenied "(or an …Error.NotAuthorized)"
AUTH_ERRORS = (ACCESS_DENIED, ERR + 'NotAuthorized',
               'org.freedesktop.PolicyKit1.Error.NotAuthorized')

ACTION_MIGRATE = 'org.ferryvm.ferry1.migrate'
ACTION_CONTROL = 'org.ferryvm.ferry1.control'
ACTION_MANAGE = 'org.ferryvm.ferry1.manage-domains'
ACTION_PEER = 'org.ferryvm.ferry1.peer'

POLKITD = '/usr/lib/polkit-1/polkitd'
SYSTEM_PY = '/usr/bin/python3'
HERE = os.path.dirname(os.path.abspath(__file__))
DBUS_CALL = os.path.join(HERE, 'dbus-call.py')
NOBODY = 65534

_live_hosts = []


def log(*args):
    print('[ferrytest %s]' % time.strftime('%H:%M:%S'), *args,
          file=sys.stderr, flush=True)


# ---------------------------------------------------------------- environment

class EnvironmentNotUsable(Exception):
    pass


def _fail_or_skip(msg):
    banner = '\n' + '!' * 72 + '\n!!! FERRY E2E TESTS CANNOT RUN: ' + msg + \
        '\n!!! (set FERRY_ALLOW_SKIP=1 to skip instead of failing)\n' + \
        '!' * 72 + '\n'
    if os.environ.get('FERRY_ALLOW_SKIP') == '1':
        print(banner.replace('CANNOT RUN', 'SKIPPED'), file=sys.stderr,
              flush=True)
        raise unittest.SkipTest(msg)
    print(banner, file=sys.stderr, flush=True)
    raise EnvironmentNotUsable(msg)


def require_environment(ferryd=True, guest=False, policy=True,
                        bus_policy=True):
    """Fail loudly (or skip with FERRY_ALLOW_SKIP=1) when the tests
    cannot run here."""
    if os.geteuid() != 0:
        _fail_or_skip('must run as root (private system bus, polkitd, '
                      'mount namespace)')
    for tool in ('unshare', 'setpriv', 'dbus-daemon', 'mount'):
        if not shutil.which(tool):
            _fail_or_skip('%s not found' % tool)
    if not os.access(POLKITD, os.X_OK):
        _fail_or_skip('%s not found' % POLKITD)
    r = subprocess.run(['unshare', '-m', '--propagation', 'private',
                        'true'], capture_output=True, text=True)
    if r.returncode != 0:
        _fail_or_skip('unshare -m does not work (need CAP_SYS_ADMIN): ' +
                      r.stderr.strip())
    need = []
    if ferryd:
        need.append('FERRYD')
    if guest:
        need.append('FERRY_TEST_GUEST')
    if policy:
        need.append('FERRY_POLICY')
    if bus_policy:
        need.append('FERRY_BUS_POLICY')
    for var in need:
        val = os.environ.get(var)
        if not val:
            _fail_or_skip('environment variable %s is not set (run through '
                          '"meson test --suite e2e")' % var)
        if not os.path.exists(val):
            _fail_or_skip('%s=%s does not exist (not built yet?)' % (var, val))
    if guest and not shutil.which('qemu-system-x86_64'):
        _fail_or_skip('qemu-system-x86_64 not found')


# ---------------------------------------------------------------- helpers

def escape_name(name):
    """sd_bus_path_encode()'s label escaping: [A-Za-z] kept, digits kept
    unless first, every other byte as _xx; the empty string is "_"."""
    if name == '':
        return '_'
    out = []
    for i, b in enumerate(name.encode('utf-8')):
        c = chr(b)
        if (c.isascii() and c.isalpha()) or (i > 0 and c.isascii() and
                                              c.isdigit()):
            out.append(c)
        else:
            out.append('_%02x' % b)
    return ''.join(out)


def domain_path(name):
    return DOMAIN_PREFIX + escape_name(name)


def wait_for(predicate, timeout=10.0, interval=0.1, msg=None,
             ignore_errors=False):
    """Poll predicate() until it returns something truthy; return that.
    Raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = predicate()
            if v:
                return v
        except Exception as e:  # noqa: BLE001
            if not ignore_errors:
                raise
            last_exc = e
        if time.monotonic() >= deadline:
            m = msg or 'condition not met'
            if last_exc is not None:
                m += ' (last error: %s)' % last_exc
            raise AssertionError('timed out after %.1fs: %s' % (timeout, m))
        time.sleep(interval)


def holds_for(predicate, duration, interval=0.05, msg=None):
    """Check that predicate() stays truthy for duration seconds (an
    absence can only be observed over a window); raise AssertionError as
    soon as it is not."""
    deadline = time.monotonic() + duration
    while True:
        if not predicate():
            raise AssertionError(msg or 'condition broken')
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def dbus_error(exc):
    """(error name, message) of a GLib.Error coming from a D-Bus call."""
    name = Gio.DBusError.get_remote_error(exc)
    msg = exc.message or ''
    if name and msg.startswith('GDBus.Error:' + name + ': '):
        msg = msg[len('GDBus.Error:' + name + ': '):]
    return name, msg


def _pdeathsig():
    try:
        libc = ctypes.CDLL('libc.so.6', use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def start_dbus_daemon(argv, what, log_tail=lambda: '', **popen_kw):
    """Start dbus-daemon (argv, possibly behind a setpriv) and return its
    Popen once it accepts connections.  dbus-daemon prints its address on
    the --print-address pipe only after listen(); its socket file appears
    at bind(), before that, and a connection in between is refused."""
    ready_r, ready_w = os.pipe()
    proc = None
    try:
        proc = subprocess.Popen(argv + ['--print-address=%d' % ready_w],
                                pass_fds=(ready_w,), **popen_kw)
        os.close(ready_w)
        ready_w = -1
        printed = bytearray()

        def listening():
            if select.select([ready_r], [], [], 0)[0]:
                printed.extend(os.read(ready_r, 4096))
                if b'\n' in printed:
                    return True
            if proc.poll() is not None:
                raise RuntimeError('%s exited (%s):\n%s'
                                   % (what, proc.returncode, log_tail()))
            return False
        wait_for(listening, 10, 0.02, '%s listening' % what)
        return proc
    except BaseException:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    finally:
        os.close(ready_r)
        if ready_w >= 0:
            os.close(ready_w)


def _proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
        return data[data.rindex(')') + 2]
    except (OSError, ValueError, IndexError):
        return None


def _gone(pid):
    st = _proc_state(pid)
    return st is None or st in 'ZX'


def find_processes(needles, exe_prefix='qemu-system'):
    """PIDs of live processes whose argv[0] basename starts with exe_prefix
    ('' for any) and whose command line mentions any of needles; never
    this process."""
    found = []
    me = os.getpid()
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == me:
            continue
        pid = int(d)
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if not argv or not argv[0]:
            continue
        if not os.path.basename(argv[0]).decode(errors='replace') \
                .startswith(exe_prefix):
            continue
        line = b' '.join(argv).decode(errors='replace')
        if any(n in line for n in needles) and not _gone(pid):
            found.append(pid)
    return found


def kill_and_reap(pid, timeout=5.0):
    """SIGKILL a process that is not necessarily our child and wait until
    it is gone (or a zombie waiting for a slow PID 1)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass
    deadline = time.monotonic() + timeout
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _tail(path, n=60):
    try:
        with open(path, 'rb') as f:
            lines = f.read().decode(errors='replace').splitlines()
        return '\n'.join(lines[-n:])
    except OSError as e:
        return '(cannot read %s: %s)' % (path, e)


def stop_process(proc, sig=signal.SIGTERM, timeout=5.0):
    """Send sig to a Popen, wait (SIGKILL after timeout) and reap it;
    returns its exit status (None for no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


BUS_CONF = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>{address}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
{extra}
</busconfig>
'''


# ---------------------------------------------------------------- Host

class Host:
    """One test host: private system bus + real polkitd + ferryd."""

    def __init__(self, name, tmp_root=None, start_ferryd=True,
                 ferryd_args=(), policy=None, bus_policy=None, ferryd=None):
        self.name = name
        self.tmp_root = tmp_root or os.environ.get('FERRY_TMP') or '/tmp'
        self.start_ferryd_on_enter = start_ferryd
        self.ferryd_args = list(ferryd_args)
        self.policy = policy if policy is not None else \
            os.environ.get('FERRY_POLICY')
        self.bus_policy = bus_policy if bus_policy is not None else \
            os.environ.get('FERRY_BUS_POLICY')
        self.ferryd_bin = ferryd or os.environ.get('FERRYD')
        self.dir = None
        self.dbus_proc = None
        self.polkitd_proc = None
        self.ferryd_proc = None
        self._bus = None
        self._closed = False
        self.failed = False
        # ferryds that died of a signal the harness did not send
        self.ferryd_crashes = []
        self._ferryd_sent = 0     # the signal the harness sent ferryd
        self._rules_sync = 0

    # -- layout
    def _mk(self, *parts, mode=0o755):
        p = os.path.join(self.dir, *parts)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        return p

    @property
    def address(self):
        return 'unix:path=' + self.bus_socket

    @property
    def polkitd_pid(self):
        return self.polkitd_proc.pid if self.polkitd_proc else None

    @property
    def ferryd_pid(self):
        return self.ferryd_proc.pid if self.ferryd_proc else None

    # -- lifecycle
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(failed=exc_type is not None or self.failed)
        return False

    def start(self):
        _stop_if_terminating()
        _live_hosts.append(self)
        os.makedirs(self.tmp_root, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix='ferry-%s-' % self.name,
                                    dir=self.tmp_root)
        # others (nobody) must reach the bus socket and the helper script
        os.chmod(self.dir, 0o755)
        self.bus_dir = self._mk('bus')
        self.bus_socket = os.path.join(self.bus_dir, 'system_bus_socket')
        self.state_dir = self._mk('state')
        self.runtime_dir = self._mk('run')
        self.config_dir = self._mk('config')
        self.log_dir = self._mk('logs')
        self.bin_dir = self._mk('bin')
        pk = self._mk('polkit')
        self.rules_dir = self._mk('polkit', 'rules.d', mode=0o700)
        self.share_rules_dir = self._mk('polkit', 'share-rules.d', mode=0o700)
        for d in (self.rules_dir, self.share_rules_dir):
            shutil.chown(d, 'polkitd', 'root')
        self.actions_dir = os.path.join(pk, 'actions')
        shutil.copytree('/usr/share/polkit-1/actions', self.actions_dir)
        if self.policy:
            shutil.copy(self.policy, os.path.join(
                self.actions_dir, 'org.ferryvm.ferry1.policy'))
        for root, dirs, files in os.walk(self.actions_dir):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        self.dbus_call = os.path.join(self.bin_dir, 'dbus-call.py')
        shutil.copy(DBUS_CALL, self.dbus_call)
        os.chmod(self.dbus_call, 0o755)
        self.ferryd_log = os.path.join(self.log_dir, 'ferryd.log')
        self.polkitd_log = os.path.join(self.log_dir, 'polkitd.log')
        self.dbus_log = os.path.join(self.log_dir, 'dbus.log')

        self._start_bus()
        self._start_polkitd()
        if self.start_ferryd_on_enter:
            self.start_ferryd()

    def _start_bus(self):
        extra = ''
        if self.bus_policy:
            extra = '  <include>%s</include>' % os.path.abspath(
                self.bus_policy)
        conf = os.path.join(self.bus_dir, 'system.conf')
        with open(conf, 'w') as f:
            f.write(BUS_CONF.format(address=self.address, extra=extra))
        _stop_if_terminating()
        t = time.monotonic()
        with open(self.dbus_log, 'ab') as out:
            self.dbus_proc = start_dbus_daemon(
                ['dbus-daemon', '--config-file=' + conf, '--nofork',
                 '--nopidfile'],
                'dbus-daemon of host %s' % self.name,
                lambda: _tail(self.dbus_log),
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)
        self.bus()
        log('host %s: bus up in %.2fs at %s' % (self.name,
                                               time.monotonic() - t,
                                               self.address))

    def _start_polkitd(self):
        script = ('mount --bind "$1" /etc/polkit-1/rules.d && '
                  'mount --bind "$2" /usr/share/polkit-1/rules.d && '
                  'mount --bind "$3" /usr/share/polkit-1/actions && '
                  'exec "$4"')
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)
        _stop_if_terminating()
        t = time.monotonic()
        with open(self.polkitd_log, 'ab') as out:
            # unshare and sh exec: the Popen pid is polkitd's pid
            self.polkitd_proc = subprocess.Popen(
                ['unshare', '-m', '--propagation', 'private', '--',
                 '/bin/sh', '-c', script, 'sh', self.rules_dir,
                 self.share_rules_dir, self.actions_dir, POLKITD],
                env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT)

        def up():
            if self.polkitd_proc.poll() is not None:
                raise RuntimeError('polkitd of host %s exited (%s):\n%s'
                                   % (self.name, self.polkitd_proc.returncode,
                                      _tail(self.polkitd_log)))
            return self.name_has_owner('org.freedesktop.PolicyKit1')
        wait_for(up, 10, 0.05, 'polkitd of host %s on its bus' % self.name)
        log('host %s: polkitd (pid %d) up in %.2fs' % (
            self.name, self.polkitd_proc.pid, time.monotonic() - t))

    def start_ferryd(self, timeout=10.0):
        if not self.ferryd_bin:
            raise RuntimeError('FERRYD is not set')
        assert self.ferryd_proc is None or self.ferryd_proc.poll() is not None
        self._note_ferryd_end()
        argv = [self.ferryd_bin, '--state-dir', self.state_dir,
                '--runtime-dir', self.runtime_dir,
                '--config-dir', self.config_dir, '--verbose'] + \
            self.ferryd_args
        # a test host never publishes this machine's own libvirt domains
        if '--libvirt-uri' not in self.ferryd_args:
            argv += ['--libvirt-uri', 'none']
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        # a broken invariant (g_critical, g_return_if_fail) aborts ferryd
        # and so fails the test that hit it
        flags = [f for f in env.get('G_DEBUG', '').split(',') if f]
        if 'fatal-criticals' not in flags:
            flags.append('fatal-criticals')
        env['G_DEBUG'] = ','.join(flags)
        _stop_if_terminating()
        t = time.monotonic()
        with open(self.ferryd_log, 'ab') as out:
            out.write(('==== %s starting %s\n' % (
                time.strftime('%H:%M:%S'), ' '.join(argv))).encode())
            out.flush()
            self.ferryd_proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)
            self._ferryd_sent = 0

        def up():
            if self.ferryd_proc.poll() is not None:
                raise RuntimeError(
                    'ferryd of host %s exited early with %s; log tail:\n%s'
                    % (self.name, self.ferryd_proc.returncode,
                       _tail(self.ferryd_log)))
            return self.name_has_owner(BUS_NAME)
        try:
            wait_for(up, timeout, 0.05,
                     'ferryd of host %s to own %s; log tail:\n%s' % (
                         self.name, BUS_NAME, '(see below)'))
        except AssertionError as e:
            raise AssertionError('%s\n%s' % (e, _tail(self.ferryd_log))) \
                from None
        log('host %s: ferryd (pid %d) up in %.2fs' % (
            self.name, self.ferryd_proc.pid, time.monotonic() - t))

    def stop_ferryd(self, timeout=5.0):
        """SIGTERM ferryd and wait (SIGKILL after timeout); return its exit
        status."""
        self._note_ferryd_end()
        self._ferryd_sent = signal.SIGTERM
        rc = stop_process(self.ferryd_proc, signal.SIGTERM, timeout)
        self._wait_name_gone()
        return rc

    def kill_ferryd(self, sig=signal.SIGKILL):
        """Kill ferryd with sig (default SIGKILL: a crash) and reap it."""
        self._note_ferryd_end()
        self._ferryd_sent = sig
        rc = stop_process(self.ferryd_proc, sig, 5.0)
        self._wait_name_gone()
        return rc

    def restart_ferryd(self):
        self.stop_ferryd()
        self.start_ferryd()

    def _wait_name_gone(self):
        try:
            wait_for(lambda: not self.name_has_owner(BUS_NAME), 5, 0.05,
                     '%s released' % BUS_NAME)
        except Exception:  # noqa: BLE001
            pass

    def ferryd_running(self):
        return self.ferryd_proc is not None and self.ferryd_proc.poll() is None

    def _note_ferryd_end(self):
        """Remember a ferryd that died of a signal the harness did not send
        (nor SIGKILL after a grace period): SIGTRAP is a g_critical made
        fatal by G_DEBUG=fatal-criticals, SIGABRT a failed assertion or a
        sanitizer, SIGSEGV a crash."""
        p = self.ferryd_proc
        if p is None or p.poll() is None or p.returncode >= 0 or \
                -p.returncode in (self._ferryd_sent, signal.SIGKILL):
            return
        msg = 'ferryd (pid %d) of host %s died of signal %d (%s)' % (
            p.pid, self.name, -p.returncode,
            signal.Signals(-p.returncode).name)
        if msg not in self.ferryd_crashes:
            log(msg)
            self.ferryd_crashes.append(msg)

    def close(self, failed=False):
        if self._closed:
            return
        self._closed = True
        failed = failed or self.failed
        try:
            if self.ferryd_proc is not None:
                self._note_ferryd_end()
                if self.ferryd_proc.poll() is None:
                    self._ferryd_sent = signal.SIGTERM
                rc = stop_process(self.ferryd_proc, signal.SIGTERM, 5.0)
                self._note_ferryd_end()
                log('host %s: ferryd exited with %s' % (self.name, rc))
            if self.dir:
                for pid in find_processes([self.runtime_dir, self.state_dir]):
                    log('host %s: killing leftover QEMU pid %d' % (
                        self.name, pid))
                    kill_and_reap(pid)
            if self._bus is not None:
                try:
                    self._bus.close_sync(None)
                except GLib.Error:
                    pass
                self._bus = None
            if self.polkitd_proc is not None:
                try:
                    os.kill(self.polkitd_proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                stop_process(self.polkitd_proc, signal.SIGTERM, 5.0)
            stop_process(self.dbus_proc, signal.SIGTERM, 5.0)
            if self.dir:
                # anything else running from this host's tree (an
                # unprivileged caller a test left in the background, ...)
                for pid in find_processes([self.dir + os.sep], ''):
                    log('host %s: killing leftover process %d' % (
                        self.name, pid))
                    kill_and_reap(pid)
            if failed or self.ferryd_crashes:
                self._print_ferryd_log()
        finally:
            self._remove_tree(failed or bool(self.ferryd_crashes))
        if self.ferryd_crashes and not failed:
            raise AssertionError('; '.join(self.ferryd_crashes))

    def _print_ferryd_log(self):
        if self.dir and os.path.exists(self.ferryd_log):
            print('\n===== host %s: ferryd log tail (%s) =====\n%s\n'
                  '===== end of ferryd log =====' % (
                      self.name, self.ferryd_log,
                      _tail(self.ferryd_log, 80)),
                  file=sys.stderr, flush=True)

    def _remove_tree(self, failed):
        if self in _live_hosts:
            _live_hosts.remove(self)
        if self.dir:
            if os.environ.get('FERRY_KEEP_TMP') or \
                    (failed and os.environ.get('FERRY_KEEP_TMP_ON_FAIL')):
                log('host %s: keeping %s' % (self.name, self.dir))
            else:
                shutil.rmtree(self.dir, ignore_errors=True)

    # -- bus access as root
    def bus(self):
        if self._bus is None or self._bus.is_closed():
            self._bus = Gio.DBusConnection.new_for_address_sync(
                self.address,
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
                Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        return self._bus

    def name_owner(self, name):
        """The unique name owning name on this host's bus."""
        return self.call('/org/freedesktop/DBus', 'org.freedesktop.DBus',
                         'GetNameOwner', GLib.Variant('(s)', (name,)), 5,
                         dest='org.freedesktop.DBus')[0]

    def monitor(self, rules=()):
        """A BusMonitor of this host's bus."""
        return BusMonitor(self.address, rules)

    def name_has_owner(self, name):
        r = self.bus().call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                 'org.freedesktop.DBus', 'NameHasOwner',
                                 GLib.Variant('(s)', (name,)),
                                 GLib.VariantType('(b)'),
                                 Gio.DBusCallFlags.NONE, 5000, None)
        return r.unpack()[0]

    def call_variant(self, path, iface, method, args=None, timeout=25.0,
                     dest=BUS_NAME, reply_type=None):
        return self.bus().call_sync(
            dest, path, iface, method, args,
            GLib.VariantType(reply_type) if reply_type else None,
            Gio.DBusCallFlags.NONE, int(timeout * 1000), None)

    def call(self, path, iface, method, args=None, timeout=25.0,
             dest=BUS_NAME, reply_type=None):
        """Call as root; return the unpacked reply tuple; raise GLib.Error
        (see dbus_error()) on a D-Bus error."""
        return self.call_variant(path, iface, method, args, timeout, dest,
                                 reply_type).unpack()

    def get_prop(self, path, iface, prop, timeout=25.0):
        return self.call(path, PROPS_IFACE, 'Get',
                         GLib.Variant('(ss)', (iface, prop)),
                         timeout)[0]

    def get_all(self, path, iface, timeout=25.0):
        return self.call(path, PROPS_IFACE, 'GetAll',
                         GLib.Variant('(s)', (iface,)), timeout)[0]

    def introspect(self, path):
        xml = self.call(path, 'org.freedesktop.DBus.Introspectable',
                        'Introspect')[0]
        return Gio.DBusNodeInfo.new_for_xml(xml)

    def managed_objects(self):
        return self.call(ROOT_PATH, OM_IFACE, 'GetManagedObjects')[0]

    # -- manager/domain shortcuts
    def define_domain(self, keyfile_text):
        return self.call(ROOT_PATH, MANAGER_IFACE, 'DefineDomain',
                         GLib.Variant('(s)', (keyfile_text,)))[0]

    def domain_state(self, path):
        return self.get_prop(path, DOMAIN_IFACE, 'State')

    def wait_state(self, path, state, timeout=15.0):
        def ok():
            return self.domain_state(path) == state
        try:
            return wait_for(ok, timeout, 0.1)
        except AssertionError:
            raise AssertionError(
                'domain %s did not reach State %r within %.0fs (is %r)' % (
                    path, state, timeout, self.domain_state(path))) from None

    # -- unprivileged callers
    def as_user(self, uid, argv, timeout=60.0, background=False, gid=None,
                env=None):
        """Run argv as uid (no supplementary groups) with this host's bus as
        the system bus.  Return (rc, stdout, stderr), or the Popen when
        background=True (the caller must wait() for it)."""
        gid = uid if gid is None else gid
        extra = ['%s=%s' % kv for kv in (env or {}).items()]
        full = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % gid,
                '--clear-groups', 'env', '-i', 'HOME=/', 'LANG=C.UTF-8',
                'PATH=/usr/bin:/bin',
                'DBUS_SYSTEM_BUS_ADDRESS=' + self.address] + extra + \
            list(argv)
        _stop_if_terminating()
        if background:
            return subprocess.Popen(full, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        r = subprocess.run(full, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def dbus_call_argv(self, path, iface, method, args=None, timeout=25.0,
                       dest=BUS_NAME, interactive=False):
        argv = [SYSTEM_PY, self.dbus_call, '--timeout', str(timeout)]
        if interactive:
            argv.append('--interactive')
        argv += ['call', dest, path, iface, method]
        if args is not None:
            argv.append(args.print_(True))
        return argv

    def call_as(self, uid, path, iface, method, args=None, timeout=25.0,
                dest=BUS_NAME, background=False):
        """Method call through tests/e2e/dbus-call.py as uid.  Returns
        CallResult (ok, reply text / error name + message) or, with
        background=True, the Popen (use CallResult.from_proc)."""
        argv = self.dbus_call_argv(path, iface, method, args, timeout, dest)
        if background:
            return self.as_user(uid, argv, background=True)
        return CallResult(*self.as_user(uid, argv, timeout=timeout + 30))

    def get_prop_as(self, uid, path, iface, prop, timeout=25.0,
                    dest=BUS_NAME):
        argv = [SYSTEM_PY, self.dbus_call, '--timeout', str(timeout), 'get',
                dest, path, iface, prop]
        return CallResult(*self.as_user(uid, argv, timeout=timeout + 30))

    # -- polkit rules
    def _write_rules_file(self, name, js):
        final = os.path.join(self.rules_dir, name)
        tmp = os.path.join(self.rules_dir, '.' + name + '.tmp')
        with open(tmp, 'w') as f:
            f.write(js)
        shutil.chown(tmp, 'polkitd', 'root')
        os.chmod(tmp, 0o644)
        os.rename(tmp, final)
        return final

    def sync_rules(self, timeout=10.0):
        """Wait until polkitd has reloaded its rules from a listing of the
        rules directory taken after every change made so far.  polkitd
        reloads on inotify events, at a time of its choosing: a fresh
        no-op rules file (replacing the previous one) logs a fresh token
        when polkitd runs it, and that run belongs to a reload that
        listed the directory after the file was created."""
        self._rules_sync += 1
        token = 'ferrytest: rules sync #%d.' % self._rules_sync
        name = 'zz-ferrytest-sync-%d.rules' % self._rules_sync
        if self._rules_sync > 1:
            try:
                os.unlink(os.path.join(
                    self.rules_dir,
                    'zz-ferrytest-sync-%d.rules' % (self._rules_sync - 1)))
            except FileNotFoundError:
                pass
        self._write_rules_file(name, 'polkit.log("%s");\n' % token)

        def loaded():
            with open(self.polkitd_log, 'rb') as f:
                return token.encode() in f.read()
        try:
            wait_for(loaded, timeout, 0.02)
        except AssertionError:
            raise AssertionError(
                'polkitd of host %s did not reload its rules within %.0fs; '
                'log tail:\n%s' % (self.name, timeout,
                                   _tail(self.polkitd_log, 20))) from None

    def add_rule(self, name, js):
        """Install a polkit rules file; return once polkitd applies it."""
        if not name.endswith('.rules'):
            name += '.rules'
        final = self._write_rules_file(name, js)
        self.sync_rules()
        return final

    def remove_rule(self, name):
        """Remove a polkit rules file; return once polkitd has forgotten
        it."""
        if not name.endswith('.rules'):
            name += '.rules'
        try:
            os.unlink(os.path.join(self.rules_dir, name))
        except FileNotFoundError:
            pass
        self.sync_rules()

    def allow_rule(self, name, action_id, user='nobody'):
        """Add a rule: action_id is granted to user."""
        return self.add_rule(name, '''polkit.addRule(function(action, subject) {
    if (action.id == "%s" && subject.user == "%s") {
        polkit.log("ferrytest: grant " + action.id + " to " + subject.user);
        return polkit.Result.YES;
    }
});
''' % (action_id, user))

    def check_authorization(self, pid, action_id, details=None, uid=None):
        """Ask this host's polkitd directly (as root) whether process pid may
        do action_id.  Returns (is_authorized, is_challenge, details)."""
        subj = {'pid': GLib.Variant('u', pid),
                'start-time': GLib.Variant('t', 0)}
        if uid is not None:
            subj['uid'] = GLib.Variant('i', uid)
        args = GLib.Variant('((sa{sv})sa{ss}us)', (
            ('unix-process', subj), action_id, details or {}, 0, ''))
        r = self.call('/org/freedesktop/PolicyKit1/Authority',
                      'org.freedesktop.PolicyKit1.Authority',
                      'CheckAuthorization', args, 25,
                      dest='org.freedesktop.PolicyKit1')
        return r[0]

    # -- files
    def placeholder_kernel(self):
        p = os.path.join(self.dir, 'placeholder-kernel.elf')
        if not os.path.exists(p):
            with open(p, 'wb') as f:
                f.write(b'\x7fELF placeholder, never started\n')
        return p

    def console_log(self, domain):
        return os.path.join(self.state_dir, 'console', domain + '.log')

    def qmp_socket(self, domain):
        return os.path.join(self.runtime_dir, 'qemu', domain + '.qmp')

    def domain_conf(self, domain):
        return os.path.join(self.state_dir, 'domains', domain + '.conf')

    def qemu_pids(self):
        return find_processes([self.runtime_dir, self.state_dir])

    def qemu_pid(self, domain):
        """PID of this host's QEMU running domain (matched by its QMP socket
        path or console path on the command line), or None."""
        needles = [self.qmp_socket(domain), self.console_log(domain)]
        pids = find_processes(needles)
        return pids[0] if pids else None

    def tcp_connections(self, domain):
        """The established TCP connections of this host's QEMU running
        domain, as (local, peer) 'addr:port' pairs.  A QEMU's QMP socket
        and console are not TCP: these are its migration data links."""
        pid = self.qemu_pid(domain)
        if pid is None:
            return []
        out = subprocess.run(['ss', '-tnpH', 'state', 'established'],
                             capture_output=True, text=True,
                             check=True).stdout
        pairs = []
        for line in out.splitlines():
            if 'pid=%d,' % pid not in line:
                continue
            fields = line.split()
            # Recv-Q Send-Q Local Peer Process (the state is filtered)
            pairs.append((fields[2], fields[3]))
        return pairs

    def cut_data_link(self, domain, timeout=10.0):
        """Break the migration data link of domain's QEMU on this host,
        for real: the kernel destroys both ends of each TCP connection
        (ss -K), each side sees its socket fail.  Returns the connections
        cut."""
        pairs = wait_for(lambda: self.tcp_connections(domain), timeout,
                         0.02, msg='no data connection of %s' % domain)
        for local, peer in pairs:
            lport = local.rsplit(':', 1)[1]
            pport = peer.rsplit(':', 1)[1]
            subprocess.run(
                ['ss', '-K', '-tnH', 'state', 'established',
                 '( sport = :%s and dport = :%s ) or '
                 '( sport = :%s and dport = :%s )' % (lport, pport, pport,
                                                      lport)],
                capture_output=True, check=True)
        log('host %s: cut %s' % (self.name, pairs))
        return pairs

    def ferryd_log_text(self):
        try:
            with open(self.ferryd_log, 'rb') as f:
                return f.read().decode(errors='replace')
        except OSError:
            return ''

    def ferryd_log_tail(self, n=60):
        return _tail(self.ferryd_log, n)


class BusMessage:
    """A message seen by a BusMonitor."""

    def __init__(self, m):
        self.type = m.get_message_type()
        self.sender = m.get_sender()
        self.destination = m.get_destination()
        self.path = m.get_path()
        self.interface = m.get_interface()
        self.member = m.get_member()
        self.flags = m.get_flags()
        body = m.get_body()
        self.args = body.unpack() if body is not None else ()

    def __repr__(self):
        return '<%s %s -> %s %s %s.%s>' % (
            self.type.value_nick, self.sender, self.destination, self.path,
            self.interface, self.member)


class BusMonitor:
    """Watches a host's bus as a monitor (org.freedesktop.DBus.Monitoring,
    allowed to root by BUS_CONF): .messages are the BusMessages matching
    rules (match rules, e.g. "type='method_call',member='Foo'") sent
    after the constructor returned.  A context manager."""

    def __init__(self, address, rules=()):
        self.messages = []
        self.conn = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self._me = self.conn.get_unique_name()
        self._filter = self.conn.add_filter(self._on_message)
        self.conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                            'org.freedesktop.DBus.Monitoring', 'BecomeMonitor',
                            GLib.Variant('(asu)', (list(rules), 0)), None,
                            Gio.DBusCallFlags.NONE, 5000, None)

    def _on_message(self, conn, message, incoming):
        # runs in GDBus' worker thread; the monitored messages are not for
        # this connection: record them, and keep GDBus from answering
        if not incoming or message.get_destination() == self._me:
            return message
        self.messages.append(BusMessage(message))
        return None

    def wait(self, predicate, timeout=10.0, msg=None):
        """Wait for a message for which predicate(BusMessage) is true;
        return it."""
        def seen():
            for m in list(self.messages):
                if predicate(m):
                    return m
            return None
        return wait_for(seen, timeout, 0.01, msg)

    def close(self):
        if self.conn is not None:
            self.conn.remove_filter(self._filter)
            try:
                self.conn.close_sync(None)
            except GLib.Error:
                pass
            self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class CallResult:
    """Outcome of tests/e2e/dbus-call.py: .ok, .reply (text), .error_name,
    .error_message, .rc, .stdout, .stderr."""

    _ERR = re.compile(r'^ERROR (\S+?): (.*)$', re.S)

    def __init__(self, rc, stdout, stderr):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr
        self.ok = rc == 0
        self.reply = stdout.strip() if rc == 0 else None
        self.error_name = self.error_message = None
        if rc != 0:
            m = self._ERR.match(stdout.strip())
            if m:
                self.error_name, self.error_message = m.group(1), m.group(2)

    @classmethod
    def from_proc(cls, proc, timeout=60):
        out, err = proc.communicate(timeout=timeout)
        return cls(proc.returncode, out, err)

    def __repr__(self):
        return 'CallResult(rc=%s, out=%r, err=%r)' % (
            self.rc, self.stdout[-500:], self.stderr[-500:])


# ---------------------------------------------------------------- guests

def guest_keyfile(name, memory=64, append='wss=16 rate=0 hb=200', cpus=1,
                  kernel=None, machine='q35', extra='', accel='tcg'):
    """The test guest's description.  Accel=tcg by default (DESIGN §6):
    some machines have a /dev/kvm whose nested KVM cannot run the guest,
    and results must not depend on the machine."""
    kernel = kernel or os.environ.get('FERRY_TEST_GUEST', '')
    return ('[Domain]\nName=%s\nMemory=%s\nCPUs=%s\nMachine=%s\n'
            'Accel=%s\nKernel=%s\nAppend=%s\n%s' % (
                name, memory, cpus, machine, accel, kernel, append, extra))


def define_guest(host, name, memory=64, append='wss=16 rate=0 hb=200',
                 **kw):
    """DefineDomain the test guest on host; return the domain object path.
    Without FERRY_TEST_GUEST (tests that never start the guest) the kernel
    is a placeholder file in the host's tree."""
    if not kw.get('kernel') and not os.environ.get('FERRY_TEST_GUEST'):
        kw['kernel'] = host.placeholder_kernel()
    return host.define_domain(guest_keyfile(name, memory, append, **kw))


def start_guest(host, name, memory=64, append='wss=16 rate=0 hb=200',
                timeout=30.0, **kw):
    path = define_guest(host, name, memory, append, **kw)
    host.call(path, DOMAIN_IFACE, 'Start')
    host.wait_state(path, 'running', timeout)
    return path


_HB = re.compile(r'^HB (\d+)((?: \S+=\S*)*)\s*$')


def heartbeats(path):
    """Parse heartbeat lines 'HB <n> ms=.. gen=.. cur=.. dirtied_pages=..
    err=<e> verify_bad=<v>' from a console log; list of dicts (numeric
    values as int, 'n' = the counter)."""
    try:
        with open(path, 'rb') as f:
            text = f.read().decode(errors='replace')
    except FileNotFoundError:
        return []
    out = []
    lines = text.replace('\r', '\n').split('\n')
    # The last line is still being written (or the source stopped in the
    # middle of it, tests/guest/README.md): it may lack its last fields.
    for line in lines[:-1]:
        m = _HB.match(line.strip())
        if not m:
            continue
        hb = {'n': int(m.group(1))}
        for kv in m.group(2).split():
            k, _, v = kv.partition('=')
            try:
                hb[k] = int(v, 0)
            except ValueError:
                hb[k] = v
        out.append(hb)
    return out


def wait_heartbeats(host, domain, count=3, timeout=60.0):
    path = host.console_log(domain)
    try:
        return wait_for(lambda: len(heartbeats(path)) >= count and
                        heartbeats(path), timeout, 0.2)
    except AssertionError:
        raise AssertionError(
            'fewer than %d heartbeats from %s within %.0fs; console tail:\n%s'
            % (count, domain, timeout, _tail(path, 20))) from None


# ---------------------------------------------------------------- unittest

class HostTestCase(unittest.TestCase):
    """One Host per test class (started in setUpClass, always torn down).
    Subclasses set host_name, need_guest, start_ferryd."""

    host_name = 'a'
    need_guest = False
    need_ferryd = True
    _any_failed = False
    host = None

    @classmethod
    def setUpClass(cls):
        require_environment(ferryd=cls.need_ferryd, guest=cls.need_guest)
        cls._any_failed = False
        h = Host(cls.host_name, start_ferryd=cls.need_ferryd)
        h.__enter__()
        cls.host = h

    @classmethod
    def tearDownClass(cls):
        if cls.host is not None:
            host, cls.host = cls.host, None
            host.close(failed=cls._any_failed)

    def run(self, result=None):
        before = None
        if result is not None:
            before = len(result.failures) + len(result.errors)
        r = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            type(self)._any_failed = True
        return r

    def assertDBusError(self, name, fn, *args, contains=(), **kw):
        """fn(*args, **kw) must raise the D-Bus error name; the message must
        contain each of contains.  Returns the message."""
        try:
            r = fn(*args, **kw)
        except GLib.Error as e:
            got, msg = dbus_error(e)
            self.assertEqual(got, name, 'expected %s, got %s: %s' % (
                name, got, msg))
            for c in contains:
                self.assertIn(c, msg, 'error message of %s should mention %r'
                              % (name, c))
            return msg
        self.fail('expected D-Bus error %s, call returned %r' % (name, r))

    def assertCallError(self, res, names, contains=()):
        """res (CallResult) must be a D-Bus error with a name in names."""
        if isinstance(names, str):
            names = (names,)
        self.assertFalse(res.ok, 'call should have failed: %r' % res)
        self.assertIn(res.error_name, names, 'unexpected error: %r' % res)
        for c in contains:
            self.assertIn(c, res.error_message or '',
                          'error message should mention %r: %r' % (c, res))


FINAL_STATES = ('completed', 'failed', 'cancelled')


class TwoHostTestCase(HostTestCase):
    """Two hosts, A (self.a) and B (self.b), per test class, always torn
    down; and the helpers of tests that migrate from A to B."""

    a = b = None

    @classmethod
    def setUpClass(cls):
        require_environment(guest=True)
        cls._any_failed = False
        cls.a = Host('A')
        cls.a.__enter__()
        try:
            cls.b = Host('B')
            cls.b.__enter__()
        except BaseException:
            cls.a.close(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        # close() raises for a host whose ferryd crashed: the other one
        # is closed all the same
        b, a, cls.a, cls.b = cls.b, cls.a, None, None
        try:
            if b is not None:
                b.close(failed=cls._any_failed)
        finally:
            if a is not None:
                a.close(failed=cls._any_failed)

    def migrate(self, name, options=None, host=None, dest=None):
        """Manager.Migrate name from host (A) to dest (B's bus)."""
        host = host or self.a
        (path,) = host.call(ROOT_PATH, MANAGER_IFACE, 'Migrate',
                            GLib.Variant('(ssa{sv})', (
                                name, dest or self.b.address,
                                options or {})))
        return path

    def migrate_until_active(self, name, options):
        """Start migrating name with options; return once QEMU streams."""
        path = self.migrate(name, options)
        wait_for(lambda: self.a.get_prop(path, MIGRATION_IFACE, 'State') ==
                 'active', 30, msg='migration never became active')
        return path

    def wait_final(self, path, host=None, timeout=60):
        """The migration's properties once it ended."""
        host = host or self.a
        return wait_for(
            lambda: host.get_prop(path, MIGRATION_IFACE, 'State') in
            FINAL_STATES and host.get_all(path, MIGRATION_IFACE), timeout,
            0.05, msg='migration %s did not end' % path)


# Cleanups of processes that are not a host's (a browser, a web server):
# run by _cleanup_all() at exit and first thing on a teardown signal, so a
# test can make sure they never outlive it.  Each must be quick and safe to
# call from another thread and more than once.
_extra_cleanups = []


def add_cleanup(fn):
    """Register fn() to kill a test's own processes on any exit."""
    _extra_cleanups.append(fn)


def remove_cleanup(fn):
    if fn in _extra_cleanups:
        _extra_cleanups.remove(fn)


def _run_extra_cleanups():
    for fn in list(_extra_cleanups):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            log('cleanup %r failed: %s' % (fn, e))


def _cleanup_all():
    _run_extra_cleanups()
    for h in list(_live_hosts):
        try:
            h.close(failed=True)
        except Exception as e:  # noqa: BLE001
            log('cleanup of host %s failed: %s' % (h.name, e))


atexit.register(_cleanup_all)


# ---------------------------------------------------------------- signals

_terminating = threading.Event()
_term_lock = threading.Lock()
_watcher = None


def _stop_if_terminating():
    """Called before a host starts a process: once a teardown signal came,
    the caller (the main thread, still running the test) starts nothing
    more and waits for the teardown to end the process."""
    if _terminating.is_set():
        while True:
            time.sleep(3600)


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return '?'


def _kill_pids(pids, timeout=2.0):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(not _gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def _kill_everything():
    """SIGKILL every process of every live host, without grace: meson
    SIGKILLs the test's process group 0.5 s after its SIGTERM, and the
    QEMUs, in their own session, would outlive it.  ferryd goes first (it
    may be launching a QEMU); then every process whose command line
    mentions a host's tree (its QEMUs, dbus-daemon, unprivileged callers)
    and polkitd, again until nothing is left (a process forked meanwhile).
    Never waits on a Popen (the main thread may be doing so); a Popen
    already reaped is skipped (its pid may be another process's now)."""
    killed = []
    _run_extra_cleanups()

    def known(hosts, which):
        return [p.pid for h in hosts for p in which(h)
                if p is not None and p.returncode is None and
                not _gone(p.pid)]

    pids = known(list(_live_hosts), lambda h: (h.ferryd_proc,))
    for _ in range(5):
        killed += ['%d(%s)' % (p, _comm(p)) for p in pids]
        _kill_pids(pids)
        hosts = list(_live_hosts)
        dirs = [h.dir + os.sep for h in hosts if h.dir]
        pids = set(known(hosts, lambda h: (h.ferryd_proc, h.polkitd_proc,
                                           h.dbus_proc)))
        if dirs:
            pids.update(find_processes(dirs, ''))
        if not pids:
            break
    log('killed: %s%s' % (' '.join(killed) or 'nothing',
                          ' (left: %s)' % sorted(pids) if pids else ''))


def _terminate(signum):
    if not _term_lock.acquire(blocking=False):
        # the other thread is tearing down and ends the process
        while True:
            time.sleep(3600)
    _terminating.set()
    try:
        log('signal %d: tearing down' % signum)
        _kill_everything()
        for h in list(_live_hosts):
            h._closed = True
            h._print_ferryd_log()
            h._remove_tree(failed=True)
    except BaseException as e:  # noqa: BLE001
        log('teardown: %r' % (e,))
    finally:
        sys.stderr.flush()
        os._exit(128 + signum)


def _on_term(signum, frame):
    _terminate(signum)


def _signal_watcher(fd):
    while True:
        try:
            data = os.read(fd, 64)
        except InterruptedError:
            continue
        if not data:
            return
        for signum in data:
            if signum in (signal.SIGTERM, signal.SIGINT):
                _terminate(signum)


def install_signal_teardown():
    """On SIGTERM/SIGINT (meson's timeout, Ctrl-C) kill all hosts and exit
    128+signum.  A Python signal handler only runs once the main thread is
    back in Python code, not while it is blocked in a GLib call (a D-Bus
    call, a main context iteration): so the C-level handler also writes
    the signal number to a wakeup fd, which a thread reads to tear down
    at once, whatever the main thread is doing."""
    global _watcher
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    if _watcher is None:
        r, w = os.pipe()
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        _watcher = threading.Thread(target=_signal_watcher, args=(r,),
                                    name='ferrytest-signals', daemon=True)
        _watcher.start()


def main():
    """unittest.main() that tears hosts down on SIGTERM/SIGINT and exits 77
    (meson's SKIP) when every test was skipped."""
    install_signal_teardown()
    prog = unittest.main(exit=False, verbosity=2)
    res = prog.result
    if not res.wasSuccessful():
        sys.exit(1)
    if res.skipped and len(res.skipped) >= res.testsRun:
        sys.exit(77)
    sys.exit(0)
