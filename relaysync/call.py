"""Call: one call leg's identity, state, waits and event history.

State lives under the call's Condition. The reader thread applies events with
:meth:`Call.apply_event` (no user code runs there); user threads wait with
``Condition.wait_for``. Listeners and ``on_completed`` callbacks run on the client's
worker pool, in order for this call. The methods RELAY offers on a call live in small
groups beside this module, each built on the call's operation runner
(:class:`relaysync.call_operations.Operations`) and the declarations of
:mod:`relaysync.operations`.
"""

from __future__ import annotations

import collections
import threading
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
    Union,
)

from . import constants as C
from . import operations as ops
from ._log import logger
from ._util import adopt_method_names
from ._validate import check_timeout
from .call_control import CallControlMixin
from .call_input import CallInputMixin
from .call_media import CallMediaMixin
from .call_operations import Operations
from .call_rooms import CallRoomsMixin
from .call_services import CallServicesMixin
from .errors import CallEndedError, RelayError, timeout_error
from .events import CallStateEvent, RelayEvent
from .failures import guarded
from .host import CallHost
from .waiting import Deadline, SlimCondition

if TYPE_CHECKING:
    from .diagram import CallFlow

Listener = Callable[[RelayEvent], Any]
_ORDER = {state: index for index, state in enumerate(C.CALL_STATES)}


