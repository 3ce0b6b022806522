"""Session state kept across reconnects: what ``signalwire.connect`` needs to resume."""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..constants import PROTOCOL_VERSION


class Session:
    """What a reconnect needs to resume: protocol, authorization state, contexts.

    Changed under its own lock (the reader thread and a caller changing contexts may
    race); read from any thread without it (each attribute read is one reference).
    """

    __slots__ = ("_lock", "authorization_state", "contexts", "identity", "protocol", "resumed")

    def __init__(self, contexts: Sequence[str]) -> None:
        self._lock = threading.Lock()
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
        with self._lock:
            if self.contexts:
                params["contexts"] = list(self.contexts)
            if self.protocol:
                params["protocol"] = self.protocol
                if self.authorization_state:
                    params["authorization_state"] = self.authorization_state
        return params

    def opened(self, protocol: str, identity: Optional[str], *, resumed: bool) -> None:
        """Record the answer to ``signalwire.connect``."""
        with self._lock:
            self.protocol = protocol
            self.identity = identity
            self.resumed = resumed

    def keep_authorization_state(self, blob: str) -> None:
        """Keep the latest ``authorization_state`` blob for the next resume."""
        with self._lock:
            self.authorization_state = blob

    def update_contexts(self, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Change the contexts subscribed on every future (re)connect, atomically."""
        with self._lock:
            kept = [c for c in self.contexts if c not in remove]
            self.contexts = list(dict.fromkeys([*kept, *add]))

    def forget(self) -> None:
        """Drop the resume state so the next connect starts a fresh session."""
        with self._lock:
            self.protocol = None
            self.authorization_state = None

    def __repr__(self) -> str:
        return f"Session(protocol={self.protocol!r}, contexts={self.contexts!r})"
