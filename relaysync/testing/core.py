"""The simulator's RELAY session layer: authentication, resume, events, acks, pings.

:class:`SimCore` is built in layers: :mod:`relaysync.testing.sessiontable` (sockets,
session lifetimes, listeners, snapshots), :mod:`relaysync.testing.frame_dispatch` (frame
parsing, method dispatch, method faults, replies) and this module (``signalwire.connect``,
resume, ``receive``/``unreceive``, event delivery, pings). The session records themselves
are in :mod:`relaysync.testing.sessions`. Every method of
:class:`SimCore` runs on the simulator's loop thread unless its docstring says "any
thread"; call handlers registered by the call engine run there too.

Remote control: a socket that authenticates with ``{project, token: control_token}``
gets a *control* session (see :mod:`relaysync.testing.control`). Only control sessions
may call ``simulator.*`` methods (others get ``-32601``); control sessions are never
resumable, get no inbound offers, and are left out of session snapshots, connection and
authentication counts, socket faults, method faults and the journal. A handler may
return an :class:`asyncio.Future` to answer later (its result, or its ``RpcFault``).
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from typing import Any, List, Optional

from .frame_dispatch import CLOSE_AUTH_FAILED, FrameDispatch, Params
from .lint import LintLog
from .server import Connection
from .sessions import (
    PendingEvent,
    RpcFault,
    Session,
    auth_failed,
    contexts_param,
    control_credentials_ok,
    credentials_ok,
)

__all__ = ["SimCore"]

logger = logging.getLogger("relaysync.simulator")

CLOSE_TAKEN_OVER = 4000


class SimCore(FrameDispatch):
    """Sessions, authentication, method dispatch and event delivery of the simulator.

    Args:
        project: the project id clients must present.
        token: the API token clients must present.
        jwt_token: the JWT clients may present instead.
        time_scale: factor applied to every simulated duration (media, the caller's
            reactions, collect and record timeouts, message delays).
        ping_interval: seconds between server pings to each authenticated socket
            (0 disables them).
        resume_window: seconds a session without a socket stays resumable.
        unknown_protocol: ``"fresh"`` (start a new session) or ``"error"`` (reject with
            ``AUTH_REQUIRED``) when a client resumes a protocol the simulator does not know.
        control_token: the token of remote-control sessions (``None``: no control).
        strict: refuse params no RELAY document names instead of recording them as lint.
    """

    def __init__(
        self,
        project: str,
        token: str,
        jwt_token: str,
        *,
        time_scale: float = 1.0,
        ping_interval: float = 30.0,
        resume_window: float = 60.0,
        unknown_protocol: str = "fresh",
        control_token: Optional[str] = None,
        strict: bool = False,
    ) -> None:
        super().__init__(project=project, control_token=control_token, resume_window=resume_window)
        #: Unknown params accepted (or, in strict mode, refused) by the method checks.
        self.lint = LintLog(strict)
        self.token = token
        self.jwt_token = jwt_token
        self.node_id = f"relaysync-sim-{secrets.token_hex(3)}"
        self.space_id = str(uuid.uuid4())
        self.time_scale = time_scale
        self.ping_interval = ping_interval
        self.unknown_protocol = unknown_protocol
        self._methods.update(
            {
                "signalwire.receive": self._receive,
                "signalwire.unreceive": self._unreceive,
                "signalwire.ping": lambda _session, _params: {"timestamp": time.time()},
            }
        )

    # -- contract API (loop thread unless noted) -------------------------------------

    def scale(self, seconds: float) -> float:
        """Return ``seconds * time_scale`` (any thread)."""
        return seconds * self.time_scale

    def send_event(self, session: Session, event_type: str, params: Params) -> str:
        """Send a ``signalwire.event`` to ``session`` and keep it until the client acks it.

        Offline (or silent) sessions get it after they resume (or wake), in order.

        Args:
            session: the target session.
            event_type: e.g. ``"calling.call.state"``.
            params: the inner event params.

        Returns:
            The event's JSON-RPC id.
        """
        return self._queue_event(session, event_type, params, session.protocol)

    def sessions_for_context(self, context: str) -> List[Session]:
        """Online sessions subscribed to ``context``, oldest first."""
        return [s for s in self._live.values() if s.online and context in s.contexts]

    # -- helpers for the fault injectors and the facade -------------------------------

    def flush_unsent(self, session: Session) -> None:
        """Send the events that were held back while the socket was silent."""
        conn = session.connection
        if conn is not None:
            for item in session.backlog(unsent_only=True):
                item.sent = self.write(conn, item.frame)

    # -- session layer methods --------------------------------------------------------

    def _receive(self, session: Session, params: Params) -> Params:
        session.contexts.update(contexts_param(params))
        self._publish()
        return {"code": "200", "message": "Receiving events"}

    def _unreceive(self, session: Session, params: Params) -> Params:
        session.contexts.difference_update(contexts_param(params))
        self._publish()
        return {"code": "200", "message": "Unreceiving events"}

    def _connect(self, conn: Connection[Session], frame_id: Any, params: Params) -> None:
        """Authenticate ``conn`` and attach it to a new or resumed session."""
        auth = params.get("authentication")
        control = control_credentials_ok(auth, self.project, self.control_token)
        try:
            if not control and not credentials_ok(auth, self.project, self.token, self.jwt_token):
                raise auth_failed()
            contexts = [] if control else contexts_param(params)
            session = None if control else self._resume_target(params)
        except RpcFault as fault:
            logger.info("signalwire.connect rejected on socket %d: %s", conn.id, fault.message)
            self._reply_error(conn, frame_id, fault)
            conn.close(CLOSE_AUTH_FAILED, fault.message)
            return
        restored = session is not None
        if session is None:
            session = Session(set())
            if control:  # never resumable, never listed: it expires with its socket
                session.control = session.forgotten = True
            else:
                self._resumable[session.id] = session
                self._live[session.id] = session
        session.contexts.update(contexts)
        self._attach(conn, session)
        if not control:
            with self._state:
                self._auth_count += 1
        self._reply(
            conn,
            frame_id,
            {
                "protocol": session.protocol,
                "identity": f"{session.sessionid}@{self.node_id}",
                "sessionid": session.sessionid,
                "session_restored": restored,
                "nodeid": self.node_id,
                "authorization": {"project_id": self.project},
            },
        )
        backlog = self._rotate_auth_state(session)
        for item in backlog:
            item.sent = self.write(conn, item.frame)
        if conn.ping_timer is None:
            self._schedule_ping(conn)
        logger.info(
            "%ssession %s %s on socket %d",
            "control " if control else "",
            session.id,
            "resumed" if restored else "started",
            conn.id,
        )
        self._publish()
        self._notify(session, "online")

    def _resume_target(self, params: Params) -> Optional[Session]:
        protocol = params.get("protocol")
        if not isinstance(protocol, str) or not protocol:
            return None
        session = self._resumable.get(protocol)
        if session is None:
            if self.unknown_protocol == "error":
                raise auth_failed()
            return None
        if not session.accepts_auth_state(params.get("authorization_state")):
            raise RpcFault(-32003, "Requester validation failed")
        return session

    def _attach(self, conn: Connection[Session], session: Session) -> None:
        previous = conn.session
        if previous is not None and previous is not session and previous.connection is conn:
            self._go_offline(previous)
        old = session.connection
        if old is not None and old is not conn:
            old.session = None
            if old.ping_timer is not None:
                old.ping_timer.cancel()
            old.close(CLOSE_TAKEN_OVER, "session resumed on another connection")
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        session.connection = conn
        conn.session = session

    def _rotate_auth_state(self, session: Session) -> List[PendingEvent]:
        """Issue and send a new authorization blob; return the backlog to send after it."""
        blob, backlog = session.rotate_auth_state()
        session.auth_state_sent(
            self._queue_event(
                session, "signalwire.authorization.state", {"authorization_state": blob}, None
            )
        )
        return backlog

    # -- events and pings -------------------------------------------------------------

    def _queue_event(
        self, session: Session, event_type: str, params: Params, channel: Optional[str]
    ) -> str:
        event_id = self.new_id()
        outer: Params = {"event_type": event_type}
        if channel is not None:
            outer["event_channel"] = channel
        outer.update(
            timestamp=time.time(), project_id=self.project, space_id=self.space_id, params=params
        )
        if session.expired:
            logger.debug("event %s for expired session %s dropped", event_type, session.id)
            return event_id
        item = session.hold(
            event_id,
            {"jsonrpc": "2.0", "id": event_id, "method": "signalwire.event", "params": outer},
        )
        if session.connection is not None:
            item.sent = self.write(session.connection, item.frame)
        return event_id

    def _schedule_ping(self, conn: Connection[Session]) -> None:
        if self.ping_interval > 0 and not conn.closed:
            conn.ping_timer = self.call_later(self.ping_interval, lambda: self._ping(conn))

    def _ping(self, conn: Connection[Session]) -> None:
        if conn.closed or conn.session is None:
            return
        self.send_request(conn, "signalwire.ping", {})
        self._schedule_ping(conn)
