"""Helpers for driving SignalWire's asyncio RELAY SDK (``signalwire.relay``) against
RelaySimulator.

Import this module only after ``pytest.importorskip("signalwire")``: it needs the SDK.
Each scenario runs in a fresh event loop (``asyncio.run``) with one SDK client that is
always disconnected before the loop closes.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable, Iterator, List, Sequence, Tuple, TypeVar

import pytest

from relaysync.testing import RelaySimulator, SimCall

T = TypeVar("T")

#: Seconds any single wait on the SDK side may take before the test fails.
SDK_TIMEOUT = 5.0
#: Seconds a whole scenario may take inside its event loop.
SCENARIO_TIMEOUT = 20.0
#: Ring timeout (unscaled seconds) for inbound calls: long enough never to fire in a test.
RING_TIMEOUT = 500.0

#: Environment variables the SDK reads that must not leak in from the caller's shell.
SDK_ENV = (
    "SIGNALWIRE_PROJECT_ID",
    "SIGNALWIRE_API_TOKEN",
    "SIGNALWIRE_JWT_TOKEN",
    "SIGNALWIRE_SPACE",
    "SIGNALWIRE_RELAY_CA_FILE",
    "RELAY_MAX_ACTIVE_CALLS",
)


def point_sdk_at(
    sim: RelaySimulator, monkeypatch: pytest.MonkeyPatch, *, trust_ca: bool = True
) -> None:
    """Configure the SDK, through its environment variables, to reach ``sim``.

    The SDK always builds ``wss://<SIGNALWIRE_SPACE>`` and trusts the CA bundle named
    by ``SIGNALWIRE_RELAY_CA_FILE`` (else the system store).

    Args:
        sim: a started simulator with ``tls=True``.
        monkeypatch: the test's monkeypatch, which restores the environment afterwards.
        trust_ca: point ``SIGNALWIRE_RELAY_CA_FILE`` at the simulator's CA.
    """
    for name in SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNALWIRE_SPACE", f"{sim.host}:{sim.port}")
    if trust_ca:
        assert sim.ca_file is not None, "the simulator must run with tls=True"
        monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", sim.ca_file)


@pytest.fixture(name="sim")
def sdk_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[RelaySimulator]:
    """A TLS simulator the SDK is configured to reach; checks for leftovers afterwards
    (import it into a test module to use it as ``sim``)."""
    from signalwire.relay import client as sdk_client

    threads_before = set(threading.enumerate())
    with RelaySimulator(tls=True, time_scale=0.01) as simulator:
        point_sdk_at(simulator, monkeypatch)
        yield simulator
    # The SDK's one-connection-per-process slot must be free for the next test.
    assert not sdk_client._active_clients, "an SDK RelayClient was left connected"
    leftover = [t.name for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert not leftover, f"threads left running: {leftover}"


def run_sdk(
    sim: RelaySimulator,
    scenario: Callable[[Any], Awaitable[T]],
    *,
    contexts: Sequence[str] = ("office",),
) -> T:
    """Connect an SDK ``RelayClient`` to ``sim`` in a fresh event loop and run ``scenario``.

    The client is disconnected (which also frees the SDK's one-per-process connection
    slot) whatever happens; ``asyncio.run`` then cancels leftover tasks and joins the
    default executor's threads.

    Args:
        sim: the simulator (already configured with :func:`point_sdk_at`).
        scenario: ``async (client) -> value``, run after ``connect()`` succeeded.
        contexts: contexts the client subscribes to in ``signalwire.connect``.

    Returns:
        What ``scenario`` returned.
    """
    from signalwire.relay import RelayClient

    async def main() -> T:
        client = RelayClient(project=sim.project, token=sim.token, contexts=list(contexts))
        try:
            await asyncio.wait_for(client.connect(), SDK_TIMEOUT)
            return await asyncio.wait_for(scenario(client), SCENARIO_TIMEOUT)
        finally:
            await client.disconnect()

    return asyncio.run(main())


async def answer_inbound(
    client: Any, sim: RelaySimulator, context: str = "office"
) -> Tuple[Any, SimCall]:
    """Place an inbound call on ``context``; the SDK's ``on_call`` handler answers it.

    Args:
        client: the connected SDK client.
        sim: the simulator.
        context: the context the call arrives on.

    Returns:
        ``(sdk_call, sim_call)`` once the SDK's call has reached ``answered``.
    """
    offered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def on_call(call: Any) -> None:
        # The SDK only logs exceptions raised by on_call; hand them to the test instead.
        try:
            await call.answer()
        except Exception as exc:
            if not offered.done():
                offered.set_exception(exc)
        else:
            if not offered.done():
                offered.set_result(call)

    client.on_call(on_call)
    sim_call = await asyncio.to_thread(sim.inbound_call, context, ring_timeout=RING_TIMEOUT)
    call = await asyncio.wait_for(offered, SDK_TIMEOUT)
    await call.wait_for_answered(timeout=SDK_TIMEOUT)
    return call, sim_call


class EventLog:
    """An SDK event listener that keeps what it saw and can be awaited.

    Register it with ``call.on(event_type, log)`` *before* the command that causes the
    events: a listener added afterwards can miss events the SDK already dispatched.
    """

    def __init__(self) -> None:
        self.items: List[Any] = []
        self._waiters: List[Tuple[Callable[[List[Any]], bool], asyncio.Future[None]]] = []

    def __call__(self, event: Any) -> None:
        """Record ``event`` (runs on the SDK's loop) and wake satisfied waiters."""
        self.items.append(event)
        for predicate, future in self._waiters:
            if not future.done() and predicate(self.items):
                future.set_result(None)

    def field(self, name: str) -> List[Any]:
        """The attribute ``name`` of every recorded event, in order."""
        return [getattr(event, name) for event in self.items]

    async def wait_for(
        self, predicate: Callable[[List[Any]], bool], timeout: float = SDK_TIMEOUT
    ) -> List[Any]:
        """Wait until ``predicate(items)`` holds; return a copy of the items.

        Raises:
            AssertionError: not within ``timeout`` seconds (the message lists the events).
        """
        if predicate(self.items):
            return list(self.items)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"condition not met within {timeout:g} s; events: "
                f"{[e.params for e in self.items]!r}"
            ) from None
        finally:
            self._waiters.remove(waiter)
        return list(self.items)

    async def wait_for_field(self, name: str, value: Any, timeout: float = SDK_TIMEOUT) -> Any:
        """Wait for an event whose attribute ``name`` equals ``value``; return it."""
        await self.wait_for(lambda items: value in [getattr(e, name) for e in items], timeout)
        return next(e for e in self.items if getattr(e, name) == value)
