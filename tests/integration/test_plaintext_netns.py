"""Passwords in the clear only from loopback: a client in a network
namespace of its own (a veth pair, so its address is not 127.x) finds
LOGIN, AUTHENTICATE, USER/PASS and AUTH refused until TLS exists, and
allowed once plaintext_auth = any says so. All traffic stays on this
machine, between the namespaces the test creates."""
import json
import subprocess

import pytest

import roost
from netns import Net, Unavailable

CLIENT = r'''
import base64, json, socket, sys
host, imap_port, pop3_port, user, pw = sys.argv[1:6]
plain = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
out = {}

def lines_until(f, prefix):
    got = []
    while True:
        ln = f.readline()
        got.append(ln.decode(errors="replace"))
        if not ln or ln.startswith(prefix):
            return got

s = socket.create_connection((host, int(imap_port)), timeout=20)
f = s.makefile("rb")
f.readline()
s.sendall(b"a CAPABILITY\r\n")
out["imap_caps"] = lines_until(f, b"a ")
s.sendall(b"b LOGIN " + user.encode() + b" " + pw.encode() + b"\r\n")
out["imap_login"] = lines_until(f, b"b ")[-1]
s.sendall(b"c AUTHENTICATE PLAIN " + plain + b"\r\n")
out["imap_auth"] = lines_until(f, b"c ")[-1]
s.close()

s = socket.create_connection((host, int(pop3_port)), timeout=20)
f = s.makefile("rb")
f.readline()
s.sendall(b"CAPA\r\n")
out["pop3_capa"] = lines_until(f, b".")
s.sendall(b"USER " + user.encode() + b"\r\n")
out["pop3_user"] = f.readline().decode()
s.sendall(b"AUTH PLAIN " + plain + b"\r\n")
out["pop3_auth"] = f.readline().decode()
s.close()
print(json.dumps(out))
'''


@pytest.fixture
def netns():
    """A namespace joined to this one by a veth pair: yields
    (namespace, address here, address there)."""
    try:
        net = Net.create("p")
    except Unavailable as e:
        pytest.skip(f"cannot create a network namespace: {e}")
    try:
        yield net.ns, net.here, net.there
    finally:
        net.cleanup()


def run_client(ns, node, user):
    r = subprocess.run(
        ["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", CLIENT,
         node.bind, str(node.imap_port), str(node.pop3_port), user,
         roost.PASSWORD],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def start(node_factory, here, settings=None):
    node = node_factory(bind=here, settings=settings).start()
    node.add_domain("example.test")
    node.add_user("far@example.test")
    return node


def test_plaintext_refused_off_loopback(node_factory, netns):
    ns, here, _ = netns
    node = start(node_factory, here)
    out = run_client(ns, node, "far@example.test")
    caps = "".join(out["imap_caps"])
    assert "LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps, caps
    assert " NO [PRIVACYREQUIRED]" in out["imap_login"], out
    assert " NO [PRIVACYREQUIRED]" in out["imap_auth"], out
    capa = "".join(out["pop3_capa"])
    assert "USER" not in capa and "SASL" not in capa, capa
    assert out["pop3_user"].startswith("-ERR"), out
    assert out["pop3_auth"].startswith("-ERR"), out
    with open(node.log_path, "rb") as f:
        log = f.read()
    assert roost.PASSWORD.encode() not in log


def test_plaintext_any_allows(node_factory, netns):
    ns, here, _ = netns
    node = start(node_factory, here, {"plaintext_auth": "any"})
    out = run_client(ns, node, "far@example.test")
    assert " OK " in out["imap_login"], out
    assert out["pop3_user"].startswith("+OK"), out
