#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Foundation scenarios, written against DESIGN.md: connection, presence,
# the directory (keyfile and roster groups), D-Bus errors, --replace,
# recovery after the server restarts, TLS policy.

import re
import unittest

from gi.repository import GLib

import harness
from harness import ROOT_IFACE, IntegrationTest

ALICE = "alice@example.org"
BOB = "bob@example.org"
CAROL = "carol@example.org"

BILLING = """\
# Deployed by the administrators
[Group billing]
Name=Billing
Experts=alice@example.org;bob@example.org;
"""

TECH = """
[Group tech]
Name=Technical support
Experts=dave@example.org;
"""

ESCALATIONS = """
[Group escalations]
Name=Escalations
Experts=erin@example.org;
"""

ALICE_PROFILE = """
[Expert alice@example.org]
Name=Alice Smith
Skills=refunds:4;chargebacks;
Languages=en;de;
Level=3
MaxSessions=2
"""

MODES = {"parallel", "serial", "progressive", "room"}
ORDERS = {"priority", "longest-idle", "fewest-sessions", "round-robin", "random"}


class FoundationTest(IntegrationTest):
    def wait_group_counts(self, desktop, group, counts, timeout=10):
        """Poll ListGroups until group shows (interruptible, total) == counts."""
        seen = []

        def reached():
            row = desktop.groups().get(group)
            seen[:] = [row]
            return row is not None and tuple(row[2:4]) == counts
        try:
            desktop.wait_for(reached, timeout, "%s's ListGroups to show %s with %d of %d "
                             "interruptible" % (desktop.name, group, counts[0], counts[1]),
                             poll_ms=100)
        except AssertionError as e:
            raise AssertionError("%s (last row: %r)" % (e, seen[0] if seen else None)) from None
        return seen[0]

    def expert_changed(self, desktop, address, status, since, timeout=10):
        return desktop.wait_signal(
            "ExpertChanged", lambda a: a[0] == address and a[1] == status, timeout=timeout,
            since=since, iface=ROOT_IFACE,
            what="ExpertChanged(%s, %s) at %s" % (address, status, desktop.name))

    def assert_answers(self, desktop, group="billing"):
        """The daemon is on the bus and ListGroups still answers."""
        self.assertTrue(desktop.on_bus(), "%s's daemon left the bus" % desktop.name)
        self.assertIn(group, desktop.groups())


class Presence(FoundationTest):
    def test_two_daemons_see_each_other(self):
        self.start_world(users=["alice", "bob", "carol"], directory=BILLING)
        alice = self.start_desktop("alice")
        carol = self.start_desktop("carol")

        self.assertEqual(alice.get_property("Account"), ALICE)
        self.assertEqual(carol.get_property("Account"), CAROL)
        # The default is STARTTLS, here with the self-signed certificate.
        self.assertTrue(self.prosody.logins("alice"), "alice never logged in")
        self.assertTrue(all(enc for _sid, enc in self.prosody.logins("alice")),
                        "alice's stream was not encrypted")

        # bob never logs in: 1 of 2.
        row = self.wait_group_counts(carol, "billing", (1, 2))
        self.assertEqual(row[1], "Billing")
        self.assertEqual(row[4].get("strategy"), "parallel")

        experts = carol.experts("billing")
        self.assertEqual(set(experts), {ALICE, BOB})
        self.assertEqual(experts[ALICE][2], "available")
        self.assertIs(experts[ALICE][3]["interruptible"], True)
        self.assertEqual(experts[BOB][2], "offline")
        self.assertIs(experts[BOB][3]["interruptible"], False)

    def test_status_changes_move_counts(self):
        self.start_world(users=["alice", "bob", "carol"], directory=BILLING)
        alice = self.start_desktop("alice")
        carol = self.start_desktop("carol")
        self.wait_group_counts(carol, "billing", (1, 2))
        self.assertEqual(alice.get_property("Status"), "available")

        # dnd: not interruptible.
        mark = carol.mark()
        alice.set_status("dnd", "In a meeting")
        alice.wait_property("Status", "dnd")
        alice.wait_property("StatusMessage", "In a meeting")
        sig = self.expert_changed(carol, ALICE, "dnd", mark)
        self.assertEqual(sig.args, (ALICE, "dnd", False))
        self.wait_group_counts(carol, "billing", (0, 2))
        self.assertEqual(carol.experts("billing")[ALICE][2], "dnd")

        # offline: the expert's daemon disconnects and stays so.
        mark = carol.mark()
        alice.set_status("offline", "")
        alice.wait_property("Status", "offline")
        alice.wait_property("StatusMessage", "")
        alice.wait_property("ConnectionState", "disconnected")
        sig = self.expert_changed(carol, ALICE, "offline", mark)
        self.assertEqual(sig.args, (ALICE, "offline", False))
        self.wait_group_counts(carol, "billing", (0, 2))
        self.assertTrue(alice.on_bus())

        # available again: reconnects, interruptible again.
        mark = carol.mark()
        alice.set_status("available", "")
        alice.wait_property("Status", "available")
        alice.wait_connected()
        sig = self.expert_changed(carol, ALICE, "available", mark)
        self.assertEqual(sig.args, (ALICE, "available", True))
        self.wait_group_counts(carol, "billing", (1, 2))


