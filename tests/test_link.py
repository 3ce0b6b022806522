"""The link's writes: one thread writes at a time, and a thread that has a frame to send
meanwhile hands it to that writer instead of waiting for its turn."""

from __future__ import annotations

import threading
from typing import List, Optional, Tuple

import pytest
import websocket

from relaysync.errors import RelayConnectionError
from relaysync.wire.outbound import Link

pytestmark = pytest.mark.timeout(30)


class FakeSocket:
    """Records what is written; the first write can be held, a write can fail."""

    def __init__(self, hold_first: bool = False, fail_on: Optional[int] = None) -> None:
        self.writes: List[bytes] = []
        self.shut = False
        self.writing = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self._fail_on = fail_on
        self._calls = 0

    def sendall(self, data: bytes) -> None:
        self._calls += 1
        if self._calls == 1:
            self.writing.set()
            assert self.release.wait(10)
        if self._calls == self._fail_on:
            raise ConnectionResetError("reset by peer")
        self.writes.append(bytes(data))

    def shutdown(self, how: int) -> None:
        self.shut = True

    def close(self) -> None:
        self.shut = True


def attached(sock: FakeSocket) -> Tuple[Link, int]:
    ws = websocket.WebSocket()
    ws.sock = sock  # type: ignore[assignment]
    link = Link()
    return link, link.attach(ws)


def write_in_thread(link: Link, data: bytes, generation: int) -> threading.Thread:
    thread = threading.Thread(target=link._write_bytes, args=(data, generation))
    thread.start()
    return thread


def test_frames_sent_during_a_write_go_out_together_after_it_in_order() -> None:
    sock = FakeSocket(hold_first=True)
    link, generation = attached(sock)
    first = write_in_thread(link, b"first", generation)
    assert sock.writing.wait(10)
    for index in range(5):  # the socket is busy: each returns at once
        link._write_bytes(b"next-%d" % index, generation)
    assert sock.writes == []
    sock.release.set()
    first.join(10)
    assert sock.writes == [b"first", b"next-0next-1next-2next-3next-4"]
    link._write_bytes(b"later", generation)  # the writer stopped: written directly
    assert sock.writes[-1] == b"later"
    assert not sock.shut


def test_a_failed_write_of_handed_over_frames_shuts_the_socket() -> None:
    sock = FakeSocket(hold_first=True, fail_on=2)
    link, generation = attached(sock)
    first = write_in_thread(link, b"first", generation)
    assert sock.writing.wait(10)
    link._write_bytes(b"handed", generation)
    sock.release.set()
    first.join(10)  # its own frame went: no error for it
    assert sock.writes == [b"first"]
    assert sock.shut  # the handed-over frame's request fails with the socket


def test_the_writer_s_own_failure_raises_and_fails_what_was_handed_over() -> None:
    sock = FakeSocket(hold_first=True, fail_on=1)
    link, generation = attached(sock)
    errors: List[BaseException] = []

    def write() -> None:
        try:
            link._write_bytes(b"first", generation)
        except RelayConnectionError as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    assert sock.writing.wait(10)
    link._write_bytes(b"handed", generation)
    sock.release.set()
    thread.join(10)
    assert len(errors) == 1 and "reset by peer" in str(errors[0])
    assert sock.writes == [] and sock.shut


def test_frames_handed_over_for_a_detached_socket_never_reach_the_next_one() -> None:
    sock = FakeSocket(hold_first=True)
    link, generation = attached(sock)
    first = write_in_thread(link, b"first", generation)
    assert sock.writing.wait(10)
    link._write_bytes(b"for-the-old-socket", generation)
    link.detach()
    fresh = FakeSocket()
    ws = websocket.WebSocket()
    ws.sock = fresh  # type: ignore[assignment]
    new_generation = link.attach(ws)
    link._write_bytes(b"for-the-new-socket", new_generation)
    sock.release.set()
    first.join(10)
    assert sock.writes == [b"first"]
    assert fresh.writes == [b"for-the-new-socket"]
