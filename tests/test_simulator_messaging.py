"""RelaySimulator's messaging namespace: messaging.send as RELAY answers it, delivery
states and their timing, SMS segment counting, inbound messages, remote control."""

from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from relaysync import Message, RelayClient, RelayError
from relaysync.testing import RelaySimulator
from relaysync.testing.remote import RemoteSimulator
from relaysync.testing.segments import count_segments, is_gsm7
from relaysync.testing.sms import MessageScript

from .helpers import Recorder, SimulateProcess, make_client

TO = "+15550002222"
FROM = "+15550001111"


def raw_send(client: RelayClient, **params: Any) -> Dict[str, Any]:
    """``messaging.send`` with exactly these params (no client-side checks)."""
    return client.execute("messaging.send", params)


def state_events(sim: RelaySimulator, message_id: str) -> List[Dict[str, Any]]:
    """The inner params of every ``messaging.state`` the simulator sent for a message."""
    return [
        frame["params"]["params"]
        for frame in sim.journal.events("messaging.state")
        if frame["params"]["params"]["message_id"] == message_id
    ]


# ---------------------------------------------------------------- segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("x" * 160, 1),
        ("x" * 161, 2),
        ("x" * 306, 2),
        ("x" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("x" * 152 + "€", 1),  # 154 septets fit one SMS of 160
        ("x" * 160 + "€", 2),  # 162 septets: 153 + 9, the escape pair not split
        ("x" * 152 + "€" + "x" * 152, 3),  # 152 | € + 151 | 1: the pair moves whole
        ("é" * 160, 1),  # é is in the GSM-7 basic table
        ("ā" * 70, 1),  # ā is not: UCS-2
        ("ā" * 71, 2),
        ("ā" * 134, 2),
        ("ā" * 135, 3),
        ("😀" * 35, 1),  # a surrogate pair is two UCS-2 units
        ("😀" * 36, 2),
        ("x" * 66 + "😀", 1),  # 68 units fit one SMS of 70
    ],
)
def test_segments_are_counted_as_sms_does(text: str, segments: int) -> None:
    assert count_segments(text) == segments


def test_gsm7_detection() -> None:
    assert is_gsm7("Hello, world! @£$¥ ^{}[]~|€")
    assert not is_gsm7("smart \u2019quote\u2019")
    assert not is_gsm7("\x1b")  # the escape character itself is not text


def test_segments_reach_the_client_in_state_events(
    client: RelayClient, sim: RelaySimulator
) -> None:
    gsm = client.send_message(TO, FROM, body="x" * 161).wait(10)
    ucs = client.send_message(TO, FROM, body="ā" * 71).wait(10)
    mms = client.send_message(TO, FROM, body="x" * 400, media=["https://e.com/a.png"]).wait(10)
    assert (gsm.segments, ucs.segments, mms.segments) == (2, 2, 1)
    assert [e["segments"] for e in state_events(sim, gsm.message_id)] == [2, 2, 2, 2]


# ---------------------------------------------------------------- messaging.send


