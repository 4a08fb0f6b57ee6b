#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Routing scenarios against DESIGN.md sections 1, 3, 5 and 9: every mode,
# exactly the right number of winners, everyone else told, and a chat.

from gi.repository import GLib

from harness import REQUEST_IFACE, ROOT_IFACE, SESSION_IFACE, assert_stays
from routing import RoutingTest, jid

SESSION_PREFIX = "/org/example/ExpertAssist/session/"


class Parallel(RoutingTest):
    def test_first_accept_wins_others_withdrawn_and_chat(self):
        d = self.world(["carol"], ["alice", "bob"],
                       {"billing": {"experts": ["alice", "bob"], "Name": "Billing"}})
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        self.wait_interruptible(carol, "billing", 2)

        ma, mb, mc = alice.mark(), bob.mark(), carol.mark()
        path = self.ask(carol, "billing", query={"channel": "phone", "customer": "ACME",
                                                 "reference": "T-1234"})
        self.assertTrue(path.startswith("/org/example/ExpertAssist/request/"))
        rid = path.rsplit("/", 1)[1]
        self.assertRegex(rid, r"^[0-9a-f]{32}$")
        carol.wait_signal("RequestChanged", lambda a: a == (path, "offering"), since=mc,
                          iface=ROOT_IFACE)

        oa = self.wait_offer(alice, path, ma)
        ob = self.wait_offer(bob, path, mb)
        self.assertEqual(self.offer(alice, oa, "From"), jid("carol"))
        self.assertEqual(self.offer(alice, oa, "Group"), "billing")
        self.assertEqual(self.offer(alice, oa, "Summary"), "Customer cannot log in")
        self.assertEqual(self.offer(alice, oa, "State"), "pending")
        # The customer is masked until accepted.
        self.assertEqual(self.offer(alice, oa, "Masked"), ["customer"])
        self.assertNotIn("customer", self.offer(alice, oa, "Query"))
        self.assertEqual(self.offer(alice, oa, "Query")["reference"], "T-1234")
        self.assertEqual(sorted(self.request(carol, path, "Offered")),
                         [jid("alice"), jid("bob")])

        session_a = self.accept(alice, oa)
        self.assertEqual(session_a, SESSION_PREFIX + self.session(alice, session_a, "Id"))
        self.assertEqual(self.offer(alice, oa, "State"), "accepted")
        self.assertEqual(self.offer(alice, oa, "Query")["customer"], "ACME")

        # bob's offer is withdrawn: taken by alice.
        self.wait_offer_state(bob, ob, "withdrawn")
        self.assertEqual(self.offer(bob, ob, "Reason"), "taken")
        self.assertEqual(self.offer(bob, ob, "TakenBy"), jid("alice"))
        self.assertEqual(self.accept_error(bob, ob), "org.example.ExpertAssist.Error.Taken")

        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("alice")])
        session_c = self.request(carol, path, "Session")
        self.assertEqual(session_c, session_a)
        self.assertEqual(sorted(self.session(carol, session_c, "Participants")),
                         [jid("alice"), jid("carol")])
        self.assertEqual(self.session(carol, session_c, "Role"), "agent")
        self.assertEqual(self.session(alice, session_a, "Role"), "expert")

        # Chat both ways, with receipts.
        ma, mc = alice.mark(), carol.mark()
        mid = self.send(carol, session_c, "Hello Alice")
        got = self.wait_message(alice, session_a, "Hello Alice", ma)
        self.assertEqual(got.args[0], mid)
        self.assertEqual(got.args[2], jid("carol"))
        carol.wait_signal("MessageDelivered", lambda a: a[0] == mid, since=mc,
                          iface=SESSION_IFACE, path=session_c)
        mc = carol.mark()
        self.send(alice, session_a, "Hi Carol, on it")
        self.wait_message(carol, session_c, "Hi Carol, on it", mc)
        msgs = self.messages(carol, session_c)
        self.assertEqual([m[3] for m in msgs], ["Hello Alice", "Hi Carol, on it"])
        self.assertEqual([m[2] for m in msgs], [jid("carol"), jid("alice")])

        # Close from the expert's side: both close, the request is closed.
        alice.call("Close", None, iface=SESSION_IFACE, path=session_a)
        carol.wait_for(lambda: self.session(carol, session_c, "State") == "closed",
                       what="carol's session to close")
        self.wait_request(carol, path, "closed")


