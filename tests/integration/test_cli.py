#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The command-line client (expert-assist, path in $EA_CLI) against the real
# daemon on private buses and a real Prosody: every subcommand, the exit
# codes, --json parsed with Python's json module, login through a real
# gnome-keyring-daemon, the HTML and CSV reports checked against
# GetStatistics.
#
# Tests marked "routing" need RequestHelp, offers, sessions and chat in the
# daemon; "record" ones need SearchLog and GetStatistics (the store).

import csv
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import termios
import threading
import time
import unittest

from gi.repository import GLib

import harness
from harness import BUS_NAME, ROOT_IFACE, IntegrationTest

ALICE = "alice@example.org"
BOB = "bob@example.org"
CAROL = "carol@example.org"

DIRECTORY = """\
[Group billing]
Name=Billing and refunds
Description=Refunds, invoices and chargebacks
Experts=alice@example.org;bob@example.org;
OfferTimeout=10
Expire=30

[Group tech]
Name=Technical support
Experts=dave@example.org;

[Expert alice@example.org]
Name=Alice Smith
Skills=refunds:4;chargebacks;
Languages=en;de;
Level=3
"""

# carol may ask billing only: tech is PermissionDenied for her.
AGENT_CAROL = """
[Agent carol@example.org]
Groups=billing;
"""

# Exit codes (see expert-assist --help)
OK, USAGE, NO_DAEMON, NOT_CONNECTED, NOT_FOUND, DENIED, INVALID, FAILED, EXPIRED, \
    CANCELLED, TAKEN = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10

HEADLINE_KEYS = ("requests", "answered", "cancelled", "expired", "failed", "queued",
                 "time-to-answer-avg", "time-to-answer-p50", "time-to-answer-p90",
                 "service-level", "queue-wait-avg", "handle-time-avg", "offers",
                 "offers-per-request", "offers-accepted", "offers-declined", "offers-expired",
                 "offers-withdrawn")


def cli_binary():
    build_root = os.environ.get("EA_BUILD_ROOT") or os.path.join(harness.SOURCE_ROOT, "build")
    return os.environ.get("EA_CLI") or os.path.join(build_root, "tools", "cli", "expert-assist")


class CliProcess:
    """expert-assist running in the background; its output collected by
    threads so waits can iterate the GLib main context meanwhile."""

    def __init__(self, argv, env, stdin=True):
        self.argv = argv
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE if stdin
                                     else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.out = []
        self.err = []
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.err),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))

    def write(self, text):
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def close_stdin(self):
        self.proc.stdin.close()

    def wait(self, timeout=30, what=None):
        harness.wait_for(lambda: self.proc.poll() is not None, timeout,
                         what or "%s to exit" % " ".join(self.argv[1:]), poll_ms=50)
        for t in self._threads:
            t.join(5)
        self._close()
        return self.proc.returncode

    def _close(self):
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass

    def wait_output(self, predicate, timeout=15, what=None):
        def found():
            hits = [line for line in self.out if predicate(line)]
            if hits:
                return hits
            if self.proc.poll() is not None:
                raise AssertionError("%s exited (%d) while waiting for %s; out %r err %r"
                                     % (self.argv[1:], self.proc.returncode, what, self.out,
                                        self.err))
            return None
        return harness.wait_for(found, timeout, what or "output", poll_ms=50)[0]

    def json_lines(self):
        return [json.loads(line) for line in self.out if line.strip()]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._threads:
            t.join(5)
        self._close()


class CliTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.cli = cli_binary()
        if not os.access(self.cli, os.X_OK):
            raise AssertionError("expert-assist is missing at %s: build first, or set EA_CLI"
                                 % self.cli)
        self.background = []
        self.addCleanup(self._kill_background)

    def _kill_background(self):
        for process in self.background:
            process.kill()

    # running the client

    def cli_env(self, target):
        """The environment of the desktop (or bus, or address) to talk to."""
        if isinstance(target, harness.Desktop):
            env = target.environment()
        else:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "G_"))}
            env["LANG"] = "C.UTF-8"
            address = target.address if isinstance(target, harness.Bus) else target
            if address is not None:
                env["DBUS_SESSION_BUS_ADDRESS"] = address
        # Criticals are bugs; debug output would spoil the one-line errors.
        env.pop("G_MESSAGES_DEBUG", None)
        env["G_DEBUG"] = "fatal-criticals"
        return env

    def run_cli(self, target, *args, input=None, expect=None, timeout=40):
        argv = [self.cli] + list(args)
        result = subprocess.run(argv, env=self.cli_env(target), input=input,
                                stdin=None if input is not None else subprocess.DEVNULL,
                                capture_output=True, text=True, encoding="utf-8",
                                timeout=timeout)
        if expect is not None:
            self.assertEqual(result.returncode, expect,
                             "expert-assist %s: exit %d, expected %d\nstdout: %s\nstderr: %s"
                             % (" ".join(args), result.returncode, expect, result.stdout,
                                result.stderr))
        return result

    def run_json(self, target, *args, expect=OK):
        result = self.run_cli(target, *args, "--json", expect=expect)
        return json.loads(result.stdout)

    def start_cli(self, target, *args, stdin=True):
        process = CliProcess([self.cli] + list(args), self.cli_env(target), stdin)
        self.background.append(process)
        return process

    def assertErrorLine(self, result, *fragments):
        """stderr is one line "expert-assist: MESSAGE" naming each fragment."""
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, "stderr is not one line: %r" % result.stderr)
        self.assertTrue(lines[0].startswith("expert-assist: "), lines[0])
        self.assertNotIn("GDBus.Error", lines[0])
        for fragment in fragments:
            self.assertIn(fragment.lower(), lines[0].lower())

    # worlds

    def billing_world(self, extra_directory="", users=("alice", "bob", "carol", "dave"),
                      experts=("alice",)):
        """Prosody, carol's desktop (the agent) and the experts' desktops;
        waits until carol sees them."""
        self.start_world(users=list(users), directory=DIRECTORY + extra_directory)
        desktops = {name: self.start_desktop(name) for name in experts}
        carol = self.start_desktop("carol")
        self.wait_billing(carol, len(experts))
        return carol, desktops

    def wait_billing(self, desktop, interruptible, timeout=15):
        desktop.wait_for(lambda: desktop.groups().get("billing", (0, 0, -1))[2] == interruptible,
                         timeout, "%d interruptible in billing at %s"
                         % (interruptible, desktop.name), poll_ms=100)


# ---------------------------------------------------------------------------
# Without a daemon

class Usage(CliTest):
    def test_help_version_and_usage_errors(self):
        nowhere = os.path.join(self.tmpdir, "no-bus")
        result = self.run_cli(nowhere, "--help", expect=OK)
        for command in ("status", "login", "groups", "experts", "ask", "offers", "accept",
                        "decline", "chat", "search", "stats", "report"):
            self.assertRegex(result.stdout, r"(?m)^  %s\b" % command)
        self.assertIn("Exit status:", result.stdout)
        self.assertRegex(result.stdout, r"(?m)^  10  accept")

        result = self.run_cli(nowhere, "ask", "--help", expect=OK)
        self.assertIn("expert-assist ask [OPTION…] [GROUP] SUMMARY", result.stdout)
        for option in ("--mode", "--experts", "--offer-to", "--expert", "--skill", "--language",
                       "--level", "--channel", "--customer", "--reference", "--details",
                       "--offer-timeout", "--expire", "--no-queue", "--wait", "--json"):
            self.assertIn(option, result.stdout)
        self.assertIn("8 expired", result.stdout)
        self.assertIn("Exit status:", result.stdout)
        result = self.run_cli(nowhere, "help", "stats", expect=OK)
        self.assertIn("--role", result.stdout)

        result = self.run_cli(nowhere, "--version", expect=OK)
        self.assertRegex(result.stdout, r"^expert-assist \d+\.\d+\.\d+\n$")

        # Usage errors: exit 1, one line, before any bus is touched.
        for args in (["frobnicate"], [], ["groups", "--bogus"], ["groups", "extra"],
                     ["ask"], ["ask", "billing", "summary", "extra"],
                     ["ask", "billing", "x", "--experts", "-2"],
                     ["stats", "--since", "last tuesday"], ["stats", "--role", "boss"],
                     ["report", "--format", "html"], ["report", "--output", "x.pdf"],
                     ["report", "--format", "pdf", "--output", "x.pdf"],
                     ["accept"], ["chat"], ["search"]):
            result = self.run_cli(nowhere, *args, expect=USAGE)
            self.assertErrorLine(result)
            self.assertEqual(result.stdout, "")

    def test_daemon_not_running(self):
        # No bus at all.
        result = self.run_cli(os.path.join(self.tmpdir, "no-bus"), "status", expect=NO_DAEMON)
        self.assertErrorLine(result, "not running")

        # A bus where nothing owns the name and nothing can be activated.
        bus = self.new_bus("empty")
        for args in (["status"], ["groups"], ["ask", "billing", "help"], ["offers"],
                     ["stats", "--json"]):
            result = self.run_cli(bus, *args, expect=NO_DAEMON)
            self.assertErrorLine(result, "not running")

        # Activatable, but the daemon dies at once.
        bus.add_service(BUS_NAME, ["/bin/false"])
        result = self.run_cli(bus, "groups", expect=NO_DAEMON)
        self.assertErrorLine(result, "could not be started")


