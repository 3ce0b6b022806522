"""Remote control of a RelaySimulator: the ``simulator.*`` methods of control sessions.

A process that did not start the simulator drives it over the simulator's own WebSocket
server and JSON-RPC. It connects with ``signalwire.connect`` and
``authentication: {"project": sim.project, "token": sim.control_token}``; that session
is a *control* session (see :mod:`relaysync.testing.core`): it may call the methods
below, gets no inbound offers, and is invisible to ``sim.sessions``, the journal and
the fault injectors. Any other session calling ``simulator.*`` gets ``-32601``.
:class:`~relaysync.testing.remote.RemoteSimulator` is the client.

Params are the keyword arguments of the in-process method of the same name (``from_``
included), with the same defaults: each method's params, their JSON types and defaults
are read from the signature of that method (``RelaySimulator.<name>``, or
``SimCall.<name>`` plus ``call_id``), so they are written once. Results are JSON
objects::

    simulator.inbound_call {context, from_, to, ring_timeout}   -> call info
    simulator.call_info {call_id}                               -> call info
    simulator.call_state {call_id}                              -> {state, end_reason}
    simulator.calls {}                                          -> {calls: [call info]}
    simulator.hangup {call_id, reason}                          -> {}
    simulator.finish_ai {call_id, state}                        -> {control_id}
        (calling.call.ai: an event not confirmed by RELAY's documents, sent on request)
    simulator.lint {}                               -> {lint: [{method, path, note}], strict}
    simulator.clear_lint {}; simulator.set_strict {strict}      -> {}
    simulator.wait_for_state {call_id, state, timeout}
        -> {outcome: "reached" | "ended" | "timeout", state, end_reason}
    simulator.on_dial {to, outcome, delay}; simulator.on_refer {target, state,
        sip_refer_response_code, sip_notify_response_code, delay};
        simulator.set_media_duration {url, seconds}            -> {}
    simulator.drop_connections / go_silent / wake {session_id};
        simulator.send_disconnect {restart, session_id}        -> {count}
    simulator.delay_method {method, seconds, times}; simulator.fail_method {method, code,
        message, times, as_result}; simulator.clear_faults {}  -> {}
    simulator.push_event {event_type, params, session_id}      -> {event_ids}
    simulator.push_frame {frame (str or object), session_id}   -> {count}
    simulator.sessions {}                                       -> {sessions: [session]}
    simulator.wait_for_sessions {n, timeout}   -> {sessions} or error -32011 on timeout
    simulator.journal_requests {method}        -> {requests: [frame]}, secrets masked
    simulator.caller {call_id | number, action, params}         -> {}
        (action: input, answer_as, fax_outcome or pay_outcome; see relaysync.testing.caller)
    simulator.conference_participants {name}   -> {calls: [call_id]}
    simulator.dequeue {queue_name}             -> {call_id} (null when the queue is empty)
    simulator.redeliver_events {count, session_id}             -> {count}
    simulator.on_message_to {to, state, reason, delay}          -> {}
    simulator.inbound_message {context, from_, to, body, media, tags} -> message info
    simulator.messages {}                                       -> {messages: [message info]}

(a message info is the fields of :class:`~relaysync.testing.sms.SimMessage`, lists
for tuples).

A call info is ``{call_id, node_id, tag, direction, context, created_by, device, state,
end_reason, peer, session_id, offered_to, refers: [refer], events: <count>,
heard_digits}``; a session
is ``{id, protocol, contexts, online}``. Bad params answer ``-32602``, an unknown
``call_id`` ``-32010``. The two waits answer from timers on the simulator loop (checked
every 10 ms), so a pending wait never blocks the loop.
"""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
import typing
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Union,
)

import attrs