class Modes(RoutingTest):
    def team(self, n=3, **group_keys):
        experts = ["alice", "bob", "dave", "erin", "frank", "gina", "hank", "ivan"][:n]
        profiles = {u: {"Priority": str(10 * (i + 1))} for i, u in enumerate(experts)}
        spec = {"experts": experts, "Name": "Billing"}
        spec.update(group_keys)
        d = self.world(["carol"], experts, {"billing": spec}, expert_profiles=profiles)
        self.wait_interruptible(d["carol"], "billing", n)
        return d, experts

    def test_serial_timeout_then_decline_moves_on(self):
        d, experts = self.team(3)
        carol = d["carol"]
        marks = {u: d[u].mark() for u in experts}
        path = self.ask(carol, "billing", mode="serial", **{"offer-timeout": 2})

        # alice first (priority 10); nobody else yet.
        oa = self.wait_offer(d["alice"], path, marks["alice"])
        assert_stays(lambda: not d["bob"].find_signals("OfferReceived", since=marks["bob"]), 1,
                     "bob gets nothing while alice's offer is open")
        # alice lets it run out: bob next, at once.
        ob = self.wait_offer(d["bob"], path, marks["bob"], timeout=6)
        self.wait_offer_state(d["alice"], oa, "expired")
        self.assertEqual(self.request(carol, path, "Expired"), [jid("alice")])
        # bob declines: dave at once.
        self.decline(d["bob"], ob, "busy")
        od = self.wait_offer(d["dave"], path, marks["dave"], timeout=3)
        self.assertEqual(self.request(carol, path, "Declined"), [jid("bob")])
        self.assertEqual(self.request(carol, path, "Offered"),
                         [jid("alice"), jid("bob"), jid("dave")])
        self.accept(d["dave"], od)
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("dave")])

    def test_offer_to_k(self):
        d, experts = self.team(4)
        carol = d["carol"]
        marks = {u: d[u].mark() for u in experts}
        path = self.ask(carol, "billing", **{"offer-to": 2, "offer-timeout": 2})
        self.wait_offer(d["alice"], path, marks["alice"])
        self.wait_offer(d["bob"], path, marks["bob"])
        assert_stays(lambda: not d["dave"].find_signals("OfferReceived", since=marks["dave"]),
                     1, "dave and erin get nothing in the first round")
        self.assertFalse(d["erin"].find_signals("OfferReceived", since=marks["erin"]))
        # The round runs out: the next two.
        od = self.wait_offer(d["dave"], path, marks["dave"], timeout=6)
        self.wait_offer(d["erin"], path, marks["erin"], timeout=6)
        self.accept(d["dave"], od)
        self.wait_request(carol, path, "connected")

    def test_progressive_waves(self):
        d, experts = self.team(4)
        carol = d["carol"]
        marks = {u: d[u].mark() for u in experts}
        path = self.ask(carol, "billing", mode="progressive", **{"offer-timeout": 2})
        oa = self.wait_offer(d["alice"], path, marks["alice"])
        assert_stays(lambda: not d["bob"].find_signals("OfferReceived", since=marks["bob"]), 1,
                     "the first wave is alice alone")
        # Second wave: bob and dave, alice's offer still open.
        self.wait_offer(d["bob"], path, marks["bob"], timeout=5)
        self.wait_offer(d["dave"], path, marks["dave"], timeout=5)
        self.assertEqual(self.offer(d["alice"], oa, "State"), "pending")
        self.assertFalse(d["erin"].find_signals("OfferReceived", since=marks["erin"]))
        self.accept(d["alice"], oa)
        self.wait_request(carol, path, "connected")

    def test_experts_two_win_in_one_room(self):
        d, experts = self.team(3)
        carol = d["carol"]
        marks = {u: d[u].mark() for u in experts}
        path = self.ask(carol, "billing", experts=2)
        offers = {u: self.wait_offer(d[u], path, marks[u]) for u in experts}
        sa = self.accept(d["alice"], offers["alice"])
        self.wait_request(carol, path, "connected")
        # Still looking for one more: dave's and bob's offers stay open.
        self.assertEqual(self.offer(d["bob"], offers["bob"], "State"), "pending")
        sb = self.accept(d["bob"], offers["bob"])
        self.wait_offer_state(d["dave"], offers["dave"], "withdrawn")
        self.assertEqual(self.offer(d["dave"], offers["dave"], "Reason"), "taken")
        self.assertEqual(sorted(self.request(carol, path, "Accepted")),
                         [jid("alice"), jid("bob")])
        self.assertEqual(sa, sb)
        sc = self.request(carol, path, "Session")
        self.assertEqual(sc, sa)
        # Everyone in one room: a message from the agent reaches both.
        carol.wait_for(lambda: sorted(self.session(carol, sc, "Participants"))
                       == [jid("alice"), jid("bob"), jid("carol")],
                       what="both experts in carol's session")
        ma, mb = d["alice"].mark(), d["bob"].mark()
        d["alice"].wait_for(lambda: jid("bob") in self.session(d["alice"], sa, "Participants"),
                            what="bob in alice's session")
        self.send(carol, sc, "Thanks both")
        self.wait_message(d["alice"], sa, "Thanks both", ma)
        self.wait_message(d["bob"], sb, "Thanks both", mb)
        mc = carol.mark()
        self.send(d["bob"], sb, "Bob here")
        self.wait_message(carol, sc, "Bob here", mc)


