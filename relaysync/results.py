"""Immutable outcomes of operations on a call (play, record, collect, refer, ...).

Each result keeps the event that settled it, so nothing the server said is lost. A
result class declares its own fields once; one reader compiled from the declarations
reads them from the event's attributes (:mod:`relaysync._field_readers`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, FrozenSet, Mapping, Optional, Type, TypeVar

import attrs

from relaysync._field_readers import Readers, not_read, read_at
from relaysync._util import as_code, as_str
from relaysync.constants import (
    COLLECT_DIGIT,
    COLLECT_SPEECH,
    CONNECT_CONNECTED,
    DETECT_ERROR,
    DETECT_FINISHED,
    DETECT_UNKNOWN,
    FAX_FINISHED,
    PAY_SUCCESS,
    REFER_SUCCESS,
)
from relaysync.events import PayEvent, RelayEvent

R = TypeVar("R", bound="ActionResult")


def verdict(event: Optional[RelayEvent]) -> Optional[str]:
    """The state an operation's event reports, read where RELAY puts it.

    A top-level ``state`` if the event has one; else ``connect_state``,
    ``detect.params.event``, ``fax.type``, the pay event's ``result``, or a collect
    event's ``result.type``.
    """
    if event is None:
        return None
    for name in ("state", "connect_state", "detect_event", "fax_type", "result_type"):
        value = getattr(event, name, None)
        if isinstance(value, str):
            return value
    if isinstance(event, PayEvent):
        return event.result or event.for_
    return None


@attrs.frozen
class ActionResult:
    """Outcome of a long-running operation on a call (an Action).

    Attributes:
        state: the settling event's ``state`` (where RELAY sends none, its verdict
            field: ``detect.params.event``, ``fax.type``, the pay ``result``);
            ``None`` when it ended without a final event.
        successful: ``True`` if the operation did what it was asked to.
        event: the event that settled the operation, or ``None``.
    """

    SUCCESS_STATES: ClassVar[FrozenSet[str]] = frozenset({"finished"})

    state: Optional[str]
    successful: bool
    event: Optional[RelayEvent] = None

    @classmethod
    def from_event(cls: Type[R], event: Optional[RelayEvent], **overrides: Any) -> R:
        """Build the result from the event that settled the operation.

        Args:
            event: the final event, or ``None`` when the operation ended without one.
            overrides: field values that win over what the event says (a detect that
                waited for the beep reports ``result="MACHINE"``, ``beep=True``).

        Returns:
            The result; ``successful`` as the class defines it (by default
            ``state in SUCCESS_STATES``).
        """
        fields: Dict[str, Any] = _READERS[cls](event)
        fields.update(state=verdict(event), event=event)
        fields.update(overrides)
        fields["successful"] = cls._successful(fields)
        return cls(**fields)

    @classmethod
    def _successful(cls, fields: Mapping[str, Any]) -> bool:
        """Whether the outcome is a success, from the result's fields."""
        return fields.get("state") in cls.SUCCESS_STATES


@attrs.frozen
class PlayResult(ActionResult):
    """Outcome of ``play``.

    Attributes:
        state: ``finished`` or ``error`` (``None`` if the call ended first).
        successful: ``True`` iff ``state == "finished"``.
        event: the final :class:`~relaysync.events.PlayEvent`, or ``None``.
    """


@attrs.frozen
class RecordResult(ActionResult):
    """Outcome of ``record``.

    Attributes:
        state: ``finished``, ``no_input`` or ``error``.
        successful: ``True`` iff ``state == "finished"``.
        url, duration, size, format: the recording, read from the event's nested
            ``record{}`` object or its top level.
    """

    url: Optional[str] = None
    duration: Optional[float] = None
    size: Optional[int] = None
    format: Optional[str] = None


@attrs.frozen
class CollectResult(ActionResult):
    """Outcome of ``collect``, ``play_and_collect`` and the prompt shorthands.

    Attributes:
        state: the event's ``state`` if it has one, else ``result.type``.
        successful: ``True`` iff ``type`` is ``digit`` or ``speech``.
        type: ``digit``, ``speech``, ``no_input``, ``no_match`` or ``error``.
        digits: the digits pressed, without the terminator (digit results).
        terminator: the terminator digit that ended the input (e.g. ``"#"``), or
            ``None`` when input ended on ``max`` digits or a timeout.
        text, confidence: what was said (speech results).
    """

    type: Optional[str] = read_at("result.type")
    digits: Optional[str] = read_at("result.params.digits")
    terminator: Optional[str] = read_at("result.params.terminator")
    text: Optional[str] = read_at("result.params.text")
    confidence: Optional[float] = read_at("result.params.confidence")

    @classmethod
    def _successful(cls, fields: Mapping[str, Any]) -> bool:
        return fields.get("type") in (COLLECT_DIGIT, COLLECT_SPEECH)


def _detected(value: Any) -> Optional[str]:
    """``detect.params.event`` as a detection: ``None`` for ``finished`` and ``error``."""
    return None if value in (DETECT_FINISHED, DETECT_ERROR) else as_str(value)


@attrs.frozen
class DetectResult(ActionResult):
    """Outcome of ``detect`` and its shorthands.

    Attributes:
        state: ``detect.params.event`` of the settling event (``READY`` when it
            waited for the beep).
        successful: ``True`` when something was detected (not ``UNKNOWN``,
            ``finished`` or ``error``).
        type: ``machine``, ``fax`` or ``digit``.
        result: ``HUMAN``, ``MACHINE``, ``UNKNOWN``, ``CED``, ``CNG`` or the digit;
            ``None`` when the detector finished without a result.
        beep: ``True`` when it waited for, and got, the beep after ``MACHINE``.
    """

    type: Optional[str] = read_at("detect_type")
    result: Optional[str] = read_at("detect_event", convert=_detected)
    beep: bool = not_read(False)

    @classmethod
    def _successful(cls, fields: Mapping[str, Any]) -> bool:
        return fields.get("result") not in (None, DETECT_UNKNOWN)


