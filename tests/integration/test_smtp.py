"""SMTP intake (RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
ENHANCEDSTATUSCODES, CHUNKING) against a real roostd: messages come back
byte for byte over POP3 (after the Return-Path: and Received: lines the
node adds), aliases, subaddresses and groups deliver one copy per account,
every refusal has its code, and hostile clients (bare LF smuggling,
overlong lines, endless DATA, floods, idlers) meet their limits. Each test
uses its own accounts so that mailboxes do not mix."""
import base64
import hashlib
import itertools
import json
import os
import poplib
import re
import smtplib
import socket
import time
import urllib.request

import pytest

import roost

_seq = itertools.count(1)


def fresh(node, quota=None):
    """A new account with an empty mailbox; returns its address."""
    addr = f"s{next(_seq)}x{int(time.time() * 1000) % 100000}@example.test"
    node.add_user(addr, quota=quota)
    return addr


def api(node, method, path, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{node.http_port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Bearer " + node.token)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def mailbox(node, addr, timeout=15):
    """Every message of addr's INBOX, as the bytes POP3 RETR gives back."""
    deadline = time.time() + timeout
    while True:
        try:
            p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=60)
            p.user(addr)
            p.pass_(roost.PASSWORD)
            break
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0] or time.time() > deadline:
                raise
            time.sleep(0.1)
    n, _ = p.stat()
    out = []
    for i in range(1, n + 1):
        _, lines, _ = p.retr(i)
        out.append(b"\r\n".join(lines) + b"\r\n")
    p.quit()
    return out


def strip_trace(raw):
    """The message without the Return-Path: and Received: we add."""
    lines = raw.split(b"\r\n")
    assert lines[0].startswith(b"Return-Path: <"), lines[0]
    assert lines[1].startswith(b"Received: from "), lines[1]
    i = 2
    while lines[i].startswith(b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


def trace(raw):
    """The Return-Path: and Received: lines, unfolded, as text."""
    head = raw[:len(raw) - len(strip_trace(raw))]
    return head.decode("utf-8").replace("\r\n\t", " ")


def message(subject, *body_lines, extra=()):
    lines = ["From: sender@example.test", "To: someone@example.test",
             f"Subject: {subject}", *extra, ""] + list(body_lines)
    return ("\r\n".join(lines) + "\r\n").encode()


class Raw:
    """A raw SMTP client: bytes out, replies in, nothing hidden."""

    def __init__(self, node, greet=True):
        self.s = socket.create_connection(("127.0.0.1", node.smtp_port),
                                          timeout=30)
        self.buf = b""
        if greet:
            code, text = self.reply()
            assert code == 220 and "ESMTP" in text, text

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        assert line.endswith(b"\r"), line
        return line[:-1].decode("utf-8", "replace")

    def reply(self):
        """(code, text of the last line) of one reply, multi-line too."""
        while True:
            line = self.line()
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), line[4:]

    def cmd(self, line, code):
        self.send(line + "\r\n")
        got, text = self.reply()
        assert got == code, f"{line!r}: {got} {text}"
        return text

    def ehlo(self):
        self.send("EHLO client.test\r\n")
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line[3] == " ":
                return lines

    def _end(self, timeout):
        """Reads to the end of the server's side: "eof" (a FIN), "reset"
        or "timeout"; what arrives first goes to the buffer."""
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return "eof"
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return "reset"
        except socket.timeout:
            return "timeout"

    def closed(self, timeout=10):
        """True once the server closed (after any remaining bytes)."""
        return self._end(timeout) != "timeout"

    def eof(self, timeout=10):
        """True if the server's side ends in a FIN after any remaining
        bytes; False on a reset or a timeout."""
        return self._end(timeout) == "eof"

    def close(self):
        self.s.close()


# ---- round trips ----

def test_ehlo_advertises_extensions(node):
    c = Raw(node)
    lines = c.ehlo()
    exts = {l[4:].split(" ")[0] for l in lines[1:]}
    assert {"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8",
            "ENHANCEDSTATUSCODES", "CHUNKING"} <= exts
    assert "AUTH" not in exts and "STARTTLS" not in exts
    assert any(l[4:] == "SIZE 52428800" for l in lines)
    c.cmd("QUIT", 221)
    assert c.closed()


