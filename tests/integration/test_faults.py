#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Faults (DESIGN.md sections 5 and 9): the server killed and restarted
# mid-offer, an expert's daemon killed while it holds an offer, the network
# cut with both sockets left open (found by XEP-0199 pings), the disk full
# while the log is written. Nothing may be lost, nothing assigned twice,
# and every daemon must come back by itself. (The agent's daemon killed
# mid-offer is test_offers.Restart.test_agent_killed_mid_offer.)

import asyncio
import os
import sqlite3
import subprocess
import threading
import time

from gi.repository import GLib

from harness import SESSION_IFACE, assert_stays, iterate_for, pick_free_port
from routing import RoutingTest, jid

E = "org.example.ExpertAssist.Error."

# Silence before the daemon pings, and how long it waits for the answer
# (DESIGN.md section 5: 60 s and 30 s). A daemon that reads these from its
# environment finds a dead link within seconds; one that does not still
# must within 90 s, which the waits below allow.
PING_ENV = {"EA_PING_IDLE_S": "2", "EA_PING_ANSWER_S": "2"}
DESIGN_BOUND_S = 90


class FreezableProxy:
    """A TCP proxy in front of the server that can stop forwarding while
    keeping every socket open: a network that drops everything silently,
    so neither end sees a FIN or an RST (a half-open connection)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.port = pick_free_port()
        self.loop = asyncio.new_event_loop()
        self.flowing = None
        self.ready = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise AssertionError("the proxy did not start")

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer):
        try:
            while True:
                await self.flowing.wait()
                data = await reader.read(65536)
                if not data:
                    break
                # Frozen meanwhile: hold what was read until the thaw.
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader, writer):
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def freeze(self):
        self.loop.call_soon_threadsafe(self.flowing.clear)

    def thaw(self):
        self.loop.call_soon_threadsafe(self.flowing.set)

    def close(self):
        def stop():
            self.server.close()
            self.loop.stop()
        self.loop.call_soon_threadsafe(stop)
        self.thread.join(5)


class FaultTest(RoutingTest):
    def connected_pair(self, carol_kwargs=None, alice_kwargs=None, profiles=None):
        """carol (agent) and alice (expert), started with the given Desktop
        arguments, in a session of a request carol made."""
        self.start_world(users=["carol", "alice"],
                         directory="[Group billing]\nExperts=%s;\n%s" % (
                             jid("alice"), profiles or ""))
        carol = self.start_desktop("carol", **(carol_kwargs or {}))
        alice = self.start_desktop("alice", **(alice_kwargs or {}))
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        session = self.accept(alice, self.wait_offer(alice, path, ma))
        self.wait_request(carol, path, "connected")
        return carol, alice, path, session

    def received(self, desktop, session, text, since=0):
        return [s for s in desktop.find_signals("MessageReceived", lambda a: a[3] == text,
                                                since=since, iface=SESSION_IFACE, path=session)]

    def stored_texts(self, desktop, session):
        return [m[3] for m in self.messages(desktop, session)]


class ServerKilled(FaultTest):
    def test_server_killed_mid_offer_and_restarted(self):
        d = self.world(["carol"], ["alice", "bob"], {"billing": {"experts": ["alice", "bob"]}})
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        self.wait_interruptible(carol, "billing", 2)
        ma, mb = alice.mark(), bob.mark()
        path = self.ask(carol, "billing")
        oa, ob = self.wait_offer(alice, path, ma), self.wait_offer(bob, path, mb)

        self.prosody.kill()
        for desktop in (carol, alice, bob):
            desktop.wait_property("ConnectionState", lambda s: s != "connected", timeout=30)
        # While the server is gone, calls still answer at once.
        self.assertEqual(self.accept_error(alice, oa), E + "NotConnected")
        self.assertEqual(self.ask_error(carol, "billing"), E + "NotConnected")
        self.assertEqual(self.request(carol, path, "State"), "offering")
        self.assertEqual(self.offer(alice, oa, "State"), "pending")

        ma, mb = alice.mark(), bob.mark()
        self.prosody.restart()
        for desktop in (carol, alice, bob):
            desktop.wait_connected(timeout=45)
        # The open offer is sent again (same request): the same objects,
        # pending again, nothing new for the experts to sort out.
        self.wait_offer(alice, path, ma, timeout=30)
        self.wait_offer(bob, path, mb, timeout=30)
        self.assertEqual(self.offer(alice, oa, "State"), "pending")
        self.assertEqual(self.request(carol, path, "State"), "offering")
        self.assertEqual(len([p for p in alice.managed_objects() if "/offer/" in p]), 1)

        session = self.accept(bob, ob)
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("bob")])
        self.wait_offer_state(alice, oa, "withdrawn")
        self.assertEqual(self.offer(alice, oa, "Reason"), "taken")
        mc = carol.mark()
        self.send(bob, session, "after the restart")
        self.wait_message(carol, self.request(carol, path, "Session"), "after the restart", mc)

    def test_server_killed_mid_chat_loses_no_message(self):
        carol, alice, path, session = self.connected_pair()
        carol_session = self.request(carol, path, "Session")
        self.prosody.kill()
        alice.wait_property("ConnectionState", lambda s: s != "connected", timeout=30)
        # Sending needs the server: refused at once, not swallowed.
        self.assertEqual(alice.call_error("Send", GLib.Variant("(s)", ("lost?",)),
                                          iface=SESSION_IFACE, path=session),
                         E + "NotConnected")
        self.prosody.restart()
        carol.wait_connected(45)
        alice.wait_connected(45)
        mc, ma = carol.mark(), alice.mark()
        self.send(alice, session, "one")
        self.send(carol, carol_session, "two")
        self.wait_message(carol, carol_session, "one", mc)
        self.wait_message(alice, session, "two", ma)


class ExpertKilled(FaultTest):
    def test_expert_killed_holding_an_offer_gets_it_back(self):
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"],
                                                          "OfferTimeout": "60"}})
        carol, alice = d["carol"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        offer = self.wait_offer(alice, path, ma)
        alice.kill()
        alice.start()
        alice.wait_connected()
        # Restored from the log, still pending, and it still works.
        self.assertEqual(self.offer(alice, offer, "State"), "pending")
        self.accept(alice, offer)
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("alice")])

    def test_expert_killed_for_good_the_request_moves_on(self):
        d = self.world(["carol"], ["alice", "bob"],
                       {"billing": {"experts": ["alice", "bob"], "Strategy": "serial",
                                    "OfferTimeout": "3"}},
                       expert_profiles={"alice": {"Priority": "1"}, "bob": {"Priority": "2"}})
        carol, alice, bob = d["carol"], d["alice"], d["bob"]
        self.wait_interruptible(carol, "billing", 2)
        ma, mb = alice.mark(), bob.mark()
        path = self.ask(carol, "billing")
        self.wait_offer(alice, path, ma)
        alice.kill()
        # alice's offer runs out; bob is next; nothing waits for alice.
        ob = self.wait_offer(bob, path, mb, timeout=20)
        self.accept(bob, ob)
        self.wait_request(carol, path, "connected")
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("bob")])
        self.assertIn(jid("alice"), self.request(carol, path, "Expired"))

    def test_expert_killed_mid_accept(self):
        """The expert's daemon dies right after sending its accept: the agent
        has a winner, and the expert's restarted daemon learns it."""
        d = self.world(["carol"], ["alice"], {"billing": {"experts": ["alice"],
                                                          "OfferTimeout": "60"}})
        carol, alice = d["carol"], d["alice"]
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        offer = self.wait_offer(alice, path, ma)
        box = {}
        alice.bus.connection.call(
            "org.example.ExpertAssist", offer, "org.example.ExpertAssist.Offer", "Accept", None,
            None, 0, 20000, None, lambda c, r: box.setdefault("done", True))
        carol.wait_for(lambda: self.request(carol, path, "State") == "connected", 15,
                       "carol's request connected", poll_ms=5)
        alice.kill()
        alice.start()
        alice.wait_connected()
        carol_session = self.request(carol, path, "Session")
        alice_session = "/org/example/ExpertAssist/session/" + carol_session.rsplit("/", 1)[1]

        # No ghost: either alice's daemon has the session (restored, or
        # learnt from the assignment sent again), or it refused the late
        # assignment and carol's session ended.
        def settled():
            if alice_session in alice.managed_objects():
                return "alice has it"
            if self.session(carol, carol_session, "State") == "closed":
                return "carol's closed"
            return None
        outcome = alice.wait_for(settled, 30, "alice to have the session or carol's to close",
                                 poll_ms=200)
        if outcome == "alice has it":
            self.assertEqual(self.session(alice, alice_session, "State"), "open")
            mc, ma = carol.mark(), alice.mark()
            self.send(alice, alice_session, "back again")
            self.wait_message(carol, carol_session, "back again", mc)
            self.send(carol, carol_session, "welcome back")
            self.wait_message(alice, alice_session, "welcome back", ma)
        self.assertEqual(self.request(carol, path, "Accepted"), [jid("alice")])


