"""Blocking call methods wake their caller once per thing they wait for: the answer,
then the outcome; events that change nothing a wait looks at do not wake it. Failures
still wake the caller at once."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest

from relaysync import Call, CallEndedError, RelayClient, RelayError, RelayTimeoutError
from relaysync.rpc import PendingRequest
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_call

TARGET = "sip:agent@example.com"


def count_wakeups(call: Call) -> List[int]:
    """Count every return from a wait on the call's Condition (one per wake-up)."""
    cond: Any = call._cond
    real: Callable[[Optional[float]], bool] = cond.wait
    woken = [0]

    def wait(timeout: Optional[float] = None) -> bool:
        try:
            return real(timeout)
        finally:
            woken[0] += 1

    cond.wait = wait
    return woken


@pytest.fixture
def offered(client: RelayClient, sim: RelaySimulator) -> Iterator[Call]:
    """An inbound call, not answered: the test thread answers it."""
    calls = Recorder()
    client.on_call(calls)
    sim.inbound_call("office", from_="+15550001111", to="+15550002222")
    call: Call = calls.wait_for(lambda items: len(items) == 1)[0]
    yield call


def test_refer_waits_for_its_answer_then_is_woken_once_by_its_outcome(
    client: RelayClient, sim: RelaySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # inProgress comes right after the answer, the outcome 0.5 s later (media at 1/100)
    sim.on_refer(TARGET, delay=50.0)
    call = answered_call(client, sim)
    answer_waits: List[str] = []
    real_wait = PendingRequest.wait

    def wait(self: PendingRequest, timeout: Optional[float], what: str = "") -> Any:
        if self.method == "calling.refer":
            answer_waits.append(self.method)
        return real_wait(self, timeout, what)

    monkeypatch.setattr(PendingRequest, "wait", wait)
    woken = count_wakeups(call)
    result = call.refer(TARGET, timeout=30.0)
    assert result.state == "success"
    assert answer_waits == ["calling.refer"]  # one wait for the answer, on its own
    # the inProgress state arrives meanwhile and does not wake the outcome wait
    assert woken[0] <= 1, f"refer's outcome wait was woken {woken[0]} times"


def test_a_state_wait_is_not_woken_by_events_that_change_no_state(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call = answered_call(client, sim)
    seen: List[Any] = []
    arrived = threading.Condition()

    def listener(event: Any) -> None:
        with arrived:
            seen.append(event)
            arrived.notify_all()

    call.on("calling.call.play", listener)
    woken = count_wakeups(call)
    outcome: List[Tuple[str, Any]] = []
    waiter = threading.Thread(
        target=lambda: outcome.append(("ended", call.wait_for_ended(timeout=30.0)))
    )
    waiter.start()
    for index in range(20):
        sim.push_event(
            "calling.call.play",
            {
                "call_id": call.call_id,
                "node_id": call.node_id,
                "control_id": f"other-{index}",
                "state": "playing",
            },
        )
    with arrived:
        assert arrived.wait_for(lambda: len(seen) == 20, 30.0)
    assert woken[0] == 0
    call.hangup()
    waiter.join(30.0)
    assert outcome and outcome[0][1].call_state == "ended"
    assert woken[0] <= 2, f"woken {woken[0]} times (ending and ended change the state)"


def test_events_iterators_still_see_every_event(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    iterated: List[str] = []

    def iterate() -> None:
        for event in call.events(timeout=30.0):
            iterated.append(event.event_type)

    reader = threading.Thread(target=iterate)
    reader.start()
    for index in range(5):
        sim.push_event(
            "calling.call.play",
            {"call_id": call.call_id, "node_id": call.node_id, "control_id": f"p{index}"},
        )
    call.hangup()
    reader.join(30.0)
    assert not reader.is_alive()
    assert iterated.count("calling.call.play") == 5
    assert iterated[-1] == "calling.call.state"


def test_an_answer_refused_as_gone_wakes_the_caller_with_call_ended(
    offered: Call, sim: RelaySimulator
) -> None:
    sim.fail_method("calling.answer", 404, "Call not found")
    with pytest.raises(CallEndedError, match="is gone"):
        offered.answer(timeout=30.0)
    assert offered.ended


def test_an_answer_that_never_comes_is_a_request_timeout(
    offered: Call, sim: RelaySimulator
) -> None:
    sim.delay_method("calling.answer", 3600, times=1)
    with pytest.raises(RelayTimeoutError, match=r"request calling\.answer"):
        offered.answer(timeout=1.0)


def test_a_refused_refer_raises_at_once_and_the_next_one_runs(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call = answered_call(client, sim)
    sim.fail_method("calling.refer", 500, "Internal error")
    with pytest.raises(RelayError, match="Internal error") as caught:
        call.refer(TARGET, timeout=30.0)
    assert not isinstance(caught.value, RelayTimeoutError)
    assert call.refer(TARGET, timeout=30.0).state == "success"
