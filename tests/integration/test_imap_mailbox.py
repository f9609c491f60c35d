"""IMAP mailbox commands against a real roostd: LIST (RFC 9051, RFC 5258
LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE), LSUB,
CREATE/DELETE/RENAME with hierarchy and INBOX rules, SUBSCRIBE, STATUS,
modified UTF-7 names for IMAP4rev1 sessions and UTF-8 after ENABLE
UTF8=ACCEPT, SELECT/EXAMINE responses (with CONDSTORE and QRESYNC),
CLOSE and UNSELECT. Each test uses its own account."""
import itertools
import re
import smtplib
import time

import pytest

import roost
from test_imap_session import Raw

_seq = itertools.count(1)


@pytest.fixture
def user(node):
    addr = f"imb{next(_seq)}-{int(time.time() * 1000) % 100000}@example.test"
    node.add_user(addr)
    return addr


def deliver(node, rcpt, subject="hello"):
    body = (f"From: s@example.test\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
            f"\r\nbody\r\n").encode()
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("s@example.test", [rcpt], body)


def session(node, addr):
    r = Raw(node)
    r.login(addr)
    return r


def names(untagged, kind=b"LIST"):
    """{name: attributes} of LIST/LSUB responses."""
    out = {}
    for ln in untagged:
        m = re.match(rb'\* ' + kind + rb' \(([^)]*)\) "/" "(.*)"', ln)
        if m:
            out[m.group(2).decode("utf-8")] = set(m.group(1).split())
    return out


def ok(t):
    assert b" OK " in t, t


def test_default_mailboxes_and_special_use(node, user):
    r = session(node, user)
    u, t = r.cmd(b'LIST "" "*"')
    ok(t)
    got = names(u)
    assert "INBOX" in got, got
    specials = {a for attrs in got.values() for a in attrs}
    for use in (b"\\Sent", b"\\Drafts", b"\\Trash", b"\\Junk"):
        assert use in specials, (use, got)
    for attrs in got.values():
        assert b"\\HasNoChildren" in attrs or b"\\HasChildren" in attrs
    u, t = r.cmd(b'LIST (SPECIAL-USE) "" "*"')
    ok(t)
    assert "INBOX" not in names(u)
    assert len(names(u)) >= 4
    u, t = r.cmd(b'LIST "" ""')
    assert u == [b'* LIST (\\Noselect) "/" ""\r\n']
    r.close()


def test_create_hierarchy_and_children(node, user):
    r = session(node, user)
    ok(r.cmd(b"CREATE Projects/2026/Q1/")[1])   # trailing / stripped
    u, t = r.cmd(b'LIST "" "Projects*"')
    got = names(u)
    assert set(got) == {"Projects", "Projects/2026", "Projects/2026/Q1"}
    assert b"\\HasChildren" in got["Projects"]
    assert b"\\HasNoChildren" in got["Projects/2026/Q1"]
    u, t = r.cmd(b'LIST "" "Projects/%"')
    assert set(names(u)) == {"Projects/2026"}
    u, t = r.cmd(b'LIST "Projects/" "%"')       # the reference
    assert set(names(u)) == {"Projects/2026"}
    u, t = r.cmd(b'LIST "" "%"')
    assert "Projects/2026" not in names(u) and "Projects" in names(u)
    _, t = r.cmd(b"CREATE Projects")
    assert b" NO [ALREADYEXISTS]" in t, t
    _, t = r.cmd(b"CREATE inbox")
    assert b"NO [ALREADYEXISTS]" in t
    _, t = r.cmd(b'CREATE "bad*name"')
    assert b" BAD " in t or b" NO " in t
    r.close()


