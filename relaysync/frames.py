"""Reading and acting on inbound frames: responses, events (ack, dedupe), pings,
disconnects.

Runs on the I/O thread only. Apart from waiting for the next frame, nothing here
blocks: replies go through the link's send lock, events go to a sink that only queues
work.
"""

from __future__ import annotations

import itertools
import json
import logging
import select
import ssl
from typing import Any, Callable, Dict, Optional

import websocket

from . import constants as C
from ._log import LimitedLog, MaskedFrame, logger
from .dedupe import EventDedupe
from .errors import RelayConnectionError
from .link import Link
from .rpc import PendingMap, error_from_response
from .transport import MAX_FRAME_BYTES

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
        log: Optional[LimitedLog] = None,
    ) -> None:
        self._link = link
        self._pending = pending
        self._on_event = on_event
        self._on_auth_state = on_auth_state
        self._on_disconnect = on_disconnect
        self.dedupe = EventDedupe()
        self._log = log or LimitedLog()

    def read(self, ws: websocket.WebSocket, wait: float) -> Optional[bool]:
        """Wait up to ``wait`` s for data, then read and handle one whole frame.

        The idle wait uses ``select``, so the socket keeps one long timeout that only a
        dead peer reaches; a send from another thread never times out half-way through a
        frame because the reader is between frames.

        Returns:
            None if nothing arrived, False if the peer closed the socket, else True.

        Raises:
            RelayConnectionError: the socket broke (or close() shut it meanwhile).
        """
        try:
            if not _readable(ws, wait):
                return None
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException as exc:
            raise RelayConnectionError(
                -1, "the server went silent in the middle of a frame"
            ) from exc
        except (websocket.WebSocketException, OSError, ValueError, AttributeError) as exc:
            raise RelayConnectionError(-1, str(exc) or type(exc).__name__) from exc
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return False
        if opcode not in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            return True
        if len(data) > MAX_FRAME_BYTES:
            self._log.warning(
                "oversized-frame",
                "relaysync: dropped a %d-byte frame (limit %d)",
                len(data),
                MAX_FRAME_BYTES,
            )
            return True
        try:
            self.handle(data)
        except Exception:  # a frame nobody foresaw must not end the I/O thread
            self._log.log(
                logging.ERROR,
                "unhandled-frame",
                "relaysync: dropped a %d-byte frame that could not be handled",
                len(data),
                exc_info=True,
            )
        return True

    def handle(self, data: bytes) -> None:
        """Parse one frame and act on it; malformed frames are logged and dropped."""
        try:
            frame = json.loads(data)
        except RecursionError:
            self._log.warning(
                "nested-frame",
                "relaysync: dropped a frame nested too deeply to parse (%d bytes)",
                len(data),
            )
            return
        except ValueError:
            self._log.warning(
                "non-json-frame",
                "relaysync: dropped a frame that is not JSON (%d bytes)",
                len(data),
            )
            return
        if not isinstance(frame, dict):
            self._log.warning(
                "non-object-frame",
                "relaysync: dropped a frame that is not a JSON object (%s, %d bytes)",
                type(frame).__name__,
                len(data),
            )
            return
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("recv %s", MaskedFrame(frame))
        self._link.flows.received(frame)
        method = frame.get("method")
        if method is not None:
            self._request(frame, method)
        elif "result" in frame or "error" in frame:
            pending = self._pending.pop(frame.get("id"))
            if pending is None:
                logger.debug("relaysync: response for unknown id %r", frame.get("id"))
            elif "error" in frame:
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
        if method in (C.METHOD_EVENT, C.METHOD_PING, C.METHOD_DISCONNECT):
            if request_id is not None:
                self._link.ack(request_id)
        else:
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
        if event_id is not None and self.dedupe.duplicate(event_id):
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


def _readable(ws: websocket.WebSocket, wait: float) -> bool:
    """True when a frame can be read from ``ws`` without waiting more than ``wait`` s."""
    sock = ws.sock
    if sock is None:
        raise RelayConnectionError(-1, "the socket is closed")
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    readable, _, _ = select.select([sock], [], [], wait)
    return bool(readable)


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for a log line about a peer's data."""
    text = repr(value) if isinstance(value, str) else f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + f"…({len(text)} chars)"


def _keys(frame: Dict[str, Any], limit: int = 10) -> str:
    """The first ``limit`` keys of a frame, shortened, for a log line."""
    keys = [_short(k, 30) for k in itertools.islice(frame, limit)]
    more = f", … {len(frame) - limit} more" if len(frame) > limit else ""
    return "[" + ", ".join(keys) + more + "]"