@attrs.frozen
class SendDigitsResult(ActionResult):
    """Outcome of ``send_digits``: ``state`` ``finished`` when the digits were sent."""


@attrs.frozen
class TapResult(ActionResult):
    """Outcome of ``tap``: ``state`` ``finished``; ``tap`` and ``device`` as reported."""

    tap: Optional[Mapping[str, Any]] = None
    device: Optional[Mapping[str, Any]] = None


@attrs.frozen
class StreamResult(ActionResult):
    """Outcome of ``stream``: ``state`` ``finished``; the stream's ``url`` and ``name``."""

    url: Optional[str] = None
    name: Optional[str] = None


@attrs.frozen
class TranscribeResult(ActionResult):
    """Outcome of ``transcribe``: ``state`` ``finished``; ``url`` of the transcription."""

    url: Optional[str] = None


@attrs.frozen
class FaxResult(ActionResult):
    """Outcome of ``send_fax`` and ``receive_fax``.

    Attributes:
        state: ``fax.type`` of the settling event: ``finished`` or ``error``.
        successful: ``True`` iff ``fax.type == "finished"`` and ``fax.params.success``.
        direction: ``send`` or ``receive``.
        identity, remote_identity: this side's and the far side's fax identity.
        document: the document URL.
        pages: pages transferred.
        result_code, result_text: the fax ``result`` (``"0"`` is OK) and its text.
    """

    direction: Optional[str] = read_at("fax_params.direction")
    identity: Optional[str] = read_at("fax_params.identity")
    remote_identity: Optional[str] = read_at("fax_params.remote_identity")
    document: Optional[str] = read_at("fax_params.document")
    pages: Optional[int] = read_at("fax_params.pages")
    result_code: Optional[str] = read_at("fax_params.result", convert=as_code)
    result_text: Optional[str] = read_at("fax_params.result_text")
    success: Optional[bool] = read_at("fax_params.success", repr=False)

    @classmethod
    def _successful(cls, fields: Mapping[str, Any]) -> bool:
        return fields.get("state") == FAX_FINISHED and fields.get("success") is True


@attrs.frozen
class PayResult(ActionResult):
    """Outcome of ``pay``.

    Attributes:
        state: the final event's ``result`` (success, too-many-failed-attempts,
            payment-connector-error, caller-hung-up, ...).
        successful: ``True`` iff ``result == "success"``.
        result: the same verdict, by its wire name.
    """

    result: Optional[str] = None

    @classmethod
    def _successful(cls, fields: Mapping[str, Any]) -> bool:
        return fields.get("result") == PAY_SUCCESS


@attrs.frozen
class AIResult(ActionResult):
    """Outcome of ``ai``: ``finished``/``error`` from ``calling.call.ai`` if sent."""


@attrs.frozen
class ReferResult(ActionResult):
    """Outcome of a SIP REFER (``call.refer``).

    Attributes:
        state: the final refer state: ``success``, ``busy``, ``noAnswer``, ``cancel``
            or ``error``.
        successful: ``True`` iff ``state == "success"``.
        sip_refer_to: the URI the far end was asked to call.
        sip_refer_response_code: SIP response to the REFER itself (e.g. ``"202"``),
            if the server reported it.
        sip_notify_response_code: final SIP code from the NOTIFY (e.g. ``"200"``),
            if the server reported it.
        event: the final :class:`~relaysync.events.ReferEvent`.
    """

    SUCCESS_STATES: ClassVar[FrozenSet[str]] = frozenset({REFER_SUCCESS})

    sip_refer_to: Optional[str] = None
    sip_refer_response_code: Optional[str] = None
    sip_notify_response_code: Optional[str] = None


@attrs.frozen
class ConnectResult(ActionResult):
    """Outcome of ``call.connect``.

    Attributes:
        state: the final ``connect_state``: ``connected`` or ``failed``.
        successful: ``True`` iff ``state == "connected"``.
        peer: the peer ``Call`` object when connected (typed ``Any`` here to keep
            this module free of the call module), else ``None``.
        event: the final :class:`~relaysync.events.ConnectEvent`.
    """

    SUCCESS_STATES: ClassVar[FrozenSet[str]] = frozenset({CONNECT_CONNECTED})

    peer: Optional[Any] = not_read(None)  # noqa: RUF009 (an attrs field, as for the others)

    @classmethod
    def from_event(
        cls, event: Optional[RelayEvent], peer: Optional[Any] = None, **overrides: Any
    ) -> ConnectResult:
        """Build the result from the final ``calling.call.connect`` event.

        Args:
            event: the event carrying ``connected`` or ``failed``.
            peer: the peer ``Call`` the client built for ``event.peer``, if any.
            overrides: as for :meth:`ActionResult.from_event`.
        """
        if peer is not None:
            overrides["peer"] = peer
        return super().from_event(event, **overrides)


#: Each result class's reader of its own fields from the settling event.
_READERS = Readers(ActionResult, from_attributes=True)
_READERS.prepare(ActionResult.__subclasses__())

__all__ = [
    "AIResult",
    "ActionResult",
    "CollectResult",
    "ConnectResult",
    "DetectResult",
    "FaxResult",
    "PayResult",
    "PlayResult",
    "RecordResult",
    "ReferResult",
    "SendDigitsResult",
    "StreamResult",
    "TapResult",
    "TranscribeResult",
    "verdict",
]
