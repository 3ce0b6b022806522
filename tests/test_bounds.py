"""Bounds: what the client remembers is limited, and correct up to its limit."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from relaysync import RelayClient
from relaysync.dedupe import DEDUPE_WINDOW, EventDedupe
from relaysync.events import RelayEvent
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_call

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
