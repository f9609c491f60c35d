"""IMAP APPEND against a real roostd (RFC 9051 6.3.12, RFC 3502
MULTIAPPEND, RFC 7888 LITERAL+, RFC 4315 APPENDUID, RFC 9208 quota):
flags and internal dates kept, MULTIAPPEND all or none, APPENDUID,
TRYCREATE, OVERQUOTA and TOOBIG refused before the literal is sent, and
the appended message showing in the selected mailbox. Also the QUOTA
commands."""
import imaplib
import re
import socket

import roost

MSG = b"Subject: appended\r\nFrom: a@example.test\r\n\r\nhello\r\n"


def new_user(node, name, quota=None):
    addr = f"{name}@example.test"
    node.add_user(addr, quota=quota)
    return addr


def login(node, addr):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port)
    m.login(addr, roost.PASSWORD)
    return m


class Raw:
    def __init__(self, node, addr):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port),
                                             timeout=60)
        self.f = self.sock.makefile("rb")
        self.f.readline()
        self.n = 0
        _, t = self.cmd(b'LOGIN "%s" "%s"' % (addr.encode(),
                                               roost.PASSWORD.encode()))
        assert b" OK " in t, t

    def until(self, tag):
        out = []
        while True:
            ln = self.f.readline()
            if ln == b"" or ln.startswith(tag + b" "):
                return out, ln
            out.append(ln)

    def cmd(self, text):
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def close(self):
        self.sock.close()


def flat(data):
    out = b""
    for d in data or []:
        if d is None:
            continue
        out += b"".join(d) if isinstance(d, tuple) else d
    return out


def test_append_flags_date(node):
    addr = new_user(node, "append-flags")
    m = login(node, addr)
    try:
        typ, data = m.append("INBOX", "(\\Seen $Forwarded)",
                             '"05-Mar-2021 10:11:12 +0200"', MSG)
        assert typ == "OK"
        assert re.search(rb"\[APPENDUID \d+ 1\]", flat(data)), data
        m.select("INBOX")
        typ, data = m.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[])")
        d = flat(data)
        assert b"\\Seen" in d and b"$Forwarded" in d
        assert b'INTERNALDATE " 5-Mar-2021 08:11:12 +0000"' in d, d
        assert MSG in d
    finally:
        m.logout()


def test_append_visible_in_selected(node):
    addr = new_user(node, "append-sel")
    m = login(node, addr)
    try:
        m.select("INBOX")
        typ, data = m.append("INBOX", None, None, MSG)
        assert typ == "OK"
        assert m.untagged_responses.get("EXISTS") or \
            m.select("INBOX")[1][0] == b"1"
    finally:
        m.logout()


def test_multiappend_and_literal_plus(node):
    addr = new_user(node, "append-multi")
    r = Raw(node, addr)
    try:
        _, t = r.cmd(b"APPEND INBOX (\\Flagged) {%d+}\r\n%s "
                     b"{%d+}\r\n%s" % (len(MSG), MSG, len(MSG), MSG))
        assert b" OK " in t, t
        assert re.search(rb"\[APPENDUID \d+ 1:2\]", t), t
        # All or none: the second message goes to a missing mailbox? No:
        # one command names one mailbox; a bad second message fails all.
        _, t = r.cmd(b"APPEND INBOX {%d+}\r\n%s (\\Bogus) {%d+}\r\n%s" %
                     (len(MSG), MSG, len(MSG), MSG))
        assert b" BAD " in t or b" NO " in t, t
        _, t = r.cmd(b"STATUS INBOX (MESSAGES)")
        u, t = r.cmd(b"STATUS INBOX (MESSAGES)")
        assert b"MESSAGES 2" in b"".join(u), u
        _, t = r.cmd(b"APPEND Nowhere {%d+}\r\n%s" % (len(MSG), MSG))
        assert b" NO [TRYCREATE]" in t, t
    finally:
        r.close()


def test_append_toobig_before_literal(node):
    addr = new_user(node, "append-big")
    r = Raw(node, addr)
    try:
        r.n += 1
        r.sock.sendall(b"t%d APPEND INBOX {999999999999}\r\n" % r.n)
        ln = r.f.readline()
        assert ln.startswith(b"t%d NO" % r.n) or \
            ln.startswith(b"t%d BAD" % r.n), ln
        assert b"TOOBIG" in ln
        # The session goes on.
        _, t = r.cmd(b"NOOP")
        assert b" OK " in t
    finally:
        r.close()


def test_append_overquota(node):
    addr = new_user(node, "append-quota", quota="10K")
    r = Raw(node, addr)
    try:
        big = b"Subject: q\r\n\r\n" + b"y" * 12000 + b"\r\n"
        r.n += 1
        r.sock.sendall(b"t%d APPEND INBOX {%d}\r\n" % (r.n, len(big)))
        ln = r.f.readline()
        assert ln.startswith(b"t%d NO [OVERQUOTA]" % r.n), ln
        _, t = r.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(MSG), MSG))
        assert b" OK " in t, t
        u, t = r.cmd(b"GETQUOTAROOT INBOX")
        joined = b"".join(u)
        assert b'* QUOTAROOT INBOX ""' in joined or \
            b'* QUOTAROOT "INBOX" ""' in joined, u
        assert re.search(rb'\* QUOTA "" \(STORAGE 1 10\)', joined), u
        u, t = r.cmd(b'GETQUOTA ""')
        assert b" OK " in t and b"STORAGE" in b"".join(u)
        _, t = r.cmd(b'SETQUOTA "" (STORAGE 100)')
        assert b" NO [CANNOT]" in t, t
    finally:
        r.close()


def test_quota_unlimited(node):
    addr = new_user(node, "append-noquota")
    r = Raw(node, addr)
    try:
        u, t = r.cmd(b"GETQUOTAROOT INBOX")
        assert b" OK " in t
        assert b"QUOTA " not in b"".join(u).replace(b"QUOTAROOT", b"")
        _, t = r.cmd(b"GETQUOTAROOT Nowhere")
        assert b" NO " in t
    finally:
        r.close()
