"""roost.py: starts and drives real roostd processes for integration tests.

A Node is one roostd in standalone mode with its own data directory and
port base. Tests talk to it with real clients (smtplib, poplib, curl,
roostctl). Binaries come from $ROOST_BIN (tests/run.sh points it at the
ASan build), else build/bin.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ROOST_BIN", os.path.join(TOP, "build", "bin"))
PASSWORD = "test-password-1"

_next_base = [20000 + (os.getpid() % 200) * 100]


def free_port_base():
    """A port base whose service ports (B+10 … B+99) are all free."""
    while True:
        base = _next_base[0]
        _next_base[0] += 100
        if _next_base[0] > 60000:
            _next_base[0] = 20000
        ok = True
        for off in (10, 25, 43, 80, 87, 99):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", base + off))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return base


class Node:
    def __init__(self, data_dir=None, port_base=None, settings=None,
                 bind="127.0.0.1", config=None, cluster=None, etcd=None,
                 node_id=None, token_file=None, netns=None):
        """config: a configuration file to start from (--config); the
        data directory, ports and address still come from here.
        cluster/etcd/node_id: a cluster member (tests/integration/
        cluster.py) instead of a standalone node; token_file is then the
        cluster's admin token. netns: a network namespace to run roostd
        in (ip netns exec execs it, so proc is roostd itself)."""
        self.tmp = None
        self.netns = netns
        self.config = config
        self.cluster = cluster
        self.etcd = etcd
        self.node_id = node_id
        self.cluster_token_file = token_file
        self.bind = bind
        if data_dir is None:
            self.tmp = tempfile.mkdtemp(prefix="roost-it-")
            data_dir = os.path.join(self.tmp, "node")
        self.data_dir = data_dir
        self.port_base = port_base or free_port_base()
        self.settings = dict(settings or {})
        self.proc = None
        self.log_path = os.path.join(os.path.dirname(data_dir), "roostd.log")

    # ports (the port convention)
    @property
    def smtp_port(self):
        return self.port_base + 25

    @property
    def pop3_port(self):
        return self.port_base + 10

    @property
    def imap_port(self):
        return self.port_base + 43

    @property
    def http_port(self):
        return self.port_base + 80

    @property
    def peer_port(self):
        return self.port_base + 99

    @property
    def token_file(self):
        if self.cluster_token_file is not None:
            return self.cluster_token_file
        return os.path.join(self.data_dir, "admin.token")

    @property
    def token(self):
        with open(self.token_file) as f:
            return f.read().strip()

    def start(self, wait=True):
        if self.cluster is not None:
            args = [os.path.join(BIN, "roostd"), "--cluster", self.cluster,
                    "--etcd", self.etcd, "--node-id", self.node_id,
                    "--data-dir", self.data_dir,
                    "--port-base", str(self.port_base), "--bind", self.bind]
        elif self.config is None:
            args = [os.path.join(BIN, "roostd"), "--standalone",
                    "--data-dir", self.data_dir,
                    "--port-base", str(self.port_base), "--bind", self.bind]
        else:
            args = [os.path.join(BIN, "roostd"), "--config", self.config,
                    "--set", f"data_dir={self.data_dir}",
                    "--set", f"port_base={self.port_base}",
                    "--set", f"bind={self.bind}"]
        for k, v in self.settings.items():
            args += ["--set", f"{k}={v}"]
        if self.netns is not None:
            args = ["ip", "netns", "exec", self.netns] + args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        url = f"http://{self.bind}:{self.http_port}/healthz"
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"roostd exited {self.proc.returncode}:\n"
                                   + self.log_tail())
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.05)
        raise RuntimeError("roostd did not become healthy:\n" + self.log_tail())

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops roostd; returns its exit code (negative: killed by signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("roostd did not stop on signal %d" % sig)
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def roostctl(self, *args, input=None, check=True, token_file=None):
        """Runs roostctl against this node; returns CompletedProcess."""
        cmd = [os.path.join(BIN, "roostctl"),
               "--node", f"{self.bind}:{self.http_port}",
               "--token-file", token_file or self.token_file] + list(args)
        r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"roostctl {' '.join(args)} failed "
                               f"({r.returncode}): {r.stderr.strip()}")
        return r

    def add_domain(self, domain):
        self.roostctl("domain", "add", domain)

    def add_user(self, addr, password=PASSWORD, quota=None, name=None):
        args = ["user", "add", addr, "--password-stdin"]
        if quota is not None:
            args += ["--quota", str(quota)]
        if name is not None:
            args += ["--name", name]
        self.roostctl(*args, input=password + "\n")

    def cleanup(self):
        if self.proc is not None:
            try:
                self.stop(signal.SIGKILL)
            except Exception:
                pass
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
