"""IMAP SEARCH, ESEARCH and SORT against a real roostd (RFC 9051 6.4.4,
RFC 4731, RFC 5256, RFC 7162 MODSEQ): each kind of key, OR/NOT/nesting,
text in encoded headers and in base64 bodies, ESEARCH RETURN options,
SORT orders, and bad programs answered BAD; BODY/TEXT over bodies in
other charsets (iso-8859-1 QP, base64 UTF-8, windows-1252), Latin-1
letters case-folded, and NO [BADCHARSET] for an unknown CHARSET."""
import base64
import imaplib
import re

import pytest

import roost

MSGS = [
    # (flags, date, message)
    ("(\\Seen)", '"01-Jan-2020 10:00:00 +0000"',
     b"From: Zed <zed@example.test>\r\nTo: amy@example.test\r\n"
     b"Subject: Re: budget\r\nDate: Wed, 01 Jan 2020 10:00:00 +0000\r\n"
     b"\r\nThe budget is fine.\r\n"),
    ("(\\Flagged $Junk)", '"02-Feb-2021 10:00:00 +0000"',
     b"From: Amy <amy@example.test>\r\nTo: bob@example.test\r\n"
     b"Cc: carol@example.test\r\n"
     b"Subject: =?utf-8?q?caf=C3=A9?= plans\r\n"
     b"Date: Tue, 02 Feb 2021 10:00:00 +0000\r\n\r\n"
     b"Lunch at noon?\r\n" + b"x" * 3000 + b"\r\n"),
    ("()", '"03-Mar-2022 10:00:00 +0000"',
     b"From: Bob <bob@example.test>\r\nTo: zed@example.test\r\n"
     b"Subject: attachment\r\nDate: Thu, 03 Mar 2022 10:00:00 +0000\r\n"
     b"MIME-Version: 1.0\r\n"
     b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
     b"\r\n" + base64.encodebytes(b"the secret password is swordfish")
     .replace(b"\n", b"\r\n")),
]


def mailbox(node, addr, msgs):
    """A new user's INBOX holding msgs ((flags, date, message) each),
    selected."""
    node.add_user(addr)
    m = imaplib.IMAP4("127.0.0.1", node.imap_port)
    m.login(addr, roost.PASSWORD)
    for flags, date, msg in msgs:
        typ, _ = m.append("INBOX", flags, date, msg)
        assert typ == "OK"
    m.select("INBOX")
    return m


@pytest.fixture(scope="module")
def box(node):
    m = mailbox(node, "search@example.test", MSGS)
    yield m
    m.logout()


def search(m, *keys, uid=False):
    if uid:
        typ, data = m.uid("SEARCH", *keys)
    else:
        typ, data = m.search(None, *keys)
    assert typ == "OK", data
    return [int(x) for x in data[0].split()]


@pytest.mark.parametrize("keys,want", [
    (("ALL",), [1, 2, 3]),
    (("SEEN",), [1]),
    (("UNSEEN",), [2, 3]),
    (("FLAGGED",), [2]),
    (("UNFLAGGED",), [1, 3]),
    (("KEYWORD", "$Junk"), [2]),
    (("UNKEYWORD", "$Junk"), [1, 3]),
    (("FROM", "amy"), [2]),
    (("TO", "ZED"), [3]),
    (("CC", "carol"), [2]),
    (("SUBJECT", "budget"), [1]),
    (("HEADER", "Content-Transfer-Encoding", "base64"), [3]),
    (("BODY", "noon"), [2]),
    (("BODY", "swordfish"), [3]),
    (("TEXT", "amy@example"), [1, 2]),
    (("LARGER", "2000"), [2]),
    (("SMALLER", "2000"), [1, 3]),
    (("BEFORE", "01-Jan-2021"), [1]),
    (("SINCE", "01-Jan-2021"), [2, 3]),
    (("ON", "03-Mar-2022"), [3]),
    (("SENTBEFORE", "01-Jan-2021"), [1]),
    (("SENTSINCE", "02-Feb-2021"), [2, 3]),
    (("OR", "SEEN", "FLAGGED"), [1, 2]),
    (("NOT", "SEEN"), [2, 3]),
    (("(", "OR", "FROM", "zed", "FROM", "bob", ")", "UNSEEN"), [3]),
    (("2:*",), [2, 3]),
    (("UID", "1,3"), [1, 3]),
    (("NOT", "(", "OR", "1", "3", ")"), [2]),
])
def test_search_keys(box, keys, want):
    keys = tuple(k.replace("(", "(").replace(")", ")") for k in keys)
    line = " ".join(keys)
    line = line.replace("( ", "(").replace(" )", ")")
    assert search(box, line) == want


