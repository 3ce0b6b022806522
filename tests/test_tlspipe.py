"""The client's TLS connection (``TlsPipe``): certificate checks, writes larger than the
socket buffer, a peer that stops reading, the end of the stream, and one thread
reading while others write."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Callable, List, Tuple

import pytest

from relaysync.wire.framing import FrameReader
from relaysync.wire.tlspipe import TlsPipe

from .helpers import tls_contexts

MiB = 1024 * 1024


def serve(
    server_end: socket.socket, server_ctx: ssl.SSLContext, body: Callable[[ssl.SSLSocket], None]
) -> Tuple[threading.Thread, List[BaseException]]:
    """Run ``body`` on the TLS server end in a thread; failures are collected."""
    failures: List[BaseException] = []

    def run() -> None:
        try:
            with server_ctx.wrap_socket(server_end, server_side=True) as tls:
                body(tls)
        except (OSError, ssl.SSLError) as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def connected(
    pair: Tuple[socket.socket, socket.socket],
    body: Callable[[ssl.SSLSocket], None],
    timeout: float = 30.0,
) -> Tuple[TlsPipe, threading.Thread, List[BaseException]]:
    """A pipe on the client end of ``pair``, whose server end runs ``body`` over TLS."""
    client_end, server_end = pair
    server_ctx, client_ctx = tls_contexts()
    thread, failures = serve(server_end, server_ctx, body)
    return TlsPipe(client_end, client_ctx, "localhost", timeout), thread, failures


@pytest.mark.timeout(60)
def test_a_write_larger_than_the_socket_buffer_arrives_whole(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    data = bytes(range(256)) * (16 * 1024)  # 4 MiB
    received = bytearray()

    def slow_reader(tls: ssl.SSLSocket) -> None:
        while len(received) < len(data):
            chunk = tls.recv(4096)
            if not chunk:
                return
            received.extend(chunk)  # 4 MiB is far more than the socket buffers hold

    pipe, thread, failures = connected(pair, slow_reader)
    pipe.sendall(data)
    thread.join(30.0)
    assert not failures
    assert bytes(received) == data


@pytest.mark.timeout(60)
def test_a_peer_that_stops_reading_makes_the_write_time_out(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    done = threading.Event()

    def hold(tls: ssl.SSLSocket) -> None:
        done.wait(30.0)  # reads nothing meanwhile

    pipe, thread, _ = connected(pair, hold)
    pipe.settimeout(1.0)
    began = time.monotonic()
    with pytest.raises(socket.timeout, match="TLS write timed out"):
        for _ in range(1024):  # far more than any socket buffer holds
            pipe.sendall(b"x" * MiB)
    assert time.monotonic() - began < 20.0
    done.set()
    pipe.close()
    thread.join(30.0)


def test_a_certificate_for_another_name_is_refused(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    client_end, server_end = pair
    server_ctx, client_ctx = tls_contexts("other.example")
    thread, _ = serve(server_end, server_ctx, lambda tls: None)
    with pytest.raises(ssl.SSLCertVerificationError, match="localhost"):
        TlsPipe(client_end, client_ctx, "localhost", 10.0)
    client_end.close()
    thread.join(30.0)


def test_a_server_closing_during_the_handshake_is_an_error(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    client_end, server_end = pair
    _, client_ctx = tls_contexts()
    server_end.close()
    with pytest.raises(OSError):
        TlsPipe(client_end, client_ctx, "localhost", 10.0)


def test_the_end_of_the_stream_and_a_silent_peer(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    close = threading.Event()

    def greet_then_close(tls: ssl.SSLSocket) -> None:
        close.wait(30.0)
        tls.sendall(b"bye")

    pipe, thread, failures = connected(pair, greet_then_close, 10.0)
    pipe.settimeout(0.2)
    with pytest.raises(socket.timeout):
        pipe.recv(10)  # nothing sent yet
    reader = FrameReader(pipe, MiB)
    assert reader.fill(0.05) is None
    close.set()
    thread.join(30.0)
    assert not failures
    pipe.settimeout(10.0)
    assert pipe.recv(10) == b"bye"
    assert reader.fill(10.0) is False  # the server closed: the end of the stream
    assert pipe.recv(10) == b""


@pytest.mark.timeout(60)
def test_one_thread_reads_while_others_write(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    # The server echoes every byte; four writers send numbered lines while the reader
    # takes the echo: every line comes back whole, none twice.

    def echo(tls: ssl.SSLSocket) -> None:
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                return
            tls.sendall(chunk)

    pipe, thread, failures = connected(pair, echo)
    lines = [f"{writer}:{index}\n".encode() for writer in range(4) for index in range(2000)]
    expected = sum(len(line) for line in lines)
    echoed = bytearray()

    def read() -> None:
        buffer = bytearray(65536)
        deadline = time.monotonic() + 30.0
        while len(echoed) < expected and time.monotonic() < deadline:
            got = pipe.read_ready(buffer, 1.0)  # None: nothing whole yet
            if got == 0:
                return
            if got:
                echoed.extend(buffer[:got])

    def write(writer: int) -> None:
        for index in range(2000):
            pipe.sendall(f"{writer}:{index}\n".encode())

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    reader.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(30.0)
    reader.join(30.0)
    pipe.shutdown(socket.SHUT_RDWR)
    pipe.close()
    thread.join(30.0)
    assert not failures
    assert sorted(bytes(echoed).splitlines(keepends=True)) == sorted(lines)


@pytest.mark.timeout(60)
def test_the_rest_of_a_record_is_read_without_waiting_and_a_burst_in_one_read(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    # One 12,000-byte record into a 1,000-byte buffer: the eleven reads after the first
    # find the rest already decrypted (no wait, so wait=0 still returns data). Then 50
    # small records sent back to back arrive together and one read takes them all.
    big = bytes(range(200)) * 60
    small = [f"record {index:02d};".encode() for index in range(50)]
    second = threading.Event()

    def send(tls: ssl.SSLSocket) -> None:
        tls.sendall(big)
        second.wait(30.0)
        for record in small:
            tls.sendall(record)

    pipe, thread, failures = connected(pair, send)
    buffer = bytearray(1000)
    first = None
    while first is None:  # None: part of the record has come, not all of it
        first = pipe.read_ready(buffer, 30.0)
    assert first == 1000
    got = bytearray(buffer[:first])
    while len(got) < len(big):
        count = pipe.read_ready(buffer, 0.0)
        assert count, f"the rest of the record waited ({len(got)} bytes read)"
        got.extend(buffer[:count])
    assert bytes(got) == big
    second.set()
    thread.join(30.0)  # everything sent and the socket closed, before the next read
    assert not failures
    wide = bytearray(65536)
    count = pipe.read_ready(wide, 30.0)
    assert count and bytes(wide[:count]) == b"".join(small)
    assert pipe.read_ready(wide, 30.0) == 0  # then the end of the stream