from relaysync._log import MASK, mask_secrets
from relaysync.constants import CALL_ENDED, CALL_STATES
from relaysync.testing.caller import build
from relaysync.testing.frame_dispatch import CONTROL_PREFIX, Handler
from relaysync.testing.handle import SimCall
from relaysync.testing.journal import Journal
from relaysync.testing.replies import as_fault, invalid_params
from relaysync.testing.sessions import RpcFault, Session

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.calls import CallEngine
    from relaysync.testing.core import SimCore
    from relaysync.testing.lint import LintEntry
    from relaysync.testing.sessions import SessionInfo
    from relaysync.testing.sms import SimMessage

Params = Dict[str, Any]

#: Error code answered for a ``call_id`` the simulator does not know (or forgot).
UNKNOWN_CALL = -32010
#: Error code answered when ``wait_for_sessions`` times out.
WAIT_TIMEOUT = -32011
#: Seconds between two checks of a pending wait.
POLL_INTERVAL = 0.01

_REQUIRED = object()
#: The default of a parameter that must be given (for :func:`read_params` specs).
REQUIRED = _REQUIRED
#: One parameter: (name, accepted types, default or REQUIRED).
Spec = Tuple[str, Tuple[type, ...], Any]
_CALL_ID: Tuple[Spec, ...] = (("call_id", (str,), _REQUIRED),)


def _empty(_value: Any) -> Params:
    return {}


def _count(value: int) -> Params:
    return {"count": value}


#: The ``simulator.*`` methods answered by the ``RelaySimulator`` method of the same
#: name (params from its signature), and how its return value is answered.
FORWARDED: Dict[str, Callable[[Any], Params]] = {
    "on_dial": _empty,
    "on_refer": _empty,
    "set_media_duration": _empty,
    "conference_participants": lambda calls: {"calls": calls},
    "dequeue": lambda call_id: {"call_id": call_id},
    "drop_connections": _count,
    "send_disconnect": _count,
    "go_silent": _count,
    "wake": _count,
    "delay_method": _empty,
    "fail_method": _empty,
    "clear_faults": _empty,
    "push_event": lambda event_ids: {"event_ids": event_ids},
    "push_frame": _count,
    "redeliver_events": _count,
    "on_message_to": _empty,
}


class Simulator(Protocol):
    """What remote control reads of a ``RelaySimulator``; its scripting methods are
    looked up by name (see :data:`FORWARDED`)."""

    token: str
    jwt_token: str
    control_token: str
    strict: bool

    @property
    def journal(self) -> Journal:
        """Every frame received and sent."""

    @property
    def lint(self) -> List[LintEntry]:
        """Params accepted although no RELAY document names them."""

    @property
    def sessions(self) -> List[SessionInfo]:
        """Snapshot of the live sessions."""

    @property
    def messages(self) -> List[SimMessage]:
        """Snapshots of the messages sent and received."""

    def clear_lint(self) -> None:
        """Forget the lint recorded so far."""

    def wait_for_sessions(self, n: int, timeout: float = ...) -> List[SessionInfo]:
        """Block until exactly ``n`` sessions are online (its params are read from the
        simulator's own signature)."""


def wire_types(hint: Any) -> Tuple[type, ...]:
    """The JSON types that carry a parameter annotated ``hint`` (``float`` takes ints,
    a ``Sequence`` is a list; ``bytes`` has no JSON form and is left out).

    Raises:
        TypeError: an annotation with no JSON form.
    """
    if typing.get_origin(hint) is Union:
        return tuple(t for arg in typing.get_args(hint) for t in wire_types(arg))
    origin = typing.get_origin(hint) or hint
    if origin is float:
        return (int, float)
    if origin in (list, tuple, collections.abc.Sequence):
        return (list,)
    if origin in (dict, collections.abc.Mapping):
        return (dict,)
    if origin in (str, int, bool, type(None)):
        return (origin,)
    if origin is bytes:
        return ()
    raise TypeError(f"no JSON form for a parameter annotated {hint!r}")


