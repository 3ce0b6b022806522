"""WebSocket framing on the connected socket: a buffered reader and a frame encoder.

websocket-client reads each frame with three ``recv`` calls (header, length, payload)
and holds a whole frame before anything can look at its size. :class:`FrameReader`
reads whatever the socket has into one buffer (over TLS through a
:class:`~relaysync.wire.tlspipe.TlsPipe`, which decrypts every record of one read) and cuts
frames out of it, so a burst of events costs one ``recv``; a frame whose *header*
announces more than the limit is refused there, and its payload is read and thrown
away chunk by chunk, never held.
:func:`encode_text` builds a masked client text frame, so that several frames (the acks
of a burst) can go out in one socket write.

The opening handshake stays with websocket-client; these take over the socket after it.
Reader thread only, except :func:`encode_text` (pure).
"""

from __future__ import annotations

import select
import sys
from typing import List, Optional, Sequence, Tuple

from .._entropy import keys
from .._log import LimitedLog
from .tlspipe import TlsPipe, Transport

OPCODE_CONTINUATION = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA
#: What :meth:`FrameReader.next` returns for a message refused for its size.
OPCODE_REFUSED = -1

READ_CHUNK = 256 * 1024
DRAIN_BYTES = READ_CHUNK  # the most one fill takes beyond its first TLS record
_COMPACT_AT = 64 * 1024  # consumed bytes dropped from the buffer once this many, or all
_ORDER = sys.byteorder


class FrameError(Exception):
    """The peer broke the framing (a protocol error: the socket cannot be trusted)."""


def _mask(key: bytes, data: bytes) -> bytes:
    """XOR ``data`` with the repeated 4-byte ``key`` (one big-int operation)."""
    size = len(data)
    if not size:
        return b""
    repeated = key * (size // 4) + key[: size % 4]
    return (int.from_bytes(data, _ORDER) ^ int.from_bytes(repeated, _ORDER)).to_bytes(size, _ORDER)


def encode_text(payload: bytes, key: Optional[bytes] = None) -> bytes:
    """A masked, final text frame carrying ``payload`` (a client must mask every frame).

    Args:
        payload: the UTF-8 text.
        key: the 4-byte masking key; a fresh random one when ``None``.

    Returns:
        The frame's bytes.
    """
    size = len(payload)
    if size < 126:
        header = bytes((0x81, 0x80 | size))
    elif size < 65536:
        header = bytes((0x81, 0xFE)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 0xFF)) + size.to_bytes(8, "big")
    key = key if key is not None else keys.take()
    return header + key + _mask(key, payload)


def encode_texts(payloads: Sequence[bytes]) -> bytes:
    """Several masked text frames joined into one buffer (keys taken in one go)."""
    fresh = keys.take(len(payloads))
    return b"".join(encode_text(p, fresh[4 * i : 4 * i + 4]) for i, p in enumerate(payloads))


