"""send_fax, receive_fax, pay and ai against RelaySimulator over a real socket."""

from __future__ import annotations

import contextlib
from typing import Any, Dict, List

import pytest

from relaysync import (
    AIAction,
    CallEndedError,
    FaxAction,
    FaxResult,
    PayAction,
    PayResult,
    RelayClient,
    RelayError,
)
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_pair

pytestmark = pytest.mark.timeout(30)

DOC = "https://example.com/contract.pdf"
CONNECTOR = "https://connector.example.com/pay"


def test_send_fax_succeeds(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.fax_outcome(pages=3)
    pages = Recorder()
    call.on("calling.call.fax", lambda event: pages(getattr(event, "fax_type", None)))
    action = call.send_fax(DOC, identity="+15550001111", header_info="Contract")
    assert isinstance(action, FaxAction)
    result = action.wait(10)
    assert isinstance(result, FaxResult)
    assert result.state == "finished" and result.successful
    assert (result.direction, result.pages, result.document, result.result_code) == (
        "send",
        3,
        DOC,
        "0",
    )
    assert pages.wait_for(lambda items: items.count("page") >= 1)
    frame = sim.journal.requests("calling.send_fax")[-1]["params"]
    assert frame["document"] == DOC and frame["header_info"] == "Contract"


def test_fax_failure_verdicts(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.fax_outcome(pages=1, success=False, result=49, result_text="Busy")
    result = call.receive_fax().wait(10)
    assert result.state == "finished" and not result.successful
    assert (result.direction, result.result_code, result.result_text) == ("receive", "49", "Busy")
    handle.fax_outcome(error=True)
    result = call.send_fax(DOC).wait(10)
    assert result.state == "error" and not result.successful


def test_fax_stop_and_hang_up(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.fax_outcome(pages=100)
    action = call.send_fax(DOC)
    action.stop()
    assert not action.wait(10).successful
    assert sim.journal.requests("calling.send_fax.stop")
    receiving = call.receive_fax()
    handle.hangup()
    with contextlib.suppress(CallEndedError):
        assert not receiving.wait(10).successful
    assert receiving.done


def test_fax_needs_a_document(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.raises(ValueError, match="document"):
        call.send_fax("")
    assert not sim.journal.requests("calling.send_fax")


def test_pay_success(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.pay_outcome("success")
    action = call.pay(CONNECTOR, charge_amount=9.99, currency="usd", security_code=False)
    assert isinstance(action, PayAction)
    result = action.wait(10)
    assert isinstance(result, PayResult)
    assert (result.state, result.result, result.successful) == ("success", "success", True)
    frame = sim.journal.requests("calling.pay")[-1]["params"]
    assert frame["charge_amount"] == "9.99" and frame["payment_connector_url"] == CONNECTOR


def test_pay_declined_and_timeout(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.pay_outcome("declined")
    result = call.pay(CONNECTOR, max_attempts=2).wait(10)
    assert result.result == "too-many-failed-attempts" and not result.successful
    handle.pay_outcome("timeout")
    result = call.pay(CONNECTOR, timeout=1).wait(10)
    assert result.result == "too-many-failed-attempts" and not result.successful


def test_pay_stop_hang_up_and_bad_input(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.pay_outcome("timeout")
    action = call.pay(CONNECTOR, timeout=100)
    action.stop()
    assert action.wait(10).result == "relay-pay-stop"
    bad: Dict[str, Any]
    for bad in ({"token_type": "forever"}, {"max_attempts": [1]}, {"security_code": 1.5}):
        with pytest.raises(ValueError, match=r"Call\.pay\(\): (token_type|max_attempts|security)"):
            call.pay(CONNECTOR, **bad)
    with pytest.raises(ValueError, match="payment_connector_url"):
        call.pay("")
    assert len(sim.journal.requests("calling.pay")) == 1
    # no source gives these numbers a range: the server is the one to refuse them
    cases: List[Dict[str, Any]] = [{"max_attempts": 0}, {"timeout": -1}]
    for refused in cases:
        with pytest.raises(RelayError):
            call.pay(CONNECTOR, **refused)
    pending = call.pay(CONNECTOR, timeout=100)
    handle.hangup()
    with contextlib.suppress(CallEndedError):
        assert pending.wait(10).result == "caller-hung-up"
    assert pending.done


def test_ai_session_stop_and_one_shots(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    with pytest.raises(RelayError) as info:
        call.ai_message("hello")
    assert info.value.code == 409
    ai_events = Recorder()
    call.on("calling.call.ai", ai_events)
    action = call.ai(prompt={"text": "You are a helpful receptionist."})
    assert isinstance(action, AIAction)
    assert call.ai_message("The caller is a VIP", role="system")
    assert call.ai_hold(timeout=30, prompt="One moment")
    assert sim.journal.requests("calling.ai_hold")[-1]["params"]["timeout"] == "30"
    assert call.ai_unhold(prompt="Back")
    with pytest.raises(ValueError, match=r"Call\.ai_message\(\): role"):
        call.ai_message("x", role=7)  # type: ignore[arg-type]
    with pytest.raises(RelayError):  # no source lists the roles: the server refuses it
        call.ai_message("x", role="robot")
    action.stop()
    result = action.wait(10)
    assert result.state == "finished" and result.successful
    frame = sim.journal.requests("calling.ai")[-1]["params"]
    assert frame["prompt"] == {"text": "You are a helpful receptionist."}
    assert "SWAIG" not in frame
    # No RELAY document confirms a calling.call.ai event: the test scripts the one below.
    second = call.ai(prompt={"text": "hi"})
    assert handle.finish_ai() == second.control_id
    assert second.wait(10).state == "finished"
    assert len(ai_events.wait_for(lambda items: len(items) == 1)) == 1
    handle.hangup()  # the stopped session never got an event: the call's end forgets it
    call.wait_for_ended(10)
    assert call.operations.pending_count() == 0


def test_ai_settles_when_the_call_ends(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    with pytest.raises(ValueError, match="prompt"):
        call.ai()
    action = call.ai(prompt={"text": "hi"})
    handle.hangup()
    with contextlib.suppress(CallEndedError):
        assert action.wait(10).state == "finished"
    assert action.done


def test_amazon_bedrock(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    assert call.amazon_bedrock(prompt={"text": "hi"}, params={"voice": "x"})
    frame = sim.journal.requests("calling.amazon_bedrock")[-1]["params"]
    assert frame["prompt"] == {"text": "hi"} and "SWAIG" not in frame
