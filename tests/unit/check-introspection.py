#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check the D-Bus introspection XML against the API contract (DESIGN section 2).

Usage: check-introspection.py INTROSPECTION_DIR

For each interface file it checks that
  * the file is well-formed (xmllint --noout, and xml.etree),
  * it defines exactly the expected interface,
  * every member of the contract is present with the exact signature
    (argument names, types and directions), and there are no extra members,
  * every property is read-only and emits PropertiesChanged,
  * the interface and every member carry a gdbus-codegen doc comment
    ("Symbol: ..." or "Symbol:") with "@since: 1", and every argument
    is documented with "@arg: ...".
Exits non-zero with one line per problem.
"""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

PREFIX = "org.ferryvm.Ferry1."

# name -> {"properties": [(name, type)], "methods": [(name, [(arg, type, dir)])],
#          "signals": [(name, [(arg, type)])]}
CONTRACT = {
    "Manager": {
        "properties": [
            ("Version", "s"),
            ("Hostname", "s"),
            ("HostUUID", "s"),
            ("Backends", "as"),
            ("Capabilities", "as"),
        ],
        "methods": [
            ("DefineDomain", [("description", "s", "in"), ("domain", "o", "out")]),
            ("Migrate", [("domain", "s", "in"), ("destination", "s", "in"),
                         ("options", "a{sv}", "in"), ("migration", "o", "out")]),
            ("Check", [("domain", "s", "in"), ("destination", "s", "in"),
                       ("options", "a{sv}", "in"), ("report", "a{sv}", "out")]),
            ("ListMigrations", [("migrations", "ao", "out")]),
        ],
        "signals": [],
    },
    "Domain": {
        "properties": [
            ("Name", "s"),
            ("UUID", "s"),
            ("Backend", "s"),
            ("State", "s"),
            ("StateReason", "s"),
            ("Migration", "o"),
        ],
        "methods": [
            ("Start", []),
            ("Shutdown", []),
            ("Migrate", [("destination", "s", "in"), ("options", "a{sv}", "in"),
                         ("migration", "o", "out")]),
            ("Check", [("destination", "s", "in"), ("options", "a{sv}", "in"),
                       ("report", "a{sv}", "out")]),
        ],
        "signals": [],
    },
    "Migration": {
        "properties": [
            ("Domain", "o"),
            ("DomainName", "s"),
            ("Source", "s"),
            ("Destination", "s"),
            ("Direction", "s"),
            ("Backend", "s"),
            ("Options", "a{sv}"),
            ("StartedByUID", "u"),
            ("Phase", "s"),
            ("State", "s"),
            ("Mode", "s"),
            ("PhaseTimestamps", "a{st}"),
            ("Progress", "d"),
            ("TimeElapsed", "t"),
            ("TimeRemaining", "t"),
            ("MemoryTotal", "t"),
            ("MemoryProcessed", "t"),
            ("MemoryRemaining", "t"),
            ("DiskTotal", "t"),
            ("DiskProcessed", "t"),
            ("DiskRemaining", "t"),
            ("TransferRate", "t"),
            ("DirtyRate", "t"),
            ("Iteration", "u"),
            ("ExpectedDowntime", "t"),
            ("Converging", "s"),
            ("Convergence", "a{sv}"),
            ("Statistics", "a{sv}"),
            ("ErrorName", "s"),
            ("ErrorMessage", "s"),
        ],
        "methods": [
            ("Cancel", []),
            ("StartPostCopy", []),
            ("SetMaxDowntime", [("milliseconds", "t", "in")]),
            ("SetMaxBandwidth", [("bytes_per_second", "t", "in")]),
            ("Pause", []),
            ("Recover", [("uri", "s", "in")]),
            ("GetStatistics", [("statistics", "a{sv}", "out")]),
        ],
        "signals": [
            ("PhaseChanged", [("phase", "s")]),
            ("Iteration", [("n", "u"), ("stats", "a{sv}")]),
            ("PostCopyStarted", []),
            ("PolicyAction", [("action", "s"), ("reason", "s")]),
            ("Completed", [("statistics", "a{sv}")]),
            ("Failed", [("error_name", "s"), ("message", "s")]),
        ],
    },
    "Peer": {
        "properties": [],
        "methods": [
            ("Hello", [("source_info", "a{sv}", "in"), ("destination_info", "a{sv}", "out")]),
            ("Prepare", [("domain_name", "s", "in"), ("persistent_description", "s", "in"),
                         ("live_description", "s", "in"), ("options", "a{sv}", "in"),
                         ("source_info", "a{sv}", "in"), ("migration", "o", "out"),
                         ("result", "a{sv}", "out")]),
            ("Finish", [("migration", "o", "in"), ("source_completed", "b", "in"),
                        ("statistics", "a{sv}", "in"), ("result", "a{sv}", "out")]),
            ("Abort", [("migration", "o", "in"), ("reason", "s", "in")]),
            ("Recover", [("migration", "o", "in"), ("uri", "s", "in"),
                         ("listen_uri", "s", "out")]),
        ],
        "signals": [],
    },
}

EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"

errors = []


def error(msg):
    errors.append(msg)


def parse_doc_comment(text):
    """Parse a gdbus-codegen doc comment: returns (symbol, params, body) or None."""
    lines = [l.strip() for l in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        return None
    first = lines[0]
    if first.endswith(":") and ": " not in first:
        symbol, rest = first[:-1], ""
    elif ": " in first:
        symbol, rest = first.split(": ", 1)
    else:
        return None
    params = {}
    i = 1
    while i < len(lines) and lines[i].startswith("@") and ": " in lines[i]:
        name, value = lines[i][1:].split(": ", 1)
        params[name] = value.strip()
        i += 1
    body = (rest + "\n" + "\n".join(lines[i:])).strip()
    return symbol, params, body


def preceding_doc(parent, element):
    """The doc comment directly before element among parent's children."""
    children = list(parent)
    idx = children.index(element)
    for prev in reversed(children[:idx]):
        if prev.tag is ET.Comment:
            return parse_doc_comment(prev.text or "")
        return None
    return None


