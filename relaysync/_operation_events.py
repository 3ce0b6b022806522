"""Events of long-running operations on a call: play, record, collect, detect, fax, ...

Each class reads only its own fields; see :mod:`relaysync._event_base` for the shared ones.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

import attrs

from relaysync._event_base import RelayEvent, state_field, sub_dict
from relaysync._util import as_bool, as_code, as_dict, as_int, as_number, as_str


@attrs.frozen
class PlayEvent(RelayEvent):
    """``calling.call.play``. ``state``: playing, paused, finished or error."""

    state: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return state_field(p)


@attrs.frozen
class RecordEvent(RelayEvent):
    """``calling.call.record``.

    Each result field is read from the nested ``record{}`` object first, then from the
    top level of the event.

    Attributes:
        state: recording, paused, finished, no_input or error.
        url: where the recording can be downloaded.
        duration: length in seconds.
        size: size in bytes.
        format: mp3 or wav.
    """

    state: Optional[str] = None
    url: Optional[str] = None
    duration: Optional[float] = None
    size: Optional[int] = None
    format: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        nested = sub_dict(p, "record")

        def pick(key: str, coerce: Callable[[Any], Any]) -> Any:
            value = coerce(nested.get(key))
            return value if value is not None else coerce(p.get(key))

        return {
            "state": as_str(p.get("state")),
            "url": pick("url", as_str),
            "duration": pick("duration", as_number),
            "size": pick("size", as_int),
            "format": pick("format", as_str),
        }


@attrs.frozen
class CollectEvent(RelayEvent):
    """``calling.call.collect`` (collect and play_and_collect).

    Attributes:
        result: the ``result`` object (``{}`` if absent), e.g.
            ``{"type": "digit", "params": {"digits": "12", "terminator": "#"}}``.
        result_type: ``result.type``: digit, speech, no_input, no_match, error,
            start_of_input.
        final: ``False`` for a partial result, ``None`` when the event does not say.
        state: collecting or finished, in continuous/partial mode.
    """

    result: Mapping[str, Any] = attrs.field(factory=dict)
    result_type: Optional[str] = None
    final: Optional[bool] = None
    state: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        result = sub_dict(p, "result")
        return {
            "result": result,
            "result_type": as_str(result.get("type")),
            "final": as_bool(p.get("final")),
            "state": as_str(p.get("state")),
        }


@attrs.frozen
class DetectEvent(RelayEvent):
    """``calling.call.detect``.

    Attributes:
        detect: the ``detect`` object (``{}`` if absent).
        detect_type: machine, fax or digit.
        detect_event: ``detect.params.event``, e.g. HUMAN, MACHINE, READY, CED, a
            digit, finished or error.
    """

    detect: Mapping[str, Any] = attrs.field(factory=dict)
    detect_type: Optional[str] = None
    detect_event: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        detect = sub_dict(p, "detect")
        return {
            "detect": detect,
            "detect_type": as_str(detect.get("type")),
            "detect_event": as_str(sub_dict(detect, "params").get("event")),
        }


@attrs.frozen
class FaxEvent(RelayEvent):
    """``calling.call.fax`` (send_fax and receive_fax).

    Attributes:
        fax_type: ``fax.type``: page (progress), finished or error.
        fax_params: ``fax.params`` (``{}`` if absent), e.g. pages, success, document.
    """

    fax_type: Optional[str] = None
    fax_params: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        fax = sub_dict(p, "fax")
        return {"fax_type": as_str(fax.get("type")), "fax_params": sub_dict(fax, "params")}


@attrs.frozen
class TapEvent(RelayEvent):
    """``calling.call.tap``. ``state``: tapping or finished; ``tap`` and ``device`` as sent."""

    state: Optional[str] = None
    tap: Optional[Mapping[str, Any]] = None
    device: Optional[Mapping[str, Any]] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return {
            "state": as_str(p.get("state")),
            "tap": as_dict(p.get("tap")),
            "device": as_dict(p.get("device")),
        }


@attrs.frozen
class StreamEvent(RelayEvent):
    """``calling.call.stream``. ``state``: streaming or finished; the stream's ``url``, ``name``."""

    state: Optional[str] = None
    url: Optional[str] = None
    name: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return {
            "state": as_str(p.get("state")),
            "url": as_str(p.get("url")),
            "name": as_str(p.get("name")),
        }


@attrs.frozen
class SendDigitsEvent(RelayEvent):
    """``calling.call.send_digits``. ``state``: finished."""

    state: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return state_field(p)


@attrs.frozen
class PayEvent(RelayEvent):
    """``calling.call.pay``.

    Attributes:
        state: a top-level ``state`` if the server sends one (it usually does not).
        result: the final verdict (success, too-many-failed-attempts, ...); its
            presence marks the last event.
        for_: the ``for`` key of progress events (payment-card-number, ...).
    """

    state: Optional[str] = None
    result: Optional[str] = None
    for_: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return {
            "state": as_str(p.get("state")),
            "result": as_str(p.get("result")),
            "for_": as_str(p.get("for")),
        }


@attrs.frozen
class TranscribeEvent(RelayEvent):
    """``calling.call.transcribe``. ``state``: transcribing or finished; ``url`` of the result."""

    state: Optional[str] = None
    url: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return {"state": as_str(p.get("state")), "url": as_str(p.get("url"))}


@attrs.frozen
class QueueEvent(RelayEvent):
    """``calling.call.queue``.

    Attributes:
        status: enqueue, leave or dequeue.
        queue_id: the queue entry id (wire key ``id``).
        queue_name: the queue's name (wire key ``name``).
        position: position in the queue.
        size: number of calls in the queue.
    """

    status: Optional[str] = None
    queue_id: Optional[str] = None
    queue_name: Optional[str] = None
    position: Optional[int] = None
    size: Optional[int] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return {
            "status": as_str(p.get("status")),
            "queue_id": as_code(p.get("id")),
            "queue_name": as_str(p.get("name")),
            "position": as_int(p.get("position")),
            "size": as_int(p.get("size")),
        }


@attrs.frozen
class EchoEvent(RelayEvent):
    """``calling.call.echo``. ``state`` as sent (vocabulary not fixed by the protocol)."""

    state: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return state_field(p)


@attrs.frozen
class HoldEvent(RelayEvent):
    """``calling.call.hold``. ``state`` as sent (vocabulary not fixed by the protocol)."""

    state: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return state_field(p)


@attrs.frozen
class DenoiseEvent(RelayEvent):
    """``calling.call.denoise``. ``denoised``: whether noise reduction is on (absent: False)."""

    denoised: bool = False

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return {"denoised": bool(as_bool(p.get("denoised")))}


@attrs.frozen
class AIEvent(RelayEvent):
    """``calling.call.ai``. ``state`` as sent (finished/error end the AI session)."""

    state: Optional[str] = None

    @classmethod
    def _own_fields(cls, p: Mapping[str, Any]) -> Dict[str, Any]:
        return state_field(p)


__all__ = [
    "AIEvent",
    "CollectEvent",
    "DenoiseEvent",
    "DetectEvent",
    "EchoEvent",
    "FaxEvent",
    "HoldEvent",
    "PayEvent",
    "PlayEvent",
    "QueueEvent",
    "RecordEvent",
    "SendDigitsEvent",
    "StreamEvent",
    "TapEvent",
    "TranscribeEvent",
]
