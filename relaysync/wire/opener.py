"""Opening a RELAY session: the retrying connect and the ``signalwire.connect`` handshake.

:class:`SessionOpener` runs on the I/O thread each time the connection needs a socket:
it retries with backoff (tenacity), opens the socket (through a proxy if one is set),
sends ``signalwire.connect`` with the session's resume state, reads until the answer
arrives, and records in the :class:`~relaysync.wire.resume.Session` whether the session
was resumed or started fresh. It returns an :class:`Opened`; what the connection does
with it (its state, its callbacks) is the connection's.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, Mapping, Optional

import attrs
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
from .resume import Session
from .sockets import Unreachable, new_socket, open_socket
from .tlspipe import Transport
from .urls import redact_url

AGENT = f"relaysync/{__version__}"
AUTH_REJECTION_CODES = frozenset({-32002, -32000, -32602, 401, 403})
STALE_RESUME_CODE = -32003


class AuthRejected(RelayError):
    """The server refused our credentials during the handshake."""


class StaleResume(RelayError):
    """The server refused our saved protocol/authorization_state (-32003)."""


class Closing(Exception):
    """close() was called while connecting."""


@attrs.frozen
class Opened:
    """A socket with a session on it.

    Attributes:
        ws: the socket, authenticated, its read timeout set.
        resumed: the server resumed the session the socket before it had.
        fresh: a session existed before and this one is new: the old one's events can
            no longer arrive.
    """

    ws: websocket.WebSocket
    resumed: bool
    fresh: bool


class SessionOpener:
    """Opens and authenticates a socket, retrying (I/O thread only).

    Args:
        url: the WebSocket URL.
        authentication: the ``authentication`` block of ``signalwire.connect``.
        session: the resume state, read before each handshake and updated after it.
        sslopt: websocket-client TLS options.
        proxy: an HTTP proxy to tunnel through, or ``None``.
        request_timeout: the limit for opening a socket (10 s at most) and for the
            answer to ``signalwire.connect``.
        read_timeout: the socket timeout once the session is open.
        backoff_initial, backoff_max: reconnect backoff bounds in seconds.
        max_auth_attempts: consecutive authentication rejections tolerated on reconnect.
        closing: set by ``close()``: cuts a backoff short and stops retrying.
        link: the write side; a socket is attached to it for the handshake.
        pending: where the ``signalwire.connect`` request waits for its answer.
        frames: reads the socket until that answer arrives.
        log: rate-limited warnings (one line per retry series).
    """

    def __init__(
        self,
        *,
        url: str,
        authentication: Mapping[str, str],
        session: Session,
        sslopt: Dict[str, Any],
        proxy: Optional[Proxy],
        request_timeout: float,
        read_timeout: float,
        backoff_initial: float,
        backoff_max: float,
        max_auth_attempts: int,
        closing: threading.Event,
        link: Link,
        pending: PendingMap,
        frames: FrameHandler,
        log: LimitedLog,
    ) -> None:
        self._url = url
        self._shown_url = redact_url(url)  # for messages: no user info or query
        self._authentication = dict(authentication)
        self._session = session
        self._sslopt = sslopt
        self._proxy = proxy
        self._request_timeout = request_timeout
        self._read_timeout = read_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._max_auth_attempts = max_auth_attempts
        self._closing = closing
        self._link = link
        self._pending = pending
        self._frames = frames
        self._log = log
        project = self._authentication.get("project")
        #: whose session this is, for messages: the project id, never a secret
        self.who = f"project {project!r}" if project else "the JWT's project"
        #: the failure of the latest attempt, for the message of a connect that gave up
        self.last_error: Optional[str] = None
        self._auth_failures = 0
        self._ever_opened = False

    def open(self, first_timeout: Optional[float]) -> Opened:
        """Open and authenticate a socket, retrying with backoff (tenacity).

        Args:
            first_timeout: the limit of the very first connect, or ``None`` for a
                reconnect (which retries until ``closing`` is set).

        Raises:
            Closing: ``close()`` was called meanwhile.
            AuthenticationError: the credentials were rejected (too often).
            RelayConnectionError: no session, for a reason retrying cannot fix or
                within ``first_timeout``.
        """
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
            opened: Opened = retrying(self._attempt)
        except (AuthRejected, ProxyRefused, RelayConnectionError, StaleResume) as exc:
            if self._closing.is_set():
                raise Closing() from None
            raise self._gave_up(exc) from None
        self._auth_failures = 0
        self._ever_opened = True
        return opened

    def _gave_up(self, exc: RelayError) -> RelayError:
        """The error a connect that stopped retrying raises, for the last failure ``exc``."""
        if isinstance(exc, AuthRejected):
            return AuthenticationError(
                exc.code, f"{self._shown_url} rejected the credentials of {self.who}: {exc.message}"
            )
        if isinstance(exc, ProxyRefused):
            return RelayConnectionError(exc.code, exc.message)
        cause = exc.cause if isinstance(exc, Unreachable) else str(exc)
        return RelayConnectionError(
            -1, f"could not connect to {self._shown_url} for {self.who}: {cause}"
        )

    def _log_retry(self, retry_state: tenacity.RetryCallState) -> None:
        """before_sleep hook: one rate-limited line per retry series."""
        if retry_state.outcome is None:
            return
        error = retry_state.outcome.exception()
        self.last_error = str(error)
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        self._log.warning(
            "reconnect",
            "relaysync: connecting to %s failed (%s); retrying in %.1f s",
            self._shown_url,
            error,
            wait,
        )

    def _attempt(self) -> Opened:
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
                self._url,
                timeout=min(self._request_timeout, 10.0),
                sslopt=self._sslopt,
                on_socket=opening,
                proxy=self._proxy,
            )
            if self._closing.is_set():
                raise Closing()
            return self._handshake(ws)
        except BaseException:
            shutdown(ws)
            raise

    def _handshake(self, ws: websocket.WebSocket) -> Opened:
        """Send ``signalwire.connect``, read until its answer arrives, record the session."""
        params = self._session.connect_params(self._authentication, AGENT)
        sent_protocol = params.get("protocol")
        generation = self._link.attach(ws)
        frame = request_frame(C.METHOD_CONNECT, params)
        pending = PendingRequest(frame["id"], C.METHOD_CONNECT, generation)
        self._pending.add(pending)
        self._link.send(frame, generation)
        deadline = time.monotonic() + self._request_timeout
        try:
            result = self._await_handshake(ws, pending, deadline)
        except RelayError as exc:
            self._link.detach(ws)
            self._pending.pop(pending.id)
            if isinstance(exc, RelayConnectionError):
                raise
            if exc.code == STALE_RESUME_CODE and sent_protocol:
                logger.warning("relaysync: server refused to resume the session; starting fresh")
                self._session.forget()
                raise StaleResume(exc.code, exc.message) from None
            if exc.code in AUTH_REJECTION_CODES:
                self._auth_failures += 1
                raise AuthRejected(exc.code, exc.message or "authentication failed") from None
            raise RelayConnectionError(exc.code, exc.message) from None
        if not isinstance(result, dict) or not isinstance(result.get("protocol"), str):
            raise RelayConnectionError(-1, "signalwire.connect result has no protocol")
        try:
            ws.settimeout(self._read_timeout)
        except (OSError, AttributeError) as exc:
            raise RelayConnectionError(-1, f"socket lost after connect: {exc}") from exc
        resumed = bool(sent_protocol) and (
            bool(result.get("session_restored")) or result["protocol"] == sent_protocol
        )
        identity = result.get("identity")
        self._session.opened(
            result["protocol"],
            identity if isinstance(identity, str) else None,
            resumed=resumed if self._ever_opened else True,
        )
        self._frames.dedupe.new_socket(resumed)
        logger.info(
            "relaysync: connected to %s (%s session)",
            self._shown_url,
            "resumed" if resumed else "new",
        )
        return Opened(ws, resumed, fresh=self._ever_opened and not resumed)

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
