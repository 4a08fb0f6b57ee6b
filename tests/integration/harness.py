#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Integration-test harness: real components, no mocks.
#
#   Prosody      a real XMPP server on a free loopback port, throwaway config
#   Bus          a private dbus-daemon (one per simulated user)
#   Desktop      one simulated user: a bus, fresh HOME and XDG dirs, and the
#                built expert-assistd talking to Prosody
#   PlainClient  an ordinary XMPP client without a daemon (xmppclient.py,
#                slixmpp in a child process), driven with JSON lines
#   IntegrationTest  unittest base class that owns and cleans up all of them
#
# Every wait iterates the default GLib main context and is bounded; a wait
# that runs out raises AssertionError("timed out after Ns waiting for ...").

import atexit
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))

BUS_NAME = "org.example.ExpertAssist"
ROOT_PATH = "/org/example/ExpertAssist"
ROOT_IFACE = "org.example.ExpertAssist"
REQUEST_IFACE = "org.example.ExpertAssist.Request"
OFFER_IFACE = "org.example.ExpertAssist.Offer"
SESSION_IFACE = "org.example.ExpertAssist.Session"
ERROR_PREFIX = "org.example.ExpertAssist.Error."
DBUS_INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager"

DEFAULT_DOMAIN = "example.org"
PYTHON = "/usr/bin/python3"  # Debian's Python modules exist only for this one

# Every process the harness starts, so nothing outlives the test run even
# when a test is interrupted between setUp and its cleanups.
_live_processes = set()


def _kill_leftovers():
    for proc in list(_live_processes):
        proc.kill()


atexit.register(_kill_leftovers)


# ---------------------------------------------------------------------------
# Waiting

def _tick():
    return GLib.SOURCE_CONTINUE


def wait_for(predicate, timeout=10, what=None, poll_ms=20):
    """Iterate the default main context until predicate() is true.

    Returns the predicate's value.  A short periodic wake-up lets
    predicates that look outside GLib (a TCP port, a log file) be re-checked;
    everything else arrives through the main context itself.
    """
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    ticker = GLib.timeout_add(poll_ms, _tick)
    try:
        while True:
            while context.pending():
                context.iteration(False)
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                what = what or getattr(predicate, "__name__", "condition")
                raise AssertionError("timed out after %gs waiting for %s" % (timeout, what))
            context.iteration(True)
    finally:
        GLib.source_remove(ticker)


def assert_stays(predicate, seconds, what, poll_ms=50):
    """Iterate the main context for `seconds`; predicate() must hold all along.

    For assertions of the form "nothing more happens within N s".
    """
    context = GLib.MainContext.default()
    deadline = time.monotonic() + seconds
    ticker = GLib.timeout_add(poll_ms, _tick)
    try:
        while True:
            while context.pending():
                context.iteration(False)
            if not predicate():
                raise AssertionError("%s stopped holding after %.1fs of %gs"
                                     % (what, seconds - (deadline - time.monotonic()), seconds))
            if time.monotonic() >= deadline:
                return
            context.iteration(True)
    finally:
        GLib.source_remove(ticker)


def iterate_for(seconds):
    """Let the main context run for `seconds` (signals keep arriving)."""
    assert_stays(lambda: True, seconds, "nothing")


def pick_free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def write_file(path, text, mode=None, atomic=False):
    """Write text to path; atomic writes a sibling and renames it over."""
    target = path
    if atomic:
        target = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    with open(target, "w", encoding="utf-8") as f:
        f.write(text)
    if mode is not None:
        os.chmod(target, mode)
    if atomic:
        os.rename(target, path)


# ---------------------------------------------------------------------------
# Child processes

class Process:
    """A child process run with Gio.Subprocess; stdout and stderr to a log.

    Exit is learnt through GLib's child watch, so waiting for it iterates
    the main context like every other wait.
    """

    def __init__(self, argv, log_path, env=None, cwd=None, stdin_pipe=False,
                 stdout_pipe=False, name=None):
        self.argv = list(argv)
        self.name = name or os.path.basename(argv[0])
        self.log_path = log_path
        flags = Gio.SubprocessFlags.NONE
        if stdin_pipe:
            flags |= Gio.SubprocessFlags.STDIN_PIPE
        if stdout_pipe:
            flags |= Gio.SubprocessFlags.STDOUT_PIPE
        launcher = Gio.SubprocessLauncher.new(flags)
        if env is not None:
            launcher.set_environ(["%s=%s" % kv for kv in env.items()])
        if cwd is not None:
            launcher.set_cwd(cwd)
        if stdout_pipe:
            launcher.set_stderr_file_path(log_path)
        else:
            launcher.set_stdout_file_path(log_path)
            launcher.set_flags(flags | Gio.SubprocessFlags.STDERR_MERGE)
        self.proc = launcher.spawnv(self.argv)
        self.pid = int(self.proc.get_identifier())
        self.status = None  # exit status, or -signal like subprocess.Popen
        _live_processes.add(self)
        self.proc.wait_async(None, self._exited)

    def _exited(self, proc, result):
        try:
            proc.wait_finish(result)
        except GLib.Error:
            pass
        if proc.get_if_exited():
            self.status = proc.get_exit_status()
        elif proc.get_if_signaled():
            self.status = -proc.get_term_sig()
        else:
            self.status = -1
        _live_processes.discard(self)

    @property
    def running(self):
        return self.status is None

    def send_signal(self, signum):
        if self.running:
            self.proc.send_signal(signum)

    def wait_exit(self, timeout=10, what=None):
        wait_for(lambda: not self.running, timeout,
                 what or "%s (pid %d) to exit" % (self.name, self.pid))
        return self.status

    def terminate(self, timeout=10):
        """SIGTERM, then wait (bounded); returns the exit status."""
        self.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout, "%s (pid %d) to exit after SIGTERM" % (self.name, self.pid))

    def kill(self):
        """SIGKILL and reap, without iterating the main context."""
        if self.status is None:
            self.proc.force_exit()
            try:
                self.proc.wait(None)
            except GLib.Error:
                pass
            if self.proc.get_if_signaled():
                self.status = -self.proc.get_term_sig()
            elif self.proc.get_if_exited():
                self.status = self.proc.get_exit_status()
            else:
                self.status = -signal.SIGKILL
        _live_processes.discard(self)

    def log_text(self):
        return read_text(self.log_path)


def describe_status(status):
    if status is None:
        return "still running"
    if status < 0:
        try:
            return "killed by signal %s" % signal.Signals(-status).name
        except ValueError:
            return "killed by signal %d" % -status
    return "exit status %d" % status


# ---------------------------------------------------------------------------
# Prosody

def _prosody_path_encode(s):
    # util/datamanager.lua encode(): every byte outside [A-Za-z0-9] as %xx
    return "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else "%%%02x" % b
                   for b in s.encode("utf-8"))


