"""POP3 (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH PLAIN) against a real
roostd: logins, the maildrop commands, dot-stuffing on the wire, deletion
only at QUIT, the maildrop lock, a large message, hostile input, limits
and graceful shutdown. Mail is delivered over SMTP; each test uses its own
account so that tests do not see each other's mail."""
import base64
import hashlib
import itertools
import poplib
import random
import re
import smtplib
import socket
import time

import pytest

import roost

_seq = itertools.count(1)


@pytest.fixture
def user(node):
    """A fresh account with an empty maildrop."""
    addr = f"pop{next(_seq)}-{int(time.time() * 1000) % 100000}@example.test"
    node.add_user(addr)
    return addr


def deliver(node, rcpt, body, sender="sender@example.test"):
    """Delivers one message (bytes, CRLF lines) over SMTP."""
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail(sender, [rcpt], body)


def message(subject, *body_lines):
    lines = ["From: sender@example.test", "To: someone@example.test",
             f"Subject: {subject}", ""] + list(body_lines)
    return ("\r\n".join(lines) + "\r\n").encode()


def login(node, addr, password=roost.PASSWORD):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=30)
    p.user(addr)
    p.pass_(password)
    return p


def login_retry(node, addr, timeout=10):
    """Logs in, waiting while an earlier session still holds the lock."""
    deadline = time.time() + timeout
    while True:
        try:
            return login(node, addr)
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0] or time.time() > deadline:
                raise
            time.sleep(0.1)


