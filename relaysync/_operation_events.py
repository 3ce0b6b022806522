"""Events of long-running operations on a call: play, record, collect, detect, fax, ...

Each class declares only its own fields, where they are read from when that is not a
key of their own name (see :mod:`relaysync._field_readers`); the shared ones are in
:mod:`relaysync._event_base`.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import attrs

from relaysync._event_base import RelayEvent
from relaysync._field_readers import read_at
from relaysync._util import as_code


@attrs.frozen
class PlayEvent(RelayEvent):
    """``calling.call.play``. ``state``: playing, paused, finished or error."""

    state: Optional[str] = None


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
    url: Optional[str] = read_at("record.url", "url")
    duration: Optional[float] = read_at("record.duration", "duration")
    size: Optional[int] = read_at("record.size", "size")
    format: Optional[str] = read_at("record.format", "format")


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
    result_type: Optional[str] = read_at("result.type")
    final: Optional[bool] = None
    state: Optional[str] = None


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
    detect_type: Optional[str] = read_at("detect.type")
    detect_event: Optional[str] = read_at("detect.params.event")


@attrs.frozen
class FaxEvent(RelayEvent):
    """``calling.call.fax`` (send_fax and receive_fax).

    Attributes:
        fax_type: ``fax.type``: page (progress), finished or error.
        fax_params: ``fax.params`` (``{}`` if absent), e.g. pages, success, document.
    """

    fax_type: Optional[str] = read_at("fax.type")
    fax_params: Mapping[str, Any] = read_at("fax.params", factory=dict)


@attrs.frozen
class TapEvent(RelayEvent):
    """``calling.call.tap``. ``state``: tapping or finished; ``tap`` and ``device`` as sent."""

    state: Optional[str] = None
    tap: Optional[Mapping[str, Any]] = None
    device: Optional[Mapping[str, Any]] = None


@attrs.frozen
class StreamEvent(RelayEvent):
    """``calling.call.stream``. ``state``: streaming or finished; the stream's ``url``, ``name``."""

    state: Optional[str] = None
    url: Optional[str] = None
    name: Optional[str] = None


@attrs.frozen
class SendDigitsEvent(RelayEvent):
    """``calling.call.send_digits``. ``state``: finished."""

    state: Optional[str] = None


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
    for_: Optional[str] = read_at("for")


@attrs.frozen
class TranscribeEvent(RelayEvent):
    """``calling.call.transcribe``. ``state``: transcribing or finished; ``url`` of the result."""

    state: Optional[str] = None
    url: Optional[str] = None


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
    queue_id: Optional[str] = read_at("id", convert=as_code)
    queue_name: Optional[str] = read_at("name")
    position: Optional[int] = None
    size: Optional[int] = None


@attrs.frozen
class EchoEvent(RelayEvent):
    """``calling.call.echo``. ``state`` as sent (vocabulary not fixed by the protocol)."""

    state: Optional[str] = None


@attrs.frozen
class HoldEvent(RelayEvent):
    """``calling.call.hold``. ``state`` as sent (vocabulary not fixed by the protocol)."""

    state: Optional[str] = None


@attrs.frozen
class DenoiseEvent(RelayEvent):
    """``calling.call.denoise``. ``denoised``: whether noise reduction is on (absent: False)."""

    denoised: bool = False


@attrs.frozen
class AIEvent(RelayEvent):
    """``calling.call.ai``. ``state`` as sent (finished/error end the AI session)."""

    state: Optional[str] = None


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
