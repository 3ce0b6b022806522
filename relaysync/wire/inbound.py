"""Reading and acting on inbound frames: responses, events (ack, dedupe), pings,
disconnects.

Runs on the I/O thread only. Apart from waiting for the next frame, nothing here
blocks: replies go through the link's send lock, events go to a sink that only queues
work.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import time
from typing import Any, Callable, ContextManager, Dict, List, Optional, Tuple

import websocket

from .. import constants as C
from .._log import LimitedLog, MaskedFrame, logger, trace_frame
from ..errors import RelayConnectionError
from ..rpc import PendingMap, error_from_response
from ..stats import WireCounters
from . import framing
from ._json import parse
from .dedupe import EventDedupe
from .framing import FrameError, FrameReader
from .outbound import Link
from .sockets import MAX_FRAME_BYTES

BATCH = 512  # frames handled per read at most, so acks and routing interleave in bursts
_ACKED = (C.METHOD_EVENT, C.METHOD_PING, C.METHOD_DISCONNECT)

EventSink = Callable[[Dict[str, Any], Optional[str]], None]


class FrameHandler:
    """Parses frames and dispatches them by kind.

    Args:
        link: where replies (acks, pongs) are written.
        pending: requests waiting for a response.
        on_event: receives (event payload, event id) of each new event, after its ack.
        on_auth_state: receives each non-empty ``authorization_state`` blob.
        on_disconnect: called with ``restart`` when the server sends
            ``signalwire.disconnect``.
        batch: a context acting on one burst of frames runs in (the worker pool's
            :meth:`~relaysync.workers.WorkerPool.deferred`: one worker wake-up per
            burst instead of one per event).
        log: where warnings about bad frames go, rate-limited per kind.
    """

    def __init__(
        self,
        *,
        link: Link,
        pending: PendingMap,
        on_event: EventSink,
        on_auth_state: Callable[[str], None],
        on_disconnect: Callable[[bool], None],
        batch: Callable[[], ContextManager[Any]] = contextlib.nullcontext,
        log: Optional[LimitedLog] = None,
    ) -> None:
        self._link = link
        self._pending = pending
        self._on_event = on_event
        self._on_auth_state = on_auth_state
        self._on_disconnect = on_disconnect
        self._batch = batch
        self.dedupe = EventDedupe()
        #: events, redeliveries and request latencies, for ``RelayClient.stats()``
        self.counters = WireCounters()
        self._log = log or LimitedLog()
        self._reader: Optional[FrameReader] = None
        self._reader_ws: Optional[websocket.WebSocket] = None

    def read(self, ws: websocket.WebSocket, wait: float) -> Optional[bool]:
        """Wait up to ``wait`` s for data, then handle every whole frame it completes.

        Frames are cut out of one receive buffer (:class:`~relaysync.wire.framing.FrameReader`),
        so a burst costs one ``recv``; a frame over the size limit is refused from its
        header. The acks of a burst go out in one write, before any of its frames is
        acted on. The idle wait uses ``select``, so the socket keeps one long timeout
        that only a dead peer reaches.

        Returns:
            None if no whole frame arrived, False if the peer closed the socket, else
            True.

        Raises:
            RelayConnectionError: the socket broke (or close() shut it meanwhile), or
                the server broke the WebSocket framing.
        """
        reader = self._reader_for(ws)
        try:
            batch = _take(reader) if reader.buffered else []
            if not batch:
                got = reader.fill(wait)
                if not got:
                    return got
                batch = _take(reader)
            frames, requests, closed = self._parse_batch(batch)
            if not closed and (requests or not batch):
                # Events need acks: take the rest of the burst, so that its acks go
                # out in one write and its callbacks are woken once. Replies alone
                # are acted on at once: their callers are waiting.
                reader.drain()
                more = _take(reader)
                if not batch and not more:
                    return None  # part of a frame; the rest comes with a later read
                frames_more, requests_more, closed = self._parse_batch(more)
                frames += frames_more
                requests += requests_more
        except socket.timeout as exc:
            raise RelayConnectionError(
                -1, "the server went silent in the middle of a frame"
            ) from exc
        except FrameError as exc:
            raise RelayConnectionError(-1, f"broken WebSocket framing: {exc}") from exc
        except (OSError, ValueError, AttributeError) as exc:
            raise RelayConnectionError(-1, str(exc) or type(exc).__name__) from exc
        self._link.flush()
        with self._batch() if requests else contextlib.nullcontext():
            for frame in frames:
                self._guarded(self._act, frame, -1)
        if closed:
            self._link.close_reply(ws)
            return False
        return True

    def _parse_batch(
        self, batch: List[Tuple[int, bytes]]
    ) -> Tuple[List[Dict[str, Any]], int, bool]:
        """Parse a batch of messages, answering pings and queueing the acks of requests.

        Returns:
            The parsed frames, how many of them are server requests, and whether a
            close frame came (the frames after it are ignored).
        """
        frames: List[Dict[str, Any]] = []
        requests = 0
        for opcode, data in batch:
            if opcode == framing.OPCODE_CLOSE:
                return frames, requests, True
            if opcode == framing.OPCODE_PING:
                self._link.pong(data)
            elif opcode in (framing.OPCODE_TEXT, framing.OPCODE_BINARY):
                frame = self._guarded(self._parse, data, len(data))
                if frame is not None:
                    if "method" in frame:
                        requests += 1
                        self._ack(frame)
                    frames.append(frame)
        return frames, requests, False

    def _guarded(self, step: Callable[[Any], Any], item: Any, size: int) -> Any:
        """Run one step on one frame; a failure nobody foresaw drops only that frame.

        A frame must never end the I/O thread: the error is logged (rate-limited, with
        its traceback) and ``None`` returned.
        """
        try:
            return step(item)
        except Exception:
            self._log.log(
                logging.ERROR,
                "unhandled-frame",
                "relaysync: dropped a frame that could not be handled (%s)",
                f"{size} bytes" if size >= 0 else "parsed",
                exc_info=True,
            )
            return None

    def _reader_for(self, ws: websocket.WebSocket) -> FrameReader:
        """The frame reader of ``ws`` (a new one for each new socket)."""
        if self._reader is None or self._reader_ws is not ws:
            sock = ws.sock
            if sock is None:
                raise RelayConnectionError(-1, "the socket is closed")
            self._reader = FrameReader(sock, MAX_FRAME_BYTES, self._log)
            self._reader_ws = ws
        return self._reader

    def _parse(self, data: bytes) -> Optional[Dict[str, Any]]:
        """The frame as a JSON object, or ``None`` (logged) when it is not one."""
        try:
            frame = parse(data)
        except (RecursionError, ValueError) as exc:
            if self._link.trace:
                trace_frame("recv", data)
            kind, why = (
                ("nested-frame", "nested too deeply to parse")
                if isinstance(exc, RecursionError)
                else ("non-json-frame", "that is not JSON")
            )
            self._log.warning(kind, f"relaysync: dropped a frame {why} (%d bytes)", len(data))
            return None
        if self._link.trace:
            trace_frame("recv", frame)  # the parsed frame: the trace need not parse it again
        if not isinstance(frame, dict):
            self._log.warning(
                "non-object-frame",
                "relaysync: dropped a frame that is not a JSON object (%s, %d bytes)",
                type(frame).__name__,
                len(data),
            )
            return None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("recv %s", MaskedFrame(frame))
        self._link.flows.received(frame, data)
        for tap in self._link.taps:
            tap.received(frame)
        return frame

    def _ack(self, frame: Dict[str, Any]) -> None:
        """Queue the empty-result answer of an event, ping or disconnect (sent by flush)."""
        if frame.get("method") in _ACKED and frame.get("id") is not None:
            self._link.ack(frame["id"])

    def _act(self, frame: Dict[str, Any]) -> None:
        """Act on one parsed frame (already acked)."""
        method = frame.get("method")
        if method is not None:
            self._request(frame, method)
        elif "result" in frame or "error" in frame:
            pending = self._pending.pop(frame.get("id"))
            if pending is None:
                logger.debug("relaysync: response for unknown id %r", frame.get("id"))
                return
            self.counters.latencies.add(time.monotonic() - pending.sent_at)
            if "error" in frame:
                pending.set_error(error_from_response(frame["error"]))
            else:
                pending.set_result(frame["result"])
        else:
            self._log.warning(
                "shapeless-frame",
                "relaysync: dropped a frame with neither method nor result (keys %s)",
                _keys(frame),
            )

    def _request(self, frame: Dict[str, Any], method: Any) -> None:
        """A server-initiated request: event, ping or disconnect."""
        request_id = frame.get("id")
        params = frame.get("params")
        if not isinstance(params, dict):
            params = {}
        if method not in _ACKED:
            self._log.warning(
                "unknown-method", "relaysync: unknown server method %s", _short(method)
            )
            if request_id is not None:
                self._link.send_quiet(
                    {
                        "jsonrpc": "2.0",
                        "id": request_id,
                        "error": {"code": -32601, "message": "Method not found"},
                    }
                )
            return
        if method == C.METHOD_EVENT:
            self._event(params, request_id if isinstance(request_id, str) else None)
        elif method == C.METHOD_DISCONNECT:
            restart = params.get("restart") is True
            logger.info("relaysync: server requested disconnect (restart=%s)", restart)
            self._on_disconnect(restart)

    def _event(self, payload: Dict[str, Any], event_id: Optional[str]) -> None:
        """Dedupe, keep the authorization state, and pass the event on."""
        self.counters.events_received += 1
        if event_id is not None and self.dedupe.duplicate(event_id):
            self.counters.events_deduplicated += 1
            logger.debug("relaysync: duplicate event %s ignored", event_id)
            return
        if payload.get("event_type") == C.EVENT_AUTHORIZATION_STATE:
            inner = payload.get("params")
            blob = inner.get("authorization_state") if isinstance(inner, dict) else None
            if isinstance(blob, str) and blob:
                self._on_auth_state(blob)
            return
        try:
            self._on_event(payload, event_id)
        except Exception:
            logger.exception("relaysync: error routing event %r", payload.get("event_type"))


def _take(reader: FrameReader) -> List[Tuple[int, bytes]]:
    """Every whole frame the reader holds (at most ``BATCH``)."""
    batch: List[Tuple[int, bytes]] = []
    while len(batch) < BATCH:
        frame = reader.next()
        if frame is None:
            break
        batch.append(frame)
    return batch


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for a log line about a peer's data."""
    text = repr(value) if isinstance(value, str) else f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + f"…({len(text)} chars)"


def _keys(frame: Dict[str, Any], limit: int = 10) -> str:
    """The first ``limit`` keys of a frame, shortened, for a log line."""
    keys = [_short(k, 30) for k in itertools.islice(frame, limit)]
    more = f", … {len(frame) - limit} more" if len(frame) > limit else ""
    return "[" + ", ".join(keys) + more + "]"
