"""Unit tests for relaysync.events (typed event parsing) and relaysync.results."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from typing import Any, Dict, List, Type

import attrs
import pytest

from relaysync import constants as C
from relaysync import events as ev
from relaysync.events import EVENT_CLASSES, RelayEvent, parse_event
from relaysync.results import ActionResult, ConnectResult, PlayResult, ReferResult

pytestmark = pytest.mark.timeout(10)


def frame_params(event_type: str, params: Any, **outer: Any) -> Dict[str, Any]:
    """The outer ``params`` of a signalwire.event frame."""
    return {"event_type": event_type, "params": params, **outer}


PHONE_OUT = {
    "type": "phone",
    "params": {"from_number": "+15550001111", "to_number": "+15550002222"},
}


# ---------------------------------------------------------------- PROTOCOL.md examples


def test_call_state_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.state",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-1",
                "tag": "t-42",
                "call_state": "ended",
                "end_reason": "hangup",
                "direction": "outbound",
                "device": PHONE_OUT,
            },
            timestamp=1762966700.5,
        ),
        "ev-1",
    )
    assert isinstance(e, ev.CallStateEvent)
    assert (e.call_id, e.node_id, e.tag) == ("c-1", "n-1@us-east", "t-42")
    assert (e.call_state, e.end_reason, e.direction) == ("ended", "hangup", "outbound")
    assert e.device == PHONE_OUT and e.peer is None
    assert e.timestamp == 1762966700.5 and e.event_id == "ev-1"


def test_an_event_mapping_field_is_the_dict_its_params_hold_not_the_frame_s() -> None:
    device: Dict[str, Any] = {"type": "phone", "params": {"from_number": "+15550001111"}}
    frame = frame_params("calling.call.state", {"call_id": "c-1", "device": device})
    e = parse_event(frame, "ev-1")
    assert isinstance(e, ev.CallStateEvent)
    assert e.device is e.params["device"]  # one object per event, not two
    assert e.device == device and e.device is not device  # the event's own copy
    device["params"]["from_number"] = "+15559999999"
    assert e.device["params"]["from_number"] == "+15550001111"


def test_state_events_of_one_call_share_its_device_until_it_ends() -> None:
    def state(call_id: str, call_state: str, device: Dict[str, Any]) -> RelayEvent:
        payload = {"call_id": call_id, "call_state": call_state, "device": device}
        return parse_event(frame_params("calling.call.state", payload), None)

    phone: Dict[str, Any] = {"type": "phone", "params": {"from_number": "+15550001111"}}
    ringing = state("c-share", "ringing", {**phone})
    answered = state("c-share", "answered", {**phone})
    other = state("c-other", "answered", {**phone})
    moved = state("c-share", "ending", {"type": "phone", "params": {"from_number": "+1"}})
    ended = state("c-share", "ended", {**phone})
    again = state("c-share", "answered", {**phone})
    assert answered.params["device"] is ringing.params["device"]
    assert answered.device is ringing.device  # type: ignore[attr-defined]
    assert other.params["device"] is not ringing.params["device"]  # another call's own
    assert moved.params["device"] == {"type": "phone", "params": {"from_number": "+1"}}
    assert ended.params["device"] is ringing.params["device"]  # shared, then forgotten
    assert again.params["device"] is not ringing.params["device"]
    assert again.params["device"] == phone


def test_the_device_memo_forgets_its_oldest_call_when_full() -> None:
    from relaysync import _event_base

    memo = _event_base._DeviceMemo(2)
    for call_id in ("c-1", "c-2", "c-3"):
        memo.share({"call_state": "ringing", "device": {"type": "phone", "n": call_id}}, call_id)
    assert list(memo._devices) == ["c-2", "c-3"]


def test_the_device_memo_starts_empty_in_a_forked_child() -> None:
    from relaysync import _event_base

    memo = _event_base._DeviceMemo(4)
    memo.share({"call_state": "ringing", "device": {"type": "phone"}}, "c-fork")
    held = memo._lock
    held.acquire()  # as if another thread held it at the fork
    try:
        memo.forget_all()
        inner: Dict[str, Any] = {"call_state": "ringing", "device": {"type": "phone"}}
        memo.share(inner, "c-fork")  # a new lock: no deadlock, nothing remembered
        assert memo._devices == {"c-fork": inner["device"]}
    finally:
        held.release()


def test_the_device_memo_keeps_only_a_state_or_receive_events_device() -> None:
    from relaysync import _event_base

    memo = _event_base._DeviceMemo(4)
    memo.share({"tap": {}, "device": {"type": "rtp", "params": {"addr": "h"}}}, "c-tap")
    assert memo._devices == {}  # a tap's device is where the audio goes, not the call's
    own = {"type": "phone", "params": {"to_number": "+1"}}
    memo.share({"call_state": "ringing", "device": own}, "c-tap")
    assert memo._devices == {"c-tap": own}


_FORK_WHILE_HELD = """
import os, signal
from relaysync import _event_base
from relaysync.events import parse_event

