"""SignalWire's own asyncio RELAY SDK (PyPI ``signalwire-sdk``, ``signalwire.relay``) talks
to RelaySimulator over ``wss://``.

These tests prove the simulator speaks the RELAY protocol the official client speaks:
every scenario runs the unmodified SDK in a fresh event loop against
``RelaySimulator(tls=True)`` and checks both sides, what the SDK reports and what the
simulator's journal and call table saw. The module is skipped where the SDK is not
installed (it needs Python 3.10+).

How the SDK is pointed at the simulator (facts read from its ``relay/client.py``): it
always connects to ``wss://`` + ``SIGNALWIRE_SPACE`` (``host:port`` accepted, no path),
and trusts the CA bundle named by ``SIGNALWIRE_RELAY_CA_FILE`` (otherwise the system
store). Credentials are passed to ``RelayClient(project=..., token=...)``; the SDK would
otherwise read ``SIGNALWIRE_PROJECT_ID``/``SIGNALWIRE_API_TOKEN``, and
``SIGNALWIRE_JWT_TOKEN`` would switch it to JWT authentication, so the tests clear them.
The SDK allows one connected ``RelayClient`` per process; every scenario disconnects its
client, and a fixture checks that none is left behind.

Observed differences
--------------------
Where the SDK departs from RELAY as PROTOCOL.md describes it, or from what a client
needs (all observed against the simulator; none calls for a change in the simulator):

* **No TLS without SIGNALWIRE_RELAY_CA_FILE.** With the variable unset the SDK passes
  ``ssl=None`` to ``websockets.connect`` for its ``wss://`` URL, intending "use the
  system trust store"; the websockets asyncio client (17.x here) rejects that with
  ``ValueError: ssl=None is incompatible with a wss:// URI`` before opening a socket.
  The SDK therefore connects only with the variable set; these tests always set it, and
  show that the certificate really is verified by trusting a different CA.
* **refer() does not wait for the outcome.** ``call.refer(device)`` sends
  ``calling.refer {node_id, call_id, device}`` and returns the RPC result
  ``{"code": "200", "message": "Starting SIP REFER", "call_id": ...}`` while the REFER is
  still ``inProgress``; the final state (``success``, ``busy``, ``noAnswer``, ``cancel``,
  ``error``: PROTOCOL.md §2.6, §2.7) reaches only listeners registered with
  ``call.on("calling.call.refer", ...)``. Nothing in the SDK waits for it or tells
  success from failure.
* **The refer device is passed through as given.** The SDK neither builds nor checks the
  device: its own documentation spells it ``{"type": "sip", "params": {"to": URI}}``,
  the public server-SDK reference pages spell it ``params.uri`` (PROTOCOL.md §2.6, §7
  item 2), and whichever the caller gives goes out verbatim. The simulator accepts
  ``uri`` as an alias of ``to`` and records that it did (``ReferRecord.used_uri_alias``).
  ``status_url`` is sent only when given.
* **Call.context is the connect protocol.** ``calling.call.receive`` carries
  ``context: "office"``, but the SDK sets ``Call.context`` to the ``protocol`` string of
  the ``signalwire.connect`` result (PROTOCOL.md §2.5.2, §7 item 16).
* **calling.connect is fire-and-forget.** ``call.connect()`` returns on the
  ``{"code": "200", "message": "connecting"}`` result; ``connecting``, ``connected`` and
  ``disconnected`` reach only ``calling.call.connect`` listeners, and the peer leg's
  ``calling.call.state`` events (unknown ``call_id``) are acknowledged and dropped
  (PROTOCOL.md §2.5.4).
* **A listener added after a command can miss its events.** ``Call.wait_for`` registers
  its listener when called. A ``calling.call.connect disconnected`` that arrives in the
  same read burst as the ``calling.disconnect`` result is dispatched before the awaiting
  task resumes, so a ``wait_for`` started after ``await call.disconnect()`` times out.
  These tests register their listeners before the command.
* **Every other calling method** (record, collect, play_and_collect, detect, fax, pay,
  tap, stream, transcribe, AI, conferences, queues, rooms, digit bindings and the rest,
  with their actions' sub-commands) runs against the simulator in
  ``test_sim_official_sdk.py``, which also shows the SDK's bugs there (fax and pay
  actions that never settle, 404 swallowed as ``{}``) and its early resolves: a detect
  resolves on its first ``calling.call.detect`` event of any kind (``MACHINE`` before
  the beep's ``READY``; the first digit), and both collect actions resolve on the first
  ``calling.call.collect`` event with a ``result`` (a ``start_of_input`` or a partial
  ``final: false`` result), not on the final one (PROTOCOL.md §2.5.7, §2.5.8, §7 item 5).

* **Message states right behind the send result can be lost.** ``send_message()``
  registers its Message by ``message_id`` only after its task resumes with the
  ``messaging.send`` result, but the SDK's read loop handles every frame already
  received before that task runs. ``messaging.state`` frames sent right behind the
  result (``sim.on_message_to(to, delay=0)``) are then logged as "unknown message" and
  dropped, and a ``wait()`` for a final state among them never returns: 43 of 100
  messages here. Whether a state is lost depends on how the frames split across socket
  reads, so it is not deterministic and is not tested as such; the messaging tests use
  a carrier delay of 0.5 s. relaysync holds early states by ``message_id`` instead
  (``tests/test_messaging.py`` forces the worst order).
* **The inbound Message keeps its context.** Unlike ``Call.context``, the Message built
  for ``messaging.receive`` carries the event's ``context`` (``"office"``).

Checked agreements
------------------
* ``signalwire.connect`` params are exactly ``version`` 2.0.0,
  ``agent: "signalwire-agents-python/1.0"``, ``event_acks: true``,
  ``authentication: {project, token}`` and ``contexts`` (no top-level project/token, no
  ``protocol`` on a fresh connect), as PROTOCOL.md §1.3 says; every ``signalwire.event``
  is acknowledged with exactly ``{"jsonrpc": "2.0", "id": <event id>, "result": {}}``.
* ``client.dial()`` sends ``calling.dial`` with only ``tag`` and ``devices`` (no
  ``node_id``/``call_id``) and resolves with the leg named in ``calling.call.dial
  answered``, having registered the legs by ``tag`` from their state events
  (PROTOCOL.md §2.5.3).
* ``send_message()`` sends ``messaging.send`` with ``context`` (the connect
  ``protocol`` when none is given), ``to_number``, ``from_number`` and only the
  non-empty ``body``/``media``/``tags`` (PROTOCOL.md §3.1); its Message starts
  ``queued`` and resolves on the final ``messaging.state`` with its ``reason``.
* ``connect()`` installs no signal handler (only ``RelayClient.run()`` does), so each
  test runs the client with ``connect()``/``disconnect()`` inside ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any, Dict

import pytest

pytest.importorskip("signalwire")
pytest.importorskip("trustme")  # RelaySimulator(tls=True) generates its certificate

from relaysync.testing import RelaySimulator

from .official_sdk_support import (  # sdk_sim is the "sim" fixture
    SDK_TIMEOUT,
    EventLog,
    answer_inbound,
    run_sdk,
    sdk_sim,  # noqa: F401
)

AGENT = "signalwire-agents-python/1.0"
SUPPORT = "sip:support@example.com"
PHONE_A = "+15550002222"
PEER = "+15556667777"


def phone(to: str, from_: str = "+15550001111") -> Dict[str, Any]:
    """A phone device in wire form."""
    return {"type": "phone", "params": {"to_number": to, "from_number": from_}}


@pytest.mark.timeout(30)
def test_connect_authenticates_and_gets_a_protocol(sim: RelaySimulator) -> None:
    """The SDK authenticates with project/token and keeps the protocol it is given."""

    async def scenario(client: Any) -> str:
        # The authorization-state event every connect brings must be acknowledged.
        auth_event = await asyncio.to_thread(
            sim.journal.wait_for_event, "signalwire.authorization.state"
        )
        await asyncio.to_thread(
            sim.journal.wait_for,
            lambda e: (
                e.direction == "in"
                and isinstance(e.frame, dict)
                and e.frame.get("id") == auth_event["id"]
                and "method" not in e.frame
            ),
        )
        protocol: str = client.relay_protocol
        return protocol

    protocol = run_sdk(sim, scenario)

    assert protocol.startswith("signalwire_")
    [session] = sim.sessions
    assert session.protocol == protocol
    assert session.contexts == frozenset({"office"})
    assert sim.authentication_count == 1
    [connect] = sim.journal.requests("signalwire.connect")
    assert connect["params"] == {
        "version": {"major": 2, "minor": 0, "revision": 0},
        "agent": AGENT,
        "event_acks": True,
        "authentication": {"project": sim.project, "token": sim.token},
        "contexts": ["office"],
    }
    [reply] = sim.journal.responses_to(connect["id"])
    assert reply["result"]["protocol"] == protocol
    assert reply["result"]["session_restored"] is False
    auth_event = sim.journal.events("signalwire.authorization.state")[0]
    assert sim.journal.responses_to(auth_event["id"]) == [
        {"jsonrpc": "2.0", "id": auth_event["id"], "result": {}}
    ]


@pytest.mark.timeout(30)
def test_sdk_verifies_the_simulator_certificate(
    sim: RelaySimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trusting some other CA, the SDK refuses the simulator's certificate."""
    import trustme

    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(trustme.CA().cert_pem.bytes())
    monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", str(other_ca))

    async def scenario(client: Any) -> None:
        raise AssertionError("connect() should have failed")

    with pytest.raises(ssl.SSLCertVerificationError):
        run_sdk(sim, scenario)
    assert sim.journal.requests("signalwire.connect") == []
    assert sim.authentication_count == 0


