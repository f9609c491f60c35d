"""netns.py: a network namespace joined to this one by a veth pair, for
tests that need a client or a node off loopback (test_plaintext_netns)
or a node that can be cut off from its peers and from etcd while its
process keeps running (a blackhole route on each side; faults.py).
Making one needs root and the ip tool; nothing here starts a process in
it."""
import os
import shutil
import subprocess


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=30)


class Unavailable(Exception):
    """No namespace can be made here; str() says why."""


class Net:
    """A namespace and a veth pair: `here` is this side's address,
    `there` the namespace's, on a /24 of their own."""

    made = 0           # in this process: each gets another subnet

    def __init__(self, tag):
        pid = os.getpid()
        Net.made += 1
        # Names and subnets from the pid, so that test runs of other
        # engineers on this machine never share one.
        self.ns = f"r{tag}{pid}"
        self.here_if, self.there_if = f"r{tag}{pid}a", f"r{tag}{pid}b"
        net = f"10.{100 + (pid // 250 + 13 * Net.made) % 150}.{pid % 250}"
        self.here, self.there = f"{net}.1", f"{net}.2"
        self.is_cut = False

    @classmethod
    def create(cls, tag="x"):
        """A new Net; raises Unavailable."""
        if shutil.which("ip") is None:
            raise Unavailable("no ip tool")
        n = cls(tag)
        r = sh("ip", "netns", "add", n.ns)
        if r.returncode != 0:
            raise Unavailable("ip netns add: " + r.stderr.strip())
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
                raise Unavailable(" ".join(cmd) + ": " + r.stderr.strip())
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
        if self.is_cut:
            self.heal()
        sh("ip", "link", "del", self.here_if)
        sh("ip", "netns", "del", self.ns)
