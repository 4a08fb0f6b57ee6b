#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The expert's side (DESIGN.md sections 3, 5, 9): desktop notifications
# whose buttons work with no applet, automatic declines, late accepts,
# typing and receipts, and what a restart keeps.

import os
import subprocess

from gi.repository import Gio, GLib

import harness
from harness import ROOT_IFACE, SESSION_IFACE, assert_stays
from routing import RoutingTest, jid

E = "org.example.ExpertAssist.Error."


class NotificationServer:
    """python-dbusmock's notification daemon on a desktop's private bus."""

    def __init__(self, test, desktop):
        self.desktop = desktop
        log = os.path.join(test.tmpdir, "notifications-%s.log" % desktop.name)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=desktop.bus.address)
        self.proc = harness.Process(
            [harness.PYTHON, "-m", "dbusmock", "--session", "--template", "notification_daemon",
             "--parameters", '{"capabilities": "body actions"}'], log, env=env)
        test.addCleanup(self.proc.kill)
        desktop.wait_for(lambda: desktop.bus.name_owner("org.freedesktop.Notifications"),
                         what="the notification server on %s's bus" % desktop.name)

    def _mock(self, method, args=None):
        return self.desktop.bus.connection.call_sync(
            "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
            "org.freedesktop.DBus.Mock", method, args, None, Gio.DBusCallFlags.NONE, 5000,
            None).unpack()

    def notifies(self):
        """Every Notify call: (app_name, replaces, icon, summary, body, actions, hints, timeout)."""
        return [call[1] for call in self._mock("GetMethodCalls", GLib.Variant("(s)", ("Notify",)))[0]]

    def closes(self):
        return [call[1] for call in
                self._mock("GetMethodCalls", GLib.Variant("(s)", ("CloseNotification",)))[0]]

    def invoke(self, notification_id, action_key):
        self._mock("EmitSignal", GLib.Variant(
            "(sssav)", ("org.freedesktop.Notifications", "ActionInvoked", "us",
                        [GLib.Variant("u", notification_id), GLib.Variant("s", action_key)])))


