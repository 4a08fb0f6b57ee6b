# SPDX-License-Identifier: GPL-3.0-or-later
#
# A raw XMPP client for hostile-input tests: a plain socket that logs in
# (SCRAM-SHA-1/-256 or PLAIN, no TLS: the test servers allow it on
# loopback) and then writes whatever bytes a test gives it, well-formed or
# not: invalid UTF-8, forbidden characters, absurd nesting. slixmpp would
# refuse or repair them.

import base64
import hashlib
import hmac
import os
import re
import socket
import time

STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>")


class RawXmppError(Exception):
    pass


class RawXmpp:
    def __init__(self, host, port, domain, user, password, resource="raw"):
        self.host, self.port, self.domain = host, port, domain
        self.user, self.password, self.resource = user, password, resource
        self.sock = None
        self.buffer = b""
        self.jid = None

    # transport

    def _recv_until(self, pattern, timeout=10):
        regex = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.buffer)
            if m:
                self.buffer = self.buffer[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise RawXmppError("timed out waiting for %r; have %r"
                                   % (pattern, self.buffer[-300:]))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise RawXmppError("the server closed the stream; have %r" % self.buffer[-300:])
            self.buffer += data

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def read_available(self, wait=0.5):
        """Whatever arrives within `wait` seconds; b"" and closed=True at EOF."""
        deadline = time.monotonic() + wait
        closed = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
            if not data:
                closed = True
                break
            self.buffer += data
        out, self.buffer = self.buffer, b""
        return out, closed

    # login

    def _open_stream(self):
        self.send(STREAM % self.domain)
        return self._recv_until(rb"<stream:features.*?</stream:features>").group(0)

    def _scram(self, mechanism, hashname):
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = "n=%s,r=%s" % (self.user, nonce)
        self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>%s</auth>"
                  % (mechanism, base64.b64encode(("n,," + first_bare).encode()).decode()))
        m = self._recv_until(rb"<challenge[^>]*>([^<]*)</challenge>|<failure.*?</failure>")
        if m.group(1) is None:
            raise RawXmppError("SASL refused: %r" % m.group(0))
        server_first = base64.b64decode(m.group(1)).decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        salted = hashlib.pbkdf2_hmac(hashname, self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashname).digest()
        stored_key = hashlib.new(hashname, client_key).digest()
        final_bare = "c=biws,r=%s" % attrs["r"]
        auth_message = ",".join((first_bare, server_first, final_bare)).encode()
        signature = hmac.new(stored_key, auth_message, hashname).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        final = "%s,p=%s" % (final_bare, base64.b64encode(proof).decode())
        self.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>"
                  % base64.b64encode(final.encode()).decode())
        m = self._recv_until(rb"<success.*?(/>|</success>)|<failure.*?</failure>|"
                             rb"<challenge[^>]*>[^<]*</challenge>")
        if m.group(0).startswith(b"<challenge"):
            # Some servers send the server signature as a challenge first.
            self.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
            m = self._recv_until(rb"<success.*?(/>|</success>)|<failure.*?</failure>")
        if not m.group(0).startswith(b"<success"):
            raise RawXmppError("login refused: %r" % m.group(0))

    def connect(self, presence=True, timeout=10):
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        features = self._open_stream()
        mechanisms = re.findall(rb"<mechanism>([^<]+)</mechanism>", features)
        if b"SCRAM-SHA-1" in mechanisms:
            self._scram("SCRAM-SHA-1", "sha1")
        elif b"SCRAM-SHA-256" in mechanisms:
            self._scram("SCRAM-SHA-256", "sha256")
        elif b"PLAIN" in mechanisms:
            token = base64.b64encode(("\0%s\0%s" % (self.user, self.password)).encode()).decode()
            self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>"
                      % token)
            m = self._recv_until(rb"<success.*?(/>|</success>)|<failure.*?</failure>")
            if not m.group(0).startswith(b"<success"):
                raise RawXmppError("login refused: %r" % m.group(0))
        else:
            raise RawXmppError("no mechanism we know among %r" % mechanisms)
        self.buffer = b""
        self._open_stream()
        self.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  "<resource>%s</resource></bind></iq>" % self.resource)
        m = self._recv_until(rb"<jid>([^<]+)</jid>")
        self.jid = m.group(1).decode()
        # RFC 3921 servers (ejabberd) still like a session.
        self.send("<iq type='set' id='sess1'><session "
                  "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
        self._recv_until(rb"<iq[^>]*id=['\"]sess1['\"][^>]*(/>|>.*?</iq>)")
        if presence:
            self.send("<presence/>")
        return self

    def close(self):
        if self.sock is not None:
            try:
                self.send("</stream:stream>")
            except OSError:
                pass
            self.sock.close()
            self.sock = None
