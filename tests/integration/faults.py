"""faults.py: fault injection against a real cluster (issue 12), shared by
test_faults.py and tests/fault_soak.py: the cluster under test (three
nodes, three copies of every partition, the last node in a network
namespace when one can be made: fault_net.py), its users, and the
Harness that injects one fault at a time and waits for what it causes.
The clients and their ledger are fault_load.py's, the checks afterwards
fault_check.py's."""
import json
import os
import shutil
import signal
import smtplib
import time

import fault_check
from cluster import part_of
from fault_load import (CLIENT_TIMEOUT, DOMAIN, PASSWORD, Ledger, Load,
                        NsLoad, Target, log, message)


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

    def led_by(self, node_id):
        """The partitions node_id leads, as another node sees it; users[p]
        is partition p's SMTP user."""
        st = self.status(avoid=(node_id,))
        return [p["id"] for p in st["partitions"] if p["primary"] == node_id]

    def target(self, node_id):
        return Target.of(self.c.node(node_id))

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
                    tag or f"l{self.loads}",
                    smtp_threads=smtp_threads).start()

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
        if r.returncode != 0:
            parts = self.followers_text()
            raise AssertionError(f"cluster wait: {r.stderr}\n{parts}\n"
                                 f"{self.c.log_text()}")
        log(f"cluster settled, every replica in sync "
            f"({time.time() - t0:.1f} s)")

    def followers_text(self):
        """Each primary's view of its followers, one line a partition
        (a diagnosis for a cluster that does not settle)."""
        out = []
        for i, n in enumerate(self.c.nodes):
            try:
                st = self.c.status(node=i)
            except Exception as e:       # noqa: BLE001 (a diagnosis only)
                out.append(f"{n.node_id}: {e!r}")
                continue
            for p in st["partitions"]:
                if "followers" in p:
                    out.append(f"{n.node_id} p{p['id']} epoch {p['epoch']} "
                               f"in_sync {p['in_sync']}: "
                               f"{json.dumps(p['followers'])}")
        return "\n".join(out)

    # checks (fault_check.py)

    def check_mail(self, live=False):
        return fault_check.check_mail(self, live)

    def check(self, what=""):
        """After a fault, once the load stopped."""
        self.wait_cluster()
        problems = fault_check.check_nodes(self)
        problems += fault_check.check_mail(self) + \
            fault_check.check_digests(self)
        assert not problems, f"{what}: {len(problems)} problems:\n" + \
            "\n".join(problems[:40])