class AgentKilled(FaultTest):
    """(Killed mid-offer: test_offers.Restart.test_agent_killed_mid_offer.)"""

    def test_agent_killed_with_a_queued_request_and_an_open_session(self):
        carol, alice, path, session = self.connected_pair()
        carol_session = self.request(carol, path, "Session")
        # alice is busy (one session at most): the next request waits.
        queued = self.ask(carol, "billing", "Second customer")
        self.wait_request(carol, queued, "queued")
        carol.kill()
        carol.start()
        carol.wait_connected()
        # The queued request is not silently gone: failed, reason restarted.
        self.assertEqual(self.request(carol, queued, "State"), "failed")
        self.assertEqual(self.request(carol, queued, "Reason"), "restarted")
        # The session is back, open, and the chat goes on both ways.
        self.assertEqual(self.session(carol, carol_session, "State"), "open")
        mc, ma = carol.mark(), alice.mark()
        self.send(alice, session, "still there?")
        self.wait_message(carol, carol_session, "still there?", mc)
        self.send(carol, carol_session, "yes")
        self.wait_message(alice, session, "yes", ma)


class NetworkCut(FaultTest):
    def test_half_open_link_found_by_ping_and_nothing_lost(self):
        self.start_world(users=["carol", "alice"],
                         directory="[Group billing]\nExperts=%s;\n" % jid("alice"))
        proxy = FreezableProxy(self.prosody.port)
        self.addCleanup(proxy.close)
        carol = self.start_desktop("carol")
        alice = self.start_desktop("alice", server=proxy.address, env=PING_ENV)
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        session = self.accept(alice, self.wait_offer(alice, path, ma))
        self.wait_request(carol, path, "connected")
        carol_session = self.request(carol, path, "Session")

        proxy.freeze()
        t0 = time.monotonic()
        mc, ma = carol.mark(), alice.mark()
        # Both sides keep talking into the cut: alice's daemon does not know yet.
        self.send(carol, carol_session, "carol during the cut")
        self.send(alice, session, "alice during the cut")
        alice.wait_property("ConnectionState", lambda s: s != "connected",
                            timeout=DESIGN_BOUND_S + 10)
        found = time.monotonic() - t0
        self.assertLessEqual(found, DESIGN_BOUND_S + 5,
                             "the dead link was found after %.0f s" % found)
        alice.wait_log(r"did not answer a ping", timeout=5)

        proxy.thaw()
        alice.wait_connected(timeout=60)
        # Everything said during the cut arrives, exactly once.
        self.wait_message(carol, carol_session, "alice during the cut", mc, timeout=30)
        self.wait_message(alice, session, "carol during the cut", ma, timeout=30)
        iterate_for(2)
        self.assertEqual(len(self.received(carol, carol_session, "alice during the cut", mc)), 1)
        self.assertEqual(len(self.received(alice, session, "carol during the cut", ma)), 1)
        self.assertEqual(self.stored_texts(carol, carol_session).count("alice during the cut"), 1)
        self.assertEqual(self.stored_texts(alice, session).count("carol during the cut"), 1)
        # And the session goes on.
        mc = carol.mark()
        self.send(alice, session, "after the cut")
        self.wait_message(carol, carol_session, "after the cut", mc)