_event_base._devices._lock.acquire()  # as if the reader held it at the fork
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a deadlocked child ends by SIGALRM instead of hanging
    frame = {"event_type": "calling.call.state", "params": {
        "call_id": "c-f", "call_state": "ringing", "device": {"type": "phone"}}}
    parse_event(frame)  # the child's memo has a lock of its own: no deadlock
    os._exit(0)
print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
@pytest.mark.timeout(60)
def test_a_forked_child_parses_events_while_the_parent_held_the_device_memo() -> None:
    child = subprocess.run(
        [sys.executable, "-c", _FORK_WHILE_HELD],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert child.stdout.strip() == "child 0", (child.stdout, child.stderr)


def test_call_state_peer() -> None:
    e = parse_event(
        frame_params(
            "calling.call.state",
            {"call_id": "c-1", "call_state": "answered", "peer": {"node_id": "n", "call_id": "p"}},
        )
    )
    assert isinstance(e, ev.CallStateEvent)
    assert e.peer == {"node_id": "n", "call_id": "p"}


def test_call_receive_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.receive",
            {
                "call_id": "c-in-1",
                "node_id": "n-1@us-east",
                "tag": "",
                "call_state": "created",
                "direction": "inbound",
                "context": "office",
                "project_id": "1111",
                "segment_id": "seg-1",
                "device": {
                    "type": "phone",
                    "params": {"from_number": "+15551110000", "to_number": "+15552220000"},
                },
            },
            timestamp=1762966690.1,
        ),
        "ev-2",
    )
    assert isinstance(e, ev.CallReceiveEvent)
    assert (e.call_id, e.tag, e.call_state, e.direction) == ("c-in-1", "", "created", "inbound")
    assert e.context == "office"
    assert (e.from_number, e.to_number) == ("+15551110000", "+15552220000")
    assert e.timestamp == 1762966690.1


def test_call_receive_context_falls_back_to_protocol_and_sip_numbers() -> None:
    e = parse_event(
        frame_params(
            "calling.call.receive",
            {
                "call_id": "c",
                "protocol": "signalwire_abc",
                "device": {"type": "sip", "params": {"from": "sip:a@x", "to": "sip:b@y"}},
            },
        )
    )
    assert isinstance(e, ev.CallReceiveEvent)
    assert e.context == "signalwire_abc"
    assert (e.from_number, e.to_number) == ("sip:a@x", "sip:b@y")
    preferred = parse_event(
        frame_params("calling.call.receive", {"context": "office", "protocol": "p"})
    )
    assert isinstance(preferred, ev.CallReceiveEvent) and preferred.context == "office"


