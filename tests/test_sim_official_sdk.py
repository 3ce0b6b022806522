"""SignalWire's own asyncio RELAY SDK runs record, collect, play_and_collect and detect
against RelaySimulator (``wss://``), driven by scripted callers.

Set-up and the other scenarios are in ``test_official_sdk.py``. Facts about the SDK
these tests rely on or show (read from its ``relay/call.py``, observed here):

* ``record()`` sends ``record: {audio: {...}}`` and its RecordAction settles on the
  ``finished`` or ``no_input`` state; it reads the url and duration from the event as
  sent (the simulator puts them at the top level, as RELAY does).
* ``prompt_tts()``/``play_and_collect()`` ignore the ``calling.call.play`` events of their
  ``control_id``: the prompt ending does not settle them (they get this right).
* **Early resolve (collect):** both collect actions settle on the first
  ``calling.call.collect`` event that has a ``result``. With ``send_start_of_input`` that
  is the ``start_of_input`` event, before the caller's digits are known; with
  ``partial_results`` it would be the first partial (``final: false``) result.
* **Early resolve (detect):** a DetectAction settles on the first ``calling.call.detect``
  event of any kind. For an answering machine that is ``MACHINE``, long before the
  ``READY`` that says the greeting ended and a message can be left; a digit detect
  settles on the first digit.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict

import pytest

pytest.importorskip("signalwire")
pytest.importorskip("trustme")

from relaysync.testing import RelaySimulator

from .official_sdk_support import (  # sdk_sim is the "sim" fixture
    SDK_TIMEOUT,
    EventLog,
    answer_inbound,
    run_sdk,
    sdk_sim,  # noqa: F401
)

pytestmark = pytest.mark.timeout(30)

DIGITS = {"digits": {"max": 4, "terminators": "#"}}


def test_record_settles_finished_with_url_and_duration(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        await asyncio.to_thread(sim_call.leave_message, 3.0)
        action = await call.record({"format": "wav", "end_silence_timeout": 1.0})
        event = await action.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return dict(event.params)

    final = run_sdk(sim, scenario)

    assert final["state"] == "finished"
    assert final["url"].endswith(".wav") and final["duration"] >= 3.0
    [request] = sim.journal.requests("calling.record")
    assert request["params"]["record"] == {"audio": {"format": "wav", "end_silence_timeout": 1.0}}


def test_record_stop(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> str:
        call, sim_call = await answer_inbound(client, sim)
        await asyncio.to_thread(sim_call.leave_message, 1.0, end="talk")
        records = EventLog()
        call.on("calling.call.record", records)
        action = await call.record({})
        await records.wait_for_field("state", "recording")
        await action.stop()
        event = await action.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return str(event.params["state"])

    assert run_sdk(sim, scenario) == "finished"


def test_collect_digits(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        await asyncio.to_thread(sim_call.press, "123#")
        action = await call.collect(**DIGITS, initial_timeout=5.0)
        event = await action.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return dict(event.params["result"])

    assert run_sdk(sim, scenario) == {
        "type": "digit",
        "params": {"digits": "123", "terminator": "#"},
    }


def test_collect_resolves_early_on_start_of_input(sim: RelaySimulator) -> None:
    """The SDK's collect settles on ``start_of_input``; the digits come after."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        collects = EventLog()
        call.on("calling.call.collect", collects)
        await asyncio.to_thread(sim_call.press, "42#")
        action = await call.collect(**DIGITS, send_start_of_input=True)
        event = await action.wait(timeout=SDK_TIMEOUT)
        later = await collects.wait_for(
            lambda items: any(e.params["result"]["type"] == "digit" for e in items)
        )
        await call.hangup()
        return {"settled_on": event.params["result"]["type"], "then": later[-1].params}

    facts = run_sdk(sim, scenario)

    assert facts["settled_on"] == "start_of_input"
    assert facts["then"]["result"]["params"]["digits"] == "42"


def test_prompt_tts_settles_on_collect_not_on_the_prompt(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        plays = EventLog()
        call.on("calling.call.play", plays)
        await asyncio.to_thread(sim_call.say, "sales", confidence=0.95)
        action = await call.prompt_tts("Say sales or support", {"speech": {}})
        event = await action.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return {"event": event.event_type, "result": event.params["result"], "plays": plays}

    facts = run_sdk(sim, scenario)

    assert facts["event"] == "calling.call.collect"
    assert facts["result"] == {"type": "speech", "params": {"text": "sales", "confidence": 0.95}}
    assert facts["plays"].field("params")[-1]["state"] == "finished"


def test_detect_machine_resolves_on_machine_before_the_beep(sim: RelaySimulator) -> None:
    """The SDK's detect settles on ``MACHINE``; ``READY`` (the beep) follows."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        detects = EventLog()
        call.on("calling.call.detect", detects)
        await asyncio.to_thread(sim_call.answer_as, "machine", greeting=4.0)
        action = await call.detect_answering_machine(timeout=30)
        event = await action.wait(timeout=SDK_TIMEOUT)
        await detects.wait_for(
            lambda items: any(e.params["detect"]["params"]["event"] == "READY" for e in items)
        )
        await call.hangup()
        return {
            "settled_on": event.params["detect"]["params"]["event"],
            "seen": [e.params["detect"]["params"]["event"] for e in detects.items],
        }

    facts = run_sdk(sim, scenario)

    assert facts["settled_on"] == "MACHINE"
    assert facts["seen"][:3] == ["MACHINE", "NOT_READY", "READY"]
