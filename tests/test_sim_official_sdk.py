"""SignalWire's own asyncio RELAY SDK runs every public calling method it has against
RelaySimulator (``wss://``), driven by scripted callers: the 49 ``Call`` methods that send
a frame (listed in ``SDK_RPCS`` and checked against the SDK's class), their actions'
sub-commands, and (in ``test_official_sdk.py``) ``dial`` and ``send_message``. Each test
passes; where it meets an SDK bug, it shows the bug instead of working around it.

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
* **Fax and pay actions never settle:** FaxAction and PayAction wait for a top-level
  ``state``, but RELAY's fax verdict is in ``fax.type`` and its pay verdict in ``result``
  (PROTOCOL.md §2.5.9, §2.5.13, §7 item 4); the simulator sends those and the actions
  stay pending (``test_fax_actions_never_settle``, ``test_pay_action_never_settles...``).
* **The AI action waits for an event no document confirms:** after ``stop()`` RELAY may
  send nothing (PROTOCOL.md §2.5.19), and neither does the simulator, so the AIAction
  stays pending; a test scripts ``calling.call.ai`` with ``SimCall.finish_ai()``.
* **404 is swallowed as {}:** any ``404``/``410`` answer, including "control not found"
  for a sub-command of an operation that already ended, returns ``{}`` as if the call
  were gone (PROTOCOL.md §1.6).
* **Methods RELAY does not list:** ``CollectAction.pause``/``resume`` send
  ``calling.play_and_collect.pause``/``.resume`` (PROTOCOL.md §2.3: only in this SDK);
  the simulator answers ``-32601`` as for any unknown method, and the SDK raises.
* Every param the SDK sends is one RELAY's documents name, with the type they give
  (``sim.lint`` stays empty), except the extra keys a caller passes through ``**kwargs``
  (``user_event(event=..., order_id=...)``, the SDK's own example), which are accepted as
  RELAY accepts them and recorded as lint.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

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


# -- every public calling method of the SDK ------------------------------------------------

#: Every public Call method of the SDK that sends a frame (49), with the RPC it sends.
SDK_RPCS = {
    "answer": "calling.answer",
    "hangup": "calling.end",
    "pass_": "calling.pass",
    "play": "calling.play",
    "play_tts": "calling.play",
    "play_audio": "calling.play",
    "play_silence": "calling.play",
    "play_ringtone": "calling.play",
    "detect_digit": "calling.detect",
    "detect_answering_machine": "calling.detect",
    "detect_fax": "calling.detect",
    "prompt_tts": "calling.play_and_collect",
    "prompt_audio": "calling.play_and_collect",
    "record": "calling.record",
    "play_and_collect": "calling.play_and_collect",
    "collect": "calling.collect",
    "connect": "calling.connect",
    "disconnect": "calling.disconnect",
    "send_digits": "calling.send_digits",
    "detect": "calling.detect",
    "refer": "calling.refer",
    "pay": "calling.pay",
    "send_fax": "calling.send_fax",
    "receive_fax": "calling.receive_fax",
    "tap": "calling.tap",
    "stream": "calling.stream",
    "transfer": "calling.transfer",
    "join_conference": "calling.join_conference",
    "leave_conference": "calling.leave_conference",
    "hold": "calling.hold",
    "unhold": "calling.unhold",
    "denoise": "calling.denoise",
    "denoise_stop": "calling.denoise.stop",
    "transcribe": "calling.transcribe",
    "echo": "calling.echo",
    "bind_digit": "calling.bind_digit",
    "clear_digit_bindings": "calling.clear_digit_bindings",
    "live_transcribe": "calling.live_transcribe",
    "live_translate": "calling.live_translate",
    "join_room": "calling.join_room",
    "leave_room": "calling.leave_room",
    "ai": "calling.ai",
    "amazon_bedrock": "calling.amazon_bedrock",
    "ai_message": "calling.ai_message",
    "ai_hold": "calling.ai_hold",
    "ai_unhold": "calling.ai_unhold",
    "user_event": "calling.user_event",
    "queue_enter": "calling.queue.enter",
    "queue_leave": "calling.queue.leave",
}
#: Public coroutine methods of the SDK's Call that only wait (they send nothing).
SDK_WAITS = {
    "wait_for",
    "wait_for_ended",
    "wait_for_answered",
    "wait_for_ringing",
    "wait_for_ending",
}
AUDIO = "https://example.com/hello.mp3"
TTS = [{"type": "tts", "params": {"text": "Hello"}}]


def test_the_table_lists_every_sdk_call_method_that_sends_a_frame() -> None:
    import inspect

    from signalwire.relay.call import Call

    public = {
        name
        for name, fn in inspect.getmembers(Call, inspect.iscoroutinefunction)
        if not name.startswith("_") or name == "pass_"
    }
    assert public - SDK_WAITS == set(SDK_RPCS)
    assert len(SDK_RPCS) == 49


def last_request(sim: RelaySimulator, method: str) -> Dict[str, Any]:
    """The params of the last ``method`` request the simulator received."""
    params: Dict[str, Any] = sim.journal.requests(method)[-1]["params"]
    return params


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "sent"),
    [
        ("transfer", ("https://example.com/swml",), {}, {"dest": "https://example.com/swml"}),
        ("hold", (), {}, {}),
        ("unhold", (), {}, {}),
        ("denoise", (), {}, {}),
        ("denoise_stop", (), {}, {}),
        ("echo", (), {"timeout": 1.0}, {"timeout": 1.0}),
        ("clear_digit_bindings", (), {"realm": "menu"}, {"realm": "menu"}),
        (
            "live_transcribe",
            ({"start": {"lang": "en"}},),
            {},
            {"action": {"start": {"lang": "en"}}},
        ),
        ("live_translate", ({"stop": {}},), {}, {"action": {"stop": {}}}),
        ("amazon_bedrock", (), {"prompt": {"text": "hi"}}, {"prompt": {"text": "hi"}}),
        ("send_digits", ("12#",), {}, {"digits": "12#"}),
        (
            "user_event",
            (),
            {"event": "order", "order_id": "42"},
            {"event": "order", "order_id": "42"},
        ),
    ],
)
def test_one_shot_methods(
    sim: RelaySimulator, name: str, args: Any, kwargs: Dict[str, Any], sent: Dict[str, Any]
) -> None:
    """Each sends its RPC with the params given and gets ``200``; nothing it sends is
    refused. ``user_event``'s extra key (the SDK's own documented example) is accepted, as
    RELAY's open-shape params are, and recorded as lint."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        result: Dict[str, Any] = await getattr(call, name)(*args, **kwargs)
        state = sim_call.state
        await call.hangup()
        return {"result": result, "state": state}

    facts = run_sdk(sim, scenario)

    assert facts["result"]["code"] == "200"
    params = last_request(sim, SDK_RPCS[name])
    assert {k: params[k] for k in sent} == sent
    # No event follows a transfer on its own: the call stays as it was.
    assert facts["state"] == "answered"
    assert [(e.method, e.path) for e in sim.lint] == (
        [("calling.user_event", "order_id")] if name == "user_event" else []
    )


