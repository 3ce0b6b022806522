"""Simulator: tap, stream, transcribe, fax, pay, AI, conferences, queues, rooms and the
one-shot services, over a raw socket; the method registry against RELAY's 41 methods."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List

import pytest

from relaysync.testing import RelaySimulator, SimCall
from relaysync.testing.methods import CALLING_METHODS, METHODS
from relaysync.testing.peer import RawPeer, ids

pytestmark = pytest.mark.timeout(30)

Params = Dict[str, Any]

#: RELAY's calling methods, PROTOCOL.md §2.3 (the deprecated calling.begin left out).
PROTOCOL_METHODS = {
    *(
        f"calling.{name}"
        for name in [
            "dial",
            "answer",
            "end",
            "pass",
            "connect",
            "disconnect",
            "play",
            "record",
            "collect",
            "play_and_collect",
            "detect",
            "send_digits",
            "tap",
            "stream",
            "transcribe",
            "send_fax",
            "receive_fax",
            "pay",
            "ai",
            "amazon_bedrock",
            "ai_message",
            "ai_hold",
            "ai_unhold",
            "transfer",
            "refer",
            "join_conference",
            "leave_conference",
            "hold",
            "unhold",
            "denoise",
            "denoise.stop",
            "echo",
            "bind_digit",
            "clear_digit_bindings",
            "live_transcribe",
            "live_translate",
            "join_room",
            "leave_room",
            "user_event",
            "queue.enter",
            "queue.leave",
        ]
    )
}


def ctl(control_id: str, key: str = "", value: Any = None) -> Callable[[Params], bool]:
    def match(params: Params) -> bool:
        if params.get("control_id") != control_id:
            return False
        return not key or params.get(key) == value

    return match


def ok(peer: RawPeer, method: str, call: SimCall, **params: Any) -> Params:
    answer = peer.call(method, {**ids(call), **params})
    assert answer["code"] == "200", answer
    return answer


def of(peer: RawPeer, event_type: str, call: SimCall) -> List[Params]:
    return [
        e["params"]
        for e in list(peer.events)
        if e["event_type"] == event_type and e["params"].get("call_id") == call.call_id
    ]


# -- the registry --------------------------------------------------------------------------


def test_every_calling_method_has_a_handler(sim: RelaySimulator) -> None:
    assert len(PROTOCOL_METHODS) == 41
    assert set(CALLING_METHODS) == PROTOCOL_METHODS
    missing = [m for m in PROTOCOL_METHODS if sim._core.method_handler(m) is None]
    assert missing == []


def client_operations() -> Dict[str, Any]:
    """The client's declaration table (``relaysync.operations.OPERATIONS``), if it has one."""
    try:
        module = importlib.import_module("relaysync.operations")
    except ImportError:
        return {}
    table: Dict[str, Any] = dict(getattr(module, "OPERATIONS", {}))
    return table


def test_every_client_operation_has_a_handler(sim: RelaySimulator) -> None:
    """Each method (and sub-command) behind a public Call method is answered by the
    simulator, which accepts every param the client may send and requires none the client
    does not; without the client's table, RELAY's 41 methods are checked instead."""
    declared = client_operations()
    if not declared:
        assert sorted(m for m in PROTOCOL_METHODS if sim._core.method_handler(m) is None) == []
        return
    ids_ = {"node_id", "call_id", "control_id"}
    for method, op in declared.items():
        assert sim._core.method_handler(method) is not None, (method, op.call_methods)
        for sub in op.subcommands.values():
            assert sim._core.method_handler(sub) is not None, (method, sub)
        spec = METHODS[method]
        sent = set(op.required) | set(op.optional)
        assert sent - set(spec.accepted) == set(), method
        assert set(spec.required) - ids_ - set(op.required) == set(), method
    assert set(declared) <= PROTOCOL_METHODS


# -- tap, stream, transcribe ---------------------------------------------------------------


