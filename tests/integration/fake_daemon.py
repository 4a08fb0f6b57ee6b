#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A stand-in for expert-assistd used only by test_harness.py, so the
# harness's Desktop machinery (private bus, name ownership, calls, errors,
# signals, properties, exit status) is checked without the real daemon.
# It writes the command line and environment it got to
# $XDG_RUNTIME_DIR/fake-daemon.json.

import json
import os
import signal
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.example.ExpertAssist">
    <property name="ConnectionState" type="s" access="read"/>
    <property name="Account" type="s" access="read"/>
    <property name="Status" type="s" access="read"/>
    <property name="StatusMessage" type="s" access="read"/>
    <method name="SetStatus">
      <arg direction="in" type="s" name="status"/>
      <arg direction="in" type="s" name="message"/>
    </method>
    <method name="ListGroups">
      <arg direction="out" type="a(ssuua{sv})" name="groups"/>
    </method>
    <signal name="ExpertChanged">
      <arg type="s" name="address"/>
      <arg type="s" name="status"/>
      <arg type="b" name="interruptible"/>
    </signal>
  </interface>
</node>
"""
IFACE = "org.example.ExpertAssist"
PATH = "/org/example/ExpertAssist"
STATUSES = ("available", "chat", "away", "xa", "dnd", "offline")


def main():
    account = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--account=")), "")
    with open(os.path.join(os.environ["XDG_RUNTIME_DIR"], "fake-daemon.json"), "w") as f:
        json.dump({"argv": sys.argv, "env": dict(os.environ)}, f)

    loop = GLib.MainLoop()
    props = {"ConnectionState": "connecting", "Account": account, "Status": "available",
             "StatusMessage": ""}
    conn = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]

    def set_props(**changed):
        props.update(changed)
        conn.emit_signal(None, PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                         GLib.Variant("(sa{sv}as)", (IFACE, {k: GLib.Variant("s", v)
                                                            for k, v in changed.items()}, [])))

    def method_call(_conn, _sender, _path, _iface, method, params, invocation):
        if method == "SetStatus":
            status, message = params.unpack()
            if status not in STATUSES:
                invocation.return_dbus_error("org.example.ExpertAssist.Error.InvalidArgs",
                                             "Unknown status %s" % status)
                return
            set_props(Status=status, StatusMessage=message)
            conn.emit_signal(None, PATH, IFACE, "ExpertChanged",
                             GLib.Variant("(ssb)", (account, status, status in ("available",
                                                                                 "chat"))))
            invocation.return_value(None)
        elif method == "ListGroups":
            invocation.return_value(GLib.Variant("(a(ssuua{sv}))", (
                [("billing", "Billing", 1, 2, {"strategy": GLib.Variant("s", "parallel")})],)))

    def get_property(_conn, _sender, _path, _iface, name):
        return GLib.Variant("s", props[name])

    conn.register_object(PATH, info, method_call, get_property, None)

    def acquired(_conn, _name):
        # Connect "later", as the real daemon does after owning its name.
        GLib.timeout_add(100, lambda: set_props(ConnectionState="connected") or False)

    def lost(_conn, _name):
        loop.quit()

    flags = Gio.BusNameOwnerFlags.ALLOW_REPLACEMENT
    if "--replace" in sys.argv:
        flags |= Gio.BusNameOwnerFlags.REPLACE
    Gio.bus_own_name_on_connection(conn, IFACE, flags, acquired, lost)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
