"""The one runner behind every call method, and the operations in flight on a call.

:class:`Operations` takes a declaration from :mod:`relaysync.operations` and does what
every method needs: build the params from the wrapper's arguments and check them
against the declaration (``None`` dropped at every depth, ``extra_params`` merged),
add ``node_id``/``call_id``/``control_id``, register the action before the request is
written, send, and (for blocking methods) wait for the outcome within one
:class:`~relaysync.waiting.Deadline`. It also routes each event of the call to the
action it belongs to, and settles every pending action when the call ends.

Every sending method takes ``api``, the public method's name (``"play_tts"``), which
errors name (``Call.play_tts()``), and ``args``, the wrapper's arguments as a mapping
(its ``locals()``): the declared param names and ``extra_params`` are read from it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar

from ._entropy import new_id
from ._validate import check_timeout
from .actions import Action
from .errors import CallEndedError, RelayError
from .events import RelayEvent
from .host import CallHost
from .operations import Operation
from .shapes import named
from .waiting import Deadline
from .workers import SerialQueue

A = TypeVar("A", bound=Action[Any])
#: The ``on_completed`` argument of the call methods that start an action.
Completion = Optional[Callable[[Any], Any]]
#: The ``extra_params`` argument of every call method.
Extra = Optional[Mapping[str, Any]]


def _same_target(a: Any, b: Any) -> bool:
    """Whether two SIP targets name the same URI (``<…>`` and case aside)."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return a.strip().strip("<>").lower() == b.strip().strip("<>").lower()


def _timeout(api: str, name: str, value: Any) -> Optional[float]:
    """``check_timeout`` whose errors name the public method ``Call.<api>()``."""
    return named(f"Call.{api}()", check_timeout, name, value)


