"""Call methods that join the call to others or change how it sounds: conferences,
rooms, queues, hold, denoise, echo, digit bindings, live transcription, user events.

Each blocks until the server answers and returns its result; the events they cause
reach ``call.on()`` and ``call.events()``.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from . import constants as C
from . import operations as ops
from ._validate import check_choice, check_range
from .runner import Operations

Action = Union[str, Mapping[str, Any]]
STATUS_CALLBACK_EVENT_TYPES = ("relay", "cxml")


def _name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _live_action(value: Action, allowed: Sequence[str]) -> Dict[str, Any]:
    """``"stop"`` → ``{"stop": {}}``; a dict must have exactly one allowed key."""
    if isinstance(value, str):
        value = {value: {}}
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValueError(f"action must be one of {tuple(allowed)} or a one-key dict, got {value!r}")
    (key,) = value
    check_choice("action", key, allowed)
    return {key: value[key] if value[key] is not None else {}}


class CallRoomsMixin:
    """Conferences, rooms, queues and the other one-shot methods."""

    operations: Operations

    def join_conference(
        self,
        name: str,
        *,
        muted: Optional[bool] = None,
        beep: Optional[Union[bool, str]] = None,
        start_on_enter: Optional[bool] = None,
        end_on_exit: Optional[bool] = None,
        wait_url: Optional[str] = None,
        max_participants: Optional[int] = None,
        record: Optional[str] = None,
        region: Optional[str] = None,
        trim: Optional[str] = None,
        coach: Optional[str] = None,
        status_callback: Optional[str] = None,
        status_callback_event: Optional[str] = None,
        status_callback_event_type: Optional[str] = None,
        status_callback_method: Optional[str] = None,
        recording_status_callback: Optional[str] = None,
        recording_status_callback_event: Optional[str] = None,
        recording_status_callback_event_type: Optional[str] = None,
        recording_status_callback_method: Optional[str] = None,
        stream: Optional[Mapping[str, Any]] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Join the call to the conference ``name`` (``calling.join_conference``).

        Args:
            name: the conference.
            beep: ``True``, ``False``, ``"onEnter"`` or ``"onExit"``.
            max_participants: 1 to 250.
            record: ``do-not-record`` or ``record-from-start``.
            status_callback_event_type: ``relay`` or ``cxml``.
            muted, start_on_enter, end_on_exit, wait_url, region, trim, coach, the
                status and recording callbacks, stream: passed to RELAY as named.

        Returns:
            The server's result (it may carry ``conference_id``); ``calling.conference``
            events follow as participants join and leave.

        Raises:
            ValueError: no name or an option out of its documented range (nothing is
                sent).
        """
        check_choice("beep", beep, C.CONFERENCE_BEEP_VALUES)
        low, high = C.CONFERENCE_MAX_PARTICIPANTS
        if isinstance(max_participants, float) and not max_participants.is_integer():
            raise ValueError(f"max_participants must be a whole number, got {max_participants}")
        check_range("max_participants", max_participants, low, high)
        check_choice("record", record, C.CONFERENCE_RECORD_VALUES)
        check_choice(
            "status_callback_event_type", status_callback_event_type, STATUS_CALLBACK_EVENT_TYPES
        )
        return self.operations.invoke(
            ops.JOIN_CONFERENCE,
            {
                "name": _name("name", name),
                "muted": muted,
                "beep": beep,
                "start_on_enter": start_on_enter,
                "end_on_exit": end_on_exit,
                "wait_url": wait_url,
                "max_participants": max_participants,
                "record": record,
                "region": region,
                "trim": trim,
                "coach": coach,
                "status_callback": status_callback,
                "status_callback_event": status_callback_event,
                "status_callback_event_type": status_callback_event_type,
                "status_callback_method": status_callback_method,
                "recording_status_callback": recording_status_callback,
                "recording_status_callback_event": recording_status_callback_event,
                "recording_status_callback_event_type": recording_status_callback_event_type,
                "recording_status_callback_method": recording_status_callback_method,
                "stream": stream,
            },
            request_timeout,
        )

    def leave_conference(
        self, conference_id: str, *, request_timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Take the call out of a conference (``calling.leave_conference``).

        Raises:
            ValueError: no ``conference_id`` (nothing is sent).
        """
        return self.operations.invoke(
            ops.LEAVE_CONFERENCE,
            {"conference_id": _name("conference_id", conference_id)},
            request_timeout,
        )

    def hold(self, *, request_timeout: Optional[float] = None) -> Dict[str, Any]:
        """Put the call on hold (``calling.hold``); ``calling.call.hold`` follows."""
        return self.operations.invoke(ops.HOLD, {}, request_timeout)

    def unhold(self, *, request_timeout: Optional[float] = None) -> Dict[str, Any]:
        """Take the call off hold (``calling.unhold``); ``calling.call.hold`` follows."""
        return self.operations.invoke(ops.UNHOLD, {}, request_timeout)

    def denoise(self, *, request_timeout: Optional[float] = None) -> Dict[str, Any]:
        """Turn noise reduction on (``calling.denoise``); ``calling.call.denoise`` follows."""
        return self.operations.invoke(ops.DENOISE, {}, request_timeout)

    def denoise_stop(self, *, request_timeout: Optional[float] = None) -> Dict[str, Any]:
        """Turn noise reduction off (``calling.denoise.stop``)."""
        return self.operations.invoke(ops.DENOISE_STOP, {}, request_timeout)

    def echo(
        self,
        timeout: Optional[float] = None,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Echo the caller's audio back (``calling.echo``).

        Args:
            timeout: the wire's own option: seconds to echo; ``0`` until hang-up.

        Raises:
            ValueError: a negative, NaN or infinite ``timeout`` (nothing is sent).
        """
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout < 0
        ):
            raise ValueError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
        return self.operations.invoke(
            ops.ECHO, {"timeout": timeout, "status_url": status_url}, request_timeout
        )

    def bind_digit(
        self,
        digits: str,
        bind_method: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        realm: Optional[str] = None,
        max_triggers: Optional[int] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Run ``bind_method`` (a calling method, e.g. ``calling.play``) with ``params``
        whenever the caller presses ``digits`` (``calling.bind_digit``).

        Args:
            max_triggers: how many times it may fire; ``0`` is unlimited.

        Raises:
            ValueError: bad digits, no method, or a negative ``max_triggers``.
        """
        if not isinstance(digits, str) or not digits or set(digits) - set(C.DETECT_DIGITS):
            raise ValueError(f"digits must be made of {C.DETECT_DIGITS!r}, got {digits!r}")
        check_range("max_triggers", max_triggers, 0, 1_000_000)
        return self.operations.invoke(
            ops.BIND_DIGIT,
            {
                "digits": digits,
                "bind_method": _name("bind_method", bind_method),
                "params": params,
                "realm": realm,
                "max_triggers": max_triggers,
            },
            request_timeout,
        )

    def clear_digit_bindings(
        self, realm: Optional[str] = None, *, request_timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Remove the call's digit bindings (those of ``realm`` only, if given)."""
        return self.operations.invoke(ops.CLEAR_DIGIT_BINDINGS, {"realm": realm}, request_timeout)

    def live_transcribe(
        self, action: Action, *, request_timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Start, stop or summarize live transcription (``calling.live_transcribe``).

        Args:
            action: ``"start"``, ``"stop"``, ``"summarize"``, or a one-key dict such
                as ``{"start": {"lang": "en-US"}}``.

        Raises:
            ValueError: another action (nothing is sent).
        """
        return self.operations.invoke(
            ops.LIVE_TRANSCRIBE,
            {"action": _live_action(action, C.LIVE_TRANSCRIBE_ACTIONS)},
            request_timeout,
        )

    def live_translate(
        self,
        action: Action,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Start, stop, summarize or inject into live translation
        (``calling.live_translate``). See :meth:`live_transcribe`."""
        return self.operations.invoke(
            ops.LIVE_TRANSLATE,
            {"action": _live_action(action, C.LIVE_TRANSLATE_ACTIONS), "status_url": status_url},
            request_timeout,
        )

    def join_room(
        self,
        name: str,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Join the call to the video room ``name`` (``calling.join_room``).

        Raises:
            ValueError: no name (nothing is sent).
        """
        return self.operations.invoke(
            ops.JOIN_ROOM, {"name": _name("name", name), "status_url": status_url}, request_timeout
        )

    def leave_room(self, *, request_timeout: Optional[float] = None) -> Dict[str, Any]:
        """Take the call out of its room (``calling.leave_room``)."""
        return self.operations.invoke(ops.LEAVE_ROOM, {}, request_timeout)

    def user_event(
        self, event: Optional[Mapping[str, Any]] = None, *, request_timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send an application event to the call's other listeners (``calling.user_event``)."""
        return self.operations.invoke(ops.USER_EVENT, {"event": event}, request_timeout)

    def queue_enter(
        self,
        queue_name: str,
        *,
        wait_url: Optional[str] = None,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Put the call in the queue ``queue_name`` (``calling.queue.enter``);
        ``calling.call.queue`` events report its position.

        Raises:
            ValueError: no queue name (nothing is sent).
        """
        return self.operations.invoke(
            ops.QUEUE_ENTER,
            {
                "queue_name": _name("queue_name", queue_name),
                "wait_url": wait_url,
                "status_url": status_url,
            },
            request_timeout,
        )

    def queue_leave(
        self,
        queue_name: str,
        queue_id: Optional[str] = None,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Take the call out of the queue (``calling.queue.leave``).

        Raises:
            ValueError: no queue name (nothing is sent).
        """
        return self.operations.invoke(
            ops.QUEUE_LEAVE,
            {
                "queue_name": _name("queue_name", queue_name),
                "queue_id": queue_id,
                "status_url": status_url,
            },
            request_timeout,
        )


__all__ = ["CallRoomsMixin"]