def test_dial_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.dial",
            {
                "node_id": "n-1@us-east",
                "tag": "t-42",
                "dial_state": "answered",
                "call": {
                    "call_id": "c-out-9",
                    "node_id": "n-1@us-east",
                    "tag": "t-42",
                    "device": PHONE_OUT,
                    "dial_winner": True,
                },
            },
        ),
        "ev-3",
    )
    assert isinstance(e, ev.DialEvent)
    assert e.call_id is None and e.tag == "t-42"
    assert e.dial_state == "answered" and e.dial_winner is True
    assert e.call["call_id"] == "c-out-9" and e.reason is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (True, True),
        (None, False),
        ("x", False),
    ],
)
def test_dial_winner_accepts_strings(value: Any, expected: bool) -> None:
    e = parse_event(
        frame_params(
            "calling.call.dial", {"dial_state": "answered", "call": {"dial_winner": value}}
        )
    )
    assert isinstance(e, ev.DialEvent) and e.dial_winner is expected


def test_dial_failed() -> None:
    e = parse_event(
        frame_params(
            "calling.call.dial", {"tag": "t", "dial_state": "failed", "reason": "busy", "call": {}}
        )
    )
    assert isinstance(e, ev.DialEvent)
    assert (e.dial_state, e.reason, e.call, e.dial_winner) == ("failed", "busy", {}, False)


def test_connect_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.connect",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-in-1",
                "tag": "",
                "connect_state": "connected",
                "peer": {
                    "node_id": "n-2@us-east",
                    "call_id": "c-peer-1",
                    "tag": "conn-7",
                    "device": PHONE_OUT,
                },
            },
        ),
        "ev-4",
    )
    assert isinstance(e, ev.ConnectEvent)
    assert e.connect_state == "connected" and e.failed_reason is None
    assert e.peer is not None and e.peer["call_id"] == "c-peer-1"


def test_play_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.play",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-1",
                "control_id": "ctl-play-1",
                "state": "finished",
            },
        ),
        "ev-5",
    )
    assert isinstance(e, ev.PlayEvent)
    assert (e.control_id, e.state) == ("ctl-play-1", "finished")


def test_record_example_nested() -> None:
    e = parse_event(
        frame_params(
            "calling.call.record",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-1",
                "control_id": "ctl-rec-1",
                "state": "finished",
                "record": {
                    "url": "https://example.signalwire.com/api/v1/recordings/r-1/download",
                    "duration": 15.5,
                    "size": 248320,
                    "format": "wav",
                },
            },
        )
    )
    assert isinstance(e, ev.RecordEvent)
    assert e.state == "finished" and e.url is not None and e.url.endswith("/r-1/download")
    assert (e.duration, e.size, e.format) == (15.5, 248320, "wav")


def test_record_top_level_fallback_and_nested_preferred() -> None:
    e = parse_event(
        frame_params(
            "calling.call.record",
            {
                "state": "finished",
                "url": "https://top",
                "duration": 3,
                "size": 10,
                "record": {"audio": {"format": "mp3"}},
            },
        )
    )
    assert isinstance(e, ev.RecordEvent)
    assert (e.url, e.duration, e.size, e.format) == ("https://top", 3.0, 10, None)
    both = parse_event(
        frame_params(
            "calling.call.record", {"url": "https://top", "record": {"url": "https://nested"}}
        )
    )
    assert isinstance(both, ev.RecordEvent) and both.url == "https://nested"


def test_collect_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.collect",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-1",
                "control_id": "ctl-pac-1",
                "final": True,
                "result": {"type": "digit", "params": {"digits": "1234", "terminator": "#"}},
            },
        )
    )
    assert isinstance(e, ev.CollectEvent)
    assert e.result_type == "digit" and e.final is True and e.state is None
    assert e.result["params"]["digits"] == "1234"


def test_collect_final_absent_is_none() -> None:
    e = parse_event(
        frame_params(
            "calling.call.collect", {"state": "collecting", "result": {"type": "start_of_input"}}
        )
    )
    assert isinstance(e, ev.CollectEvent)
    assert e.final is None and e.state == "collecting" and e.result_type == "start_of_input"
    partial = parse_event(frame_params("calling.call.collect", {"final": False}))
    assert isinstance(partial, ev.CollectEvent) and partial.final is False
    assert partial.result == {}


