"""Caller scripting through the remote control channel (RemoteSimulator), with a raw
RELAY peer as the application."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from relaysync.testing import RelaySimulator, SimCall
from relaysync.testing.peer import RawPeer, ids
from relaysync.testing.remote import RemoteCall, RemoteSimulator

pytestmark = pytest.mark.timeout(30)

Params = Dict[str, Any]
CALLER = "+15557770000"


def remote_call(remote: RemoteSimulator, call: SimCall) -> RemoteCall:
    found = remote.get_call(call.call_id)
    assert found is not None
    return found


def test_number_script_set_before_the_call(
    sim: RelaySimulator, peer: RawPeer, remote: RemoteSimulator
) -> None:
    script = remote.caller(CALLER)
    script.answer_as("machine", greeting=2.0)
    script.press("42#")
    call = peer.answered_call(sim, from_=CALLER)
    start = {**ids(call), "control_id": "d", "detect": {"type": "machine", "params": {}}}
    assert peer.call("calling.detect", start)["code"] == "200"
    peer.wait_event("calling.call.detect", lambda p: p["detect"]["params"]["event"] == "READY")
    collect = {**ids(call), "control_id": "c", "digits": {"max": 5}}
    assert peer.call("calling.collect", collect)["code"] == "200"
    done = peer.wait_event("calling.call.collect", lambda p: p["control_id"] == "c")
    assert done["result"]["params"] == {"digits": "42", "terminator": "#"}


def test_remote_call_scripts_speech_fax_and_pay(
    sim: RelaySimulator, peer: RawPeer, remote: RemoteSimulator
) -> None:
    call = peer.answered_call(sim)
    handle = remote_call(remote, call)
    handle.say("billing please", confidence=0.7)
    handle.fax_outcome(pages=2, success=False, result=48, result_text="Remote hung up")
    handle.pay_outcome("declined")
    speech = {**ids(call), "control_id": "c", "speech": {}}
    assert peer.call("calling.collect", speech)["code"] == "200"
    done = peer.wait_event("calling.call.collect", lambda p: p["control_id"] == "c")
    assert done["result"]["params"] == {"text": "billing please", "confidence": 0.7}
    fax = {**ids(call), "control_id": "f"}
    assert peer.call("calling.receive_fax", fax)["code"] == "200"
    finished = peer.wait_event("calling.call.fax", lambda p: p["fax"]["type"] == "finished")
    assert finished["fax"]["params"]["pages"] == 2 and finished["fax"]["params"]["result"] == 48
    pay = {**ids(call), "control_id": "p", "payment_connector_url": "https://example.com/p"}
    assert peer.call("calling.pay", pay)["code"] == "200"
    assert peer.wait_event("calling.call.pay", lambda p: "result" in p)["result"] != "success"
    with pytest.raises(ValueError, match="digits"):
        handle.press("12x")
    with pytest.raises(ValueError, match="outcome"):
        handle.pay_outcome("maybe")


def test_remote_reads_heard_digits_conferences_and_queues(
    sim: RelaySimulator, peer: RawPeer, remote: RemoteSimulator
) -> None:
    call = peer.answered_call(sim)
    send = {**ids(call), "control_id": "s", "digits": "9"}
    assert peer.call("calling.send_digits", send)["code"] == "200"
    peer.wait_event("calling.call.send_digits", lambda p: p["control_id"] == "s")
    assert remote_call(remote, call).heard_digits() == ["9"]
    join = {**ids(call), "name": "room-1"}
    assert peer.call("calling.join_conference", join)["code"] == "200"
    assert remote.conference_participants("room-1") == [call.call_id]
    enter = {**ids(call), "control_id": "q", "queue_name": "support"}
    assert peer.call("calling.queue.enter", enter)["code"] == "200"
    assert remote.dequeue("support") == call.call_id
    assert remote.dequeue("support") is None
