"""Blocking on the main thread until the client closes or SIGINT/SIGTERM arrives."""

from __future__ import annotations

import contextlib
import os
import select
import signal
from typing import Any, Callable, Optional

from ._log import logger
from ._threads import LIBRARY_STACK_SIZE, start_thread

_WOKEN = ord("x")  # the byte our own handlers and the watcher write (no signal number)


def run_until_signalled(
    wait_closed: Callable[[Optional[float]], bool], close: Callable[[], None]
) -> None:
    """Block until ``wait_closed`` returns or a signal arrives, then ``close()``.

    Main thread only. Signal handlers only write a byte to a pipe the main thread waits
    on, so no exception can fire in the middle of a lock operation; the previous
    handlers are restored before ``close()`` runs. The pipe is also the interpreter's
    wakeup fd meanwhile: a signal the kernel hands to another thread still wakes the
    wait (Python runs handlers on the main thread only, and that thread sleeps in
    ``select`` until something wakes it).

    Args:
        wait_closed: blocks until the connection has closed (``None``: no bound); with
            ``0`` it says whether it already has.
        close: closes the client; called once, whatever woke the wait.
    """
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)

    def wake(*_: Any) -> None:
        with contextlib.suppress(OSError):
            os.write(wake_write, bytes((_WOKEN,)))

    previous = {signum: signal.signal(signum, wake) for signum in (signal.SIGINT, signal.SIGTERM)}
    previous_fd = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)

    def watch() -> None:
        wait_closed(None)
        wake()

    watcher = start_thread(watch, "relaysync-run", LIBRARY_STACK_SIZE)
    # what the handlers, the watcher and the wakeup fd write for SIGINT and SIGTERM; a
    # signal of another handler (its number, also written to the wakeup fd) is ignored
    stops = {_WOKEN, int(signal.SIGINT), int(signal.SIGTERM)}
    try:
        while not stops.intersection(_read_ready(wake_read)):
            pass
    finally:
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if not wait_closed(0):
            logger.info("relaysync: stopping on signal")
        close()
        watcher.join()
        os.close(wake_read)
        os.close(wake_write)


def _read_ready(fd: int) -> bytes:
    """Wait until ``fd`` is readable, then read what it holds."""
    select.select([fd], [], [])
    return os.read(fd, 512)


__all__ = ["run_until_signalled"]
