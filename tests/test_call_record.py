"""record, tap, stream and transcribe against RelaySimulator over a real socket."""

from __future__ import annotations

from typing import Any, List

import pytest

from relaysync import (
    Action,
    CallEndedError,
    RecordAction,
    RecordResult,
    RelayClient,
    RelayError,
    StreamResult,
    TapResult,
    TranscribeResult,
)
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_pair

pytestmark = pytest.mark.timeout(30)

TAP = {"type": "audio", "params": {"direction": "both"}}
RTP = {"type": "rtp", "params": {"addr": "127.0.0.1", "port": 5000}}


def test_record_a_message_that_ends_in_silence(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.leave_message(2.0, end="silence")
    action = call.record(audio={"beep": True, "format": "wav", "end_silence_timeout": 1})
    assert isinstance(action, RecordAction)
    result = action.wait(10)
    assert isinstance(result, RecordResult)
    assert result.state == "finished" and result.successful
    assert result.url and result.duration and result.duration > 0 and result.size
    frame = sim.journal.requests("calling.record")[-1]["params"]
    assert frame["record"] == {"audio": {"beep": True, "format": "wav", "end_silence_timeout": 1}}
    assert frame["control_id"] == action.control_id


def test_record_keywords_merge_into_audio(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.leave_message(1.0, end="terminator")
    result = call.record(audio={"format": "wav"}, format="mp3", terminators="#").wait(10)
    assert result.state == "finished"
    audio = sim.journal.requests("calling.record")[-1]["params"]["record"]["audio"]
    assert audio == {"format": "mp3", "terminators": "#"}


def test_record_no_input(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.stay_silent()
    result = call.record(initial_timeout=1).wait(10)
    assert result.state == "no_input" and not result.successful


def test_record_pause_resume_stop(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.leave_message(1000.0, end="talk")
    states = Recorder()
    call.on("calling.call.record", lambda event: states(getattr(event, "state", None)))
    action = call.record()
    states.wait_for(lambda items: "recording" in items)
    action.pause(behavior="silence")
    states.wait_for(lambda items: "paused" in items)
    action.resume()
    states.wait_for(lambda items: items.count("recording") >= 2)
    assert not action.done
    action.stop()
    result = action.wait(10)
    assert result.state == "finished" and result.url
    pause = sim.journal.requests("calling.record.pause")[-1]["params"]
    assert pause["behavior"] == "silence" and pause["control_id"] == action.control_id
    assert sim.journal.requests("calling.record.resume")
    assert sim.journal.requests("calling.record.stop")


def test_record_pause_refuses_unknown_behavior(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.leave_message(1000.0, end="talk")
    action = call.record()
    with pytest.raises(ValueError, match="behavior"):
        action.pause(behavior="mute")
    assert not sim.journal.requests("calling.record.pause")
    action.stop()
    action.wait(10)


def test_caller_hanging_up_mid_record_finishes_with_url(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, handle = answered_pair(client, sim)
    handle.leave_message(2.0, end="hangup")
    completed = Recorder()
    action = call.record(on_completed=completed)
    result = action.wait(10)
    assert result.state == "finished" and result.url
    call.wait_for_ended(10)
    completed.wait_for(lambda items: len(items) == 1)
    assert completed.items == [action]


def test_record_on_ended_call_sends_nothing(client: RelayClient, sim: RelaySimulator) -> None:
    call, handle = answered_pair(client, sim)
    handle.hangup()
    call.wait_for_ended(10)
    with pytest.raises(CallEndedError):
        call.record()
    assert not sim.journal.requests("calling.record")


def test_tap_until_stopped(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    action = call.tap(TAP, RTP)
    action.stop()
    result = action.wait(10)
    assert isinstance(result, TapResult) and result.state == "finished" and result.successful
    frame = sim.journal.requests("calling.tap")[-1]["params"]
    assert frame["tap"] == TAP and frame["device"] == RTP


def test_tap_needs_tap_and_device(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.raises(ValueError, match="device"):
        call.tap(TAP, {})
    with pytest.raises(ValueError, match="tap"):
        call.tap({}, RTP)
    assert not sim.journal.requests("calling.tap")


def test_stream_until_stopped(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    action = call.stream("wss://media.example.com/in", name="agent", track="both_tracks")
    action.stop()
    result = action.wait(10)
    assert isinstance(result, StreamResult) and result.state == "finished"
    assert result.url == "wss://media.example.com/in" and result.name == "agent"
    with pytest.raises(ValueError, match="track"):
        call.stream("wss://media.example.com/in", track="left")
    assert len(sim.journal.requests("calling.stream")) == 1


def test_transcribe_stop_and_second_transcription(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    action = call.transcribe()
    with pytest.raises(RelayError) as info:
        call.transcribe()
    assert info.value.code == 409
    action.stop()
    result = action.wait(10)
    assert isinstance(result, TranscribeResult) and result.state == "finished" and result.url


def test_media_actions_settle_when_the_caller_hangs_up(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, handle = answered_pair(client, sim)
    actions: List[Action[Any]] = [
        call.tap(TAP, RTP),
        call.stream("wss://media.example.com/in"),
        call.transcribe(),
    ]
    handle.hangup()
    for action in actions:
        assert action.wait(10).state == "finished"
    call.wait_for_ended(10)


def test_stopping_a_recording_that_already_ended_leaves_the_call_up(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, handle = answered_pair(client, sim)
    handle.stay_silent()
    action = call.record(initial_timeout=1)
    assert action.wait(10).state == "no_input"
    action.stop()  # the server answers 404 (no such recording): nothing left to stop
    assert sim.journal.requests("calling.record.stop")
    with pytest.raises(RelayError) as info:
        action.pause()
    assert info.value.code == 404 and not isinstance(info.value, CallEndedError)
    assert call.state == "answered"  # a sub-command's 404 does not end the call
    assert call.play_tts("still here").wait(10).state == "finished"
