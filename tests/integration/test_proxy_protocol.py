"""The PROXY protocol (HAProxy's doc/proxy-protocol.txt, v1 and v2) on the
SMTP, POP3 and IMAP listeners. A node that trusts 127.0.0.1 gets headers
from raw sockets: the header's source is the client in the logs, in the
per-address connection limit and in the plaintext-auth loopback check;
pipelined bytes after the header survive; no header, or a bad one, closes
the connection ungreeted. A node that trusts nobody treats a header as a
bad command. Last, a real HAProxy with deploy/haproxy.cfg (ports moved)
in front of three standalone nodes: delivery and IMAP through it, the
real client in the nodes' logs, and a dead node taken out."""
import imaplib
import ipaddress
import os
import re
import shutil
import smtplib
import socket
import struct
import subprocess
import tempfile
import time

import pytest

import roost

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, sport, dst=None, dport=25):
    fam = "TCP6" if ":" in src else "TCP4"
    dst = dst or ("::1" if ":" in src else "127.0.0.1")
    return f"PROXY {fam} {src} {dst} {sport} {dport}\r\n".encode()


def v2(src, sport, dst=None, dport=25):
    dst = dst or ("::1" if ":" in src else "127.0.0.1")
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    fam = b"\x11" if s.version == 4 else b"\x21"
    body = s.packed + d.packed + struct.pack(">HH", sport, dport)
    return V2_SIG + b"\x21" + fam + struct.pack(">H", len(body)) + body