# Where mounting a tmpfs is not allowed (no CAP_SYS_ADMIN), a shim makes
# every write to files under EA_DISKFULL_DIR fail with ENOSPC while the
# file EA_DISKFULL_FLAG exists: what SQLite sees on a full disk.
DISKFULL_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int
full (int fd)
{
  const char *dir = getenv ("EA_DISKFULL_DIR");
  const char *flag = getenv ("EA_DISKFULL_FLAG");
  char link[64], path[4096];
  ssize_t n;

  if (dir == NULL || flag == NULL || access (flag, F_OK) != 0)
    return 0;
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, path, sizeof path - 1);
  if (n <= 0)
    return 0;
  path[n] = '\0';
  return strncmp (path, dir, strlen (dir)) == 0;
}

#define WRAP(ret, name, params, args)                                   \
  ret name params                                                       \
  {                                                                     \
    static ret (*real) params;                                          \
    if (real == NULL)                                                   \
      real = (ret (*) params) dlsym (RTLD_NEXT, #name);                 \
    if (full (fd))                                                      \
      {                                                                 \
        errno = ENOSPC;                                                 \
        return -1;                                                      \
      }                                                                 \
    return real args;                                                   \
  }

WRAP (ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
WRAP (ssize_t, pwrite, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o))
WRAP (ssize_t, pwrite64, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o))
WRAP (ssize_t, writev, (int fd, const struct iovec *v, int c), (fd, v, c))
WRAP (int, ftruncate, (int fd, off_t l), (fd, l))
WRAP (int, ftruncate64, (int fd, off_t l), (fd, l))
WRAP (int, fallocate, (int fd, int m, off_t o, off_t l), (fd, m, o, l))
WRAP (int, posix_fallocate, (int fd, off_t o, off_t l), (fd, o, l))
"""


class DiskFull(FaultTest):
    def small_filesystem(self, size_kb):
        """A tmpfs of its own for this test (root with CAP_SYS_ADMIN), or
        None where mounting is not allowed (or EA_TEST_NO_MOUNT=1)."""
        where = os.path.join(self.tmpdir, "small-fs")
        os.makedirs(where)
        if os.environ.get("EA_TEST_NO_MOUNT") == "1":
            return None
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % size_kb, "tmpfs",
                                 where], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        if result.returncode != 0:
            return None
        self.addCleanup(lambda: subprocess.run(["umount", "-l", where]))
        return where

    def fill(self, where):
        """Fill the file system to the last byte; returns the filler path."""
        filler = os.path.join(where, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for size in (1 << 16, 4096, 512, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        return filler

    def shim(self):
        """Builds the LD_PRELOAD shim (cc is there: the project was built)."""
        src = os.path.join(self.tmpdir, "diskfull.c")
        lib = os.path.join(self.tmpdir, "diskfull.so")
        with open(src, "w") as f:
            f.write(DISKFULL_SHIM)
        result = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", lib, src, "-ldl"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            self.fail("cannot mount a tmpfs nor build the disk-full shim:\n" + result.stdout)
        return lib

    def test_disk_full_while_logging(self):
        small = self.small_filesystem(4096)
        env = {}
        if small is None:
            small = os.path.join(self.tmpdir, "small-fs")
            flag = os.path.join(self.tmpdir, "disk-is-full")
            lib = self.shim()
            env = {"LD_PRELOAD": lib, "EA_DISKFULL_DIR": small, "EA_DISKFULL_FLAG": flag,
                   # The sanitizer runtime would insist on being loaded first.
                   "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        self.start_world(users=["carol", "alice"],
                         directory="[Group billing]\nExperts=%s;\n" % jid("alice"))
        carol = self.start_desktop("carol")
        alice = self.new_desktop("alice", env=env)
        alice.data_dir = os.path.join(small, "ea-data")
        alice.start()
        alice.wait_connected()
        self.wait_interruptible(carol, "billing", 1)
        ma = alice.mark()
        path = self.ask(carol, "billing")
        session = self.accept(alice, self.wait_offer(alice, path, ma))
        self.wait_request(carol, path, "connected")
        carol_session = self.request(carol, path, "Session")
        mc, ma = carol.mark(), alice.mark()
        self.send(alice, session, "before the disk filled")
        self.wait_message(carol, carol_session, "before the disk filled", mc)

        if env:
            with open(env["EA_DISKFULL_FLAG"], "w"):
                pass
            filler = env["EA_DISKFULL_FLAG"]
        else:
            filler = self.fill(small)
        # alice cannot log what she sends: Send says so and nothing leaves.
        err = alice.call_error("Send", GLib.Variant("(s)", ("x" * 60000,)),
                               iface=SESSION_IFACE, path=session)
        self.assertEqual(err, E + "Failed")
        self.assertIn("could not be saved", alice.last_error_message)
        alice.wait_log(r"Could not write to the log .*(full|disk)", timeout=10)
        # What carol sends cannot be logged at alice's either: no receipt,
        # so carol's daemon keeps it to send again.
        md = carol.mark()
        for i in range(5):
            self.send(carol, carol_session, "while full %d %s" % (i, "y" * 20000))
        assert_stays(lambda: not carol.find_signals("MessageDelivered", since=md), 2,
                     "no receipt for what alice could not log")
        self.assertTrue(alice.on_bus())
        self.assertEqual(alice.get_property("ConnectionState"), "connected")

        # Space again: alice logs and sends; carol's kept messages come when
        # her daemon next starts a session.
        os.unlink(filler)
        ma = alice.mark()
        self.send(alice, session, "space again")
        self.wait_message(carol, carol_session, "space again", mc)
        carol.set_status("offline")
        carol.wait_property("ConnectionState", "disconnected")
        carol.set_status("available")
        carol.wait_connected()
        for i in range(5):
            alice.wait_signal("MessageReceived", lambda a, i=i: a[3].startswith("while full %d " % i),
                              since=ma, iface=SESSION_IFACE, path=session, timeout=30)
        texts = self.stored_texts(alice, session)
        for i in range(5):
            self.assertEqual(len([t for t in texts if t.startswith("while full %d " % i)]), 1)

        # The file is whole: stop alice and check it.
        alice.stop()
        db = os.path.join(alice.data_dir, "expert-assist.db")
        conn = sqlite3.connect(db)
        self.assertEqual(conn.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        count = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        conn.close()
        self.assertGreaterEqual(count, 7)
