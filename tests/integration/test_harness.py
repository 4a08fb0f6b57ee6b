#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Self-test of the integration harness, without the daemon: a real Prosody,
# plain clients, private buses, and a stand-in daemon (fake_daemon.py) for
# the Desktop machinery.  Runs in CI; keep it fast.

import json
import os
import stat
import unittest

from gi.repository import GLib

import harness
from harness import IntegrationTest


class ProsodyAndClients(IntegrationTest):
    def test_accounts_chat_presence_roster(self):
        # mod_groups takes a member's nick from the last group listing it.
        self.start_world(users=["alice", "bob"],
                         groups={"Experts: Billing": ["alice", ("bob", "Bob B")],
                                 "Friends": ["alice", ("bob", "Bob B")]})
        # Accounts made after start, both ways, can log in at once.
        self.prosody.add_user("dave", "dave-pw", method="prosodyctl")
        self.prosody.add_user("erin", "erin-pw")

        alice = self.start_client("alice")
        bob = self.start_client("bob")
        self.start_client("dave")
        self.start_client("erin")

        # The plain clients used STARTTLS with the self-signed certificate.
        self.assertEqual([enc for _sid, enc in self.prosody.logins("alice")], [True])

        # mod_groups gave both the shared groups, with the nick.
        roster = alice.events_of("session_start")[0]["roster"]
        self.assertEqual(sorted(roster["bob@example.org"]["groups"]),
                         ["Experts: Billing", "Friends"])
        self.assertEqual(roster["bob@example.org"]["name"], "Bob B")
        self.assertEqual(roster["bob@example.org"]["subscription"], "both")

        # Shared groups mean presence without a subscription handshake.
        mark = bob.mark()
        alice.presence(show="dnd", status="On a call")
        pres = bob.wait_event(lambda e: e["event"] == "presence" and e["show"] == "dnd",
                              what="alice's dnd presence at bob", since=mark)
        self.assertEqual(pres["from"], "alice@example.org/plain")
        self.assertEqual(pres["status"], "On a call")

        mark = bob.mark()
        alice.send("bob@example.org", "hello bob", thread="t1")
        msg = bob.wait_message(lambda e: e["body"] == "hello bob", since=mark)
        self.assertEqual(msg["type"], "chat")
        self.assertEqual(msg["thread"], "t1")
        self.assertIn("<thread>t1</thread>", msg["xml"])

        # Raw XML goes out as written.
        mark = alice.mark()
        bob.raw("<message to='alice@example.org' type='normal' id='raw1'>"
                "<body>raw</body><x xmlns='urn:example:test'/></message>")
        msg = alice.wait_message(lambda e: e["id"] == "raw1", since=mark)
        self.assertEqual(msg["type"], "normal")
        self.assertIn("urn:example:test", msg["xml"])

        # A roster set by one resource is pushed to the others.
        other = self.start_client("alice", resource="second")
        mark = other.mark()
        alice.roster_set("erin", groups=["Experts: Escalations"], name="Erin")
        push = other.wait_event(lambda e: e["event"] == "roster_push"
                                and "erin@example.org" in e["items"],
                                what="roster push at alice/second", since=mark)
        self.assertEqual(push["items"]["erin@example.org"]["groups"], ["Experts: Escalations"])

        # Login attempts are counted per user.
        self.assertEqual(self.prosody.auth_attempts("bob"), 1)
        self.assertEqual(self.prosody.auth_attempts("alice", "success"), 2)
        wrong = self.start_client("bob", resource="wrong", password="not-it", wait=False)
        wrong.wait_event(lambda e: e["event"] == "failed_auth", what="wrong password refused",
                         fail_on_exit=False)
        # Some servers (ejabberd) write the line a moment after refusing.
        harness.wait_for(lambda: self.prosody.auth_attempts("bob", "failure") == 1, 10,
                         "the refused login in the server's log")
        self.assertEqual(wrong.process.wait_exit(), 0)

        self.assertEqual(alice.quit(), 0)

    def test_kill_and_restart_on_same_port(self):
        self.start_world(users=["alice"])
        port = self.prosody.port
        alice = self.start_client("alice")
        self.prosody.kill()
        alice.wait_event(lambda e: e["event"] == "disconnected", what="alice to lose the link")
        self.assertFalse(harness.port_accepts(port))
        self.prosody.start()
        self.assertEqual(self.prosody.port, port)
        self.start_client("alice", resource="again")
        self.prosody.restart()
        self.start_client("alice", resource="third")
        self.assertEqual(self.prosody.stop(), 0)
        self.assertFalse(self.prosody.running)

    def test_wait_for_times_out_with_a_reason(self):
        with self.assertRaisesRegex(AssertionError,
                                    r"timed out after 0.2s waiting for the impossible"):
            harness.wait_for(lambda: False, timeout=0.2, what="the impossible")


