"""The node process: start, health, admin token, data-dir lock, graceful
stop, restart after SIGKILL."""
import json
import os
import stat
import subprocess
import urllib.error
import urllib.request

import roost


def http(node, method, path, token=None, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{node.http_port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode())
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_healthz_and_token_file(node_factory):
    n = node_factory().start()
    assert http(n, "GET", "/healthz") == (200, b"ok\n")
    mode = stat.S_IMODE(os.stat(n.token_file).st_mode)
    assert mode == 0o600
    assert len(n.token) == 64


def test_admin_api_requires_token(node_factory):
    n = node_factory().start()
    code, body = http(n, "GET", "/api/v1/status")
    assert code == 401
    assert "token" in json.loads(body)["error"]
    code, _ = http(n, "GET", "/api/v1/status", token="wrong" * 13)
    assert code == 401
    code, body = http(n, "GET", "/api/v1/status", token=n.token)
    assert code == 200
    st = json.loads(body)
    assert st["mode"] == "standalone"
    assert "smtp" in st["sessions"] and "pop3" in st["sessions"]


def test_sigterm_exits_cleanly(node_factory):
    n = node_factory().start()
    assert n.stop() == 0
    assert "node.stopped" in n.log_tail()


def test_second_node_on_same_data_dir_refused(node_factory):
    n = node_factory().start()
    r = subprocess.run(
        [os.path.join(roost.BIN, "roostd"), "--standalone", "--data-dir",
         n.data_dir, "--port-base", str(roost.free_port_base()),
         "--bind", "127.0.0.1"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "in use" in r.stderr


def test_directory_survives_sigkill(node_factory):
    n = node_factory().start()
    n.add_domain("survive.test")
    n.add_user("carol@survive.test")
    n.kill9()
    n.start()
    out = n.roostctl("user", "list", "--json").stdout
    users = [u["address"] for u in json.loads(out)["users"]]
    assert users == ["carol@survive.test"]


def test_example_configuration_starts(node_factory):
    """deploy/roostd.conf.example, as shipped, is a configuration the node
    accepts: every key in it is one the node knows."""
    n = node_factory(config=os.path.join(roost.TOP, "deploy",
                                         "roostd.conf.example")).start()
    assert http(n, "GET", "/healthz") == (200, b"ok\n")
    assert n.stop() == 0


def test_bad_configuration_is_one_clear_line(node_factory, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("standalone = yes\nport_base = lots\n")
    r = subprocess.run([os.path.join(roost.BIN, "roostd"), "--config",
                        str(conf), "--set", f"data_dir={tmp_path}/d"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert r.stderr.strip().count("\n") == 0
    assert "port_base" in r.stderr
    r = subprocess.run([os.path.join(roost.BIN, "roostd"), "--bogus"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2


def _cluster_node_stderr(tmp_path, key, value):
    """What a cluster node with key=value says on its way out (its etcd
    is a closed port, so it never gets further)."""
    r = subprocess.run([os.path.join(roost.BIN, "roostd"),
                        "--cluster", "c1", "--etcd", "http://127.0.0.1:9",
                        "--node-id", "n1", "--data-dir", str(tmp_path / "d"),
                        "--set", "etcd.timeout=1s", "--set", f"{key}={value}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, (key, value, r.stderr)
    return r.stderr


def test_bad_replication_setting_is_one_clear_line(tmp_path):
    """Cluster mode's settings are checked before etcd is asked: a bad
    value is one line naming it (a known key, not an unknown one); a good
    one is taken, and the node goes on to fail at etcd."""
    for key, value in (("replication.log_size", "lots"),
                       ("replication.log_size", "1k"),
                       ("replication.timeout", "1ms")):
        err = _cluster_node_stderr(tmp_path, key, value)
        assert err.strip().count("\n") == 0, err
        assert key in err and "unknown setting" not in err, err
    for key, value in (("replication.log_size", "128M"),
                       ("replication.timeout", "20s")):
        err = _cluster_node_stderr(tmp_path, key, value)
        assert key not in err, err


def test_unknown_setting_is_refused(tmp_path):
    r = subprocess.run([os.path.join(roost.BIN, "roostd"), "--standalone",
                        "--data-dir", str(tmp_path / "d"),
                        "--set", "smtp.max_mesage_size=1M"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "unknown setting smtp.max_mesage_size" in r.stderr