class Queue(RoutingTest):
    def test_queue_until_available_then_fallback(self):
        d = self.world(["carol"], ["alice", "dave"],
                       {"billing": {"experts": ["alice"], "Fallback": "tier2"},
                        "tier2": {"experts": ["dave"]}})
        carol, alice, dave = d["carol"], d["alice"], d["dave"]
        alice.set_status("away")
        dave.set_status("dnd")
        self.wait_interruptible(carol, "billing", 0)
        self.wait_interruptible(carol, "tier2", 0)

        mc = carol.mark()
        first = self.ask(carol, "billing", "First customer", expire=60)
        second = self.ask(carol, "billing", "Second customer", expire=4)
        carol.wait_signal("RequestChanged", lambda a: a == (first, "queued"), since=mc,
                          iface=ROOT_IFACE)
        self.wait_request(carol, first, "queued")
        carol.wait_for(lambda: self.request(carol, second, "QueuePosition") == 2,
                       what="the second request second in the queue")
        self.assertEqual(self.request(carol, first, "QueuePosition"), 1)

        # alice comes back: the first request is offered to her at once.
        ma = alice.mark()
        alice.set_status("available")
        oa = self.wait_offer(alice, first, ma)
        self.wait_request(carol, first, "offering")
        self.assertEqual(self.request(carol, first, "QueuePosition"), 0)
        carol.wait_for(lambda: self.request(carol, second, "QueuePosition") == 1,
                       what="the second request first in the queue")
        self.assertFalse(alice.find_signals("OfferReceived", lambda a: a[0] == self.offer_path(second),
                                            since=ma))

        # The second expires in billing and falls back to tier2 (dave dnd):
        # a new expiry there, then failed.
        carol.wait_for(lambda: self.request(carol, second, "Group") == "tier2", timeout=8,
                       what="the second request to fall back to tier2")
        self.assertEqual(self.request(carol, second, "State"), "queued")
        md = dave.mark()
        dave.set_status("available")
        od = self.wait_offer(dave, second, md)
        self.accept(dave, od)
        self.wait_request(carol, second, "connected")
        self.accept(alice, oa)
        self.wait_request(carol, first, "connected")

    def test_no_queue_fails_no_experts_and_expiry(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, alice = d["carol"], d["alice"]
        alice.set_status("dnd")
        self.wait_interruptible(carol, "billing", 0)
        path = self.ask(carol, "billing", queue=False)
        self.wait_request(carol, path, "failed")
        self.assertEqual(self.request(carol, path, "Reason"), "no-experts")
        path = self.ask(carol, "billing", expire=2)
        self.wait_request(carol, path, "queued")
        self.wait_request(carol, path, "failed", timeout=6)
        self.assertEqual(self.request(carol, path, "Reason"), "expired")


class Arbitration(RoutingTest):
    def test_cancel_withdraws_every_offer(self):
        d = self.world(["carol"], ["alice", "bob"], {"billing": {"experts": ["alice", "bob"]}})
        carol = d["carol"]
        self.wait_interruptible(carol, "billing", 2)
        ma, mb = d["alice"].mark(), d["bob"].mark()
        path = self.ask(carol, "billing")
        oa = self.wait_offer(d["alice"], path, ma)
        ob = self.wait_offer(d["bob"], path, mb)
        self.cancel(carol, path)
        self.wait_request(carol, path, "cancelled")
        self.assertEqual(self.request(carol, path, "Reason"), "cancelled")
        for u, o in (("alice", oa), ("bob", ob)):
            self.wait_offer_state(d[u], o, "withdrawn")
            self.assertEqual(self.offer(d[u], o, "Reason"), "cancelled")
        self.assertEqual(self.accept_error(d["alice"], oa), "org.example.ExpertAssist.Error.Failed")
        # Cancel again: a clear error naming the state.
        self.assertEqual(carol.call_error("Cancel", None, iface=REQUEST_IFACE, path=path),
                         "org.example.ExpertAssist.Error.Failed")
        self.assertIn("cancelled", carol.last_error_message)

    def test_eight_accept_at_once_one_winner(self):
        experts = ["alice", "bob", "dave", "erin", "frank", "gina", "hank", "ivan"]
        d = self.world(["carol"], experts, {"billing": {"experts": experts}})
        carol = d["carol"]
        self.wait_interruptible(carol, "billing", 8)
        for round_ in range(20):
            marks = {u: d[u].mark() for u in experts}
            path = self.ask(carol, "billing", "Round %d" % round_)
            offers = {u: self.wait_offer(d[u], path, marks[u]) for u in experts}
            # All accept asynchronously, as close together as D-Bus allows.
            results = {}

            def done(conn, res, user):
                try:
                    results[user] = conn.call_finish(res).unpack()[0]
                except GLib.Error as e:
                    results[user] = e.message
            for u in experts:
                d[u].bus.connection.call(
                    "org.example.ExpertAssist", offers[u], "org.example.ExpertAssist.Offer",
                    "Accept", None, None, 0, 20000, None, done, u)
            carol.wait_for(lambda: len(results) == 8, timeout=20, what="all 8 Accept answers")
            winners = [u for u, r in results.items() if r.startswith(SESSION_PREFIX)]
            self.assertEqual(len(winners), 1, results)
            losers = [u for u in experts if u not in winners]
            for u in losers:
                self.assertIn("took this request first", results[u])
                self.assertEqual(self.offer(d[u], offers[u], "State"), "withdrawn")
            self.wait_request(carol, path, "connected")
            self.assertEqual(self.request(carol, path, "Accepted"), [jid(winners[0])])
            session = self.request(carol, path, "Session")
            carol.call("Close", None, iface=SESSION_IFACE, path=session)
            self.wait_request(carol, path, "closed")
            # The winner's load goes back down before the next round.
            self.wait_interruptible(carol, "billing", 8)


class PlainAndRoom(RoutingTest):
    def test_plain_client_accepts_by_reply_code_and_chats(self):
        d = self.world(["carol"], [], {"billing": {"experts": ["paula"]}}, plain=["paula"])
        carol = d["carol"]
        paula = self.start_client("paula")
        self.wait_interruptible(carol, "billing", 1)
        mark = paula.mark()
        path = self.ask(carol, "billing", query={"customer": "ACME", "channel": "email"})
        rid = path.rsplit("/", 1)[1]
        offer = paula.wait_message(lambda e: e.get("body") and rid[:4] in e["body"], since=mark,
                                   what="the offer's text at paula's client")
        body = offer["body"]
        self.assertIn("Customer cannot log in", body)
        self.assertIn('ok %s' % rid[:4], body)
        self.assertIn("(shown on accept)", body)
        self.assertNotIn("ACME", body)

        mark = paula.mark()
        paula.send(jid("carol"), "OK %s" % rid[:4].upper())
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("paula")])
        session = self.request(carol, path, "Session")
        # The masked customer comes in the first chat line.
        first = paula.wait_message(lambda e: e.get("type") == "chat" and "ACME" in (e.get("body") or ""),
                                   since=mark, what="the first chat line with the customer")
        self.assertEqual(first.get("thread"), session.rsplit("/", 1)[1])

        # Chat both ways; paula's client sends no thread.
        mc = carol.mark()
        paula.send(jid("carol"), "What is the account number?")
        self.wait_message(carol, session, "What is the account number?", mc)
        mark = paula.mark()
        self.send(carol, session, "4711")
        paula.wait_message(lambda e: e.get("body") == "4711", since=mark)

    def test_forged_and_unoffered_accepts_are_ignored(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice", "mallory"]}},
                       plain=["mallory"])
        carol, alice = d["carol"], d["alice"]
        mallory = self.start_client("mallory")
        mallory.presence("dnd")
        carol.wait_for(lambda: [e[2] for e in sorted(carol.experts("billing").values())]
                       == ["available", "dnd"], what="alice available and mallory dnd",
                       poll_ms=100)
        self.assertEqual(carol.groups()["billing"][2], 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        rid = path.rsplit("/", 1)[1]
        oa = self.wait_offer(alice, path, ma)
        # mallory was not offered it: neither element nor reply code wins.
        mallory.raw("<message to='%s/x' type='normal'><accept xmlns='urn:example:expert-assist:1' "
                    "id='%s'/></message>" % (jid("carol"), rid))
        mallory.send(jid("carol"), "ok %s" % rid[:4])
        mallory.raw("<message to='%s' type='normal' from='%s'><accept "
                    "xmlns='urn:example:expert-assist:1' id='%s'/></message>"
                    % (jid("carol"), jid("alice"), rid))
        carol.wait_log("was not offered it", what="the daemon logging the foreign accept")
        self.assertEqual(self.request(carol, path, "State"), "offering")
        self.assertEqual(self.request(carol, path, "Accepted"), [])
        self.accept(alice, oa)
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("alice")])

    def test_room_mode(self):
        d = self.world(["carol"], ["alice", "bob"],
                       {"billing": {"experts": ["alice", "bob", "paula"],
                                    "Address": "billing@conference.example.org",
                                    "Strategy": "room"}},
                       plain=["paula"])
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        self.wait_interruptible(carol, "billing", 2)
        ma, mb = alice.mark(), bob.mark()
        path = self.ask(carol, "billing")
        oa = self.wait_offer(alice, path, ma)
        ob = self.wait_offer(bob, path, mb)
        self.assertEqual(self.request(carol, path, "Options")["mode"], "room")
        self.accept(bob, ob)
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("bob")])
        self.wait_offer_state(alice, oa, "withdrawn")
        self.assertEqual(self.offer(alice, oa, "TakenBy"), jid("bob"))
        # The chat goes on one-to-one, without the room.
        session = self.request(carol, path, "Session")
        mb = bob.mark()
        self.send(carol, session, "Thanks Bob")
        self.wait_message(bob, session, "Thanks Bob", mb)


