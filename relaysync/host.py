"""The narrow interface a call (and the router) needs from the client that owns it.

A :class:`~relaysync.call.Call` is given a :class:`CallHost` instead of the whole
:class:`~relaysync.client.RelayClient`: a way to send requests, the worker pool for
callbacks, the registry of live calls, the recorded frames of a call, and a few
settings. :class:`ClientHost` is the client's implementation: each method is the named
step from a call method to :class:`~relaysync.wire.connection.Connection`, which writes the
socket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Protocol

from ._fork import ForkGuard
from .wire.flowlog import FlowEntry
from .workers import WorkerPool

if TYPE_CHECKING:
    from .wire.connection import Connection

#: Events a call keeps for ``call.events()`` unless ``RelayClient(call_history=)`` says.
DEFAULT_CALL_HISTORY = 1_000


class CallDirectory(Protocol):
    """The part of the call registry a call uses (calls are typed ``Any`` here so this
    module does not import the call module)."""

    def get(self, call_id: Optional[str]) -> Optional[Any]:
        """The live call with this id, if any."""

    def remove(self, call: Any) -> None:
        """Forget a call."""

    def adopt_peer(self, peer: Mapping[str, Any]) -> Optional[Any]:
        """The call for a peer description ``{call_id, node_id, tag?, device?}``."""

    def watch_tag(self, tag: str) -> None:
        """Create calls for legs whose state events carry ``tag``."""

    def unwatch_tag(self, tag: str) -> None:
        """Undo one :meth:`watch_tag`."""


class CallHost(Protocol):
    """What calls need from their client.

    Attributes:
        pool: the worker pool that runs callbacks.
        registry: the live calls.
        request_timeout: the default timeout of one request, in seconds.
        fork_guard: the client's process check; calls refuse use in a forked child.
        call_history: how many events each call keeps for ``call.events()``.
    """

    pool: WorkerPool
    registry: CallDirectory
    request_timeout: float
    fork_guard: ForkGuard
    call_history: int

    def execute(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send a request and block for its checked result.

        Raises:
            RelayError: the server answered with an error or a non-2xx code.
            RelayConnectionError: the socket was lost, or the client closed.
            RelayTimeoutError: no answer within ``timeout`` (``None``: the default).
            ForkedClientError: used in a child process forked after the client was made.
        """

    def send_nowait(self, method: str, params: Mapping[str, Any]) -> None:
        """Send a request without waiting for its answer (usable on the reader thread)."""

    def flow_entries(self, call_id: str) -> List[FlowEntry]:
        """The frames recorded for a call, oldest first (for its call-flow diagram)."""


class ClientHost:
    """The :class:`CallHost` of a :class:`~relaysync.client.RelayClient`.

    Args:
        connection: the client's connection; every request goes through it.
        pool: the worker pool that runs callbacks.
        registry: the live calls.
        fork_guard: the client's process check.
        call_history: how many events each call keeps.
    """

    def __init__(
        self,
        connection: Connection,
        pool: WorkerPool,
        registry: CallDirectory,
        fork_guard: ForkGuard,
        call_history: int = DEFAULT_CALL_HISTORY,
    ) -> None:
        self._connection = connection
        self.pool = pool
        self.registry = registry
        self.request_timeout = connection.request_timeout
        self.fork_guard = fork_guard
        self.call_history = call_history

    def execute(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send a request and block for its checked result (see :class:`CallHost`)."""
        self.fork_guard.check(method)
        return self._connection.execute(method, params, timeout)

    def send_nowait(self, method: str, params: Mapping[str, Any]) -> None:
        """Send a request without waiting for its answer (usable on the reader thread)."""
        self._connection.send_nowait(method, params)

    def flow_entries(self, call_id: str) -> List[FlowEntry]:
        """The frames recorded for a call, oldest first."""
        return self._connection.flows.entries(call_id)


__all__ = ["DEFAULT_CALL_HISTORY", "CallDirectory", "CallHost", "ClientHost"]
