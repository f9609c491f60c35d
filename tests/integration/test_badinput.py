"""Bad input on every listener: random bytes, many idle connections. The
node answers with protocol errors, stays up, and its memory stays
bounded."""
import random
import smtplib
import socket
import time

import pytest

import roost


def blast(port, payload, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while read:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out
    except OSError:                    # the server hung up first: fine
        return b""
    finally:
        s.close()


def smtp_works(node):
    s = smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=30)
    s.ehlo("ok.test")
    s.sendmail("bob@example.test", ["alice@example.test"],
               "Subject: still alive\r\n\r\nyes\r\n")
    s.quit()


@pytest.mark.parametrize("service", ["smtp", "pop3", "http"])
def test_random_bytes(node, service):
    port = getattr(node, service + "_port")
    rng = random.Random(20261128)
    rss0 = node.rss_kb()
    for i in range(60):
        size = rng.choice([1, 10, 100, 1000, 10000, 100000])
        payload = bytes(rng.getrandbits(8) for _ in range(size))
        if i % 3 == 0:                 # random lines look more like commands
            payload = payload.replace(b"\x00", b"\r\n")
        out = blast(port, payload)
        if service == "smtp" and out:
            assert out.startswith(b"220 ")
            # every reply line is a well-formed SMTP reply
            for line in out.split(b"\r\n"):
                if line:
                    assert line[:3].isdigit() and line[3:4] in (b" ", b"-")
        if service == "pop3" and out:
            for line in out.split(b"\r\n"):
                if line:
                    assert line.startswith((b"+OK", b"-ERR", b"+ "))
    assert node.alive()
    smtp_works(node)
    # bounded: 60 sessions of garbage leave no lasting growth
    assert node.rss_kb() - rss0 < 32 * 1024


def test_many_idle_connections(node_factory):
    node = node_factory(settings={"smtp.max_connections_per_ip": 1000})
    node.start()
    node.add_domain("example.test")
    node.add_user("alice@example.test")
    rss0 = node.rss_kb()
    conns = []
    for _ in range(500):
        s = socket.create_connection(("127.0.0.1", node.smtp_port),
                                     timeout=10)
        conns.append(s)
    for s in conns:
        assert s.recv(512).startswith(b"220 ")
        s.sendall(b"EHLO idle.test\r\n")
    for s in conns:
        assert b"250 " in s.recv(4096)
    time.sleep(0.5)
    per_conn = (node.rss_kb() - rss0) * 1024 / len(conns)
    assert per_conn < 64 * 1024, f"{per_conn:.0f} bytes per idle session"
    smtp_works(node)                    # still serving beside them
    for s in conns:
        s.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        st = node.roostctl("status", "--json").stdout
        if '"smtp": 0' in st or '"smtp":0' in st:
            break
        time.sleep(0.1)
    assert '"smtp": 0' in st or '"smtp":0' in st


def test_http_oversized_headers(node):
    out = blast(node.http_port, b"GET /healthz HTTP/1.1\r\nX: " +
                b"a" * 200000 + b"\r\n\r\n")
    assert out == b"" or out.startswith(b"HTTP/1.1 4")
    assert node.alive()
