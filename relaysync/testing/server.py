"""The simulator's transport: its event-loop thread, the WebSocket server and its sockets.

Everything in this module except :class:`LoopThread`'s public methods runs on the loop
thread. The RELAY logic lives in :mod:`relaysync.testing.core`; this module only moves
frames between sockets and a :class:`FrameSink`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import ssl
import threading
from typing import Any, Callable, Coroutine, Generic, Optional, Protocol, Set, TypeVar, Union

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

logger = logging.getLogger("relaysync.simulator")

T = TypeVar("T")
S = TypeVar("S")
MAX_FRAME = 16 * 1024 * 1024
BURST_FRAMES = 256  # frames written at most in one go
THREAD_NAME = "relaysync-simulator"
LoopJob = Callable[[], Coroutine[Any, Any, None]]


class _QuietWire(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The websockets library's logger, minus its DEBUG frame dumps (frames carry
    credentials; the journal records them instead)."""

    def isEnabledFor(self, level: int) -> bool:
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


class LoopThread:
    """An asyncio event loop running in one named daemon thread.

    The loop object exists from construction, so timers may be scheduled before
    :meth:`start`; they fire once the thread runs. A stopped loop cannot be restarted.
    """

    def __init__(self, name: str = THREAD_NAME) -> None:
        """Prepare a loop thread (the loop itself is created when first needed).

        Args:
            name: name of the thread that will run it.
        """
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._name = name
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._accepting = False  # run_sync marshals onto the loop only while this is set
        self._stopped = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop (created on first use)."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            return self._loop

    @property
    def running(self) -> bool:
        """Whether the loop thread is up and accepting work."""
        with self._lock:
            return self._accepting

    def in_loop_thread(self) -> bool:
        """Whether the caller is the loop thread."""
        return threading.current_thread() is self._thread

    def start(self, setup: LoopJob, timeout: float = 10.0) -> None:
        """Start the thread, run ``setup()`` on the loop and wait until it finished.

        Args:
            setup: coroutine function run first on the loop (e.g. opening the server).
            timeout: seconds to wait for ``setup`` to finish.

        Raises:
            RuntimeError: the loop was stopped before.
            TimeoutError: ``setup`` did not finish in time.
            Exception: whatever ``setup`` raised.
        """
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped simulator cannot be started again")
            if self._thread is not None:
                return
            ready = threading.Event()
            errors: list[BaseException] = []
            self._thread = threading.Thread(
                target=self._main, args=(setup, ready, errors), name=self._name, daemon=True
            )
            self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"simulator did not start within {timeout:g} s")
        if errors:
            self._thread.join(timeout)
            with self._lock:
                self._stopped = True
            raise errors[0]

    def stop(self, teardown: LoopJob, timeout: float = 10.0) -> None:
        """Run ``teardown()`` on the loop, stop the loop and join the thread (idempotent).

        Called from the loop thread itself, the stop is scheduled and not joined.

        Args:
            teardown: coroutine function closing the server and sockets.
            timeout: seconds allowed for the teardown, and again for the join.
        """
        with self._lock:
            thread = self._thread
            if self._stopped:
                return
            self._stopped = True
            if thread is None:
                if self._loop is not None:
                    self._loop.close()
                return
        if self.in_loop_thread():
            task = self.loop.create_task(teardown())
            task.add_done_callback(lambda _task: self.loop.stop())
            return
        future = asyncio.run_coroutine_threadsafe(teardown(), self.loop)
        try:
            future.result(timeout)
        except Exception:
            logger.exception("simulator teardown failed")
        self.loop.call_soon_threadsafe(self.loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("simulator thread did not end within %.1f s", timeout)

    def run_sync(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run ``fn()`` on the loop thread and return its result (from any thread).

        On the loop thread itself, or while the loop is not running (before start or
        after stop), ``fn`` runs directly in the caller's thread.

        Args:
            fn: the function to run.
            timeout: seconds to wait for it.

        Returns:
            What ``fn`` returned.

        Raises:
            TimeoutError: ``fn`` did not complete within ``timeout`` seconds.
            Exception: whatever ``fn`` raised.
        """
        if self.in_loop_thread():
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def runner() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        with self._lock:
            accepting = self._accepting
            if accepting:
                assert self._loop is not None
                self._loop.call_soon_threadsafe(runner)
        if not accepting:
            runner()
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            name = getattr(fn, "__qualname__", repr(fn))
            raise TimeoutError(f"simulator did not run {name} within {timeout:g} s") from None

    def call_later(self, delay: float, fn: Callable[[], None]) -> asyncio.TimerHandle:
        """Run ``fn()`` on the loop after ``delay`` seconds; its exceptions are logged.

        Args:
            delay: seconds (real time).
            fn: the callback.

        Returns:
            The timer handle (``cancel()`` it to stop the timer).
        """

        def guarded() -> None:
            try:
                fn()
            except Exception:
                logger.exception("simulator timer callback %r failed", fn)

        if self.running and not self.in_loop_thread():
            return self.run_sync(lambda: self.loop.call_later(max(delay, 0.0), guarded))
        return self.loop.call_later(max(delay, 0.0), guarded)

    def _main(self, setup: LoopJob, ready: threading.Event, errors: list[BaseException]) -> None:
        """Thread body: setup, run until stopped, then cancel leftovers and close the loop."""
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(setup())
        except BaseException as exc:
            errors.append(exc)
            ready.set()
            self._finish()
            return
        with self._lock:
            self._accepting = True
        ready.set()
        try:
            self.loop.run_forever()
        finally:
            with self._lock:
                self._accepting = False
            self._finish()

    def _finish(self) -> None:
        """Loop thread, after the loop stopped: run queued callbacks, cancel tasks, close."""
        loop = self.loop
        try:
            loop.run_until_complete(asyncio.sleep(0))
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


class _Close:
    """Queue marker: close the socket once everything queued before it is sent."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class Connection(Generic[S]):
    """One accepted WebSocket. Loop thread only.

    Generic in the session type ``S``: the transport carries a session without knowing
    what one is (the RELAY sessions live above it, in :mod:`relaysync.testing.sessions`).

    Attributes:
        id: sequential number, for logs.
        session: the RELAY session this socket is authenticated for, if any.
        silent: half-open fault active: nothing is read, answered or sent.
        closed: the socket is gone.
        pending: ids of requests the simulator sent on this socket, mapped to the
            callback to run with the client's response frame.
        ping_timer: the timer of the next server ping.
    """

    def __init__(
        self, ws: ServerConnection, conn_id: int, burst_frames: int = BURST_FRAMES
    ) -> None:
        """Wrap ``ws``; call :meth:`write_loop` in a task to start writing.

        ``burst_frames`` caps the frames written in one go (1: one send per frame).
        """
        self.ws = ws
        self.id = conn_id
        self.burst_frames = burst_frames
        self.session: Optional[S] = None
        self.silent = False
        self.closed = False
        self.pending: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.ping_timer: Optional[asyncio.TimerHandle] = None
        self._queue: asyncio.Queue[Union[str, bytes, _Close]] = asyncio.Queue()
        self._closing = False

    def send(self, data: Union[str, bytes]) -> bool:
        """Queue a text (``str``) or binary (``bytes``) frame, in order.

        Returns:
            ``False`` if the socket is closed or closing, so nothing was queued.
        """
        if self.closed or self._closing:
            return False
        self._queue.put_nowait(data)
        return True

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with a handshake after everything already queued is sent (idempotent)."""
        if not self.closed and not self._closing:
            self._closing = True
            self._queue.put_nowait(_Close(code, reason))

    def abort(self) -> None:
        """Drop the TCP connection at once, without a close handshake."""
        self._closing = True
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    async def write_loop(self) -> None:
        """Task body: write queued frames until the socket closes.

        The frames queued by the time the writer wakes go out together, encrypted at once
        and in one socket write, as a loaded server sends a burst (in order; a close
        waits for the frames queued before it).
        """
        item: Optional[Union[str, bytes, _Close]] = None
        try:
            while True:
                if item is None:
                    item = await self._queue.get()
                if isinstance(item, _Close):
                    await self.ws.close(item.code, item.reason)
                    return
                item = await self._write_burst(item)
        except ConnectionClosed:
            return
        except Exception:
            logger.exception("simulator failed to write on socket %d", self.id)
            self.abort()

    async def _write_burst(self, first: Union[str, bytes]) -> Optional[_Close]:
        """Write ``first`` and the frames queued behind it (up to ``burst_frames``)
        with one transport write; returns a close marker met on the way, else ``None``."""
        frames, stop = [first], None
        while len(frames) < self.burst_frames and not self._queue.empty():
            following = self._queue.get_nowait()
            if isinstance(following, _Close):
                stop = following
                break
            frames.append(following)
        protocol = self.ws.protocol
        async with self.ws.send_context():
            for frame in frames:
                if isinstance(frame, str):
                    protocol.send_text(frame.encode())
                else:
                    protocol.send_binary(frame)
            # one write for the burst; send_context then finds nothing left to send
            self.ws.transport.write(b"".join(protocol.data_to_send()))
        return stop


class FrameSink(Protocol):
    """What the server hands sockets and frames to (the simulator core)."""

    def on_open(self, conn: Connection[Any]) -> None:
        """A socket completed the WebSocket handshake."""

    def on_message(self, conn: Connection[Any], data: Union[str, bytes]) -> None:
        """A frame arrived on ``conn``."""

    def on_close(self, conn: Connection[Any]) -> None:
        """``conn`` is gone (closed cleanly or not)."""


class WsServer:
    """The listening WebSocket server. Its coroutines run on the loop thread."""

    def __init__(
        self,
        sink: FrameSink,
        host: str,
        port: int,
        ssl_context: Optional[ssl.SSLContext] = None,
        *,
        compression: bool = True,
    ) -> None:
        """Prepare a server on ``host``:``port`` (0 = a free port) feeding ``sink``.

        ``compression=False`` refuses permessage-deflate (offered by some clients).
        """
        self._sink = sink
        self._compression = compression
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._server: Optional[Server] = None
        self._ids = itertools.count(1)
        self.connections: Set[Connection[Any]] = set()
        #: Frames a socket writes at most in one go, for sockets opened from now on
        #: (1: one send per frame, as a server at moderate load writes).
        self.burst_frames = BURST_FRAMES

    @property
    def port(self) -> int:
        """The bound port (after :meth:`open`)."""
        return self._port

    async def open(self) -> None:
        """Start listening (loop thread)."""
        self._server = await serve(
            self._handle,
            self._host,
            self._port,
            ssl=self._ssl,
            compression="deflate" if self._compression else None,
            ping_interval=None,
            max_size=MAX_FRAME,
            close_timeout=1.0,
            logger=_QuietWire(logging.getLogger("relaysync.simulator.wire"), {}),
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and close every socket, aborting those that do not answer."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), 3.0)
        except asyncio.TimeoutError:
            for conn in list(self.connections):
                conn.abort()

    async def _handle(self, ws: ServerConnection) -> None:
        """Per-socket task: read frames and pass them on until the socket closes."""
        conn: Connection[Any] = Connection(ws, next(self._ids), self.burst_frames)
        self.connections.add(conn)
        writer = asyncio.create_task(conn.write_loop())
        try:
            self._sink.on_open(conn)
            async for message in ws:
                try:
                    self._sink.on_message(conn, message)
                except Exception:
                    logger.exception("simulator failed to handle a frame on socket %d", conn.id)
        except ConnectionClosed:
            pass
        finally:
            conn.closed = True
            writer.cancel()
            self.connections.discard(conn)
            try:
                self._sink.on_close(conn)
            except Exception:
                logger.exception("simulator failed to clean up socket %d", conn.id)
