#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Static checks of the Cockpit page (cockpit/): the manifest, Cockpit's
content security policy (no inline script or style), that every local
file the page loads exists and is installed, that every form field has a
label, that the script does not poll, and its syntax (node --check).  Usage:
check-cockpit-page.py COCKPIT_DIR INSTALLED_FILE..."""

import html.parser
import json
import os
import shutil
import subprocess
import sys

errors = []


def error(msg):
    errors.append(msg)
    print('FAIL: ' + msg, file=sys.stderr)


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.loads = []
        self.ids = set()
        self.label_for = set()
        self.fields = []
        self.in_script = False
        self.buttons = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in a:
            if k.startswith('on'):
                error('inline event handler %s= on <%s> (CSP)' % (k, tag))
        if 'style' in a:
            error('inline style= on <%s> (CSP)' % tag)
        if 'id' in a:
            self.ids.add(a['id'])
        if tag == 'style':
            error('<style> element (CSP): use ferry.css')
        if tag == 'script':
            if not a.get('src'):
                error('inline <script> (CSP): use ferry.js')
            else:
                self.loads.append(a['src'])
            self.in_script = True
        if tag == 'link' and a.get('href'):
            self.loads.append(a['href'])
        if tag == 'label' and a.get('for'):
            self.label_for.add(a['for'])
        if tag in ('input', 'select', 'textarea'):
            self.fields.append(a.get('id'))
        if tag == 'button':
            self._button = ''

    def handle_endtag(self, tag):
        if tag == 'script':
            self.in_script = False
        if tag == 'button' and self._button is not None:
            self.buttons.append(self._button.strip())
            self._button = None

    def handle_data(self, data):
        if self.in_script and data.strip():
            error('inline script code (CSP)')
        if self._button is not None:
            self._button += data


def main():
    page_dir = sys.argv[1]
    installed = {os.path.basename(f) for f in sys.argv[2:]}

    with open(os.path.join(page_dir, 'manifest.json')) as f:
        manifest = json.load(f)
    label = manifest.get('menu', {}).get('index', {}).get('label')
    if label != 'Migrations':
        error('manifest.json: menu label is %r, not "Migrations"' % label)

    page = Page()
    with open(os.path.join(page_dir, 'index.html')) as f:
        page.feed(f.read())
    for ref in page.loads:
        if ref.startswith('../'):
            continue        # another package's (base1/cockpit.js)
        if not os.path.exists(os.path.join(page_dir, ref)):
            error('index.html loads %s, which does not exist' % ref)
        if ref not in installed:
            error('index.html loads %s, which meson does not install' % ref)
    for need in ('manifest.json', 'index.html'):
        if need not in installed:
            error('meson does not install %s' % need)
    if '../base1/cockpit.js' not in page.loads:
        error('index.html does not load ../base1/cockpit.js')
    for field in page.fields:
        if not field or field not in page.label_for:
            error('form field %r has no <label for=...>' % field)
    for label_for in page.label_for:
        if label_for not in page.ids:
            error('<label for=%r> names no element' % label_for)
    for want in ('Migrate', 'Cancel'):
        if want not in page.buttons:
            error('index.html has no <button> %r' % want)

    node = shutil.which('node')
    for js in sorted(f for f in os.listdir(page_dir) if f.endswith('.js')):
        if js not in installed:
            error('%s is not installed' % js)
        with open(os.path.join(page_dir, js)) as f:
            code = f.read()
        for poll in ('setInterval', 'setTimeout'):
            if poll in code and js == 'ferry.js':
                error('%s uses %s: the page must be live from ferryd\'s '
                      'signals, not poll' % (js, poll))
        if node:
            r = subprocess.run([node, '--check', os.path.join(page_dir, js)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                error('node --check %s:\n%s' % (js, r.stderr))
    if not node:
        print('note: node not found, JavaScript syntax not checked',
              file=sys.stderr)
    print('%d problem(s)' % len(errors))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
