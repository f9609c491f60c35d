"""A state-tracking stress of one account's shared mailboxes (issue #13):
20 IMAP4rev1 clients at once SELECT, FETCH, STORE (keywords new to the
mailbox among them), EXPUNGE and APPEND on INBOX and a second folder.
Each client keeps the state the protocol told it (RFC 9051 7.5.1, RFC
3501 7.2.6, 2.3.2) and checks every untagged response against it: EXISTS
never shrinks, EXPUNGE and FETCH name a message the client has, UIDs
ascend with sequence numbers and never change, every keyword a FETCH
shows was in FLAGS first, RECENT never passes EXISTS. Every other client
has CONDSTORE on: each FETCH with FLAGS must then carry UID and MODSEQ
(RFC 7162 3.1), and a message's modseq never goes back. COPY brings
messages (and keywords) from one folder to the other. Once all stop, a
NOOP and a FETCH 1:* must agree with what each client tracked: no flag
change went unannounced. Bounded: a fixed number of operations each."""
import random
import re
import socket
import threading

import roost

CLIENTS = 20
OPS = 300
KEYWORDS = ["$Work", "$Junk", "todo", "later"]
FLAGS_RE = re.compile(rb"FLAGS \(([^)]*)\)")
UID_RE = re.compile(rb"UID (\d+)")
MODSEQ_RE = re.compile(rb"MODSEQ \((\d+)\)")


class Broken(AssertionError):
    pass


class Tracker:
    """One IMAP connection and the mailbox state the server gave it."""

    def __init__(self, node, addr, name, condstore=False):
        self.name = name
        self.condstore = condstore
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port),
                                             timeout=60)
        self.f = self.sock.makefile("rb")
        self.f.readline()
        self.n = 0
        self.log = []
        self.reset()
        self.cmd(b'LOGIN "%s" "%s"' % (addr.encode(),
                                       roost.PASSWORD.encode()))
        if condstore:
            self.cmd(b"ENABLE CONDSTORE")

    def reset(self):
        self.msgs = []            # [uid or None, set(flags) or None]
        self.known = set()        # keywords announced in FLAGS (lower)
        self.modseqs = {}         # uid: the highest modseq told
        self.mailbox = None

    def fail(self, why, line=b""):
        raise Broken(f"{self.name}: {why}: {line!r}; last: {self.log[-8:]}")

    def read(self):
        """One response line, literals inlined."""
        ln = self.f.readline()
        if not ln:
            self.fail("connection closed")
        while True:
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if not m:
                break
            data = self.f.read(int(m.group(1)))
            ln += data + self.f.readline()
        self.log.append(ln)
        return ln

    def cmd(self, text):
        self.n += 1
        tag = b"c%d" % self.n
        self.sock.sendall(tag + b" " + text + b"\r\n")
        while True:
            ln = self.read()
            if ln.startswith(tag + b" "):
                if not ln.startswith(tag + b" OK"):
                    self.fail("command failed", text + b" -> " + ln)
                return ln
            if ln.startswith(b"* "):
                self.untagged(ln)

    def untagged(self, ln):
        if ln.startswith(b"* FLAGS ("):
            body = ln[ln.index(b"(") + 1:ln.rindex(b")")]
            self.known = {w.lower() for w in body.split()
                          if not w.startswith(b"\\")}
            return
        m = re.match(rb"\* (\d+) (EXISTS|EXPUNGE|RECENT|FETCH)", ln)
        if not m or self.mailbox is None:
            return
        n, kind = int(m.group(1)), m.group(2)
        if kind == b"EXISTS":
            if n < len(self.msgs):
                self.fail("EXISTS went down without EXPUNGE", ln)
            self.msgs += [[None, None] for _ in range(n - len(self.msgs))]
        elif kind == b"EXPUNGE":
            if not 1 <= n <= len(self.msgs):
                self.fail("EXPUNGE of a message the client does not have", ln)
            del self.msgs[n - 1]
        elif kind == b"RECENT":
            if n > len(self.msgs):
                self.fail("RECENT above EXISTS", ln)
        else:
            self.fetch(n, ln)

    def fetch(self, n, ln):
        if not 1 <= n <= len(self.msgs):
            self.fail("FETCH of a message the client does not have", ln)
        msg = self.msgs[n - 1]
        u = UID_RE.search(ln)
        if u:
            uid = int(u.group(1))
            if msg[0] is not None and msg[0] != uid:
                self.fail("the UID of a message changed", ln)
            msg[0] = uid
            before = [m[0] for m in self.msgs[:n - 1] if m[0] is not None]
            after = [m[0] for m in self.msgs[n:] if m[0] is not None]
            if (before and before[-1] >= uid) or (after and after[0] <= uid):
                self.fail("UIDs do not ascend with sequence numbers", ln)
        f = FLAGS_RE.search(ln)
        ms = MODSEQ_RE.search(ln)
        if self.condstore and f and not (u and ms):
            self.fail("FETCH FLAGS without UID and MODSEQ under CONDSTORE",
                      ln)
        if u and ms:
            uid, modseq = int(u.group(1)), int(ms.group(1))
            if modseq < self.modseqs.get(uid, 0):
                self.fail("the modseq of a message went back", ln)
            self.modseqs[uid] = modseq
        if f:
            flags = set(f.group(1).split())
            for w in flags:
                if not w.startswith(b"\\") and w.lower() not in self.known:
                    self.fail("keyword shown before FLAGS announced it", ln)
            msg[1] = {w.lower() for w in flags if w != b"\\Recent"}

    def select(self, box):
        self.reset()
        self.mailbox = box
        self.cmd(b"SELECT " + box)
        self.cmd(b"FETCH 1:* (UID FLAGS)" if self.msgs else b"NOOP")

    def close(self):
        try:
            self.sock.sendall(b"z LOGOUT\r\n")
        except OSError:
            pass
        self.f.close()
        self.sock.close()