def test_send_answers_like_relay_and_states_carry_the_message(
    client: RelayClient, sim: RelaySimulator
) -> None:
    answer = raw_send(
        client, context="office", to_number=TO, from_number=FROM, body="Hello", tags=["vip"]
    )
    assert answer["code"] == "200" and answer["message"] == "Message accepted"
    message_id = answer["message_id"]
    sim.wait_for_message(lambda m: m.message_id == message_id and m.state == "delivered")
    events = state_events(sim, message_id)
    assert [e["message_state"] for e in events] == ["queued", "initiated", "sent", "delivered"]
    assert events[-1] == {
        "message_id": message_id,
        "context": "office",
        "direction": "outbound",
        "from_number": FROM,
        "to_number": TO,
        "body": "Hello",
        "media": [],
        "segments": 1,
        "message_state": "delivered",
        "tags": ["vip"],
    }


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"to_number": TO, "from_number": FROM, "body": "x"}, "missing required params: context"),
        ({"context": "office", "from_number": FROM, "body": "x"}, "to_number"),
        ({"context": "office", "to_number": TO, "from_number": "nope", "body": "x"}, "from_number"),
        ({"context": "office", "to_number": TO, "from_number": FROM}, "body or media"),
        (
            {"context": "office", "to_number": TO, "from_number": FROM, "media": ["file:///a"]},
            r"media\[0\]",
        ),
        (
            {"context": "office", "to_number": TO, "from_number": FROM, "body": "x" * 1601},
            "1600 characters",
        ),
        (
            {"context": "office", "to_number": TO, "from_number": FROM, "body": "x", "tags": "a"},
            "tags must be a list",
        ),
        (
            {"context": "office", "to_number": TO, "from_number": FROM, "body": "x", "tags": [1]},
            r"tags\[\] must be a string",
        ),
    ],
)
def test_send_refuses_bad_params(client: RelayClient, params: Dict[str, Any], text: str) -> None:
    with pytest.raises(RelayError, match=text) as caught:
        raw_send(client, **params)
    assert caught.value.code == -32602
    assert caught.value.data == {"signalwire_error_code": "INVALID_PARAMS"}


def test_send_accepts_an_unknown_param_as_lint(client: RelayClient, sim: RelaySimulator) -> None:
    answer = raw_send(client, context="office", to_number=TO, from_number=FROM, body="x", urgent=1)
    assert answer["code"] == "200"
    assert [(e.method, e.path) for e in sim.lint] == [("messaging.send", "urgent")]
    sim.strict = True
    with pytest.raises(RelayError, match="urgent") as caught:
        raw_send(client, context="office", to_number=TO, from_number=FROM, body="x", urgent=1)
    assert caught.value.code == -32602


def test_send_inside_signalwire_execute(client: RelayClient, sim: RelaySimulator) -> None:
    answer = client.execute(
        "signalwire.execute",
        {
            "protocol": client.protocol,
            "method": "messaging.send",
            "params": {"context": "office", "to_number": TO, "from_number": FROM, "body": "x"},
        },
    )
    assert answer["message_id"]


def test_carrier_delay_is_scaled_by_time_scale() -> None:
    with RelaySimulator(time_scale=0.05) as sim:  # 20 s of carrier delay is 1 s here
        sim.on_message_to(TO, "delivered", delay=20)
        with make_client(sim) as client:
            started = time.monotonic()
            message = client.send_message(TO, FROM, body="Hello")
            assert message.wait(30).state == "delivered"
            assert time.monotonic() - started >= 1.0


def test_states_go_to_the_context_subscribers(sim: RelaySimulator) -> None:
    """A message sent on "office" reports to the sender and the other office session."""
    sender, other, sales = make_client(sim), make_client(sim), make_client(sim, contexts=["sales"])
    try:
        for c in (sender, other, sales):
            c.connect()
        message = sender.send_message(TO, FROM, body="Hello", context="office").wait(10)
        sessions = {s.protocol: s.id for s in sim.sessions}
        targets = [
            entry.session_id
            for entry in sim.journal.entries
            if entry.direction == "out"
            and isinstance(entry.frame, dict)
            and entry.frame.get("method") == "signalwire.event"
            and entry.frame["params"]["event_type"] == "messaging.state"
            and entry.frame["params"]["params"]["message_state"] == "delivered"
        ]
        expected = [sessions[c.protocol or ""] for c in (sender, other)]
        assert sorted(str(t) for t in targets) == sorted(expected)
        assert message.state == "delivered"
    finally:
        for c in (sender, other, sales):
            c.close()


def test_script_validation() -> None:
    with pytest.raises(ValueError, match="state must be one of"):
        MessageScript.make("lost", None, 1.0)
    with pytest.raises(ValueError, match="delay must be"):
        MessageScript.make("failed", None, -1)
    with pytest.raises(ValueError, match="no reason"):
        MessageScript.make("delivered", "why", 1.0)
    assert MessageScript.make("undelivered", None, 1.0).reason == "carrier_blocked"


