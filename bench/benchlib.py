# SPDX-License-Identifier: GPL-3.0-or-later
#
# What bench/bench.py and bench/race.py share: the integration harness
# (tests/integration/harness.py: a real Prosody, private buses, the built
# daemons), the raw XMPP clients of bench-xmpp, and statistics.

import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))

import harness  # noqa: E402
from harness import (BUS_NAME, OFFER_IFACE, REQUEST_IFACE, ROOT_IFACE,  # noqa: E402,F401
                     SESSION_IFACE, Desktop, Process, Prosody, wait_for)
from routing import DOMAIN, jid, vardict  # noqa: E402,F401

from gi.repository import Gio, GLib  # noqa: E402

def password(user):
    return "%s-secret" % user


def now():
    """CLOCK_MONOTONIC in seconds, the clock bench-xmpp stamps with."""
    return time.monotonic_ns() / 1e9


def median(values):
    return statistics.median(values) if values else float("nan")


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def new_id():
    return "%032x" % random.getrandbits(128)


class Report:
    """Figures as `name: value unit`, printed as they come, and a summary
    of the goals at the end."""

    def __init__(self, out=sys.stdout):
        self.out = out
        self.figures = []
        self.goals = []

    def figure(self, name, value, unit="", fmt="%.2f"):
        text = fmt % value if isinstance(value, float) else str(value)
        self.figures.append((name, value, unit))
        self.out.write("%s: %s%s\n" % (name, text, " " + unit if unit else ""))
        self.out.flush()

    def goal(self, name, value, op, target, note=""):
        ok = {"<=": value <= target, "<": value < target, "==": value == target}[op]
        self.goals.append((name, value, op, target, ok, note))
        return ok

    def note(self, text):
        self.out.write("# %s\n" % text)
        self.out.flush()

    def summary(self):
        met = [g for g in self.goals if g[4]]
        missed = [g for g in self.goals if not g[4]]
        self.out.write("summary: %d figures, %d goals met, %d missed\n"
                       % (len(self.figures), len(met), len(missed)))
        for name, value, op, target, ok, note in self.goals:
            self.out.write("  %-28s %-7s %s %s %s%s\n"
                           % (name, "met" if ok else "MISSED",
                              ("%.3g" % value) if isinstance(value, float) else value,
                              op, target, ("  (" + note + ")") if note else ""))
        self.out.flush()
        return not missed


def build_root():
    return os.environ.get("EA_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build-bench")


class RawClients:
    """bench-xmpp: many raw libstrophe connections in one process."""

    def __init__(self, tmpdir, prosody, name="raw"):
        self.prosody = prosody
        self.events = []
        self.xml = {}
        self._buffer = b""
        env = dict(os.environ, BENCH_SERVER=prosody.address)
        binary = os.path.join(build_root(), "bench", "bench-xmpp")
        self.process = Process([binary], os.path.join(tmpdir, "bench-xmpp-%s.log" % name),
                               env=env, stdin_pipe=True, stdout_pipe=True, name="bench-xmpp")
        self._stdin = self.process.proc.get_stdin_pipe()
        fd = self.process.proc.get_stdout_pipe().get_fd()
        os.set_blocking(fd, False)
        self._watch = GLib.io_add_watch(fd, GLib.PRIORITY_DEFAULT,
                                        GLib.IOCondition.IN | GLib.IOCondition.HUP,
                                        self._on_output)
        self.by_kind = {}

    def _on_output(self, fd, condition):
        while True:
            try:
                data = os.read(fd, 1 << 20)
            except BlockingIOError:
                return GLib.SOURCE_CONTINUE
            if not data:
                return GLib.SOURCE_REMOVE
            self._buffer += data
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                self._line(line.decode("utf-8", "replace"))

    def _line(self, line):
        parts = line.split(" ", 6)
        if not parts:
            return
        kind = parts[0]
        if kind == "xml":
            self.xml.setdefault(parts[1], []).append(line.split(" ", 2)[2])
            return
        ev = {"event": kind, "args": parts[1:]}
        if kind == "recv":
            # recv NAME T KIND ID FROM
            ev.update(name=parts[1], t=int(parts[2]) / 1e9, kind=parts[3], id=parts[4],
                      frm=parts[5])
            self.by_kind.setdefault((parts[3], parts[4]), []).append(ev)
        elif kind in ("sent", "mark"):
            ev.update(tag=parts[1], t=int(parts[2]) / 1e9)
        elif kind == "pong":
            ev.update(tag=parts[1], rtt=int(parts[2]) / 1e9)
        elif kind == "ready":
            ev.update(name=parts[1], t=int(parts[2]) / 1e9)
        elif kind == "stormed":
            ev.update(tag=parts[1], first=int(parts[2]) / 1e9, last=int(parts[3]) / 1e9,
                      count=int(parts[4]))
        self.events.append(ev)

    def command(self, line):
        self._stdin.write_all((line + "\n").encode("utf-8"), None)
        self._stdin.flush(None)

    def wait(self, predicate, timeout=30, what="bench-xmpp"):
        def found():
            if not self.process.running:
                raise AssertionError("bench-xmpp exited: %s" % self.process.log_text())
            for ev in self.events:
                if predicate(ev):
                    return ev
            return None
        return wait_for(found, timeout, what, poll_ms=5)

    def login(self, names, tls=True, presence=True, priority=0, sm=True, timeout=60):
        """names: {connection name: user}; waits until all are ready."""
        for name, user in names.items():
            self.command("login %s %s/bench %s %s %d %d %d"
                         % (name, jid(user), password(user), "trust" if tls else "none",
                            1 if presence else 0, priority, 1 if sm else 0))
        want = set(names)

        def all_ready():
            for ev in self.events:
                if ev["event"] == "failed" and ev["args"][0] in want:
                    raise AssertionError("login failed: %r" % ev)
            ready = {ev["name"] for ev in self.events if ev["event"] == "ready"}
            return want <= ready
        wait_for(all_ready, timeout, "%d raw logins" % len(want), poll_ms=20)

    def recv(self, kind, id_):
        return self.by_kind.get((kind, id_), [])

    def sent(self, tag, timeout=10):
        return self.wait(lambda e: e["event"] == "sent" and e["tag"] == tag, timeout)["t"]

    def quit(self):
        if self.process.running:
            self.command("quit")
            try:
                self.process.wait_exit(10)
            except AssertionError:
                self.process.kill()


