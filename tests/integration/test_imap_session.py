"""IMAP sessions (RFC 9051, RFC 3501) against a real roostd: the greeting
and CAPABILITY, LOGIN and AUTHENTICATE PLAIN (RFC 4959 SASL-IR and the
continuation form), ENABLE, ID, NAMESPACE, NOOP, LOGOUT, commands in the
wrong state, syntax errors, literals refused or never sent, the error
limit and the autologout timer. Raw sockets where imaplib would hide the
wire."""
import base64
import imaplib
import random
import re
import socket
import time

import pytest

import roost

ALICE = "alice@example.test"


class Raw:
    """An IMAP connection on a bare socket."""

    def __init__(self, node, port=None):
        self.sock = socket.create_connection(
            ("127.0.0.1", port or node.imap_port), timeout=30)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()
        self.n = 0

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        return self.f.readline()

    def cmd(self, text, tag=None):
        """Sends one command; returns (untagged lines, tagged line)."""
        self.n += 1
        tag = tag or f"t{self.n}".encode()
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        untagged = []
        while True:
            ln = self.line()
            if ln == b"":
                return untagged, b""
            if ln.startswith(tag + b" "):
                return untagged, ln
            untagged.append(ln)

    def login(self, addr=ALICE, password=roost.PASSWORD):
        _, t = self.cmd(b'LOGIN "%s" "%s"' % (addr.encode(),
                                               password.encode()))
        assert b" OK " in t, t
        return t

    def close(self):
        self.f.close()
        self.sock.close()


def plain(authzid, authcid, password):
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode())


def imap(node):
    return imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)


def test_greeting_and_capability(node):
    r = Raw(node)
    g = r.greeting
    assert g.startswith(b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 "), g
    assert g.endswith(b"] Roost ready\r\n")
    for cap in (b"LITERAL+", b"SASL-IR", b"AUTH=PLAIN", b"IDLE", b"ENABLE",
                b"CONDSTORE", b"QRESYNC", b"LIST-EXTENDED", b"LIST-STATUS",
                b"SPECIAL-USE", b"UTF8=ACCEPT", b"APPENDLIMIT=",
                b"NAMESPACE", b"UNSELECT", b"STATUS=SIZE"):
        assert cap in g, cap
    assert b"LOGINDISABLED" not in g        # loopback
    u, t = r.cmd(b"CAPABILITY")
    assert t == b"t1 OK CAPABILITY completed\r\n"
    assert len(u) == 1 and u[0].startswith(b"* CAPABILITY IMAP4rev1 ")
    assert b"AUTH=PLAIN" in u[0]
    r.close()


def test_imaplib_login_logout(node):
    m = imap(node)
    assert "IMAP4REV2" in m.capabilities
    typ, data = m.login(ALICE, roost.PASSWORD)
    assert typ == "OK"
    assert b"[CAPABILITY IMAP4rev1" in data[0]
    typ, data = m.noop()
    assert typ == "OK"
    typ, data = m.logout()
    assert typ == "BYE"


def test_login_wrong_password(node):
    r = Raw(node)
    _, t = r.cmd(b'LOGIN alice@example.test "nope"')
    assert t == b"t1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
    _, t = r.cmd(b"LOGIN nobody@example.test x")
    assert t.startswith(b"t2 NO [AUTHENTICATIONFAILED]")
    r.login()
    r.close()


def test_login_case_and_literal_password(node):
    r = Raw(node)
    r.send(b"a LOGIN ALICE@Example.Test {%d}\r\n" % len(roost.PASSWORD))
    assert r.line() == b"+ OK\r\n"
    r.send(roost.PASSWORD.encode() + b"\r\n")
    _, t = r.until(b"a")
    assert t.startswith(b"a OK [CAPABILITY "), t
    # LITERAL+ needs no continuation.
    r2 = Raw(node)
    r2.send(b"b LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (
        len(ALICE), ALICE.encode(), len(roost.PASSWORD),
        roost.PASSWORD.encode()))
    _, t = r2.until(b"b")
    assert t.startswith(b"b OK "), t
    r.close()
    r2.close()


def test_too_many_auth_failures(node):
    r = Raw(node)
    for i in range(2):
        _, t = r.cmd(b"LOGIN alice@example.test wrong")
        assert b" NO [AUTHENTICATIONFAILED]" in t, i
    u, t = r.cmd(b"LOGIN alice@example.test wrong")
    assert b" NO [AUTHENTICATIONFAILED]" in t
    assert r.line().startswith(b"* BYE ")
    assert r.line() == b""
    r.close()


