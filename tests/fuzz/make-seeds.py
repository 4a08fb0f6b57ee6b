#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Writes the hand-made seeds of tests/fuzz/corpus/<target>/ (named by their
# SHA-1, as libFuzzer names what it finds). Run it again after changing a
# seed; inputs libFuzzer found and that were worth keeping are committed
# next to these.

import hashlib
import os
import sys

import gi

gi.require_version("GLib", "2.0")
from gi.repository import GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NS = "urn:example:expert-assist:1"
REQ = "7f3a9c1e2b4d5f60718293a4b5c6d7e8"
SESS = "0123456789abcdef0123456789abcdef"


def offer(extra_query="", summary="Customer cannot log in", attrs="", type_="normal",
          frm="carol@example.org/desk", agent="carol@example.org"):
    return (f"<message type='{type_}' from='{frm}' to='me@example.org' id='o1'>"
            f"<offer xmlns='{NS}' id='{REQ}' group='billing' expires='2036-11-24T10:31:00Z' "
            f"experts='1' timeout='30'{attrs}><agent jid='{agent}' name='Carol'/>"
            f"<summary>{summary}</summary>"
            f"<query channel='phone' reference='T-1234' masked='customer'{extra_query}/>"
            f"</offer><body>carol asks Billing for help: {summary}. Reply \"ok 7f3a\" to take "
            f"it, \"no 7f3a\" to decline.</body><thread>{REQ}</thread>"
            f"<no-permanent-store xmlns='urn:xmpp:hints'/></message>")


def control(el, attrs, inner="", frm="alice@example.org/expert-assist.1"):
    return (f"<message type='normal' from='{frm}' to='me@example.org/expert-assist.x' id='c1'>"
            f"<{el} xmlns='{NS}' {attrs}>{inner}</{el}><thread>{REQ}</thread></message>")


STANZAS = {
    "offer": offer(),
    "offer-details": (offer(summary="Refund &#xe9;chou&#xe9; &lt;urgent&gt;")
                      .replace("masked='customer'/>",
                               "masked='customer details'><details>Line 1\nLine 2</details>"
                               "</query>")),
    "offer-groupchat": offer(type_="groupchat", frm="billing@conference.example.org/carol"),
    "offer-forged-agent": offer(agent="boss@example.org"),
    "offer-bad-id": offer().replace(REQ, "7F3A"),
    "offer-long-summary": offer(summary="x" * 201),
    "offer-many-experts": offer(attrs=" ").replace("experts='1'", "experts='1000'"),
    "accept": control("accept", f"id='{REQ}'"),
    "decline": control("decline", f"id='{REQ}' reason='busy'"),
    "assigned": control("assigned", f"id='{REQ}' session='{SESS}' room='room1@conference.example.org'",
                        "<query customer='ACME'><details>more</details></query>",
                        frm="carol@example.org/desk"),
    "withdraw": control("withdraw", f"id='{REQ}' reason='taken' by='alice@example.org'",
                        frm="carol@example.org/desk"),
    "close": control("close", f"session='{SESS}'"),
    "presence": ("<presence from='alice@example.org/expert-assist.1'><show>dnd</show>"
                 "<status>In a call</status><priority>1</priority>"
                 "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                 "node='https://example.org/expert-assist' ver='abc='/>"
                 f"<load xmlns='{NS}' sessions='1' max='2'/></presence>"),
    "presence-unavailable": "<presence type='unavailable' from='alice@example.org/x'/>",
    "chat": (f"<message type='chat' from='alice@example.org/expert-assist.1' id='m1'>"
             f"<body>Hello there</body><thread>{SESS}</thread>"
             "<active xmlns='http://jabber.org/protocol/chatstates'/>"
             "<request xmlns='urn:xmpp:receipts'/></message>"),
    "reply-ok": "<message type='chat' from='bob@example.org/gajim'><body>ok 7f3a</body></message>",
    "reply-no": ("<message type='chat' from='bob@example.org/gajim'>"
                 "<body>no 7F3A in a meeting until three</body></message>"),
    "receipt": ("<message from='alice@example.org/expert-assist.1'>"
                "<received xmlns='urn:xmpp:receipts' id='m1'/></message>"),
    "roster-push": ("<iq type='set' id='r1'><query xmlns='jabber:iq:roster'>"
                    "<item jid='alice@example.org' subscription='both' name='Alice'>"
                    "<group>Experts: Billing</group><group>Experts: Tier 2 Support</group>"
                    "</item></query></iq>"),
    "disco-get": ("<iq type='get' id='d1' from='alice@example.org/expert-assist.1'>"
                  "<query xmlns='http://jabber.org/protocol/disco#info' "
                  "node='https://example.org/expert-assist#abc='/></iq>"),
    "ping": ("<iq type='get' id='p1' from='example.org'>"
             "<ping xmlns='urn:xmpp:ping'/></iq>"),
    "muc-presence": ("<presence from='billing@conference.example.org/carol'>"
                     "<x xmlns='http://jabber.org/protocol/muc#user'>"
                     "<item affiliation='member' role='participant' jid='carol@example.org/desk'/>"
                     "<status code='110'/></x></presence>"),
    "muc-invite": ("<message from='carol@example.org/desk'>"
                   "<x xmlns='jabber:x:conference' jid='room1@conference.example.org' "
                   f"reason='help' thread='{SESS}'/></message>"),
    "subscribe": "<presence type='subscribe' from='dave@example.org'/>",
    "error": ("<message type='error' from='alice@example.org'><error type='cancel'>"
              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
              "</message>"),
    "nested": "<message from='carol@example.org/desk'>" + "<a>" * 200 + "</a>" * 200 + "</message>",
}

