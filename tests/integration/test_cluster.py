"""The cluster, part 1, against a real etcd and three real nodes: cluster
init, node add, status and placement; mail delivered on one node for users
on every partition and read on the others over IMAP and POP3 (sessions
served on the account's primary through the node the client reached);
IDLE across nodes; directory changes seen everywhere; a node killed and
restarted; etcd stopped for a while; a peer without the cluster's key."""
import imaplib
import json
import os
import poplib
import re
import smtplib
import socket
import subprocess
import time

import pytest

import cluster
import roost
from cluster import Cluster

PARTS = 16
DOMAIN = "corp.test"


def part_of(addr, nparts=PARTS):
    return cluster.part_of(addr, nparts)


def users_for_every_partition(prefix):
    """One address per partition."""
    found = {}
    i = 0
    while len(found) < PARTS:
        addr = f"{prefix}{i}@{DOMAIN}"
        found.setdefault(part_of(addr), addr)
        i += 1
    return [found[p] for p in range(PARTS)]


@pytest.fixture(scope="module")
def cl():
    c = Cluster(n=3, partitions=PARTS,
                settings={"password_scrypt_ln": "10",
                          "auth.failure_delay": "0s",
                          # HAProxy connects from there (deploy/haproxy.cfg)
                          "proxy_protocol_from": "127.0.0.2/32"})
    try:
        c.start()
        c.roostctl("domain", "add", DOMAIN)
        yield c
    except Exception:
        print(c.log_text())
        raise
    finally:
        c.cleanup()


def add_user(cl, addr, node=0):
    cl.roostctl("user", "add", addr, "--password-stdin", node=node,
                input=roost.PASSWORD + "\n")


def send(node, frm, rcpts, subject):
    body = (f"From: {frm}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}"
            f"\r\nMessage-ID: <{subject}@{DOMAIN}>\r\n\r\nhello\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        return s.sendmail(frm, rcpts, body)


def imap_subjects(node, addr):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    try:
        m.login(addr, roost.PASSWORD)
        m.select("INBOX")
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out = []
        if typ == "OK":
            for item in data:
                if isinstance(item, tuple):
                    out.append(item[1].decode().strip()
                               .split(":", 1)[1].strip())
        m.logout()
        return out
    except imaplib.IMAP4.error:
        m.shutdown()
        raise


def pop3_count(node, addr):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=30)
    p.user(addr)
    p.pass_(roost.PASSWORD)
    n, _ = p.stat()
    p.quit()
    return n


def test_status_and_placement(cl):
    st = cl.status(node=1)
    assert st["cluster"] == cl.name and st["mode"] == "cluster"
    ids = sorted(n["id"] for n in st["nodes"])
    assert ids == ["n1", "n2", "n3"]
    for n in st["nodes"]:
        assert n["alive"] and n["state"] == "active", n
        assert n["addr"].startswith("127.0.0.1:")
        assert 4 <= n["primaries"] <= 7, st["nodes"]
    assert len(st["partitions"]) == PARTS
    for p in st["partitions"]:
        assert p["primary"] in ids and p["epoch"] >= 1
        assert p["replicas"] == [p["primary"]]
        assert p["in_sync"] == [p["primary"]]
    assert st["settled"] is True
    listed = json.loads(cl.roostctl("node", "list", "--json").stdout)
    assert sorted(n["id"] for n in listed["nodes"]) == ids
    out = cl.roostctl("status", node=2).stdout
    assert "n1" in out and "n3" in out and "cluster" in out
    # Adding a member twice, or a node that does not run, is refused.
    r = cl.roostctl("node", "add", "n1", check=False)
    assert r.returncode == 1 and "member already" in r.stderr
    r = cl.roostctl("node", "add", "n9", check=False)
    assert r.returncode == 1 and "not running" in r.stderr


def test_deliver_anywhere_read_anywhere(cl):
    users = users_for_every_partition("every")
    for u in users:
        add_user(cl, u, node=0)
    primaries = {cl.primary_of(u, node=2)[0] for u in users}
    assert primaries == {"n1", "n2", "n3"}
    # One transaction on node 2 for all 16: copies on every primary.
    assert send(cl.nodes[1], f"boss@{DOMAIN}", users, "to-everyone") == {}
    for i, u in enumerate(users):
        reader = cl.nodes[0] if i % 2 == 0 else cl.nodes[2]
        assert imap_subjects(reader, u) == ["to-everyone"], u
        assert pop3_count(cl.nodes[2 - (i % 2) * 2], u) == 1, u
    # user show names partition and primary on every node.
    for k in range(3):
        u = json.loads(cl.roostctl("user", "show", users[3], "--json",
                                   node=k).stdout)
        assert u["partition"] == 3 and u["primary"] in ("n1", "n2", "n3")


