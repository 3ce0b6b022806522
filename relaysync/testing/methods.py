"""The simulator's method registry: the params of every RELAY method it answers, typed.

One :class:`MethodSpec` per RELAY method (PROTOCOL.md §2.3/§2.4/§3.1): which params it
requires and the type of every param a source types, nested ones included, as
``{path: tag}``. This table is the simulator's own: it is written from SCHEMA.md (the
server's param classes) and PROTOCOL.md, not from the client's declarations, so that it
can referee them (:func:`param_facts` gives the same facts in the client's shape).

Paths are dotted keys from the params root; a list's items are ``[]``:
``record.audio.beep``, ``play[].params.text``, ``devices[][].type``. Tags: ``str``,
``bool``, ``int``, ``number`` (int or float, never bool), ``dict``, ``list`` and ``any``
(a known param whose type no source gives: accepted as it is). ``null`` is accepted for
every param, as absent.

Capabilities register their handlers with :func:`checked`, which runs
:meth:`ParamChecker.check` before the handler, as RELAY does (DESIGN.md §4, "never
stricter than RELAY, never looser"):

* a param of the wrong type: JSON-RPC ``-32602`` (``data.signalwire_error_code ==
  "INVALID_PARAMS"``) naming its path and the type wanted;
* a param no source names (at the top level, or inside an object whose keys are known,
  such as ``record.audio``): accepted, as RELAY's open-shape params are, and recorded as
  lint (:class:`~relaysync.testing.lint.LintLog`); refused with ``-32602`` naming its
  path in strict mode;
* a missing required param: ``-32602`` naming it, the same rule for every method (only
  on a live call: a method on an unknown or ended call answers 404/410 whatever it lacks).

``status_url`` is accepted on every per-call method, as a simulator should (§2.3).
Methods nobody registered are answered ``-32601`` by the frame layer.
"""

from __future__ import annotations

import re
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Tuple,
)

import attrs

from relaysync.testing.replies import invalid_params

if TYPE_CHECKING:
    from relaysync.testing.lint import LintLog
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

#: The type tags of :attr:`MethodSpec.types`.
TYPE_TAGS = ("str", "bool", "int", "number", "dict", "list", "any")
#: Params every per-call method carries; :func:`param_facts` leaves them out.
ID_PARAMS = frozenset({"node_id", "call_id", "control_id"})

_S, _B, _I, _N, _D, _L, _A = TYPE_TAGS


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class MethodSpec:
    """The params of one RELAY method.

    Attributes:
        name: the JSON-RPC method name.
        required: params that must be present (``node_id``/``call_id`` included when
            the method acts on a call, ``control_id`` when it takes one).
        types: ``{path: type tag}`` for every param the method knows (see the module
            docstring for the path syntax); the top-level names are the accepted params.
    """

    name: str
    required: Tuple[str, ...] = ()
    types: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)

    @property
    def accepted(self) -> Tuple[str, ...]:
        """Every top-level param name the method knows."""
        names = dict.fromkeys(self.required)
        names.update(dict.fromkeys(_top(path) for path in self.types))
        return tuple(names)

    @property
    def optional(self) -> Tuple[str, ...]:
        """The known top-level params that are not required."""
        return tuple(name for name in self.accepted if name not in self.required)


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _under(prefix: str, facts: Mapping[str, str]) -> Dict[str, str]:
    return {f"{prefix}.{key}": tag for key, tag in facts.items()}


# -- shared shapes (PROTOCOL.md §2.2) ---------------------------------------------------

_MEDIA_PARAMS = {
    "url": _S,  # audio
    "text": _S,  # tts
    "language": _S,
    "gender": _S,
    "voice": _S,
    "duration": _N,  # silence, ringtone
    "name": _S,  # ringtone
}


def _media(name: str) -> Dict[str, str]:
    item = f"{name}[]"
    return {
        name: _L,
        item: _D,
        f"{item}.type": _S,
        f"{item}.params": _D,
        **_under(f"{item}.params", _MEDIA_PARAMS),
    }


