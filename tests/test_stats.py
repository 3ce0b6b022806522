"""client.stats(): counters kept by the reader, the pool and the registry."""

from __future__ import annotations

import threading

import attrs
import pytest

from relaysync import ClientStats, RelayClient
from relaysync.stats import LatencyRing, ReconnectCounter
from relaysync.testing import RelaySimulator

from .helpers import Recorder, make_client


def _settle(client: RelayClient) -> None:
    """Return once the reader has handled every frame the server sent before now: the
    answer to a ping comes after them on the same socket."""
    client.execute("signalwire.ping", {}, timeout=30)


def test_stats_of_a_fresh_connected_client(client: RelayClient) -> None:
    stats = client.stats()
    assert isinstance(stats, ClientStats)
    assert stats.state == "connected"
    assert stats.session_resumed is True
    assert stats.reconnects == 0
    assert stats.calls_active == 0
    assert stats.requests_in_flight == 0
    assert stats.callbacks_dropped == 0
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stats.reconnects = 3  # type: ignore[misc]


def test_stats_count_calls_handlers_events_and_latency(
    sim: RelaySimulator, client: RelayClient
) -> None:
    answered = threading.Event()
    release = threading.Event()
    ended = threading.Event()

    @client.on_call
    def handle(call) -> None:  # type: ignore[no-untyped-def]
        call.answer()
        answered.set()
        release.wait(30)
        call.hangup()
        call.wait_for_ended(30)
        ended.set()

    sim.inbound_call(context="office", from_="+15550001111", to="+15550002222")
    assert answered.wait(30)
    busy = client.stats()
    assert busy.calls_active == 1
    assert busy.handlers_running == 1
    assert busy.handlers_queued == 0
    assert busy.events_received >= 2  # the offer and the answered state
    assert busy.rpc_p50_ms is not None and busy.rpc_p99_ms is not None
    assert 0 < busy.rpc_p50_ms <= busy.rpc_p99_ms
    release.set()
    assert ended.wait(30)
    _settle(client)
    after = client.stats()
    assert after.calls_active == 0
    assert after.events_received > busy.events_received
    assert after.requests_in_flight == 0


def test_stats_count_reconnects_and_redeliveries(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    try:
        events = Recorder()
        client.on_event(events)
        states = Recorder()
        client.on_connection_change(states)
        sim.inbound_call(context="office", from_="+15550001111", to="+15550002222")
        events.wait_for(lambda items: len(items) >= 1, timeout=30)
        received = client.stats().events_received
        assert sim.redeliver_events(count=5) >= 1
        _settle(client)
        stats = client.stats()
        assert stats.events_deduplicated >= 1
        assert stats.events_received > received
        sim.drop_connections()
        states.wait_for(lambda items: items[-2:] == ["reconnecting", "connected"], timeout=30)
        stats = client.stats()
        assert stats.reconnects == 1
        assert stats.session_resumed is True
    finally:
        client.close()
    assert client.stats().state == "closed"


def test_latency_ring_keeps_the_latest_window() -> None:
    ring = LatencyRing(size=10)
    assert ring.percentiles_ms(0.5) == (None,)
    for ms in range(1, 101):  # 1..100 ms; only 91..100 are kept
        ring.add(ms / 1000)
    p50, p99, p100 = ring.percentiles_ms(0.5, 0.99, 1.0)
    assert (p50, p99, p100) == (95.0, 100.0, 100.0)


def test_reconnect_counter_ignores_the_first_session() -> None:
    counter = ReconnectCounter()
    steps = ["connecting", "connected", "reconnecting", "connected", "reconnecting"]
    assert [counter.state_changed(s) for s in steps] == [False, False, False, True, False]
    assert counter.reconnects == 1