class FrameReader:
    """Cuts WebSocket messages out of one receive buffer.

    Args:
        sock: the connected (possibly TLS) socket, after the opening handshake.
        limit: the largest message accepted, in bytes; larger ones are refused from
            their header and their payload discarded as it arrives.
        log: where refusals are reported, rate-limited.
    """

    def __init__(self, sock: Transport, limit: int, log: Optional[LimitedLog] = None) -> None:
        self.sock = sock
        self._tls: Optional[TlsPipe] = sock if isinstance(sock, TlsPipe) else None
        self.limit = limit
        self._log = log or LimitedLog()
        self._buf = bytearray()
        self._pos = 0
        # received into a kept buffer: a fresh 256 KiB bytes per recv costs an mmap,
        # an mremap and an munmap (three system calls) however little arrives
        self._chunk = memoryview(bytearray(READ_CHUNK))
        self._skip = 0  # payload bytes of a refused frame still to discard
        self._parts: List[bytes] = []
        self._parts_size = 0
        self._parts_opcode: Optional[int] = None
        self._dropping = False  # the rest of a fragmented message that grew too big

    def fill(self, wait: float) -> Optional[bool]:
        """Wait up to ``wait`` seconds for bytes and add what has come to the buffer.

        One read takes what the kernel holds: over TLS every record in it, decrypted
        (as much as one chunk holds; :meth:`drain` takes the rest).

        Returns:
            None if nothing arrived in time, False if the peer closed the socket, True
            if bytes were read.

        Raises:
            OSError: the socket failed (``ssl.SSLError`` for a broken TLS record).
        """
        tls = self._tls
        if tls is not None:
            size = tls.read_ready(self._chunk, wait)
            if size is None:
                return None
        else:
            readable, _, _ = select.select([self.sock], [], [], wait)
            if not readable:
                return None
            size = self.sock.recv_into(self._chunk)
        if not size:
            return False
        self._add(self._chunk[:size])
        return True

    def drain(self) -> None:
        """Take what has been received but not yet decrypted (a burst larger than one
        chunk), without a system call, up to :data:`DRAIN_BYTES`.

        A burst is then cut, acked and acted on as one batch (one write of acks, one
        worker wake-up). A plain socket's one read already took everything.
        """
        tls = self._tls
        if tls is None:
            return
        taken = 0
        while taken < DRAIN_BYTES:
            size = tls.read_buffered(self._chunk)
            if not size:
                return
            taken += size
            self._add(self._chunk[:size])

    @property
    def buffered(self) -> bool:
        """True when the buffer holds bytes not yet cut into frames."""
        return self._pos < len(self._buf)

    def _add(self, data: memoryview) -> None:
        """Append received bytes to the buffer (minus those of a refused frame)."""
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            if dropped == len(data):
                return
            data = data[dropped:]
        if self._pos >= _COMPACT_AT or self._pos == len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def next(self) -> Optional[Tuple[int, bytes]]:
        """The next whole message or control frame in the buffer, else ``None``.

        Returns:
            ``(opcode, payload)``; ``(OPCODE_REFUSED, b"")`` once for a message refused
            for its size.

        Raises:
            FrameError: a reserved opcode, a fragmented or oversized control frame, or
                a continuation with no message to continue.
        """
        while True:
            frame = self._cut()
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode == OPCODE_REFUSED:
                return frame[1:]
            if opcode >= OPCODE_CLOSE:
                return opcode, payload
            message = self._assemble(fin, opcode, payload)
            if message is not None:
                return message

    def _assemble(self, fin: bool, opcode: int, payload: bytes) -> Optional[Tuple[int, bytes]]:
        """Join fragments; return a whole message, or ``None`` while it is incomplete."""
        if opcode != OPCODE_CONTINUATION:
            if self._parts_opcode is not None or self._dropping:
                raise FrameError("a new message started inside a fragmented one")
            if fin:
                return opcode, payload
            self._parts_opcode, self._parts, self._parts_size = opcode, [payload], len(payload)
            return None
        if self._dropping:  # a refused message: _cut skipped this fragment's payload
            self._dropping = not fin
            return None
        if self._parts_opcode is None:
            raise FrameError("a continuation frame with no message to continue")
        self._parts.append(payload)
        self._parts_size += len(payload)
        if not fin:
            return None
        message = self._parts_opcode, b"".join(self._parts)
        self._parts, self._parts_opcode, self._parts_size = [], None, 0
        return message

    def _cut(self) -> Optional[Tuple[bool, int, bytes]]:
        """Take one frame off the buffer: ``(fin, opcode, payload)``, or ``None``."""
        buf, pos = self._buf, self._pos
        avail = len(buf) - pos
        if self._skip or avail < 2:
            return None
        first, second = buf[pos], buf[pos + 1]
        if first & 0x70:
            raise FrameError("reserved bits set (no extension was negotiated)")
        opcode = first & 0x0F
        if opcode not in (0, 1, 2, 8, 9, 10):
            raise FrameError(f"reserved opcode {opcode:#x}")
        size = second & 0x7F
        head = 2
        if size == 126:
            if avail < 4:
                return None
            size, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
        elif size == 127:
            if avail < 10:
                return None
            size, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
        masked = second & 0x80
        if masked:
            head += 4
        if opcode >= OPCODE_CLOSE and (size > 125 or not first & 0x80):
            raise FrameError("a control frame that is fragmented or over 125 bytes")
        growing = opcode == OPCODE_CONTINUATION and not self._dropping
        if size > self.limit or (growing and self._parts_size + size > self.limit):
            if avail < head:
                return None
            return self._refuse_frame(first, head, size, opcode)
        if self._dropping and opcode == OPCODE_CONTINUATION:
            if avail < head:
                return None
            self._pos = pos + head
            self._skip_payload(size)
            return bool(first & 0x80), opcode, b""
        end = pos + head + size
        if len(buf) < end:
            return None
        payload = bytes(buf[pos + head : end])
        if masked:  # servers must not mask, but the data is still readable
            payload = _mask(bytes(buf[pos + head - 4 : pos + head]), payload)
        self._pos = end
        return bool(first & 0x80), opcode, payload

    def _refuse_frame(
        self, first: int, head: int, size: int, opcode: int
    ) -> Tuple[bool, int, bytes]:
        """Refuse a frame from its header: drop what is buffered of it, skip the rest."""
        self._pos += head
        self._skip_payload(size)
        fin = bool(first & 0x80)
        if opcode == OPCODE_CONTINUATION or not fin:
            # the message it belongs to (or starts) is refused whole
            self._parts, self._parts_opcode, self._parts_size = [], None, 0
            self._dropping = not fin
        self._refuse(size)
        return fin, OPCODE_REFUSED, b""

    def _skip_payload(self, size: int) -> None:
        have = min(size, len(self._buf) - self._pos)
        self._pos += have
        self._skip = size - have

    def _refuse(self, size: int) -> None:
        self._log.warning(
            "oversized-frame",
            "relaysync: refused a %d-byte frame from its header (limit %d); "
            "its payload is discarded unread",
            size,
            self.limit,
        )
