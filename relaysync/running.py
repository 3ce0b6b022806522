"""Blocking on the main thread until the client closes or SIGINT/SIGTERM arrives."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from typing import Any, Callable, Optional

from ._log import logger


def run_until_signalled(
    wait_closed: Callable[[Optional[float]], bool], close: Callable[[], None]
) -> None:
    """Block until ``wait_closed`` returns or a signal arrives, then ``close()``.

    Main thread only. Signal handlers only write a byte to a pipe the main thread waits
    on, so no exception can fire in the middle of a lock operation; the previous
    handlers are restored before ``close()`` runs.

    Args:
        wait_closed: blocks until the connection has closed (``None``: no bound); with
            ``0`` it says whether it already has.
        close: closes the client; called once, whatever woke the wait.
    """
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)

    def wake(*_: Any) -> None:
        with contextlib.suppress(OSError):
            os.write(wake_write, b"x")

    previous = {signum: signal.signal(signum, wake) for signum in (signal.SIGINT, signal.SIGTERM)}

    def watch() -> None:
        wait_closed(None)
        wake()

    watcher = threading.Thread(target=watch, name="relaysync-run", daemon=True)
    watcher.start()
    try:
        select.select([wake_read], [], [])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if not wait_closed(0):
            logger.info("relaysync: stopping on signal")
        close()
        watcher.join()
        os.close(wake_read)
        os.close(wake_write)


__all__ = ["run_until_signalled"]
