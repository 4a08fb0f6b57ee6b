#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tools/demo interrupted part-way: whatever the moment, nothing it started
# (Prosody, dbus-daemons, expert-assistd, plain clients) outlives it, and
# its working directory is gone.  The full walk-through is the meson test
# "demo-headless" (suite demo).
#
# The demo runs with TMPDIR set to a directory of the test's own: every
# process it starts inherits that, so a leftover is any process whose
# environment names it.

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

DEMO = os.path.join(harness.SOURCE_ROOT, "tools", "demo")


def build_root():
    return os.environ.get("EA_BUILD_ROOT") or os.path.join(harness.SOURCE_ROOT, "build")


def proc_stat(pid):
    """(ppid, state, start time) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], fields[19]


def descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def processes_with_env(entry):
    """Live processes (not zombies) whose environment holds entry (bytes)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        stat = proc_stat(int(name))
        if entry in env and stat is not None and stat[1] != "Z":
            found.append("%s %s" % (name, command_line(int(name))))
    return found


class Interrupted(unittest.TestCase):
    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix="ea-it-demo-")
        self.addCleanup(shutil.rmtree, self.tmpdir, True)
        self.marker = ("TMPDIR=" + self.tmpdir).encode()
        self.proc = None
        self.output = []
        self.addCleanup(self._kill_leftovers)

    def _kill_leftovers(self):
        # Only when the test already failed: the demo's own processes.
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for line in processes_with_env(self.marker):
            try:
                os.kill(int(line.split()[0]), signal.SIGKILL)
            except OSError:
                pass

    def start_demo(self):
        self.assertTrue(os.access(os.path.join(build_root(), "daemon", "expert-assistd"),
                                  os.X_OK), "build first")
        env = dict(os.environ, TMPDIR=self.tmpdir)
        env.pop("DISPLAY", None)
        # A session of its own, like a job in a terminal: Ctrl+C there
        # signals the whole process group.
        self.proc = subprocess.Popen([DEMO, "--headless", "--builddir", build_root()],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)

    def wait_line(self, prefix, timeout=60):
        """Read the demo's output until a line starts with prefix."""
        deadline = time.monotonic() + timeout
        buffer = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace")
                self.output.append(text)
                if text.startswith(prefix):
                    return
        self.fail("the demo never printed %r; its output:\n%s"
                  % (prefix, "\n".join(self.output + [buffer.decode("utf-8", "replace")])))

    def interrupt_and_check(self, signum, whole_group):
        children = [(pid, proc_stat(pid), command_line(pid))
                    for pid in descendants(self.proc.pid)]
        self.assertTrue(children, "the demo had started nothing yet")
        if whole_group:
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)
        try:
            rest, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("the demo did not exit within 30 s of %s" % signal.Signals(signum).name)
        text = "\n".join(self.output) + "\n" + rest.decode("utf-8", "replace")
        self.assertEqual(self.proc.returncode, 128 + signum, text)
        self.assertIn("Stopped.", text)
        # Children are reaped by the demo or by init: give init a moment.
        left = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            left = processes_with_env(self.marker)
            left += ["%d %s" % (pid, command) for pid, stat, command in children
                     if (now := proc_stat(pid)) is not None and now[1] != "Z"
                     and now[2] == stat[2]]
            if not left:
                break
            time.sleep(0.1)
        self.assertEqual(left, [], "left behind by the demo:\n%s\noutput:\n%s"
                         % ("\n".join(left), text))
        self.assertEqual([n for n in os.listdir(self.tmpdir) if n.startswith("ea-demo-")], [],
                         "the demo's working directory is still there")
        return " ".join(command for _pid, _stat, command in children)

    def test_ctrl_c_mid_walk_through(self):
        self.start_demo()
        # Step 5 is a serial request with an offer open: everything runs.
        self.wait_line(" 5.")
        self.interrupt_and_check(signal.SIGINT, whole_group=True)

    def test_sigterm_to_the_demo_alone_while_starting(self):
        self.start_demo()
        # Daemons are being started: only the demo itself is told.
        self.wait_line(" 1.")
        time.sleep(0.3)
        self.interrupt_and_check(signal.SIGTERM, whole_group=False)

    def test_sigterm_to_the_demo_alone_with_the_world_running(self):
        self.start_demo()
        self.wait_line(" 3.")
        kinds = self.interrupt_and_check(signal.SIGTERM, whole_group=False)
        for kind in ("prosody", "dbus-daemon", "expert-assistd", "xmppclient"):
            self.assertIn(kind, kinds)


if __name__ == "__main__":
    unittest.main()
