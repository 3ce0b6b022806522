"""pytest plugin (entry point ``relaysync``): ``relay_simulator``, ``relay_client``,
``relay_peer`` and ``relay_replay`` fixtures, and the ``relay_cassette`` marker.

A test marked ``@pytest.mark.relay_cassette("cassettes/flow.jsonl")`` that uses the
``relay_replay`` fixture gets a ``RelaySimulator`` playing that cassette (a relative
path is taken from the test file's directory; ``time_scale=`` in the marker scales the
recorded gaps, 0.01 by default); when the test body has run, any divergence from the
cassette fails the test with the report.

Strict mode: the simulator accepts params no RELAY document names (as RELAY does) and
lists them in ``sim.lint``. To refuse them instead (``-32602`` naming the param), mark a
test (or a module, with ``pytestmark``) ``@pytest.mark.relay_strict``, run pytest with
``--relay-strict``, or set ``relay_strict = true`` in the ini file; the
``relay_simulator`` fixture is then ``RelaySimulator(strict=True)``.

It is loaded in every pytest run where relaysync is installed, so it imports nothing
heavy at module level: the simulator and the client are imported inside the fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterator

import pytest

if TYPE_CHECKING:
    from relaysync import RelayClient
    from relaysync.testing import RelaySimulator
    from relaysync.testing.peer import RawPeer


STRICT_MARKER = "relay_strict"
CASSETTE_MARKER = "relay_cassette"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--relay-strict`` and the ``relay_strict`` ini option."""
    help_text = "relay_simulator refuses params no RELAY document names (-32602)"
    parser.addoption("--relay-strict", action="store_true", default=False, help=help_text)
    parser.addini("relay_strict", help_text, type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``relay_strict`` and ``relay_cassette`` markers."""
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}: the relay_simulator fixture refuses params no RELAY document "
        "names (RelaySimulator(strict=True))",
    )
    config.addinivalue_line(
        "markers",
        f"{CASSETTE_MARKER}(path, time_scale=0.01): the cassette the relay_replay fixture "
        "replays; a divergence from it fails the test",
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


@pytest.fixture
def relay_replay(request: pytest.FixtureRequest) -> Iterator[RelaySimulator]:
    """A started ``RelaySimulator`` replaying the cassette of the test's
    ``@pytest.mark.relay_cassette(path)`` marker, stopped after the test.

    The test fails when its run diverged from the cassette (see
    :meth:`RelaySimulator.replay_report`).
    """
    from relaysync.testing import RelaySimulator

    marker = request.node.get_closest_marker(CASSETTE_MARKER)
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f"relay_replay needs the cassette: @pytest.mark.{CASSETTE_MARKER}(path)"
        )
    path = Path(marker.args[0])
    if not path.is_absolute():
        path = Path(request.node.path).parent / path
    time_scale = marker.kwargs.get("time_scale", 0.01)
    with RelaySimulator(replay=path, time_scale=time_scale) as sim:
        yield sim


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Turn a passed test that used ``relay_replay`` into a failure when its run
    diverged from the cassette (the report is the failure's text)."""
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.passed:
        return
    funcargs = getattr(item, "funcargs", {})
    sim = funcargs.get("relay_replay") if isinstance(funcargs, dict) else None
    if sim is None:
        return
    from relaysync.testing.replay_match import describe

    divergences = sim.replay_report()
    if divergences:
        report.outcome = "failed"
        report.longrepr = describe(divergences)