def test_detect_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.detect",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-1",
                "control_id": "ctl-det-1",
                "detect": {"type": "machine", "params": {"event": "HUMAN"}},
            },
        )
    )
    assert isinstance(e, ev.DetectEvent)
    assert (e.detect_type, e.detect_event) == ("machine", "HUMAN")
    assert e.detect["type"] == "machine"


def test_fax_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.fax",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-1",
                "control_id": "ctl-fax-1",
                "fax": {
                    "type": "finished",
                    "params": {
                        "direction": "send",
                        "identity": "+15551110000",
                        "remote_identity": "+15552220000",
                        "document": "https://example.com/doc.pdf",
                        "pages": 3,
                        "success": True,
                        "result": 0,
                        "result_text": "OK",
                        "format": "pdf",
                    },
                },
            },
        )
    )
    assert isinstance(e, ev.FaxEvent)
    assert e.fax_type == "finished"
    assert e.fax_params["pages"] == 3 and e.fax_params["success"] is True


def test_tap() -> None:
    e = parse_event(
        frame_params(
            "calling.call.tap",
            {
                "call_id": "c-1",
                "control_id": "ctl-tap",
                "state": "tapping",
                "tap": {"type": "audio", "params": {"direction": "both"}},
                "device": {"type": "rtp", "params": {"addr": "127.0.0.1", "port": 1234}},
            },
        )
    )
    assert isinstance(e, ev.TapEvent)
    assert e.state == "tapping"
    assert e.tap == {"type": "audio", "params": {"direction": "both"}}
    assert e.device is not None and e.device["type"] == "rtp"


def test_stream() -> None:
    e = parse_event(
        frame_params(
            "calling.call.stream",
            {
                "call_id": "c-1",
                "control_id": "s",
                "state": "streaming",
                "url": "wss://x",
                "name": "n",
            },
        )
    )
    assert isinstance(e, ev.StreamEvent)
    assert (e.state, e.url, e.name) == ("streaming", "wss://x", "n")


def test_send_digits() -> None:
    e = parse_event(
        frame_params(
            "calling.call.send_digits", {"call_id": "c-1", "control_id": "d", "state": "finished"}
        )
    )
    assert isinstance(e, ev.SendDigitsEvent) and e.state == "finished"


def test_pay_progress_and_final() -> None:
    progress = parse_event(
        frame_params(
            "calling.call.pay",
            {
                "call_id": "c-1",
                "control_id": "p",
                "for": "payment-card-number",
                "error_type": "",
                "attempt": 1,
            },
        )
    )
    assert isinstance(progress, ev.PayEvent)
    assert (progress.for_, progress.result, progress.state) == ("payment-card-number", None, None)
    final = parse_event(
        frame_params(
            "calling.call.pay",
            {"call_id": "c-1", "control_id": "p", "result": "success", "payment_token": "tok"},
        )
    )
    assert isinstance(final, ev.PayEvent) and final.result == "success"


def test_transcribe() -> None:
    e = parse_event(
        frame_params(
            "calling.call.transcribe",
            {"call_id": "c-1", "control_id": "t", "state": "finished", "url": "https://t"},
        )
    )
    assert isinstance(e, ev.TranscribeEvent) and (e.state, e.url) == ("finished", "https://t")


def test_queue_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.queue",
            {
                "status": "enqueue",
                "id": "q-entry-1",
                "name": "support",
                "position": 1,
                "size": 1,
                "avg_time": 0,
                "enqueue_ts": 1762966696203260,
                "dequeue_ts": 0,
                "leave_ts": 0,
                "control_id": "ctl-q-1",
                "call_id": "c-1",
                "node_id": "n-1@us-east",
            },
        )
    )
    assert isinstance(e, ev.QueueEvent)
    assert (e.status, e.queue_id, e.queue_name, e.position, e.size) == (
        "enqueue",
        "q-entry-1",
        "support",
        1,
        1,
    )