class RosterGroups(FoundationTest):
    def test_prefixed_roster_groups_become_groups(self):
        members = [("alice", "Alice Smith"), ("carol", "Carol Jones")]
        self.start_world(users=["alice", "carol"],
                         groups={"Experts: Tier 2 Support": members, "Friends": members})
        alice = self.start_desktop("alice")
        carol = self.start_desktop("carol")
        self.assertIsNotNone(alice)

        groups = carol.wait_for(lambda: carol.groups().get("tier-2-support") and carol.groups(),
                                what="tier-2-support in carol's ListGroups", poll_ms=100)
        self.assertEqual(groups["tier-2-support"][1], "Tier 2 Support")
        self.assertNotIn("friends", groups)
        self.assertFalse([g for g in groups if "friend" in g], groups)
        # The roster holds only alice for carol: 1 of 1 once her presence is in.
        self.wait_group_counts(carol, "tier-2-support", (1, 1))
        experts = carol.experts("tier-2-support")
        self.assertEqual(list(experts), [ALICE])
        self.assertEqual(experts[ALICE][1], "Alice Smith")

    def test_roster_push_adds_group(self):
        self.start_world(users=["alice", "carol"])
        carol = self.start_desktop("carol")
        self.assertNotIn("escalations", carol.groups())

        # carol's other client (say Pidgin) files alice under the prefix.
        pidgin = self.start_client("carol", resource="pidgin")
        mark = carol.mark()
        pidgin.roster_set("alice", groups=["Experts: Escalations"], name="Alice")
        carol.wait_signal("GroupsChanged", since=mark, iface=ROOT_IFACE)
        groups = carol.groups()
        self.assertIn("escalations", groups)
        self.assertEqual(groups["escalations"][1], "Escalations")
        self.assertEqual(groups["escalations"][3], 1)
        self.assertEqual(list(carol.experts("escalations")), [ALICE])


