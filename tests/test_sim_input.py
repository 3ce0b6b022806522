"""Simulator: record, collect, play_and_collect, detect and send_digits over a raw socket."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest

from relaysync.testing import RelaySimulator, SimCall
from relaysync.testing.peer import RawPeer, ids

pytestmark = pytest.mark.timeout(30)

Params = Dict[str, Any]
TTS = [{"type": "tts", "params": {"text": "Press one for sales"}}]


def ctl(control_id: str) -> Callable[[Params], bool]:
    def match(params: Params) -> bool:
        return bool(params.get("control_id") == control_id)

    return match


def start(peer: RawPeer, call: SimCall, method: str, control_id: str, **params: Any) -> Params:
    answer = peer.call(method, {**ids(call), "control_id": control_id, **params})
    assert answer["code"] == "200", answer
    assert answer["control_id"] == control_id
    return answer


def events_of(peer: RawPeer, event_type: str, control_id: str) -> List[Params]:
    return [
        e["params"]
        for e in list(peer.events)
        if e["event_type"] == event_type and e["params"].get("control_id") == control_id
    ]


def final(peer: RawPeer, event_type: str, control_id: str, key: str = "state") -> Params:
    """Wait for the operation's last event: one whose ``key`` is terminal."""
    terminal = {"finished", "no_input", "error"}

    def done(params: Params) -> bool:
        if params.get("control_id") != control_id:
            return False
        if key == "collect":
            return params.get("final") is not False and params.get("state") != "collecting"
        if key == "detect":
            return bool(params["detect"]["params"]["event"] in terminal)
        return params.get(key) in terminal

    return peer.wait_event(event_type, done)


# -- the registry --------------------------------------------------------------------------