def test_delete_keeps_children(node, user):
    r = session(node, user)
    ok(r.cmd(b"CREATE a/b")[1])
    ok(r.cmd(b"DELETE a")[1])
    u, _ = r.cmd(b'LIST "" "a*"')
    got = names(u)
    assert "a/b" in got
    assert b"\\NonExistent" in got.get("a", set()) or "a" not in got
    _, t = r.cmd(b"DELETE nothere")
    assert b"NO [NONEXISTENT]" in t, t
    _, t = r.cmd(b"DELETE INBOX")
    assert b" NO " in t
    r.close()


def test_rename(node, user):
    deliver(node, user, "one")
    deliver(node, user, "two")
    r = session(node, user)
    ok(r.cmd(b"CREATE x/y")[1])
    ok(r.cmd(b"RENAME x z/w")[1])
    got = names(r.cmd(b'LIST "" "*"')[0])
    assert "z/w" in got and "z/w/y" in got and "x" not in got
    assert "z" in got                           # superior created
    _, t = r.cmd(b"RENAME nothere q")
    assert b"NO [NONEXISTENT]" in t
    ok(r.cmd(b"CREATE q")[1])
    _, t = r.cmd(b"RENAME q z/w")
    assert b"NO [ALREADYEXISTS]" in t
    # RFC 9051 6.3.6: INBOX's messages move, INBOX stays, empty.
    ok(r.cmd(b"RENAME INBOX old-inbox")[1])
    u, _ = r.cmd(b"STATUS INBOX (MESSAGES)")
    assert u == [b'* STATUS "INBOX" (MESSAGES 0)\r\n'], u
    u, _ = r.cmd(b"STATUS old-inbox (MESSAGES)")
    assert u == [b'* STATUS "old-inbox" (MESSAGES 2)\r\n'], u
    r.close()