_DEVICE_PARAMS = {
    "to_number": _S,
    "from_number": _S,
    "to": _S,
    "from": _S,
    "from_name": _S,
    "timeout": _N,
    "max_duration": _A,
    "call_state_url": _S,
    "call_state_events": _L,
    "confirm": _A,
    "headers": _L,
    "headers[]": _D,
    "headers[].name": _S,
    "headers[].value": _S,
    "codecs": _A,
    "webrtc_media": _A,
    "appid": _S,  # agora
    "channel": _S,
    "node_id": _S,  # call, queue (connect only)
    "call_id": _S,
    "queue_name": _S,
    "queue_id": _S,
    "url": _S,  # stream (connect only)
    "name": _S,
    "codec": _S,
    "status_url": _S,
    "status_url_method": _S,
    "realtime": _A,
    "authorization_bearer_token": _S,
    "custom_parameters": _A,
    "uri": _S,  # refer (§2.6)
    "to_uri": _S,
    "username": _S,
    "password": _S,
}


def _device(prefix: str) -> Dict[str, str]:
    return {
        prefix: _D,
        f"{prefix}.type": _S,
        f"{prefix}.params": _D,
        **_under(f"{prefix}.params", _DEVICE_PARAMS),
    }


_DEVICES = {"devices": _L, "devices[]": _L, **_device("devices[][]")}

#: The fields of a collect: top-level params of ``calling.collect``, keys of
#: ``play_and_collect``'s ``collect`` object.
_COLLECT = {
    "initial_timeout": _N,
    "digits": _D,
    "digits.max": _I,
    "digits.terminators": _S,
    "digits.digit_timeout": _N,
    "speech": _D,
    "speech.end_silence_timeout": _N,
    "speech.speech_timeout": _N,
    "speech.language": _S,
    "speech.hints": _L,
    "speech.engine": _S,
    "partial_results": _B,
    "continuous": _B,
    "send_start_of_input": _B,
    "start_input_timers": _B,
    "continue": _B,
}
COLLECT_OPTIONS = tuple(dict.fromkeys(_top(path) for path in _COLLECT))

_RECORD = {
    "record": _D,
    "record.audio": _D,
    **_under(
        "record.audio",
        {
            "beep": _B,
            "format": _S,
            "stereo": _B,
            "direction": _S,
            "initial_timeout": _N,
            "end_silence_timeout": _N,
            "terminators": _S,
            "input_sensitivity": _N,
        },
    ),
}

_DETECT = {
    "detect": _D,
    "detect.type": _S,
    "detect.params": _D,
    **_under(
        "detect.params",
        {
            "initial_timeout": _N,  # machine
            "end_silence_timeout": _N,
            "machine_ready_timeout": _N,
            "machine_voice_threshold": _N,
            "machine_words_threshold": _I,
            "detect_interruptions": _B,
            "detect_message_end": _B,
            "tone": _S,  # fax
            "digits": _S,  # digit
        },
    ),
    "timeout": _N,
}

_TAP = {
    "tap": _D,
    "tap.type": _S,
    "tap.params": _D,
    "tap.params.direction": _S,
    "device": _D,
    "device.type": _S,
    "device.params": _D,
    **_under(
        "device.params",
        {"addr": _S, "port": _I, "codec": _S, "ptime": _I, "uri": _S, "rate": _I},
    ),
}

_CONFERENCE = {
    "name": _S,
    "acl": _S,
    "beep": _S,
    "coach": _S,
    "end_on_exit": _B,
    "max_participants": _I,
    "muted": _B,
    "record": _S,
    "recording_status_callback": _S,
    "recording_status_callback_event": _S,
    "recording_status_callback_event_type": _S,
    "recording_status_callback_method": _S,
    "region": _S,
    "start_on_enter": _B,
    "status_callback": _S,
    "status_callback_event": _S,
    "status_callback_event_type": _S,
    "status_callback_method": _S,
    "stream": _A,
    "swml": _B,
    "trim": _S,
    "wait_url": _S,
}

_PAY = {
    "payment_connector_url": _S,
    "bank_account_type": _A,
    "charge_amount": _S,
    "currency": _S,
    "description": _S,
    "input": _A,
    "language": _S,
    "max_attempts": _S,
    "min_postal_code_length": _S,
    "parameters": _L,
    "parameters[]": _D,
    "parameters[].name": _S,
    "parameters[].value": _S,
    "payment_method": _A,
    "postal_code": _S,
    "prompts": _L,
    "prompts[]": _D,
    "security_code": _S,
    "timeout": _S,
    "token_type": _A,
    "valid_card_types": _S,
    "voice": _S,
}