def test_unknown_method_refused_unknown_param_accepted(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    error = peer.request("calling.nonexistent", ids(call))["error"]
    assert error["code"] == -32601
    error = peer.request("calling.record", {**ids(call), "control_id": "r"})["error"]
    assert error["code"] == -32602 and "record" in error["message"]
    assert error["data"] == {"signalwire_error_code": "INVALID_PARAMS"}
    params = {**ids(call), "control_id": "r", "record": {"audio": {}}, "bogus": 1}
    assert peer.call("calling.record", params)["code"] == "200"
    assert [(e.method, e.path) for e in sim.lint] == [("calling.record", "bogus")]


# -- record --------------------------------------------------------------------------------


def record(peer: RawPeer, call: SimCall, control_id: str = "r1", **audio: Any) -> None:
    start(peer, call, "calling.record", control_id, record={"audio": {"format": "wav", **audio}})
    peer.wait_event("calling.call.record", lambda p: p["control_id"] == control_id)


def test_record_finishes_on_silence_with_url_duration_size(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    call = peer.answered_call(sim)
    call.leave_message(4.0)
    record(peer, call)
    done = final(peer, "calling.call.record", "r1")
    assert done["state"] == "finished"
    assert done["url"].endswith(".wav") and done["record"]["audio"]["format"] == "wav"
    assert done["duration"] > 4.0 and done["size"] == int(done["duration"] * 16_000)
    assert [e["state"] for e in events_of(peer, "calling.call.record", "r1")] == [
        "recording",
        "finished",
    ]


def test_record_ends_on_terminator_and_no_input(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.leave_message(1.0, end="terminator")
    call.stay_silent()
    record(peer, call, "r1")
    assert final(peer, "calling.call.record", "r1")["state"] == "finished"
    record(peer, call, "r2", initial_timeout=2.0)
    assert final(peer, "calling.call.record", "r2")["state"] == "no_input"
    call.press("12#")
    record(peer, call, "r3")
    assert final(peer, "calling.call.record", "r3")["state"] == "finished"


def test_record_pause_resume_stop(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.leave_message(1.0, end="talk")
    record(peer, call)
    target = {**ids(call), "control_id": "r1"}
    assert peer.call("calling.record.pause", {**target, "behavior": "silence"})["code"] == "200"
    peer.wait_event("calling.call.record", lambda p: p["state"] == "paused")
    assert peer.call("calling.record.resume", target)["code"] == "200"
    peer.wait_trail(call.call_id, ["record:recording", "record:paused", "record:recording"])
    bad = peer.request(
        "calling.record.pause", {**ids(call), "control_id": "r1", "behavior": "loud"}
    )
    assert bad["error"]["code"] == -32602
    assert peer.call("calling.record.stop", {**ids(call), "control_id": "r1"})["code"] == "200"
    assert final(peer, "calling.call.record", "r1")["state"] == "finished"
    gone = peer.call("calling.record.stop", {**ids(call), "control_id": "r1"})
    assert gone["code"] == "404"


def test_hangup_mid_record_finishes_it_before_the_call_ends(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    call = peer.answered_call(sim)
    call.leave_message(2.0, end="hangup")
    record(peer, call)
    done = final(peer, "calling.call.record", "r1")
    assert done["state"] == "finished" and done["url"]
    peer.wait_event("calling.call.state", lambda p: p["call_state"] == "ended")
    ended = peer.index("calling.call.state", lambda p: p["call_state"] == "ended")
    assert peer.index("calling.call.record", lambda p: p["state"] == "finished") < ended


# -- collect and play_and_collect ---------------------------------------------------------


DIGITS = {"digits": {"max": 4, "terminators": "#"}}


def test_collect_digits_with_start_of_input(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.press("12#9")
    start(peer, call, "calling.collect", "c1", send_start_of_input=True, **DIGITS)
    done = final(peer, "calling.call.collect", "c1", "collect")
    assert done["result"] == {"type": "digit", "params": {"digits": "12", "terminator": "#"}}
    kinds = [e["result"]["type"] for e in events_of(peer, "calling.call.collect", "c1")]
    assert kinds == ["start_of_input", "digit"]


def test_collect_no_input_no_match_and_speech(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    start(peer, call, "calling.collect", "c1", initial_timeout=1.0, **DIGITS)
    assert final(peer, "calling.call.collect", "c1", "collect")["result"]["type"] == "no_input"
    call.say_nonsense()
    start(peer, call, "calling.collect", "c2", **DIGITS)
    assert final(peer, "calling.call.collect", "c2", "collect")["result"]["type"] == "no_match"
    call.say("billing please", confidence=0.8, partial=True)
    start(peer, call, "calling.collect", "c3", partial_results=True, speech={"language": "en-US"})
    done = final(peer, "calling.call.collect", "c3", "collect")
    assert done["result"] == {
        "type": "speech",
        "params": {"text": "billing please", "confidence": 0.8},
    }
    partials = [e for e in events_of(peer, "calling.call.collect", "c3") if e["final"] is False]
    assert [p["result"]["params"]["text"] for p in partials] == ["billing"]


def test_collect_continuous_then_stop(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.press("1#")
    call.press("2#")
    start(peer, call, "calling.collect", "c1", continuous=True, initial_timeout=100.0, **DIGITS)
    peer.wait_event(
        "calling.call.collect", lambda p: p.get("result", {}).get("params", {}).get("digits") == "2"
    )
    assert all(e["state"] == "collecting" for e in events_of(peer, "calling.call.collect", "c1"))
    assert peer.call("calling.collect.stop", {**ids(call), "control_id": "c1"})["code"] == "200"
    assert final(peer, "calling.call.collect", "c1", "collect") == {
        "node_id": call.node_id,
        "call_id": call.call_id,
        "control_id": "c1",
        "final": True,
        "state": "finished",
        "result": {"type": "no_input"},
    }


def test_collect_start_input_timers(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    start(
        peer, call, "calling.collect", "c1", start_input_timers=False, initial_timeout=0.5, **DIGITS
    )
    assert peer.no_event("calling.call.collect", ctl("c1"), within=0.3)
    answer = peer.call("calling.collect.start_input_timers", {**ids(call), "control_id": "c1"})
    assert answer["code"] == "200"
    assert final(peer, "calling.call.collect", "c1", "collect")["result"]["type"] == "no_input"


def test_play_and_collect_plays_then_collects(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.press("1")
    start(
        peer,
        call,
        "calling.play_and_collect",
        "pc",
        play=TTS,
        collect={**DIGITS, "initial_timeout": 5},
    )
    assert (
        peer.call(
            "calling.play_and_collect.volume", {**ids(call), "control_id": "pc", "volume": -5.5}
        )["code"]
        == "200"
    )
    done = final(peer, "calling.call.collect", "pc", "collect")
    assert done["result"]["params"]["digits"] == "1"
    play_finished = peer.index("calling.call.play", lambda p: p["state"] == "finished")
    assert play_finished < peer.index("calling.call.collect", ctl("pc"))


def test_play_and_collect_stop_ends_prompt_and_collect(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    long_prompt = [{"type": "silence", "params": {"duration": 100_000}}]  # 1000 s scaled
    start(peer, call, "calling.play_and_collect", "pc", play=long_prompt, collect=DIGITS)
    peer.wait_event("calling.call.play", lambda p: p["state"] == "playing")
    assert (
        peer.call("calling.play_and_collect.stop", {**ids(call), "control_id": "pc"})["code"]
        == "200"
    )
    assert final(peer, "calling.call.collect", "pc", "collect")["state"] == "finished"
    assert peer.wait_event("calling.call.play", lambda p: p["state"] == "finished")


def test_hangup_mid_collect_ends_it(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    start(peer, call, "calling.collect", "c1", initial_timeout=100.0, **DIGITS)
    call.hangup()
    assert final(peer, "calling.call.collect", "c1", "collect")["state"] == "finished"


# -- detect --------------------------------------------------------------------------------


def detect_events(peer: RawPeer, control_id: str) -> List[str]:
    return [
        e["detect"]["params"]["event"] for e in events_of(peer, "calling.call.detect", control_id)
    ]


def test_detect_machine_beep_after_greeting(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.answer_as("machine", greeting=4.0)
    start(peer, call, "calling.detect", "d1", detect={"type": "machine", "params": {}})
    final(peer, "calling.call.detect", "d1", "detect")
    assert detect_events(peer, "d1") == ["MACHINE", "NOT_READY", "READY", "finished"]


@pytest.mark.parametrize(
    ("kind", "detect", "expected"),
    [
        ("human", {"type": "machine", "params": {}}, ["HUMAN", "finished"]),
        ("fax", {"type": "fax", "params": {"tone": "CED"}}, ["CED", "finished"]),
        ("human", {"type": "fax", "params": {}}, ["finished"]),
    ],
)
def test_detect_human_and_fax(
    sim: RelaySimulator, peer: RawPeer, kind: str, detect: Params, expected: List[str]
) -> None:
    call = peer.answered_call(sim)
    call.answer_as(kind)
    start(peer, call, "calling.detect", "d1", detect=detect, timeout=3.0)
    final(peer, "calling.call.detect", "d1", "detect")
    assert detect_events(peer, "d1") == expected


def test_detect_digits_until_stopped(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    start(peer, call, "calling.detect", "d1", detect={"type": "digit", "params": {"digits": "12"}})
    call.press("132")
    peer.wait_event("calling.call.detect", lambda p: p["detect"]["params"]["event"] == "2")
    assert peer.call("calling.detect.stop", {**ids(call), "control_id": "d1"})["code"] == "200"
    final(peer, "calling.call.detect", "d1", "detect")
    assert detect_events(peer, "d1") == ["1", "2", "finished"]


# -- send_digits ---------------------------------------------------------------------------


def test_send_digits_reaches_the_connected_leg(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    devices = [[{"type": "phone", "params": {"to_number": "+15553334444", "from_number": "+1"}}]]
    assert peer.call("calling.connect", {**ids(call), "devices": devices})["code"] == "200"
    peer.wait_event("calling.call.connect", lambda p: p["connect_state"] == "connected")
    other = sim.get_call(call.peer or "")
    assert other is not None
    start(peer, call, "calling.send_digits", "s1", digits="1w2")
    peer.wait_event("calling.call.send_digits", ctl("s1"))
    assert other.heard_digits == ["12"]
    bad = peer.request("calling.send_digits", {**ids(call), "control_id": "s2", "digits": "x"})
    assert bad["error"]["code"] == -32602


def test_two_operations_on_one_call_are_routed_by_control_id(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    call = peer.answered_call(sim)
    call.leave_message(1.0, end="talk")
    record(peer, call, "rec")
    call.press("7#")
    start(peer, call, "calling.collect", "col", **DIGITS)
    collected = final(peer, "calling.call.collect", "col", "collect")
    assert collected["result"]["params"]["digits"] == "7"
    assert [e["state"] for e in events_of(peer, "calling.call.record", "rec")] == ["recording"]
    conflict = peer.call(
        "calling.record", {**ids(call), "control_id": "rec", "record": {"audio": {}}}
    )
    assert conflict["code"] == "409"
    assert peer.call("calling.record.stop", {**ids(call), "control_id": "rec"})["code"] == "200"
    assert final(peer, "calling.call.record", "rec")["state"] == "finished"


def test_a_number_scripted_ahead_answers_a_dialled_leg_as_a_machine(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    sim.caller("+15558880000").answer_as("machine", greeting=2.0, beep=False)
    device = {"type": "phone", "params": {"to_number": "+15558880000", "from_number": "+1555"}}
    assert peer.call("calling.dial", {"tag": "t1", "devices": [[device]]})["code"] == "200"
    dialled = peer.wait_event("calling.call.dial", lambda p: p["dial_state"] == "answered")
    leg = {"call_id": dialled["call"]["call_id"], "node_id": dialled["node_id"]}
    detect = {"type": "machine", "params": {}}
    assert (
        peer.call("calling.detect", {**leg, "control_id": "d", "detect": detect})["code"] == "200"
    )
    peer.wait_event("calling.call.detect", lambda p: p["detect"]["params"]["event"] == "finished")
    assert detect_events(peer, "d") == ["MACHINE", "NOT_READY", "READY", "finished"]
