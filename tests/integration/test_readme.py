#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The README's examples, run exactly as written: every line of a fenced
# code block that starts with "busctl --user", "expert-assist" or a path
# ending in "/expert-assist" (such as build/tools/cli/expert-assist) runs
# with bash against a running world (Prosody; carol, the agent, and alice,
# an expert, each with a daemon; the directory is
# data/directory.conf.example) as carol, and must exit 0.
#
# Fences with the info string "", "sh", "shell", "bash" or "console" are
# run; others (e.g. ```text) are documentation only: use them for examples
# that need something the world does not have, such as a live offer or a
# keyring. A line ending in "\" continues on the next; "$ " prompts are
# dropped. Commands run in a scratch directory, in document order.

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import IntegrationTest

README = os.path.join(harness.SOURCE_ROOT, "README.md")
EXAMPLE_DIRECTORY = os.path.join(harness.SOURCE_ROOT, "data", "directory.conf.example")
RUN_FENCES = {"", "sh", "shell", "bash", "console"}
COMMAND = re.compile(r"^(busctl --user\b|expert-assist\b|\S*/expert-assist\b)")
CLI_PATH = re.compile(r"^\S*/expert-assist\b")


def cli_binary():
    build_root = os.environ.get("EA_BUILD_ROOT") or os.path.join(harness.SOURCE_ROOT, "build")
    return os.environ.get("EA_CLI") or os.path.join(build_root, "tools", "cli", "expert-assist")


def extract_commands(text):
    """[(line number, command)] from the fenced code blocks of markdown TEXT."""
    commands = []
    fence = None        # the opening fence while inside a block
    run = False
    pending = None      # (line number, text so far) of a continued line
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if fence is None:
            match = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", stripped)
            if match:
                fence = match.group(1)
                run = match.group(2).lower() in RUN_FENCES
            continue
        if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
            fence = None
            pending = None
            continue
        if not run:
            continue
        line = stripped
        if pending is None and line.startswith("$ "):
            line = line[2:]
        if pending is not None:
            start, so_far = pending
            line = so_far + " " + line
        else:
            start = number
        if line.endswith("\\"):
            pending = (start, line[:-1].rstrip())
            continue
        pending = None
        if COMMAND.match(line):
            commands.append((start, line))
    return commands


class Extraction(unittest.TestCase):
    def test_extraction_rules(self):
        text = "\n".join([
            "Intro `expert-assist inline` is not a block.",
            "    expert-assist indented-is-not-fenced",
            "```sh",
            "expert-assist groups",
            "$ expert-assist status",
            "busctl --user call org.example.ExpertAssist /org/example/ExpertAssist \\",
            "    org.example.ExpertAssist ListGroups",
            "echo not a command of ours",
            "build/tools/cli/expert-assist --version",
            "busctl call --system not-ours",
            "```",
            "```text",
            "expert-assist accept 7f3a",
            "```",
            "~~~",
            "expert-assist offers --json",
            "~~~",
        ])
        self.assertEqual(extract_commands(text), [
            (4, "expert-assist groups"),
            (5, "expert-assist status"),
            (6, "busctl --user call org.example.ExpertAssist /org/example/ExpertAssist "
                "org.example.ExpertAssist ListGroups"),
            (9, "build/tools/cli/expert-assist --version"),
            (16, "expert-assist offers --json"),
        ])

    def test_readme_has_examples(self):
        with open(README, encoding="utf-8") as f:
            commands = extract_commands(f.read())
        self.assertTrue(any(c.startswith("busctl --user") for _n, c in commands), commands)
        self.assertTrue(any(not c.startswith("busctl") for _n, c in commands), commands)


class Examples(IntegrationTest):
    def test_readme_examples_run(self):
        cli = cli_binary()
        self.assertTrue(os.access(cli, os.X_OK), "expert-assist is missing at %s" % cli)
        self.assertIsNotNone(shutil.which("busctl"), "busctl is missing (package systemd)")
        with open(README, encoding="utf-8") as f:
            commands = extract_commands(f.read())
        self.assertTrue(commands, "no examples in README.md")
        with open(EXAMPLE_DIRECTORY, encoding="utf-8") as f:
            directory = f.read()

        self.start_world(users=["alice", "bob", "carol", "dave"], directory=directory)
        self.start_desktop("alice")
        carol = self.start_desktop("carol")
        carol.wait_for(lambda: carol.groups().get("billing", (0, 0, 0))[2] >= 1, 15,
                       "alice interruptible in billing at carol", poll_ms=100)

        env = carol.environment()
        env.pop("G_MESSAGES_DEBUG", None)
        bindir = os.path.join(self.tmpdir, "bin")
        os.makedirs(bindir)
        os.symlink(cli, os.path.join(bindir, "expert-assist"))
        env["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")
        workdir = tempfile.mkdtemp(prefix="readme-", dir=self.tmpdir)

        failures = []
        for number, command in commands:
            # The README may name the built binary by its path in the tree.
            command = CLI_PATH.sub(lambda m: cli, command, count=1)
            result = subprocess.run(["bash", "-c", command], env=env, cwd=workdir,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=60)
            if result.returncode != 0:
                failures.append("README.md:%d: exit %d: %s\n  stdout: %s\n  stderr: %s"
                                % (number, result.returncode, command, result.stdout.strip(),
                                   result.stderr.strip()))
        self.assertFalse(failures, "\n".join(failures))


if __name__ == "__main__":
    unittest.main()