def test_subscribe_lsub_and_list_extended(node, user):
    r = session(node, user)
    ok(r.cmd(b"CREATE sub/one")[1])
    ok(r.cmd(b"SUBSCRIBE sub/one")[1])
    ok(r.cmd(b"SUBSCRIBE ghost")[1])           # need not exist
    u, _ = r.cmd(b'LSUB "" "*"')
    got = names(u, b"LSUB")
    assert "sub/one" in got and "ghost" in got
    assert "sub" not in got
    u, _ = r.cmd(b'LSUB "" "%"')
    got = names(u, b"LSUB")
    assert b"\\Noselect" in got["sub"]          # RFC 3501 6.3.9
    u, _ = r.cmd(b'LIST (SUBSCRIBED) "" "*"')
    got = names(u)
    assert b"\\Subscribed" in got["sub/one"]
    assert b"\\NonExistent" in got["ghost"]
    assert "sub" not in got
    u, _ = r.cmd(b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    assert any(b'"sub" ("CHILDINFO" ("SUBSCRIBED"))' in ln for ln in u), u
    u, _ = r.cmd(b'LIST "" "*" RETURN (SUBSCRIBED CHILDREN)')
    got = names(u)
    assert b"\\Subscribed" in got["sub/one"]
    assert b"\\Subscribed" not in got["sub"]
    _, t = r.cmd(b'LIST (RECURSIVEMATCH) "" "*"')
    assert b" BAD " in t
    ok(r.cmd(b"UNSUBSCRIBE ghost")[1])
    assert "ghost" not in names(r.cmd(b'LSUB "" "*"')[0], b"LSUB")
    u, _ = r.cmd(b'LIST "" ("sub" "INBOX")')
    assert set(names(u)) == {"sub", "INBOX"}
    r.close()


def test_status_and_list_status(node, user):
    deliver(node, user)
    deliver(node, user)
    r = session(node, user)
    u, t = r.cmd(b"STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN "
                 b"DELETED SIZE HIGHESTMODSEQ RECENT)")
    ok(t)
    m = re.match(rb'\* STATUS "INBOX" \(MESSAGES 2 UIDNEXT (\d+) '
                 rb'UIDVALIDITY \d+ UNSEEN 2 DELETED 0 SIZE (\d+) '
                 rb'HIGHESTMODSEQ \d+ RECENT 2\)', u[0])
    assert m, u
    assert int(m.group(1)) >= 3 and int(m.group(2)) > 100
    _, t = r.cmd(b"STATUS INBOX (BOGUS)")
    assert b" BAD " in t
    _, t = r.cmd(b"STATUS nothere (MESSAGES)")
    assert b"NO [NONEXISTENT]" in t
    u, t = r.cmd(b'LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN))')
    ok(t)
    assert u[0].startswith(b"* LIST (")
    assert u[1] == b'* STATUS "INBOX" (MESSAGES 2 UNSEEN 2)\r\n', u
    r.close()


def test_modified_utf7_and_utf8(node, user):
    r = session(node, user)
    # "Entwürfe/日本" in modified UTF-7 (RFC 3501 5.1.3).
    ok(r.cmd(b"CREATE Entw&APw-rfe/&ZeVnLA-")[1])
    u, _ = r.cmd(b'LIST "" "Entw*"')
    got = names(u)
    assert "Entw&APw-rfe/&ZeVnLA-" in got, got
    ok(r.cmd(b'CREATE "A&-B"')[1])
    assert "A&-B" in names(r.cmd(b'LIST "" "A&-B"')[0])
    _, t = r.cmd(b"CREATE &Jjo")                # unterminated
    assert b" BAD " in t or b" NO " in t
    r.close()
    r = session(node, user)
    u, t = r.cmd(b"ENABLE UTF8=ACCEPT")
    assert u == [b"* ENABLED UTF8=ACCEPT\r\n"]
    u, _ = r.cmd(b'LIST "" "Entw*"')
    got = names(u)
    assert "Entwürfe/日本" in got, got
    ok(r.cmd('CREATE "Größe"'.encode())[1])
    ok(r.cmd('SELECT "Entwürfe/日本"'.encode())[1])
    r.close()
    r = session(node, user)
    assert "Gr&APYA3w-e" in names(r.cmd(b'LIST "" "Gr*"')[0])
    r.close()


def test_select_examine_responses(node, user):
    deliver(node, user)
    deliver(node, user)
    r = session(node, user)
    u, t = r.cmd(b"SELECT INBOX")
    assert t.startswith(b"t2 OK [READ-WRITE]"), t
    text = b"".join(u)
    assert re.search(rb"\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen "
                     rb"\\Draft[^)]*\$Junk", text), text
    assert b"* 2 EXISTS\r\n" in u
    assert b"* 2 RECENT\r\n" in u     # IMAP4rev1: the first to select
    assert re.search(rb"\* OK \[UIDVALIDITY \d+\]", text)
    assert re.search(rb"\* OK \[UIDNEXT \d+\]", text)
    assert re.search(rb"\* OK \[PERMANENTFLAGS \([^)]*\\\*\)\]", text)
    assert re.search(rb"\* OK \[HIGHESTMODSEQ \d+\]", text)
    assert re.search(rb"\* OK \[UNSEEN 1\]", text)
    u, t = r.cmd(b"EXAMINE INBOX")
    assert u[0] == b"* OK [CLOSED] Previous mailbox closed\r\n"
    assert t.startswith(b"t3 OK [READ-ONLY]")
    assert b"* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n" in u
    _, t = r.cmd(b"SELECT nothere")
    assert b"NO [NONEXISTENT]" in t
    _, t = r.cmd(b"CHECK")                      # not selected any more
    assert b" BAD " in t
    r.close()


def test_select_rev2(node, user):
    deliver(node, user)
    r = session(node, user)
    r.cmd(b"ENABLE IMAP4rev2")
    u, t = r.cmd(b"SELECT INBOX")
    ok(t)
    assert b"* 0 RECENT\r\n" not in u
    assert not any(b"[UNSEEN" in ln for ln in u)
    assert b'* LIST () "/" "INBOX"\r\n' in u
    r.close()


def test_select_condstore_qresync(node, user):
    deliver(node, user, "a")
    r = session(node, user)
    u, _ = r.cmd(b"STATUS INBOX (HIGHESTMODSEQ)")
    after_a = int(re.search(rb"HIGHESTMODSEQ (\d+)", u[0]).group(1))
    deliver(node, user, "b")
    deliver(node, user, "c")
    u, t = r.cmd(b"SELECT INBOX (CONDSTORE)")
    ok(t)
    text = b"".join(u)
    uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
    hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
    _, t = r.cmd(b"SELECT INBOX (QRESYNC (1 1))")
    assert b" BAD " in t                        # QRESYNC not enabled
    r.close()
    r = session(node, user)
    r.cmd(b"ENABLE QRESYNC")
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, after_a))
    ok(t)
    fetches = [ln for ln in u if b" FETCH " in ln]
    assert len(fetches) == 2, u                 # b and c changed since
    assert fetches[0].startswith(b"* 2 FETCH (UID ")
    assert all(b"MODSEQ (" in ln and b"UID " in ln for ln in fetches)
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, hms))
    ok(t)
    assert not [ln for ln in u if b" FETCH " in ln or b"VANISHED" in ln]
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d 1 1:100))" % (uidvalidity + 1))
    ok(t)
    assert not [ln for ln in u if b" FETCH " in ln]
    r.close()


