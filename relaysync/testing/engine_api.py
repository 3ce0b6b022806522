"""What the call engine offers the parts that implement RELAY's ``calling.*`` methods.

The capability modules (inbound offers, dialing, playback, recording, collect, detect,
refer, rooms, services, streams, fax and pay) and the :class:`~.handle.SimCall` handle
are written against :class:`EngineApi`, not against
:class:`~relaysync.testing.calls.CallEngine`: the engine builds them and sits above
them, and each part sees only the call table, its events and its timers.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Protocol

if TYPE_CHECKING:
    from relaysync.testing.caller import Caller
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.core import SimCore
    from relaysync.testing.replies import CallHandler, Handler, Params
    from relaysync.testing.scripts import Scripts
    from relaysync.testing.sessions import Session


class EngineApi(Protocol):
    """The call table, its events and its timers (loop thread unless noted).

    Attributes:
        core: the simulator core (sessions, events, timers, ids).
        scripts: what tests scripted ahead of the calls (dial, refer, media, callers).
        cond: guards what handles read; notified on every change (any thread).
    """

    core: SimCore
    scripts: Scripts
    cond: threading.Condition

    def new_call(
        self,
        *,
        direction: str,
        device: Dict[str, Any],
        tag: str,
        session: Optional[Session],
        created_by: str,
        context: Optional[str] = None,
        parent: Optional[CallRecord] = None,
    ) -> CallRecord:
        """Create and register a call leg in state ``created`` (no event is emitted)."""

    def changed(self) -> None:
        """Note a change handles may wait for (call with :attr:`cond` held)."""

    def emit(self, call: CallRecord, event_type: str, params: Params) -> None:
        """Send ``event_type`` for ``call`` to its session and keep it in its history."""

    def set_state(self, call: CallRecord, state: str, end_reason: Optional[str] = None) -> None:
        """Move ``call`` to ``state`` and emit the state event."""

    def end_call(
        self, call: CallRecord, reason: str = "hangup", *, via_ending: bool = True
    ) -> None:
        """End ``call`` once (optionally through ``ending``), then forget it."""

    def hangup(self, call: CallRecord, reason: str) -> None:
        """The far end hangs up ``call``."""

    def caller(self, call: CallRecord) -> Caller:
        """The scripted far end of ``call`` (created on first use)."""

    def finish_ai(self, call: CallRecord, state: str) -> str:
        """End the ``calling.ai`` session of ``call`` with ``state``; return its control_id.

        Raises:
            ValueError: a bad ``state``, or no ``calling.ai`` session runs on the call.
        """

    def call_handler(self, fn: CallHandler) -> Handler:
        """Wrap a per-call method: check ``call_id``/``node_id``, answer 404/410 itself."""

    def on_ending(self, hook: Callable[[CallRecord], None]) -> None:
        """Run ``hook(call)`` when a call starts ending, before its ``ended`` event."""

    def on_ended(self, hook: Callable[[CallRecord], None]) -> None:
        """Run ``hook(call)`` after a call's ``ended`` event went out."""

    def after_reply(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop once the current method's result has been sent."""

    def later(self, seconds: float, fn: Callable[[], None]) -> Any:
        """Run ``fn`` after ``seconds`` of simulated time (scaled); returns the timer."""


__all__ = ["EngineApi"]
