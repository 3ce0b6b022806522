"""Logging helpers: the package logger, secret masking, and rate-limited lines."""

from __future__ import annotations

import json
import logging
import os
import re
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
# Any other key naming a password (``post_prompt_auth_password``, ``sip_password``, …).
_SECRET_SUFFIX = "password"
# Credentials inside a URL (``http://user:secret@proxy``, ``sip:user:secret@host``), up to
# the last ``@`` of the address: a password with a raw ``@`` is masked whole.
_URL_CREDENTIALS = re.compile(r"(?i)\b((?:[a-z][a-z0-9+.-]*://|sips?:)[^/@:\s]*):[^/\s]*@")
# Deeper than any RELAY frame; a hostile frame nested further is cut here in logs, so
# masking and rendering never recurse without bound.
MAX_LOG_DEPTH = 32
TOO_DEEP = "…"


def is_secret_key(key: Any) -> bool:
    """True for a key whose value is a secret: a token, JWT, authorization state or any
    kind of password (SIP device passwords, callback passwords)."""
    return key in SECRET_KEYS or (isinstance(key, str) and key.lower().endswith(_SECRET_SUFFIX))


def mask_url_credentials(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` replaced by ``***``."""
    if "@" not in text:
        return text
    return _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}:{MASK}@", text)


def mask_secrets(value: Any, _depth: int = 0) -> Any:
    """Return a copy of ``value`` with every secret-bearing key's value replaced by ``***``.

    Secret keys are those of :func:`is_secret_key`; a password inside a URL string
    (``scheme://user:password@host``, as in a proxy URL) is masked too. Containers
    nested deeper than ``MAX_LOG_DEPTH`` levels are replaced by ``"…"``, so a hostile
    frame cannot exhaust the stack. Logs, the wire trace, timelines and cassettes
    (:mod:`relaysync.cassette`) all mask with this one function.
    """
    if isinstance(value, (dict, list)) and _depth >= MAX_LOG_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {
            k: (MASK if is_secret_key(k) and v not in (None, "") else mask_secrets(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return mask_url_credentials(value)
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


class LimitedLog:
    """Log lines of one *kind* at most once per ``interval`` seconds each.

    What a hostile or broken peer can repeat (bad frames, reconnect warnings) goes
    through here, so a flood costs a few lines: the first of each kind, then one per
    interval carrying the count of those suppressed meanwhile. ``kind`` must be one of
    a fixed set of names, never text taken from the peer, so the memory stays bounded.

    Args:
        interval: seconds between two lines of the same kind.
        clock: the monotonic clock (replaceable in tests).
    """

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Dict[str, float] = {}
        self._suppressed: Dict[str, int] = {}

    def log(self, level: int, kind: str, message: str, *args: Any, exc_info: bool = False) -> bool:
        """Log ``message % args`` at ``level`` unless a line of ``kind`` was logged lately.

        ``exc_info=True`` adds the exception being handled, as ``logger.exception`` does.

        Returns:
            Whether the line was logged (False: it was counted as suppressed).
        """
        if not logger.isEnabledFor(level):
            return False
        now = self._clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self._interval:
                self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                return False
            self._last[kind] = now
            suppressed = self._suppressed.pop(kind, 0)
        if suppressed:
            message += " (%d similar lines suppressed)"
            args = (*args, suppressed)
        logger.log(level, message, *args, exc_info=exc_info)
        return True

    def warning(self, kind: str, message: str, *args: Any) -> bool:
        """:meth:`log` at WARNING."""
        return self.log(logging.WARNING, kind, message, *args)

    def flush(self) -> None:
        """Log one line per kind whose lines are still suppressed (e.g. when closing)."""
        with self._lock:
            pending = sorted(self._suppressed.items())
            self._suppressed.clear()
            self._last.clear()
        for kind, count in pending:
            logger.warning("relaysync: %d more %s lines were suppressed", count, kind)


def trace_wanted(trace: Optional[bool]) -> bool:
    """Whether to trace the wire: ``trace`` if given, else ``RELAYSYNC_TRACE`` (1/true/yes/on)."""
    if trace is not None:
        if not isinstance(trace, bool):
            raise TypeError(f"trace must be True, False or None, not {type(trace).__name__}")
        return trace
    return os.environ.get(TRACE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def logging_configured() -> bool:
    """Whether the application has set up logging that ``relaysync`` records reach.

    True when the root logger has a handler, or ``relaysync``'s chain of loggers has one
    other than relaysync's own ``NullHandler``. When False, records logged to
    ``relaysync`` are seen by nobody (Python's last-resort handler stays silent, since
    the ``NullHandler`` counts as a handler).
    """
    if logging.getLogger().handlers:
        return True
    current: Optional[logging.Logger] = logger
    while current is not None:
        if any(not isinstance(h, logging.NullHandler) for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def tell_unlogged(text: str) -> None:
    """Write ``text`` on stderr when the application has configured no logging.

    For what a person must see even then (a handler's traceback, a drain's wait): the
    record logged alongside is otherwise seen by nobody. A missing (``pythonw``),
    closed or broken stderr is ignored.
    """
    if logging_configured():
        return
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass


def enable_trace() -> None:
    """Make sure trace records are seen: without any logging set up by the application,
    they go to stderr; otherwise they propagate to the application's handlers."""
    with _trace_setup:
        if trace_logger.level == logging.NOTSET or trace_logger.level > logging.INFO:
            trace_logger.setLevel(logging.INFO)
        configured = logging_configured() or any(
            not isinstance(h, logging.NullHandler) for h in trace_logger.handlers
        )
        if not configured:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s relaysync.trace %(message)s"))
            trace_logger.addHandler(handler)


def trace_frame(direction: str, frame: Any) -> None:
    """Log one frame of the wire trace (``direction`` is ``send`` or ``recv``), masked."""
    trace_logger.info("%s %s", direction, MaskedFrame(frame))
