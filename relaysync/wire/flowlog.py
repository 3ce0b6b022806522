"""Per-call recording of the frames a client exchanges with RELAY, for call-flow diagrams.

The connection feeds a :class:`FlowRecorder` with every request it writes and every
frame it reads. Frames that belong to a call (its ``call_id``, or the ``tag`` of the dial
that created it) are kept, in order, so :meth:`relaysync.call.Call.timeline` can draw
that call's ladder diagram afterwards (the drawing code builds the
:class:`~relaysync.diagram.CallFlow`; this module only records). Memory is bounded:
at most :data:`MAX_CALLS` calls (least recently active forgotten first) and
:data:`MAX_ENTRIES` frames per call (oldest dropped first). Frames are kept as their
wire text, a few hundred bytes each, and parsed again only when a timeline is built;
secrets are masked then
(:func:`relaysync.timeline.build_timeline`). Connection-level frames (connect, pings,
authorization state) carry no call id and are never kept.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Deque, Dict, List, Mapping, Optional, Union

from .. import constants as C
from ._json import encode, parse

MAX_CALLS = 256
MAX_ENTRIES = 500
MAX_OPEN_REQUESTS = 4096

#: Direction of a frame written by the client (the simulator journal's convention).
TO_RELAY = "in"
#: Direction of a frame read by the client.
FROM_RELAY = "out"

_TAG = "tag:"


class FlowEntry:
    """One recorded frame, kept as its wire text.

    Attributes:
        direction: :data:`TO_RELAY` (``"in"``) or :data:`FROM_RELAY` (``"out"``), as in
            the simulator's journal, so :func:`~relaysync.timeline.build_timeline`
            reads both.
        raw: the frame's JSON text as written or read (bytes when read).
        time: ``time.time()`` when it was written or read.
    """

    __slots__ = ("direction", "raw", "time")

    def __init__(self, direction: str, raw: Union[str, bytes], time: float) -> None:
        self.direction = direction
        self.raw = raw
        self.time = time

    @property
    def frame(self) -> Any:
        """The JSON-RPC frame, parsed anew from :attr:`raw` (not masked)."""
        try:
            return parse(self.raw)
        except (ValueError, RecursionError):
            return self.raw

    def __repr__(self) -> str:
        return f"FlowEntry({self.direction!r}, {len(self.raw)} bytes, {self.time!r})"


def _call_key(params: Mapping[str, Any]) -> Optional[str]:
    """The recorder key of a request's or event's params: its call id, else its dial tag."""
    call_id = params.get("call_id")
    if isinstance(call_id, str) and call_id:
        return call_id
    tag = params.get("tag")
    if isinstance(tag, str) and tag:
        return _TAG + tag
    return None


def _wire_text(frame: Mapping[str, Any], given: Union[str, bytes, None]) -> Union[str, bytes]:
    """The frame's text as it crossed the wire; encoded from ``frame`` when not given."""
    return given if given is not None else encode(frame)


class FlowRecorder:
    """Bounded, thread-safe store of the frames of each call.

    :meth:`sent` runs on whatever thread writes a request, :meth:`received` on the
    reader thread; both only append under one lock.
    """

    def __init__(self, max_calls: int = MAX_CALLS, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._max_calls = max_calls
        self._max_entries = max_entries
        self._flows: collections.OrderedDict[str, Deque[FlowEntry]] = collections.OrderedDict()
        self._open: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._tags: Dict[str, str] = {}  # call_id -> tag of the dial that created it

    def sent(self, frame: Mapping[str, Any], text: Optional[str] = None) -> Optional[FlowEntry]:
        """Record a request about to be written by the client, if it concerns a call.

        Args:
            frame: the request.
            text: its JSON text as written (encoded here when omitted).

        Returns:
            The entry recorded, or ``None`` when the frame concerns no call.
        """
        params = frame.get("params")
        if not isinstance(params, dict):
            return None
        key = _call_key(params)
        if key is None:
            return None
        entry = FlowEntry(TO_RELAY, _wire_text(frame, text), time.time())
        request_id = frame.get("id")
        with self._lock:
            if isinstance(request_id, str):
                self._open[request_id] = key
                if len(self._open) > MAX_OPEN_REQUESTS:
                    self._open.popitem(last=False)
            self._append(key, entry)
        return entry

    def unsent(self, frame: Mapping[str, Any], entry: FlowEntry) -> None:
        """Forget a request recorded by :meth:`sent` whose write failed."""
        params = frame.get("params")
        key = _call_key(params) if isinstance(params, dict) else None
        with self._lock:
            self._open.pop(str(frame.get("id")), None)
            flow = self._flows.get(key) if key is not None else None
            if flow is not None and entry in flow:
                flow.remove(entry)

    def received(self, frame: Mapping[str, Any], data: Optional[bytes] = None) -> None:
        """Record a frame read by the client: a reply to a call's request, or its event.

        Args:
            frame: the parsed frame.
            data: its wire text as read (encoded from ``frame`` when omitted).
        """
        if "method" not in frame:
            request_id = frame.get("id")
            if not isinstance(request_id, str) or request_id not in self._open:
                return  # most replies: to requests about no call (a GIL-atomic look-up)
            with self._lock:
                key = self._open.pop(request_id, None)
                if key is not None:
                    self._append(key, FlowEntry(FROM_RELAY, _wire_text(frame, data), time.time()))
            return
        if frame["method"] != C.METHOD_EVENT:
            return
        outer = frame.get("params")
        inner = outer.get("params") if type(outer) is dict else None
        if type(inner) is not dict:
            return
        key = _call_key(inner)
        if key is None:
            return
        tag = inner.get("tag")
        entry = FlowEntry(FROM_RELAY, _wire_text(frame, data), time.time())
        with self._lock:
            # a tagged event of a call remembers the dial that created the call
            if isinstance(tag, str) and tag and key == inner.get("call_id"):
                self._tags.setdefault(key, tag)
            self._append(key, entry)

    def _append(self, key: str, entry: FlowEntry) -> None:
        """Add an entry to one call's flow (lock held), evicting the stalest call."""
        flow = self._flows.get(key)
        if flow is None:
            flow = collections.deque(maxlen=self._max_entries)
            self._flows[key] = flow
            if len(self._flows) > self._max_calls:
                stale, _ = self._flows.popitem(last=False)
                self._tags.pop(stale, None)
        else:
            self._flows.move_to_end(key)
        flow.append(entry)

    def entries(self, call_id: str) -> List[FlowEntry]:
        """The recorded frames of a call (with those of the dial that created it), in order.

        Args:
            call_id: the call's id.

        Returns:
            The entries, oldest first; empty for an unknown or forgotten call.
        """
        with self._lock:
            own = list(self._flows.get(call_id, ()))
            tag = self._tags.get(call_id)
            dial = list(self._flows.get(_TAG + tag, ())) if tag else []
        if not dial:
            return own
        return sorted(own + dial, key=lambda entry: entry.time)

    def sizes(self) -> Dict[str, int]:
        """How many calls, frames and open requests are held (for leak checks)."""
        with self._lock:
            return {
                "calls": len(self._flows),
                "entries": sum(len(flow) for flow in self._flows.values()),
                "open_requests": len(self._open),
                "tags": len(self._tags),
            }


__all__ = ["FROM_RELAY", "MAX_CALLS", "MAX_ENTRIES", "TO_RELAY", "FlowEntry", "FlowRecorder"]
