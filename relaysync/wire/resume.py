"""Session state kept across reconnects, and the handshake's failure kinds."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from .._log import logger
from ..constants import PROTOCOL_VERSION
from ..errors import RelayError
from ..rpc import PendingRequest


class AuthRejected(RelayError):
    """The server refused our credentials during the handshake."""


class StaleResume(RelayError):
    """The server refused our saved protocol/authorization_state (-32003)."""


class Closing(Exception):
    """close() was called while connecting."""


class LoggedRequest(PendingRequest):
    """A request nobody waits for: an error answer is logged instead of raised."""

    __slots__ = ()

    def set_error(self, error: BaseException) -> None:
        """Log the error, then settle with it."""
        logger.warning("relaysync: %s failed: %s", self.method, error)
        super().set_error(error)


class Session:
    """What a reconnect needs to resume: protocol, authorization state, contexts."""

    __slots__ = ("authorization_state", "contexts", "identity", "protocol", "resumed")

    def __init__(self, contexts: Sequence[str]) -> None:
        self.protocol: Optional[str] = None
        self.authorization_state: Optional[str] = None
        self.identity: Optional[str] = None
        self.contexts: List[str] = list(dict.fromkeys(contexts))
        self.resumed = True

    def connect_params(self, authentication: Mapping[str, str], agent: str) -> Dict[str, Any]:
        """The ``signalwire.connect`` params: resume state only when there is some."""
        params: Dict[str, Any] = {
            "version": dict(PROTOCOL_VERSION),
            "agent": agent,
            "event_acks": True,
            "authentication": dict(authentication),
        }
        if self.contexts:
            params["contexts"] = list(self.contexts)
        if self.protocol:
            params["protocol"] = self.protocol
            if self.authorization_state:
                params["authorization_state"] = self.authorization_state
        return params

    def forget(self) -> None:
        """Drop the resume state so the next connect starts a fresh session."""
        self.protocol = None
        self.authorization_state = None

    def __repr__(self) -> str:
        return f"Session(protocol={self.protocol!r}, contexts={self.contexts!r})"