# ---------------------------------------------------------------------------
# Directory, presence, errors: what the daemon answers today

class Directory(CliTest):
    def test_status_groups_experts(self):
        carol, _ = self.billing_world(AGENT_CAROL)

        result = self.run_cli(carol, "status", expect=OK)
        self.assertRegex(result.stdout, r"(?m)^Account:\s+carol@example\.org$")
        self.assertRegex(result.stdout, r"(?m)^Connection:\s+connected$")
        self.assertRegex(result.stdout, r"(?m)^Status:\s+available$")
        status = self.run_json(carol, "status")
        self.assertEqual(status, {"account": CAROL, "connection-state": "connected",
                                  "connection-error": "", "status": "available",
                                  "status-message": ""})

        # groups: aligned columns, no header
        result = self.run_cli(carol, "groups", expect=OK)
        self.assertEqual(result.stdout, "billing  Billing and refunds  1 of 2 available\n")
        groups = self.run_json(carol, "groups")
        self.assertEqual(len(groups), 1)
        billing = groups[0]
        self.assertEqual((billing["id"], billing["name"], billing["interruptible"],
                          billing["total"]), ("billing", "Billing and refunds", 1, 2))
        self.assertEqual(billing["description"], "Refunds, invoices and chargebacks")
        self.assertEqual(billing["strategy"], "parallel")
        self.assertEqual(billing["offer-timeout"], 10)
        self.assertEqual(billing["expire"], 30)

        # experts: address, name, status, mark, skills
        result = self.run_cli(carol, "experts", "billing", expect=OK)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 2, result.stdout)
        alice = next(line for line in lines if line.startswith(ALICE))
        bob = next(line for line in lines if line.startswith(BOB))
        self.assertRegex(alice, r"^alice@example\.org  Alice Smith\s+available  ✔  "
                                r"(refunds:4, chargebacks(:3)?|chargebacks(:3)?, refunds:4)$")
        self.assertRegex(bob, r"^bob@example\.org\s.*\soffline$")
        # The columns line up.
        self.assertEqual(alice.index("available"), bob.index("offline"))
        experts = {e["address"]: e for e in self.run_json(carol, "experts", "billing")}
        self.assertEqual(set(experts), {ALICE, BOB})
        self.assertIs(experts[ALICE]["interruptible"], True)
        self.assertEqual(experts[ALICE]["name"], "Alice Smith")
        self.assertEqual(experts[ALICE]["status"], "available")
        self.assertEqual(experts[ALICE]["skill-levels"].get("refunds"), 4)
        self.assertEqual(sorted(experts[ALICE]["skills"]), ["chargebacks", "refunds"])
        self.assertEqual(experts[ALICE]["languages"], ["en", "de"])
        self.assertIs(experts[BOB]["interruptible"], False)
        # The same as the daemon says over D-Bus.
        raw = carol.experts("billing")
        self.assertEqual(experts[ALICE]["max-sessions"], raw[ALICE][3]["max-sessions"])

        # Errors: one line, the daemon's message, the exit code of its name.
        result = self.run_cli(carol, "experts", "nope", expect=NOT_FOUND)
        self.assertErrorLine(result, "nope")
        result = self.run_cli(carol, "experts", "tech", expect=DENIED)
        self.assertErrorLine(result)
        result = self.run_cli(carol, "status", "sleepy", expect=INVALID)
        self.assertErrorLine(result)

        # Setting the presence.
        result = self.run_cli(carol, "status", "dnd", "In a meeting", expect=OK)
        self.assertRegex(result.stdout, r"(?m)^Status:\s+dnd$")
        self.assertRegex(result.stdout, r"(?m)^Message:\s+In a meeting$")
        self.assertEqual(carol.get_property("Status"), "dnd")
        self.assertEqual(self.run_json(carol, "status")["status-message"], "In a meeting")
        self.run_cli(carol, "status", "available", expect=OK)

    def test_disconnected(self):
        carol, _ = self.billing_world()
        self.prosody.stop()
        carol.wait_property("ConnectionState", lambda s: s in ("disconnected", "connecting"))

        result = self.run_cli(carol, "ask", "billing", "Customer cannot log in",
                              expect=NOT_CONNECTED)
        self.assertErrorLine(result, "connected")
        result = self.run_cli(carol, "ask", "billing", "Customer cannot log in", "--wait",
                              "--json", expect=NOT_CONNECTED)
        self.assertEqual(result.stdout, "")
        # status says so with its exit status; reading calls still work.
        result = self.run_cli(carol, "status", expect=NOT_CONNECTED)
        self.assertNotRegex(result.stdout, r"(?m)^Connection:\s+connected$")
        self.assertEqual(self.run_json(carol, "groups", expect=OK)[0]["id"], "billing")

    def test_no_offers_and_unknown_ids(self):
        carol, _ = self.billing_world()
        self.assertEqual(self.run_json(carol, "offers"), [])
        self.assertEqual(self.run_json(carol, "offers", "--all"), [])
        result = self.run_cli(carol, "offers", expect=OK)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, "No offers.\n")
        for args in (["accept", "7f3a"], ["decline", "7f3a", "busy"],
                     ["chat", "0123456789abcdef0123456789abcdef"]):
            result = self.run_cli(carol, *args, expect=NOT_FOUND)
            self.assertErrorLine(result, args[1])

    def test_activation_starts_daemon(self):
        self.start_world(users=["carol"], directory=DIRECTORY)
        carol = self.new_desktop("carol")
        carol.bus.start()
        carol.bus.update_activation_environment(carol.environment())
        carol.bus.add_service(BUS_NAME, carol.command_line())

        def stop_activated():
            pid = carol.bus.owner_pid(BUS_NAME)
            if pid:
                os.kill(pid, signal.SIGTERM)
                harness.wait_for(lambda: carol.bus.name_owner(BUS_NAME) is None, 10,
                                 "the activated daemon to leave the bus")
        self.addCleanup(stop_activated)

        result = self.run_cli(carol, "status", "--json")
        self.assertIn(result.returncode, (OK, NOT_CONNECTED), result.stderr)
        status = json.loads(result.stdout)
        self.assertEqual(status["account"], CAROL)
        self.assertIsNotNone(carol.bus.name_owner(BUS_NAME))
        result = self.run_cli(carol, "groups", expect=OK)
        self.assertIn("Billing and refunds", result.stdout)


