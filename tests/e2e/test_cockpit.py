#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Cockpit page (DESIGN §9) in a real browser: cockpit-ws
--local-session on host A's private system bus serves cockpit/ from the
source tree, and tests/e2e/cockpit/page-test.js drives it in headless Chromium
(playwright-core with the Debian chromium): the page lists the running
guest, its Migrate dialog migrates it to host B, the progress bar rises
while the phase reads perform, the page shows the statistics once it
completed, and the guest's heartbeat carries on on B.

FERRY_COCKPIT_SCREENSHOT=PATH writes the screenshot taken during perform
to PATH (scripts/cockpit-screenshot.sh makes docs/cockpit-ferry.png so)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import ferrytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
PAGE_DIR = os.path.join(SOURCE_ROOT, 'cockpit')
NODE_DIR = os.path.join(HERE, 'cockpit')
PAGE_TEST = os.path.join(NODE_DIR, 'page-test.js')
CHROMIUM = '/usr/bin/chromium'
WS_CANDIDATES = ('/usr/lib/cockpit/cockpit-ws', '/usr/libexec/cockpit-ws')


def cockpit_ws():
    return shutil.which('cockpit-ws') or next(
        (p for p in WS_CANDIDATES if os.access(p, os.X_OK)), None)


def require_browser_stack():
    """Fail loudly (FERRY_ALLOW_SKIP=1: skip) when the browser test cannot
    run here; scripts/setup.sh installs all of it."""
    hint = ' (run scripts/setup.sh)'
    if not cockpit_ws():
        ferrytest._fail_or_skip('cockpit-ws not found' + hint)
    if not shutil.which('cockpit-bridge'):
        ferrytest._fail_or_skip('cockpit-bridge not found' + hint)
    if not os.path.exists('/usr/share/cockpit/base1/cockpit.js') and \
            not os.path.exists('/usr/share/cockpit/base1/cockpit.js.gz'):
        ferrytest._fail_or_skip('cockpit base1 (cockpit.js) not found' + hint)
    if not os.access(CHROMIUM, os.X_OK):
        ferrytest._fail_or_skip('%s not found (Debian package chromium)%s'
                                % (CHROMIUM, hint))
    if not shutil.which('node'):
        ferrytest._fail_or_skip('node not found (Debian package nodejs)' +
                                hint)
    if not os.path.exists(os.path.join(NODE_DIR, 'node_modules',
                                       'playwright-core', 'package.json')):
        ferrytest._fail_or_skip('playwright-core is not installed in %s%s'
                                % (os.path.join(NODE_DIR, 'node_modules'),
                                   hint))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Browser:
    """cockpit-ws for one host and the node/Chromium processes driving
    it, all torn down whatever happens (also on meson's SIGTERM, through
    ferrytest.add_cleanup)."""

    def __init__(self, host):
        self.host = host
        self.dir = tempfile.mkdtemp(prefix='ferry-cockpit-',
                                    dir=os.environ.get('FERRY_TMP') or '/tmp')
        os.chmod(self.dir, 0o755)
        xdg = os.path.join(self.dir, 'xdg', 'cockpit')
        os.makedirs(xdg)
        os.symlink(PAGE_DIR, os.path.join(xdg, 'ferry'))
        self.xdg_data_dirs = os.path.join(self.dir, 'xdg') + \
            ':/usr/local/share:/usr/share'
        self.profile = os.path.join(self.dir, 'chromium-profile')
        os.makedirs(self.profile)
        self.ws_log = os.path.join(self.dir, 'cockpit-ws.log')
        self.ws = None
        self.node = None
        self.port = None
        self.session_buses = {}  # uid (None: root) -> (Popen, address)
        ferrytest.add_cleanup(self.kill)

    def session_bus(self, uid=None):
        """The address of a session bus of our own for ws or Chromium
        (running as uid): without one, their stack autolaunches a session
        dbus-daemon that outlives the test."""
        if uid in self.session_buses:
            return self.session_buses[uid][1]
        bus_dir = os.path.join(self.dir, 'session-bus-%s' % (uid or 0))
        os.makedirs(bus_dir)
        argv = ['dbus-daemon', '--session', '--nofork',
                '--address=unix:path=' + os.path.join(bus_dir, 'socket')]
        if uid is not None:
            os.chown(bus_dir, uid, uid)
            argv = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % uid,
                    '--clear-groups'] + argv
        proc = ferrytest.start_dbus_daemon(
            argv, 'session bus in %s' % bus_dir,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        address = 'unix:path=' + os.path.join(bus_dir, 'socket')
        self.session_buses[uid] = (proc, address)
        return address

    def start_ws(self, uid=None):
        """Start cockpit-ws --local-session: its bridge runs as root, or
        as uid (a session user without rights).  Return the page's URL."""
        self.port = free_port()
        env = dict(os.environ,
                   DBUS_SYSTEM_BUS_ADDRESS=self.host.address,
                   XDG_DATA_DIRS=self.xdg_data_dirs,
                   # else the local-session bridge starts an ssh-agent
                   # that outlives ws
                   SSH_AUTH_SOCK='/dev/null',
                   LANG='C.UTF-8', LC_ALL='C.UTF-8',
                   DBUS_SESSION_BUS_ADDRESS=self.session_bus(uid))
        argv = [cockpit_ws(), '--local-session=cockpit-bridge',
                '--port', str(self.port), '--address', '127.0.0.1']
        if uid is not None:
            home = os.path.join(self.dir, 'home')
            os.makedirs(home)
            os.chown(home, uid, uid)
            env.update(HOME=home, USER='nobody', LOGNAME='nobody')
            env.pop('XDG_RUNTIME_DIR', None)
            argv = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % uid,
                    '--clear-groups'] + argv
        ferrytest.log('starting %s' % ' '.join(argv))
        with open(self.ws_log, 'ab') as out:
            self.ws = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            if self.ws.poll() is not None:
                raise RuntimeError('cockpit-ws exited (%s):\n%s' % (
                    self.ws.returncode, self.log_tail()))
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return True
            except OSError:
                return False
        ferrytest.wait_for(up, 10, 0.05, 'cockpit-ws listening on %d' %
                           self.port)
        return 'http://127.0.0.1:%d/cockpit/@localhost/ferry/index.html' % \
            self.port

    def log_tail(self):
        return ferrytest._tail(self.ws_log, 40)

    def run_page_test(self, env, timeout, on_line=None):
        """Run page-test.js; return (exit status, output).  on_line(line)
        is called (in a reader thread) for each line it prints."""
        full = dict(os.environ, USER_DATA_DIR=self.profile,
                    CHROMIUM=CHROMIUM, **env)
        full['DBUS_SESSION_BUS_ADDRESS'] = self.session_bus()
        self.node = subprocess.Popen(
            ['node', PAGE_TEST], env=full, cwd=NODE_DIR,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        lines = []

        def pump():
            for raw in self.node.stdout:
                line = raw.decode(errors='replace').rstrip('\n')
                lines.append(line)
                print(line, file=sys.stderr, flush=True)
                if on_line is not None:
                    try:
                        on_line(line)
                    except Exception as e:  # noqa: BLE001
                        lines.append('on_line(%r) failed: %r' % (line, e))
                        print(lines[-1], file=sys.stderr, flush=True)
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            rc = self.node.wait(timeout)
        except subprocess.TimeoutExpired:
            lines.append('page-test.js timed out after %ds' % timeout)
            self.kill()
            rc = None
        reader.join(5)
        self.node.stdout.close()
        return rc, '\n'.join(lines)

    def _pids_of_profile(self):
        """Chromium runs in its own process group (playwright starts it
        detached): find it by its profile directory."""
        return ferrytest.find_processes([self.profile], '')

    def kill(self):
        """SIGKILL ws (and its bridge), node and Chromium, and reap them.
        Safe from the signal thread and more than once."""
        groups = set()
        buses = [proc for proc, _ in self.session_buses.values()]
        for proc in [self.node, self.ws] + buses:
            if proc is not None and proc.returncode is None:
                groups.add(proc.pid)
        for pid in self._pids_of_profile():
            try:
                groups.add(os.getpgid(pid))
            except ProcessLookupError:
                pass
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in self._pids_of_profile():
            ferrytest.kill_and_reap(pid)
        for proc in buses:
            if proc.returncode is None:
                proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self._pids_of_profile():
            time.sleep(0.05)

    def close(self):
        # ws first: SIGTERM lets it end its bridge; then everything else
        if self.ws is not None:
            ferrytest.stop_process(self.ws, signal.SIGTERM, 5.0)
        if self.node is not None:
            ferrytest.stop_process(self.node, signal.SIGTERM, 5.0)
        self.kill()
        for proc in (self.ws, self.node):
            if proc is not None and proc.returncode is None:
                proc.wait(5)
        ferrytest.remove_cleanup(self.kill)
        shutil.rmtree(self.dir, ignore_errors=True)


class CockpitTest(ferrytest.TwoHostTestCase):

    @classmethod
    def setUpClass(cls):
        require_browser_stack()
        super().setUpClass()

    def setUp(self):
        self.browser = Browser(self.a)

    def tearDown(self):
        self.browser.close()

    def page_test(self, scenario, name, timeout=150, **env):
        t = time.monotonic()
        on_line = env.pop('on_line', None)
        rc, out = self.browser.run_page_test(dict(
            SCENARIO=scenario, COCKPIT_URL=self.url, FERRY_DOMAIN=name,
            FERRY_DEST=self.b.address, **env), timeout, on_line)
        ferrytest.log('page-test.js (%s) ended with %s after %.1fs' % (
            scenario, rc, time.monotonic() - t))
        self.assertEqual(rc, 0, 'the browser test failed:\n%s\n'
                         '----- cockpit-ws log -----\n%s' % (
                             out[-6000:], self.browser.log_tail()))
        return out

    def start_guest(self, name, append='wss=64 rate=0 hb=200'):
        path = ferrytest.start_guest(self.a, name, memory=128, append=append)
        ferrytest.wait_heartbeats(self.a, name, 3)
        return path

    def assert_continues_on_b(self, name):
        """The guest left A and its heartbeat continues A's count on B,
        with zero memory errors."""
        dom = ferrytest.domain_path(name)
        self.assertEqual(self.b.domain_state(dom), 'running')
        ferrytest.wait_for(lambda: self.a.qemu_pid(name) is None, 10,
                           msg='source QEMU still running')
        last_a = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        hb_b = ferrytest.wait_heartbeats(self.b, name, 3, 30)
        self.assertEqual(hb_b[0]['n'], last_a + 1,
                         'heartbeat on B does not continue A\'s count: A '
                         'ended at %d, B began at %d' % (last_a,
                                                         hb_b[0]['n']))
        for hb in hb_b:
            self.assertEqual(hb.get('err'), 0, 'memory errors on B: %r' % hb)
            self.assertEqual(hb.get('verify_bad'), 0, hb)
        self.b.call(dom, ferrytest.DOMAIN_IFACE, 'Shutdown', timeout=30)

    def assert_still_on_a(self, name, dom_a):
        """The guest runs on A with its heartbeat intact; no QEMU on B."""
        self.a.wait_state(dom_a, 'running', 10)
        before = ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
        ferrytest.wait_for(
            lambda: ferrytest.heartbeats(self.a.console_log(name))[-1]['n']
            >= before + 2, 10, msg='guest on A stopped beating')
        for hb in ferrytest.heartbeats(self.a.console_log(name)):
            self.assertEqual(hb.get('err'), 0, hb)
        self.assertIsNone(self.b.qemu_pid(name), 'QEMU left on B')
        self.a.call(dom_a, ferrytest.DOMAIN_IFACE, 'Shutdown', timeout=30)

    def test_01_migrate_from_page(self):
        name = 'web'
        self.start_guest(name)
        self.url = self.browser.start_ws()
        shot = os.environ.get('FERRY_COCKPIT_SCREENSHOT') or \
            os.path.abspath('cockpit-ferry.png')
        shot_done = os.path.splitext(shot)[0] + '-completed.png'
        self.page_test('migrate', name, SCREENSHOT=shot,
                       SCREENSHOT_DONE=shot_done)
        self.assertTrue(os.path.getsize(shot) > 10000, 'no screenshot')

        # what the page said is what happened: the guest carries on on B
        props = self.wait_final(self.last_migration(), timeout=10)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(dict(props['Options']), {'max-bandwidth': 16 << 20},
                         'the dialog must pass just the options given, '
                         '16 MiB/s in bytes/s')
        self.assert_continues_on_b(name)

    def test_02_cancel_from_page(self):
        name = 'cxl'
        dom_a = self.start_guest(name)
        self.url = self.browser.start_ws()
        self.page_test('cancel', name)
        props = self.wait_final(self.last_migration(), timeout=10)
        self.assertEqual(props['State'], 'cancelled', props)
        self.assert_still_on_a(name, dom_a)

    def test_03_postcopy_from_page(self):
        name = 'pc'
        # a guest dirtying faster than an 8 MiB/s link never converges
        self.start_guest(name, append='wss=48 rate=200 hb=200')
        self.url = self.browser.start_ws()
        self.page_test('postcopy', name)
        props = self.wait_final(self.last_migration(), timeout=10)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        self.assertEqual(props['Options'].get('postcopy'), 'manual')
        self.assert_continues_on_b(name)

    def test_04_postcopy_auto_from_page(self):
        name = 'auto'
        self.start_guest(name, append='wss=48 rate=200 hb=200')
        self.url = self.browser.start_ws()
        self.page_test('auto', name)
        props = self.wait_final(self.last_migration(), timeout=10)
        self.assertEqual(props['State'], 'completed', props)
        self.assertEqual(props['Mode'], 'postcopy')
        self.assertEqual(dict(props['Options']), {
            'postcopy': 'auto', 'max-bandwidth': 8 << 20,
            'max-downtime': 50})
        self.assert_continues_on_b(name)

    def test_05_unprivileged(self):
        name = 'watch'
        dom_a = self.start_guest(name)
        self.url = self.browser.start_ws(uid=ferrytest.NOBODY)
        started_file = os.path.join(self.browser.dir, 'started')
        started = []

        def on_line(line):
            # the page is open and its Migrate was refused: start one
            # elsewhere (ferryctl, as root), which the page must show at
            # once
            if line.strip() != 'READY':
                return
            r = subprocess.run(
                [os.environ['FERRYCTL'], '--address', self.a.address,
                 '--no-wait', '--json', 'migrate', name, self.b.address,
                 '--max-bandwidth=%d' % (4 << 20)],
                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=60)
            self.assertEqual(r.returncode, 0, r)
            path = json.loads(r.stdout.splitlines()[0])['path']
            ms = int(time.time() * 1000)
            started.append(path)
            tmp = started_file + '.tmp'
            with open(tmp, 'w') as f:
                f.write(str(ms))
            os.rename(tmp, started_file)

        self.page_test('unprivileged', name, STARTED_FILE=started_file,
                       on_line=on_line)
        self.assertEqual(len(started), 1)
        # the refused Migrate made no migration; the refused Cancel
        # cancelled nothing
        self.assertEqual(self.last_migration(), started[0])
        self.assertNotIn(
            self.a.get_prop(started[0], ferrytest.MIGRATION_IFACE, 'State'),
            ferrytest.FINAL_STATES)
        self.a.call(started[0], ferrytest.MIGRATION_IFACE, 'Cancel')
        props = self.wait_final(started[0], timeout=30)
        self.assertEqual(props['State'], 'cancelled', props)
        self.assert_still_on_a(name, dom_a)

    def test_06_in_the_shell(self):
        """The package as Cockpit sees it: "Migrations" in the menu, the
        page working in the shell's frame."""
        name = 'shown'
        dom_a = ferrytest.define_guest(self.a, name)
        self.a.call(dom_a, ferrytest.DOMAIN_IFACE, 'Start')
        self.a.wait_state(dom_a, 'running', 30)
        r = subprocess.run(['cockpit-bridge', '--packages'], env=dict(
            os.environ, XDG_DATA_DIRS=self.browser.xdg_data_dirs),
            capture_output=True, text=True, timeout=30)
        line = next((ln for ln in r.stdout.splitlines()
                     if ln.split()[:1] == ['ferry']), '')
        self.assertIn('Migrations', line, 'cockpit-bridge --packages:\n' +
                      r.stdout + r.stderr)
        self.assertTrue(line.rstrip().endswith(os.path.join('cockpit',
                                                            'ferry')), line)
        self.url = self.browser.start_ws()
        self.page_test('shell', name, SHELL_URL='http://127.0.0.1:%d/ferry'
                       % self.browser.port)
        self.a.call(dom_a, ferrytest.DOMAIN_IFACE, 'Shutdown', timeout=30)

    def last_migration(self):
        (paths,) = self.a.call(ferrytest.ROOT_PATH, ferrytest.MANAGER_IFACE,
                               'ListMigrations')
        self.assertTrue(paths, 'no migration on A')
        return sorted(paths, key=lambda p: int(p.rsplit('/', 1)[1]))[-1]


if __name__ == '__main__':
    ferrytest.main()
