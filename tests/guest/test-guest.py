#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Boots the Ferry test guest under QEMU (TCG) and checks its heartbeats.

Usage: test-guest.py <ferry-test-guest.elf>

Exit status: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64).
"""

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


def qmp_read_status(path, timeout=5.0):
    """Reads the guest status block at 0x7000 through QMP/HMP."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile("rw", encoding="utf-8")

    def command(cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        f.write(json.dumps(msg) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                raise CheckError("QMP connection closed")
            reply = json.loads(line)
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise CheckError("QMP %s: %s" % (cmd, reply["error"]))

    try:
        json.loads(f.readline())  # greeting
        command("qmp_capabilities")
        out = command("human-monitor-command", **{"command-line": "xp /12wx 0x7000"})
    finally:
        f.close()
        s.close()
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


def main():
    if len(sys.argv) != 2:
        print("usage: test-guest.py GUEST.ELF", file=sys.stderr)
        return 2
    elf = sys.argv[1]

    self_check()
    print("ok - checker self-check")

    if shutil.which(QEMU) is None:
        print("SKIP: %s not found" % QEMU)
        return 77

    # Turn SIGTERM (meson's timeout) into an exception so the finally runs.
    def on_term(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)

    signal.signal(signal.SIGTERM, on_term)

    tmp = tempfile.mkdtemp(prefix="ferry-guest-")
    serial = os.path.join(tmp, "serial.log")
    qmp = os.path.join(tmp, "qmp.sock")
    cmd = [
        QEMU, "-machine", "q35", "-accel", "tcg", "-cpu", "qemu64", "-m", "64", "-smp", "1",
        "-display", "none", "-nodefaults", "-no-user-config",
        "-kernel", elf, "-append", APPEND,
        "-serial", "file:" + serial,
        "-qmp", "unix:%s,server=on,wait=off" % qmp,
    ]
    print("# " + " ".join(cmd))
    proc = None
    text = ""
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=set_pdeathsig)
        deadline = time.monotonic() + DEADLINE_S
        beats = []
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CheckError("QEMU exited early with status %d" % proc.returncode)
            try:
                with open(serial, encoding="ascii", errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            beats = parse_heartbeats(text)
            if len(beats) >= WANT_HEARTBEATS:
                break
            time.sleep(0.1)

        lines = text.split("\n")
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

        st = qmp_read_status(qmp)
        if st["magic"] != STATUS_MAGIC:
            raise CheckError("status block magic 0x%08x" % st["magic"])
        if st["n"] < beats[-1]["n"] or st["err"] != 0 or st["verify_bad"] != 0:
            raise CheckError("status block disagrees: %r" % st)
        if st["wss_pages"] != 16 * 256 or st["state"] != 2 or st["verifies"] < 1:
            raise CheckError("status block disagrees: %r" % st)
        print("ok - status block at 0x7000: %r" % st)
    except CheckError as e:
        print("FAIL: %s" % e)
        print("# serial log:\n" + "".join("#   " + l + "\n" for l in text.split("\n")))
        return 1
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
