"""Fixtures shared by the client tests: a fast simulator and a connected client."""

from __future__ import annotations

from typing import Iterator

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator

from .helpers import make_client


@pytest.fixture
def sim() -> Iterator[RelaySimulator]:
    """A simulator whose media runs at 1/100 of real time."""
    with RelaySimulator(time_scale=0.01) as simulator:
        yield simulator


@pytest.fixture
def client(sim: RelaySimulator) -> Iterator[RelayClient]:
    """A client connected to ``sim`` on context "office", closed after the test."""
    c = make_client(sim)
    c.connect()
    yield c
    c.close()
