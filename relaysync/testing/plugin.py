"""pytest plugin (entry point ``relaysync``): ``relay_simulator``, ``relay_client`` and
``relay_peer`` fixtures.

Strict mode: the simulator accepts params no RELAY document names (as RELAY does) and
lists them in ``sim.lint``. To refuse them instead (``-32602`` naming the param), mark a
test (or a module, with ``pytestmark``) ``@pytest.mark.relay_strict``, run pytest with
``--relay-strict``, or set ``relay_strict = true`` in the ini file; the
``relay_simulator`` fixture is then ``RelaySimulator(strict=True)``.

It is loaded in every pytest run where relaysync is installed, so it imports nothing
heavy at module level: the simulator and the client are imported inside the fixtures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from relaysync import RelayClient
    from relaysync.testing import RelaySimulator
    from relaysync.testing.peer import RawPeer


STRICT_MARKER = "relay_strict"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--relay-strict`` and the ``relay_strict`` ini option."""
    help_text = "relay_simulator refuses params no RELAY document names (-32602)"
    parser.addoption("--relay-strict", action="store_true", default=False, help=help_text)
    parser.addini("relay_strict", help_text, type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``relay_strict`` marker."""
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}: the relay_simulator fixture refuses params no RELAY document "
        "names (RelaySimulator(strict=True))",
    )


def strict_requested(request: pytest.FixtureRequest) -> bool:
    """Whether the test asked for a strict simulator (marker, option or ini)."""
    config = request.config
    return bool(
        request.node.get_closest_marker(STRICT_MARKER) is not None
        or config.getoption("--relay-strict", default=False)
        or config.getini("relay_strict")
    )


@pytest.fixture
def relay_simulator(request: pytest.FixtureRequest) -> Iterator[RelaySimulator]:
    """A started ``RelaySimulator(time_scale=0.01)``, stopped after the test; strict
    when the test is marked ``relay_strict`` or pytest runs with ``--relay-strict``."""
    from relaysync.testing import RelaySimulator

    with RelaySimulator(time_scale=0.01, strict=strict_requested(request)) as sim:
        yield sim


@pytest.fixture
def relay_client(relay_simulator: RelaySimulator) -> Iterator[RelayClient]:
    """A ``RelayClient`` connected to ``relay_simulator`` on context ``office``, closed
    after the test."""
    from relaysync import RelayClient

    sim = relay_simulator
    client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])
    try:
        client.connect()
        yield client
    finally:
        client.close()


@pytest.fixture
def relay_peer(relay_simulator: RelaySimulator) -> Iterator[RawPeer]:
    """A bare RELAY client (:class:`~relaysync.testing.peer.RawPeer`) connected to
    ``relay_simulator`` on context ``office``, closed after the test."""
    from relaysync.testing.peer import RawPeer

    peer = RawPeer(relay_simulator, ["office"])
    try:
        yield peer
    finally:
        peer.close()
