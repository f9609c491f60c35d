"""IMAP IDLE (RFC 2177, RFC 9051 6.3.13) and the selected view against a
real roostd: a message delivered over SMTP reaches an idling session as
"* n EXISTS" (the latency is printed; the benchmark target is 100 ms,
the test allows 1 s), a second session's flag changes and expunges reach
the first in IDLE and at NOOP (EXPUNGE, or VANISHED under QRESYNC) with
sequence numbers kept consistent, DONE, and the autologout in IDLE."""
import itertools
import re
import smtplib
import time

import pytest

from test_imap_session import Raw

_seq = itertools.count(1)


@pytest.fixture
def user(node):
    addr = f"idle{next(_seq)}-{int(time.time() * 1000) % 100000}@example.test"
    node.add_user(addr)
    return addr


def deliver(node, rcpt, subject="hello"):
    body = (f"From: s@example.test\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
            f"\r\nbody\r\n").encode()
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("s@example.test", [rcpt], body)


def selected(node, addr, enable=None):
    r = Raw(node)
    r.login(addr)
    if enable:
        r.cmd(b"ENABLE " + enable)
    u, t = r.cmd(b"SELECT INBOX")
    assert b" OK " in t, t
    return r, u


def idle(r):
    r.send(b"i IDLE\r\n")
    assert r.line() == b"+ idling\r\n"


def done(r):
    r.send(b"DONE\r\n")
    return r.until(b"i")


def store_available(r):
    """STORE comes from the message-command work; skip without it."""
    _, t = r.cmd(b"STORE 1 +FLAGS.SILENT \\Seen")
    if b" BAD " in t and b"Unknown command" in t:
        pytest.skip("STORE is not implemented yet")
    assert b" OK " in t, t


def test_idle_done(node, user):
    r, _ = selected(node, user)
    idle(r)
    u, t = done(r)
    assert u == [] and t == b"i OK IDLE terminated\r\n"
    # IDLE without a mailbox is allowed too.
    r.cmd(b"UNSELECT")
    idle(r)
    u, t = done(r)
    assert t.startswith(b"i OK")
    idle(r)
    r.send(b"NOT-DONE\r\n")
    _, t = r.until(b"i")
    assert t.startswith(b"i BAD")
    _, t = r.cmd(b"NOOP")
    assert t.startswith(b"t") and b" OK " in t
    r.close()


def test_delivery_reaches_idle(node, user):
    deliver(node, user, "first")
    r, u = selected(node, user)
    assert b"* 1 EXISTS\r\n" in u
    idle(r)
    latencies = []
    for n in (2, 3, 4):
        t0 = time.monotonic()
        deliver(node, user, f"m{n}")
        t_acked = time.monotonic()
        assert r.line() == b"* %d EXISTS\r\n" % n
        latencies.append(time.monotonic() - t0)
        # IMAP4rev1: this session claimed each one (RFC 3501 2.3.2).
        assert r.line() == b"* %d RECENT\r\n" % n
        print(f"IDLE EXISTS latency: {1000 * (time.monotonic() - t0):.1f} "
              f"ms from SMTP start, {1000 * (time.monotonic() - t_acked):.1f}"
              f" ms after the SMTP ack")
    assert max(latencies) < 1.0, latencies
    u, t = done(r)
    assert u == [] and t.startswith(b"i OK")
    r.close()


def test_noop_reports_new_mail(node, user):
    r, _ = selected(node, user)
    deliver(node, user)
    deliver(node, user)
    deadline = time.time() + 5
    seen = []
    while time.time() < deadline:
        u, t = r.cmd(b"NOOP")
        seen += u
        if b"* 2 EXISTS\r\n" in seen:
            break
        time.sleep(0.05)
    assert b"* 2 EXISTS\r\n" in seen, seen
    r.close()