class BenchProsody(Prosody):
    """The test server of the integration suite, with a roster writer for
    contacts (the presence storm) and fewer SCRAM iterations (a thousand
    logins)."""

    ITERATION_COUNT = 4096

    def _write_config(self):
        # As a production server runs: no debug log (the test server's
        # debug log is a dozen writes per stanza, most of Prosody's cost).
        # BENCH_PROSODY_DEBUG=1 keeps it, to compare.
        super()._write_config()
        if os.environ.get("BENCH_PROSODY_DEBUG") == "1":
            return
        with open(self.config_path, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("log = { debug = ", "log = { info = ", 1)
        harness.write_file(self.config_path, text)

    def write_roster(self, user, items):
        """items: {bare jid: (name, [groups])}, all subscription both."""
        node = harness._prosody_path_encode(user.split("@")[0])
        host = harness._prosody_path_encode(self.domain)
        roster_dir = os.path.join(self.data_path, host, "roster")
        os.makedirs(roster_dir, exist_ok=True)
        lines = ["return {", '\t[false] = { ["version"] = 1; ["pending"] = {}; };']
        for address, (name, groups) in items.items():
            g = "".join("[%s] = true; " % harness._lua_string(x) for x in groups)
            lines.append('\t[%s] = { ["subscription"] = "both"; ["name"] = %s; '
                         '["groups"] = { %s}; };'
                         % (harness._lua_string(address), harness._lua_string(name), g))
        lines.append("};")
        harness.write_file(os.path.join(roster_dir, node + ".dat"), "\n".join(lines) + "\n")


def daemon_env():
    build = build_root()
    os.environ.setdefault("EA_BUILD_ROOT", build)
    os.environ.setdefault("EA_DAEMON", os.path.join(build, "daemon", "expert-assistd"))
    os.environ.setdefault("GSETTINGS_SCHEMA_DIR", os.path.join(build, "data"))


class Timed:
    """Asynchronous D-Bus calls stamped when their reply arrives."""

    def __init__(self, desktop):
        self.desktop = desktop

    def call(self, method, args, iface=ROOT_IFACE, path=harness.ROOT_PATH, timeout_ms=25000):
        box = {}

        def done(conn, res):
            box["t"] = now()
            try:
                box["reply"] = conn.call_finish(res).unpack()
            except GLib.Error as e:
                box["error"] = Gio.DBusError.get_remote_error(e) or str(e)
        if args is not None and not args.get_type_string().startswith("("):
            args = GLib.Variant.new_tuple(args)
        box["t0"] = now()
        self.desktop.bus.connection.call(BUS_NAME, path, iface, method, args, None,
                                         Gio.DBusCallFlags.NO_AUTO_START, timeout_ms, None, done)
        return box