def test_queue_dequeue_with_null_control_id() -> None:
    e = parse_event(
        frame_params("calling.call.queue", {"status": "dequeue", "control_id": None, "size": 0})
    )
    assert isinstance(e, ev.QueueEvent)
    assert e.control_id is None and e.size == 0


@pytest.mark.parametrize(
    ("event_type", "cls"),
    [
        ("calling.call.echo", ev.EchoEvent),
        ("calling.call.hold", ev.HoldEvent),
        ("calling.call.ai", ev.AIEvent),
    ],
)
def test_state_only_events(event_type: str, cls: type) -> None:
    e = parse_event(frame_params(event_type, {"call_id": "c-1", "state": "finished"}))
    assert type(e) is cls
    assert e.state == "finished"  # type: ignore[attr-defined]


def test_denoise_defaults_false() -> None:
    e = parse_event(frame_params("calling.call.denoise", {"call_id": "c-1"}))
    assert isinstance(e, ev.DenoiseEvent) and e.denoised is False
    on = parse_event(frame_params("calling.call.denoise", {"call_id": "c-1", "denoised": True}))
    assert isinstance(on, ev.DenoiseEvent) and on.denoised is True


def test_conference() -> None:
    e = parse_event(
        frame_params(
            "calling.conference", {"conference_id": "conf-1", "name": "room", "status": "active"}
        )
    )
    assert isinstance(e, ev.ConferenceEvent)
    assert (e.conference_id, e.name, e.status, e.call_id) == ("conf-1", "room", "active", None)


def test_calling_error_example() -> None:
    e = parse_event(
        frame_params(
            "calling.error", {"call_id": "c-1", "code": "5001", "message": "media failure"}
        ),
        "ev-11",
    )
    assert isinstance(e, ev.CallingErrorEvent)
    assert (e.call_id, e.code, e.message) == ("c-1", "5001", "media failure")
    numeric = parse_event(frame_params("calling.error", {"code": 5001}))
    assert isinstance(numeric, ev.CallingErrorEvent) and numeric.code == "5001"


def test_refer_example() -> None:
    e = parse_event(
        frame_params(
            "calling.call.refer",
            {
                "node_id": "n-1@us-east",
                "call_id": "c-sip-1",
                "state": "success",
                "sip_refer_to": "sip:alice@pbx.example.com",
                "sip_refer_response_code": "202",
                "sip_notify_response_code": "200",
            },
        ),
        "ev-12",
    )
    assert isinstance(e, ev.ReferEvent)
    assert (e.state, e.sip_refer_to) == ("success", "sip:alice@pbx.example.com")
    assert (e.sip_refer_response_code, e.sip_notify_response_code) == ("202", "200")


def test_refer_codes_stay_strings_when_ints_arrive() -> None:
    e = parse_event(
        frame_params(
            "calling.call.refer",
            {
                "state": "inProgress",
                "sip_refer_response_code": 202,
                "sip_notify_response_code": 200.0,
            },
        )
    )
    assert isinstance(e, ev.ReferEvent)
    assert (e.sip_refer_response_code, e.sip_notify_response_code) == ("202", "200")
    garbage = parse_event(
        frame_params(
            "calling.call.refer",
            {"sip_refer_response_code": True, "sip_notify_response_code": [200]},
        )
    )
    assert isinstance(garbage, ev.ReferEvent)
    assert garbage.sip_refer_response_code is None and garbage.sip_notify_response_code is None


MESSAGE_RECEIVE = {
    "message_id": "in-msg-1",
    "context": "office",
    "direction": "inbound",
    "from_number": "+15553333333",
    "to_number": "+15551111111",
    "body": "hi there",
    "media": [],
    "segments": 1,
    "message_state": "received",
    "tags": [],
}


def test_messaging_receive_example() -> None:
    e = parse_event(frame_params("messaging.receive", MESSAGE_RECEIVE), "ev-20")
    assert isinstance(e, ev.MessageReceiveEvent) and isinstance(e, ev.MessagingEvent)
    assert (e.message_id, e.message_state, e.direction) == ("in-msg-1", "received", "inbound")
    assert (e.from_number, e.to_number, e.body) == ("+15553333333", "+15551111111", "hi there")
    assert (e.media, e.tags, e.segments, e.context, e.reason) == ((), (), 1, "office", None)


