#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Helpers for the applet's integration tests (test_applet.py), on top of
# harness.py:
#
#   Xvfb           a virtual X server on a free display
#   Applet         the built expert-assist-applet on a desktop's private bus,
#                  driven through its test interface (EA_APPLET_TEST=1:
#                  org.example.ExpertAssist.Applet.Test), its tray icon
#                  (org.kde.StatusNotifierItem) and its menu
#                  (com.canonical.dbusmenu), the way a tray host sees them
#   AppletTest     IntegrationTest that also owns the X server, the
#                  StatusNotifierWatchers, notification servers and applets
#
# Screenshots go to $EA_BUILD_ROOT/screenshots/<language>/<window>.png.

import os
import sys

from gi.repository import Gio, GLib

import harness
from harness import (BUS_NAME, SOURCE_ROOT, IntegrationTest, Process, describe_status,
                     read_text, wait_for)

APPLET_ID = "org.example.ExpertAssist.Applet"
HOOK_PATH = "/org/example/ExpertAssist/Applet/Test"
HOOK_IFACE = "org.example.ExpertAssist.Applet.Test"
WATCHER_NAME = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
ITEM_PATH = "/StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
NOTIFICATIONS_NAME = "org.freedesktop.Notifications"


def build_root():
    return os.environ.get("EA_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")


def applet_binary():
    return os.environ.get("EA_APPLET") or os.path.join(build_root(), "applet",
                                                       "expert-assist-applet")


def screenshot_dir(lang):
    return os.path.join(build_root(), "screenshots", lang)


class Xvfb:
    """A virtual X server on a display it picks itself.

    With -displayfd, Xvfb takes the first free display (its lock file is
    created exclusively, stale ones are cleared) and prints the number once
    it listens. Choosing the number here instead raced with tests started
    side by side: two could end up on one server, and the second lost its
    display when the first test stopped it.
    """

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.process = None
        self.display = None

    def start(self, timeout=10):
        log = os.path.join(self.tmpdir, "xvfb.log")
        process = Process(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24",
                           "-nolisten", "tcp", "-noreset"], log, stdout_pipe=True, name="Xvfb")
        stream = Gio.DataInputStream.new(process.proc.get_stdout_pipe())
        answer = []
        stream.read_line_async(GLib.PRIORITY_DEFAULT, None,
                               lambda s, result: answer.append(s.read_line_finish_utf8(result)[0]))
        try:
            wait_for(lambda: answer, timeout, "Xvfb to pick a display and listen")
        except AssertionError:
            process.kill()
            raise
        number = (answer[0] or "").strip()
        if not number.isdigit():
            process.kill()
            raise AssertionError("Xvfb did not start (%s); log:\n%s"
                                 % (describe_status(process.status), read_text(log)))
        self.process = process
        self.display = ":" + number
        return self.display

    def stop(self):
        if self.process is not None:
            self.process.kill()


