#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The record (DESIGN.md sections 3, 6, 9): search, statistics, FindSimilar
# and transcripts after real chats through Prosody; durability across a
# SIGKILL; retention.

import os
import sqlite3

from gi.repository import GLib

from harness import ROOT_IFACE, SESSION_IFACE
from routing import RoutingTest, jid, vardict

E = "org.example.ExpertAssist.Error."


class Record(RoutingTest):
    def search(self, desktop, text, **filt):
        return desktop.call("SearchLog", GLib.Variant("(sa{sv})", (text, vardict(filt))))

    def stats(self, desktop, **filt):
        return desktop.call("GetStatistics", GLib.Variant("(a{sv})", (vardict(filt),)))

    def chat(self, agent, expert, group, summary, lines):
        """One request answered by expert, with lines exchanged; returns paths."""
        me = expert.mark()
        path = self.ask(agent, group, summary)
        session = self.accept(expert, self.wait_offer(expert, path, me))
        self.wait_request(agent, path, "connected")
        for who, text in lines:
            sender, receiver = (agent, expert) if who == "agent" else (expert, agent)
            mark = receiver.mark()
            self.send(sender, session, text)
            self.wait_message(receiver, session, text, mark)
        return path, session

    def test_search_statistics_similar_and_transcript(self):
        d = self.world(["carol"], ["alice", "bob"],
                       {"billing": {"experts": ["alice", "bob"]}, "tech": {"experts": ["bob"]}})
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        self.wait_interruptible(carol, "billing", 2)

        p1, s1 = self.chat(carol, alice, "billing", "Refund for a double charge",
                           [("agent", "The customer was charged twice for the annual plan"),
                            ("expert", "Issue the refund from the invoices page, then tick reversal")])
        carol.call("Close", None, iface=SESSION_IFACE, path=s1)
        self.wait_request(carol, p1, "closed")
        p2, s2 = self.chat(carol, bob, "tech", "Printer offline after update",
                           [("expert", "Reinstall the spooler driver")])

        # Search: ranked hits with their keys; a summary hit has no session.
        hits = self.search(carol, "refund")
        self.assertTrue(hits)
        first = hits[0]
        for key in ("session", "request", "time", "sender", "peer", "group", "rank", "snippet"):
            self.assertIn(key, first)
        self.assertIn("<b>", first["snippet"])
        self.assertEqual({h["request"] for h in hits}, {p1.rsplit("/", 1)[1]})
        self.assertIn("", [h["session"] for h in hits])
        self.assertIn(s1.rsplit("/", 1)[1], [h["session"] for h in hits])
        # Filters.
        self.assertEqual(self.search(carol, "refund", group="tech"), [])
        self.assertTrue(all(h["group"] == "tech" for h in self.search(carol, "spooler OR printer")))
        self.assertEqual(len(self.search(carol, "refund OR spooler", limit=1)), 1)
        self.assertEqual(self.search(carol, "refund", since=GLib.Variant("x", 2**62)), [])
        by_peer = self.search(carol, "refund OR spooler", peer=jid("bob"))
        self.assertTrue(by_peer)
        self.assertTrue(all(h["group"] == "tech" for h in by_peer))
        # The expert's own log finds it too.
        self.assertTrue(self.search(alice, "reversal"))
        # FTS syntax errors are InvalidArgs with a readable message.
        for bad in ('refund AND', '"unclosed', 'NEAR(', ''):
            self.assertEqual(carol.call_error("SearchLog", GLib.Variant("(sa{sv})", (bad, {}))),
                             E + "InvalidArgs", bad)
            self.assertTrue(carol.last_error_message)
        self.assertEqual(carol.call_error("SearchLog", GLib.Variant(
            "(sa{sv})", ("refund", {"colour": GLib.Variant("s", "red")}))), E + "InvalidArgs")

        # Statistics from the store: the agent's view...
        st = self.stats(carol)
        self.assertEqual(st["requests"], 2)
        self.assertEqual(st["answered"], 2)
        self.assertEqual(st["cancelled"], 0)
        self.assertEqual(st["offers"], 3)
        self.assertEqual(st["offers-accepted"], 2)
        self.assertEqual(st["offers-withdrawn"], 1)
        self.assertAlmostEqual(st["offers-per-request"], 1.5)
        self.assertGreater(st["time-to-answer-avg"], 0.0)
        self.assertEqual(st["service-level"], 1.0)
        self.assertEqual(st["service-level-target"], 20)
        self.assertEqual({g["id"] for g in st["groups"]}, {"billing", "tech"})
        self.assertEqual({e["address"] for e in st["experts"]}, {jid("alice"), jid("bob")})
        self.assertEqual(sum(h["answered"] for h in st["hours"]), 2)
        self.assertEqual(sum(h["count"] for h in st["time-to-answer-histogram"]), 2)
        self.assertEqual(self.stats(carol, group="tech")["requests"], 1)
        self.assertEqual(self.stats(carol, expert=jid("alice"))["answered"], 1)
        self.assertGreater(st["handle-time-avg"], 0.0)
        # ...and the expert's.
        sa = self.stats(alice, role="expert")
        self.assertEqual(sa["offers"], 1)
        self.assertEqual(sa["offers-accepted"], 1)
        self.assertEqual(sa["requests"], 0)
        self.assertEqual(carol.call_error("GetStatistics", GLib.Variant(
            "(a{sv})", ({"since": GLib.Variant("s", "yesterday")},))), E + "InvalidArgs")

        # Has this been answered before?
        similar = carol.call("FindSimilar", GLib.Variant("(su)", ("charged twice for a refund", 5)))
        self.assertTrue(similar)
        top = similar[0]
        self.assertEqual(top["request"], p1.rsplit("/", 1)[1])
        self.assertEqual(top["expert"], jid("alice"))
        self.assertIn("Issue the refund from the invoices page, then tick reversal", top["answer"])
        self.assertEqual(top["group"], "billing")
        # Asking after looking records it.
        mb = bob.mark()
        p3 = self.ask(carol, "tech", "Refund question", **{"similar-shown": [top["request"]]})
        self.assertEqual(self.request(carol, p3, "Options")["similar-shown"], [top["request"]])

        # A closed session from the log.
        info, messages = carol.call("GetTranscript", GLib.Variant("(s)", (s1.rsplit("/", 1)[1],)))
        self.assertEqual(info["request"], p1.rsplit("/", 1)[1])
        self.assertEqual(info["group"], "billing")
        self.assertEqual(info["summary"], "Refund for a double charge")
        self.assertGreater(info["ended"], info["started"])
        self.assertEqual([m[3] for m in messages],
                         ["The customer was charged twice for the annual plan",
                          "Issue the refund from the invoices page, then tick reversal"])
        self.assertEqual(carol.call_error("GetTranscript", GLib.Variant("(s)", ("f" * 32,))),
                         E + "NotFound")
        self.assertEqual(carol.call_error("GetTranscript", GLib.Variant("(s)", ("nope",))),
                         E + "NotFound")
        del mb

    def test_sigkill_mid_chat_loses_nothing(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, alice = d["carol"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        path, session = self.chat(carol, alice, "billing", "Warranty claim",
                                  [("agent", "Receipt lost"), ("expert", "Use the bank statement")])
        # Acknowledged on both sides (Send answered; receipt sent), then killed.
        ma = alice.mark()
        mid = self.send(carol, session, "Thanks, last question")
        self.wait_message(alice, session, "Thanks, last question", ma)
        carol.kill()
        alice.kill()
        for desktop in (carol, alice):
            desktop.start()
            desktop.wait_connected()
            texts = [m[3] for m in self.messages(desktop, session)]
            self.assertEqual(texts, ["Receipt lost", "Use the bank statement",
                                     "Thanks, last question"], desktop.name)
            self.assertTrue(self.search(desktop, "statement"))
        self.assertEqual(self.messages(carol, session)[-1][0], mid)
        self.assertEqual(self.stats(carol)["answered"], 1)
        for desktop in (carol, alice):
            db = os.path.join(desktop.data_dir, "expert-assist.db")
            with sqlite3.connect(db) as conn:
                self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")

    def test_retention_purges_old_sessions(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, alice = d["carol"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        path, session = self.chat(carol, alice, "billing", "Ancient question",
                                  [("agent", "very old words")])
        carol.call("Close", None, iface=SESSION_IFACE, path=session)
        self.wait_request(carol, path, "closed")
        self.wait_interruptible(carol, "billing", 1)
        self.chat(carol, alice, "billing", "Fresh question", [("agent", "brand new words")])
        self.assertEqual(len({h["request"] for h in self.search(carol, "words")}), 2)
        carol.stop()
        # Age the first request and its messages by 40 days.
        db = os.path.join(carol.data_dir, "expert-assist.db")
        old = 40 * 86400 * 1000000
        with sqlite3.connect(db) as conn:
            rid = conn.execute("SELECT id FROM requests WHERE summary = 'Ancient question'").fetchone()[0]
            sid = conn.execute("SELECT id FROM sessions WHERE request = ?", (rid,)).fetchone()[0]
            conn.execute("UPDATE requests SET created = created - ?, updated = updated - ? WHERE id = ?",
                         (old, old, rid))
            conn.execute("UPDATE offers SET offered = offered - ? WHERE request = ?", (old, rid))
            conn.execute("UPDATE sessions SET started = started - ? WHERE id = ?", (old, sid))
            conn.execute("UPDATE messages SET time = time - ? WHERE session = ?", (old, sid))
        # Restarted with a 30-day retention (a keyfile GSettings backend, as a
        # desktop has): purged at start-up.
        settings = os.path.join(carol.xdg["XDG_CONFIG_HOME"], "glib-2.0", "settings")
        os.makedirs(settings, exist_ok=True)
        with open(os.path.join(settings, "keyfile"), "w") as f:
            f.write("[org/example/ExpertAssist]\nretention-days=uint32 30\n")
        carol.extra_env["GSETTINGS_BACKEND"] = "keyfile"
        carol.start()
        carol.wait_connected()
        fresh = self._fresh_id(db)
        carol.wait_for(lambda: {h["request"] for h in self.search(carol, "words")} == {fresh},
                       what="the old session purged from the log")
        self.assertEqual(carol.call_error("GetTranscript", GLib.Variant("(s)", (sid,))),
                         E + "NotFound")
        with sqlite3.connect(db) as conn:
            self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            conn.execute("INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')")

    def _fresh_id(self, db):
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT id FROM requests WHERE summary = 'Fresh question'").fetchone()[0]
