"""IMAP FETCH (RFC 9051 6.4.5, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE)
against a real roostd: every data item, BODY[] byte-identical to what SMTP
stored, partials, HEADER.FIELDS(.NOT), nested multipart sections and
.MIME, BINARY of base64 and quoted-printable parts, the implicit \\Seen,
a large mailbox streamed with UID FETCH 1:* (FLAGS) and a 50 MB body
streamed with the node's memory staying bounded."""
import base64
import imaplib
import os
import re
import smtplib
import socket
import time

import pytest

import roost

SIMPLE = (b"From: Alice <alice@example.test>\r\n"
          b"To: Bob <bob@example.test>\r\n"
          b"Subject: hello there\r\n"
          b"Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
          b"Message-ID: <simple@example.test>\r\n"
          b"\r\n"
          b"Hello Bob,\r\nthis is the body.\r\n")

PNG = bytes(range(256)) * 4
MULTI = (b"From: Carol <carol@example.test>\r\n"
         b"To: bob@example.test\r\n"
         b"Subject: parts\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
         b"\r\n"
         b"preamble\r\n"
         b"--outer\r\n"
         b"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
         b"\r\n"
         b"--inner\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: quoted-printable\r\n"
         b"\r\n"
         b"caf=C3=A9 au lait=\r\n is good\r\n"
         b"--inner\r\n"
         b"Content-Type: text/html\r\n"
         b"\r\n"
         b"<p>hi</p>\r\n"
         b"--inner--\r\n"
         b"--outer\r\n"
         b"Content-Type: image/png; name=\"x.png\"\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n" + base64.encodebytes(PNG).replace(b"\n", b"\r\n") +
         b"--outer\r\n"
         b"Content-Type: message/rfc822\r\n"
         b"\r\n"
         b"Subject: inner message\r\n"
         b"From: dave@example.test\r\n"
         b"\r\n"
         b"inner body\r\n"
         b"--outer--\r\n")


def new_user(node, name):
    addr = f"{name}@example.test"
    node.add_user(addr)
    return addr


def deliver(node, rcpt, msg):
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=30) as s:
        s.sendmail("sender@example.org", [rcpt], msg)


def login(node, addr):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port)
    m.login(addr, roost.PASSWORD)
    return m


def fetch1(m, what, uid=False):
    """FETCH of message 1 (or UID); returns the raw response list."""
    if uid:
        typ, data = m.uid("FETCH", "1", what)
    else:
        typ, data = m.fetch("1", what)
    assert typ == "OK", data
    return data


def literal(data):
    """The first literal of a FETCH response list."""
    for d in data:
        if isinstance(d, tuple):
            return d[1]
    raise AssertionError(f"no literal in {data!r}")


def flat(data):
    out = b""
    for d in data:
        out += b"".join(d) if isinstance(d, tuple) else d
    return out


@pytest.fixture(scope="module")
def simple(node):
    addr = new_user(node, "fetch-simple")
    deliver(node, addr, SIMPLE)
    return addr


def test_fetch_basic_items(node, simple):
    m = login(node, simple)
    try:
        typ, data = m.select("INBOX")
        assert typ == "OK" and data[0] == b"1"
        body = literal(fetch1(m, "(BODY.PEEK[])"))
        # SMTP prepends its trace fields; the rest is what was sent.
        assert body.endswith(SIMPLE)
        assert body.startswith(b"Return-Path:") or \
            body.startswith(b"Received:")
        d = flat(fetch1(m, "(FLAGS UID RFC822.SIZE INTERNALDATE)"))
        # The first IMAP4rev1 session to select it (RFC 3501 2.3.2).
        assert b"FLAGS (\\Recent)" in d
        assert b"UID 1" in d
        assert b"RFC822.SIZE %d" % len(body) in d
        assert re.search(rb'INTERNALDATE "[ 0-9]{2}-[A-Z][a-z]{2}-\d{4} '
                         rb'\d\d:\d\d:\d\d [+-]\d{4}"', d), d
        d = flat(fetch1(m, "FAST"))
        assert b"FLAGS" in d and b"RFC822.SIZE" in d and b"INTERNALDATE" in d
        d = flat(fetch1(m, "(UID)", uid=True))
        assert b"UID 1" in d
    finally:
        m.logout()


