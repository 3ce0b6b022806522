"""Fixtures shared by the client tests: a fast simulator and a connected client."""

from __future__ import annotations

from typing import Iterator

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator

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
