"""faults.py: fault injection against a real cluster (issue 12), shared by
test_faults.py and tests/fault_soak.py.

- Net: a network namespace joined to this one by a veth pair; the
  cluster's last node runs inside it, so it can be cut off from its
  peers and from etcd (a blackhole route on each side) while its process
  keeps running.
- Ledger: what clients were told, across every load of a run: each
  acknowledged message (SMTP 250, APPEND's tagged OK with APPENDUID), the
  flags a STORE set, and every (UIDVALIDITY, UID) -> Message-ID ever seen.
- Load: SMTP senders and IMAP sessions (APPEND, STORE, UID FETCH) in
  threads, spread over the nodes; what they are answered goes into the
  ledger. Also runnable in a namespace as a process of its own:
  python3 faults.py load SPEC_JSON (prints its ledger as JSON).
- Faults on nodes and etcd, and the checks: every replica in sync, every
  acknowledged message and APPEND present exactly once (at the UID
  APPENDUID named), no UID given to two messages, the flags of the last
  acknowledged STORE, and equal partition digests on all replicas."""
import imaplib
import json
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roost  # noqa: E402
from cluster import part_of  # noqa: E402

DOMAIN = "faults.test"
PASSWORD = roost.PASSWORD
CLIENT_TIMEOUT = 30      # longer than any freeze: answers come after it


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=30)


# ---- the namespace ----

class Net:
    """A namespace "rfN" and a veth pair: `here` is this side's address,
    `there` the namespace's. create() returns None when namespaces
    cannot be made here (not root, no ip tool)."""

    def __init__(self, tag):
        pid = os.getpid()
        self.ns = f"rf{tag}{pid}"
        self.here_if, self.there_if = f"rf{tag}{pid}a", f"rf{tag}{pid}b"
        net = f"10.{150 + (pid // 250) % 50}.{pid % 250}"
        self.here, self.there = f"{net}.1", f"{net}.2"
        self.is_cut = False

    @classmethod
    def create(cls, tag="x"):
        if shutil.which("ip") is None or os.geteuid() != 0:
            return None
        n = cls(tag)
        if sh("ip", "netns", "add", n.ns).returncode != 0:
            return None
        for cmd in (
            ["ip", "link", "add", n.here_if, "type", "veth", "peer", "name",
             n.there_if],
            ["ip", "link", "set", n.there_if, "netns", n.ns],
            ["ip", "addr", "add", f"{n.here}/24", "dev", n.here_if],
            ["ip", "link", "set", n.here_if, "up"],
            ["ip", "netns", "exec", n.ns, "ip", "addr", "add",
             f"{n.there}/24", "dev", n.there_if],
            ["ip", "netns", "exec", n.ns, "ip", "link", "set", n.there_if,
             "up"],
            ["ip", "netns", "exec", n.ns, "ip", "link", "set", "lo", "up"],
        ):
            r = sh(*cmd)
            if r.returncode != 0:
                n.cleanup()
                return None
        return n

    def cut(self):
        """Every packet between the two sides is dropped (a blackhole
        route each way); connections stay open, the processes run."""
        for cmd in (["ip", "route", "add", "blackhole", f"{self.there}/32"],
                    ["ip", "netns", "exec", self.ns, "ip", "route", "add",
                     "blackhole", f"{self.here}/32"]):
            r = sh(*cmd)
            assert r.returncode == 0, (cmd, r.stderr)
        self.is_cut = True

    def heal(self):
        sh("ip", "route", "del", "blackhole", f"{self.there}/32")
        sh("ip", "netns", "exec", self.ns, "ip", "route", "del",
           "blackhole", f"{self.here}/32")
        self.is_cut = False

    def cleanup(self):
        self.heal()
        sh("ip", "link", "del", self.here_if)
        sh("ip", "netns", "del", self.ns)


# ---- what clients were told ----

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
                 smtp_threads=3, seed=0):
        self.ledger = ledger
        self.targets = targets
        self.users = list(users)
        self.imap_users = list(imap_users)
        self.tag = tag
        self.stopping = threading.Event()
        self.rnd = random.Random(seed)
        self.threads = []
        self.counter = 0
        self.lock = threading.Lock()
        self.nsmtp = smtp_threads
        self.acks = 0

    def _next_id(self, kind):
        with self.lock:
            self.counter += 1
            n = self.counter
        return f"<{self.tag}-{kind}-{n}@{DOMAIN}>", f"{self.tag}-{kind}-{n}"

    def _pick(self, i):
        ts = self.targets(i)
        if not ts:
            return None
        return ts[i % len(ts)]

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
        pending, tries, k = None, 0, i
        while not self.stopping.is_set():
            t = self._pick(k)
            k += 1
            if t is None:
                self._pause()
                continue
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
        k = i
        while not self.stopping.is_set():
            t = self._pick(k)
            k += 1
            if t is None:
                self._pause()
                continue
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


