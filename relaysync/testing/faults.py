"""Socket-level fault injection: dropped, silent and disconnected sockets, pushed frames.

The functions below run on the simulator's loop thread (the facade marshals them
there); ``session_id=None`` targets every online session. Method delays and failures
are in :mod:`relaysync.testing.method_faults`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

if TYPE_CHECKING:
    from .core import SimCore
    from .server import Connection
    from .sessions import Session

logger = logging.getLogger("relaysync.simulator")

DISCONNECT_GRACE = 2.0


def drop_connections(core: SimCore, session_id: Optional[str] = None) -> int:
    """Abort sockets without a close handshake (all sockets when ``session_id`` is None,
    authenticated or not).

    Returns:
        How many sockets were aborted.
    """
    conns = core.target_connections(session_id, include_unauthenticated=True)
    for conn in conns:
        logger.info("fault: dropping socket %d", conn.id)
        conn.abort()
    return len(conns)


def send_disconnect(core: SimCore, restart: bool = False, session_id: Optional[str] = None) -> int:
    """Send ``signalwire.disconnect {restart}``; close each socket when the client acks
    it or after two seconds. ``restart=True`` also makes the session's protocol unknown.

    Returns:
        How many sockets were told.
    """
    conns = core.target_connections(session_id)
    for conn in conns:
        _disconnect(core, conn, restart)
    return len(conns)


def _disconnect(core: SimCore, conn: Connection[Session], restart: bool) -> None:
    def close(_frame: Optional[Dict[str, Any]] = None) -> None:
        timer.cancel()
        conn.close(1001, "server disconnect")

    timer = core.call_later(DISCONNECT_GRACE, close)
    session = conn.session
    core.send_request(conn, "signalwire.disconnect", {"restart": restart}, close)
    if restart and session is not None:
        core.forget(session)


def go_silent(core: SimCore, session_id: Optional[str] = None) -> int:
    """Half-open the sockets: keep them open but read, answer and send nothing.

    Returns:
        How many sockets went silent.
    """
    conns = core.target_connections(session_id)
    for conn in conns:
        logger.info("fault: socket %d goes silent", conn.id)
        conn.silent = True
    return len(conns)


def wake(core: SimCore, session_id: Optional[str] = None) -> int:
    """Undo :func:`go_silent`; events held back meanwhile are sent.

    Returns:
        How many sockets woke up.
    """
    conns = [c for c in core.target_connections(session_id) if c.silent]
    for conn in conns:
        conn.silent = False
        if conn.session is not None:
            core.flush_unsent(conn.session)
    return len(conns)


def push_event(
    core: SimCore, event_type: str, params: Dict[str, Any], session_id: Optional[str] = None
) -> List[str]:
    """Send a ``signalwire.event`` (acked and redelivered like any other).

    Returns:
        The event ids, one per session.
    """
    if session_id is not None:
        return [core.send_event(core.session(session_id), event_type, params)]
    return [
        core.send_event(conn.session, event_type, params)
        for conn in core.target_connections(None)
        if conn.session is not None
    ]


def push_frame(
    core: SimCore, frame: Union[Dict[str, Any], str, bytes], session_id: Optional[str] = None
) -> int:
    """Send a raw frame: a dict as JSON, a str verbatim, bytes as a binary frame.

    Returns:
        How many sockets it was sent to.
    """
    return sum(core.write(conn, frame) for conn in core.target_connections(session_id))
