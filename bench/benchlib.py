# SPDX-License-Identifier: LGPL-2.1-or-later
"""What every benchmark here does before it measures: point the e2e
harness (tests/e2e/ferrytest.py) at one build's artefacts, and refuse to
run without root (the hosts need private mounts and their own polkitd)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(HERE)


def use_build(build_dir, **extra):
    """Set FERRYD, FERRY_TEST_GUEST, FERRY_POLICY and FERRY_BUS_POLICY (and
    extra NAME=path pairs) to build_dir's artefacts unless the environment
    names others already; return build_dir as an absolute path."""
    bd = os.path.abspath(build_dir)
    defaults = {
        'FERRYD': os.path.join(bd, 'ferryd', 'ferryd'),
        'FERRY_TEST_GUEST': os.path.join(bd, 'tests', 'guest',
                                         'ferry-test-guest.elf'),
        'FERRY_POLICY': os.path.join(bd, 'data', 'polkit',
                                     'org.ferryvm.ferry1.policy'),
        'FERRY_BUS_POLICY': os.path.join(SRC_ROOT, 'data', 'dbus',
                                         'org.ferryvm.Ferry1.conf'),
    }
    defaults.update(extra)
    for k, v in defaults.items():
        os.environ.setdefault(k, v)
    return bd


def require_root(tool):
    if os.geteuid() != 0:
        sys.exit('%s: run as root' % tool)


# ---------------------------------------------------------------- memory
#
# Management memory is read from /proc/PID/status: VmRSS (resident now)
# and VmHWM (the peak resident set). VmHWM is a peak over the process'
# whole life unless it is reset: writing "5" to /proc/PID/clear_refs
# (Linux >= 4.0, root) sets it back to the current VmRSS, so a reset just
# before a migration and a read just after give that migration's peak.

def proc_mem_kib(pid):
    """{'rss': VmRSS, 'hwm': VmHWM} of pid in KiB, or None if it is gone."""
    if not pid:
        return None
    out = {}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                key, _, val = line.partition(':')
                if key in ('VmRSS', 'VmHWM'):
                    out[key[2:].lower()] = int(val.split()[0])
    except (OSError, ValueError):
        return None
    return out if len(out) == 2 else None


def reset_peak(pid):
    """Set pid's VmHWM back to its VmRSS; False if the kernel refused."""
    try:
        with open('/proc/%d/clear_refs' % pid, 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def mem_sum(pids, field):
    """Sum of one field ('rss' or 'hwm') over pids, None if one is gone."""
    total = 0
    for pid in pids:
        m = proc_mem_kib(pid)
        if m is None:
            return None
        total += m[field]
    return total


TIME = '/usr/bin/time'


def run_peak(argv, timeout=None):
    """Run argv to its end like subprocess.run(capture_output=True, text=True)
    and also return its own peak resident set and CPU time. Returns
    (returncode, stdout, stderr, peak_kib, cpu_ms).

    The figures come from GNU time (TIME: %M, %U, %S, its wait4 rusage of
    the command). The command is not waited for from this script directly
    because a child's ru_maxrss includes the resident set of the process
    it was forked from until its exec: from Python that is the whole
    interpreter (~14 MiB, more than some commands ever use). Forked from
    time (~1 MiB), the figure is the command's own peak."""
    import signal
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile('r') as rep:
        # a group of its own: on a timeout the command goes too, not time
        p = subprocess.Popen([TIME, '-f', '%M %U %S', '-o', rep.name] +
                             list(argv), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise
        # "Command exited with non-zero status N" may come first
        lines = rep.read().split('\n')
    peak = cpu = None
    for line in reversed(lines):
        f = line.split()
        if len(f) == 3:
            try:
                peak = int(f[0])
                cpu = (float(f[1]) + float(f[2])) * 1000.0
            except ValueError:
                continue
            break
    return p.returncode, out, err, peak, cpu


def growth_per_run(samples):
    """samples: [(run_index, kib)] in order, the index counting every
    migration of the path (cancelled ones too). Returns (first, last,
    migrations between them, KiB per migration) or None with fewer than
    2 samples."""
    samples = [s for s in samples if s[1] is not None]
    if len(samples) < 2 or samples[-1][0] == samples[0][0]:
        return None
    (i0, k0), (i1, k1) = samples[0], samples[-1]
    return k0, k1, i1 - i0, (k1 - k0) / float(i1 - i0)
