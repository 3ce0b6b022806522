"""Inbound calls, call state, events, play and SIP REFER against RelaySimulator."""

from __future__ import annotations

import logging
import threading
from typing import Any, List

import pytest

from relaysync import (
    Call,
    CallEndedError,
    PlayAction,
    ReferAction,
    RelayClient,
    RelayError,
    RelayTimeoutError,
)
from relaysync.events import CallStateEvent, PlayEvent, ReferEvent
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_call, make_client, relaysync_threads

pytestmark = pytest.mark.timeout(30)


def refer_frames(sim: RelaySimulator) -> List[dict[str, Any]]:
    return sim.journal.requests("calling.refer")


# ------------------------------------------------------------------ inbound


def test_inbound_call_handler_runs_on_a_worker(client: RelayClient, sim: RelaySimulator) -> None:
    seen = Recorder()

    def handler(call: Call) -> None:
        seen((threading.current_thread().name, call))
        call.answer()

    client.on_call(handler)
    handle = sim.inbound_call("office", from_="+15550001111", to="+15550002222")
    thread_name, call = seen.wait_for(lambda items: len(items) == 1)[0]
    assert thread_name.startswith("relaysync-worker")
    assert call.call_id == handle.call_id and call.direction == "inbound"
    assert (call.from_number, call.to_number, call.context) == (
        "+15550001111",
        "+15550002222",
        "office",
    )
    handle.wait_for_state("answered")
    assert call.wait_for_answered(5).call_state == "answered"
    assert call in client.calls
    handle.hangup()
    event = call.wait_for_ended(5)
    assert event.end_reason == "hangup" and call.end_reason == "hangup"
    assert call not in client.calls