def test_messaging_state_example() -> None:
    e = parse_event(
        frame_params(
            "messaging.state",
            {
                "message_id": "0f6c2a5e",
                "context": "office",
                "direction": "outbound",
                "from_number": "+15551111111",
                "to_number": "+15552222222",
                "body": "Hello",
                "media": ["https://example.com/cat.jpg", 7],
                "segments": 1,
                "message_state": "undelivered",
                "reason": "carrier_blocked",
                "tags": ["vip"],
            },
        )
    )
    assert isinstance(e, ev.MessageStateEvent)
    assert (e.message_state, e.reason) == ("undelivered", "carrier_blocked")
    assert e.media == ("https://example.com/cat.jpg",) and e.tags == ("vip",)


def test_messaging_state_minimal() -> None:
    e = parse_event(frame_params("messaging.state", {"message_id": "m", "message_state": "sent"}))
    assert isinstance(e, ev.MessageStateEvent)
    assert (e.message_id, e.message_state, e.body, e.media) == ("m", "sent", None, ())


# ---------------------------------------------------------------- authorization state


def test_authorization_state_parsed_and_hidden_from_repr() -> None:
    blob = "q83vEjRWeJA=:3q2+7w=="
    e = parse_event(
        frame_params("signalwire.authorization.state", {"authorization_state": blob}), "a9"
    )
    assert isinstance(e, ev.AuthorizationStateEvent)
    assert e.authorization_state == blob
    assert blob not in repr(e) and blob not in str(e)
    assert "authorization_state" in repr(e)  # the key shows, masked, in params


def test_secrets_masked_in_params_repr_of_any_event() -> None:
    e = parse_event(
        frame_params(
            "x.unknown",
            {"device": {"type": "sip", "params": {"to": "sip:a@b", "password": "s3cret"}}},
        )
    )
    assert "s3cret" not in repr(e)
    assert e.params["device"]["params"]["password"] == "s3cret"


# ---------------------------------------------------------------- base, table, timestamps


def test_every_event_type_constant_has_a_class() -> None:
    types = {value for name, value in vars(C).items() if name.startswith("EVENT_")}
    assert types == set(EVENT_CLASSES)
    for event_type, cls in EVENT_CLASSES.items():
        e = parse_event(frame_params(event_type, {}))
        assert type(e) is cls and e.event_type == event_type


def test_all_exports_exist() -> None:
    for name in ev.__all__:
        assert hasattr(ev, name), name
    for cls in set(EVENT_CLASSES.values()):
        assert cls.__name__ in ev.__all__


def test_unknown_type_gives_base_event() -> None:
    e = parse_event(frame_params("calling.call.brand_new", {"call_id": "c", "x": 1}), 7)
    assert type(e) is RelayEvent
    assert (e.event_type, e.call_id, e.params, e.event_id) == (
        "calling.call.brand_new",
        "c",
        {"x": 1, "call_id": "c"},
        "7",
    )


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        [],
        "text",
        3,
        {"params": None},
        {"event_type": None},
        {"event_type": 5, "params": {}},
    ],
)
def test_empty_or_shapeless_payload(payload: Any) -> None:
    e = parse_event(payload)
    assert type(e) is RelayEvent
    assert e.params == {} or isinstance(e.params, dict)
    assert e.timestamp == 0.0 and e.call_id is None and isinstance(e.event_type, str)


def test_params_is_a_copy() -> None:
    inner = {"call_id": "c", "state": "playing"}
    e = parse_event(frame_params("calling.call.play", inner))
    inner["state"] = "changed"
    assert e.params == {"call_id": "c", "state": "playing"} and type(e.params) is dict


def test_events_are_frozen() -> None:
    e = parse_event(frame_params("calling.call.play", {"state": "playing"}))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        e.state = "finished"  # type: ignore[attr-defined]