def test_close_and_unselect(node, user):
    deliver(node, user)
    r = session(node, user)
    ok(r.cmd(b"SELECT INBOX")[1])
    u, t = r.cmd(b"UNSELECT")
    assert t.startswith(b"t3 OK") and u == []
    _, t = r.cmd(b"CLOSE")
    assert b" BAD " in t
    ok(r.cmd(b"EXAMINE INBOX")[1])
    u, t = r.cmd(b"CLOSE")
    assert u == [] and b" OK " in t
    u, _ = r.cmd(b"STATUS INBOX (MESSAGES)")
    assert u == [b'* STATUS "INBOX" (MESSAGES 1)\r\n']
    r.close()


def test_qresync_vanished_earlier(node, user):
    for i in range(4):
        deliver(node, user, f"m{i}")
    r = session(node, user)
    r.cmd(b"ENABLE QRESYNC")
    u, t = r.cmd(b"SELECT INBOX")
    ok(t)
    text = b"".join(u)
    uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
    hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
    ok(r.cmd(b"UNSELECT")[1])
    # Another session expunges messages 2 and 3 and flags 4.
    b = session(node, user)
    ok(b.cmd(b"SELECT INBOX")[1])
    ok(b.cmd(b"STORE 2:3 +FLAGS.SILENT \\Deleted")[1])
    ok(b.cmd(b"STORE 4 +FLAGS.SILENT \\Flagged")[1])
    ok(b.cmd(b"CLOSE")[1])
    b.close()
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, hms))
    ok(t)
    assert b"* 2 EXISTS\r\n" in u, u
    assert b"* VANISHED (EARLIER) 2:3\r\n" in u, u
    fetches = [ln for ln in u if b" FETCH " in ln]
    assert len(fetches) == 1, u
    assert re.match(rb"\* 2 FETCH \(UID 4 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)",
                    fetches[0]), fetches
    # known-uids limit what is reported.
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d 1:2))" % (uidvalidity, hms))
    ok(t)
    assert b"* VANISHED (EARLIER) 2\r\n" in u, u
    r.close()


