"""Call methods that join the call to others or change how it sounds: conferences,
rooms, queues, hold, denoise, echo, digit bindings, live transcription, user events.

Each blocks until the server answers and returns its result; the events they cause
reach ``call.on()`` and ``call.events()``. Each wrapper passes its arguments straight on
(``locals()``) to the runner, which checks them against the method's declaration in
:mod:`relaysync.operations`.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Union

from . import operations as ops
from .call_operations import Extra, Operations

Action = Union[str, Mapping[str, Any]]


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
        acl: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Join the call to the conference ``name`` (``calling.join_conference``).

        Args:
            name: the conference.
            beep: ``"true"``, ``"false"``, ``"onEnter"`` or ``"onExit"`` (the server
                types it as a string; ``True``/``False`` are sent as ``"true"``/``"false"``).
            max_participants: 1 to 250.
            record: ``do-not-record`` or ``record-from-start``.
            status_callback_event_type: ``relay`` or ``cxml``.
            muted, start_on_enter, end_on_exit, wait_url, region, trim, coach, the
                status and recording callbacks, stream, acl: passed to RELAY as named.
            request_timeout: seconds for the request.
            extra_params: params sent as given, unchecked.

        Returns:
            The server's result (it may carry ``conference_id``); ``calling.conference``
            events follow as participants join and leave.

        Raises:
            ValueError: no name or an option of the wrong type or out of its range
                (nothing is sent).
        """
        return self.operations.invoke(ops.JOIN_CONFERENCE, "join_conference", locals())

    def leave_conference(
        self,
        conference_id: str,
        *,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Take the call out of a conference (``calling.leave_conference``).

        Raises:
            ValueError: no ``conference_id`` (nothing is sent).
        """
        return self.operations.invoke(ops.LEAVE_CONFERENCE, "leave_conference", locals())

    def hold(
        self, *, request_timeout: Optional[float] = None, extra_params: Extra = None
    ) -> Dict[str, Any]:
        """Put the call on hold (``calling.hold``); ``calling.call.hold`` follows."""
        return self.operations.invoke(ops.HOLD, "hold", locals())

    def unhold(
        self, *, request_timeout: Optional[float] = None, extra_params: Extra = None
    ) -> Dict[str, Any]:
        """Take the call off hold (``calling.unhold``); ``calling.call.hold`` follows."""
        return self.operations.invoke(ops.UNHOLD, "unhold", locals())

    def denoise(
        self, *, request_timeout: Optional[float] = None, extra_params: Extra = None
    ) -> Dict[str, Any]:
        """Turn noise reduction on (``calling.denoise``); ``calling.call.denoise`` follows."""
        return self.operations.invoke(ops.DENOISE, "denoise", locals())

    def denoise_stop(
        self, *, request_timeout: Optional[float] = None, extra_params: Extra = None
    ) -> Dict[str, Any]:
        """Turn noise reduction off (``calling.denoise.stop``)."""
        return self.operations.invoke(ops.DENOISE_STOP, "denoise_stop", locals())

    def echo(
        self,
        timeout: Optional[float] = None,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Echo the caller's audio back (``calling.echo``).

        Args:
            timeout: the wire's own option: seconds to echo; ``0`` until hang-up.

        Raises:
            ValueError: a negative, NaN or infinite ``timeout`` (nothing is sent).
        """
        return self.operations.invoke(ops.ECHO, "echo", locals())

    def bind_digit(
        self,
        digits: str,
        bind_method: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        realm: Optional[str] = None,
        max_triggers: Optional[int] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Run ``bind_method`` (a calling method, e.g. ``calling.play``) with ``params``
        whenever the caller presses ``digits`` (``calling.bind_digit``).

        Args:
            max_triggers: how many times it may fire; ``0`` is unlimited.

        Raises:
            ValueError: no digits, no method, or a negative ``max_triggers``.
        """
        return self.operations.invoke(ops.BIND_DIGIT, "bind_digit", locals())

    def clear_digit_bindings(
        self,
        realm: Optional[str] = None,
        *,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Remove the call's digit bindings (those of ``realm`` only, if given)."""
        return self.operations.invoke(ops.CLEAR_DIGIT_BINDINGS, "clear_digit_bindings", locals())

    def live_transcribe(
        self,
        action: Action,
        *,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Start, stop or summarize live transcription (``calling.live_transcribe``).

        Args:
            action: ``"start"``, ``"stop"``, ``"summarize"``, or a one-key dict such
                as ``{"start": {"lang": "en-US"}}``.

        Raises:
            ValueError: another action (nothing is sent).
        """
        action = {action: {}} if isinstance(action, str) else action
        return self.operations.invoke(ops.LIVE_TRANSCRIBE, "live_transcribe", locals())

    def live_translate(
        self,
        action: Action,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Start, stop, summarize or inject into live translation
        (``calling.live_translate``). See :meth:`live_transcribe`."""
        action = {action: {}} if isinstance(action, str) else action
        return self.operations.invoke(ops.LIVE_TRANSLATE, "live_translate", locals())

    def join_room(
        self,
        name: str,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Join the call to the video room ``name`` (``calling.join_room``).

        Raises:
            ValueError: no name (nothing is sent).
        """
        return self.operations.invoke(ops.JOIN_ROOM, "join_room", locals())

    def leave_room(
        self, *, request_timeout: Optional[float] = None, extra_params: Extra = None
    ) -> Dict[str, Any]:
        """Take the call out of its room (``calling.leave_room``)."""
        return self.operations.invoke(ops.LEAVE_ROOM, "leave_room", locals())

    def user_event(
        self,
        event: Optional[Mapping[str, Any]] = None,
        *,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Send an application event to the call's other listeners (``calling.user_event``)."""
        return self.operations.invoke(ops.USER_EVENT, "user_event", locals())

    def queue_enter(
        self,
        queue_name: str,
        *,
        wait_url: Optional[str] = None,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Put the call in the queue ``queue_name`` (``calling.queue.enter``);
        ``calling.call.queue`` events report its position.

        Raises:
            ValueError: no queue name (nothing is sent).
        """
        return self.operations.invoke(ops.QUEUE_ENTER, "queue_enter", locals())

    def queue_leave(
        self,
        queue_name: str,
        queue_id: Optional[str] = None,
        *,
        status_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Take the call out of the queue (``calling.queue.leave``).

        Raises:
            ValueError: no queue name (nothing is sent).
        """
        return self.operations.invoke(ops.QUEUE_LEAVE, "queue_leave", locals())


__all__ = ["CallRoomsMixin"]