class Raw:
    """A POP3 connection on a bare socket, for what poplib cannot send."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.pop3_port),
                                             timeout=30)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        return self.f.readline()

    def cmd(self, c):
        self.send(c + b"\r\n")
        return self.line()

    def multi(self):
        """The lines of a multi-line response after its status line, as
        sent (still dot-stuffed), without the terminating "."."""
        out = []
        while True:
            ln = self.line()
            assert ln.endswith(b"\r\n"), ln
            if ln == b".\r\n":
                return out
            out.append(ln)

    def login(self, addr, password=roost.PASSWORD):
        assert self.cmd(b"USER " + addr.encode()).startswith(b"+OK")
        r = self.cmd(b"PASS " + password.encode())
        assert r.startswith(b"+OK"), r
        return r

    def close(self):
        self.f.close()
        self.sock.close()


def plain(authzid, authcid, password):
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode())


# ---- greeting, CAPA, logins ----

def test_greeting_and_capa(node):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=30)
    welcome = p.getwelcome()
    assert welcome.startswith(b"+OK")
    assert not re.search(rb"\d+\.\d+", welcome)    # no version in banner
    caps = p.capa()
    for c in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE",
              "PIPELINING", "IMPLEMENTATION"):
        assert c in caps, caps
    assert caps["SASL"] == ["PLAIN"]
    assert "STLS" not in caps
    assert p.quit().startswith(b"+OK")


def test_user_pass_and_empty_maildrop(node, user):
    p = login(node, user)
    assert p.stat() == (0, 0)
    resp, listing, _ = p.list()
    assert listing == []
    resp, ids, _ = p.uidl()
    assert ids == []
    assert p.capa()["SASL"] == ["PLAIN"]      # CAPA works after login too
    p.quit()


def test_wrong_password_then_right(node, user):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=30)
    p.user(user)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("not-the-password")
    assert e.value.args[0] == b"-ERR [AUTH] Authentication failed"
    p.user(user)
    assert p.pass_(roost.PASSWORD).startswith(b"+OK")
    p.quit()


def test_unknown_user_looks_like_wrong_password(node):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=30)
    assert p.user("nobody@example.test").startswith(b"+OK")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(roost.PASSWORD)
    assert e.value.args[0] == b"-ERR [AUTH] Authentication failed"
    p.close()


def test_too_many_auth_failures_close(node, user):
    r = Raw(node)
    for _ in range(3):                   # pop3.max_auth_failures = 3
        assert r.cmd(b"USER " + user.encode()).startswith(b"+OK")
        assert r.cmd(b"PASS wrong") == b"-ERR [AUTH] Authentication failed\r\n"
    assert r.line() == b""               # closed
    r.close()


def test_pass_without_user(node):
    r = Raw(node)
    assert r.cmd(b"PASS " + roost.PASSWORD.encode()).startswith(b"-ERR")
    assert r.cmd(b"QUIT").startswith(b"+OK")
    r.close()


def test_auth_plain_initial_response(node, user):
    r = Raw(node)
    assert r.cmd(b"AUTH PLAIN " + plain("", user, roost.PASSWORD)) \
        .startswith(b"+OK")
    assert r.cmd(b"STAT") == b"+OK 0 0\r\n"
    assert r.cmd(b"QUIT").startswith(b"+OK")
    r.close()


def test_auth_plain_continuation(node, user):
    r = Raw(node)
    assert r.cmd(b"auth plain") == b"+ \r\n"
    # authzid equal to authcid is allowed (no proxy authorisation).
    assert r.cmd(plain(user, user, roost.PASSWORD)).startswith(b"+OK")
    assert r.cmd(b"STAT") == b"+OK 0 0\r\n"
    r.cmd(b"QUIT")
    r.close()


def test_auth_plain_refusals(node, user):
    r = Raw(node)
    assert r.cmd(b"AUTH PLAIN") == b"+ \r\n"
    assert r.cmd(b"*").startswith(b"-ERR")            # cancelled
    assert r.cmd(b"AUTH CRAM-MD5").startswith(b"-ERR")
    assert r.cmd(b"AUTH PLAIN") == b"+ \r\n"
    assert r.cmd(b"not base64!") == b"-ERR [AUTH] Authentication failed\r\n"
    assert r.cmd(b"AUTH PLAIN " + plain("bob@example.test", user,
                                        roost.PASSWORD)) == \
        b"-ERR [AUTH] Authentication failed\r\n"    # authzid mismatch
    # An empty initial response is the third failure: the session ends.
    assert r.cmd(b"AUTH PLAIN =") == b"-ERR [AUTH] Authentication failed\r\n"
    assert r.line() == b""
    r.close()
    r = Raw(node)
    assert r.cmd(b"AUTH PLAIN " + plain("", user, roost.PASSWORD)) \
        .startswith(b"+OK")
    r.cmd(b"QUIT")
    r.close()


def test_auth_mechanism_list(node):
    r = Raw(node)
    assert r.cmd(b"AUTH") == b"+OK\r\n"
    assert r.multi() == [b"PLAIN\r\n"]
    r.close()


def test_transaction_commands_need_login(node):
    r = Raw(node)
    for c in (b"STAT", b"LIST", b"RETR 1", b"DELE 1", b"UIDL", b"TOP 1 1",
              b"RSET", b"NOOP"):
        assert r.cmd(c).startswith(b"-ERR"), c
    assert r.cmd(b"CAPA").startswith(b"+OK")
    r.multi()
    assert r.cmd(b"QUIT").startswith(b"+OK")
    r.close()


# ---- the maildrop ----

def test_stat_list_uidl_top_retr(node, user):
    m1 = message("one", "first line", ".leading dot", "..two dots", ".",
                 "last line")
    m2 = message("two", "hello")
    deliver(node, user, m1)
    deliver(node, user, m2)
    p = login(node, user)
    count, octets = p.stat()
    assert count == 2
    resp, listing, _ = p.list()
    sizes = [int(x.split()[1]) for x in listing]
    assert [int(x.split()[0]) for x in listing] == [1, 2]
    assert sum(sizes) == octets
    assert p.list(2).split()[2] == str(sizes[1]).encode()
    resp, ids, _ = p.uidl()
    uids = [x.split()[1] for x in ids]
    assert len(set(uids)) == 2
    for u in uids:
        assert re.fullmatch(rb"[0-9a-f]{16}", u), u
    assert p.uidl(1).split()[2] == uids[0]

    resp, lines, n = p.retr(1)
    assert resp == b"+OK %d octets" % sizes[0]
    text = b"\r\n".join(lines) + b"\r\n"
    assert len(text) == sizes[0]        # poplib removed the stuffing
    assert text.endswith(m1.split(b"\r\n\r\n", 1)[1])
    assert b"Subject: one" in text

    # TOP 1 0: the header and the blank line only; TOP 1 2: two lines.
    resp, lines, _ = p.top(1, 0)
    assert lines[-1] == b"" and b"Subject: one" in lines
    assert b"first line" not in lines
    resp, lines, _ = p.top(1, 2)
    assert lines[-2:] == [b"first line", b".leading dot"]
    resp, lines, _ = p.top(2, 100)
    assert lines[-1] == b"hello"
    p.quit()


def test_dot_stuffing_on_the_wire(node, user):
    deliver(node, user, message("dots", ".leading", "..two", ".", "end"))
    r = Raw(node)
    r.login(user)
    assert r.cmd(b"RETR 1").startswith(b"+OK")
    body = r.multi()
    tail = body[-4:]
    assert tail == [b"..leading\r\n", b"...two\r\n", b"..\r\n", b"end\r\n"]
    assert r.cmd(b"NOOP") == b"+OK\r\n"
    r.cmd(b"QUIT")
    r.close()


def test_bad_message_numbers(node, user):
    deliver(node, user, message("x", "body"))
    r = Raw(node)
    r.login(user)
    for c in (b"RETR 0", b"RETR 2", b"RETR abc", b"RETR -1",
              b"RETR 99999999999999999999999", b"TOP 1", b"TOP 1 -1",
              b"TOP 1 x", b"TOP 2 1", b"LIST 5", b"UIDL 0", b"DELE 7",
              b"RETR", b"RETR 1 2"):
        assert r.cmd(c).startswith(b"-ERR"), c
    assert r.cmd(b"RETR 1").startswith(b"+OK")      # still works
    r.multi()
    r.cmd(b"QUIT")
    r.close()


def test_dele_and_rset(node, user):
    for i in range(3):
        deliver(node, user, message(f"m{i}", f"body {i}"))
    p = login(node, user)
    count, octets = p.stat()
    size2 = int(p.list(2).split()[2])
    assert p.dele(2).startswith(b"+OK")
    assert p.stat() == (2, octets - size2)
    for f in (lambda: p.retr(2), lambda: p.list(2), lambda: p.uidl(2),
              lambda: p.top(2, 0), lambda: p.dele(2)):
        with pytest.raises(poplib.error_proto) as e:
            f()
        assert b"deleted" in e.value.args[0]
    resp, listing, _ = p.list()
    assert [int(x.split()[0]) for x in listing] == [1, 3]
    resp, ids, _ = p.uidl()
    assert [int(x.split()[0]) for x in ids] == [1, 3]
    assert p.rset().startswith(b"+OK")
    assert p.stat() == (3, octets)
    p.quit()
    p = login_retry(node, user)
    assert p.stat() == (3, octets)
    p.quit()


def test_dele_quit_removes(node, user):
    for i in range(3):
        deliver(node, user, message(f"m{i}", f"body {i}"))
    p = login(node, user)
    resp, ids, _ = p.uidl()
    uids = [x.split()[1] for x in ids]
    p.dele(1)
    p.dele(3)
    assert p.quit().startswith(b"+OK")
    p = login_retry(node, user)
    assert p.stat()[0] == 1
    resp, ids, _ = p.uidl()
    assert [x.split()[1] for x in ids] == [uids[1]]
    resp, lines, _ = p.retr(1)
    assert lines[-1] == b"body 1"
    p.quit()


def test_dele_then_connection_drop_removes_nothing(node, user):
    for i in range(2):
        deliver(node, user, message(f"m{i}", f"body {i}"))
    r = Raw(node)
    r.login(user)
    assert r.cmd(b"DELE 1").startswith(b"+OK")
    assert r.cmd(b"DELE 2").startswith(b"+OK")
    r.sock.shutdown(socket.SHUT_RDWR)       # no QUIT
    r.close()
    p = login_retry(node, user)
    assert p.stat()[0] == 2
    p.quit()


def test_uidl_stable_across_sessions(node, user):
    deliver(node, user, message("a", "a"))
    deliver(node, user, message("b", "b"))
    p = login(node, user)
    first = dict(x.split() for x in p.uidl()[1])
    p.dele(1)
    p.quit()
    deliver(node, user, message("c", "c"))
    p = login_retry(node, user)
    second = dict(x.split() for x in p.uidl()[1])
    p.quit()
    assert second[b"1"] == first[b"2"]      # same message, same id
    assert second[b"2"] not in first.values()   # never reused


def test_second_session_in_use(node, user):
    deliver(node, user, message("x", "y"))
    p1 = login(node, user)
    r = Raw(node)
    assert r.cmd(b"USER " + user.encode()).startswith(b"+OK")
    assert r.cmd(b"PASS " + roost.PASSWORD.encode()) == \
        b"-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n"
    # Still in AUTHORIZATION: transaction commands are refused.
    assert r.cmd(b"STAT").startswith(b"-ERR")
    # AUTH PLAIN is refused the same way.
    assert r.cmd(b"AUTH PLAIN " + plain("", user, roost.PASSWORD)) \
        .startswith(b"-ERR [IN-USE]")
    p1.quit()
    deadline = time.time() + 10
    while True:
        r.cmd(b"USER " + user.encode())
        resp = r.cmd(b"PASS " + roost.PASSWORD.encode())
        if resp.startswith(b"+OK") or time.time() > deadline:
            break
        time.sleep(0.1)
    assert resp.startswith(b"+OK"), resp
    assert r.cmd(b"STAT").startswith(b"+OK 1 ")
    r.cmd(b"QUIT")
    r.close()


def test_ten_megabyte_message(node, user):
    rnd = random.Random(1939)
    lines = []
    size = 0
    while size < 10 * 1024 * 1024:
        n = rnd.randint(0, 200)
        ln = "".join(rnd.choice("abcdefghij .-=") for _ in range(n))
        if rnd.random() < 0.05:
            ln = "." + ln                    # needs stuffing
        lines.append(ln)
        size += len(ln) + 2
    msg = message("big", *lines)
    deliver(node, user, msg)
    p = login(node, user)
    count, octets = p.stat()
    assert count == 1 and octets >= len(msg)
    resp, got, _ = p.retr(1)
    assert resp == b"+OK %d octets" % octets
    text = b"\r\n".join(got) + b"\r\n"
    assert len(text) == octets
    body = msg.split(b"\r\n\r\n", 1)[1]
    assert hashlib.sha256(text[-len(body):]).digest() == \
        hashlib.sha256(body).digest()
    # TOP of a big message reads only what it needs.
    resp, top, _ = p.top(1, 3)
    assert top[-3:] == [ln.encode() for ln in lines[:3]]
    p.quit()


def test_pipelined_commands(node, user):
    deliver(node, user, message("p", "pipelined"))
    r = Raw(node)
    r.send(b"USER " + user.encode() + b"\r\nPASS " +
           roost.PASSWORD.encode() + b"\r\nSTAT\r\nLIST\r\nRETR 1\r\n"
           b"NOOP\r\nQUIT\r\n")
    assert r.line().startswith(b"+OK")             # USER
    assert r.line().startswith(b"+OK")             # PASS
    assert r.line().startswith(b"+OK 1 ")          # STAT
    assert r.line().startswith(b"+OK")             # LIST
    assert len(r.multi()) == 1
    assert r.line().startswith(b"+OK")             # RETR
    assert r.multi()[-1] == b"pipelined\r\n"
    assert r.line() == b"+OK\r\n"                  # NOOP
    assert r.line().startswith(b"+OK")             # QUIT
    assert r.line() == b""
    r.close()


def test_pipelined_retr_flood_is_bounded(node, user):
    """A client that pipelines many RETRs and reads slowly still gets
    every response complete and in order."""
    deliver(node, user, message("f", *(["x" * 70] * 2000)))
    r = Raw(node)
    r.login(user)
    n = 60
    r.send(b"RETR 1\r\n" * n + b"QUIT\r\n")
    time.sleep(1)                                   # let the server stall
    for _ in range(n):
        assert r.line().startswith(b"+OK")
        body = r.multi()
        assert body[-1] == b"x" * 70 + b"\r\n"
    assert r.line().startswith(b"+OK")
    r.close()


# ---- hostile input ----

def test_garbage_and_overlong_lines(node, user):
    r = Raw(node)
    assert r.cmd(b"FOO").startswith(b"-ERR Unknown command")
    assert r.cmd(b"").startswith(b"-ERR")
    assert r.cmd(b"\x00\x01\x02").startswith(b"-ERR")
    assert r.cmd(b"NO\x00OP").startswith(b"-ERR")
    assert r.cmd(b"\xff\xfe\xfd").startswith(b"-ERR")
    assert r.cmd(b"NOOP " + b"x" * 5000) == b"-ERR Line too long\r\n"
    assert r.cmd(b"LIST " + b"1" * 100).startswith(b"-ERR")
    # 255 octets with CRLF is allowed (RFC 2449), 256 is not.
    assert r.cmd(b"CAPA" + b" " * 249).startswith(b"+OK")
    r.multi()
    assert r.cmd(b"CAPA" + b" " * 250) == b"-ERR Line too long\r\n"
    # A long address in USER is allowed.
    assert r.cmd(b"USER " + b"a" * 200 + b"@example.test").startswith(b"+OK")
    # The session still works.
    r.login(user)
    assert r.cmd(b"STAT").startswith(b"+OK")
    assert r.cmd(b"QUIT").startswith(b"+OK")
    r.close()


def test_bare_lf_commands(node, user):
    r = Raw(node)
    r.send(b"USER " + user.encode() + b"\nPASS " + roost.PASSWORD.encode() +
           b"\nSTAT\n")
    assert r.line().startswith(b"+OK")
    assert r.line().startswith(b"+OK")
    assert r.line().startswith(b"+OK 0 0")
    r.close()


def test_max_errors_closes(node):
    r = Raw(node)
    for i in range(20):                   # pop3.max_errors = 20
        assert r.cmd(b"FOO").startswith(b"-ERR"), i
    assert r.line() == b""
    r.close()


def test_unterminated_flood_is_discarded(node):
    r = Raw(node)
    r.send(b"X" * (1024 * 1024))
    assert r.line() == b"-ERR Line too long\r\n"
    r.send(b"\r\nNOOP\r\n")
    assert r.line().startswith(b"-ERR")          # NOOP before login
    assert r.cmd(b"QUIT").startswith(b"+OK")
    r.close()


# ---- limits and lifecycle (own nodes) ----

def test_idle_timeout(node_factory):
    n = node_factory(settings={"pop3.timeout": "2s"}).start()
    r = Raw(n)
    t0 = time.time()
    assert r.line().startswith(b"-ERR")
    assert r.line() == b""
    assert 1.5 < time.time() - t0 < 10
    r.close()


def test_connection_limit_per_ip(node_factory):
    n = node_factory(settings={"pop3.max_connections_per_ip": "2"}).start()
    a, b = Raw(n), Raw(n)
    assert a.greeting.startswith(b"+OK") and b.greeting.startswith(b"+OK")
    c = socket.create_connection(("127.0.0.1", n.pop3_port), timeout=10)
    f = c.makefile("rb")
    assert f.readline().startswith(b"-ERR")
    assert f.readline() == b""
    f.close()
    c.close()
    a.close()
    deadline = time.time() + 5
    while True:                           # the slot frees on close
        d = Raw(n)
        if d.greeting.startswith(b"+OK") or time.time() > deadline:
            break
        d.close()
        time.sleep(0.1)
    assert d.greeting.startswith(b"+OK")
    d.close()
    b.close()


def test_shutdown_applies_no_deletion(node_factory):
    n = node_factory().start()
    n.add_domain("example.test")
    n.add_user("alice@example.test")
    deliver(n, "alice@example.test", message("keep", "me"))
    idle = Raw(n)
    r = Raw(n)
    r.login("alice@example.test")
    assert r.cmd(b"DELE 1").startswith(b"+OK")
    assert n.stop() == 0
    assert r.line() == b"-ERR [SYS/TEMP] Server shutting down\r\n"
    assert r.line() == b""
    assert idle.line() == b"-ERR [SYS/TEMP] Server shutting down\r\n"
    r.close()
    idle.close()
    n.start()
    p = login(n, "alice@example.test")
    assert p.stat()[0] == 1
    p.quit()
