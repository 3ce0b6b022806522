"""Actions: long-running operations on a call (play, record, collect, refer, …).

An :class:`Action` is created when a call method has been accepted by the server. The
reader thread offers it the events of its operation (matched by ``control_id``, or for
REFER by its target) under the call's Condition; the action settles once, on a final
event or when the call ends. Waiting threads block on its
:class:`~relaysync.waiting.OneShot`, which settles under the call's lock.

What an operation sends and when it settles is declared in :mod:`relaysync.operations`;
a class here only adds the sub-commands RELAY offers for it (pause, volume, …).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Protocol, TypeVar

from . import constants as C
from . import results as res
from ._fork import check_owner
from ._log import logger
from ._validate import check_timeout
from .errors import CallEndedError, RelayError, timeout_error
from .events import RelayEvent
from .failures import guarded
from .operations import NO_PARAMS, Operation, checked
from .results import ActionResult, verdict
from .settling import Progress
from .waiting import OneShot

R = TypeVar("R")
Completion = Callable[[Any], Any]


class ActionHost(Protocol):
    """What an action needs from the call it runs on (the call's operation runner)."""

    @property
    def cond(self) -> threading.Condition:
        """The call's Condition."""

    def schedule(self, task: Callable[[], Any]) -> None:
        """Run ``task`` on a worker, in order with the call's other callbacks."""

    def control(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send a sub-command of a running operation and block for its result."""


class Action(Generic[R]):
    """A running operation on a call.

    Attributes:
        call: the call it runs on.
        operation: its declaration (:class:`relaysync.operations.Operation`).
        control_id: the client-chosen id that tags its events (``None`` for REFER).
        state: the latest state reported by the server (``None`` before the first event).
        event: the latest event of this operation.
        correlation: for operations without ``control_id``, the value the
            declaration's ``correlate`` field must have in its events.
    """

    def __init__(
        self,
        host: ActionHost,
        call: Any,
        operation: Operation,
        control_id: Optional[str],
        on_completed: Optional[Completion] = None,
        *,
        options: Optional[Mapping[str, Any]] = None,
        correlation: Optional[str] = None,
    ) -> None:
        self.call = call
        self.operation = operation
        self.control_id = control_id
        self.correlation = correlation
        self.state: Optional[str] = None
        self.event: Optional[RelayEvent] = None
        self._host = host
        self._outcome: OneShot[R] = OneShot(host.cond)
        self._progress = Progress(options=dict(options or {}))
        self._on_completed = on_completed

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(control_id={self.control_id!r}, state={self.state!r}, "
            f"done={self._outcome.done!r})"
        )

    @property
    def done(self) -> bool:
        """True once the operation has a final outcome (or the call ended)."""
        with self._host.cond:
            return self._outcome.done

    @property
    def result(self) -> Optional[R]:
        """The outcome once done, else ``None``."""
        with self._host.cond:
            return self._outcome.value

    def wait(self, timeout: Optional[float] = None) -> R:
        """Block until the operation finishes and return its result.

        Args:
            timeout: seconds to wait; ``None`` waits for as long as the call lives.

        Raises:
            ValueError: ``timeout`` is zero, negative, NaN or infinite.
            RelayTimeoutError: not finished within ``timeout``; the action stays usable.
            CallEndedError: the call ended before the operation reached a final state.
        """
        timeout = check_timeout("timeout", timeout)
        check_owner(self.call, f"wait for {type(self).__name__}")
        call_id = getattr(self.call, "call_id", "?")
        return self._outcome.wait(timeout, f"{type(self).__name__} on call {call_id}")

    def wait_for_outcome(
        self, remaining: Optional[float], what: str, timeout: Optional[float]
    ) -> R:
        """Block up to ``remaining`` seconds (may be 0) for the result.

        Used by blocking call methods whose ``timeout`` bounds the start request and
        the outcome together.

        Args:
            remaining: seconds left of the operation's deadline, or ``None``.
            what: names the operation in the timeout message.
            timeout: the operation's whole timeout, for that message.

        Raises:
            RelayTimeoutError: no outcome in time (naming ``what`` and ``timeout``).
            CallEndedError: the call ended before the outcome.
        """
        try:
            return self._outcome.wait(remaining, what)
        except TimeoutError:
            raise timeout_error(what, timeout) from None

    def stop(self, timeout: Optional[float] = None) -> None:
        """Ask the server to stop the operation (``<method>.stop``).

        An operation that ended by itself before the stop reached the server (which
        then answers 404 or 410: no such running operation) has nothing left to stop:
        that is not an error, and the call goes on.

        Raises:
            ValueError: bad ``timeout`` (nothing is sent).
            CallEndedError: the call has ended.
        """
        try:
            self._sub("stop", timeout)
        except RelayError as exc:
            if exc.code not in (404, 410) or isinstance(exc, CallEndedError):
                raise
            logger.debug(
                "relaysync: %s %s had already ended", self.operation.method, self.control_id
            )

    # ---------------------------------------------------------------- reader side

    def offer_locked(self, event: RelayEvent) -> bool:
        """Consume ``event`` if it is ours; True if the action just settled.

        Called on the reader thread with the call's lock held.
        """
        op = self.operation
        if self._outcome.done or event.event_type != op.event_type:
            return False
        self.event = event
        state = verdict(event)
        if state is not None:
            self.state = state
        if not op.settled_by(self._progress, event, state):
            return False
        self._settling(event)
        result: R = op.result_class.from_event(event, **self._progress.overrides)  # type: ignore[assignment]
        self._complete(result, None)
        return True

    def settled_locked(self) -> bool:
        """Whether the action has settled (call's lock held)."""
        return self._outcome.done

    def fail_locked(self, error: RelayError) -> None:
        """Settle with ``error`` if still pending (lock held)."""
        self._complete(None, error)

    def _settling(self, event: RelayEvent) -> None:
        """Hook run on the reader just before the action settles on ``event``."""

    def _complete(self, result: Optional[R], error: Optional[RelayError]) -> None:
        """Settle, wake waiters and schedule on_completed (lock held)."""
        settled = (
            self._outcome.fail_locked(error)
            if error is not None
            else self._outcome.resolve_locked(result)  # type: ignore[arg-type]
        )
        callback = self._on_completed
        if settled and callback is not None:
            self._host.schedule(guarded(callback, (self,), "on_completed callback", self))

    # ---------------------------------------------------------------- sub-commands

    def _sub(self, verb: str, timeout: Optional[float] = None, **args: Any) -> None:
        """Send the sub-command ``verb`` of this operation, its params checked against
        the declaration's ``sub_params`` (``extra_params`` merged in unchecked)."""
        timeout = check_timeout("timeout", timeout)
        method = self.operation.subcommands.get(verb)
        if method is None:
            raise NotImplementedError(f"RELAY has no {verb} for {self.operation.method}")
        shape = self.operation.sub_params.get(verb, NO_PARAMS)
        params = checked(shape, f"{type(self).__name__}.{verb}()", args)
        self._host.control(method, {"control_id": self.control_id, **params}, timeout)


class PlayAction(Action[res.PlayResult]):
    """A ``calling.play``: settles on ``finished`` or ``error``."""

    def pause(self, timeout: Optional[float] = None) -> None:
        """Pause playback (``calling.play.pause``)."""
        self._sub("pause", timeout)

    def resume(self, timeout: Optional[float] = None) -> None:
        """Resume paused playback (``calling.play.resume``)."""
        self._sub("resume", timeout)

    def volume(
        self,
        db: float,
        timeout: Optional[float] = None,
        *,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Change the volume by ``db`` decibels, -40 to 40 (``calling.play.volume``).

        Raises:
            ValueError: ``db`` out of range (nothing is sent).
        """
        self._sub("volume", timeout, volume=db, extra_params=extra_params)


class RecordAction(Action[res.RecordResult]):
    """A ``calling.record``: settles on ``finished``, ``no_input`` or ``error``.

    A caller who hangs up mid-recording still yields ``finished`` with the url: the
    server sends that event before the call's ``ended``.
    """

    def pause(
        self,
        behavior: Optional[str] = None,
        timeout: Optional[float] = None,
        *,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Pause the recording (``calling.record.pause``).

        Args:
            behavior: ``skip`` (leave the pause out) or ``silence`` (record silence);
                ``None`` leaves it to the server.
            extra_params: params sent as given, unchecked.

        Raises:
            ValueError: an unknown ``behavior`` (nothing is sent).
        """
        self._sub("pause", timeout, behavior=behavior, extra_params=extra_params)

    def resume(self, timeout: Optional[float] = None) -> None:
        """Resume a paused recording (``calling.record.resume``)."""
        self._sub("resume", timeout)


class CollectAction(Action[res.CollectResult]):
    """A ``calling.collect`` or ``calling.play_and_collect``.

    Settles on a final ``calling.call.collect`` result (never on partial results,
    ``start_of_input`` or the prompt's play events); a continuous collect settles on
    ``state: finished`` and :attr:`results` lists every final result before it.
    """

    @property
    def results(self) -> List[res.CollectResult]:
        """Every final result received so far, in order."""
        with self._host.cond:
            return list(self._progress.results)

    def start_input_timers(self, timeout: Optional[float] = None) -> None:
        """Start the initial-input timers now (``calling.collect.start_input_timers``)."""
        self._sub("start_input_timers", timeout)

    def volume(
        self,
        db: float,
        timeout: Optional[float] = None,
        *,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Change the prompt's volume (``calling.play_and_collect.volume``).

        Raises:
            ValueError: ``db`` out of range (nothing is sent).
            NotImplementedError: a standalone collect has no prompt.
        """
        self._sub("volume", timeout, volume=db, extra_params=extra_params)


class DetectAction(Action[res.DetectResult]):
    """A ``calling.detect``: settles on the first conclusive result, or finished/error.

    Settling does not stop the detector; :meth:`stop` does.
    """


class SendDigitsAction(Action[res.SendDigitsResult]):
    """A ``calling.send_digits`` (``Call.send_digits`` blocks on it)."""


class TapAction(Action[res.TapResult]):
    """A ``calling.tap``: settles on ``finished``."""


class StreamAction(Action[res.StreamResult]):
    """A ``calling.stream``: settles on ``finished``."""


class TranscribeAction(Action[res.TranscribeResult]):
    """A ``calling.transcribe``: settles on ``finished``."""


class FaxAction(Action[res.FaxResult]):
    """A ``calling.send_fax`` or ``calling.receive_fax``: settles on ``fax.type``
    finished or error (the events carry no ``state``)."""


class PayAction(Action[res.PayResult]):
    """A ``calling.pay``: settles on the event that carries a ``result``."""


class AIAction(Action[res.AIResult]):
    """A ``calling.ai`` session: settles on a final ``calling.call.ai`` event, when
    :meth:`stop` is accepted, or when the call ends."""

    def stop(self, timeout: Optional[float] = None) -> None:
        """End the AI session (``calling.ai.stop``); the action settles ``finished``."""
        self._sub("stop", timeout)
        with self._host.cond:
            self._complete(res.AIResult(state=C.FINISHED, successful=True, event=None), None)


class ReferAction(Action[res.ReferResult]):
    """A SIP REFER: settles on success, busy, noAnswer, cancel or error.

    REFER has no ``control_id``: its events are matched by ``sip_refer_to`` against
    the target this REFER asked for, so an outcome of an earlier REFER never settles it.
    """

    def stop(self, timeout: Optional[float] = None) -> None:
        """REFER cannot be stopped once sent.

        Raises:
            NotImplementedError: always; RELAY has no ``calling.refer.stop``.
        """
        raise NotImplementedError("RELAY has no way to stop a SIP REFER once it is sent")


class ConnectAction(Action[res.ConnectResult]):
    """A ``calling.connect``: settles on ``connected`` or ``failed``.

    The peer leg becomes a :class:`~relaysync.call.Call` on the reader thread, before
    any later event (such as its hang-up) is applied.
    """

    def __init__(self, *args: Any, adopt_peer: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._adopt_peer = adopt_peer

    def _settling(self, event: RelayEvent) -> None:
        peer = getattr(event, "peer", None)
        if getattr(event, "connect_state", None) == C.CONNECT_CONNECTED and isinstance(peer, dict):
            self._progress.overrides["peer"] = self._adopt_peer(peer)

    def stop(self, timeout: Optional[float] = None) -> None:
        """A connect attempt cannot be stopped; ``Call.disconnect`` ends a bridge.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("RELAY has no calling.connect.stop; use call.disconnect()")


__all__ = [
    "AIAction",
    "Action",
    "ActionHost",
    "ActionResult",
    "CollectAction",
    "ConnectAction",
    "DetectAction",
    "FaxAction",
    "PayAction",
    "PlayAction",
    "RecordAction",
    "ReferAction",
    "SendDigitsAction",
    "StreamAction",
    "TapAction",
    "TranscribeAction",
]
