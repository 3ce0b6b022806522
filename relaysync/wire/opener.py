"""Opening a RELAY session: the retrying connect and the ``signalwire.connect`` handshake.

:class:`SessionOpening` is the part of :class:`~relaysync.wire.connection.Connection` that
runs on the I/O thread each time a socket must be (re)opened: it retries with backoff
(tenacity), opens the socket (through a proxy if one is set), sends
``signalwire.connect`` with the saved resume state, reads until the answer arrives, and
records whether the session was resumed or started fresh.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Optional

import tenacity
import websocket

from .. import constants as C
from .._log import LimitedLog, logger
from .._version import __version__
from ..errors import AuthenticationError, RelayConnectionError, RelayError, RelayTimeoutError
from ..rpc import PendingMap, PendingRequest, request_frame
from .backoff import backoff_policy
from .inbound import FrameHandler
from .outbound import Link, shutdown
from .proxy import Proxy, ProxyRefused
from .resume import AuthRejected, Closing, Session, StaleResume
from .sockets import Unreachable, new_socket, open_socket
from .tlspipe import Transport

AGENT = f"relaysync/{__version__}"
AUTH_REJECTION_CODES = frozenset({-32002, -32000, -32602, 401, 403})
STALE_RESUME_CODE = -32003


class SessionOpening:
    """Opens and authenticates a socket, retrying; mixed into the Connection.

    The attributes below are set by the Connection's constructor; the I/O thread alone
    calls these methods.
    """

    url: str
    proxy: Optional[Proxy]
    request_timeout: float
    session: Session
    _shown_url: str
    _authentication: Dict[str, str]
    _sslopt: Dict[str, Any]
    _on_fresh_session: Optional[Callable[[], None]]
    _ping_interval: float
    _ping_timeout: float
    _backoff_initial: float
    _backoff_max: float
    _max_auth_attempts: int
    _cond: threading.Condition
    _closing: threading.Event
    _ever_connected: bool
    _link: Link
    _pending: PendingMap
    _log: LimitedLog
    _frames: FrameHandler
    _auth_failures: int
    _last_error: Optional[str]

    def _set_state(self, state: str) -> None:
        """Record a state change and report it (caller holds ``_cond``)."""
        raise NotImplementedError

    def _establish(self, first_timeout: Optional[float]) -> websocket.WebSocket:
        """Open and authenticate a socket, retrying with backoff (tenacity)."""
        # Wrong credentials, a name that does not resolve, a refused port or an untrusted
        # certificate on the very first connect cannot get better by retrying; after a
        # session existed, any of them may be a hiccup (a server restarting) and is
        # retried. So is a proxy refusing the tunnel (407, 403).
        first = first_timeout is not None
        retrying = backoff_policy(
            retry_on=(RelayConnectionError, StaleResume)
            if first
            else (RelayConnectionError, StaleResume, AuthRejected, ProxyRefused),
            fatal=(Unreachable,) if first else (),
            closing=self._closing,
            initial=self._backoff_initial,
            maximum=self._backoff_max,
            deadline=first_timeout,
            give_up=lambda: self._auth_failures >= self._max_auth_attempts,
            before_sleep=self._log_retry,
        )
        try:
            ws: websocket.WebSocket = retrying(self._attempt)
            return ws
        except AuthRejected as exc:
            if self._closing.is_set():
                raise Closing() from None
            raise AuthenticationError(
                exc.code, f"{self._shown_url} rejected the credentials of {self.who}: {exc.message}"
            ) from None
        except ProxyRefused as exc:
            if self._closing.is_set():
                raise Closing() from None
            raise RelayConnectionError(exc.code, exc.message) from None
        except Unreachable as exc:
            if self._closing.is_set():
                raise Closing() from None
            raise RelayConnectionError(
                -1, f"could not connect to {self._shown_url} for {self.who}: {exc.cause}"
            ) from None
        except (RelayConnectionError, StaleResume) as exc:
            if self._closing.is_set():
                raise Closing() from None
            raise RelayConnectionError(
                -1, f"could not connect to {self._shown_url} for {self.who}: {exc}"
            ) from None

    @property
    def who(self) -> str:
        """Whose session this is, for messages: the project id, never a secret."""
        project = self._authentication.get("project")
        return f"project {project!r}" if project else "the JWT's project"

    def _log_retry(self, retry_state: tenacity.RetryCallState) -> None:
        """before_sleep hook: one rate-limited line per retry series."""
        if retry_state.outcome is not None:
            self._last_error = str(retry_state.outcome.exception())
        if retry_state.outcome is None:
            return
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        self._log.warning(
            "reconnect",
            "relaysync: connecting to %s failed (%s); retrying in %.1f s",
            self._shown_url,
            retry_state.outcome.exception(),
            wait,
        )

    def _attempt(self) -> websocket.WebSocket:
        """One connection attempt: socket + ``signalwire.connect``."""
        if self._closing.is_set():
            raise Closing()
        ws = new_socket(self._sslopt)

        def opening(sock: Transport) -> None:
            self._link.opening(sock)
            if self._closing.is_set():  # close() came before the link knew this socket
                raise OSError("the client is closing")

        try:
            open_socket(
                ws,
                self.url,
                timeout=min(self.request_timeout, 10.0),
                sslopt=self._sslopt,
                on_socket=opening,
                proxy=self.proxy,
            )
            if self._closing.is_set():
                raise Closing()
            self._handshake(ws)
        except BaseException:
            shutdown(ws)
            raise
        return ws

    def _handshake(self, ws: websocket.WebSocket) -> None:
        """Send ``signalwire.connect`` and read until its answer arrives."""
        with self._cond:
            session = self.session
            params = session.connect_params(self._authentication, AGENT)
            sent_protocol = session.protocol
        generation = self._link.attach(ws)
        frame = request_frame(C.METHOD_CONNECT, params)
        pending = PendingRequest(frame["id"], C.METHOD_CONNECT, generation)
        self._pending.add(pending)
        self._link.send(frame, generation)
        deadline = time.monotonic() + self.request_timeout
        try:
            result = self._await_handshake(ws, pending, deadline)
        except RelayError as exc:
            self._link.detach(ws)
            self._pending.pop(pending.id)
            if isinstance(exc, RelayConnectionError):
                raise
            if exc.code == STALE_RESUME_CODE and sent_protocol:
                logger.warning("relaysync: server refused to resume the session; starting fresh")
                with self._cond:
                    self.session.forget()
                raise StaleResume(exc.code, exc.message) from None
            if exc.code in AUTH_REJECTION_CODES:
                self._auth_failures += 1
                raise AuthRejected(exc.code, exc.message or "authentication failed") from None
            raise RelayConnectionError(exc.code, exc.message) from None
        if not isinstance(result, dict) or not isinstance(result.get("protocol"), str):
            raise RelayConnectionError(-1, "signalwire.connect result has no protocol")
        try:
            ws.settimeout(self._ping_interval + self._ping_timeout)
        except (OSError, AttributeError) as exc:
            raise RelayConnectionError(-1, f"socket lost after connect: {exc}") from exc
        with self._cond:
            resumed = bool(sent_protocol) and (
                bool(result.get("session_restored")) or result["protocol"] == sent_protocol
            )
            lost = self._ever_connected and not resumed
            session.resumed = resumed if self._ever_connected else True
            self._frames.dedupe.new_socket(resumed)
            session.protocol = result["protocol"]
            identity = result.get("identity")
            session.identity = identity if isinstance(identity, str) else None
        if lost and self._on_fresh_session is not None:
            self._on_fresh_session()  # outside the lock: it takes the call locks
        with self._cond:
            self._auth_failures = 0
            self._ever_connected = True
            self._set_state(C.CONNECTED)
        logger.info(
            "relaysync: connected to %s (%s session)",
            self._shown_url,
            "resumed" if resumed else "new",
        )

    def _await_handshake(
        self, ws: websocket.WebSocket, pending: PendingRequest, deadline: float
    ) -> Any:
        """Read frames until the connect answer arrives; return its result."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RelayConnectionError(-1, "no answer to signalwire.connect")
            got = self._frames.read(ws, remaining)
            try:
                # the answer may come in the same read as the close that follows it
                return pending.wait(0)
            except RelayTimeoutError:
                if got is False:
                    raise RelayConnectionError(-1, "socket closed during handshake") from None
