"""The store on a full disk and after a disk fault (issue #12), as an
admin would meet them: roostd's data directory on a small ext4 file
system loop-mounted for the test (as root; skipped where mounting is not
possible). Filled by 64 KB deliveries, the node refuses mail with
452 4.3.1 while less than store.min_free is free, never aborts, serves
reads and expunges, takes mail again by itself once space is freed, and
starts on a full disk. A real disk fault (ext4 forced read-only with its
trigger_fs_error switch) fails the store: /healthz 503, SMTP 451, and
after a restart every acknowledged message is there."""
import base64
import contextlib
import imaplib
import json
import os
import poplib
import random
import re
import shutil
import smtplib
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import roost

IMG_MB = 64
SETTINGS = {"store.write_buffer_size": "1M", "store.min_free": "8M"}
MB = 1024 * 1024


def run(*cmd, check=True):
    return subprocess.run(cmd, capture_output=True, text=True, check=check,
                          timeout=120)


@pytest.fixture
def small_fs(tmp_path):
    """A fresh ext4 file system of IMG_MB MiB mounted at tmp_path/mnt."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        pytest.skip("needs root and mkfs.ext4 to mount a small file system")
    img, mnt = tmp_path / "fs.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(IMG_MB * MB)
    run("mkfs.ext4", "-q", "-F", str(img))
    r = run("mount", "-o", "loop,errors=remount-ro", str(img), str(mnt),
            check=False)
    if r.returncode != 0:
        pytest.skip("cannot loop-mount here: " + r.stderr.strip())
    fs = {"img": img, "mnt": mnt,
          "dev": os.path.basename(run("findmnt", "-n", "-o", "SOURCE",
                                      str(mnt)).stdout.strip())}
    try:
        yield fs
    finally:
        for _ in range(50):
            if run("umount", str(mnt), check=False).returncode == 0:
                break
            time.sleep(0.2)
        else:
            run("umount", "-l", str(mnt), check=False)


def start_node(node_factory, fs, tmp_path, users=True):
    n = node_factory(data_dir=str(fs["mnt"] / "node"), settings=SETTINGS)
    n.log_path = str(tmp_path / "roostd.log")     # not on the full disk
    n.start()
    if users:
        n.add_domain("example.test")
        n.add_user("alice@example.test")
        n.add_user("bob@example.test")
    return n


def message(i, size=64 * 1024):
    """Incompressible, and the same octets each time: a retry."""
    raw = random.Random(f"{i}/{size}").randbytes(size * 3 // 4)
    body = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    return (f"From: bob@example.test\r\nTo: alice@example.test\r\n"
            f"Subject: fill-{i}\r\nMessage-ID: <fill-{i}@example.test>\r\n"
            f"\r\n").encode() + body


def send(node, i, size=64 * 1024):
    """None when stored (250), else the refusal (code, text)."""
    s = smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60)
    try:
        s.sendmail("bob@example.test", ["alice@example.test"],
                   message(i, size))
        return None
    except smtplib.SMTPRecipientsRefused as e:
        return list(e.recipients.values())[0]
    except smtplib.SMTPDataError as e:
        return (e.smtp_code, e.smtp_error)
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass


def fill(node, acked, limit=3000):
    """Delivers 64 KB messages until one is refused; returns the refusal."""
    for i in range(len(acked), limit):
        refused = send(node, i)
        if refused is not None:
            return refused
        acked.append(f"fill-{i}")
    raise AssertionError(f"{limit} messages and the disk is not full")


def healthz(node):
    url = f"http://127.0.0.1:{node.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def status(node):
    return json.loads(node.roostctl("status", "--json").stdout)


@contextlib.contextmanager
def imap(node):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=60)
    m.login("alice@example.test", roost.PASSWORD)
    try:
        yield m
    finally:
        m.logout()


def subjects(node):
    """The Subject of every message in alice's INBOX, in order."""
    with imap(node) as m:
        typ, data = m.select("INBOX")
        assert typ == "OK"
        if int(data[0]) == 0:
            return []
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK"
    return [re.search(rb"Subject: (\S+)", d[1]).group(1).decode()
            for d in data if isinstance(d, tuple)]


