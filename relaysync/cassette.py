"""Cassettes: a client's RELAY session written down, frame by frame, to replay later.

A cassette is a JSON-lines file, one frame per line, in the order the client saw them::

    {"t": 0.0123, "dir": "out", "frame": {"jsonrpc": "2.0", "id": "…", "method": …}}
    {"t": 0.0150, "dir": "in", "frame": {"jsonrpc": "2.0", "id": "…", "result": …}}

``t`` is seconds since recording began, ``dir`` is the direction seen from the client
(``"out"``: the client to RELAY; ``"in"``: RELAY to the client). Secrets are masked
with the same function the logs use (:func:`relaysync._log.mask_secrets`: tokens, JWTs,
``authorization_state``, every kind of password, credentials inside URLs), so a
cassette can be committed.

:class:`CassetteWriter` is a frame tap of the client's link (``RelayClient(...,
record="session.jsonl")``). It writes through an ordinary buffered file: a frame costs
a JSON encoding and an in-memory append, and the disk is touched only when the buffer
(64 KiB) fills and when the client closes, which flushes and closes the file. A crash
loses at most the last buffer. :func:`read_cassette` loads one, for
:class:`relaysync.testing.RelaySimulator` ``(replay=…)``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Union

import attrs

from ._log import logger, mask_secrets

#: Direction of a frame the client wrote.
OUT = "out"
#: Direction of a frame the client read.
IN = "in"
BUFFER_BYTES = 64 * 1024

PathLike = Union[str, "os.PathLike[str]"]


@attrs.frozen
class CassetteEntry:
    """One recorded frame.

    Attributes:
        t: seconds since the recording began.
        dir: ``"out"`` (client to RELAY) or ``"in"`` (RELAY to client).
        frame: the frame, secrets masked.
    """

    t: float
    dir: str
    frame: Dict[str, Any]


class CassetteWriter:
    """Writes every frame the client sends and reads to a cassette file.

    Safe from any thread (one lock around the buffered write). Frames that arrive after
    :meth:`close` are ignored.

    Args:
        path: the file to write (created or truncated).
        clock: the monotonic clock (replaceable in tests).

    Raises:
        OSError: the file cannot be opened for writing.
    """

    def __init__(self, path: PathLike, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = os.fspath(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._file = open(self.path, "w", encoding="utf-8", buffering=BUFFER_BYTES)  # noqa: SIM115
        self._start = clock()
        self._closed = False

    def sent(self, frame: Mapping[str, Any]) -> None:
        """Record a frame the client wrote."""
        self._write(OUT, frame)

    def received(self, frame: Mapping[str, Any]) -> None:
        """Record a frame the client read."""
        self._write(IN, frame)

    def acked(self, request_id: Any) -> None:
        """Record the client's empty answer to a server request."""
        self._write(OUT, {"jsonrpc": "2.0", "id": request_id, "result": {}})

    def _write(self, direction: str, frame: Mapping[str, Any]) -> None:
        t = round(self._clock() - self._start, 6)
        masked = mask_secrets(frame if type(frame) is dict else dict(frame))  # a copy
        line = json.dumps(
            {"t": t, "dir": direction, "frame": masked},
            separators=(",", ":"),
            default=str,
        )
        with self._lock:
            if self._closed:
                return
            try:
                self._file.write(line + "\n")
            except OSError as exc:  # a full disk must not break the session
                self._closed = True
                logger.error("relaysync: cassette %s no longer written: %s", self.path, exc)

    def close(self) -> None:
        """Flush and close the file. Idempotent."""
        with self._lock:
            if self._closed and self._file.closed:
                return
            self._closed = True
            try:
                self._file.close()
            except OSError as exc:
                logger.error("relaysync: could not finish cassette %s: %s", self.path, exc)


def read_cassette(path: PathLike) -> List[CassetteEntry]:
    """Load a cassette.

    Args:
        path: a file written by :class:`CassetteWriter` (blank lines are skipped).

    Returns:
        Its entries, in order.

    Raises:
        OSError: the file cannot be read.
        ValueError: a line is not a cassette entry (naming the line number).
    """
    entries: List[CassetteEntry] = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                t, direction, frame = data["t"], data["dir"], data["frame"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a cassette entry ({exc})") from None
            if direction not in (IN, OUT) or not isinstance(frame, dict):
                raise ValueError(f"{path}:{number}: not a cassette entry")
            if not isinstance(t, (int, float)):
                raise ValueError(f"{path}:{number}: t must be a number")
            entries.append(CassetteEntry(float(t), direction, frame))
    return entries