class Notifications(RoutingTest):
    def test_accept_from_the_notification_without_applet(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"], "Name": "Billing"}})
        carol, alice = d["carol"], d["alice"]
        server = NotificationServer(self, alice)
        self.wait_interruptible(carol, "billing", 1)

        ma = alice.mark()
        path = self.ask(carol, "billing", "Printer on fire", query={"customer": "ACME"})
        offer = self.wait_offer(alice, path, ma)
        alice.wait_for(lambda: server.notifies(), what="a notification at alice's desktop")
        note = server.notifies()[0]
        summary, body, actions = note[3], note[4], note[5]
        self.assertIn("carol", summary)
        self.assertIn("billing", summary)
        self.assertIn("Printer on fire", body)
        self.assertNotIn("ACME", body)
        labels = dict(zip(actions[1::2], actions[0::2]))
        self.assertIn("Accept", labels)
        self.assertIn("Decline", labels)

        # Press Accept on the notification: the session opens with no applet.
        server.invoke(1, labels["Accept"])
        self.wait_request(carol, path, "connected")
        self.wait_offer_state(alice, offer, "accepted")
        session = self.offer(alice, offer, "Query")
        self.assertEqual(session["customer"], "ACME")

    def test_withdrawal_takes_the_notification_away(self):
        d = self.world(["carol"], ["alice", "bob"], {"billing": {"experts": ["alice", "bob"]}})
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        server = NotificationServer(self, alice)
        self.wait_interruptible(carol, "billing", 2)
        ma, mb = alice.mark(), bob.mark()
        path = self.ask(carol, "billing")
        self.wait_offer(alice, path, ma)
        alice.wait_for(lambda: server.notifies(), what="a notification at alice's desktop")
        self.accept(bob, self.wait_offer(bob, path, mb))
        alice.wait_for(lambda: server.closes(), what="alice's notification withdrawn")

    def test_no_notification_while_the_applet_runs(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, alice = d["carol"], d["alice"]
        server = NotificationServer(self, alice)
        # Someone owns the applet's name on alice's bus.
        owner = Gio.DBusConnection.new_for_address_sync(
            alice.bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        owner.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                        "RequestName", GLib.Variant("(su)", ("org.example.ExpertAssist.Applet", 0)),
                        None, Gio.DBusCallFlags.NONE, 5000, None)
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        self.wait_offer(alice, path, ma)
        assert_stays(lambda: not server.notifies(), 1, "no notification while the applet runs")
        owner.close_sync(None)


class Answers(RoutingTest):
    def test_automatic_decline_when_dnd_counts_as_expiry(self):
        d = self.world(["carol"], ["alice", "bob"],
                       {"billing": {"experts": ["alice", "bob"], "Interruptible": "available;dnd;",
                                    "Strategy": "serial"}},
                       expert_profiles={"alice": {"Priority": "1"}, "bob": {"Priority": "2"}})
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        alice.set_status("dnd")
        self.wait_interruptible(carol, "billing", 2)
        ma, mb = alice.mark(), bob.mark()
        path = self.ask(carol, "billing")
        # alice's daemon declines at once (dnd); serial moves to bob.
        self.wait_offer(bob, path, mb, timeout=5)
        self.assertFalse(alice.find_signals("OfferReceived", since=ma))
        self.assertEqual(self.request(carol, path, "Expired"), [jid("alice")])
        self.assertEqual(self.request(carol, path, "Declined"), [])

    def test_late_accept_is_taken_and_decline_needs_pending(self):
        d = self.world(["carol"], ["alice", "bob"], {"billing": {"experts": ["alice", "bob"]}})
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        self.wait_interruptible(carol, "billing", 2)
        ma, mb = alice.mark(), bob.mark()
        path = self.ask(carol, "billing")
        oa, ob = self.wait_offer(alice, path, ma), self.wait_offer(bob, path, mb)
        self.accept(alice, oa)
        self.wait_offer_state(bob, ob, "withdrawn")
        self.assertEqual(self.accept_error(bob, ob), E + "Taken")
        self.assertIn("alice@example.org", bob.last_error_message)
        self.assertEqual(bob.call_error("Decline", GLib.Variant("(s)", ("busy",)),
                                        iface="org.example.ExpertAssist.Offer", path=ob),
                         E + "Taken")

    def test_typing_receipts_and_close_from_the_agent(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, alice = d["carol"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        session = self.accept(alice, self.wait_offer(alice, path, ma))
        self.wait_request(carol, path, "connected")

        ma = alice.mark()
        carol.call("SetTyping", GLib.Variant("(b)", (True,)), iface=SESSION_IFACE, path=session)
        alice.wait_signal("ParticipantTyping", lambda a: a == (jid("carol"), True), since=ma,
                          iface=SESSION_IFACE, path=session)
        carol.call("SetTyping", GLib.Variant("(b)", (False,)), iface=SESSION_IFACE, path=session)
        alice.wait_signal("ParticipantTyping", lambda a: a == (jid("carol"), False), since=ma,
                          iface=SESSION_IFACE, path=session)

        ma = alice.mark()
        mid = self.send(alice, session, "x" * 65536)
        alice.wait_signal("MessageDelivered", lambda a: a[0] == mid, since=ma, iface=SESSION_IFACE,
                          path=session)
        self.assertEqual(alice.call_error("Send", GLib.Variant("(s)", ("x" * 65537,)),
                                          iface=SESSION_IFACE, path=session), E + "InvalidArgs")

        carol.call("Close", None, iface=SESSION_IFACE, path=session)
        alice.wait_for(lambda: self.session(alice, session, "State") == "closed",
                       what="alice's session closed by carol")
        self.assertGreater(self.session(alice, session, "Ended"), 0)
        self.assertEqual(alice.call_error("Send", GLib.Variant("(s)", ("late",)),
                                          iface=SESSION_IFACE, path=session), E + "Failed")
        self.wait_request(carol, path, "closed")
        # Her load is back to 0 in her presence.
        self.wait_interruptible(carol, "billing", 1)


class Restart(RoutingTest):
    def test_agent_killed_mid_offer(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, alice = d["carol"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        offer = self.wait_offer(alice, path, ma)
        carol.kill()
        carol.start()
        carol.wait_connected()
        # The request comes back failed, reason restarted; alice's offer is withdrawn.
        self.assertEqual(self.request(carol, path, "State"), "failed")
        self.assertEqual(self.request(carol, path, "Reason"), "restarted")
        self.wait_offer_state(alice, offer, "withdrawn")
        self.assertEqual(self.offer(alice, offer, "Reason"), "cancelled")

    def test_expert_restart_keeps_session_and_messages(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, alice = d["carol"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        session = self.accept(alice, self.wait_offer(alice, path, ma))
        ma = alice.mark()
        self.send(carol, session, "before the crash")
        self.wait_message(alice, session, "before the crash", ma)
        alice.kill()
        alice.start()
        alice.wait_connected()
        self.assertEqual(self.session(alice, session, "State"), "open")
        self.assertEqual([m[3] for m in self.messages(alice, session)], ["before the crash"])
        ma = alice.mark()
        self.send(carol, session, "after the crash")
        self.wait_message(alice, session, "after the crash", ma)