class DirectoryFile(FoundationTest):
    def test_rewritten_keyfile_and_broken_keyfile(self):
        self.start_world(users=["carol"], directory=BILLING)
        carol = self.start_desktop("carol")
        self.assertEqual(set(carol.groups()), {"billing"})

        # Rewritten in place.
        mark = carol.mark()
        carol.write_directory(BILLING + TECH)
        carol.wait_signal("GroupsChanged", since=mark, iface=ROOT_IFACE,
                          what="GroupsChanged after the keyfile was rewritten")
        self.assertEqual(set(carol.groups()), {"billing", "tech"})
        self.assertEqual(carol.groups()["tech"][1], "Technical support")

        # Replaced by rename, as editors and g_file_set_contents() do.
        mark = carol.mark()
        carol.write_directory(BILLING + TECH + ESCALATIONS, atomic=True)
        carol.wait_signal("GroupsChanged", since=mark, iface=ROOT_IFACE,
                          what="GroupsChanged after the keyfile was replaced")
        self.assertEqual(set(carol.groups()), {"billing", "tech", "escalations"})

        # Broken: the daemon stays up, keeps the last good directory, and
        # its log names the file and the line.
        broken = (BILLING + "\nthis is not valid\n").splitlines()
        bad_line = broken.index("this is not valid") + 1
        carol.write_directory("\n".join(broken) + "\n")
        path = carol.directory_path
        number = re.compile(r"(line\s*%d\b|:%d\b)" % (bad_line, bad_line), re.IGNORECASE)
        carol.wait_for(lambda: [line for line in carol.log_text().splitlines()
                                if path in line and number.search(line)],
                       what="a log line naming %s and line %d" % (path, bad_line))
        self.assertTrue(carol.on_bus())
        self.assertEqual(set(carol.groups()), {"billing", "tech", "escalations"})

    def test_agent_section_limits_groups(self):
        self.start_world(users=["carol"],
                         directory=BILLING + TECH + "\n[Agent carol@example.org]\nGroups=billing;\n")
        carol = self.start_desktop("carol")
        self.assertEqual(set(carol.groups()), {"billing"})
        self.assertDBusError(carol, "PermissionDenied", "ListExperts",
                             GLib.Variant("(s)", ("tech",)))
        self.assertDBusError(carol, "NotFound", "ListExperts", GLib.Variant("(s)", ("nope",)))
        self.assertEqual(set(carol.experts("billing")), {ALICE, BOB})

    def test_expert_details_and_preference_options(self):
        self.start_world(users=["alice", "bob", "carol"], directory=BILLING + ALICE_PROFILE)
        self.start_desktop("alice")
        carol = self.start_desktop("carol")
        self.wait_group_counts(carol, "billing", (1, 2))

        types = {"interruptible": "b", "skills": "as", "skill-levels": "a{su}",
                 "languages": "as", "level": "u", "sessions": "u", "max-sessions": "u"}
        reply = carol.call_raw("ListExperts", GLib.Variant("(s)", ("billing",)))
        self.assertEqual(reply.get_type_string(), "(a(sssa{sv}))")
        rows = reply.get_child_value(0)
        for i in range(rows.n_children()):
            row = rows.get_child_value(i)
            extra = row.get_child_value(3)
            for key, sig in types.items():
                value = extra.lookup_value(key, None)
                self.assertIsNotNone(value, "%s has no %s" % (row.get_child_value(0), key))
                self.assertEqual(value.get_type_string(), sig, key)

        experts = carol.experts("billing")
        address, name, status, extra = experts[ALICE]
        self.assertEqual(name, "Alice Smith")
        self.assertEqual(status, "available")
        self.assertIs(extra["interruptible"], True)
        self.assertEqual(sorted(extra["skills"]), ["chargebacks", "refunds"])
        self.assertEqual(extra["skill-levels"].get("refunds"), 4)
        self.assertEqual(extra["languages"], ["en", "de"])
        self.assertEqual(extra["level"], 3)
        self.assertEqual(extra["sessions"], 0)
        self.assertEqual(extra["max-sessions"], 2)

        _, _, status, extra = experts[BOB]
        self.assertEqual(status, "offline")
        self.assertIs(extra["interruptible"], False)
        self.assertEqual(extra["skills"], [])
        self.assertEqual(extra["sessions"], 0)
        self.assertEqual(extra["max-sessions"], 1)  # the default MaxSessions

        reply = carol.call_raw("GetPreferenceOptions")
        self.assertEqual(reply.get_type_string(), "(a{sv})")
        options = reply.get_child_value(0)
        for key, sig in (("skills", "as"), ("languages", "as"), ("levels", "au"),
                         ("modes", "as"), ("orders", "as")):
            value = options.lookup_value(key, None)
            self.assertIsNotNone(value, "GetPreferenceOptions has no %s" % key)
            self.assertEqual(value.get_type_string(), sig, key)
        options = options.unpack()
        self.assertTrue({"refunds", "chargebacks"} <= set(options["skills"]), options["skills"])
        self.assertTrue({"en", "de"} <= set(options["languages"]), options["languages"])
        self.assertIn(3, options["levels"])
        self.assertTrue(MODES <= set(options["modes"]), options["modes"])
        self.assertTrue(ORDERS <= set(options["orders"]), options["orders"])


