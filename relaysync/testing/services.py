"""One-shot call services: hold, denoise, echo, digit bindings, live transcription and
translation, user events, and AI sessions.

Runs on the simulator loop thread. Each answers at once; the events below follow the
result. Where no protocol source gives an event's vocabulary (PROTOCOL.md §7.21) the
simulator picks one and says so here.

* ``calling.hold`` / ``calling.unhold``: ``calling.call.hold`` ``{state: "hold"}`` /
  ``{state: "unhold"}`` (an answered call; repeating the current one emits nothing).
* ``calling.denoise`` / ``calling.denoise.stop``: ``calling.call.denoise {denoised}``.
* ``calling.echo``: ``calling.call.echo {state: "echoing"}``, then ``finished`` after
  ``timeout`` seconds (0, the default, echoes until the call ends).
* ``calling.bind_digit``: when the scripted caller presses a sequence containing
  ``digits`` (bindings are offered the caller's input before any collect), the
  simulator runs ``bind_method`` (a ``calling.*`` method) on the call with ``params``,
  adding ``node_id``, ``call_id`` and, for a method that takes one, a fresh
  ``control_id`` (so a bound ``calling.play`` plays and its events reach the call's
  session), at most ``max_triggers`` times (0 = unlimited).
  ``calling.clear_digit_bindings`` removes them (those of ``realm`` only, if given).
* ``calling.live_transcribe`` / ``calling.live_translate``: ``action`` is an object
  with one key (``start``, ``stop``, ``summarize``; ``inject`` for translate). No events.
* ``calling.user_event``: kept with the call's services state. No events.
* ``calling.ai``: an AI session until ``calling.ai.stop`` or the call ends. Neither
  sends an event: no RELAY document confirms one (PROTOCOL.md §2.5.19, §7), and real
  RELAY may send nothing. A test that wants the ``calling.call.ai {control_id, state}``
  the official SDKs wait for scripts it with ``SimCall.finish_ai(state)`` (not
  confirmed by RELAY's documents). One AI session per call (``409``);
  ``calling.amazon_bedrock`` starts one too (without ``control_id`` or events).
  ``ai_message``, ``ai_hold`` and ``ai_unhold`` need a running session (``409``
  otherwise); ``ai_hold``/``ai_unhold`` answer ``409`` when it already is in that state.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import attrs

from relaysync.constants import (
    CALL_ANSWERED,
    EVENT_CALL_AI,
    EVENT_CALL_DENOISE,
    EVENT_CALL_ECHO,
    EVENT_CALL_HOLD,
)
from relaysync.testing.caller import DTMF
from relaysync.testing.methods import METHODS
from relaysync.testing.replies import invalid_params, require_str, result
from relaysync.testing.running_ops import OperationTable, RunningOperation, number

if TYPE_CHECKING:
    from relaysync.testing.caller import Input
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

log = logging.getLogger("relaysync.simulator.calls")

LIVE_ACTIONS = {
    "calling.live_transcribe": ("start", "stop", "summarize"),
    "calling.live_translate": ("start", "stop", "summarize", "inject"),
}
AI_ROLES = ("system", "user", "assistant")
AI_END_STATES = ("finished", "error")


@attrs.define(eq=False)
class _Binding:
    digits: str
    method: str
    params: Params
    realm: Optional[str]
    max_triggers: int
    fired: int = 0


@attrs.define(eq=False)
class _CallServices:
    """What the one-shot services left on one call."""

    held: bool = False
    denoised: bool = False
    bindings: List[_Binding] = attrs.field(factory=list)
    live: Dict[str, str] = attrs.field(factory=dict)  # method -> last action
    user_events: List[Any] = attrs.field(factory=list)
    ai: Optional[str] = None  # "ai", "bedrock" or None
    ai_held: bool = False
    listener: Any = None


class Services:
    """The one-shot services and AI sessions (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self._calls: Dict[str, _CallServices] = {}
        self.ai: OperationTable[RunningOperation] = OperationTable(
            engine, EVENT_CALL_AI, self._ai_end
        )
        self._new_id = engine.core.new_id
        engine.on_ended(self._forget)

    def _forget(self, call: CallRecord) -> None:
        self._calls.pop(call.call_id, None)

    def state(self, call: CallRecord) -> _CallServices:
        """The services' state of ``call`` (created on first use)."""
        return self._calls.setdefault(call.call_id, _CallServices())

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        return {
            "calling.hold": wrap(lambda s, call, p: self._hold(call, True)),
            "calling.unhold": wrap(lambda s, call, p: self._hold(call, False)),
            "calling.denoise": wrap(lambda s, call, p: self._denoise(call, True)),
            "calling.denoise.stop": wrap(lambda s, call, p: self._denoise(call, False)),
            "calling.echo": wrap(self._echo),
            "calling.bind_digit": wrap(self._bind),
            "calling.clear_digit_bindings": wrap(self._clear),
            "calling.live_transcribe": wrap(self._live("calling.live_transcribe")),
            "calling.live_translate": wrap(self._live("calling.live_translate")),
            "calling.user_event": wrap(self._user_event),
            "calling.ai": wrap(self._ai),
            "calling.ai.stop": wrap(self.ai.command("Stopped", self._ai_end)),
            "calling.amazon_bedrock": wrap(self._bedrock),
            "calling.ai_message": wrap(self._ai_message),
            "calling.ai_hold": wrap(lambda s, call, p: self._ai_hold(call, p, True)),
            "calling.ai_unhold": wrap(lambda s, call, p: self._ai_hold(call, p, False)),
        }

    def _emit(self, call: CallRecord, event_type: str, body: Params) -> None:
        params = {"node_id": call.node_id, "call_id": call.call_id, **body}
        self._engine.after_reply(lambda: self._engine.emit(call, event_type, params))

    # -- hold, denoise, echo ------------------------------------------------------------

    def _hold(self, call: CallRecord, hold: bool) -> Params:
        if call.state != CALL_ANSWERED:
            return result("409", "Call is not answered", call_id=call.call_id)
        state = self.state(call)
        if state.held != hold:
            state.held = hold
            self._emit(call, EVENT_CALL_HOLD, {"state": "hold" if hold else "unhold"})
        return result("200", "Call on hold" if hold else "Call off hold", call_id=call.call_id)

    def _denoise(self, call: CallRecord, on: bool) -> Params:
        self.state(call).denoised = on
        self._emit(call, EVENT_CALL_DENOISE, {"denoised": on})
        return result("200", "Denoiser on" if on else "Denoiser off", call_id=call.call_id)

    def _echo(self, session: Session, call: CallRecord, params: Params) -> Params:
        timeout = number(params.get("timeout"), "timeout", 0.0)
        self._emit(call, EVENT_CALL_ECHO, {"state": "echoing"})
        if timeout > 0:
            body = {"node_id": call.node_id, "call_id": call.call_id, "state": "finished"}

            def finished() -> None:
                if call.live:
                    self._engine.emit(call, EVENT_CALL_ECHO, body)

            self._engine.later(timeout, finished)
        return result("200", "Echo started", call_id=call.call_id)

    # -- digit bindings -----------------------------------------------------------------

    def _bind(self, session: Session, call: CallRecord, params: Params) -> Params:
        digits = require_str(params, "digits")
        if set(digits) - DTMF:
            raise invalid_params("digits may hold only 0-9 * # A-D")
        method = require_str(params, "bind_method")
        spec = METHODS.get(method)
        if spec is None or "call_id" not in spec.required or method == "calling.bind_digit":
            raise invalid_params(
                f"bind_method must be a calling method of the call, got {method!r}"
            )
        bound = params.get("params")
        if not isinstance(bound, dict):
            if bound is not None:
                log.info("calling.bind_digit on call %s: params is not an object", call.call_id)
            bound = {}
        most = int(params.get("max_triggers") or 0)
        if most < 0:
            raise invalid_params("max_triggers must be >= 0 (0 = unlimited)")
        realm = params.get("realm")
        state = self.state(call)
        state.bindings.append(_Binding(digits, method, bound, realm, most))
        if state.listener is None:

            def listener(item: Input) -> bool:
                return self._pressed(call, item)

            state.listener = listener
            self._engine.caller(call).listen(listener, first=True)
        return result("200", "Digit binding created", call_id=call.call_id)

    def _clear(self, session: Session, call: CallRecord, params: Params) -> Params:
        realm = params.get("realm")
        state = self.state(call)
        state.bindings = [b for b in state.bindings if realm is not None and b.realm != realm]
        return result("200", "Digit bindings cleared", call_id=call.call_id)

    def _pressed(self, call: CallRecord, item: Input) -> bool:
        if item.kind != "digits" or not call.live:
            return False
        state = self.state(call)
        hits = [b for b in state.bindings if b.digits in item.value]
        for binding in hits:
            binding.fired += 1
            if binding.max_triggers and binding.fired >= binding.max_triggers:
                state.bindings.remove(binding)
            self._engine.later(item.delay, functools.partial(self._fire, call, binding))
        return bool(hits)

    def _fire(self, call: CallRecord, binding: _Binding) -> None:
        handler = self._engine.core.method_handler(binding.method)
        if handler is None or call.session is None or not call.live:
            return
        params = {**binding.params, "node_id": call.node_id, "call_id": call.call_id}
        if "control_id" in METHODS[binding.method].required and "control_id" not in params:
            params["control_id"] = self._new_id()
        try:
            answer = handler(call.session, params)
        except Exception as exc:  # RpcFault included: a bad binding is only logged
            log.warning("digit binding %s on call %s failed: %s", binding.method, call.call_id, exc)
            return
        if isinstance(answer, dict) and str(answer.get("code", "200")) != "200":
            log.warning("digit binding %s on call %s: %s", binding.method, call.call_id, answer)

    # -- live transcription and translation, user events --------------------------------

    def _live(self, method: str) -> Any:
        def handler(session: Session, call: CallRecord, params: Params) -> Params:
            action = params.get("action")
            allowed = LIVE_ACTIONS[method]
            if (
                not isinstance(action, dict)
                or len(action) != 1
                or next(iter(action)) not in allowed
            ):
                raise invalid_params(f"action must be an object with one key of {list(allowed)}")
            self.state(call).live[method] = next(iter(action))
            what = "transcription" if method.endswith("transcribe") else "translation"
            return result("200", f"Live {what} started", call_id=call.call_id)

        return handler

    def _user_event(self, session: Session, call: CallRecord, params: Params) -> Params:
        self.state(call).user_events.append(params.get("event"))
        return result("200", "Event sent", call_id=call.call_id)

    # -- AI -----------------------------------------------------------------------------

    def _ai(self, session: Session, call: CallRecord, params: Params) -> Params:
        state = self.state(call)
        if state.ai is not None:
            return result("409", "An AI session is already running", call_id=call.call_id)
        op = RunningOperation(call, require_str(params, "control_id"))
        answer = self.ai.start(op, "AI started", lambda: None)
        if answer["code"] == "200":
            state.ai = "ai"
        return answer

    def _ai_end(self, op: RunningOperation, body: Optional[Params] = None) -> None:
        if self.ai.finish(op, body):
            state = self.state(op.call)
            state.ai, state.ai_held = None, False

    def finish_ai(self, call: CallRecord, state: str) -> str:
        """Scripted: end the call's ``calling.ai`` session with ``calling.call.ai
        {control_id, state}`` (an event no RELAY document confirms).

        Args:
            call: the call.
            state: ``finished`` or ``error``.

        Returns:
            The session's ``control_id``.

        Raises:
            ValueError: a bad ``state``, or no ``calling.ai`` session runs on the call.
        """
        if state not in AI_END_STATES:
            raise ValueError(f"state must be one of {list(AI_END_STATES)}, got {state!r}")
        running = self.ai.running(call)
        if not running:
            raise ValueError(f"no calling.ai session is running on call {call.call_id}")
        op = running[0]
        self._ai_end(op, {"state": state})
        return op.control_id

    def _bedrock(self, session: Session, call: CallRecord, params: Params) -> Params:
        state = self.state(call)
        if state.ai is not None:
            return result("409", "An AI session is already running", call_id=call.call_id)
        state.ai = "bedrock"
        return result("200", "AI started", call_id=call.call_id)

    def _ai_message(self, session: Session, call: CallRecord, params: Params) -> Params:
        if params.get("role", "user") not in AI_ROLES:
            raise invalid_params(f"role must be one of {list(AI_ROLES)}")
        if self.state(call).ai is None:
            return result("409", "No AI session is running", call_id=call.call_id)
        return result("200", "Message sent", call_id=call.call_id)

    def _ai_hold(self, call: CallRecord, params: Params, hold: bool) -> Params:
        state = self.state(call)
        if state.ai is None:
            return result("409", "No AI session is running", call_id=call.call_id)
        if state.ai_held == hold:
            return result("409", "AI is already " + ("on hold" if hold else "running"))
        state.ai_held = hold
        return result("200", "AI on hold" if hold else "AI resumed", call_id=call.call_id)


__all__: List[str] = ["AI_END_STATES", "Services"]