def step(t, rnd, i):
    """One random operation of client t."""
    n = len(t.msgs)
    op = rnd.random()
    kw = rnd.choice(KEYWORDS)
    if rnd.random() < 0.1:
        kw = f"k{t.name}x{i}"             # new to the mailbox
    if op < 0.1:
        t.select(rnd.choice([b"INBOX", b"Shared"]))
    elif op < 0.3 or n == 0:
        flags = b"(%s)" % kw.encode() if rnd.random() < 0.5 else b"()"
        msg = b"Subject: s%d\r\n\r\nbody %d\r\n" % (i, i)
        t.n += 1
        tag = b"c%d" % t.n
        box = rnd.choice([b"INBOX", b"Shared"])
        t.sock.sendall(tag + b" APPEND %s %s {%d+}\r\n" % (box, flags,
                                                          len(msg)) +
                       msg + b"\r\n")
        while True:
            ln = t.read()
            if ln.startswith(tag + b" "):
                if not ln.startswith(tag + b" OK"):
                    t.fail("APPEND failed", ln)
                break
            t.untagged(ln)
    elif op < 0.55:
        seq = rnd.randint(1, n)
        what = rnd.choice([b"+FLAGS", b"-FLAGS", b"+FLAGS.SILENT"])
        flag = rnd.choice([b"\\Seen", b"\\Flagged", kw.encode()])
        t.cmd(b"STORE %d %s (%s)" % (seq, what, flag))
        if what == b"+FLAGS.SILENT" and t.msgs[seq - 1][1] is not None:
            # The client knows what it set; the server tells only what
            # others changed (RFC 3501 6.4.6).
            t.msgs[seq - 1][1].add(flag.lower())
    elif op < 0.65:
        seq = rnd.randint(1, n)
        t.cmd(b"STORE %d +FLAGS.SILENT (\\Deleted)" % seq)
        if t.msgs[seq - 1][1] is not None:
            t.msgs[seq - 1][1].add(b"\\deleted")
        t.cmd(b"EXPUNGE")
    elif op < 0.7:
        # Into the other folder, keywords and all (RFC 3501 7.2.6 for
        # the sessions that have it selected).
        other = b"Shared" if t.mailbox == b"INBOX" else b"INBOX"
        t.cmd(b"COPY %d %s" % (rnd.randint(1, n), other))
    elif op < 0.85:
        lo = rnd.randint(1, n)
        t.cmd(b"FETCH %d:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])"
              % lo)
    else:
        t.cmd(b"NOOP")


def run_client(t, seed, errors):
    rnd = random.Random(seed)
    try:
        t.select(b"INBOX")
        for i in range(OPS):
            step(t, rnd, i)
    except Exception as e:                       # noqa: BLE001
        errors.append(e)


def quiescent_check(t):
    """Nobody writes any more: what t tracked is the mailbox."""
    t.cmd(b"NOOP")
    tracked = [list(m) for m in t.msgs]
    if not tracked:
        return
    seen = {}
    t.n += 1
    tag = b"c%d" % t.n
    t.sock.sendall(tag + b" FETCH 1:* (UID FLAGS)\r\n")
    while True:
        ln = t.read()
        if ln.startswith(tag + b" "):
            break
        m = re.match(rb"\* (\d+) FETCH", ln)
        if ln.startswith(b"* FLAGS (") or ln.startswith(b"* OK ["):
            # A keyword on a message whose flags t never fetched.
            t.untagged(ln)
        elif m:
            for w in FLAGS_RE.search(ln).group(1).split():
                if not w.startswith(b"\\") and w.lower() not in t.known:
                    t.fail("keyword shown before FLAGS announced it", ln)
            f = FLAGS_RE.search(ln)
            seen[int(m.group(1))] = (int(UID_RE.search(ln).group(1)),
                                     {w.lower() for w in f.group(1).split()
                                      if w != b"\\Recent"})
        elif ln.startswith(b"* "):
            t.fail("update while nobody writes", ln)
    if len(seen) != len(tracked):
        t.fail("message count differs", b"%d" % len(seen))
    for seq, (uid, flags) in seen.items():
        mu, mf = tracked[seq - 1]
        if mu is not None and mu != uid:
            t.fail("UID differs from tracked", b"%d" % seq)
        if mf is not None and mf != flags:
            t.fail("a flag change was never announced",
                   b"%d %r %r" % (seq, sorted(mf), sorted(flags)))


def test_concurrent_state_tracking(node):
    addr = "stress@example.test"
    node.add_user(addr)
    setup = Tracker(node, addr, "setup")
    setup.cmd(b"CREATE Shared")
    for i in range(10):
        for box in (b"INBOX", b"Shared"):
            msg = b"Subject: seed %d\r\n\r\nx\r\n" % i
            setup.cmd(b"APPEND %s {%d+}\r\n%s" % (box, len(msg), msg))
    setup.close()
    clients = [Tracker(node, addr, f"c{i}", condstore=i % 2 == 1)
               for i in range(CLIENTS)]
    errors = []
    threads = [threading.Thread(target=run_client, args=(t, 1000 + i,
                                                         errors))
               for i, t in enumerate(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert not any(th.is_alive() for th in threads), "clients stuck"
    assert not errors, errors[0]
    for t in clients:
        quiescent_check(t)
        t.close()
