"""The buffered frame reader: frames cut from one buffer, oversized frames refused from
their header (memory bounded), fragments, control frames, and acks in one write.

The huge-frame tests feed the reader over a real socket pair: no RELAY server sends a
frame of hundreds of megabytes, and the point is what the client holds meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
import tracemalloc
from typing import Iterator, List, Optional, Tuple

import pytest
import websocket

from relaysync import RelayClient, RelayTimeoutError
from relaysync.rpc import PendingMap, PendingRequest
from relaysync.testing import RelaySimulator
from relaysync.wire.framing import (
    OPCODE_BINARY,
    OPCODE_CONTINUATION,
    OPCODE_PING,
    OPCODE_REFUSED,
    OPCODE_TEXT,
    FrameError,
    FrameReader,
    encode_text,
    encode_texts,
)
from relaysync.wire.inbound import FrameHandler
from relaysync.wire.outbound import Link
from relaysync.wire.tlspipe import TlsPipe

from .helpers import tls_contexts

MiB = 1024 * 1024


def header(opcode: int, size: int, fin: bool = True) -> bytes:
    """An unmasked (server-side) frame header announcing ``size`` payload bytes."""
    first = (0x80 if fin else 0) | opcode
    if size < 126:
        return bytes((first, size))
    if size < 65536:
        return bytes((first, 126)) + size.to_bytes(2, "big")
    return bytes((first, 127)) + size.to_bytes(8, "big")


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A whole unmasked frame."""
    return header(opcode, len(payload), fin) + payload


def read_all(reader: FrameReader, count: int, deadline: float = 10.0) -> List[Tuple[int, bytes]]:
    """Read until ``count`` messages (or refusals) came out of ``reader``."""
    out: List[Tuple[int, bytes]] = []
    while len(out) < count:
        message = reader.next()
        if message is not None:
            out.append(message)
            continue
        if reader.fill(deadline) is not True:
            raise AssertionError(f"socket idle or closed after {len(out)} messages")
    return out


