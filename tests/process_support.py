"""Child processes that cannot outlive the test run, even when a timeout kills it."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional

_PR_SET_PDEATHSIG = 1
_SIG_DFL = 0


def die_with_parent() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when the test process dies.

    A pytest-timeout that ends the run skips every ``finally``, which would leave a
    server such as gunicorn running. The child also gets SIGINT's default action back:
    a suite started as a background job of a shell without job control (``pytest &``
    in a script) ignores SIGINT, and an ignored signal stays ignored across ``exec``,
    so the child's Ctrl-C would do nothing. Elsewhere than on Linux this returns
    ``None`` (no such feature).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.signal.restype = ctypes.c_void_p

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        libc.signal(signal.SIGINT, _SIG_DFL)

    return preexec


def python_child(code: str, *args: str, stdin: bool = False) -> subprocess.Popen[str]:
    """``python -c code args...`` from the repository root, dying with the test process.

    Its stdout and stderr are pipes (text), and its stdin too when ``stdin`` is true.
    """
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        preexec_fn=die_with_parent(),
    )
