"""A real IMAP client against roostd: mbsync (Debian's isync) syncs an
INBOX of 1,000 messages to a local Maildir, flags change and messages go
on both sides, two more syncs run, and then both sides must hold the same
messages with the same flags and no duplicates. POP3's view of the INBOX
(STAT, UIDL) must agree with IMAP's."""
import os
import poplib
import re
import shutil
import socket
import subprocess

import pytest

import roost

N = 1000


def mbsync_bin():
    return shutil.which("mbsync")


def raw_login(node, addr):
    s = socket.create_connection(("127.0.0.1", node.imap_port), timeout=60)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b'a LOGIN "%s" "%s"\r\n' % (addr.encode(),
                                           roost.PASSWORD.encode()))
    while not f.readline().startswith(b"a "):
        pass
    return s, f


def raw_cmd(s, f, tag, text):
    s.sendall(tag + b" " + text + b"\r\n")
    out = []
    while True:
        ln = f.readline()
        if ln == b"" or ln.startswith(tag + b" "):
            return out, ln
        out.append(ln)


def fill(node, addr):
    s, f = raw_login(node, addr)
    for b in range(N // 100):
        cmd = b"b%d APPEND INBOX" % b
        for i in range(100):
            k = b * 100 + i
            msg = (b"Subject: message %d\r\nMessage-ID: <m%d@example.test>"
                   b"\r\nX-N: %d\r\n\r\nbody %d\r\n" % (k, k, k, k))
            cmd += b" {%d+}\r\n" % len(msg) + msg
        _, t = raw_cmd(s, f, b"b%d" % b, cmd[len(b"b%d " % b):])
        assert b" OK " in t, t
    s.close()


def server_state(node, addr):
    """{X-N: set of flags} of the INBOX, over IMAP."""
    s, f = raw_login(node, addr)
    raw_cmd(s, f, b"s", b"EXAMINE INBOX")
    s.sendall(b"f FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (X-N)])\r\n")
    state = {}
    while True:
        ln = f.readline()
        if ln.startswith(b"f "):
            assert b" OK " in ln, ln
            break
        m = re.search(rb"FLAGS \(([^)]*)\)", ln)
        lit = re.search(rb"\{(\d+)\}\r\n$", ln)
        if m is None or lit is None:
            continue
        hdr = f.read(int(lit.group(1)))
        f.readline()
        n = int(re.search(rb"X-N: (\d+)", hdr).group(1))
        assert n not in state, f"duplicate {n} on the server"
        state[n] = set(m.group(1).split())
    s.close()
    return state


def local_state(maildir):
    flagmap = {"S": b"\\Seen", "F": b"\\Flagged", "R": b"\\Answered",
               "D": b"\\Draft", "T": b"\\Deleted"}
    state = {}
    for sub in ("cur", "new"):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as fh:
                n = int(re.search(rb"X-N: (\d+)", fh.read()).group(1))
            assert n not in state, f"duplicate {n} in the Maildir"
            info = name.split(":2,")[1] if ":2," in name else ""
            state[n] = {flagmap[c] for c in info if c in flagmap}
    return state


def run_mbsync(cfg):
    r = subprocess.run([mbsync_bin(), "-c", cfg, "-a"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def set_local_flag(maildir, n, flag):
    for sub in ("cur", "new"):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d):
            path = os.path.join(d, name)
            with open(path, "rb") as fh:
                if not re.search(rb"X-N: %d\r?\n" % n, fh.read()):
                    continue
            base, _, info = name.partition(":2,")
            info = "".join(sorted(set(info + flag)))
            os.rename(path, os.path.join(maildir, "cur",
                                         base + ":2," + info))
            return
    raise AssertionError(f"message {n} not found locally")


def delete_local(maildir, n):
    for sub in ("cur", "new"):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d):
            path = os.path.join(d, name)
            with open(path, "rb") as fh:
                if re.search(rb"X-N: %d\r?\n" % n, fh.read()):
                    os.unlink(path)
                    return
    raise AssertionError(f"message {n} not found locally")


@pytest.mark.skipif(mbsync_bin() is None, reason="mbsync not installed")
def test_mbsync_round_trips(node, tmp_path):
    addr = "mbsync@example.test"
    node.add_user(addr)
    fill(node, addr)
    mail = tmp_path / "mail"
    mail.mkdir()
    cfg = tmp_path / "mbsyncrc"
    cfg.write_text(f"""IMAPAccount roost
Host 127.0.0.1
Port {node.imap_port}
User {addr}
Pass {roost.PASSWORD}
SSLType None
AuthMechs LOGIN PLAIN

IMAPStore remote
Account roost

MaildirStore local
Path {mail}/
Inbox {mail}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns INBOX
Create Both
Expunge Both
SyncState *
Sync All
""")
    inbox = str(mail / "INBOX")
    run_mbsync(str(cfg))
    local = local_state(inbox)
    assert len(local) == N
    assert local == server_state(node, addr)

    # Server side: flag 0..9, delete 10..19.
    s, f = raw_login(node, addr)
    raw_cmd(s, f, b"s", b"SELECT INBOX")
    _, t = raw_cmd(s, f, b"f", b"STORE 1:10 +FLAGS.SILENT (\\Flagged)")
    assert b" OK " in t, t
    _, t = raw_cmd(s, f, b"d", b"STORE 11:20 +FLAGS.SILENT (\\Deleted)")
    assert b" OK " in t, t
    _, t = raw_cmd(s, f, b"e", b"EXPUNGE")
    assert b" OK " in t, t
    s.close()
    # Local side: read 500..509, delete 600..604.
    for n in range(500, 510):
        set_local_flag(inbox, n, "S")
    for n in range(600, 605):
        delete_local(inbox, n)

    run_mbsync(str(cfg))
    run_mbsync(str(cfg))
    local = local_state(inbox)
    server = server_state(node, addr)
    assert local == server
    assert len(server) == N - 10 - 5
    for n in range(10):
        assert b"\\Flagged" in server[n]
    for n in range(500, 510):
        assert b"\\Seen" in server[n]
    for n in list(range(10, 20)) + list(range(600, 605)):
        assert n not in server

    # POP3 sees the same INBOX.
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=60)
    try:
        p.user(addr)
        p.pass_(roost.PASSWORD)
        count, _ = p.stat()
        assert count == len(server)
        _, lines, _ = p.uidl()
        assert len(lines) == len(server)
        assert len({ln.split()[1] for ln in lines}) == len(server)
    finally:
        p.quit()