def test_roundtrip_7bit(node):
    u = fresh(node)
    body = message("plain", "Hello,", "", "a plain message.", "-- ", "me")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("sender@example.test", [u], body)
    [raw] = mailbox(node, u)
    assert strip_trace(raw) == body
    t = trace(raw)
    assert t.startswith("Return-Path: <sender@example.test>\r\n"
                        "Received: from ")
    assert "[127.0.0.1]" in t and "(Roost) with ESMTP id " in t
    assert f"for <{u}>; " in t and t.endswith(" +0000\r\n")


def test_roundtrip_8bit(node):
    u = fresh(node)
    body = message("8bit", "caf\u00e9 cr\u00e8me", "\u00fcber",
                   extra=("MIME-Version: 1.0",
                          "Content-Type: text/plain; charset=utf-8",
                          "Content-Transfer-Encoding: 8bit"))
    body += bytes(range(128, 256)) + b"\r\n"
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("sender@example.test", [u], body,
                   mail_options=["BODY=8BITMIME"])
    [raw] = mailbox(node, u)
    assert strip_trace(raw) == body


def test_roundtrip_utf8_headers_smtputf8(node):
    u = fresh(node)
    body = ("From: J\u00f6rg <j\u00f6rg@b\u00fccher.test>\r\n"
            f"To: {u}\r\nSubject: Gr\u00fc\u00dfe \u2014 \u65e5\u672c\r\n"
            "\r\n\u00e9t\u00e9 \U0001f600\r\n").encode("utf-8")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("j\u00f6rg@b\u00fccher.test", [u], body,
                   mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    [raw] = mailbox(node, u)
    assert strip_trace(raw) == body
    t = trace(raw)
    assert "Return-Path: <j\u00f6rg@b\u00fccher.test>" in t
    assert " with UTF8SMTP id " in t


def test_long_lines_and_leading_dots(node):
    u = fresh(node)
    body = message("dots", "x" * 998, ".", "..", ".leading dot",
                   "..two dots", ". space", "y" * 997 + ".", "end")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("sender@example.test", [u], body)
    [raw] = mailbox(node, u)
    assert strip_trace(raw) == body


def test_ten_megabyte_attachment(node):
    u = fresh(node)
    blob = os.urandom(10 * 1024 * 1024)
    b64 = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    body = (b"From: sender@example.test\r\nTo: " + u.encode() +
            b"\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
            b"--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            b"--XX\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 +
            b"--XX--\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=300) as s:
        s.sendmail("sender@example.test", [u], body)
    [raw] = mailbox(node, u)
    got = strip_trace(raw)
    assert len(got) == len(body)
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()


def test_bdat_chunks_are_verbatim(node):
    u = fresh(node)
    part1 = b"From: sender@example.test\r\nSubject: bdat\r\n\r\n"
    part2 = b".leading dot stays\r\n.\r\n..\r\nend\r\n"
    c = Raw(node)
    c.ehlo()
    # RFC 3030: BDAT may be pipelined with MAIL and RCPT.
    c.send(f"MAIL FROM:<sender@example.test> BODY=8BITMIME\r\n"
           f"RCPT TO:<{u}>\r\nBDAT {len(part1)}\r\n".encode() + part1)
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    code, text = c.reply()
    assert code == 250 and text == f"2.0.0 {len(part1)} octets received"
    c.send(f"BDAT {len(part2)} LAST\r\n".encode() + part2)
    code, text = c.reply()
    assert code == 250 and text.startswith("2.0.0 Ok: stored as ")
    # BDAT 0 LAST closes a transaction too.
    c.send(f"MAIL FROM:<>\r\nRCPT TO:<{u}>\r\nBDAT 6\r\nx: y\r\n"
           f"BDAT 0 LAST\r\n".encode())
    assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 250]
    c.cmd("QUIT", 221)
    raws = mailbox(node, u)
    assert len(raws) == 2
    assert sorted(strip_trace(r) for r in raws) == sorted(
        [part1 + part2, b"x: y\r\n"])


def test_pipelined_transaction(node):
    u, v = fresh(node), fresh(node)
    c = Raw(node)
    c.send(f"EHLO client.test\r\nMAIL FROM:<sender@example.test>\r\n"
           f"RCPT TO:<{u}>\r\nRCPT TO:<nobody@example.test>\r\n"
           f"RCPT TO:<{v}>\r\nDATA\r\n")
    while c.line().startswith("250-"):
        pass
    assert [c.reply()[0] for _ in range(5)] == [250, 250, 550, 250, 354]
    c.send(message("piped") + b".\r\nNOOP\r\nRSET\r\nQUIT\r\n")
    assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 221]
    assert c.closed()
    for a in (u, v):
        [raw] = mailbox(node, a)
        assert strip_trace(raw) == message("piped")
        assert "\tfor <" not in raw.decode()     # two recipients