def test_directory_change_seen_everywhere(cl):
    addr = f"fresh@{DOMAIN}"
    add_user(cl, addr, node=0)
    deadline = time.time() + 1.0
    while True:
        try:
            m = imaplib.IMAP4("127.0.0.1", cl.nodes[2].imap_port, timeout=10)
            m.login(addr, roost.PASSWORD)
            m.logout()
            break
        except imaplib.IMAP4.error:
            assert time.time() < deadline, "user not seen on n3 within 1 s"
            time.sleep(0.05)
    cl.roostctl("alias", "add", f"team@{DOMAIN}", addr, node=1)
    send(cl.nodes[2], f"x@{DOMAIN}", [f"team@{DOMAIN}"], "via-alias")
    assert "via-alias" in imap_subjects(cl.nodes[1], addr)


def idling(node, addr):
    """A raw IMAP session of addr on node, INBOX selected, in IDLE (tags
    a, b, c): the socket and its reader."""
    s = socket.create_connection(("127.0.0.1", node.imap_port), 10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    s.sendall(f"a LOGIN {addr} {roost.PASSWORD}\r\n".encode())
    assert f.readline().startswith(b"a OK")
    s.sendall(b"b SELECT INBOX\r\n")
    while not f.readline().startswith(b"b "):
        pass
    s.sendall(b"c IDLE\r\n")
    assert f.readline().startswith(b"+")
    return s, f


def test_idle_across_nodes(cl):
    users = users_for_every_partition("idler")
    # A user whose primary is not n1, watched from n1, mail through n2.
    for u in users:
        add_user(cl, u, node=0)
    addr = next(u for u in users if cl.primary_of(u)[0] == "n3")
    s, f = idling(cl.nodes[0], addr)
    t0 = time.time()
    send(cl.nodes[1], f"x@{DOMAIN}", [addr], "wake-up")
    s.settimeout(5)
    try:
        line = f.readline()
    except TimeoutError:
        print(cl.log_text())
        raise
    latency = time.time() - t0
    print(f"IDLE push across nodes: {latency * 1000:.1f} ms")
    assert line.strip().endswith(b"EXISTS"), line
    s.sendall(b"DONE\r\n")
    line = f.readline()
    if line == b"* 1 RECENT\r\n":     # an IMAP4rev1 session (RFC 3501 7.3.2)
        line = f.readline()
    assert line.startswith(b"c OK"), line
    s.sendall(b"d LOGOUT\r\n")
    assert f.readline().startswith(b"* BYE")
    s.close()


def test_idle_on_new_accounts(cl):
    """A client idling in a never-used account (on its primary, through
    another node) is told of the first delivery at once: the state is
    published before a write's notification can reach a reader (with no
    follower, a write is acknowledged as soon as it is shipped)."""
    users = users_for_every_partition("fresh-idle")
    for u in users:
        add_user(cl, u, node=0)
    mine = [u for u in users if cl.primary_of(u)[0] == "n3"][:6]
    for addr in mine:
        s, f = idling(cl.nodes[0], addr)
        send(cl.nodes[1], f"x@{DOMAIN}", [addr], "first-" + addr)
        s.settimeout(5)
        assert f.readline().strip().endswith(b"EXISTS"), addr
        s.close()


def test_unauthenticated_peer_refused(cl):
    n = cl.nodes[0]
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", n.peer_port), 5)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(2000))
    s.settimeout(15)
    try:
        data = s.recv(4096)
        while data:
            assert b"roost" not in data.lower()
            data = s.recv(4096)
    except (ConnectionResetError, socket.timeout):
        pass
    assert time.time() - t0 < 12
    s.close()
    # TLS 1.3 with the wrong key: the handshake fails.
    r = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{n.peer_port}",
         "-tls1_3", "-psk_identity", cl.name, "-psk", "00" * 32,
         "-ciphersuites", "TLS_AES_128_GCM_SHA256"],
        input=b"", capture_output=True, timeout=20)
    assert r.returncode != 0 or b"Verify return code" not in r.stdout
    # The node still serves.
    assert cl.status(node=0)["cluster"] == cl.name


def test_node_killed_and_restarted(cl):
    users = users_for_every_partition("crash")
    for u in users:
        add_user(cl, u, node=0)
    victim = cl.node("n3")
    theirs = [u for u in users if cl.primary_of(u)[0] == "n3"]
    assert theirs
    send(cl.nodes[0], f"x@{DOMAIN}", theirs, "before-kill")
    victim.kill9()
    # The others see it gone within the lease TTL (5 s) plus a margin.
    deadline = time.time() + 10
    while True:
        st = cl.status(node=0)
        n3 = next(n for n in st["nodes"] if n["id"] == "n3")
        if not n3["alive"]:
            break
        assert time.time() < deadline, "n3 still alive after 10 s"
        time.sleep(0.2)
    # Mail for its users waits (451 4.3.0), others are served.
    with smtplib.SMTP("127.0.0.1", cl.nodes[1].smtp_port, timeout=30) as s:
        s.ehlo("t")
        s.mail(f"x@{DOMAIN}")
        code, msg = s.rcpt(theirs[0])
        assert code == 451 and b"4.3.0" in msg, (code, msg)
    m = imaplib.IMAP4("127.0.0.1", cl.nodes[0].imap_port, timeout=10)
    with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
        m.login(theirs[0], roost.PASSWORD)
    m.shutdown()
    victim.start()
    cl.wait(timeout=30)
    for u in theirs:
        assert imap_subjects(cl.nodes[1], u) == ["before-kill"], u
    send(cl.nodes[1], f"x@{DOMAIN}", theirs[:1], "after-restart")
    assert imap_subjects(cl.nodes[0], theirs[0]) == ["before-kill",
                                                      "after-restart"]