@pytest.mark.timeout(30)
def test_inbound_call_is_offered_to_on_call_which_answers(sim: RelaySimulator) -> None:
    """calling.call.receive reaches on_call; its answer() answers the simulated call."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        facts = {
            "call_id": call.call_id,
            "sim_call_id": sim_call.call_id,
            "direction": call.direction,
            "device": call.device,
            "context": call.context,
            "protocol": client.relay_protocol,
        }
        await asyncio.to_thread(sim_call.wait_for_state, "answered")
        await call.hangup()
        await call.wait_for_ended(timeout=SDK_TIMEOUT)
        facts["end_reason"] = sim_call.end_reason
        return facts

    facts = run_sdk(sim, scenario)

    assert facts["call_id"] == facts["sim_call_id"]
    assert facts["direction"] == "inbound"
    assert facts["device"] == phone(PHONE_A)
    [receive] = sim.journal.events("calling.call.receive")
    assert receive["params"]["params"]["context"] == "office"
    # Observed difference: the SDK's Call.context is the connect protocol.
    assert facts["context"] == facts["protocol"]
    [answer] = sim.journal.requests("calling.answer")
    assert answer["params"] == {"node_id": sim.calls[0].node_id, "call_id": facts["call_id"]}
    [end] = sim.journal.requests("calling.end")
    assert end["params"]["reason"] == "hangup"
    assert facts["end_reason"] == "hangup"


@pytest.mark.timeout(30)
def test_play_tts_resolves_on_finished(sim: RelaySimulator) -> None:
    """play_tts() starts calling.play; the PlayAction resolves on ``finished``."""
    text = "Welcome to the RELAY simulator"

    async def scenario(client: Any) -> Dict[str, Any]:
        call, _ = await answer_inbound(client, sim)
        plays = EventLog()
        call.on("calling.call.play", plays)
        action = await call.play_tts(text)
        event = await action.wait(timeout=SDK_TIMEOUT)
        facts = {
            "control_id": action.control_id,
            "final": event.params,
            "completed": action.completed,
            "states": plays.field("state"),
        }
        await call.hangup()
        return facts

    facts = run_sdk(sim, scenario)

    assert facts["completed"] is True
    assert facts["final"]["state"] == "finished"
    assert facts["final"]["control_id"] == facts["control_id"]
    assert facts["states"] == ["playing", "finished"]
    [play] = sim.journal.requests("calling.play")
    assert play["params"]["control_id"] == facts["control_id"]
    assert play["params"]["play"] == [{"type": "tts", "params": {"text": text}}]


@pytest.mark.timeout(30)
def test_refer_reports_in_progress_then_success(sim: RelaySimulator) -> None:
    """A REFER's calling.call.refer events reach the SDK's listener with SIP codes."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        refers = EventLog()
        call.on("calling.call.refer", refers)
        result = await call.refer({"type": "sip", "params": {"to": SUPPORT}})
        await refers.wait_for_field("state", "success")
        await call.wait_for_ended(timeout=SDK_TIMEOUT)
        return {
            "result": result,
            "events": refers.items,
            "sim_call": sim_call,
            "sdk_state": call.state,
        }

    facts = run_sdk(sim, scenario)

    assert facts["result"]["code"] == "200"
    assert "state" not in facts["result"]  # the RPC result says nothing of the outcome
    first, last = facts["events"]
    assert (first.state, first.sip_refer_to) == ("inProgress", SUPPORT)
    assert (first.sip_refer_response_code, first.sip_notify_response_code) == ("", "")
    assert (last.state, last.sip_refer_to) == ("success", SUPPORT)
    assert (last.sip_refer_response_code, last.sip_notify_response_code) == ("202", "200")
    # A successful transfer ends the call on the RELAY side.
    assert facts["sdk_state"] == "ended"
    assert facts["sim_call"].end_reason == "hangup"
    [record] = facts["sim_call"].refers
    assert (record.target, record.state, record.used_uri_alias) == (SUPPORT, "success", False)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("key", ["to", "uri"])
