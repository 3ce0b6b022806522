"""Outbound dial (tag correlation, plans, late answers) and connect against RelaySimulator."""

from __future__ import annotations

import threading
from typing import Any, Dict, List

import pytest

from relaysync import (
    Call,
    CallEndedError,
    ConnectResult,
    DialError,
    RelayClient,
    RelayTimeoutError,
)
from relaysync.devices import phone_device
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_call

pytestmark = pytest.mark.timeout(30)

FROM = "+15550000000"


def phone(to: str) -> Dict[str, Any]:
    return phone_device(to, FROM)


def test_dial_answered_returns_call(client: RelayClient, sim: RelaySimulator) -> None:
    call = client.dial({"type": "phone", "to": "+15551110000", "from": FROM}, tag="my-tag")
    assert call.state == "answered" and call.direction == "outbound"
    assert call.tag == "my-tag" and call.to_number == "+15551110000"
    frame = sim.journal.requests("calling.dial")[-1]["params"]
    assert frame["tag"] == "my-tag"
    assert frame["devices"] == [
        [{"type": "phone", "params": {"to_number": "+15551110000", "from_number": FROM}}]
    ]
    assert call in client.calls
    call.play_tts("hello").wait(5)
    call.hangup()
    call.wait_for_ended(5)
    assert client.calls == []


def test_dial_generates_tag(client: RelayClient, sim: RelaySimulator) -> None:
    call = client.dial_phone("+15551110000", FROM)
    frame = sim.journal.requests("calling.dial")[-1]["params"]
    assert frame["tag"] == call.tag and len(frame["tag"]) == 36
    assert frame["devices"][0][0]["params"]["timeout"] == 30


def test_dial_sip_with_headers(client: RelayClient, sim: RelaySimulator) -> None:
    call = client.dial_sip("sip:alice@example.com", "sip:me@example.com", headers={"X-Case": "42"})
    assert call.state == "answered"
    device = sim.journal.requests("calling.dial")[-1]["params"]["devices"][0][0]
    assert device["type"] == "sip"
    assert device["params"]["headers"] == [{"name": "X-Case", "value": "42"}]


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "decline", "fail"])
def test_dial_failed_raises_dial_error(
    client: RelayClient, sim: RelaySimulator, outcome: str
) -> None:
    sim.on_dial("+15552220000", outcome)
    with pytest.raises(DialError, match="failed"):
        client.dial(phone("+15552220000"))
    assert client._registry.sizes() == {"calls": 0, "tags": 0, "dials": 0}


def test_parallel_winner_losers_end_and_are_forgotten(
    client: RelayClient, sim: RelaySimulator
) -> None:
    sim.on_dial("+15553330001", "answer", delay=50)
    sim.on_dial("+15553330002", "answer", delay=5)
    sim.on_dial("+15553330003", "busy", delay=1)
    call = client.dial([[phone("+15553330001"), phone("+15553330002"), phone("+15553330003")]])
    assert call.to_number == "+15553330002"
    legs = [c for c in sim.calls if c.tag == call.tag]
    assert len(legs) == 3
    loser = next(c for c in legs if c.device["params"]["to_number"] == "+15553330001")
    loser.wait_for_state("ended")
    assert loser.end_reason == "cancel"
    for leg in legs:
        if leg.call_id != call.call_id:
            leg.wait_for_state("ended")
    assert client.execute("signalwire.ping", {})  # every event so far has been routed
    assert [c.call_id for c in client.calls] == [call.call_id]


