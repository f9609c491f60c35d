"""fault_load.py: the clients of the fault tests (faults.py) and what
they were told.

- Ledger: across every load of a run, each acknowledged message (SMTP
  250, APPEND's tagged OK with APPENDUID), the flags a STORE set, and
  every (UIDVALIDITY, UID) -> Message-ID ever seen.
- Load: SMTP senders and IMAP sessions (APPEND, STORE, UID FETCH) in
  threads, spread over the nodes; what they are answered goes into the
  ledger. Also runnable in a namespace as a process of its own:
  python3 fault_load.py load SPEC_JSON (prints its ledger as JSON).
It injects no fault and checks nothing."""
import imaplib
import json
import os
import random
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time

# The namespace's load process runs this file alone.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roost  # noqa: E402

DOMAIN = "faults.test"
PASSWORD = roost.PASSWORD
CLIENT_TIMEOUT = 30      # longer than any freeze: answers come after it


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}        # msgid -> {user, kind, via, t, uidv, uid}
        self.tried = set()     # msgids sent or appended, acked or not
        self.flags = {}        # msgid -> True/False flagged, None unknown
        self.seen = {}         # "user uidv uid" -> msgid
        self.conflicts = []
        self.errors = {}       # what went wrong, counted

    def ack(self, msgid, **rec):
        with self.lock:
            self.acked[msgid] = rec

    def error(self, what):
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1

    def saw(self, user, uidv, uid, msgid):
        key = f"{user} {uidv} {uid}"
        with self.lock:
            old = self.seen.setdefault(key, msgid)
            if old != msgid:
                self.conflicts.append((key, old, msgid))

    def dump(self):
        with self.lock:
            return {"acked": self.acked, "tried": sorted(self.tried),
                    "flags": self.flags, "seen": self.seen,
                    "conflicts": self.conflicts, "errors": self.errors}

    def merge(self, d):
        with self.lock:
            self.acked.update(d["acked"])
            self.tried.update(d["tried"])
            self.flags.update(d["flags"])
            self.conflicts += [tuple(c) for c in d["conflicts"]]
            for k, v in d["errors"].items():
                self.errors[k] = self.errors.get(k, 0) + v
        for key, msgid in d["seen"].items():
            user, uidv, uid = key.split(" ")
            self.saw(user, uidv, uid, msgid)


# ---- the load ----

class Target:
    """A node as clients reach it."""

    def __init__(self, node_id, host, smtp_port, imap_port):
        self.id, self.host = node_id, host
        self.smtp_port, self.imap_port = smtp_port, imap_port

    @classmethod
    def of(cls, node):
        return cls(node.node_id, node.bind, node.smtp_port, node.imap_port)


FETCH_RE = re.compile(rb"UID (\d+)")
FLAGS_RE = re.compile(rb"FLAGS \(([^)]*)\)")
MSGID_RE = re.compile(rb"Message-ID:\s*(<[^>\r\n]+>)", re.I)
APPENDUID_RE = re.compile(rb"APPENDUID (\d+) (\d+)")


def parse_fetch(data):
    """imaplib's UID FETCH answer -> [(uid, flags, msgid)]."""
    out = []
    items = list(data or [])
    for i, it in enumerate(items):
        if not isinstance(it, tuple):
            continue
        head = it[0]
        if i + 1 < len(items) and isinstance(items[i + 1], bytes):
            head += items[i + 1]
        mu, mi = FETCH_RE.search(head), MSGID_RE.search(it[1])
        if mu is None:
            continue
        mf = FLAGS_RE.search(head)
        out.append((int(mu.group(1)),
                    mf.group(1).decode().split() if mf else None,
                    mi.group(1).decode() if mi else None))
    return out


