"""Conferences, queues, rooms and the other one-shot methods against RelaySimulator."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from relaysync import Call, RelayClient
from relaysync.events import ConferenceEvent, DenoiseEvent, EchoEvent, HoldEvent, QueueEvent
from relaysync.testing import RelaySimulator

from .helpers import Recorder, answered_pair

pytestmark = pytest.mark.timeout(30)


def _two_answered(client: RelayClient, sim: RelaySimulator) -> List[Call]:
    calls = Recorder()

    def handler(call: Call) -> None:
        call.answer()
        calls(call)

    client.on_call(handler)
    sim.inbound_call("office", from_="+15550000001")
    sim.inbound_call("office", from_="+15550000002")
    return calls.wait_for(lambda items: len(items) == 2)


def test_conference_join_and_leave(client: RelayClient, sim: RelaySimulator) -> None:
    first, second = _two_answered(client, sim)
    seen = Recorder()
    first.on("calling.conference", seen)
    result = first.join_conference("standup", beep="onEnter", max_participants=10)
    second.join_conference("standup", muted=True)
    events = seen.wait_for(
        lambda items: any(getattr(e, "status", "") == "participant-join" for e in items)
    )
    assert all(isinstance(e, ConferenceEvent) for e in events)
    conference_id = result.get("conference_id") or events[-1].conference_id
    assert conference_id
    second.leave_conference(str(conference_id))
    frame = sim.journal.requests("calling.join_conference")[0]["params"]
    assert frame["name"] == "standup" and frame["beep"] == "onEnter"
    assert frame["max_participants"] == 10 and "muted" not in frame


@pytest.mark.parametrize(
    "options",
    [
        {"max_participants": 0},
        {"max_participants": 251},
        {"max_participants": 2.5},
        {"beep": "always"},
        {"record": "sometimes"},
        {"status_callback_event_type": "xml"},
    ],
)
def test_conference_options_out_of_range_are_refused(
    client: RelayClient, sim: RelaySimulator, options: Dict[str, Any]
) -> None:
    call, _ = answered_pair(client, sim)
    with pytest.raises(ValueError):
        call.join_conference("standup", **options)
    with pytest.raises(ValueError, match="name"):
        call.join_conference("")
    assert not sim.journal.requests("calling.join_conference")


def test_queue_enter_and_leave(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    seen = Recorder()
    call.on("calling.call.queue", seen)
    call.queue_enter("support")
    enqueued = seen.wait_for(lambda items: len(items) == 1)[0]
    assert isinstance(enqueued, QueueEvent)
    assert (enqueued.status, enqueued.queue_name, enqueued.position) == ("enqueue", "support", 1)
    call.queue_leave("support", enqueued.queue_id)
    left = seen.wait_for(lambda items: len(items) == 2)[1]
    assert left.status == "leave"
    frame = sim.journal.requests("calling.queue.enter")[-1]["params"]
    assert frame["queue_name"] == "support" and frame["control_id"]


def test_hold_denoise_echo(client: RelayClient, sim: RelaySimulator) -> None:
    call, _ = answered_pair(client, sim)
    seen = Recorder()
    call.on("*", seen)
    call.hold()
    call.unhold()
    call.denoise()
    call.denoise_stop()
    call.echo(timeout=1)
    events = seen.wait_for(
        lambda items: (
            sum(isinstance(e, HoldEvent) for e in items) == 2
            and sum(isinstance(e, DenoiseEvent) for e in items) == 2
            and any(isinstance(e, EchoEvent) for e in items)
        )
    )
    assert [e.denoised for e in events if isinstance(e, DenoiseEvent)] == [True, False]
    with pytest.raises(ValueError, match="timeout"):
        call.echo(timeout=-1)
    assert len(sim.journal.requests("calling.echo")) == 1


def test_digit_binding_fires_on_the_callers_digits(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, handle = answered_pair(client, sim)
    plays = Recorder()
    call.on("calling.call.play", plays)
    call.bind_digit(
        "*1",
        "calling.play",
        params={"control_id": "bound", "play": [{"type": "tts", "params": {"text": "Bound"}}]},
        realm="menu",
        max_triggers=1,
    )
    handle.press("*1")
    plays.wait_for(lambda items: len(items) >= 1, timeout=10)
    call.clear_digit_bindings("menu")
    with pytest.raises(ValueError, match="digits"):
        call.bind_digit("x", "calling.play")
    with pytest.raises(ValueError, match="max_triggers"):
        call.bind_digit("1", "calling.play", max_triggers=-1)
    assert len(sim.journal.requests("calling.bind_digit")) == 1


def test_live_transcribe_translate_rooms_user_event(
    client: RelayClient, sim: RelaySimulator
) -> None:
    call, _ = answered_pair(client, sim)
    call.live_transcribe({"start": {"lang": "en-US"}})
    call.live_transcribe("stop")
    call.live_translate("summarize")
    with pytest.raises(ValueError, match="action"):
        call.live_transcribe("inject")
    with pytest.raises(ValueError, match="action"):
        call.live_translate({"start": {}, "stop": {}})
    call.join_room("lobby")
    call.leave_room()
    call.user_event({"kind": "note", "text": "vip"})
    frames = sim.journal.requests("calling.live_transcribe")
    assert [f["params"]["action"] for f in frames] == [{"start": {"lang": "en-US"}}, {"stop": {}}]
    assert sim.journal.requests("calling.user_event")[-1]["params"]["event"]["kind"] == "note"
