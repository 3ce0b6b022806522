"""The simulator's RELAY session layer: authentication, resume, dispatch, events, acks.

The session records themselves are in :mod:`relaysync.testing.sessions` (re-exported
here: ``Session``, ``SessionInfo``, ``RpcFault``). Every method of :class:`SimCore` runs
on the simulator's loop thread unless its docstring says "any thread"; call handlers
registered by the call engine run there too.

Remote control: a socket that authenticates with ``{project, token: control_token}``
gets a *control* session (see :mod:`relaysync.testing.control`). Only control sessions
may call ``simulator.*`` methods (others get ``-32601``); control sessions are never
resumable, get no inbound offers, and are left out of session snapshots, connection and
authentication counts, socket faults, method faults and the journal. A handler may
return an :class:`asyncio.Future` to answer later (its result, or its ``RpcFault``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, TypeVar, Union

from .faults import Failure, MethodFaults
from .journal import Journal
from .server import Connection, LoopThread
from .sessions import (
    PendingEvent,
    RpcFault,
    Session,
    SessionInfo,
    auth_failed,
    contexts_param,
    control_credentials_ok,
    credentials_ok,
)

__all__ = ["Handler", "RpcFault", "Session", "SessionInfo", "SessionListener", "SimCore"]

logger = logging.getLogger("relaysync.simulator")

T = TypeVar("T")
Params = Dict[str, Any]
Handler = Callable[[Session, Params], Union[Params, "asyncio.Future[Params]"]]
SessionListener = Callable[[Session, str], None]

MAX_PENDING_REQUESTS = 1_000
CLOSE_AUTH_FAILED = 1008
CLOSE_TAKEN_OVER = 4000
CONTROL_PREFIX = "simulator."


def _is_control(conn: Connection) -> bool:
    return conn.session is not None and conn.session.control


def _valid_id(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


class SimCore:
    """Sessions, authentication, method dispatch and event delivery of the simulator.

    Args:
        project: the project id clients must present.
        token: the API token clients must present.
        jwt_token: the JWT clients may present instead.
        time_scale: factor applied to simulated media durations.
        ping_interval: seconds between server pings to each authenticated socket
            (0 disables them).
        resume_window: seconds a session without a socket stays resumable.
        unknown_protocol: ``"fresh"`` (start a new session) or ``"error"`` (reject with
            ``AUTH_REQUIRED``) when a client resumes a protocol the simulator does not know.
        control_token: the token of remote-control sessions (``None``: no control).
    """

    def __init__(self, project: str, token: str, jwt_token: str, *, time_scale: float = 1.0,
                 ping_interval: float = 30.0, resume_window: float = 60.0,
                 unknown_protocol: str = "fresh", control_token: Optional[str] = None) -> None:
        self.project = project
        self.control_token = control_token
        self.token = token
        self.jwt_token = jwt_token
        self.node_id = f"relaysync-sim-{secrets.token_hex(3)}"
        self.space_id = str(uuid.uuid4())
        self.time_scale = time_scale
        self.ping_interval = ping_interval
        self.resume_window = resume_window
        self.unknown_protocol = unknown_protocol
        self.journal = Journal()
        self.faults = MethodFaults()
        self.runner = LoopThread()
        self._methods: Dict[str, Handler] = {
            "signalwire.receive": self._receive,
            "signalwire.unreceive": self._unreceive,
            "signalwire.ping": lambda _session, _params: {"timestamp": time.time()},
        }
        self._listeners: List[SessionListener] = []
        self._resumable: Dict[str, Session] = {}
        self._live: Dict[str, Session] = {}
        self._connections: Set[Connection] = set()
        self._state = threading.Condition()
        self._snapshot: Tuple[SessionInfo, ...] = ()
        self._connection_count = 0
        self._auth_count = 0

    # -- contract API (loop thread unless noted) -------------------------------------

    def scale(self, seconds: float) -> float:
        """Return ``seconds * time_scale`` (any thread)."""
        return seconds * self.time_scale

    def register_method(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(session, params)`` (its return is the result).

        Args:
            method: JSON-RPC method name.
            handler: runs on the loop thread; raise :class:`RpcFault` for an error object.
        """
        self._methods[method] = handler

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
        """Return a fresh UUID v4 string (any thread)."""
        return str(uuid.uuid4())

    def add_session_listener(self, fn: SessionListener) -> None:
        """Call ``fn(session, what)`` on the loop for ``"online"``, ``"offline"``, ``"expired"``."""
        self._listeners.append(fn)

    # -- helpers for the fault injectors and the facade -------------------------------

    def session(self, session_id: str) -> Session:
        """Return the live session ``session_id``.

        Raises:
            ValueError: no such session (never existed, or expired).
        """
        found = self._live.get(session_id)
        if found is None:
            raise ValueError(f"no live session {session_id!r}")
        return found

    def target_connections(self, session_id: Optional[str],
                           include_unauthenticated: bool = False) -> List[Connection]:
        """Sockets of ``session_id`` (empty when offline), or of every online session.

        Raises:
            ValueError: ``session_id`` names no live session.
        """
        if session_id is not None:
            conn = self.session(session_id).connection
            return [conn] if conn is not None else []
        if include_unauthenticated:
            return sorted((c for c in self._connections if not _is_control(c)),
                          key=lambda c: c.id)
        return [s.connection for s in self._live.values() if s.connection is not None]

    def write(self, conn: Connection, frame: Union[Params, str, bytes]) -> bool:
        """Journal and send one frame verbatim, unless the socket is gone or silent.

        Returns:
            Whether the frame was queued on the socket.
        """
        if conn.closed or conn.silent:
            return False
        data = json.dumps(frame, separators=(",", ":")) if isinstance(frame, dict) else frame
        if not conn.send(data):
            return False
        recorded = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        if not _is_control(conn):
            self.journal.record("out", conn.session.id if conn.session else None, recorded)
        return True

    def send_request(self, conn: Connection, method: str, params: Params,
                     on_response: Optional[Callable[[Params], None]] = None) -> Optional[str]:
        """Send a server request on ``conn``; ``on_response(frame)`` runs on the reply.

        Returns:
            The request id, or ``None`` if nothing could be sent.
        """
        request_id = self.new_id()
        frame = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        if not self.write(conn, frame):
            return None
        while len(conn.pending) >= MAX_PENDING_REQUESTS:
            conn.pending.pop(next(iter(conn.pending)))
        conn.pending[request_id] = on_response or (lambda _frame: None)
        return request_id

    def flush_unsent(self, session: Session) -> None:
        """Send the events that were held back while the socket was silent."""
        conn = session.connection
        if conn is not None:
            for item in session.backlog(unsent_only=True):
                item.sent = self.write(conn, item.frame)

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
        infos = tuple(SessionInfo(s.id, s.protocol, frozenset(s.contexts), s.online)
                      for s in self._live.values())
        with self._state:
            self._snapshot = infos
            self._connection_count = sum(not _is_control(c) for c in self._connections)
            self._state.notify_all()

    def _notify(self, session: Session, what: str) -> None:
        if session.control:
            return
        for listener in list(self._listeners):
            try:
                listener(session, what)
            except Exception:
                logger.exception("session listener failed on %s (%s)", session.id, what)

    # -- FrameSink --------------------------------------------------------------------

    def on_open(self, conn: Connection) -> None:
        """A socket connected (loop thread)."""
        self._connections.add(conn)
        logger.debug("socket %d opened from %s", conn.id, conn.ws.remote_address)
        self._publish()

    def on_close(self, conn: Connection) -> None:
        """A socket is gone: its session goes offline (loop thread)."""
        self._connections.discard(conn)
        if conn.ping_timer is not None:
            conn.ping_timer.cancel()
        session = conn.session
        if session is not None and session.connection is conn:
            self._go_offline(session)
        logger.debug("socket %d closed", conn.id)
        self._publish()

    def on_message(self, conn: Connection, data: Union[str, bytes]) -> None:
        """Parse, journal and handle one client frame (loop thread); never raises."""
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        try:
            frame: Any = json.loads(text)
        except ValueError:
            frame = None
        if not self._control_traffic(conn, frame):
            self.journal.record("in", conn.session.id if conn.session else None,
                                frame if isinstance(frame, dict) else text)
        if conn.silent:
            return
        if not isinstance(frame, dict):
            logger.debug("socket %d sent a frame that is not a JSON object", conn.id)
            return
        frame_id = frame.get("id")
        method = frame.get("method")
        params = frame.get("params", {})
        if method is None and ("result" in frame or "error" in frame):
            self._on_response(conn, frame)
        elif not isinstance(method, str) or not isinstance(params, dict):
            self._reply_error(conn, frame_id, RpcFault(-32600, "Invalid Request"))
        elif conn.session is None and method != "signalwire.connect":
            self._reply_error(conn, frame_id, RpcFault(
                -32002, "Authentication required", {"signalwire_error_code": "AUTH_REQUIRED"}))
            conn.close(CLOSE_AUTH_FAILED, "authentication required")
        else:
            self._dispatch(conn, frame_id, method, params)

    # -- dispatch ---------------------------------------------------------------------

    def _dispatch(self, conn: Connection, frame_id: Any, method: str, params: Params) -> None:
        if method == "signalwire.execute":
            inner, inner_params = params.get("method"), params.get("params", {})
            if not isinstance(inner, str) or not isinstance(inner_params, dict):
                self._reply_error(conn, frame_id, RpcFault(
                    -32602, "Invalid params: signalwire.execute needs method and params"))
                return
            method, params = inner, inner_params
        control = self._control_traffic(conn, {"method": method, "params": params})
        delay, failure = (0.0, None) if control else self.faults.take(method)
        session = conn.session
        if delay > 0:
            self.call_later(delay, lambda: self._invoke(conn, session, frame_id, method,
                                                        params, failure))
        else:
            self._invoke(conn, session, frame_id, method, params, failure)

    def _invoke(self, conn: Connection, session: Optional[Session], frame_id: Any, method: str,
                params: Params, failure: Optional[Failure]) -> None:
        if failure is not None:
            if failure.as_result:
                self._reply(conn, frame_id, {"code": str(failure.code),
                                             "message": failure.message})
            else:
                self._reply_error(conn, frame_id, RpcFault(failure.code, failure.message))
                if method == "signalwire.connect":
                    conn.close(CLOSE_AUTH_FAILED, "connect rejected")
            return
        if method == "signalwire.connect":
            self._connect(conn, frame_id, params)
            return
        handler = self._methods.get(method)
        if method.startswith(CONTROL_PREFIX) and (
                handler is None or session is None or not session.control):
            self._reply_error(conn, frame_id, RpcFault(-32601, "Method not found"))
            return
        if handler is None:
            self._reply(conn, frame_id, {"code": "200", "message": "OK"})
            return
        if session is None:  # cannot happen: unauthenticated sockets only reach connect
            self._reply_error(conn, frame_id, auth_failed())
            return
        try:
            result = handler(session, params)
        except RpcFault as fault:
            self._reply_error(conn, frame_id, fault)
        except Exception:
            logger.exception("simulator handler for %s failed", method)
            self._reply_error(conn, frame_id, RpcFault(-32603, "Internal error"))
        else:
            if isinstance(result, asyncio.Future):
                result.add_done_callback(
                    lambda done: self._reply_when_done(conn, frame_id, method, done))
            else:
                self._reply(conn, frame_id, result)

    def _reply_when_done(self, conn: Connection, frame_id: Any, method: str,
                         done: asyncio.Future[Params]) -> None:
        error = RpcFault(-32603, "Cancelled") if done.cancelled() else done.exception()
        if error is None:
            self._reply(conn, frame_id, done.result())
            return
        if not isinstance(error, RpcFault):
            logger.error("simulator handler for %s failed", method, exc_info=error)
            error = RpcFault(-32603, "Internal error")
        self._reply_error(conn, frame_id, error)

    def _control_traffic(self, conn: Connection, frame: Any) -> bool:
        """Whether ``frame`` on ``conn`` is a control session's, or authenticates one."""
        if conn.session is not None:
            return conn.session.control
        params = frame.get("params") if isinstance(frame, dict) else None
        return (isinstance(params, dict) and frame.get("method") == "signalwire.connect"
                and control_credentials_ok(params.get("authentication"), self.project,
                                           self.control_token))

    def _reply(self, conn: Connection, frame_id: Any, result: Params) -> None:
        if _valid_id(frame_id):
            self.write(conn, {"jsonrpc": "2.0", "id": frame_id, "result": result})

    def _reply_error(self, conn: Connection, frame_id: Any, fault: RpcFault) -> None:
        if _valid_id(frame_id):
            self.write(conn, {"jsonrpc": "2.0", "id": frame_id, "error": fault.to_error()})

    def _on_response(self, conn: Connection, frame: Params) -> None:
        frame_id = frame.get("id")
        callback = conn.pending.pop(frame_id, None) if isinstance(frame_id, str) else None
        if callback is not None:
            callback(frame)
            return
        session = conn.session
        if session is not None and isinstance(frame_id, str) and session.ack(frame_id):
            return
        logger.debug("socket %d answered unknown id %r; ignored", conn.id, frame_id)

    # -- session layer methods --------------------------------------------------------

    def _receive(self, session: Session, params: Params) -> Params:
        session.contexts.update(contexts_param(params))
        self._publish()
        return {"code": "200", "message": "Receiving events"}

    def _unreceive(self, session: Session, params: Params) -> Params:
        session.contexts.difference_update(contexts_param(params))
        self._publish()
        return {"code": "200", "message": "Unreceiving events"}

    def _connect(self, conn: Connection, frame_id: Any, params: Params) -> None:
        """Authenticate ``conn`` and attach it to a new or resumed session."""
        auth = params.get("authentication")
        control = control_credentials_ok(auth, self.project, self.control_token)
        try:
            if not control and not credentials_ok(auth, self.project, self.token,
                                                  self.jwt_token):
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
        self._reply(conn, frame_id, {
            "protocol": session.protocol,
            "identity": f"{session.sessionid}@{self.node_id}",
            "sessionid": session.sessionid,
            "session_restored": restored,
            "nodeid": self.node_id,
            "authorization": {"project_id": self.project},
        })
        backlog = self._rotate_auth_state(session)
        for item in backlog:
            item.sent = self.write(conn, item.frame)
        if conn.ping_timer is None:
            self._schedule_ping(conn)
        logger.info("%ssession %s %s on socket %d", "control " if control else "", session.id,
                    "resumed" if restored else "started", conn.id)
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

    def _attach(self, conn: Connection, session: Session) -> None:
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
        session.auth_state_sent(self._queue_event(
            session, "signalwire.authorization.state", {"authorization_state": blob}, None))
        return backlog

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

    # -- events and pings -------------------------------------------------------------

    def _queue_event(self, session: Session, event_type: str, params: Params,
                     channel: Optional[str]) -> str:
        event_id = self.new_id()
        outer: Params = {"event_type": event_type}
        if channel is not None:
            outer["event_channel"] = channel
        outer.update(timestamp=time.time(), project_id=self.project, space_id=self.space_id,
                     params=params)
        if session.expired:
            logger.debug("event %s for expired session %s dropped", event_type, session.id)
            return event_id
        item = session.hold(event_id, {"jsonrpc": "2.0", "id": event_id,
                                       "method": "signalwire.event", "params": outer})
        if session.connection is not None:
            item.sent = self.write(session.connection, item.frame)
        return event_id

    def _schedule_ping(self, conn: Connection) -> None:
        if self.ping_interval > 0 and not conn.closed:
            conn.ping_timer = self.call_later(self.ping_interval, lambda: self._ping(conn))

    def _ping(self, conn: Connection) -> None:
        if conn.closed or conn.session is None:
            return
        self.send_request(conn, "signalwire.ping", {})
        self._schedule_ping(conn)