def _lua_string(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Prosody:
    """A real Prosody on a free loopback port, in a throwaway directory."""

    ITERATION_COUNT = 10000  # Prosody's default_iteration_count

    def __init__(self, tmpdir, domain=DEFAULT_DOMAIN, port=None,
                 smacks_hibernation_time=None, extra_global_config="",
                 extra_host_config=""):
        self.domain = domain
        self.muc_domain = "conference." + domain
        self.dir = os.path.join(tmpdir, "prosody")
        self.data_path = os.path.join(self.dir, "data")
        os.makedirs(self.data_path, exist_ok=True)
        self._fixed_port = port is not None
        self.port = port or pick_free_port()
        self.config_path = os.path.join(self.dir, "prosody.cfg.lua")
        self.log_path = os.path.join(self.dir, "prosody.log")
        self.output_path = os.path.join(self.dir, "prosody.out")
        self.pid_path = os.path.join(self.dir, "prosody.pid")
        self.groups_path = os.path.join(self.dir, "groups.txt")
        self.cert_path = os.path.join(self.dir, domain + ".crt")
        self.key_path = os.path.join(self.dir, domain + ".key")
        self.smacks_hibernation_time = smacks_hibernation_time
        self.extra_global_config = extra_global_config
        self.extra_host_config = extra_host_config
        self.users = {}
        self.process = None
        self.starts = 0
        self._make_certificate()
        self.set_groups({})
        self._write_config()

    # configuration

    @property
    def address(self):
        """What --server takes: 127.0.0.1:PORT."""
        return "127.0.0.1:%d" % self.port

    def jid(self, user):
        return user if "@" in user else "%s@%s" % (user, self.domain)

    def _make_certificate(self):
        # An EC key is made in milliseconds; RSA would take a second.
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", self.key_path, "-out", self.cert_path, "-days", "7",
             "-subj", "/CN=%s" % self.domain,
             "-addext", "subjectAltName=DNS:%s,DNS:*.%s" % (self.domain, self.domain)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)

    def _write_config(self):
        hibernation = ""
        if self.smacks_hibernation_time is not None:
            hibernation = "smacks_hibernation_time = %d\n" % self.smacks_hibernation_time
        config = f"""-- Throwaway Prosody configuration for the Expert Assist integration tests
run_as_root = true
daemonize = false
pidfile = {_lua_string(self.pid_path)}
data_path = {_lua_string(self.data_path)}
log = {{ debug = {_lua_string(self.log_path)} }}
plugin_paths = {{ {_lua_string(os.path.join(HERE, "prosody"))} }}

interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {self.port} }}
c2s_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{ }}
component_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
legacy_ssl_ports = {{ }}
c2s_direct_tls_ports = {{ }}

-- Without this, Prosody delays a stanza behind the delayed ACK of the
-- client's previous one (about 40 ms per round trip).
network_settings = {{ nagle = false }}
gc = {{ mode = "generational" }}

-- The daemon is also tested with --tls=none on loopback; STARTTLS is
-- offered and used by default.
c2s_require_encryption = false
s2s_require_encryption = false
authentication = "internal_hashed"
storage = "internal"
default_iteration_count = {self.ITERATION_COUNT}

modules_enabled = {{
  "roster"; "saslauth"; "tls"; "disco"; "ping"; "presence"; "message";
  "iq"; "carbons"; "smacks"; "mam"; "groups"; "posix";
  "ea_test_log";
}}
modules_disabled = {{ "s2s"; "http"; "admin_telnet"; "admin_shell" }}

storage_archive_item_limit = 1000000
archive_expires_after = "never"
max_archive_query_results = 1000
groups_file = {_lua_string(self.groups_path)}
{hibernation}
certificates = {_lua_string(self.dir)}
ssl = {{
  key = {_lua_string(self.key_path)};
  certificate = {_lua_string(self.cert_path)};
}}
{self.extra_global_config}

VirtualHost {_lua_string(self.domain)}
{self.extra_host_config}

Component {_lua_string(self.muc_domain)} "muc"
  restrict_room_creation = false
"""
        write_file(self.config_path, config)

    # accounts and groups

    def add_user(self, name, password, method="file"):
        """Create an account; works before and after start().

        method "file" writes the internal_hashed account exactly as Prosody
        0.12 stores it (SCRAM-SHA-1 salt, iteration_count, stored_key,
        server_key); "prosodyctl" asks prosodyctl register.
        """
        user = name.split("@")[0]
        self.users[user] = password
        if method == "prosodyctl":
            subprocess.run(["prosodyctl", "--config", self.config_path, "register",
                            user, self.domain, password],
                           check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
            return
        salt = str(uuid.uuid4())
        salted = hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"),
                                     salt.encode("utf-8"), self.ITERATION_COUNT)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
        stored_key = hashlib.sha1(client_key).hexdigest()
        server_key = hmac.new(salted, b"Server Key", hashlib.sha1).hexdigest()
        accounts = os.path.join(self.data_path, _prosody_path_encode(self.domain), "accounts")
        os.makedirs(accounts, exist_ok=True)
        write_file(os.path.join(accounts, _prosody_path_encode(user) + ".dat"),
                   "return {\n"
                   "\t[\"iteration_count\"] = %d;\n"
                   "\t[\"salt\"] = %s;\n"
                   "\t[\"server_key\"] = %s;\n"
                   "\t[\"stored_key\"] = %s;\n"
                   "};\n" % (self.ITERATION_COUNT, _lua_string(salt),
                             _lua_string(server_key), _lua_string(stored_key)),
                   atomic=True)

    def set_groups(self, groups):
        """Write mod_groups' file: {"Experts: Billing": ["alice", ...], ...}.

        Members are user names, bare addresses, or (member, nick) pairs; a
        dict maps member to nick.  mod_groups reads the file when it loads,
        so call this before start() or restart().
        """
        lines = []
        for group, members in groups.items():
            lines.append("[%s]" % group)
            items = members.items() if isinstance(members, dict) else members
            for member in items:
                if isinstance(member, (tuple, list)):
                    who, nick = member
                else:
                    who, nick = member, member.split("@")[0]
                lines.append("%s=%s" % (self.jid(who), nick))
        self.groups = groups
        write_file(self.groups_path, "\n".join(lines) + "\n")

    # running

    @property
    def running(self):
        return self.process is not None and self.process.running

    def start(self, timeout=10):
        """Start Prosody and wait (bounded) until it listens.

        When the free port picked at construction was taken in the meantime
        (tests run in parallel), the first start moves to another port;
        later starts keep theirs, since clients reconnect to it.
        """
        assert not self.running, "Prosody already running"
        if shutil.which("prosody") is None:
            raise AssertionError("prosody is not installed (Debian package prosody)")
        for _attempt in range(5):
            if self._start_once(timeout):
                return
            if self.starts > 1 or self._fixed_port:
                raise AssertionError("prosody could not listen on 127.0.0.1:%d (taken?); log:\n%s"
                                     % (self.port, self.log_tail(20)))
            self.process.kill()
            self.port = pick_free_port()
            self._write_config()
            self.starts -= 1
        raise AssertionError("prosody found no free port")

    def _start_once(self, timeout):
        self.starts += 1
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write("---- harness: start %d on port %d ----\n" % (self.starts, self.port))
        offset = os.path.getsize(self.log_path)
        self.process = Process(["prosody", "--config", self.config_path, "-F"],
                               self.output_path, name="prosody")
        process = self.process
        # Prosody logs one of these once it has tried to listen.  Probing
        # the port instead would show up in the log as a client connection.
        activated = re.compile(r"Activated service 'c2s' on \[127\.0\.0\.1\]:%d$" % self.port,
                               re.MULTILINE)
        failed = re.compile(r"Failed to open server port %d\b" % self.port)

        def tried():
            if not process.running:
                raise AssertionError("prosody exited (%s) before listening; output:\n%s\nlog:\n%s"
                                     % (describe_status(process.status),
                                        read_text(self.output_path), self.log_tail(40)))
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                text = f.read()
            if failed.search(text):
                return "failed"
            if activated.search(text):
                return "listening"
            return None

        outcome = wait_for(tried, timeout, "prosody to listen on 127.0.0.1:%d" % self.port)
        return outcome == "listening"

    def stop(self, timeout=10):
        """SIGTERM and wait; returns Prosody's exit status."""
        if self.process is None:
            return None
        return self.process.terminate(timeout)

    def kill(self):
        """SIGKILL: sessions vanish without a stream close."""
        if self.process is not None:
            self.process.kill()

    def restart(self, timeout=10):
        """Stop (if running) and start again on the same port with the same data."""
        if self.running:
            self.stop()
        self.start(timeout)

    # logs

    def log_text(self):
        return read_text(self.log_path)

    def log_tail(self, lines=300):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def count_in_log(self, pattern):
        return len(re.findall(pattern, self.log_text(), re.MULTILINE))

    def auth_attempts(self, user, outcome="(success|failure)"):
        """SASL logins attempted for this user (both outcomes by default),
        as the test module mod_ea_test_log reports them."""
        node = re.escape(user.split("@")[0])
        return self.count_in_log(r"ea-test auth %s user=%s\b" % (outcome, node))

    def logins(self, user):
        """[(session id, encrypted)] for each successful login of user."""
        text = self.log_text()
        sessions = re.findall(r"(\S+)\tinfo\tAuthenticated as %s$" % re.escape(self.jid(user)),
                              text, re.MULTILINE)
        return [(sid, "%s\tinfo\tStream encrypted" % sid in text) for sid in sessions]

    def connections(self):
        """Client connections Prosody has accepted since the log began."""
        return self.count_in_log(r"\tinfo\tClient connected$")