class Preferences(RoutingTest):
    def world_with_profiles(self):
        return self.world(
            ["carol"], ["alice", "bob", "dave"],
            {"billing": {"experts": ["alice", "bob"]}, "tech": {"experts": ["dave"]},
             "secret": {"experts": ["bob"]}},
            expert_profiles={"alice": {"Skills": "refunds:4;", "Languages": "de;", "Level": "2"},
                             "bob": {"Skills": "refunds;", "Languages": "en;", "Level": "2"},
                             "dave": {"Skills": "networks;", "Languages": "de;", "Level": "5"}},
            agent_sections={"carol": ["billing", "tech"]})

    def test_named_expert_and_preferences_without_group(self):
        d = self.world_with_profiles()
        carol = d["carol"]
        self.wait_interruptible(carol, "billing", 2)
        marks = {u: d[u].mark() for u in ("alice", "bob", "dave")}
        # German speakers at level 3 or more for refunds: only alice (refunds:4).
        path = self.ask(carol, "", skills=["refunds"], language="de", level=3)
        oa = self.wait_offer(d["alice"], path, marks["alice"])
        assert_stays(lambda: not d["bob"].find_signals("OfferReceived", since=marks["bob"])
                     and not d["dave"].find_signals("OfferReceived", since=marks["dave"]),
                     1, "nobody else is offered it")
        self.decline(d["alice"], oa)
        # A named expert.
        marks = {u: d[u].mark() for u in ("alice", "bob", "dave")}
        path = self.ask(carol, "", expert=jid("dave"))
        self.wait_offer(d["dave"], path, marks["dave"])
        self.assertFalse(d["alice"].find_signals("OfferReceived", since=marks["alice"]))

    def test_invalid_requests_get_named_errors(self):
        d = self.world_with_profiles()
        carol = d["carol"]
        E = "org.example.ExpertAssist.Error."
        cases = [
            (E + "InvalidArgs", dict(group="billing", summary=None)),
            (E + "InvalidArgs", dict(group="billing", summary="")),
            (E + "InvalidArgs", dict(group="billing", summary="two\nlines")),
            (E + "InvalidArgs", dict(group="billing", summary="x" * 201)),
            (E + "InvalidArgs", dict(group="billing", mode="broadcast")),
            (E + "InvalidArgs", dict(group="billing", experts=0)),
            (E + "InvalidArgs", dict(group="billing", experts=3)),
            (E + "InvalidArgs", dict(group="billing", colour="red")),
            (E + "InvalidArgs", dict(group="billing", experts=GLib.Variant("s", "two"))),
            (E + "InvalidArgs", dict(group="")),
            (E + "InvalidArgs", dict(group="billing", mode="room")),
            (E + "NotFound", dict(group="nope")),
            (E + "PermissionDenied", dict(group="secret")),
            (E + "NotFound", dict(group="", expert="nobody@example.org")),
            (E + "PermissionDenied", dict(group="", expert=jid("bob") if False else "x@example.org")),
        ]
        for expected, kwargs in cases[:-1]:
            group = kwargs.pop("group")
            summary = kwargs.pop("summary", "Customer cannot log in")
            got = self.ask_error(carol, group, summary, **kwargs)
            self.assertEqual(got, expected, "%s %s: %s" % (group, kwargs, carol.last_error_message))
            self.assertTrue(carol.last_error_message)
        # Details over 4 KiB.
        self.assertEqual(self.ask_error(carol, "billing", query={"details": "x" * 5000}),
                         E + "InvalidArgs")
        # Not connected.
        self.prosody.stop()
        carol.wait_property("ConnectionState", lambda s: s != "connected")
        self.assertEqual(self.ask_error(carol, "billing"), E + "NotConnected")
        self.assertTrue(carol.on_bus())