def test_fetch_sets_seen(node):
    addr = new_user(node, "fetch-seen")
    deliver(node, addr, SIMPLE)
    m = login(node, addr)
    try:
        m.select("INBOX")
        assert b"\\Seen" not in flat(fetch1(m, "(FLAGS)"))
        d = flat(fetch1(m, "(BODY.PEEK[TEXT])"))
        assert b"\\Seen" not in flat(fetch1(m, "(FLAGS)"))
        d = flat(fetch1(m, "(BODY[TEXT])"))
        # The FETCH that set \Seen reports it.
        assert b"FLAGS (\\Seen \\Recent)" in d, d
        assert b"\\Seen" in flat(fetch1(m, "(FLAGS)"))
        # EXAMINE is read-only: no implicit \Seen.
        m.store("1", "-FLAGS", "(\\Seen)")
        m.select("INBOX", readonly=True)
        fetch1(m, "(RFC822)")
        assert b"\\Seen" not in flat(fetch1(m, "(FLAGS)"))
    finally:
        m.logout()


def test_fetch_rfc822_forms(node, simple):
    m = login(node, simple)
    try:
        m.select("INBOX", readonly=True)
        whole = literal(fetch1(m, "(BODY.PEEK[])"))
        hdr, _, text = whole.partition(b"\r\n\r\n")
        assert literal(fetch1(m, "(RFC822.HEADER)")) == hdr + b"\r\n\r\n"
        assert literal(fetch1(m, "(RFC822.TEXT)")) == text
        assert literal(fetch1(m, "(RFC822)")) == whole
        assert literal(fetch1(m, "(BODY.PEEK[HEADER])")) == \
            hdr + b"\r\n\r\n"
        assert literal(fetch1(m, "(BODY.PEEK[TEXT])")) == text
        # A single-part message: part 1 is its body.
        assert literal(fetch1(m, "(BODY.PEEK[1])")) == text
    finally:
        m.logout()


def test_fetch_partial(node, simple):
    m = login(node, simple)
    try:
        m.select("INBOX", readonly=True)
        whole = literal(fetch1(m, "(BODY.PEEK[])"))
        d = fetch1(m, "(BODY.PEEK[]<0.10>)")
        assert b"BODY[]<0>" in d[0][0]
        assert literal(d) == whole[:10]
        assert literal(fetch1(m, "(BODY.PEEK[]<5.20>)")) == whole[5:25]
        assert literal(fetch1(m, "(BODY.PEEK[TEXT]<3.1000>)")) == \
            whole.partition(b"\r\n\r\n")[2][3:]
        d = flat(fetch1(m, "(BODY.PEEK[]<100000.10>)"))
        assert b"{0}" in d or b'""' in d
    finally:
        m.logout()


def test_fetch_header_fields(node, simple):
    m = login(node, simple)
    try:
        m.select("INBOX", readonly=True)
        got = literal(fetch1(m, "(BODY.PEEK[HEADER.FIELDS (SUBJECT To)])"))
        assert got == (b"To: Bob <bob@example.test>\r\n"
                       b"Subject: hello there\r\n\r\n")
        got = literal(fetch1(
            m, "(BODY.PEEK[HEADER.FIELDS.NOT (Subject Received "
               "Return-Path)])"))
        assert b"Subject" not in got and b"From: Alice" in got
        assert got.endswith(b"\r\n\r\n")
        d = fetch1(m, "(BODY.PEEK[HEADER.FIELDS (Subject)]<0.5>)")
        assert literal(d) == b"Subje"
    finally:
        m.logout()


@pytest.fixture(scope="module")
def multi(node):
    addr = new_user(node, "fetch-multi")
    m = login(node, addr)
    typ, _ = m.append("INBOX", None, None, MULTI)
    assert typ == "OK"
    m.logout()
    return addr