# ---------------------------------------------------------------------------
# ejabberd (interop): the same interface as Prosody, selected with
# EA_XMPP_SERVER=ejabberd

EJABBERD_CTL = "/usr/sbin/ejabberdctl"


def _yaml_string(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class Ejabberd:
    """A real ejabberd (Debian's 23.01) on a free loopback port, as root,
    in a throwaway directory: its own config, Mnesia spool, log and Erlang
    node name. Accounts and shared roster groups go in through ejabberd's
    HTTP API on a second loopback port (answering loopback only), so they
    can be added before start() (queued) as well as after."""

    kind = "ejabberd"

    def __init__(self, tmpdir, domain=DEFAULT_DOMAIN, port=None,
                 smacks_hibernation_time=None, extra_global_config="",
                 extra_host_config=""):
        self.domain = domain
        self.muc_domain = "conference." + domain
        self.dir = os.path.join(tmpdir, "ejabberd")
        self.spool = os.path.join(self.dir, "spool")
        self.logs = os.path.join(self.dir, "logs")
        for d in (self.spool, self.logs):
            os.makedirs(d, exist_ok=True)
        self._fixed_port = port is not None
        self.port = port or pick_free_port()
        self.http_port = pick_free_port()
        self.node = "ea-%s@localhost" % uuid.uuid4().hex[:12]
        self.config_path = os.path.join(self.dir, "ejabberd.yml")
        self.ctl_path = os.path.join(self.dir, "ejabberdctl")
        self.ctl_config_path = os.path.join(self.dir, "ejabberdctl.cfg")
        self.log_path = os.path.join(self.logs, "ejabberd.log")
        self.output_path = os.path.join(self.dir, "ejabberd-0.out")
        self.output_paths = []
        self.pem_path = os.path.join(self.dir, "server.pem")
        self.smacks_hibernation_time = smacks_hibernation_time
        self.extra_global_config = extra_global_config
        self.users = {}
        self.groups = {}
        self.process = None
        self.starts = 0
        self._make_certificate()
        self._write_control_script()
        self._write_config()

    # configuration

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def jid(self, user):
        return user if "@" in user else "%s@%s" % (user, self.domain)

    def _make_certificate(self):
        key = os.path.join(self.dir, "server.key")
        crt = os.path.join(self.dir, "server.crt")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", crt, "-days", "7",
             "-subj", "/CN=%s" % self.domain,
             "-addext", "subjectAltName=DNS:%s,DNS:*.%s" % (self.domain, self.domain)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        write_file(self.pem_path, read_text(crt) + read_text(key), mode=0o600)

    def _write_control_script(self):
        # Debian's control script refuses root unless INSTALLUSER is empty,
        # and runs the VM as a child: exec it, so our process is the VM.
        text = read_text(EJABBERD_CTL)
        text = re.sub(r"^INSTALLUSER=.*$", "INSTALLUSER=", text, count=1, flags=re.MULTILINE)
        text = text.replace('as_current_user) "$@" ;;', 'as_current_user) exec "$@" ;;')
        write_file(self.ctl_path, text, mode=0o755)
        write_file(self.ctl_config_path,
                   'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\n'
                   'EJABBERD_BYPASS_WARNINGS=true\n')
        # ERL_INETRC comes from the config dir: resolve names the usual way.
        write_file(os.path.join(self.dir, "inetrc"), "{lookup,[file,native]}.\n")

    def _write_config(self):
        hibernation = self.smacks_hibernation_time
        config = f"""# Throwaway ejabberd configuration for the Expert Assist integration tests
loglevel: info
log_rotate_count: 0
hosts:
  - {_yaml_string(self.domain)}
certfiles:
  - {_yaml_string(self.pem_path)}
listen:
  -
    port: {self.port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: none
    access: c2s
    starttls: true
  -
    port: {self.http_port}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
auth_method: internal
auth_password_format: scram
disable_sasl_mechanisms:
  - "digest-md5"
  - "X-OAUTH2"
s2s_access: none
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  local:
    allow: all
  c2s:
    allow: all
  muc_create:
    allow: all
api_permissions:
  "loopback admin":
    from:
      - mod_http_api
    who:
      access:
        allow:
          - acl: loopback
    what: "*"
shaper_rules:
  c2s_shaper: none
modules:
  mod_adhoc: {{}}
  mod_admin_extra: {{}}
  mod_caps: {{}}
  mod_carboncopy: {{}}
  mod_disco: {{}}
  mod_last: {{}}
  mod_mam:
    default: always
  mod_muc:
    host: {_yaml_string(self.muc_domain)}
    access_create: muc_create
    access_persistent: muc_create
    default_room_options:
      mam: false
  mod_offline: {{}}
  mod_ping: {{}}
  mod_roster:
    versioning: true
  mod_shared_roster: {{}}
  mod_stream_mgmt:
    resend_on_timeout: if_offline
    {"resume_timeout: %d" % hibernation if hibernation is not None else ""}
  mod_vcard: {{}}
{self.extra_global_config}
"""
        write_file(self.config_path, config)

    # accounts and groups, through the HTTP API

    def _api(self, command, args, timeout=10):
        import urllib.request
        req = urllib.request.Request(
            "http://127.0.0.1:%d/api/%s" % (self.http_port, command),
            data=json.dumps(args).encode("utf-8"),
            headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = resp.read().decode("utf-8", "replace")
        except Exception as e:  # urllib's HTTPError carries the reason
            detail = getattr(e, "read", lambda: b"")()
            raise AssertionError("ejabberd API %s(%r) failed: %s %s"
                                 % (command, args, e, detail[:300])) from None
        return json.loads(body) if body else None

    def add_user(self, name, password, method="api"):
        """Create an account; works before and after start()."""
        user = name.split("@")[0]
        self.users[user] = password
        if self.running:
            self._register(user)

    def _register(self, user):
        # Mnesia may lose the last writes when ejabberd is killed: register
        # again after a restart, and only set the password of who is there.
        try:
            self._api("register", {"user": user, "host": self.domain,
                                   "password": self.users[user]})
        except AssertionError as e:
            if "conflict" not in str(e).lower() and "already registered" not in str(e):
                raise
            self._api("change_password", {"user": user, "host": self.domain,
                                          "newpass": self.users[user]})

    @staticmethod
    def _group_id(name):
        return "g-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]

    def set_groups(self, groups):
        """Shared roster groups (mod_shared_roster), as Prosody.set_groups:
        {"Experts: Billing": ["alice", ...]}. Each group shows its own
        members to each other, under the group's name; a member's nick
        (a (member, nick) pair, else the user name) becomes the full name
        of its vCard, which is what shared rosters show."""
        old = self.groups
        self.groups = groups
        if self.running:
            self._apply_groups(old)

    def _members(self, members):
        """{bare jid: nick}, nick defaulting to the user name as in
        Prosody's groups file."""
        items = members.items() if isinstance(members, dict) else members
        out = {}
        for member in items:
            if isinstance(member, (tuple, list)):
                who, nick = member
            else:
                who, nick = member, member.split("@")[0]
            out[self.jid(who)] = nick
        return out

    def _apply_groups(self, old=None):
        for name in (old or {}):
            if name not in self.groups:
                self._api("srg_delete", {"group": self._group_id(name), "host": self.domain})
        for name, members in self.groups.items():
            gid = self._group_id(name)
            self._api("srg_create", {"group": gid, "host": self.domain, "label": name,
                                     "description": name, "display": gid})
            current = set()
            try:
                for m in self._api("srg_get_members", {"group": gid, "host": self.domain}):
                    current.add(m)
            except AssertionError:
                pass
            nicks = self._members(members)
            wanted = set(nicks)
            for member in wanted - current:
                user, host = member.split("@", 1)
                self._api("srg_user_add", {"user": user, "host": host, "group": gid,
                                           "grouphost": self.domain})
            # A shared roster shows members under their vCard's full name:
            # that is where the nick goes.
            for member, nick in nicks.items():
                user, host = member.split("@", 1)
                if host == self.domain and user in self.users:
                    self._api("set_vcard", {"user": user, "host": host, "name": "FN",
                                            "content": nick})
            for member in current - wanted:
                user, host = member.split("@", 1)
                self._api("srg_user_del", {"user": user, "host": host, "group": gid,
                                           "grouphost": self.domain})

    # running

    @property
    def running(self):
        return self.process is not None and self.process.running

    def start(self, timeout=30):
        assert not self.running, "ejabberd already running"
        if not os.access(EJABBERD_CTL, os.X_OK):
            raise AssertionError("ejabberd is not installed (Debian package ejabberd)")
        self.starts += 1
        # The console output is the log the tests read (the log file is
        # written with a delay: Erlang's logger buffers it), one file per
        # start since the launcher truncates what it writes to.
        self.output_path = os.path.join(self.dir, "ejabberd-%d.out" % self.starts)
        self.output_paths.append(self.output_path)
        offset = 0
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ERL_", "EJABBERD_"))}
        env["HOME"] = self.dir
        self.process = Process([self.ctl_path, "--config-dir", self.dir,
                                "--config", self.config_path,
                                "--ctl-config", self.ctl_config_path,
                                "--logs", self.logs, "--spool", self.spool,
                                "--node", self.node, "foreground"],
                               self.output_path, env=env, cwd=self.dir, name="ejabberd")
        process = self.process
        started = re.compile(r"ejabberd \S+ is started in the node")

        def up():
            if not process.running:
                raise AssertionError("ejabberd exited (%s) before listening; output:\n%s"
                                     % (describe_status(process.status), self.log_tail(60)))
            with open(self.output_path, encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                return started.search(f.read())
        wait_for(up, timeout, "ejabberd to start on 127.0.0.1:%d" % self.port, poll_ms=100)
        for user in self.users:
            self._register(user)
        self._apply_groups()

    def stop(self, timeout=20):
        if self.process is None:
            return None
        status = self.process.terminate(timeout)
        # The VM exits with 0 after a clean stop on SIGTERM.
        return 0 if status in (0, 143, -signal.SIGTERM) else status

    def kill(self):
        if self.process is not None:
            self.process.kill()

    def restart(self, timeout=30):
        if self.running:
            self.stop()
        self.start(timeout)

    # logs

    def log_text(self):
        return "".join("---- harness: start %d on port %d ----\n%s" % (i + 1, self.port, read_text(p))
                       for i, p in enumerate(self.output_paths))

    def log_tail(self, lines=300):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def count_in_log(self, pattern):
        return len(re.findall(pattern, self.log_text(), re.MULTILINE))

    def auth_attempts(self, user, outcome="(success|failure)"):
        node = re.escape(user.split("@")[0])
        patterns = {
            "success": r"Accepted c2s \S+ authentication for %s@" % node,
            "failure": r"Failed c2s \S+ authentication for %s@" % node,
        }
        if outcome in patterns:
            return self.count_in_log(patterns[outcome])
        return sum(self.count_in_log(p) for p in patterns.values())

    def logins(self, user):
        """[(connection, encrypted)] for each successful login of user."""
        found = re.findall(r"\((tcp|tls)\|(<[0-9.]+>)\) Accepted c2s \S+ authentication for %s@"
                           % re.escape(user.split("@")[0]), self.log_text())
        return [(pid, proto == "tls") for proto, pid in found]

    def connections(self):
        return self.count_in_log(r"Accepted connection [0-9.:]+ -> 127\.0\.0\.1:%d" % self.port)


def xmpp_server_class(name=None):
    """The server the integration tests run against: `name`, else
    EA_XMPP_SERVER, "prosody" (default) or "ejabberd"."""
    name = name or os.environ.get("EA_XMPP_SERVER", "prosody")
    if name == "ejabberd":
        return Ejabberd
    if name == "prosody":
        return Prosody
    raise AssertionError("EA_XMPP_SERVER=%s: use prosody or ejabberd" % name)


# ---------------------------------------------------------------------------
# D-Bus

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{servicedir}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Bus:
    """A private session bus (dbus-daemon) for one simulated user."""

    def __init__(self, tmpdir, name="bus"):
        self.dir = os.path.join(tmpdir, name)
        self.socket_dir = os.path.join(self.dir, "socket")
        self.service_dir = os.path.join(self.dir, "services")
        os.makedirs(self.socket_dir, exist_ok=True)
        os.makedirs(self.service_dir, exist_ok=True)
        self.config_path = os.path.join(self.dir, "bus.conf")
        self.log_path = os.path.join(self.dir, "dbus-daemon.log")
        write_file(self.config_path, BUS_CONFIG.format(dir=self.socket_dir,
                                                       servicedir=self.service_dir))
        self.process = None
        self.address = None
        self.connection = None

    def start(self):
        """Start the bus; returns its address."""
        if shutil.which("dbus-daemon") is None:
            raise AssertionError("dbus-daemon is not installed")
        self.process = Process(["dbus-daemon", "--config-file=" + self.config_path,
                                "--nofork", "--print-address=1"],
                               self.log_path, stdout_pipe=True, name="dbus-daemon")
        # dbus-daemon prints its address as soon as it listens, or exits
        # (end of file here) when it cannot.
        stream = Gio.DataInputStream.new(self.process.proc.get_stdout_pipe())
        line, _length = stream.read_line_utf8(None)
        if not line:
            self.process.kill()
            raise AssertionError("dbus-daemon did not start:\n" + read_text(self.log_path))
        self._stdout = stream  # keep the pipe open
        self.address = line.strip()
        self.connection = Gio.DBusConnection.new_for_address_sync(
            self.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        return self.address

    def add_service(self, name, argv):
        """Make `name` activatable on this bus by running argv."""
        write_file(os.path.join(self.service_dir, name + ".service"),
                   "[D-BUS Service]\nName=%s\nExec=%s\n"
                   % (name, " ".join(GLib.shell_quote(a) for a in argv)))
        self.connection.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                  "org.freedesktop.DBus", "ReloadConfig", None, None,
                                  Gio.DBusCallFlags.NONE, 5000, None)

    def update_activation_environment(self, env):
        self.connection.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                  "org.freedesktop.DBus", "UpdateActivationEnvironment",
                                  GLib.Variant("(a{ss})", (env,)), None,
                                  Gio.DBusCallFlags.NONE, 5000, None)

    def dbus_call(self, method, args=None, reply_type=None):
        """Call the bus daemon itself; returns the unpacked reply."""
        reply = self.connection.call_sync(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            method, args, GLib.VariantType.new(reply_type) if reply_type else None,
            Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()

    def name_owner(self, name):
        try:
            return self.dbus_call("GetNameOwner", GLib.Variant("(s)", (name,)))[0]
        except GLib.Error:
            return None

    def owner_pid(self, name):
        owner = self.name_owner(name)
        if owner is None:
            return None
        try:
            return self.dbus_call("GetConnectionUnixProcessID",
                                  GLib.Variant("(s)", (owner,)))[0]
        except GLib.Error:
            return None

    def stop(self):
        if self.connection is not None:
            try:
                self.connection.close_sync(None)
            except GLib.Error:
                pass
            self.connection = None
        if self.process is not None:
            self.process.kill()


# ---------------------------------------------------------------------------
# The daemon and one simulated user

class Signal:
    """One D-Bus signal as the recorder saw it."""

    def __init__(self, sender, path, iface, name, params):
        self.sender = sender
        self.path = path
        self.iface = iface
        self.name = name
        self.params = params  # GLib.Variant
        self.args = params.unpack() if params is not None else ()
        self.time = time.monotonic()

    def __repr__(self):
        return "Signal(%s.%s at %s %r)" % (self.iface, self.name, self.path, self.args)


def daemon_binary():
    build_root = os.environ.get("EA_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")
    return os.environ.get("EA_DAEMON") or os.path.join(build_root, "daemon", "expert-assistd")


class Desktop:
    """One simulated user: a private bus, fresh XDG dirs and expert-assistd.

    Options become the daemon's command line: --account, --server,
    --password-file, --directory (when a directory text is given),
    --data-dir and --tls.  `server`, `tls`, `account` override the
    defaults; `extra_args` are appended.  The daemon is $EA_DAEMON
    (default build/daemon/expert-assistd) unless daemon_argv is given.
    """

    def __init__(self, tmpdir, prosody, user, password=None, directory=None,
                 directory_in_xdg=False, tls="trust-self-signed", server=None,
                 account=None, password_mode=0o600, extra_args=(), name=None,
                 env=None, daemon_argv=None):
        self.prosody = prosody
        self.user = user.split("@")[0]
        self.name = name or self.user
        self.account = account or prosody.jid(user)
        self.address = prosody.jid(user)
        self.dir = os.path.join(tmpdir, "desktop-" + self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.home = os.path.join(self.dir, "home")
        self.xdg = {
            "XDG_CONFIG_HOME": os.path.join(self.dir, "config"),
            "XDG_DATA_HOME": os.path.join(self.dir, "share"),
            "XDG_CACHE_HOME": os.path.join(self.dir, "cache"),
            "XDG_STATE_HOME": os.path.join(self.dir, "state"),
            "XDG_RUNTIME_DIR": os.path.join(self.dir, "runtime"),
            "XDG_CONFIG_DIRS": os.path.join(self.dir, "etc-xdg"),
        }
        for path in [self.home] + list(self.xdg.values()):
            os.makedirs(path, exist_ok=True)
        os.chmod(self.xdg["XDG_RUNTIME_DIR"], 0o700)
        self.data_dir = os.path.join(self.dir, "ea-data")
        self.password_path = os.path.join(self.dir, "password")
        if directory_in_xdg:
            self.directory_path = os.path.join(self.xdg["XDG_CONFIG_HOME"], "expert-assist",
                                               "directory.conf")
        else:
            self.directory_path = os.path.join(self.dir, "directory.conf")
        self.directory_in_xdg = directory_in_xdg
        self.tls = tls
        self.server = server or prosody.address
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.daemon_argv = list(daemon_argv) if daemon_argv else None
        self.write_password(password if password is not None
                            else prosody.users.get(self.user, ""), password_mode)
        self.has_directory = directory is not None
        if directory is not None:
            self.write_directory(directory)

        self.bus = Bus(self.dir, "bus")
        self.daemons = []  # every daemon process started, oldest first
        self.signals = []
        self.owner = None
        self._owner_pids = {}
        self._props = {}
        self._subscriptions = []

    # files

    def write_password(self, password, mode=0o600):
        # No trailing newline: the file holds exactly the password.
        if os.path.exists(self.password_path):
            os.unlink(self.password_path)
        fd = os.open(self.password_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(password)
        os.chmod(self.password_path, mode)

    def write_directory(self, text, atomic=False):
        """(Re)write the directory keyfile; atomic renames a new file over it."""
        os.makedirs(os.path.dirname(self.directory_path), exist_ok=True)
        write_file(self.directory_path, text, atomic=atomic)

    # the daemon

    @property
    def daemon(self):
        return self.daemons[-1] if self.daemons else None

    def command_line(self, extra_args=()):
        argv = (self.daemon_argv or [daemon_binary()]) + [
            "--account=" + self.account, "--server=" + self.server,
            "--password-file=" + self.password_path, "--data-dir=" + self.data_dir,
            "--tls=" + self.tls]
        if self.has_directory and not self.directory_in_xdg:
            argv.append("--directory=" + self.directory_path)
        wrapper = os.environ.get("EA_TEST_WRAPPER")
        if wrapper:
            argv = wrapper.split() + argv
        return argv + self.extra_args + list(extra_args)

    def environment(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("XDG_", "DBUS_", "GIO_", "GSETTINGS_", "G_"))
               and k not in ("DISPLAY", "WAYLAND_DISPLAY", "HOME", "LANG", "LANGUAGE",
                             "LC_ALL", "LC_MESSAGES")}
        env.update(self.xdg)
        env.update({
            "HOME": self.home,
            "DBUS_SESSION_BUS_ADDRESS": self.bus.address,
            "GSETTINGS_BACKEND": "memory",
            "GIO_USE_VFS": "local",
            "G_DEBUG": ",".join(filter(None, [os.environ.get("G_DEBUG"), "fatal-criticals"])),
            "G_MESSAGES_DEBUG": "all",
            "LANG": "C.UTF-8",
        })
        schema_dir = os.environ.get("GSETTINGS_SCHEMA_DIR")
        if not schema_dir:
            # Run by hand from the source tree: the schema compiled in build/.
            built = os.path.join(os.path.dirname(os.path.dirname(daemon_binary())), "data")
            if os.path.exists(os.path.join(built, "gschemas.compiled")):
                schema_dir = built
        if schema_dir:
            env["GSETTINGS_SCHEMA_DIR"] = schema_dir
        env.update(self.extra_env)
        return env

    def _ensure_bus(self):
        if self.bus.connection is not None:
            return
        self.bus.start()
        conn = self.bus.connection
        self._subscriptions.append(conn.signal_subscribe(
            "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
            "/org/freedesktop/DBus", BUS_NAME, Gio.DBusSignalFlags.NONE,
            self._on_name_owner_changed))
        # Every signal the daemon sends, under whichever unique name owns
        # the well-known one at the time.
        self._subscriptions.append(conn.signal_subscribe(
            BUS_NAME, None, None, None, None, Gio.DBusSignalFlags.NONE, self._on_signal))
        self.owner = self.bus.name_owner(BUS_NAME)

    def _on_name_owner_changed(self, _conn, _sender, _path, _iface, _member, params):
        name, _old, new = params.unpack()
        if name == BUS_NAME:
            self.owner = new or None
            self._props.clear()

    def _on_signal(self, _conn, sender, path, iface, member, params):
        sig = Signal(sender, path, iface, member, params)
        self.signals.append(sig)
        if iface == PROPERTIES_IFACE and member == "PropertiesChanged":
            changed_iface, changed, invalidated = sig.args
            cache = self._props.setdefault((path, changed_iface), {})
            cache.update(changed)
            for prop in invalidated:
                cache.pop(prop, None)

    def start(self, wait_name=True, timeout=10, extra_args=()):
        """Start the bus (first time) and a daemon; wait until it owns the name."""
        return self.start_daemon(extra_args=extra_args, wait_name=wait_name, timeout=timeout)

    def start_daemon(self, extra_args=(), wait_name=True, timeout=10):
        """Start another daemon process on this desktop's bus (e.g. with
        --replace) and make it the current one."""
        binary = daemon_binary()
        if self.daemon_argv is None and not os.access(binary, os.X_OK):
            raise AssertionError("daemon binary %s is missing: build first, or set EA_DAEMON"
                                 % binary)
        self._ensure_bus()
        log_path = os.path.join(self.dir, "daemon-%d.log" % (len(self.daemons) + 1))
        daemon = Process(self.command_line(extra_args), log_path, env=self.environment(),
                         cwd=self.home, name="expert-assistd[%s]" % self.name)
        self.daemons.append(daemon)
        if wait_name:
            self.wait_owned_by(daemon, timeout)
        return daemon

    def owner_pid(self):
        owner = self.owner
        if owner is None:
            return None
        if owner not in self._owner_pids:
            try:
                self._owner_pids[owner] = self.bus.dbus_call(
                    "GetConnectionUnixProcessID", GLib.Variant("(s)", (owner,)))[0]
            except GLib.Error:
                return None
        return self._owner_pids[owner]

    def wait_owned_by(self, daemon, timeout=10):
        def owned():
            if not daemon.running:
                raise AssertionError("%s exited (%s) before owning %s; log:\n%s"
                                     % (daemon.name, describe_status(daemon.status), BUS_NAME,
                                        daemon.log_text()))
            return self.owner is not None and self.owner_pid() == daemon.pid
        wait_for(owned, timeout, "%s (pid %d) to own %s" % (daemon.name, daemon.pid, BUS_NAME))

    def on_bus(self):
        """The current daemon runs and owns the bus name."""
        return (self.daemon is not None and self.daemon.running
                and self.owner is not None and self.owner_pid() == self.daemon.pid)

    def stop(self, timeout=10, daemon=None):
        """SIGTERM the daemon and assert it exits with status 0 in time."""
        daemon = daemon or self.daemon
        if daemon is None or not daemon.running:
            return
        status = daemon.terminate(timeout)
        if status != 0:
            raise AssertionError("%s ended with %s after SIGTERM (expected exit status 0)"
                                 % (daemon.name, describe_status(status)))

    def kill(self, daemon=None):
        daemon = daemon or self.daemon
        if daemon is not None:
            daemon.kill()

    def restart(self, timeout=10):
        self.stop(timeout)
        self.wait_for(lambda: self.owner is None, timeout, "%s to leave the bus" % BUS_NAME)
        return self.start(timeout=timeout)

    def shutdown(self):
        """Cleanup: kill every process of this desktop, the bus last."""
        for daemon in self.daemons:
            daemon.kill()
        if self.bus.connection is not None:
            for sub in self._subscriptions:
                self.bus.connection.signal_unsubscribe(sub)
        self._subscriptions = []
        self.bus.stop()

    def log_text(self):
        """Every daemon log of this desktop, oldest first."""
        return "".join(d.log_text() for d in self.daemons)

    def wait_log(self, pattern, timeout=10, what=None):
        """Wait until the daemon logs match the regular expression; returns the match."""
        regex = re.compile(pattern, re.MULTILINE)
        return wait_for(lambda: regex.search(self.log_text()), timeout,
                        what or "daemon log to match %r" % pattern)

    # D-Bus calls

    def call_raw(self, method, args=None, iface=ROOT_IFACE, path=ROOT_PATH, timeout_ms=5000):
        """Call the daemon; returns the reply GLib.Variant (a tuple)."""
        if args is not None and not args.get_type_string().startswith("("):
            args = GLib.Variant.new_tuple(args)
        return self.bus.connection.call_sync(BUS_NAME, path, iface, method, args, None,
                                             Gio.DBusCallFlags.NO_AUTO_START, timeout_ms,
                                             None)

    def call(self, method, args=None, iface=ROOT_IFACE, path=ROOT_PATH, timeout_ms=5000):
        """Call the daemon; returns the unpacked result: None for no
        out-arguments, the value for one, a tuple for several."""
        reply = self.call_raw(method, args, iface, path, timeout_ms).unpack()
        if len(reply) == 0:
            return None
        if len(reply) == 1:
            return reply[0]
        return reply

    def call_error(self, method, args=None, iface=ROOT_IFACE, path=ROOT_PATH, timeout_ms=5000):
        """Call the daemon expecting an error; returns the D-Bus error name.

        The message is kept in self.last_error_message.
        """
        try:
            reply = self.call_raw(method, args, iface, path, timeout_ms)
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            message = e.message
            if name:
                Gio.DBusError.strip_remote_error(e)
                message = e.message
            self.last_error_message = message
            return name or "%s:%d" % (e.domain, e.code)
        raise AssertionError("%s.%s succeeded (returned %s), expected an error"
                             % (iface, method, reply))

    def get_property_raw(self, name, iface=ROOT_IFACE, path=ROOT_PATH):
        reply = self.bus.connection.call_sync(
            BUS_NAME, path, PROPERTIES_IFACE, "Get", GLib.Variant("(ss)", (iface, name)),
            GLib.VariantType.new("(v)"), Gio.DBusCallFlags.NO_AUTO_START, 5000, None)
        return reply.get_child_value(0).get_variant()

    def get_property(self, name, iface=ROOT_IFACE, path=ROOT_PATH):
        return self.get_property_raw(name, iface, path).unpack()

    def get_all(self, iface=ROOT_IFACE, path=ROOT_PATH):
        reply = self.bus.connection.call_sync(
            BUS_NAME, path, PROPERTIES_IFACE, "GetAll", GLib.Variant("(s)", (iface,)),
            GLib.VariantType.new("(a{sv})"), Gio.DBusCallFlags.NO_AUTO_START, 5000, None)
        return reply.unpack()[0]

    def managed_objects(self):
        return self.call("GetManagedObjects", None, iface=OBJECT_MANAGER_IFACE)

    # signals and properties

    def mark(self):
        """An index into self.signals: pass it as `since` to wait for new ones."""
        return len(self.signals)

    def find_signals(self, name, match=lambda args: True, since=0, iface=None, path=None):
        return [s for s in self.signals[since:]
                if s.name == name and (iface is None or s.iface == iface)
                and (path is None or s.path == path) and match(s.args)]

    def wait_signal(self, name, match=lambda args: True, timeout=10, what=None, since=0,
                    iface=None, path=None):
        """Wait for a signal (recorded at index >= since) whose unpacked
        arguments satisfy match; returns the Signal."""
        found = wait_for(lambda: self.find_signals(name, match, since, iface, path), timeout,
                         what or "signal %s from %s's daemon" % (name, self.name))
        return found[0]

    def property_value(self, name, iface=ROOT_IFACE, path=ROOT_PATH):
        """The property as the signals have told it (seeded with GetAll)."""
        key = (path, iface)
        if key not in self._props or name not in self._props[key]:
            self._props.setdefault(key, {}).update(self.get_all(iface, path))
        return self._props[key].get(name)

    def wait_property(self, name, value, iface=ROOT_IFACE, path=ROOT_PATH, timeout=10,
                      what=None):
        """Wait until the property equals value (or value(prop) is true when
        value is callable), following PropertiesChanged; returns the value."""
        check = value if callable(value) else (lambda v: v == value)
        result = []

        def reached():
            if not self.on_bus():
                raise AssertionError("%s's daemon is not on the bus while waiting for %s"
                                     % (self.name, name))
            current = self.property_value(name, iface, path)
            result[:] = [current]
            return check(current)
        try:
            wait_for(reached, timeout, what or "%s of %s's daemon to become %r"
                     % (name, self.name, value))
        except AssertionError as e:
            raise AssertionError("%s (it is %r)" % (e, result[0] if result else None)) from None
        return result[0]

    def wait_connected(self, timeout=15):
        return self.wait_property("ConnectionState", "connected", timeout=timeout)

    def wait_for(self, predicate, timeout=10, what=None, poll_ms=20):
        return wait_for(predicate, timeout, what, poll_ms)

    # convenience for the root interface

    def groups(self):
        """ListGroups as {id: (id, name, interruptible, total, extra)}."""
        return {g[0]: g for g in self.call("ListGroups")}

    def experts(self, group):
        """ListExperts(group) as {address: (address, name, status, extra)}."""
        return {e[0]: e for e in self.call("ListExperts", GLib.Variant("(s)", (group,)))}

    def set_status(self, status, message=""):
        return self.call("SetStatus", GLib.Variant("(ss)", (status, message)))


# ---------------------------------------------------------------------------
# An ordinary XMPP client

class PlainClient:
    """An XMPP client without a daemon (xmppclient.py), driven by JSON lines."""

    def __init__(self, tmpdir, prosody, user, password=None, resource="plain", tls="starttls",
                 presence=True, auto_authorize=True, priority=0, name=None):
        self.prosody = prosody
        self.user = user.split("@")[0]
        self.address = prosody.jid(user)
        self.resource = resource
        self.jid = "%s/%s" % (self.address, resource)
        self.password = password if password is not None else prosody.users.get(self.user, "")
        self.name = name or "%s-%s" % (self.user, resource)
        self.log_path = os.path.join(tmpdir, "client-%s.log" % self.name)
        self.tls = tls
        self.presence_on_start = presence
        self.auto_authorize = auto_authorize
        self.priority = priority
        self.events = []
        self.process = None
        self._buffer = b""
        self._watch = None
        self._stdin = None
        self._tag = 0

    def start(self, wait=True, timeout=10):
        argv = [PYTHON, os.path.join(HERE, "xmppclient.py"), "--jid", self.jid,
                "--password", self.password, "--server", self.prosody.address,
                "--tls", self.tls, "--priority", str(self.priority)]
        if not self.presence_on_start:
            argv.append("--no-presence")
        if not self.auto_authorize:
            argv.append("--no-auto-authorize")
        if os.environ.get("EA_CLIENT_DEBUG"):
            argv.append("--debug")
        self.process = Process(argv, self.log_path, stdin_pipe=True, stdout_pipe=True,
                               name="xmppclient[%s]" % self.name)
        self._stdin = self.process.proc.get_stdin_pipe()
        fd = self.process.proc.get_stdout_pipe().get_fd()
        os.set_blocking(fd, False)
        self._watch = GLib.io_add_watch(fd, GLib.PRIORITY_DEFAULT,
                                        GLib.IOCondition.IN | GLib.IOCondition.HUP
                                        | GLib.IOCondition.ERR, self._on_output)
        if wait:
            self.wait_event(lambda e: e["event"] == "session_start", timeout,
                            "%s to log in" % self.jid, fail_on_exit=True)
        return self

    def _on_output(self, fd, condition):
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return GLib.SOURCE_CONTINUE
            except OSError:
                data = b""
            if not data:
                self._watch = None
                return GLib.SOURCE_REMOVE
            self._buffer += data
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    try:
                        self.events.append(json.loads(line))
                    except ValueError:
                        self.events.append({"event": "garbage", "line": line.decode("utf-8",
                                                                                     "replace")})

    @property
    def running(self):
        return self.process is not None and self.process.running

    def mark(self):
        return len(self.events)

    def events_of(self, kind, since=0):
        return [e for e in self.events[since:] if e["event"] == kind]

    def find_events(self, predicate, since=0):
        return [e for e in self.events[since:] if predicate(e)]

    def wait_event(self, predicate, timeout=10, what=None, since=0, fail_on_exit=True):
        """Wait for an event (index >= since) satisfying predicate; returns it."""
        def found():
            hits = self.find_events(predicate, since)
            if hits:
                return hits
            if fail_on_exit and not self.running and self._watch is None:
                raise AssertionError("%s exited (%s) while waiting for %s; events %r; log:\n%s"
                                     % (self.process.name, describe_status(self.process.status),
                                        what, self.events[-5:], read_text(self.log_path)))
            return None
        return wait_for(found, timeout, what or "event from %s" % self.jid)[0]

    def command(self, cmd, wait=False, timeout=10):
        """Send one command; with wait, wait for its "done" event and return it."""
        self._tag += 1
        cmd = dict(cmd, tag=self._tag)
        if not self.running:
            raise AssertionError("%s is not running" % self.process.name)
        self._stdin.write_all((json.dumps(cmd) + "\n").encode("utf-8"), None)
        self._stdin.flush(None)
        if wait:
            tag = self._tag
            done = self.wait_event(lambda e: e["event"] == "done" and e.get("tag") == tag,
                                   timeout, "%s to finish %s" % (self.jid, cmd["cmd"]))
            if not done.get("ok"):
                raise AssertionError("%s: %s failed: %s" % (self.jid, cmd["cmd"],
                                                             done.get("error")))
            return done
        return None

    def send(self, to, body, type="chat", thread=None, id=None, wait=True):
        cmd = {"cmd": "send", "to": to, "body": body, "type": type}
        if thread:
            cmd["thread"] = thread
        if id:
            cmd["id"] = id
        return self.command(cmd, wait)

    def presence(self, show=None, status=None, to=None, type=None, priority=None, wait=True):
        cmd = {"cmd": "presence"}
        for key, value in (("show", show), ("status", status), ("to", to), ("type", type),
                           ("priority", priority)):
            if value is not None:
                cmd[key] = value
        return self.command(cmd, wait)

    def roster_set(self, jid, groups=(), name=None, wait=True):
        cmd = {"cmd": "roster_set", "jid": self.prosody.jid(jid), "groups": list(groups)}
        if name:
            cmd["name"] = name
        return self.command(cmd, wait)

    def roster_remove(self, jid, wait=True):
        return self.command({"cmd": "roster_remove", "jid": self.prosody.jid(jid)}, wait)

    def raw(self, xml, wait=True):
        return self.command({"cmd": "raw", "xml": xml}, wait)

    def messages(self, since=0, sender=None):
        return [e for e in self.events[since:] if e["event"] == "message"
                and (sender is None or e["from"].split("/")[0] == sender)]

    def wait_message(self, match=lambda e: True, timeout=10, what=None, since=0):
        return self.wait_event(lambda e: e["event"] == "message" and match(e), timeout,
                               what or "a message to %s" % self.jid, since)

    def quit(self, timeout=10):
        """Leave cleanly (unavailable presence, stream close) and wait for exit."""
        if not self.running:
            return self.process.status if self.process else None
        self.command({"cmd": "quit"})
        return self.process.wait_exit(timeout, "%s to quit" % self.process.name)

    def kill(self):
        if self._watch is not None:
            GLib.source_remove(self._watch)
            self._watch = None
        if self.process is not None:
            self.process.kill()

    def log_text(self):
        return read_text(self.log_path)


# ---------------------------------------------------------------------------
# unittest base

class IntegrationTest(unittest.TestCase):
    """Owns a temp dir, a Prosody, desktops and plain clients; cleans up all.

    On failure, the daemon logs, client events and the Prosody log tail go
    to stderr.  EA_KEEP_TMP=1 keeps the temp dir.
    """

    DOMAIN = DEFAULT_DOMAIN
    # None: EA_XMPP_SERVER decides; a case made for one server names it.
    XMPP_SERVER = None
    TMP_PREFIX = "ea-it-"  # tools/demo.py names its own

    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix=self.TMP_PREFIX)
        # The XMPP server: Prosody, or ejabberd with EA_XMPP_SERVER=ejabberd
        # (same interface); the attribute keeps its name for the tests.
        self.prosody = xmpp_server_class(self.XMPP_SERVER)(self.tmpdir, domain=self.DOMAIN)
        self.desktops = []
        self.clients = []
        self.buses = []
        self.directory = None
        self.addCleanup(self._cleanup)

    def run(self, result=None):
        if result is None:
            return super().run(result)
        bad_before = len(result.failures) + len(result.errors)
        self._failed_so_far = lambda: len(result.failures) + len(result.errors) > bad_before
        try:
            return super().run(result)
        finally:
            # Cleanups have run unless the run was interrupted; make sure.
            self._stop_everything()
            failed = len(result.failures) + len(result.errors) > bad_before
            if failed:
                self._print_logs()
            tmpdir = getattr(self, "tmpdir", None)
            if tmpdir:
                if os.environ.get("EA_KEEP_TMP") == "1":
                    sys.stderr.write("kept test files in %s\n" % tmpdir)
                else:
                    shutil.rmtree(tmpdir, ignore_errors=True)

    def _print_logs(self):
        out = sys.stderr
        for desktop in getattr(self, "desktops", []):
            for i, daemon in enumerate(desktop.daemons, 1):
                out.write("\n------------- daemon log: %s #%d (%s) -------------\n"
                          % (desktop.name, i, describe_status(daemon.status)))
                out.write(daemon.log_text())
        for client in getattr(self, "clients", []):
            out.write("\n------------- plain client %s: last events -------------\n"
                      % client.jid)
            for event in client.events[-30:]:
                out.write(json.dumps({k: v for k, v in event.items() if k != "xml"}) + "\n")
            text = client.log_text()
            if text.strip():
                out.write("-- stderr --\n" + text)
        prosody = getattr(self, "prosody", None)
        if prosody is not None:
            lines = int(os.environ.get("EA_PROSODY_LOG_LINES", "300"))
            out.write("\n------------- %s log (last %d lines) -------------\n"
                      % (getattr(prosody, "kind", "prosody"), lines))
            out.write(prosody.log_tail(lines) + "\n")
            output = read_text(prosody.output_path)
            if output.strip():
                out.write("-- prosody output --\n" + output)
        out.write("------------------------------------------------------------\n")
        out.flush()

    def _cleanup(self):
        # While the test has passed so far, every daemon must still leave
        # cleanly: SIGTERM, exit status 0.  After a failure, just kill.
        failed = getattr(self, "_failed_so_far", lambda: True)
        errors = []
        if not failed():
            for desktop in self.desktops:
                for daemon in desktop.daemons:
                    if daemon.running:
                        try:
                            desktop.stop(daemon=daemon)
                        except AssertionError as e:
                            errors.append(str(e))
        self._stop_everything()
        if errors:
            raise AssertionError("; ".join(errors))

    def _stop_everything(self):
        for client in getattr(self, "clients", []):
            client.kill()
        for desktop in getattr(self, "desktops", []):
            desktop.shutdown()
        for bus in getattr(self, "buses", []):
            bus.stop()
        if getattr(self, "prosody", None) is not None:
            self.prosody.kill()

    # building the world

    def jid(self, user):
        return self.prosody.jid(user)

    def password(self, user):
        return "%s-secret" % user.split("@")[0]

    def add_users(self, *users):
        for user in users:
            self.prosody.add_user(user, self.password(user))

    def start_world(self, users=(), groups=None, directory=None, start=True):
        """Accounts (password: self.password(user)), mod_groups' groups,
        the directory text desktops get by default; then start Prosody."""
        self.add_users(*users)
        if groups is not None:
            self.prosody.set_groups(groups)
        self.directory = directory
        if start:
            self.prosody.start()

    def new_desktop(self, user, **kwargs):
        """A Desktop for user (not started), with the world's directory
        unless directory= is given."""
        kwargs.setdefault("directory", self.directory)
        desktop = Desktop(self.tmpdir, self.prosody, user, **kwargs)
        self.desktops.append(desktop)
        return desktop

    def start_desktop(self, user, connected=True, timeout=15, **kwargs):
        """new_desktop + start; waits for ConnectionState connected unless
        connected=False."""
        desktop = self.new_desktop(user, **kwargs)
        desktop.start()
        if connected:
            desktop.wait_connected(timeout)
        return desktop

    def new_bus(self, name):
        bus = Bus(self.tmpdir, name)
        self.buses.append(bus)
        bus.start()
        return bus

    def start_client(self, user, resource="plain", wait=True, **kwargs):
        client = PlainClient(self.tmpdir, self.prosody, user, resource=resource, **kwargs)
        self.clients.append(client)
        client.start(wait)
        return client

    # assertions

    def assertDBusError(self, desktop, error, method, args=None, **kwargs):
        """The call fails with the named error (short names are taken as
        org.example.ExpertAssist.Error.NAME)."""
        if "." not in error:
            error = ERROR_PREFIX + error
        got = desktop.call_error(method, args, **kwargs)
        self.assertEqual(got, error, "%s(%s): %s" % (method, args, desktop.last_error_message))
