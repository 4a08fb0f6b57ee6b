#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# "meson install" into a DESTDIR: everything a desktop service needs is in
# place, passes the ecosystem's own validators, and the installed daemon
# starts through the installed D-Bus .service on a private bus.
#
# The files in a DESTDIR name the final prefix (the .service's Exec=, the
# unit's ExecStart=). The tests check those paths as written, then run the
# validators and the activation with the prefix mapped into the DESTDIR:
# the installed binary, schemas and example directory are what runs.

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from gi.repository import Gio, GLib

import harness
from harness import BUS_NAME, ROOT_IFACE, ROOT_PATH, Bus, wait_for

APP_ID = "org.example.ExpertAssist"
APPLET_ID = "org.example.ExpertAssist.Applet"


def build_root():
    return os.environ.get("EA_BUILD_ROOT") or os.path.join(harness.SOURCE_ROOT, "build")


def run(argv, **kwargs):
    """Run argv; returns (exit status, stdout + stderr)."""
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, timeout=60, **kwargs)
    return result.returncode, result.stdout


def ini_value(path, key):
    with open(path, encoding="utf-8") as f:
        values = re.findall(r"^%s=(.*)$" % re.escape(key), f.read(), re.MULTILINE)
    return values


class Installed(unittest.TestCase):
    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix="ea-it-install-")
        self.addCleanup(shutil.rmtree, self.tmpdir, True)
        build = build_root()
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json"),
                  encoding="utf-8") as f:
            options = {o["name"]: o["value"] for o in json.load(f)}
        self.prefix = options["prefix"]

        def where(name):
            value = options[name]
            return value if os.path.isabs(value) else os.path.join(self.prefix, value)
        self.bindir = where("bindir")
        self.datadir = where("datadir")
        self.sysconfdir = where("sysconfdir")
        self.mandir = where("mandir")
        self.localedir = where("localedir")
        self.applet = bool(options.get("applet", False))

        meson = shutil.which("meson")
        self.assertIsNotNone(meson, "meson is not in PATH")
        self.destdir = os.path.join(self.tmpdir, "dest")
        status, output = run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                              "--destdir", self.destdir])
        self.assertEqual(status, 0, "meson install failed:\n" + output)

    def staged(self, path):
        """Where the file that is installed as `path` is in the DESTDIR."""
        return self.destdir + path

    def unit_path(self):
        found = []
        for root, _dirs, files in os.walk(self.destdir):
            if "expert-assistd.service" in files and root.endswith("/systemd/user"):
                found.append(os.path.join(root, "expert-assistd.service")[len(self.destdir):])
        self.assertEqual(len(found), 1, "the systemd user unit, once: %r" % found)
        return found[0]

    def expected(self):
        daemon = os.path.join(self.bindir, "expert-assistd")
        files = [
            daemon,
            os.path.join(self.bindir, "expert-assist"),
            os.path.join(self.datadir, "dbus-1", "services", APP_ID + ".service"),
            os.path.join(self.datadir, "dbus-1", "interfaces", APP_ID + ".xml"),
            os.path.join(self.datadir, "applications", APP_ID + ".desktop"),
            os.path.join(self.datadir, "glib-2.0", "schemas", APP_ID + ".gschema.xml"),
            os.path.join(self.datadir, "expert-assist", "directory.conf.example"),
            os.path.join(self.mandir, "man1", "expert-assistd.1"),
            os.path.join(self.mandir, "man1", "expert-assist.1"),
            os.path.join(self.localedir, "de", "LC_MESSAGES", "expert-assist.mo"),
        ]
        if self.applet:
            files += [
                os.path.join(self.bindir, "expert-assist-applet"),
                os.path.join(self.datadir, "applications", APPLET_ID + ".desktop"),
                os.path.join(self.sysconfdir, "xdg", "autostart", APPLET_ID + ".desktop"),
                os.path.join(self.datadir, "metainfo", APPLET_ID + ".metainfo.xml"),
                os.path.join(self.datadir, "glib-2.0", "schemas", APPLET_ID + ".gschema.xml"),
                os.path.join(self.mandir, "man1", "expert-assist-applet.1"),
            ]
        return files

    def desktop_files(self):
        names = [os.path.join(self.datadir, "applications", APP_ID + ".desktop")]
        if self.applet:
            names += [os.path.join(self.datadir, "applications", APPLET_ID + ".desktop"),
                      os.path.join(self.sysconfdir, "xdg", "autostart", APPLET_ID + ".desktop")]
        return names

    def test_everything_in_place(self):
        missing = [p for p in self.expected() if not os.path.isfile(self.staged(p))]
        self.assertEqual(missing, [], "not installed")
        for binary in ("expert-assistd", "expert-assist"):
            self.assertTrue(os.access(self.staged(os.path.join(self.bindir, binary)), os.X_OK))
        daemon = os.path.join(self.bindir, "expert-assistd")

        # D-Bus activation and the systemd user unit start the installed daemon.
        service = self.staged(os.path.join(self.datadir, "dbus-1", "services",
                                           APP_ID + ".service"))
        self.assertEqual(ini_value(service, "Name"), [BUS_NAME])
        self.assertEqual(ini_value(service, "Exec"), [daemon])
        self.assertEqual(ini_value(service, "SystemdService"), ["expert-assistd.service"])
        unit = self.staged(self.unit_path())
        self.assertEqual(ini_value(unit, "Type"), ["dbus"])
        self.assertEqual(ini_value(unit, "BusName"), [BUS_NAME])
        self.assertEqual(ini_value(unit, "ExecStart"), [daemon])
        # Every man page the unit points to is installed.
        for doc in " ".join(ini_value(unit, "Documentation")).split():
            match = re.match(r"man:([\w.-]+)\((\d)\)$", doc)
            if match:
                page = os.path.join(self.mandir, "man" + match.group(2),
                                    "%s.%s" % match.groups())
                self.assertTrue(os.path.isfile(self.staged(page)), "%s: %s" % (doc, page))

        # The daemon's desktop entry: hidden, activatable by its bus name,
        # and its icon is installed.
        entry = self.staged(os.path.join(self.datadir, "applications", APP_ID + ".desktop"))
        self.assertEqual(ini_value(entry, "NoDisplay"), ["true"])
        self.assertEqual(ini_value(entry, "DBusActivatable"), ["true"])
        if self.applet:
            for path in self.desktop_files():
                icon = ini_value(self.staged(path), "Icon")[0]
                icons = [f for _r, _d, files in os.walk(self.staged(os.path.join(
                    self.datadir, "icons", "hicolor"))) for f in files
                    if os.path.splitext(f)[0] == icon]
                self.assertTrue(icons, "icon %s of %s is not installed" % (icon, path))
            autostart = self.staged(os.path.join(self.sysconfdir, "xdg", "autostart",
                                                 APPLET_ID + ".desktop"))
            self.assertIn("--background", ini_value(autostart, "Exec")[0])

    def test_validators_pass_on_the_installed_files(self):
        failures = []

        def check(argv, **kwargs):
            status, output = run(argv, **kwargs)
            if status != 0:
                failures.append("%s: exit %d\n%s" % (" ".join(argv), status, output))
            return output

        for tool, package in (("desktop-file-validate", "desktop-file-utils"),
                              ("appstreamcli", "appstream"),
                              ("systemd-analyze", "systemd"), ("groff", "groff-base")):
            self.assertIsNotNone(shutil.which(tool), "%s is missing (package %s)"
                                 % (tool, package))
        for path in self.desktop_files():
            check(["desktop-file-validate", self.staged(path)])
        metainfo = self.staged(os.path.join(self.datadir, "metainfo"))
        if self.applet:
            for name in sorted(os.listdir(metainfo)):
                check(["appstreamcli", "validate", "--no-net", "--explain",
                       os.path.join(metainfo, name)])
        # Every installed schema, compiled together as the package trigger does.
        check(["glib-compile-schemas", "--strict", "--targetdir", self.tmpdir,
               self.staged(os.path.join(self.datadir, "glib-2.0", "schemas"))])
        # The unit as installed, its ExecStart= mapped into the DESTDIR so
        # that systemd-analyze finds the installed binary; the man pages it
        # names are checked above.
        unit_dir = os.path.join(self.tmpdir, "units")
        os.makedirs(unit_dir)
        with open(self.staged(self.unit_path()), encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"^ExecStart=(\S+)", lambda m: "ExecStart=" + self.staged(m.group(1)),
                      text, flags=re.MULTILINE)
        harness.write_file(os.path.join(unit_dir, "expert-assistd.service"), text)
        check([os.path.join(harness.SOURCE_ROOT, "tests", "validate-systemd-unit"),
               "--man=no", os.path.join(unit_dir, "expert-assistd.service")])
        for name in sorted(os.listdir(self.staged(os.path.join(self.mandir, "man1")))):
            page = self.staged(os.path.join(self.mandir, "man1", name))
            output = check(["groff", "-man", "-ww", "-z", "-t", page])
            if output.strip():
                failures.append("groff warns about %s:\n%s" % (name, output))
        self.assertEqual(failures, [], "\n".join(failures))

    def test_dbus_activation_starts_the_installed_daemon(self):
        daemon = os.path.join(self.bindir, "expert-assistd")
        schemas = self.staged(os.path.join(self.datadir, "glib-2.0", "schemas"))
        # What the package's trigger does after installing a schema.
        status, output = run(["glib-compile-schemas", "--strict", schemas])
        self.assertEqual(status, 0, output)

        home = os.path.join(self.tmpdir, "home")
        xdg = {
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
            "XDG_RUNTIME_DIR": os.path.join(self.tmpdir, "runtime"),
            "XDG_CONFIG_DIRS": os.path.join(self.tmpdir, "etc-xdg"),
        }
        for path in xdg.values():
            os.makedirs(path, exist_ok=True)
        os.chmod(xdg["XDG_RUNTIME_DIR"], 0o700)
        # The administrator deploys the installed example as the directory.
        os.makedirs(os.path.join(xdg["XDG_CONFIG_DIRS"], "expert-assist"))
        shutil.copy(self.staged(os.path.join(self.datadir, "expert-assist",
                                             "directory.conf.example")),
                    os.path.join(xdg["XDG_CONFIG_DIRS"], "expert-assist", "directory.conf"))
        # The user's settings; nothing listens on port 9, and there is no
        # keyring: the daemon stays disconnected but answers.
        settings = os.path.join(xdg["XDG_CONFIG_HOME"], "glib-2.0", "settings")
        os.makedirs(settings)
        harness.write_file(os.path.join(settings, "keyfile"),
                           "[org/example/ExpertAssist]\naccount='carol@example.org'\n"
                           "server='127.0.0.1'\nport=9\ntls='none'\n")

        bus = Bus(self.tmpdir, "bus")
        self.addCleanup(bus.stop)
        service = self.staged(os.path.join(self.datadir, "dbus-1", "services",
                                           APP_ID + ".service"))
        with open(service, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(ini_value(service, "Exec"), [daemon])
        harness.write_file(os.path.join(bus.service_dir, APP_ID + ".service"),
                           text.replace("Exec=" + daemon, "Exec=" + self.staged(daemon)))
        bus.start()
        env = dict(xdg, GSETTINGS_BACKEND="keyfile", GSETTINGS_SCHEMA_DIR=schemas,
                   G_DEBUG="fatal-criticals", LANG="C.UTF-8")
        bus.update_activation_environment(env)
        self.assertIsNone(bus.name_owner(BUS_NAME))

        # The first call starts it.
        reply = bus.connection.call_sync(BUS_NAME, ROOT_PATH, ROOT_IFACE, "ListGroups", None,
                                         GLib.VariantType.new("(a(ssuua{sv}))"),
                                         Gio.DBusCallFlags.NONE, 30000, None)
        pid = bus.owner_pid(BUS_NAME)
        self.assertIsNotNone(pid)
        self.addCleanup(self._kill, pid)
        self.assertTrue(os.path.samefile("/proc/%d/exe" % pid, self.staged(daemon)),
                        "the daemon that answered is %s" % os.readlink("/proc/%d/exe" % pid))
        # carol's groups from the installed example directory. The daemon
        # reads it asynchronously at start, and today answers a call that
        # arrives first (the activating one) with no groups: poll.
        groups = reply.unpack()[0]

        def listed():
            if not groups:
                groups[:] = bus.connection.call_sync(
                    BUS_NAME, ROOT_PATH, ROOT_IFACE, "ListGroups", None, None,
                    Gio.DBusCallFlags.NO_AUTO_START, 5000, None).unpack()[0]
            return groups
        try:
            wait_for(listed, 10, "the directory's groups", poll_ms=100)
        except AssertionError as e:
            raise AssertionError("%s; daemon output:\n%s" % (e, harness.read_text(bus.log_path)))
        self.assertEqual(sorted(g[0] for g in groups), ["billing", "tier2"])
        account = bus.connection.call_sync(
            BUS_NAME, ROOT_PATH, "org.freedesktop.DBus.Properties", "Get",
            GLib.Variant("(ss)", (ROOT_IFACE, "Account")), GLib.VariantType.new("(v)"),
            Gio.DBusCallFlags.NO_AUTO_START, 5000, None).unpack()[0]
        self.assertEqual(account, "carol@example.org")

        # And it leaves on SIGTERM.
        os.kill(pid, 15)
        wait_for(lambda: bus.name_owner(BUS_NAME) is None, 15, "the daemon to leave the bus")
        deadline = time.monotonic() + 10
        while os.path.exists("/proc/%d/exe" % pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _kill(self, pid):
        try:
            os.kill(pid, 9)
        except OSError:
            pass


if __name__ == "__main__":
    unittest.main()
