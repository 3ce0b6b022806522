"""Memory: what a call keeps, and that an ended call is freed at once."""

from __future__ import annotations

import gc
import itertools
import json
import logging
import queue
import threading
import time
import weakref
from typing import Any, Callable

import pytest

from relaysync import Call, RelayClient
from relaysync.events import PlayEvent, parse_event
from relaysync.testing import RelaySimulator
from relaysync.workers import WorkerPool

from .helpers import Recorder, make_client

pytestmark = pytest.mark.timeout(60)


def _gone_soon(ref: Callable[[], Any], seconds: float = 10.0) -> bool:
    """Whether ``ref()`` dies within ``seconds`` (threads let go of it as they finish)."""
    deadline = time.monotonic() + seconds
    nap = threading.Event()
    while ref() is not None:
        if time.monotonic() > deadline:
            return False
        nap.wait(0.01)
    return True


def _answer_into(calls: queue.Queue[Call]) -> Callable[[Call], None]:
    def handler(call: Call) -> None:
        call.answer(timeout=10)
        calls.put(call)

    return handler


def test_a_call_keeps_its_latest_events_and_a_late_iterator_says_what_it_missed(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    calls: queue.Queue[Call] = queue.Queue()
    with make_client(sim, call_history=5) as client:
        client.on_call(_answer_into(calls))
        sim.inbound_call("office", from_="+15550001111", to="+15550002222")
        call = calls.get(timeout=10)
        plays = Recorder()
        call.on("calling.call.play", plays)
        for n in range(12):
            sim.push_event(
                "calling.call.play",
                {"call_id": call.call_id, "control_id": "ctl-x", "state": "playing", "n": n},
            )
        plays.wait_for(lambda items: len(items) == 12, timeout=10)
        assert len(call._history) == 5
        with caplog.at_level(logging.WARNING, logger="relaysync"):
            late = list(itertools.islice(call.events(timeout=5), 5))
        assert [event.params["n"] for event in late] == [7, 8, 9, 10, 11]
        assert all(isinstance(event, PlayEvent) for event in late)
        warnings = [r.getMessage() for r in caplog.records if "missed" in r.getMessage()]
        assert len(warnings) == 1 and call.call_id in warnings[0]
        assert "call_history" in warnings[0]


def test_call_history_is_checked() -> None:
    with pytest.raises(ValueError, match="call_history must be at least 1"):
        RelayClient("p", "t", url="ws://127.0.0.1:1", call_history=0)
    with pytest.raises(TypeError, match="call_history must be an int"):
        RelayClient("p", "t", url="ws://127.0.0.1:1", call_history="10")  # type: ignore[arg-type]


def test_an_ended_call_is_freed_without_the_garbage_collector(sim: RelaySimulator) -> None:
    calls: queue.Queue[Call] = queue.Queue()
    with make_client(sim) as client:
        client.on_call(_answer_into(calls))
        gc.disable()  # only reference counting may free the call
        try:
            sim.inbound_call("office", from_="+15550001111", to="+15550002222")
            call = calls.get(timeout=10)
            call.play_silence(0.1).wait(timeout=10)
            call.on("calling.call.state", lambda event: None)
            call.hangup(timeout=10)
            call.wait_for_ended(timeout=10)
            assert client.calls == []
            ref = weakref.ref(call)
            del call
            assert _gone_soon(ref), gc.get_referrers(ref())
        finally:
            gc.enable()


def test_an_idle_worker_lets_go_of_its_last_task() -> None:
    class Task:
        def __call__(self) -> None:
            ran.set()

    ran = threading.Event()
    pool = WorkerPool(1)
    try:
        task = Task()
        ref = weakref.ref(task)
        pool.submit(task)
        del task
        assert ran.wait(10)
        assert _gone_soon(ref)
    finally:
        assert pool.shutdown(5)


def test_events_of_one_call_share_their_keys_and_ids() -> None:
    text = json.dumps(
        {
            "event_type": "calling.call.play",
            "params": {"call_id": "c-1", "node_id": "n-1", "control_id": "x-1", "state": "p"},
        }
    )
    first, second = (parse_event(json.loads(text), f"e{n}") for n in range(2))
    for key in ("call_id", "node_id", "control_id"):
        assert first.params[key] is second.params[key]
    assert [id(k) for k in first.params] == [id(k) for k in second.params]
    assert first.event_type is second.event_type
    assert first.params == {"call_id": "c-1", "node_id": "n-1", "control_id": "x-1", "state": "p"}


def test_the_flow_recorder_keeps_wire_text(client: RelayClient, sim: RelaySimulator) -> None:
    calls: queue.Queue[Call] = queue.Queue()
    client.on_call(_answer_into(calls))
    sim.inbound_call("office", from_="+15550001111", to="+15550002222")
    call = calls.get(timeout=10)
    entries = client._connection.flows.entries(call.call_id)
    assert entries and all(isinstance(e.raw, (bytes, str)) for e in entries)
    methods = [e.frame.get("method") for e in entries]
    assert "calling.answer" in methods and "signalwire.event" in methods
    assert "calling.answer" in str(call.timeline())
