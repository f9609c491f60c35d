#!/usr/bin/python3
"""catchup_bench.py: how fast a follower that was down catches up (issue
12's catch-up benchmark). A three-node cluster with R = 3 (real etcd and
roostd, started as tests/integration/cluster.py does); node n3 is
SIGKILLed, then issue 2's SMTP load (smtp_bench: 4 KiB messages, 20
connections, 100 users, spread over n1 and n2) runs for --down seconds;
the load's rate W is what it reached. Then n3 is started again and the
time until every partition has it back in sync is measured, either with
the load stopped (default) or with it still running (--with-load).
Prints the messages written while n3 was down, the catch-up time, the
catch-up rate and its ratio to W (target: at least 10).

usage: tools/bench/catchup_bench.py [--down SEC] [--with-load] [--bin DIR]
                                    [--set KEY=VALUE]... [--keep]
--set passes a setting to every node (e.g. replication.log_size=256M).
The catch-up's end is found by one `roostctl cluster wait` (it polls the
node's /status every 200 ms in one process): a roostctl started per poll
took a few per cent of the machine's CPU (4 % in one profile) from the
copy it measured.
environment: BENCH_PERF=FILE records a system-wide perf profile (8 s)
from n3's start (BENCH_PERF_CG=dwarf: call graphs without frame pointers,
at 250 Hz).
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

DOMAIN = "bench.test"


def smtp_bench(binary, port, n, out):
    """One smtp_bench run; appends (accepted, seconds) to out."""
    r = subprocess.run([binary, "--port", str(port), "-n", str(n), "-s", "4K",
                        "-c", "10", "-u", "100", "--domain", DOMAIN],
                       capture_output=True, text=True)
    acc = re.search(r"accepted\s+(\d+)", r.stdout)
    secs = re.search(r"in\s+([0-9.]+)\s*s", r.stdout)
    out.append((int(acc.group(1)) if acc else 0,
                float(secs.group(1)) if secs else 0.0))


def wait_in_sync(node, timeout):
    """Until every partition has all its replicas in sync (one roostctl
    process polling for the whole wait)."""
    import roost                                   # noqa: E402
    subprocess.run([os.path.join(roost.BIN, "roostctl"), "--node",
                    f"{node.bind}:{node.http_port}", "--token-file",
                    node.token_file, "cluster", "wait", "--timeout",
                    str(timeout)], check=True, capture_output=True,
                   timeout=timeout + 60)


def load_for(binary, ports, seconds, stop=None):
    """Runs the load on ports until seconds passed (or stop is set);
    returns (messages accepted, seconds)."""
    t0 = time.time()
    total = 0
    while time.time() - t0 < seconds and not (stop and stop.is_set()):
        res = []
        threads = [threading.Thread(target=smtp_bench,
                                    args=(binary, p, 2000, res))
                   for p in ports]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total += sum(a for a, _ in res)
    return total, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--down", type=float, default=600,
                    help="seconds of load while n3 is down (600)")
    ap.add_argument("--with-load", action="store_true",
                    help="keep the load running during the catch-up")
    ap.add_argument("--bin", default=os.path.join(TOP, "build", "bin"))
    ap.add_argument("--set", action="append", default=[],
                    metavar="KEY=VALUE", help="a setting of every node")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    settings = {"password_scrypt_ln": "10"}
    for kv in args.set:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error(f"--set {kv}: KEY=VALUE")
        settings[k] = v
    os.environ["ROOST_BIN"] = args.bin
    import roost                                   # noqa: E402
    from cluster import Cluster                    # noqa: E402
    roost.BIN = args.bin
    bench = os.path.join(args.bin, "smtp_bench")

    c = Cluster(n=3, partitions=64, name="cubench", replicas=3,
                settings=settings)
    try:
        c.start()
        c.wait_in_sync()
        c.roostctl("domain", "add", DOMAIN)
        for i in range(1, 101):
            c.roostctl("user", "add", f"user{i}@{DOMAIN}",
                       "--password-stdin", input=roost.PASSWORD + "\n")
        c.wait_in_sync(timeout=120)
        ports = [c.nodes[0].smtp_port, c.nodes[1].smtp_port]
        load_for(bench, ports, 1)                  # warm-up
        victim = c.node("n3")
        victim.kill9()
        n, secs = load_for(bench, ports, args.down)
        rate = n / secs
        print(f"n3 down: {n} messages in {secs:.1f} s of load, "
              f"W = {rate:.0f} msg/s", flush=True)
        stop = threading.Event()
        bg = None
        if args.with_load:
            bg = threading.Thread(target=load_for,
                                  args=(bench, ports, 1e9, stop))
            bg.start()
        perf = None
        if os.environ.get("BENCH_PERF"):
            cg = os.environ.get("BENCH_PERF_CG", "fp")
            perf = subprocess.Popen(["perf", "record", "-a", "--call-graph",
                                     cg, "-F", "250" if cg == "dwarf"
                                     else "999", "-o",
                                     os.environ["BENCH_PERF"], "--",
                                     "sleep", "8"])
        t0 = time.time()
        victim.start()
        wait_in_sync(c.nodes[0], 3600)
        cu = time.time() - t0
        if perf:
            perf.wait()
        stop.set()
        if bg:
            bg.join()
        print(f"n3 back in sync after {cu:.1f} s "
              f"({'under load' if args.with_load else 'no load'}): "
              f"{n / cu:.0f} msg/s caught up, {n / cu / rate:.1f} x W "
              f"(target >= 10)")
    finally:
        if args.keep:
            import shutil
            shutil.rmtree = lambda *a, **k: None
            print(f"kept {c.tmp}")
        c.cleanup()


if __name__ == "__main__":
    main()
