"""Synchronous replication (issue 12) against a real etcd and three real
nodes with three copies of every partition: every copy in sync, mail
acknowledged by a primary that is then SIGKILLed is read from the node
promoted in its place, service resumes by itself, and the killed node
comes back as a follower and catches up."""
import imaplib
import smtplib
import time

import pytest

import roost
from cluster import Cluster
from test_cluster import DOMAIN, PARTS, add_user, imap_subjects, send, \
    users_for_every_partition


@pytest.fixture(scope="module")
def rc():
    c = Cluster(n=3, partitions=PARTS, name="repl", replicas=3,
                settings={"password_scrypt_ln": "10",
                          "auth.failure_delay": "0s"})
    try:
        c.start()
        c.wait_in_sync()
        c.roostctl("domain", "add", DOMAIN)
        yield c
    except Exception:
        print(c.log_text())
        raise
    finally:
        c.cleanup()


def test_three_copies_in_sync(rc):
    st = rc.wait_in_sync()
    for p in st["partitions"]:
        assert sorted(p["replicas"]) == ["n1", "n2", "n3"], p
        assert p["primary"] in p["replicas"]


def test_failover_keeps_acknowledged_mail(rc):
    users = users_for_every_partition("fo")
    for u in users:
        add_user(rc, u, node=0)
    assert send(rc.nodes[0], f"x@{DOMAIN}", users, "before-failover") == {}
    victim_id = rc.primary_of(users[0])[0]
    victim = rc.node(victim_id)
    theirs = [u for u in users if rc.primary_of(u)[0] == victim_id]
    other = next(n for n in rc.nodes if n.node_id != victim_id)
    t0 = time.time()
    victim.kill9()
    # A new primary for every partition the victim led, within seconds.
    deadline = time.time() + 20
    while True:
        st = rc.status(node=rc.nodes.index(other))
        led = [p for p in st["partitions"] if p["primary"] == victim_id]
        if not led and all(p["primary_alive"] for p in st["partitions"]):
            break
        assert time.time() < deadline, st["partitions"]
        time.sleep(0.2)
    # Mail for their users is accepted again, and what was acknowledged
    # before the kill is there.
    deadline = time.time() + 20
    while True:
        try:
            send(other, f"x@{DOMAIN}", theirs[:1], "after-failover")
            break
        except smtplib.SMTPException:
            assert time.time() < deadline
            time.sleep(0.2)
    print(f"failover: first 250 after {time.time() - t0:.2f} s")
    for u in theirs:
        subjects = imap_subjects(other, u)
        assert subjects[0] == "before-failover", (u, subjects)
    assert imap_subjects(other, theirs[0]) == ["before-failover",
                                               "after-failover"]
    # The victim returns as a follower and catches up.
    victim.start()
    rc.wait_in_sync(timeout=60)
    st = rc.status()
    assert any(victim_id in p["replicas"] for p in st["partitions"])


def test_failover_answers_a_lone_sender(rc):
    """One client sending one message at a time (nothing else writes):
    through a primary killed, its partitions failed over and, after the
    victim's return, another primary killed, every message is answered
    within the client's timeout (a write that waits for a follower being
    copied is answered once the copy ends, not when a later write comes),
    and each victim's users get a 250 again within seconds."""
    users = users_for_every_partition("ls")
    for u in users:
        add_user(rc, u, node=0)
    rc.wait_in_sync(timeout=60)
    for trial in range(2):
        victim_id = rc.primary_of(users[trial])[0]
        victim = rc.node(victim_id)
        other = next(n for n in rc.nodes if n.node_id != victim_id)
        victim.kill9()
        t0 = time.time()
        done = set()
        while len(done) < len(users):
            u = users[(trial + len(done)) % len(users)]
            assert time.time() - t0 < 30, f"no 250 for {u}"
            try:
                with smtplib.SMTP("127.0.0.1", other.smtp_port,
                                  timeout=8) as s:
                    s.sendmail(f"x@{DOMAIN}", [u],
                               f"Subject: lone-{trial}\r\nMessage-ID: "
                               f"<lone-{trial}-{u}@t>\r\n\r\nx\r\n")
                done.add(u)
            except smtplib.SMTPResponseException as e:
                assert 400 <= e.smtp_code < 500, e
                time.sleep(0.05)
            except smtplib.SMTPRecipientsRefused as e:
                assert all(400 <= c < 500 for c, _ in e.recipients.values())
                time.sleep(0.05)
        print(f"trial {trial}: every user answered after "
              f"{time.time() - t0:.2f} s")
        victim.start()
        rc.wait_in_sync(timeout=60)


def test_dead_controller_found_by_the_others(rc):
    """The other nodes watch the controller's peer port: a SIGKILLed
    controller's lease is revoked by one of them (cluster.node_gone), not
    left to expire, and another node takes over as controller."""
    rc.wait_in_sync(timeout=60)
    old = rc.status()["controller"]
    victim = rc.node(old)
    others = [n for n in rc.nodes if n.node_id != old]
    victim.kill9()
    deadline = time.time() + 30
    while True:
        st = rc.status(node=rc.nodes.index(others[0]))
        if st["controller"] not in ("", None, old):
            break
        assert time.time() < deadline, st["controller"]
        time.sleep(0.2)
    logs = b"".join(open(n.log_path, "rb").read() for n in others)
    assert f"cluster.node_gone node={old} ".encode() in logs
    victim.start()
    rc.wait_in_sync(timeout=60)
