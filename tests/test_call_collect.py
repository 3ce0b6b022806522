"""collect, play_and_collect and the prompts against RelaySimulator over a real socket."""

from __future__ import annotations

import pytest

from relaysync import CallEndedError, CollectAction, CollectResult, RelayClient
from relaysync.events import CollectEvent
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_pair

pytestmark = pytest.mark.timeout(30)


def test_collect_digits_with_terminator(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.press("12#")
    action = call.collect(digits={"max": 4, "terminators": "#"}, initial_timeout=5)
    assert isinstance(action, CollectAction)
    result = action.wait(10)
    assert isinstance(result, CollectResult)
    assert (result.type, result.digits, result.terminator, result.successful) == (
        "digit",
        "12",
        "#",
        True,
    )
    frame = sim.journal.requests("calling.collect")[-1]["params"]
    assert frame["digits"] == {"max": 4, "terminators": "#"} and frame["initial_timeout"] == 5
    assert "speech" not in frame and "continuous" not in frame


def test_collect_speech(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.say("billing please", confidence=0.8)
    result = call.collect(speech={"end_silence_timeout": 1, "hints": ["billing"]}).wait(10)
    assert result.type == "speech" and result.text == "billing please"
    assert result.confidence == pytest.approx(0.8) and result.successful


def test_collect_no_input_and_no_match(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.stay_silent()
    result = call.collect(digits={"max": 1}, initial_timeout=1).wait(10)
    assert result.type == "no_input" and not result.successful
    handle.say_nonsense()
    result = call.collect(speech={}, digits={"max": 1}).wait(10)
    assert result.type == "no_match" and not result.successful


def test_each_scripted_input_goes_to_one_collect_in_order(
    client: RelayClient, sim: RelaySimulator
) -> None:
    # An IVR menu: the caller says nothing to the first prompt, then presses 1 when
    # asked again. The silence belongs to the first collect alone.
    call, handle = answered_pair(client, sim)
    handle.stay_silent()
    handle.press("1")
    menu = "Press 1 for sales."
    first = call.prompt_tts(menu, digits={"max": 1}, initial_timeout=5).wait(10)
    assert (first.type, first.digits, first.successful) == ("no_input", None, False)
    call.play_tts("Sorry, I didn't hear anything.").wait(10)
    second = call.prompt_tts(menu, digits={"max": 1}, initial_timeout=5).wait(10)
    assert (second.type, second.digits, second.successful) == ("digit", "1", True)
    finals = [
        e.frame["params"]["params"]["result"]["type"]
        for e in sim.journal.entries
        if isinstance(e.frame, dict)
        and e.frame.get("method") == "signalwire.event"
        and e.frame["params"]["event_type"] == "calling.call.collect"
        and e.frame["params"]["params"].get("final")
    ]
    assert finals == ["no_input", "digit"]


def test_partial_results_and_start_of_input_never_settle(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, handle = answered_pair(client, sim)
    handle.say("talk to sales", partial=True)
    seen = Recorder()
    call.on("calling.call.collect", seen)
    result = call.collect(
        speech={"end_silence_timeout": 1}, partial_results=True, send_start_of_input=True
    ).wait(10)
    assert result.type == "speech" and result.text == "talk to sales"
    events = seen.wait_for(lambda items: any(e.final is True for e in items))
    kinds = [(e.result_type, e.final) for e in events if isinstance(e, CollectEvent)]
    assert kinds[0][0] == "start_of_input"
    assert any(kind == "speech" and final is False for kind, final in kinds)
    assert kinds[-1] == ("speech", True)


def test_continuous_collect_settles_on_finished(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.press("1")
    handle.press("2")
    seen = Recorder()
    call.on("calling.call.collect", seen)  # before the collect starts: no event is missed
    # initial_timeout 1000 is 10 s here: no no_input ends the collect before the stop
    action = call.collect(digits={"max": 1}, continuous=True, initial_timeout=1000)
    seen.wait_for(lambda items: sum(1 for e in items if e.result_type == "digit") >= 2, timeout=10)
    assert not action.done
    action.stop()
    result = action.wait(10)
    assert [r.digits for r in action.results if r.type == "digit"] == ["1", "2"]
    assert result.state == "finished"


def test_collect_start_input_timers_and_stop(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    action = call.collect(digits={"max": 1}, initial_timeout=1, start_input_timers=False)
    action.start_input_timers()
    result = action.wait(10)
    assert result.type == "no_input"
    frame = sim.journal.requests("calling.collect.start_input_timers")[-1]["params"]
    assert frame["control_id"] == action.control_id
    handle.stay_silent()
    action = call.collect(digits={"max": 1}, initial_timeout=1000)
    action.stop()
    result = action.wait(10)
    assert result.state == "finished" and not result.successful
    with pytest.raises(NotImplementedError):
        action.volume(3)


def test_collect_needs_digits_or_speech(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.raises(ValueError, match="digits or speech"):
        call.collect()
    with pytest.raises(ValueError, match="digits or speech"):
        call.play_and_collect("Hello", {"initial_timeout": 5})
    assert not sim.journal.requests("calling.collect")
    assert not sim.journal.requests("calling.play_and_collect")


def test_play_and_collect_settles_on_collect_only(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.press("1", delay=2.0)
    plays = Recorder()
    call.on("calling.call.play", lambda event: plays(getattr(event, "state", None)))
    action = call.play_and_collect(
        {"type": "tts", "text": "Press 1 for sales"}, {"digits": {"max": 1}, "initial_timeout": 5}
    )
    plays.wait_for(lambda items: "finished" in items)
    result = action.wait(10)
    assert result.type == "digit" and result.digits == "1"
    frame = sim.journal.requests("calling.play_and_collect")[-1]["params"]
    assert frame["play"] == [{"type": "tts", "params": {"text": "Press 1 for sales"}}]
    assert frame["collect"] == {"digits": {"max": 1}, "initial_timeout": 5}


def test_prompt_tts_volume_and_stop(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.stay_silent()
    action = call.prompt_tts("Say something", speech={}, initial_timeout=1000, volume=-3)
    action.volume(6)
    action.start_input_timers()
    action.stop()
    result = action.wait(10)
    assert result.state == "finished"
    frame = sim.journal.requests("calling.play_and_collect")[-1]["params"]
    assert frame["volume"] == -3 and frame["collect"] == {"speech": {}, "initial_timeout": 1000}
    assert sim.journal.requests("calling.play_and_collect.volume")[-1]["params"]["volume"] == 6
    assert sim.journal.requests("calling.play_and_collect.stop")
    assert sim.journal.requests("calling.collect.start_input_timers")


def test_prompt_audio_and_plain_string_media(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.press("7")
    assert (
        call.prompt_audio("https://example.com/menu.wav", digits={"max": 1}).wait(10).digits == "7"
    )
    handle.press("8")
    assert call.play_and_collect("https://example.com/m.wav", {"digits": {"max": 1}}).wait(10)
    plays = [f["params"]["play"] for f in sim.journal.requests("calling.play_and_collect")]
    assert plays == [
        [{"type": "audio", "params": {"url": "https://example.com/menu.wav"}}],
        [{"type": "audio", "params": {"url": "https://example.com/m.wav"}}],
    ]


def test_collect_settles_when_the_caller_hangs_up(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.stay_silent()
    action = call.collect(digits={"max": 1}, initial_timeout=1000)
    prompt = call.prompt_tts("Hello", digits={"max": 1}, initial_timeout=1000)
    handle.hangup()
    for pending in (action, prompt):
        try:
            result = pending.wait(10)
        except CallEndedError:
            continue
        assert not result.successful
    call.wait_for_ended(10)