_STREAM = {
    "url": _S,
    "async": _B,
    "authorization_bearer_token": _S,
    "codec": _S,
    "custom_parameters": _A,
    "name": _S,
    "status_url_method": _S,
    "swml": _B,
    "track": _S,
    "realtime": _A,
}

_AI = {
    "agent": _A,
    "prompt": _A,
    "post_prompt": _A,
    "post_prompt_url": _S,
    "post_prompt_auth_user": _S,
    "post_prompt_auth_password": _S,
    "global_data": _A,
    "pronounce": _A,
    "hints": _A,
    "languages": _A,
    "SWAIG": _A,
    "params": _A,
}

_CALL = ("node_id", "call_id")
_CTL = (*_CALL, "control_id")
_CALL_TYPES = {"node_id": _S, "call_id": _S, "status_url": _S}
_CTL_TYPES = {**_CALL_TYPES, "control_id": _S}


def _call(name: str, required: Tuple[str, ...] = (), **types: str) -> MethodSpec:
    return MethodSpec(f"calling.{name}", (*_CALL, *required), {**_CALL_TYPES, **types})


def _call_t(name: str, required: Tuple[str, ...], types: Mapping[str, str]) -> MethodSpec:
    return MethodSpec(f"calling.{name}", (*_CALL, *required), {**_CALL_TYPES, **types})


def _ctl(
    name: str, required: Tuple[str, ...] = (), types: Optional[Mapping[str, str]] = None
) -> MethodSpec:
    return MethodSpec(f"calling.{name}", (*_CTL, *required), {**_CTL_TYPES, **(types or {})})


def _stops(*names: str) -> Tuple[MethodSpec, ...]:
    return tuple(_ctl(f"{name}.stop") for name in names)


_SPECS: Tuple[MethodSpec, ...] = (
    MethodSpec(
        "calling.dial",
        ("tag", "devices"),
        {
            "tag": _S,
            **_DEVICES,
            "region": _S,
            "max_price_per_minute": _N,
            "max_duration": _I,
        },
    ),
    _call("answer", max_duration=_I, codecs=_A),
    _call("end", reason=_S),
    _call("pass"),
    _call_t(
        "connect",
        ("devices",),
        {
            **_DEVICES,
            **_media("ringback"),
            "tag": _S,
            "max_duration": _I,
            "max_price_per_minute": _N,
        },
    ),
    _call("disconnect"),
    _call("transfer", ("dest",), dest=_S),
    _call_t("refer", ("device",), _device("device")),
    _ctl("play", ("play",), {**_media("play"), "volume": _N, "direction": _S, "loop": _I}),
    *_stops("play"),
    _ctl("play.pause"),
    _ctl("play.resume"),
    _ctl("play.volume", ("volume",), {"volume": _N}),
    _ctl("record", ("record",), _RECORD),
    *_stops("record"),
    _ctl("record.pause", (), {"behavior": _S}),
    _ctl("record.resume"),
    _ctl("collect", (), _COLLECT),
    *_stops("collect"),
    _ctl("collect.start_input_timers"),
    _ctl(
        "play_and_collect",
        ("play", "collect"),
        {**_media("play"), "collect": _D, **_under("collect", _COLLECT), "volume": _N},
    ),
    *_stops("play_and_collect"),
    _ctl("play_and_collect.volume", ("volume",), {"volume": _N}),
    _ctl("detect", ("detect",), _DETECT),
    *_stops("detect"),
    _ctl("send_digits", ("digits",), {"digits": _S}),
    _ctl("tap", ("tap", "device"), _TAP),
    *_stops("tap"),
    _ctl("stream", ("url",), _STREAM),
    _ctl("stream.stop", (), {"async": _B, "swml": _B}),
    _ctl("transcribe"),
    *_stops("transcribe"),
    _ctl(
        "send_fax",
        ("document",),
        {"document": _S, "identity": _S, "header_info": _S},
    ),
    _ctl("receive_fax"),
    *_stops("send_fax", "receive_fax"),
    _ctl("pay", ("payment_connector_url",), _PAY),
    *_stops("pay"),
    _ctl("ai", (), _AI),
    *_stops("ai"),
    _call_t(
        "amazon_bedrock",
        (),
        {
            "prompt": _A,
            "SWAIG": _A,
            "params": _A,
            "global_data": _A,
            "post_prompt": _A,
            "post_prompt_url": _S,
            "async": _B,
            "swml": _B,
        },
    ),
    _call_t(
        "ai_message",
        (),
        {
            "message_text": _S,
            "role": _S,
            "reset": _D,
            "global_data": _A,
            "async": _B,
            "swml": _B,
        },
    ),
    _call_t("ai_hold", (), {"timeout": _S, "prompt": _S, "async": _B, "swml": _B}),
    _call_t("ai_unhold", (), {"prompt": _S, "async": _B, "swml": _B}),
    _call_t("join_conference", ("name",), _CONFERENCE),
    _call_t("leave_conference", ("conference_id",), {"conference_id": _S, "async": _B}),
    _call("hold"),
    _call("unhold"),
    _call("denoise"),
    _call("denoise.stop"),
    _call_t("echo", (), {"timeout": _N, "swml": _B}),
    _call_t(
        "bind_digit",
        ("digits", "bind_method"),
        {
            "digits": _S,
            "bind_method": _S,
            "params": _A,
            "realm": _S,
            "max_triggers": _I,
            "swml": _B,
        },
    ),
    _call_t("clear_digit_bindings", (), {"realm": _S, "swml": _B}),
    _call_t("live_transcribe", ("action",), {"action": _D, "async": _B, "swml": _B}),
    _call_t("live_translate", ("action",), {"action": _D, "async": _B, "swml": _B}),
    _call_t(
        "join_room",
        ("name",),
        {"name": _S, "hagrid_json_api_url": _S, "hagrid_node_id": _S, "swml": _B},
    ),
    _call_t("leave_room", (), {"async": _B}),
    _call_t("user_event", (), {"event": _A, "async": _B, "swml": _B}),
    _ctl("queue.enter", ("queue_name",), {"queue_name": _S, "wait_url": _S}),
    _ctl("queue.leave", ("queue_name",), {"queue_name": _S, "queue_id": _S}),
    MethodSpec(
        "messaging.send",
        ("context", "to_number", "from_number"),
        {
            "context": _S,
            "to_number": _S,
            "from_number": _S,
            "body": _S,
            "media": _L,
            "media[]": _S,
            "tags": _L,
            "tags[]": _S,
            "region": _S,
        },
    ),
)