class Connection(FoundationTest):
    def test_wrong_password_stops_retrying(self):
        self.start_world(users=["alice"])
        alice = self.start_desktop("alice", connected=False, password="not-the-password")
        alice.wait_property("ConnectionState", "auth-failed", timeout=15)
        attempts = self.prosody.auth_attempts("alice")
        self.assertGreaterEqual(attempts, 1)
        self.assertEqual(self.prosody.auth_attempts("alice", "success"), 0)
        # No retry: nothing new at the server for 5 s, and the daemon stays.
        harness.assert_stays(
            lambda: (self.prosody.auth_attempts("alice") == attempts and alice.on_bus()
                     and alice.property_value("ConnectionState") == "auth-failed"),
            5, "no new login attempt by alice, her daemon on the bus in auth-failed")
        self.assertTrue(alice.get_property("ConnectionError"), "ConnectionError is empty")

    def test_password_file_must_be_private(self):
        self.start_world(users=["alice"])
        alice = self.start_desktop("alice", connected=False, password_mode=0o644)
        alice.wait_property("ConnectionState", "error")
        message = alice.get_property("ConnectionError")
        self.assertIn("private", message.lower(), message)
        self.assertEqual(self.prosody.auth_attempts("alice"), 0)
        self.assertTrue(alice.on_bus())

    def test_server_restart_reconnects(self):
        self.start_world(users=["alice", "bob", "carol"], directory=BILLING)
        alice = self.start_desktop("alice")
        carol = self.start_desktop("carol")
        self.wait_group_counts(carol, "billing", (1, 2))

        marks = {d: d.mark() for d in (alice, carol)}
        self.prosody.kill()
        for desktop, mark in marks.items():
            desktop.wait_signal(
                "PropertiesChanged",
                lambda a: a[0] == ROOT_IFACE
                and a[1].get("ConnectionState") in ("disconnected", "connecting"),
                since=mark, what="%s's daemon to notice the server is gone" % desktop.name)
        self.prosody.start()
        alice.wait_connected(timeout=30)
        carol.wait_connected(timeout=30)
        self.wait_group_counts(carol, "billing", (1, 2), timeout=30)
        self.assertTrue(alice.on_bus() and carol.on_bus())


class Lifecycle(FoundationTest):
    def test_replace(self):
        self.start_world(users=["alice"])
        alice = self.start_desktop("alice")
        first = alice.daemon
        second = alice.start_daemon(extra_args=["--replace"])
        status = first.wait_exit(10, "the replaced daemon to exit")
        self.assertEqual(status, 0, "replaced daemon: %s" % harness.describe_status(status))
        self.assertEqual(alice.owner_pid(), second.pid)
        alice.wait_connected()
        alice.stop()


class BadInput(FoundationTest):
    def test_named_errors_and_daemon_stays_up(self):
        self.start_world(users=["alice", "bob"], directory=BILLING)
        alice = self.start_desktop("alice")
        self.assert_answers(alice)

        self.assertDBusError(alice, "InvalidArgs", "SetStatus",
                             GLib.Variant("(ss)", ("sleepy", "")))
        self.assertEqual(alice.get_property("Status"), "available")
        self.assert_answers(alice)

        self.assertDBusError(alice, "NotFound", "ListExperts", GLib.Variant("(s)", ("nope",)))
        self.assert_answers(alice)

        self.assertDBusError(alice, "InvalidArgs", "SetAccount",
                             GLib.Variant("(sss)", ("not a jid", "", "x")))
        self.assert_answers(alice)

        # Wrong signatures are GDBus's own error.
        self.assertDBusError(alice, harness.DBUS_INVALID_ARGS, "SetStatus",
                             GLib.Variant("(s)", ("dnd",)))
        self.assertDBusError(alice, harness.DBUS_INVALID_ARGS, "ListExperts",
                             GLib.Variant("(u)", (5,)))
        self.assertDBusError(alice, harness.DBUS_INVALID_ARGS, "RequestHelp",
                             GLib.Variant("(s)", ("billing",)))
        self.assert_answers(alice)

        # Not connected: RequestHelp fails at once, reading calls work.
        self.prosody.stop()
        alice.wait_property("ConnectionState", lambda s: s in ("disconnected", "connecting"))
        self.assertDBusError(alice, "NotConnected", "RequestHelp",
                             GLib.Variant("(sa{sv}a{sv})", (
                                 "billing",
                                 {"summary": GLib.Variant("s", "Customer cannot log in")},
                                 {})))
        self.assert_answers(alice)
        self.assertEqual(set(alice.experts("billing")), {ALICE, BOB})


class Tls(FoundationTest):
    def test_tls_none_on_loopback(self):
        self.start_world(users=["alice"])
        alice = self.start_desktop("alice", tls="none")
        self.assertEqual(alice.get_property("ConnectionError"), "")
        logins = self.prosody.logins("alice")
        self.assertTrue(logins, "alice never logged in")
        self.assertFalse(any(enc for _sid, enc in logins), "--tls=none still used TLS")

    def test_tls_none_refused_off_loopback(self):
        self.start_world(users=["alice"])
        # 192.0.2.0/24 is TEST-NET-1: never loopback, never routed.
        alice = self.start_desktop("alice", connected=False, tls="none",
                                   server="192.0.2.1:%d" % self.prosody.port)
        alice.wait_property("ConnectionState", "error")
        self.assertTrue(alice.get_property("ConnectionError"), "ConnectionError is empty")
        self.assertTrue(alice.on_bus())


if __name__ == "__main__":
    unittest.main()
