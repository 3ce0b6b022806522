"""A busy line at the defaults: hundreds of inbound calls whose handlers all block at once
get a handler each, and close() leaves no thread behind."""

from __future__ import annotations

import threading
from typing import List

import pytest

from relaysync import Call
from relaysync.testing import RelaySimulator
from relaysync.testing.handle import SimCall

from .helpers import make_client, relaysync_threads

CALLS = 320


@pytest.mark.timeout(240)
def test_hundreds_of_blocked_handlers_all_progress_at_the_defaults(sim: RelaySimulator) -> None:
    client = make_client(sim)  # default max_workers
    lock = threading.Lock()
    collecting = threading.Event()
    finished = threading.Event()
    waiting: List[str] = []
    digits: List[str] = []
    failures: List[str] = []

    def handler(call: Call) -> None:
        try:
            call.answer(timeout=60)
            action = call.collect(digits={"max": 1}, initial_timeout=600)
            with lock:
                waiting.append(call.call_id)
                if len(waiting) == CALLS:
                    collecting.set()
            result = action.wait(120)  # every handler blocks here at the same time
            with lock:
                digits.append(result.digits or "")
        except Exception as exc:
            with lock:
                failures.append(repr(exc))
        with lock:
            if len(digits) + len(failures) == CALLS:
                finished.set()

    client.on_call(handler)
    client.connect(timeout=30)
    try:
        handles: List[SimCall] = [
            sim.inbound_call("office", from_=f"+1555{index:07d}", ring_timeout=600)
            for index in range(CALLS)
        ]
        # the callers press only once every handler is blocked in its collect
        assert collecting.wait(120), f"{len(waiting)} of {CALLS} handlers reached the collect"
        assert client._pool.size >= CALLS
        for handle in handles:
            handle.press("7", delay=0)
        assert finished.wait(120), f"{len(digits)} of {CALLS} collects finished"
        assert failures == []
        assert digits == ["7"] * CALLS
    finally:
        client.close(timeout=30)
    assert relaysync_threads() == []
