#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runner for the integration tests, one meson test per test case:
#
#   run.py --list        one test id per line (module.Class.method) for every
#                        test_*.py module in this directory
#   run.py ID [ID...]    run exactly those tests; exit 0 on pass, 1 on
#                        failure, 77 (meson's skip code) when all were skipped
#   run.py               run every test
#
# A missing prerequisite (no prosody, no dbus-daemon, no slixmpp) is a
# failure, not a skip: CI must not pass by skipping.

import importlib
import importlib.util
import os
import shutil
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SKIP = 77


def test_modules():
    return sorted(name[:-3] for name in os.listdir(HERE)
                  if name.startswith("test_") and name.endswith(".py"))


def iter_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def all_ids():
    loader = unittest.TestLoader()
    ids = []
    for name in test_modules():
        module = importlib.import_module(name)
        ids.extend(t.id() for t in iter_tests(loader.loadTestsFromModule(module)))
    return ids


def missing_prerequisites():
    missing = []
    for program, package in (("prosody", "prosody"), ("prosodyctl", "prosody"),
                             ("dbus-daemon", "dbus-daemon"), ("openssl", "openssl")):
        if shutil.which(program) is None:
            missing.append("%s (package %s)" % (program, package))
    for module, package in (("slixmpp", "python3-slixmpp"), ("gi", "python3-gi")):
        if importlib.util.find_spec(module) is None:
            missing.append("Python module %s (package %s, for /usr/bin/python3)"
                           % (module, package))
    return missing


def on_sigterm(_signum, _frame):
    # meson's timeout: unittest records SystemExit as the test's error and
    # still runs its cleanups, which kill what the test started and print
    # the logs.
    raise SystemExit("killed by SIGTERM (timeout?)")


def main(argv):
    if argv[1:] == ["--list"]:
        for test_id in all_ids():
            print(test_id)
        return 0

    missing = missing_prerequisites()
    if missing:
        sys.stderr.write("missing prerequisites for the integration tests:\n  %s\n"
                         % "\n  ".join(missing))
        return 1

    signal.signal(signal.SIGTERM, on_sigterm)
    loader = unittest.TestLoader()
    ids = argv[1:] or all_ids()
    suite = unittest.TestSuite(loader.loadTestsFromName(i) for i in ids)
    if suite.countTestCases() == 0:
        sys.stderr.write("no test matches %s\n" % " ".join(ids))
        return 1
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