#: Every method the simulator knows the params of, by name.
METHODS: Dict[str, MethodSpec] = {spec.name: spec for spec in _SPECS}

#: RELAY's 41 calling methods (PROTOCOL.md §2.3, the deprecated ``calling.begin`` left
#: out); sub-commands of actions are not counted.
CALLING_METHODS: Tuple[str, ...] = tuple(
    name
    for name in METHODS
    if name.startswith("calling.")
    and (
        name == "calling.denoise.stop" or name.startswith("calling.queue.") or name.count(".") == 1
    )
)


def param_facts() -> Dict[str, Tuple[FrozenSet[str], Dict[str, str]]]:
    """The simulator's facts about every method it knows, in a shape to compare.

    Returns:
        RPC method name -> (required top-level params, ``node_id``/``call_id``/
        ``control_id`` left out; ``{param path: type tag}`` for every known param, the
        same three left out). See the module docstring for paths and tags.
    """
    facts: Dict[str, Tuple[FrozenSet[str], Dict[str, str]]] = {}
    for name, spec in METHODS.items():
        required = frozenset(spec.required) - ID_PARAMS
        types = {path: tag for path, tag in spec.types.items() if path not in ID_PARAMS}
        facts[name] = (required, types)
    return facts


# -- checking ---------------------------------------------------------------------------


@attrs.define(eq=False)
class _Node:
    """One known place in a method's params: its type and what is known inside."""

    tag: str = _A
    keys: Dict[str, _Node] = attrs.field(factory=dict)
    item: Optional[_Node] = None


def _tokens(path: str) -> List[str]:
    tokens: List[str] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        tokens.append(name)
        tokens.extend("[]" for _ in range(("[" + rest).count("[]") if rest else 0))
    return tokens