def test_flags_and_expunge_from_other_session(node, user):
    for i in range(4):
        deliver(node, user, f"m{i}")
    # IMAP4rev2: no \Recent in the flags compared below.
    a, _ = selected(node, user, enable=b"CONDSTORE IMAP4rev2")
    b, _ = selected(node, user)
    store_available(b)                          # 1 \Seen
    u, _ = a.cmd(b"NOOP")
    # RFC 7162 3.1: under CONDSTORE, with the UID and the modseq.
    assert any(re.match(rb"\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) "
                        rb"MODSEQ \(\d+\)\)", ln) for ln in u), u
    idle(a)
    _, t = b.cmd(b"STORE 2 +FLAGS.SILENT \\Flagged $Work")
    assert b" OK " in t
    # $Work is new to the mailbox: FLAGS and PERMANENTFLAGS come first
    # (RFC 3501 7.2.6).
    ln = a.line()
    assert ln.startswith(b"* FLAGS (") and b" $Work)" in ln, ln
    ln = a.line()
    assert ln.startswith(b"* OK [PERMANENTFLAGS (") and b"$Work" in ln, ln
    ln = a.line()
    assert re.match(rb"\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \$Work\) MODSEQ",
                    ln), ln
    # B expunges message 2 (via CLOSE of \Deleted).
    _, t = b.cmd(b"STORE 2 +FLAGS.SILENT \\Deleted")
    assert b" OK " in t
    ln = a.line()
    assert ln.startswith(b"* 2 FETCH (UID 2 FLAGS (\\Flagged \\Deleted"), ln
    _, t = b.cmd(b"CLOSE")
    assert b" OK " in t
    assert a.line() == b"* 2 EXPUNGE\r\n"
    u, t = done(a)
    # Numbers moved down: old 3 is now 2.
    deliver(node, user, "late")
    idle(a)
    assert a.line() == b"* 4 EXISTS\r\n"
    done(a)
    a.close()
    b.close()


def test_vanished_under_qresync(node, user):
    for i in range(3):
        deliver(node, user, f"m{i}")
    a, _ = selected(node, user, enable=b"QRESYNC")
    b, _ = selected(node, user)
    store_available(b)
    a.cmd(b"NOOP")
    _, t = b.cmd(b"STORE 1:2 +FLAGS.SILENT \\Deleted")
    assert b" OK " in t
    _, t = b.cmd(b"CLOSE")
    assert b" OK " in t
    deadline = time.time() + 5
    seen = []
    while time.time() < deadline and not any(b"VANISHED" in x for x in seen):
        u, _ = a.cmd(b"NOOP")
        seen += u
    van = [x for x in seen if x.startswith(b"* VANISHED ")]
    assert van and re.match(rb"\* VANISHED \d+:\d+\r\n", van[0]), seen
    assert not any(b"EXPUNGE" in x for x in seen)
    a.close()
    b.close()


def test_autologout_in_idle(node_factory):
    n = node_factory(settings={"imap.timeout": "2s"}).start()
    n.add_domain("example.test")
    n.add_user("carol@example.test")
    r, _ = selected(n, "carol@example.test")
    idle(r)
    t0 = time.time()
    assert r.line().startswith(b"* BYE ")
    assert r.line() == b""
    assert 1.0 < time.time() - t0 < 10
    r.close()


def test_many_idle_sessions_memory(node_factory):
    """Idle sessions stay small (the issue's bound: 10,000 IDLE sessions
    within 200 MB). 500 here, measured per session."""
    n = node_factory().start()
    n.add_domain("example.test")
    n.add_user("dave@example.test")
    first = []
    for _ in range(20):                         # warm the allocator
        r, _ = selected(n, "dave@example.test")
        idle(r)
        first.append(r)
    before = n.rss_kb()
    rs = []
    for _ in range(500):
        r, _ = selected(n, "dave@example.test")
        idle(r)
        rs.append(r)
    per = (n.rss_kb() - before) * 1024 / 500
    print(f"RSS per idling IMAP session: {per:.0f} bytes")
    deliver(n, "dave@example.test")
    for r in rs[:5] + first[:5]:
        assert r.line() == b"* 1 EXISTS\r\n"
    # ASan (the integration build) inflates every allocation; a release
    # build measures far less.
    assert per < 64 * 1024, per
    for r in rs + first:
        r.close()


def test_selected_mailbox_deleted_elsewhere(node, user):
    """Deleting the mailbox another session has selected ends that
    session with BYE (as Dovecot does); renaming it keeps it serving."""
    a = Raw(node)
    a.login(user)
    _, t = a.cmd(b"CREATE Doomed")
    assert b" OK " in t, t
    _, t = a.cmd(b"CREATE Moving")
    assert b" OK " in t, t
    b = Raw(node)
    b.login(user)
    # Renamed: the selected view goes on.
    _, t = b.cmd(b"SELECT Moving")
    assert b" OK " in t, t
    _, t = a.cmd(b"RENAME Moving Moved")
    assert b" OK " in t, t
    u, t = b.cmd(b"NOOP")
    assert b" OK " in t and not any(b"BYE" in x for x in u), (u, t)
    # Deleted while idling: BYE at once.
    _, t = b.cmd(b"SELECT Doomed")
    assert b" OK " in t, t
    idle(b)
    _, t = a.cmd(b"DELETE Doomed")
    assert b" OK " in t, t
    ln = b.line()
    assert ln.startswith(b"* BYE "), ln
    a.close()
    b.close()
