"""The simulator's frame layer: parse, journal, dispatch, apply method faults, reply.

:class:`FrameDispatch` sits on :class:`relaysync.testing.sessiontable.SessionTable` and
under :class:`relaysync.testing.core.SimCore` (which answers ``signalwire.connect``). It
turns each client frame into a handler call (unwrapping ``signalwire.execute``), applies
the queued method faults (delay, error object or error result), answers a method nobody
registered with JSON-RPC ``-32601``, sends replies and server requests, and routes client
responses to their callbacks or event acks. Traffic of control sessions skips the journal
and the method faults, and only control sessions may reach ``simulator.*`` methods. Loop
thread only unless a docstring says "any thread".
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable, Dict, Optional, Union

from ..wire._json import encode
from .journal import Journal
from .method_faults import Failure, MethodFaults
from .server import Connection
from .sessions import RpcFault, Session, auth_failed, control_credentials_ok
from .sessiontable import SessionTable, is_control

__all__ = ["CLOSE_AUTH_FAILED", "CONTROL_PREFIX", "FrameDispatch", "Handler", "Params"]

logger = logging.getLogger("relaysync.simulator")

Params = Dict[str, Any]
Handler = Callable[[Session, Params], Union[Params, "asyncio.Future[Params]"]]

MAX_PENDING_REQUESTS = 1_000
CLOSE_AUTH_FAILED = 1008
CONTROL_PREFIX = "simulator."


def _valid_id(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


class FrameDispatch(SessionTable):
    """Frame parsing, method dispatch, method faults and replies of the simulator.

    Args:
        project: the project id clients must present.
        control_token: the token of remote-control sessions (``None``: no control).
        resume_window: seconds a session without a socket stays resumable.
    """

    def __init__(self, *, project: str, control_token: Optional[str], resume_window: float) -> None:
        super().__init__(resume_window=resume_window)
        self.project = project
        self.control_token = control_token
        self.journal = Journal()
        self.faults = MethodFaults()
        self._methods: Dict[str, Handler] = {}

    def register_method(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(session, params)`` (its return is the result).

        Args:
            method: JSON-RPC method name.
            handler: runs on the loop thread; raise :class:`RpcFault` for an error object.
        """
        self._methods[method] = handler

    def method_handler(self, method: str) -> Optional[Handler]:
        """The handler registered for ``method``, if any (for methods run by the
        simulator itself, such as a digit binding's ``bind_method``)."""
        return self._methods.get(method)

    # -- sending ----------------------------------------------------------------------

    def write(self, conn: Connection[Session], frame: Union[Params, str, bytes]) -> bool:
        """Journal and send one frame verbatim, unless the socket is gone or silent.

        Returns:
            Whether the frame was queued on the socket.
        """
        if conn.closed or conn.silent:
            return False
        data = encode(frame) if isinstance(frame, dict) else frame
        if not conn.send(data):
            return False
        if self.journal.enabled and not is_control(conn):
            recorded = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
            self.journal.record("out", conn.session.id if conn.session else None, recorded)
        return True

    def send_request(
        self,
        conn: Connection[Session],
        method: str,
        params: Params,
        on_response: Optional[Callable[[Params], None]] = None,
    ) -> Optional[str]:
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

    def _reply(self, conn: Connection[Session], frame_id: Any, result: Params) -> None:
        if _valid_id(frame_id):
            self.write(conn, {"jsonrpc": "2.0", "id": frame_id, "result": result})

    def _reply_error(self, conn: Connection[Session], frame_id: Any, fault: RpcFault) -> None:
        if _valid_id(frame_id):
            self.write(conn, {"jsonrpc": "2.0", "id": frame_id, "error": fault.to_error()})

    # -- receiving --------------------------------------------------------------------

    def on_message(self, conn: Connection[Session], data: Union[str, bytes]) -> None:
        """Parse, journal and handle one client frame (loop thread); never raises."""
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        try:
            frame: Any = json.loads(text)
        except ValueError:
            frame = None
        if self.journal.enabled and not self._control_traffic(conn, frame):
            self.journal.record(
                "in",
                conn.session.id if conn.session else None,
                frame if isinstance(frame, dict) else text,
            )
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
            self._reply_error(
                conn,
                frame_id,
                RpcFault(
                    -32002, "Authentication required", {"signalwire_error_code": "AUTH_REQUIRED"}
                ),
            )
            conn.close(CLOSE_AUTH_FAILED, "authentication required")
        else:
            self._dispatch(conn, frame_id, method, params)

    def _on_response(self, conn: Connection[Session], frame: Params) -> None:
        frame_id = frame.get("id")
        callback = conn.pending.pop(frame_id, None) if isinstance(frame_id, str) else None
        if callback is not None:
            callback(frame)
            return
        session = conn.session
        if session is not None and isinstance(frame_id, str) and session.ack(frame_id):
            return
        logger.debug("socket %d answered unknown id %r; ignored", conn.id, frame_id)

    def _control_traffic(self, conn: Connection[Session], frame: Any) -> bool:
        """Whether ``frame`` on ``conn`` is a control session's, or authenticates one."""
        if conn.session is not None:
            return conn.session.control
        params = frame.get("params") if isinstance(frame, dict) else None
        return (
            isinstance(params, dict)
            and frame.get("method") == "signalwire.connect"
            and control_credentials_ok(
                params.get("authentication"), self.project, self.control_token
            )
        )

    # -- dispatch ---------------------------------------------------------------------

    def _dispatch(
        self, conn: Connection[Session], frame_id: Any, method: str, params: Params
    ) -> None:
        if method == "signalwire.execute":
            inner, inner_params = params.get("method"), params.get("params", {})
            if not isinstance(inner, str) or not isinstance(inner_params, dict):
                self._reply_error(
                    conn,
                    frame_id,
                    RpcFault(-32602, "Invalid params: signalwire.execute needs method and params"),
                )
                return
            method, params = inner, inner_params
        control = self._control_traffic(conn, {"method": method, "params": params})
        delay, failure = (0.0, None) if control else self.faults.take(method)
        session = conn.session
        if delay > 0:
            self.call_later(
                delay, lambda: self._invoke(conn, session, frame_id, method, params, failure)
            )
        else:
            self._invoke(conn, session, frame_id, method, params, failure)

    def _invoke(
        self,
        conn: Connection[Session],
        session: Optional[Session],
        frame_id: Any,
        method: str,
        params: Params,
        failure: Optional[Failure],
    ) -> None:
        if failure is not None:
            if failure.as_result:
                self._reply(conn, frame_id, {"code": str(failure.code), "message": failure.message})
            else:
                self._reply_error(conn, frame_id, RpcFault(failure.code, failure.message))
                if method == "signalwire.connect":
                    conn.close(CLOSE_AUTH_FAILED, "connect rejected")
            return
        if method == "signalwire.connect":
            self._connect(conn, frame_id, params)
            return
        handler = self._methods.get(method)
        if handler is None or (
            method.startswith(CONTROL_PREFIX) and (session is None or not session.control)
        ):
            self._reply_error(conn, frame_id, RpcFault(-32601, f"Method not found: {method}"))
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
                    lambda done: self._reply_when_done(conn, frame_id, method, done)
                )
            else:
                self._reply(conn, frame_id, result)

    def _reply_when_done(
        self, conn: Connection[Session], frame_id: Any, method: str, done: asyncio.Future[Params]
    ) -> None:
        error = RpcFault(-32603, "Cancelled") if done.cancelled() else done.exception()
        if error is None:
            self._reply(conn, frame_id, done.result())
            return
        if not isinstance(error, RpcFault):
            logger.error("simulator handler for %s failed", method, exc_info=error)
            error = RpcFault(-32603, "Internal error")
        self._reply_error(conn, frame_id, error)

    def _connect(self, conn: Connection[Session], frame_id: Any, params: Params) -> None:
        """Answer ``signalwire.connect`` on ``conn`` (the session layer overrides this)."""
        raise NotImplementedError
