"""detect, its shorthands and send_digits against RelaySimulator over a real socket."""

from __future__ import annotations

import math
from typing import Any

import pytest

from relaysync import CallEndedError, DetectAction, DetectResult, RelayClient, SendDigitsResult
from relaysync.testing import RelaySimulator

from .helpers import answered_pair

pytestmark = pytest.mark.timeout(30)


def test_detect_human(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.answer_as("human")
    action = call.detect_answering_machine()
    assert isinstance(action, DetectAction)
    result = action.wait(10)
    assert isinstance(result, DetectResult)
    assert (result.type, result.result, result.beep, result.successful) == (
        "machine",
        "HUMAN",
        False,
        True,
    )
    frame = sim.journal.requests("calling.detect")[-1]["params"]
    assert frame["detect"] == {"type": "machine", "params": {}} and frame["timeout"] == 30


def test_detect_machine_settles_on_first_result(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.answer_as("machine", greeting=5)
    action = call.detect_answering_machine(initial_timeout=4.5)
    result = action.wait(10)
    assert result.result == "MACHINE" and result.state == "MACHINE" and not result.beep
    frame = sim.journal.requests("calling.detect")[-1]["params"]
    assert frame["detect"]["params"] == {"initial_timeout": 4.5}
    action.stop()  # settling does not stop the detector
    assert sim.journal.requests("calling.detect.stop")


def test_detect_machine_waits_for_the_beep(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.answer_as("machine", greeting=2)
    result = call.detect_answering_machine(wait_for_beep=True).wait(10)
    assert (result.result, result.beep, result.state) == ("MACHINE", True, "READY")
    frame = sim.journal.requests("calling.detect")[-1]["params"]
    assert "wait_for_beep" not in frame and "wait_for_beep" not in frame["detect"]["params"]


def test_detect_fax_and_digit(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.answer_as("fax", tone="CNG")
    assert call.detect_fax().wait(10).result == "CNG"
    handle.press("5")
    result = call.detect_digit(digits="0123456789").wait(10)
    assert (result.type, result.result, result.successful) == ("digit", "5", True)
    with pytest.raises(ValueError, match="tone"):
        call.detect_fax(tone="BEEP")
    with pytest.raises(ValueError, match="digits"):
        call.detect_digit(digits="xyz")
    assert len(sim.journal.requests("calling.detect")) == 2


def test_detect_that_finds_nothing_finishes(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    action = call.detect_digit(timeout=1)
    result = action.wait(10)
    assert result.state == "finished" and result.result is None and not result.successful


def test_detect_refuses_bad_input(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.raises(ValueError, match="type"):
        call.detect({"params": {}})
    bad: Any
    for bad in (-1, math.nan, math.inf, "5"):
        with pytest.raises(ValueError, match=r"Call\.detect_answering_machine\(\): timeout"):
            call.detect_answering_machine(timeout=bad)
    assert not sim.journal.requests("calling.detect")


def test_detect_settles_when_the_caller_hangs_up(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    action = call.detect_digit(timeout=1000)
    handle.hangup()
    try:
        result = action.wait(10)
    except CallEndedError:
        pass
    else:
        assert result.state == "finished"
    call.wait_for_ended(10)


def test_send_digits_blocks_until_sent(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    result = call.send_digits("12w#", timeout=10)
    assert isinstance(result, SendDigitsResult) and result.state == "finished" and result.successful
    frame = sim.journal.requests("calling.send_digits")[-1]["params"]
    assert frame["digits"] == "12w#" and frame["control_id"]
    assert "".join(handle.heard_digits).replace("w", "") == "12#"


def test_send_digits_refuses_bad_digits(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    for bad in ("", "12x", 5):
        with pytest.raises(ValueError, match="digits"):
            call.send_digits(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        call.send_digits("1", timeout=0)
    assert not sim.journal.requests("calling.send_digits")