def test_serial_plan_falls_back_to_next_group(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_dial("+15554440001", "no-answer")
    call = client.dial([phone("+15554440001"), phone("+15554440002")])
    assert call.to_number == "+15554440002"
    frame = sim.journal.requests("calling.dial")[-1]["params"]
    assert len(frame["devices"]) == 2 and all(len(g) == 1 for g in frame["devices"])


def test_concurrent_dials_each_get_their_own_call(client: RelayClient, sim: RelaySimulator) -> None:
    results: List[Call] = []
    lock = threading.Lock()

    def dial(i: int) -> None:
        call = client.dial(phone(f"+1555600{i:04d}"))
        with lock:
            results.append(call)

    threads = [threading.Thread(target=dial, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 20
    assert sorted(c.to_number or "" for c in results) == [f"+1555600{i:04d}" for i in range(20)]
    assert len({c.call_id for c in results}) == 20


def test_dial_timeout_hangs_up_a_late_answer(client: RelayClient, sim: RelaySimulator) -> None:
    # answered 2 s after ringing (at time_scale 0.01): long after the dial gave up, even
    # on a loaded machine
    sim.on_dial("+15557770000", "answer", delay=200)
    with pytest.raises(RelayTimeoutError, match="dial"):
        client.dial(phone("+15557770000"), timeout=0.1)
    end = sim.journal.wait_for_request("calling.end", timeout=20)
    late = sim.get_call(end["params"]["call_id"])
    assert late is not None and late.device["params"]["to_number"] == "+15557770000"
    late.wait_for_state("ended")
    assert client._registry.sizes()["dials"] == 0


def test_dial_rejects_bad_plans_before_sending(client: RelayClient, sim: RelaySimulator) -> None:
    bad_plans: List[Any] = [[], [[]], [{"type": "phone"}], "not a device"]
    for bad in bad_plans:
        with pytest.raises(ValueError):
            client.dial(bad)
    assert sim.journal.requests("calling.dial") == []


def test_dial_tag_in_use(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_dial("+15558880000", "answer", delay=100)
    errors: List[BaseException] = []
    first = threading.Thread(
        target=lambda: _capture(
            errors, lambda: client.dial(phone("+15558880000"), tag="same", timeout=5)
        )
    )
    first.start()
    sim.journal.wait_for_request("calling.dial")
    with pytest.raises(ValueError, match="already in progress"):
        client.dial(phone("+15558880001"), tag="same")
    first.join(10)
    assert errors == []


def _capture(errors: List[BaseException], fn: object) -> None:
    try:
        fn()  # type: ignore[operator]
    except BaseException as exc:
        errors.append(exc)


# ------------------------------------------------------------------ connect


def test_connect_success_gives_peer_call(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    result = call.connect(
        phone("+15559990000"), ringback={"type": "ringtone", "name": "us", "duration": 2}
    )
    assert result.successful and result.state == "connected"
    peer = result.peer
    assert isinstance(peer, Call) and peer.call_id != call.call_id
    assert call.peer is peer and peer.peer is call
    assert peer.to_number == "+15559990000"
    frame = sim.journal.requests("calling.connect")[-1]["params"]
    assert frame["ringback"] == [{"type": "ringtone", "params": {"name": "us", "duration": 2}}]
    assert sim.get_call(call.call_id).peer == peer.call_id  # type: ignore[union-attr]
    call.disconnect()
    peer.wait_for_ended(5)
    assert peer not in client.calls and call in client.calls


def test_connect_failure(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_dial("+15559990001", "busy")
    call = answered_call(client, sim)
    result = call.connect_phone("+15559990001", FROM)
    assert not result.successful and result.state == "failed" and result.peer is None
    assert not call.ended


def test_connect_when_caller_hangs_up(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_dial("+15559990002", "answer", delay=500)
    call = answered_call(client, sim)
    outcome: List[Any] = []
    thread = threading.Thread(
        target=lambda: _capture(
            outcome, lambda: outcome.append(call.connect(phone("+15559990002")))
        )
    )
    thread.start()
    sim.journal.wait_for_request("calling.connect")
    sim.get_call(call.call_id).hangup()  # type: ignore[union-attr]
    thread.join(10)
    # The server reports the bridge attempt as failed before the call ends.
    assert len(outcome) == 1
    result = outcome[0]
    assert isinstance(result, ConnectResult) and result.state == "failed"
    call.wait_for_ended(5)


def test_connect_released_when_call_ends_without_outcome(
    client: RelayClient, sim: RelaySimulator
) -> None:
    sim.on_dial("+15559990003", "answer", delay=500)
    call = answered_call(client, sim)
    errors: List[BaseException] = []
    thread = threading.Thread(
        target=lambda: _capture(errors, lambda: call.connect(phone("+15559990003")))
    )
    thread.start()
    sim.journal.wait_for_request("calling.connect")
    sim.push_event(
        "calling.call.state",
        {
            "call_id": call.call_id,
            "node_id": call.node_id,
            "call_state": "ended",
            "end_reason": "hangup",
        },
    )
    thread.join(10)
    assert len(errors) == 1 and isinstance(errors[0], CallEndedError)


def test_transfer(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    call.transfer("https://example.com/swml")
    assert sim.journal.requests("calling.transfer")[-1]["params"]["dest"] == (
        "https://example.com/swml"
    )
    # No RELAY document says what follows a transfer; the hang-up here is scripted.
    handle = sim.get_call(call.call_id)
    assert handle is not None
    handle.hangup()
    call.wait_for_ended(5)
    with pytest.raises(ValueError):
        call.transfer("")


def test_dial_never_sent_is_forgotten_and_its_tag_reusable(
    client: RelayClient, sim: RelaySimulator
) -> None:
    states = Recorder()
    client.on_connection_change(states)
    sim.fail_method("signalwire.connect", -32603, "Internal error", times=None)
    sim.drop_connections()
    states.wait_for(lambda s: "reconnecting" in s)
    with pytest.raises(RelayTimeoutError, match="waiting for the connection"):
        client.dial(phone("+15551230000"), tag="retry-me", timeout=0.3)
    assert client._registry.sizes()["dials"] == 0
    sim.clear_faults()
    states.wait_for(lambda s: s[-1] == "connected")
    assert client.dial(phone("+15551230000"), tag="retry-me").tag == "retry-me"