# ---------------------------------------------------------------------------
# login: SetAccount with the password from stdin

class Login(CliTest):
    def start_keyring(self, desktop):
        """A real gnome-keyring-daemon (secrets only) on the desktop's bus,
        its login keyring unlocked with a password on stdin."""
        log = os.path.join(desktop.dir, "keyring.log")
        keyring = harness.Process(["gnome-keyring-daemon", "--unlock", "--components=secrets",
                                   "--foreground"], log, env=desktop.environment(),
                                  stdin_pipe=True, name="gnome-keyring-daemon")
        self.addCleanup(keyring.kill)
        stdin = keyring.proc.get_stdin_pipe()
        stdin.write_all(b"keyring-password", None)
        stdin.close(None)
        def owned():
            if not keyring.running:
                raise AssertionError("gnome-keyring-daemon exited: " + keyring.log_text())
            return desktop.bus.name_owner("org.freedesktop.secrets")
        harness.wait_for(owned, 10, "the keyring on %s's bus" % desktop.name)
        return keyring

    def test_login_with_keyring(self):
        self.start_world(users=["dave"])
        dave = self.start_desktop("dave", connected=False, password="not-the-password")
        dave.wait_property("ConnectionState", "auth-failed", timeout=15)
        self.start_keyring(dave)

        result = self.run_cli(dave, "login", "dave@example.org", "--server",
                              self.prosody.address, input=self.password("dave") + "\n",
                              expect=OK)
        self.assertIn("dave@example.org", result.stdout)
        self.assertNotIn(self.password("dave"), result.stdout + result.stderr)
        dave.wait_connected(timeout=20)
        self.assertEqual(self.run_json(dave, "status")["connection-state"], "connected")
        # Without ACCOUNT: the daemon's own account; CRLF line ends are fine.
        self.run_cli(dave, "login", "--server", self.prosody.address,
                     input=self.password("dave") + "\r\n", expect=OK)
        dave.wait_connected(timeout=20)
        self.assertNotIn(self.password("dave"), dave.log_text())

    def test_login_without_keyring(self):
        self.start_world(users=["dave"])
        dave = self.start_desktop("dave")
        result = self.run_cli(dave, "login", "dave@example.org", "--server",
                              self.prosody.address, input=self.password("dave") + "\n",
                              expect=FAILED)
        self.assertErrorLine(result, "keyring")
        # Nothing on stdin: a usage error, and the daemon is not asked.
        result = self.run_cli(dave, "login", "dave@example.org", input="", expect=USAGE)
        self.assertErrorLine(result, "password")
        result = self.run_cli(dave, "login", "dave@example.org", input="\n", expect=USAGE)
        self.assertErrorLine(result, "empty")
        self.assertTrue(dave.on_bus())
        dave.wait_connected()

    def test_login_prompt_without_echo(self):
        """From a terminal: a prompt, echo off while typing, echo back on."""
        self.start_world(users=["dave"])
        dave = self.start_desktop("dave")
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        proc = subprocess.Popen([self.cli, "login", "dave@example.org"], stdin=slave,
                                stdout=subprocess.PIPE, stderr=slave, env=self.cli_env(dave))
        os.close(slave)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        seen = b""
        deadline = time.monotonic() + 15
        while b"Password for dave@example.org: " not in seen:
            self.assertLess(time.monotonic(), deadline, "no prompt; got %r" % seen)
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                seen += os.read(master, 1024)
        # Linux ptys share one termios between master and slave.
        self.assertFalse(termios.tcgetattr(master)[3] & termios.ECHO, "echo is still on")
        os.write(master, (self.password("dave") + "\n").encode())
        self.assertEqual(proc.wait(30), FAILED)  # no keyring on this bus
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                break
            try:
                chunk = os.read(master, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        self.assertNotIn(self.password("dave").encode(), seen)
        self.assertIn(b"keyring", seen)
        self.assertTrue(termios.tcgetattr(master)[3] & termios.ECHO, "echo was left off")


# ---------------------------------------------------------------------------
# Routing: ask, offers, accept, decline, chat (need RequestHelp in the daemon)

class Routing(CliTest):
    def ask_and_accept(self, carol, alice, *ask_args):
        """carol asks billing with --wait --json, alice accepts with the
        first 6 characters of the id: returns (session id, carol's lines)."""
        ask = self.start_cli(carol, "ask", "billing", "Customer cannot log in",
                             "--customer", "ACME", "--reference", "T-1234", "--wait", "--json",
                             *ask_args, stdin=False)
        offers = alice.wait_for(lambda: self.run_json(alice, "offers"), 15,
                                "the offer at alice", poll_ms=200)
        self.assertEqual(len(offers), 1, offers)
        offer = offers[0]
        self.assertEqual(offer["from"], CAROL)
        self.assertEqual(offer["group"], "billing")
        self.assertEqual(offer["summary"], "Customer cannot log in")
        self.assertEqual(offer["state"], "pending")
        self.assertRegex(offer["id"], r"^[0-9a-f]{32}$")
        result = self.run_cli(alice, "offers", expect=OK)
        self.assertRegex(result.stdout, r"^%s  (carol <carol@example\.org>|carol@example\.org)"
                                        r"\s+billing\s+\d+ s left  Customer cannot log in\n$"
                                        % offer["id"])

        accepted = self.run_json(alice, "accept", offer["id"][:6])
        self.assertRegex(accepted["session"], r"^[0-9a-f]{32}$")
        self.assertEqual(ask.wait(30, "carol's ask --wait to end"), OK,
                         "ask --wait: %r %r" % (ask.out, ask.err))
        lines = ask.json_lines()
        result = lines[-1]
        self.assertEqual(result["event"], "result")
        self.assertEqual((result["state"], result["outcome"], result["exit-status"]),
                         ("connected", "connected", 0))
        self.assertEqual(result["session"], accepted["session"])
        self.assertEqual(result["accepted"], [ALICE])
        self.assertIn(ALICE, result["participants"])
        self.assertIn(CAROL, result["participants"])
        self.assertEqual(result["request"], offer["id"])
        self.assertTrue(any(e["event"] == "offered" and ALICE in e["experts"] for e in lines),
                        lines)
        self.assertTrue(any(e["event"] == "state" and e["state"] == "connected" for e in lines))
        return accepted["session"], lines

    def test_ask_wait_accept_and_chat(self):
        carol, experts = self.billing_world()
        alice = experts["alice"]
        session, _ = self.ask_and_accept(carol, alice)

        # alice chats interactively; carol pipes two lines and leaves (EOF).
        alice_chat = self.start_cli(alice, "chat", session[:8])
        result = self.run_cli(carol, "chat", session, input="hello from carol\n\nline two\n",
                              expect=OK)
        line = alice_chat.wait_output(lambda l: "hello from carol" in l, 15,
                                      "carol's message in alice's chat")
        self.assertRegex(line, r"^\[\d\d:\d\d:\d\d\] carol@example\.org: hello from carol$")
        alice_chat.wait_output(lambda l: l.endswith("carol@example.org: line two"), 15)
        self.assertEqual(carol.get_property("State", harness.SESSION_IFACE,
                                            "/org/example/ExpertAssist/session/" + session),
                         "open")

        # carol joins again: the history first; then alice's reply arrives live.
        carol_chat = self.start_cli(carol, "chat", session)
        carol_chat.wait_output(lambda l: l.endswith("carol@example.org: line two"), 15,
                               "the history in carol's chat")
        alice_chat.write("hi carol\n")
        carol_chat.wait_output(lambda l: re.match(r"^\[\d\d:\d\d:\d\d\] alice@example\.org: "
                                                  r"hi carol$", l), 15,
                               "alice's reply in carol's chat")
        # /close ends both.
        alice_chat.write("/close\n")
        self.assertEqual(alice_chat.wait(15), OK, alice_chat.err)
        self.assertEqual(carol_chat.wait(15, "carol's chat to end with the session"), OK,
                         carol_chat.err)
        self.assertIn("The session was closed.", carol_chat.err)
        result = self.run_cli(carol, "chat", session, expect=OK)
        self.assertIn("closed", result.stderr)

    def test_human_progress(self):
        carol, experts = self.billing_world()
        alice = experts["alice"]
        ask = self.start_cli(carol, "ask", "billing", "Refund twice", "--wait", stdin=False)
        offers = alice.wait_for(lambda: self.run_json(alice, "offers"), 15, "the offer",
                                poll_ms=200)
        ask.wait_output(lambda l: re.match(r"^\d\d:\d\d:\d\d  offered to alice@example\.org$",
                                           l), 10)
        result = self.run_cli(alice, "accept", offers[0]["id"], expect=OK)
        self.assertRegex(result.stdout, r"^Accepted\. Session [0-9a-f]{32}: chat with "
                                        r"“expert-assist chat [0-9a-f]{32}”\.\n$")
        self.assertEqual(ask.wait(30), OK, ask.err)
        text = "\n".join(ask.out)
        self.assertRegex(text, r"(?m)^\d\d:\d\d:\d\d  request [0-9a-f]{32} to billing$")
        self.assertRegex(text, r"(?m)^\d\d:\d\d:\d\d  accepted by alice@example\.org$")
        self.assertRegex(text, r"(?m)^Connected with alice@example\.org\.$")
        self.assertRegex(text, r"(?m)^Chat with: expert-assist chat [0-9a-f]{32}$")

    def test_decline_then_expire(self):
        carol, experts = self.billing_world()
        alice = experts["alice"]
        ask = self.start_cli(carol, "ask", "billing", "Chargeback question", "--expire", "6",
                             "--wait", "--json", stdin=False)
        offers = alice.wait_for(lambda: self.run_json(alice, "offers"), 15, "the offer",
                                poll_ms=200)
        result = self.run_cli(alice, "decline", offers[0]["id"][:4], "busy", expect=OK)
        self.assertEqual(result.stdout, "Declined.\n")
        self.assertEqual(self.run_json(alice, "offers"), [])
        self.assertEqual(ask.wait(30, "the request to expire"), EXPIRED, ask.err)
        lines = ask.json_lines()
        self.assertTrue(any(e["event"] == "declined" and e["experts"] == [ALICE]
                            for e in lines), lines)
        self.assertEqual((lines[-1]["state"], lines[-1]["reason"], lines[-1]["outcome"]),
                         ("failed", "expired", "expired"))
        self.assertEqual(lines[-1]["declined"], [ALICE])

    def test_no_queue_fails_and_queue_cancel(self):
        carol, experts = self.billing_world()
        experts["alice"].set_status("dnd")
        self.wait_billing(carol, 0)

        result = self.run_cli(carol, "ask", "billing", "Anyone?", "--no-queue", "--wait",
                              "--json", expect=FAILED)
        final = json.loads(result.stdout.splitlines()[-1])
        self.assertEqual((final["state"], final["reason"]), ("failed", "no-experts"))
        result = self.run_cli(carol, "ask", "billing", "Anyone?", "--no-queue", "--wait",
                              expect=FAILED)
        self.assertIn("no-experts", result.stderr)

        # Queued; Ctrl-C cancels it: exit 9.
        ask = self.start_cli(carol, "ask", "billing", "Anyone at all?", "--wait", stdin=False)
        ask.wait_output(lambda l: "position 1 in the queue" in l, 15, "the request to queue")
        ask.proc.send_signal(signal.SIGINT)
        self.assertEqual(ask.wait(15), CANCELLED, ask.err)

    def test_accept_taken(self):
        carol, experts = self.billing_world(experts=("alice", "bob"))
        alice, bob = experts["alice"], experts["bob"]
        result = self.run_cli(carol, "ask", "billing", "Who is first?", expect=OK)
        request = result.stdout.strip()
        self.assertRegex(request, r"^[0-9a-f]{32}$")
        for expert in (alice, bob):
            expert.wait_for(lambda e=expert: self.run_json(e, "offers"), 15,
                            "the offer at %s" % expert.name, poll_ms=200)
        self.run_cli(alice, "accept", request, expect=OK)
        result = self.run_cli(bob, "accept", request, expect=TAKEN)
        self.assertErrorLine(result)

    def test_argument_errors(self):
        carol, _ = self.billing_world(AGENT_CAROL)
        result = self.run_cli(carol, "ask", "nope", "Anyone?", expect=NOT_FOUND)
        self.assertErrorLine(result, "nope")
        result = self.run_cli(carol, "ask", "tech", "Anyone?", expect=DENIED)
        self.assertErrorLine(result)
        result = self.run_cli(carol, "ask", "billing", "x" * 201, expect=INVALID)
        self.assertErrorLine(result, "summary")
        result = self.run_cli(carol, "ask", "billing", "Anyone?", "--mode", "shouting",
                              expect=INVALID)
        self.assertErrorLine(result, "mode")
        result = self.run_json(carol, "ask", "billing", "Anyone?", "--channel", "phone")
        self.assertRegex(result["request"], r"^[0-9a-f]{32}$")
        self.assertEqual(result["path"], "/org/example/ExpertAssist/request/" + result["request"])


# ---------------------------------------------------------------------------
# The record: search, stats, report (need the store; the full figures also
# need routing)

def html_figures(html):
    return {m.group(1): m.group(2) for m in
            re.finditer(r'<dd data-key="([^"]+)" data-value="([^"]*)">', html)}


def figure(html, name):
    """The part of the report inside <figure class="NAME">."""
    match = re.search(r'<figure class="%s">(.*?)</figure>' % name, html, re.S)
    assert match, "no figure %s" % name
    return match.group(1)


class Record(CliTest):
    def check_report(self, desktop, stats, args):
        """report --format html|csv with ARGS against the GetStatistics
        result STATS (same filter)."""
        html_path = os.path.join(self.tmpdir, "report.html")
        csv_path = os.path.join(self.tmpdir, "report.csv")
        self.run_cli(desktop, "report", "--format", "html", "--output", html_path, *args,
                     expect=OK)
        self.run_cli(desktop, "report", "--output", csv_path, *args, expect=OK)
        with open(html_path, encoding="utf-8") as f:
            html = f.read()
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertNotIn("<script", html)
        self.assertEqual(html.count("<svg"), 2)
        self.assertEqual(figure(html, "hours").count('<rect class="bar"'), len(stats["hours"]))
        self.assertEqual(figure(html, "time-to-answer").count('<rect class="bar"'),
                         len(stats["time-to-answer-histogram"]))
        figures = html_figures(html)
        for key in HEADLINE_KEYS:
            if key in stats:
                self.assertAlmostEqual(float(figures[key]), stats[key], places=9, msg=key)
        answered = [float(v) for v in re.findall(r'<rect class="bar"[^>]*data-value="([^"]*)"',
                                                 figure(html, "hours"))]
        self.assertEqual(answered, [float(h["answered"]) for h in stats["hours"]])

        with open(csv_path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        sections = [r["section"] for r in rows]
        self.assertEqual(sections.count("total"), 1)
        self.assertEqual(sections.count("hour"), len(stats["hours"]))
        self.assertEqual(sections.count("time-to-answer"), len(stats["time-to-answer-histogram"]))
        self.assertEqual(sections.count("group"), len(stats.get("groups", [])))
        self.assertEqual(sections.count("expert"), len(stats.get("experts", [])))
        total = rows[sections.index("total")]
        for key in HEADLINE_KEYS:
            if key in stats:
                self.assertAlmostEqual(float(total[key]), stats[key], places=9, msg=key)
        return html, rows

    def test_empty_record(self):
        carol, _ = self.billing_world()
        self.assertEqual(self.run_json(carol, "search", "refund"), [])
        result = self.run_cli(carol, "search", "refund", expect=OK)
        self.assertEqual(result.stderr, "Nothing found.\n")
        stats = self.run_json(carol, "stats", "--since", "24h")
        self.assertEqual(stats["requests"], 0)
        self.assertEqual(stats["service-level"], 0.0)
        self.assertEqual(stats["service-level-target"], 20)
        result = self.run_cli(carol, "stats", "--since", "24h", expect=OK)
        self.assertRegex(result.stdout, r"(?m)^Requests\s+0 ")
        self.check_report(carol, stats, ["--since", "24h"])
        result = self.run_cli(carol, "search", "\"unbalanced", expect=INVALID)
        self.assertErrorLine(result)

    def test_search_stats_report_after_a_session(self):
        carol, experts = self.billing_world()
        session, _ = Routing.ask_and_accept(self, carol, experts["alice"])
        self.run_cli(carol, "chat", session, input="the refund went through twice\n",
                     expect=OK)
        self.run_cli(carol, "chat", session, input="/close\n", expect=OK)

        hits = carol.wait_for(lambda: self.run_json(carol, "search", "refund"), 10,
                              "a search hit", poll_ms=200)
        self.assertTrue(any(h["session"] == session for h in hits), hits)
        self.assertTrue(all("<b>" in h["snippet"] for h in hits if h["session"]), hits)
        result = self.run_cli(carol, "search", "refund", "--limit", "1", "--group", "billing",
                              expect=OK)
        self.assertEqual(len(result.stdout.splitlines()), 1)
        self.assertIn("session " + session, result.stdout)
        self.assertNotIn("<b>", result.stdout)

        transcript = self.run_json(carol, "transcript", session)
        self.assertEqual(transcript["info"]["group"], "billing")
        self.assertIn("the refund went through twice",
                      [m["text"] for m in transcript["messages"]])

        filter_ = {"since": GLib.Variant("x", int((time.time() - 86400) * 1e6))}
        stats = self.run_json(carol, "stats", "--since", "24h")
        self.assertEqual(stats["requests"], 1)
        self.assertEqual(stats["answered"], 1)
        direct = carol.call("GetStatistics", GLib.Variant("(a{sv})", (filter_,)))
        for key in ("requests", "answered", "offers", "offers-accepted"):
            self.assertEqual(stats[key], direct[key], key)
        self.assertEqual([g["id"] for g in stats["groups"]], ["billing"])
        result = self.run_cli(carol, "stats", "--since", "24h", expect=OK)
        self.assertRegex(result.stdout, r"(?m)^Requests\s+1 \(answered 1")
        self.assertRegex(result.stdout, r"(?m)^  billing\s+1\s+1\s")
        html, rows = self.check_report(carol, stats, ["--since", "24h"])
        self.assertIn("<td>billing</td>", html)
        self.assertEqual([r["id"] for r in rows if r["section"] == "group"], ["billing"])

        # The expert's own numbers.
        mine = self.run_json(experts["alice"], "stats", "--role", "expert")
        self.assertEqual(mine["offers-accepted"], 1)


if __name__ == "__main__":
    unittest.main()
