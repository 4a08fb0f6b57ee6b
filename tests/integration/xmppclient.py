#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# An ordinary XMPP client without an Expert Assist daemon, the way an expert
# with Pidgin or Gajim looks to the daemons.  The integration tests run it as
# a child process so the test process itself stays GLib-only.
#
# Commands arrive as JSON lines on stdin:
#   {"cmd": "send", "to": JID, "body": TEXT, "type": "chat", "thread": ID, "id": ID}
#   {"cmd": "presence", "show": "dnd", "status": TEXT, "priority": N,
#    "to": JID, "type": "subscribe"}
#   {"cmd": "roster_set", "jid": JID, "groups": [...], "name": TEXT}
#   {"cmd": "roster_remove", "jid": JID}
#   {"cmd": "raw", "xml": "<message .../>"}
#   {"cmd": "quit"}
# Every command may carry "tag"; once it is handled the client prints
#   {"event": "done", "cmd": ..., "tag": ..., "ok": true|false, "error": ...}
#
# Events are printed as JSON lines on stdout:
#   {"event": "session_start", "jid": FULLJID, "roster": {JID: {...}}}
#   {"event": "message", "from", "to", "type", "id", "body", "thread", "xml"}
#   {"event": "presence", "from", "to", "type", "show", "status", "priority", "xml"}
#   {"event": "roster_push", "items": {JID: {"name", "subscription", "groups"}}, "xml"}
#   {"event": "failed_auth"}, {"event": "connection_failed", "error"},
#   {"event": "stream_error", "xml"}, {"event": "disconnected"}
# The process exits after "disconnected".

import argparse
import asyncio
import json
import logging
import os
import ssl
import sys
import xml.etree.ElementTree as ET

import slixmpp

