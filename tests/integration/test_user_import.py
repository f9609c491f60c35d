"""Migrating users with their password hashes: `roostctl user import` of a
Dovecot passwd-file with one user per scheme, logins over IMAP and POP3
with each user's password, the hash turned into scrypt by the first
login, the lines that cannot be imported, and a 2,000-user import."""
import base64
import hashlib
import imaplib
import json
import os
import poplib
import time

import pytest

import roost

# Made with python3's crypt module, openssl passwd -6 and libargon2 for the
# password "secret" (tests/unit/node/auth/test_passwd_legacy.c has them
# too). The digest schemes below are computed here, each user its own
# password.
FIXED = [
    ("sha512crypt", "{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuH"
     "wwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
     "SHA512-CRYPT"),
    ("bare6", "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDeh"
     "y0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "SHA512-CRYPT"),
    ("sha256crypt", "{SHA256-CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FB"
     "vgkYA.lpPdS5sA", "SHA256-CRYPT"),
    ("md5crypt", "{MD5-CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "MD5-CRYPT"),
    ("blfcrypt", "{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixK"
     "mWdcYUh4Hjl0a", "BLF-CRYPT"),
    ("descrypt", "{CRYPT}abNANd1rDfiNc", "CRYPT"),
    ("argon2id", "{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5d"
     "GVzIQ$Wg9nrlI1wIF/dEqE4nMyiXXBJHFgCIKqjy0AFlwnDoU", "ARGON2ID"),
    ("barea2id", "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ$Wg9n"
     "rlI1wIF/dEqE4nMyiXXBJHFgCIKqjy0AFlwnDoU", "ARGON2ID"),
    ("argon2i", "{ARGON2I}$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5dGVz"
     "IQ$144IIHw5DOjvRyQbxULQnWRWjXzW1i6o8QEA2d2XqIk", "ARGON2I"),
]

DIGESTS = {"SHA512": hashlib.sha512, "SHA256": hashlib.sha256,
           "SHA": hashlib.sha1}


def digest_users():
    """(local part, password, stored form, scheme) for the digest schemes."""
    out = []
    for name, h in DIGESTS.items():
        pw = f"pw-{name.lower()}-1"
        salt = os.urandom(8)
        ssha = base64.b64encode(h(pw.encode() + salt).digest() + salt)
        out.append((f"s{name.lower()}", pw, "{S%s}%s" % (name, ssha.decode()),
                    "S" + name))
        pw = f"pw-{name.lower()}-2"
        plain = base64.b64encode(h(pw.encode()).digest()).decode()
        out.append((name.lower(), pw, "{%s}%s" % (name, plain), name))
        pw = f"pw-{name.lower()}-3"
        out.append((name.lower() + "hex", pw,
                    "{%s.HEX}%s" % (name, h(pw.encode()).hexdigest()), name))
    out.append(("plain", "plain pass:word", "{PLAIN}plain pass word", "PLAIN"))
    out.append(("cleartext", "clear-1", "{CLEARTEXT}clear-1", "PLAIN"))
    return out


def users():
    """(address, password, stored form, scheme) of every test user."""
    out = [(f"{local}@import.test", "secret", stored, scheme)
           for local, stored, scheme in FIXED]
    for local, pw, stored, scheme in digest_users():
        # "plain pass:word" cannot be in a passwd-file (':' splits it).
        if local == "plain":
            pw = "plain pass word"
        out.append((f"{local}@import.test", pw, stored, scheme))
    return out


@pytest.fixture(scope="module")
def node():
    n = roost.Node(settings={"auth.failure_delay": "0",
                             "password_scrypt_ln": "10"}).start()
    try:
        yield n
    finally:
        n.cleanup()


def write_file(node, name, lines):
    path = os.path.join(os.path.dirname(node.data_dir), name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def show(node, addr):
    r = node.roostctl("user", "show", addr, "--json")
    return json.loads(r.stdout)


def imap_login(node, user, password):
    c = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    try:
        c.login(user, password)
        return True
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            c.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def pop3_login(node, user, password):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=30)
    try:
        p.user(user)
        p.pass_(password)
        return True
    except poplib.error_proto:
        return False
    finally:
        try:
            p.quit()
        except (poplib.error_proto, OSError):
            pass


def wait_scheme(node, addr, want, timeout=10):
    deadline = time.time() + timeout
    while True:
        got = show(node, addr)["password_scheme"]
        if got == want or time.time() > deadline:
            return got
        time.sleep(0.05)


def test_import_every_scheme_then_login(node):
    us = users()
    lines = ["# exported from dovecot", ""]
    for addr, _, stored, _ in us:
        lines.append(f"{addr}:{stored}:1000:1000::/home/x:/bin/false:")
    lines[2] += "userdb_quota_rule=*:storage=10M"
    lines[2] = lines[2].replace("1000::/home", "1000:Ann Example:/home")
    path = write_file(node, "users.passwd", lines)
    r = node.roostctl("user", "import", path, "--create-domains")
    assert r.stdout.strip().splitlines()[-1] == \
        f"imported {len(us)} users, skipped 0", r.stdout
    assert r.returncode == 0 and r.stderr == ""

    first = show(node, us[0][0])
    assert first["name"] == "Ann Example"
    assert first["quota"] == 10 * 1024 * 1024
    for addr, pw, stored, scheme in us:
        u = show(node, addr)
        assert u["password_scheme"] == scheme, addr
        assert stored not in json.dumps(u)          # never the hash
        assert not imap_login(node, addr, pw + "x"), addr
        assert not pop3_login(node, addr, pw[:-1]), addr
        assert show(node, addr)["password_scheme"] == scheme, addr
        assert imap_login(node, addr, pw), (addr, scheme)
        assert wait_scheme(node, addr, "scrypt") == "scrypt", addr
        # The scrypt hash holds the same password, and only it.
        assert pop3_login(node, addr, pw), (addr, scheme)
        assert not pop3_login(node, addr, pw + "x"), addr
        assert imap_login(node, addr, pw), addr
    log = open(node.log_path, encoding="utf-8", errors="replace").read()
    assert f"auth.rehashed user={us[0][0]} from=SHA512-CRYPT" in log
    for _, pw, stored, _ in us:
        assert stored not in log
        assert f"={pw} " not in log


def test_import_reports_bad_lines(node):
    node.add_domain("bad.test")
    node.add_user("taken@bad.test")
    lines = [
        "ok1@bad.test:{PLAIN}one",
        "nodomain:{PLAIN}x",                       # line 2: no '@'
        "md4@bad.test:{MD4}abcdef",                # line 3: unknown scheme
        "taken@bad.test:{PLAIN}x",                 # line 4: exists
        "short@bad.test:{SHA256}abc=",             # line 5: malformed
        "plainpw@bad.test:secret",                 # line 6: no hash
        "x@nowhere.test:{PLAIN}x",                 # line 7: no domain
        "ok1@bad.test:{PLAIN}again",               # line 8: twice
        "ok2@bad.test:$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4"
        "Hjl0a",
    ]
    path = write_file(node, "bad.passwd", lines)
    r = node.roostctl("user", "import", path, "--default-quota", "1M",
                      check=False)
    out = r.stdout.splitlines()
    assert r.returncode == 1, r
    assert out[-1] == "imported 2 users, skipped 7", r.stdout
    assert [ln.split(":")[0] for ln in out[:-1]] == \
        [f"line {i}" for i in (2, 3, 4, 5, 6, 7, 8)], r.stdout
    assert "unknown password scheme {MD4}" in out[1]
    assert "exists already" in out[2]
    assert "no domain nowhere.test" in out[5]
    # The existing account was not overwritten.
    assert show(node, "taken@bad.test")["password_scheme"] == "scrypt"
    assert pop3_login(node, "taken@bad.test", roost.PASSWORD)
    assert show(node, "ok1@bad.test")["quota"] == 1024 * 1024
    assert show(node, "ok2@bad.test")["password_scheme"] == "BLF-CRYPT"


def test_import_stdin_and_api_errors(node):
    node.add_domain("stdin.test")
    r = node.roostctl("user", "import", "-",
                      input="a@stdin.test:{PLAIN}pw\n")
    assert r.stdout == "imported 1 users, skipped 0\n"
    assert pop3_login(node, "a@stdin.test", "pw")
    r = node.roostctl("user", "import", "/nonexistent/file", check=False)
    assert r.returncode == 1 and "cannot open /nonexistent/file" in r.stderr


def test_import_2000_users(node):
    lines = []
    for i in range(2000):
        pw = f"pw{i}".encode()
        salt = os.urandom(8)
        h = base64.b64encode(hashlib.sha256(pw + salt).digest() + salt)
        lines.append(f"user{i}@bulk.test:{{SSHA256}}{h.decode()}::::::")
    path = write_file(node, "bulk.passwd", lines)
    t0 = time.monotonic()
    r = node.roostctl("user", "import", path, "--create-domains")
    took = time.monotonic() - t0
    assert r.stdout == "imported 2000 users, skipped 0\n"
    print(f"2000 users imported in {took:.2f} s")
    assert took < 10, took
    listed = json.loads(node.roostctl("user", "list", "--domain",
                                      "bulk.test", "--json").stdout)
    assert len(listed["users"]) == 2000
    assert imap_login(node, "user1999@bulk.test", "pw1999")
    # A restart loads them all from the store.
    node.restart()
    assert pop3_login(node, "user7@bulk.test", "pw7")
    assert wait_scheme(node, "user1999@bulk.test", "scrypt") == "scrypt"
