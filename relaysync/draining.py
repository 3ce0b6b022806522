"""Graceful drain: stop taking calls and messages, let the running handlers finish.

:class:`HandlerTracker` counts the ``on_call`` and ``on_message`` handlers queued or
running and says whether the client is draining (the router then passes new offers on
with ``calling.pass``). :func:`drain` is the procedure behind
:meth:`relaysync.RelayClient.drain`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, List, Mapping, Optional

from . import constants as C
from ._log import logger, tell_unlogged
from .errors import RelayError
from .waiting import Deadline
from .workers import QueueFullError

if TYPE_CHECKING:
    from .workers import WorkerPool

#: The longest one ``signalwire.unreceive`` may take during a drain, in seconds.
UNRECEIVE_TIMEOUT = 10.0


class HandlerTracker:
    """How many handlers are queued or running, and whether the client is draining.

    Thread-safe. The router calls :meth:`enter` when it hands an offer or a message to
    the worker pool and :meth:`leave` when the handler has returned (or was never run).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0
        self._draining = False
        self._closed = False

    @property
    def running(self) -> int:
        """Handlers queued or running now."""
        with self._cond:
            return self._running

    @property
    def draining(self) -> bool:
        """True between :meth:`start_draining` and :meth:`stop_draining`."""
        return self._draining  # one bool read, on the reader thread for every offer

    @property
    def closed(self) -> bool:
        """True once the client closed."""
        return self._closed

    def start_draining(self) -> None:
        """From now on, offers are passed on instead of handled."""
        with self._cond:
            self._draining = True

    def stop_draining(self) -> None:
        """Take offers again (the application subscribed to contexts again)."""
        with self._cond:
            self._draining = False

    def enter(self) -> None:
        """A handler was queued."""
        with self._cond:
            self._running += 1

    def leave(self) -> None:
        """A handler returned (or was dropped before it ran)."""
        with self._cond:
            self._running -= 1
            if self._running <= 0:
                self._cond.notify_all()

    def submit(self, pool: WorkerPool, task: Callable[[], Any], label: str) -> bool:
        """Queue handler ``task`` on ``pool``, counted from now until it returns.

        Returns:
            False when the pool's queue is full (nothing queued, nothing counted).
        """
        self.enter()

        def run() -> None:
            try:
                task()
            finally:
                self.leave()

        try:
            pool.submit(run, label)
        except QueueFullError:
            self.leave()
            return False
        return True

    def close(self) -> None:
        """The client closed: release :meth:`wait_idle`."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_idle(self, timeout: Optional[float]) -> int:
        """Block until no handler runs, the client closes, or ``timeout`` passes.

        Returns:
            How many handlers still run.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._running <= 0 or self._closed, timeout)
            return max(0, self._running)


Execute = Callable[[str, Mapping[str, Any], Optional[float]], Any]


def drain(
    tracker: HandlerTracker,
    contexts: Callable[[], List[str]],
    forget_contexts: Callable[[List[str]], None],
    execute: Execute,
    timeout: float,
    *,
    announce: bool = False,
) -> int:
    """Stop taking calls and messages, then wait up to ``timeout`` s for the handlers.

    Args:
        tracker: the client's handler tracker (set draining first, so that an offer
            arriving while the contexts are being dropped is passed on).
        contexts: returns the contexts subscribed now.
        forget_contexts: drops contexts from those a reconnect subscribes again.
        execute: sends a request and blocks for its answer.
        timeout: seconds in all.
        announce: say on stderr that handlers are waited for, when the application
            has configured no logging (``run()`` on a signal: someone may be watching
            a terminal, and a second Ctrl-C stops at once).

    Returns:
        How many handlers still run at the deadline.
    """
    deadline = Deadline(timeout)
    tracker.start_draining()
    subscribed = contexts()
    if subscribed:
        forget_contexts(subscribed)
        try:
            execute(
                C.METHOD_UNRECEIVE,
                {"contexts": subscribed},
                max(0.1, deadline.cap(UNRECEIVE_TIMEOUT)),
            )
        except RelayError as exc:
            logger.warning("relaysync: draining: could not unsubscribe %s: %s", subscribed, exc)
    running = tracker.running
    if running:
        note = f"relaysync: draining: waiting up to {timeout:g} s for {running} handler(s)"
        logger.info("%s", note)
        if announce:
            tell_unlogged(f"{note}; Ctrl-C again to stop at once\n")
    left = tracker.wait_idle(deadline.remaining())
    if left:
        logger.warning("relaysync: drained for %.1f s; %d handler(s) still running", timeout, left)
    else:
        logger.info("relaysync: drained: no handler running")
    return left


__all__ = ["UNRECEIVE_TIMEOUT", "HandlerTracker", "drain"]
