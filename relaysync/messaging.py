"""Messaging plumbing: building ``messaging.send`` params, tracking sent messages, inbound.

:class:`MessageRegistry` tracks outbound messages by ``message_id`` until they reach a
final state. RELAY may send ``messaging.state`` frames right behind the
``messaging.send`` result, so the reader thread can route a message's first states
before the sending thread has woken up to register it. While at least one send is in
flight, states for unknown ids are therefore *held* (bounded: :data:`MAX_HELD_IDS` ids,
:data:`MAX_HELD_STATES` states each, oldest evicted first) and handed to the message
when its sender registers it; when no send is in flight, unknown ids are dropped and
the held states cleared. Registering and routing share one lock, so no state is lost or
applied out of order however the frames are timed.
"""

from __future__ import annotations

import collections
import functools
import threading
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, List, Mapping, Optional

from ._log import logger
from ._validate import check_e164, check_http_url, check_line, check_str_list, check_timeout
from .draining import HandlerTracker
from .errors import ProtocolError, RelayError
from .events import MessageReceiveEvent, MessageStateEvent, RelayEvent
from .failures import replace_handler, run_guarded
from .message import QUEUED, Message
from .operations import SEND_MESSAGE
from .shapes import merge_extra
from .workers import QueueFullError

if TYPE_CHECKING:
    from .workers import WorkerPool

#: Longest body accepted, in characters (SignalWire's messaging limit).
MAX_BODY_CHARS = 1600
#: Message ids whose early states are held while sends are in flight.
MAX_HELD_IDS = 1024
#: States held per unknown message id.
MAX_HELD_STATES = 8

MessageHandler = Callable[[Message], Any]


def send_params(
    to: Any,
    from_: Any,
    *,
    body: Any,
    media: Any,
    context: Any,
    tags: Any,
    region: Any,
) -> Dict[str, Any]:
    """Validate the arguments of ``send_message`` and build the ``messaging.send`` params.

    Args:
        to, from_: E.164 numbers.
        body: the text, or ``None``.
        media: a list of http(s) URLs, or ``None``.
        context: the context for the message's state events (already defaulted).
        tags: a list of strings, or ``None``.
        region: origination region, or ``None``.

    Returns:
        The params, with ``None`` values and empty body/media left out.

    Raises:
        TypeError: an argument of the wrong kind.
        ValueError: a number that is not E.164, neither body nor media, a media URL
            that is not http(s), a body over :data:`MAX_BODY_CHARS` characters, or an
            empty context, tag or region.
    """
    check_e164("to", to)
    check_e164("from_", from_)
    if body is not None and not isinstance(body, str):
        raise TypeError(f"body must be a string, not {type(body).__name__}")
    urls = None if media is None else check_str_list("media", media)
    for index, url in enumerate(urls or ()):
        check_http_url(f"media[{index}]", url)
    if not body and not urls:
        raise ValueError("a message needs a body or media (both are empty)")
    if body is not None and len(body) > MAX_BODY_CHARS:
        raise ValueError(f"body is {len(body)} characters long; the limit is {MAX_BODY_CHARS}")
    check_line("context", context)
    return SEND_MESSAGE.check(
        {
            "context": context,
            "to_number": to,
            "from_number": from_,
            "body": body or None,
            "media": urls or None,
            "tags": None if tags is None else check_str_list("tags", tags) or None,
            "region": None if region is None else check_line("region", region),
        },
        "RelayClient.send_message()",
    )