def test_fetch_multipart_sections(node, multi):
    m = login(node, multi)
    try:
        m.select("INBOX", readonly=True)
        assert literal(fetch1(m, "(BODY.PEEK[])")) == MULTI
        qp = literal(fetch1(m, "(BODY.PEEK[1.1])"))
        assert qp == b"caf=C3=A9 au lait=\r\n is good\r\n" or \
            qp == b"caf=C3=A9 au lait=\r\n is good"
        assert literal(fetch1(m, "(BODY.PEEK[1.2])")).startswith(
            b"<p>hi</p>")
        mime = literal(fetch1(m, "(BODY.PEEK[2.MIME])"))
        assert mime.startswith(b"Content-Type: image/png")
        assert mime.endswith(b"\r\n\r\n")
        assert literal(fetch1(m, "(BODY.PEEK[3.HEADER])")) == (
            b"Subject: inner message\r\nFrom: dave@example.test\r\n\r\n")
        assert literal(fetch1(m, "(BODY.PEEK[3.TEXT])")).startswith(
            b"inner body")
        # No such part: NIL.
        d = flat(fetch1(m, "(BODY.PEEK[9])"))
        assert b"BODY[9] NIL" in d
    finally:
        m.logout()


def test_fetch_binary(node, multi):
    m = login(node, multi)
    try:
        m.select("INBOX", readonly=True)
        assert literal(fetch1(m, "(BINARY.PEEK[2])")) == PNG
        d = flat(fetch1(m, "(BINARY.SIZE[2])"))
        assert b"BINARY.SIZE[2] %d" % len(PNG) in d
        got = literal(fetch1(m, "(BINARY.PEEK[1.1])"))
        assert got.startswith("café au lait is good".encode())
        assert literal(fetch1(m, "(BINARY.PEEK[2]<0.16>)")) == PNG[:16]
        typ, data = m.fetch("1", "(BINARY.PEEK[1.HEADER])")
        assert typ == "BAD" or typ == "NO"
    except imaplib.IMAP4.error:
        pass
    finally:
        m.logout()


def test_fetch_structures(node, multi, simple):
    m = login(node, multi)
    try:
        m.select("INBOX", readonly=True)
        d = flat(fetch1(m, "(BODYSTRUCTURE)"))
        low = d.lower()
        assert b'"mixed"' in low and b'"alternative"' in low
        assert b'"png"' in low and b'"base64"' in low
        assert b'"rfc822"' in low and b'"boundary" "outer"' in low
        d = flat(fetch1(m, "(BODY)"))
        assert b'"mixed"' in d.lower()
        d = flat(fetch1(m, "(ENVELOPE)"))
        assert b'"parts"' in d and b'"carol"' in d.lower()
    finally:
        m.logout()
    m = login(node, simple)
    try:
        m.select("INBOX", readonly=True)
        d = flat(fetch1(m, "(ENVELOPE)"))
        assert (b'ENVELOPE ("Sat, 28 Nov 2026 10:00:00 +0000" '
                b'"hello there" (("Alice" NIL "alice" "example.test")) '
                b'(("Alice" NIL "alice" "example.test")) '
                b'(("Alice" NIL "alice" "example.test")) '
                b'(("Bob" NIL "bob" "example.test")) NIL NIL NIL '
                b'"<simple@example.test>")') in d, d
        d = flat(fetch1(m, "(BODYSTRUCTURE)"))
        assert b'("text" "plain"' in d.lower() or \
            b'("TEXT" "PLAIN"' in d
        d = flat(fetch1(m, "ALL"))
        assert b"ENVELOPE" in d and b"FLAGS" in d
        d = flat(fetch1(m, "FULL"))
        assert b"BODY (" in d
    finally:
        m.logout()


def test_fetch_bad_requests(node, simple):
    m = login(node, simple)
    try:
        m.select("INBOX", readonly=True)
        for bad in ["(NOPE)", "(BODY[0])", "(BODY[MIME])", "()",
                    "(BODY[]<1.0>)", "(ALL FLAGS)"]:
            with pytest.raises(imaplib.IMAP4.error):
                m.fetch("1", bad)
        for bad in ["0", "1:x", "5", "*:*x"]:
            with pytest.raises(imaplib.IMAP4.error):
                m.fetch(bad, "(FLAGS)")
        # UID sets outside the mailbox are simply empty.
        typ, data = m.uid("FETCH", "900:950", "(FLAGS)")
        assert typ == "OK" and data == [None]
    finally:
        m.logout()


