#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The demo world: a Prosody on loopback with a certificate made on the spot,
# demo accounts, the directory keyfile, and one private session bus and
# expert-assistd per user; built from the integration harness
# (tests/integration/harness.py), so the demo runs exactly what the tests
# run.  tools/demo builds first and then runs this; see --help.
#
#   headless   a scripted walk-through over D-Bus, narrated step by step;
#              exit status 0 when every step did what it should
#   display    the agent's and the experts' applets on $DISPLAY, running
#              until Ctrl+C

import argparse
import html
import os
import re
import shutil
import signal
import sys
import time
import unittest

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))

import gi  # noqa: E402

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
from gi.repository import GLib  # noqa: E402

import harness  # noqa: E402
from harness import assert_stays, describe_status, wait_for, write_file  # noqa: E402
from routing import RoutingTest, jid, vardict  # noqa: E402

AGENT = "carol"
BILLING = ["alice", "bob", "dave"]
TECH = ["erin", "frank"]
PLAIN = "paula"
EXPERTS = BILLING + TECH
APPLET_ID = "org.example.ExpertAssist.Applet"

# Short timeouts so the walk-through takes seconds, not minutes.
DIRECTORY = """\
# The demo's expert directory: the format of data/directory.conf.example,
# which an administrator installs as /etc/xdg/expert-assist/directory.conf.

[Group billing]
Name=Billing and refunds
Description=Invoices, refunds, chargebacks
Experts=alice@example.org;bob@example.org;dave@example.org;
Strategy=parallel
OfferTimeout=3
Expire=60

[Group tech]
Name=Technical support
Description=Logins, VPN, printers
Experts=erin@example.org;frank@example.org;paula@example.org;
Strategy=serial
OfferTimeout=2
Expire=60

[Expert alice@example.org]
Name=Alice Smith
Skills=refunds:4;chargebacks:2;
Languages=en;de;
Level=3
Priority=1

[Expert bob@example.org]
Name=Bob Jones
Skills=refunds;chargebacks;
Languages=en;
Level=2
Priority=2

[Expert dave@example.org]
Name=Dave Miller
Skills=chargebacks;
Languages=en;
Level=4
Priority=3

[Expert erin@example.org]
Name=Erin Clark
Skills=vpn;logins;
Languages=en;
Priority=1

[Expert frank@example.org]
Name=Frank Wood
Skills=vpn;printers;
Languages=en;
Priority=2

[Expert paula@example.org]
Name=Paula Plain
Skills=printers;
Languages=en;
Priority=3

[Agent carol@example.org]
Groups=billing;tech;
"""

STEP_TIMEOUT = 15  # seconds any one wait may take before the demo fails


class StepFailed(Exception):
    pass


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def names(addresses):
    return ", ".join(a.split("@")[0] for a in addresses) or "nobody"


def snippet(text):
    """A SearchLog snippet (Pango markup, the match in <b>) as plain text."""
    text = re.sub(r"</?b>", lambda m: "]" if m.group(0) == "</b>" else "[", text)
    return html.unescape(" ".join(text.split()))


def clock(usec):
    return time.strftime("%H:%M:%S", time.localtime(usec / 1e6))


# ---------------------------------------------------------------------------
# Stopping everything, whenever

_state = {"tmpdir": None, "interrupted": False}