def test_etcd_stopped(cl):
    addr = users_for_every_partition("etcdless")[0]
    add_user(cl, addr, node=0)
    cl.etcd.stop()
    try:
        t0 = time.time()
        # Mail and logins go on: the view and directory are in memory.
        send(cl.nodes[1], f"x@{DOMAIN}", [addr], "no-etcd")
        assert imap_subjects(cl.nodes[2], addr) == ["no-etcd"]
        # A directory change needs etcd: a clear refusal, no hang.
        r = cl.roostctl("user", "add", f"later@{DOMAIN}", "--password-stdin",
                        input=roost.PASSWORD + "\n", check=False)
        assert r.returncode == 1, r
        assert time.time() - t0 < 30
        time.sleep(max(0, 10 - (time.time() - t0)))
        for n in cl.nodes:
            assert n.alive(), n.log_tail()
    finally:
        cl.etcd.start()
    # Back by itself: changes work again, nodes are alive again.
    deadline = time.time() + 30
    while True:
        r = cl.roostctl("user", "add", f"later@{DOMAIN}", "--password-stdin",
                        input=roost.PASSWORD + "\n", check=False)
        if r.returncode == 0:
            break
        assert time.time() < deadline, r.stderr
        time.sleep(0.5)
    cl.wait(timeout=30)
    assert all(n["alive"] for n in cl.status()["nodes"])


def etcd_put(cl, key, value):
    import base64
    import urllib.request
    body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                       "value": base64.b64encode(value).decode()}).encode()
    req = urllib.request.Request(cl.etcd.url + "/v3/kv/put", data=body,
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def test_records_that_do_not_parse(cl):
    """Garbage written into etcd by someone else: every node logs it and
    goes on serving; the key reads as absent."""
    prefix = f"/roost/{cl.name}/"
    etcd_put(cl, prefix + f"dir/accounts/bad@{DOMAIN}", b"\xff{not json")
    etcd_put(cl, prefix + "members/evil", b"[1,2,3]")
    etcd_put(cl, prefix + "alive/Not_An_Id", b"{}")
    etcd_put(cl, prefix + "partitions/9999", b"{}")
    time.sleep(0.5)
    for n in cl.nodes:
        assert n.alive(), n.log_tail()
        assert "dir.bad_record" in n.log_tail(400) or \
            "cluster.bad_record" in n.log_tail(400)
    st = cl.status(node=2)
    assert sorted(n["id"] for n in st["nodes"]) == ["n1", "n2", "n3"]
    r = cl.roostctl("user", "show", f"bad@{DOMAIN}", check=False)
    assert r.returncode == 1
    addr = users_for_every_partition("afterbad")[0]
    add_user(cl, addr, node=2)
    send(cl.nodes[0], f"x@{DOMAIN}", [addr], "still-serving")
    assert imap_subjects(cl.nodes[1], addr) == ["still-serving"]


def test_through_haproxy(cl):
    """deploy/haproxy.cfg (ports moved) in front of the three nodes: mail
    in over HAProxy's SMTP, read over its IMAP and POP3, whichever node
    each connection lands on; the nodes log the real client."""
    from test_proxy_protocol import HAProxy, free_port, haproxy_config, \
        wait_port
    front = {k: free_port() for k in ("10", "25", "43", "80")}
    hp = HAProxy(haproxy_config([n.port_base for n in cl.nodes], front))
    try:
        for port in front.values():
            wait_port(port)
        addr = users_for_every_partition("lb")[5]
        add_user(cl, addr, node=1)
        for i in range(3):
            with smtplib.SMTP("127.0.0.1", front["25"], timeout=30) as s:
                s.sendmail(f"x@{DOMAIN}", [addr],
                           f"Subject: lb-{i}\r\nMessage-ID: <lb-{i}@t>"
                           f"\r\n\r\nhi\r\n")
        for _ in range(3):
            m = imaplib.IMAP4("127.0.0.1", front["43"], timeout=30)
            m.login(addr, roost.PASSWORD)
            typ, data = m.select("INBOX", readonly=True)
            assert typ == "OK" and int(data[0]) == 3
            m.logout()
            p = poplib.POP3("127.0.0.1", front["10"], timeout=30)
            p.user(addr)
            p.pass_(roost.PASSWORD)
            assert p.stat()[0] == 3
            p.quit()
        # The sessions that did the work name the client; HAProxy's own
        # health checks (PROXY LOCAL) are the only ones from 127.0.0.2.
        work = [line for line in cl.log_text().splitlines()
                if " imap.login " in line or " pop3.login " in line or
                " smtp.stored " in line]
        assert work and all(re.search(r"peer=127\.0\.0\.1[:/]", line)
                            for line in work), work
    finally:
        hp.stop()
