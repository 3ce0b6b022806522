"""RELAY sessions as the simulator keeps them, and the checks of ``signalwire.connect``.

:class:`Session` holds one session's subscriptions, its unacked events and its
authorization blob; the flows (connect, resume, expiry) live in
:mod:`relaysync.testing.core`. Loop thread only, except :class:`SessionInfo`.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hmac
import logging
import secrets
import uuid
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, OrderedDict, Set, Tuple

import attrs

if TYPE_CHECKING:
    from .server import Connection

logger = logging.getLogger("relaysync.simulator")

Params = Dict[str, Any]
MAX_PENDING_EVENTS = 10_000


class RpcFault(Exception):
    """Raise from a method handler to answer a JSON-RPC *error* object.

    Args:
        code: JSON-RPC error code (e.g. ``-32602``).
        message: error message.
        data: optional ``data`` member of the error object.
    """

    def __init__(self, code: int, message: str, data: Optional[Params] = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.data = data

    def to_error(self) -> Params:
        """Return the JSON-RPC ``error`` object."""
        error: Params = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def auth_failed() -> RpcFault:
    """The ``-32002`` ``AUTH_REQUIRED`` error answered to a rejected ``signalwire.connect``."""
    return RpcFault(-32002, "Authentication failed", {"signalwire_error_code": "AUTH_REQUIRED"})


def contexts_param(params: Params, key: str = "contexts") -> List[str]:
    """Return ``params[key]`` (default ``[]``), which must be a list of strings.

    Raises:
        RpcFault: ``-32602`` ``INVALID_PARAMS`` for anything else.
    """
    value = params.get(key, [])
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise RpcFault(
            -32602,
            f"Invalid params: {key} must be a list of strings",
            {"signalwire_error_code": "INVALID_PARAMS"},
        )
    return value


def _str_equal(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def credentials_ok(auth: Any, project: str, token: str, jwt_token: str) -> bool:
    """Whether a connect ``authentication`` block presents the expected credentials:
    ``{project, token}``, or ``{jwt_token}`` (with an optional matching ``project``)."""
    if not isinstance(auth, dict):
        return False
    if "jwt_token" in auth:
        given_project = auth.get("project")
        return _str_equal(auth["jwt_token"], jwt_token) and (
            given_project is None or _str_equal(given_project, project)
        )
    return _str_equal(auth.get("project"), project) and _str_equal(auth.get("token"), token)


def control_credentials_ok(auth: Any, project: str, control_token: Optional[str]) -> bool:
    """Whether a connect ``authentication`` block is ``{project, token: control_token}``
    (a remote-control session, see :mod:`relaysync.testing.control`)."""
    return (
        control_token is not None
        and isinstance(auth, dict)
        and "jwt_token" not in auth
        and _str_equal(auth.get("project"), project)
        and _str_equal(auth.get("token"), control_token)
    )


@attrs.frozen
class SessionInfo:
    """A snapshot of one session, safe to read from any thread.

    Attributes:
        id: the session id (equal to its protocol string).
        protocol: the ``protocol`` value given to the client.
        contexts: subscribed contexts.
        online: whether an authenticated socket is attached.
    """

    id: str
    protocol: str
    contexts: FrozenSet[str]
    online: bool


class PendingEvent:
    """An event frame waiting for its ack; ``sent`` is False while it was held back."""

    __slots__ = ("frame", "sent")

    def __init__(self, frame: Params) -> None:
        """Hold ``frame``, not yet sent."""
        self.frame = frame
        self.sent = False


class Session:
    """One RELAY session; it survives reconnects by protocol resume. Loop thread only.

    Attributes:
        id: equal to ``protocol``.
        protocol: ``"signalwire_<hex>_<uuid4>"``.
        contexts: subscribed contexts (connect contexts + receive - unreceive).
        sessionid: the ``sessionid`` of the connect result.
        connection: the attached socket, if online.
        expiry: timer that expires the session while it is offline.
        expired: the session is gone for good.
        forgotten: its protocol is unknown to resumes (``disconnect restart``).
        control: authenticated with the control token: may call ``simulator.*``, gets no
            offers, is not resumable and is left out of snapshots, faults and the journal.
    """

    def __init__(self, contexts: Set[str]) -> None:
        """Create a session with a fresh protocol, subscribed to ``contexts``."""
        self.protocol = f"signalwire_{secrets.token_hex(3)}_{uuid.uuid4()}"
        self.id = self.protocol
        self.contexts = contexts
        self.sessionid = str(uuid.uuid4())
        self.connection: Optional[Connection[Session]] = None
        self.expiry: Optional[asyncio.TimerHandle] = None
        self.expired = False
        self.forgotten = False
        self.control = False
        self._pending: OrderedDict[str, PendingEvent] = collections.OrderedDict()
        self._auth_state = ""
        self._auth_previous: Optional[str] = None  # valid until its successor is acked
        self._auth_event_id: Optional[str] = None

    @property
    def online(self) -> bool:
        """Whether an authenticated socket is attached."""
        return self.connection is not None

    def __repr__(self) -> str:
        return f"<Session {self.id} online={self.online} contexts={sorted(self.contexts)}>"

    # -- unacked events ---------------------------------------------------------------

    def hold(self, event_id: str, frame: Params) -> PendingEvent:
        """Keep an event until it is acked (the oldest is dropped past 10,000)."""
        while len(self._pending) >= MAX_PENDING_EVENTS:
            dropped, _item = self._pending.popitem(last=False)
            logger.warning("session %s: unacked event %s dropped (backlog full)", self.id, dropped)
        item = PendingEvent(frame)
        self._pending[event_id] = item
        return item

    def ack(self, event_id: str) -> bool:
        """Forget an acked event. Returns whether it was pending."""
        if self._pending.pop(event_id, None) is None:
            return False
        if event_id == self._auth_event_id:
            self._auth_previous = None
        return True

    def backlog(self, unsent_only: bool = False) -> List[PendingEvent]:
        """Pending events in order (all, or only those never written)."""
        return [item for item in self._pending.values() if not (unsent_only and item.sent)]

    def drop_pending(self) -> None:
        """Forget every pending event."""
        self._pending.clear()

    # -- authorization state ----------------------------------------------------------

    def accepts_auth_state(self, supplied: Any) -> bool:
        """Whether a resume's ``authorization_state`` is acceptable (absent or empty is)."""
        if supplied in (None, ""):
            return True
        return supplied in (self._auth_state, self._auth_previous)

    def rotate_auth_state(self) -> Tuple[str, List[PendingEvent]]:
        """Issue a new blob; its predecessor stays valid until the new one is acked.

        Returns:
            ``(blob, backlog)``: the new blob, and the pending events to deliver after it
            (the event that carried the previous blob is dropped).
        """
        if self._auth_event_id is not None:
            self._pending.pop(self._auth_event_id, None)
        self._auth_previous = self._auth_state or None
        self._auth_state = (
            base64.b64encode(secrets.token_bytes(24)).decode()
            + ":"
            + base64.b64encode(secrets.token_bytes(16)).decode()
        )
        return self._auth_state, self.backlog()

    def auth_state_sent(self, event_id: str) -> None:
        """Record the id of the event carrying the current blob."""
        self._auth_event_id = event_id