def _tree(types: Mapping[str, str]) -> _Node:
    root = _Node(_D)
    for path, tag in types.items():
        node = root
        for token in _tokens(path):
            if token == "[]":
                node.item = node.item or _Node()
                node = node.item
            else:
                node = node.keys.setdefault(token, _Node())
        node.tag = tag
    return root


_JSON_NAMES = {dict: "object", list: "list", str: "string", bool: "boolean"}
_WANTED = {
    _S: "a string",
    _B: "a boolean",
    _I: "an integer",
    _N: "a number",
    _D: "an object",
    _L: "a list",
}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def type_ok(tag: str, value: Any) -> bool:
    """Whether ``value`` (decoded JSON, not null) has the type ``tag`` names."""
    if tag == _A:
        return True
    if isinstance(value, bool):
        return tag == _B
    if tag == _I:
        return isinstance(value, int)
    if tag == _N:
        return isinstance(value, (int, float))
    return isinstance(value, {_S: str, _B: bool, _D: dict, _L: list}[tag])


class ParamChecker:
    """Checks one method's params against its :class:`MethodSpec`.

    Args:
        spec: the method's declaration.
    """

    def __init__(self, spec: MethodSpec) -> None:
        self.spec = spec
        self._root = _tree(spec.types)

    def check(self, params: Params, lint: Optional[LintLog]) -> None:
        """Check types and unknown params (not required ones, see :meth:`check_required`).

        Args:
            params: the request params.
            lint: where unknown params are recorded (and whether they are refused);
                ``None`` ignores them.

        Raises:
            RpcFault: ``INVALID_PARAMS`` naming the path of a param of the wrong type, or
                of an unknown param in strict mode.
        """
        unknown: List[str] = []
        self._walk(params, self._root, "", unknown)
        if not unknown or lint is None:
            return
        if lint.strict:
            raise invalid_params(
                f"{self.spec.name}: unknown params (strict mode): {', '.join(unknown)}"
            )
        for path in unknown:
            lint.record(self.spec.name, path, "not a param RELAY's documents name; accepted")

    def _walk(self, value: Any, node: _Node, path: str, unknown: List[str]) -> None:
        if value is None:
            return
        if path and not type_ok(node.tag, value):
            raise invalid_params(
                f"{self.spec.name}: {path} must be {_WANTED[node.tag]}, got {_json_type(value)}"
            )
        if node.keys and isinstance(value, dict):
            for key, inner in value.items():
                where = f"{path}.{key}" if path else str(key)
                child = node.keys.get(key)
                if child is None:
                    unknown.append(where)
                else:
                    self._walk(inner, child, where, unknown)
        if node.item is not None and isinstance(value, list):
            for inner in value:
                self._walk(inner, node.item, f"{path}[]", unknown)

    def check_required(self, params: Params) -> None:
        """Refuse ``params`` that lack a param the method requires.

        Raises:
            RpcFault: ``INVALID_PARAMS`` naming the method and the missing params.
        """
        missing = [name for name in self.spec.required if params.get(name) is None]
        if missing:
            raise invalid_params(f"{self.spec.name}: missing required params: {', '.join(missing)}")


def checked(
    method: str,
    handler: Handler,
    call_is_live: Callable[[Params], bool],
    lint: Optional[LintLog] = None,
) -> Handler:
    """Wrap ``handler`` so that ``method``'s params are checked before it runs.

    Types and unknown params are checked first; required params only when
    ``call_is_live(params)`` (a method on an unknown or ended call answers 404/410
    whatever else it lacks).

    Args:
        method: the method's name (it must be in :data:`METHODS`).
        handler: the method's handler.
        call_is_live: whether the call the params name is live (methods on a call).
        lint: where unknown params are recorded; ``None`` ignores them.

    Raises:
        KeyError: ``method`` has no :class:`MethodSpec` (a simulator bug, found at start).
    """
    checker = ParamChecker(METHODS[method])
    on_call = "call_id" in checker.spec.required

    def run(session: Session, params: Params) -> Params:
        checker.check(params, lint)
        if not on_call or call_is_live(params):
            checker.check_required(params)
        return handler(session, params)

    return run


__all__ = [
    "CALLING_METHODS",
    "COLLECT_OPTIONS",
    "ID_PARAMS",
    "METHODS",
    "TYPE_TAGS",
    "MethodSpec",
    "ParamChecker",
    "checked",
    "param_facts",
    "type_ok",
]
