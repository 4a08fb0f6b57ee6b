#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The GTK 4 applet under Xvfb, on each user's private bus, with the real
# daemon, a real Prosody and a real StatusNotifierWatcher: the tray item
# and its menu, status from the menu, the request window, the offer
# pop-up, the chat window, history and statistics, preferences, German.
# Every window is photographed under $EA_BUILD_ROOT/screenshots/<lang>/.

import os

from gi.repository import GLib

import harness
from harness import BUS_NAME, OFFER_IFACE, ROOT_IFACE, SESSION_IFACE, iterate_for, wait_for
from applet_harness import APPLET_ID, AppletTest

ALICE = "alice@example.org"
BOB = "bob@example.org"
CAROL = "carol@example.org"

DIRECTORY = """\
[Group billing]
Name=Billing and refunds
Description=Invoices, refunds, chargebacks
Experts=alice@example.org;bob@example.org;

[Group tech]
Name=Technical support
Experts=dave@example.org;

[Expert alice@example.org]
Name=Alice Smith
Skills=refunds:4;chargebacks:2;
Languages=en;de;
Level=3
MaxSessions=2

[Expert bob@example.org]
Name=Bob Jones
Skills=refunds;
Languages=en;
Level=2

[Expert dave@example.org]
Name=Dave Miller
Skills=network;
Languages=en;
Level=4

[Agent carol@example.org]
Groups=billing;tech;
"""

USERS = ["alice", "bob", "carol", "dave"]

# Labels as the applet writes them, per language.
LABELS = {
    "en": {
        "counts": "%s: %d of %d available",
        "ask": "Ask for Help…",
        "away": "Away",
        "dnd": "Do not disturb",
        "available": "Available",
        "preferences": "Preferences…",
        "history": "History…",
        "statistics": "Statistics…",
        "request_title": "Ask for Help",
        "no_tray": "No system tray was found",
        "shown_on_accept": "(shown on accept)",
        "taken_by": "Taken by",
        "cancelled": "Cancelled by the agent",
        "offered": "Offered to",
    },
    "de": {
        "counts": "%s: %d von %d verfügbar",
        "ask": "Um Hilfe bitten …",
        "away": "Abwesend",
        "dnd": "Bitte nicht stören",
        "available": "Verfügbar",
        "preferences": "Einstellungen …",
        "history": "Verlauf …",
        "statistics": "Statistik …",
        "request_title": "Um Hilfe bitten",
        "no_tray": "Es wurde kein Systembereich gefunden",
        "shown_on_accept": "(wird bei Annahme gezeigt)",
        "taken_by": "Übernommen von",
        "cancelled": "Vom Agenten abgebrochen",
        "offered": "Experten angeboten",
    },
}


class AppletTestCase(AppletTest):
    def label(self, key, lang=None):
        return LABELS[lang or self.LANG][key]

    def counts(self, group, available, total, lang=None):
        return self.label("counts", lang) % (group, available, total)

    def wait_counts(self, applet, group, available, total):
        wanted = self.counts(group, available, total, applet.lang)
        return applet.wait_menu(lambda labels: wanted in labels,
                                what="%r in the tray menu" % wanted)