class Buses(IntegrationTest):
    def test_private_bus(self):
        bus = self.new_bus("bus-one")
        self.assertTrue(bus.address.startswith("unix:"))
        other = self.new_bus("bus-two")
        self.assertNotEqual(bus.address, other.address)
        reply = bus.dbus_call("RequestName", GLib.Variant("(su)", ("org.example.Test", 0)))
        self.assertEqual(reply, (1,))  # primary owner
        self.assertEqual(bus.owner_pid("org.example.Test"), os.getpid())
        self.assertIsNone(other.name_owner("org.example.Test"))
        pid = bus.process.pid
        bus.stop()
        self.assertFalse(bus.process.running)
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)


class DesktopMachinery(IntegrationTest):
    """Desktop against fake_daemon.py: command line, environment, calls,
    errors, signals, properties, --replace and a clean SIGTERM."""

    def fake_desktop(self, user, **kwargs):
        return self.new_desktop(user, daemon_argv=[harness.PYTHON,
                                                   os.path.join(harness.HERE, "fake_daemon.py")],
                                **kwargs)

    def test_fake_daemon(self):
        self.start_world(users=["alice"])
        desktop = self.fake_desktop("alice", directory="[Group billing]\nExperts=alice@example.org;\n")
        desktop.start()
        desktop.wait_connected()

        with open(os.path.join(desktop.xdg["XDG_RUNTIME_DIR"], "fake-daemon.json")) as f:
            seen = json.load(f)
        argv, env = seen["argv"], seen["env"]
        self.assertIn("--account=alice@example.org", argv)
        self.assertIn("--server=" + self.prosody.address, argv)
        self.assertIn("--tls=trust-self-signed", argv)
        self.assertIn("--directory=" + desktop.directory_path, argv)
        self.assertIn("--password-file=" + desktop.password_path, argv)
        self.assertIn("--data-dir=" + desktop.data_dir, argv)
        self.assertEqual(env["DBUS_SESSION_BUS_ADDRESS"], desktop.bus.address)
        self.assertEqual(env["GSETTINGS_BACKEND"], "memory")
        self.assertIn("fatal-criticals", env["G_DEBUG"].split(","))
        self.assertEqual(env["HOME"], desktop.home)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
            self.assertTrue(env[var].startswith(desktop.dir), var)
        self.assertEqual(stat.S_IMODE(os.stat(env["XDG_RUNTIME_DIR"]).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(desktop.password_path).st_mode), 0o600)
        with open(desktop.password_path) as f:
            self.assertEqual(f.read(), "alice-secret")

        self.assertEqual(desktop.get_property("Account"), "alice@example.org")
        self.assertEqual(desktop.groups()["billing"][2:4], (1, 2))

        mark = desktop.mark()
        desktop.set_status("dnd", "busy")
        desktop.wait_property("Status", "dnd")
        self.assertEqual(desktop.property_value("StatusMessage"), "busy")
        sig = desktop.wait_signal("ExpertChanged", lambda a: a[1] == "dnd", since=mark)
        self.assertEqual(sig.args, ("alice@example.org", "dnd", False))

        self.assertDBusError(desktop, "InvalidArgs", "SetStatus",
                             GLib.Variant("(ss)", ("sleepy", "")))
        self.assertDBusError(desktop, harness.DBUS_INVALID_ARGS, "SetStatus",
                             GLib.Variant("(s)", ("dnd",)))
        self.assertDBusError(desktop, "org.freedesktop.DBus.Error.UnknownMethod", "Nope")

        # --replace: the second takes the name, the first exits with 0.
        first = desktop.daemon
        second = desktop.start_daemon(extra_args=["--replace"])
        self.assertEqual(first.wait_exit(), 0)
        self.assertTrue(desktop.on_bus())
        self.assertEqual(desktop.owner_pid(), second.pid)
        desktop.stop()
        self.assertEqual(second.status, 0)
        desktop.wait_for(lambda: desktop.owner is None, what="the name to be released")

    def test_missing_daemon_is_a_clear_failure(self):
        self.start_world(users=["alice"], start=False)
        desktop = self.new_desktop("alice", daemon_argv=["/nonexistent/expert-assistd"])
        with self.assertRaises(GLib.Error):
            desktop.start()


if __name__ == "__main__":
    unittest.main()