def test_tap_stream_transcribe_run_until_stopped(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    tap = {"type": "audio", "params": {"direction": "both"}}
    device = {"type": "rtp", "params": {"addr": "10.0.0.1", "port": 4000}}
    answer = ok(peer, "calling.tap", call, control_id="t", tap=tap, device=device)
    assert answer["source_device"]["type"] == "rtp"
    ok(peer, "calling.stream", call, control_id="s", url="wss://example.com/s", track="both_tracks")
    ok(peer, "calling.transcribe", call, control_id="x")
    again = peer.call("calling.transcribe", {**ids(call), "control_id": "y"})
    assert again["code"] == "409"
    for event, control_id, state in (
        ("calling.call.tap", "t", "tapping"),
        ("calling.call.stream", "s", "streaming"),
        ("calling.call.transcribe", "x", "transcribing"),
    ):
        peer.wait_event(event, ctl(control_id, "state", state))
        method = event.replace("call.", "").replace("calling.", "calling.", 1)
        ok(peer, f"{method}.stop", call, control_id=control_id)
        done = peer.wait_event(event, ctl(control_id, "state", "finished"))
    assert done["url"].startswith("https://") and done["duration"] >= 0
    bad = peer.request(
        "calling.stream", {**ids(call), "control_id": "s2", "url": "http://example.com"}
    )
    assert bad["error"]["code"] == -32602


def test_hangup_finishes_a_tap(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    tap = {"type": "audio", "params": {"direction": "listen"}}
    device = {"type": "ws", "params": {"uri": "wss://example.com/tap"}}
    ok(peer, "calling.tap", call, control_id="t", tap=tap, device=device)
    peer.wait_event("calling.call.tap", ctl("t", "state", "tapping"))
    call.hangup()
    peer.wait_event("calling.call.tap", ctl("t", "state", "finished"))


# -- fax -----------------------------------------------------------------------------------


def fax_events(peer: RawPeer, control_id: str) -> List[Params]:
    return [
        e["params"]["fax"]
        for e in list(peer.events)
        if e["event_type"] == "calling.call.fax" and e["params"]["control_id"] == control_id
    ]


def fax_done(params: Params) -> bool:
    return bool(params["fax"]["type"] in ("finished", "error"))


def test_send_fax_pages_then_success(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.fax_outcome(pages=3)
    ok(peer, "calling.send_fax", call, control_id="f", document="https://example.com/d.pdf")
    done = peer.wait_event("calling.call.fax", fax_done)["fax"]
    assert done["type"] == "finished"
    assert done["params"]["success"] is True and done["params"]["pages"] == 3
    assert done["params"]["result"] == 0 and done["params"]["direction"] == "send"
    pages = [f["params"]["number"] for f in fax_events(peer, "f") if f["type"] == "page"]
    assert pages == [1, 2, 3]


def test_receive_fax_scripted_failure_and_error(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.fax_outcome(pages=1, success=False, result=48, result_text="Remote hung up")
    ok(peer, "calling.receive_fax", call, control_id="f1")
    done = peer.wait_event("calling.call.fax", fax_done)["fax"]["params"]
    assert (done["success"], done["result"], done["direction"]) == (False, 48, "receive")
    assert done["document"].endswith(".pdf")
    call.fax_outcome(error=True, result_text="No fax tone")
    ok(peer, "calling.receive_fax", call, control_id="f2")
    error = peer.wait_event("calling.call.fax", lambda p: p["control_id"] == "f2" and fax_done(p))
    assert error["fax"] == {"type": "error", "params": {"description": "No fax tone"}}


def test_fax_stop_and_hangup(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    call.fax_outcome(pages=50)
    ok(peer, "calling.send_fax", call, control_id="f", document="https://example.com/d.pdf")
    ok(peer, "calling.send_fax.stop", call, control_id="f")
    assert peer.wait_event("calling.call.fax", fax_done)["fax"]["params"]["success"] is False
    ok(peer, "calling.receive_fax", call, control_id="g")
    call.hangup()
    done = peer.wait_event("calling.call.fax", lambda p: p["control_id"] == "g" and fax_done(p))
    assert done["fax"]["params"]["result_text"] == "Call hung up"


# -- pay -----------------------------------------------------------------------------------


PAY = {"payment_connector_url": "https://example.com/pay", "charge_amount": "10.00"}


def paid(params: Params) -> bool:
    return "result" in params


@pytest.mark.parametrize(
    ("outcome", "attempts", "result", "steps"),
    [
        ("success", 1, "success", ["payment-card-number", "expiration-date", "payment-processing"]),
        ("declined", 1, "payment-connector-error", ["payment-card-number", "payment-failed"]),
        ("timeout", 2, "too-many-failed-attempts", ["payment-card-number"]),
    ],
)
def test_pay_outcomes(
    sim: RelaySimulator,
    peer: RawPeer,
    outcome: str,
    attempts: int,
    result: str,
    steps: List[str],
) -> None:
    call = peer.answered_call(sim)
    call.pay_outcome(outcome)
    ok(peer, "calling.pay", call, control_id="p", max_attempts=str(attempts), **PAY)
    done = peer.wait_event("calling.call.pay", paid)
    assert done["result"] == result and done["attempt"] == attempts
    seen = [e["for"] for e in of(peer, "calling.call.pay", call) if "for" in e]
    assert all(step in seen for step in steps)
    if outcome == "declined":
        assert done["payment_error_code"] == "card-declined"
    if outcome == "success":
        assert done["payment_token"]


def test_pay_stop_and_hangup(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    ok(peer, "calling.pay", call, control_id="p", **PAY)
    ok(peer, "calling.pay.stop", call, control_id="p")
    assert peer.wait_event("calling.call.pay", paid)["result"] == "relay-pay-stop"
    ok(peer, "calling.pay", call, control_id="q", **PAY)
    call.hangup()
    done = peer.wait_event("calling.call.pay", lambda p: p["control_id"] == "q" and paid(p))
    assert done["result"] == "caller-hung-up"


# -- AI ------------------------------------------------------------------------------------


def test_ai_session_ends_without_an_event_unless_scripted(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    """No RELAY document confirms a calling.call.ai event (PROTOCOL.md §2.5.19): a stop
    or a hang-up ends the session silently; finish_ai() sends one on request."""
    call = peer.answered_call(sim)
    assert peer.call("calling.ai_message", {**ids(call), "message_text": "hi"})["code"] == "409"
    with pytest.raises(ValueError, match=r"no calling\.ai session"):
        call.finish_ai()
    ok(peer, "calling.ai", call, control_id="a", prompt={"text": "You are helpful"})
    assert peer.call("calling.amazon_bedrock", ids(call))["code"] == "409"
    ok(peer, "calling.ai_message", call, message_text="hi", role="system")
    ok(peer, "calling.ai_hold", call, timeout="30")  # a string in RELAY's own class
    ok(peer, "calling.ai_unhold", call)
    ok(peer, "calling.ai.stop", call, control_id="a")
    ok(peer, "calling.ai", call, control_id="b")  # "a" ended on its stop
    with pytest.raises(ValueError, match="state"):
        call.finish_ai("done")
    assert call.finish_ai() == "b"
    assert peer.wait_event("calling.call.ai", ctl("b"))["state"] == "finished"
    ok(peer, "calling.ai", call, control_id="c")
    call.hangup()
    peer.wait_event("calling.call.state", lambda p: p["call_state"] == "ended")
    assert [e["control_id"] for e in of(peer, "calling.call.ai", call)] == ["b"]


# -- conferences, queues, rooms ------------------------------------------------------------


def statuses(peer: RawPeer) -> List[str]:
    return [
        f"{e['params']['status']}:{e['params'].get('call_id', '-')[:4]}"
        for e in list(peer.events)
        if e["event_type"] == "calling.conference"
    ]


def test_conference_holds_calls_and_reports_joins_and_leaves(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    first, second = peer.answered_call(sim), peer.answered_call(sim, from_="+15550009999")
    joined = ok(peer, "calling.join_conference", first, name="sales", beep="onEnter")
    conference_id = joined["conference_id"]
    again = ok(peer, "calling.join_conference", second, name="sales", muted=True)
    assert again["conference_id"] == conference_id
    assert sim.conference_participants("sales") == [first.call_id, second.call_id]
    ok(peer, "calling.leave_conference", first, conference_id=conference_id)
    second.hangup()
    peer.wait_event("calling.conference", lambda p: p["status"] == "conference-end")
    a, b = first.call_id[:4], second.call_id[:4]
    assert statuses(peer) == [
        "conference-start:-",
        f"participant-join:{a}",
        f"participant-join:{b}",
        f"participant-leave:{a}",
        f"participant-leave:{b}",
        "conference-end:-",
    ]
    assert sim.conference_participants("sales") == []


def test_conference_options_are_checked(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    for bad in ({"max_participants": 251}, {"beep": "loud"}, {"record": "always"}):
        error = peer.request("calling.join_conference", {**ids(call), "name": "x", **bad})
        assert error["error"]["code"] == -32602, bad
    missing = peer.request("calling.join_conference", ids(call))["error"]
    assert "name" in missing["message"]


def test_queue_enter_leave_and_dequeue(sim: RelaySimulator, peer: RawPeer) -> None:
    first, second = peer.answered_call(sim), peer.answered_call(sim)
    ok(peer, "calling.queue.enter", first, control_id="q1", queue_name="support")
    ok(peer, "calling.queue.enter", second, control_id="q2", queue_name="support")
    entered = peer.wait_event("calling.call.queue", ctl("q2", "status", "enqueue"))
    assert (entered["name"], entered["position"], entered["size"]) == ("support", 2, 2)
    ok(peer, "calling.queue.leave", second, control_id="q3", queue_name="support")
    left = peer.wait_event("calling.call.queue", lambda p: p["status"] == "leave")
    assert left["call_id"] == second.call_id and left["leave_ts"] > 0
    assert sim.dequeue("support") == first.call_id
    taken = peer.wait_event("calling.call.queue", lambda p: p["status"] == "dequeue")
    assert taken["control_id"] is None and taken["size"] == 0
    assert sim.dequeue("support") is None


def test_rooms(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    assert peer.call("calling.leave_room", ids(call))["code"] == "404"
    ok(peer, "calling.join_room", call, name="standup")
    ok(peer, "calling.leave_room", call)


# -- one-shot services ---------------------------------------------------------------------


def test_hold_denoise_echo_events(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    ok(peer, "calling.hold", call)
    ok(peer, "calling.hold", call)
    ok(peer, "calling.unhold", call)
    ok(peer, "calling.denoise", call)
    ok(peer, "calling.denoise.stop", call)
    ok(peer, "calling.echo", call, timeout=1)
    peer.wait_event("calling.call.echo", lambda p: p["state"] == "finished")
    assert [e["state"] for e in of(peer, "calling.call.hold", call)] == ["hold", "unhold"]
    assert [e["denoised"] for e in of(peer, "calling.call.denoise", call)] == [True, False]
    assert [e["state"] for e in of(peer, "calling.call.echo", call)] == ["echoing", "finished"]


def test_digit_binding_fires_when_the_caller_presses(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    play = [{"type": "tts", "params": {"text": "Agent coming"}}]
    params = {"control_id": "bound", "play": play}
    ok(
        peer,
        "calling.bind_digit",
        call,
        digits="*0",
        bind_method="calling.play",
        params=params,
        max_triggers=1,
    )
    call.press("*0")
    peer.wait_event("calling.call.play", ctl("bound", "state", "finished"))
    bad = peer.request(
        "calling.bind_digit", {**ids(call), "digits": "1", "bind_method": "calling.nothing"}
    )
    assert bad["error"]["code"] == -32602
    ok(peer, "calling.clear_digit_bindings", call, realm="menu")


def test_live_transcribe_translate_and_user_event(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    ok(peer, "calling.live_transcribe", call, action={"start": {"lang": "en"}})
    ok(peer, "calling.live_translate", call, action={"inject": {"message": "hola"}})
    bad = peer.request("calling.live_transcribe", {**ids(call), "action": {"inject": {}}})
    assert bad["error"]["code"] == -32602
    ok(peer, "calling.user_event", call, event={"kind": "wave"})
