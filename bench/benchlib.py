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