def test_refer_device_is_sent_as_given(sim: RelaySimulator, key: str) -> None:
    """The SDK sends the refer device verbatim; ``to`` (its documented spelling) and
    ``uri`` (the public reference pages' spelling) both transfer the call."""
    device = {"type": "sip", "params": {key: SUPPORT}}

    async def scenario(client: Any) -> Any:
        call, sim_call = await answer_inbound(client, sim)
        refers = EventLog()
        call.on("calling.call.refer", refers)
        await call.refer(device)
        await refers.wait_for_field("state", "success")
        return sim_call

    sim_call = run_sdk(sim, scenario)

    [refer] = sim.journal.requests("calling.refer")
    assert refer["params"] == {
        "node_id": sim_call.node_id,
        "call_id": sim_call.call_id,
        "device": device,
    }
    [record] = sim_call.refers
    assert record.target == SUPPORT
    assert record.used_uri_alias is (key == "uri")
    assert record.device == device


@pytest.mark.timeout(30)
def test_busy_refer_leaves_the_call_up(sim: RelaySimulator) -> None:
    """A REFER scripted busy reports ``busy`` with 202/486; the call stays answered."""
    target = "sip:busy@example.com"
    sim.on_refer(target, state="busy")

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        refers = EventLog()
        call.on("calling.call.refer", refers)
        await call.refer({"type": "sip", "params": {"to": target}})
        busy = await refers.wait_for_field("state", "busy")
        facts = {
            "states": refers.field("state"),
            "busy": busy,
            "sdk_state": call.state,
            "sim_state": sim_call.state,
        }
        await call.hangup()
        await call.wait_for_ended(timeout=SDK_TIMEOUT)
        return facts

    facts = run_sdk(sim, scenario)

    assert facts["states"] == ["inProgress", "busy"]
    busy = facts["busy"]
    assert (busy.sip_refer_to, busy.sip_refer_response_code, busy.sip_notify_response_code) == (
        target,
        "202",
        "486",
    )
    assert facts["sdk_state"] == facts["sim_state"] == "answered"