def wait_for(what, pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def fill_disk(path, leave=0, root=True):
    """Writes path until at most leave octets are free (to root, or to
    anyone else: what roostd measures)."""
    chunk = b"\0" * MB
    with open(path, "wb") as f:
        while True:
            st = os.statvfs(os.path.dirname(path))
            free = (st.f_bfree if root else st.f_bavail) * st.f_frsize
            free -= leave
            if free <= 0:
                break
            try:
                f.write(chunk[:min(len(chunk), free)])
                f.flush()
            except OSError:
                break
        os.fsync(f.fileno())


def test_full_disk_refuses_reads_and_resumes(small_fs, node_factory,
                                             tmp_path):
    filler = small_fs["mnt"] / "filler"
    with open(filler, "wb") as f:        # what the admin frees later
        f.write(b"\0" * 12 * MB)
    n = start_node(node_factory, small_fs, tmp_path)
    acked = []
    code, text = fill(n, acked)
    # RFC 3463 4.3.1, as Postfix under queue_minfree; never an abort.
    assert code == 452 and text.startswith(b"4.3.1"), (code, text)
    assert len(acked) > 100 and n.alive()
    # Something else takes what RocksDB frees after its next flush (the
    # WAL files it deletes), so that the node stays under the reserve.
    other = str(small_fs["mnt"] / "other")
    fill_disk(other, 2 * MB, root=False)
    # The store looks again within a second even when nothing is written.
    wait_for("low_space on /healthz", lambda: "low_space" in healthz(n)[1])
    code, text = healthz(n)
    assert code == 200 and text.startswith("ok: store low_space"), text
    st = status(n)
    assert st["store_state"] == "low_space" and st["store_reason"]
    assert st["store_free"] < st["store_min_free"] * 9 // 8
    assert "low_space" in n.roostctl("status").stdout

    # Reads go on; APPEND is refused; expunges free space and work.
    assert subjects(n) == acked
    with imap(n) as m:
        m.select("INBOX")
        typ, data = m.append("INBOX", None, None, message("append", 1024))
        assert typ == "NO" and b"[UNAVAILABLE]" in data[0], data
        assert m.store("1:10", "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert m.expunge()[0] == "OK"
    acked = acked[10:]
    p = poplib.POP3("127.0.0.1", n.pop3_port, timeout=60)
    p.user("alice@example.test")
    p.pass_(roost.PASSWORD)
    assert p.stat()[0] == len(acked)
    p.quit()

    # The admin frees space: mail flows again, without a restart.
    os.unlink(filler)
    os.unlink(other)
    i = [len(acked) + 1000]

    def delivered():
        i[0] += 1
        if send(n, i[0], 1024) is None:
            acked.append(f"fill-{i[0]}")
            return True
        return False
    wait_for("a delivery after freeing space", delivered)
    assert healthz(n) == (200, "ok\n")
    assert status(n)["store_state"] == "ok"

    # Nothing that got a 250 is lost, nothing is there twice.
    assert n.stop() == 0
    n.start()
    assert subjects(n) == acked


def test_starts_on_a_full_disk(small_fs, node_factory, tmp_path):
    n = start_node(node_factory, small_fs, tmp_path)
    acked = []
    for i in range(20):
        assert send(n, i) is None
        acked.append(f"fill-{i}")
    assert n.stop() == 0
    # Not one block left, not even root's reserve.
    filler = str(small_fs["mnt"] / "filler")
    fill_disk(filler)
    n.start()
    assert healthz(n)[0] == 200
    assert status(n)["store_state"] == "low_space"
    assert subjects(n) == acked
    code, text = send(n, 100)
    assert code == 452 and text.startswith(b"4.3.1"), (code, text)
    os.unlink(filler)
    wait_for("a delivery after freeing space",
             lambda: send(n, 101, 1024) is None)
    acked.append("fill-101")
    assert n.stop() == 0
    n.start()
    assert subjects(n) == acked


def test_disk_fault_fails_the_store(small_fs, node_factory, tmp_path):
    n = start_node(node_factory, small_fs, tmp_path)
    acked = []
    for i in range(20):
        assert send(n, i, 4096) is None
        acked.append(f"fill-{i}")
    # ext4 aborts its journal and turns read-only, as on an I/O error:
    # the next WAL write or sync fails.
    with open(f"/sys/fs/ext4/{small_fs['dev']}/trigger_fs_error", "w") as f:
        f.write("1\n")
    code, text = send(n, 20, 4096)
    assert code == 451 and text.startswith(b"4.3.0"), (code, text)
    code, text = send(n, 21, 4096)       # refused at RCPT from now on
    assert code == 451 and text.startswith(b"4.3.0"), (code, text)
    code, text = healthz(n)
    assert code == 503 and "failed" in text, (code, text)
    st = status(n)
    assert st["store_state"] == "failed" and "failed" in st["store_reason"]
    assert subjects(n) == acked          # reads go on
    with imap(n) as m:
        m.select("INBOX")
        typ, data = m.append("INBOX", None, None, message("append", 1024))
        assert typ == "NO" and b"[UNAVAILABLE]" in data[0], data
    log = open(n.log_path, "rb").read()
    assert log.count(b"store.failed") == 1
    # It stops cleanly (no abort), and recovers by a restart once the
    # file system is repaired.
    assert n.stop() in (0, 1), n.log_tail()
    run("umount", str(small_fs["mnt"]))
    r = run("e2fsck", "-fy", str(small_fs["img"]), check=False)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    run("mount", "-o", "loop,errors=remount-ro", str(small_fs["img"]),
        str(small_fs["mnt"]))
    n.start()
    assert status(n)["store_state"] == "ok"
    got = subjects(n)
    assert got[:20] == acked and len(got) <= 21
    assert send(n, 20, 4096) is None     # the retry: no second copy
    assert subjects(n) == acked + ["fill-20"]