# ---------------------------------------------------------------- inbound


def test_inbound_messages_take_turns_between_sessions(sim: RelaySimulator) -> None:
    a, b = make_client(sim), make_client(sim)
    try:
        got_a, got_b = Recorder(), Recorder()
        a.on_message(got_a)
        b.on_message(got_b)
        a.connect()
        b.connect()
        sent = [sim.inbound_message("office", body=f"#{i}") for i in range(4)]
        assert len({m.session_id for m in sent}) == 2
        got_a.wait_for(lambda items: len(items) == 2)
        got_b.wait_for(lambda items: len(items) == 2)
    finally:
        a.close()
        b.close()


def test_inbound_message_checks_its_arguments(sim: RelaySimulator) -> None:
    with pytest.raises(ValueError, match=r"from_ must be an E\.164"):
        sim.inbound_message("office", from_="123")
    with pytest.raises(ValueError, match="needs a body or media"):
        sim.inbound_message("office", body=None)
    with pytest.raises(ValueError, match=r"media\[0\]"):
        sim.inbound_message("office", media=["ftp://x/y"])
    assert sim.messages == []


# ---------------------------------------------------------------- remote control


def test_remote_scripts_outcomes_and_sends_inbound(
    client: RelayClient, sim: RelaySimulator, remote: RemoteSimulator
) -> None:
    remote.on_message_to(TO, "failed", reason="blocked_number", delay=0)
    message = client.send_message(TO, FROM, body="Hello").wait(10)
    assert (message.state, message.reason) == ("failed", "blocked_number")
    got = Recorder()
    client.on_message(got)
    sent = remote.inbound_message(
        "office", from_="+15553333333", body="hi", media=["https://e.com/a.png"], tags=["x"]
    )
    received: Message = got.wait_for(lambda items: len(items) == 1)[0]
    assert received.message_id == sent.message_id
    assert sent.media == ("https://e.com/a.png",) and sent.tags == ("x",)
    assert [m.message_id for m in remote.messages()] == [message.message_id, sent.message_id]
    assert remote.messages()[0].states == ("queued", "failed")


def test_remote_reports_bad_arguments(remote: RemoteSimulator) -> None:
    with pytest.raises(ValueError, match="state must be one of"):
        remote.on_message_to(TO, "lost")
    with pytest.raises(ValueError, match=r"to must be an E\.164"):
        remote.inbound_message("office", to="nope")
    with pytest.raises(ValueError, match="unknown params"):
        remote._call("messages", {"extra": 1})


def test_application_sessions_cannot_call_the_messaging_controls(client: RelayClient) -> None:
    with pytest.raises(RelayError) as caught:
        client.execute("simulator.inbound_message", {"context": "office"})
    assert caught.value.code == -32601


@pytest.mark.timeout(60)
def test_remote_drives_messaging_of_a_simulate_subprocess() -> None:
    with SimulateProcess("--port", "0", "--time-scale", "0.01") as process:
        fields = process.fields
        app = RelayClient(
            fields["project"], fields["token"], url=fields["url"], contexts=["office"]
        )
        got = Recorder()
        app.on_message(got)
        with (
            app,
            RemoteSimulator(fields["url"], fields["project"], fields["control_token"]) as remote,
        ):
            remote.on_message_to(TO, "undelivered", delay=10)
            message = app.send_message(TO, FROM, body="Hello").wait(20)
            assert (message.state, message.reason) == ("undelivered", "carrier_blocked")
            sent = remote.inbound_message("office", body="back to you")
            assert got.wait_for(lambda items: len(items) == 1)[0].message_id == sent.message_id
            assert [m.direction for m in remote.messages()] == ["outbound", "inbound"]
