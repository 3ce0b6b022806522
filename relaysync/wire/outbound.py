"""The write side of the connection: the current socket, its generation, one writer.

Frames are encoded here (:func:`relaysync.wire.framing.encode_text`) and written with
``sendall``; the acks of a burst are queued by the reader and written together by
:meth:`Link.flush`, in one write. One thread writes to a socket at a time: a thread
that has a frame to send while another one writes hands the frame to the writer, which
sends it (with everything else handed over meanwhile, in one write) before it stops,
so no thread sleeps waiting for its turn to write.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from json.encoder import encode_basestring_ascii  # what json.dumps uses for a str
from typing import Any, List, Mapping, Optional, Protocol, Tuple

import websocket

from .._log import MaskedFrame, logger, trace_frame
from ..errors import RelayConnectionError
from ._json import encode
from .flowlog import FlowRecorder
from .framing import encode_text, encode_texts
from .tlspipe import Transport


class FrameTap(Protocol):
    """Sees every JSON frame of the connection (a cassette, a tracer).

    ``sent`` runs on the writing thread, ``received`` on the reader; neither may block
    for long nor run user code.
    """

    def sent(self, frame: Mapping[str, Any]) -> None:
        """A frame the client wrote."""

    def received(self, frame: Mapping[str, Any]) -> None:
        """A frame the client read (parsed, before it is acted on)."""

    def acked(self, request_id: Any) -> None:
        """The client answered a server request (an event, a ping) with an empty result."""


class NotSent(Exception):
    """Nothing was written: no socket, or not the expected one (safe to retry)."""


class _Outbox:
    """One socket's writer state (guarded by the link's lock)."""

    __slots__ = ("busy", "frames", "ws")

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self.busy = False  # a thread is writing to ws
        self.frames: List[bytes] = []  # handed to that thread, in order


class Link:
    """Holds the socket the reader attached and writes frames to it, one writer at a time.

    Each attached socket gets a new *generation* number, so a request can be sent only
    on the socket it was registered for, and failed with exactly that socket.

    Args:
        flows: records the requests that concern a call (for call-flow diagrams).
        trace: log every frame on the ``relaysync.trace`` logger, secrets masked.
    """

    def __init__(self, flows: Optional[FlowRecorder] = None, trace: bool = False) -> None:
        self.flows = flows if flows is not None else FlowRecorder()
        #: log every frame on the ``relaysync.trace`` logger (read by the reader too)
        self.trace = trace
        self._lock = threading.Lock()
        self._ws: Optional[websocket.WebSocket] = None
        self._out: Optional[_Outbox] = None  # the writer state of _ws
        self._opening: Optional[Transport] = None
        self._generation = 0
        self._acks: List[bytes] = []  # reader thread only
        #: frame taps; replaced, never changed in place (read without the lock)
        self.taps: Tuple[FrameTap, ...] = ()

    @property
    def generation(self) -> int:
        """The generation of the latest attached socket (an int read: no lock needed)."""
        return self._generation

    def opening(self, sock: Optional[Transport]) -> None:
        """Remember the raw socket being opened, so :meth:`abort` can shut it too."""
        with self._lock:
            self._opening = sock

    def attach(self, ws: websocket.WebSocket) -> int:
        """Make ``ws`` the socket to write to; returns its generation."""
        with self._lock:
            self._generation += 1
            self._ws = ws
            self._out = _Outbox(ws)
            self._opening = None
            self._acks = []
            return self._generation

    def detach(self, ws: Optional[websocket.WebSocket] = None) -> Optional[websocket.WebSocket]:
        """Stop writing to ``ws`` (or to whatever is attached); returns what was detached."""
        with self._lock:
            current = self._ws
            if current is None or (ws is not None and current is not ws):
                return None
            self._ws = None
            self._out = None
            self._acks = []
            return current

    def send(self, frame: Mapping[str, Any], generation: Optional[int] = None) -> None:
        """Write one frame.

        Raises:
            NotSent: no socket, or not the socket of ``generation``.
            RelayConnectionError: the write failed.
        """
        text = encode(frame)
        # Recorded first: the reply can be read before this thread returns from the write.
        entry = self.flows.sent(frame, text)
        for tap in self.taps:
            tap.sent(frame)
        try:
            self._write(text, frame, generation)
        except BaseException:
            if entry is not None:
                self.flows.unsent(frame, entry)
            raise

    def ack(self, request_id: Any) -> None:
        """Queue the empty-result answer to a server request; :meth:`flush` writes it.

        Reader thread only. The frame text is built directly: every event is acked.
        """
        quoted = (
            encode_basestring_ascii(request_id)
            if type(request_id) is str
            else json.dumps(request_id)
        )
        text = '{"jsonrpc":"2.0","id":' + quoted + ',"result":{}}'
        for tap in self.taps:
            tap.acked(request_id)
        if self.trace:  # the frame, not its text: the trace would parse that again
            trace_frame("send", {"jsonrpc": "2.0", "id": request_id, "result": {}})
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("send %s", text)
        self._acks.append(text.encode())

    def flush(self) -> None:
        """Write the queued acks in one socket write, ignoring failures (reader thread)."""
        if not self._acks:
            return
        acks, self._acks = self._acks, []
        try:
            self._write_bytes(encode_texts(acks), None)
        except (NotSent, RelayConnectionError) as exc:
            logger.debug("relaysync: could not send %d repl(ies): %r", len(acks), exc)

    def pong(self, payload: bytes) -> None:
        """Answer a WebSocket ping, ignoring failures (reader thread)."""
        with self._lock:
            ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.pong(payload)

    def close_reply(self, ws: websocket.WebSocket) -> None:
        """Answer the peer's close frame, best effort (reader thread)."""
        with contextlib.suppress(Exception):
            ws.send_close(websocket.STATUS_NORMAL)

    def _write(
        self, text: str, frame: Optional[Mapping[str, Any]], generation: Optional[int]
    ) -> None:
        """Write ``text`` as one frame (``frame`` is its source, for the DEBUG log)."""
        if self.trace:
            trace_frame("send", frame if frame is not None else text)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("send %s", MaskedFrame(frame) if frame is not None else text)
        self._write_bytes(encode_text(text.encode()), generation)

    def _write_bytes(self, data: bytes, generation: Optional[int]) -> None:
        """Write encoded frames, or hand them to the thread writing to the socket now.

        Frames handed over count as written: if that thread's write fails, the socket
        is shut, and the requests they carry fail with it (as any request written on a
        socket that dies).

        Raises:
            NotSent: no socket, or not the socket of ``generation``.
            RelayConnectionError: the write failed.
        """
        with self._lock:
            out = self._out
            if out is None or (generation is not None and generation != self._generation):
                raise NotSent()
            if out.busy:
                out.frames.append(data)
                return
            sock = out.ws.sock
            if sock is None:
                raise RelayConnectionError(-1, "send failed: the socket is closed")
            out.busy = True
        try:
            _send(out.ws, sock, data)
        except BaseException:
            if self._stop_writing(out):
                shutdown(out.ws)  # frames handed over count as written: fail them
            raise
        while True:
            with self._lock:
                if not out.frames or out is not self._out:
                    out.busy = False
                    out.frames = []  # a detached socket's: its requests are failed
                    return
                batch, out.frames = out.frames, []
            try:
                _send(out.ws, sock, b"".join(batch))
            except BaseException as exc:
                self._stop_writing(out)
                shutdown(out.ws)  # the frames' requests fail with the socket
                if not isinstance(exc, RelayConnectionError):
                    raise
                logger.debug("relaysync: could not send %d frame(s): %r", len(batch), exc)
                return

    def _stop_writing(self, out: _Outbox) -> bool:
        """End a write turn after a failure; returns whether frames were handed over."""
        with self._lock:
            out.busy = False
            orphans, out.frames = out.frames, []
        return bool(orphans)

    def send_quiet(self, frame: Mapping[str, Any]) -> None:
        """Write a frame, ignoring failures (replies; the reader notices broken sockets)."""
        try:
            self.send(frame)
        except (NotSent, RelayConnectionError) as exc:
            logger.debug("relaysync: could not send reply: %r", exc)

    def abort(self, graceful: bool) -> None:
        """Detach and shut the socket (and one being opened) so a blocked reader wakes."""
        with self._lock:
            opening, self._opening = self._opening, None
        if opening is not None:
            with contextlib.suppress(OSError):
                opening.shutdown(socket.SHUT_RDWR)
        ws = self.detach()
        if ws is None:
            return
        if graceful:
            with contextlib.suppress(Exception):  # best effort; it may already be gone
                ws.send_close(websocket.STATUS_NORMAL)
        shutdown(ws)


def _send(ws: websocket.WebSocket, sock: Transport, data: bytes) -> None:
    """Write ``data`` on ``ws``'s socket.

    Raises:
        RelayConnectionError: the write failed.
    """
    try:
        with ws.lock:  # the same lock websocket-client's own writes take
            sock.sendall(data)
    except OSError as exc:
        raise RelayConnectionError(-1, f"send failed: {exc}") from exc


def shutdown(ws: websocket.WebSocket) -> None:
    """Close a socket, waking any thread blocked on it."""
    sock = ws.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        ws.shutdown()  # type: ignore[no-untyped-call]
