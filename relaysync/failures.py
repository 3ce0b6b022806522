"""What escapes user code: handler and callback failures, reported once and loudly.

Handlers (``on_call``, ``on_message``) and callbacks (``call.on``, ``on_completed``,
``on_connection_change``, ``on_event``) run on worker threads, where an exception would
otherwise vanish. :func:`report_failure` reports one: to the ``relaysync`` logger at
ERROR with its traceback, and, when the application has configured no logging at all,
also on stderr, the way :func:`threading.excepthook` prints an exception that ends a
thread (so exactly one copy is seen either way). A handler that stops because its call
ended (:class:`~relaysync.errors.CallEndedError`) is no bug: that is logged at INFO.
A handler registered over another one is warned about (:func:`replace_handler`).
"""

from __future__ import annotations

import functools
import threading
import traceback
from typing import Any, Callable, Optional, Tuple, TypeVar

from ._log import logger, logging_configured, tell_unlogged
from .errors import CallEndedError, RelayConnectionError

H = TypeVar("H")


def callable_name(fn: Any) -> str:
    """A readable name for a handler or callback: ``module.qualname`` when it has one."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__qualname__", None)
    if not isinstance(name, str):
        name = type(fn).__qualname__ + " instance"
        module = getattr(type(fn), "__module__", None)
    else:
        module = getattr(fn, "__module__", None)
    if isinstance(module, str) and module not in ("builtins", "__main__"):
        return f"{module}.{name}"
    return name


def describe(subject: Any) -> str:
    """What a failure concerns: a call (id, direction, numbers), a message, an event."""
    if isinstance(subject, str):
        return subject
    call_id = getattr(subject, "call_id", None)
    message_id = getattr(subject, "message_id", None)
    if isinstance(message_id, str):
        return (
            f"message {message_id} ({getattr(subject, 'direction', '?')} from "
            f"{getattr(subject, 'from_number', None)} to {getattr(subject, 'to_number', None)})"
        )
    if hasattr(subject, "direction") and isinstance(call_id, str):
        return (
            f"call {call_id} ({subject.direction} from {getattr(subject, 'from_number', None)} "
            f"to {getattr(subject, 'to_number', None)})"
        )
    event_type = getattr(subject, "event_type", None)
    if isinstance(event_type, str):
        return f"event {event_type}" + (f" of call {call_id}" if call_id else "")
    call = getattr(subject, "call", None)  # an action
    if call is not None and call is not subject:
        return f"{type(subject).__name__} on {describe(call)}"
    return repr(subject)


def report_failure(
    exc: BaseException,
    role: str,
    handler: Any,
    subject: Any,
    consequence: str = "",
    *,
    client_closed: bool = False,
) -> None:
    """Report an exception that escaped a handler or callback, once.

    Args:
        exc: the exception.
        role: what the code was, e.g. ``"on_call handler"``.
        handler: the handler or callback (named in the report).
        subject: the call, message, event or text the failure concerns.
        consequence: what relaysync does about it, appended to the report
            (e.g. ``"; hanging up the call"``).
        client_closed: the application closed the client meanwhile; a
            :class:`~relaysync.errors.RelayConnectionError` is then what that did to the
            handler's wait, not a bug, and is logged at INFO.
    """
    name = callable_name(handler)
    what = describe(subject)
    if isinstance(exc, CallEndedError):
        logger.info("relaysync: %s %s for %s stopped: the call ended (%s)", role, name, what, exc)
        return
    if client_closed and isinstance(exc, RelayConnectionError):
        logger.info("relaysync: %s %s for %s stopped: %s", role, name, what, exc)
        return
    logger.error(
        "relaysync: %s %s raised for %s%s",
        role,
        name,
        what,
        consequence,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    if logging_configured():
        return  # the record above is seen; format no second copy
    thread = threading.current_thread().name
    tell_unlogged(
        "".join(
            [
                f"Exception in {role} {name} for {what} (thread {thread}){consequence}:\n",
                *traceback.format_exception(type(exc), exc, exc.__traceback__),
            ]
        )
    )


def replace_handler(kind: str, previous: Any, handler: H) -> H:
    """Check an ``on_call``/``on_message`` handler; warn when it replaces another.

    A client has one handler of each kind; the latest registration wins.

    Args:
        kind: ``"on_call"`` or ``"on_message"``, for the messages.
        previous: the handler registered so far, or ``None``.
        handler: the new one.

    Returns:
        ``handler``, to be stored in place of ``previous``.

    Raises:
        TypeError: ``handler`` is not callable.
    """
    if not callable(handler):
        raise TypeError(f"{kind} handler must be callable, got {handler!r}")
    if previous is None or previous is handler:
        return handler
    logger.warning(
        "relaysync: %s handler %s replaces %s (a client has one %s handler; "
        "dispatch to several from one function if you need more)",
        kind,
        callable_name(handler),
        callable_name(previous),
        kind,
    )
    return handler


def run_guarded(
    callback: Callable[..., Any],
    args: Tuple[Any, ...],
    role: str,
    subject: Any,
    closed: Optional[Callable[[], bool]] = None,
) -> Optional[BaseException]:
    """Run ``callback(*args)``; report an exception that escapes it.

    Args:
        closed: says whether the client was closed (see :func:`report_failure`).

    Returns:
        The exception reported, or ``None`` if the callback returned.
    """
    try:
        callback(*args)
    except Exception as exc:
        report_failure(exc, role, callback, subject, client_closed=closed is not None and closed())
        return exc
    return None


def guarded(
    callback: Callable[..., Any], args: Tuple[Any, ...], role: str, subject: Any
) -> Callable[[], Any]:
    """A task for the worker pool: ``callback(*args)``, its failure reported."""
    return functools.partial(run_guarded, callback, args, role, subject)


__all__ = [
    "callable_name",
    "describe",
    "guarded",
    "replace_handler",
    "report_failure",
    "run_guarded",
]
