"""The public, thread-safe call scripting of ``RelaySimulator`` (see :mod:`.calls`).

:class:`CallScriptingMixin` marshals every call onto the simulator loop;
:class:`CallerScript` scripts the far end of calls to or from a number before they exist.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Union

from relaysync.errors import timeout_error
from relaysync.testing.caller import CallerActions, build
from relaysync.testing.calls import CallEngine
from relaysync.testing.core import SimCore
from relaysync.testing.handle import SimCall
from relaysync.testing.scripts import Scripts


class CallScriptingMixin:
    """Public call scripting of ``RelaySimulator``; every method is thread-safe."""

    _core: SimCore
    _engine: CallEngine

    def inbound_call(
        self,
        context: str = "office",
        from_: str = "+15550001111",
        to: str = "+15550002222",
        *,
        ring_timeout: float = 30.0,
    ) -> SimCall:
        """Place an inbound phone call on ``context``.

        The call is offered to one subscribed session (round-robin per context) and
        rings; it ends ``abandoned`` when nobody (left) can take it and ``noAnswer`` after
        ``ring_timeout`` (scaled by ``time_scale``).

        Args:
            context: the context the call arrives on.
            from_: caller number (``device.params.from_number``).
            to: called number (``device.params.to_number``).
            ring_timeout: unscaled seconds before an unanswered call ends.

        Returns:
            The :class:`SimCall` handle.
        """
        if not isinstance(context, str) or not context:
            raise ValueError("context must be a non-empty string")
        engine = self._engine
        record = self._core.run_sync(lambda: engine.inbound.start(context, from_, to, ring_timeout))
        return engine.handle(record)

    def on_dial(self, to: str, outcome: str = "answer", *, delay: float = 0.5) -> None:
        """Script how dial and connect legs to ``to`` react from now on.

        Args:
            to: the phone device's ``to_number`` or the sip/webrtc device's ``to``.
            outcome: ``answer``, ``busy``, ``no-answer``, ``decline`` or ``fail``.
            delay: unscaled seconds from ringing to the outcome.

        Raises:
            ValueError: unknown outcome or negative delay.
        """
        script = Scripts.make_dial(outcome, delay)
        self._core.run_sync(lambda: self._engine.scripts.set_dial(to, script))

    def on_refer(
        self,
        target: str,
        state: str = "success",
        *,
        sip_refer_response_code: Union[str, int, None] = None,
        sip_notify_response_code: Union[str, int, None] = None,
        delay: float = 0.3,
    ) -> None:
        """Script the outcome of REFERs to ``target`` from now on.

        Args:
            target: the SIP URI exactly as sent in ``device.params.to`` (or ``uri``).
            state: ``success``, ``busy``, ``noAnswer``, ``cancel`` or ``error``.
            sip_refer_response_code: defaults to ``"202"`` (an ``int`` is turned into
                its string).
            sip_notify_response_code: defaults per state: 200, 486, 480, 487, 503.
            delay: unscaled seconds from ``inProgress`` to the final state.

        Raises:
            ValueError: unknown state or negative delay.
            TypeError: a code that is neither ``str`` nor ``int``.
        """
        script = Scripts.make_refer(state, sip_refer_response_code, sip_notify_response_code, delay)
        self._core.run_sync(lambda: self._engine.scripts.set_refer(target, script))

    def set_media_duration(self, url: str, seconds: float) -> None:
        """Make the audio file at ``url`` play for ``seconds`` (unscaled; default 2 s).

        Raises:
            ValueError: negative ``seconds``.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
        self._core.run_sync(lambda: self._engine.scripts.set_media_duration(url, seconds))

    def caller(self, number: str) -> CallerScript:
        """Script the far end of calls to or from ``number`` before they exist.

        Inputs queued here go, in order, to the next call whose far end is ``number``
        (an inbound call's ``from_number``, a dialled leg's ``to_number``/``to``);
        settings (``answer_as``, ``fax_outcome``, ``pay_outcome``) apply to every later
        call. The methods are those of :class:`~relaysync.testing.caller.CallerActions`.

        Raises:
            ValueError: an empty ``number``.
        """
        if not isinstance(number, str) or not number:
            raise ValueError("number must be a non-empty string")
        return CallerScript(self._core, self._engine, number)

    def conference_participants(self, name: str) -> List[str]:
        """The ``call_id`` of each call now in conference ``name``, in join order."""
        return self._core.run_sync(lambda: self._engine.rooms.participants(name))

    def dequeue(self, queue_name: str) -> Optional[str]:
        """An agent takes the oldest call waiting in ``queue_name`` (``dequeue`` event).

        Returns:
            The dequeued call's ``call_id``, or ``None`` when the queue is empty.
        """
        return self._core.run_sync(lambda: self._engine.rooms.dequeue(queue_name))

    @property
    def calls(self) -> List[SimCall]:
        """Handles of the live and recently ended calls, oldest first."""
        return [self._engine.handle(r) for r in self._engine.records()]

    def get_call(self, call_id: str) -> Optional[SimCall]:
        """Return the handle of a live or recently ended call, or ``None``."""
        record = self._engine.find(call_id)
        return None if record is None else self._engine.handle(record)

    def wait_for_call(
        self, predicate: Optional[Callable[[SimCall], bool]] = None, timeout: float = 5.0
    ) -> SimCall:
        """Block until a live or recent call matches ``predicate``; return the oldest match.

        Args:
            predicate: called with each :class:`SimCall` (outside the engine lock);
                ``None`` matches any call.
            timeout: seconds to wait.

        Raises:
            RelayTimeoutError: no call matched within ``timeout``.
        """
        engine = self._engine
        end = time.monotonic() + timeout
        while True:
            with engine.cond:
                seen = engine.version
            for handle in self.calls:
                if predicate is None or predicate(handle):
                    return handle

            def moved(seen: int = seen) -> bool:
                return engine.version != seen

            with engine.cond:
                remaining = end - time.monotonic()
                if remaining <= 0 or not engine.cond.wait_for(moved, remaining):
                    raise timeout_error("waiting for a matching call", timeout)


class CallerScript(CallerActions):
    """The script of the far end of later calls to or from one number (thread-safe)."""

    def __init__(self, core: SimCore, engine: CallEngine, number: str) -> None:
        self._core = core
        self._engine = engine
        self.number = number

    def _script(self, action: str, params: Dict[str, Any]) -> None:
        command = build(action, params)
        scripts = self._engine.scripts
        self._core.run_sync(lambda: scripts.caller_template(self.number).apply(command))

    def __repr__(self) -> str:
        return f"CallerScript(number={self.number!r})"


__all__ = ["CallScriptingMixin", "CallerScript"]