@pytest.mark.timeout(30)
def test_refer_returns_before_its_outcome(sim: RelaySimulator) -> None:
    """refer() returns while the REFER is in progress; a hang-up then cancels it."""
    target = "sip:slow@example.com"
    sim.on_refer(target, state="success", delay=1000.0)  # 10 s at time_scale 0.01

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        refers = EventLog()
        call.on("calling.call.refer", refers)
        result = await call.refer({"type": "sip", "params": {"to": target}})
        state_at_return = sim_call.refers[-1].state
        await asyncio.to_thread(sim_call.hangup)
        cancel = await refers.wait_for_field("state", "cancel")
        await call.wait_for_ended(timeout=SDK_TIMEOUT)
        return {
            "result": result,
            "state_at_return": state_at_return,
            "cancel": cancel,
            "states": refers.field("state"),
        }

    facts = run_sdk(sim, scenario)

    assert facts["result"]["message"] == "Starting SIP REFER"
    assert facts["state_at_return"] == "inProgress"
    assert facts["states"] == ["inProgress", "cancel"]
    cancel = facts["cancel"]
    assert (cancel.sip_refer_response_code, cancel.sip_notify_response_code) == ("202", "487")


@pytest.mark.timeout(30)
def test_dial_resolves_with_the_answered_leg_by_tag(sim: RelaySimulator) -> None:
    """client.dial() correlates the legs by tag and returns the winner, answered."""
    winner, loser, tag = "+15553334444", "+15553335555", "sdk-dial-1"
    sim.on_dial(loser, "answer", delay=1000.0)  # rings until the winner answers

    async def scenario(client: Any) -> Dict[str, Any]:
        call = await client.dial([[phone(winner), phone(loser)]], tag=tag, dial_timeout=SDK_TIMEOUT)
        facts = {
            "call_id": call.call_id,
            "tag": call.tag,
            "state": call.state,
            "direction": call.direction,
            "node_id": call.node_id,
        }
        await call.hangup()
        await call.wait_for_ended(timeout=SDK_TIMEOUT)
        return facts

    facts = run_sdk(sim, scenario)

    assert (facts["tag"], facts["state"], facts["direction"]) == (tag, "answered", "outbound")
    [dial] = sim.journal.requests("calling.dial")
    assert dial["params"] == {"tag": tag, "devices": [[phone(winner), phone(loser)]]}
    answered = sim.journal.wait_for_event(
        "calling.call.dial", predicate=lambda f: f["params"]["params"]["dial_state"] == "answered"
    )["params"]["params"]
    assert answered["tag"] == tag
    assert answered["call"]["call_id"] == facts["call_id"]
    assert answered["call"]["dial_winner"] is True
    legs = {c.device["params"]["to_number"]: c for c in sim.calls if c.tag == tag}
    assert legs[winner].call_id == facts["call_id"]
    assert legs[winner].node_id == facts["node_id"]
    assert legs[winner].end_reason == "hangup"
    assert legs[loser].end_reason == "cancel"