def check_doc(where, parent, element, name, args):
    doc = preceding_doc(parent, element)
    if doc is None:
        error(f"{where}: no doc comment before {element.tag} {name}")
        return
    symbol, params, body = doc
    if symbol != name:
        error(f"{where}: doc comment before {element.tag} {name} documents '{symbol}'")
        return
    if params.get("since") != "1":
        error(f"{where}: {name}: doc comment lacks '@since: 1'")
    for arg in args:
        if not params.get(arg):
            error(f"{where}: {name}: argument '{arg}' is not documented (@{arg}: ...)")
    for p in params:
        if p not in args and p not in ("since", "short_description", "deprecated"):
            error(f"{where}: {name}: documents unknown argument '@{p}'")
    if element.tag == "interface":
        if not params.get("short_description"):
            error(f"{where}: {name}: no @short_description")
        if not body:
            error(f"{where}: {name}: empty description")
    elif element.tag == "property":
        if "PropertiesChanged" not in body:
            error(f"{where}: property {name}: doc does not say it emits PropertiesChanged")
    elif not body:
        error(f"{where}: {element.tag} {name}: empty description")


def annotations(element):
    return {a.get("name"): a.get("value") for a in element.findall("annotation")}


def check_members(where, iface, kind, expected):
    found = iface.findall(kind)
    names = [e.get("name") for e in found]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        error(f"{where}: {kind} {dup} defined more than once")
    exp_names = [e[0] for e in expected]
    for n in names:
        if n not in exp_names:
            error(f"{where}: unexpected {kind} {n} (not in the contract)")
    by_name = {e.get("name"): e for e in found}
    for exp in expected:
        name = exp[0]
        el = by_name.get(name)
        if el is None:
            error(f"{where}: missing {kind} {name}")
            continue
        if kind == "property":
            typ = exp[1]
            if el.get("type") != typ:
                error(f"{where}: property {name} has type {el.get('type')}, expected {typ}")
            if el.get("access") != "read":
                error(f"{where}: property {name} is access='{el.get('access')}', "
                      "expected read-only (no writable properties)")
            emits = annotations(el).get(EMITS, annotations(iface).get(EMITS, "true"))
            if emits != "true":
                error(f"{where}: property {name} has {EMITS}={emits}, expected true")
            check_doc(where, iface, el, name, [])
        else:
            want = exp[1]
            got = []
            for a in el.findall("arg"):
                if kind == "method":
                    got.append((a.get("name"), a.get("type"), a.get("direction", "in")))
                else:
                    if a.get("direction", "out") != "out":
                        error(f"{where}: signal {name}: argument {a.get('name')} has direction in")
                    got.append((a.get("name"), a.get("type")))
            if got != want:
                error(f"{where}: {kind} {name} has signature {got}, expected {want}")
            check_doc(where, iface, el, name, [a[0] for a in want])


def check_file(directory, short):
    iface_name = PREFIX + short
    path = os.path.join(directory, iface_name + ".xml")
    where = os.path.basename(path)
    if not os.path.exists(path):
        error(f"{where}: missing")
        return
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        error("xmllint not found")
    else:
        r = subprocess.run([xmllint, "--noout", "--nonet", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            error(f"{where}: xmllint failed:\n{r.stderr.strip()}")
            return
    try:
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
        root = ET.parse(path, parser=parser).getroot()
    except ET.ParseError as e:
        error(f"{where}: parse error: {e}")
        return
    if root.tag != "node":
        error(f"{where}: root element is <{root.tag}>, expected <node>")
        return
    ifaces = root.findall("interface")
    if [i.get("name") for i in ifaces] != [iface_name]:
        error(f"{where}: defines interfaces {[i.get('name') for i in ifaces]}, "
              f"expected exactly [{iface_name!r}]")
    iface = next((i for i in ifaces if i.get("name") == iface_name), None)
    if iface is None:
        return
    check_doc(where, root, iface, iface_name, [])
    contract = CONTRACT[short]
    for child in iface:
        if child.tag is ET.Comment:
            continue
        if child.tag not in ("property", "method", "signal", "annotation"):
            error(f"{where}: unexpected element <{child.tag}>")
    check_members(where, iface, "property", contract["properties"])
    check_members(where, iface, "method", contract["methods"])
    check_members(where, iface, "signal", contract["signals"])
    # No characters that make the generated docbook ill-formed.
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"<!--(.*?)-->", text, re.S):
        if re.search(r"&(?!(lt|gt|amp|quot|apos);)", m.group(1)):
            error(f"{where}: bare '&' in a doc comment (breaks the docbook output)")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = sys.argv[1]
    expected = {PREFIX + s + ".xml" for s in CONTRACT}
    for f in sorted(os.listdir(directory)):
        if f.endswith(".xml") and f not in expected:
            error(f"{f}: unexpected interface file")
    for short in CONTRACT:
        check_file(directory, short)
    for e in errors:
        print("FAIL:", e)
    if errors:
        return 1
    print(f"ok: {len(CONTRACT)} interfaces match the contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
