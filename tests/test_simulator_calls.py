"""The simulator's call engine, driven over real sockets by a raw RELAY client."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from relaysync.errors import CallEndedError, RelayTimeoutError
from relaysync.testing import RelaySimulator, SimCall
from relaysync.testing.peer import RawPeer as Peer

pytestmark = pytest.mark.timeout(20)

Params = Dict[str, Any]
VERSION = {"major": 2, "minor": 0, "revision": 0}


@pytest.fixture
def sim() -> Iterator[RelaySimulator]:
    with RelaySimulator(time_scale=0.01, ping_interval=0) as simulator:
        yield simulator


@pytest.fixture
def peers(sim: RelaySimulator) -> Iterator[Callable[..., Peer]]:
    opened: List[Peer] = []

    def make(*contexts: str) -> Peer:
        peer = Peer(sim, list(contexts) or ["office"])
        opened.append(peer)
        return peer

    yield make
    for peer in opened:
        peer.close()


def ids(call: SimCall) -> Params:
    return {"call_id": call.call_id, "node_id": call.node_id}


def of_call(call_id: str, call_state: Optional[str] = None) -> Callable[[Params], bool]:
    """Match events of ``call_id`` (in ``call_state``, if given)."""

    def match(params: Params) -> bool:
        return params.get("call_id") == call_id and call_state in (None, params.get("call_state"))

    return match


def answered_call(sim: RelaySimulator, peer: Peer) -> SimCall:
    """An inbound call offered to ``peer`` and answered by it."""
    call = sim.inbound_call("office", ring_timeout=500)
    peer.wait_event("calling.call.receive", lambda p: p["call_id"] == call.call_id)
    assert peer.call("calling.answer", ids(call))["code"] == "200"
    call.wait_for_state("answered")
    return call


def phone(to: str) -> Params:
    return {"type": "phone", "params": {"to_number": to, "from_number": "+15550000000"}}


# -- inbound ------------------------------------------------------------------------------


def test_inbound_offers_alternate_between_two_connections(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    a, b = peers("office"), peers("office")
    calls = [sim.inbound_call("office", ring_timeout=500) for _ in range(4)]
    for i, call in enumerate(calls):
        holder = (a, b)[i % 2]
        offer = holder.wait_event("calling.call.receive", of_call(call.call_id))
        assert offer["call_state"] == "created" and offer["direction"] == "inbound"
        assert offer["context"] == "office" and offer["tag"] == ""
        assert offer["device"] == {
            "type": "phone",
            "params": {"from_number": "+15550001111", "to_number": "+15550002222"},
        }
        holder.wait_event("calling.call.state", of_call(call.call_id, "ringing"))
        assert call.offered_to == [holder.protocol]
    assert all(
        e["params"]["call_id"] in {calls[1].call_id, calls[3].call_id}
        for e in b.events
        if e["event_type"] == "calling.call.receive"
    )


def test_pass_reoffers_then_abandons(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    a, b = peers("office"), peers("office")
    call = sim.inbound_call("office", ring_timeout=500)
    first, second = (a, b) if call.offered_to == [a.protocol] else (b, a)
    first.wait_event("calling.call.receive")
    assert first.call("calling.pass", ids(call)) == {
        "code": "200",
        "message": "Passing call",
        "call_id": call.call_id,
    }
    second.wait_event("calling.call.receive", lambda p: p["call_id"] == call.call_id)
    assert call.offered_to == [first.protocol, second.protocol]
    assert first.call("calling.pass", ids(call))["code"] == "409"  # no longer its offer
    second.call("calling.pass", ids(call))
    ended = second.wait_event("calling.call.state", lambda p: p["call_state"] == "ended")
    assert ended["end_reason"] == "abandoned" == call.end_reason


def test_call_without_subscriber_ends_abandoned(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peers("office")
    call = sim.inbound_call("support")
    assert call.state == "ended" and call.end_reason == "abandoned"
    with pytest.raises(CallEndedError):
        call.wait_for_state("answered")


def test_unanswered_call_ends_no_answer_after_ring_timeout(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    call = sim.inbound_call("office", ring_timeout=10)  # 0.1 s at time_scale 0.01
    ended = peer.wait_event("calling.call.state", lambda p: p["call_state"] == "ended")
    assert ended["end_reason"] == "noAnswer" and call.end_reason == "noAnswer"


def test_a_call_without_ring_timeout_rings_in_real_time_whatever_the_time_scale(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    # A scaled 30 s would be 0.3 s here: a client stalled that long by a loaded machine
    # would find the call gone. Default ring time is 30 real seconds instead.
    peer = peers("office")
    call = sim.inbound_call("office")
    peer.wait_event("calling.call.receive", lambda p: p["call_id"] == call.call_id)
    time.sleep(1.0)  # sleep-ok: the stall is what is tested (longer than a scaled 30 s)
    assert call.state == "ringing"
    assert peer.call("calling.answer", ids(call))["code"] == "200"
    call.wait_for_state("answered")


def test_a_negative_ring_timeout_is_refused(sim: RelaySimulator) -> None:
    with pytest.raises(ValueError, match="ring_timeout"):
        sim.inbound_call("office", ring_timeout=-1)


def test_answer_and_end_emit_the_state_sequence(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    call = sim.inbound_call("office", ring_timeout=500)
    peer.wait_event("calling.call.receive")
    assert peer.call("calling.answer", ids(call)) == {
        "code": "200",
        "message": "Answered",
        "call_id": call.call_id,
    }
    answered = peer.wait_event("calling.call.state", lambda p: p["call_state"] == "answered")
    assert answered["answer_time"] >= answered["start_time"]
    assert peer.call("calling.end", {**ids(call), "reason": "busy"})["code"] == "200"
    ended = peer.wait_event("calling.call.state", lambda p: p["call_state"] == "ended")
    assert ended["end_reason"] == "busy" and "end_time" in ended
    assert peer.trail(call.call_id) == [
        "receive:created",
        "state:ringing",
        "state:answered",
        "state:ending",
        "state:ended",
    ]
    assert [e["event_type"] for e in call.events][:2] == [
        "calling.call.receive",
        "calling.call.state",
    ]


def test_unknown_gone_and_malformed_call_ids(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    unknown = {"call_id": str(uuid.uuid4()), "node_id": "n"}
    assert peer.call("calling.answer", unknown) == {"code": "404", "message": "Call not found"}
    assert peer.call("calling.play.stop", {**unknown, "control_id": "c"})["code"] == "404"
    call = answered_call(sim, peer)
    call.hangup()
    assert call.state == "ended" and call.end_reason == "hangup"
    for method in ("calling.answer", "calling.end", "calling.pass", "calling.refer"):
        assert peer.call(method, ids(call)) == {
            "code": "410",
            "message": "Call is gone",
            "call_id": call.call_id,
        }
    error = peer.request("calling.answer", {"node_id": "n"})["error"]
    assert error["code"] == -32602
    assert error["data"]["signalwire_error_code"] == "INVALID_PARAMS"


def test_ended_calls_are_forgotten_beyond_the_history(sim: RelaySimulator) -> None:
    first = sim.inbound_call("nobody")
    for _ in range(1100):
        sim.inbound_call("nobody")
    assert len(sim.calls) == 1000
    assert sim.get_call(first.call_id) is None
    assert sim._engine.live_calls() == []


def test_expired_session_ends_its_calls() -> None:
    with RelaySimulator(time_scale=0.01, ping_interval=0, resume_window=0.1) as sim:
        peer = Peer(sim, ["office"])
        call = answered_call(sim, peer)
        peer.close()
        call.wait_for_state("ended")
        assert call.end_reason == "hangup"


# -- dial ---------------------------------------------------------------------------------


def dial(peer: Peer, devices: List[List[Params]]) -> str:
    tag = str(uuid.uuid4())
    assert peer.call("calling.dial", {"tag": tag, "devices": devices}) == {
        "code": "200",
        "message": "Dialing",
    }
    return tag


def test_dial_answered(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    tag = dial(peer, [[phone("+15551230001")]])
    assert (
        peer.wait_event("calling.call.dial", lambda p: p["tag"] == tag)["dial_state"] == "dialing"
    )
    done = peer.wait_event("calling.call.dial", lambda p: p["dial_state"] == "answered")
    winner = done["call"]
    assert winner["dial_winner"] is True and winner["call_state"] == "answered"
    assert winner["tag"] == tag and winner["direction"] == "outbound"
    assert peer.trail(winner["call_id"]) == ["state:created", "state:ringing", "state:answered"]
    leg = sim.wait_for_call(lambda c: c.tag == tag)
    assert leg.call_id == winner["call_id"] and leg.created_by == "dial"


def test_dial_busy_fails(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    sim.on_dial("+15551230002", "busy")
    tag = dial(peer, [[phone("+15551230002")]])
    failed = peer.wait_event("calling.call.dial", lambda p: p["dial_state"] == "failed")
    assert failed == {
        "node_id": failed["node_id"],
        "tag": tag,
        "dial_state": "failed",
        "reason": "busy",
        "call": {},
    }
    ended = peer.wait_event("calling.call.state", lambda p: p["call_state"] == "ended")
    assert ended["end_reason"] == "busy" and ended["tag"] == tag


def test_dial_parallel_first_answer_wins_and_cancels_the_rest(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    sim.on_dial("+15551230003", "answer", delay=0.1)
    sim.on_dial("sip:slow@example.com", "answer", delay=100)
    sip = {"type": "sip", "params": {"to": "sip:slow@example.com", "from": "sip:me@x"}}
    tag = dial(peer, [[phone("+15551230003"), sip]])
    done = peer.wait_event("calling.call.dial", lambda p: p["dial_state"] == "answered")
    assert done["call"]["device"]["params"]["to_number"] == "+15551230003"
    loser = sim.wait_for_call(lambda c: c.tag == tag and c.device["type"] == "sip")
    assert loser.state == "ended" and loser.end_reason == "cancel"
    loser_ended = peer.index(
        "calling.call.state", lambda p: p["call_id"] == loser.call_id and p["call_state"] == "ended"
    )
    assert loser_ended < peer.index("calling.call.dial", lambda p: p["dial_state"] == "answered")


def test_dial_tries_the_next_group_when_one_fails(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    sim.on_dial("+15551230004", "no-answer", delay=0.1)
    tag = dial(peer, [[phone("+15551230004")], [phone("+15551230005")]])
    done = peer.wait_event("calling.call.dial", lambda p: p["dial_state"] == "answered")
    assert done["call"]["device"]["params"]["to_number"] == "+15551230005"
    first = sim.wait_for_call(lambda c: c.tag == tag)
    assert first.end_reason == "noAnswer"
    assert peer.trail(first.call_id) == ["state:created", "state:ringing", "state:ended"]


@pytest.mark.parametrize(
    "devices",
    [
        None,
        [],
        [[]],
        [[{"type": "phone", "params": {}}]],
        [{"type": "phone"}],
        [[{"type": "fax", "params": {}}]],
    ],
)
def test_dial_rejects_bad_devices(
    sim: RelaySimulator, peers: Callable[..., Peer], devices: Any
) -> None:
    error = peers("office").request("calling.dial", {"tag": "t", "devices": devices})["error"]
    assert error["code"] == -32602
    assert error["data"] == {"signalwire_error_code": "INVALID_PARAMS"}


# -- play ---------------------------------------------------------------------------------


def play(peer: Peer, call: SimCall, media: List[Params], control_id: str = "p1") -> Params:
    return peer.call("calling.play", {**ids(call), "control_id": control_id, "play": media})


def play_event(peer: Peer, state: str, control_id: str = "p1", timeout: float = 5.0) -> Params:
    return peer.wait_event(
        "calling.call.play",
        lambda p: p["state"] == state and p["control_id"] == control_id,
        timeout,
    )


def test_play_finishes_after_the_scaled_duration(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    sim.set_media_duration("https://example.com/long.mp3", 30.0)  # 0.3 s scaled
    assert play(
        peer, call, [{"type": "audio", "params": {"url": "https://example.com/long.mp3"}}]
    ) == {"code": "200", "message": "Playing", "call_id": call.call_id, "control_id": "p1"}
    play_event(peer, "playing")
    started = time.monotonic()
    play_event(peer, "finished")
    assert 0.2 <= time.monotonic() - started < 15.0  # unscaled it would take 30 s
    text = {"type": "tts", "params": {"text": "x" * 50}}  # 4 s -> 0.04 s
    play(peer, call, [text, {"type": "silence", "params": {"duration": 1}}], "p2")
    assert play_event(peer, "finished", "p2")["call_id"] == call.call_id


def test_play_pause_resume_and_stop(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    sim.set_media_duration("https://example.com/a.wav", 25.0)  # 0.25 s scaled
    play(peer, call, [{"type": "audio", "params": {"url": "https://example.com/a.wav"}}])
    play_event(peer, "playing")
    control = {**ids(call), "control_id": "p1"}
    assert peer.call("calling.play.pause", control)["code"] == "200"
    play_event(peer, "paused")
    assert peer.no_event("calling.call.play", lambda p: p["state"] == "finished", within=0.4)
    assert peer.call("calling.play.volume", {**control, "volume": -5.5})["code"] == "200"
    peer.call("calling.play.resume", control)
    play_event(peer, "finished")
    assert peer.trail(call.call_id)[-4:] == [
        "play:playing",
        "play:paused",
        "play:playing",
        "play:finished",
    ]
    assert peer.call("calling.play.stop", control) == {
        "code": "404",
        "message": "Control not found",
        "call_id": call.call_id,
        "control_id": "p1",
    }
    # 1000 s scaled: "finished" within 10 s can only come from the stop
    play(peer, call, [{"type": "ringtone", "params": {"name": "us", "duration": 100_000}}], "p2")
    play_event(peer, "playing", "p2")
    peer.call("calling.play.stop", {**ids(call), "control_id": "p2"})
    play_event(peer, "finished", "p2", timeout=10.0)


@pytest.mark.parametrize(
    "media",
    [[], [{"type": "audio", "params": {"url": "file:///x"}}], [{"type": "video", "params": {}}]],
)
def test_unplayable_media_errors(
    sim: RelaySimulator, peers: Callable[..., Peer], media: List[Params]
) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    assert play(peer, call, media)["code"] == "200"
    play_event(peer, "error")
    assert peer.trail(call.call_id)[-2:] == ["play:playing", "play:error"]


def test_ending_a_call_finishes_its_plays(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    play(peer, call, [{"type": "silence", "params": {"duration": 100_000}}])  # 1000 s scaled
    play_event(peer, "playing")
    call.hangup()
    peer.wait_trail(call.call_id, ["state:ending", "play:finished", "state:ended"])


# -- refer --------------------------------------------------------------------------------


def refer(peer: Peer, call: SimCall, params: Params) -> Params:
    return peer.call("calling.refer", {**ids(call), "device": {"type": "sip", "params": params}})


def refer_final(peer: Peer) -> Params:
    return peer.wait_event("calling.call.refer", lambda p: p["state"] != "inProgress")


def test_refer_success_ends_the_call(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    assert refer(
        peer, call, {"to": "sip:alice@pbx.example.com", "username": "u", "password": "secret"}
    ) == {"code": "200", "message": "Starting SIP REFER", "call_id": call.call_id}
    started = peer.wait_event("calling.call.refer")
    assert started == {
        "node_id": call.node_id,
        "call_id": call.call_id,
        "state": "inProgress",
        "sip_refer_to": "sip:alice@pbx.example.com",
    }
    final = refer_final(peer)
    assert (
        final["state"],
        final["sip_refer_response_code"],
        final["sip_notify_response_code"],
    ) == ("success", "202", "200")
    peer.wait_trail(
        call.call_id, ["refer:inProgress", "refer:success", "state:ending", "state:ended"]
    )
    assert call.end_reason == "hangup"
    record = call.refers[0]
    assert record.state == "success" and record.username == "u" and record.has_password
    assert "password" not in record.device["params"] and not record.used_uri_alias


@pytest.mark.parametrize(
    "state, notify", [("busy", "486"), ("noAnswer", "480"), ("error", "503"), ("cancel", "487")]
)
def test_refer_scripted_failures_keep_the_call(
    sim: RelaySimulator, peers: Callable[..., Peer], state: str, notify: str
) -> None:
    peer = peers("office")
    target = f"sip:{state}@example.com"
    sim.on_refer(target, state=state)
    call = answered_call(sim, peer)
    refer(peer, call, {"to": target})
    final = refer_final(peer)
    assert (
        final["state"],
        final["sip_refer_response_code"],
        final["sip_notify_response_code"],
    ) == (state, "202", notify)
    assert call.state == "answered" and call.refers[0].state == state


def test_refer_custom_codes(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    sim.on_refer(
        "sip:x@example.com",
        state="error",
        sip_refer_response_code=403,
        sip_notify_response_code="500",
    )
    call = answered_call(sim, peer)
    refer(peer, call, {"to": "sip:x@example.com"})
    final = refer_final(peer)
    assert (final["sip_refer_response_code"], final["sip_notify_response_code"]) == ("403", "500")


def test_hangup_during_refer_cancels_it_first(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    sim.on_refer("sip:slow@example.com", delay=100)
    call = answered_call(sim, peer)
    refer(peer, call, {"to": "sip:slow@example.com"})
    peer.wait_event("calling.call.refer")
    call.hangup()
    peer.wait_trail(
        call.call_id, ["refer:inProgress", "state:ending", "refer:cancel", "state:ended"]
    )
    assert call.refers[0].state == "cancel"


def test_refer_uri_alias_is_accepted_and_recorded(
    sim: RelaySimulator, peers: Callable[..., Peer], caplog: pytest.LogCaptureFixture
) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    with caplog.at_level("INFO", logger="relaysync.simulator.calls"):
        assert refer(peer, call, {"uri": "sip:bob@example.com"})["code"] == "200"
    assert peer.wait_event("calling.call.refer")["sip_refer_to"] == "sip:bob@example.com"
    assert call.refers[0].used_uri_alias is True
    assert any("params.uri" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "device, words",
    [
        ({"type": "sip", "params": {}}, "params.to"),
        ({"type": "sip", "params": {"to": "alice@example.com"}}, "sip:"),
        ({"type": "phone", "params": {"to_number": "+1555"}}, "'sip'"),
    ],
)
def test_refer_without_a_sip_target_is_400(
    sim: RelaySimulator, peers: Callable[..., Peer], device: Any, words: str
) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    answer = peer.call("calling.refer", {**ids(call), "device": device})
    assert answer["code"] == "400" and words in answer["message"]
    assert call.refers == []


def test_refer_without_a_device_is_refused_as_every_missing_param_is(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    error = peer.request("calling.refer", ids(call))["error"]
    assert error["code"] == -32602 and "missing required params: device" in error["message"]
    assert call.refers == []


def test_refer_needs_an_answered_call(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    call = sim.inbound_call("office", ring_timeout=500)
    peer.wait_event("calling.call.receive")
    assert refer(peer, call, {"to": "sip:a@b"})["code"] == "409"


# -- connect, disconnect, transfer --------------------------------------------------------


def connect(peer: Peer, call: SimCall, to: str) -> None:
    answer = peer.call(
        "calling.connect",
        {
            **ids(call),
            "devices": [[phone(to)]],
            "ringback": [{"type": "ringtone", "params": {"name": "us"}}],
        },
    )
    assert answer == {"code": "200", "message": "connecting", "call_id": call.call_id}


def test_connect_then_disconnect(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    connect(peer, call, "+15557770001")
    connected = peer.wait_event("calling.call.connect", lambda p: p["connect_state"] == "connected")
    other = sim.get_call(connected["peer"]["call_id"])
    assert other is not None and other.created_by == "connect"
    assert call.peer == other.call_id and other.peer == call.call_id
    assert peer.trail(other.call_id) == ["state:created", "state:ringing", "state:answered"]
    answered = peer.wait_event(
        "calling.call.state",
        lambda p: p["call_id"] == other.call_id and p["call_state"] == "answered",
    )
    assert answered["peer"] == {"node_id": call.node_id, "call_id": call.call_id}
    assert answered["parent"]["call_id"] == call.call_id
    assert peer.call("calling.disconnect", ids(call))["code"] == "200"
    disconnected = peer.wait_event(
        "calling.call.connect", lambda p: p["connect_state"] == "disconnected"
    )
    assert disconnected["peer"]["call_id"] == other.call_id
    other.wait_for_state("ended")
    assert call.state == "answered" and call.peer is None
    assert peer.call("calling.disconnect", ids(call))["code"] == "409"


def test_connect_failure(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    sim.on_dial("+15557770002", "decline", delay=0.1)
    call = answered_call(sim, peer)
    connect(peer, call, "+15557770002")
    failed = peer.wait_event("calling.call.connect", lambda p: p["connect_state"] == "failed")
    assert failed["failed_reason"] == "decline" and call.peer is None
    assert peer.trail(call.call_id)[-2:] == ["connect:connecting", "connect:failed"]


def test_peer_hangup_disconnects(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    call = answered_call(sim, peer)
    connect(peer, call, "+15557770003")
    sim.wait_for_call(lambda c: c.created_by == "connect" and c.state == "answered").hangup()
    peer.wait_event("calling.call.connect", lambda p: p["connect_state"] == "disconnected")
    assert call.state == "answered" and call.peer is None


def test_connect_needs_an_answered_call(sim: RelaySimulator, peers: Callable[..., Peer]) -> None:
    peer = peers("office")
    call = sim.inbound_call("office", ring_timeout=500)
    peer.wait_event("calling.call.receive")
    answer = peer.call("calling.connect", {**ids(call), "devices": [[phone("+1555")]]})
    assert answer["code"] == "409"


def test_transfer_is_followed_by_no_invented_event(
    sim: RelaySimulator, peers: Callable[..., Peer]
) -> None:
    """No RELAY document says what follows calling.transfer: the simulator sends nothing;
    a test that wants the call to end scripts it."""
    peer = peers("office")
    call = answered_call(sim, peer)
    assert peer.call("calling.transfer", {**ids(call), "dest": "https://example.com/swml"}) == {
        "code": "200",
        "message": "Transferring",
        "call_id": call.call_id,
    }
    assert call.state == "answered"
    call.hangup("busy")  # scripted: the events below are the hang-up's own
    call.wait_for_state("ended")
    assert call.end_reason == "busy"
    states = [e["params"]["call_state"] for e in call.events if "call_state" in e["params"]]
    assert states[-2:] == ["ending", "ended"] and states.count("ended") == 1


# -- the scripting API ---------------------------------------------------------------------


def test_scripting_arguments_are_checked(sim: RelaySimulator) -> None:
    with pytest.raises(ValueError):
        sim.on_dial("+1", "maybe")
    with pytest.raises(ValueError):
        sim.on_refer("sip:a@b", state="completed")
    with pytest.raises(ValueError):
        sim.set_media_duration("https://x", -1)
    with pytest.raises(RelayTimeoutError):
        sim.wait_for_call(lambda c: c.tag == "never", timeout=0.05)
    call = sim.inbound_call("nobody")
    with pytest.raises(ValueError):
        call.wait_for_state("bogus")