def spec_of(function: Callable[..., Any], first: Sequence[Spec] = ()) -> Tuple[Spec, ...]:
    """The control params of an in-process method, read from its signature.

    Args:
        function: the method as found on its class (``self`` is left out).
        first: params that come before the method's own (``call_id``).

    Returns:
        ``(name, JSON types, default or REQUIRED)`` per parameter, in order.
    """
    hints = typing.get_type_hints(function)
    specs = list(first)
    for name, param in inspect.signature(function).parameters.items():
        if name == "self":
            continue
        default = _REQUIRED if param.default is inspect.Parameter.empty else param.default
        specs.append((name, wire_types(hints[name]), default))
    return tuple(specs)


def read_params(params: Params, spec: Sequence[Spec]) -> Params:
    """Check ``params`` against ``spec`` and fill in defaults.

    Args:
        params: the request params.
        spec: ``(name, types, default)`` per accepted parameter; ``bool`` is accepted
            only where listed (it is not a number here).

    Returns:
        The keyword arguments for the facade method.

    Raises:
        RpcFault: ``-32602`` for a missing, unknown or mistyped parameter.
    """
    unknown = sorted(set(params) - {name for name, _types, _default in spec})
    if unknown:
        raise invalid_params(f"unknown params: {', '.join(unknown)}")
    kwargs: Params = {}
    for name, types, default in spec:
        if name not in params:
            if default is _REQUIRED:
                raise invalid_params(f"{name} is required")
            kwargs[name] = default
            continue
        value = params[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise invalid_params(f"{name} must be {wanted}, got {type(value).__name__}")
        kwargs[name] = value
    return kwargs


def _session_info(info: SessionInfo) -> Params:
    return {
        "id": info.id,
        "protocol": info.protocol,
        "contexts": sorted(info.contexts),
        "online": info.online,
    }


def message_info(message: SimMessage) -> Params:
    """A :class:`~relaysync.testing.sms.SimMessage` as a JSON object (lists for
    its tuples)."""
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in attrs.asdict(message, recurse=False).items()
    }


def scrub(value: Any, secrets: Sequence[str]) -> Any:
    """Mask secret-bearing keys, and any string containing one of ``secrets``.

    Args:
        value: a JSON value (not changed).
        secrets: strings that must not appear anywhere in the copy.

    Returns:
        A masked copy.
    """

    def replace(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: replace(v) for k, v in item.items()}
        if isinstance(item, list):
            return [replace(v) for v in item]
        if isinstance(item, str) and any(s and s in item for s in secrets):
            return MASK
        return item

    return replace(mask_secrets(value))


