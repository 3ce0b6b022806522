"""The operation layer: declarations, the runner, argument checks, routing, settling."""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from relaysync import Call, CallEndedError, RelayClient, RelayError, RelayTimeoutError
from relaysync._util import compact
from relaysync.operations import ALL_RPCS, CALL_METHODS, OPERATIONS
from relaysync.testing import RelaySimulator
from relaysync.waiting import Deadline, OneShot

from .helpers import Recorder, answered_pair

pytestmark = pytest.mark.timeout(30)

BAD_TIMEOUTS = (0, -1, math.nan, math.inf)


# ------------------------------------------------------------------ declarations


def test_every_declared_method_has_its_call_wrappers() -> None:
    assert len(OPERATIONS) == 40  # RELAY's 41 calling methods less calling.dial (client)
    for method, wrappers in CALL_METHODS.items():
        assert method.startswith("calling.") and wrappers, method
        for name in wrappers:
            wrapper = getattr(Call, name, None)
            assert callable(wrapper), f"{method}: Call.{name} is missing"
            assert wrapper.__doc__, f"Call.{name} has no docstring"
    assert "calling.collect.start_input_timers" in ALL_RPCS
    assert "calling.send_fax.stop" in ALL_RPCS


def test_declared_required_params_are_checked_before_sending() -> None:
    op = OPERATIONS["calling.join_conference"]
    with pytest.raises(ValueError, match="'name'"):
        op.check({})
    with pytest.raises(TypeError, match="'colour'"):
        op.check({"name": "room", "colour": "red"})
    op.check({"name": "room", "beep": "onEnter"})


def test_compact_drops_none_at_every_depth() -> None:
    params: Dict[str, Any] = {
        "a": None,
        "b": {"c": None, "d": [{"e": None, "f": 0}], "g": False},
        "h": "",
    }
    assert compact(params) == {"b": {"d": [{"f": 0}], "g": False}, "h": ""}
    assert params["b"]["c"] is None  # input left unchanged


def test_one_shot_and_deadline() -> None:
    shot: OneShot[int] = OneShot()
    threading.Timer(0.05, lambda: shot.set_result(7)).start()
    assert shot.wait(5) == 7
    assert not shot.set_error(RuntimeError("late"))  # first resolution wins
    failed: OneShot[int] = OneShot()
    failed.set_error(KeyError("x"))
    with pytest.raises(KeyError):
        failed.wait(1)
    with pytest.raises(RelayTimeoutError, match="thing"):
        OneShot[int]().wait(0.01, "thing")
    deadline = Deadline(10)
    left = deadline.remaining()
    assert left is not None and 9 < left <= 10 and deadline.cap(1) == 1
    assert Deadline(None).remaining() is None and Deadline(None).cap(3) == 3


# ------------------------------------------------------------------ bad input, nothing sent


def _sent(sim: RelaySimulator) -> List[str]:
    return [
        frame["method"]
        for frame in sim.journal.requests()
        if frame["method"].startswith("calling.") and frame["method"] != "calling.answer"
    ]


