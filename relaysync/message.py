"""Message: one SMS/MMS, its delivery state, and a blocking wait for the final state.

A :class:`Message` is created by :meth:`RelayClient.send_message` (outbound, state
``queued``) or for a ``messaging.receive`` event (inbound, state ``received``). Outbound
messages are updated by ``messaging.state`` events on the reader thread, under the
message's own lock; :meth:`Message.wait` blocks on a
:class:`~relaysync.waiting.OneShot` settled, under that lock, with the final state.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Tuple

from . import constants as C
from ._validate import check_timeout
from .errors import RelayError
from .events import MessagingEvent
from .failures import guarded
from .waiting import OneShot

#: States after which an outbound message changes no more.
OUTBOUND_FINAL_STATES = frozenset({"delivered", "undelivered", "failed"})
#: The state of every inbound message.
RECEIVED = "received"
#: The state of an outbound message RELAY has just accepted.
QUEUED = "queued"

MessageCallback = Callable[["Message"], Any]
Scheduler = Callable[[Callable[[], Any], str], None]


class Message:
    """An SMS/MMS message sent or received through RELAY.

    The reader thread updates the attributes under the message's lock, and only until
    the message is final; read them after :meth:`wait` for a settled view.

    Attributes:
        message_id: RELAY's id for the message.
        state: ``queued``, ``initiated``, ``sent``, ``delivered``, ``undelivered``,
            ``failed`` (outbound) or ``received`` (inbound).
        direction: ``outbound`` or ``inbound``.
        from_number, to_number: E.164 numbers.
        body: the text (``None`` for a media-only message).
        media: media URLs (a tuple).
        tags: the message's tags (a tuple).
        segments: SMS segments as counted by RELAY (``None`` until it says).
        context: the context the message's events belong to.
        region: the origination region asked for, if any.
        reason: why the message was not delivered (``undelivered`` or ``failed``).
        event: the latest messaging event applied, if any.
    """

    def __init__(
        self,
        message_id: str,
        *,
        direction: str,
        state: str,
        from_number: Optional[str] = None,
        to_number: Optional[str] = None,
        body: Optional[str] = None,
        media: Tuple[str, ...] = (),
        tags: Tuple[str, ...] = (),
        segments: Optional[int] = None,
        context: Optional[str] = None,
        region: Optional[str] = None,
        reason: Optional[str] = None,
        on_completed: Optional[MessageCallback] = None,
        schedule: Optional[Scheduler] = None,
    ) -> None:
        self._lock = threading.Lock()
        self.message_id = message_id
        self.direction = direction
        self.state = state
        self.from_number = from_number
        self.to_number = to_number
        self.body = body
        self.media = media
        self.tags = tags
        self.segments = segments
        self.context = context
        self.region = region
        self.reason = reason
        self.event: Optional[MessagingEvent] = None
        #: settled with this message once final, or with the error that ended the wait
        self._settled: OneShot[Message] = OneShot(self._lock)
        if state in C.MESSAGE_FINAL_STATES:
            self._settled.set_result(self)
        self._on_completed = on_completed
        self._schedule = schedule

    @classmethod
    def from_event(cls, event: MessagingEvent) -> Message:
        """Build an inbound message from a ``messaging.receive`` event."""
        message = cls(
            event.message_id or "",
            direction=event.direction or "inbound",
            state=event.message_state or RECEIVED,
            from_number=event.from_number,
            to_number=event.to_number,
            body=event.body,
            media=event.media,
            tags=event.tags,
            segments=event.segments,
            context=event.context,
            reason=event.reason,
        )
        message.event = event
        return message

    def __repr__(self) -> str:
        return (
            f"Message(message_id={self.message_id!r}, direction={self.direction!r}, "
            f"state={self.state!r}, to_number={self.to_number!r}"
            f"{f', reason={self.reason!r}' if self.reason else ''})"
        )

    @property
    def done(self) -> bool:
        """True once the message is in a final state (or the client closed)."""
        return self._settled.done

    @property
    def successful(self) -> bool:
        """True if the message was delivered (outbound) or received (inbound)."""
        with self._lock:
            return self.state in ("delivered", RECEIVED)

    def wait(self, timeout: Optional[float] = 60.0) -> Message:
        """Block until the message reaches a final state, and return it.

        Final states are ``delivered``, ``undelivered`` and ``failed`` (``reason`` says
        why), and ``received`` for an inbound message (which is final from the start).
        A socket drop in between is not an error: the states sent after the session
        resumes still arrive.

        Args:
            timeout: seconds to wait; ``None`` waits without bound.

        Returns:
            This message; check :attr:`state` (or :attr:`successful`).

        Raises:
            TypeError, ValueError: ``timeout`` is not a positive number or ``None``.
            RelayTimeoutError: no final state within ``timeout``.
            RelayConnectionError: the client was closed first.
        """
        seconds = check_timeout("timeout", timeout)
        return self._settled.wait(seconds, f"message {self.message_id}")

    # ---------------------------------------------------------------- reader side

    def _apply(self, event: MessagingEvent) -> bool:
        """Apply a ``messaging.state`` event (reader thread); True once final.

        States arriving after the final one are ignored. The on_completed callback is
        handed to the worker pool, never run here.
        """
        with self._lock:
            if self._settled.done:
                return True
            if event.message_state:
                self.state = event.message_state
            if event.reason is not None:
                self.reason = event.reason
            if event.segments is not None:
                self.segments = event.segments
            self.event = event
            if self.state not in C.MESSAGE_FINAL_STATES:
                return False
            self._settled.resolve_locked(self)
            self._completed()
            return True

    def _detach(self, error: RelayError) -> None:
        """The client is gone: release waiters with ``error`` unless already final."""
        with self._lock:
            self._settled.fail_locked(error)

    def _completed(self) -> None:
        """Schedule on_completed (lock held)."""
        callback, schedule = self._on_completed, self._schedule
        if callback is not None and schedule is not None:
            schedule(
                guarded(callback, (self,), "on_completed callback", self),
                f"on_completed for {self!r}",
            )


__all__ = ["OUTBOUND_FINAL_STATES", "QUEUED", "RECEIVED", "Message", "MessageCallback"]