@pytest.mark.timeout(120)
def test_a_huge_frame_is_refused_from_its_header_and_memory_stays_flat(
    pair: Tuple[socket.socket, socket.socket], caplog: pytest.LogCaptureFixture
) -> None:
    client_end, server_end = pair
    huge = 200 * MiB
    chunk = b"\0" * MiB

    def serve() -> None:
        server_end.sendall(header(OPCODE_TEXT, huge))
        for _ in range(huge // MiB):
            server_end.sendall(chunk)
        server_end.sendall(frame(OPCODE_TEXT, b'{"jsonrpc":"2.0","id":"after","result":{}}'))

    ws = websocket.WebSocket()
    ws.sock = client_end  # the reader's own transport; nothing else touches it
    link = Link()
    link.attach(ws)
    pending = PendingMap()
    after = PendingRequest("after", "signalwire.ping", 1)
    pending.add(after)
    handler = FrameHandler(
        link=link,
        pending=pending,
        on_event=lambda payload, event_id: None,
        on_auth_state=lambda blob: None,
        on_disconnect=lambda restart: None,
    )
    caplog.set_level(logging.WARNING, logger="relaysync")
    writer = threading.Thread(target=serve, daemon=True)
    tracemalloc.start()
    try:
        writer.start()
        reads = 0
        while reads < 100_000:
            reads += 1
            handler.read(ws, 10.0)
            try:
                after.wait(0)
                break
            except RelayTimeoutError:
                continue
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    writer.join(30.0)
    assert after.wait(0) == {}
    # websocket-client held the whole 200 MiB frame before its size was checked
    assert peak < 4 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"
    assert f"refused a {huge}-byte frame from its header" in caplog.text


def test_frames_of_a_burst_come_from_one_buffer(pair: Tuple[socket.socket, socket.socket]) -> None:
    client_end, server_end = pair
    payloads = [json.dumps({"n": i}).encode() for i in range(50)]
    big = b"x" * 70_000  # the 8-byte length form
    server_end.sendall(
        b"".join(frame(OPCODE_TEXT, p) for p in payloads) + frame(OPCODE_BINARY, big)
    )
    reader = FrameReader(client_end, MiB)
    assert read_all(reader, 51) == [(OPCODE_TEXT, p) for p in payloads] + [(OPCODE_BINARY, big)]
    assert reader.next() is None


def test_a_stream_that_never_pauses_keeps_the_buffer_small(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    """Every read ends in the middle of a frame, so the buffer is never empty: it is still
    compacted as it goes, not left to grow (it reached 1 MiB before it was)."""
    client_end, server_end = pair
    payload = b"y" * 1000
    stream = frame(OPCODE_TEXT, payload) * 3_000  # about 3 MB
    piece = 10_007  # not a multiple of the 1,006-byte frame
    reader = FrameReader(client_end, MiB)
    count = 0
    tracemalloc.start()
    try:
        for start in range(0, len(stream), piece):
            server_end.sendall(stream[start : start + piece])
            assert reader.fill(10.0) is True
            while (message := reader.next()) is not None:
                assert message == (OPCODE_TEXT, payload)
                count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3_000
    assert peak < 512 * 1024, f"peak traced memory {peak / 1024:.0f} KiB"


@contextlib.contextmanager
def tls_records(
    pair: Tuple[socket.socket, socket.socket], records: List[bytes]
) -> Iterator[TlsPipe]:
    """The client end of ``pair`` over TLS, once the server wrote each of ``records``
    as a TLS record of its own."""
    server_ctx, client_ctx = tls_contexts()
    client_end, server_end = pair
    server_end.settimeout(10.0)
    written = threading.Event()
    failures: List[BaseException] = []

    def serve() -> None:
        try:
            with server_ctx.wrap_socket(server_end, server_side=True) as tls:
                for record in records:
                    tls.sendall(record)
                written.set()
                while tls.recv(65536):  # take the client's writes until it closes
                    pass
        except (OSError, ssl.SSLError) as exc:
            if not written.is_set():
                failures.append(exc)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    tls_client = TlsPipe(client_end, client_ctx, "localhost", 10.0)
    try:
        assert written.wait(10), failures
        yield tls_client
    finally:
        tls_client.close()
        server.join(10)
    assert not failures


@pytest.mark.timeout(30)
def test_every_tls_record_already_waiting_is_taken_by_one_fill(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    # The server writes each event as a record of its own; one fill reads them all and
    # decrypts every record (an SSLSocket would hand out one record per read).
    records = [frame(OPCODE_TEXT, b'{"n":%d}' % index) for index in range(50)]
    with tls_records(pair, records) as tls_client:
        reader = FrameReader(tls_client, 1 * MiB)
        assert reader.fill(5.0) is True
        got = []
        while (item := reader.next()) is not None:
            got.append(item)
        assert [json.loads(data)["n"] for _, data in got] == list(range(50))


@pytest.mark.timeout(30)
def test_a_burst_with_a_reply_and_events_is_one_batch_acked_in_one_write(
    pair: Tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reply wakes its caller and the 20 events are acked in one write, all from
    # one read of the socket.
    event = (
        '{"jsonrpc":"2.0","id":"e%d","method":"signalwire.event","params":'
        '{"event_type":"calling.call.state","params":{"call_id":"c1","call_state":"ringing"}}}'
    )
    records = [frame(OPCODE_TEXT, b'{"jsonrpc":"2.0","id":"r1","result":{"code":"200"}}')]
    records += [frame(OPCODE_TEXT, (event % index).encode()) for index in range(20)]
    with tls_records(pair, records) as tls_client:
        ws = websocket.WebSocket()
        ws.sock = tls_client  # type: ignore[assignment]
        link = Link()
        link.attach(ws)
        writes: List[bytes] = []
        write = link._write_bytes

        def spy(data: bytes, generation: Optional[int]) -> None:
            writes.append(data)
            write(data, generation)

        monkeypatch.setattr(link, "_write_bytes", spy)
        pending = PendingMap()
        reply = PendingRequest("r1", "signalwire.ping", 1)
        pending.add(reply)
        events: List[str] = []
        handler = FrameHandler(
            link=link,
            pending=pending,
            on_event=lambda payload, event_id: events.append(str(event_id)),
            on_auth_state=lambda blob: None,
            on_disconnect=lambda restart: None,
        )
        assert handler.read(ws, 5.0) is True
        assert reply.wait(0) == {"code": "200"}
        assert events == [f"e{index}" for index in range(20)]
        assert len(writes) == 1
        acked = [json.loads(text)["id"] for text in unmask_all(writes[0])]
        assert acked == events


def unmask_all(data: bytes) -> List[str]:
    """The payloads of the masked client frames joined in ``data``."""
    out: List[str] = []
    pos = 0
    while pos < len(data):
        size = data[pos + 1] & 0x7F
        head = 2
        if size == 126:
            size, head = int.from_bytes(data[pos + 2 : pos + 4], "big"), 4
        key = data[pos + head : pos + head + 4]
        body = data[pos + head + 4 : pos + head + 4 + size]
        out.append(bytes(b ^ key[i % 4] for i, b in enumerate(body)).decode())
        pos += head + 4 + size
    return out


def test_a_frame_split_anywhere_is_put_back_together(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    client_end, server_end = pair
    data = frame(OPCODE_TEXT, b"y" * 300)
    reader = FrameReader(client_end, MiB)
    for index in range(len(data)):
        server_end.sendall(data[index : index + 1])
        assert reader.fill(5.0) is True
        message = reader.next()
        assert (message is None) == (index < len(data) - 1)
    assert message == (OPCODE_TEXT, b"y" * 300)


def test_fragments_are_joined_around_a_control_frame(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    client_end, server_end = pair
    server_end.sendall(
        frame(OPCODE_TEXT, b'{"a":', fin=False)
        + frame(OPCODE_PING, b"hi")
        + frame(OPCODE_CONTINUATION, b'"b"}')
    )
    reader = FrameReader(client_end, MiB)
    assert read_all(reader, 2) == [(OPCODE_PING, b"hi"), (OPCODE_TEXT, b'{"a":"b"}')]


def test_a_fragmented_message_over_the_limit_is_refused_whole(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    client_end, server_end = pair
    part = b"z" * 600
    server_end.sendall(
        frame(OPCODE_TEXT, part, fin=False)
        + frame(OPCODE_CONTINUATION, part, fin=False)  # 1,200 > 1,000: refused here
        + frame(OPCODE_CONTINUATION, part)
        + frame(OPCODE_TEXT, b"{}")
    )
    reader = FrameReader(client_end, 1000)
    assert read_all(reader, 2) == [(OPCODE_REFUSED, b""), (OPCODE_TEXT, b"{}")]


@pytest.mark.parametrize(
    "data",
    [
        bytes((0x83, 0)),  # reserved opcode
        bytes((0xC1, 0)),  # RSV1 without an extension
        frame(OPCODE_CONTINUATION, b"x"),  # nothing to continue
        frame(OPCODE_PING, b"p" * 126),  # control frame over 125 bytes
    ],
    ids=["reserved-opcode", "rsv1", "stray-continuation", "long-ping"],
)
def test_broken_framing_is_an_error(pair: Tuple[socket.socket, socket.socket], data: bytes) -> None:
    client_end, server_end = pair
    server_end.sendall(data)
    reader = FrameReader(client_end, MiB)
    assert reader.fill(5.0) is True
    with pytest.raises(FrameError):
        reader.next()


def test_encoded_frames_are_masked_and_decode_back() -> None:
    payload = b'{"jsonrpc":"2.0","id":"1","result":{}}'
    data = encode_text(payload, key=b"\x01\x02\x03\x04")
    assert data[:2] == bytes((0x81, 0x80 | len(payload)))
    assert data[2:6] == b"\x01\x02\x03\x04"
    unmasked = bytes(b ^ data[2 + i % 4] for i, b in enumerate(data[6:]))
    assert unmasked == payload
    joined = encode_texts([payload, b"x" * 200])
    assert len(joined) == len(data) + 2 + 2 + 4 + 200


def test_a_frame_over_the_limit_from_the_simulator_is_refused_and_the_client_goes_on(
    sim: RelaySimulator,
    client: RelayClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client._connection._frames._reader, "limit", 64 * 1024)
    caplog.set_level(logging.WARNING, logger="relaysync")
    sim.push_frame("x" * 100_000)
    assert client.execute("signalwire.ping", {}) is not None
    assert "refused a 100000-byte frame from its header" in caplog.text
