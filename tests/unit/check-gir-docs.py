#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every public symbol of Ferry-1.0.gir is documented: classes, records,
enumerations and their members, functions, constructors, methods, their
parameters and return values, properties and signals.  (The scanner's own
warnings already fail the build: fatal_warnings.)"""

import sys
import xml.etree.ElementTree as ET

NS = {'c': 'http://www.gtk.org/introspection/core/1.0',
      'glib': 'http://www.gtk.org/introspection/glib/1.0'}
CORE = '{%s}' % NS['c']
GLIB = '{%s}' % NS['glib']

CALLABLES = ('function', 'constructor', 'method', 'virtual-method')
DOCUMENTED = ('class', 'record', 'enumeration', 'bitfield', 'member',
              'constant', 'property', 'interface', 'callback') + CALLABLES


def name_of(el):
    return el.get('name') or el.get(CORE.rstrip('}') + '}name') or '?'


def has_doc(el):
    doc = el.find('c:doc', NS)
    return doc is not None and (doc.text or '').strip() != ''


def main(path):
    root = ET.parse(path).getroot()
    ns = root.find('c:namespace', NS)
    missing = []
    count = 0

    def visit(el, where):
        nonlocal count
        tag = el.tag.replace(CORE, '').replace(GLIB, 'glib:')
        name = name_of(el)
        here = '%s.%s' % (where, name) if where else name
        if tag == 'record' and el.get(GLIB + 'is-gtype-struct-for'):
            return  # the class structs of G_DECLARE_FINAL_TYPE
        if tag in DOCUMENTED or tag == 'glib:signal':
            count += 1
            if not has_doc(el):
                missing.append('%s %s' % (tag, here))
        if tag in CALLABLES or tag in ('glib:signal', 'callback'):
            rv = el.find('c:return-value', NS)
            if rv is not None and not has_doc(rv):
                t = rv.find('c:type', NS)
                if t is None or t.get('name') != 'none':
                    missing.append('return value of %s %s' % (tag, here))
            params = el.find('c:parameters', NS)
            if params is not None:
                for p in params:
                    if not has_doc(p):
                        missing.append('parameter %s of %s %s' % (
                            name_of(p), tag, here))
            return
        for child in el:
            visit(child, here if tag != 'namespace' else '')

    for child in ns:
        visit(child, '')
    if count < 50:
        missing.append('only %d documented symbols: is this the GIR?' % count)
    for m in missing:
        print('undocumented:', m)
    print('%d symbols, %d problems' % (count, len(missing)))
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
