"""A reconnect that starts a fresh session settles the old session's calls and messages."""

from __future__ import annotations

import threading
from typing import Callable, List

import pytest

from relaysync import CallEndedError, RelayClient, RelayConnectionError
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_call

TO = "+15550002222"
FROM = "+15550001111"
TARGET = "sip:support@example.com"


def in_thread(work: Callable[[], object], outcomes: Recorder) -> threading.Thread:
    """Run ``work`` in a thread, recording what it returned or raised."""

    def run() -> None:
        try:
            outcomes(work())
        except Exception as exc:  # recorded for the test to check
            outcomes(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def reconnected(client: RelayClient, drop: Callable[[], object]) -> None:
    """Run ``drop`` and wait until the client is connected again."""
    states = Recorder()
    client.on_connection_change(states)
    drop()
    states.wait_for(lambda s: s[-2:] == ["reconnecting", "connected"])


def test_fresh_session_settles_the_old_calls_and_messages(
    client: RelayClient, sim: RelaySimulator
) -> None:
    sim.on_refer(TARGET, delay=100_000)  # 1000 s at time_scale 0.01: never in this test
    sim.on_message_to(TO, "delivered", delay=100_000)
    call = answered_call(client, sim)
    action = call.refer(TARGET, wait=False)
    sim.journal.wait_for_event("calling.call.refer")
    message = client.send_message(TO, FROM, body="Hello")
    outcomes = Recorder()
    threads = [
        in_thread(lambda: call.wait_for_ended(60), outcomes),
        in_thread(lambda: action.wait(60), outcomes),
        in_thread(lambda: message.wait(60), outcomes),
    ]
    reconnected(client, lambda: sim.send_disconnect(restart=True))
    assert not client.session_resumed
    for thread in threads:
        thread.join(20)  # well within the waits' 60 s
    got: List[object] = outcomes.wait_for(lambda items: len(items) == 3)
    kinds = sorted(type(item).__name__ for item in got)
    assert kinds == ["CallEndedError", "CallEndedError", "RelayConnectionError"]
    for item in got:
        assert "session was lost" in str(item)
    assert client.calls == []
    with pytest.raises(CallEndedError):
        call.wait_for_ended(1)
    with pytest.raises(RelayConnectionError):
        message.wait(1)


def test_resumed_session_keeps_the_waits(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_refer(TARGET, delay=100)  # 1 s at time_scale 0.01
    sim.on_message_to(TO, "delivered", delay=100)
    call = answered_call(client, sim)
    message = client.send_message(TO, FROM, body="Hello")
    outcomes = Recorder()
    threads = [
        in_thread(lambda: call.refer(TARGET, timeout=30), outcomes),
        in_thread(lambda: message.wait(30), outcomes),
        in_thread(lambda: call.wait_for_ended(30), outcomes),  # a completed refer ends it
    ]
    sim.journal.wait_for_event("calling.call.refer")
    reconnected(client, sim.drop_connections)
    assert client.session_resumed
    for thread in threads:
        thread.join(30)
    got = outcomes.wait_for(lambda items: len(items) == 3)
    assert not any(isinstance(item, Exception) for item in got), got
    assert message.state == "delivered" and call.state == "ended"