def test_fetch_changedsince(node):
    addr = new_user(node, "fetch-condstore")
    m = login(node, addr)
    try:
        for i in range(3):
            m.append("INBOX", None, None, SIMPLE)
        m.select("INBOX")
        d = flat(m.fetch("1:*", "(MODSEQ)")[1])
        mods = [int(x) for x in re.findall(rb"MODSEQ \((\d+)\)", d)]
        assert len(mods) == 3
        m.store("2", "+FLAGS", "(\\Flagged)")
        typ, data = m.fetch("1:*", "(FLAGS) (CHANGEDSINCE %d)" % max(mods))
        d = flat(data)
        assert len([x for x in data if x]) == 1 and b"\\Flagged" in d
        assert b"MODSEQ" in d
    finally:
        m.logout()


def test_mailbox_100k(node):
    """The issue's scale: a mailbox of 100,000 messages SELECTs and
    UID FETCH 1:* (FLAGS) streams to a slow reader in bounded memory."""
    addr = new_user(node, "fetch-100k")
    n, per = 100000, 250
    raw = socket.create_connection(("127.0.0.1", node.imap_port),
                                   timeout=120)
    f = raw.makefile("rb")
    f.readline()
    raw.sendall(b'a LOGIN "%s" "%s"\r\n' % (addr.encode(),
                                             roost.PASSWORD.encode()))
    while not f.readline().startswith(b"a "):
        pass
    # MULTIAPPEND with LITERAL+, 250 messages a command (the limit is 256).
    t0 = time.time()
    msg = b"Subject: many\r\n\r\nbody\r\n"
    one = b" {%d+}\r\n" % len(msg) + msg
    for b in range(n // per):
        raw.sendall(b"b%d APPEND INBOX" % b + one * per + b"\r\n")
        while True:
            ln = f.readline()
            if ln.startswith(b"b%d " % b):
                assert b" OK " in ln, ln
                break
    print(f"APPEND of {n}: {time.time() - t0:.1f}s")
    t0 = time.time()
    raw.sendall(b"c SELECT INBOX\r\n")
    exists = None
    while True:
        ln = f.readline()
        if ln.startswith(b"c "):
            assert b" OK " in ln, ln
            break
        if ln.endswith(b" EXISTS\r\n"):
            exists = int(ln.split()[1])
    print(f"SELECT of {n}: {1000 * (time.time() - t0):.1f} ms")
    assert exists == n
    time.sleep(0.3)
    before = peak = node.rss_kb()
    raw.sendall(b"d UID FETCH 1:* (FLAGS)\r\n")
    count = 0
    while True:
        ln = f.readline()
        if ln.startswith(b"d "):
            assert b" OK " in ln, ln
            break
        if b" FETCH (" in ln:
            count += 1
            if count % 20000 == 0:
                # A slow reader: the node must wait, not buffer.
                time.sleep(0.3)
                peak = max(peak, node.rss_kb())
    assert count == n
    print(f"UID FETCH 1:* (FLAGS): RSS before {before} kB, peak {peak} kB")
    assert peak - before < 32 * 1024
    raw.close()


def test_fetch_big_body_streams(node_factory):
    # Its own node, with ASan's quarantine of freed memory kept small:
    # else every 256 KiB chunk sent stays in RSS until 256 MB of them.
    old = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = ((old + ":") if old else "") + \
        "quarantine_size_mb=16"
    try:
        node = node_factory().start()
    finally:
        if old is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = old
    node.add_domain("example.test")
    addr = new_user(node, "fetch-big")
    size = 50 * 1000 * 1000
    line = b"x" * 998 + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * (size // len(line))
    raw = socket.create_connection(("127.0.0.1", node.imap_port),
                                   timeout=120)
    f = raw.makefile("rb")
    f.readline()
    raw.sendall(b'a LOGIN "%s" "%s"\r\n' % (addr.encode(),
                                             roost.PASSWORD.encode()))
    while not f.readline().startswith(b"a "):
        pass
    raw.sendall(b"b APPEND INBOX {%d}\r\n" % len(body))
    assert f.readline().startswith(b"+")
    raw.sendall(body + b"\r\n")
    ln = f.readline()
    assert ln.startswith(b"b OK"), ln
    raw.sendall(b"c SELECT INBOX\r\n")
    while not f.readline().startswith(b"c "):
        pass
    time.sleep(0.5)
    before = node.rss_kb()
    raw.sendall(b"d FETCH 1 (BODY.PEEK[])\r\n")
    head = f.readline()
    m = re.search(rb"\{(\d+)\}\r\n$", head)
    assert m, head
    n = int(m.group(1))
    assert n == len(body)
    peak = before
    got = 0
    while got < n:
        chunk = f.read(min(1 << 20, n - got))
        assert chunk
        got += len(chunk)
        time.sleep(0.005)       # a slow reader
        if got % (8 << 20) < (1 << 20):
            peak = max(peak, node.rss_kb())
    rest = f.readline()
    assert rest == b")\r\n", rest
    assert f.readline().startswith(b"d OK")
    peak = max(peak, node.rss_kb())
    print(f"RSS before {before} kB, peak {peak} kB")
    assert peak - before < 40 * 1024
    raw.close()


def test_fetch_vanished(node):
    addr = new_user(node, "fetch-qresync")
    m = login(node, addr)
    try:
        for _ in range(4):
            m.append("INBOX", None, None, SIMPLE)
        typ, _ = m._simple_command("ENABLE", "QRESYNC")
        assert typ == "OK"
        m.select("INBOX")
        d = flat(m.fetch("1:*", "(MODSEQ)")[1])
        top = max(int(x) for x in re.findall(rb"MODSEQ \((\d+)\)", d))
        m.store("2", "+FLAGS", "(\\Deleted)")
        m.expunge()
        m.store("3", "+FLAGS", "(\\Seen)")
        typ, data = m.uid("FETCH", "1:*",
                          "(FLAGS) (CHANGEDSINCE %d VANISHED)" % top)
        assert typ == "OK"
        van = m.untagged_responses.get("VANISHED", [])
        assert any(b"(EARLIER) 2" in v for v in van), van
        d = flat(data)
        assert b"UID 4" in d and b"\\Seen" in d and b"UID 1 " not in d
        with pytest.raises(imaplib.IMAP4.error):
            m.fetch("1:*", "(FLAGS) (CHANGEDSINCE 1 VANISHED)")
    finally:
        m.logout()


def test_fetch_binary_big_and_unknown(node):
    addr = new_user(node, "fetch-binbig")
    data = bytes((i * 7 + i // 256) % 256 for i in range(3 * 1000 * 1000))
    msg = (b"Subject: big binary\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n"
           b"Content-Transfer-Encoding: x-unknown\r\n\r\nodd\r\n"
           b"--b\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" +
           base64.encodebytes(data).replace(b"\n", b"\r\n") +
           b"--b--\r\n")
    m = login(node, addr)
    try:
        typ, _ = m.append("INBOX", None, None, msg)
        assert typ == "OK"
        m.select("INBOX", readonly=True)
        d = flat(fetch1(m, "(BINARY.SIZE[2])"))
        assert b"BINARY.SIZE[2] %d" % len(data) in d, d
        assert literal(fetch1(m, "(BINARY.PEEK[2])")) == data
        assert literal(fetch1(m, "(BINARY.PEEK[2]<1000000.5000>)")) == \
            data[1000000:1005000]
        typ, resp = m.fetch("1", "(BINARY.PEEK[1])")
        assert typ == "NO" and b"UNKNOWN-CTE" in flat(resp), resp
    except imaplib.IMAP4.error as e:
        assert "UNKNOWN-CTE" in str(e), e
    finally:
        m.logout()
