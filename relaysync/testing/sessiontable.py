"""The simulator's table of sockets and sessions: lifetimes, listeners and snapshots.

:class:`SessionTable` is the bottom layer of :class:`relaysync.testing.core.SimCore`: it
tracks the open sockets and the live (and resumable) sessions, takes sessions offline
when their socket goes, expires them after the resume window, tells session listeners,
and publishes thread-safe snapshots. Control sessions are left out of the snapshots,
the socket count and the listeners. Loop thread only unless a docstring says "any thread".
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable, Dict, List, Optional, Set, Tuple, TypeVar

from .._entropy import new_id
from .server import Connection, LoopThread
from .sessions import Session, SessionInfo

__all__ = ["SessionListener", "SessionTable", "is_control"]

logger = logging.getLogger("relaysync.simulator")

T = TypeVar("T")
SessionListener = Callable[[Session, str], None]


def is_control(conn: Connection[Session]) -> bool:
    """Whether ``conn`` carries a control session.

    Args:
        conn: the socket.

    Returns:
        True when the socket is authenticated as a control session.
    """
    return conn.session is not None and conn.session.control


class SessionTable:
    """Open sockets and live sessions of the simulator, with their lifetimes.

    Args:
        resume_window: seconds a session without a socket stays resumable.
    """

    def __init__(self, *, resume_window: float) -> None:
        self.resume_window = resume_window
        self.runner = LoopThread()
        self._listeners: List[SessionListener] = []
        self._resumable: Dict[str, Session] = {}
        self._live: Dict[str, Session] = {}
        self._connections: Set[Connection[Session]] = set()
        self._state = threading.Condition()
        self._snapshot: Tuple[SessionInfo, ...] = ()
        self._connection_count = 0
        self._auth_count = 0

    # -- loop helpers -----------------------------------------------------------------

    def call_later(self, delay: float, fn: Callable[[], None]) -> asyncio.TimerHandle:
        """Run ``fn`` on the loop after ``delay`` real seconds; exceptions are logged.

        Returns:
            The timer handle.
        """
        return self.runner.call_later(delay, fn)

    def run_sync(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run ``fn`` on the loop thread and return its result (any thread).

        Raises:
            TimeoutError: ``fn`` did not run within ``timeout`` seconds.
        """
        return self.runner.run_sync(fn, timeout)

    def new_id(self) -> str:
        """Return a fresh UUID v4 string (any thread; no system call per id)."""
        return new_id()

    def add_session_listener(self, fn: SessionListener) -> None:
        """Call ``fn(session, what)`` on the loop for ``"online"``, ``"offline"``, ``"expired"``."""
        self._listeners.append(fn)

    # -- lookups ----------------------------------------------------------------------

    def session(self, session_id: str) -> Session:
        """Return the live session ``session_id``.

        Raises:
            ValueError: no such session (never existed, or expired).
        """
        found = self._live.get(session_id)
        if found is None:
            raise ValueError(f"no live session {session_id!r}")
        return found

    def target_connections(
        self, session_id: Optional[str], include_unauthenticated: bool = False
    ) -> List[Connection[Session]]:
        """Sockets of ``session_id`` (empty when offline), or of every online session.

        Raises:
            ValueError: ``session_id`` names no live session.
        """
        if session_id is not None:
            conn = self.session(session_id).connection
            return [conn] if conn is not None else []
        if include_unauthenticated:
            return sorted((c for c in self._connections if not is_control(c)), key=lambda c: c.id)
        return [s.connection for s in self._live.values() if s.connection is not None]

    def forget(self, session: Session) -> None:
        """Make ``session``'s protocol unknown to later resumes; it expires once offline."""
        session.forgotten = True
        self._resumable.pop(session.id, None)
        if not session.online:
            self._expire(session)

    # -- snapshots (any thread) -------------------------------------------------------

    @property
    def state_condition(self) -> threading.Condition:
        """Condition notified on every session or socket change."""
        return self._state

    def snapshot(self) -> List[SessionInfo]:
        """Infos of the live sessions, oldest first (any thread)."""
        with self._state:
            return list(self._snapshot)

    @property
    def connection_count(self) -> int:
        """Open sockets, authenticated or not (any thread)."""
        with self._state:
            return self._connection_count

    @property
    def authentication_count(self) -> int:
        """Successful ``signalwire.connect`` requests so far (any thread)."""
        with self._state:
            return self._auth_count

    def _publish(self) -> None:
        infos = tuple(
            SessionInfo(s.id, s.protocol, frozenset(s.contexts), s.online)
            for s in self._live.values()
        )
        with self._state:
            self._snapshot = infos
            self._connection_count = sum(not is_control(c) for c in self._connections)
            self._state.notify_all()

    def _notify(self, session: Session, what: str) -> None:
        if session.control:
            return
        for listener in list(self._listeners):
            try:
                listener(session, what)
            except Exception:
                logger.exception("session listener failed on %s (%s)", session.id, what)

    # -- socket and session lifetimes -------------------------------------------------

    def on_open(self, conn: Connection[Session]) -> None:
        """A socket connected (loop thread)."""
        self._connections.add(conn)
        logger.debug("socket %d opened from %s", conn.id, conn.ws.remote_address)
        self._publish()

    def on_close(self, conn: Connection[Session]) -> None:
        """A socket is gone: its session goes offline (loop thread)."""
        self._connections.discard(conn)
        if conn.ping_timer is not None:
            conn.ping_timer.cancel()
        session = conn.session
        if session is not None and session.connection is conn:
            self._go_offline(session)
        logger.debug("socket %d closed", conn.id)
        self._publish()

    def _go_offline(self, session: Session) -> None:
        conn, session.connection = session.connection, None
        if conn is not None and conn.ping_timer is not None:
            conn.ping_timer.cancel()
        self._notify(session, "offline")
        if session.forgotten:
            self._expire(session)
        else:
            session.expiry = self.call_later(self.resume_window, lambda: self._expire(session))

    def _expire(self, session: Session) -> None:
        if session.expired or session.online:
            return
        session.expired = True
        session.drop_pending()
        self._resumable.pop(session.id, None)
        self._live.pop(session.id, None)
        logger.info("session %s expired", session.id)
        self._publish()
        self._notify(session, "expired")
