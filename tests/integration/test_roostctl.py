"""roostctl against a real node: every command, its table and --json
output, and how it fails (exit 1 and one stderr line for the node or the
network, exit 2 for a wrong command line). The `node` fixture is shared by
the module, so each test makes its own names and removes them."""
import json
import os
import poplib
import re
import shutil
import smtplib
import socket
import subprocess

import pytest

import roost

CTL = os.path.join(roost.BIN, "roostctl")


def run(*args, input="", env=None, cwd=None):
    """roostctl with exactly these arguments (no --node, no --token-file).
    stdin is a pipe, never the terminal pytest may have."""
    e = dict(os.environ)
    for k in ("ROOST_NODE", "ROOST_TOKEN_FILE", "http_proxy", "HTTP_PROXY"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run([CTL] + list(args), input=input, capture_output=True,
                          text=True, timeout=90, env=e, cwd=cwd)


def ctl(node, *args, input=""):
    return node.roostctl(*args, input=input, check=False)


def ok(node, *args, input=""):
    r = ctl(node, *args, input=input)
    assert r.returncode == 0, (args, r.stderr)
    assert r.stderr == "", (args, r.stderr)
    return r.stdout


def ok_json(node, *args):
    out = ok(node, *args, "--json")
    return json.loads(out)       # one document, nothing around it


def failed(r, code=1):
    """The run failed with `code` and exactly one 'roostctl: ' line."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("roostctl: "), r.stderr
    assert r.stdout == ""
    return lines[0]


def table(out):
    """A table as (header, rows): columns split on two or more spaces."""
    lines = out.rstrip("\n").split("\n")
    split = [re.split(r"\s{2,}", ln.strip()) for ln in lines]
    return split[0], split[1:]


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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- help, version, usage errors ----

def test_help_and_version(node):
    out = ok(node, "help")
    for cmd in ("domain", "user", "alias", "group", "status"):
        assert cmd in out
    assert ok(node, "--help") == out
    assert "--password-stdin" in ok(node, "user", "--help")
    assert "--password-stdin" in ok(node, "help", "user")
    assert "--member" in ok(node, "group", "add", "--help")
    assert "--json" in ok(node, "status", "--help")
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("roostctl ")


@pytest.mark.parametrize("args,want", [
    (["frob"], "unknown command 'frob' (try roostctl help)"),
    ([], "missing command"),
    (["help", "frob"], "unknown command 'frob'"),
    (["user"], "missing subcommand"),
    (["user", "frob"], "unknown subcommand 'frob'"),
    (["user", "add"], "missing ADDR"),
    (["user", "add", "a@example.test", "b@example.test"], "unexpected"),
    (["user", "add", "a@example.test", "--quota", "12X"], "--quota '12X'"),
    (["user", "add", "a@example.test", "--quota", "1.5G"], "--quota"),
    (["user", "add", "a@example.test", "--name"], "needs a value"),
    (["user", "list", "--bogus"], "unknown option '--bogus'"),
    (["domain", "list", "--json=yes"], "takes no value"),
    (["alias", "add", "a@example.test"], "missing TARGET"),
    (["group", "add", "g@example.test"], "missing --member"),
    (["group", "add", "g@example.test", "--member", "a@example.test",
      "--name", "x", "--name", "y"], "given twice"),
    (["status", "extra"], "unexpected argument 'extra'"),
])
def test_usage_errors_exit_2(node, args, want):
    line = failed(ctl(node, *args), code=2)
    assert want in line


def test_usage_errors_need_no_node(tmp_path):
    # A wrong command line is reported before any token or node is used.
    line = failed(run("--node", "127.0.0.1:1", "--token-file",
                      str(tmp_path / "none"), "user", "add"), code=2)
    assert "missing ADDR" in line
    line = failed(run("--node", "no-port-here", "status"), code=2)
    assert "no-port-here" in line
    line = failed(run("--bogus", "status"), code=2)
    assert "unknown option '--bogus'" in line


# ---- domains ----

def test_domain_add_list_del(node):
    assert ok(node, "domain", "add", "CtlDom.Test") == \
        "created domain ctldom.test\n"
    header, rows = table(ok(node, "domain", "list"))
    assert header == ["DOMAIN", "ACCOUNTS"]
    assert ["ctldom.test", "0"] in rows
    assert ["example.test", str(len([
        u for u in ok_json(node, "user", "list")["users"]
        if u["address"].endswith("@example.test")]))] in rows
    doms = ok_json(node, "domain", "list")["domains"]
    assert {"name": "ctldom.test", "accounts": 0} in doms

    line = failed(ctl(node, "domain", "add", "ctldom.test"))
    assert "ctldom.test" in line and "exists" in line
    line = failed(ctl(node, "domain", "add", "bad domain"))
    assert "create domain bad domain" in line

    assert ok(node, "domain", "del", "CTLDOM.test") == \
        "deleted domain ctldom.test\n"
    line = failed(ctl(node, "domain", "del", "ctldom.test"))
    assert line.startswith("roostctl: delete domain ctldom.test: ")
    assert "ctldom.test" not in [
        d["name"] for d in ok_json(node, "domain", "list")["domains"]]


def test_domain_in_use_cannot_go(node):
    line = failed(ctl(node, "domain", "del", "example.test"))
    assert "delete domain example.test" in line


# ---- users ----

@pytest.mark.parametrize("i,size,want,shown", [
    (1, "500M", 500 * 1024 * 1024, "500M"),
    (2, "2G", 2 * 1024 ** 3, "2G"),
    (3, "2g", 2 * 1024 ** 3, "2G"),
    (4, "1048576", 1024 * 1024, "1M"),
    (5, "1536k", 1536 * 1024, "1.5M"),
    (6, "1000", 1000, "1000"),
    (7, "0", 0, "unlimited"),
])
def test_user_quota_formats(node, i, size, want, shown):
    addr = f"quota-{i}@example.test"
    assert ok(node, "user", "add", addr, "--password-stdin", "--quota", size,
              input="pw-quota-1\n") == f"created user {addr}\n"
    assert ok_json(node, "user", "show", addr)["quota"] == want
    header, rows = table(ok(node, "user", "list", "--domain", "example.test"))
    assert header == ["ADDRESS", "NAME", "QUOTA", "USED", "MESSAGES"]
    row = [r for r in rows if r[0] == addr][0]
    # no name: the NAME column is empty, so the row has one cell less
    assert row[1:] == [shown, "0", "0"]
    ok(node, "user", "del", addr)


def test_user_lifecycle(node):
    addr = "Carol.Ctl@Example.Test"
    low = addr.lower()
    out = ok(node, "user", "add", addr, "--password-stdin", "--name",
             "Carol Ctl", "--quota", "10M", input="pw-carol-1\n")
    assert out == f"created user {low}\n"
    assert pop3_login(node, low, "pw-carol-1")

    u = ok_json(node, "user", "show", addr)
    assert u["address"] == low and u["name"] == "Carol Ctl"
    assert u["quota"] == 10 * 1024 * 1024 and u["used"] == 0
    assert u["messages"] == 0 and "partition" in u
    assert "password" not in u
    show = ok(node, "user", "show", low)
    assert re.search(r"^address\s+carol\.ctl@example\.test$", show, re.M)
    assert re.search(r"^quota\s+10M$", show, re.M)

    users = ok_json(node, "user", "list")["users"]
    assert low in [x["address"] for x in users]
    only = ok_json(node, "user", "list", "--domain", "example.test")["users"]
    assert {x["address"].split("@")[1] for x in only} == {"example.test"}
    header, rows = table(ok(node, "user", "list"))
    assert [low, "Carol Ctl", "10M", "0", "0"] in rows

    # duplicate (any case) -> one line naming the address
    line = failed(ctl(node, "user", "add", low.upper(), "--password-stdin",
                      input="pw-x-1\n"))
    assert "create user" in line and "exists" in line

    assert ok(node, "user", "del", addr) == f"deleted user {low}\n"
    assert not pop3_login(node, low, "pw-carol-1")
    line = failed(ctl(node, "user", "show", low))
    assert line.startswith(f"roostctl: show user {low}: ")
    failed(ctl(node, "user", "del", low))


def test_user_unknown_domain(node):
    line = failed(ctl(node, "user", "add", "x@nowhere.test",
                      "--password-stdin", input="pw-x-1\n"))
    prefix = "roostctl: create user x@nowhere.test: "
    assert line.startswith(prefix) and len(line) > len(prefix)


def test_user_list_unknown_domain_is_empty_or_error(node):
    r = ctl(node, "user", "list", "--domain", "nowhere.test", "--json")
    if r.returncode == 0:
        assert json.loads(r.stdout)["users"] == []
    else:
        failed(r)


def test_user_without_password_then_passwd(node):
    addr = "nopw@example.test"
    r = ctl(node, "user", "add", addr, input="")    # stdin: no terminal
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"created user {addr}\n"
    assert "user passwd" in r.stderr and addr in r.stderr
    assert not pop3_login(node, addr, "")
    assert not pop3_login(node, addr, "anything")

    out = ok(node, "user", "passwd", addr, "--password-stdin",
             input="new pw with spaces\r\n")
    assert addr in out
    assert pop3_login(node, addr, "new pw with spaces")

    ok(node, "user", "passwd", addr, "--password-stdin",
       input="second-pw\nignored second line\n")
    assert pop3_login(node, addr, "second-pw")
    assert not pop3_login(node, addr, "new pw with spaces")
    ok(node, "user", "del", addr)


def test_passwd_errors(node):
    line = failed(ctl(node, "user", "passwd", "nobody@example.test",
                      "--password-stdin", input="pw-n-1\n"))
    assert "nobody@example.test" in line
    # nothing on stdin, an empty line: refused before asking the node
    line = failed(ctl(node, "user", "passwd", "alice@example.test",
                      "--password-stdin", input=""))
    assert "password" in line
    failed(ctl(node, "user", "passwd", "alice@example.test",
               "--password-stdin", input="\n"))
    # no --password-stdin and no terminal to ask on: a usage error
    line = failed(ctl(node, "user", "passwd", "alice@example.test",
                      input="pw\n"), code=2)
    assert "--password-stdin" in line
    assert pop3_login(node, "alice@example.test", roost.PASSWORD)


def test_password_never_in_output_or_log(node):
    secret = "Sekrit-Ctl-7f3a9"
    addr = "secret@example.test"
    r = ctl(node, "user", "add", addr, "--password-stdin", input=secret + "\n")
    assert r.returncode == 0
    r2 = ctl(node, "user", "passwd", addr, "--password-stdin",
             input=secret + "2\n")
    shown = ctl(node, "user", "show", addr, "--json")
    for x in (r, r2, shown):
        assert secret not in x.stdout + x.stderr
    assert node.token not in r.stdout + r.stderr
    with open(node.log_path, "rb") as f:
        assert secret.encode() not in f.read()
    ok(node, "user", "del", addr)


def test_usage_counts_after_delivery(node):
    addr = "used@example.test"
    ok(node, "user", "add", addr, "--password-stdin", "--quota", "1G",
       input="pw-used-1\n")
    msg = ("From: bob@example.test\r\nTo: used@example.test\r\n"
           "Subject: usage\r\n\r\n" + "x" * 3000 + "\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=30) as s:
        s.sendmail("bob@example.test", [addr], msg)
    u = ok_json(node, "user", "show", addr)
    assert u["messages"] == 1 and u["used"] >= 3000
    header, rows = table(ok(node, "user", "list"))
    row = [r for r in rows if r[0] == addr][0]
    assert row[-3] == "1G" and row[-1] == "1"
    assert re.fullmatch(r"\d+(\.\d)?K", row[-2]), row
    ok(node, "user", "del", addr)


# ---- aliases ----

def test_alias_add_list_del(node):
    out = ok(node, "alias", "add", "Info@Example.Test", "alice@example.test",
             "bob@example.test")
    assert out.startswith("created alias info@example.test")
    header, rows = table(ok(node, "alias", "list"))
    assert header == ["ADDRESS", "TARGETS"]
    assert ["info@example.test", "alice@example.test, bob@example.test"] \
        in rows
    got = {a["address"]: a["targets"]
           for a in ok_json(node, "alias", "list")["aliases"]}
    assert got["info@example.test"] == ["alice@example.test",
                                        "bob@example.test"]
    # an address is one thing: no user where an alias is
    failed(ctl(node, "user", "add", "info@example.test", "--password-stdin",
               input="pw-i-1\n"))
    assert ok(node, "alias", "del", "info@example.test") == \
        "deleted alias info@example.test\n"
    line = failed(ctl(node, "alias", "del", "info@example.test"))
    assert line.startswith("roostctl: delete alias info@example.test: ")


def test_catch_all_alias(node):
    out = ok(node, "alias", "add", "@example.test", "alice@example.test")
    assert out.startswith("created alias @example.test")
    got = {a["address"]: a["targets"]
           for a in ok_json(node, "alias", "list")["aliases"]}
    assert got["@example.test"] == ["alice@example.test"]
    assert ["@example.test", "alice@example.test"] in \
        table(ok(node, "alias", "list"))[1]
    assert ok(node, "alias", "del", "@example.test") == \
        "deleted alias @example.test\n"
    assert "@example.test" not in [
        a["address"] for a in ok_json(node, "alias", "list")["aliases"]]


def test_alias_unknown_domain(node):
    line = failed(ctl(node, "alias", "add", "x@nowhere.test",
                      "alice@example.test"))
    assert "create alias x@nowhere.test" in line


# ---- groups ----

def test_group_add_members_list_del(node):
    out = ok(node, "group", "add", "Team@Example.Test", "--member",
             "alice@example.test", "--name", "Team")
    assert out == "created group team@example.test with 1 member\n"
    out = ok(node, "group", "add", "team@example.test", "--member",
             "bob@example.test")
    assert out == "added 1 member to group team@example.test\n"

    header, rows = table(ok(node, "group", "members", "team@example.test"))
    assert header == ["MEMBER"]
    assert rows == [["alice@example.test"], ["bob@example.test"]]
    g = ok_json(node, "group", "members", "TEAM@example.test")
    assert g["address"] == "team@example.test" and g["name"] == "Team"
    assert g["members"] == ["alice@example.test", "bob@example.test"]

    header, rows = table(ok(node, "group", "list"))
    assert header == ["ADDRESS", "NAME", "MEMBERS"]
    assert ["team@example.test", "Team", "2"] in rows
    g = [x for x in ok_json(node, "group", "list")["groups"]
         if x["address"] == "team@example.test"][0]
    assert g["name"] == "Team"
    assert g["members"] == ["alice@example.test", "bob@example.test"]

    # a group cannot contain itself
    line = failed(ctl(node, "group", "add", "team@example.test", "--member",
                      "team@example.test"))
    assert "team@example.test" in line

    assert ok(node, "group", "del", "team@example.test") == \
        "deleted group team@example.test\n"
    line = failed(ctl(node, "group", "members", "team@example.test"))
    assert line.startswith("roostctl: show group team@example.test: ")
    failed(ctl(node, "group", "del", "team@example.test"))


def test_group_several_members_at_once(node):
    out = ok(node, "group", "add", "all@example.test", "--member",
             "alice@example.test", "--member=bob@example.test")
    assert out == "created group all@example.test with 2 members\n"
    assert ok_json(node, "group", "members", "all@example.test")["members"] \
        == ["alice@example.test", "bob@example.test"]
    ok(node, "group", "del", "all@example.test")


# ---- status ----

def test_status(node):
    st = ok_json(node, "status")
    assert st["mode"] == "standalone"
    assert st["accounts"] >= 2 and st["domains"] >= 1
    assert "smtp" in st["sessions"] and "pop3" in st["sessions"]
    out = ok(node, "status")
    for key in ("node", "version", "mode", "uptime", "accounts", "sessions"):
        assert re.search(rf"^{key}\s+\S", out, re.M), (key, out)
    assert re.search(r"^mode\s+standalone$", out, re.M)


def test_status_store_counters(node):
    """The store's commit counters count a delivery, its sync and the
    time it waited; the table shows them on one row."""
    before = ok_json(node, "status")["store"]
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=30) as s:
        s.sendmail("x@remote.test", ["alice@example.test"],
                   b"Subject: counted\r\n\r\nbody\r\n")
    st = ok_json(node, "status")["store"]
    assert set(st) == {"ops", "ops_failed", "queued", "groups", "syncs",
                       "sync_errors", "sync_us", "sync_us_max", "commit_us",
                       "commit_us_max"}
    assert st["ops"] >= before["ops"] + 1
    assert st["syncs"] >= before["syncs"] + 1
    assert st["sync_errors"] == 0 and st["queued"] == 0
    assert st["sync_us"] > before["sync_us"]
    assert st["commit_us"] - before["commit_us"] >= \
        st["sync_us"] - before["sync_us"] > 0
    assert 0 < st["commit_us_max"] <= st["commit_us"]
    assert re.search(r"^store\s+\d+ ops \(0 failed, 0 queued\), \d+ groups, "
                     r"\d+ syncs \(0 failed\); commit mean \d+\.\d\d ms, "
                     r"max \d+\.\d\d ms; sync mean \d+\.\d\d ms, "
                     r"max \d+\.\d\d ms$", ok(node, "status"), re.M)


# ---- the token and the node ----

def test_missing_token_file(node, tmp_path):
    path = str(tmp_path / "no-such.token")
    line = failed(node.roostctl("status", token_file=path, check=False))
    assert line == f"roostctl: cannot read token file {path}: " \
                   "No such file or directory"


def test_empty_token_file(node, tmp_path):
    path = tmp_path / "empty.token"
    path.write_text("\n")
    line = failed(node.roostctl("status", token_file=str(path), check=False))
    assert str(path) in line


def test_wrong_token(node, tmp_path):
    path = tmp_path / "wrong.token"
    path.write_text("0" * 64 + "\n")
    line = failed(node.roostctl("domain", "list", token_file=str(path),
                                check=False))
    assert line == "roostctl: the node refused the admin token " \
                   "(check --token-file)"


def test_token_file_first_line_trimmed(node, tmp_path):
    path = tmp_path / "spaced.token"
    path.write_text("  " + node.token + " \r\nsecond line\n")
    r = node.roostctl("status", "--json", token_file=str(path), check=False)
    assert r.returncode == 0, r.stderr


def test_unreachable_node(node):
    port = free_port()
    r = run("--node", f"127.0.0.1:{port}", "--token-file", node.token_file,
            "status")
    line = failed(r)
    assert line == f"roostctl: cannot reach node 127.0.0.1:{port}: " \
                   "Connection refused"


def test_environment_and_defaults(node, tmp_path):
    env = {"ROOST_NODE": f"127.0.0.1:{node.http_port}",
           "ROOST_TOKEN_FILE": node.token_file}
    r = run("status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mode"] == "standalone"
    # --node wins over ROOST_NODE
    r = run("--node", f"127.0.0.1:{free_port()}", "status", env=env)
    assert "cannot reach node" in failed(r)
    # without --token-file and ROOST_TOKEN_FILE: ./run/node1/admin.token
    os.makedirs(tmp_path / "run" / "node1")
    shutil.copy(node.token_file, tmp_path / "run" / "node1" / "admin.token")
    r = run("domain", "list", env={"ROOST_NODE": env["ROOST_NODE"]},
            cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "example.test" in r.stdout
    # and without that file: /var/lib/roost/admin.token, named on failure
    if not os.path.exists("/var/lib/roost/admin.token"):
        r = run("status", env={"ROOST_NODE": env["ROOST_NODE"]},
                cwd=str(tmp_path / "run"))
        assert "/var/lib/roost/admin.token" in failed(r)