# ---- directory: aliases, subaddresses, groups ----

def test_alias_and_subaddress(node):
    u = fresh(node)
    alias = f"alias{next(_seq)}@example.test"
    assert api(node, "POST", "/api/v1/aliases",
               {"address": alias, "targets": [u]}) == 201
    local, domain = u.split("@")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("sender@example.test", [alias], message("via alias"))
        s.sendmail("sender@example.test", [f"{local}+news@{domain}"],
                   message("via subaddress"))
        s.sendmail("sender@example.test", [u.upper()], message("upper"))
    got = sorted(strip_trace(r) for r in mailbox(node, u))
    assert got == sorted([message("via alias"), message("via subaddress"),
                          message("upper")])


def test_group_one_copy_per_member(node):
    a, b, c = fresh(node), fresh(node), fresh(node)
    alias = f"alias{next(_seq)}@example.test"
    group = f"group{next(_seq)}@example.test"
    inner = f"inner{next(_seq)}@example.test"
    assert api(node, "POST", "/api/v1/aliases",
               {"address": alias, "targets": [a]}) == 201
    assert api(node, "POST", "/api/v1/groups",
               {"address": inner, "members": [b, c]}) == 201
    assert api(node, "POST", "/api/v1/groups",
               {"address": group, "members": [a, b, alias, inner]}) == 201
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        # a through the group, the alias, directly; b and c twice each.
        refused = s.sendmail("sender@example.test",
                             [group, a, alias, b, inner], message("team"))
        assert refused == {}
    for m in (a, b, c):
        assert [strip_trace(r) for r in mailbox(node, m)] == [message("team")]


# ---- refusals ----

def test_recipient_refusals(node):
    c = Raw(node)
    c.ehlo()
    c.cmd("MAIL FROM:<sender@example.test>", 250)
    assert c.cmd("RCPT TO:<someone@elsewhere.test>", 554).startswith(
        "5.7.1 Relay access denied")
    assert c.cmd("RCPT TO:<nobody@example.test>", 550).startswith("5.1.1")
    assert c.cmd("RCPT TO:<a@@example.test>", 501).startswith("5.1.3")
    assert c.cmd("RCPT TO:bob@example.test", 501).startswith("5.1.3")
    assert c.cmd("RCPT TO:<j\u00f6rg@example.test>", 553).startswith(
        "5.6.7")
    assert c.cmd("RCPT TO:<bob@example.test> NOTIFY=NEVER", 555).startswith(
        "5.5.4")
    assert c.cmd("RCPT TO:<bob@example.test>", 250) == "2.1.5 Ok"
    c.cmd("QUIT", 221)


