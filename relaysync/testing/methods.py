"""The simulator's method registry: which params every ``calling.*`` method takes.

One :class:`MethodSpec` per RELAY method (PROTOCOL.md §2.3/§2.4): required and optional
params. Capabilities register their handlers with :func:`checked`, which refuses a
request before the handler runs when a required param is missing or a param is unknown,
with RELAY's error shape (JSON-RPC ``-32602``, ``data.signalwire_error_code ==
"INVALID_PARAMS"``). ``status_url`` is accepted on every per-call method, as a simulator
should (§2.3). Methods nobody registered are answered ``-32601`` by the frame layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Tuple

import attrs

from relaysync.testing.replies import invalid_params

if TYPE_CHECKING:
    from relaysync.testing.core import Session
    from relaysync.testing.replies import Handler, Params


@attrs.frozen
class MethodSpec:
    """The params of one RELAY method.

    Attributes:
        name: the JSON-RPC method name.
        required: params that must be present (``node_id``/``call_id`` included when
            ``per_call``).
        optional: params that may be present.
    """

    name: str
    required: Tuple[str, ...] = ()
    optional: Tuple[str, ...] = ()

    @property
    def accepted(self) -> Tuple[str, ...]:
        """Every param name the method accepts."""
        return self.required + self.optional


_CALL = ("node_id", "call_id")
_CTL = (*_CALL, "control_id")
_ANY = ("status_url",)


def _call(name: str, required: Tuple[str, ...] = (), optional: Tuple[str, ...] = ()) -> MethodSpec:
    return MethodSpec(f"calling.{name}", (*_CALL, *required), (*optional, *_ANY))


def _ctl(name: str, required: Tuple[str, ...] = (), optional: Tuple[str, ...] = ()) -> MethodSpec:
    return MethodSpec(f"calling.{name}", (*_CTL, *required), (*optional, *_ANY))


def _stops(*names: str) -> Tuple[MethodSpec, ...]:
    return tuple(_ctl(f"{name}.stop") for name in names)


#: The fields of a collect: top-level params of ``calling.collect``, keys of
#: ``play_and_collect``'s ``collect`` object.
COLLECT_OPTIONS = (
    "initial_timeout",
    "digits",
    "speech",
    "partial_results",
    "continuous",
    "send_start_of_input",
    "start_input_timers",
    "continue",
)
_CONFERENCE_OPTIONS = (
    "muted",
    "beep",
    "start_on_enter",
    "end_on_exit",
    "wait_url",
    "max_participants",
    "record",
    "region",
    "trim",
    "coach",
    "status_callback",
    "status_callback_event",
    "status_callback_event_type",
    "status_callback_method",
    "recording_status_callback",
    "recording_status_callback_event",
    "recording_status_callback_event_type",
    "recording_status_callback_method",
    "stream",
    "acl",
)
_PAY_OPTIONS = (
    "input",
    "payment_method",
    "timeout",
    "max_attempts",
    "security_code",
    "postal_code",
    "min_postal_code_length",
    "token_type",
    "charge_amount",
    "currency",
    "language",
    "voice",
    "description",
    "valid_card_types",
    "parameters",
    "prompts",
    "bank_account_type",
)
_AI_OPTIONS = (
    "agent",
    "prompt",
    "post_prompt",
    "post_prompt_url",
    "post_prompt_auth_user",
    "post_prompt_auth_password",
    "global_data",
    "pronounce",
    "hints",
    "languages",
    "SWAIG",
    "params",
)

_SPECS: Tuple[MethodSpec, ...] = (
    MethodSpec(
        "calling.dial", ("tag", "devices"), ("region", "max_price_per_minute", "max_duration")
    ),
    _call("answer", (), ("max_duration", "codecs")),
    _call("end", (), ("reason",)),
    _call("pass"),
    _call("connect", ("devices",), ("ringback", "tag", "max_duration", "max_price_per_minute")),
    _call("disconnect"),
    _call("transfer", ("dest",)),
    _call("refer", (), ("device",)),  # a refer without a device is a 400 result
    _ctl("play", ("play",), ("volume", "direction", "loop")),
    *_stops("play"),
    _ctl("play.pause"),
    _ctl("play.resume"),
    _ctl("play.volume", ("volume",)),
    _ctl("record", ("record",)),
    *_stops("record"),
    _ctl("record.pause", (), ("behavior",)),
    _ctl("record.resume"),
    _ctl("collect", (), COLLECT_OPTIONS),
    *_stops("collect"),
    _ctl("collect.start_input_timers"),
    _ctl("play_and_collect", ("play", "collect"), ("volume",)),
    *_stops("play_and_collect"),
    _ctl("play_and_collect.volume", ("volume",)),
    _ctl("detect", ("detect",), ("timeout",)),
    *_stops("detect"),
    _ctl("send_digits", ("digits",)),
    _ctl("tap", ("tap", "device")),
    *_stops("tap"),
    _ctl(
        "stream",
        ("url",),
        (
            "name",
            "codec",
            "track",
            "status_url_method",
            "authorization_bearer_token",
            "custom_parameters",
            "realtime",
        ),
    ),
    *_stops("stream"),
    _ctl("transcribe"),
    *_stops("transcribe"),
    _ctl("send_fax", ("document",), ("identity", "header_info")),
    _ctl("receive_fax"),
    *_stops("send_fax", "receive_fax"),
    _ctl("pay", ("payment_connector_url",), _PAY_OPTIONS),
    *_stops("pay"),
    _ctl("ai", (), _AI_OPTIONS),
    *_stops("ai"),
    _call(
        "amazon_bedrock",
        (),
        ("prompt", "SWAIG", "params", "global_data", "post_prompt", "post_prompt_url"),
    ),
    _call("ai_message", (), ("message_text", "role", "reset", "global_data")),
    _call("ai_hold", (), ("timeout", "prompt")),
    _call("ai_unhold", (), ("prompt",)),
    _call("join_conference", ("name",), _CONFERENCE_OPTIONS),
    _call("leave_conference", ("conference_id",)),
    _call("hold"),
    _call("unhold"),
    _call("denoise"),
    _call("denoise.stop"),
    _call("echo", (), ("timeout",)),
    _call("bind_digit", ("digits", "bind_method"), ("params", "realm", "max_triggers")),
    _call("clear_digit_bindings", (), ("realm",)),
    _call("live_transcribe", ("action",)),
    _call("live_translate", ("action",)),
    _call("join_room", ("name",)),
    _call("leave_room"),
    _call("user_event", (), ("event",)),
    _ctl("queue.enter", ("queue_name",), ("wait_url",)),
    _ctl("queue.leave", ("queue_name",), ("queue_id",)),
)

#: Every method the simulator knows the params of, by name.
METHODS: Dict[str, MethodSpec] = {spec.name: spec for spec in _SPECS}

#: RELAY's 41 calling methods (PROTOCOL.md §2.3, the deprecated ``calling.begin`` left
#: out); sub-commands of actions are not counted.
CALLING_METHODS: Tuple[str, ...] = tuple(
    name
    for name in METHODS
    if name == "calling.denoise.stop" or name.startswith("calling.queue.") or name.count(".") == 1
)


def check_unknown(spec: MethodSpec, params: Params) -> None:
    """Refuse ``params`` that carry a param ``spec`` does not name.

    Raises:
        RpcFault: ``INVALID_PARAMS`` naming the method and the params.
    """
    unknown = sorted(set(params) - set(spec.accepted))
    if unknown:
        raise invalid_params(f"{spec.name}: unknown params: {', '.join(unknown)}")


def check_required(spec: MethodSpec, params: Params) -> None:
    """Refuse ``params`` that lack a param ``spec`` requires.

    Raises:
        RpcFault: ``INVALID_PARAMS`` naming the method and the missing params.
    """
    missing = [name for name in spec.required if params.get(name) is None]
    if missing:
        raise invalid_params(f"{spec.name}: missing required params: {', '.join(missing)}")


def checked(method: str, handler: Handler, call_is_live: Callable[[Params], bool]) -> Handler:
    """Wrap ``handler`` so that ``method``'s params are checked before it runs.

    Unknown params are refused first; required params only when ``call_is_live(params)``
    (a method on an unknown or ended call answers 404/410 whatever else it lacks).

    Raises:
        KeyError: ``method`` has no :class:`MethodSpec` (a simulator bug, found at start).
    """
    spec = METHODS[method]

    def run(session: Session, params: Params) -> Params:
        check_unknown(spec, params)
        if "call_id" not in spec.required or call_is_live(params):
            check_required(spec, params)
        return handler(session, params)

    return run


__all__ = [
    "CALLING_METHODS",
    "COLLECT_OPTIONS",
    "METHODS",
    "MethodSpec",
    "check_required",
    "check_unknown",
    "checked",
]
