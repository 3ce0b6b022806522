"""Every RELAY method the client sends, declared once as data.

How a method is declared
------------------------
One :class:`Operation` per RELAY method, added to :data:`OPERATIONS` with
:func:`declare` (``calling.dial`` and ``messaging.send``, which are not sent by a call,
are declared apart as :data:`DIAL` and :data:`SEND_MESSAGE`):

* ``method``: the RPC name (``calling.record``);
* ``call_methods``: the public :class:`~relaysync.call.Call` methods that wrap it;
* ``params``: its params besides ``node_id``/``call_id``/``control_id``, as an
  :class:`~relaysync.shapes.Obj` of shapes (:mod:`relaysync.shapes`): names, types,
  ranges, allowed values, required members, nested shapes. This is the only place the
  params are written: the runner checks every request against it before anything is
  sent, drops ``None`` values at every depth and merges ``extra_params``; the wrapper's
  keywords are these names (a test holds them together);
* ``sub_params``: the params of its sub-commands that take any (``volume``,
  ``behavior``);
* ``event_type``: the event its progress arrives as (``None``: none to wait for);
* ``final_states``: the states (see :func:`relaysync.results.verdict`) that settle it,
  or ``settles``: a rule from :mod:`relaysync.settling` for the ones that need more;
* ``result_class``: the :class:`~relaysync.results.ActionResult` built from the
  settling event;
* ``subcommands``: verb → RPC method of its sub-commands (``stop``, ``pause``, …),
  declared as ``verbs`` where the RPC is ``<method>.<verb>``;
* ``correlate``: for an operation without ``control_id`` (REFER), the event field
  that must equal the request's target for the event to belong to it.

Where the facts come from: the types are those of the server's own param classes
(several numbers are strings there, and are declared so); required members, allowed
values, ranges and nested shapes are those RELAY's protocol documents. Where neither
gives a type, the shape is :class:`~relaysync.shapes.Anything` (nothing checked);
durations in seconds are numbers >= 0, counts whole numbers.

:data:`OPERATIONS` maps each calling method name to its declaration; :data:`CALL_METHODS`
maps it to the public Call methods that wrap it; :func:`param_facts` gives the declared
facts in a plain form.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, FrozenSet, Mapping, Optional, Tuple, Type

import attrs

from . import constants as C
from . import results as res
from .events import RelayEvent
from .media import MEDIA
from .results import ActionResult
from .settling import Progress, collect_settles, detect_settles, fax_settles, pay_settles
from .shapes import (
    AnyDict,
    Anything,
    Bool,
    Int,
    ListOf,
    Num,
    Obj,
    Shape,
    Str,
    Tagged,
    merge_extra,
    refused_as,
    seconds,
)

Rule = Callable[[Progress, RelayEvent], bool]
NO_PARAMS = Obj()


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict(value)


@attrs.frozen
class Operation:
    """The declaration of one RELAY method (see the module docstring)."""

    method: str
    call_methods: Tuple[str, ...]
    params: Obj = NO_PARAMS
    event_type: Optional[str] = None
    final_states: FrozenSet[str] = frozenset()
    settles: Optional[Rule] = None
    result_class: Type[ActionResult] = ActionResult
    subcommands: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    sub_params: Mapping[str, Obj] = attrs.field(factory=dict, converter=_frozen_map)
    control_id: bool = False
    correlate: Optional[str] = None

    @property
    def required(self) -> Tuple[str, ...]:
        """The names of the required params."""
        return self.params.required

    @property
    def optional(self) -> Tuple[str, ...]:
        """The names of the other params."""
        return tuple(name for name in self.params.members if name not in self.params.required)

    def request(self, api: str, args: Mapping[str, Any]) -> Dict[str, Any]:
        """The checked request params, from a wrapper's arguments.

        Args:
            api: the public method, for error messages (``"Call.play_tts()"``).
            args: the wrapper's arguments (its ``locals()``): the declared names are
                read from it, ``None`` meaning not sent; ``extra_params``, if there,
                is merged in unchecked. Other names are ignored.

        Returns:
            A new dict, ``None`` values dropped at every depth.

        Raises:
            TypeError: an unknown key in a nested option (naming it, its path and the
                valid keys), or ``extra_params`` that is not a dict.
            ValueError: a wrong type, a value out of range or not allowed, or a
                missing required param (naming it).
        """
        return checked(self.params, api, args)

    def check(self, params: Mapping[str, Any], api: Optional[str] = None) -> Dict[str, Any]:
        """Check a complete params dict (unknown top-level keys refused too).

        Returns:
            The params as they are sent.

        Raises:
            TypeError, ValueError: as :meth:`request`.
        """
        result: Dict[str, Any] = refused_as(api or self.method, self.params.check, params)
        return result

    def settled_by(self, progress: Progress, event: RelayEvent, state: Optional[str]) -> bool:
        """Whether ``event`` (whose verdict is ``state``) settles the operation."""
        if self.settles is not None:
            return self.settles(progress, event)
        return state in self.final_states


def checked(shape: Obj, api: str, args: Mapping[str, Any]) -> Dict[str, Any]:
    """``shape``'s members picked from ``args`` and checked, plus ``extra_params``.

    Raises:
        TypeError, ValueError: as :meth:`Operation.request`, naming ``api``.
    """
    body = refused_as(api, shape.pick, args)
    extra = args.get("extra_params")
    if extra is not None:
        merge_extra(body, extra)
    return body


#: RELAY method name → its declaration (the methods a call sends).
OPERATIONS: Dict[str, Operation] = {}


def declare(method: str, *call_methods: str, verbs: str = "", **fields: Any) -> Operation:
    """Declare one RELAY method and register it in :data:`OPERATIONS`.

    Args:
        method: the RPC name.
        call_methods: the public Call methods that wrap it.
        verbs: its sub-commands named ``<method>.<verb>``, space-separated (added to
            ``subcommands``, which holds any other).
        fields: the other :class:`Operation` fields.

    Returns:
        The declaration.
    """
    subcommands = {verb: f"{method}.{verb}" for verb in verbs.split()}
    subcommands.update(fields.pop("subcommands", {}))
    op = Operation(method, tuple(call_methods), subcommands=subcommands, **fields)
    OPERATIONS[method] = op
    return op


# ---------------------------------------------------------------- shared shapes


def _each(shape: Callable[[], Shape], names: str) -> Dict[str, Shape]:
    """``{name: shape()}`` for each of the space-separated ``names``."""
    return {name: shape() for name in names.split()}


_NAME = Str(nonempty=True)
_VOLUME = Num(-40, 40)
_STATUS: Dict[str, Shape] = {"status_url": Str()}
_DIRECTION = Str(*C.TAP_DIRECTIONS)

_CALL_STATE = {
    "call_state_url": Str(),
    "call_state_events": ListOf(Str("created", "ringing", "answered", "ended")),
    "confirm": Anything(),
}
_CODECS = ListOf(Str(*C.CODECS))
_HEADERS = ListOf(Obj(("name",), name=_NAME, value=Str()))
_DIAL_DEVICES: Dict[str, Obj] = {
    "phone": Obj(
        ("to_number", "from_number"),
        to_number=_NAME,
        from_number=_NAME,
        timeout=seconds(),
        max_duration=Anything(),
        **_CALL_STATE,
    ),
    "sip": Obj(
        ("to", "from"),
        to=_NAME,
        **{"from": _NAME},
        from_name=Str(),
        timeout=seconds(),
        max_duration=Anything(),
        headers=_HEADERS,
        codecs=_CODECS,
        webrtc_media=Anything(),
        **_CALL_STATE,
    ),
    "webrtc": Obj(
        ("from",), **{"from": _NAME}, to=Str(), timeout=seconds(), codecs=_CODECS, **_CALL_STATE
    ),
    "agora": Obj(
        ("from", "appid", "channel"),
        **{"from": _NAME},
        to=Str(),
        appid=Str(),
        channel=Str(),
        **_CALL_STATE,
    ),
}
_CONNECT_DEVICES: Dict[str, Obj] = {
    **_DIAL_DEVICES,
    "call": Obj(("node_id", "call_id"), node_id=_NAME, call_id=_NAME),
    "queue": Obj(("node_id", "queue_name"), node_id=_NAME, queue_name=_NAME, queue_id=Str()),
    "stream": Obj(
        ("url",),
        url=_NAME,
        **_each(Str, "name codec status_url status_url_method authorization_bearer_token"),
        **_each(Anything, "realtime custom_parameters"),
    ),
}


def _plan(devices: Dict[str, Obj]) -> ListOf:
    return ListOf(ListOf(Tagged(**devices), nonempty=True), nonempty=True)


_COLLECT_FIELDS: Dict[str, Shape] = {
    "digits": Obj(("max",), max=Int(1), terminators=Str(), digit_timeout=seconds()),
    "speech": Obj(
        end_silence_timeout=seconds(),
        speech_timeout=seconds(),
        language=Str(),
        hints=ListOf(Str()),
        engine=Str(),
    ),
    "initial_timeout": seconds(),
    **_each(Bool, "partial_results continuous send_start_of_input start_input_timers continue"),
}
#: What ``calling.collect`` and ``calling.play_and_collect`` share: how they settle.
_COLLECTING: Dict[str, Any] = dict(
    event_type=C.EVENT_CALL_COLLECT,
    settles=collect_settles,
    result_class=res.CollectResult,
    control_id=True,
)
#: The wire's collect object (``play_and_collect``'s ``collect``).
COLLECT_OBJECT = Obj(one_of=("digits", "speech"), **_COLLECT_FIELDS)
#: The keys of :data:`COLLECT_OBJECT`.
COLLECT_KEYS: Tuple[str, ...] = tuple(_COLLECT_FIELDS)

# ---------------------------------------------------------------- lifecycle and control

ANSWER = declare("calling.answer", "answer", params=Obj(max_duration=Int(), codecs=Anything()))
END = declare("calling.end", "hangup", params=Obj(reason=Str(*C.HANGUP_REASONS)))
PASS = declare("calling.pass", "pass_")
TRANSFER = declare("calling.transfer", "transfer", params=Obj(("dest",), dest=_NAME))
DISCONNECT = declare("calling.disconnect", "disconnect")
CONNECT = declare(
    "calling.connect",
    "connect",
    "connect_phone",
    "connect_sip",
    params=Obj(
        ("devices",),
        devices=_plan(_CONNECT_DEVICES),
        ringback=MEDIA,
        tag=Str(),
        max_duration=Int(),
        max_price_per_minute=Num(),
        **_STATUS,
    ),
    event_type=C.EVENT_CALL_CONNECT,
    final_states=frozenset({C.CONNECT_CONNECTED, C.CONNECT_FAILED}),
    result_class=res.ConnectResult,
)
REFER = declare(
    "calling.refer",
    "refer",
    params=Obj(
        ("device",),
        device=Tagged(sip=Obj(("to",), to=_NAME, username=Str(), password=Str(), headers=_HEADERS)),
        **_STATUS,
    ),
    event_type=C.EVENT_CALL_REFER,
    final_states=C.REFER_FINAL_STATES,
    result_class=res.ReferResult,
    correlate="sip_refer_to",
)

# ---------------------------------------------------------------- media and input

PLAY = declare(
    "calling.play",
    "play",
    "play_tts",
    "play_audio",
    "play_silence",
    "play_ringtone",
    params=Obj(("play",), play=MEDIA, volume=_VOLUME, direction=Anything(), loop=Int(0), **_STATUS),
    event_type=C.EVENT_CALL_PLAY,
    final_states=C.PLAY_FINAL_STATES,
    result_class=res.PlayResult,
    verbs="stop pause resume volume",
    sub_params={"volume": Obj(("volume",), volume=_VOLUME)},
    control_id=True,
)
#: The wire's ``record.audio`` object.
RECORD_AUDIO = Obj(
    beep=Anything(),
    format=Str("mp3", "wav"),
    stereo=Anything(),
    direction=_DIRECTION,
    initial_timeout=seconds(),
    end_silence_timeout=seconds(),
    terminators=Str(),
    input_sensitivity=Anything(),
)
RECORD = declare(
    "calling.record",
    "record",
    params=Obj(("record",), record=Obj(("audio",), audio=RECORD_AUDIO), **_STATUS),
    event_type=C.EVENT_CALL_RECORD,
    final_states=C.RECORD_FINAL_STATES,
    result_class=res.RecordResult,
    verbs="stop pause resume",
    sub_params={"pause": Obj(behavior=Str(*C.RECORD_PAUSE_BEHAVIORS))},
    control_id=True,
)
COLLECT = declare(
    "calling.collect",
    "collect",
    params=Obj(one_of=("digits", "speech"), **_COLLECT_FIELDS, **_STATUS),
    **_COLLECTING,
    verbs="stop start_input_timers",
)
PLAY_AND_COLLECT = declare(
    "calling.play_and_collect",
    "play_and_collect",
    "prompt_tts",
    "prompt_audio",
    params=Obj(("play", "collect"), play=MEDIA, collect=COLLECT_OBJECT, volume=_VOLUME, **_STATUS),
    **_COLLECTING,
    verbs="stop volume",
    subcommands={"start_input_timers": "calling.collect.start_input_timers"},
    sub_params={"volume": Obj(("volume",), volume=_VOLUME)},
)
#: The params of each detector type (``detect.params``).
DETECTORS: Dict[str, Obj] = {
    C.DETECT_MACHINE: Obj(
        **_each(seconds, "initial_timeout end_silence_timeout machine_ready_timeout"),
        **_each(
            Anything,
            "machine_voice_threshold machine_words_threshold detect_interruptions "
            "detect_message_end",
        ),
    ),
    C.DETECT_FAX: Obj(tone=Str(C.DETECT_CED, C.DETECT_CNG)),
    C.DETECT_DIGIT: Obj(digits=Str(alphabet=C.DETECT_DIGITS)),
}
DETECT = declare(
    "calling.detect",
    "detect",
    "detect_answering_machine",
    "detect_fax",
    "detect_digit",
    params=Obj(("detect",), detect=Tagged(**DETECTORS), timeout=seconds(), **_STATUS),
    event_type=C.EVENT_CALL_DETECT,
    settles=detect_settles,
    result_class=res.DetectResult,
    verbs="stop",
    control_id=True,
)
SEND_DIGITS = declare(
    "calling.send_digits",
    "send_digits",
    params=Obj(("digits",), digits=Str(alphabet=C.SEND_DIGITS_ALPHABET)),
    event_type=C.EVENT_CALL_SEND_DIGITS,
    final_states=C.FINISHED_STATES,
    result_class=res.SendDigitsResult,
    control_id=True,
)
TAP = declare(
    "calling.tap",
    "tap",
    params=Obj(
        ("tap", "device"),
        tap=Tagged(params_required=True, audio=Obj(direction=_DIRECTION)),
        device=Tagged(
            rtp=Obj(
                ("addr", "port"), addr=_NAME, port=Int(0, 65535), codec=Str(), ptime=Anything()
            ),
            ws=Obj(("uri",), uri=_NAME, codec=Str(), rate=Anything()),
        ),
        **_STATUS,
    ),
    event_type=C.EVENT_CALL_TAP,
    final_states=C.FINISHED_STATES,
    result_class=res.TapResult,
    verbs="stop",
    control_id=True,
)
STREAM = declare(
    "calling.stream",
    "stream",
    params=Obj(
        ("url",),
        url=_NAME,
        track=Str(*C.STREAM_TRACKS),
        custom_parameters=Anything(),
        **_each(Str, "name codec status_url status_url_method authorization_bearer_token"),
    ),
    event_type=C.EVENT_CALL_STREAM,
    final_states=C.FINISHED_STATES,
    result_class=res.StreamResult,
    verbs="stop",
    control_id=True,
)
TRANSCRIBE = declare(
    "calling.transcribe",
    "transcribe",
    params=Obj(**_STATUS),
    event_type=C.EVENT_CALL_TRANSCRIBE,
    final_states=C.FINISHED_STATES,
    result_class=res.TranscribeResult,
    verbs="stop",
    control_id=True,
)

# ---------------------------------------------------------------- fax, pay, AI

#: What ``calling.send_fax`` and ``calling.receive_fax`` share: how they settle, ``stop``.
_FAXING: Dict[str, Any] = dict(
    event_type=C.EVENT_CALL_FAX,
    settles=fax_settles,
    result_class=res.FaxResult,
    verbs="stop",
    control_id=True,
)
SEND_FAX = declare(
    "calling.send_fax",
    "send_fax",
    params=Obj(("document",), document=_NAME, identity=Str(), header_info=Str(), **_STATUS),
    **_FAXING,
)
RECEIVE_FAX = declare("calling.receive_fax", "receive_fax", params=Obj(**_STATUS), **_FAXING)
PAY = declare(
    "calling.pay",
    "pay",
    params=Obj(
        ("payment_connector_url",),
        payment_connector_url=_NAME,
        token_type=Str("one-time", "reusable"),
        parameters=ListOf(Obj(("name",), name=_NAME, value=Anything())),
        prompts=ListOf(AnyDict()),
        **_each(Anything, "input payment_method bank_account_type"),
        **_each(
            lambda: Str(numbers=True), "timeout max_attempts min_postal_code_length charge_amount"
        ),
        **_each(lambda: Str(bools=True), "security_code postal_code"),
        **_each(Str, "status_url currency language voice description valid_card_types"),
    ),
    event_type=C.EVENT_CALL_PAY,
    settles=pay_settles,
    result_class=res.PayResult,
    verbs="stop",
    control_id=True,
)
AI = declare(
    "calling.ai",
    "ai",
    params=Obj(
        one_of=("prompt", "agent"),
        **_each(
            Anything,
            "agent prompt post_prompt post_prompt_url post_prompt_auth_user "
            "post_prompt_auth_password global_data pronounce hints languages SWAIG params",
        ),
    ),
    event_type=C.EVENT_CALL_AI,
    final_states=C.AI_FINAL_STATES,
    result_class=res.AIResult,
    verbs="stop",
    control_id=True,
)
AMAZON_BEDROCK = declare(
    "calling.amazon_bedrock",
    "amazon_bedrock",
    params=Obj(
        post_prompt_url=Str(), **_each(Anything, "prompt SWAIG params global_data post_prompt")
    ),
)
AI_MESSAGE = declare(
    "calling.ai_message",
    "ai_message",
    params=Obj(
        message_text=Str(),
        role=Str(),
        reset=Obj(**_each(Anything, "full_reset user_prompt system_prompt")),
        global_data=Anything(),
    ),
)
# a string for the server's class, a number for the simulator: a number is sent as given
AI_HOLD = declare("calling.ai_hold", "ai_hold", params=Obj(timeout=Str(numbers=True), prompt=Str()))
AI_UNHOLD = declare("calling.ai_unhold", "ai_unhold", params=Obj(prompt=Str()))

# ---------------------------------------------------------------- conferences, rooms, queues, ...

JOIN_CONFERENCE = declare(
    "calling.join_conference",
    "join_conference",
    params=Obj(
        ("name",),
        name=_NAME,
        beep=Str("true", "false", "onEnter", "onExit", bools=True),
        max_participants=Int(*C.CONFERENCE_MAX_PARTICIPANTS),
        record=Str(*C.CONFERENCE_RECORD_VALUES),
        status_callback_event_type=Str("relay", "cxml"),
        stream=Anything(),
        **_each(Bool, "muted start_on_enter end_on_exit"),
        **_each(
            Str,
            "wait_url region trim coach acl status_callback status_callback_event "
            "status_callback_method recording_status_callback recording_status_callback_event "
            "recording_status_callback_event_type recording_status_callback_method",
        ),
    ),
)
LEAVE_CONFERENCE = declare(
    "calling.leave_conference",
    "leave_conference",
    params=Obj(("conference_id",), conference_id=_NAME),
)
HOLD = declare("calling.hold", "hold")
UNHOLD = declare("calling.unhold", "unhold")
DENOISE = declare("calling.denoise", "denoise")
DENOISE_STOP = declare("calling.denoise.stop", "denoise_stop")
ECHO = declare("calling.echo", "echo", params=Obj(timeout=seconds(), **_STATUS))
BIND_DIGIT = declare(
    "calling.bind_digit",
    "bind_digit",
    params=Obj(
        ("digits", "bind_method"),
        digits=Str(alphabet=C.DTMF_DIGITS),
        bind_method=_NAME,
        params=Anything(),
        realm=Str(),
        max_triggers=Int(0),
    ),
)
CLEAR_DIGIT_BINDINGS = declare(
    "calling.clear_digit_bindings", "clear_digit_bindings", params=Obj(realm=Str())
)


def _live_action(*verbs: str) -> Obj:
    return Obj(exactly_one=True, **{verb: Anything() for verb in verbs})


LIVE_TRANSCRIBE = declare(
    "calling.live_transcribe",
    "live_transcribe",
    params=Obj(("action",), action=_live_action(*C.LIVE_TRANSCRIBE_ACTIONS)),
)
LIVE_TRANSLATE = declare(
    "calling.live_translate",
    "live_translate",
    params=Obj(("action",), action=_live_action(*C.LIVE_TRANSLATE_ACTIONS), **_STATUS),
)
JOIN_ROOM = declare("calling.join_room", "join_room", params=Obj(("name",), name=_NAME, **_STATUS))
LEAVE_ROOM = declare("calling.leave_room", "leave_room")
USER_EVENT = declare("calling.user_event", "user_event", params=Obj(event=Anything()))
QUEUE_ENTER = declare(
    "calling.queue.enter",
    "queue_enter",
    params=Obj(("queue_name",), queue_name=_NAME, wait_url=Str(), **_STATUS),
    control_id=True,
)
QUEUE_LEAVE = declare(
    "calling.queue.leave",
    "queue_leave",
    params=Obj(("queue_name",), queue_name=_NAME, queue_id=Str(), **_STATUS),
    control_id=True,
)

# ---------------------------------------------------------------- sent by the client

#: ``calling.dial`` (``RelayClient.dial``; no node_id/call_id).
DIAL = Operation(
    "calling.dial",
    ("dial", "dial_phone", "dial_sip"),
    params=Obj(
        ("tag", "devices"),
        tag=_NAME,
        devices=_plan(_DIAL_DEVICES),
        region=Str(),
        max_price_per_minute=Num(),
        max_duration=Int(),
    ),
)
#: ``messaging.send`` (``RelayClient.send_message``).
SEND_MESSAGE = Operation(
    "messaging.send",
    ("send_message",),
    params=Obj(
        ("context", "to_number", "from_number"),
        one_of=("body", "media"),
        context=_NAME,
        to_number=_NAME,
        from_number=_NAME,
        body=Str(),
        media=ListOf(_NAME),
        tags=ListOf(_NAME),
        region=_NAME,
    ),
)

#: RELAY method name → the public Call methods that wrap it.
CALL_METHODS: Dict[str, Tuple[str, ...]] = {
    name: op.call_methods for name, op in OPERATIONS.items()
}

#: Every RPC a Call can send: the methods and their sub-commands.
ALL_RPCS: FrozenSet[str] = frozenset(
    {*OPERATIONS, *(rpc for op in OPERATIONS.values() for rpc in op.subcommands.values())}
)


def param_facts() -> Dict[str, Tuple[FrozenSet[str], Dict[str, str]]]:
    """The declared facts, in a plain form (to compare with another table of them).

    Returns:
        For every method and sub-command the client sends (``calling.dial`` and
        ``messaging.send`` included): ``(required, types)``, where ``required`` holds
        the required top-level param names (``node_id``/``call_id``/``control_id``
        left out) and ``types`` maps each declared param path to its type tag. Paths
        are dotted keys from the params root, list items as ``[]``
        (``record.audio.beep``, ``play[].params.text``, ``devices[][].type``); tags
        are ``str``, ``bool``, ``int``, ``number``, ``dict``, ``list`` or ``any``
        (declared, type not checked).
    """
    facts: Dict[str, Tuple[FrozenSet[str], Dict[str, str]]] = {}
    for op in (*OPERATIONS.values(), DIAL, SEND_MESSAGE):
        facts[op.method] = _facts(op.params)
        for verb, rpc in op.subcommands.items():
            facts[rpc] = _facts(op.sub_params.get(verb, NO_PARAMS))
    return facts


def _facts(shape: Obj) -> Tuple[FrozenSet[str], Dict[str, str]]:
    types: Dict[str, str] = {}
    shape.facts("", types)
    return frozenset(shape.required), types


__all__ = [
    "ALL_RPCS",
    "CALL_METHODS",
    "COLLECT_KEYS",
    "COLLECT_OBJECT",
    "DIAL",
    "MEDIA",
    "OPERATIONS",
    "SEND_MESSAGE",
    "Operation",
    "checked",
    "declare",
    "param_facts",
]
