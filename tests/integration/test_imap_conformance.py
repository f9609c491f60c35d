"""IMAP conformance as a strict client sees the wire (issue #13), with raw
lines where imaplib would hide the detail: FLAGS and PERMANENTFLAGS
before a FETCH shows a new keyword, in every session (RFC 3501 7.2.6);
no keyword NIL; \\Recent for IMAP4rev1 sessions (RFC 3501 2.3.2: RECENT
at SELECT/EXAMINE and with new mail, STATUS RECENT, FETCH \\Recent,
SEARCH NEW/OLD/RECENT, exactly one session gets a message, EXAMINE
claims nothing, IMAP4rev2 unchanged); CONDSTORE enabled implicitly with
its HIGHESTMODSEQ and MODSEQ on every flag change, SEARCH MODSEQ with an
entry (RFC 7162); mailbox names made of atom characters (RFC 9051 9);
SEARCH FROM in every address form, SORT (CC) and SORT (SUBJECT) (RFC
5256); UID ranges past UIDNEXT; LIST RECURSIVEMATCH CHILDINFO (RFC 5258
3.5); empty sections and BINARY.SIZE 0 (RFC 3516)."""
import itertools
import re
import smtplib
import time

import pytest

from test_imap_session import Raw

_seq = itertools.count(1)
WEIRD = b"!#$&'+,-.0123456789:;<=>?@^_`|[}"


@pytest.fixture
def user(node):
    addr = f"conf{next(_seq)}-{int(time.time() * 1000) % 100000}@example.test"
    node.add_user(addr)
    return addr


def deliver(node, rcpt, subject="hello"):
    body = (f"From: s@example.test\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
            f"\r\nbody\r\n").encode()
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.sendmail("s@example.test", [rcpt], body)


def session(node, addr, enable=None):
    r = Raw(node)
    r.login(addr)
    if enable:
        _, t = r.cmd(b"ENABLE " + enable)
        assert b" OK " in t, t
    return r


def ok(r, text):
    u, t = r.cmd(text)
    assert b" OK " in t, (text, u, t)
    return u


def append(r, msg, mailbox=b"INBOX", flags=b""):
    r.send(b"a APPEND %s %s{%d+}\r\n" % (mailbox, flags + b" " if flags
                                         else b"", len(msg)) + msg + b"\r\n")
    u, t = r.until(b"a")
    assert b" OK " in t, (u, t)


def noop_until(r, line, timeout=10):
    """NOOPs until line came (notify reaches the session just after the
    delivery's commit); returns every untagged line seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while line not in seen:
        assert time.monotonic() < deadline, seen
        seen += ok(r, b"NOOP")
        if line not in seen:
            time.sleep(0.05)
    return seen


def search(r, text):
    u = ok(r, text)
    line = [ln for ln in u if ln.startswith(b"* SEARCH")]
    assert len(line) == 1, u
    return [int(x) for x in line[0].split()[2:] if x.isdigit()]


# ---- 1. keywords and FLAGS ----

def flags_lists(lines):
    return [ln for ln in lines if ln.startswith(b"* FLAGS (")]


def test_new_keyword_announced_before_fetch(node, user):
    for i in range(3):
        deliver(node, user, f"m{i}")
    a = session(node, user)
    b = session(node, user)
    u = ok(a, b"SELECT INBOX")
    assert b"$kw1" not in b"".join(flags_lists(u))
    ok(b, b"SELECT INBOX")
    # This session: FLAGS and PERMANENTFLAGS, then the FETCH.
    u = ok(a, b"STORE 1 +FLAGS ($kw1)")
    assert [ln[:9] for ln in u] == [b"* FLAGS (", b"* OK [PER", b"* 1 FETCH"], u
    assert b" $kw1)" in u[0] and b"$kw1 \\*)]" in u[1], u
    # The other session learns it before the FETCH that shows it.
    u = ok(b, b"NOOP")
    if not u:                   # notify had not reached b yet
        time.sleep(0.2)
        u = ok(b, b"NOOP")
    assert u[0].startswith(b"* FLAGS (") and b"$kw1" in u[0], u
    assert u[1].startswith(b"* OK [PERMANENTFLAGS (") and b"$kw1" in u[1]
    assert re.match(rb"\* 1 FETCH \(FLAGS \(\$kw1\)\)", u[2]), u
    # .SILENT announces too; a keyword already known does not.
    u = ok(a, b"STORE 2 +FLAGS.SILENT (Work)")
    assert len(flags_lists(u)) == 1 and b" Work)" in u[0], u
    u = ok(a, b"STORE 3 +FLAGS ($kw1 work)")
    assert flags_lists(u) == [], u
    # A keyword brought by APPEND from elsewhere: FLAGS before FETCH.
    append(b, b"Subject: x\r\n\r\nx\r\n", flags=b"(Later)")
    u = noop_until(a, b"* 4 EXISTS\r\n") + ok(a, b"FETCH 4 FLAGS")
    i = next(i for i, ln in enumerate(u) if b"FETCH" in ln)
    assert any(b" Later" in ln for ln in flags_lists(u[:i])), u
    a.close()
    b.close()


@pytest.mark.parametrize("cmd", [
    b"STORE 1 +FLAGS (NIL)", b"STORE 1 FLAGS nil", b"SEARCH KEYWORD NIL",
])
def test_nil_is_no_keyword(node, user, cmd):
    deliver(node, user)
    r = session(node, user)
    ok(r, b"SELECT INBOX")
    _, t = r.cmd(cmd)
    assert b" BAD " in t, t
    u = ok(r, b"FETCH 1 FLAGS")
    assert b"NIL" not in b"".join(u), u
    r.send(b"a APPEND INBOX (NIL) {3+}\r\nx\r\n\r\n")
    _, t = r.until(b"a")
    assert b" BAD " in t, t
    r.close()


# ---- 2. \Recent for IMAP4rev1 ----

def recent_of(lines):
    got = [int(ln.split()[1]) for ln in lines if ln.endswith(b" RECENT\r\n")]
    return got[-1] if got else None


def test_recent_one_session_only(node, user):
    deliver(node, user)
    deliver(node, user)
    a = session(node, user)
    b = session(node, user)
    u = ok(b, b"STATUS INBOX (RECENT)")
    assert b"RECENT 2" in u[0], u
    # EXAMINE shows them recent and claims nothing.
    assert recent_of(ok(b, b"EXAMINE INBOX")) == 2
    assert recent_of(ok(a, b"SELECT INBOX")) == 2
    u = ok(a, b"FETCH 1:2 FLAGS")
    assert all(b"\\Recent" in ln for ln in u if b"FETCH" in ln), u
    assert search(a, b"SEARCH RECENT") == [1, 2]
    assert search(a, b"SEARCH NEW") == [1, 2]
    assert search(a, b"SEARCH OLD") == []
    ok(a, b"STORE 1 +FLAGS.SILENT (\\Seen)")
    assert search(a, b"SEARCH NEW") == [2]
    # A selected them first: nobody else sees them recent any more.
    assert recent_of(ok(b, b"SELECT INBOX")) == 0
    assert search(b, b"SEARCH RECENT") == []
    u = ok(b, b"STATUS INBOX (RECENT MESSAGES)")
    assert b"RECENT 0" in u[0], u
    # New mail: the first session to see it gets it, the other not.
    deliver(node, user, "new")
    u = noop_until(b, b"* 3 EXISTS\r\n")
    assert recent_of(u) == 1, u
    u = noop_until(a, b"* 3 EXISTS\r\n")
    assert recent_of(u) == 2, u
    assert search(a, b"SEARCH RECENT") == [1, 2]
    assert search(b, b"SEARCH RECENT") == [3]
    u = ok(b, b"FETCH 3 FLAGS")
    assert b"\\Recent" in u[0], u
    a.close()
    b.close()


def test_recent_in_idle_and_rev2_unchanged(node, user):
    a = session(node, user)
    assert recent_of(ok(a, b"SELECT INBOX")) == 0
    c = session(node, user, enable=b"IMAP4rev2")
    u = ok(c, b"SELECT INBOX")
    assert recent_of(u) is None, u
    c.send(b"i IDLE\r\n")
    assert c.line() == b"+ idling\r\n"
    a.send(b"i IDLE\r\n")
    assert a.line() == b"+ idling\r\n"
    deliver(node, user)
    assert a.line() == b"* 1 EXISTS\r\n"
    assert a.line() == b"* 1 RECENT\r\n"
    assert c.line() == b"* 1 EXISTS\r\n"
    for r in (a, c):
        r.send(b"DONE\r\n")
        _, t = r.until(b"i")
        assert b" OK " in t
    u = ok(c, b"FETCH 1 FLAGS")
    assert b"Recent" not in u[0], u
    u = ok(a, b"FETCH 1 FLAGS")
    assert b"\\Recent" in u[0], u
    a.close()
    c.close()


# ---- 3. CONDSTORE ----

def test_condstore_implicit_and_modseq_everywhere(node, user):
    deliver(node, user)
    deliver(node, user)
    a = session(node, user, enable=b"IMAP4rev2")   # no \Recent
    b = session(node, user)
    ok(a, b"SELECT INBOX")
    ok(b, b"SELECT INBOX")
    # Before CONDSTORE: no MODSEQ.
    u = ok(a, b"STORE 1 +FLAGS (\\Flagged)")
    assert b"MODSEQ" not in u[0], u
    # FETCH MODSEQ enables it, with HIGHESTMODSEQ first.
    u = ok(a, b"FETCH 1 (FLAGS MODSEQ)")
    assert re.match(rb"\* OK \[HIGHESTMODSEQ \d+\]", u[0]), u
    # RFC 7162 3.1: a flag change now comes with UID and MODSEQ, a
    # plain STORE's too; a FETCH response carries MODSEQ as well.
    u = ok(a, b"STORE 2 +FLAGS (\\Seen)")
    assert re.match(rb"\* 2 FETCH \(FLAGS \(\\Seen\) UID 2 MODSEQ \(\d+\)\)",
                    u[0]), u
    u = ok(a, b"FETCH 2 (FLAGS)")
    assert re.match(rb"\* 2 FETCH \(FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$",
                    u[0].rstrip()), u
    u = ok(a, b"FETCH 1 (UID)")
    assert re.match(rb"\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$", u[0].rstrip())
    # Another session's change reaches it with UID and MODSEQ too.
    ok(b, b"STORE 1 -FLAGS (\\Flagged)")
    u = ok(a, b"NOOP")
    if not u:                   # notify had not reached a yet
        time.sleep(0.2)
        u = ok(a, b"NOOP")
    assert re.match(rb"\* 1 FETCH \(UID 1 FLAGS \(\) MODSEQ \(\d+\)\)",
                    u[0]), u
    # The \Seen a FETCH sets: FLAGS, UID and MODSEQ.
    u = ok(a, b"FETCH 1 BODY[HEADER.FIELDS (SUBJECT)]")
    assert re.search(rb" FLAGS \(\\Seen\) UID 1 MODSEQ \(\d+\)\)\r\n$",
                     b"".join(u)), u
    # SEARCH MODSEQ enables it in b, with an entry name and type.
    u = ok(b, b'SEARCH MODSEQ "/flags/\\\\seen" all 1')
    assert re.match(rb"\* OK \[HIGHESTMODSEQ \d+\]", u[0]), u
    assert re.match(rb"\* SEARCH 1 2 \(MODSEQ \d+\)", u[1]), u
    u = ok(b, b'SEARCH RETURN (ALL COUNT) MODSEQ "/flags/$kw" priv 1')
    assert re.match(rb'\* ESEARCH \(TAG "t\d+"\) COUNT 2 ALL 1:2 MODSEQ \d+',
                    u[0]), u
    for bad in (b'SEARCH MODSEQ "/flags/$kw" 1',
                b'SEARCH MODSEQ "/flags/$kw" nosuch 1'):
        _, t = b.cmd(bad)
        assert b" BAD " in t, (bad, t)
    u = ok(b, b"STORE 2 -FLAGS.SILENT (\\Seen)")
    assert re.match(rb"\* 2 FETCH \(UID 2 MODSEQ \(\d+\)\)", u[0]), u
    a.close()
    b.close()


def test_condstore_result_modseqs(node, user):
    """The MODSEQ of a result is that of the messages it returns: MIN or
    MAX alone only theirs (RFC 4731 3.2); SORT too (RFC 7162 3.1.5);
    STATUS (HIGHESTMODSEQ) is an enabling command."""
    for i in range(3):
        deliver(node, user, f"s{3 - i}")
    r = session(node, user, enable=b"IMAP4rev2")
    ok(r, b"SELECT INBOX")
    ok(r, b"STORE 1 +FLAGS.SILENT (\\Flagged)")
    ok(r, b"STORE 3 +FLAGS.SILENT (\\Flagged)")
    ok(r, b"STORE 1 +FLAGS.SILENT (\\Answered)")
    u = ok(r, b"STATUS INBOX (HIGHESTMODSEQ)")
    assert re.match(rb"\* OK \[HIGHESTMODSEQ \d+\]", u[0]), u
    mods = {int(m.group(1)): int(m.group(2)) for m in re.finditer(
        rb"\* (\d+) FETCH \(MODSEQ \((\d+)\)\)",
        b"".join(ok(r, b"FETCH 1:* (MODSEQ)")))}
    assert mods[1] > mods[3] > mods[2], mods

    def esearch(ret):
        u = ok(r, b"SEARCH RETURN (%s) MODSEQ 1" % ret)
        return int(re.search(rb" MODSEQ (\d+)\r\n$", u[0]).group(1))

    assert esearch(b"MIN") == mods[1]
    assert esearch(b"MAX") == mods[3]
    assert esearch(b"MIN MAX") == mods[1]
    assert esearch(b"COUNT") == mods[1]
    u = ok(r, b"SEARCH RETURN (MAX) MODSEQ 1 2:3")
    assert u[0].endswith(b" MAX 3 MODSEQ %d\r\n" % mods[3]), u
    u = ok(r, b"SORT (SUBJECT) UTF-8 MODSEQ 1 2:3")
    assert u[0] == b"* SORT 3 2 (MODSEQ %d)\r\n" % mods[3], u
    r.close()


# ---- 4. mailbox names ----

@pytest.mark.parametrize("enable", [None, b"IMAP4rev2"])
def test_atom_char_mailbox_names(node, user, enable):
    r = session(node, user, enable)
    _, t = r.cmd(b"SELECT " + WEIRD)
    assert t.startswith(b"t") and b" NO [NONEXISTENT]" in t, t
    _, t = r.cmd(b"EXAMINE " + WEIRD)
    assert b" NO [NONEXISTENT]" in t, t
    _, t = r.cmd(b"STATUS " + WEIRD + b" (MESSAGES)")
    assert b" NO [NONEXISTENT]" in t, t
    for pat in (WEIRD + b"%*", b'"' + WEIRD.replace(b"\\", b"") + b'%"'):
        u, t = r.cmd(b'LIST "" ' + pat)
        assert b" OK " in t and u == [], (pat, u, t)
    u, t = r.cmd(b'LIST "" ]*')
    assert b" OK " in t, t
    # Wildcards are list-mailbox characters, not astring ones: BAD as
    # an atom, NO as a string (no mailbox can be named so).
    _, t = r.cmd(b"SELECT a%b")
    assert b" BAD " in t, t
    _, t = r.cmd(b'SELECT "a%b"')
    assert b" NO [NONEXISTENT]" in t, t
    # Still a live session.
    ok(r, b"NOOP")
    r.close()


# ---- 5. SEARCH and SORT on addresses and subjects ----

ADDR_MSGS = [
    # (From, Cc, Subject)
    (b"Joe Q <user-from@domain.org>", b'"Zed" <bbb@x.org>',
     b"Re: [tag] Fwd: banana (fwd)"),
    (b"user-from@domain.org (Joe)", b'"Aaa" <ddd@x.org>, aaa@x.org',
     b"=?utf-8?q?Re=3A_apple?="),
    (b"friends: user-from@domain.org, b@c;", b"undisclosed:;, ccc@x.org",
     b"RE:  [x]   cherry"),
    (b'"user-from"@domain.org', None, b"FW: Re: apple"),
    (b"user-from(comment)@domain.org", b"(c) AAC(x)@x.org",
     b"date\r\n (fwd)"),
    (b"=?utf-8?q?J=C3=B6?= <USER-FROM@DOMAIN.ORG>", None,
     b"[a][b] Re: Fwd: [c] egg"),
    (b"Joe <user-from @ domain.org>", None, b"re:fig"),
    (b"other@domain.org", b"Zoe <eee@x.org>", b"grape"),
]


@pytest.fixture
def abox(node, user):
    r = session(node, user)
    for frm, cc, subj in ADDR_MSGS:
        msg = b"From: " + frm + b"\r\n"
        if cc:
            msg += b"Cc: " + cc + b"\r\n"
        append(r, msg + b"Subject: " + subj + b"\r\n\r\nx\r\n")
    ok(r, b"SELECT INBOX")
    yield r
    r.close()


def sort(r, text):
    u = ok(r, text)
    return [int(x) for x in u[0].split()[2:]]


def test_search_from_every_form(abox):
    assert search(abox, b"SEARCH FROM user-from@domain.org") == [
        1, 2, 3, 4, 5, 6, 7]
    assert search(abox, b'SEARCH FROM "USER-FROM@domain.ORG"') == [
        1, 2, 3, 4, 5, 6, 7]
    assert search(abox, b"SEARCH CC aaa@x.org") == [2]
    assert search(abox, b"SEARCH NOT FROM user-from@domain.org") == [8]


def test_sort_cc_and_subject(abox):
    # RFC 5256 3: the first Cc address's local part; none sorts first.
    assert sort(abox, b"SORT (CC) UTF-8 ALL") == [4, 6, 7, 5, 1, 3, 2, 8]
    assert sort(abox, b"SORT (REVERSE CC) UTF-8 ALL") == [
        8, 2, 3, 1, 5, 4, 6, 7]
    # Base subjects: apple apple banana cherry date egg fig grape.
    assert sort(abox, b"SORT (SUBJECT) UTF-8 ALL") == [2, 4, 1, 3, 5, 6, 7, 8]
    assert sort(abox, b"SORT (REVERSE SUBJECT) UTF-8 ALL") == [
        8, 7, 6, 5, 3, 1, 2, 4]


# ---- 6. sequence sets ----

def test_uid_range_past_uidnext(node, user):
    for i in range(3):
        deliver(node, user, f"m{i}")
    r = session(node, user)
    u = ok(r, b"SELECT INBOX")
    nxt = int(re.search(rb"UIDNEXT (\d+)", b"".join(u)).group(1))
    assert search(r, b"UID SEARCH UID %d:4294967295" % nxt) == []
    assert search(r, b"UID SEARCH UID %d:*" % nxt) == [nxt - 1]
    assert search(r, b"UID SEARCH UID 2:4294967295") == [2, 3]
    u = ok(r, b"UID FETCH %d:4294967295 FLAGS" % nxt)
    assert u == [], u
    r.close()


# ---- 7. LIST-EXTENDED CHILDINFO ----

def test_list_recursivematch_childinfo(node, user):
    r = session(node, user)
    ok(r, b"CREATE a/test2/test1")
    ok(r, b"SUBSCRIBE a/test2/test1")

    def listed(text):
        return [ln for ln in ok(r, text) if ln.startswith(b"* LIST")]

    # The subscribed child matches a pattern itself: no CHILDINFO, and
    # its unsubscribed parent is not listed.
    assert listed(b'LIST (SUBSCRIBED RECURSIVEMATCH) "" '
                  b'(a/test2 a/test2/test1)') == [
        b'* LIST (\\HasNoChildren \\Subscribed) "/" "a/test2/test1"\r\n']
    assert listed(b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "a/%"') == [
        b'* LIST (\\HasChildren) "/" "a/test2" ("CHILDINFO" '
        b'("SUBSCRIBED"))\r\n']
    ok(r, b"SUBSCRIBE a/test2")
    # RFC 5258 example 9: subscribed itself and CHILDINFO for the child.
    assert listed(b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "a/%"') == [
        b'* LIST (\\HasChildren \\Subscribed) "/" "a/test2" ("CHILDINFO" '
        b'("SUBSCRIBED"))\r\n']
    assert listed(b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "a/*"') == [
        b'* LIST (\\HasChildren \\Subscribed) "/" "a/test2"\r\n',
        b'* LIST (\\HasNoChildren \\Subscribed) "/" "a/test2/test1"\r\n']
    # RFC 5258 examples 2, 6 and 11: a subscription that does not
    # exist is \NonExistent, and its superior, listed for CHILDINFO
    # only, has children (never \HasNoChildren beside CHILDINFO).
    ok(r, b"SUBSCRIBE Fruit/Peach")
    assert listed(b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "Fruit%"') == [
        b'* LIST (\\NonExistent \\HasChildren) "/" "Fruit" ("CHILDINFO" '
        b'("SUBSCRIBED"))\r\n']
    assert listed(b'LIST (SUBSCRIBED) "" "Fruit*"') == [
        b'* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" '
        b'"Fruit/Peach"\r\n']
    assert listed(b'LIST "" "Fruit*"') == []
    # RECURSIVEMATCH needs a selection option to recurse on (RFC 5258 3).
    _, t = r.cmd(b'LIST (RECURSIVEMATCH) "" "%"')
    assert b" BAD " in t, t
    r.close()


# ---- 8. empty sections ----

def test_empty_sections(node, user):
    r = session(node, user)
    append(r, b"From: a@x\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
              b"--b\r\nContent-Type: text/plain\r\n\r\n"
              b"--b\r\nContent-Type: text/plain\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n"
              b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n")
    append(r, b"From: a@x\r\nSubject: nobody")
    ok(r, b"SELECT INBOX")
    u = ok(r, b"FETCH 1 (BODY.PEEK[1] BINARY.PEEK[2] BINARY.SIZE[1] "
              b"BINARY.SIZE[2] BODY.PEEK[3] BODY.PEEK[1]<0.10>)")
    wire = b"".join(u)
    assert (b"BODY[1] {0}\r\n BINARY[2] {0}\r\n BINARY.SIZE[1] 0 "
            b"BINARY.SIZE[2] 0 BODY[3] {1}\r\nx BODY[1]<0> {0}\r\n)") in wire
    for item in (b"BINARY.PEEK[2]", b"BODY.PEEK[1]", b"BINARY.SIZE[2]"):
        u = ok(r, b"FETCH 1 (" + item + b")")
        assert b"NIL" not in b"".join(u), (item, u)
    # A part past the end is NIL, but BINARY.SIZE is a number in the
    # grammar (RFC 9051 7.5.2); an empty range and absent fields are
    # empty literals too.
    u = ok(r, b"FETCH 1 (BODY.PEEK[9] BINARY.SIZE[9] BODY.PEEK[3]<5.10> "
              b"BODY.PEEK[1.MIME] BODY.PEEK[HEADER.FIELDS (X-None)])")
    wire = b"".join(u)
    assert wire.startswith(b"* 1 FETCH (BODY[9] NIL BINARY.SIZE[9] 0 "
                           b"BODY[3]<5> {0}\r\n BODY[1.MIME] {"), u
    assert wire.endswith(b" BODY[HEADER.FIELDS (X-None)] {2}\r\n\r\n)\r\n")
    u = ok(r, b"FETCH 2 (BODY.PEEK[TEXT] BINARY.PEEK[1] BINARY.SIZE[1])")
    assert b"BODY[TEXT] {0}\r\n BINARY[1] {0}\r\n BINARY.SIZE[1] 0)" in \
        b"".join(u), u
    r.close()
