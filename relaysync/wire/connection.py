"""The RELAY connection: socket, reader thread, session, pings and reconnects.

One I/O thread ("relaysync-io") owns reading the socket. A
:class:`~relaysync.wire.opener.SessionOpener` opens the socket and performs the
``signalwire.connect`` handshake; the thread then reads frames until the socket is
lost, and starts over with backoff (tenacity) until :meth:`Connection.close`. It
answers server pings, acks events before handing them to the ``on_event`` callback,
resolves pending requests, and detects half-open sockets. It never runs user code:
``on_event`` and ``on_state`` must only queue work.

Writes from any thread go through one send lock.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from typing import Any, Callable, ContextManager, Dict, Mapping, Optional, Sequence, Tuple

import websocket

from .. import constants as C
from .._log import LimitedLog, logger
from .._threads import LIBRARY_STACK_SIZE, start_thread
from ..errors import RelayConnectionError, RelayError, timeout_error
from ..rpc import PendingMap, PendingRequest, await_reply, request_frame
from ..signals import HeldSignals
from ..stats import WireCounters
from .flowlog import FlowRecorder
from .inbound import EventSink, FrameHandler
from .opener import AGENT, AUTH_REJECTION_CODES, STALE_RESUME_CODE, Closing, Opened, SessionOpener
from .outbound import FrameTap, Link, NotSent, shutdown
from .proxy import Proxy
from .resume import Session
from .urls import redact_url

__all__ = ["AGENT", "AUTH_REJECTION_CODES", "STALE_RESUME_CODE", "Connection", "StateSink"]

StateSink = Callable[[str], None]


class LoggedRequest(PendingRequest):
    """A request nobody waits for: an error answer is logged instead of raised."""

    __slots__ = ()

    def set_error(self, error: BaseException) -> bool:
        """Log the error, then settle with it; returns False if already settled."""
        logger.warning("relaysync: %s failed: %s", self.method, error)
        return super().set_error(error)


class Connection:
    """A self-healing RELAY session over one WebSocket at a time.

    Args:
        url: the WebSocket URL.
        authentication: the ``authentication`` block of ``signalwire.connect``.
        contexts: contexts to subscribe at connect time.
        sslopt: websocket-client TLS options.
        on_event: called on the I/O thread with (event payload, event id) for every
            new event; must not block.
        on_state: called on the I/O thread with each connection state; must not block.
        request_timeout: default timeout of :meth:`execute`.
        reconnect: reconnect after a lost socket (else the connection closes).
        ping_interval: send a client ping after this many quiet seconds.
        ping_timeout: close the socket when nothing arrives this long after a ping.
        backoff_initial, backoff_max: reconnect backoff bounds in seconds.
        max_auth_attempts: consecutive authentication rejections tolerated on reconnect.
        batch: the context each burst of frames is acted on in (see
            :class:`~relaysync.wire.inbound.FrameHandler`).
        proxy: an HTTP proxy to tunnel every (re)connection through, or ``None``.
        trace: log every frame sent and received on ``relaysync.trace``, masked.
        on_fresh_session: called on the I/O thread, before the state becomes
            connected, when a reconnect starts a fresh session (the old one's events
            can no longer arrive); must not block.
    """

    def __init__(
        self,
        *,
        url: str,
        authentication: Mapping[str, str],
        contexts: Sequence[str],
        sslopt: Dict[str, Any],
        on_event: EventSink,
        on_state: StateSink,
        request_timeout: float = 10.0,
        reconnect: bool = True,
        ping_interval: float = 30.0,
        ping_timeout: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        max_auth_attempts: int = 3,
        batch: Callable[[], ContextManager[Any]] = contextlib.nullcontext,
        proxy: Optional[Proxy] = None,
        trace: bool = False,
        on_fresh_session: Optional[Callable[[], None]] = None,
    ) -> None:
        self.url = url
        self._shown_url = redact_url(url)  # for messages: no user info or query
        self._on_state = on_state
        self._on_fresh_session = on_fresh_session
        self.request_timeout = request_timeout
        self._reconnect = reconnect
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._backoff_initial = backoff_initial
        self.proxy = proxy
        self.session = Session(contexts)

        self._cond = threading.Condition()
        self._state = C.CLOSED
        self._fatal: Optional[RelayError] = None
        self._closing = threading.Event()
        self._final = False  # close(final=True): no thread may start any more
        self._thread: Optional[threading.Thread] = None

        self._link = Link(trace=trace)
        self._pending = PendingMap()
        self._log = LimitedLog(10.0)  # what a peer or an outage can repeat
        self._frames = FrameHandler(
            link=self._link,
            pending=self._pending,
            on_event=on_event,
            on_auth_state=self.session.keep_authorization_state,
            on_disconnect=self._server_disconnect,
            batch=batch,
            log=self._log,
        )
        self._opener = SessionOpener(
            url=url,
            authentication=authentication,
            session=self.session,
            sslopt=sslopt,
            proxy=proxy,
            request_timeout=request_timeout,
            read_timeout=ping_interval + ping_timeout,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            max_auth_attempts=max_auth_attempts,
            closing=self._closing,
            link=self._link,
            pending=self._pending,
            frames=self._frames,
            log=self._log,
        )
        self._disconnect_deadline: Optional[float] = None

    # ------------------------------------------------------------------ public API

    @property
    def state(self) -> str:
        """One of ``connecting``, ``connected``, ``reconnecting``, ``closed``."""
        with self._cond:
            return self._state

    @property
    def connected(self) -> bool:
        """True while a session is established."""
        return self.state == C.CONNECTED

    @property
    def flows(self) -> FlowRecorder:
        """The frames of each call, recorded for call-flow diagrams."""
        return self._link.flows

    def add_tap(self, tap: FrameTap) -> None:
        """Let ``tap`` see every frame sent and read from now on (before connecting)."""
        self._link.taps = (*self._link.taps, tap)

    @property
    def counters(self) -> WireCounters:
        """The reader's event and latency counters (for ``RelayClient.stats()``)."""
        return self._frames.counters

    @property
    def requests_in_flight(self) -> int:
        """How many requests are written and not yet answered."""
        return len(self._pending)

    @property
    def who(self) -> str:
        """Whose session this is, for messages: the project id, never a secret."""
        return self._opener.who

    @property
    def fatal_error(self) -> Optional[RelayError]:
        """The error that ended the connection for good, if any."""
        with self._cond:
            return self._fatal

    def start(self, timeout: float) -> None:
        """Connect (blocking up to ``timeout`` s) and keep the session alive afterwards.

        Raises:
            AuthenticationError: the credentials were rejected.
            RelayConnectionError: no session within ``timeout`` seconds.
        """
        # a Ctrl-C in Thread.start() must not hide the thread from close(): the signals
        # are held while it starts and handled once the lock is let go
        held = HeldSignals()
        try:
            with self._cond:
                if self._final:
                    raise RelayConnectionError(-1, "the client was closed while connecting")
                if self._state == C.CONNECTED:
                    return
                started = self._thread is None or not self._thread.is_alive()
                if started:
                    self._closing.clear()
                    self._fatal = None
                    self._set_state(C.CONNECTING)
                    with held:
                        self._thread = start_thread(
                            self._run, "relaysync-io", LIBRARY_STACK_SIZE, args=(timeout,)
                        )
        finally:
            held.deliver()
        with self._cond:
            done = self._cond.wait_for(
                lambda: (
                    self._state == C.CONNECTED or self._fatal is not None or self._closing.is_set()
                ),
                timeout,
            )
            error = self._fatal
            connected = self._state == C.CONNECTED
        if connected:
            return
        if error is not None:
            if started:
                self.close()
            raise error
        if done:  # close() was called meanwhile
            raise RelayConnectionError(-1, "the client was closed while connecting")
        last = self._opener.last_error
        detail = f" (last error: {last})" if last else ""
        if started:
            self.close()
            raise RelayConnectionError(
                -1,
                f"could not connect to {self._shown_url} for {self.who} within {timeout:g} s"
                f"{detail}",
            )
        # A reconnect in progress keeps going; only this wait gave up.
        raise RelayConnectionError(
            -1, f"not connected to {self._shown_url} within {timeout:g} s; still trying"
        )

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Block until the connection is closed for good; True if it is."""
        with self._cond:
            return self._cond.wait_for(lambda: self._state == C.CLOSED, timeout)

    def close(self, timeout: Optional[float] = 5.0, *, final: bool = False) -> None:
        """Close the socket, stop the I/O thread and fail pending requests. Idempotent.

        Args:
            timeout: how long to wait for the I/O thread to end (``None``: no limit).
            final: the connection may never start again; a :meth:`start` racing this
                call either started its thread before (and it is joined here) or fails.
        """
        with self._cond:
            self._closing.set()
            self._final = self._final or final
            self._cond.notify_all()
            thread = self._thread
        self._link.abort(graceful=True)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._pending.fail_all("connection closed")
        self._log.flush()
        with self._cond:
            if self._state != C.CLOSED and (thread is None or not thread.is_alive()):
                self._set_state(C.CLOSED)

    def execute(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send a request and block for its result.

        A request issued while the connection is re-establishing waits for it (within
        ``timeout``) and is sent after the session is back. A request already written
        when the socket dies is failed: re-sending it could repeat a side effect.

        Returns:
            The ``result`` object (checked: any 2xx ``code`` is success).

        Raises:
            RelayError: the server answered with an error or a non-2xx code.
            RelayConnectionError: the socket was lost after the request was written, or
                the client is closed.
            RelayTimeoutError: no result within ``timeout`` (default: request_timeout).
        """
        pending, timeout, deadline = self._write_request(method, params, timeout)
        return await_reply(pending, deadline, timeout, self._pending.pop)

    def _write_request(
        self,
        method: str,
        params: Mapping[str, Any],
        timeout: Optional[float],
    ) -> Tuple[PendingRequest, float, float]:
        """Register a request and write it, once connected, within ``timeout``.

        Returns:
            The request, its timeout (the client's default for ``None``) and deadline.
        """
        timeout = self.request_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        frame = request_frame(method, params)
        while True:
            generation = self._wait_connected(method, deadline, timeout)
            pending = PendingRequest(frame["id"], method, generation)
            self._pending.add(pending)
            try:
                self._link.send(frame, generation)
            except NotSent:
                self._pending.pop(pending.id)
                continue
            except BaseException:
                self._pending.pop(pending.id)
                raise
            return pending, timeout, deadline

    def send_nowait(self, method: str, params: Mapping[str, Any]) -> None:
        """Send a request without waiting for its answer (safe on the reader thread).

        A failure, or an error answer, is logged; nothing is raised. One not answered
        within ``request_timeout`` is forgotten (logged as timed out) by a later request.
        """
        frame = request_frame(method, params)
        generation = self._link.generation
        pending = LoggedRequest(frame["id"], method, generation)
        self._pending.add(pending, expires_in=self.request_timeout)
        try:
            self._link.send(frame, generation)
        except (NotSent, RelayConnectionError) as exc:
            self._pending.pop(pending.id)
            logger.warning("relaysync: could not send %s: %r", method, exc)

    # ------------------------------------------------------------------ I/O thread

    def _run(self, first_timeout: float) -> None:
        """I/O thread body: connect, read until lost, reconnect, until closed."""
        first = True
        try:
            while not self._closing.is_set():
                try:
                    opened = self._opener.open(first_timeout if first else None)
                except Closing:
                    break
                except RelayError as exc:
                    with self._cond:
                        self._fatal = exc
                        self._cond.notify_all()
                    break
                first = False
                self._connected(opened)
                self._read_loop(opened.ws)
                self._lost(opened.ws)
                if not self._reconnect and not self._closing.is_set():
                    with self._cond:
                        self._fatal = RelayConnectionError(-1, "connection lost")
                    break
        except BaseException:  # a bug here must not leave waiters hanging
            logger.exception("relaysync I/O thread crashed")
            with self._cond:
                self._fatal = RelayConnectionError(-1, "I/O thread crashed")
        finally:
            self._link.abort(graceful=False)
            self._pending.fail_all("connection closed")
            with self._cond:
                self._set_state(C.CLOSED)

    def _connected(self, opened: Opened) -> None:
        """Report a session open on a new socket (I/O thread)."""
        if opened.fresh and self._on_fresh_session is not None:
            self._on_fresh_session()  # outside the lock: it takes the call locks
        with self._cond:
            self._set_state(C.CONNECTED)

    def _read_loop(self, ws: websocket.WebSocket) -> None:
        """Read frames until the socket is lost or close() is called."""
        last_rx = time.monotonic()
        ping_sent: Optional[float] = None
        while not self._closing.is_set():
            now = time.monotonic()
            if self._disconnect_deadline is not None and now >= self._disconnect_deadline:
                logger.info("relaysync: server asked to disconnect; closing the socket")
                return
            if ping_sent is not None and now - ping_sent >= self._ping_timeout:
                self._log.warning(
                    "connection-lost",
                    "relaysync: no answer from the server for %.1f s; treating the socket as dead",
                    now - last_rx,
                )
                return
            if ping_sent is None and now - last_rx >= self._ping_interval:
                ping_sent = now
                self._send_ping()
            if ping_sent is not None:
                wait = ping_sent + self._ping_timeout - now
            else:
                wait = last_rx + self._ping_interval - now
            if self._disconnect_deadline is not None:
                wait = min(wait, self._disconnect_deadline - now)
            try:
                got = self._frames.read(ws, max(0.0, wait))
            except RelayConnectionError as exc:
                if not self._closing.is_set():
                    self._log.warning("connection-lost", "relaysync: connection lost: %s", exc)
                return
            if got is None:
                continue
            if not got:
                if self._disconnect_deadline is None and not self._closing.is_set():
                    self._log.warning(
                        "connection-lost", "relaysync: connection lost: the server closed it"
                    )
                return
            last_rx = time.monotonic()
            ping_sent = None

    def _server_disconnect(self, restart: bool) -> None:
        """The server asked us to go: reconnect once it closes (fresh if ``restart``)."""
        if restart:
            self.session.forget()
        with self._cond:
            self._disconnect_deadline = time.monotonic() + 10.0

    def _lost(self, ws: websocket.WebSocket) -> None:
        """Clean up after a socket is gone (I/O thread)."""
        self._link.detach(ws)
        shutdown(ws)
        generation = self._link.generation
        with self._cond:
            self._disconnect_deadline = None
            if not self._closing.is_set() and self._reconnect:
                self._set_state(C.RECONNECTING)
        failed = self._pending.fail_generation(generation, "connection lost")
        if failed:
            logger.info("relaysync: %d request(s) in flight failed with the lost socket", failed)
        if not self._closing.is_set() and self._reconnect and self._backoff_initial > 0:
            # A short random pause spreads a crowd of clients reconnecting at once.
            self._closing.wait(random.uniform(0, self._backoff_initial / 2))

    # ------------------------------------------------------------------ writing

    def _wait_connected(self, method: str, deadline: float, timeout: float) -> int:
        """Block until connected; return the socket generation."""
        if self._state == C.CONNECTED and not self._closing.is_set():
            # the common case, without the Condition every sender would queue on; a
            # socket lost meanwhile is caught by the generation check of the send
            return self._link.generation
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._state in (C.CONNECTED, C.CLOSED) or self._closing.is_set(),
                max(0.0, deadline - time.monotonic()),
            )
            error: Optional[RelayError] = None
            if self._state == C.CLOSED or self._closing.is_set():
                error = RelayConnectionError(-1, f"cannot send {method}: the client is closed")
            elif not ok:
                error = timeout_error(f"request {method} (waiting for the connection)", timeout)
            if error is not None:
                error.request_sent = False  # type: ignore[attr-defined]
                raise error
            return self._link.generation

    def _send_ping(self) -> None:
        """Send a client ping; the answer (any frame, really) proves the socket alive."""
        frame = request_frame(C.METHOD_PING, {})
        self._link.send_quiet(frame)

    # ------------------------------------------------------------------ helpers

    def _set_state(self, state: str) -> None:
        """Record a state change and report it (caller holds ``_cond``)."""
        if self._state == state:
            return
        self._state = state
        self._cond.notify_all()
        try:
            self._on_state(state)
        except Exception:
            logger.exception("relaysync: error reporting connection state")