# ---- the cluster under test ----

_next_base = [21000 + (os.getpid() % 100) * 100]


def _port_base(hosts):
    """A port base whose service ports are free on hosts, below the
    ephemeral range (32768 up): clients of other nodes on the same
    address must not hold one of them when a node (re)starts."""
    import socket
    for _ in range(200):
        base = _next_base[0]
        _next_base[0] = base + 100 if base < 32500 else 21000
        ok = True
        for h in hosts:
            for off in (10, 25, 43, 65, 80, 87, 93, 95, 99):
                sock = socket.socket()
                try:
                    sock.bind((h, base + off))
                except OSError:
                    ok = False
                finally:
                    sock.close()
        if ok:
            return base
    raise RuntimeError("no free port base")


def make_cluster(name, net=None, partitions=8, settings=None):
    from cluster import Cluster
    s = {"password_scrypt_ln": "10", "auth.failure_delay": "0s",
         # Clients reach the nodes from the veth's address, not loopback.
         "plaintext_auth": "any",
         "cluster.lease_ttl": "3", "cluster.rpc_timeout": "5s"}
    s.update(settings or {})
    c = Cluster(n=3, partitions=partitions, name=name, replicas=3,
                settings=s, net=net)
    for n in c.nodes:
        n.port_base = _port_base(["127.0.0.1"] + ([n.bind] if n.netns is None
                                                  and n.bind != "127.0.0.1"
                                                  else []))
    return c


def users_for_every_partition(prefix, nparts):
    found, i = {}, 0
    while len(found) < nparts:
        addr = f"{prefix}{i}@{DOMAIN}"
        found.setdefault(part_of(addr, nparts), addr)
        i += 1
    return [found[p] for p in range(nparts)]


def setup_users(c, imap_users=4):
    """The domain, one SMTP user per partition and IMAP users; returns
    (smtp users, imap users)."""
    c.roostctl("domain", "add", DOMAIN)
    users = users_for_every_partition("u", c.partitions)
    imap = [f"imap{i}@{DOMAIN}" for i in range(imap_users)]
    for u in users + imap:
        c.roostctl("user", "add", u, "--password-stdin",
                   input=PASSWORD + "\n")
    return users, imap