class Operations:
    """Starts operations on one call and tracks the ones in flight.

    Args:
        call: the call the operations run on (given to each action as ``call``). Held
            by a weak reference: the call holds its operations, and an ended call is
            then freed as soon as nothing else holds it, not at a later garbage
            collection.
        cond: the call's Condition; actions settle under it.
        host: the client's :class:`~relaysync.host.CallHost`.
        alive: ``alive(call, method)`` raises if the call can no longer be used.
        gone: ``gone(call, why)`` marks the call ended when the server says it is gone.
    """

    # one per call: slots keep it about 150 bytes smaller than an instance dict
    __slots__ = (
        "_actions",
        "_alive",
        "_call_id",
        "_call_ref",
        "_cond",
        "_gone",
        "_host",
        "_serial",
        "_uncontrolled",
    )

    def __init__(
        self,
        call: Any,
        cond: threading.Condition,
        host: CallHost,
        *,
        alive: Callable[[Any, str], None],
        gone: Callable[[Any, str], None],
    ) -> None:
        self._call_ref = weakref.ref(call)
        self._call_id = call.call_id
        self._cond = cond
        self._host = host
        self._alive = alive
        self._gone = gone
        self._serial = SerialQueue(host.pool, f"call {call.call_id}")
        self._actions: Dict[str, Action[Any]] = {}
        self._uncontrolled: List[Action[Any]] = []

    @property
    def _call(self) -> Any:
        """The call (whoever runs an operation holds it, so it is alive)."""
        call = self._call_ref()
        if call is None:
            raise CallEndedError(-1, f"call {self._call_id} is no longer in use")
        return call

    @property
    def cond(self) -> threading.Condition:
        """The call's Condition."""
        return self._cond

    @property
    def host(self) -> CallHost:
        """The client's host interface."""
        return self._host

    @property
    def request_timeout(self) -> float:
        """The client's default request timeout."""
        return self._host.request_timeout

    def schedule(self, task: Callable[[], Any]) -> None:
        """Run ``task`` on the worker pool, in order with this call's other callbacks."""
        self._serial.submit(task)

    # ---------------------------------------------------------------- sending

    def execute(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send a call-level method with ``node_id``/``call_id``; 404/410 → CallEndedError.

        Raises:
            CallEndedError: the call has ended, or the server says it is gone.
            RelayError: the server rejected the request.
            ForkedClientError: used in a child process forked after the client was made.
        """
        body = self._body(method, params)
        try:
            return self._host.execute(method, body, timeout)
        except RelayError as exc:
            raise self._gone_error(method, exc) from None

    def control(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send a sub-command of a running operation (``calling.play.stop``, ...).

        Unlike :meth:`execute`, a 404/410 answer does not mark the call gone: it is
        what a sub-command of an operation that has already ended gets, while the call
        goes on; the call's own events say when it ends.

        Raises:
            CallEndedError: the call has ended (known here; nothing is sent).
            RelayError: the server rejected the request (404/410: no such running
                operation).
        """
        return self._host.execute(method, self._body(method, params), timeout)

    def _body(self, method: str, params: Mapping[str, Any]) -> Dict[str, Any]:
        """The checked request body of a call-level method (the call must be usable)."""
        self._host.fork_guard.check(method)
        call = self._call
        self._alive(call, method)
        return {"node_id": call.node_id, "call_id": call.call_id, **params}

    def _gone_error(self, method: str, exc: RelayError) -> RelayError:
        """``exc``, or a CallEndedError (the call marked gone) for a 404/410 answer."""
        if exc.code in (404, 410) and not isinstance(exc, CallEndedError):
            call = self._call
            self._gone(call, f"server answered {exc.code} to {method}")
            return CallEndedError(
                exc.code, f"{method}: call {call.call_id} is gone ({exc.message})"
            )
        return exc

    def invoke(self, op: Operation, api: str, args: Mapping[str, Any]) -> Dict[str, Any]:
        """Run a one-shot method: check, send, return the server's result.

        Args:
            op: the method's declaration.
            api: the public Call method, for error messages.
            args: the wrapper's arguments (see the module docstring); the seconds for
                the request are its ``request_timeout``, or its ``timeout`` where the
                method has no ``timeout`` param of its own (``None``: the client's).

        Raises:
            ValueError: a bad ``timeout``, or params that do not fit the declaration
                (nothing is sent).
            TypeError: an unknown nested key.
            CallEndedError: the call is gone.
            RelayError: the server rejected the request.
        """
        name = "request_timeout" if "request_timeout" in args else "timeout"
        timeout = _timeout(api, name, args.get(name))
        return self.execute(op.method, self._one_shot_body(op, api, args), timeout)

    def invoke_within(
        self, op: Operation, api: str, args: Mapping[str, Any], deadline: Deadline
    ) -> Dict[str, Any]:
        """:meth:`invoke` for a method whose caller then waits for an event.

        The request is bounded by the client's request timeout and ``deadline``, so the
        caller's own wait gets what is left (``answer`` then waits for ``answered``).

        Raises:
            As :meth:`invoke`.
        """
        body = self._one_shot_body(op, api, args)
        return self.execute(op.method, body, deadline.cap(self._host.request_timeout))

    @staticmethod
    def _one_shot_body(op: Operation, api: str, args: Mapping[str, Any]) -> Dict[str, Any]:
        body = op.request(f"Call.{api}()", args)
        if op.control_id:
            body["control_id"] = new_id()
        return body

    def start(
        self,
        op: Operation,
        action_class: Type[A],
        api: str,
        args: Mapping[str, Any],
        *,
        options: Optional[Mapping[str, Any]] = None,
        correlation: Optional[str] = None,
        **action_options: Any,
    ) -> A:
        """Start an operation and return its action once the server accepted it.

        Args:
            op: the declaration.
            action_class: the :class:`~relaysync.actions.Action` subclass to create.
            api: the public Call method, for error messages.
            args: the wrapper's arguments (see the module docstring); besides the
                params, ``on_completed`` (``callback(action)`` run on a worker when it
                settles) and ``request_timeout`` (seconds for the start request,
                default: the client's) are read from it.
            options: client-side settling options (never sent).
            correlation: for operations without ``control_id``, the target value
                their events must carry.
            action_options: extra keyword arguments for ``action_class``.

        Raises:
            ValueError: a bad timeout, or params that do not fit the declaration
                (nothing is sent).
            TypeError: ``on_completed`` is not callable, or an unknown nested key.
            CallEndedError: the call has ended or is gone.
            RelayError: the server rejected the request.
        """
        request_timeout = _timeout(api, "request_timeout", args.get("request_timeout"))
        action, body = self._begin(
            op, action_class, api, args, options=options, correlation=correlation, **action_options
        )
        return self._send(action, body, request_timeout)

    def _begin(
        self, op: Operation, action_class: Type[A], api: str, args: Mapping[str, Any], **kw: Any
    ) -> Tuple[A, Dict[str, Any]]:
        """Check the params, create the action (``kw``: its keyword arguments) and
        register it: ready to send.

        Returns:
            The action and the request body (with its ``control_id``, if any).
        """
        self._host.fork_guard.check(op.method)
        on_completed = args.get("on_completed")
        if on_completed is not None and not callable(on_completed):
            raise TypeError(
                f"Call.{api}(): on_completed must be callable, got {type(on_completed).__name__}"
            )
        body = op.request(f"Call.{api}()", args)
        control_id = new_id() if op.control_id else None
        action = action_class(self, self._call, op, control_id, on_completed, **kw)
        with self._cond:
            self._alive(action.call, op.method)
            if control_id is None:
                self._uncontrolled.append(action)
            else:
                self._actions[control_id] = action
                body["control_id"] = control_id
        return action, body

    def run(
        self,
        op: Operation,
        action_class: Type[Action[Any]],
        api: str,
        args: Mapping[str, Any],
        *,
        timeout: Optional[float],
        what: str,
        **start_options: Any,
    ) -> Any:
        """Start an operation and block for its result, all within ``timeout``.

        Args:
            timeout: seconds for the whole operation (request and outcome); ``None``
                waits as long as the call lives (the request keeps its default bound).
            what: names the operation in a timeout message.
            start_options: as for :meth:`start`.

        Raises:
            As :meth:`start`, plus RelayTimeoutError (no outcome in time) and
            CallEndedError (the call ended first).
        """
        timeout = _timeout(api, "timeout", timeout)
        deadline = Deadline(timeout)
        action, body = self._begin(op, action_class, api, args, **start_options)
        self._send(action, body, deadline.cap(self._host.request_timeout))
        return action.wait_for_outcome(deadline.remaining(), what, timeout)

    def _send(self, action: A, body: Dict[str, Any], timeout: Optional[float]) -> A:
        """Send the request that starts ``action``; forget the action if it fails."""
        try:
            self.execute(action.operation.method, body, timeout)
        except BaseException:
            self._forget(action)
            raise
        return action

    def _forget(self, action: Action[Any]) -> None:
        with self._cond:
            if action.control_id is None:
                if action in self._uncontrolled:
                    self._uncontrolled.remove(action)
            else:
                self._actions.pop(action.control_id, None)

    # ---------------------------------------------------------------- reader side

    def route_locked(self, event: RelayEvent) -> None:
        """Offer ``event`` to the action it belongs to (reader thread, lock held).

        Events for a ``control_id`` nobody waits for are ignored. Events without a
        ``control_id`` (REFER) go to the pending action whose target they name; one
        that names no target goes to the only pending action of its type, if there is
        exactly one.
        """
        if event.control_id is not None:
            action = self._actions.get(event.control_id)
            if action is not None and (action.offer_locked(event) or action.settled_locked()):
                del self._actions[event.control_id]  # settled now, or earlier without an event
            return
        candidates = [a for a in self._uncontrolled if a.operation.event_type == event.event_type]
        if not candidates:
            return
        field = candidates[0].operation.correlate
        value = getattr(event, field, None) if field else None
        if value is not None:
            candidates = [a for a in candidates if _same_target(a.correlation, value)]
        elif len(candidates) > 1:
            return
        for action in candidates[:1]:
            if action.offer_locked(event):
                self._uncontrolled.remove(action)

    def fail_all_locked(self, error_for: Callable[[Action[Any]], RelayError]) -> None:
        """Settle every pending action with the error ``error_for`` gives it (lock held)."""
        for action in [*self._actions.values(), *self._uncontrolled]:
            action.fail_locked(error_for(action))
        self._actions.clear()
        self._uncontrolled.clear()

    def pending_count(self) -> int:
        """How many actions are in flight (for leak checks)."""
        with self._cond:
            return len(self._actions) + len(self._uncontrolled)


__all__ = ["Completion", "Extra", "Operations"]