class Controller:
    """The ``simulator.*`` handlers of one simulator (loop thread only).

    They call the simulator's public facade, whose methods run directly when called on
    the loop thread, and read call records from the engine.

    Args:
        sim: the simulator to drive.
        core: its session layer (the loop and its timers).
        engine: its call engine (the call table).
    """

    def __init__(self, sim: Simulator, core: SimCore, engine: CallEngine) -> None:
        self._sim = sim
        self._core = core
        self._engine = engine

    def methods(self) -> Dict[str, Handler]:
        """Return every handler, keyed by its full method name (``simulator.<name>``)."""
        table: Dict[str, Handler] = {
            name: self._forward(name, answer) for name, answer in FORWARDED.items()
        }
        table.update(
            {
                "inbound_call": self._forward(
                    "inbound_call", lambda call: self._info(self._record(call.call_id))
                ),
                "inbound_message": self._forward("inbound_message", message_info),
                "hangup": self._on_call("hangup", _empty),
                "finish_ai": self._on_call("finish_ai", lambda cid: {"control_id": cid}),
                "call_info": self._call_info,
                "call_state": self._call_state,
                "calls": self._calls,
                "messages": self._messages,
                "lint": self._lint,
                "clear_lint": self._clear_lint,
                "set_strict": self._set_strict,
                "wait_for_state": self._wait_for_state(),
                "sessions": self._sessions,
                "wait_for_sessions": self._wait_for_sessions(),
                "journal_requests": self._journal_requests(),
                "caller": self._caller,
            }
        )
        return {CONTROL_PREFIX + name: handler for name, handler in table.items()}

    # -- generic forwarding -----------------------------------------------------------

    def _forward(self, name: str, answer: Callable[[Any], Params]) -> Handler:
        """Answer ``simulator.<name>`` with ``sim.<name>(**params)``."""
        method = getattr(self._sim, name)
        spec = spec_of(getattr(type(self._sim), name))

        def handler(_session: Session, params: Params) -> Params:
            kwargs = read_params(params, spec)
            return answer(as_fault(lambda: method(**kwargs)))

        return handler

    def _on_call(self, name: str, answer: Callable[[Any], Params]) -> Handler:
        """Answer ``simulator.<name> {call_id, ...}`` with ``SimCall.<name>(...)``."""
        spec = spec_of(getattr(SimCall, name), _CALL_ID)

        def handler(_session: Session, params: Params) -> Params:
            kwargs = read_params(params, spec)
            call = self._engine.handle(self._record(kwargs.pop("call_id")))
            return answer(as_fault(lambda: getattr(call, name)(**kwargs)))

        return handler

    # -- calls ------------------------------------------------------------------------

    def _record(self, call_id: str) -> CallRecord:
        record = self._engine.find(call_id)
        if record is None:
            raise RpcFault(UNKNOWN_CALL, f"Unknown call_id {call_id!r}")
        return record

    def _info(self, record: CallRecord) -> Params:
        call = self._engine.handle(record)
        return {
            "call_id": call.call_id,
            "node_id": call.node_id,
            "tag": call.tag,
            "direction": call.direction,
            "context": call.context,
            "created_by": call.created_by,
            "device": call.device,
            "state": call.state,
            "end_reason": call.end_reason,
            "peer": call.peer,
            "session_id": call.session_id,
            "offered_to": call.offered_to,
            "refers": [attrs.asdict(refer) for refer in call.refers],
            "events": len(record.events),
            "heard_digits": call.heard_digits,
        }

    def _call_info(self, _session: Session, params: Params) -> Params:
        return self._info(self._record(read_params(params, _CALL_ID)["call_id"]))

    def _call_state(self, _session: Session, params: Params) -> Params:
        record = self._record(read_params(params, _CALL_ID)["call_id"])
        return {"state": record.state, "end_reason": record.end_reason}

    def _calls(self, _session: Session, params: Params) -> Params:
        read_params(params, ())
        return {"calls": [self._info(record) for record in self._engine.records()]}

    def _messages(self, _session: Session, params: Params) -> Params:
        read_params(params, ())
        return {"messages": [message_info(m) for m in self._sim.messages]}

    # -- lint -------------------------------------------------------------------------

    def _lint(self, _session: Session, params: Params) -> Params:
        read_params(params, ())
        entries = [attrs.asdict(entry) for entry in self._sim.lint]
        return {"lint": entries, "strict": self._sim.strict}

    def _clear_lint(self, _session: Session, params: Params) -> Params:
        read_params(params, ())
        self._sim.clear_lint()
        return {}

    def _set_strict(self, _session: Session, params: Params) -> Params:
        self._sim.strict = read_params(params, (("strict", (bool,), _REQUIRED),))["strict"]
        return {}

    def _wait_for_state(self) -> Handler:
        spec = spec_of(SimCall.wait_for_state, _CALL_ID)

        def handler(session: Session, params: Params) -> asyncio.Future[Params]:
            kwargs = read_params(params, spec)
            state, record = kwargs["state"], self._record(kwargs["call_id"])
            if state not in CALL_STATES:
                raise invalid_params(f"state must be one of {CALL_STATES}, got {state!r}")

            def outcome(result: str) -> Params:
                return {"outcome": result, "state": record.state, "end_reason": record.end_reason}

            def check() -> Optional[Params]:
                if state in record.visited:
                    return outcome("reached")
                return outcome("ended") if record.state == CALL_ENDED else None

            return self._poll(session, check, kwargs["timeout"], lambda: outcome("timeout"))

        return handler

    def _caller(self, _session: Session, params: Params) -> Params:
        kwargs = read_params(
            params,
            (
                ("call_id", (str, type(None)), None),
                ("number", (str, type(None)), None),
                ("action", (str,), _REQUIRED),
                ("params", (dict,), {}),
            ),
        )
        if (kwargs["call_id"] is None) == (kwargs["number"] is None):
            raise invalid_params("give exactly one of call_id and number")
        command = as_fault(lambda: build(kwargs["action"], kwargs["params"]))
        if kwargs["call_id"] is not None:
            self._engine.caller(self._record(kwargs["call_id"])).apply(command)
        else:
            self._engine.scripts.caller_template(kwargs["number"]).apply(command)
        return {}

    # -- sessions and journal ---------------------------------------------------------

    def _sessions(self, _session: Session, params: Params) -> Params:
        read_params(params, ())
        return {"sessions": [_session_info(info) for info in self._sim.sessions]}

    def _wait_for_sessions(self) -> Handler:
        spec = spec_of(type(self._sim).wait_for_sessions)

        def handler(session: Session, params: Params) -> asyncio.Future[Params]:
            kwargs = read_params(params, spec)

            def online() -> List[SessionInfo]:
                return [info for info in self._sim.sessions if info.online]

            def check() -> Optional[Params]:
                found = online()
                if len(found) != kwargs["n"]:
                    return None
                return {"sessions": [_session_info(info) for info in found]}

            def timed_out() -> Params:
                raise RpcFault(
                    WAIT_TIMEOUT,
                    f"{len(online())} sessions online, not "
                    f"{kwargs['n']}, after {kwargs['timeout']:g} s",
                )

            return self._poll(session, check, kwargs["timeout"], timed_out)

        return handler

    def _journal_requests(self) -> Handler:
        spec = spec_of(Journal.requests)

        def handler(_session: Session, params: Params) -> Params:
            method = read_params(params, spec)["method"]
            sim = self._sim
            secrets = (sim.token, sim.jwt_token, sim.control_token)
            return {"requests": [scrub(frame, secrets) for frame in sim.journal.requests(method)]}

        return handler

    # -- waits on the loop ------------------------------------------------------------

    def _poll(
        self,
        session: Session,
        check: Callable[[], Optional[Params]],
        timeout: float,
        on_timeout: Callable[[], Params],
    ) -> asyncio.Future[Params]:
        """Answer with ``check()`` once it is not None, or ``on_timeout()`` after
        ``timeout`` seconds; give up when the asking session is gone."""
        if timeout < 0:
            raise invalid_params(f"timeout must be >= 0, got {timeout!r}")
        loop = self._core.runner.loop
        future: asyncio.Future[Params] = loop.create_future()
        deadline = loop.time() + timeout

        def tick() -> None:
            if future.done():
                return
            if session.expired:
                future.cancel()
                return
            try:
                answer = check()
                if answer is None and loop.time() >= deadline:
                    answer = on_timeout()
            except Exception as exc:  # RpcFault included: it becomes the error answer
                future.set_exception(exc)
                return
            if answer is not None:
                future.set_result(answer)
            else:
                self._core.call_later(min(POLL_INTERVAL, deadline - loop.time()), tick)

        tick()
        return future


def install_control(sim: Simulator, core: SimCore, engine: CallEngine) -> None:
    """Register the ``simulator.*`` methods of ``sim`` with its core.

    Args:
        sim: the simulator to drive remotely.
        core: its session layer, which lets only control sessions call them.
        engine: its call engine.
    """
    for method, handler in Controller(sim, core, engine).methods().items():
        core.register_method(method, handler)


__all__ = [
    "FORWARDED",
    "REQUIRED",
    "UNKNOWN_CALL",
    "WAIT_TIMEOUT",
    "Controller",
    "Simulator",
    "install_control",
    "message_info",
    "read_params",
    "scrub",
    "spec_of",
    "wire_types",
]
