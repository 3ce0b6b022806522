"""Options are checked in depth from one declaration per RELAY method, before sending.

Each refusal is asserted over the real simulator socket: the error names the public
method, the option and its path, and the simulator's journal shows no request went out.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from typing import Any, Callable, Dict, FrozenSet, List, Set, Tuple

import pytest

from relaysync import Call, RelayClient, RelayError
from relaysync import constants as C
from relaysync import operations as ops
from relaysync.testing import RelaySimulator

from .helpers import answered_pair

pytestmark = pytest.mark.timeout(30)

FROM = "+15550000000"


def _calling_sent(sim: RelaySimulator) -> List[str]:
    """Calling methods the client sent, the answer aside."""
    return [
        frame["method"]
        for frame in sim.journal.requests()
        if frame["method"].startswith("calling.") and frame["method"] != "calling.answer"
    ]


# ------------------------------------------------------------------ refusals, nothing sent

REFUSED: Dict[str, Any] = {
    # name: (call the method, exception, every fragment the message must hold)
    "record unknown audio key": (
        lambda call: call.record(audio={"beeep": True}),
        TypeError,
        ["Call.record()", "'beeep'", "record.audio.beeep", "valid keys: beep, direction"],
    ),
    "prompt_tts unknown digits key": (
        lambda call: call.prompt_tts("x", digits={"mx": 1}),
        TypeError,
        ["Call.prompt_tts()", "'mx'", "collect.digits.mx", "valid keys: digit_timeout, max"],
    ),
    "prompt_tts unknown keyword": (
        lambda call: call.prompt_tts("x", digit={"max": 1}),
        TypeError,
        ["prompt_tts()", "'digit'"],
    ),
    "play_tts unknown keyword": (
        lambda call: call.play_tts("hi", volum=3),
        TypeError,
        ["play_tts()", "'volum'"],
    ),
    "collect initial_timeout negative": (
        lambda call: call.collect(digits={"max": 1}, initial_timeout=-1),
        ValueError,
        ["Call.collect()", "initial_timeout", ">= 0", "-1"],
    ),
    "prompt initial_timeout negative": (
        lambda call: call.prompt_tts("x", digits={"max": 1}, initial_timeout=-1),
        ValueError,
        ["Call.prompt_tts()", "collect.initial_timeout"],
    ),
    "play volume out of range": (
        lambda call: call.play_audio("https://example.com/a.wav", volume=99),
        ValueError,
        ["Call.play_audio()", "volume", "from -40 to 40", "99"],
    ),
    "hangup reason": (
        lambda call: call.hangup(reason="bussy"),
        ValueError,
        ["Call.hangup()", "reason", *C.HANGUP_REASONS, "'bussy'"],
    ),
    "refer without user or host": (
        lambda call: call.refer("sip:"),
        ValueError,
        ["Call.refer()", "no user/host part"],
    ),
    "collect needs digits or speech": (
        lambda call: call.collect(initial_timeout=5),
        ValueError,
        ["Call.collect()", "needs digits or speech"],
    ),
    "digits max missing": (
        lambda call: call.collect(digits={"terminators": "#"}),
        ValueError,
        ["Call.collect()", "digits needs 'max'"],
    ),
    "digits max wrong type": (
        lambda call: call.collect(digits={"max": "4"}),
        ValueError,
        ["Call.collect()", "digits.max must be a whole number", "str"],
    ),
    "media item unknown key in a list": (
        lambda call: call.play([{"type": "tts", "text": "a"}, {"type": "tts", "txt": "b"}]),
        TypeError,
        ["Call.play()", "'txt'", "play[1].params.txt", "valid keys: gender, language, text"],
    ),
    "media type": (
        lambda call: call.play({"type": "video", "params": {}}),
        ValueError,
        ["Call.play()", "play[0].type must be one of audio, tts, silence, ringtone"],
    ),
    "speech hints wrong type": (
        lambda call: call.collect(speech={"hints": "billing"}),
        ValueError,
        ["Call.collect()", "speech.hints must be a list"],
    ),
    "detect params per type": (
        lambda call: call.detect({"type": "fax", "params": {"digits": "1"}}),
        TypeError,
        ["Call.detect()", "detect.params.digits", "valid keys: tone"],
    ),
    "detect fax tone": (
        lambda call: call.detect_fax(tone="XYZ"),
        ValueError,
        ["Call.detect_fax()", "detect.params.tone must be one of CED, CNG"],
    ),
    "tap device port": (
        lambda call: call.tap(
            {"type": "audio", "params": {"direction": "both"}},
            {"type": "rtp", "params": {"addr": "127.0.0.1", "port": "4000"}},
        ),
        ValueError,
        ["Call.tap()", "device.params.port must be a whole number"],
    ),
    "tap direction": (
        lambda call: call.tap(
            {"type": "audio", "params": {"direction": "sideways"}},
            {"type": "ws", "params": {"uri": "wss://example.com"}},
        ),
        ValueError,
        ["Call.tap()", "tap.params.direction must be one of listen, speak, both"],
    ),
    "connect device unknown key": (
        lambda call: call.connect(
            {"type": "phone", "to": "+15551112222", "from": FROM, "colour": "red"}
        ),
        TypeError,
        ["Call.connect()", "'colour'", "devices[0][0].params.colour"],
    ),
    "connect phone number": (
        lambda call: call.connect_phone("123", FROM),
        ValueError,
        ["Call.connect_phone()", "E.164"],
    ),
    "conference beep": (
        lambda call: call.join_conference("room", beep="loud"),
        ValueError,
        ["Call.join_conference()", "beep must be one of true, false, onEnter, onExit"],
    ),
    "conference max_participants": (
        lambda call: call.join_conference("room", max_participants=251),
        ValueError,
        ["Call.join_conference()", "max_participants", "from 1 to 250"],
    ),
    "conference name missing": (
        lambda call: call.join_conference(None),
        ValueError,
        ["Call.join_conference()", "needs 'name'"],
    ),
    "pay parameters unknown key": (
        lambda call: call.pay("https://pay.example.com", parameters=[{"name": "a", "vale": 1}]),
        TypeError,
        ["Call.pay()", "parameters[0].vale"],
    ),
    "ai_message reset key": (
        lambda call: call.ai_message("x", reset={"full": True}),
        TypeError,
        ["Call.ai_message()", "reset.full", "valid keys: full_reset, system_prompt, user_prompt"],
    ),
    "live_transcribe verb": (
        lambda call: call.live_transcribe("inject"),
        ValueError,
        ["Call.live_transcribe()", "action must be one of start, stop, summarize"],
    ),
    "send_digits alphabet": (
        lambda call: call.send_digits("12x"),
        ValueError,
        ["Call.send_digits()", "digits must be made of the characters"],
    ),
    "extra_params not a dict": (
        lambda call: call.hold(extra_params=["x"]),
        TypeError,
        ["extra_params must be a dict"],
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bad_options_are_refused_before_anything_is_sent(
    client: RelayClient, sim: RelaySimulator, name: str
) -> None:
    call, _ = answered_pair(client, sim)
    attempt, error, fragments = REFUSED[name]
    with pytest.raises(error) as caught:
        attempt(call)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "Mixin" not in message and "must start with" not in message
    assert _calling_sent(sim) == []


def test_action_sub_command_params_are_checked(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    # both must still run when stopped, however slow the machine: 10 s of real time each
    music = call.play_silence(1000)
    recording = call.record(beep=False, initial_timeout=1000)
    before = _calling_sent(sim)
    with pytest.raises(ValueError, match=r"^PlayAction\.volume\(\): volume must be a number"):
        music.volume(99)
    with pytest.raises(ValueError, match=r"^RecordAction\.pause\(\): behavior must be one of"):
        recording.pause(behavior="loud")
    assert _calling_sent(sim) == before
    recording.pause(behavior="silence", extra_params={"future": 1})  # sent unchecked
    assert sim.journal.requests("calling.record.pause")[-1]["params"]["future"] == 1
    assert ("calling.record.pause", "future") in _lint(sim)
    music.stop()
    recording.stop()


# ------------------------------------------------------------------ what is sent


def _lint(sim: RelaySimulator) -> Set[Tuple[str, str]]:
    """The (method, param path) pairs the simulator accepted without knowing them."""
    return {(entry.method, entry.path) for entry in sim.lint}


def test_extra_params_reach_the_wire_unchecked_and_merged(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, _ = answered_pair(client, sim)
    # a param the client does not declare but the simulator knows
    call.stream("wss://example.com/s", extra_params={"realtime": True}).stop()
    assert sim.journal.requests("calling.stream")[-1]["params"]["realtime"] is True
    # one neither knows: sent as given (None kept, volume unchecked); RELAY accepts unknown
    # params, and the simulator lists them as lint
    call.play_tts("hi", extra_params={"new_option": {"x": None}, "volume": 99}).stop()
    assert ("calling.play", "new_option") in _lint(sim)
    frame = sim.journal.requests("calling.play")[-1]["params"]
    assert frame["new_option"] == {"x": None} and frame["volume"] == 99
    with contextlib.suppress(RelayError):  # nested dicts merge key by key
        call.record(beep=True, extra_params={"record": {"audio": {"future": "yes"}}}).stop()
    audio = sim.journal.requests("calling.record")[-1]["params"]["record"]["audio"]
    assert audio == {"beep": True, "future": "yes"}
    call.join_conference("room", acl="members", beep=True)
    frame = sim.journal.requests("calling.join_conference")[-1]["params"]
    assert frame["acl"] == "members" and frame["beep"] == "true"


def test_none_is_dropped_at_every_depth(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.press("1")
    call.collect(digits={"max": 1, "terminators": None}, speech=None, partial_results=None).wait(10)
    frame = sim.journal.requests("calling.collect")[-1]["params"]
    assert frame["digits"] == {"max": 1} and "speech" not in frame
    assert "partial_results" not in frame


def test_pay_numbers_are_sent_as_the_strings_the_server_types(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, handle = answered_pair(client, sim)
    handle.pay_outcome("timeout")
    action = call.pay("https://pay.example.com", charge_amount=9.99, max_attempts=2, timeout=100)
    action.stop()
    frame = sim.journal.requests("calling.pay")[-1]["params"]
    assert (frame["charge_amount"], frame["max_attempts"], frame["timeout"]) == ("9.99", "2", "100")


def test_dial_and_send_message_take_extra_params(client: RelayClient, sim: RelaySimulator) -> None:
    dialed = client.dial(
        {"type": "phone", "to": "+15551110000", "from": FROM}, extra_params={"future": True}
    )
    assert sim.journal.requests("calling.dial")[-1]["params"]["future"] is True
    assert ("calling.dial", "future") in _lint(sim)
    dialed.hangup()
    with pytest.raises(TypeError, match=r"dial_phone\(\) got an unexpected .*'colour'"):
        client.dial_phone("+15551110000", FROM, colour="red")  # type: ignore[call-arg]
    with contextlib.suppress(RelayError):
        client.send_message("+15551110000", FROM, body="hi", extra_params={"future": 2})
    assert sim.journal.requests("messaging.send")[-1]["params"]["future"] == 2


# ------------------------------------------------------------------ declarations and wrappers

COMMON = {"on_completed", "request_timeout", "extra_params", "timeout"}
_COLLECT = set(ops.COLLECT_KEYS) - {"continue"}  # ``continue`` is a Python keyword
_TTS = {"text", "language", "gender", "voice"}
#: wrapper → (declared params it does not take, the conveniences it takes instead)
CONVENIENCES: Dict[str, Any] = {
    "play": ({"play"}, {"media"}),
    "play_tts": ({"play"}, _TTS),
    "play_audio": ({"play"}, {"url"}),
    "play_silence": ({"play"}, {"duration"}),
    "play_ringtone": ({"play"}, {"name", "duration"}),
    "record": ({"record"}, {"audio", *ops.RECORD_AUDIO.members}),
    "collect": ({"continue"}, set()),
    "play_and_collect": ({"play"}, {"media"}),
    "prompt_tts": ({"play", "collect"}, _TTS | _COLLECT),
    "prompt_audio": ({"play", "collect"}, {"url"} | _COLLECT),
    "detect": (set(), {"wait_for_beep"}),
    "detect_answering_machine": (
        {"detect"},
        {"wait_for_beep", *ops.DETECTORS[C.DETECT_MACHINE].members},
    ),
    "detect_fax": ({"detect"}, {"tone"}),
    "detect_digit": ({"detect"}, {"digits"}),
    "refer": (set(), {"wait"}),
    "connect_phone": ({"devices"}, {"to", "from_", "ring_timeout"}),
    "connect_sip": ({"devices"}, {"to", "from_", "headers"}),
    "dial_phone": ({"devices"}, {"to", "from_", "dial_timeout"}),
    "dial_sip": ({"devices"}, {"to", "from_", "headers"}),
}


def _keywords(function: Callable[..., Any]) -> Set[str]:
    names = set(inspect.signature(function).parameters) - {"self"}
    assert not any(
        p.kind is p.VAR_KEYWORD for p in inspect.signature(function).parameters.values()
    ), f"{function.__qualname__} takes **kwargs: give it explicit keywords"
    return names


def test_each_wrapper_takes_exactly_its_declarations_params() -> None:
    """A new option must be added to the declaration and the wrapper: this fails when
    they drift apart (``acl`` was declared for join_conference but not taken)."""
    pairs = [
        (op, getattr(Call, name)) for op in ops.OPERATIONS.values() for name in op.call_methods
    ]
    pairs += [(ops.DIAL, getattr(RelayClient, name)) for name in ops.DIAL.call_methods]
    assert len(pairs) > 50
    for op, wrapper in pairs:
        name = wrapper.__name__
        omitted, added = CONVENIENCES.get(name, (set(), set()))
        declared = set(op.params.members)
        expected = (declared - omitted) | added
        actual = _keywords(wrapper)
        assert actual - COMMON == expected - COMMON, (name, actual ^ expected)
        assert "extra_params" in actual, name
        assert omitted <= declared, name


def test_param_facts_plain_form() -> None:
    facts = ops.param_facts()
    assert set(facts) >= ops.ALL_RPCS | {"calling.dial", "messaging.send"}
    tags = {"str", "bool", "int", "number", "dict", "list", "any"}
    for method, (required, types) in facts.items():
        assert isinstance(required, frozenset) and required <= set(types), method
        assert set(types.values()) <= tags, method
        assert not {"node_id", "call_id", "control_id"} & required, method
        for path in types:
            assert re.fullmatch(r"[A-Za-z_]+(\[\])*(\.[A-Za-z_]+(\[\])*)*", path), path
    record = facts["calling.record"][1]
    assert record["record.audio"] == "dict" and record["record.audio.format"] == "str"
    assert record["record.audio.beep"] == "any"
    play = facts["calling.play"]
    assert play[0] == frozenset({"play"})
    assert play[1]["play[].type"] == "str" and play[1]["play[].params.text"] == "str"
    assert play[1]["volume"] == "number" and play[1]["loop"] == "int"
    assert facts["calling.dial"][1]["devices[][].type"] == "str"
    assert facts["calling.play_and_collect"][1]["collect.digits.max"] == "int"
    assert facts["calling.pay"][1]["charge_amount"] == "str"
    assert facts["calling.join_conference"][1]["acl"] == "str"
    assert facts["calling.record.pause"] == (frozenset(), {"behavior": "str"})
    assert facts["calling.play.volume"] == (frozenset({"volume"}), {"volume": "number"})
    assert facts["calling.play.stop"] == (frozenset(), {})
    assert facts["messaging.send"][0] == frozenset({"context", "to_number", "from_number"})


def test_declared_facts_are_plain_data() -> None:
    facts = ops.param_facts()
    frozen: FrozenSet[str] = facts["calling.end"][0]
    assert frozen == frozenset() and facts["calling.end"][1] == {"reason": "str"}
    assert facts is not ops.param_facts()  # a fresh copy each time
