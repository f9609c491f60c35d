"""deploy/quickstart.sh: builds (a no-op after tests/run.sh built build/),
starts the demo node, and the printed instructions work; Ctrl-C stops
it cleanly. Runs on the fixed quickstart ports, so it is skipped when
something else holds them."""
import imaplib
import os
import poplib
import signal
import smtplib
import socket
import subprocess
import time

import pytest

import roost


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_quickstart_serves_demo_domain(tmp_path):
    if not all(port_free(10100 + off) for off in (10, 25, 43, 80)):
        pytest.skip("quickstart ports 10110/10125/10143/10180 are in use")
    env = dict(os.environ, ROOST_DEMO_PASSWORD="demo-pw-42")
    log = open(tmp_path / "quickstart.out", "w+")
    p = subprocess.Popen([os.path.join(roost.TOP, "deploy", "quickstart.sh")],
                         cwd=roost.TOP, env=env, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 600
        while time.time() < deadline:
            log.seek(0)
            if "Press Ctrl-C to stop." in log.read():
                break
            assert p.poll() is None, open(tmp_path / "quickstart.out").read()
            time.sleep(0.5)
        log.seek(0)
        out = log.read()
        assert "alice@example.test" in out and "swaks" in out
        s = smtplib.SMTP("127.0.0.1", 10125, timeout=30)
        s.sendmail("bob@example.test", ["alice@example.test"],
                   "Subject: hello from the quickstart test\r\n\r\nhi\r\n")
        s.quit()
        pop = poplib.POP3("127.0.0.1", 10110, timeout=30)
        pop.user("alice@example.test")
        pop.pass_("demo-pw-42")
        n, _ = pop.stat()
        _, lines, _ = pop.retr(n)
        assert b"Subject: hello from the quickstart test" in lines
        pop.quit()
        imap = imaplib.IMAP4("127.0.0.1", 10143, timeout=30)
        imap.login("alice@example.test", "demo-pw-42")
        typ, data = imap.select("INBOX")
        assert typ == "OK" and int(data[0]) == n
        typ, data = imap.fetch(data[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b"hello from the quickstart test" in data[0][1]
        imap.logout()
    finally:
        os.killpg(p.pid, signal.SIGINT)   # what Ctrl-C sends
        assert p.wait(60) == 0 or p.returncode == 130
