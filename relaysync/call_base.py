"""CallBase: one call leg's identity, state, waits, event history and plumbing.

State lives under the call's Condition. The reader thread applies events with
:meth:`Call._apply` (no user code runs there); user threads wait with
``Condition.wait_for``. Listeners and ``on_completed`` callbacks run on the client's
worker pool, in order for this call. Method groups live in small mixins
(:mod:`relaysync.call_control`, :mod:`relaysync.call_media`) built on this base and
combined in :class:`relaysync.call.Call`.
"""

from __future__ import annotations

import collections
import functools
import threading
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Deque,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Type,
    TypeVar,
    cast,
)

from . import constants as C
from ._log import logger
from ._util import compact
from .actions import Action
from .errors import CallEndedError, RelayError, timeout_error
from .events import CallStateEvent, RelayEvent
from .rpc import new_id
from .workers import SerialQueue

if TYPE_CHECKING:
    from .call import Call
    from .client import RelayClient

A = TypeVar("A", bound=Action[Any])
Listener = Callable[[RelayEvent], Any]
MAX_HISTORY = 10_000
_ORDER = {state: index for index, state in enumerate(C.CALL_STATES)}


class CallBase:
    """The core of a call leg; :class:`relaysync.call.Call` documents the attributes."""

    def __init__(
        self,
        client: RelayClient,
        call_id: str,
        node_id: Optional[str],
        *,
        direction: str,
        device: Optional[Mapping[str, Any]] = None,
        tag: Optional[str] = None,
        context: Optional[str] = None,
        state: str = C.CALL_CREATED,
    ) -> None:
        self._client = client
        self.call_id = call_id
        self.node_id = node_id
        self.tag = tag
        self.direction = direction
        self.device: Dict[str, Any] = dict(device or {})
        self.context = context
        params = self.device.get("params")
        params = params if isinstance(params, dict) else {}
        self.from_number: Optional[str] = params.get("from_number") or params.get("from")
        self.to_number: Optional[str] = params.get("to_number") or params.get("to")
        self.peer: Optional[Call] = None
        self._cond = threading.Condition(threading.Lock())
        self._state = state if state in _ORDER else C.CALL_CREATED
        self._end_reason: Optional[str] = None
        self._state_events: Dict[str, CallStateEvent] = {}
        # a deque: dropping the oldest of a full history must not shift 10,000 items
        self._history: Deque[RelayEvent] = collections.deque()
        self._dropped = 0
        self._listeners: Dict[str, List[Listener]] = {}
        self._actions: Dict[str, Action[Any]] = {}
        self._uncontrolled: List[Action[Any]] = []  # pending actions without a control_id
        self._waiters: List[Callable[[RelayEvent], bool]] = []
        self._serial = SerialQueue(client._pool, f"call {call_id}")
        self._detached: Optional[RelayError] = None

    def __repr__(self) -> str:
        state = "forked" if self._client._fork_guard.forked else self.state
        return f"Call(call_id={self.call_id!r}, direction={self.direction!r}, state={state!r})"

    # ---------------------------------------------------------------- state

    @property
    def state(self) -> str:
        """The latest call state: created, ringing, answered, ending or ended."""
        self._client._fork_guard.check("read the call state")
        with self._cond:
            return self._state

    @property
    def end_reason(self) -> Optional[str]:
        """Why the call ended (``hangup``, ``busy``, …), once it has."""
        self._client._fork_guard.check("read the end reason")
        with self._cond:
            return self._end_reason

    @property
    def ended(self) -> bool:
        """True once the call has ended."""
        return self.state == C.CALL_ENDED

    def wait_for(self, state: str, timeout: Optional[float] = None) -> CallStateEvent:
        """Block until the call reaches ``state`` (or has already passed it).

        Args:
            state: ``ringing``, ``answered``, ``ending`` or ``ended``.
            timeout: seconds; ``None`` waits as long as the call lives.

        Returns:
            The state event that reached ``state`` (or the latest one, if the server
            skipped that state on the way past it).

        Raises:
            ValueError: ``state`` is not a call state.
            CallEndedError: the call ended without reaching ``state``.
            RelayTimeoutError: ``state`` not reached within ``timeout``.
        """
        if state not in _ORDER:
            raise ValueError(f"unknown call state {state!r}; expected one of {C.CALL_STATES}")
        self._client._fork_guard.check(f"wait for {state}")
        want = _ORDER[state]
        with self._cond:
            ok = self._cond.wait_for(
                lambda: (
                    _ORDER[self._state] >= want
                    or self._state == C.CALL_ENDED
                    or self._detached is not None
                ),
                timeout,
            )
            if self._detached is not None and _ORDER[self._state] < want:
                raise self._detached
            if not ok:
                raise timeout_error(f"waiting for call {self.call_id} to be {state}", timeout)
            event = self._state_events.get(state)
            if event is not None:
                return event
            if self._state in (C.CALL_ENDING, C.CALL_ENDED) and state not in (
                C.CALL_ENDING,
                C.CALL_ENDED,
            ):
                passed = any(
                    _ORDER[seen] > want and seen not in (C.CALL_ENDING, C.CALL_ENDED)
                    for seen in self._state_events
                )
                if not passed:
                    raise CallEndedError(
                        -1, f"call {self.call_id} ended ({self._end_reason}) before it was {state}"
                    )
            latest = self._state_events.get(self._state)
            if latest is None:
                latest = CallStateEvent(
                    event_type=C.EVENT_CALL_STATE,
                    params={},
                    call_id=self.call_id,
                    call_state=self._state,
                )
            return latest

    def wait_for_answered(self, timeout: Optional[float] = None) -> CallStateEvent:
        """Block until the call is answered. See :meth:`wait_for`."""
        return self.wait_for(C.CALL_ANSWERED, timeout)

    def wait_for_ended(self, timeout: Optional[float] = None) -> CallStateEvent:
        """Block until the call has ended. See :meth:`wait_for`."""
        return self.wait_for(C.CALL_ENDED, timeout)

    # ---------------------------------------------------------------- events

    def on(self, event_type: str, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for each event of ``event_type`` on this call.

        Callbacks run on a worker thread, in event order for this call; ``"*"`` matches
        every event type.

        Returns:
            A function that removes the callback.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        self._client._fork_guard.check("add a call listener")
        with self._cond:
            self._listeners.setdefault(event_type, []).append(callback)

        def unsubscribe() -> None:
            with self._cond:
                callbacks = self._listeners.get(event_type, [])
                if callback in callbacks:
                    callbacks.remove(callback)

        return unsubscribe

    def events(self, timeout: Optional[float] = 30.0) -> Iterator[RelayEvent]:
        """Iterate over this call's events, in order, from the call's first event.

        The iterator ends after the call's ``ended`` state event. Each iterator has its
        own cursor, so several may run at once.

        Args:
            timeout: the longest wait for the next event; ``None`` waits as long as the
                call lives.

        Raises:
            RelayTimeoutError: no new event within ``timeout``.
        """
        self._client._fork_guard.check("iterate call events")
        cursor = [0]

        def ready() -> bool:
            return (
                cursor[0] - self._dropped < len(self._history)
                or self._state == C.CALL_ENDED
                or self._detached is not None
            )

        while True:
            index = cursor[0]
            with self._cond:
                ok = self._cond.wait_for(ready, timeout)
                if not ok:
                    raise timeout_error(f"waiting for an event on call {self.call_id}", timeout)
                index = max(index, self._dropped)
                if index - self._dropped >= len(self._history):
                    if self._detached is not None and self._state != C.CALL_ENDED:
                        raise self._detached
                    return
                event = self._history[index - self._dropped]
            cursor[0] = index + 1
            yield event

    # ---------------------------------------------------------------- lifecycle

    def answer(self, timeout: Optional[float] = None) -> None:
        """Answer an inbound call (``calling.answer``); returns once it is answered.

        Raises:
            CallEndedError: the call is gone.
            RelayTimeoutError: the answer was not confirmed within ``timeout``.
        """
        timeout = self._client.request_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._execute("calling.answer", {}, timeout=timeout)
        self.wait_for(C.CALL_ANSWERED, max(0.0, deadline - time.monotonic()))

    def hangup(self, reason: str = "hangup", timeout: Optional[float] = None) -> None:
        """End the call (``calling.end``). Does nothing if the call has already ended.

        Args:
            reason: hangup, cancel, busy, noAnswer, decline or error.
        """
        if self.ended:
            return
        try:
            self._execute("calling.end", {"reason": reason}, timeout=timeout)
        except CallEndedError:
            return

    def pass_(self, timeout: Optional[float] = None) -> None:
        """Decline an inbound offer so another consumer receives it (``calling.pass``).

        The call is no longer tracked afterwards: its waits end with
        :class:`CallEndedError`.
        """
        self._execute("calling.pass", {}, timeout=timeout)
        self._client._registry.remove(cast("Call", self))
        self._detach(CallEndedError(-1, f"call {self.call_id} was passed to another consumer"))

    # ---------------------------------------------------------------- plumbing

    def _execute(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send a call-level method with ``node_id``/``call_id``; 404/410 → CallEndedError."""
        self._client._fork_guard.check(method)
        if self.ended:
            raise CallEndedError(-1, f"cannot {method}: call {self.call_id} has ended")
        if self._detached is not None:
            raise self._detached
        body = {"node_id": self.node_id, "call_id": self.call_id, **compact(params)}
        try:
            return self._client.execute(method, body, timeout=timeout)
        except RelayError as exc:
            if exc.code in (404, 410) and not isinstance(exc, CallEndedError):
                self._gone(f"server answered {exc.code} to {method}")
                raise CallEndedError(
                    exc.code, f"{method}: call {self.call_id} is gone ({exc.message})"
                ) from None
            raise

    def _start(
        self,
        action_class: Type[A],
        params: Mapping[str, Any],
        *,
        on_completed: Optional[Callable[[Any], Any]] = None,
        timeout: Optional[float] = None,
        control_id: Optional[str] = None,
    ) -> A:
        """Register an action, send its start method, and return it once accepted."""
        self._client._fork_guard.check(action_class.method)
        if action_class.uses_control_id:
            control_id = control_id or new_id()
        action = action_class(self, control_id, on_completed)
        with self._cond:
            if self._state == C.CALL_ENDED:
                raise CallEndedError(
                    -1, f"cannot {action_class.method}: call {self.call_id} has ended"
                )
            if control_id is None:
                self._uncontrolled.append(action)
            else:
                self._actions[control_id] = action
        body = dict(params)
        if control_id is not None:
            body["control_id"] = control_id
        try:
            self._execute(action_class.method, body, timeout=timeout)
        except BaseException:
            with self._cond:
                if control_id is None:
                    if action in self._uncontrolled:
                        self._uncontrolled.remove(action)
                else:
                    self._actions.pop(control_id, None)
            raise
        return action

    def _schedule(self, task: Callable[[], Any]) -> None:
        """Run ``task`` on the worker pool, in order with this call's other callbacks."""
        self._serial.submit(task)

    def _add_waiter(self, predicate: Callable[[RelayEvent], bool]) -> Callable[[], None]:
        """Register a reader-side predicate that sees every event (lock held when run)."""
        with self._cond:
            self._waiters.append(predicate)

        def remove() -> None:
            with self._cond:
                if predicate in self._waiters:
                    self._waiters.remove(predicate)

        return remove

    def _apply(self, event: RelayEvent) -> bool:
        """Apply one event (reader thread). Returns True if the call just ended."""
        just_ended = False
        with self._cond:
            if len(self._history) >= MAX_HISTORY:
                self._history.popleft()
                self._dropped += 1
                if self._dropped == 1:
                    logger.warning(
                        "relaysync: call %s has over %d events; the oldest are "
                        "dropped from its history",
                        self.call_id,
                        MAX_HISTORY,
                    )
            self._history.append(event)
            if isinstance(event, CallStateEvent) and event.call_state in _ORDER:
                new = event.call_state
                self._state_events[new] = event
                if _ORDER[new] >= _ORDER[self._state] and self._state != C.CALL_ENDED:
                    self._state = new
                    if new == C.CALL_ENDED:
                        self._end_reason = event.end_reason or self._end_reason
                        just_ended = True
                if isinstance(event.peer, dict) and event.peer.get("call_id") and self.peer is None:
                    self.peer = self._client._registry.get(str(event.peer["call_id"]))
            self._route_to_actions(event)
            for waiter in list(self._waiters):
                if waiter(event):
                    self._waiters.remove(waiter)
            if just_ended:
                self._settle_all()
            self._cond.notify_all()
            listeners = list(self._listeners.get(event.event_type, ())) + list(
                self._listeners.get("*", ())
            )
        for listener in listeners:
            self._schedule(functools.partial(listener, event))
        return just_ended

    def _route_to_actions(self, event: RelayEvent) -> None:
        """Offer the event to the action it belongs to (lock held)."""
        if event.control_id is not None:
            action = self._actions.get(event.control_id)
            if action is not None and action._offer(event):
                del self._actions[event.control_id]
        else:
            # Without a control_id (REFER), the oldest pending action of that type owns it.
            for action in self._uncontrolled:
                if event.event_type in action.event_types:
                    if action._offer(event):
                        self._uncontrolled.remove(action)
                    break

    def _settle_all(self) -> None:
        """The call ended: settle every pending action (lock held)."""
        self._fail_actions(
            lambda action: CallEndedError(
                -1, f"call {self.call_id} ended before {type(action).__name__} finished"
            )
        )

    def _fail_actions(self, error_for: Callable[[Action[Any]], RelayError]) -> None:
        """Settle every pending action with the error ``error_for`` gives it (lock held)."""
        for action in [*self._actions.values(), *self._uncontrolled]:
            action._fail(error_for(action))
        self._actions.clear()
        self._uncontrolled.clear()

    def _gone(self, why: str) -> None:
        """Mark the call ended locally (server says it no longer exists)."""
        with self._cond:
            if self._state == C.CALL_ENDED:
                return
            logger.info("relaysync: call %s is gone: %s", self.call_id, why)
            self._state = C.CALL_ENDED
            self._end_reason = self._end_reason or "not_found"
            self._settle_all()
            self._cond.notify_all()
        self._client._registry.remove(cast("Call", self))

    def _detach(self, error: RelayError) -> None:
        """The client closed: wake every wait on this call with ``error``."""
        with self._cond:
            self._detached = error
            self._fail_actions(lambda action: error)
            self._cond.notify_all()
