"""The simulator's redelivery fault: events sent again with their ids reach user code once."""

from __future__ import annotations

import functools
import time
from collections import Counter

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator
from relaysync.testing.journal import JournalEntry

from ..helpers import Recorder, answered_call


def _is_ack(entry: JournalEntry, event_id: str, since: float) -> bool:
    frame = entry.frame
    return (
        entry.direction == "in"
        and entry.time >= since
        and isinstance(frame, dict)
        and frame.get("id") == event_id
        and "result" in frame
    )


def test_redelivered_events_are_sent_again_and_handled_once(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call = answered_call(client, sim)
    seen = Recorder()
    call.on("*", seen)
    call.play_silence(1.0).wait(10.0)
    seen.wait_for(lambda items: any(e.params.get("state") == "finished" for e in items), 10.0)
    sent_before = Counter(frame["id"] for frame in sim.journal.events())
    since = time.time()

    assert sim.redeliver_events(3) == 3

    sent_after = Counter(frame["id"] for frame in sim.journal.events())
    again = [event_id for event_id, n in sent_after.items() if n > sent_before[event_id]]
    assert len(again) == 3
    for event_id in again:  # the client read each copy: it acked it again
        sim.journal.wait_for(functools.partial(_is_ack, event_id=event_id, since=since), 10.0)
    call.hangup()
    call.wait_for_ended(10.0)
    events = seen.wait_for(lambda items: items[-1].params.get("call_state") == "ended", 10.0)
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids))
    history = [e.event_id for e in call.events(timeout=0.01)]
    assert len(history) == len(set(history))
    assert set(again) <= set(history)


def test_redeliver_count_must_be_positive(sim: RelaySimulator) -> None:
    with pytest.raises(ValueError, match="count"):
        sim.redeliver_events(0)
