"""Real HTTP proxies for the tests: pproxy in a thread, and a proxy that forbids tunnels."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType
from typing import Any, List, Optional, Type

import pproxy


class PProxy:
    """A pproxy HTTP proxy on 127.0.0.1 (free port), run on its own event loop thread.

    Args:
        auth: ``"user:password"`` the proxy demands, or ``None``.
        block: host names the proxy refuses to tunnel to (it closes the connection).

    Attributes:
        url: ``http://host:port`` (without credentials).
        tunnels: ``"host:port"`` of every tunnel opened, in order.
    """

    def __init__(self, auth: Optional[str] = None, block: tuple[str, ...] = ()) -> None:
        self._auth = auth
        self._block = set(block)
        self.tunnels: List[str] = []
        self.refused: List[str] = []
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-proxy")
        self.port = 0

    def _verbose(self, text: str) -> None:
        with self._cond:
            if " -> " in text:
                self.tunnels.append(text.rsplit(" -> ", 1)[1].strip())
            else:
                self.refused.append(text)
            self._cond.notify_all()

    def start(self) -> PProxy:
        """Start serving; returns self."""
        self._thread.start()
        uri = "http://127.0.0.1:0" + (f"#{self._auth}" if self._auth else "")
        server = pproxy.Server(uri)
        args = {
            "rserver": [],
            "verbose": self._verbose,
            "block": lambda host: host in self._block,
            "authtime": -1,  # ask every connection for credentials, not once per address
        }
        future = asyncio.run_coroutine_threadsafe(server.start_server(args), self._loop)
        self._server = future.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        """The proxy URL without credentials."""
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, credentials: str) -> str:
        """The proxy URL carrying ``user:password``."""
        return f"http://{credentials}@127.0.0.1:{self.port}"

    def wait_refused(self, n: int, timeout: float = 10.0) -> List[str]:
        """Block until the proxy has logged ``n`` refused connections; return them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.refused) >= n, timeout):
                raise AssertionError(f"expected {n} refusals, got {self.refused}")
            return list(self.refused)

    def wait_tunnels(self, n: int, timeout: float = 10.0) -> List[str]:
        """Block until ``n`` tunnels were opened; return them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.tunnels) >= n, timeout):
                raise AssertionError(f"expected {n} tunnels, got {self.tunnels}")
            return list(self.tunnels)

    def stop(self) -> None:
        """Stop serving and end the loop thread."""

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> PProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()


class ForbiddingProxy:
    """An HTTP proxy whose policy forbids every tunnel: it answers CONNECT with 403."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.requests: List[bytes] = []
        self._thread = threading.Thread(target=self._serve, name="test-proxy-403")

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                self.requests.append(head)
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n")

    def __enter__(self) -> ForbiddingProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self._thread.join(timeout=10)
