"""What watches a client from outside its work: reconnect count, tracer, cassette.

:class:`Observers` is built once per :class:`~relaysync.RelayClient`: it counts
reconnects (for :meth:`~relaysync.RelayClient.stats`), holds the OpenTelemetry tracer
(:mod:`relaysync.telemetry`, only with ``opentelemetry-api`` installed) and the cassette
being recorded (:mod:`relaysync.cassette`), and attaches the last two to the
connection as frame taps.
"""

from __future__ import annotations

import os
from typing import List, Optional, Union

from . import telemetry
from .cassette import CassetteWriter
from .stats import ReconnectCounter
from .wire.outbound import FrameTap

RecordPath = Union[None, str, "os.PathLike[str]"]


class Observers:
    """The reconnect counter, the tracer and the cassette of one client.

    Args:
        record: a cassette file to write every frame to (``None``: no cassette).

    Raises:
        TypeError: ``record`` is not a path.
        OSError: the cassette file cannot be created.
    """

    def __init__(self, record: RecordPath = None) -> None:
        if record is not None and not isinstance(record, (str, os.PathLike)):
            raise TypeError(f"record must be a file path, not {type(record).__name__}")
        self.reconnects = ReconnectCounter()
        self.tracer = telemetry.call_tracer()
        self.cassette = CassetteWriter(record) if record is not None else None

    @property
    def taps(self) -> List[FrameTap]:
        """The frame taps the connection must feed."""
        taps: List[FrameTap] = []
        if self.cassette is not None:
            taps.append(self.cassette)
        if self.tracer is not None:
            taps.append(self.tracer)
        return taps

    def state_changed(self, state: str) -> None:
        """A connection state (I/O thread): count reconnects."""
        if self.reconnects.state_changed(state) and self.tracer is not None:
            self.tracer.reconnected()

    def close(self, timeout: Optional[float] = None) -> None:
        """End open spans, join the telemetry thread and finish the cassette (the
        client closed).

        Args:
            timeout: the longest wait for the telemetry thread; ``None``: no limit.
        """
        if self.tracer is not None:
            self.tracer.close(timeout)
        if self.cassette is not None:
            self.cassette.close()