class MessageRegistry:
    """Outbound messages by ``message_id`` and the states held for sends in flight.

    Thread-safe. :meth:`route` runs on the reader thread; the send methods on the
    sending thread. Nothing here runs user code.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: Dict[str, Message] = {}
        self._held: collections.OrderedDict[str, Deque[MessageStateEvent]] = (
            collections.OrderedDict()
        )
        self._sending = 0

    def begin_send(self) -> None:
        """A ``messaging.send`` is about to be written: hold unknown states from now."""
        with self._lock:
            self._sending += 1

    def end_send(self, message: Optional[Message]) -> None:
        """The send is over: register ``message`` (``None``: it failed) and apply the
        states held for its id, in order."""
        with self._lock:
            self._sending -= 1
            if message is not None and message.message_id:
                final = False
                for event in self._held.pop(message.message_id, ()):
                    final = message._apply(event)
                if not final:
                    self._messages[message.message_id] = message
            if self._sending == 0:
                self._held.clear()

    def route(self, event: MessageStateEvent) -> None:
        """Apply a ``messaging.state`` to its message, or hold it (reader thread)."""
        message_id = event.message_id
        if not message_id:
            logger.debug("relaysync: messaging.state without message_id dropped")
            return
        with self._lock:
            message = self._messages.get(message_id)
            if message is not None:
                if message._apply(event):
                    del self._messages[message_id]
                return
            if self._sending == 0:
                logger.debug("relaysync: messaging.state for unknown message %s", message_id)
                return
            held = self._held.get(message_id)
            if held is None:
                while len(self._held) >= MAX_HELD_IDS:
                    self._held.popitem(last=False)
                held = self._held[message_id] = collections.deque(maxlen=MAX_HELD_STATES)
            held.append(event)

    def sizes(self) -> Dict[str, int]:
        """How many messages are tracked, ids held and sends in flight (leak checks)."""
        with self._lock:
            return {
                "messages": len(self._messages),
                "held": len(self._held),
                "sending": self._sending,
            }

    def all(self) -> List[Message]:
        """A snapshot of the messages still waiting for a final state."""
        with self._lock:
            return list(self._messages.values())

    def detach_all(self, error: RelayError) -> None:
        """The client is gone: release every wait on every tracked message."""
        with self._lock:
            messages = list(self._messages.values())
            self._messages.clear()
            self._held.clear()
        for message in messages:
            message._detach(error)


class InboundMessages:
    """Hands ``messaging.receive`` events to the ``on_message`` handler (worker thread)."""

    def __init__(self, pool: WorkerPool, handlers: Optional[HandlerTracker] = None) -> None:
        self._pool = pool
        self._handlers = handlers if handlers is not None else HandlerTracker()
        self.handler: Optional[MessageHandler] = None

    def deliver(self, event: MessageReceiveEvent) -> None:
        """Build the inbound :class:`Message` and queue the handler (reader thread)."""
        handler = self.handler
        message = Message.from_event(event)
        if handler is None:
            logger.warning(
                "relaysync: inbound message %s on %r but no on_message handler",
                message.message_id,
                message.context,
            )
            return
        tracker = self._handlers
        task = functools.partial(
            run_guarded, handler, (message,), "on_message handler", message, lambda: tracker.closed
        )
        if not tracker.submit(self._pool, task, f"on_message for message {message.message_id}"):
            logger.error("relaysync: worker queue full; inbound message %s dropped", message)


Execute = Callable[[str, Dict[str, Any], Optional[float]], Dict[str, Any]]


class Messaging:
    """The messaging side of a client: send, track, route, hand inbound to the handler.

    Args:
        pool: the client's worker pool (on_completed and on_message run there).
        handlers: counts the on_message handlers queued or running (for a drain).
        execute: ``execute(method, params, timeout)`` of the connection.
        default_context: returns the context used when ``send_message`` names none.
    """

    def __init__(
        self,
        pool: WorkerPool,
        execute: Execute,
        default_context: Callable[[], str],
        handlers: Optional[HandlerTracker] = None,
    ) -> None:
        self._pool = pool
        self._execute = execute
        self._default_context = default_context
        self.registry = MessageRegistry()
        self.inbound = InboundMessages(pool, handlers)

    def on_message(self, handler: MessageHandler) -> MessageHandler:
        """Make ``handler`` the inbound handler (see :meth:`RelayClient.on_message`).

        Raises:
            TypeError: ``handler`` is not callable.
        """
        self.inbound.handler = replace_handler("on_message", self.inbound.handler, handler)
        return handler

    def send(self, args: Mapping[str, Any]) -> Message:
        """Validate, send ``messaging.send`` and return the tracked message.

        Args:
            args: the arguments of :meth:`RelayClient.send_message` (its ``locals()``).
        """
        to, from_, region = args["to"], args["from_"], args["region"]
        on_completed, timeout, context = args["on_completed"], args["timeout"], args["context"]
        if on_completed is not None and not callable(on_completed):
            raise TypeError(f"on_completed must be callable, got {on_completed!r}")
        check_timeout("timeout", timeout)
        params = send_params(
            to,
            from_,
            body=args["body"],
            media=args["media"],
            context=self._default_context() if context is None else context,
            tags=args["tags"],
            region=region,
        )
        if args["extra_params"] is not None:
            merge_extra(params, args["extra_params"])
        message: Optional[Message] = None
        self.registry.begin_send()
        try:
            result = self._execute("messaging.send", params, timeout)
            message_id = result.get("message_id")
            if not isinstance(message_id, str) or not message_id:
                raise ProtocolError(-1, f"messaging.send answered without a message_id: {result}")
            message = Message(
                message_id,
                direction="outbound",
                state=QUEUED,
                from_number=from_,
                to_number=to,
                body=params.get("body"),
                media=tuple(params.get("media", ())),
                tags=tuple(params.get("tags", ())),
                context=params["context"],
                region=region,
                on_completed=on_completed,
                schedule=self._schedule,
            )
        finally:
            self.registry.end_send(message)
        return message

    def route(self, event: RelayEvent) -> None:
        """Deliver one ``messaging.*`` event (reader thread); other kinds are ignored."""
        if isinstance(event, MessageStateEvent):
            self.registry.route(event)
        elif isinstance(event, MessageReceiveEvent):
            self.inbound.deliver(event)
        else:
            logger.debug("relaysync: %s ignored", event.event_type)

    def _schedule(self, task: Callable[[], Any], label: str) -> None:
        """Run a message callback on the worker pool (never on the reader thread)."""
        try:
            self._pool.submit(task, label)
        except QueueFullError:
            logger.error("relaysync: worker queue full; %s dropped", label)


__all__ = [
    "MAX_BODY_CHARS",
    "MAX_HELD_IDS",
    "MAX_HELD_STATES",
    "InboundMessages",
    "MessageHandler",
    "MessageRegistry",
    "Messaging",
    "send_params",
]