def test_from_payload_on_a_subclass_and_outer_node_id() -> None:
    e = ev.PlayEvent.from_payload(
        {"event_type": "whatever", "node_id": "outer-node", "params": {"state": "playing"}}
    )
    assert isinstance(e, ev.PlayEvent)
    assert (e.state, e.node_id, e.event_type) == ("playing", "outer-node", "whatever")


def test_every_event_class_starts_with_the_shared_fields_in_their_order() -> None:
    # common_fields returns the shared fields positionally, in this order
    shared = ["event_type", "params", "call_id", "node_id", "control_id", "tag"]
    shared += ["timestamp", "event_id"]
    classes: List[Type[RelayEvent]] = [RelayEvent, *EVENT_CLASSES.values()]
    for cls in classes:
        assert [f.name for f in attrs.fields(cls)][: len(shared)] == shared, cls
    e = parse_event(
        {
            "event_type": "calling.call.state",
            "timestamp": 5.0,
            "params": {"call_id": "c", "node_id": "n", "tag": "t", "call_state": "ended"},
        },
        "e-1",
    )
    assert (e.event_type, e.call_id, e.node_id, e.control_id, e.tag) == (
        "calling.call.state",
        "c",
        "n",
        None,
        "t",
    )
    assert (e.timestamp, e.event_id, e.call_state) == (5.0, "e-1", "ended")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        (1762966700.5, None, 1762966700.5),  # envelope timestamp
        (None, 12.5, 12.5),  # inner params timestamp
        (None, None, 0.0),  # neither
        ("1762966700.25", None, 1762966700.25),  # numeric string
        ("soon", 7, 7.0),  # junk envelope: inner wins
        (True, None, 0.0),  # a bool is not a number
        (float("nan"), None, 0.0),
        (10, 20, 10.0),  # envelope preferred
    ],
)
def test_timestamp(outer: Any, inner: Any, expected: float) -> None:
    payload: Dict[str, Any] = {"event_type": "calling.call.play", "params": {}}
    if outer is not None:
        payload["timestamp"] = outer
    if inner is not None:
        payload["params"]["timestamp"] = inner
    e = parse_event(payload)
    assert e.timestamp == expected and isinstance(e.timestamp, float)


# ---------------------------------------------------------------- garbage never raises

_POOL: List[Any] = [
    None,
    0,
    1,
    -1,
    2**70,
    3.5,
    float("nan"),
    float("inf"),
    True,
    False,
    "",
    "x",
    "true",
    "202",
    [],
    [1, "a", None],
    (),
    {},
    {"type": 5},
    {"params": []},
    {"params": {"event": 3}},
    {"type": "digit", "params": None},
    {"dial_winner": "maybe"},
    object(),
]
_KEYS = sorted(
    {
        "call_id",
        "node_id",
        "control_id",
        "tag",
        "timestamp",
        "state",
        "call_state",
        "end_reason",
        "direction",
        "device",
        "peer",
        "context",
        "protocol",
        "record",
        "url",
        "duration",
        "size",
        "format",
        "result",
        "final",
        "detect",
        "connect_state",
        "failed_reason",
        "dial_state",
        "call",
        "reason",
        "dial_winner",
        "sip_refer_to",
        "sip_refer_response_code",
        "sip_notify_response_code",
        "fax",
        "tap",
        "name",
        "for",
        "status",
        "id",
        "position",
        "denoised",
        "conference_id",
        "code",
        "message",
        "authorization_state",
        "message_id",
        "message_state",
        "from_number",
        "to_number",
        "body",
        "media",
        "tags",
        "segments",
    }
)


