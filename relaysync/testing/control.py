"""Remote control of a RelaySimulator: the ``simulator.*`` methods of control sessions.

A process that did not start the simulator drives it over the simulator's own WebSocket
server and JSON-RPC. It connects with ``signalwire.connect`` and
``authentication: {"project": sim.project, "token": sim.control_token}``; that session
is a *control* session (see :mod:`relaysync.testing.core`): it may call the methods
below, gets no inbound offers, and is invisible to ``sim.sessions``, the journal and
the fault injectors. Any other session calling ``simulator.*`` gets ``-32601``.
:class:`~relaysync.testing.remote.RemoteSimulator` is the client.

Params are the keyword arguments of the in-process method of the same name (``from_``
included); results are JSON objects::

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
    simulator.on_message_to {to, state, reason, delay}          -> {}
    simulator.inbound_message {context, from_, to, body, media, tags} -> message info
    simulator.messages {}                                       -> {messages: [message info]}

(the messaging methods are registered by :mod:`relaysync.testing.messaging`; a message
info is the fields of :class:`~relaysync.testing.messaging.SimMessage`, lists for tuples).

A call info is ``{call_id, node_id, tag, direction, context, created_by, device, state,
end_reason, peer, session_id, offered_to, refers: [refer], events: <count>,
heard_digits}``; a session
is ``{id, protocol, contexts, online}``. Bad params answer ``-32602``, an unknown
``call_id`` ``-32010``. The two waits answer from timers on the simulator loop (checked
every 10 ms), so a pending wait never blocks the loop.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import attrs

from relaysync._log import MASK, mask_secrets
from relaysync.constants import CALL_ENDED, CALL_STATES
from relaysync.testing.caller import build
from relaysync.testing.dispatch import CONTROL_PREFIX, Handler
from relaysync.testing.sessions import RpcFault, Session

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.calls import CallEngine
    from relaysync.testing.core import SimCore
    from relaysync.testing.sessions import SessionInfo
    from relaysync.testing.simulator import RelaySimulator

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
_NUM = (int, float)
_OPT_STR = (str, type(None))
_OPT_INT = (int, type(None))
_CODE = (str, int, type(None))
#: One parameter: (name, accepted types, default or _REQUIRED).
Spec = Tuple[str, Tuple[type, ...], Any]
_SESSION: Tuple[Spec, ...] = (("session_id", _OPT_STR, None),)
_CALL_ID: Tuple[Spec, ...] = (("call_id", (str,), _REQUIRED),)

#: Methods that only forward their params to the facade method of the same name.
_FORWARDED: Dict[str, Tuple[Spec, ...]] = {
    "on_dial": (("to", (str,), _REQUIRED), ("outcome", (str,), "answer"), ("delay", _NUM, 0.5)),
    "on_refer": (
        ("target", (str,), _REQUIRED),
        ("state", (str,), "success"),
        ("sip_refer_response_code", _CODE, None),
        ("sip_notify_response_code", _CODE, None),
        ("delay", _NUM, 0.3),
    ),
    "set_media_duration": (("url", (str,), _REQUIRED), ("seconds", _NUM, _REQUIRED)),
    "drop_connections": _SESSION,
    "send_disconnect": (("restart", (bool,), False), *_SESSION),
    "go_silent": _SESSION,
    "wake": _SESSION,
    "delay_method": (
        ("method", (str,), _REQUIRED),
        ("seconds", _NUM, _REQUIRED),
        ("times", _OPT_INT, None),
    ),
    "fail_method": (
        ("method", (str,), _REQUIRED),
        ("code", (int,), _REQUIRED),
        ("message", (str,), "Simulated failure"),
        ("times", _OPT_INT, 1),
        ("as_result", (bool,), False),
    ),
    "clear_faults": (),
    "push_event": (("event_type", (str,), _REQUIRED), ("params", (dict,), _REQUIRED), *_SESSION),
    "push_frame": (("frame", (str, dict), _REQUIRED), *_SESSION),
}


def _invalid(message: str) -> RpcFault:
    return RpcFault(-32602, message, {"signalwire_error_code": "INVALID_PARAMS"})


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
        raise _invalid(f"unknown params: {', '.join(unknown)}")
    kwargs: Params = {}
    for name, types, default in spec:
        if name not in params:
            if default is _REQUIRED:
                raise _invalid(f"{name} is required")
            kwargs[name] = default
            continue
        value = params[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise _invalid(f"{name} must be {wanted}, got {type(value).__name__}")
        kwargs[name] = value
    return kwargs


def _session_info(info: SessionInfo) -> Params:
    return {
        "id": info.id,
        "protocol": info.protocol,
        "contexts": sorted(info.contexts),
        "online": info.online,
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

    def __init__(self, sim: RelaySimulator, core: SimCore, engine: CallEngine) -> None:
        self._sim = sim
        self._core = core
        self._engine = engine

    def methods(self) -> Dict[str, Handler]:
        """Return every handler, keyed by its full method name (``simulator.<name>``)."""
        table: Dict[str, Handler] = {
            name: self._forward(name, spec) for name, spec in _FORWARDED.items()
        }
        table.update(
            {
                "inbound_call": self._inbound_call,
                "call_info": self._call_info,
                "call_state": self._call_state,
                "calls": self._calls,
                "hangup": self._hangup,
                "finish_ai": self._finish_ai,
                "lint": self._lint,
                "clear_lint": self._clear_lint,
                "set_strict": self._set_strict,
                "wait_for_state": self._wait_for_state,
                "sessions": self._sessions,
                "wait_for_sessions": self._wait_for_sessions,
                "journal_requests": self._journal_requests,
                "caller": self._caller,
                "conference_participants": self._participants,
                "dequeue": self._dequeue,
            }
        )
        return {CONTROL_PREFIX + name: handler for name, handler in table.items()}

    # -- generic forwarding -----------------------------------------------------------

    def _forward(self, name: str, spec: Sequence[Spec]) -> Handler:
        method = getattr(self._sim, name)

        def handler(_session: Session, params: Params) -> Params:
            kwargs = read_params(params, spec)
            try:
                value = method(**kwargs)
            except (ValueError, TypeError) as exc:
                raise _invalid(str(exc)) from None
            if isinstance(value, int):
                return {"count": value}
            if isinstance(value, list):
                return {"event_ids": value}
            return {}

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

    def _inbound_call(self, _session: Session, params: Params) -> Params:
        kwargs = read_params(
            params,
            (
                ("context", (str,), "office"),
                ("from_", (str,), "+15550001111"),
                ("to", (str,), "+15550002222"),
                ("ring_timeout", _NUM, 30.0),
            ),
        )
        try:
            call = self._sim.inbound_call(**kwargs)
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        return self._info(self._record(call.call_id))

    def _call_info(self, _session: Session, params: Params) -> Params:
        return self._info(self._record(read_params(params, _CALL_ID)["call_id"]))

    def _call_state(self, _session: Session, params: Params) -> Params:
        record = self._record(read_params(params, _CALL_ID)["call_id"])
        return {"state": record.state, "end_reason": record.end_reason}

    def _calls(self, _session: Session, params: Params) -> Params:
        read_params(params, ())
        return {"calls": [self._info(record) for record in self._engine.records()]}

    def _hangup(self, _session: Session, params: Params) -> Params:
        kwargs = read_params(params, (*_CALL_ID, ("reason", (str,), "hangup")))
        self._engine.handle(self._record(kwargs["call_id"])).hangup(kwargs["reason"])
        return {}

    def _finish_ai(self, _session: Session, params: Params) -> Params:
        kwargs = read_params(params, (*_CALL_ID, ("state", (str,), "finished")))
        record = self._record(kwargs["call_id"])
        try:
            control_id = self._engine.services.finish_ai(record, kwargs["state"])
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        return {"control_id": control_id}

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

    def _wait_for_state(self, session: Session, params: Params) -> asyncio.Future[Params]:
        kwargs = read_params(
            params, (*_CALL_ID, ("state", (str,), _REQUIRED), ("timeout", _NUM, 5.0))
        )
        state, record = kwargs["state"], self._record(kwargs["call_id"])
        if state not in CALL_STATES:
            raise _invalid(f"state must be one of {CALL_STATES}, got {state!r}")

        def outcome(result: str) -> Params:
            return {"outcome": result, "state": record.state, "end_reason": record.end_reason}

        def check() -> Optional[Params]:
            if state in record.visited:
                return outcome("reached")
            return outcome("ended") if record.state == CALL_ENDED else None

        return self._poll(session, check, kwargs["timeout"], lambda: outcome("timeout"))

    def _caller(self, _session: Session, params: Params) -> Params:
        kwargs = read_params(
            params,
            (
                ("call_id", _OPT_STR, None),
                ("number", _OPT_STR, None),
                ("action", (str,), _REQUIRED),
                ("params", (dict,), {}),
            ),
        )
        if (kwargs["call_id"] is None) == (kwargs["number"] is None):
            raise _invalid("give exactly one of call_id and number")
        try:
            command = build(kwargs["action"], kwargs["params"])
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        if kwargs["call_id"] is not None:
            self._engine.caller(self._record(kwargs["call_id"])).apply(command)
        else:
            self._engine.scripts.caller_template(kwargs["number"]).apply(command)
        return {}

    def _participants(self, _session: Session, params: Params) -> Params:
        name = read_params(params, (("name", (str,), _REQUIRED),))["name"]
        return {"calls": self._engine.rooms.participants(name)}

    def _dequeue(self, _session: Session, params: Params) -> Params:
        name = read_params(params, (("queue_name", (str,), _REQUIRED),))["queue_name"]
        return {"call_id": self._engine.rooms.dequeue(name)}

    # -- sessions and journal ---------------------------------------------------------

    def _sessions(self, _session: Session, params: Params) -> Params:
        read_params(params, ())
        return {"sessions": [_session_info(info) for info in self._sim.sessions]}

    def _wait_for_sessions(self, session: Session, params: Params) -> asyncio.Future[Params]:
        kwargs = read_params(params, (("n", (int,), _REQUIRED), ("timeout", _NUM, 5.0)))

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

    def _journal_requests(self, _session: Session, params: Params) -> Params:
        method = read_params(params, (("method", _OPT_STR, None),))["method"]
        sim = self._sim
        secrets = (sim.token, sim.jwt_token, sim.control_token)
        return {"requests": [scrub(frame, secrets) for frame in sim.journal.requests(method)]}

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
            raise _invalid(f"timeout must be >= 0, got {timeout!r}")
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


def install_control(sim: RelaySimulator, core: SimCore, engine: CallEngine) -> None:
    """Register the ``simulator.*`` methods of ``sim`` with its core.

    Args:
        sim: the simulator to drive remotely.
        core: its session layer, which lets only control sessions call them.
        engine: its call engine.
    """
    for method, handler in Controller(sim, core, engine).methods().items():
        core.register_method(method, handler)


__all__ = [
    "REQUIRED",
    "UNKNOWN_CALL",
    "WAIT_TIMEOUT",
    "Controller",
    "install_control",
    "read_params",
    "scrub",
]