class Tray(AppletTestCase):
    def test_item_registers_and_menu_lists_groups(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        self.start_desktop("alice")
        carol = self.applet_desktop("carol")
        self.start_watcher(carol)
        applet = self.start_applet(carol, args=["--background"])

        # Registered with the watcher, as a host would find it.
        wait_for(lambda: any(applet.unique_name in item for item in self.watcher_items(carol)),
                 10, "the applet's item in RegisteredStatusNotifierItems")
        self.assertEqual(applet.item_property("Id"), APPLET_ID)
        self.assertEqual(applet.item_property("Menu"), "/MenuBar")
        self.assertEqual(applet.item_property("Category"), "Communications")
        wait_for(lambda: applet.item_property("IconName").endswith("-available"), 10,
                 "the icon to show available and connected")
        pixmaps = applet.item_property("IconPixmap")
        self.assertTrue(pixmaps and pixmaps[0][0] > 0, "no IconPixmap")
        self.assertTrue(applet.tray()[0])

        # The menu lists the groups with live counts: bob is not there yet.
        self.wait_counts(applet, "Billing and refunds", 1, 2)
        self.wait_counts(applet, "Technical support", 0, 1)
        labels = applet.menu_labels()
        self.assertIn(self.label("ask"), labels)
        self.assertTrue(any(CAROL in label for label in labels), labels)

        # bob logs in: ExpertChanged moves the count, nobody polls.
        self.start_desktop("bob")
        self.wait_counts(applet, "Billing and refunds", 2, 2)
        self.assertEqual(applet.windows(), {})  # --background opens nothing
        applet.screenshot(applet.show_tray_menu(), "tray-menu")

    def test_status_from_menu(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        carol = self.applet_desktop("carol")
        self.start_watcher(carol)
        applet = self.start_applet(carol, args=["--background"])
        wait_for(lambda: applet.tray()[1].endswith("-available"), 10, "the available icon")

        for key, status, icon in (("away", "away", "-away"), ("dnd", "dnd", "-busy"),
                                  ("available", "available", "-available")):
            applet.menu_click(self.label(key))
            carol.wait_property("Status", status)
            wait_for(lambda: applet.item_property("IconName").endswith(icon), 10,
                     "the tray icon to end in %s" % icon)
            items = applet.menu_layout()
            checked = [i["label"] for i in items if i["toggle-state"] == 1]
            self.assertEqual(checked, [self.label(key)])

    def test_without_tray_host(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        carol = self.applet_desktop("carol")
        applet = self.start_applet(carol)  # from the launcher: activate

        # No watcher: the menu comes up as a window that says why.
        window = applet.wait_window("tray-menu")
        applet.wait_text(window, self.label("no_tray"))
        self.assertFalse(applet.tray()[0])
        applet.wait_text(window, self.counts("Billing and refunds", 0, 2))

        # A tray appears later: the item registers, the note goes.
        self.start_watcher(carol)
        wait_for(lambda: applet.tray()[0], 10, "the applet to register with the new watcher")
        wait_for(lambda: not any(self.label("no_tray") in t for t in applet.texts(window)), 10,
                 "the note to go")


class RequestWindow(AppletTestCase):
    def test_filled_from_daemon(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        self.start_desktop("alice")
        carol = self.applet_desktop("carol")
        self.start_watcher(carol)
        applet = self.start_applet(carol, args=["--background"])
        self.wait_counts(applet, "Billing and refunds", 1, 2)

        # The group's menu item opens the request window on that group.
        applet.menu_click("Billing and refunds")
        window = applet.wait_window("request")
        self.assertEqual(applet.windows()[window][0], self.label("request_title"))
        applet.wait_text(window, "Billing and refunds")
        applet.wait_text(window, "Technical support")
        # Skills from GetPreferenceOptions, as toggle chips.
        for skill in ("refunds", "chargebacks", "network"):
            wait_for(lambda: applet.get_text(window, "skill-" + skill) == skill, 10,
                     "skill chip %s" % skill)

        applet.set_text(window, "summary_row", "Customer cannot log in after password reset")
        applet.set_text(window, "customer_row", "ACME Corp")
        applet.set_text(window, "reference_row", "T-1234")
        applet.set_selected(window, "channel_row", 1)
        applet.screenshot(window, "request")


class Preferences(AppletTestCase):
    def test_settings_and_autostart(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        carol = self.applet_desktop("carol")
        self.start_watcher(carol)
        applet = self.start_applet(carol, args=["--background"])

        applet.menu_click(self.label("preferences"))
        window = applet.wait_window("preferences")
        wait_for(lambda: applet.get_text(window, "address_row") == CAROL, 10,
                 "the address filled in")
        applet.screenshot(window, "preferences")

        # The daemon's own key, through the shared keyfile backend.
        keyfile = os.path.join(carol.xdg["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
        applet.set_selected(window, "default_mode_row", 1)
        wait_for(lambda: "default-mode='serial'" in harness.read_text(keyfile), 10,
                 "default-mode=serial in %s" % keyfile)

        # Autostart is a file, not a setting.
        autostart = os.path.join(carol.xdg["XDG_CONFIG_HOME"], "autostart",
                                 APPLET_ID + ".desktop")
        self.assertFalse(os.path.exists(autostart))
        applet.activate(window, "autostart_switch")
        wait_for(lambda: os.path.exists(autostart), 10, "the autostart entry")
        self.assertIn("Exec=expert-assist-applet --background", harness.read_text(autostart))
        applet.activate(window, "autostart_switch")
        wait_for(lambda: not os.path.exists(autostart), 10, "the autostart entry to go")

        # Dark style, the applet's own key.
        applet.set_selected(window, "style_row", 2)
        wait_for(lambda: "color-scheme='dark'" in harness.read_text(keyfile), 10,
                 "color-scheme=dark in %s" % keyfile)
        applet.screenshot(window, "preferences-dark")


class Activation(AppletTestCase):
    def test_applet_starts_daemon_by_activation(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        carol = self.new_desktop("carol", env={"GSETTINGS_BACKEND": "keyfile"})
        carol._ensure_bus()
        carol.bus.update_activation_environment(carol.environment())
        carol.bus.add_service(BUS_NAME, carol.command_line())
        self.assertIsNone(carol.bus.name_owner(BUS_NAME))

        self.start_watcher(carol)
        applet = self.start_applet(carol, args=["--background"])
        wait_for(lambda: carol.bus.name_owner(BUS_NAME) is not None, 15,
                 "the daemon to be started by D-Bus activation")
        self.wait_counts(applet, "Billing and refunds", 0, 2)
        pid = carol.bus.owner_pid(BUS_NAME)
        applet.stop()
        os.kill(pid, 15)
        wait_for(lambda: carol.bus.name_owner(BUS_NAME) is None, 10, "the daemon to leave")


class German(AppletTestCase):
    LANG = "de"

    def test_applet_in_german(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        self.start_desktop("alice")
        carol = self.applet_desktop("carol")
        self.start_watcher(carol)
        applet = self.start_applet(carol, args=["--background"])

        self.wait_counts(applet, "Billing and refunds", 1, 2)
        labels = applet.menu_labels()
        for key in ("ask", "away", "dnd", "available", "preferences", "history", "statistics"):
            self.assertIn(self.label(key), labels)
        applet.screenshot(applet.show_tray_menu(), "tray-menu")

        applet.menu_click("Billing and refunds")
        window = applet.wait_window("request")
        self.assertEqual(applet.windows()[window][0], self.label("request_title"))
        applet.set_text(window, "summary_row", "Kunde kann sich nach dem Zurücksetzen nicht anmelden")
        applet.set_text(window, "customer_row", "ACME GmbH")
        applet.screenshot(window, "request")

        applet.menu_click(self.label("preferences"))
        applet.screenshot(applet.wait_window("preferences"), "preferences")


# ---------------------------------------------------------------------------
# With routing: a real request, offer, accept and chat between two applets.

def object_paths(desktop, kind):
    """Paths of the daemon's request/, offer/ or session/ objects."""
    prefix = "/org/example/ExpertAssist/%s/" % kind
    return sorted(p for p in desktop.managed_objects() if p.startswith(prefix))


class FullSession(AppletTestCase):
    """Agent carol asks through her applet; expert alice accepts in hers."""

    SUMMARY = "Customer cannot log in after password reset"

    def test_request_offer_accept_chat(self):
        lang = self.LANG
        self.start_world(users=USERS, directory=DIRECTORY)
        alice = self.applet_desktop("alice")
        carol = self.applet_desktop("carol")
        self.start_watcher(alice)
        self.start_watcher(carol)
        notifications = self.start_notification_server(alice)
        alice_applet = self.start_applet(alice, args=["--background"])
        carol_applet = self.start_applet(carol, args=["--background"])
        self.wait_counts(carol_applet, "Billing and refunds", 1, 2)
        carol_applet.screenshot(carol_applet.show_tray_menu(), "tray-menu")
        carol_applet.close_window("tray-menu")

        # carol writes the request in the request window and sends it.
        carol_applet.menu_click("Billing and refunds")
        request = carol_applet.wait_window("request")
        carol_applet.set_text(request, "summary_row", self.SUMMARY)
        carol_applet.set_selected(request, "channel_row", 1)
        carol_applet.set_text(request, "customer_row", "ACME Corp")
        carol_applet.set_text(request, "reference_row", "T-1234")
        carol_applet.screenshot(request, "request")
        mark = alice.mark()
        carol_applet.activate(request, "send_button")

        # alice's daemon receives the offer; her applet pops it up with the
        # customer masked, and the daemon sends no notification of its own.
        alice.wait_signal("OfferReceived", since=mark, iface=ROOT_IFACE, timeout=15)
        popup = alice_applet.wait_window("offer-")
        alice_applet.wait_text(popup, self.SUMMARY)
        alice_applet.wait_text(popup, self.label("shown_on_accept"))
        alice_applet.wait_text(popup, "T-1234")
        carol_applet.wait_text(request, self.label("offered"))
        alice_applet.screenshot(popup, "offer")
        self.assertNotIn("Notify", harness.read_text(notifications),
                         "the daemon notified although the applet shows the offer")

        # Accept, pressed through GTK: both sides get a chat window.
        alice_applet.activate(popup, "accept_button")
        alice_chat = alice_applet.wait_window("chat-", timeout=20)
        carol_chat = carol_applet.wait_window("chat-", timeout=20)
        self.assertEqual(alice_chat, carol_chat)  # one session id everywhere
        alice_applet.wait_no_window(popup)
        alice_applet.wait_text(alice_chat, self.SUMMARY)
        carol_applet.wait_text(carol_chat, self.SUMMARY)
        carol_applet.screenshot(request, "request-connected")

        # carol types in her chat window; alice's window shows it.
        carol_applet.set_text(carol_chat, "message_view", "Hello Alice, the customer is ACME.")
        carol_applet.activate(carol_chat, "send_button")
        alice_applet.wait_text(alice_chat, "Hello Alice, the customer is ACME.")
        # alice answers from her side (her daemon directly: the other side).
        session_path = object_paths(alice, "session")[0]
        alice.call("Send", GLib.Variant("(s)", ("Reset the 2FA token, then log in again.",)),
                   iface=SESSION_IFACE, path=session_path)
        carol_applet.wait_text(carol_chat, "Reset the 2FA token, then log in again.")
        wait_for(lambda: "✓✓" in carol_applet.texts(carol_chat), 15, "the delivery ticks")
        alice_applet.screenshot(alice_chat, "chat-expert")
        carol_applet.screenshot(carol_chat, "chat")

        # carol ends the chat; then history and statistics show it.
        carol_applet.activate(carol_chat, "end_button")
        carol_applet.wait_no_window(carol_chat)
        carol_applet.menu_click(self.label("history"))
        history = carol_applet.wait_window("history")
        carol_applet.set_text(history, "search_entry", "token")
        carol_applet.wait_window(history)
        wait_for(lambda: any("token" in t.lower() for t in carol_applet.texts(history)
                             if "2FA" in t), 15, "a hit in the history window")
        carol_applet.screenshot(history, "history")
        carol_applet.activate(history, "hit-0")
        transcript = carol_applet.wait_window("transcript-")
        carol_applet.wait_text(transcript, "Reset the 2FA token")
        carol_applet.screenshot(transcript, "transcript")

        carol_applet.menu_click(self.label("statistics"))
        stats = carol_applet.wait_window("statistics")
        wait_for(lambda: "1" in carol_applet.texts(stats), 15, "the figures")
        carol_applet.screenshot(stats, "statistics")
        alice_applet.menu_click(self.label("statistics"))
        alice_stats = alice_applet.wait_window("statistics")
        alice_applet.set_selected(alice_stats, "role_drop", 1)
        harness.iterate_for(1)
        alice_applet.screenshot(alice_stats, "statistics-expert")
        self.assertEqual(lang, carol_applet.lang)


class FullSessionGerman(FullSession):
    LANG = "de"


class OfferWithdrawal(AppletTestCase):
    def request(self, carol, summary):
        query = {"summary": GLib.Variant("s", summary),
                 "customer": GLib.Variant("s", "ACME")}
        return carol.call("RequestHelp", GLib.Variant("(sa{sv}a{sv})", ("billing", query, {})))

    def test_withdrawal_closes_popup(self):
        self.start_world(users=USERS, directory=DIRECTORY)
        alice = self.applet_desktop("alice")
        bob = self.start_desktop("bob")
        carol = self.start_desktop("carol")
        self.start_watcher(alice)
        applet = self.start_applet(alice, args=["--background"])
        wait_for(lambda: carol.groups()["billing"][2] == 2, 15, "both experts interruptible")

        # bob is quicker: alice's pop-up says so and closes by itself.
        mark = bob.mark()
        self.request(carol, "Refund for a double charge")
        popup = applet.wait_window("offer-")
        offer = bob.wait_signal("OfferReceived", since=mark, iface=ROOT_IFACE).args[0]
        bob.call("Accept", iface=OFFER_IFACE, path=offer, timeout_ms=20000)
        applet.wait_text(popup, self.label("taken_by"))
        applet.wait_no_window(popup)

        # carol cancels the next one: the pop-up says so and closes.
        request = self.request(carol, "Chargeback on an old invoice")
        popup = applet.wait_window("offer-")
        applet.wait_text(popup, "Chargeback on an old invoice")
        carol.call("Cancel", iface=harness.REQUEST_IFACE, path=request)
        applet.wait_text(popup, self.label("cancelled"))
        applet.wait_no_window(popup)
        self.assertEqual(object_paths(alice, "session"), [])
        iterate_for(0.1)