def test_bad_timeouts_are_refused_before_anything_is_sent(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, _ = answered_pair(client, sim)
    action = call.play_silence(100)
    before = _sent(sim)
    attempts: List[Callable[[Any], Any]] = [
        lambda t: call.refer("sip:a@example.com", timeout=t),
        lambda t: call.refer("sip:a@example.com", timeout=t, wait=False),
        lambda t: call.play_tts("hi", request_timeout=t),
        lambda t: call.record(request_timeout=t),
        lambda t: call.collect(digits={"max": 1}, request_timeout=t),
        lambda t: call.hangup(timeout=t),
        lambda t: call.answer(timeout=t),
        lambda t: call.transfer("context:x", timeout=t),
        lambda t: call.disconnect(timeout=t),
        lambda t: call.connect_phone("+15551112222", "+15553334444", timeout=t),
        lambda t: call.send_digits("1", timeout=t),
        lambda t: call.wait_for("ended", t),
        lambda t: call.events(timeout=t),
        lambda t: action.wait(t),
        lambda t: action.stop(timeout=t),
        lambda t: action.volume(1, timeout=t),
    ]
    for attempt in attempts:
        for bad in BAD_TIMEOUTS:
            with pytest.raises(ValueError, match="timeout"):
                attempt(bad)
    assert _sent(sim) == before
    action.stop()


def test_refer_target_with_line_break_is_refused(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    for target in ("sip:a@b.c\r\nX-Inject: 1", {"type": "sip", "params": {"to": "sip:a@b.c\n"}}):
        with pytest.raises(ValueError, match="CR, LF"):
            call.refer(target)
    assert not sim.journal.requests("calling.refer")


def test_on_completed_must_be_callable(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.raises(TypeError, match="on_completed"):
        call.play_tts("hi", on_completed="nope")  # type: ignore[arg-type]
    assert not sim.journal.requests("calling.play")


def test_play_timeout_keyword_is_deprecated(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.warns(DeprecationWarning, match="request_timeout") as record:
        action = call.play_tts("hi", timeout=5)
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert action.wait(10).state == "finished"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        call.play_tts("hi", request_timeout=5).wait(10)


def test_unknown_method_is_refused_by_the_server(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.raises(RelayError) as info:
        call.operations.execute("calling.no_such_method", {})
    assert info.value.code == -32601


# ------------------------------------------------------------------ routing and settling


def test_two_actions_on_one_call_are_routed_by_control_id(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, handle = answered_pair(client, sim)
    sim.set_media_duration("https://example.com/hold.mp3", 1000)
    music = call.play_audio("https://example.com/hold.mp3")
    handle.press("42#")
    collect = call.collect(digits={"max": 4, "terminators": "#"})
    assert collect.wait(10).digits == "42"
    assert not music.done and music.control_id != collect.control_id
    music.stop()
    assert music.wait(10).state == "finished"


def test_on_completed_runs_exactly_once(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    completed = Recorder()
    action = call.play_silence(0.5, on_completed=completed)
    action.wait(10)
    completed.wait_for(lambda items: len(items) == 1)
    handle.hangup()
    call.wait_for_ended(10)
    # a callback queued after the call ended would run on this call's serial queue
    ended = Recorder()
    call.on("*", ended)
    assert completed.items == [action]


def test_events_for_unknown_control_ids_are_tolerated(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, _ = answered_pair(client, sim)
    seen = Recorder()
    call.on("calling.call.record", seen)
    sim.push_event(
        "calling.call.record",
        {"call_id": call.call_id, "node_id": call.node_id, "control_id": "nobody", "state": "x"},
    )
    seen.wait_for(lambda items: len(items) == 1)
    assert call.play_silence(0.1).wait(10).state == "finished"


def test_stale_refer_outcome_never_settles_the_next_refer(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, _ = answered_pair(client, sim)
    sim.on_refer("sip:second@example.com", state="success", delay=200)
    action = call.refer("sip:second@example.com", wait=False)
    # the outcome of an earlier REFER (whose request died with the socket) arrives now
    sim.push_event(
        "calling.call.refer",
        {
            "call_id": call.call_id,
            "node_id": call.node_id,
            "state": "busy",
            "sip_refer_to": "sip:first@example.com",
            "sip_notify_response_code": "486",
        },
    )
    result = action.wait(20)
    assert result.state == "success" and result.sip_refer_to == "sip:second@example.com"


def test_action_of_an_ended_call_settles_at_once(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.stay_silent()
    action = call.collect(digits={"max": 1}, initial_timeout=1000)
    handle.hangup()
    call.wait_for_ended(10)
    started = time.monotonic()
    with contextlib.suppress(CallEndedError):
        action.wait(10)
    assert action.done and time.monotonic() - started < 5
    assert call.operations.pending_count() == 0


def test_methods_table_lists_the_client_and_simulator_methods() -> None:
    from relaysync.testing.methods import CALLING_METHODS

    root = Path(__file__).resolve().parent.parent
    section = (root / "docs" / "reference" / "methods.rst").read_text(encoding="utf-8")
    rows = re.findall(r"^``(calling\.[a-z_.]+)``\s+(\S.*?)\s*$", section, re.M)
    table = dict(rows)
    client = {**{m: op.call_methods for m, op in OPERATIONS.items()}, "calling.dial": ("dial",)}
    assert len(table) == 41
    assert set(table) == set(client) == set(CALLING_METHODS)
    for method, wrappers in table.items():
        named = [w.strip().replace("\\", "").split(".")[-1] for w in wrappers.split(",")]
        assert named[0] == client[method][0], method
