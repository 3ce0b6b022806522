"""TLS over the TCP socket through memory BIOs, so that one read takes every record.

An :class:`ssl.SSLSocket` hands out one TLS record per read, and a socket with a
timeout polls before every read and write: a burst of events sent one record each then
costs a wait, a poll and one or two reads per event, and every request costs a poll
before its write. :class:`TlsPipe` keeps the TCP socket non-blocking and the TLS state
in an :class:`ssl.SSLObject`: one ``recv`` takes whatever the kernel holds and every
record in it is decrypted from memory, and a write is one ``send``.

It looks enough like a socket for websocket-client's opening handshake (``send``,
``recv``, ``settimeout``/``gettimeout``, ``fileno``, ``shutdown``, ``close``), whose
calls block within the timeout as a socket's would. The reader thread uses
:meth:`TlsPipe.read_ready`. Certificate and host name checks are the context's, as
with ``wrap_socket``.

Thread-safe: the reader decrypts while other threads encrypt and write; the
``SSLObject`` is only touched under one lock, and writes (with any bytes reading made
TLS owe the peer) go out in order under a second one.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from typing import Optional, Union

READ_SIZE = 256 * 1024
Buffer = Union[bytearray, memoryview]


class TlsPipe:
    """A TLS client connection on ``sock``, set up (handshake done) within ``timeout``.

    Args:
        sock: the connected TCP socket (made non-blocking here; the pipe owns it).
        context: the client context: its verification settings apply.
        server_hostname: the name the certificate must be valid for.
        timeout: seconds for the handshake, then for each blocking read or write until
            :meth:`settimeout` changes it (``None``: no limit).

    Raises:
        ssl.SSLError: the handshake failed (``ssl.SSLCertVerificationError`` for a
            certificate that is not trusted or not valid for the name).
        OSError: the socket failed, or the peer closed it during the handshake
            (``socket.timeout`` when the handshake took too long).
    """

    def __init__(
        self,
        sock: socket.socket,
        context: ssl.SSLContext,
        server_hostname: str,
        timeout: Optional[float],
    ) -> None:
        self._raw = sock
        self._timeout = timeout
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming, self._outgoing, server_hostname=server_hostname
        )
        self._lock = threading.Lock()  # the SSLObject and its BIOs
        self._write_lock = threading.Lock()  # the order of bytes on the socket
        self._eof = False
        # received into a kept buffer: a fresh 256 KiB bytes per recv costs an mmap,
        # an mremap and an munmap however little arrives
        self._inbox = memoryview(bytearray(READ_SIZE))
        self._more = False  # the last decrypt stopped with plaintext left in the record
        sock.setblocking(False)
        self._handshake(self._deadline())

    # ---------------------------------------------------------------- socket-like

    def fileno(self) -> int:
        """The TCP socket's descriptor (for ``select``)."""
        return self._raw.fileno()

    def settimeout(self, timeout: Optional[float]) -> None:
        """Seconds each blocking read or write may take (``None``: no limit)."""
        self._timeout = timeout

    def gettimeout(self) -> Optional[float]:
        """The timeout set by :meth:`settimeout`."""
        return self._timeout

    def recv(self, size: int) -> bytes:
        """Up to ``size`` decrypted bytes, waiting within the timeout; ``b""`` at the end.

        Raises:
            socket.timeout: nothing came within the timeout.
        """
        buffer = bytearray(size)
        got = self.recv_into(buffer)
        return bytes(buffer[:got])

    def recv_into(self, buffer: Buffer, nbytes: int = 0) -> int:
        """Decrypt into ``buffer`` as :meth:`recv` does; returns the count (0: the end).

        Raises:
            socket.timeout: nothing came within the timeout.
        """
        view = memoryview(buffer)
        if nbytes:
            view = view[:nbytes]
        deadline = self._deadline()
        while True:
            got = self._decrypt(view)
            if got or self._eof:
                return got
            if not self._wait(False, deadline):
                raise socket.timeout("the TLS read timed out")
            self._take()

    def read_ready(self, buffer: Buffer, wait: float) -> Optional[int]:
        """Decrypt what has come, waiting up to ``wait`` s only if nothing has (reader).

        Every record the kernel holds is taken in one ``recv`` and decrypted into
        ``buffer`` (as much as fits; the rest stays for the next call).

        Returns:
            The count of bytes decrypted, 0 at the end of the stream, or ``None`` if
            nothing came within ``wait``.
        """
        view = memoryview(buffer)
        got = self._decrypt(view)
        if got or self._eof:
            return got
        readable, _, _ = select.select([self._raw], [], [], wait)
        if not readable:
            return None
        self._take()
        got = self._decrypt(view)
        return got if got or self._eof else None

    def read_buffered(self, buffer: Buffer) -> int:
        """Decrypt into ``buffer`` only what has already been received (no system call)."""
        return self._decrypt(memoryview(buffer))

    def send(self, data: Union[bytes, bytearray, memoryview]) -> int:
        """Encrypt and write all of ``data`` (within the timeout); returns its length."""
        self.sendall(data)
        return len(data)

    def sendall(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Encrypt and write all of ``data``, waiting within the timeout if the socket
        is full.

        Raises:
            socket.timeout: the peer took nothing for longer than the timeout.
            OSError: the socket failed.
        """
        with self._write_lock:
            with self._lock:
                self._tls.write(data)
                pending = self._outgoing.read()
            self._write_raw(pending, self._deadline())

    def shutdown(self, how: int) -> None:
        """Shut the TCP socket down (wakes a thread waiting on it)."""
        self._raw.shutdown(how)

    def close(self) -> None:
        """Close the TCP socket."""
        self._raw.close()

    # ---------------------------------------------------------------- plumbing

    def _deadline(self) -> Optional[float]:
        return None if self._timeout is None else time.monotonic() + self._timeout

    def _handshake(self, deadline: Optional[float]) -> None:
        while True:
            try:
                with self._lock:
                    self._tls.do_handshake()
                self._flush(deadline)
                return
            except ssl.SSLWantReadError:
                self._flush(deadline)
                if not self._wait(False, deadline):
                    raise socket.timeout("the TLS handshake timed out") from None
                self._take()
                if self._eof and not self._incoming.pending:
                    raise ConnectionResetError(
                        "the server closed the socket during TLS setup"
                    ) from None

    def _take(self) -> None:
        """One non-blocking ``recv`` of whatever the kernel holds, into the TLS input."""
        try:
            count = self._raw.recv_into(self._inbox)
        except (BlockingIOError, InterruptedError):
            return
        if count:
            with self._lock:
                self._incoming.write(self._inbox[:count])
        else:
            self._eof = True
            with self._lock:
                self._incoming.write_eof()

    def _decrypt(self, view: memoryview) -> int:
        """Decrypt the records already received into ``view``; returns the count."""
        incoming = self._incoming
        # the thread that reads is the only one adding to the incoming BIO: with nothing
        # in it and no plaintext left over, there is nothing to decrypt (and no lock)
        if not incoming.pending and not self._more:
            return 0
        got = 0
        size = len(view)
        tls = self._tls
        with self._lock:
            # a read that finds nothing raises SSLWantReadError: ask first
            while got < size and (incoming.pending or tls.pending()):
                try:
                    count: int = tls.read(size - got, view[got:])  # type: ignore[assignment]
                except ssl.SSLWantReadError:
                    break
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):  # closed, or cut off
                    self._eof = True
                    break
                if not count:
                    break
                got += count
            self._more = tls.pending() > 0
            owed = self._outgoing.pending
        if owed and not self._eof:  # reading made TLS answer the peer (a key update)
            # a broken socket is for the next write to report: this is a read
            with self._write_lock, contextlib.suppress(OSError):
                self._flush(self._deadline())
        return got

    def _flush(self, deadline: Optional[float]) -> None:
        """Write whatever TLS produced (write lock held, or during the handshake)."""
        with self._lock:
            pending = self._outgoing.read()
        if pending:
            self._write_raw(pending, deadline)

    def _write_raw(self, data: bytes, deadline: Optional[float]) -> None:
        view = memoryview(data)
        while view:
            try:
                sent = self._raw.send(view)
            except (BlockingIOError, InterruptedError):
                if not self._wait(True, deadline):
                    raise socket.timeout("the TLS write timed out") from None
                continue
            view = view[sent:]

    def _wait(self, writing: bool, deadline: Optional[float]) -> bool:
        """Wait until the TCP socket is readable (or writable); False on timeout."""
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if writing:
            _, ready, _ = select.select([], [self._raw], [], left)
        else:
            ready, _, _ = select.select([self._raw], [], [], left)
        return bool(ready)


#: What the client reads frames from and writes them to: a plain TCP socket (``ws://``)
#: or a :class:`TlsPipe` (``wss://``).
Transport = Union[socket.socket, TlsPipe]

__all__ = ["TlsPipe", "Transport"]