@pytest.mark.timeout(30)
def test_connect_bridges_the_call_to_a_peer(sim: RelaySimulator) -> None:
    """call.connect() bridges to a peer leg; the listener sees connecting → connected,
    and disconnect() → disconnected."""

    async def scenario(client: Any) -> Dict[str, Any]:
        call, sim_call = await answer_inbound(client, sim)
        connects = EventLog()
        call.on("calling.call.connect", connects)
        result = await call.connect(
            [[phone(PEER, from_=PHONE_A)]],
            ringback=[{"type": "ringtone", "params": {"name": "us"}}],
        )
        connected = await connects.wait_for_field("connect_state", "connected")
        bridged_to = sim_call.peer
        await call.disconnect()
        await connects.wait_for_field("connect_state", "disconnected")
        await call.hangup()
        await call.wait_for_ended(timeout=SDK_TIMEOUT)
        return {
            "result": result,
            "peer": connected.peer,
            "bridged_to": bridged_to,
            "states": connects.field("connect_state"),
            "call_id": call.call_id,
        }

    facts = run_sdk(sim, scenario)

    assert facts["result"]["code"] == "200"
    assert facts["states"] == ["connecting", "connected", "disconnected"]
    peer = sim.get_call(facts["peer"]["call_id"])
    assert peer is not None
    assert facts["bridged_to"] == peer.call_id
    assert (peer.created_by, peer.direction) == ("connect", "outbound")
    assert facts["peer"]["device"] == peer.device == phone(PEER, from_=PHONE_A)
    [connect] = sim.journal.requests("calling.connect")
    assert connect["params"]["call_id"] == facts["call_id"]
    assert connect["params"]["ringback"] == [{"type": "ringtone", "params": {"name": "us"}}]


# -- messaging ---------------------------------------------------------------------------

