"""Shared fixtures: a running standalone node with domain example.test and
users alice and bob (password roost.PASSWORD)."""
import pytest

import roost


@pytest.fixture
def node_factory():
    """Makes extra nodes (custom settings, restarts); all cleaned up."""
    made = []

    def make(**kw):
        n = roost.Node(**kw)
        made.append(n)
        return n

    yield make
    for n in made:
        n.cleanup()


@pytest.fixture(scope="module")
def node():
    """One node per test module, with example.test, alice and bob."""
    n = roost.Node().start()
    try:
        n.add_domain("example.test")
        n.add_user("alice@example.test", name="Alice")
        n.add_user("bob@example.test", name="Bob")
        yield n
    finally:
        n.cleanup()