def test_hangup_and_methods_on_a_gone_call(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    call.hangup(reason="busy")
    call.wait_for_ended(5)
    assert sim.journal.requests("calling.end")[-1]["params"]["reason"] == "busy"
    call.hangup()  # idempotent on an ended call
    assert len(sim.journal.requests("calling.end")) == 1
    with pytest.raises(CallEndedError):
        call.play_tts("hello")
    with pytest.raises(CallEndedError):
        call.refer("sip:support@example.com")


def test_server_404_marks_call_gone(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    sim.fail_method("calling.play", 404, "Call not found", as_result=True)
    with pytest.raises(CallEndedError) as info:
        call.play_tts("hello")
    assert info.value.code == 404
    assert call.ended and call not in client.calls
    assert call.wait_for_ended(1) is not None


def test_wait_for_rejects_unknown_state_and_ended_before_answer(
    client: RelayClient, sim: RelaySimulator
) -> None:
    calls = Recorder()
    client.on_call(calls)
    handle = sim.inbound_call("office")
    call: Call = calls.wait_for(lambda c: len(c) == 1)[0]
    with pytest.raises(ValueError, match="unknown call state"):
        call.wait_for("talking")
    with pytest.raises(RelayTimeoutError):
        call.wait_for_answered(0.05)
    handle.hangup()
    with pytest.raises(CallEndedError, match="before it was answered"):
        call.wait_for_answered(5)
    assert call.wait_for("ringing", 1).call_state == "ringing"


def test_handler_call_ended_error_logged_at_info(
    client: RelayClient, sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="relaysync")
    done = threading.Event()

    def handler(call: Call) -> None:
        try:
            call.hangup()
            call.wait_for_ended(5)
            call.answer()
        finally:
            done.set()

    client.on_call(handler)
    sim.inbound_call("office")
    assert done.wait(5)
    client.close()
    records = [r for r in caplog.records if "on_call handler" in r.getMessage()]
    assert records and all(r.levelno == logging.INFO for r in records)


def test_busy_policy_pass_hands_call_to_another_consumer(sim: RelaySimulator) -> None:
    release = threading.Event()
    busy = make_client(sim, max_workers=1, busy_policy="pass")
    other = make_client(sim)
    taken = Recorder()

    def hold(call: Call) -> None:
        taken(("busy", call.call_id))
        release.wait(10)

    busy.on_call(hold)
    other.on_call(lambda call: taken(("other", call.call_id)))
    busy.connect()
    other.connect()
    try:
        sim.wait_for_sessions(2)
        first = sim.inbound_call("office")
        second = sim.inbound_call("office")
        third = sim.inbound_call("office")
        got = taken.wait_for(lambda items: len(items) == 3)
        owners = {call_id: who for who, call_id in got}
        assert sorted(owners) == sorted([first.call_id, second.call_id, third.call_id])
        assert list(owners.values()).count("busy") == 1
        passed = {f["params"]["call_id"] for f in sim.journal.requests("calling.pass")}
        assert passed and not passed & {c.call_id for c in busy.calls}
    finally:
        release.set()
        busy.close()
        other.close()


def test_pass_stops_tracking_the_call(client: RelayClient, sim: RelaySimulator) -> None:
    other = make_client(sim)
    taken = Recorder()
    other.on_call(taken)
    other.connect()
    passed = Recorder()

    def handler(call: Call) -> None:
        call.pass_()
        passed(call)

    client.on_call(handler)
    try:
        sim.wait_for_sessions(2)
        sim.inbound_call("office")
        call: Call = passed.wait_for(lambda items: len(items) == 1)[0]
        assert call not in client.calls
        with pytest.raises(CallEndedError, match="passed"):
            call.wait_for_ended(1)
        assert taken.wait_for(lambda items: len(items) == 1)[0].call_id == call.call_id
    finally:
        other.close()


def test_invalid_busy_policy() -> None:
    with pytest.raises(ValueError, match="busy_policy"):
        RelayClient("p", "t", url="ws://127.0.0.1:1", busy_policy="drop")


# ------------------------------------------------------------------ events


def test_events_iterator_in_order_and_ends_with_call(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call = answered_call(client, sim)
    call.play_tts("one two three").wait(5)
    sim.get_call(call.call_id).hangup()  # type: ignore[union-attr]
    kinds = [
        (e.event_type, getattr(e, "call_state", None) or getattr(e, "state", None))
        for e in call.events(timeout=5)
    ]
    assert kinds[0] == ("calling.call.receive", "created")
    states = [s for t, s in kinds if t == "calling.call.state"]
    assert states == ["ringing", "answered", "ending", "ended"]
    plays = [s for t, s in kinds if t == "calling.call.play"]
    assert plays == ["playing", "finished"]
    assert kinds[-1] == ("calling.call.state", "ended")


def test_listeners_run_in_order_off_the_reader(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    seen = Recorder()
    unsubscribe = call.on(
        "calling.call.play",
        lambda e: seen((threading.current_thread().name, e.params.get("state"))),
    )
    everything = Recorder()
    call.on("*", everything)
    call.play_tts("hi").wait(5)
    got = seen.wait_for(lambda items: len(items) == 2)
    assert [state for _, state in got] == ["playing", "finished"]
    assert all(name.startswith("relaysync-worker") for name, _ in got)
    unsubscribe()
    call.play_tts("again").wait(5)
    everything.wait_for(lambda items: sum(isinstance(e, PlayEvent) for e in items) == 4)
    assert len(seen.items) == 2


# ------------------------------------------------------------------ play


def test_play_tts_wait_and_on_completed(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    completed = Recorder()
    action = call.play_tts("Welcome to relaysync", volume=-3, on_completed=completed)
    assert isinstance(action, PlayAction) and action.control_id
    result = action.wait(5)
    assert result.successful and result.state == "finished" and action.done
    assert completed.wait_for(lambda items: len(items) == 1)[0] is action
    frame = sim.journal.requests("calling.play")[-1]["params"]
    assert frame["play"] == [{"type": "tts", "params": {"text": "Welcome to relaysync"}}]
    assert frame["volume"] == -3 and frame["control_id"] == action.control_id
    assert frame["call_id"] == call.call_id and frame["node_id"] == call.node_id


def test_play_pause_resume_volume_stop(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    sim.set_media_duration("https://example.com/long.mp3", 1000)
    action = call.play_audio("https://example.com/long.mp3")
    action.pause()
    action.resume()
    action.volume(5)
    with pytest.raises(ValueError, match="volume"):
        action.volume(99)
    with pytest.raises(RelayTimeoutError):
        action.wait(0.05)
    action.stop()
    assert action.wait(5).state == "finished"
    methods = [
        f["method"] for f in sim.journal.requests() if f["method"].startswith("calling.play")
    ]
    assert methods == [
        "calling.play",
        "calling.play.pause",
        "calling.play.resume",
        "calling.play.volume",
        "calling.play.stop",
    ]


def test_play_error_and_bad_media(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    result = call.play_audio("ftp://nowhere/file.wav").wait(5)
    assert result.state == "error" and not result.successful
    with pytest.raises(ValueError):
        call.play([])
    with pytest.raises(ValueError):
        call.play({"type": "video", "params": {"url": "x"}})


def test_play_released_when_call_ends(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    sim.set_media_duration("https://example.com/long.mp3", 1000)
    action = call.play_audio("https://example.com/long.mp3")
    sim.get_call(call.call_id).hangup()  # type: ignore[union-attr]
    result = action.wait(5)
    assert result.state == "finished"


# ------------------------------------------------------------------ refer


@pytest.mark.parametrize(
    "device",
    [
        "sip:support@example.com",
        {"type": "sip", "params": {"to": "sip:support@example.com"}},
        {"type": "sip", "params": {"uri": "sip:support@example.com"}},
        {"type": "sip", "to": "sip:support@example.com"},
    ],
)
def test_refer_success_all_device_spellings(
    client: RelayClient, sim: RelaySimulator, device: Any
) -> None:
    call = answered_call(client, sim)
    result = call.refer(device)
    assert result.state == "success" and result.successful
    assert result.sip_refer_to == "sip:support@example.com"
    assert (result.sip_refer_response_code, result.sip_notify_response_code) == ("202", "200")
    assert isinstance(result.event, ReferEvent)
    params = refer_frames(sim)[-1]["params"]
    assert params["device"] == {"type": "sip", "params": {"to": "sip:support@example.com"}}
    assert "control_id" not in params
    assert call.wait_for_ended(5).call_state == "ended"


@pytest.mark.parametrize(
    "state,codes",
    [
        ("busy", ("202", "486")),
        ("noAnswer", ("202", "480")),
        ("error", ("202", "503")),
        ("cancel", ("202", "487")),
    ],
)
def test_refer_failure_outcomes(
    client: RelayClient, sim: RelaySimulator, state: str, codes: tuple[str, str]
) -> None:
    sim.on_refer("sip:agent@example.com", state=state)
    call = answered_call(client, sim)
    result = call.refer("sip:agent@example.com")
    assert result.state == state and not result.successful
    assert (result.sip_refer_response_code, result.sip_notify_response_code) == codes
    assert not call.ended


def test_refer_credentials_and_status_url(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    call.refer(
        {
            "type": "sip",
            "params": {"to": "sip:pbx@example.com", "username": "bob", "password": "s3cret"},
        },
        status_url="https://example.com/status",
    )
    params = refer_frames(sim)[-1]["params"]
    assert params["device"]["params"] == {
        "to": "sip:pbx@example.com",
        "username": "bob",
        "password": "s3cret",
    }
    assert params["status_url"] == "https://example.com/status"


@pytest.mark.parametrize(
    "device,message",
    [
        ("tel:+15551234567", "sip"),
        ({"type": "phone", "params": {"to_number": "+1555"}}, "sip"),
        ({"type": "sip", "params": {}}, "to"),
        (42, "got int"),
    ],
)
def test_refer_bad_device_raises_before_sending(
    client: RelayClient, sim: RelaySimulator, device: Any, message: str
) -> None:
    call = answered_call(client, sim)
    with pytest.raises(ValueError, match=message):
        call.refer(device)
    assert refer_frames(sim) == []


def test_refer_rejected_by_server(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    sim.fail_method("calling.refer", 403, "Refer not allowed", as_result=True)
    with pytest.raises(RelayError) as info:
        call.refer("sip:support@example.com")
    assert (info.value.code, info.value.message) == (403, "Refer not allowed")
    assert call.refer("sip:support@example.com").successful


def test_refer_wait_false_returns_action(client: RelayClient, sim: RelaySimulator) -> None:
    call = answered_call(client, sim)
    completed = Recorder()
    action = call.refer("sip:support@example.com", wait=False, on_completed=completed)
    assert isinstance(action, ReferAction)
    result = action.wait(5)
    assert result.successful and action.result is result
    assert completed.wait_for(lambda items: len(items) == 1) == [action]
    with pytest.raises(NotImplementedError):
        action.stop()


def test_refer_timeout(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_refer("sip:slow@example.com", delay=500)
    call = answered_call(client, sim)
    with pytest.raises(RelayTimeoutError, match="refer"):
        call.refer("sip:slow@example.com", timeout=0.3)


def test_refer_while_caller_hangs_up(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_refer("sip:slow@example.com", delay=500)
    call = answered_call(client, sim)
    action = call.refer("sip:slow@example.com", wait=False)
    sim.journal.wait_for_event("calling.call.refer")
    sim.get_call(call.call_id).hangup()  # type: ignore[union-attr]
    result = action.wait(5)
    assert result.state == "cancel" and not result.successful
    call.wait_for_ended(5)


def test_refer_call_ended_without_final_state(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_refer("sip:slow@example.com", delay=500)
    call = answered_call(client, sim)
    action = call.refer("sip:slow@example.com", wait=False)
    sim.push_event(
        "calling.call.state",
        {
            "call_id": call.call_id,
            "node_id": call.node_id,
            "call_state": "ended",
            "end_reason": "hangup",
            "direction": "inbound",
        },
    )
    with pytest.raises(CallEndedError):
        action.wait(5)


def test_refer_survives_a_connection_drop(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    try:
        sim.on_refer("sip:support@example.com", delay=40)  # 0.4 s at time_scale 0.01
        call = answered_call(client, sim)
        states = Recorder()
        client.on_connection_change(states)
        outcome: List[Any] = []
        thread = threading.Thread(
            target=lambda: outcome.append(call.refer("sip:support@example.com", timeout=10))
        )
        thread.start()
        sim.journal.wait_for_event("calling.call.refer")
        sim.drop_connections()
        states.wait_for(lambda s: s[-2:] == ["reconnecting", "connected"])
        thread.join(10)
        assert outcome and outcome[0].successful
        assert client.session_resumed
    finally:
        client.close()


@pytest.mark.timeout(120)
def test_fifty_parallel_calls_answer_and_refer(sim: RelaySimulator) -> None:
    outcomes = ("success", "busy", "noAnswer")
    for i in range(50):
        if outcomes[i % 3] != "success":
            sim.on_refer(f"sip:agent{i}@example.com", state=outcomes[i % 3])
    client = make_client(sim, max_workers=64)
    results = Recorder()

    def handler(call: Call) -> None:
        index = int(str(call.from_number)[-4:])
        call.answer()
        results((index, call.refer(f"sip:agent{index}@example.com")))

    client.on_call(handler)
    client.connect()
    try:
        for i in range(50):
            # Ring for 60 s even at time_scale 0.01 (the default 30 s is 0.3 s there): on
            # a busy machine a worker may take longer than that to answer.
            sim.inbound_call("office", from_=f"+1555000{i:04d}", ring_timeout=6000)
        got = results.wait_for(lambda items: len(items) == 50, timeout=90)
        assert sorted(index for index, _ in got) == list(range(50))
        for index, result in got:
            assert result.state == outcomes[index % 3]
            assert result.sip_refer_to == f"sip:agent{index}@example.com"
    finally:
        client.close()


def test_thousand_sequential_calls_leave_nothing_behind(
    client: RelayClient, sim: RelaySimulator
) -> None:
    threads_before = None
    handled = threading.Semaphore(0)

    def answer_and_hang_up(call: Call) -> None:
        call.answer()
        call.hangup()
        handled.release()

    client.on_call(answer_and_hang_up)
    for i in range(1000):
        sim.inbound_call("office")
        assert handled.acquire(timeout=5)
        if i == 9:
            threads_before = relaysync_threads()
    ended = Recorder()

    def hang_up(call: Call) -> None:
        call.hangup()
        call.wait_for_ended(5)
        ended(call)

    client.on_call(hang_up)
    sim.inbound_call("office")
    ended.wait_for(lambda items: len(items) == 1)
    assert client._registry.sizes() == {"calls": 0, "tags": 0, "dials": 0}
    assert len(relaysync_threads()) <= len(threads_before or [])


def test_close_releases_waiters(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    call = answered_call(client, sim)
    errors: List[BaseException] = []

    def wait() -> None:
        try:
            call.wait_for_ended()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    client.close()
    thread.join(5)
    assert not thread.is_alive() and errors
    assert isinstance(errors[0], RelayError)
    assert isinstance(call.wait_for("answered", 1), CallStateEvent)
