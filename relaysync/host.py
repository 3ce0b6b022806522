"""The narrow interface a call (and the router) needs from the client that owns it.

A :class:`~relaysync.call.Call` is given a :class:`CallHost` instead of the whole
:class:`~relaysync.client.RelayClient`: a way to send requests, the worker pool for
callbacks, the registry of live calls, and the default request timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Protocol

import attrs

from ._fork import ForkGuard
from .rpc import InFlight, PendingRequest
from .workers import WorkerPool

if TYPE_CHECKING:
    from .diagram import CallFlow

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


Submit = Callable[
    [str, Mapping[str, Any], Optional[float], Optional[Callable[[PendingRequest], None]]], InFlight
]


@attrs.frozen
class CallHost:
    """What calls need from their client.

    Attributes:
        execute: ``execute(method, params, timeout)`` sends a request and blocks for
            its result.
        send_nowait: ``send_nowait(method, params)`` sends without waiting (usable on
            the reader thread).
        submit: ``submit(method, params, timeout, on_settle)`` sends a request and
            returns its :class:`~relaysync.rpc.InFlight` at once, for a caller that
            waits for its answer and an event together (one wake-up for both).
        pool: the worker pool that runs callbacks.
        registry: the live calls.
        request_timeout: the default timeout of one request, in seconds.
        timeline: ``timeline(call_id)`` returns the call's flow as a
            :class:`~relaysync.diagram.CallFlow`.
        fork_guard: the client's process check; calls refuse use in a forked child.
        call_history: how many events each call keeps for ``call.events()``.
    """

    execute: Callable[[str, Mapping[str, Any], Optional[float]], Dict[str, Any]]
    send_nowait: Callable[[str, Mapping[str, Any]], None]
    submit: Submit
    pool: WorkerPool
    registry: CallDirectory
    request_timeout: float
    timeline: Callable[[str], CallFlow]
    fork_guard: ForkGuard = attrs.field(factory=ForkGuard)
    call_history: int = DEFAULT_CALL_HISTORY


__all__ = ["DEFAULT_CALL_HISTORY", "CallDirectory", "CallHost"]