def test_qresync_log_trimmed(node_factory):
    """RFC 7162 3.2.5.2: once the change log no longer reaches back to
    the client's modseq, VANISHED (EARLIER) lists the gaps below UIDNEXT,
    narrowed by known-uids and by seq-match-data."""
    node = node_factory(settings={"store.changes_keep": "8"}).start()
    node.add_domain("example.test")
    user = "trim@example.test"
    node.add_user(user)
    for i in range(10):
        deliver(node, user, f"m{i}")
    r = session(node, user)
    r.cmd(b"ENABLE QRESYNC")
    u, t = r.cmd(b"SELECT INBOX")
    ok(t)
    text = b"".join(u)
    uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
    hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
    ok(r.cmd(b"STORE 2,5 +FLAGS.SILENT \\Deleted")[1])
    ok(r.cmd(b"CLOSE")[1])
    # Enough later changes that the expunges fall out of the log.
    for i in range(30):
        deliver(node, user, f"n{i}")
    # UIDs 1..40 were given; 2 and 5 are gone.
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, hms))
    ok(t)
    assert b"* VANISHED (EARLIER) 2,5\r\n" in u, u
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d 3:10))" % (uidvalidity, hms))
    ok(t)
    assert b"* VANISHED (EARLIER) 5\r\n" in u, u
    # seq-match-data: the client's message 1 was UID 1 and still is (no
    # expunge below it); its message 3 was UID 3, now message 2: the
    # report starts above UID 1.
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d 1:10 (1,3 1,3)))"
                 % (uidvalidity, hms))
    ok(t)
    assert b"* VANISHED (EARLIER) 2,5\r\n" in u, u
    # A client whose message 8 is UID 10, as now: nothing below went.
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d 1:10 (1,8 1,10)))"
                 % (uidvalidity, hms))
    ok(t)
    assert not [ln for ln in u if b"VANISHED" in ln], u
    u, t = r.cmd(b"SELECT INBOX (QRESYNC (%d %d 1:10 (1,2 1)))"
                 % (uidvalidity, hms))
    assert b" BAD " in t
    r.close()


def test_view_refresh_log_trimmed(node_factory):
    """A session selected while the change log is trimmed past its view
    still learns every expunge (by comparing with the mailbox index)."""
    node = node_factory(settings={"store.changes_keep": "8"}).start()
    node.add_domain("example.test")
    user = "view-trim@example.test"
    node.add_user(user)
    for i in range(10):
        deliver(node, user, f"m{i}")
    a = session(node, user)
    ok(a.cmd(b"SELECT INBOX")[1])
    b = session(node, user)
    ok(b.cmd(b"SELECT INBOX")[1])
    ok(b.cmd(b"STORE 2,5 +FLAGS.SILENT \\Deleted")[1])
    ok(b.cmd(b"EXPUNGE")[1])
    b.close()
    for i in range(30):
        deliver(node, user, f"n{i}")
    u, t = a.cmd(b"NOOP")
    ok(t)
    assert len([ln for ln in u if ln.endswith(b" EXPUNGE\r\n")]) == 2, u
    assert b"* 38 EXISTS\r\n" in u, u
    u, t = a.cmd(b"UID SEARCH UID 1:10")
    ok(t)
    assert u == [b"* SEARCH 1 3 4 6 7 8 9 10\r\n"], u
    a.close()


def test_new_account_has_a_uidvalidity_that_stays(node, user):
    """RFC 9051 2.3.1.1: UIDVALIDITY is a non-zero number that does not
    change while UIDs stay valid. A never-used account's INBOX gets its
    state at login, so the first delivery does not change it under a
    client that already selected (or asked STATUS of) the mailbox."""
    r = session(node, user)
    untagged, t = r.cmd(b"STATUS INBOX (UIDVALIDITY)")
    ok(t)
    m = re.search(rb"UIDVALIDITY (\d+)", b"".join(untagged))
    assert m and int(m.group(1)) > 0, untagged
    uidv = m.group(1)
    untagged, t = r.cmd(b"SELECT INBOX")
    ok(t)
    assert b"[UIDVALIDITY %s]" % uidv in b"".join(untagged), untagged
    deliver(node, user)
    untagged, t = r.cmd(b"NOOP")
    assert any(ln.strip().endswith(b"1 EXISTS") for ln in untagged), untagged
    r.close()
    r = session(node, user)
    untagged, t = r.cmd(b"SELECT INBOX")
    assert b"[UIDVALIDITY %s]" % uidv in b"".join(untagged), untagged
    r.close()
