#!/usr/bin/python3
"""failover_bench.py: how long mail for a partition waits when its primary
dies (issue 12's failover benchmark). A three-node cluster with R = 3
(real etcd and roostd, started as tests/integration/cluster.py does)
under a steady SMTP load spread over the nodes; per trial, the primary of
one user's partition is SIGKILLed and the time to the first 250 for that
user (one attempt every 20 ms, through a surviving node) is measured;
then the victim is restarted and the cluster waits until every replica is
in sync again. Prints each trial and the p50/p99 over all.

usage: tools/bench/failover_bench.py [--trials N] [--bin DIR] [--keep]
"""
import argparse
import os
import smtplib
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--bin", default=os.path.join(TOP, "build", "bin"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the cluster's directory (logs) afterwards")
    args = ap.parse_args()
    os.environ["ROOST_BIN"] = args.bin
    import roost                                   # noqa: E402
    from cluster import Cluster                    # noqa: E402
    from test_cluster import users_for_every_partition  # noqa: E402
    roost.BIN = args.bin

    c = Cluster(n=3, partitions=16, name="fobench", replicas=3,
                settings={"password_scrypt_ln": "10"})
    stop = threading.Event()
    try:
        c.start()
        c.wait_in_sync()
        c.roostctl("domain", "add", "corp.test")
        users = users_for_every_partition("fb")
        for u in users:
            c.roostctl("user", "add", u, "--password-stdin",
                       input=roost.PASSWORD + "\n")

        def load(k):
            i = 0
            while not stop.is_set():
                n = c.nodes[k % 3]
                try:
                    with smtplib.SMTP("127.0.0.1", n.smtp_port,
                                      timeout=10) as s:
                        while not stop.is_set():
                            s.sendmail("l@corp.test", [users[i % 16]],
                                       f"Subject: l{k}-{i}\r\nMessage-ID: "
                                       f"<l{k}-{i}@b>\r\n\r\nx\r\n")
                            i += 1
                            time.sleep(0.01)
                except (smtplib.SMTPException, OSError):
                    time.sleep(0.05)
                k += 1
        threads = [threading.Thread(target=load, args=(k,), daemon=True)
                   for k in range(3)]
        for t in threads:
            t.start()
        times = []
        for trial in range(args.trials):
            user = users[trial % 16]
            victim_id, _ = c.primary_of(user)
            victim = c.node(victim_id)
            other = next(n for n in c.nodes if n.node_id != victim_id)
            t0 = time.time()
            victim.kill9()
            j = 0
            while True:
                try:
                    with smtplib.SMTP("127.0.0.1", other.smtp_port,
                                      timeout=10) as s:
                        s.sendmail("p@corp.test", [user],
                                   f"Subject: probe\r\nMessage-ID: "
                                   f"<p{trial}-{j}@b>\r\n\r\nx\r\n")
                    break
                except (smtplib.SMTPException, OSError):
                    j += 1
                    time.sleep(0.02)
            dt = time.time() - t0
            times.append(dt)
            print(f"trial {trial + 1}: {victim_id} killed, first 250 after "
                  f"{dt * 1000:.0f} ms", flush=True)
            victim.start()
            c.wait_in_sync(timeout=120)
        print(f"failover over {len(times)} trials: p50 "
              f"{percentile(times, 0.5) * 1000:.0f} ms, p99 "
              f"{percentile(times, 0.99) * 1000:.0f} ms, max "
              f"{max(times) * 1000:.0f} ms")
    finally:
        stop.set()
        if args.keep:
            import shutil
            shutil.rmtree = lambda *a, **k: None
            print(f"kept {c.tmp}")
        c.cleanup()


if __name__ == "__main__":
    main()
