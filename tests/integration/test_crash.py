"""Crash safety: several senders, SIGKILL mid-load, restart; every message
that got a 250 is there exactly once."""
import email.parser
import poplib
import smtplib
import threading
import time

import roost


def pop3_subjects(node, user):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=60)
    p.user(user)
    p.pass_(roost.PASSWORD)
    count, _ = p.stat()
    subjects = []
    parser = email.parser.BytesHeaderParser()
    for i in range(1, count + 1):
        _, lines, _ = p.top(i, 0)
        subjects.append(parser.parsebytes(b"\r\n".join(lines))["Subject"])
    p.quit()
    return subjects


def sender(node, tid, acked, stop, rnd=0):
    i = 0
    while not stop.is_set():
        try:
            s = smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=30)
            s.ehlo("crash.test")
            while not stop.is_set():
                subj = f"crash-{rnd}-{tid}-{i}"
                msg = (f"From: bob@example.test\r\nTo: alice@example.test\r\n"
                       f"Subject: {subj}\r\n\r\n" +
                       ("x" * 76 + "\r\n") * 50)
                s.sendmail("bob@example.test", ["alice@example.test"], msg)
                acked.append(subj)     # only after the 250
                i += 1
        except (smtplib.SMTPException, OSError):
            i += 1                     # the node died mid-transaction
            time.sleep(0.05)


def test_acknowledged_mail_survives_sigkill(node_factory):
    # A 256 KiB memtable: the rounds flush memtables and rotate WAL files,
    # so recovery is tested across flushes, not only from one WAL.
    n = node_factory(settings={"store.write_buffer_size": "256k"}).start()
    n.add_domain("example.test")
    n.add_user("alice@example.test")
    n.add_user("bob@example.test")
    acked = []
    for rnd in range(3):
        stop = threading.Event()
        mine = []
        threads = [threading.Thread(target=sender,
                                    args=(n, t, mine, stop, rnd))
                   for t in range(6)]
        for t in threads:
            t.start()
        deadline = time.time() + 60
        while len(mine) < 300 and time.time() < deadline:
            time.sleep(0.05)
        n.kill9()                       # mid-load
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
        assert len(mine) >= 300
        acked += mine
        n.start()
        got = pop3_subjects(n, "alice@example.test")
        missing = set(acked) - set(got)
        assert not missing, \
            f"round {rnd}: lost {len(missing)} acknowledged messages"
        dups = {s for s in got if got.count(s) > 1}
        assert not dups, f"duplicated: {sorted(dups)[:5]}"
