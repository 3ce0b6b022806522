"""pytest plugin (entry point ``relaysync``): ``relay_simulator``, ``relay_client`` and
``relay_peer`` fixtures.

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


@pytest.fixture
def relay_simulator() -> Iterator[RelaySimulator]:
    """A started ``RelaySimulator(time_scale=0.01)``, stopped after the test."""
    from relaysync.testing import RelaySimulator

    with RelaySimulator(time_scale=0.01) as sim:
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
