"""Lint: params the simulator accepted although no RELAY document names them.

RELAY's params are open shapes: a key its server classes do not know is ignored, not
refused. The simulator accepts such a key too, so that code RELAY accepts never fails
offline, and records it here as a :class:`LintEntry` (each ``(method, path)`` once, and
logged once on the ``relaysync.simulator`` logger at WARNING): a typo such as
``record.audio.beeep`` is silently ignored by RELAY, and the lint is how a test finds it.
In strict mode (``RelaySimulator(strict=True)``) the simulator refuses such a param with
``-32602`` naming its path instead.
"""

from __future__ import annotations

import logging
import threading
from typing import List, Set, Tuple

import attrs

__all__ = ["LintEntry", "LintLog"]

logger = logging.getLogger("relaysync.simulator")


@attrs.frozen
class LintEntry:
    """One param the simulator accepted that no RELAY document names.

    Attributes:
        method: the RELAY method, e.g. ``calling.record``.
        path: the param's path from the params root, e.g. ``record.audio.beeep``
            (list items as ``[]``: ``play[].params.txt``).
        note: why it was recorded.
    """

    method: str
    path: str
    note: str


class LintLog:
    """The lint of one simulator (thread-safe).

    Args:
        strict: refuse unknown params instead of recording them.
    """

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self._lock = threading.Lock()
        self._entries: List[LintEntry] = []
        self._seen: Set[Tuple[str, str]] = set()

    def record(self, method: str, path: str, note: str) -> None:
        """Record an accepted unknown param; a ``(method, path)`` seen before is skipped.

        Args:
            method: the RELAY method.
            path: the param's path.
            note: why it is recorded.
        """
        with self._lock:
            if (method, path) in self._seen:
                return
            self._seen.add((method, path))
            self._entries.append(LintEntry(method, path, note))
        logger.warning("lint: %s: param %s: %s", method, path, note)

    @property
    def entries(self) -> List[LintEntry]:
        """The entries recorded so far, oldest first (a copy)."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry (a param seen again is recorded and logged again)."""
        with self._lock:
            self._entries.clear()
            self._seen.clear()
