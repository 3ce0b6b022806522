"""Child processes that cannot outlive the test run, even when a timeout kills it."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from typing import Callable, Optional

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when the test process dies.

    A pytest-timeout that ends the run skips every ``finally``, which would leave a
    server such as gunicorn running. Elsewhere this returns ``None`` (no such feature).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec
