"""The simulator's messaging namespace: ``messaging.send``, delivery states, inbound SMS.

:class:`MessagingEngine` answers ``messaging.send`` on the loop thread, then plays the
message's state sequence as ``messaging.state`` events;
``RelaySimulator`` marshals its thread-safe scripting methods onto it::

    sim.on_message_to("+15550003333", "undelivered", reason="carrier_blocked", delay=2.0)
    sim.inbound_message("office", from_="+15550001111", to="+15550002222", body="hi")
    sim.messages                       # [SimMessage], oldest first
    sim.wait_for_message(lambda m: m.state == "delivered", timeout=5.0)

Behaviour (choices where RELAY leaves room):

* ``messaging.send`` needs ``context``, ``to_number`` and ``from_number`` (E.164), and a
  ``body`` or ``media`` (a list of http(s) URLs); ``tags`` (list of strings) and
  ``region`` are optional; any other param is accepted and recorded as lint (refused
  in strict mode, see :mod:`~relaysync.testing.methods`). A body over 1,600 characters
  is refused. Refusals are ``-32602`` with ``INVALID_PARAMS``.
* The answer is ``{"code": "200", "message": "Message accepted", "message_id": ...}``;
  ``queued`` follows right behind it, then ``initiated`` and ``sent`` at a quarter and
  half of the carrier delay, and the final state at the delay (default 1 s, scaled by
  ``time_scale``; ``delay=0`` sends every state right behind the answer). ``failed``
  skips ``initiated``/``sent``. Default reasons: ``undelivered`` → ``carrier_blocked``,
  ``failed`` → ``invalid_destination``.
* States go to the sending session when the message's context is its protocol or one
  of its contexts, and to every other online session subscribed to that context.
* ``segments`` is counted as SMS does (GSM-7 or UCS-2, 153/67 per concatenated part);
  a message with media is one MMS (``segments: 1``).
* ``sim.inbound_message`` sends ``messaging.receive`` to one online session subscribed
  to the context (round-robin per context); with nobody subscribed it is dropped
  (``SimMessage.session_id`` is ``None``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import attrs

from relaysync._validate import check_e164, check_http_url, check_str_list
from relaysync.constants import EVENT_MESSAGING_RECEIVE, EVENT_MESSAGING_STATE
from relaysync.testing.methods import checked
from relaysync.testing.replies import Params, as_fault, invalid_params, require_str, result
from relaysync.testing.segments import count_segments

if TYPE_CHECKING:
    from relaysync.testing.core import SimCore
    from relaysync.testing.sessions import Session

log = logging.getLogger("relaysync.simulator.messaging")

MAX_BODY_CHARS = 1600
DEFAULT_CARRIER_DELAY = 1.0
#: Final outbound states and their default reason.
FINAL_STATES: Dict[str, Optional[str]] = {
    "delivered": None,
    "undelivered": "carrier_blocked",
    "failed": "invalid_destination",
}
HISTORY_SIZE = 10_000


@attrs.frozen
class MessageScript:
    """How messages to one destination end.

    Attributes:
        state: ``delivered``, ``undelivered`` or ``failed``.
        reason: the ``reason`` sent with a failure (``None``: the default one).
        delay: unscaled seconds from ``queued`` to the final state.
    """

    state: str = "delivered"
    reason: Optional[str] = None
    delay: float = DEFAULT_CARRIER_DELAY

    @staticmethod
    def make(state: str, reason: Optional[str], delay: float) -> MessageScript:
        """Validate and build a script.

        Raises:
            ValueError: unknown ``state``, a negative ``delay``, or a reason on
                ``delivered``.
        """
        if state not in FINAL_STATES:
            raise ValueError(f"state must be one of {sorted(FINAL_STATES)}, got {state!r}")
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError(f"delay must be a number >= 0, got {delay!r}")
        if reason is not None and state == "delivered":
            raise ValueError("a delivered message has no reason")
        return MessageScript(state, reason if reason is not None else FINAL_STATES[state], delay)


@attrs.frozen
class SimMessage:
    """A snapshot of one message as the simulator knows it.

    Attributes:
        message_id, direction, context, from_number, to_number, body, media, tags,
        region, segments: the message.
        state: its current state; ``states``: every state it has been in, in order.
        reason: the failure reason, if any.
        session_id: the session that sent it (outbound) or got it (inbound).
    """

    message_id: str
    direction: str
    context: str
    from_number: str
    to_number: str
    body: Optional[str]
    media: Tuple[str, ...]
    tags: Tuple[str, ...]
    region: Optional[str]
    segments: int
    state: str
    states: Tuple[str, ...]
    reason: Optional[str]
    session_id: Optional[str]

    def event_params(self) -> Params:
        """The body of this message's ``messaging.state``/``messaging.receive`` event."""
        body: Params = {
            "message_id": self.message_id,
            "context": self.context,
            "direction": self.direction,
            "from_number": self.from_number,
            "to_number": self.to_number,
            "media": list(self.media),
            "segments": self.segments,
            "message_state": self.state,
            "tags": list(self.tags),
        }
        if self.body is not None:
            body["body"] = self.body
        if self.reason is not None:
            body["reason"] = self.reason
        return body


