"""cluster.py: a real etcd and a cluster of real roostd nodes for the
integration tests. Etcd runs Debian's etcd-server on free loopback ports
with its own data directory; Cluster does what an admin does: roostctl
cluster init, nodes started with --cluster, roostctl node add, roostctl
cluster wait."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import roost

ETCD = os.environ.get("ROOST_ETCD", "/usr/bin/etcd")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def part_of(addr, nparts):
    """The partition the directory places addr in (node/dir: its FNV-1a
    variant of the lowercased address, modulo the partition count)."""
    h = 1469598103934665603
    for b in addr.lower().encode():
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % nparts


class Etcd:
    """One etcd member on 127.0.0.1 (client and peer ports free); hosts:
    more addresses its clients may reach it at (the same port)."""

    def __init__(self, tmp=None, hosts=()):
        self.hosts = ["127.0.0.1"] + list(hosts)
        self.own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="roost-etcd-")
        self.data = os.path.join(self.tmp, "etcd")
        self.client_port = free_port()
        self.peer_port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.tmp, "etcd.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.client_port}"

    def start(self, wait=True):
        peer = f"http://127.0.0.1:{self.peer_port}"
        listen = ",".join(f"http://{h}:{self.client_port}"
                          for h in self.hosts)
        args = [ETCD, "--name", "e1", "--data-dir", self.data,
                "--listen-client-urls", listen,
                "--advertise-client-urls", self.url,
                "--listen-peer-urls", peer,
                "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"e1={peer}",
                "--log-level", "warn"]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("etcd exited:\n" + self.log_tail())
            try:
                with urllib.request.urlopen(self.url + "/health",
                                            timeout=1) as r:
                    if json.loads(r.read()).get("health") == "true":
                        return
            except Exception:
                pass
            time.sleep(0.05)
        raise RuntimeError("etcd did not become healthy:\n" + self.log_tail())

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def cleanup(self):
        self.stop(signal.SIGKILL)
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Cluster:
    """An etcd and n nodes (ids n1..nN) forming cluster `name`.

    net: a namespace joined by a veth pair (netns.Net): the last node then
    runs inside it on `there`, the others and etcd on `here`, so that
    the last node can be cut off from them."""

    def __init__(self, n=3, partitions=16, name="itest", settings=None,
                 replicas=1, net=None):
        self.tmp = tempfile.mkdtemp(prefix="roost-cluster-")
        self.name = name
        self.partitions = partitions
        self.replicas = replicas
        self.net = net
        self.etcd = Etcd(tmp=self.tmp,
                         hosts=[net.here] if net is not None else [])
        etcd_url = self.etcd.url
        if net is not None:
            etcd_url = f"http://{net.here}:{self.etcd.client_port}"
        self.token_file = os.path.join(self.tmp, "admin.token")
        self.nodes = []
        for i in range(n):
            bind, netns = "127.0.0.1", None
            if net is not None:
                bind = net.there if i == n - 1 else net.here
                netns = net.ns if i == n - 1 else None
            self.nodes.append(roost.Node(
                data_dir=os.path.join(self.tmp, f"n{i + 1}", "data"),
                settings=dict(settings or {}), cluster=name,
                etcd=etcd_url, node_id=f"n{i + 1}",
                token_file=self.token_file, bind=bind, netns=netns))
            os.makedirs(os.path.dirname(self.nodes[-1].data_dir),
                        exist_ok=True)

    def roostctl(self, *args, node=0, check=True, input=None):
        return self.nodes[node].roostctl(*args, check=check, input=input)

    def init(self):
        r = subprocess.run(
            [os.path.join(roost.BIN, "roostctl"), "cluster", "init",
             "--etcd", self.etcd.url, "--name", self.name,
             "--partitions", str(self.partitions),
             "--replicas", str(self.replicas),
             "--token-file", self.token_file],
            capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("cluster init failed: " + r.stderr)
        return r

    def start(self):
        """etcd, init, every node, node add, cluster wait."""
        self.etcd.start()
        self.init()
        for n in self.nodes:
            n.start()
        for n in self.nodes:
            self.roostctl("node", "add", n.node_id)
        self.wait()
        return self

    def wait(self, timeout=30, node=0):
        return self.roostctl("cluster", "wait", "--timeout", str(timeout),
                             node=node)

    def wait_in_sync(self, timeout=60, node=0):
        """Until every partition has all its replicas in sync."""
        deadline = time.time() + timeout
        while True:
            st = self.status(node=node)
            parts = st["partitions"]
            if all(p["primary_alive"] and
                   sorted(p["in_sync"]) == sorted(p["replicas"]) and
                   len(p["replicas"]) == min(self.replicas,
                                             sum(1 for n in st["nodes"]
                                                 if n["alive"]))
                   for p in parts):
                return st
            if time.time() > deadline:
                raise AssertionError("not in sync: " + json.dumps(parts))
            time.sleep(0.2)

    def status(self, node=0):
        return json.loads(self.roostctl("status", "--json", node=node).stdout)

    def primary_of(self, addr, node=0):
        u = json.loads(self.roostctl("user", "show", addr, "--json",
                                     node=node).stdout)
        return u["primary"], u["partition"]

    def node(self, node_id):
        for n in self.nodes:
            if n.node_id == node_id:
                return n
        raise KeyError(node_id)

    def log_text(self):
        out = []
        for n in self.nodes:
            out.append(f"--- {n.node_id}\n" + n.log_tail(60))
        return "\n".join(out)

    def cleanup(self):
        for n in self.nodes:
            try:
                n.cleanup()
            except Exception:
                pass
        self.etcd.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
