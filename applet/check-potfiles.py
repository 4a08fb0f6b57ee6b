#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Every applet and data file with translatable strings is in po/POTFILES.in.
import os
import re
import sys

root = sys.argv[1]
listed = set()
with open(os.path.join(root, "po", "POTFILES.in"), encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith("#"):
            listed.add(line)

needs = []
for directory in ("applet", "data"):
    for dirpath, _dirs, files in os.walk(os.path.join(root, directory)):
        for name in files:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            try:
                text = open(path, encoding="utf-8").read()
            except (UnicodeDecodeError, OSError):
                continue
            if name.endswith(".c") and re.search(r'\b(N?_|ngettext) \("', text):
                needs.append(rel)
            elif name.endswith(".ui") and 'translatable="yes"' in text:
                needs.append(rel)
            elif name.endswith((".desktop", ".metainfo.xml", ".gschema.xml")):
                needs.append(rel)

missing = sorted(set(needs) - listed)
gone = sorted(p for p in listed if not os.path.exists(os.path.join(root, p)))
for path in missing:
    print("not in po/POTFILES.in: %s" % path)
for path in gone:
    print("in po/POTFILES.in but missing: %s" % path)
sys.exit(1 if missing or gone else 0)
