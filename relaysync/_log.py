"""Logging helpers: the package logger, secret masking, and rate limiting."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from typing import Any, Callable, Dict, Optional

logger = logging.getLogger("relaysync")
logger.addHandler(logging.NullHandler())
#: The wire trace: one INFO record per frame sent or received, secrets masked.
trace_logger = logging.getLogger("relaysync.trace")
TRACE_ENV = "RELAYSYNC_TRACE"
_trace_setup = threading.Lock()

SECRET_KEYS = frozenset(
    {
        "token",
        "jwt_token",
        "authorization_state",
        "password",
        "dpop_token",
        "authorization_bearer_token",
    }
)
MASK = "***"


def mask_secrets(value: Any) -> Any:
    """Return a copy of ``value`` with every secret-bearing key's value replaced by ``***``."""
    if isinstance(value, dict):
        return {
            k: (MASK if k in SECRET_KEYS and v not in (None, "") else mask_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


class MaskedFrame:
    """Lazy, masked rendering of a frame for DEBUG logs (only built if the record is emitted)."""

    __slots__ = ("_frame",)

    def __init__(self, frame: Any) -> None:
        self._frame = frame

    def __str__(self) -> str:
        frame = self._frame
        if isinstance(frame, (str, bytes)):
            try:
                frame = json.loads(frame)
            except ValueError:
                return f"<unparseable frame of {len(self._frame)} chars>"
        text = json.dumps(mask_secrets(frame), separators=(",", ":"), default=str)
        return text if len(text) <= 2000 else text[:2000] + f"…({len(text)} chars)"


class RateLimiter:
    """Allow an action at most once per ``interval`` seconds; count what was suppressed."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: Dict[str, float] = {}
        self._suppressed: Dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> int:
        """Return -1 if suppressed, else how many were suppressed since the last allowed one."""
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return -1
            self._last[key] = now
            return self._suppressed.pop(key, 0)


def trace_wanted(trace: Optional[bool]) -> bool:
    """Whether to trace the wire: ``trace`` if given, else ``RELAYSYNC_TRACE`` (1/true/yes/on)."""
    if trace is not None:
        if not isinstance(trace, bool):
            raise TypeError(f"trace must be True, False or None, not {type(trace).__name__}")
        return trace
    return os.environ.get(TRACE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def enable_trace() -> None:
    """Make sure trace records are seen: without any logging set up by the application,
    they go to stderr; otherwise they propagate to the application's handlers."""
    with _trace_setup:
        if trace_logger.level == logging.NOTSET or trace_logger.level > logging.INFO:
            trace_logger.setLevel(logging.INFO)
        configured = logging.getLogger().handlers or any(
            not isinstance(h, logging.NullHandler)
            for h in (*logger.handlers, *trace_logger.handlers)
        )
        if not configured:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s relaysync.trace %(message)s"))
            trace_logger.addHandler(handler)


def trace_frame(direction: str, frame: Any) -> None:
    """Log one frame of the wire trace (``direction`` is ``send`` or ``recv``), masked."""
    trace_logger.info("%s %s", direction, MaskedFrame(frame))