def test_uid_search_and_charset(box):
    assert search(box, "ALL", uid=True) == [1, 2, 3]
    typ, data = box.search("UTF-8", "SUBJECT", "plans")
    assert typ == "OK" and data[0] == b"2"
    # RFC 2047 encoded-words are decoded before matching.
    box.literal = "CAFÉ".encode("utf-8").replace(b"\xc3\x89", b"\xc3\xa9")
    typ, data = box.search("UTF-8", "SUBJECT")
    assert typ == "OK" and data[0] == b"2", data
    typ, data = box.search("KOI8-R", "ALL")
    assert typ == "NO"


def test_esearch(box):
    typ, data = box._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)",
                                    "ALL")
    assert typ == "OK"
    typ, data = box._untagged_response(typ, data, "ESEARCH")
    d = data[-1]
    assert b"MIN 1" in d and b"MAX 3" in d and b"COUNT 3" in d, d
    typ, data = box.uid("SEARCH", "RETURN", "()", "UNSEEN")
    assert typ == "OK"
    data = box.untagged_responses.pop("ESEARCH")
    assert b"UID" in data[-1] and b"ALL 2:3" in data[-1], data
    typ, data = box._simple_command("SEARCH", "RETURN", "(COUNT)",
                                    "DELETED")
    typ, data = box._untagged_response(typ, data, "ESEARCH")
    assert b"COUNT 0" in data[-1]



def test_searchres(box):
    """RFC 5182: RETURN (SAVE) keeps the result for "$"."""
    uids = search(box, "ALL", uid=True)
    typ, data = box._simple_command("UID", "SEARCH", "RETURN", "(SAVE)",
                                    "UNSEEN")
    assert typ == "OK", data
    assert "ESEARCH" not in box.untagged_responses  # SAVE alone: silent
    unseen = search(box, "UNSEEN", uid=True)
    assert search(box, "UID", "$", uid=True) == unseen
    # "$" names UIDs even without the UID prefix.
    typ, data = box.fetch("$", "(UID)")
    assert typ == "OK"
    got = sorted(int(re.search(rb"UID (\d+)", d).group(1))
                 for d in data if isinstance(d, bytes))
    assert got == unseen, (got, data)
    # MIN alone saves only the smallest.
    typ, data = box._simple_command("SEARCH", "RETURN", "(SAVE MIN)",
                                    "ALL")
    assert typ == "OK"
    box.untagged_responses.pop("ESEARCH", None)
    assert search(box, "UID", "$", uid=True) == uids[:1]
    # A new SELECT empties it.
    box.select("INBOX")
    assert search(box, "UID", "$", uid=True) == []

def test_search_modseq(box):
    typ, data = box.search(None, "MODSEQ", "1")
    assert typ == "OK"
    assert re.search(rb"\(MODSEQ \d+\)", data[0]), data


@pytest.mark.parametrize("keys", [
    "FROB", "FROM", "BEFORE 32-Jan-2020", "OR SEEN", "LARGER x", "0",
    "1:x", "(SEEN", "UID 0", "*:*x",
])
def test_search_bad(box, keys):
    with pytest.raises(imaplib.IMAP4.error):
        box.search(None, keys)


def test_search_deep_nesting(box):
    with pytest.raises(imaplib.IMAP4.error):
        box.search(None, "(" * 100 + "ALL" + ")" * 100)
    with pytest.raises(imaplib.IMAP4.error):
        box.search(None, "NOT " * 200 + "ALL")


@pytest.mark.parametrize("crit,want", [
    ("(ARRIVAL)", [1, 2, 3]),
    ("(REVERSE ARRIVAL)", [3, 2, 1]),
    ("(SIZE)", [1, 3, 2]),
    ("(SUBJECT)", [3, 1, 2]),
    ("(FROM)", [2, 3, 1]),
    ("(TO)", [1, 2, 3]),
    ("(DATE)", [1, 2, 3]),
    ("(DISPLAYFROM)", [2, 3, 1]),
])
def test_sort(box, crit, want):
    typ, data = box.sort(crit, "UTF-8", "ALL")
    assert typ == "OK", data
    assert [int(x) for x in data[0].split()] == want


def test_sort_bad(box):
    for crit in ["(FROB)", "(REVERSE)", "()"]:
        with pytest.raises(imaplib.IMAP4.error):
            box.sort(crit, "UTF-8", "ALL")
    typ, data = box.uid("SORT", "(REVERSE SIZE)", "UTF-8", "UNSEEN")
    assert typ == "OK" and data[0].split() == [b"2", b"3"]


