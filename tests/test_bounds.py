"""Bounds: what the client remembers is limited, and correct up to its limit."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, List

import pytest

from relaysync import RelayClient, RelayTimeoutError
from relaysync.events import RelayEvent
from relaysync.host import DEFAULT_CALL_HISTORY as MAX_HISTORY
from relaysync.rpc import PendingMap, PendingRequest
from relaysync.testing import RelaySimulator
from relaysync.wire.dedupe import DEDUPE_WINDOW, EventDedupe
from relaysync.workers import MAX_SERIAL_TASKS

from .helpers import Recorder, answered_call, make_client

pytestmark = pytest.mark.timeout(60)


def _play_event(call_id: str, event_id: str) -> Dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": event_id,
        "method": "signalwire.event",
        "params": {
            "event_type": "calling.call.play",
            "params": {"call_id": call_id, "control_id": "ctl-none", "state": "playing"},
        },
    }


@pytest.mark.parametrize("backlog", [4_200, 10_000])
def test_redelivered_backlog_is_processed_once(
    client: RelayClient, sim: RelaySimulator, backlog: int
) -> None:
    call = answered_call(client, sim)
    seen = Recorder()
    call.on("calling.call.play", seen)
    frames = [_play_event(call.call_id, f"redeliver-{i}") for i in range(backlog)]
    for frame in frames:
        sim.push_frame(frame)
    seen.wait_for(lambda items: len(items) == backlog, timeout=40)
    states = Recorder()
    client.on_connection_change(states)
    sim.drop_connections()
    states.wait_for(lambda s: s[-2:] == ["reconnecting", "connected"], timeout=20)
    assert client.session_resumed
    for frame in frames:  # what a resume redelivers: every event whose ack was lost
        sim.push_frame(frame)
    sim.push_frame(_play_event(call.call_id, "fresh-after-redelivery"))
    items: List[RelayEvent] = seen.wait_for(
        lambda items: any(e.event_id == "fresh-after-redelivery" for e in items), timeout=40
    )
    assert len(items) == backlog + 1


def test_dedupe_memory_is_bounded_and_degrades_gracefully() -> None:
    window = 1_000
    dedupe = EventDedupe(window)
    ids = [f"e{i}" for i in range(3 * window)]
    assert not any(dedupe.duplicate(i) for i in ids)
    assert len(dedupe) == window
    dedupe.new_socket(resumed=True)
    twice = sum(not dedupe.duplicate(i) for i in ids)  # a redelivery larger than the window
    assert twice == 2 * window  # only what fell out of the window; never all of it
    assert len(dedupe) <= 2 * window
    dedupe.new_socket(resumed=False)  # a fresh session cannot redeliver: all forgotten
    assert len(dedupe) == 0
    assert DEDUPE_WINDOW >= 10_000  # above the simulator's (RELAY-like) 10,000 backlog


def test_redelivery_interrupted_by_a_second_drop_is_still_deduplicated() -> None:
    dedupe = EventDedupe(100)
    ids = [f"e{i}" for i in range(100)]
    for i in ids:
        dedupe.duplicate(i)
    dedupe.new_socket(resumed=True)
    assert all(dedupe.duplicate(i) for i in ids[:50])  # half redelivered, then a drop
    dedupe.new_socket(resumed=True)
    assert all(dedupe.duplicate(i) for i in ids)


# ------------------------------------------------------------------ pending requests


def _wait_requests(sim: RelaySimulator, method: str, count: int) -> None:
    """Block until the simulator has received ``count`` requests of ``method``."""
    seen = [0]

    def counted(entry: Any) -> bool:  # the journal offers each entry once
        frame = entry.frame
        if entry.direction == "in" and isinstance(frame, dict) and frame.get("method") == method:
            seen[0] += 1
        return seen[0] >= count

    sim.journal.wait_for(counted, timeout=20)


def test_fire_and_forget_requests_are_swept(sim: RelaySimulator) -> None:
    client = make_client(sim, request_timeout=5.0)
    client.connect()
    pending = client._connection._pending
    try:
        sim.delay_method("calling.pass", 3600)  # the server never answers in time
        for _ in range(20):  # no on_call handler: each offer is passed, nobody waits
            sim.inbound_call("office")
        _wait_requests(sim, "calling.pass", 20)
        assert len(pending) == 20
        now = time.monotonic()
        pending._clock = lambda: now + 6.0  # later than request_timeout
        sim.inbound_call("office")
        _wait_requests(sim, "calling.pass", 21)
        assert len(pending) == 1  # only the newest is still waiting for its answer
    finally:
        client.close()


def test_pending_map_sweeps_only_expired_fire_and_forget_requests() -> None:
    now = [100.0]
    pending = PendingMap(clock=lambda: now[0])
    waited = PendingRequest("waited", "calling.answer", 1)
    forgotten = PendingRequest("forgotten", "calling.pass", 1)
    pending.add(waited)
    pending.add(forgotten, expires_in=10)
    now[0] = 111.0
    pending.add(PendingRequest("next", "calling.end", 1), expires_in=10)
    assert len(pending) == 2 and pending.pop("forgotten") is None
    with pytest.raises(RelayTimeoutError):
        forgotten.wait(0)
    assert pending.pop("waited") is waited  # a request someone waits for is never swept


# ------------------------------------------------------------------ per-call queues


def test_per_call_callback_queue_is_bounded_and_full_is_reported(
    client: RelayClient, sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="relaysync")
    call = answered_call(client, sim)
    release = threading.Event()
    started = threading.Event()
    ran = Recorder()

    def slow(event: RelayEvent) -> None:
        started.set()
        release.wait(30)
        ran(event)

    call.on("calling.call.play", slow)
    extra = 50
    total = MAX_SERIAL_TASKS + 1 + extra  # one runs, MAX_SERIAL_TASKS wait, the rest drop
    sim.push_frame(_play_event(call.call_id, "first"))
    assert started.wait(10)
    for i in range(total - 1):
        sim.push_frame(_play_event(call.call_id, f"q-{i}"))
    assert client.execute("signalwire.ping", {}, timeout=30) is not None  # all were read
    queue = call.operations._serial
    assert len(queue) == MAX_SERIAL_TASKS
    assert queue.dropped == extra
    full = [r for r in caplog.records if "callback dropped" in r.getMessage()]
    assert len(full) == 1  # rate-limited
    release.set()
    ran.wait_for(lambda items: len(items) == MAX_SERIAL_TASKS + 1, timeout=40)
    assert len(queue) == 0


def test_ended_calls_are_forgotten(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    call.on("calling.call.play", lambda event: None)
    call.hangup()
    call.wait_for_ended(10)
    assert client._registry.sizes() == {"calls": 0, "tags": 0, "dials": 0}
    assert len(call.operations._serial) == 0


# ------------------------------------------------------------------ unknown ids


def test_events_for_unknown_calls_messages_and_control_ids_are_not_kept(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call = answered_call(client, sim)
    n = 3_000
    for i in range(n):
        sim.push_event("calling.call.play", {"call_id": f"nobody-{i}", "control_id": "c"})
        sim.push_event("messaging.state", {"message_id": f"msg-{i}", "message_state": "sent"})
        sim.push_event(
            "calling.call.record",
            {"call_id": call.call_id, "control_id": f"unknown-{i}", "state": "finished"},
        )
    assert client.execute("signalwire.ping", {}, timeout=30) is not None
    assert client._registry.sizes() == {"calls": 1, "tags": 0, "dials": 0}
    assert len(call._history) <= MAX_HISTORY
    assert not call.operations._actions and not call.operations._uncontrolled
    assert len(client._connection._pending) == 0
