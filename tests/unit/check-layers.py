#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The engine and the D-Bus layer know no backend.

No file under ferryd/engine/ or ferryd/bus/ may include a header of
ferryd/backends/ (any backend) or json-glib, nor name QMP's or QEMU's
client types, functions and error domains (json_*, Json*, ferryd_qmp_*,
FerrydQmp*, FERRYD_QMP_*, ferryd_qemu_*, FerrydQemu*); nor may the
daemon's own files in ferryd/ but ferryd-backends.c. Backends plug in through
engine/ferryd-backend.h and engine/ferryd-stream.h, registered in
ferryd/ferryd-backends.c.

The peer link knows neither: no file under ferryd/peer/ includes a
header of ferryd/engine/ or ferryd/backends/. The engine builds no D-Bus
object path: no file under ferryd/engine/ spells "/org/ferryvm" or uses
the path names of ferry-names.h (FERRY_*_PATH*); the D-Bus layer maps
migrations and domains to paths (bus/ferryd-paths.h). Nor does it call
D-Bus itself (g_dbus_connection_call*, g_dbus_proxy_call*): it reaches
the other host through peer/ferryd-peer-client.h. Nor does it touch the
generated D-Bus code (ferry-dbus.h, FerryDBus*, ferry_dbus_*): a
migration's public record is its own GObject properties and signals,
which bus/ binds to the skeleton.

The base of a migration never names a side: engine/ferryd-migration.c
and its headers name no type or function of the outgoing or incoming
migration (no identifier with "outgoing"/"incoming", nor migration_*
or FerrydMigration* names with "source"/"dest"); what differs by side
goes through FerrydMigrationClass.

No circle of includes anywhere in ferryd/: a unit is a .c file with the
.h (and the -private.h) of the same name in its folder; unit A depends on
unit B when a file of A includes a header of B ("..." includes of files
under ferryd/); the graph of units must have no cycle.

Usage: check-layers.py FERRYD-SOURCE-DIR
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
FORBIDDEN_NAMES = re.compile(r'\b(json_\w+|Json\w+|ferryd_qmp_\w+|FerrydQmp\w*|FERRYD_QMP_\w+|ferryd_qemu_\w+|FerrydQemu\w*|FERRYD_QEMU_\w+)')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
OBJECT_PATH = re.compile(r'/org/ferryvm\b|\bFERRY_\w*PATH\w*')
GENERATED = re.compile(r'\b(FerryDBus\w*|ferry_dbus_\w*|FERRY_DBUS_\w*)')
RAW_CALL = re.compile(r'\b(g_dbus_connection_call\w*|g_dbus_proxy_call\w*)\b')
SIDE_NAME = re.compile(r'\b(\w*(?:[Oo]utgoing|[Ii]ncoming|OUTGOING|INCOMING)\w*'
                       r'|(?:ferryd_)?migration_\w*(?:source|dest)\w*'
                       r'|FerrydMigration\w*(?:Source|Dest)\w*)\b')
MIGRATION_BASE = ('engine/ferryd-migration.c', 'engine/ferryd-migration.h',
                  'engine/ferryd-migration-private.h')
STRING = re.compile(r'"(\\.|[^"\\])*"')


def sources(directory):
    for dirpath, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(('.c', '.h')):
                yield os.path.join(dirpath, name)


def unit_of(rel):
    """The unit of a file: its folder and its name without extension or
    -private suffix."""
    stem = rel.rsplit('.', 1)[0]
    if stem.endswith('-private'):
        stem = stem[:-len('-private')]
    return stem