CHARSET_MSGS = [
    # iso-8859-1, quoted-printable: "café" is "caf=E9".
    b"From: a@example.test\r\nSubject: latin\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Un caf=E9 cr=E8me, CAF=C9 NOIR.\r\n",
    # utf-8, base64.
    b"From: b@example.test\r\nSubject: utf8\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=\"UTF-8\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes("Grüße aus München".encode("utf-8"))
    .replace(b"\n", b"\r\n"),
    # windows-1252 in a multipart, 8bit; encoded-word subject.
    b"From: c@example.test\r\n"
    b"Subject: =?iso-8859-1?q?=C9t=E9_=E0_Paris?=\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
    b"Content-Type: text/plain; charset=windows-1252\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    b"\x93quoted\x94 na\xefve\r\n--XX--\r\n",
]


@pytest.fixture(scope="module")
def cbox(node):
    m = mailbox(node, "searchcs@example.test",
                [(None, None, msg) for msg in CHARSET_MSGS])
    yield m
    m.logout()


def usearch(m, key, text):
    """SEARCH CHARSET UTF-8 key {n}text (a literal)."""
    m.literal = text.encode("utf-8")
    typ, data = m.search("UTF-8", key)
    assert typ == "OK", data
    return [int(x) for x in data[0].split()]


@pytest.mark.parametrize("key,text,want", [
    ("BODY", "café", [1]),           # iso-8859-1 QP
    ("BODY", "CAFÉ", [1]),           # Latin-1 letters folded
    ("BODY", "crème", [1]),
    ("BODY", "caf", [1]),
    ("BODY", "grüße", [2]),          # utf-8 base64
    ("BODY", "MÜNCHEN", [2]),
    ("TEXT", "münchen", [2]),
    ("BODY", "“quoted”", [3]),       # windows-1252 quotes
    ("BODY", "naïve", [3]),
    ("SUBJECT", "été à paris", [3]),  # RFC 2047, iso-8859-1
    ("BODY", "cafe", []),
    ("BODY", "CAFÉ CRÈME", [1]),     # upper needle, lower text
    ("BODY", "Grüße AUS", [2]),
])
def test_search_charset_body(cbox, key, text, want):
    assert usearch(cbox, key, text) == want


def test_search_badcharset(cbox):
    typ, data = cbox._simple_command("SEARCH", "CHARSET", "X-UNKNOWN",
                                     "BODY", "x")
    assert typ == "NO"
    assert b"BADCHARSET" in data[-1], data


@pytest.fixture(scope="module")
def bigbox(node):
    """200 messages of ~200 KB: a SEARCH BODY over them takes a while."""
    line = b"lorem ipsum dolor sit amet consectetur adipiscing elit " * 2
    body = (line.rstrip() + b"\r\n") * 1800
    msg = (b"From: big@example.test\r\nSubject: big\r\n\r\n" + body)
    m = mailbox(node, "searchbig@example.test",
                [(None, None, msg)] * 200)
    yield m
    m.logout()


def raw_selected(node, addr):
    """A plain socket (and its reader) logged in with INBOX selected."""
    import socket
    raw = socket.create_connection(("127.0.0.1", node.imap_port))
    f = raw.makefile("rb")
    f.readline()
    raw.sendall(b"a LOGIN " + addr.encode() + b" " +
                roost.PASSWORD.encode() + b"\r\na SELECT INBOX\r\n")
    while not f.readline().startswith(b"a OK [READ-WRITE]"):
        pass
    return raw, f


def test_search_off_the_loop(node, bigbox):
    """While one session's SEARCH BODY reads every body, another's NOOP
    and FETCH on the same node answer at once."""
    import time
    other = imaplib.IMAP4("127.0.0.1", node.imap_port)
    other.login("searchbig@example.test", roost.PASSWORD)
    other.select("INBOX")
    raw, f = raw_selected(node, "searchbig@example.test")
    t0 = time.monotonic()
    raw.sendall(b"s SEARCH BODY nowhere-to-be-found\r\n")
    time.sleep(0.05)
    lat = []
    for _ in range(3):
        t = time.monotonic()
        assert other.noop()[0] == "OK"
        assert other.fetch("1", "(FLAGS)")[0] == "OK"
        lat.append(time.monotonic() - t)
    while True:
        ln = f.readline()
        assert ln, "connection closed"
        if ln.startswith(b"s "):
            break
    took = time.monotonic() - t0
    assert ln.startswith(b"s OK"), ln
    assert max(lat) < took / 4, (lat, took)
    raw.close()
    other.logout()


def test_search_client_leaves(node, bigbox):
    """A session that disconnects while its SEARCH runs is released once
    the search ends; the node keeps serving."""
    import time
    raw, f = raw_selected(node, "searchbig@example.test")
    raw.sendall(b"s SEARCH TEXT nowhere\r\nl LOGOUT\r\n")
    raw.close()
    time.sleep(0.1)
    typ, data = bigbox.search(None, "SUBJECT", "big")
    assert typ == "OK" and len(data[0].split()) == 200
    assert node.alive()