def segments_of(body: Optional[str], media: Sequence[str]) -> int:
    """Segments billed for a message: 1 for an MMS, else the SMS count of the body."""
    return 1 if media else count_segments(body or "")


def check_inbound(
    context: Any, from_: Any, to: Any, body: Any, media: Any, tags: Any
) -> Tuple[str, str, str, Optional[str], List[str], List[str]]:
    """Validate the arguments of ``inbound_message``.

    Raises:
        TypeError, ValueError: naming the bad argument.
    """
    if not isinstance(context, str) or not context:
        raise ValueError("context must be a non-empty string")
    check_e164("from_", from_)
    check_e164("to", to)
    if body is not None and not isinstance(body, str):
        raise TypeError(f"body must be a string, not {type(body).__name__}")
    urls = [] if media is None else check_str_list("media", media)
    for index, url in enumerate(urls):
        check_http_url(f"media[{index}]", url)
    if not body and not urls:
        raise ValueError("an inbound message needs a body or media")
    return context, from_, to, body, urls, [] if tags is None else check_str_list("tags", tags)


def _always(_params: Params) -> bool:
    return True


class MessagingEngine:
    """Messages of one simulator and the ``messaging.send`` method (loop thread).

    Args:
        core: the simulator core (sessions, events, timers).
    """

    def __init__(self, core: SimCore) -> None:
        self.core = core
        #: Guards :attr:`_messages` for readers on other threads; notified on change.
        self.cond = threading.Condition(threading.Lock())
        self._messages: Dict[str, SimMessage] = {}
        self._scripts: Dict[str, MessageScript] = {}
        self._next: Dict[str, int] = {}

    def install(self) -> None:
        """Register ``messaging.send`` with the core."""
        self.core.register_method(
            "messaging.send", checked("messaging.send", self._send, _always, self.core.lint)
        )

    # -- scripting (loop thread) -----------------------------------------------------

    def set_script(self, to: str, script: MessageScript) -> None:
        """Script every later message to ``to``."""
        self._scripts[to] = script

    def snapshot(self) -> List[SimMessage]:
        """Every remembered message, oldest first (any thread)."""
        with self.cond:
            return list(self._messages.values())

    def wait_for(
        self, predicate: Callable[[SimMessage], bool], timeout: float
    ) -> Optional[SimMessage]:
        """The oldest message matching ``predicate``, waiting up to ``timeout`` seconds
        for one (any thread but the loop's); ``None`` if none came."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for message in self._messages.values():
                    if predicate(message):
                        return message
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)

    # -- messaging.send --------------------------------------------------------------

    def _send(self, session: Session, params: Params) -> Params:
        context = require_str(params, "context")
        to = as_fault(lambda: check_e164("to_number", params.get("to_number")))
        from_ = as_fault(lambda: check_e164("from_number", params.get("from_number")))
        body = params.get("body")
        if body is not None and not isinstance(body, str):
            raise invalid_params("body must be a string")
        media: List[str] = []
        if "media" in params:
            media = as_fault(lambda: check_str_list("media", params["media"]))
            for index, url in enumerate(media):
                as_fault(functools.partial(check_http_url, f"media[{index}]", url))
        if not body and not media:
            raise invalid_params("body or media is required")
        if body is not None and len(body) > MAX_BODY_CHARS:
            raise invalid_params(f"body is longer than {MAX_BODY_CHARS} characters")
        tags = as_fault(lambda: check_str_list("tags", params.get("tags", [])))
        region = params.get("region")
        if region is not None and (not isinstance(region, str) or not region):
            raise invalid_params("region must be a non-empty string")
        message = self._new_message(
            "outbound", context, from_, to, body, media, tags, region, "queued", session.id
        )
        self._remember(message)
        script = self._scripts.get(to, MessageScript())
        self.core.call_later(0.0, lambda: self._play(session, message, self._steps(script)))
        return result("200", "Message accepted", message_id=message.message_id)

    @staticmethod
    def _steps(script: MessageScript) -> List[Tuple[float, str, Optional[str]]]:
        """``(unscaled offset, state, reason)`` for each state after the answer."""
        steps: List[Tuple[float, str, Optional[str]]] = [(0.0, "queued", None)]
        if script.state != "failed":
            steps += [(script.delay / 4, "initiated", None), (script.delay / 2, "sent", None)]
        steps.append((script.delay, script.state, script.reason))
        return steps

    def _play(
        self,
        session: Session,
        message: SimMessage,
        steps: List[Tuple[float, str, Optional[str]]],
        done: float = 0.0,
    ) -> None:
        """Emit every step due now, then arm a timer for the next one."""
        while steps and steps[0][0] <= done:
            _offset, state, reason = steps.pop(0)
            if state != "queued":
                message = attrs.evolve(
                    message, state=state, states=(*message.states, state), reason=reason
                )
            self._emit_state(session, message)
            self._remember(message)  # after the event, so a test that saw it can assert on it
        if steps:
            offset = steps[0][0]
            self.core.call_later(
                self.core.scale(offset - done),
                lambda: self._play(session, message, steps, offset),
            )

    def _emit_state(self, session: Session, message: SimMessage) -> None:
        targets = [s for s in self.core.sessions_for_context(message.context) if s is not session]
        if message.context == session.protocol or message.context in session.contexts:
            targets.insert(0, session)
        params = message.event_params()
        for target in targets:
            self.core.send_event(target, EVENT_MESSAGING_STATE, params)

    def _remember(self, message: SimMessage) -> None:
        with self.cond:
            self._messages[message.message_id] = message
            while len(self._messages) > HISTORY_SIZE:
                self._messages.pop(next(iter(self._messages)))
            self.cond.notify_all()

    def _new_message(
        self,
        direction: str,
        context: str,
        from_: str,
        to: str,
        body: Optional[str],
        media: Sequence[str],
        tags: Sequence[str],
        region: Optional[str],
        state: str,
        session_id: Optional[str],
    ) -> SimMessage:
        """A new message in its first ``state`` (``queued`` or ``received``)."""
        return SimMessage(
            message_id=self.core.new_id(),
            direction=direction,
            context=context,
            from_number=from_,
            to_number=to,
            body=body if body else None,
            media=tuple(media),
            tags=tuple(tags),
            region=region,
            segments=segments_of(body, media),
            state=state,
            states=(state,),
            reason=None,
            session_id=session_id,
        )

    # -- inbound ---------------------------------------------------------------------

    def inbound(
        self,
        context: str,
        from_: str,
        to: str,
        body: Optional[str],
        media: Sequence[str],
        tags: Sequence[str],
    ) -> SimMessage:
        """Deliver an inbound message to one subscribed session (round-robin)."""
        sessions = self.core.sessions_for_context(context)
        target: Optional[Session] = None
        if sessions:
            index = self._next.get(context, 0) % len(sessions)
            self._next[context] = index + 1
            target = sessions[index]
        session_id = target.id if target is not None else None
        message = self._new_message(
            "inbound", context, from_, to, body, media, tags, None, "received", session_id
        )
        if target is None:
            log.info("inbound message on context %r: no subscribed session; dropped", context)
        else:
            self.core.send_event(target, EVENT_MESSAGING_RECEIVE, message.event_params())
        self._remember(message)
        return message


__all__ = [
    "DEFAULT_CARRIER_DELAY",
    "MessageScript",
    "MessagingEngine",
    "SimMessage",
    "check_inbound",
    "count_segments",
]