class Automatic(RoutingTest):
    def test_dnd_and_full_decline_automatically(self):
        d = self.world(["carol", "zoe"], ["alice"], {"billing": {"experts": ["alice"]}})
        carol, zoe, alice = d["carol"], d["zoe"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        # alice takes one request (MaxSessions is 1)...
        ma = alice.mark()
        first = self.ask(carol, "billing", "First")
        self.accept(alice, self.wait_offer(alice, first, ma))
        self.wait_request(carol, first, "connected")
        # ...her load goes into her presence: nobody offers her more.
        self.wait_interruptible(carol, "billing", 0)
        self.wait_interruptible(zoe, "billing", 0)
        experts = carol.experts("billing")
        self.assertEqual(experts[jid("alice")][3]["sessions"], 1)


class RoomPlain(RoutingTest):
    def test_plain_client_answers_in_the_room(self):
        room = "help@conference.example.org"
        d = self.world(["carol"], ["alice"],
                       {"billing": {"experts": ["alice", "paula"], "Address": room}},
                       plain=["paula"])
        carol, alice = d["carol"], d["alice"]
        paula = self.start_client("paula")
        self.wait_interruptible(carol, "billing", 2)
        # paula sits in the group's room with her ordinary client.
        mark = paula.mark()
        paula.raw("<presence to='%s/paula'><x xmlns='http://jabber.org/protocol/muc'/></presence>"
                  % room)
        paula.wait_event(lambda e: e.get("event") == "presence" and e.get("from", "").startswith(room),
                         since=mark, what="paula in the room")
        mark = paula.mark()
        ma = alice.mark()
        path = self.ask(carol, "billing", mode="room")
        rid = path.rsplit("/", 1)[1]
        oa = self.wait_offer(alice, path, ma)
        paula.wait_message(lambda e: e.get("type") == "groupchat" and rid[:4] in (e.get("body") or ""),
                           since=mark, what="the offer posted in the room")
        paula.send(room, "ok %s" % rid[:4], type="groupchat")
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("paula")])
        self.wait_offer_state(alice, oa, "withdrawn")
        self.assertEqual(self.offer(alice, oa, "TakenBy"), jid("paula"))

    def test_strangers_never_enter_a_session(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"]}},
                       plain=["mallory"])
        carol, alice = d["carol"], d["alice"]
        mallory = self.start_client("mallory")
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        session = self.accept(alice, self.wait_offer(alice, path, ma))
        sid = session.rsplit("/", 1)[1]
        self.wait_request(carol, path, "connected")
        mc = carol.mark()
        mallory.send(jid("carol"), "let me in", thread=sid)
        self.send(alice, session, "real message")
        self.wait_message(carol, session, "real message", mc)
        self.assertEqual([m[3] for m in self.messages(carol, session)], ["real message"])