class Call(
    CallControlMixin,
    CallMediaMixin,
    CallInputMixin,
    CallServicesMixin,
    CallRoomsMixin,
):
    """A call leg controlled through RELAY.

    Attributes:
        call_id, node_id: the server's identifiers of the leg.
        tag: the client tag it was dialled with (outbound), if any.
        direction: ``inbound`` or ``outbound``.
        device: the wire device ``{type, params}`` of the far end (read it, do not
            change it: its nested dicts are shared with the call's events).
        context: the context an inbound call arrived on.
        from_number, to_number: the numbers (or SIP URIs) of the device.
        state, end_reason: the latest call state and, once ended, why.
        peer: the bridged :class:`Call` after a successful ``connect``.
        operations: the runner that sends this call's methods and tracks its actions
            (:class:`relaysync.call_operations.Operations`).

    Lifecycle and waiting: :meth:`answer`, :meth:`hangup`, :meth:`pass_`,
    :meth:`wait_for`, :meth:`on`, :meth:`events`. The method groups: control
    (:mod:`relaysync.call_control`), media (:mod:`relaysync.call_media`), input
    (:mod:`relaysync.call_input`), fax/pay/AI (:mod:`relaysync.call_services`), and
    conferences, rooms, queues and the rest (:mod:`relaysync.call_rooms`).
    """

    def __init__(
        self,
        host: CallHost,
        call_id: str,
        node_id: Optional[str],
        *,
        direction: str,
        device: Optional[Mapping[str, Any]] = None,
        tag: Optional[str] = None,
        context: Optional[str] = None,
        state: str = C.CALL_CREATED,
    ) -> None:
        self._host = host
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
        # Two Conditions on one lock: waits for a state or an outcome are not woken by
        # every event, only ``events()`` iterators are (each wake-up is a thread switch).
        # The second is made by the first iterator: most calls never have one.
        self._lock = threading.Lock()
        self._cond = SlimCondition(self._lock)
        self._arrivals: Optional[threading.Condition] = None
        self._state = state if state in _ORDER else C.CALL_CREATED
        self._end_reason: Optional[str] = None
        self._state_events: Dict[str, CallStateEvent] = {}
        # a list (a deque costs about 600 bytes even when nearly empty, and most calls
        # have a few events), made a deque once full: dropping the oldest of a full
        # history must not shift every item
        self._history: Union[List[RelayEvent], Deque[RelayEvent]] = []
        self._history_limit = host.call_history
        self._dropped = 0
        self._listeners: Dict[str, List[Listener]] = {}
        self._detached: Optional[RelayError] = None
        self.operations = Operations(
            self, self._cond, host, alive=Call._check_alive, gone=Call._gone
        )

    def __repr__(self) -> str:
        state = "forked" if self._host.fork_guard.forked else self.state
        return f"Call(call_id={self.call_id!r}, direction={self.direction!r}, state={state!r})"

    # ---------------------------------------------------------------- state

    @property
    def state(self) -> str:
        """The latest call state: created, ringing, answered, ending or ended."""
        self._host.fork_guard.check("read the call state")
        with self._cond:
            return self._state

    @property
    def end_reason(self) -> Optional[str]:
        """Why the call ended (``hangup``, ``busy``, …), once it has."""
        self._host.fork_guard.check("read the end reason")
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
            ValueError: ``state`` is not a call state, or a bad ``timeout``.
            CallEndedError: the call ended without reaching ``state``.
            RelayTimeoutError: ``state`` not reached within ``timeout``.
        """
        return self._wait_state(state, check_timeout("timeout", timeout))

    def _wait_state(self, state: str, timeout: Optional[float]) -> CallStateEvent:
        """:meth:`wait_for` without the argument check (``timeout`` may be 0)."""
        self._host.fork_guard.check(f"wait for {state}")
        if state not in _ORDER:
            raise ValueError(f"unknown call state {state!r}; expected one of {C.CALL_STATES}")
        want = _ORDER[state]
        with self._cond:
            ok = self._cond.wait_for(lambda: self._reached(want), timeout)
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
        self._host.fork_guard.check("add a call listener")
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
            ValueError: a bad ``timeout`` (checked when ``events`` is called).
            RelayTimeoutError: no new event within ``timeout``.
        """
        seconds = check_timeout("timeout", timeout)
        self._host.fork_guard.check("iterate call events")
        return self._iter_events(seconds)

    def _iter_events(self, timeout: Optional[float]) -> Iterator[RelayEvent]:
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
                if self._arrivals is None:
                    self._arrivals = SlimCondition(self._lock)
                ok = self._arrivals.wait_for(ready, timeout)
                if not ok:
                    raise timeout_error(f"waiting for an event on call {self.call_id}", timeout)
                missed = max(0, self._dropped - index)
                index += missed
                if index - self._dropped >= len(self._history):
                    if self._detached is not None and self._state != C.CALL_ENDED:
                        raise self._detached
                    return
                event = self._history[index - self._dropped]
            if missed:
                logger.warning(
                    "relaysync: a call.events() iterator of call %s missed %d events, "
                    "dropped from the call's history (it keeps the latest %d: "
                    "RelayClient(call_history=))",
                    self.call_id,
                    missed,
                    self._history_limit,
                )
            cursor[0] = index + 1
            yield event

    # ---------------------------------------------------------------- lifecycle

    def answer(
        self,
        timeout: Optional[float] = None,
        *,
        max_duration: Optional[int] = None,
        codecs: Optional[Any] = None,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Answer an inbound call (``calling.answer``); returns once it is answered.

        Args:
            timeout: seconds for the request and the ``answered`` state together
                (default: the client's request timeout).
            max_duration, codecs: passed to RELAY.
            extra_params: params RELAY takes that this release does not know, merged
                into the request as given, unchecked.

        Raises:
            ValueError: a bad ``timeout`` (nothing is sent).
            CallEndedError: the call is gone.
            RelayTimeoutError: the answer was not confirmed within ``timeout``.
        """
        timeout = check_timeout("timeout", timeout)
        deadline = Deadline(self._host.request_timeout if timeout is None else timeout)
        self.operations.invoke_within(ops.ANSWER, "answer", locals(), deadline)
        self._wait_state(C.CALL_ANSWERED, deadline.remaining())

    def hangup(
        self,
        reason: str = "hangup",
        timeout: Optional[float] = None,
        *,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """End the call (``calling.end``). Does nothing if the call has already ended.

        Args:
            reason: hangup, cancel, busy, noAnswer, decline or error.
            timeout: seconds for the request (default: the client's).
            extra_params: params sent as given, unchecked.

        Raises:
            ValueError: another ``reason`` (the message lists RELAY's), or a bad
                ``timeout`` (nothing is sent).
        """
        try:
            self.operations.invoke(ops.END, "hangup", locals())
        except CallEndedError:
            return

    def pass_(
        self,
        timeout: Optional[float] = None,
        *,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Decline an inbound offer so another consumer receives it (``calling.pass``).

        The call is no longer tracked afterwards: its waits end with
        :class:`CallEndedError`.

        Raises:
            ValueError: a bad ``timeout`` (nothing is sent).
            CallEndedError: the call is gone.
        """
        self.operations.invoke(ops.PASS, "pass_", locals())
        self._host.registry.remove(self)
        self.detach(CallEndedError(-1, f"call {self.call_id} was passed to another consumer"))

    # ---------------------------------------------------------------- reader side

    def apply_event(self, event: RelayEvent) -> bool:
        """Apply one event to this call (the client's reader thread calls this).

        Updates the state, offers the event to the action it belongs to, and queues the
        listeners on the worker pool. Returns True if the call just ended.
        """
        just_ended = False
        with self._cond:
            before = self._state
            history = self._history
            if len(history) >= self._history_limit:
                if not isinstance(history, collections.deque):
                    history = self._history = collections.deque(history)
                history.popleft()
                self._dropped += 1
            history.append(event)
            if isinstance(event, CallStateEvent) and event.call_state in _ORDER:
                new = event.call_state
                self._state_events[new] = event
                if _ORDER[new] >= _ORDER[self._state] and self._state != C.CALL_ENDED:
                    self._state = new
                    if new == C.CALL_ENDED:
                        self._end_reason = event.end_reason or self._end_reason
                        just_ended = True
                if isinstance(event.peer, dict) and event.peer.get("call_id") and self.peer is None:
                    self.peer = self._host.registry.get(str(event.peer["call_id"]))
            self.operations.route_locked(event)  # a settled action wakes its own waiters
            if just_ended:
                self._settle_all()
            if self._state != before:
                self._cond.notify_all()
            self._wake_iterators()
            listeners = (
                [*self._listeners.get(event.event_type, ()), *self._listeners.get("*", ())]
                if self._listeners
                else ()
            )
        if listeners:
            role = f"call.on({event.event_type!r}) callback"  # once per event, not per listener
            for listener in listeners:
                self.operations.schedule(guarded(listener, (event,), role, self))
        return just_ended

    def detach(self, error: RelayError) -> None:
        """The client closed, passed the call or lost its session: wake every wait."""
        with self._cond:
            self._detached = error
            self.operations.fail_all_locked(lambda action: error)
            self._cond.notify_all()
            self._wake_iterators()

    # ---------------------------------------------------------------- plumbing

    def _wake_iterators(self) -> None:
        """Wake the ``events()`` iterators, if the call has any (lock held)."""
        if self._arrivals is not None:
            self._arrivals.notify_all()

    def _reached(self, order: int) -> bool:
        """Whether a wait for the state of ``order`` is over (lock held)."""
        return (
            _ORDER[self._state] >= order
            or self._state == C.CALL_ENDED
            or self._detached is not None
        )

    def _check_alive(self, method: str) -> None:
        """Raise if the call can no longer be used for ``method``."""
        if self._state == C.CALL_ENDED:
            raise CallEndedError(-1, f"cannot {method}: call {self.call_id} has ended")
        if self._detached is not None:
            raise self._detached

    def _settle_all(self) -> None:
        """The call ended: settle every pending action (lock held)."""
        self.operations.fail_all_locked(
            lambda action: CallEndedError(
                -1, f"call {self.call_id} ended before {type(action).__name__} finished"
            )
        )

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
            self._wake_iterators()
        self._host.registry.remove(self)

    def timeline(self) -> CallFlow:
        """This call's flow: requests, replies and events with timings, as a ladder diagram.

        The frames are recorded by the client as they pass (a bounded number per call,
        see :mod:`relaysync.wire.flowlog`); an outbound call includes its dial. Print it for
        text, ``.to_svg()``/``.to_html()``/``.save(path)`` for the diagram; in Jupyter it
        shows inline.

        Returns:
            A :class:`~relaysync.diagram.CallFlow` snapshot of the flow so far.
        """
        from .diagram import CallFlow  # drawing only: calls do not load the renderer

        entries = self._host.flow_entries(self.call_id)
        return CallFlow.from_entries(entries, title=f"call {self.call_id}")


adopt_method_names(Call)

__all__ = ["Call"]
