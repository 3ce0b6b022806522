"""Logging helpers: the package logger, secret masking, and rate limiting."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Callable, Dict

logger = logging.getLogger("relaysync")
logger.addHandler(logging.NullHandler())

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
# Deeper than any RELAY frame; a hostile frame nested further is cut here in logs, so
# masking and rendering never recurse without bound.
MAX_LOG_DEPTH = 32
TOO_DEEP = "…"


def mask_secrets(value: Any, _depth: int = 0) -> Any:
    """Return a copy of ``value`` with every secret-bearing key's value replaced by ``***``.

    Containers nested deeper than ``MAX_LOG_DEPTH`` levels are replaced by ``"…"``, so a
    hostile frame cannot exhaust the stack (the copy is only ever used for logging).
    """
    if isinstance(value, (dict, list)) and _depth >= MAX_LOG_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {
            k: (MASK if k in SECRET_KEYS and v not in (None, "") else mask_secrets(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v, _depth + 1) for v in value]
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
            except (ValueError, RecursionError):
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