def _descendants(root):
    """Pids of every live descendant of root, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain anything.
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_everything_now():
    """Kill every process the demo started and reap it; remove the temp dir."""
    harness._kill_leftovers()
    for pid in _descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if not _descendants(os.getpid()):
                break
            time.sleep(0.01)
    tmpdir = _state["tmpdir"]
    if tmpdir and os.environ.get("EA_KEEP_TMP") != "1":
        shutil.rmtree(tmpdir, ignore_errors=True)


def on_signal(signum, _frame):
    # Runs in the main thread between two Python instructions, possibly in
    # a GLib callback (where an exception would only be printed): so stop
    # everything here and leave at once.
    if _state["interrupted"]:
        return
    _state["interrupted"] = True
    sys.stdout.flush()
    sys.stderr.write("\nInterrupted (%s): stopping everything the demo started.\n"
                     % signal.Signals(signum).name)
    stop_everything_now()
    sys.stderr.write("Stopped.\n")
    sys.stderr.flush()
    os._exit(128 + signum)


# ---------------------------------------------------------------------------
# The demo world

class Demo(RoutingTest):
    """The world and the walk-through, as one IntegrationTest case, so the
    harness's own set-up, clean-up and log printing apply."""

    TMP_PREFIX = "ea-demo-"
    XMPP_SERVER = "prosody"

    def __init__(self, options):
        super().__init__("runTest")
        self.options = options
        self.applets = []
        self.failure = None
        self.started = time.monotonic()

    def setUp(self):
        super().setUp()
        _state["tmpdir"] = self.tmpdir

    def _stop_everything(self):
        for applet in self.applets:
            applet.kill()
        super()._stop_everything()

    def _print_logs(self):
        sys.stderr.write("\nThe logs of the demo's processes follow.\n")
        super()._print_logs()
        for applet in self.applets:
            sys.stderr.write("\n------------- %s -------------\n%s"
                             % (applet.name, applet.log_text()))

    # narration

    def step(self, number, title):
        self.current = "%d (%s)" % (number, title)
        say("%2d. %s" % (number, title))

    def tell(self, text):
        say("    " + text)

    def check(self, condition, reason):
        if not condition:
            raise StepFailed(reason)

    def runTest(self):
        try:
            if self.options.headless:
                self.walk_through()
            else:
                self.display()
        except Exception as e:
            reason = str(e) or e.__class__.__name__
            if not isinstance(e, (AssertionError, StepFailed, GLib.Error)):
                reason = "%s: %s" % (e.__class__.__name__, reason)
            self.failure = "at step %s: %s" % (getattr(self, "current", "0 (setting up)"),
                                               reason)
            say("    FAILED: %s" % reason)
            raise

    # building the world

    def build_world(self):
        self.step(1, "Starting the demo world")
        users = [AGENT] + EXPERTS + [PLAIN]
        self.start_world(users=users)
        self.tell("XMPP server: Prosody on %s, domain example.org, TLS with a "
                  "certificate made just now" % self.prosody.address)
        self.tell("accounts: %s (password: the name + \"-secret\")" % ", ".join(users))
        self.directory_path = os.path.join(self.tmpdir, "directory.conf")
        write_file(self.directory_path, DIRECTORY)
        self.tell("directory keyfile: %s" % self.directory_path)

        env = {}
        if not self.options.headless:
            # Daemon and applet share the settings of each user.
            env["GSETTINGS_BACKEND"] = "keyfile"
        self.d = {}
        for user in [AGENT] + EXPERTS:
            desktop = self.new_desktop(user, extra_args=["--directory=" + self.directory_path],
                                       env=env)
            desktop.start(timeout=STEP_TIMEOUT)
            self.d[user] = desktop
        for user in [AGENT] + EXPERTS:
            self.d[user].wait_connected(timeout=STEP_TIMEOUT)
        self.tell("carol (the agent) and alice, bob, dave, erin, frank (experts): one private "
                  "session bus and one expert-assistd each, all connected")
        self.paula = self.start_client(PLAIN)
        self.tell("paula (expert): an ordinary XMPP client, no daemon")

    def groups_line(self, row, short=False):
        gid, name, free, total, _extra = row
        if short:
            return "%s %d of %d available" % (gid, free, total)
        return "%-8s %-22s %d of %d available" % (gid, name, free, total)

    def wait_count(self, group, count):
        carol = self.d[AGENT]
        rows = {}

        def ok():
            rows.update(carol.groups())
            return group in rows and rows[group][2] == count
        try:
            carol.wait_for(ok, STEP_TIMEOUT, "carol's daemon to count %d available in %s"
                           % (count, group), poll_ms=100)
        except AssertionError as e:
            got = rows.get(group)
            raise AssertionError("%s (it counts %s)" % (e, got[2] if got else "no such group"))
        return rows[group]

    # the walk-through

    def walk_through(self):
        self.build_world()
        carol = self.d[AGENT]
        d = self.d

        self.step(2, "carol asks her daemon which expert groups she can ask (ListGroups)")
        self.wait_count("billing", 3)
        self.wait_count("tech", 3)
        for row in sorted(carol.groups().values()):
            self.tell(self.groups_line(row))

        self.step(3, "dave sets his status to Do not disturb (SetStatus dnd)")
        d["dave"].set_status("dnd", "In a meeting")
        row = self.wait_count("billing", 2)
        self.tell("carol's daemon sees it at once: " + self.groups_line(row, short=True))
        experts = carol.experts("billing")
        self.tell("ListExperts billing: " + ", ".join(
            "%s %s" % (a.split("@")[0], status) for a, (_a, _n, status, _x)
            in sorted(experts.items())))

        # Parallel: everyone interruptible at once, first accept wins.
        self.step(4, "carol asks Billing for help, mode parallel (RequestHelp)")
        summary = "Customer charged twice for invoice 4711"
        self.tell("summary: \"%s\", channel phone, customer ACME Ltd, reference T-1234" % summary)
        marks = {u: d[u].mark() for u in BILLING}
        request = self.ask(carol, "billing", summary, mode="parallel",
                           query={"channel": "phone", "customer": "ACME Ltd",
                                  "reference": "T-1234"})
        offer_a = self.wait_offer(d["alice"], request, marks["alice"], timeout=STEP_TIMEOUT)
        offer_b = self.wait_offer(d["bob"], request, marks["bob"], timeout=STEP_TIMEOUT)
        offered = self.request(carol, request, "Offered")
        self.check(sorted(offered) == [jid("alice"), jid("bob")],
                   "offered to %s, expected alice and bob" % names(offered))
        self.check(not d["dave"].find_signals("OfferReceived", since=marks["dave"]),
                   "dave got an offer while dnd")
        self.tell("offered to %s; not to dave (dnd)" % names(offered))
        self.tell("alice's offer shows customer %s until she accepts"
                  % self.offer(d["alice"], offer_a, "Query").get("customer", "(hidden)"))
        self.session_alice = self.accept(d["alice"], offer_a)
        self.tell("alice accepts (Offer.Accept); now she sees customer \"%s\""
                  % self.offer(d["alice"], offer_a, "Query").get("customer"))
        self.wait_offer_state(d["bob"], offer_b, "withdrawn", timeout=STEP_TIMEOUT)
        self.tell("bob's offer: %s, reason %s, taken by %s"
                  % (self.offer(d["bob"], offer_b, "State"),
                     self.offer(d["bob"], offer_b, "Reason"),
                     self.offer(d["bob"], offer_b, "TakenBy")))
        self.check(self.offer(d["bob"], offer_b, "TakenBy") == jid("alice"),
                   "bob's offer does not say it was taken by alice")
        self.wait_request(carol, request, "connected", timeout=STEP_TIMEOUT)
        self.session_carol_alice = self.request(carol, request, "Session")
        self.tell("carol's request: connected with %s; session %s"
                  % (names(self.request(carol, request, "Accepted")),
                     self.session_carol_alice.rsplit("/", 1)[1][:8] + "…"))

        # Serial: one at a time, the first lets it run out.
        self.step(5, "carol asks Tech for help, mode serial, 2 s per expert")
        marks = {u: d[u].mark() for u in TECH}
        request = self.ask(carol, "tech", "VPN drops every ten minutes", mode="serial",
                           **{"offer-timeout": 2})
        offer_e = self.wait_offer(d["erin"], request, marks["erin"], timeout=STEP_TIMEOUT)
        started = time.monotonic()
        self.tell("offered to erin (priority 1) alone; she lets it run out")
        offer_f = self.wait_offer(d["frank"], request, marks["frank"], timeout=STEP_TIMEOUT)
        self.wait_offer_state(d["erin"], offer_e, "expired", timeout=STEP_TIMEOUT)
        self.tell("after %.1f s erin's offer is %s; offered to frank (priority 2)"
                  % (time.monotonic() - started, self.offer(d["erin"], offer_e, "State")))
        self.accept(d["frank"], offer_f)
        self.wait_request(carol, request, "connected", timeout=STEP_TIMEOUT)
        self.tell("frank accepts: connected; the request records expired: %s, accepted: %s"
                  % (names(self.request(carol, request, "Expired")),
                     names(self.request(carol, request, "Accepted"))))

        # Two experts in one room.
        self.step(6, "carol asks Billing for two experts at once (experts=2)")
        d["dave"].set_status("available")
        row = self.wait_count("billing", 2)
        self.tell("dave is back (available), alice is busy in her chat (MaxSessions 1): "
                  + self.groups_line(row, short=True))
        marks = {u: d[u].mark() for u in BILLING}
        request = self.ask(carol, "billing", "Chargeback dispute needs a second opinion",
                           experts=2)
        offer_b = self.wait_offer(d["bob"], request, marks["bob"], timeout=STEP_TIMEOUT)
        offer_d = self.wait_offer(d["dave"], request, marks["dave"], timeout=STEP_TIMEOUT)
        self.tell("offered to %s" % names(self.request(carol, request, "Offered")))
        session_b = self.accept(d["bob"], offer_b)
        session_d = self.accept(d["dave"], offer_d)
        self.wait_request(carol, request, "connected", timeout=STEP_TIMEOUT)
        session_c = self.request(carol, request, "Session")
        want = sorted([jid(AGENT), jid("bob"), jid("dave")])
        carol.wait_for(lambda: sorted(self.session(carol, session_c, "Participants")) == want,
                       STEP_TIMEOUT, "bob and dave in carol's session", poll_ms=50)
        d["bob"].wait_for(lambda: jid("dave") in self.session(d["bob"], session_b,
                                                                "Participants"),
                          STEP_TIMEOUT, "dave in bob's session", poll_ms=50)
        d["dave"].wait_for(lambda: jid("bob") in self.session(d["dave"], session_d,
                                                                "Participants"),
                           STEP_TIMEOUT, "bob in dave's session", poll_ms=50)
        self.tell("bob and dave accept: one room with %s" % names(want))
        mb, md = d["bob"].mark(), d["dave"].mark()
        line = "Thanks both: the customer says the card was stolen"
        self.send(carol, session_c, line)
        self.wait_message(d["bob"], session_b, line, mb, timeout=STEP_TIMEOUT)
        self.wait_message(d["dave"], session_d, line, md, timeout=STEP_TIMEOUT)
        self.tell("carol: \"%s\" (reaches bob and dave)" % line)

        # A plain XMPP client answers with the reply code.
        self.step(7, "carol asks paula by name; paula has a plain XMPP client, no daemon")
        mark = self.paula.mark()
        request = self.ask(carol, "tech", "Front desk printer is offline", expert=jid(PLAIN),
                           query={"channel": "email", "customer": "ACME Ltd"})
        code = request.rsplit("/", 1)[1][:4]
        text = self.paula.wait_message(lambda e: code in (e.get("body") or ""), since=mark,
                                       timeout=STEP_TIMEOUT,
                                       what="the offer's text at paula's client")
        self.tell("paula's client receives:")
        for body_line in text["body"].strip().splitlines():
            self.tell("  | " + body_line)
        mark = self.paula.mark()
        self.paula.send(jid(AGENT), "ok %s" % code)
        self.tell("paula replies \"ok %s\"" % code)
        self.wait_request(carol, request, "connected", timeout=STEP_TIMEOUT)
        first = self.paula.wait_message(
            lambda e: e.get("type") == "chat" and "ACME" in (e.get("body") or ""),
            since=mark, timeout=STEP_TIMEOUT, what="the customer in paula's first chat line")
        self.tell("carol's request: connected with %s; paula's first chat line:"
                  % names(self.request(carol, request, "Accepted")))
        for body_line in first["body"].strip().splitlines():
            self.tell("  | " + body_line)

        # A chat.
        self.step(8, "carol and alice chat in the session of step 4")
        session_a = self.session_alice
        session_c = self.session_carol_alice
        lines = [
            (AGENT, "Hello Alice, ACME was charged twice for invoice 4711. Can we refund one?"),
            ("alice", "Yes: I have issued the refund for the second charge, reference R-4711."),
            (AGENT, "Thank you, I will tell the customer."),
        ]
        for sender, line in lines:
            if sender == AGENT:
                to, to_session, from_session = d["alice"], session_a, session_c
            else:
                to, to_session, from_session = carol, session_c, session_a
            mark = to.mark()
            self.send(d[sender], from_session, line)
            self.wait_message(to, to_session, line, mark, timeout=STEP_TIMEOUT)
            self.tell("%-5s: %s" % (sender, line))
        alice_lines = [m[3] for m in self.messages(d["alice"], session_a)]
        self.check(alice_lines == [line for _s, line in lines],
                   "alice's log of the session is %r" % alice_lines)
        self.tell("both daemons logged the session (GetMessages: %d lines)" % len(alice_lines))

        # The log and the figures.
        self.step(9, "carol searches her log for \"refund\" (SearchLog)")
        hits = carol.call("SearchLog", GLib.Variant("(sa{sv})", ("refund", {})))
        self.check(hits, "SearchLog found nothing")
        self.tell("%d hit%s:" % (len(hits), "" if len(hits) == 1 else "s"))
        for hit in hits:
            self.tell("%s %s: %s" % (clock(hit.get("time", 0)),
                                     hit.get("sender", "?").split("@")[0],
                                     snippet(hit.get("snippet", ""))))

        self.step(10, "Statistics (GetStatistics), as each daemon saw them")
        stats = carol.call("GetStatistics", GLib.Variant("(a{sv})", ({},)))
        self.check(stats.get("requests") == 4 and stats.get("answered") == 4,
                   "carol's daemon counts %s requests, %s answered; expected 4 and 4"
                   % (stats.get("requests"), stats.get("answered")))
        self.tell("carol (agent): %d requests, %d answered; time to answer: average %.1f s, "
                  "90th percentile %.1f s; service level %.0f %% (answered within %d s)"
                  % (stats["requests"], stats["answered"], stats["time-to-answer-avg"],
                     stats["time-to-answer-p90"], 100 * stats["service-level"],
                     stats["service-level-target"]))
        for group in stats.get("groups", []):
            self.tell("  group %-8s %d requests, %d answered, average %.1f s to answer"
                      % (group.get("id"), group.get("requests", 0), group.get("answered", 0),
                         group.get("time-to-answer-avg", 0.0)))
        self.tell("carol's daemon sent %d offers: %d accepted, %d expired, %d withdrawn"
                  % (stats.get("offers", 0), stats.get("offers-accepted", 0),
                     stats.get("offers-expired", 0), stats.get("offers-withdrawn", 0)))
        as_expert = GLib.Variant("(a{sv})", (vardict({"role": "expert"}),))
        for user in EXPERTS:
            s = d[user].call("GetStatistics", as_expert)
            self.tell("%-5s (expert, role=expert): %d offer%s: %d accepted, %d expired, "
                      "%d withdrawn" % (user, s.get("offers", 0),
                                        "" if s.get("offers", 0) == 1 else "s",
                                        s.get("offers-accepted", 0), s.get("offers-expired", 0),
                                        s.get("offers-withdrawn", 0)))
        alice = d["alice"].call("GetStatistics", as_expert)
        self.check(alice.get("offers-accepted") == 1,
                   "alice's daemon counts %s accepted offers, expected 1"
                   % alice.get("offers-accepted"))

        self.step(11, "Stopping everything the demo started")
        for user in [AGENT] + EXPERTS:
            self.d[user].stop(timeout=STEP_TIMEOUT)
            self.d[user].bus.stop()
        self.tell("6 daemons stopped by SIGTERM, each with exit status 0; 6 session buses")
        status = self.paula.quit(timeout=STEP_TIMEOUT)
        self.check(status == 0, "paula's client ended with %s" % describe_status(status))
        status = self.prosody.stop(timeout=STEP_TIMEOUT)
        self.check(status == 0, "Prosody ended with %s" % describe_status(status))
        self.tell("paula's client and Prosody: stopped cleanly")

    # with a display

    def display(self):
        from applet_harness import Applet

        self.build_world()
        self.wait_count("billing", 3)
        self.wait_count("tech", 3)

        self.step(2, "Opening the applets on %s" % self.options.display)
        env = {
            "EA_APPLET_TEST": "",       # no test interface
            "G_MESSAGES_DEBUG": "",
            "GDK_BACKEND": "x11",
        }
        xauthority = os.environ.get("XAUTHORITY")
        if not xauthority and os.path.exists(os.path.expanduser("~/.Xauthority")):
            xauthority = os.path.expanduser("~/.Xauthority")
        if xauthority:
            env["XAUTHORITY"] = xauthority
        for user in [AGENT] + EXPERTS:
            applet = Applet(self.tmpdir, self.d[user], self.options.display,
                            extra_env=env, name="applet-" + user)
            applet.start(wait=False)
            self.applets.append(applet)
        for applet in self.applets:
            def ready(applet=applet):
                if not applet.running:
                    raise AssertionError("%s exited (%s): can it open display %s? "
                                         "tools/demo --headless runs without one; its log:\n%s"
                                         % (applet.name, describe_status(applet.process.status),
                                            self.options.display, applet.log_text()))
                return applet.bus.name_owner(APPLET_ID) is not None
            wait_for(ready, 30, "%s to start" % applet.name, poll_ms=100)
        self.tell("carol (agent), alice, bob, dave (Billing), erin, frank (Tech): one applet "
                  "each, on its own session bus; each window shows its user's address under "
                  "the title (they may open on top of each other: move them apart)")
        say("")
        say("Things to try:")
        say("  - In carol's applet, ask Billing and refunds for help: alice, bob and dave")
        say("    get an offer; accept it in one window and watch the others say it was")
        say("    taken. Chat in the window that opens.")
        say("  - Set dave to Do not disturb in his applet: carol's count drops.")
        say("  - Ask Technical support: it goes to erin, then frank, 2 s each.")
        say("  - paula has no daemon: what she receives is printed here. Type a line")
        say("    here to send it as paula to carol, e.g. the \"ok CODE\" her offer names.")
        say("  - Or log in as paula@example.org with any XMPP client: server %s,"
            % self.prosody.address)
        say("    password paula-secret, self-signed certificate.")
        say("Press Ctrl+C to stop everything.")
        self.current = "running"

        seen = [self.paula.mark()]

        def show_paula():
            for event in self.paula.messages(seen[0]):
                body = (event.get("body") or "").strip()
                if body:
                    say("[paula receives from %s]" % event["from"].split("/")[0])
                    for body_line in body.splitlines():
                        say("  | " + body_line)
            seen[0] = self.paula.mark()
            return GLib.SOURCE_CONTINUE

        def typed(fd, _condition):
            line = sys.stdin.readline()
            if not line:
                return GLib.SOURCE_REMOVE
            if line.strip():
                self.paula.send(jid(AGENT), line.strip(), wait=False)
                say("[paula sends to carol] %s" % line.strip())
            return GLib.SOURCE_CONTINUE

        GLib.timeout_add(200, show_paula)
        if not sys.stdin.closed:
            GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT,
                              GLib.IOCondition.IN | GLib.IOCondition.HUP, typed)

        def world_alive():
            for desktop in self.d.values():
                if not desktop.daemon.running:
                    raise AssertionError("%s's daemon stopped (%s); its log:\n%s"
                                         % (desktop.name, describe_status(desktop.daemon.status),
                                            desktop.log_text()[-4000:]))
            if not self.prosody.running:
                raise AssertionError("Prosody stopped; its log:\n" + self.prosody.log_tail(40))
            return True
        # Until Ctrl+C (handled by on_signal).
        assert_stays(world_alive, 10 ** 9, "the demo world", poll_ms=500)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tools/demo",
        description="Expert Assist in one command: a Prosody on loopback, demo accounts, one "
                    "session bus and daemon per user. With a display it opens the applets; "
                    "without one (or with --headless) it runs a narrated walk-through and "
                    "exits 0 when every step passed.",
        epilog="EA_KEEP_TMP=1 keeps the demo's working files and logs. Ctrl+C stops "
               "everything the demo started.")
    parser.add_argument("--headless", action="store_true",
                        help="run the scripted walk-through even when a display is there")
    parser.add_argument("--builddir", default=os.path.join(SOURCE_ROOT, "build"),
                        help="use the binaries of this build directory, already built "
                             "(tools/demo builds build/ itself when this is not given)")
    options = parser.parse_args(argv)
    options.builddir = os.path.abspath(options.builddir)
    options.display = os.environ.get("DISPLAY", "")
    if not options.display:
        options.headless = True
    return options