ROSTER_NS = "jabber:iq:roster"


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class PlainClient(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.quitting = False
        self.stdin_buffer = b""
        self.commands = None
        # The test server's certificate is self-signed: accept it.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.auto_authorize = args.auto_authorize
        self.auto_subscribe = args.auto_authorize
        self.register_plugin("xep_0030")  # service discovery
        self.register_plugin("xep_0199")  # ping
        self.register_plugin("xep_0203")  # delayed delivery

        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("roster_update", self.on_roster_update)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("connection_failed", self.on_connection_failed)
        self.add_event_handler("stream_error", self.on_stream_error)
        self.add_event_handler("disconnected", self.on_disconnected)

    # events from the server

    async def on_session_start(self, _event):
        try:
            await self.get_roster(timeout=10)
        except (slixmpp.exceptions.IqError, slixmpp.exceptions.IqTimeout) as e:
            emit({"event": "error", "error": "roster: %s" % e})
        if self.args.presence:
            self.send_presence(ppriority=self.args.priority)
        roster = {}
        for jid in self.client_roster:
            item = self.client_roster[jid]
            roster[str(jid)] = {
                "name": item["name"],
                "subscription": item["subscription"],
                "groups": list(item["groups"]),
            }
        emit({"event": "session_start", "jid": str(self.boundjid), "roster": roster})
        os.set_blocking(sys.stdin.fileno(), False)
        self.loop.add_reader(sys.stdin.fileno(), self.on_stdin)

    def on_message(self, msg):
        emit({
            "event": "message",
            "from": str(msg["from"]),
            "to": str(msg["to"]),
            "type": msg.xml.get("type", "normal"),
            "id": msg.xml.get("id", ""),
            "body": msg["body"],
            "thread": msg["thread"],
            "delayed": msg.xml.find("{urn:xmpp:delay}delay") is not None,
            "xml": str(msg),
        })

    def on_presence(self, pres):
        priority = pres.xml.findtext("{jabber:client}priority")
        emit({
            "event": "presence",
            "from": str(pres["from"]),
            "to": str(pres["to"]),
            "type": pres.xml.get("type", "available"),
            "show": pres.xml.findtext("{jabber:client}show") or "",
            "status": pres.xml.findtext("{jabber:client}status") or "",
            "priority": int(priority) if priority else 0,
            "xml": str(pres),
        })

    def on_roster_update(self, iq):
        items = {}
        query = iq.xml.find("{%s}query" % ROSTER_NS)
        if query is not None:
            for item in query.findall("{%s}item" % ROSTER_NS):
                items[item.get("jid")] = {
                    "name": item.get("name", ""),
                    "subscription": item.get("subscription", "none"),
                    "ask": item.get("ask", ""),
                    "groups": [g.text or "" for g in item.findall("{%s}group" % ROSTER_NS)],
                }
        kind = "roster_push" if iq.xml.get("type") == "set" else "roster_result"
        emit({"event": kind, "items": items, "xml": str(iq)})

    def on_failed_auth(self, _stanza):
        emit({"event": "failed_auth"})
        self.quitting = True
        self.disconnect(wait=0)

    def on_connection_failed(self, error):
        emit({"event": "connection_failed", "error": str(error)})
        self.quitting = True
        self.loop.stop()

    def on_stream_error(self, err):
        emit({"event": "stream_error", "xml": str(err)})

    def on_disconnected(self, reason):
        emit({"event": "disconnected", "reason": str(reason or "")})
        self.loop.stop()

    # commands from the test

    def on_stdin(self):
        # Read what is there, never a line at a time: a buffered reader
        # would keep a second command that arrived in the same read.
        try:
            data = os.read(sys.stdin.fileno(), 65536)
        except BlockingIOError:
            return
        if not data:
            # The test went away: leave as a client does.
            self.loop.remove_reader(sys.stdin.fileno())
            self.quit()
            return
        self.stdin_buffer += data
        *lines, self.stdin_buffer = self.stdin_buffer.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                cmd = json.loads(line)
            except ValueError as e:
                emit({"event": "error", "error": "bad command line: %s" % e})
                continue
            # Commands run in the order they came: each waits for the
            # one before it, so a roster set is answered before a later send.
            self.commands = asyncio.ensure_future(self.chain(self.commands, cmd))

    async def chain(self, previous, cmd):
        if previous is not None:
            await previous
        await self.run_command(cmd)

    async def run_command(self, cmd):
        name = cmd.get("cmd")
        done = {"event": "done", "cmd": name, "tag": cmd.get("tag"), "ok": True}
        try:
            if name == "send":
                msg = self.make_message(mto=cmd["to"], mbody=cmd.get("body"),
                                        mtype=cmd.get("type", "chat"))
                if cmd.get("thread"):
                    msg["thread"] = cmd["thread"]
                if cmd.get("id"):
                    msg["id"] = cmd["id"]
                msg.send()
                done["id"] = msg["id"]
            elif name == "presence":
                kwargs = {}
                if cmd.get("show"):
                    kwargs["pshow"] = cmd["show"]
                if cmd.get("status"):
                    kwargs["pstatus"] = cmd["status"]
                if cmd.get("priority") is not None:
                    kwargs["ppriority"] = cmd["priority"]
                if cmd.get("to"):
                    kwargs["pto"] = cmd["to"]
                if cmd.get("type"):
                    kwargs["ptype"] = cmd["type"]
                self.send_presence(**kwargs)
            elif name in ("roster_set", "roster_remove"):
                query = ET.Element("{%s}query" % ROSTER_NS)
                item = ET.SubElement(query, "{%s}item" % ROSTER_NS, jid=cmd["jid"])
                if name == "roster_remove":
                    item.set("subscription", "remove")
                else:
                    if cmd.get("name"):
                        item.set("name", cmd["name"])
                    for group in cmd.get("groups", []):
                        ET.SubElement(item, "{%s}group" % ROSTER_NS).text = group
                iq = self.make_iq_set(sub=query)
                await iq.send(timeout=10)
            elif name == "raw":
                self.send_raw(cmd["xml"])
            elif name == "quit":
                emit(done)
                self.quit()
                return
            else:
                raise ValueError("unknown command %r" % name)
        except (slixmpp.exceptions.IqError, slixmpp.exceptions.IqTimeout) as e:
            done["ok"] = False
            done["error"] = str(e)
        except Exception as e:  # reported to the test, never fatal here
            done["ok"] = False
            done["error"] = "%s: %s" % (type(e).__name__, e)
        emit(done)

    def quit(self):
        self.quitting = True
        if self.args.presence:
            self.send_presence(ptype="unavailable")
        self.disconnect(wait=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jid", required=True, help="user@domain/resource")
    parser.add_argument("--password", required=True)
    parser.add_argument("--server", required=True, help="HOST:PORT")
    parser.add_argument("--tls", choices=("starttls", "none"), default="starttls")
    parser.add_argument("--no-presence", dest="presence", action="store_false",
                        help="do not send initial presence")
    parser.add_argument("--priority", type=int, default=0)
    parser.add_argument("--no-auto-authorize", dest="auto_authorize",
                        action="store_false",
                        help="leave subscription requests unanswered")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args()

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    host, _, port = args.server.rpartition(":")
    client = PlainClient(args)
    client.connect((host, int(port)),
                   force_starttls=args.tls == "starttls",
                   disable_starttls=args.tls == "none")
    client.loop.run_forever()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