class Raw:
    """A raw client socket reading CRLF lines."""

    def __init__(self, port, first=b""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.buf = b""
        if first:
            self.sock.sendall(first)

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def reply(self):
        """One SMTP reply, multi-line ones joined."""
        out = b""
        while True:
            ln = self.line()
            out += ln
            if ln[3:4] != b"-":
                return out

    def closed_ungreeted(self):
        """True if the server closes without sending a byte."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def imap_lines(r, tag):
    """Untagged lines and the tagged one."""
    out = []
    while True:
        ln = r.line()
        out.append(ln)
        if ln.startswith(tag + b" "):
            return out


def wait_log(node, pattern, timeout=10):
    """The node's log once pattern (a regex) shows up in it."""
    deadline = time.time() + timeout
    while True:
        with open(node.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        if re.search(pattern, text):
            return text
        if time.time() > deadline:
            raise AssertionError(f"no {pattern!r} in log:\n"
                                 + node.log_tail(30))
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pnode():
    """A node that trusts 127.0.0.1 as its proxy; 2 SMTP sessions per
    client address."""
    n = roost.Node(settings={"proxy_protocol_from": "127.0.0.1/32",
                             "smtp.max_connections_per_ip": 2}).start()
    try:
        n.add_domain("example.test")
        n.add_user("alice@example.test")
        yield n
    finally:
        n.cleanup()


def test_v1_header_is_the_client(pnode):
    r = Raw(pnode.smtp_port, v1("192.0.2.10", 40001))
    assert r.reply().startswith(b"220 ")
    r.send(b"QUIT\r\n")
    assert r.reply().startswith(b"221 ")
    r.close()
    log = wait_log(pnode, r"peer=192\.0\.2\.10:40001 smtp\.close")
    assert "peer=192.0.2.10:40001 smtp.connect" in log


@pytest.mark.parametrize("src,sport,peer", [
    ("198.51.100.7", 40002, "198.51.100.7:40002"),
    ("2001:db8::7", 40003, "[2001:db8::7]:40003"),
])
def test_v2_header_is_the_client(pnode, src, sport, peer):
    r = Raw(pnode.smtp_port, v2(src, sport))
    assert r.reply().startswith(b"220 ")
    r.send(b"QUIT\r\n")
    assert r.reply().startswith(b"221 ")
    r.close()
    wait_log(pnode, re.escape(f"peer={peer} smtp.connect"))


@pytest.mark.parametrize("hdr", [v1("192.0.2.11", 40004),
                                 v2("192.0.2.11", 40005)])
def test_pipelined_bytes_after_header_kept(pnode, hdr):
    # Header, EHLO and MAIL in one segment: nothing after the header lost.
    r = Raw(pnode.smtp_port, hdr + b"EHLO x\r\nMAIL FROM:<a@b.example>\r\n")
    assert r.reply().startswith(b"220 ")
    ehlo = r.reply()
    assert ehlo.startswith(b"250-") and b"PIPELINING" in ehlo
    assert r.reply().startswith(b"250 ")
    r.send(b"QUIT\r\n")
    assert r.reply().startswith(b"221 ")
    r.close()


def test_delivery_through_header(pnode):
    r = Raw(pnode.smtp_port, v1("192.0.2.12", 40006) +
            b"EHLO relay.example\r\nMAIL FROM:<x@relay.example>\r\n"
            b"RCPT TO:<alice@example.test>\r\nDATA\r\n")
    for want in (b"220 ", b"250-", b"250 ", b"250 ", b"354 "):
        assert r.reply().startswith(want)
    r.send(b"Subject: proxied\r\n\r\nhello\r\n.\r\nQUIT\r\n")
    assert r.reply().startswith(b"250 ")
    assert r.reply().startswith(b"221 ")
    r.close()
    wait_log(pnode, r"peer=192\.0\.2\.12:40006 smtp\.stored")
    # Read back over IMAP, through a header as well.
    r = Raw(pnode.imap_port, v1("127.0.0.8", 40008, dport=143) +
            b"a LOGIN alice@example.test " + roost.PASSWORD.encode() +
            b"\r\nb EXAMINE INBOX\r\n"
            b"c FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
    assert r.line().startswith(b"* OK ")
    assert imap_lines(r, b"a")[-1].startswith(b"a OK ")
    assert imap_lines(r, b"b")[-1].startswith(b"b OK ")
    assert any(b"Subject: proxied" in ln for ln in imap_lines(r, b"c"))
    r.close()


def test_no_header_from_trusted_closed_ungreeted(pnode):
    # A client that waits for the greeting: closed at the deadline (5 s).
    r = Raw(pnode.smtp_port)
    port = r.sock.getsockname()[1]
    t0 = time.time()
    assert r.closed_ungreeted()
    assert 4 < time.time() - t0 < 10
    r.close()
    wait_log(pnode, rf"smtp\.proxy_refused peer=127\.0\.0\.1:{port} "
             r"reason=timeout")
    # A client that speaks first: closed at once.
    r = Raw(pnode.smtp_port, b"EHLO x\r\n")
    port = r.sock.getsockname()[1]
    assert r.closed_ungreeted()
    r.close()
    wait_log(pnode, rf"smtp\.proxy_refused peer=127\.0\.0\.1:{port} "
             r"reason=bad_signature")


@pytest.mark.parametrize("hdr,reason", [
    (b"PROXY TCP4 999.0.2.1 127.0.0.1 1 25\r\n", "bad_address"),
    (b"PROXY TCP4 192.0.2.1 127.0.0.1 1 025\r\n", "bad_port"),
    (b"PROXY TCP4 192.0.2.1 127.0.0.1 1 25\n", "bad_crlf"),
    (V2_SIG + b"\x21\x11\x00\x04\x00\x00\x00\x00", "bad_length"),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "bad_signature"),
])
def test_garbage_header_closed(pnode, hdr, reason):
    r = Raw(pnode.smtp_port, hdr)
    port = r.sock.getsockname()[1]
    assert r.closed_ungreeted()
    r.close()
    wait_log(pnode, rf"smtp\.proxy_refused peer=127\.0\.0\.1:{port} "
             rf"reason={reason}")


def test_untrusting_node_treats_header_as_command(node):
    # The conftest node trusts nobody: a header is just a bad command.
    r = Raw(node.smtp_port, v1("192.0.2.13", 40007))
    assert r.reply().startswith(b"220 ")
    assert r.reply().startswith(b"5")
    r.send(b"EHLO x\r\n")
    assert r.reply().startswith(b"250-")
    r.send(b"QUIT\r\n")
    assert r.reply().startswith(b"221 ")
    port = r.sock.getsockname()[1]
    r.close()
    log = wait_log(node, rf"peer=127\.0\.0\.1:{port} smtp\.close")
    assert "peer=192.0.2.13" not in log


def test_conn_limit_counts_the_real_address(pnode):
    # max_connections_per_ip=2: a third from the same client is refused,
    # though every connection comes from 127.0.0.1...
    same = [Raw(pnode.smtp_port, v2("203.0.113.5", 41000 + i))
            for i in range(3)]
    replies = [c.reply() for c in same]
    assert [x[:4] for x in replies] == [b"220 ", b"220 ", b"421 "], replies
    assert b"Too many connections" in replies[2]
    wait_log(pnode, r"smtp\.refused peer=203\.0\.113\.5:41002 "
             r"reason=max_connections_per_ip")
    # ...and three different clients are all served.
    other = [Raw(pnode.smtp_port, v1(f"203.0.113.{10 + i}", 42000))
             for i in range(3)]
    assert [c.reply()[:4] for c in other] == [b"220 "] * 3
    for c in same + other:
        c.close()


def test_imap_through_header(pnode):
    # A client that is not on loopback gets no plaintext login...
    r = Raw(pnode.imap_port, v2("192.0.2.20", 43000, dport=143))
    g = r.line()
    assert g.startswith(b"* OK ") and b"LOGINDISABLED" in g
    r.close()
    wait_log(pnode, r"peer=192\.0\.2\.20:43000 imap\.connect "
             r"plaintext_auth=no")
    # ...while one the header puts on loopback does, pipelined.
    r = Raw(pnode.imap_port, v1("127.0.0.9", 43001, dport=143) +
            b"a LOGIN alice@example.test " + roost.PASSWORD.encode() +
            b"\r\nb SELECT INBOX\r\nc LOGOUT\r\n")
    g = r.line()
    assert g.startswith(b"* OK ") and b"LOGINDISABLED" not in g
    assert imap_lines(r, b"a")[-1].startswith(b"a OK ")
    assert imap_lines(r, b"b")[-1].startswith(b"b OK [READ-WRITE]")
    assert imap_lines(r, b"c")[-1].startswith(b"c OK ")
    r.close()
    wait_log(pnode, r"peer=127\.0\.0\.9:43001 imap\.login")


def test_pop3_through_header(pnode):
    r = Raw(pnode.pop3_port, v1("127.0.0.10", 44000, dport=110) +
            b"USER alice@example.test\r\nPASS " + roost.PASSWORD.encode() +
            b"\r\nSTAT\r\nQUIT\r\n")
    assert r.line().startswith(b"+OK ")
    assert r.line().startswith(b"+OK")        # USER
    assert r.line().startswith(b"+OK")        # PASS
    assert r.line().startswith(b"+OK ")       # STAT
    assert r.line().startswith(b"+OK")        # QUIT
    r.close()
    wait_log(pnode, r"peer=127\.0\.0\.10:44000 pop3\.connect")
    # Without a header, refused like SMTP.
    r = Raw(pnode.pop3_port, b"CAPA\r\n")
    assert r.closed_ungreeted()
    r.close()


# ---- a real HAProxy in front of three nodes ----

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def haproxy_config(bases, front):
    """deploy/haproxy.cfg with the nodes' and the frontends' ports moved:
    node n's 10n00 + offset becomes bases[n-1] + offset; the frontends'
    100xx become front[xx]."""
    with open(os.path.join(roost.TOP, "deploy", "haproxy.cfg")) as f:
        text = f.read()
    text = re.sub(r"127\.0\.0\.1:10([123])(\d\d)\b",
                  lambda m: "127.0.0.1:%d" % (bases[int(m.group(1)) - 1] +
                                              int(m.group(2))), text)
    text = re.sub(r"127\.0\.0\.1:100(10|25|43|80)\b",
                  lambda m: "127.0.0.1:%d" % front[m.group(1)], text)
    assert not re.search(r":10\d\d\d\b", text), "a port was not moved"
    return text


class HAProxy:
    def __init__(self, cfg_text):
        self.dir = tempfile.mkdtemp(prefix="roost-haproxy-")
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        self.log_path = os.path.join(self.dir, "haproxy.log")
        with open(self.cfg, "w") as f:
            f.write(cfg_text)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.cfg],
                                     stdout=self.log, stderr=self.log)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def inbox_count(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    m.login(user, roost.PASSWORD)
    typ, data = m.select("INBOX", readonly=True)
    m.logout()
    return int(data[0])


def send_one(port, subject):
    """Delivers one message through port; returns the client's port."""
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    cport = s.sock.getsockname()[1]
    s.sendmail("sender@elsewhere.example", ["carol@example.test"],
               f"Subject: {subject}\r\n\r\nthrough haproxy\r\n")
    s.quit()
    return cport


@pytest.mark.skipif(not os.access(HAPROXY, os.X_OK),
                    reason="haproxy not installed")
def test_haproxy_end_to_end():
    """Three standalone nodes (separate mail systems: carol exists on
    each) behind deploy/haproxy.cfg. SMTP round-robins one message to
    each node, IMAP through HAProxy then finds one whichever node it
    lands on, and each node logs the real client (127.0.0.1 and its
    port), never HAProxy's 127.0.0.2. A node that dies is taken out."""
    nodes = [roost.Node(settings={"proxy_protocol_from": "127.0.0.2/32"})
             for _ in range(3)]
    hap = None
    try:
        for n in nodes:
            n.start()
            n.add_domain("example.test")
            n.add_user("carol@example.test")
        front = {k: free_port() for k in ("10", "25", "43", "80")}
        hap = HAProxy(haproxy_config([n.port_base for n in nodes], front))
        for p in front.values():
            wait_port(p)
        # Direct clients on 127.0.0.1 need no header.
        s = smtplib.SMTP("127.0.0.1", nodes[0].smtp_port, timeout=30)
        assert s.ehlo()[0] == 250
        s.quit()

        cports = [send_one(front["25"], f"msg {i}") for i in range(3)]
        assert [inbox_count(n, "carol@example.test") for n in nodes] == \
            [1, 1, 1]
        logs = ""
        for n in nodes:
            with open(n.log_path, "rb") as f:
                logs += f.read().decode("utf-8", "replace")
        for cp in cports:
            assert f"peer=127.0.0.1:{cp} smtp.connect" in logs, cp
        # HAProxy's own address shows only on its health checks.
        assert not re.search(r"peer=127\.0\.0\.2:\d+ smtp\.(mail|rcpt|"
                             r"stored)", logs)

        m = imaplib.IMAP4("127.0.0.1", front["43"], timeout=30)
        iport = m.sock.getsockname()[1]
        m.login("carol@example.test", roost.PASSWORD)
        typ, data = m.select("INBOX")
        assert typ == "OK" and data == [b"1"]
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK" and re.match(rb"Subject: msg [012]", data[0][1])
        m.logout()
        assert any(f"peer=127.0.0.1:{iport} imap.connect plaintext_auth=yes"
                   in open(n.log_path, "rb").read().decode("utf-8",
                                                           "replace")
                   for n in nodes)

        # The health checks take a dead node out (inter 2s, fall 2).
        nodes[2].kill9()
        deadline = time.time() + 20
        while "smtp_nodes/node3 is DOWN" not in hap.text():
            assert time.time() < deadline, hap.text()[-2000:]
            time.sleep(0.2)
        for i in range(4):
            send_one(front["25"], f"after {i}")
        assert [inbox_count(n, "carol@example.test")
                for n in nodes[:2]] == [3, 3]
    finally:
        if hap is not None:
            hap.stop()
        for n in nodes:
            n.cleanup()
