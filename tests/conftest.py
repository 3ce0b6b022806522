"""Fixtures shared by the client tests: a fast simulator, a connected client, a raw
peer and a remote driver of that simulator, and a connected socket pair."""

from __future__ import annotations

import socket
from typing import Iterator, Tuple

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator
from relaysync.testing.peer import RawPeer
from relaysync.testing.remote import RemoteSimulator

from .helpers import make_client


@pytest.fixture
def sim(relay_simulator: RelaySimulator) -> RelaySimulator:
    """The plugin's ``relay_simulator`` (media at 1/100 of real time), by a short name."""
    return relay_simulator


@pytest.fixture
def client(sim: RelaySimulator) -> Iterator[RelayClient]:
    """A client connected to ``sim`` on context "office", closed after the test."""
    c = make_client(sim)
    c.connect()
    yield c
    c.close()


@pytest.fixture
def peer(relay_peer: RawPeer) -> RawPeer:
    """The plugin's raw RELAY peer on the test's ``sim``, by a short name."""
    return relay_peer


@pytest.fixture
def remote(sim: RelaySimulator) -> Iterator[RemoteSimulator]:
    """A RemoteSimulator driving ``sim`` over its control API, closed after the test."""
    with RemoteSimulator(sim.url, sim.project, sim.control_token) as driver:
        yield driver


@pytest.fixture
def pair() -> Iterator[Tuple[socket.socket, socket.socket]]:
    """A connected socket pair (the client's end, the server's end), each end with a
    10 s timeout so that a test whose peer went quiet fails instead of hanging."""
    client_end, server_end = socket.socketpair()
    client_end.settimeout(10.0)
    server_end.settimeout(10.0)
    yield client_end, server_end
    client_end.close()
    server_end.close()
