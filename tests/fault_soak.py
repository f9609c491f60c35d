#!/usr/bin/python3
"""fault_soak.py: the long randomised fault-injection run (issue 12), not
part of tests/run.sh. A three-node cluster (R = 3) against a real etcd,
under a steady SMTP and IMAP load (tests/integration/faults.py), gets N
faults one after the other, each chosen with a fixed seed among: SIGKILL
of a primary, SIGKILL of a follower and its return, SIGSTOP of a primary
beyond its lease, etcd killed and restarted, a follower's data directory
wiped, a node cut off from its peers and etcd (when network namespaces
can be made: root), and two of those overlapping. After each fault:
every replica back in sync and every partition taking writes again;
every few faults and at the end, with the load stopped, the full checks
of test_faults.py (every acknowledged message and APPEND exactly once,
UIDs unique within UIDVALIDITY, flags of the last acknowledged STORE,
equal partition digests on all replicas).

    tests/fault_soak.py [--seed 12] [--faults 100] [--check-every 10]
                        [--logs DIR]

Binaries from $ROOST_BIN (default build/bin). Exits 0 when every check
passed; on a failure prints the problems, copies the nodes' logs to
--logs (default /tmp/roost-fault-soak) and exits 1."""
import argparse
import os
import random
import shutil
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
from netns import Net, Unavailable  # noqa: E402
from faults import Harness, log, make_cluster, setup_users  # noqa: E402

LEASE_TTL = 3            # make_cluster's cluster.lease_ttl
KINDS = ["kill_primary", "kill_follower", "sigstop_primary", "etcd",
         "wipe_follower", "cut", "overlap"]


class Soak:
    def __init__(self, h, rnd):
        self.h = h
        self.rnd = rnd

    def ids(self):
        return [n.node_id for n in self.h.c.nodes]

    def leader(self, exclude=()):
        """A node leading at least one partition, at random."""
        pr = self.h.primaries()
        ids = [i for i in sorted(pr) if pr[i] > 0 and i not in exclude]
        return self.rnd.choice(ids or [i for i in self.ids()
                                        if i not in exclude])

    def follower(self, exclude=()):
        """A node leading the fewest partitions (none, often)."""
        pr = self.h.primaries()
        ids = [i for i in sorted(pr) if i not in exclude]
        low = min(pr[i] for i in ids)
        return self.rnd.choice([i for i in ids if pr[i] == low])

    def pause(self, lo, hi):
        time.sleep(self.rnd.uniform(lo, hi))

    # each fault: inject, wait for what it causes, recover

    def kill_primary(self):
        v = self.leader()
        self.h.kill(v)
        self.h.wait_failover(v)
        self.pause(0, 2)
        self.h.restart(v)

    def kill_follower(self):
        v = self.follower()
        self.h.kill(v)
        self.pause(0.5, 4)
        self.h.restart(v)

    def sigstop_primary(self):
        v = self.leader()
        t0 = time.time()
        self.h.freeze(v)
        self.h.wait_failover(v)
        while time.time() < t0 + LEASE_TTL + self.rnd.uniform(0.5, 2):
            time.sleep(0.1)
        self.h.thaw(v)

    def etcd(self):
        self.h.kill_etcd()
        self.pause(0.5, LEASE_TTL + 2)
        self.h.start_etcd()

    def wipe_follower(self):
        v = self.follower()
        self.h.wipe(v)
        self.pause(0, 2)
        self.h.restart(v)

    def cut(self):
        if self.h.c.net is None:
            return self.kill_primary()
        t0 = time.time()
        self.h.cut()
        while time.time() < t0 + self.rnd.uniform(1, LEASE_TTL + 3):
            time.sleep(0.1)
        self.h.heal()

    def overlap(self):
        """A node killed, then while it is down a second fault elsewhere:
        the primary of what is left killed, frozen or cut off, or etcd
        killed; then both recover."""
        a = self.follower()
        self.h.kill(a)
        self.pause(0, 2.5)
        second = self.rnd.choice(["kill", "sigstop", "etcd", "cut"])
        if second == "cut" and (self.h.c.net is None or
                                a == self.h.c.nodes[-1].node_id):
            second = "kill"
        log(f"overlapping: {second}")
        if second == "kill":
            b = self.leader(exclude=(a,))
            self.h.kill(b)
            self.pause(1, 4)
            self.h.restart(a)
            self.h.restart(b)
        elif second == "sigstop":
            b = self.leader(exclude=(a,))
            self.h.freeze(b)
            self.pause(1, LEASE_TTL + 2)
            self.h.restart(a)
            self.h.thaw(b)
        elif second == "etcd":
            self.h.kill_etcd()
            self.pause(1, LEASE_TTL + 2)
            self.h.start_etcd()
            self.h.restart(a)
        else:
            self.h.cut()
            self.pause(1, LEASE_TTL + 2)
            self.h.restart(a)
            self.h.heal()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--faults", type=int, default=100)
    ap.add_argument("--check-every", type=int, default=10)
    ap.add_argument("--logs", default="/tmp/roost-fault-soak")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    try:
        net = Net.create("s")
    except Unavailable as e:
        net = None
        log(f"no network namespace ({e}): no cut-off faults")
    c = make_cluster("soak", net=net)
    h = None
    load = None
    ok = False
    t_start = time.time()
    counts = {}
    try:
        c.start()
        c.wait_in_sync()
        users, imap = setup_users(c)
        h = Harness(c, users, imap)
        soak = Soak(h, rnd)
        load = h.load("s0")
        load.wait_acks(30)
        for i in range(1, args.faults + 1):
            kind = rnd.choice(KINDS)
            counts[kind] = counts.get(kind, 0) + 1
            log(f"=== fault {i}/{args.faults}: {kind}")
            getattr(soak, kind)()
            h.wait_cluster()
            h.each_partition_writable(f"s{i}")
            load.wait_acks(10)
            if i % args.check_every == 0 or i == args.faults:
                load.stop()
                h.check(f"after fault {i} ({kind})")
                if i < args.faults:
                    load = h.load(f"s{i}")
                    load.wait_acks(10)
                else:
                    load = None
            elif i % 3 == 0:
                problems = h.check_mail(live=True)
                assert not problems, "\n".join(problems[:40])
        ok = True
        log(f"soak passed: seed {args.seed}, {args.faults} faults {counts}, "
            f"{len(h.ledger.acked)} acknowledged, "
            f"{(time.time() - t_start) / 60:.1f} min")
    except BaseException:
        traceback.print_exc()
        log(f"soak FAILED (seed {args.seed}); faults so far {counts}")
    finally:
        if load is not None:
            try:
                load.stop()
            except AssertionError:
                pass
        if not ok:
            os.makedirs(args.logs, exist_ok=True)
            for n in c.nodes:
                if os.path.exists(n.log_path):
                    shutil.copy(n.log_path,
                                os.path.join(args.logs, f"{n.node_id}.log"))
            log(f"node logs in {args.logs}")
        c.cleanup()
        if net is not None:
            net.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