def test_pass_returns_the_offer(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        passed: asyncio.Future[Dict[str, Any]] = asyncio.get_running_loop().create_future()

        async def on_call(call: Any) -> None:
            passed.set_result(await call.pass_())

        client.on_call(on_call)
        sim_call = await asyncio.to_thread(sim.inbound_call, "office", ring_timeout=500.0)
        result = await asyncio.wait_for(passed, SDK_TIMEOUT)
        await asyncio.to_thread(sim_call.wait_for_state, "ended")
        return {"result": result, "end_reason": sim_call.end_reason}

    facts = run_sdk(sim, scenario)

    assert facts["result"]["code"] == "200"
    assert facts["end_reason"] == "abandoned"  # nobody else to offer it to
    assert sim.journal.requests("calling.pass")


def test_conference_join_and_leave(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        call, _ = await answer_inbound(client, sim)
        events = EventLog()
        call.on("calling.conference", events)
        joined = await call.join_conference("sales", muted=True, beep="onEnter", coach="x")
        join = await events.wait_for_field("status", "participant-join")
        left = await call.leave_conference(joined["conference_id"])
        await events.wait_for_field("status", "participant-leave")
        await call.hangup()
        return {"joined": joined, "join": join.params, "left": left}

    facts = run_sdk(sim, scenario)

    assert facts["joined"]["code"] == facts["left"]["code"] == "200"
    assert facts["join"]["muted"] is True and facts["join"]["coach"] == "x"
    assert last_request(sim, "calling.join_conference")["beep"] == "onEnter"
    assert sim.lint == []


def test_room_and_queue(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        call, _ = await answer_inbound(client, sim)
        queue = EventLog()
        call.on("calling.call.queue", queue)
        answers = [await call.join_room("room-1"), await call.leave_room()]
        answers.append(await call.queue_enter("support"))
        entered = await queue.wait_for_field("status", "enqueue")
        answers.append(await call.queue_leave("support", queue_id=entered.params["id"]))
        await queue.wait_for_field("status", "leave")
        await call.hangup()
        return {"codes": [a["code"] for a in answers]}

    assert run_sdk(sim, scenario) == {"codes": ["200"] * 4}
    assert last_request(sim, "calling.join_room")["name"] == "room-1"
    assert last_request(sim, "calling.queue.leave")["queue_name"] == "support"


def test_play_family_and_its_sub_commands(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> List[str]:
        call, _ = await answer_inbound(client, sim)
        plays = EventLog()
        call.on("calling.call.play", plays)
        action = await call.play(TTS * 20, volume=-3.0, loop=0)  # plays until stopped
        await plays.wait_for_field("state", "playing")
        for command in (action.pause(), action.resume(), action.volume(2.0), action.stop()):
            assert (await command)["code"] == "200"
        states = [(await action.wait(timeout=SDK_TIMEOUT)).params["state"]]
        for started in (
            call.play_audio(AUDIO),
            call.play_silence(0.5),
            call.play_ringtone("us", duration=1.0),
        ):
            states.append((await (await started).wait(timeout=SDK_TIMEOUT)).params["state"])
        await call.hangup()
        return states

    assert run_sdk(sim, scenario) == ["finished"] * 4
    for sub in ("pause", "resume", "volume", "stop"):
        assert sim.journal.requests(f"calling.play.{sub}")
    assert last_request(sim, "calling.play.volume")["volume"] == 2.0
    assert last_request(sim, "calling.play")["play"] == [
        {"type": "ringtone", "params": {"name": "us", "duration": 1.0}}
    ]


def test_record_pause_resume_stop(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> List[str]:
        call, sim_call = await answer_inbound(client, sim)
        await asyncio.to_thread(sim_call.leave_message, 1.0, end="talk")
        records = EventLog()
        call.on("calling.call.record", records)
        action = await call.record({"format": "mp3"})
        await records.wait_for_field("state", "recording")
        await action.pause(behavior="silence")
        await records.wait_for_field("state", "paused")
        await action.resume()
        await action.stop()
        await action.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return list(records.field("state"))

    assert run_sdk(sim, scenario) == ["recording", "paused", "recording", "finished"]
    assert last_request(sim, "calling.record.pause")["behavior"] == "silence"


def test_detect_digit_fax_and_stop(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        await asyncio.to_thread(sim_call.press, "5")
        digit = await (await call.detect_digit(digits="5")).wait(timeout=SDK_TIMEOUT)
        await asyncio.to_thread(sim_call.answer_as, "fax", tone="CED")
        fax = await (await call.detect_fax(tone="CED")).wait(timeout=SDK_TIMEOUT)
        detects = EventLog()
        call.on("calling.call.detect", detects)
        action = await call.detect({"type": "digit", "params": {}}, timeout=100.0)
        await action.stop()
        stopped = await detects.wait_for(lambda items: len(items) > 0)
        await call.hangup()
        return {
            "digit": digit.params["detect"]["params"]["event"],
            "fax": fax.params["detect"]["params"]["event"],
            "stopped": stopped[-1].params["detect"]["params"]["event"],
        }

    assert run_sdk(sim, scenario) == {"digit": "5", "fax": "CED", "stopped": "finished"}
    assert sim.journal.requests("calling.detect.stop")


def test_play_and_collect_sub_commands(sim: RelaySimulator) -> None:
    """volume, start_input_timers and stop reach RELAY's methods; the SDK's pause and
    resume send ``calling.play_and_collect.pause``/``.resume``, which no RELAY document
    lists (PROTOCOL.md §2.3): the simulator answers ``-32601``, as for any unknown method."""
    from signalwire.relay.client import RelayError as SdkRelayError

    async def scenario(client: Any) -> Dict[str, Any]:
        call, _ = await answer_inbound(client, sim)
        action = await call.play_and_collect(TTS, {**DIGITS, "initial_timeout": 100.0})
        answers = [await action.volume(-2.0), await action.start_input_timers()]
        errors = []
        for command in (action.pause, action.resume):
            with pytest.raises(SdkRelayError) as caught:
                await command()
            errors.append(caught.value.code)
        answers.append(await action.stop())
        event = await action.wait(timeout=SDK_TIMEOUT)
        prompted = await (
            await call.prompt_audio(AUDIO, {"digits": {"max": 1}, "initial_timeout": 0.5})
        ).wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return {
            "codes": [a["code"] for a in answers],
            "errors": errors,
            "stopped": event.params,
            "prompted": prompted.params["result"]["type"],
        }

    facts = run_sdk(sim, scenario)

    assert facts["codes"] == ["200"] * 3
    assert facts["errors"] == [-32601, -32601]
    assert facts["stopped"]["result"] == {"type": "no_input"}  # every final event has one
    assert facts["prompted"] == "no_input"


def test_collect_stop_and_start_input_timers(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> Dict[str, Any]:
        call, _ = await answer_inbound(client, sim)
        action = await call.collect(**DIGITS, initial_timeout=100.0, start_input_timers=False)
        started = await action.start_input_timers()
        stopped = await action.stop()
        event = await action.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return {"codes": [started["code"], stopped["code"]], "final": event.params}

    facts = run_sdk(sim, scenario)

    assert facts["codes"] == ["200", "200"]
    assert facts["final"]["state"] == "finished" and facts["final"]["result"]["type"] == "no_input"


@pytest.mark.parametrize("name", ["tap", "stream", "transcribe"])
def test_running_media_actions_settle_on_stop(sim: RelaySimulator, name: str) -> None:
    starts: Dict[str, Any] = {
        "tap": lambda call: call.tap(
            {"type": "audio", "params": {"direction": "both"}},
            {"type": "rtp", "params": {"addr": "127.0.0.1", "port": 4000}},
        ),
        "stream": lambda call: call.stream(
            "wss://example.com/audio", name="s", track="both_tracks"
        ),
        "transcribe": lambda call: call.transcribe(),
    }

    async def scenario(client: Any) -> str:
        call, _ = await answer_inbound(client, sim)
        action = await starts[name](call)
        await action.stop()
        event = await action.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return str(event.params["state"])

    assert run_sdk(sim, scenario) == "finished"
    assert sim.journal.requests(f"calling.{name}.stop")
    assert sim.lint == []


@pytest.mark.parametrize("name", ["send_fax", "receive_fax"])
def test_fax_actions_never_settle(sim: RelaySimulator, name: str) -> None:
    """SDK bug: a FaxAction waits for a top-level ``state`` (finished/error), but RELAY's
    fax events carry their verdict in ``fax.type`` (PROTOCOL.md §2.5.9, §7 item 4): the
    simulator sends ``fax: {type: "finished"}`` and the action stays pending."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        await asyncio.to_thread(sim_call.fax_outcome, pages=1)
        faxes = EventLog()
        call.on("calling.call.fax", faxes)
        if name == "send_fax":
            action = await call.send_fax(
                "https://example.com/doc.pdf", identity="+15550001111", header_info="Hi"
            )
        else:
            action = await call.receive_fax()
        done = await faxes.wait_for(
            lambda items: any(e.params["fax"]["type"] == "finished" for e in items)
        )
        settled = action.is_done  # the event reached the action before the listener
        stopped = await action.stop()
        await call.hangup()
        return {"settled": settled, "last": done[-1].params["fax"], "stop": stopped}

    facts = run_sdk(sim, scenario)

    assert facts["last"]["params"]["success"] is True
    assert facts["settled"] is False
    # Stopped after it finished: the simulator answers 404 (no such control), which the
    # SDK swallows as if the call were gone and returns {} (PROTOCOL.md §1.6).
    assert facts["stop"] == {}


def test_pay_action_never_settles_and_stop(sim: RelaySimulator) -> None:
    """SDK bug: a PayAction waits for a top-level ``state``; RELAY's final pay event has
    ``result`` (PROTOCOL.md §2.5.13, §7 item 4), so a successful payment leaves it
    pending. The SDK types pay's scalars as strings, as RELAY's class does."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, _ = await answer_inbound(client, sim)
        pays = EventLog()
        call.on("calling.call.pay", pays)
        action = await call.pay(
            "https://pay.example.com",
            charge_amount="10.00",
            currency="usd",
            max_attempts="1",
            timeout="5",
            security_code="true",
            parameters=[{"name": "order", "value": "42"}],
        )
        events = await pays.wait_for(lambda items: any("result" in e.params for e in items))
        settled = action.is_done
        second = await call.pay("https://pay.example.com")
        stopped = await second.stop()
        await call.hangup()
        return {
            "settled": settled,
            "steps": [e.params.get("for") for e in events],
            "result": events[-1].params["result"],
            "stop": stopped["code"],
        }

    facts = run_sdk(sim, scenario)

    assert facts["result"] == "success" and facts["steps"][-2] == "payment-completed"
    assert facts["settled"] is False
    assert facts["stop"] == "200"
    assert sim.lint == []


def test_ai_session_and_its_one_shots(sim: RelaySimulator) -> None:
    """The AIAction waits for ``calling.call.ai``, which no RELAY document confirms
    (PROTOCOL.md §2.5.19): after ``stop()`` the simulator sends nothing, as RELAY may, and
    the action stays pending; a test scripts the event with ``SimCall.finish_ai()``."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        stopped_one = await call.ai(prompt={"text": "You are helpful"}, ai_params={"x": 1})
        answers = [
            await call.ai_message(message_text="VIP caller", role="system"),
            await call.ai_hold(timeout="30", prompt="One moment"),
            await call.ai_unhold(prompt="Back"),
            await stopped_one.stop(),
        ]
        await (await call.play_tts("after the stop")).wait(timeout=SDK_TIMEOUT)
        pending_after_stop = not stopped_one.is_done
        scripted = await call.ai(prompt={"text": "hi"})
        await asyncio.to_thread(sim_call.finish_ai)
        event = await scripted.wait(timeout=SDK_TIMEOUT)
        await call.hangup()
        return {
            "codes": [a["code"] for a in answers],
            "pending_after_stop": pending_after_stop,
            "scripted": event.params["state"],
        }

    facts = run_sdk(sim, scenario)

    assert facts["codes"] == ["200"] * 4
    assert facts["pending_after_stop"] is True
    assert facts["scripted"] == "finished"
    assert last_request(sim, "calling.ai")["prompt"] == {"text": "hi"}
    assert last_request(sim, "calling.ai_hold")["timeout"] == "30"
    assert sim.lint == []


def test_bind_digit_plays_the_bound_media(sim: RelaySimulator) -> None:
    async def scenario(client: Any) -> List[str]:
        call, sim_call = await answer_inbound(client, sim)
        plays = EventLog()
        call.on("calling.call.play", plays)
        bound = await call.bind_digit("*1", "calling.play", bind_params={"play": TTS}, realm="m")
        assert bound["code"] == "200"
        await asyncio.to_thread(sim_call.press, "*1")
        await plays.wait_for_field("state", "finished")
        await call.hangup()
        return list(plays.field("state"))

    assert run_sdk(sim, scenario) == ["playing", "finished"]
    assert last_request(sim, "calling.bind_digit")["params"] == {"play": TTS}


def test_a_method_on_a_gone_call_returns_an_empty_result(sim: RelaySimulator) -> None:
    """SDK behaviour: the ``410`` the simulator answers for an ended call is swallowed and
    the method returns ``{}`` (PROTOCOL.md §1.6)."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        await asyncio.to_thread(sim_call.hangup)
        await call.wait_for_ended(timeout=SDK_TIMEOUT)
        result: Dict[str, Any] = await call.hold()
        return result

    assert run_sdk(sim, scenario) == {}
    [hold] = sim.journal.requests("calling.hold")
    [reply] = sim.journal.responses_to(hold["id"])
    assert reply["result"]["code"] == "410"
