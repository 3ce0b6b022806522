"""The simulator's journal: every frame it received or sent, in order, for assertions.

The journal keeps frames verbatim, credentials included (it is a test server's record);
it is never written to logs.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Union

import attrs

MAX_ENTRIES = 100_000

Frame = Union[Dict[str, Any], str]


@attrs.frozen
class JournalEntry:
    """One frame seen by the simulator.

    Attributes:
        direction: ``"in"`` (client to simulator) or ``"out"`` (simulator to client).
        session_id: the RELAY session (protocol string) of the socket, or ``None`` before
            the socket authenticated.
        frame: the parsed JSON object, or the raw text when it was not a JSON object.
        time: ``time.time()`` when the frame was recorded.
    """

    direction: str
    session_id: Optional[str]
    frame: Frame
    time: float


def _is_request(entry: JournalEntry, method: Optional[str]) -> bool:
    frame = entry.frame
    return (
        entry.direction == "in"
        and isinstance(frame, dict)
        and "method" in frame
        and (method is None or frame.get("method") == method)
    )


def _is_event(entry: JournalEntry, event_type: Optional[str]) -> bool:
    frame = entry.frame
    if entry.direction != "out" or not isinstance(frame, dict):
        return False
    if frame.get("method") != "signalwire.event":
        return False
    params = frame.get("params")
    return event_type is None or (
        isinstance(params, dict) and params.get("event_type") == event_type
    )


class Journal:
    """Thread-safe, bounded record of frames (the last 100,000 are kept).

    Written by the simulator's loop thread; read and awaited from any thread.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        """Create an empty journal keeping at most ``max_entries`` entries."""
        self._entries: Deque[JournalEntry] = collections.deque(maxlen=max_entries)
        self._appended = 0  # total ever appended; lets waiters scan only new entries
        self._cond = threading.Condition(threading.Lock())
        #: False in the simulator's lean mode: frames are not recorded at all.
        self.enabled = True

    def record(self, direction: str, session_id: Optional[str], frame: Frame) -> JournalEntry:
        """Append one frame and wake waiters.

        Args:
            direction: ``"in"`` or ``"out"``.
            session_id: the session of the socket, if authenticated.
            frame: parsed JSON object, or raw text.

        Returns:
            The new entry.
        """
        entry = JournalEntry(direction, session_id, frame, time.time())
        with self._cond:
            self._entries.append(entry)
            self._appended += 1
            self._cond.notify_all()
        return entry

    @property
    def entries(self) -> List[JournalEntry]:
        """A copy of all entries, oldest first."""
        with self._cond:
            return list(self._entries)

    def requests(self, method: Optional[str] = None) -> List[Dict[str, Any]]:
        """Inbound request frames, oldest first.

        Args:
            method: keep only requests with this JSON-RPC method (all when ``None``).
        """
        return [
            e.frame for e in self.entries if _is_request(e, method) and isinstance(e.frame, dict)
        ]

    def events(self, event_type: Optional[str] = None) -> List[Dict[str, Any]]:
        """Outbound ``signalwire.event`` frames (redeliveries included), oldest first.

        Args:
            event_type: keep only events of this type (all when ``None``).
        """
        return [
            e.frame for e in self.entries if _is_event(e, event_type) and isinstance(e.frame, dict)
        ]

    def responses_to(self, frame_id: str) -> List[Dict[str, Any]]:
        """Response frames (either direction) whose ``id`` is ``frame_id``.

        Args:
            frame_id: the JSON-RPC id of the request.
        """
        return [
            e.frame
            for e in self.entries
            if isinstance(e.frame, dict)
            and e.frame.get("id") == frame_id
            and "method" not in e.frame
            and ("result" in e.frame or "error" in e.frame)
        ]

    def clear(self) -> None:
        """Forget every entry recorded so far."""
        with self._cond:
            self._entries.clear()

    def wait_for(
        self, predicate: Callable[[JournalEntry], bool], timeout: float = 5.0
    ) -> JournalEntry:
        """Block until an entry matching ``predicate`` is in the journal.

        Entries already recorded count: the earliest match is returned.

        Args:
            predicate: called with each entry (under the journal lock: keep it quick and
                do not call back into the journal).
            timeout: seconds to wait.

        Returns:
            The earliest matching entry.

        Raises:
            TimeoutError: no matching entry within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        scanned = 0  # value of self._appended up to which entries were checked
        with self._cond:
            while True:
                first_seq = self._appended - len(self._entries)
                start = max(scanned - first_seq, 0)
                for index in range(start, len(self._entries)):
                    entry = self._entries[index]
                    if predicate(entry):
                        return entry
                scanned = self._appended
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no matching journal entry within {timeout:g} s "
                        f"({len(self._entries)} entries recorded)"
                    )
                self._cond.wait(remaining)

    def wait_for_request(
        self,
        method: str,
        timeout: float = 5.0,
        predicate: Optional[Callable[[Dict[str, Any]], bool]] = None,
    ) -> Dict[str, Any]:
        """Block until the simulator has received a request with ``method``.

        Args:
            method: JSON-RPC method name, e.g. ``"calling.answer"``.
            timeout: seconds to wait.
            predicate: extra test on the request frame.

        Returns:
            The earliest matching request frame.

        Raises:
            TimeoutError: no such request within ``timeout`` seconds.
        """

        def match(entry: JournalEntry) -> bool:
            return (
                _is_request(entry, method)
                and isinstance(entry.frame, dict)
                and (predicate is None or predicate(entry.frame))
            )

        try:
            entry = self.wait_for(match, timeout)
        except TimeoutError:
            raise TimeoutError(f"no {method!r} request received within {timeout:g} s") from None
        assert isinstance(entry.frame, dict)
        return entry.frame

    def wait_for_event(
        self,
        event_type: str,
        timeout: float = 5.0,
        predicate: Optional[Callable[[Dict[str, Any]], bool]] = None,
    ) -> Dict[str, Any]:
        """Block until the simulator has sent a ``signalwire.event`` of ``event_type``.

        Args:
            event_type: e.g. ``"calling.call.state"``.
            timeout: seconds to wait.
            predicate: extra test on the whole event frame.

        Returns:
            The earliest matching event frame.

        Raises:
            TimeoutError: no such event within ``timeout`` seconds.
        """

        def match(entry: JournalEntry) -> bool:
            return (
                _is_event(entry, event_type)
                and isinstance(entry.frame, dict)
                and (predicate is None or predicate(entry.frame))
            )

        try:
            entry = self.wait_for(match, timeout)
        except TimeoutError:
            raise TimeoutError(f"no {event_type!r} event sent within {timeout:g} s") from None
        assert isinstance(entry.frame, dict)
        return entry.frame
