"""deploy/quickstart.sh: builds (a no-op after tests/run.sh built build/),
starts the demo cluster (etcd, three nodes, HAProxy) or, with
--standalone, one node, and the printed instructions work: mail through
HAProxy's ports, roostctl in the checkout without flags; Ctrl-C stops
everything cleanly. Runs on the fixed quickstart ports, so it is skipped
when something else holds them."""
import imaplib
import json
import os
import poplib
import shutil
import signal
import smtplib
import socket
import subprocess
import time

import pytest

import roost

CLUSTER_PORTS = [10025, 10043, 10010, 10080, 12379, 12380] + [
    10000 + 100 * n + off for n in (1, 2, 3) for off in (10, 25, 43, 80, 99)]
STANDALONE_PORTS = [10110, 10125, 10143, 10180]


def port_free(port, reuse=False):
    s = socket.socket()
    if reuse:        # closed connections in TIME_WAIT do not count
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def run_quickstart(tmp_path, args, ports):
    if not all(port_free(p, reuse=True) for p in ports):
        pytest.skip("quickstart ports are in use")
    env = dict(os.environ, ROOST_DEMO_PASSWORD="demo-pw-42")
    log = open(tmp_path / "quickstart.out", "w+")
    p = subprocess.Popen([os.path.join(roost.TOP, "deploy", "quickstart.sh")]
                         + args, cwd=roost.TOP, env=env, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline:
        log.seek(0)
        if "Press Ctrl-C to stop." in log.read():
            break
        assert p.poll() is None, open(tmp_path / "quickstart.out").read()
        time.sleep(0.5)
    log.seek(0)
    return p, log.read()


def stop_quickstart(p):
    os.killpg(p.pid, signal.SIGINT)   # what Ctrl-C sends
    assert p.wait(90) == 0 or p.returncode == 130
    # Nothing of it is left listening.
    time.sleep(0.5)


def check_mail(smtp, pop3, imap, subject):
    s = smtplib.SMTP("127.0.0.1", smtp, timeout=30)
    s.sendmail("bob@example.test", ["alice@example.test"],
               f"Subject: {subject}\r\n\r\nhi\r\n")
    s.quit()
    pop = poplib.POP3("127.0.0.1", pop3, timeout=30)
    pop.user("alice@example.test")
    pop.pass_("demo-pw-42")
    n, _ = pop.stat()
    _, lines, _ = pop.retr(n)
    assert f"Subject: {subject}".encode() in lines
    pop.quit()
    m = imaplib.IMAP4("127.0.0.1", imap, timeout=30)
    m.login("alice@example.test", "demo-pw-42")
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) == n
    typ, data = m.fetch(data[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert subject.encode() in data[0][1]
    m.logout()


def roostctl_here(*args):
    """roostctl in the checkout, without --node or --token-file."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ROOST_NODE", "ROOST_TOKEN_FILE")}
    return subprocess.run([os.path.join(roost.TOP, "build", "bin",
                                        "roostctl")] + list(args),
                          cwd=roost.TOP, env=env, capture_output=True,
                          text=True, timeout=60)


def test_quickstart_cluster(tmp_path):
    if shutil.which("haproxy") is None or shutil.which("etcd") is None:
        pytest.fail("haproxy and etcd are installed by deploy/deps.sh")
    p, out = run_quickstart(tmp_path, [], CLUSTER_PORTS)
    try:
        assert "three nodes" in out and "swaks" in out, out
        check_mail(10025, 10010, 10043, "hello from the cluster quickstart")
        # Each node directly, too.
        check_mail(10225, 10310, 10143, "straight to the nodes")
        r = roostctl_here("status", "--json")
        assert r.returncode == 0, r.stderr
        st = json.loads(r.stdout)
        assert st["cluster"] == "demo" and len(st["nodes"]) == 3
        assert all(n["alive"] and n["primaries"] > 0 for n in st["nodes"])
        assert len(st["partitions"]) == 64
    finally:
        stop_quickstart(p)
    assert all(port_free(port, reuse=True)
               for port in (10025, 10143, 12379))


def test_quickstart_standalone(tmp_path):
    p, out = run_quickstart(tmp_path, ["--standalone"], STANDALONE_PORTS)
    try:
        assert "alice@example.test" in out and "swaks" in out
        check_mail(10125, 10110, 10143, "hello from the quickstart test")
    finally:
        stop_quickstart(p)