def _check_field_types(e: RelayEvent) -> None:
    """Every field holds the type its annotation promises."""
    for field in attrs.fields(type(e)):
        value = getattr(e, field.name)
        kind = str(field.type)
        optional = kind.startswith("Optional[")
        if optional and value is None:
            continue
        base = kind[len("Optional[") : -1] if optional else kind
        if base == "str":
            assert isinstance(value, str), (field.name, value)
        elif base == "bool":
            assert isinstance(value, bool), (field.name, value)
        elif base == "int":
            assert isinstance(value, int) and not isinstance(value, bool), (field.name, value)
        elif base == "float":
            assert isinstance(value, float) and math.isfinite(value), (field.name, value)
        elif base.startswith("Mapping"):
            assert type(value) is dict, (field.name, value)
        elif base.startswith("Tuple"):
            assert isinstance(value, tuple) and all(isinstance(v, str) for v in value)
        else:  # pragma: no cover - a new annotation needs a rule here
            raise AssertionError(f"no type rule for {field.name}: {kind}")


@pytest.mark.timeout(30)
def test_garbage_payloads_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(20260518)
    types = [*EVENT_CLASSES, "calling.call.unknown", "", None, 5]
    for _ in range(3000):
        inner: Any = {key: rng.choice(_POOL) for key in rng.sample(_KEYS, rng.randint(0, 12))}
        if rng.random() < 0.05:
            inner = rng.choice(_POOL)  # params itself not a dict
        payload: Any = {"event_type": rng.choice(types), "params": inner}
        if rng.random() < 0.3:
            payload["timestamp"] = rng.choice(_POOL)
        if rng.random() < 0.03:
            payload = rng.choice(_POOL)
        e = parse_event(payload, rng.choice(_POOL))
        assert isinstance(e, RelayEvent)
        _check_field_types(e)
        assert isinstance(repr(e), str)
    # no event needed the untyped fallback: every hook coped on its own
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_wrong_typed_fields_become_none() -> None:
    e = parse_event(
        frame_params(
            "calling.call.state",
            {"call_id": 12, "call_state": 3, "device": ["phone"], "peer": "p", "direction": None},
        )
    )
    assert isinstance(e, ev.CallStateEvent)
    assert (e.call_id, e.call_state, e.device, e.peer, e.direction) == (None,) * 5
    rec = parse_event(
        frame_params(
            "calling.call.record", {"state": 1, "record": "x", "duration": "long", "size": 1.5}
        )
    )
    assert isinstance(rec, ev.RecordEvent)
    assert (rec.state, rec.url, rec.duration, rec.size) == (None, None, None, None)


# ---------------------------------------------------------------- results


def test_refer_result_from_event() -> None:
    done = parse_event(
        frame_params(
            "calling.call.refer",
            {
                "call_id": "c",
                "state": "success",
                "sip_refer_to": "sip:a@b",
                "sip_refer_response_code": "202",
                "sip_notify_response_code": "200",
            },
        )
    )
    assert isinstance(done, ev.ReferEvent)
    result = ReferResult.from_event(done)
    assert result.successful is True and result.state == "success" and result.event is done
    assert (
        result.sip_refer_to,
        result.sip_refer_response_code,
        result.sip_notify_response_code,
    ) == ("sip:a@b", "202", "200")
    busy = ReferResult.from_event(ev.ReferEvent(event_type="calling.call.refer", state="busy"))
    assert busy.successful is False and busy.state == "busy"


def test_play_and_action_results() -> None:
    finished = parse_event(frame_params("calling.call.play", {"state": "finished"}))
    assert PlayResult.from_event(finished) == PlayResult("finished", True, finished)
    failed = PlayResult.from_event(ev.PlayEvent(event_type="calling.call.play", state="error"))
    assert failed.successful is False and failed.state == "error"
    assert isinstance(failed, ActionResult)
    gone = ActionResult.from_event(None)
    assert (gone.state, gone.successful, gone.event) == (None, False, None)


def test_connect_result() -> None:
    connected = ev.ConnectEvent(event_type="calling.call.connect", connect_state="connected")
    peer = object()
    result = ConnectResult.from_event(connected, peer)
    assert result.successful is True and result.peer is peer and result.state == "connected"
    failed = ConnectResult.from_event(
        ev.ConnectEvent(event_type="calling.call.connect", connect_state="failed")
    )
    assert failed.successful is False and failed.peer is None