def message(msgid, frm, to, subject, size=0):
    body = "".join(f"line {i} of {subject} {'x' * 60}\r\n"
                   for i in range(max(1, size // 80)))
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: {msgid}\r\n\r\n{body}")


class Load:
    """SMTP senders and IMAP sessions until stop(). targets(i) is called
    for each new connection of thread i and returns the Targets it may
    use now."""

    def __init__(self, ledger, targets, users, imap_users, tag,
                 smtp_threads=3):
        self.ledger = ledger
        self.targets = targets
        self.users = list(users)
        self.imap_users = list(imap_users)
        self.tag = tag
        self.stopping = threading.Event()
        self.threads = []
        self.counter = 0
        self.lock = threading.Lock()
        self.nsmtp = smtp_threads

    def _next_id(self, kind):
        with self.lock:
            self.counter += 1
            n = self.counter
        return f"<{self.tag}-{kind}-{n}@{DOMAIN}>", f"{self.tag}-{kind}-{n}"

    def _in_turn(self, k):
        """The node for each new connection, in turn, until stop()."""
        while not self.stopping.is_set():
            ts = self.targets(k)
            if ts:
                yield ts[k % len(ts)]
            else:
                self._pause()
            k += 1

    def _pause(self, s=0.2):
        self.stopping.wait(s)

    def start(self):
        for i in range(self.nsmtp):
            self.threads.append(threading.Thread(
                target=self._smtp, args=(i,), daemon=True))
        for i, u in enumerate(self.imap_users):
            self.threads.append(threading.Thread(
                target=self._imap, args=(i, u), daemon=True))
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(CLIENT_TIMEOUT * 3)
        stuck = [t for t in self.threads if t.is_alive()]
        assert not stuck, f"{len(stuck)} load threads did not stop"

    def wait_acks(self, n, timeout=60):
        """Until n more acknowledgements than now arrived."""
        goal = len(self.ledger.acked) + n
        deadline = time.time() + timeout
        while len(self.ledger.acked) < goal:
            assert time.time() < deadline, \
                f"load: {goal - len(self.ledger.acked)} acks missing " \
                f"after {timeout} s; errors {self.ledger.errors}"
            time.sleep(0.05)

    # SMTP: one recipient a message; a refused or cut transaction is
    # tried again (same octets: the idempotency key finds a stored copy)
    # up to three times, then left unknown.
    def _smtp(self, i):
        rnd = random.Random(f"{self.tag}-smtp-{i}")
        pending, tries = None, 0
        for t in self._in_turn(i):
            try:
                with smtplib.SMTP(t.host, t.smtp_port,
                                  timeout=CLIENT_TIMEOUT) as s:
                    s.ehlo("load.faults.test")
                    for _ in range(20):
                        if self.stopping.is_set() and pending is None:
                            break
                        if pending is None:
                            msgid, subj = self._next_id("smtp")
                            user = rnd.choice(self.users)
                            frm = f"sender{i}@{DOMAIN}"
                            pending = (msgid, user, frm,
                                       message(msgid, frm, user, subj,
                                               rnd.choice((0, 0, 2000))))
                            tries = 0
                            with self.ledger.lock:
                                self.ledger.tried.add(msgid)
                        msgid, user, frm, body = pending
                        tries += 1
                        refused = s.sendmail(frm, [user], body)
                        assert not refused
                        self.ledger.ack(msgid, user=user, kind="smtp",
                                        via=t.id, t=time.time(),
                                        uidv=None, uid=None)
                        pending = None
            except (smtplib.SMTPException, OSError) as e:
                self.ledger.error(f"smtp {type(e).__name__}")
                if pending is not None and tries >= 3:
                    pending = None
                self._pause(0.1 + rnd.random() * 0.2)

    # IMAP: one session at a time for its own user, on one node after the
    # other: APPEND (acked with its APPENDUID), STORE of \\Flagged on an
    # acked APPEND (its state unknown until an OK), UID FETCH now and
    # then (every UID seen is recorded).
    def _imap(self, i, user):
        rnd = random.Random(f"{self.tag}-imap-{i}")
        mine = []
        for t in self._in_turn(i):
            m = None
            try:
                m = imaplib.IMAP4(t.host, t.imap_port,
                                  timeout=CLIENT_TIMEOUT)
                m.login(user, PASSWORD)
                typ, _ = m.select("INBOX")
                if typ != "OK":
                    raise imaplib.IMAP4.error("select " + typ)
                uidv = int(m.untagged_responses["UIDVALIDITY"][-1])
                for _ in range(30):
                    if self.stopping.is_set():
                        break
                    r = rnd.random()
                    if r < 0.6 or not mine:
                        self._append(m, t, user, mine)
                    elif r < 0.9:
                        self._store(m, rnd, uidv, mine)
                    else:
                        typ, data = m.uid(
                            "FETCH", "1:*",
                            "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                        if typ == "OK":
                            for uid, _, msgid in parse_fetch(data):
                                if msgid:
                                    self.ledger.saw(user, uidv, uid, msgid)
                m.logout()
                m = None
            except (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError,
                    KeyError, ValueError) as e:
                self.ledger.error(f"imap {type(e).__name__}")
                self._pause(0.1 + rnd.random() * 0.2)
            finally:
                if m is not None:
                    try:
                        m.shutdown()
                    except OSError:
                        pass

    def _append(self, m, t, user, mine):
        msgid, subj = self._next_id("append")
        with self.ledger.lock:
            self.ledger.tried.add(msgid)
        body = message(msgid, f"appender@{DOMAIN}", user, subj).encode()
        typ, data = m.append("INBOX", None, None, body)
        if typ != "OK":
            self.ledger.error("imap append NO")
            return
        mu = APPENDUID_RE.search(data[0] if data and data[0] else b"")
        if mu is None:
            self.ledger.error("imap append without APPENDUID")
            return
        uidv, uid = int(mu.group(1)), int(mu.group(2))
        self.ledger.ack(msgid, user=user, kind="append", via=t.id,
                        t=time.time(), uidv=uidv, uid=uid)
        self.ledger.saw(user, uidv, uid, msgid)
        with self.ledger.lock:
            self.ledger.flags[msgid] = False
        mine.append((msgid, uidv, uid))

    def _store(self, m, rnd, uidv, mine):
        msgid, muidv, uid = rnd.choice(mine)
        if muidv != uidv:
            return
        on = rnd.random() < 0.5
        with self.ledger.lock:
            self.ledger.flags[msgid] = None     # unknown until the OK
        typ, _ = m.uid("STORE", str(uid), "+FLAGS.SILENT" if on
                       else "-FLAGS.SILENT", "(\\Flagged)")
        if typ == "OK":
            with self.ledger.lock:
                self.ledger.flags[msgid] = on
        else:
            self.ledger.error("imap store NO")


class NsLoad:
    """A Load in a process of its own inside a namespace (this file's
    "load" command), for a node only reachable from there."""

    def __init__(self, ledger, net, targets, users, imap_users, tag):
        self.ledger = ledger
        spec = {"targets": [t.__dict__ for t in targets], "users": users,
                "imap_users": imap_users, "tag": tag}
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", net.ns, sys.executable,
             os.path.abspath(__file__), "load", json.dumps(spec)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=CLIENT_TIMEOUT * 4)
        assert self.proc.returncode == 0, err[-2000:]
        d = json.loads(out)
        self.ledger.merge(d)
        return d


def _load_main(spec):
    spec = json.loads(spec)
    targets = [Target(t["id"], t["host"], t["smtp_port"], t["imap_port"])
               for t in spec["targets"]]
    ledger = Ledger()
    load = Load(ledger, lambda i: targets, spec["users"], spec["imap_users"],
                spec["tag"], smtp_threads=2).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    done.wait()
    load.stop()
    json.dump(ledger.dump(), sys.stdout)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "load":
    _load_main(sys.argv[2])

