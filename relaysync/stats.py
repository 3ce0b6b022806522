"""What a running client is doing: counters kept where the work already happens.

:class:`WireCounters` lives with the reader (:class:`~relaysync.wire.inbound.FrameHandler`):
plain int fields and a fixed ring of request latencies, written by the I/O thread
alone, with no lock and no allocation per event. :meth:`relaysync.RelayClient.stats`
reads them, with the pool's and registry's sizes, into one frozen
:class:`ClientStats`; the percentiles are computed only then.
"""

from __future__ import annotations

import array
import math
from typing import Optional

import attrs

from . import constants as C

#: How many of the latest request latencies the percentiles are taken over.
LATENCY_WINDOW = 1000


@attrs.frozen
class ClientStats:
    """A snapshot of a client's activity, from :meth:`relaysync.RelayClient.stats`.

    Attributes:
        state: connection state (connecting, connected, reconnecting, closed).
        session_resumed: False after a reconnect that started a fresh session.
        reconnects: sessions re-established after a lost socket since the client began.
        calls_active: calls the client tracks (not yet ended).
        handlers_running: worker threads running a handler or callback right now.
        handlers_queued: handler and callback tasks waiting for a worker.
        requests_in_flight: requests written and not yet answered.
        events_received: events read from RELAY (redeliveries included).
        events_deduplicated: redelivered events recognised and ignored.
        callbacks_dropped: callbacks dropped because their queue was full.
        rpc_p50_ms: median request round trip over the latest 1,000 requests, in
            milliseconds (``None`` before the first answer).
        rpc_p99_ms: 99th percentile of the same (``None`` before the first answer).
    """

    state: str
    session_resumed: bool
    reconnects: int
    calls_active: int
    handlers_running: int
    handlers_queued: int
    requests_in_flight: int
    events_received: int
    events_deduplicated: int
    callbacks_dropped: int
    rpc_p50_ms: Optional[float]
    rpc_p99_ms: Optional[float]


class LatencyRing:
    """The latest ``size`` durations in a fixed array of doubles (one writer thread).

    Args:
        size: how many samples are kept.
    """

    __slots__ = ("_count", "_samples", "_size")

    def __init__(self, size: int = LATENCY_WINDOW) -> None:
        self._size = size
        self._samples = array.array("d", bytes(8 * size))
        self._count = 0

    def add(self, seconds: float) -> None:
        """Record one duration, overwriting the oldest once full (writer thread only)."""
        self._samples[self._count % self._size] = seconds
        self._count += 1

    def percentiles_ms(self, *quantiles: float) -> tuple[Optional[float], ...]:
        """The nearest-rank percentiles (``0 < q <= 1``) of the kept samples, in ms.

        Safe from any thread: it copies the samples first (a sample being written
        meanwhile is either the old or the new value).

        Returns:
            One value per quantile, each ``None`` when no sample was recorded yet.
        """
        count = min(self._count, self._size)
        if count == 0:
            return tuple(None for _ in quantiles)
        ordered = sorted(self._samples[:count])
        return tuple(
            round(ordered[max(0, math.ceil(q * count) - 1)] * 1000.0, 3) for q in quantiles
        )


class WireCounters:
    """Counters of the reader thread (it alone writes them; any thread may read)."""

    __slots__ = ("events_deduplicated", "events_received", "latencies")

    def __init__(self) -> None:
        self.events_received = 0
        self.events_deduplicated = 0
        self.latencies = LatencyRing()


class ReconnectCounter:
    """Counts sessions re-established after the first (fed each connection state)."""

    __slots__ = ("_connected_once", "reconnects")

    def __init__(self) -> None:
        self._connected_once = False
        self.reconnects = 0

    def state_changed(self, state: str) -> bool:
        """Note a connection state (I/O thread); True if it completes a reconnect."""
        if state != C.CONNECTED:
            return False
        if self._connected_once:
            self.reconnects += 1
            return True
        self._connected_once = True
        return False
