"""The admin HTTP/JSON API (node/admin/API.md), spoken directly."""
import json
import urllib.error
import urllib.request

import pytest


def api(node, method, path, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{node.http_port}/api/v1{path}", method=method,
        data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Bearer " + node.token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
            return r.status, json.loads(data) if data else None
    except urllib.error.HTTPError as e:
        data = e.read()
        return e.code, json.loads(data) if data else None


def test_domains(node):
    assert api(node, "POST", "/domains", {"name": "Corp.Test"}) == \
        (201, {"name": "corp.test"})
    code, body = api(node, "POST", "/domains", {"name": "corp.test"})
    assert code == 409 and "exists" in body["error"]
    assert api(node, "POST", "/domains", {"name": "bad domain"})[0] == 400
    assert api(node, "POST", "/domains", {})[0] == 400
    code, body = api(node, "GET", "/domains")
    names = [d["name"] for d in body["domains"]]
    assert "corp.test" in names and "example.test" in names
    assert api(node, "DELETE", "/domains/corp.test") == (204, None)
    assert api(node, "DELETE", "/domains/corp.test")[0] == 404
    # a domain in use cannot go
    code, body = api(node, "DELETE", "/domains/example.test")
    assert code == 409


def test_users(node):
    code, u = api(node, "POST", "/users", {
        "address": "Dave@Example.Test", "password": "pw-dave-1",
        "name": "Dave", "quota": "10M"})
    assert code == 201
    assert u["address"] == "dave@example.test"
    assert u["quota"] == 10 * 1024 * 1024 and u["used"] == 0
    assert "password" not in u
    assert api(node, "POST", "/users", {"address": "dave@example.test"})[0] \
        == 409
    assert api(node, "POST", "/users", {"address": "x@nowhere.test"})[0] \
        == 404
    assert api(node, "POST", "/users", {"address": "not an address"})[0] \
        == 400
    code, u = api(node, "GET", "/users/DAVE%40example.test")
    assert code == 200 and u["name"] == "Dave"
    code, body = api(node, "GET", "/users?domain=example.test")
    assert "dave@example.test" in [x["address"] for x in body["users"]]
    assert api(node, "PUT", "/users/dave@example.test/password",
               {"password": "pw-dave-2"}) == (204, None)
    assert api(node, "PUT", "/users/dave@example.test/password", {})[0] == 400
    assert api(node, "DELETE", "/users/dave@example.test") == (204, None)
    assert api(node, "GET", "/users/dave@example.test")[0] == 404
    assert api(node, "DELETE", "/users/dave@example.test")[0] == 404


def test_aliases_and_groups(node):
    assert api(node, "POST", "/aliases", {
        "address": "info@example.test",
        "targets": ["alice@example.test", "bob@example.test"]})[0] == 201
    assert api(node, "POST", "/aliases", {
        "address": "@example.test", "targets": ["alice@example.test"]})[0] \
        == 201
    code, body = api(node, "GET", "/aliases")
    got = {a["address"]: a["targets"] for a in body["aliases"]}
    assert got["info@example.test"] == ["alice@example.test",
                                        "bob@example.test"]
    assert got["@example.test"] == ["alice@example.test"]
    # an address is one thing: an alias cannot also be a user or group
    assert api(node, "POST", "/users", {"address": "info@example.test"})[0] \
        == 409
    assert api(node, "POST", "/groups", {
        "address": "team@example.test", "members": ["alice@example.test"],
        "name": "Team"})[0] == 201
    assert api(node, "POST", "/groups", {
        "address": "team@example.test", "members": ["bob@example.test"]})[0] \
        == 200
    code, g = api(node, "GET", "/groups/team@example.test")
    assert g["members"] == ["alice@example.test", "bob@example.test"]
    assert g["name"] == "Team"
    assert api(node, "POST", "/groups", {
        "address": "team@example.test", "members": ["team@example.test"]})[0] \
        == 400
    for path in ("/aliases/info@example.test", "/aliases/@example.test",
                 "/groups/team@example.test"):
        assert api(node, "DELETE", path) == (204, None)
    assert api(node, "GET", "/groups/team@example.test")[0] == 404


@pytest.mark.parametrize("method,path,code", [
    ("GET", "/nothing", 404),
    ("PATCH", "/users", 405),
    ("DELETE", "/users", 405),
])
def test_unknown_routes(node, method, path, code):
    assert api(node, method, path)[0] == code


def test_malformed_body(node):
    req = urllib.request.Request(
        f"http://127.0.0.1:{node.http_port}/api/v1/domains", method="POST",
        data=b"{not json")
    req.add_header("Authorization", "Bearer " + node.token)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400
    req = urllib.request.Request(
        f"http://127.0.0.1:{node.http_port}/api/v1/domains", method="POST",
        data=b"x" * (2 * 1024 * 1024))
    req.add_header("Authorization", "Bearer " + node.token)
    with pytest.raises(Exception):
        urllib.request.urlopen(req, timeout=10)