class Applet:
    """expert-assist-applet on one desktop's bus, under Xvfb."""

    def __init__(self, tmpdir, desktop, display, lang="en", extra_env=None, name=None):
        self.desktop = desktop
        self.display = display
        self.lang = lang
        self.name = name or "applet-%s" % desktop.name
        self.log_path = os.path.join(tmpdir, "%s.log" % self.name)
        self.extra_env = dict(extra_env or {})
        self.process = None

    @property
    def bus(self):
        return self.desktop.bus

    def environment(self):
        env = self.desktop.environment()
        data_schemas = env.get("GSETTINGS_SCHEMA_DIR", "")
        applet_schemas = os.path.join(build_root(), "applet")
        env.update({
            # Shares the daemon's settings: both use the keyfile in the
            # desktop's XDG_CONFIG_HOME (see AppletTest.applet_desktop).
            "GSETTINGS_BACKEND": "keyfile",
            "GSETTINGS_SCHEMA_DIR": ":".join(filter(None, [applet_schemas, data_schemas])),
            "DISPLAY": self.display,
            "GDK_BACKEND": "x11",
            "GSK_RENDERER": "cairo",
            "GTK_A11Y": "none",
            "NO_AT_BRIDGE": "1",
            "EA_APPLET_TEST": "1",
            "EA_LOCALEDIR": os.path.join(build_root(), "po"),
            "G_DEBUG": "",
            "G_MESSAGES_DEBUG": "ea-applet ea-tray ea-client ea-offer ea-request ea-chat "
                                "ea-test-hook",
            "LANG": "C.UTF-8",
        })
        if "LSAN_OPTIONS" in env:
            # GTK's font and rendering libraries keep caches until exit.
            env["LSAN_OPTIONS"] = "suppressions=%s:print_suppressions=0" % os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "applet-lsan.supp")
        if self.lang != "en":
            env["LANGUAGE"] = self.lang
        env.update(self.extra_env)
        return env

    def start(self, args=(), wait=True, timeout=20):
        binary = applet_binary()
        if not os.access(binary, os.X_OK):
            raise AssertionError("applet binary %s is missing: build with -Dapplet=true, or set "
                                 "EA_APPLET" % binary)
        self.process = Process([binary] + list(args), self.log_path, env=self.environment(),
                               cwd=self.desktop.home, name="expert-assist-applet[%s]" % self.name)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=20):
        def ready():
            if not self.process.running:
                raise AssertionError("the applet exited (%s); log:\n%s"
                                     % (describe_status(self.process.status), self.log_text()))
            if self.bus.name_owner(APPLET_ID) is None:
                return False
            try:
                self.call("ListWindows")
                self.menu_layout()  # the dbusmenu is exported too
                return True
            except GLib.Error:
                return False
        wait_for(ready, timeout, "the applet to own %s and answer" % APPLET_ID, poll_ms=100)

    @property
    def unique_name(self):
        return self.bus.name_owner(APPLET_ID)

    @property
    def running(self):
        return self.process is not None and self.process.running

    def log_text(self):
        return read_text(self.log_path)

    def stop(self, timeout=10):
        """SIGTERM; the applet must quit cleanly (exit status 0)."""
        if not self.running:
            return self.process.status if self.process else None
        status = self.process.terminate(timeout)
        if status != 0:
            raise AssertionError("%s ended with %s after SIGTERM (expected 0); log:\n%s"
                                 % (self.process.name, describe_status(status), self.log_text()))
        criticals = [line for line in self.log_text().splitlines() if "-CRITICAL **" in line]
        if criticals:
            raise AssertionError("%s logged criticals:\n%s" % (self.process.name,
                                                                 "\n".join(criticals)))
        return status

    def kill(self):
        if self.process is not None:
            self.process.kill()

    # the test interface

    def call(self, method, args=None, timeout_ms=10000):
        if args is not None and not args.get_type_string().startswith("("):
            args = GLib.Variant.new_tuple(args)
        reply = self.bus.connection.call_sync(APPLET_ID, HOOK_PATH, HOOK_IFACE, method, args,
                                              None, Gio.DBusCallFlags.NO_AUTO_START,
                                              timeout_ms, None)
        result = reply.unpack()
        if len(result) == 0:
            return None
        if len(result) == 1:
            return result[0]
        return result

    def windows(self):
        """{name: (title, type, mapped)} of every window the applet has."""
        return {w[0]: tuple(w[1:]) for w in self.call("ListWindows")}

    def wait_window(self, predicate, timeout=15, what=None):
        """Wait for a mapped window whose name satisfies predicate (a
        string: equal, or a prefix ending in '-'); returns its name."""
        if isinstance(predicate, str):
            wanted = predicate
            if wanted.endswith("-"):
                predicate = lambda n: n.startswith(wanted)  # noqa: E731
            else:
                predicate = lambda n: n == wanted  # noqa: E731
            what = what or "window %s of %s" % (wanted, self.name)

        def found():
            if not self.running:
                raise AssertionError("the applet exited (%s); log:\n%s"
                                     % (describe_status(self.process.status), self.log_text()))
            for name, (_title, _type, mapped) in self.windows().items():
                if mapped and predicate(name):
                    return name
            return None
        return wait_for(found, timeout, what or "a window of %s" % self.name, poll_ms=100)

    def wait_no_window(self, name, timeout=15):
        wait_for(lambda: name not in self.windows(), timeout,
                 "window %s of %s to close" % (name, self.name), poll_ms=100)

    def texts(self, window):
        return list(self.call("GetTexts", GLib.Variant("(s)", (window,))))

    def wait_text(self, window, text, timeout=15):
        """Wait until a visible text of the window contains text; returns it."""
        seen = []

        def found():
            texts = self.texts(window)
            seen[:] = texts
            return next((t for t in texts if text in t), None)
        try:
            return wait_for(found, timeout, "%r in window %s" % (text, window), poll_ms=100)
        except AssertionError as e:
            raise AssertionError("%s; texts: %r" % (e, seen)) from None

    def activate(self, window, widget):
        self.call("Activate", GLib.Variant("(ss)", (window, widget)))

    def set_text(self, window, widget, text):
        self.call("SetText", GLib.Variant("(sss)", (window, widget, text)))

    def get_text(self, window, widget):
        return self.call("GetText", GLib.Variant("(ss)", (window, widget)))

    def set_selected(self, window, widget, position):
        self.call("SetSelected", GLib.Variant("(ssu)", (window, widget, position)))

    def sensitive(self, window, widget):
        return self.call("GetSensitive", GLib.Variant("(ss)", (window, widget)))

    def close_window(self, window):
        self.call("CloseWindow", GLib.Variant("(s)", (window,)))

    def show_tray_menu(self):
        name = self.call("ShowTrayMenu")
        self.wait_window(name)
        return name

    def tray(self):
        """(published, icon name) as the applet sees it."""
        return tuple(self.call("GetTray"))

    def screenshot(self, window, name=None, settle=0.6):
        """Save the window as PNG under the build directory; returns the path."""
        self.wait_window(window)
        harness.iterate_for(settle)  # let layout and fonts settle
        path = os.path.join(screenshot_dir(self.lang), "%s.png" % (name or window))
        self.call("Screenshot", GLib.Variant("(ss)", (window, path)))
        if not os.path.getsize(path):
            raise AssertionError("empty screenshot %s" % path)
        return path

    # the tray icon, as a host sees it

    def item_property(self, name):
        reply = self.bus.connection.call_sync(
            self.unique_name, ITEM_PATH, "org.freedesktop.DBus.Properties", "Get",
            GLib.Variant("(ss)", (ITEM_IFACE, name)), GLib.VariantType.new("(v)"),
            Gio.DBusCallFlags.NO_AUTO_START, 5000, None)
        return reply.get_child_value(0).get_variant().unpack()

    def menu_layout(self):
        """The dbusmenu as a list of {id, label, type, enabled, toggle-state}."""
        reply = self.bus.connection.call_sync(
            self.unique_name, self.item_property("Menu"), MENU_IFACE, "GetLayout",
            GLib.Variant("(iias)", (0, -1, [])), None, Gio.DBusCallFlags.NO_AUTO_START,
            5000, None)
        _revision, (_id, _props, children) = reply.unpack()
        items = []
        for child in children:
            item_id, props, _sub = child
            items.append({
                "id": item_id,
                "label": props.get("label", "").replace("__", "_"),
                "type": props.get("type", "standard"),
                "enabled": props.get("enabled", True),
                "toggle-state": props.get("toggle-state"),
            })
        return items

    def menu_labels(self):
        return [i["label"] for i in self.menu_layout() if i["type"] != "separator"]

    def wait_menu(self, predicate, timeout=15, what="the tray menu"):
        seen = []

        def found():
            labels = self.menu_labels()
            seen[:] = labels
            return predicate(labels)
        try:
            return wait_for(found, timeout, what, poll_ms=100)
        except AssertionError as e:
            raise AssertionError("%s; menu: %r" % (e, seen)) from None

    def menu_click(self, label, attempts=5):
        """Click the first menu item whose label starts with label, the way
        a tray host does (com.canonical.dbusmenu Event "clicked").  When
        the menu was rebuilt between GetLayout and Event (groups arriving),
        the id is stale: fetch the layout again, like a host would."""
        for attempt in range(attempts):
            items = self.menu_layout()
            item = next((i for i in items if i["label"].startswith(label)), None)
            if item is None:
                raise AssertionError("no menu item %r in %r"
                                     % (label, [i["label"] for i in items]))
            try:
                self.bus.connection.call_sync(
                    self.unique_name, self.item_property("Menu"), MENU_IFACE, "Event",
                    GLib.Variant("(isvu)", (item["id"], "clicked", GLib.Variant("i", 0), 0)),
                    None, Gio.DBusCallFlags.NO_AUTO_START, 5000, None)
                return item
            except GLib.Error as e:
                if attempt + 1 == attempts or "does not refer" not in e.message:
                    raise
                harness.iterate_for(0.2)


