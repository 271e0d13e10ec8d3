#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Boots the Ferry test guest under QEMU (TCG) and checks its heartbeats.

Usage: test-guest.py <ferry-test-guest.elf>

Exit status: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64).
"""

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

QEMU = os.environ.get("FERRY_TEST_QEMU", "qemu-system-x86_64")
APPEND = "wss=16 rate=8 hb=200 chk=2"
PANIC_AFTER = 3
PANIC_APPEND = APPEND + " panic=%d" % PANIC_AFTER
WANT_HEARTBEATS = 5
DEADLINE_S = 15.0
STATUS_MAGIC = 0x59525246

HB_RE = re.compile(
    r"^HB (?P<n>\d+) ms=(?P<ms>\d+) gen=(?P<gen>\d+) cur=(?P<cur>\d+) "
    r"dirtied_pages=(?P<dirtied>\d+) err=(?P<err>\d+) verify_bad=(?P<verify_bad>\d+)$"
)
START_RE = re.compile(r"^GUEST start wss=(?P<wss>\d+) rate=(?P<rate>\d+|max) mem=(?P<mem>\d+)\b")


class CheckError(Exception):
    pass


def parse_heartbeats(text):
    """Returns the complete heartbeat lines of a serial log as dicts of ints."""
    beats = []
    lines = text.split("\n")
    for line in lines[:-1]:  # the last element is an unfinished line (or "")
        m = HB_RE.match(line)
        if m:
            beats.append({k: int(v) for k, v in m.groupdict().items()})
    return beats


def check_heartbeats(beats, want=WANT_HEARTBEATS):
    """Raises CheckError unless the heartbeats show a healthy guest."""
    if len(beats) < want:
        raise CheckError("only %d heartbeats, want %d" % (len(beats), want))
    for prev, cur in zip(beats, beats[1:]):
        if cur["n"] != prev["n"] + 1:
            raise CheckError("heartbeat %d follows %d" % (cur["n"], prev["n"]))
        if cur["ms"] <= prev["ms"]:
            raise CheckError("ms did not increase at HB %d" % cur["n"])
    for b in beats:
        if b["err"] != 0:
            raise CheckError("HB %d: err=%d" % (b["n"], b["err"]))
        if b["verify_bad"] != 0:
            raise CheckError("HB %d: verify_bad=%d" % (b["n"], b["verify_bad"]))
        if b["dirtied"] <= 0:
            raise CheckError("HB %d: dirtied_pages=%d" % (b["n"], b["dirtied"]))


def self_check():
    """The checker must be able to fail."""
    good = "".join(
        "HB %d ms=%d gen=1 cur=%d dirtied_pages=400 err=0 verify_bad=0\n" % (i, i * 200, i * 400)
        for i in range(1, 7)
    )
    check_heartbeats(parse_heartbeats(good))
    bad_cases = {
        "err=1": good.replace("HB 3 ms=600 gen=1 cur=1200 dirtied_pages=400 err=0",
                              "HB 3 ms=600 gen=1 cur=1200 dirtied_pages=400 err=1"),
        "verify_bad=2": good.replace("cur=2000 dirtied_pages=400 err=0 verify_bad=0",
                                     "cur=2000 dirtied_pages=400 err=0 verify_bad=2"),
        "gap": good.replace("HB 4 ", "HB 9 "),
        "no dirtying": good.replace("dirtied_pages=400", "dirtied_pages=0"),
        "too few": "\n".join(good.split("\n")[:3]) + "\n",
    }
    for name, text in bad_cases.items():
        assert text != good, name
        try:
            check_heartbeats(parse_heartbeats(text))
        except CheckError:
            continue
        raise AssertionError("self-check: checker accepted a bad log (%s)" % name)
    # A torn last line (as on a source stopped mid-print) is not a heartbeat.
    assert len(parse_heartbeats(good + "HB 7 ms=14")) == 6


def set_pdeathsig():
    """In the child: die with SIGKILL if the test process dies first."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Qmp:
    """A minimal QMP client on a UNIX socket. Events are skipped."""

    def __init__(self, path, deadline):
        """Connects, retrying until the deadline (QEMU may not listen yet)."""
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5.0)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() >= deadline:
                    raise CheckError("no QMP socket at %s" % path)
                time.sleep(0.05)
        self.sock = s
        self.file = s.makefile("rw", encoding="utf-8")
        try:
            json.loads(self.file.readline())  # greeting
            self.command("qmp_capabilities")
        except (OSError, ValueError) as e:
            self.close()
            raise CheckError("QMP handshake: %s" % e)
        except BaseException:
            self.close()
            raise

    def command(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        try:
            self.file.write(json.dumps(msg) + "\n")
            self.file.flush()
        except OSError as e:
            raise CheckError("QMP %s: %s" % (cmd, e))
        while True:
            try:
                line = self.file.readline()
            except OSError as e:
                raise CheckError("QMP %s: %s" % (cmd, e))
            if not line:
                raise CheckError("QMP connection closed")
            reply = json.loads(line)
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise CheckError("QMP %s: %s" % (cmd, reply["error"]))

    def close(self):
        self.file.close()
        self.sock.close()


def qmp_read_status(qmp):
    """Reads the guest status block at 0x7000 through QMP/HMP."""
    out = qmp.command("human-monitor-command", **{"command-line": "xp /12wx 0x7000"})
    # HMP prints "0000000000007000: 0x... 0x... 0x... 0x...", 4 per line.
    words = []
    for line in out.splitlines():
        if ":" in line:
            words += [int(w, 16) for w in line.split(":", 1)[1].split()]
    names = ["magic", "n", "ms", "gen", "err", "verify_bad", "cur", "state",
             "wss_pages", "base", "rate", "verifies"]
    if len(words) < len(names):
        raise CheckError("unexpected xp output: %r" % out)
    return dict(zip(names, words))


def read_serial(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Guest:
    """One QEMU running the test guest; stop() kills and reaps it."""

    def __init__(self, elf, tmp, name, append, extra_args=(), machine="q35"):
        self.serial = os.path.join(tmp, name + "-serial.log")
        self.qmp_path = os.path.join(tmp, name + "-qmp.sock")
        self.text = ""
        cmd = [
            QEMU, "-machine", machine, "-accel", "tcg", "-cpu", "qemu64", "-m", "64", "-smp", "1",
            "-display", "none", "-nodefaults", "-no-user-config",
            "-kernel", elf, "-append", append,
            "-serial", "file:" + self.serial,
            "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
        ] + list(extra_args)
        print("# " + " ".join(cmd))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=set_pdeathsig)

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise CheckError("QEMU exited early with status %d" % self.proc.returncode)

    def read_serial(self):
        self.text = read_serial(self.serial)
        return self.text

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def check_panic_log(text, n):
    """Raises CheckError unless the log shows heartbeats 1..n, then the panic
    line, then nothing."""
    lines = text.split("\n")
    if lines[-1] != "":
        raise CheckError("log ends with an unfinished line %r" % lines[-1])
    lines = lines[:-1]
    want = "GUEST panic after HB %d" % n
    panics = [l for l in lines if l.startswith("GUEST panic")]
    if panics != [want]:
        raise CheckError("panic lines %r, want [%r]" % (panics, want))
    if lines[-1] != want:
        raise CheckError("last line is %r, want %r" % (lines[-1], want))
    beats = parse_heartbeats(text)
    if [b["n"] for b in beats] != list(range(1, n + 1)):
        raise CheckError("heartbeats %r, want 1..%d" % ([b["n"] for b in beats], n))
    m = HB_RE.match(lines[-2]) if len(lines) >= 2 else None
    if not m or int(m.group("n")) != n:
        raise CheckError("panic line does not follow HB %d" % n)
    check_heartbeats(beats, want=n)


def self_check_panic():
    """The panic-log checker must be able to fail."""
    good = "GUEST start wss=16 rate=8 mem=64 base=2 hb=200 chk=2\nGUEST filled\n" + "".join(
        "HB %d ms=%d gen=1 cur=%d dirtied_pages=400 err=0 verify_bad=0\n" % (i, i * 200, i * 400)
        for i in range(1, PANIC_AFTER + 1)
    ) + "GUEST panic after HB %d\n" % PANIC_AFTER
    check_panic_log(good, PANIC_AFTER)
    hb4 = "HB 4 ms=800 gen=1 cur=1600 dirtied_pages=400 err=0 verify_bad=0\n"
    bad_cases = {
        "no panic line": good.replace("GUEST panic after HB 3\n", ""),
        "wrong number": good.replace("after HB 3", "after HB 2"),
        "heartbeat after panic": good + hb4,
        "heartbeat before panic": good.replace("GUEST panic", hb4 + "GUEST panic"),
        "missing heartbeat": good.replace("HB 2 ", "HB 7 "),
        "torn end": good + "HB 4 ms=",
        "err=1": good.replace("HB 2 ms=400 gen=1 cur=800 dirtied_pages=400 err=0",
                              "HB 2 ms=400 gen=1 cur=800 dirtied_pages=400 err=1"),
    }
    for name, text in bad_cases.items():
        assert text != good, name
        try:
            check_panic_log(text, PANIC_AFTER)
        except CheckError:
            continue
        raise AssertionError("self-check: panic checker accepted a bad log (%s)" % name)


def run_heartbeats(elf, tmp):
    """Boots the guest, waits for heartbeats and checks them and the status block."""
    guest = Guest(elf, tmp, "hb", APPEND)
    try:
        deadline = time.monotonic() + DEADLINE_S
        beats = []
        while time.monotonic() < deadline:
            guest.check_alive()
            beats = parse_heartbeats(guest.read_serial())
            if len(beats) >= WANT_HEARTBEATS:
                break
            time.sleep(0.1)

        lines = guest.text.split("\n")
        m = START_RE.match(lines[0]) if lines else None
        if not m:
            raise CheckError("no GUEST start line")
        if (m.group("wss"), m.group("rate"), m.group("mem")) != ("16", "8", "64"):
            raise CheckError("unexpected start line: %r" % lines[0])
        if "GUEST filled" not in lines:
            raise CheckError("no GUEST filled line")
        check_heartbeats(beats)
        print("ok - %d heartbeats, HB %d..%d, err=0 verify_bad=0"
              % (len(beats), beats[0]["n"], beats[-1]["n"]))

        qmp = Qmp(guest.qmp_path, time.monotonic() + 5.0)
        try:
            st = qmp_read_status(qmp)
        finally:
            qmp.close()
        if st["magic"] != STATUS_MAGIC:
            raise CheckError("status block magic 0x%08x" % st["magic"])
        if st["n"] < beats[-1]["n"] or st["err"] != 0 or st["verify_bad"] != 0:
            raise CheckError("status block disagrees: %r" % st)
        if st["wss_pages"] != 16 * 256 or st["state"] != 2 or st["verifies"] < 1:
            raise CheckError("status block disagrees: %r" % st)
        print("ok - status block at 0x7000: %r" % st)
    except CheckError as e:
        guest.read_serial()
        raise CheckError("%s\n# serial log:\n%s" % (e, "".join(
            "#   " + l + "\n" for l in guest.text.split("\n"))))
    finally:
        guest.stop()


def run_panic(elf, tmp):
    """Boots the guest with panic=N and a pvpanic device that pauses QEMU on a
    guest panic; checks the status, the log, and that QEMU is still there."""
    guest = Guest(elf, tmp, "panic", PANIC_APPEND,
                  ["-device", "pvpanic", "-action", "panic=pause"])
    qmp = None
    try:
        deadline = time.monotonic() + DEADLINE_S
        qmp = Qmp(guest.qmp_path, deadline)
        status = None
        while True:
            guest.check_alive()
            status = qmp.command("query-status")
            if status.get("status") == "guest-panicked":
                break
            if time.monotonic() >= deadline:
                raise CheckError("status still %r after %.0f s" % (status, DEADLINE_S))
            time.sleep(0.1)
        if status.get("running"):
            raise CheckError("guest-panicked but running: %r" % status)
        print("ok - query-status: %r" % status)

        check_panic_log(guest.read_serial(), PANIC_AFTER)
        print("ok - log: HB 1..%d, then \"GUEST panic after HB %d\"" % (PANIC_AFTER, PANIC_AFTER))

        # Paused, not gone: the process lives and still answers, still panicked.
        guest.check_alive()
        status = qmp.command("query-status")
        if status.get("status") != "guest-panicked":
            raise CheckError("status changed to %r" % status)
        print("ok - QEMU (pid %d) still alive, paused" % guest.proc.pid)

        try:
            qmp.command("quit")
        except CheckError:
            pass  # QEMU may close the socket before its reply arrives
        try:
            guest.proc.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            raise CheckError("QEMU did not quit")
    except CheckError as e:
        guest.read_serial()
        raise CheckError("%s\n# serial log:\n%s" % (e, "".join(
            "#   " + l + "\n" for l in guest.text.split("\n"))))
    finally:
        try:
            if qmp is not None:
                qmp.close()
        finally:
            guest.stop()


@contextlib.contextmanager
def serial_log_on_failure(guest):
    """Adds the guest's serial log to a CheckError, and stops the guest."""
    try:
        yield
    except CheckError as e:
        guest.read_serial()
        raise CheckError("%s\n# serial log:\n%s" % (e, "".join(
            "#   " + l + "\n" for l in guest.text.split("\n")))) from None
    finally:
        guest.stop()


def poll_heartbeats(guest, count, deadline, what):
    """Until the serial log holds count heartbeats. QEMU appends to a
    plain file, so there is nothing to wait on but the file itself."""
    while len(parse_heartbeats(guest.read_serial())) < count:
        guest.check_alive()
        if time.monotonic() >= deadline:
            raise CheckError(what)
        time.sleep(0.05)


def press_power_button(elf, tmp, machine, append, obeys):
    """Presses the ACPI power button (QMP system_powerdown) once the guest
    beats: with obeys, the guest must power off and QEMU end; without, the
    guest must go on beating."""
    name = "power-%s" % machine if obeys else "power-ignored"
    guest = Guest(elf, tmp, name, append, machine=machine)
    with serial_log_on_failure(guest):
        deadline = time.monotonic() + DEADLINE_S
        qmp = Qmp(guest.qmp_path, deadline)
        try:
            poll_heartbeats(guest, 1, deadline,
                            "no heartbeat within %.0f s" % DEADLINE_S)
            try:
                qmp.command("system_powerdown")
            except CheckError:
                if not obeys:
                    raise
                # QEMU may end before its reply arrives
            if obeys:
                try:
                    guest.proc.wait(timeout=10.0)
                except subprocess.TimeoutExpired:
                    raise CheckError("%s: the guest ignored the power button" % machine)
                if "GUEST power off after HB" not in guest.read_serial():
                    raise CheckError("%s: QEMU ended without the guest's power-off line"
                                     % machine)
                print("ok - %s: power button -> guest powered off, QEMU ended (status %d)"
                      % (machine, guest.proc.returncode))
                return
            # the button was seen (or not) within a millisecond; two more
            # heartbeats show the guest went on
            poll_heartbeats(guest, len(parse_heartbeats(guest.read_serial())) + 2,
                            deadline, "acpi=0: no heartbeats after the power button")
            if "GUEST power off" in guest.text:
                raise CheckError("acpi=0: the guest powered off")
            print("ok - acpi=0: power button ignored, heartbeats go on")
        finally:
            qmp.close()


def run_power_button(elf, tmp):
    """The guest powers off on the ACPI power button on both machine types
    Ferry's tests use, and QEMU ends; with acpi=0 it ignores the button
    and keeps beating."""
    for machine in ("q35", "pc"):
        press_power_button(elf, tmp, machine, APPEND, obeys=True)
    press_power_button(elf, tmp, "q35", APPEND + " acpi=0", obeys=False)


def main():
    if len(sys.argv) != 2:
        print("usage: test-guest.py GUEST.ELF", file=sys.stderr)
        return 2
    elf = sys.argv[1]

    self_check()
    self_check_panic()
    print("ok - checker self-check")

    if shutil.which(QEMU) is None:
        print("SKIP: %s not found" % QEMU)
        return 77

    # Turn SIGTERM (meson's timeout) into an exception so the finally runs.
    def on_term(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)

    signal.signal(signal.SIGTERM, on_term)

    tmp = tempfile.mkdtemp(prefix="ferry-guest-")
    try:
        run_heartbeats(elf, tmp)
        run_panic(elf, tmp)
        run_power_button(elf, tmp)
    except CheckError as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