def main(argv):
    options = parse_args(argv)
    daemon = os.path.join(options.builddir, "daemon", "expert-assistd")
    if not os.access(daemon, os.X_OK):
        sys.stderr.write("tools/demo: %s is missing: build first (tools/demo builds build/ "
                         "when run without --builddir)\n" % daemon)
        return 1
    for program in ("prosody", "dbus-daemon", "openssl"):
        if shutil.which(program) is None:
            sys.stderr.write("tools/demo: %s is not installed (run tools/install-deps)\n"
                             % program)
            return 1
    os.environ["EA_BUILD_ROOT"] = options.builddir
    os.environ["EA_DAEMON"] = daemon
    os.environ["EA_APPLET"] = os.path.join(options.builddir, "applet", "expert-assist-applet")
    schema_dirs = [os.path.join(options.builddir, "data")]
    os.environ["GSETTINGS_SCHEMA_DIR"] = ":".join(schema_dirs)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)

    if not options.headless and not os.access(os.environ["EA_APPLET"], os.X_OK):
        say("The applet is not built in %s (-Dapplet=false?): running the walk-through "
            "instead." % options.builddir)
        options.headless = True
    if options.headless:
        say("Expert Assist demo: a scripted walk-through, everything on this machine.")
    else:
        say("Expert Assist demo: the applets on display %s." % options.display)
    demo = Demo(options)
    result = unittest.TestResult()
    demo.run(result)
    elapsed = time.monotonic() - demo.started
    if result.errors or result.failures or demo.failure:
        reason = demo.failure
        if not reason:
            reason = (result.errors + result.failures)[0][1].strip().splitlines()[-1]
        sys.stderr.write("\nThe demo FAILED after %.0f s, %s\n" % (elapsed, reason))
        return 1
    if options.headless:
        say("")
        say("Every step did what it should. The demo took %.0f s." % elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
