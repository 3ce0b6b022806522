"""Typed, immutable RELAY events and :func:`parse_event`.

A ``signalwire.event`` frame carries an outer ``params`` object
(``{event_type, timestamp?, event_channel?, params: {...}}``).
:meth:`RelayEvent.from_payload` takes that outer object; one helper reads the shared
fields, and each subclass declares only its own fields, read from the inner ``params``
by a reader compiled from the declarations (:mod:`relaysync._field_readers`).
This module holds the call lifecycle, session and messaging events, the table
:data:`EVENT_CLASSES` and :func:`parse_event`; the events of operations on a call
(play, record, collect, ...) live in :mod:`relaysync._operation_events` and are
re-exported here.

Parsing never raises: a missing or wrongly typed field becomes ``None`` (or the
field's documented default), and an unknown event type becomes a plain
:class:`RelayEvent`.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Mapping, Optional, Tuple, Type

import attrs

from relaysync import constants as C
from relaysync._event_base import EVENT_READERS, SECRET_KEYS, RelayEvent, first_str
from relaysync._field_readers import read_at
from relaysync._operation_events import (
    AIEvent,
    CollectEvent,
    DenoiseEvent,
    DetectEvent,
    EchoEvent,
    FaxEvent,
    HoldEvent,
    PayEvent,
    PlayEvent,
    QueueEvent,
    RecordEvent,
    SendDigitsEvent,
    StreamEvent,
    TapEvent,
    TranscribeEvent,
)
from relaysync._util import as_code, is_mapping

log = logging.getLogger("relaysync")


@attrs.frozen
class CallStateEvent(RelayEvent):
    """``calling.call.state``: a call leg changed state.

    Attributes:
        call_state: created, ringing, answered, ending or ended.
        end_reason: why the call ended (on ``ended``), e.g. hangup, busy.
        direction: inbound or outbound.
        device: the leg's device ``{type, params}``.
        peer: ``{node_id, call_id}`` of the bridged call, when bridged.
    """

    call_state: Optional[str] = None
    end_reason: Optional[str] = None
    direction: Optional[str] = None
    device: Optional[Mapping[str, Any]] = None
    peer: Optional[Mapping[str, Any]] = None


@attrs.frozen
class CallReceiveEvent(RelayEvent):
    """``calling.call.receive``: an inbound call is offered on a subscribed context.

    Attributes:
        call_state: the offered call's state (usually created or ringing).
        direction: inbound.
        device: the caller's device ``{type, params}``.
        context: the context it arrived on (older payloads: ``protocol``).
        from_number: caller, from ``device.params.from_number`` (sip: ``from``).
        to_number: callee, from ``device.params.to_number`` (sip: ``to``).
    """

    call_state: Optional[str] = None
    direction: Optional[str] = None
    device: Optional[Mapping[str, Any]] = None
    context: Optional[str] = read_at("context", "protocol", convert=first_str)
    from_number: Optional[str] = read_at(
        "device.params.from_number", "device.params.from", convert=first_str
    )
    to_number: Optional[str] = read_at(
        "device.params.to_number", "device.params.to", convert=first_str
    )


@attrs.frozen
class ConnectEvent(RelayEvent):
    """``calling.call.connect``.

    Attributes:
        connect_state: connecting, connected, failed or disconnected.
        peer: ``{node_id, call_id, tag, device}`` of the peer leg, when known.
        failed_reason: why the connect failed, when given.
    """

    connect_state: Optional[str] = None
    peer: Optional[Mapping[str, Any]] = None
    failed_reason: Optional[str] = None


@attrs.frozen
class DialEvent(RelayEvent):
    """``calling.call.dial`` (routed by ``tag``; it has no top-level ``call_id``).

    Attributes:
        dial_state: dialing, answered or failed.
        call: the winning leg ``{call_id, node_id, tag, device, ...}`` (``{}`` if absent).
        reason: why the dial failed, when given.
        dial_winner: ``call.dial_winner`` (``true`` or ``"true"``); ``False`` otherwise.
    """

    dial_state: Optional[str] = None
    call: Mapping[str, Any] = attrs.field(factory=dict)
    reason: Optional[str] = None
    dial_winner: bool = read_at("call.dial_winner", "dial_winner", default=False)


@attrs.frozen
class ReferEvent(RelayEvent):
    """``calling.call.refer``: progress of a SIP REFER.

    Attributes:
        state: inProgress, or a final state: success, busy, noAnswer, cancel, error.
        sip_refer_to: the URI the far end was asked to call.
        sip_refer_response_code: SIP response to the REFER itself (e.g. ``"202"``).
        sip_notify_response_code: final SIP code reported by NOTIFY (e.g. ``"200"``).
    The codes are strings even when the server sends numbers.
    """

    state: Optional[str] = None
    sip_refer_to: Optional[str] = None
    sip_refer_response_code: Optional[str] = read_at(convert=as_code)
    sip_notify_response_code: Optional[str] = read_at(convert=as_code)


@attrs.frozen
class ConferenceEvent(RelayEvent):
    """``calling.conference``. ``conference_id``, ``name`` and ``status`` of the conference."""

    conference_id: Optional[str] = None
    name: Optional[str] = None
    status: Optional[str] = None


@attrs.frozen
class CallingErrorEvent(RelayEvent):
    """``calling.error`` (informational): ``code`` (a string, e.g. ``"5001"``) and ``message``."""

    code: Optional[str] = read_at(convert=as_code)
    message: Optional[str] = None


@attrs.frozen
class AuthorizationStateEvent(RelayEvent):
    """``signalwire.authorization.state``: the opaque blob used to resume the session.

    ``authorization_state`` is a secret: it never appears in ``repr`` (nor does it in
    the ``repr`` of ``params``).
    """

    authorization_state: Optional[str] = attrs.field(default=None, repr=False)


@attrs.frozen
class MessagingEvent(RelayEvent):
    """Fields shared by the messaging events (a message is identified by ``message_id``).

    Attributes:
        message_id: the message's id.
        message_state: queued, initiated, sent, delivered, undelivered, failed, received.
        direction: inbound or outbound.
        from_number, to_number: E.164 numbers.
        body: the text, if any.
        media: media URLs (tuple).
        tags: the message's tags (tuple).
        segments: number of SMS segments.
        context: the context the message belongs to.
        reason: why it was not delivered (undelivered/failed).
    """

    message_id: Optional[str] = None
    message_state: Optional[str] = None
    direction: Optional[str] = None
    from_number: Optional[str] = None
    to_number: Optional[str] = None
    body: Optional[str] = None
    media: Tuple[str, ...] = ()
    tags: Tuple[str, ...] = ()
    segments: Optional[int] = None
    context: Optional[str] = None
    reason: Optional[str] = None


@attrs.frozen
class MessageReceiveEvent(MessagingEvent):
    """``messaging.receive``: an inbound SMS/MMS (``message_state`` is received)."""


@attrs.frozen
class MessageStateEvent(MessagingEvent):
    """``messaging.state``: progress of an outbound message."""


#: Event type → class used by :func:`parse_event`.
EVENT_CLASSES: Dict[str, Type[RelayEvent]] = {
    C.EVENT_CALL_STATE: CallStateEvent,
    C.EVENT_CALL_RECEIVE: CallReceiveEvent,
    C.EVENT_CALL_PLAY: PlayEvent,
    C.EVENT_CALL_RECORD: RecordEvent,
    C.EVENT_CALL_COLLECT: CollectEvent,
    C.EVENT_CALL_DETECT: DetectEvent,
    C.EVENT_CALL_CONNECT: ConnectEvent,
    C.EVENT_CALL_DIAL: DialEvent,
    C.EVENT_CALL_REFER: ReferEvent,
    C.EVENT_CALL_FAX: FaxEvent,
    C.EVENT_CALL_TAP: TapEvent,
    C.EVENT_CALL_STREAM: StreamEvent,
    C.EVENT_CALL_SEND_DIGITS: SendDigitsEvent,
    C.EVENT_CALL_PAY: PayEvent,
    C.EVENT_CALL_TRANSCRIBE: TranscribeEvent,
    C.EVENT_CALL_QUEUE: QueueEvent,
    C.EVENT_CALL_ECHO: EchoEvent,
    C.EVENT_CALL_HOLD: HoldEvent,
    C.EVENT_CALL_DENOISE: DenoiseEvent,
    C.EVENT_CONFERENCE: ConferenceEvent,
    C.EVENT_CALLING_ERROR: CallingErrorEvent,
    C.EVENT_CALL_AI: AIEvent,
    C.EVENT_AUTHORIZATION_STATE: AuthorizationStateEvent,
    C.EVENT_MESSAGING_RECEIVE: MessageReceiveEvent,
    C.EVENT_MESSAGING_STATE: MessageStateEvent,
}

EVENT_READERS.prepare(EVENT_CLASSES.values())  # at import, not on the first frame


def parse_event(payload: Any, event_id: Any = None) -> RelayEvent:
    """Build the typed event for the outer ``params`` of a ``signalwire.event`` frame.

    Args:
        payload: ``{event_type, timestamp?, params: {...}}`` as received; anything
            else (``None``, a list, a partial object) is tolerated.
        event_id: the frame's JSON-RPC ``id``, if it had one.

    Returns:
        An instance of the class :data:`EVENT_CLASSES` maps the ``event_type`` to, or
        a plain :class:`RelayEvent` for an unknown or missing type. Never raises.
    """
    event_type = payload.get("event_type") if is_mapping(payload) else None
    cls = EVENT_CLASSES.get(event_type, RelayEvent) if isinstance(event_type, str) else RelayEvent
    try:
        return cls.from_payload(payload, event_id)
    except Exception:  # a hostile frame must never break the reader
        log.warning("could not parse a %s event; keeping it untyped", event_type, exc_info=True)
        return RelayEvent.from_payload(payload, event_id)


__all__ = [
    "EVENT_CLASSES",
    "SECRET_KEYS",
    "AIEvent",
    "AuthorizationStateEvent",
    "CallReceiveEvent",
    "CallStateEvent",
    "CallingErrorEvent",
    "CollectEvent",
    "ConferenceEvent",
    "ConnectEvent",
    "DenoiseEvent",
    "DetectEvent",
    "DialEvent",
    "EchoEvent",
    "FaxEvent",
    "HoldEvent",
    "MessageReceiveEvent",
    "MessageStateEvent",
    "MessagingEvent",
    "PayEvent",
    "PlayEvent",
    "QueueEvent",
    "RecordEvent",
    "ReferEvent",
    "RelayEvent",
    "SendDigitsEvent",
    "StreamEvent",
    "TapEvent",
    "TranscribeEvent",
    "parse_event",
]
