"""Scripting the simulator's messaging: the ``RelaySimulator`` methods and remote control.

:class:`MessagingScriptingMixin` marshals each call onto the simulator's loop thread;
:func:`control_methods` are the ``simulator.*`` messaging methods of control sessions
(see :mod:`relaysync.testing.control`). The behaviour itself is described in
:mod:`relaysync.testing.messaging`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import attrs

from relaysync._validate import check_e164, check_http_url, check_str_list
from relaysync.errors import timeout_error
from relaysync.testing.messaging import (
    DEFAULT_CARRIER_DELAY,
    MessageScript,
    MessagingEngine,
    SimMessage,
    as_fault,
)
from relaysync.testing.replies import Handler, Params

if TYPE_CHECKING:
    from relaysync.testing.core import SimCore
    from relaysync.testing.sessions import Session


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


class MessagingScriptingMixin:
    """Public messaging scripting of ``RelaySimulator``; every method is thread-safe."""

    _core: SimCore
    _messaging: MessagingEngine

    def on_message_to(
        self,
        to: str,
        state: str = "delivered",
        *,
        reason: Optional[str] = None,
        delay: float = DEFAULT_CARRIER_DELAY,
    ) -> None:
        """Script how messages sent to ``to`` end, from now on.

        Args:
            to: the destination number exactly as sent in ``to_number``.
            state: ``delivered``, ``undelivered`` or ``failed``.
            reason: the failure reason (default ``carrier_blocked`` for undelivered,
                ``invalid_destination`` for failed).
            delay: unscaled seconds from ``queued`` to the final state (0: every
                state right behind the answer).

        Raises:
            ValueError: unknown state, negative delay, or a reason with ``delivered``.
        """
        script = MessageScript.make(state, reason, delay)
        self._core.run_sync(lambda: self._messaging.set_script(to, script))

    def inbound_message(
        self,
        context: str = "office",
        from_: str = "+15550001111",
        to: str = "+15550002222",
        body: Optional[str] = "Hello",
        media: Optional[Sequence[str]] = None,
        *,
        tags: Optional[Sequence[str]] = None,
    ) -> SimMessage:
        """Send an inbound SMS/MMS (``messaging.receive``) to one session on ``context``.

        Args:
            context: the context it arrives on (sessions take turns).
            from_: the sender, E.164.
            to: your number, E.164.
            body: the text.
            media: http(s) media URLs (MMS).
            tags: tags to attach.

        Returns:
            The :class:`SimMessage` (``session_id`` is ``None`` if nobody was subscribed).

        Raises:
            TypeError, ValueError: a bad argument (named in the message).
        """
        args = check_inbound(context, from_, to, body, media, tags)
        return self._core.run_sync(lambda: self._messaging.inbound(*args))

    @property
    def messages(self) -> List[SimMessage]:
        """Snapshots of the messages sent and received so far, oldest first."""
        return self._messaging.snapshot()

    def wait_for_message(
        self, predicate: Optional[Callable[[SimMessage], bool]] = None, timeout: float = 5.0
    ) -> SimMessage:
        """Block until a message matches ``predicate``; return the oldest match.

        Raises:
            RelayTimeoutError: no message matched within ``timeout``.
        """
        found = self._messaging.wait_for(predicate or (lambda _message: True), timeout)
        if found is None:
            raise timeout_error("waiting for a matching message", timeout)
        return found


def control_methods(sim: MessagingScriptingMixin) -> Dict[str, Handler]:
    """The ``simulator.*`` messaging methods of remote control (see
    :mod:`relaysync.testing.control`): ``on_message_to``, ``inbound_message``,
    ``messages``."""
    from relaysync.testing.control import REQUIRED, read_params

    num = (int, float)
    opt_str = (str, type(None))
    opt_list = (list, type(None))

    def on_message_to(_session: Session, params: Params) -> Params:
        kwargs = read_params(
            params,
            (
                ("to", (str,), REQUIRED),
                ("state", (str,), "delivered"),
                ("reason", opt_str, None),
                ("delay", num, DEFAULT_CARRIER_DELAY),
            ),
        )
        as_fault(lambda: sim.on_message_to(**kwargs))
        return {}

    def inbound_message(_session: Session, params: Params) -> Params:
        kwargs = read_params(
            params,
            (
                ("context", (str,), "office"),
                ("from_", (str,), "+15550001111"),
                ("to", (str,), "+15550002222"),
                ("body", opt_str, "Hello"),
                ("media", opt_list, None),
                ("tags", opt_list, None),
            ),
        )
        return message_info(as_fault(lambda: sim.inbound_message(**kwargs)))

    def messages(_session: Session, params: Params) -> Params:
        read_params(params, ())
        return {"messages": [message_info(m) for m in sim.messages]}

    return {
        "simulator.on_message_to": on_message_to,
        "simulator.inbound_message": inbound_message,
        "simulator.messages": messages,
    }


def message_info(message: SimMessage) -> Params:
    """A :class:`SimMessage` as a JSON object (lists for its tuples)."""
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in attrs.asdict(message, recurse=False).items()
    }


def install_messaging(sim: MessagingScriptingMixin, core: SimCore, engine: MessagingEngine) -> None:
    """Register ``messaging.send`` and the messaging control methods with ``core``."""
    engine.install()
    for method, handler in control_methods(sim).items():
        core.register_method(method, handler)


__all__ = [
    "MessagingScriptingMixin",
    "check_inbound",
    "control_methods",
    "install_messaging",
    "message_info",
]