def test_one_log_line_per_delivery(node):
    """The delivery's smtp.stored line names the sender and every accepted
    recipient; a refused recipient's line names the sender too; MAIL and
    accepted RCPT do not log at info level, and the body is never logged."""
    a, b = fresh(node), fresh(node)
    sender = f"logcheck{next(_seq)}@sender.test"
    secret = f"body-marker-{next(_seq)}-never-logged"
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=30) as s:
        refused = s.sendmail(sender, [a, "nobody@example.test", b],
                             f"Subject: log\r\n\r\n{secret}\r\n")
    assert list(refused) == ["nobody@example.test"]
    with open(node.log_path, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    mine = [l for l in log.splitlines() if f"<{sender}>" in l]
    stored = [l for l in mine if " smtp.stored " in l]
    assert len(stored) == 1, mine
    assert f"from=<{sender}> to=<{a}>,<{b}>" in stored[0]
    assert "rcpts=2" in stored[0]
    rejected = [l for l in mine if " smtp.rcpt rejected " in l]
    assert len(rejected) == 1
    assert "to=<nobody@example.test>" in rejected[0]
    assert not [l for l in mine if " smtp.mail " in l]
    assert secret not in log


def test_postmaster_without_domain(node):
    """RFC 5321 section 4.5.1: RCPT TO:<Postmaster> must be accepted."""
    try:
        node.add_user("postmaster@example.test")
    except RuntimeError:
        pass                        # made by an earlier run of this test
    c = Raw(node)
    c.ehlo()
    c.cmd("MAIL FROM:<>", 250)
    c.cmd("RCPT TO:<Postmaster>", 250)
    c.cmd("DATA", 354)
    c.send(message("to the postmaster") + b".\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT", 221)
    raws = mailbox(node, "postmaster@example.test")
    assert strip_trace(raws[-1]) == message("to the postmaster")
    assert "for <Postmaster>; " in trace(raws[-1])


def test_sender_and_sequence_refusals(node):
    c = Raw(node)
    assert c.cmd("MAIL FROM:<a@example.test>", 503).startswith("5.5.1")
    c.ehlo()
    assert c.cmd("RCPT TO:<bob@example.test>", 503).startswith("5.5.1")
    assert c.cmd("DATA", 503).startswith("5.5.1")
    assert c.cmd("MAIL FROM:<a@@example.test>", 501).startswith("5.1.7")
    assert c.cmd("MAIL FROM:<a@example.test> FOO=BAR", 555).startswith(
        "5.5.4")
    assert c.cmd("MAIL FROM:<a@example.test> SIZE=999999999999",
                 552).startswith("5.3.4")
    assert c.cmd("MAIL FROM:<j\u00f6rg@example.test>", 553).startswith(
        "5.6.7")
    c.cmd("RSET", 250)
    assert c.cmd("FROB", 500).startswith("5.5.2")
    c.close()
    c = Raw(node)
    c.ehlo()
    assert c.cmd("VRFY bob", 252).startswith("2.5.2 Cannot VRFY user")
    assert c.cmd("EXPN staff", 502).startswith("5.5.1")
    assert c.cmd("HELP", 214).startswith("2.0.0")
    c.cmd("NOOP", 250)
    c.cmd("MAIL FROM:<>", 250)
    assert c.cmd("DATA", 503).startswith("5.5.1")     # no RCPT yet
    assert c.cmd("MAIL FROM:<>", 503).startswith("5.5.1")  # nested
    c.cmd("QUIT", 221)


def test_quota(node):
    full = fresh(node, quota=2000)
    free = fresh(node)
    group = f"group{next(_seq)}@example.test"
    assert api(node, "POST", "/api/v1/groups",
               {"address": group, "members": [full, free]}) == 201
    c = Raw(node)
    c.ehlo()
    c.cmd("MAIL FROM:<sender@example.test> SIZE=5000", 250)
    # A direct recipient over quota: 452 4.2.2, try later.
    assert c.cmd(f"RCPT TO:<{full}>", 452).startswith("4.2.2")
    # Through a group the member over quota is skipped, the others get it.
    c.cmd(f"RCPT TO:<{group}>", 250)
    c.cmd("DATA", 354)
    c.send(message("quota") + b".\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT", 221)
    assert mailbox(node, full) == []
    assert [strip_trace(r) for r in mailbox(node, free)] == [message("quota")]


def test_bare_lf_smuggling_refused(node):
    u = fresh(node)
    c = Raw(node)
    c.ehlo()
    for smuggle in (b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n", b"\r\n.\r"):
        c.cmd("MAIL FROM:<sender@example.test>", 250)
        c.cmd(f"RCPT TO:<{u}>", 250)
        c.cmd("DATA", 354)
        c.send(b"Subject: legit\r\n\r\nhello" + smuggle +
               b"MAIL FROM:<evil@example.test>\r\n"
               b"RCPT TO:<" + u.encode() + b">\r\nDATA\r\n"
               b"Subject: forged\r\n\r\n.\r\n")
        code, text = c.reply()
        assert code == 550, (smuggle, code, text)
        assert text == ("5.5.2 Bare CR or LF in message; use CRLF line "
                        "endings")
        # Nothing of the smuggled part was taken as commands.
        c.cmd("NOOP", 250)
    c.cmd("QUIT", 221)
    assert mailbox(node, u) == []


def test_overlong_command_line(node):
    c = Raw(node)
    c.ehlo()
    assert c.cmd("NOOP " + "x" * 5000, 500) == "5.5.2 Line too long"
    c.cmd("NOOP", 250)
    c.send(b"NO\x00OP\r\n")
    assert c.reply()[0] == 500
    c.cmd("QUIT", 221)


# ---- limits, on a node with small ones ----

@pytest.fixture(scope="module")
def tight(request):
    n = roost.Node(settings={
        "smtp.max_message_size": "100k",
        "smtp.max_recipients": "100",
        "smtp.max_errors": "5",
        "smtp.max_junk_commands": "100000000",
        "smtp.timeout": "2s",
        "smtp.data_timeout": "3s",
        "smtp.max_connections_per_ip": "4",
    }).start()
    request.addfinalizer(n.cleanup)
    n.add_domain("example.test")
    n.add_user("alice@example.test")
    return n


def test_too_many_recipients(tight):
    c = Raw(tight)
    c.ehlo()
    c.cmd("MAIL FROM:<>", 250)
    # One account, 100 addresses for it (subaddresses): then 452.
    c.send("".join(f"RCPT TO:<alice+{i}@example.test>\r\n"
                   for i in range(101)))
    codes = [c.reply()[0] for _ in range(101)]
    assert codes == [250] * 100 + [452]
    c.close()


def test_message_too_big(tight):
    c = Raw(tight)
    c.ehlo()
    c.cmd("MAIL FROM:<>", 250)
    c.cmd("RCPT TO:<alice@example.test>", 250)
    c.cmd("DATA", 354)
    c.send((b"y" * 998 + b"\r\n") * 150 + b".\r\n")
    code, text = c.reply()
    assert code == 552 and text.startswith("5.3.4")
    c.cmd("NOOP", 250)       # the session goes on
    c.close()


def test_data_that_never_ends(tight):
    """Past twice the size limit the node answers 552 and hangs up, but
    gently: it shuts its side (FIN) and discards what the client still
    sends, so a client that sends the whole oversized message first and
    reads afterwards, as MTAs do, still reads the 552 and then end of
    file, never a reset that could destroy the reply (node/core/linger.h)."""
    c = Raw(tight)
    c.ehlo()
    c.cmd("MAIL FROM:<>", 250)
    c.cmd("RCPT TO:<alice@example.test>", 250)
    c.cmd("DATA", 354)
    c.s.settimeout(30)
    for _ in range(400):                # 4 MB against a 100 KB limit
        c.send((b"z" * 998 + b"\r\n") * 10)
    code, text = c.reply()
    assert code == 552 and text.startswith("5.3.4")
    assert c.eof()
    c.close()
    deadline = time.time() + 10
    while "reason=data-too-big" not in tight.log_tail(200):
        assert time.time() < deadline
        time.sleep(0.1)


@pytest.mark.parametrize("mode", ["data", "bdat"])
def test_message_that_drips(tight, mode):
    """smtp.timeout is per read; a client that keeps sending a little
    within it is cut off by smtp.data_timeout (3 s here) for the whole
    message: 421 4.4.2, end of file, and nothing stored."""
    addr = fresh(tight)
    c = Raw(tight)
    c.ehlo()
    c.cmd("MAIL FROM:<>", 250)
    c.cmd(f"RCPT TO:<{addr}>", 250)
    if mode == "data":
        c.cmd("DATA", 354)
    start = time.time()
    while True:
        assert time.time() - start < 15
        if mode == "data":
            # DATA is answered only at its end: a reply now is the cut.
            c.send(b"drip\r\n")
            c.s.settimeout(0.8)
            try:
                code, text = c.reply()
                break
            except socket.timeout:
                continue
        c.send(b"BDAT 6\r\ndrip\r\n")
        code, text = c.reply()
        if code == 421:
            break
        assert code == 250
        time.sleep(0.8)
    assert code == 421 and text.startswith("4.4.2"), (code, text)
    assert time.time() - start >= 3
    assert c.eof()
    c.close()
    assert mailbox(tight, addr) == []


def test_max_errors(tight):
    c = Raw(tight)
    for _ in range(4):
        c.cmd("FROB", 500)
    c.send("FROB\r\n")
    assert c.reply()[0] == 500
    code, text = c.reply()
    assert code == 421 and "4.7.0" in text
    assert c.closed()


def test_idle_timeout(tight):
    c = Raw(tight)
    c.ehlo()
    time.sleep(3)
    code, text = c.reply()
    assert code == 421 and text.startswith("4.4.2")
    assert c.closed()


def test_too_many_connections(tight):
    time.sleep(0.5)                # earlier tests' sessions are gone
    held = [Raw(tight) for _ in range(4)]
    extra = Raw(tight, greet=False)
    code, text = extra.reply()
    assert code == 421 and "4.7.0" in text and "Too many connections" in text
    assert extra.closed()
    for h in held:
        h.cmd("QUIT", 221)


def test_pipelined_flood(tight):
    """A client that sends without reading cannot make the node buffer
    without limit; every command is still answered once it reads."""
    rss0 = tight.rss_kb()
    s = socket.socket()
    # Small client buffers, so that the node's output fills up soon.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    s.connect(("127.0.0.1", tight.smtp_port))
    s.setblocking(False)
    n = 2000000
    data = b"NOOP\r\n" * n
    sent, blocked_since = 0, None
    while sent < len(data):
        try:
            sent += s.send(data[sent:sent + 65536])
            blocked_since = None
        except BlockingIOError:
            blocked_since = blocked_since or time.time()
            if time.time() - blocked_since > 0.5:
                break
            time.sleep(0.01)
    assert sent < len(data)        # the node pushed back
    assert tight.rss_kb() - rss0 < 64 * 1024
    got, buf = 0, b""
    deadline = time.time() + 120
    while got < n + 1 and time.time() < deadline:
        if sent < len(data):
            try:
                sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
        try:
            chunk = s.recv(1 << 20)
        except BlockingIOError:
            time.sleep(0.001)
            continue
        assert chunk
        buf += chunk
        got += buf.count(b"\r\n")
        buf = buf[buf.rfind(b"\r\n") + 2:] if b"\r\n" in buf else buf
    assert got == n + 1            # the greeting and every NOOP
    s.close()


# ---- graceful stop ----

def test_shutdown_finishes_transactions(node_factory):
    n = node_factory().start()
    n.add_domain("example.test")
    n.add_user("alice@example.test")
    idle = Raw(n)
    idle.ehlo()
    busy = Raw(n)
    busy.ehlo()
    busy.cmd("MAIL FROM:<>", 250)
    busy.cmd("RCPT TO:<alice@example.test>", 250)
    busy.cmd("DATA", 354)
    busy.send(b"Subject: in flight\r\n\r\n")
    n.proc.send_signal(15)
    code, text = idle.reply()
    assert code == 421 and text.startswith("4.3.2")
    assert idle.closed()
    busy.send(b"last line\r\n.\r\n")
    code, text = busy.reply()
    assert code == 250 and text.startswith("2.0.0 Ok: stored as ")
    code, text = busy.reply()
    assert code == 421 and text.startswith("4.3.2")
    assert busy.closed()
    n.proc.wait(30)
    assert n.stop() == 0
    n.start()
    [raw] = mailbox(n, "alice@example.test")
    assert strip_trace(raw) == b"Subject: in flight\r\n\r\nlast line\r\n"