def test_authenticate_plain_sasl_ir(node):
    r = Raw(node)
    _, t = r.cmd(b"AUTHENTICATE PLAIN " + plain("", ALICE, roost.PASSWORD))
    assert t.startswith(b"t1 OK [CAPABILITY "), t
    r.close()
    r = Raw(node)
    _, t = r.cmd(b"AUTHENTICATE PLAIN " + plain(ALICE, ALICE, "bad"))
    assert t.startswith(b"t1 NO [AUTHENTICATIONFAILED]")
    _, t = r.cmd(b"AUTHENTICATE PLAIN " +
                 plain("bob@example.test", ALICE, roost.PASSWORD))
    assert t.startswith(b"t2 NO [AUTHENTICATIONFAILED]")
    _, t = r.cmd(b"AUTHENTICATE PLAIN !!!!")
    assert t.startswith(b"t3 BAD"), t
    r.close()


def test_authenticate_plain_continuation(node):
    m = imap(node)
    typ, _ = m.authenticate(
        "PLAIN", lambda _: f"\0{ALICE}\0{roost.PASSWORD}".encode())
    assert typ == "OK"
    m.logout()
    r = Raw(node)
    r.send(b"a AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ \r\n"
    r.send(b"*\r\n")
    _, t = r.until(b"a")
    assert t.startswith(b"a BAD"), t
    _, t = r.cmd(b"AUTHENTICATE X-UNKNOWN")
    assert t.startswith(b"t1 NO"), t
    r.close()


def test_enable_id_namespace(node):
    r = Raw(node)
    u, t = r.cmd(b"ENABLE CONDSTORE")
    assert t.startswith(b"t1 BAD"), t          # not authenticated yet
    u, t = r.cmd(b'ID ("name" "pytest" "version" "1")')
    assert t == b"t2 OK ID completed\r\n"
    assert u[0].startswith(b'* ID ("name" "Roost"')
    r.login()
    u, t = r.cmd(b"ENABLE QRESYNC X-UNKNOWN UTF8=ACCEPT")
    assert t.startswith(b"t4 OK"), t
    assert u == [b"* ENABLED QRESYNC UTF8=ACCEPT\r\n"]
    u, t = r.cmd(b"ENABLE CONDSTORE")         # implied by QRESYNC
    assert u == [b"* ENABLED\r\n"]
    u, t = r.cmd(b"ID NIL")
    assert t.startswith(b"t6 OK")
    u, t = r.cmd(b"NAMESPACE")
    assert u == [b'* NAMESPACE (("" "/")) NIL NIL\r\n']
    assert t.startswith(b"t7 OK")
    r.close()


def test_logout_says_bye_then_ok(node):
    r = Raw(node)
    u, t = r.cmd(b"LOGOUT")
    assert u == [b"* BYE Logging out\r\n"]
    assert t == b"t1 OK LOGOUT completed\r\n"
    assert r.line() == b""
    r.close()


def test_unknown_and_wrong_state(node):
    r = Raw(node)
    _, t = r.cmd(b"FROB")
    assert t == b"t1 BAD Unknown command\r\n"
    _, t = r.cmd(b"SELECT INBOX")
    assert t == b"t2 BAD Command not valid in this state\r\n"
    _, t = r.cmd(b"UID NOOP")
    assert t.startswith(b"t3 BAD")
    r.login()
    _, t = r.cmd(b"LOGIN a b")
    assert t.startswith(b"t5 BAD")
    _, t = r.cmd(b"CLOSE")
    assert t.startswith(b"t6 BAD")             # nothing selected
    _, t = r.cmd(b"noop")                      # any case
    assert t.startswith(b"t7 OK")
    r.close()


def test_bad_syntax(node):
    r = Raw(node)
    _, t = r.cmd(b"ID (\"a\" \"b\"")           # unbalanced
    assert t.startswith(b"t1 BAD"), t
    _, t = r.cmd(b"NOOP extra")
    assert t.startswith(b"t2 BAD")
    r.send(b"t3 LOGIN \xc3\xa9 x\r\n")         # 8-bit atom
    _, t = r.until(b"t3")
    assert t.startswith(b"t3 BAD"), t
    r.send(b"\r\n")                            # empty line
    _, t = r.cmd(b"NOOP", tag=b"t4")
    assert t.startswith(b"t4 OK"), t
    r.close()


def test_huge_literal_refused(node):
    r = Raw(node)
    r.send(b"a LOGIN {99999999999}\r\n")
    _, t = r.until(b"a")
    assert t.startswith(b"a BAD"), t
    assert b"+ " not in t
    _, t = r.cmd(b"NOOP")                       # still usable
    assert t.startswith(b"t1 OK")
    r.close()



def test_negative_and_bad_literals(node):
    r = Raw(node)
    for i, bad in enumerate([b"{-1}", b"{1x}", b"{}", b"{+}"]):
        tag = b"n%d" % i
        r.send(tag + b" LOGIN " + bad + b"\r\n")
        _, t = r.until(tag)
        assert t.startswith(tag + b" BAD"), (bad, t)
    _, t = r.cmd(b"NOOP")                       # still usable
    assert t.startswith(b"t1 OK"), t
    r.close()

def test_too_many_errors_bye(node):
    r = Raw(node)
    for i in range(19):                         # imap.max_errors = 20
        _, t = r.cmd(b"FROB")
        assert t.startswith(b"t%d BAD" % (i + 1)), i
    u, t = r.cmd(b"FROB")
    assert t.startswith(b"t20 BAD")
    assert r.line().startswith(b"* BYE ")
    assert r.line() == b""
    r.close()


def test_pipelined_commands(node):
    r = Raw(node)
    r.send(b"".join(b"p%d NOOP\r\n" % i for i in range(200)) +
           b'l LOGIN alice@example.test "%s"\r\nz NAMESPACE\r\n' %
           roost.PASSWORD.encode())
    for i in range(200):
        _, t = r.until(b"p%d" % i)
        assert t.startswith(b"p%d OK" % i)
    _, t = r.until(b"l")
    assert t.startswith(b"l OK")
    u, t = r.until(b"z")
    assert t.startswith(b"z OK")
    r.close()


def test_random_bytes(node):
    """Garbage of every size: only well-formed responses come back, the
    node survives and memory does not grow."""
    rng = random.Random(20261128)
    rss0 = node.rss_kb()
    for i in range(60):
        size = rng.choice([1, 10, 100, 1000, 10000, 100000])
        payload = bytes(rng.getrandbits(8) for _ in range(size))
        if i % 3 == 0:                  # random lines look like commands
            payload = payload.replace(b"\x00", b"\r\n")
        if i % 5 == 0:                  # and some announce literals
            payload = b"a LOGIN {%d}\r\n" % rng.choice([0, 5, 10**9]) + \
                payload
        s = socket.create_connection(("127.0.0.1", node.imap_port),
                                     timeout=10)
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError:                 # closed after too many errors
            pass
        out = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        assert out.startswith(b"* OK [CAPABILITY "), out[:80]
        for ln in out.split(b"\r\n"):
            if ln:
                assert ln.startswith((b"* ", b"+ ")) or \
                    re.match(rb"[^ ]+ (OK|NO|BAD) ", ln), ln
    assert node.alive()
    r = Raw(node)
    r.login()
    r.close()
    # ASan keeps freed blocks in quarantine; a release build grows by
    # well under 32 MiB.
    assert node.rss_kb() - rss0 < 64 * 1024


# ---- own nodes: timers ----

def test_literal_never_sent_times_out(node_factory):
    n = node_factory(settings={"imap.timeout": "2s"}).start()
    r = Raw(n)
    r.send(b"a LOGIN {5}\r\n")
    assert r.line() == b"+ OK\r\n"
    t0 = time.time()
    assert r.line().startswith(b"* BYE ")
    assert r.line() == b""
    assert 1.0 < time.time() - t0 < 10
    r.close()


def test_autologout(node_factory):
    n = node_factory(settings={"imap.timeout": "2s"}).start()
    r = Raw(n)
    t0 = time.time()
    assert r.line() == b"* BYE Autologout; idle for too long\r\n"
    assert r.line() == b""
    assert 1.0 < time.time() - t0 < 10
    r.close()


def test_connection_limit_per_ip(node_factory):
    n = node_factory(settings={"imap.max_connections_per_ip": "2"}).start()
    a, b = Raw(n), Raw(n)
    assert a.greeting.startswith(b"* OK") and b.greeting.startswith(b"* OK")
    c = Raw(n)
    assert c.greeting.startswith(b"* BYE ")
    c.close()
    a.close()
    b.close()


def test_shutdown_says_bye(node_factory):
    n = node_factory().start()
    r = Raw(n)
    assert n.stop() == 0
    assert r.line() == b"* BYE Server shutting down\r\n"
    assert r.line() == b""
    r.close()