def include_cycles(root, headers):
    graph = {}
    for path in sources(root):
        rel = os.path.relpath(path, root)
        unit = unit_of(rel)
        graph.setdefault(unit, {})
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            target = headers.get(os.path.basename(m.group(1)))
            if target is None or unit_of(target) == unit:
                continue
            graph[unit].setdefault(unit_of(target), f'{rel} includes {m.group(1)}')

    # Depth-first search; a back edge closes a circle.
    problems = []
    state = {}
    stack = []

    def visit(unit):
        state[unit] = 'open'
        stack.append(unit)
        for dep, why in sorted(graph.get(unit, {}).items()):
            if state.get(dep) == 'open':
                circle = stack[stack.index(dep):] + [dep]
                reasons = '; '.join(graph[a][b] for a, b in zip(circle, circle[1:]))
                problems.append(f'circle of includes: {" -> ".join(circle)} ({reasons})')
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[unit] = 'done'

    for unit in sorted(graph):
        if unit not in state:
            visit(unit)
    return problems


def main(root):
    headers = {}
    for path in sources(root):
        if path.endswith('.h'):
            headers[os.path.basename(path)] = os.path.relpath(path, root)
    backend_headers = {}
    for path in sources(os.path.join(root, 'backends')):
        if path.endswith('.h'):
            backend_headers[os.path.basename(path)] = os.path.relpath(path, root)
    if not backend_headers:
        print(f'no backend headers under {root}/backends: wrong directory?')
        return 1

    checked = 0
    problems = []
    # The daemon's own files (ferryd/*.c) are held to the same rule, but
    # for the one registration table.
    daemon_files = [os.path.join(root, name) for name in sorted(os.listdir(root))
                    if name.endswith(('.c', '.h')) and name != 'ferryd-backends.c']
    for layer in ('engine', 'bus', None):
        for path in (daemon_files if layer is None else sources(os.path.join(root, layer))):
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

    for layer, others in (('peer', ('engine', 'backends')),):
        for path in sources(os.path.join(root, layer)):
            rel = os.path.relpath(path, root)
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                found = headers.get(os.path.basename(m.group(1)))
                if found and found.split(os.sep)[0] in others:
                    line = text.count('\n', 0, m.start()) + 1
                    problems.append(f'{rel}:{line}: includes {m.group(1)} ({found})')

    for path in sources(os.path.join(root, 'engine')):
        rel = os.path.relpath(path, root)
        with open(path, encoding='utf-8') as f:
            text = COMMENT.sub(lambda m: '\n' * m.group(0).count('\n'), f.read())
        for m in OBJECT_PATH.finditer(text):
            line = text.count('\n', 0, m.start()) + 1
            problems.append(f'{rel}:{line}: builds a D-Bus object path ({m.group(0)})')
        for m in RAW_CALL.finditer(STRING.sub('""', text)):
            line = text.count('\n', 0, m.start()) + 1
            problems.append(f'{rel}:{line}: calls D-Bus directly ({m.group(0)}); '
                            'use the peer client (peer/ferryd-peer-client.h)')
        for m in GENERATED.finditer(STRING.sub('""', text)):
            line = text.count('\n', 0, m.start()) + 1
            problems.append(f'{rel}:{line}: uses the generated D-Bus code ({m.group(0)}); '
                            'expose a property or signal for bus/ to bind')
        for m in INCLUDE.finditer(text):
            if os.path.basename(m.group(1)) == 'ferry-dbus.h':
                line = text.count('\n', 0, m.start()) + 1
                problems.append(f'{rel}:{line}: includes ferry-dbus.h (the generated D-Bus code)')

    for rel in MIGRATION_BASE:
        path = os.path.join(root, rel)
        if not os.path.exists(path):
            problems.append(f'{rel}: missing (the migration base)')
            continue
        with open(path, encoding='utf-8') as f:
            text = COMMENT.sub(lambda m: '\n' * m.group(0).count('\n'), f.read())
        for m in SIDE_NAME.finditer(STRING.sub('""', text)):
            line = text.count('\n', 0, m.start()) + 1
            problems.append(f'{rel}:{line}: the migration base names a side ({m.group(1)})')

    problems.extend(include_cycles(root, headers))
    for p in problems:
        print(p)
    print(f'{checked} files of engine/, bus/ and the daemon checked, and the includes of ferryd/: '
          f'{len(problems)} layering problems')
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