#: Unscaled carrier delay for the SDK's messages: 0.5 s at time_scale 0.01, so the SDK
#: has registered each message before its final state arrives (see the module docstring).
SDK_CARRIER_DELAY = 50.0
SMS_TO = "+15550003333"
SMS_FROM = "+15550001111"


@pytest.mark.timeout(30)
def test_sdk_sends_a_message_that_is_delivered(sim: RelaySimulator) -> None:
    """send_message() sends messaging.send; wait() resolves on ``delivered``."""
    sim.on_message_to(SMS_TO, "delivered", delay=SDK_CARRIER_DELAY)

    async def scenario(client: Any) -> Dict[str, Any]:
        message = await client.send_message(
            to_number=SMS_TO, from_number=SMS_FROM, body="Hello", tags=["vip"]
        )
        first_state = message.state
        event = await message.wait(timeout=SDK_TIMEOUT)
        return {
            "message_id": message.message_id,
            "first_state": first_state,
            "state": message.state,
            "final": event.params,
            "protocol": client.relay_protocol,
        }

    facts = run_sdk(sim, scenario)

    assert facts["first_state"] == "queued"
    assert facts["state"] == "delivered"
    assert facts["final"]["message_state"] == "delivered"
    assert facts["final"]["message_id"] == facts["message_id"]
    [send] = sim.journal.requests("messaging.send")
    assert send["params"] == {
        "context": facts["protocol"],
        "to_number": SMS_TO,
        "from_number": SMS_FROM,
        "body": "Hello",
        "tags": ["vip"],
    }
    [record] = sim.messages
    assert record.message_id == facts["message_id"]
    assert record.states == ("queued", "initiated", "sent", "delivered")


@pytest.mark.timeout(30)
def test_sdk_message_undelivered_keeps_the_reason(sim: RelaySimulator) -> None:
    """A scripted ``undelivered`` reaches the SDK's Message with its reason."""
    sim.on_message_to(SMS_TO, "undelivered", reason="carrier_blocked", delay=SDK_CARRIER_DELAY)

    async def scenario(client: Any) -> Dict[str, Any]:
        message = await client.send_message(
            to_number=SMS_TO, from_number=SMS_FROM, media=["https://example.com/cat.jpg"]
        )
        await message.wait(timeout=SDK_TIMEOUT)
        return {"state": message.state, "reason": message.reason}

    assert run_sdk(sim, scenario) == {"state": "undelivered", "reason": "carrier_blocked"}
    [send] = sim.journal.requests("messaging.send")
    assert "body" not in send["params"]
    assert send["params"]["media"] == ["https://example.com/cat.jpg"]


@pytest.mark.timeout(30)
def test_sdk_on_message_receives_an_inbound_message(sim: RelaySimulator) -> None:
    """sim.inbound_message() reaches the SDK's on_message handler with every field."""

    async def scenario(client: Any) -> Dict[str, Any]:
        received: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def on_message(message: Any) -> None:
            if not received.done():
                received.set_result(message)

        client.on_message(on_message)
        sent = await asyncio.to_thread(
            sim.inbound_message,
            "office",
            "+15554445555",
            SMS_FROM,
            "hi there",
            ["https://example.com/a.png"],
            tags=["t1"],
        )
        message = await asyncio.wait_for(received, SDK_TIMEOUT)
        return {
            "sent_id": sent.message_id,
            "message_id": message.message_id,
            "direction": message.direction,
            "state": message.state,
            "from": message.from_number,
            "to": message.to_number,
            "body": message.body,
            "media": message.media,
            "segments": message.segments,
            "tags": message.tags,
            "context": message.context,
        }

    facts = run_sdk(sim, scenario)

    assert facts.pop("sent_id") == facts.pop("message_id")
    assert facts == {
        "direction": "inbound",
        "state": "received",
        "from": "+15554445555",
        "to": SMS_FROM,
        "body": "hi there",
        "media": ["https://example.com/a.png"],
        "segments": 1,
        "tags": ["t1"],
        "context": "office",
    }
    [receive] = sim.journal.events("messaging.receive")
    assert sim.journal.responses_to(receive["id"]) == [
        {"jsonrpc": "2.0", "id": receive["id"], "result": {}}
    ]