class Harness:
    """A cluster, its users and ledger, the faults and the checks."""

    def __init__(self, c, users, imap_users, ledger=None):
        """The last IMAP user is the namespace load's."""
        self.c = c
        self.users = users
        self.imap_users = imap_users[:-1]
        self.ns_imap_user = imap_users[-1]
        self.ledger = ledger or Ledger()
        self.down = set()        # node ids not to send load to
        self.frozen = set()      # SIGSTOPped
        self.loads = 0

    # nodes

    def targets(self, i=1):
        """Where thread i sends load now: live nodes, not cut off; a
        frozen node only for even i (its clients hang until it thaws,
        and the others must go on)."""
        out = []
        for n in self.c.nodes:
            if n.node_id in self.down or not n.alive():
                continue
            if n.node_id in self.frozen and i % 2 == 1:
                continue
            if self.c.net is not None and self.c.net.is_cut and \
                    n.netns is not None:
                continue
            out.append(Target.of(n))
        return out

    def observer(self, avoid=()):
        """A node to ask: alive, not frozen, not cut off."""
        for i, n in enumerate(self.c.nodes):
            if n.alive() and n.node_id not in self.frozen and \
                    n.node_id not in avoid and \
                    not (n.netns is not None and self.c.net.is_cut):
                return i
        raise AssertionError("no node to ask")

    def status(self, avoid=()):
        return self.c.status(node=self.observer(avoid))

    def primaries(self):
        """node id -> partitions it leads."""
        st = self.status()
        out = {n.node_id: 0 for n in self.c.nodes}
        for p in st["partitions"]:
            if p["primary"] in out:
                out[p["primary"]] += 1
        return out

    def most_primaries(self, among=None):
        pr = self.primaries()
        ids = among or list(pr)
        return max(ids, key=lambda i: (pr[i], i))

    def fewest_primaries(self, among=None):
        pr = self.primaries()
        ids = among or list(pr)
        return min(ids, key=lambda i: (pr[i], i))

    def load(self, tag=None, smtp_threads=3):
        self.loads += 1
        return Load(self.ledger, self.targets, self.users, self.imap_users,
                    tag or f"l{self.loads}", smtp_threads=smtp_threads,
                    seed=self.loads).start()

    def ns_load(self, tag=None):
        """A load from inside the namespace, on its node only."""
        self.loads += 1
        return NsLoad(self.ledger, self.c.net, [Target.of(self.c.nodes[-1])],
                      self.users, [self.ns_imap_user],
                      tag or f"ns{self.loads}")

    # faults

    def kill(self, node_id):
        log(f"fault: SIGKILL {node_id}")
        self.c.node(node_id).kill9()

    def restart(self, node_id):
        log(f"restart {node_id}")
        self.c.node(node_id).start()

    def freeze(self, node_id):
        log(f"fault: SIGSTOP {node_id}")
        self.frozen.add(node_id)
        self.c.node(node_id).proc.send_signal(signal.SIGSTOP)

    def thaw(self, node_id):
        log(f"SIGCONT {node_id}")
        self.c.node(node_id).proc.send_signal(signal.SIGCONT)
        self.frozen.discard(node_id)

    def kill_etcd(self):
        log("fault: SIGKILL etcd")
        self.c.etcd.stop(signal.SIGKILL)

    def start_etcd(self):
        log("restart etcd")
        self.c.etcd.start()

    def wipe(self, node_id):
        log(f"fault: {node_id} killed, its data directory wiped")
        n = self.c.node(node_id)
        n.kill9()
        shutil.rmtree(n.data_dir)

    def cut(self):
        log(f"fault: {self.c.nodes[-1].node_id} cut off")
        self.c.net.cut()

    def heal(self):
        log(f"{self.c.nodes[-1].node_id} reconnected")
        self.c.net.heal()

    def wait_failover(self, victim, timeout=60):
        """Until no partition is led by victim and every one has a live
        primary, as another node sees it."""
        deadline = time.time() + timeout
        t0 = time.time()
        while True:
            st = self.status(avoid=(victim,))
            led = [p["id"] for p in st["partitions"]
                   if p["primary"] == victim]
            if not led and all(p["primary_alive"] for p in st["partitions"]):
                log(f"failover from {victim} done in {time.time() - t0:.1f}"
                    " s")
                return
            assert time.time() < deadline, \
                f"{victim} still leads {led}: {st['partitions']}"
            time.sleep(0.2)

    # checks

    def each_partition_writable(self, tag, timeout=30):
        """One message to each partition's user (through the live nodes
        in turn) until each got its 250: every partition takes writes
        again. Returns the seconds it took."""
        t0 = time.time()
        deadline = t0 + timeout
        k = 0
        for i, user in enumerate(self.users):
            msgid = f"<{tag}-probe-{i}@{DOMAIN}>"
            body = message(msgid, f"probe@{DOMAIN}", user, f"{tag}-probe")
            with self.ledger.lock:
                self.ledger.tried.add(msgid)
            while True:
                ts = self.targets()
                t = ts[k % len(ts)]
                k += 1
                try:
                    with smtplib.SMTP(t.host, t.smtp_port,
                                      timeout=CLIENT_TIMEOUT) as s:
                        s.sendmail(f"probe@{DOMAIN}", [user], body)
                    self.ledger.ack(msgid, user=user, kind="smtp", via=t.id,
                                    t=time.time(), uidv=None, uid=None)
                    break
                except (smtplib.SMTPException, OSError) as e:
                    assert time.time() < deadline, \
                        f"partition of {user} takes no writes: {e!r}"
                    time.sleep(0.2)
        log(f"every partition took a write within {time.time() - t0:.1f} s")
        return time.time() - t0

    def wait_cluster(self, timeout=50):
        """roostctl cluster wait: every partition has a live primary and
        every replica is in sync."""
        t0 = time.time()
        r = self.c.roostctl("cluster", "wait", "--timeout", str(timeout),
                            node=self.observer(), check=False)
        assert r.returncode == 0, \
            f"cluster wait: {r.stderr}\n{self.c.log_text()}"
        log(f"cluster settled, every replica in sync "
            f"({time.time() - t0:.1f} s)")

    def read_mailbox(self, user, timeout=60):
        """(uidvalidity, [(uid, flags, msgid)]) of user's INBOX, through
        any node."""
        deadline = time.time() + timeout
        k = 0
        while True:
            ts = self.targets()
            t = ts[k % len(ts)]
            k += 1
            try:
                m = imaplib.IMAP4(t.host, t.imap_port, timeout=CLIENT_TIMEOUT)
                try:
                    m.login(user, PASSWORD)
                    typ, _ = m.select("INBOX", readonly=True)
                    assert typ == "OK"
                    uidv = int(m.untagged_responses["UIDVALIDITY"][-1])
                    typ, data = m.uid(
                        "FETCH", "1:*",
                        "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                    assert typ == "OK", data
                    m.logout()
                    return uidv, parse_fetch(data)
                finally:
                    try:
                        m.shutdown()
                    except OSError:
                        pass
            except (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError,
                    AssertionError) as e:
                assert time.time() < deadline, f"read {user}: {e!r}"
                time.sleep(0.3)

    def check_mail(self, live=False):
        """Every acknowledged message and APPEND exactly once, at its
        APPENDUID; no Message-ID twice; no UID for two messages; the
        flags of the last acknowledged STORE. live: while a load runs
        (what is acknowledged during the reads is left for later, and
        flags, which may be changing, are not compared)."""
        problems = []
        present = {}
        with self.ledger.lock:
            acked = dict(self.ledger.acked)
        for user in self.users + self.imap_users + [self.ns_imap_user]:
            uidv, msgs = self.read_mailbox(user)
            ids = {}
            for uid, flags, msgid in msgs:
                self.ledger.saw(user, uidv, uid, msgid)
                ids.setdefault(msgid, []).append((uidv, uid, flags))
            for msgid, where in ids.items():
                if len(where) > 1:
                    problems.append(f"{user}: {msgid} {len(where)} times "
                                    f"{where}")
            present[user] = ids
        for msgid, rec in acked.items():
            where = present.get(rec["user"], {}).get(msgid)
            if not where:
                problems.append(f"lost: {msgid} ({rec['kind']} via "
                                f"{rec['via']} to {rec['user']} at "
                                f"{rec['t']:.3f})")
                continue
            uidv, uid, flags = where[0]
            if rec["kind"] == "append" and (uidv, uid) != (rec["uidv"],
                                                           rec["uid"]):
                problems.append(f"{msgid}: APPENDUID {rec['uidv']} "
                                f"{rec['uid']}, now at {uidv} {uid}")
            want = None if live else self.ledger.flags.get(msgid)
            if want is not None and flags is not None and \
                    ("\\Flagged" in flags) != want:
                problems.append(f"{msgid}: flagged should be {want}, "
                                f"flags {flags}")
        with self.ledger.lock:
            known = set(self.ledger.acked) | self.ledger.tried
        for user, ids in present.items():
            for msgid in ids:
                if msgid not in known:
                    problems.append(f"{user}: {msgid} was never sent")
        for key, a, b in list(self.ledger.conflicts):
            problems.append(f"UID {key} given to {a} and {b}")
        n = sum(len(v) for v in present.values())
        log(f"mail: {len(acked)} acknowledged, {n} stored, "
            f"{len(problems)} problems; client errors {self.ledger.errors}")
        return problems

    def digest(self, node_id, part):
        n = self.c.node(node_id)
        with open(self.c.token_file) as f:
            token = f.read().strip()
        req = urllib.request.Request(
            f"http://{n.bind}:{n.http_port}/api/v1/partitions/{part}/digest",
            headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def check_digests(self, timeout=60):
        """Each partition's replicas at one position, with one digest."""
        st = self.status()
        problems = []
        deadline = time.time() + timeout
        for p in st["partitions"]:
            part = p["id"]
            while True:
                ds = {r: self.digest(r, part) for r in p["replicas"]}
                pos = {(d["epoch"], d["lsn"]) for d in ds.values()}
                if len(pos) == 1:
                    shas = {(d["sha256"], d["keys"]) for d in ds.values()}
                    if len(shas) != 1:
                        problems.append(f"partition {part} differs at "
                                        f"{pos}: {ds}")
                    break
                if time.time() > deadline:
                    problems.append(f"partition {part}: replicas at "
                                    f"different positions: {ds}")
                    break
                time.sleep(0.2)
        log(f"digests: {len(st['partitions'])} partitions x "
            f"{len(p['replicas'])} replicas, {len(problems)} problems")
        return problems

    def check(self, what=""):
        """After a fault, once the load stopped."""
        self.wait_cluster()
        problems = self.check_mail() + self.check_digests()
        assert not problems, f"{what}: {len(problems)} problems:\n" + \
            "\n".join(problems[:40])


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "load":
    _load_main(sys.argv[2])
