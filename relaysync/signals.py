"""Blocking on the main thread until the client closes or SIGINT/SIGTERM arrives."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from types import FrameType
from typing import Any, Callable, Dict, Iterator, Optional

from ._log import logger
from ._threads import LIBRARY_STACK_SIZE, start_thread

# What the watcher and the drain write to the pipe; a signal's own byte (its number,
# written by the interpreter because the pipe is the wakeup fd) is below 65.
_CLOSED = ord("x")
_DRAINED = ord("d")
_STOPS = (int(signal.SIGINT), int(signal.SIGTERM))


def run_until_signalled(
    wait_closed: Callable[[Optional[float]], bool],
    close: Callable[[], None],
    drain: Optional[Callable[[], Any]] = None,
) -> None:
    """Block until ``wait_closed`` returns or a signal arrives, then ``close()``.

    Signals are handled on the main thread only (Python runs handlers there); on any
    other thread this just waits for ``wait_closed`` and then closes. The SIGINT and
    SIGTERM handlers do nothing themselves, so no exception can fire in the middle of
    a lock operation; the previous handlers are restored before ``close()`` runs. The
    pipe is the interpreter's wakeup fd meanwhile: the interpreter writes each signal's
    number to it from whatever thread the kernel handed the signal to, so the wait
    wakes even when that is not the main thread (Python runs handlers on the main
    thread only, and that thread sleeps in ``select`` until something wakes it), and
    each signal is counted once.

    Args:
        wait_closed: blocks until the connection has closed (``None``: no bound); with
            ``0`` it says whether it already has.
        close: closes the client; called once, whatever woke the wait.
        drain: if given, the first SIGINT or SIGTERM runs it (on its own thread) and
            the client closes when it returns; a second signal closes at once.
    """
    if threading.current_thread() is not threading.main_thread():
        try:
            wait_closed(None)
        finally:
            close()
        return
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)

    def wake(byte: int) -> None:
        with contextlib.suppress(OSError):
            os.write(wake_write, bytes((byte,)))

    def ignore(*_: Any) -> None:
        """The wakeup fd carries the signal; this only replaces KeyboardInterrupt."""

    # the wakeup fd first: a signal arriving once a handler is in place is never lost
    previous_fd = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    previous = {signum: signal.signal(signum, ignore) for signum in _STOPS}

    def watch() -> None:
        wait_closed(None)
        wake(_CLOSED)

    def drain_then_wake() -> None:
        try:
            assert drain is not None
            drain()
        except Exception:  # a failed drain still ends in close()
            logger.exception("relaysync: draining failed")
        finally:
            wake(_DRAINED)

    watcher = start_thread(watch, "relaysync-run", LIBRARY_STACK_SIZE)
    drainer: Optional[threading.Thread] = None
    signals = 0
    try:
        while True:
            data = _read_ready(wake_read)
            if _CLOSED in data or _DRAINED in data:
                break
            # a signal of another handler (its number, also written to the pipe) is ignored
            signals += sum(1 for byte in data if byte in _STOPS)
            if not signals:
                continue
            if drain is None or signals > 1:
                break
            if drainer is None:
                logger.info("relaysync: draining on signal (a second Ctrl-C stops at once)")
                drainer = start_thread(drain_then_wake, "relaysync-drain", LIBRARY_STACK_SIZE)
    finally:
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if not wait_closed(0):
            logger.info("relaysync: stopping on signal")
        close()
        watcher.join()
        if drainer is not None:
            drainer.join()
        os.close(wake_read)
        os.close(wake_write)


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """While the block runs on the main thread, SIGTERM raises ``KeyboardInterrupt``.

    A command that says "Ctrl-C to stop" before it connects then stops the same way on
    SIGTERM (a supervisor, ``kill``) instead of dying by the signal's default action.
    :func:`run_until_signalled` takes SIGTERM over while it waits and puts this handler
    back afterwards; the previous handler is restored when the block ends. Elsewhere
    than on the main thread it does nothing (Python runs handlers on the main thread).

    Yields:
        Nothing; the handler is in place for the body of the ``with`` block.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt()

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        # None: the previous handler was not set from Python; the default is the nearest
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


Handler = Callable[[int, Optional[FrameType]], Any]


class HeldSignals:
    """SIGINT and SIGTERM held on the main thread while a thread starts, handled after.

    Python raises ``KeyboardInterrupt`` wherever the main thread happens to be: in
    ``Thread.start()``, after the new thread runs but before the caller has it, nobody
    would know of that thread, to stop it or to join it. The code that starts a thread
    and records it runs inside ``with held:``; a signal arriving meanwhile is noted.
    Once every lock is let go, :meth:`deliver` runs the previous handler of each noted
    signal (raising ``KeyboardInterrupt`` for Ctrl-C), so a handler that closes the
    client never runs under the pool's or the connection's lock. Only handlers set from
    Python are held (the default action of SIGTERM still ends the process at once).
    Elsewhere than on the main thread nothing is held (Python runs handlers there only).

    Use::

        held = HeldSignals()
        try:
            with lock:
                with held:
                    start and record the thread
        finally:
            held.deliver()
    """

    __slots__ = ("_caught", "_ended", "_previous", "_raised")

    def __init__(self) -> None:
        self._previous: Dict[int, Handler] = {}
        self._caught: Dict[int, Optional[FrameType]] = {}
        self._raised: Optional[BaseException] = None
        self._ended = False

    def __enter__(self) -> HeldSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in _STOPS:
                handler = signal.getsignal(signum)
                if callable(handler):
                    self._previous[signum] = handler
                    signal.signal(signum, self._hold)
        return self

    def _hold(self, signum: int, frame: Optional[FrameType]) -> None:
        if self._ended:  # left in place by an interrupted restore: act as the old handler
            self._previous[signum](signum, frame)
        else:
            self._caught.setdefault(signum, frame)

    def __exit__(self, *exc_info: Any) -> None:
        self._ended = True
        for signum, handler in self._previous.items():
            # signal.signal() first runs the handlers of pending signals, which may
            # raise: kept for deliver(), and the restore is tried again
            for _ in range(3):
                try:
                    signal.signal(signum, handler)
                    break
                except BaseException as exc:
                    if self._raised is None:
                        self._raised = exc

    def deliver(self) -> None:
        """Run the previous handler of each signal held (call it with no lock held).

        Every held signal's handler runs, even when one raises; the first exception
        (``KeyboardInterrupt`` for Ctrl-C) is raised after the last handler ran. The
        interpreter's wakeup fd already carried each signal: the handlers are called,
        the signals are not raised again.
        """
        raised, self._raised = self._raised, None
        caught, self._caught = self._caught, {}
        for signum, frame in caught.items():
            try:
                self._previous[signum](signum, frame)
            except BaseException as exc:
                if raised is None:
                    raised = exc
        if raised is not None:
            raise raised


def _read_ready(fd: int) -> bytes:
    """Wait until ``fd`` is readable, then read what it holds."""
    select.select([fd], [], [])
    return os.read(fd, 512)


__all__ = ["HeldSignals", "run_until_signalled", "sigterm_as_ctrl_c"]