REPLIES = [
    "ok 7f3a", "no 7f3a", "NO 7F3A because I am busy", "  ok   abcd  ", "ok 7f3a please",
    "no abcd " + "\u00e9" * 200, "no 1234 " + "\u20ac" * 90, "ok\t0000", "no zzzz", "ok",
]


def variant_bytes(d):
    return GLib.Variant("a{sv}", d).get_data_as_bytes().get_data()


def s(v):
    return GLib.Variant("s", v)


QUERIES = [
    {"summary": s("Customer cannot log in")},
    {"summary": s("Refund"), "channel": s("phone"), "customer": s("ACME"),
     "reference": s("T-1"), "details": s("a\nb")},
    {"summary": s("x" * 201)},
    {"summary": s("two\nlines")},
    {"summary": s("   ")},
    {"summary": GLib.Variant("u", 3)},
    {"summary": s("ok"), "colour": s("red")},
    {"summary": s("ok"), "details": s("d" * 4097)},
    {"channel": s("email")},
    {"summary": s("\u00e9" * 200)},
]

DIRECTORY = """# Deployed by the administrators
[Directory]
RosterPrefix=Experts:\\s

[Group billing]
Name=Billing and refunds
Description=Money matters
Experts=alice@example.org;bob@example.org;
Strategy=parallel
Address=billing@rooms.example.org
OfferTimeout=30
Expire=180
Fallback=tier2
Interruptible=available;chat;
Order=round-robin

[Group tier2]
Experts=carol@example.org;
Strategy=progressive

[Expert alice@example.org]
Name=Alice Smith
Skills=refunds:4;chargebacks;
Languages=en;de;
Level=3
MaxSessions=2
Priority=1

[Agent carol@example.org]
Groups=billing;tier2;
"""

DIRECTORIES = [
    DIRECTORY,
    DIRECTORY + "\0alice@example.org\tAlice\tExperts: Billing;Friends\n"
                "dave@example.org\tDave\tExperts: Tier 2 Support;Experts: \u00c9quipe \u00e9t\u00e9\n",
    "[Group Bad Id]\nExperts=x@y\n",
    "[Group ok]\nStrategy=sideways\n",
    "[Group ok]\nExperts=not an address;\n",
    "key=before section\n",
    "[Expert alice@example.org]\nLevel=9\n",
    "[Expert alice@example.org]\nSkills=a:0;b:6;\n",
    "[Group a]\nName=A # not a comment\n[Group a]\nExperts=a@b;\n",
    "[Unknown section]\nFoo=bar\n",
    "[Group x]\nExperts=a@b;\n\0a@b\t\tExperts: \n\0\0",
    "\xff\xfe bad",
    # An invalid escape, then a backslash at the end of the line: GLib 2.74
    # sets its GError twice (found by fuzz-directory).
    "[Group billing]\nName=A\\q\\",
]


def write(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    for text in STANZAS.values():
        write("fuzz-stanza", text)
        write("fuzz-dispatch", text)
    # Conversations for the dispatch: an offer, then what may follow it.
    o = STANZAS["offer"]
    for follow in ("withdraw", "assigned", "chat", "close", "offer", "presence", "reply-ok"):
        write("fuzz-dispatch", o + "\0" + STANZAS[follow])
    write("fuzz-dispatch", STANZAS["roster-push"] + "\0" + STANZAS["presence"] + "\0"
          + STANZAS["offer"] + "\0" + STANZAS["withdraw"])
    write("fuzz-dispatch", STANZAS["muc-invite"] + "\0" + STANZAS["muc-presence"] + "\0"
          + STANZAS["offer-groupchat"])
    for text in REPLIES:
        write("fuzz-reply", text)
    for q in QUERIES:
        write("fuzz-query", variant_bytes(q))
    for text in DIRECTORIES:
        write("fuzz-directory", text.encode("latin-1") if "\xff" in text else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
