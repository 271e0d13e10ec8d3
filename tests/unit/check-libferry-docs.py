#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The libferry-1 reference that gi-docgen generated (docs/libferry/):

  check-libferry-docs.py DOCDIR GI_DOCGEN CONFIG GIR

DOCDIR holds index.html, which links the pages of FerryClient and
FerryMigration (and those pages name the C types), the overview and the
DevHelp index; `gi-docgen check` prints nothing for GIR (any output, a
warning about a missing or broken doc comment, fails)."""

import os
import subprocess
import sys


def main(docdir, gidocgen, config, gir):
    errors = []

    def read(name):
        path = os.path.join(docdir, name)
        if not os.path.isfile(path):
            errors.append('%s is missing' % path)
            return ''
        with open(path, encoding='utf-8') as f:
            return f.read()

    index = read('index.html')
    for page, ctype in (('class.Client.html', 'FerryClient'),
                        ('class.Migration.html', 'FerryMigration'),
                        ('class.Domain.html', 'FerryDomain'),
                        ('class.MigrateOptions.html', 'FerryMigrateOptions')):
        if index and 'href="%s"' % page not in index:
            errors.append('index.html does not link %s' % page)
        text = read(page)
        if text and ctype not in text:
            errors.append('%s does not name %s' % (page, ctype))
    if index and 'FerryClient' not in index:
        errors.append('index.html does not mention FerryClient')
    overview = read('overview.html')
    if overview and 'notify::progress' not in overview:
        errors.append('overview.html lacks the overview text')
    # DevHelp finds $datadir/doc/NAME/NAME.devhelp2
    read(os.path.basename(os.path.normpath(docdir)) + '.devhelp2')

    r = subprocess.run([gidocgen, 'check', '--quiet', '--config=' + config,
                        gir], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0 or out:
        errors.append('gi-docgen check %s (exit %d):\n%s'
                      % (gir, r.returncode, out))

    for e in errors:
        print('check-libferry-docs: ' + e, file=sys.stderr)
    if not errors:
        print('%s: index, 4 class pages, overview, DevHelp index; '
              'gi-docgen check: no warnings' % docdir)
    return 1 if errors else 0


if __name__ == '__main__':
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