class AppletTest(IntegrationTest):
    """IntegrationTest with Xvfb, tray watchers, notification servers and applets."""

    LANG = "en"

    def setUp(self):
        super().setUp()
        self.xvfb = None
        self.applets = []
        self.helpers = []  # watchers and notification servers
        # Cleanups run last-in first-out: the applets stop before the
        # daemons and buses IntegrationTest takes down.
        self.addCleanup(self._stop_applets)

    def display(self):
        if self.xvfb is None:
            self.xvfb = Xvfb(self.tmpdir)
            self.xvfb.start()
        return self.xvfb.display

    def applet_desktop(self, user, **kwargs):
        """start_desktop, with the keyfile settings backend the applet shares."""
        env = dict(kwargs.pop("env", {}))
        env.setdefault("GSETTINGS_BACKEND", "keyfile")
        return self.start_desktop(user, env=env, **kwargs)

    def start_watcher(self, desktop):
        """A real StatusNotifierWatcher on the desktop's bus."""
        process = Process(["status-notifier-watcher"],
                          os.path.join(self.tmpdir, "watcher-%s.log" % desktop.name),
                          env=self._helper_env(desktop), name="status-notifier-watcher")
        self.helpers.append(process)
        wait_for(lambda: desktop.bus.name_owner(WATCHER_NAME) is not None
                 or not process.running, 10, "the StatusNotifierWatcher on %s's bus"
                 % desktop.name)
        if not process.running:
            raise AssertionError("status-notifier-watcher exited: %s"
                                 % read_text(process.log_path))
        return process

    def start_notification_server(self, desktop):
        """python-dbusmock's notification daemon; returns its call log path."""
        log = os.path.join(self.tmpdir, "notifications-%s.log" % desktop.name)
        process = Process([harness.PYTHON, "-m", "dbusmock", "--session", "-t",
                           "notification_daemon", "-l", log],
                          os.path.join(self.tmpdir, "dbusmock-%s.out" % desktop.name),
                          env=self._helper_env(desktop), name="dbusmock notifications")
        self.helpers.append(process)
        wait_for(lambda: desktop.bus.name_owner(NOTIFICATIONS_NAME) is not None, 10,
                 "the notification server on %s's bus" % desktop.name)
        return log

    def _helper_env(self, desktop):
        env = dict(os.environ)
        env["DBUS_SESSION_BUS_ADDRESS"] = desktop.bus.address
        return env

    def watcher_items(self, desktop):
        reply = desktop.bus.connection.call_sync(
            WATCHER_NAME, WATCHER_PATH, "org.freedesktop.DBus.Properties", "Get",
            GLib.Variant("(ss)", (WATCHER_NAME, "RegisteredStatusNotifierItems")),
            GLib.VariantType.new("(v)"), Gio.DBusCallFlags.NO_AUTO_START, 5000, None)
        return reply.get_child_value(0).get_variant().unpack()

    def start_applet(self, desktop, lang=None, args=(), wait=True, **kwargs):
        applet = Applet(self.tmpdir, desktop, self.display(), lang=lang or self.LANG, **kwargs)
        self.applets.append(applet)
        applet.start(args=args, wait=wait)
        return applet

    def _stop_applets(self):
        outcome = getattr(self, "_outcome", None)
        errors = []
        for applet in self.applets:
            if applet.running and getattr(outcome, "success", False):
                try:
                    applet.stop()
                except AssertionError as e:
                    errors.append(str(e))
            applet.kill()
        for helper in self.helpers:
            helper.kill()
        if errors:
            raise AssertionError("; ".join(errors))

    def _stop_everything(self):
        for applet in getattr(self, "applets", []):
            applet.kill()
        for helper in getattr(self, "helpers", []):
            helper.kill()
        super()._stop_everything()
        if getattr(self, "xvfb", None) is not None:
            self.xvfb.stop()

    def _print_logs(self):
        super()._print_logs()
        out = sys.stderr
        for applet in getattr(self, "applets", []):
            out.write("\n------------- applet log: %s -------------\n" % applet.name)
            out.write(applet.log_text())
        for helper in getattr(self, "helpers", []):
            text = read_text(helper.log_path)
            if text.strip():
                out.write("\n------------- %s -------------\n%s" % (helper.name, text))
        out.flush()
