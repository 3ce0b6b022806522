"""Immutable outcomes of blocking operations (refer, connect, play, ...).

Each result keeps the event that settled it, so nothing the server said is lost.
"""

from __future__ import annotations

from typing import Any, ClassVar, FrozenSet, Optional, Type, TypeVar

import attrs

from relaysync.constants import CONNECT_CONNECTED, REFER_SUCCESS
from relaysync.events import ConnectEvent, ReferEvent, RelayEvent

R = TypeVar("R", bound="ActionResult")


def _state_of(event: Optional[RelayEvent]) -> Optional[str]:
    state = getattr(event, "state", None)
    return state if isinstance(state, str) else None


@attrs.frozen
class ActionResult:
    """Outcome of a long-running operation on a call (an Action).

    Attributes:
        state: the operation's final ``state`` as sent by the server (e.g.
            ``finished``, ``error``); ``None`` when it ended without a final event
            (for example because the call ended first).
        successful: ``True`` if ``state`` is one of the class's success states
            (``finished`` for the generic result).
        event: the event that settled the operation, or ``None``.
    """

    SUCCESS_STATES: ClassVar[FrozenSet[str]] = frozenset({"finished"})

    state: Optional[str]
    successful: bool
    event: Optional[RelayEvent] = None

    @classmethod
    def from_event(cls: Type[R], event: Optional[RelayEvent]) -> R:
        """Build the result from the event that settled the operation.

        Args:
            event: the final event (its ``state`` attribute is read), or ``None``
                when the operation ended without one.

        Returns:
            A result whose ``successful`` is ``state in cls.SUCCESS_STATES``.
        """
        state = _state_of(event)
        return cls(state=state, successful=state in cls.SUCCESS_STATES, event=event)


@attrs.frozen
class PlayResult(ActionResult):
    """Outcome of ``play``.

    Attributes:
        state: ``finished`` or ``error`` (``None`` if the call ended first).
        successful: ``True`` iff ``state == "finished"``.
        event: the final :class:`~relaysync.events.PlayEvent`, or ``None``.
    """


@attrs.frozen
class ReferResult:
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

    state: Optional[str]
    successful: bool
    sip_refer_to: Optional[str] = None
    sip_refer_response_code: Optional[str] = None
    sip_notify_response_code: Optional[str] = None
    event: Optional[ReferEvent] = None

    @classmethod
    def from_event(cls, event: ReferEvent) -> ReferResult:
        """Build the result from the final ``calling.call.refer`` event.

        Args:
            event: the event carrying the final refer state.

        Returns:
            The :class:`ReferResult`; ``successful`` iff ``event.state == "success"``.
        """
        return cls(
            state=event.state,
            successful=event.state == REFER_SUCCESS,
            sip_refer_to=event.sip_refer_to,
            sip_refer_response_code=event.sip_refer_response_code,
            sip_notify_response_code=event.sip_notify_response_code,
            event=event,
        )


@attrs.frozen
class ConnectResult:
    """Outcome of ``call.connect``.

    Attributes:
        state: the final ``connect_state``: ``connected`` or ``failed``.
        successful: ``True`` iff ``state == "connected"``.
        peer: the peer ``Call`` object when connected (typed ``Any`` here to keep
            this module free of the call module), else ``None``.
        event: the final :class:`~relaysync.events.ConnectEvent`.
    """

    state: Optional[str]
    successful: bool
    peer: Optional[Any] = None
    event: Optional[ConnectEvent] = None

    @classmethod
    def from_event(cls, event: ConnectEvent, peer: Optional[Any] = None) -> ConnectResult:
        """Build the result from the final ``calling.call.connect`` event.

        Args:
            event: the event carrying ``connected`` or ``failed``.
            peer: the peer ``Call`` the client built for ``event.peer``, if any.

        Returns:
            The :class:`ConnectResult`; ``successful`` iff ``connect_state == "connected"``.
        """
        return cls(
            state=event.connect_state,
            successful=event.connect_state == CONNECT_CONNECTED,
            peer=peer,
            event=event,
        )


__all__ = ["ActionResult", "ConnectResult", "PlayResult", "ReferResult"]
