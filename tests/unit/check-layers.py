#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The engine and the D-Bus layer know no backend.

No file under ferryd/engine/ or ferryd/bus/ may include a header of
ferryd/backends/ (any backend) or json-glib, nor name QMP's or QEMU's
client types and functions (json_*, Json*, ferryd_qmp_*, FerrydQmp*,
ferryd_qemu_*, FerrydQemu*). Backends plug in through
engine/ferryd-backend.h and engine/ferryd-stream.h, registered in
ferryd/ferryd-backends.c.

Usage: check-layers.py FERRYD-SOURCE-DIR
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
FORBIDDEN_NAMES = re.compile(r'\b(json_\w+|Json\w+|ferryd_qmp_\w+|FerrydQmp\w*|ferryd_qemu_\w+|FerrydQemu\w*)')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(\\.|[^"\\])*"')


def sources(directory):
    for dirpath, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(('.c', '.h')):
                yield os.path.join(dirpath, name)


def main(root):
    backend_headers = {}
    for path in sources(os.path.join(root, 'backends')):
        if path.endswith('.h'):
            backend_headers[os.path.basename(path)] = os.path.relpath(path, root)
    if not backend_headers:
        print(f'no backend headers under {root}/backends: wrong directory?')
        return 1

    checked = 0
    problems = []
    for layer in ('engine', 'bus'):
        for path in sources(os.path.join(root, layer)):
            checked += 1
            rel = os.path.relpath(path, root)
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                header = m.group(1)
                line = text.count('\n', 0, m.start()) + 1
                if os.path.basename(header) in backend_headers:
                    problems.append(f'{rel}:{line}: includes {header} '
                                    f'({backend_headers[os.path.basename(header)]})')
                elif header.startswith('json-glib'):
                    problems.append(f'{rel}:{line}: includes {header}')
            code = STRING.sub('""', COMMENT.sub(lambda m: '\n' * m.group(0).count('\n'), text))
            for m in FORBIDDEN_NAMES.finditer(code):
                line = code.count('\n', 0, m.start()) + 1
                problems.append(f'{rel}:{line}: names {m.group(1)}')

    if checked == 0:
        print(f'no sources under {root}/engine or {root}/bus: wrong directory?')
        return 1
    for p in problems:
        print(p)
    print(f'{checked} files of engine/ and bus/ checked, {len(problems)} layering problems')
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
