"""Every RELAY calling method, declared once as data.

How a method is declared
------------------------
One :class:`Operation` per RELAY method, added to :data:`OPERATIONS` with
:func:`declare`:

* ``method``: the RPC name (``calling.record``);
* ``call_methods``: the public :class:`~relaysync.call.Call` methods that wrap it;
* ``required`` / ``optional``: the request params besides ``node_id``/``call_id``
  (and ``control_id``, added by the runner when ``control_id`` is true). A required
  param missing (or ``None``) raises ``ValueError`` naming it before anything is sent;
  a param the declaration does not know is a ``TypeError``;
* ``event_type``: the event its progress arrives as (``None``: none to wait for);
* ``final_states``: the states (see :func:`relaysync.results.verdict`) that settle it,
  or ``settles``: a rule from :mod:`relaysync.settling` for the ones that need more;
* ``result_class``: the :class:`~relaysync.results.ActionResult` built from the
  settling event;
* ``subcommands``: verb → RPC method of its sub-commands (``stop``, ``pause``, …);
* ``correlate``: for an operation without ``control_id`` (REFER), the event field
  that must equal the request's target for the event to belong to it.

The runner (:class:`relaysync.runner.Operations`) does the rest for every method:
drop ``None`` params (recursively), check required ones, add the ids, send, register
the action by ``control_id`` before the request goes out, wait with one deadline, and
settle on the final event or when the call ends. A new method is one declaration plus
its short documented wrapper on ``Call``.

:data:`OPERATIONS` maps each RELAY method name to its declaration; :data:`CALL_METHODS`
maps it to the public Call methods that wrap it (the simulator's tests check that it
handles each of them).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, FrozenSet, Mapping, Optional, Tuple, Type

import attrs

from . import constants as C
from .events import RelayEvent
from .results import (
    ActionResult,
    AIResult,
    CollectResult,
    ConnectResult,
    DetectResult,
    FaxResult,
    PayResult,
    PlayResult,
    RecordResult,
    ReferResult,
    SendDigitsResult,
    StreamResult,
    TapResult,
    TranscribeResult,
)
from .settling import Progress, collect_settles, detect_settles, fax_settles, pay_settles

Rule = Callable[[Progress, RelayEvent], bool]


def _frozen_map(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class Operation:
    """The declaration of one RELAY calling method (see the module docstring)."""

    method: str
    call_methods: Tuple[str, ...]
    required: Tuple[str, ...] = ()
    optional: Tuple[str, ...] = ()
    event_type: Optional[str] = None
    final_states: FrozenSet[str] = frozenset()
    settles: Optional[Rule] = None
    result_class: Type[ActionResult] = ActionResult
    subcommands: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    control_id: bool = False
    correlate: Optional[str] = None

    @property
    def is_action(self) -> bool:
        """True when the method starts an operation that settles on an event."""
        return self.event_type is not None

    def check(self, params: Mapping[str, Any]) -> None:
        """Refuse params the method cannot be sent with.

        Args:
            params: the request params, ``None`` values already dropped.

        Raises:
            ValueError: a required param is missing (the message names it).
            TypeError: a param the declaration does not know.
        """
        for name in self.required:
            if name not in params:
                raise ValueError(f"{self.method} needs {name!r}; it is missing")
        known = set(self.required) | set(self.optional)
        unknown = sorted(set(params) - known)
        if unknown:
            raise TypeError(f"{self.method} takes no param(s) {', '.join(map(repr, unknown))}")

    def settled_by(self, progress: Progress, event: RelayEvent, state: Optional[str]) -> bool:
        """Whether ``event`` (whose verdict is ``state``) settles the operation."""
        if self.settles is not None:
            return self.settles(progress, event)
        return state in self.final_states


#: RELAY method name → its declaration.
OPERATIONS: Dict[str, Operation] = {}


def declare(method: str, *call_methods: str, **fields: Any) -> Operation:
    """Declare one RELAY method and register it in :data:`OPERATIONS`.

    Args:
        method: the RPC name.
        call_methods: the public Call methods that wrap it.
        fields: the other :class:`Operation` fields.

    Returns:
        The declaration.
    """
    op = Operation(method, tuple(call_methods), **fields)
    OPERATIONS[method] = op
    return op


def _subs(prefix: str, *verbs: str, **extra: str) -> Dict[str, str]:
    return {**{verb: f"{prefix}.{verb}" for verb in verbs}, **extra}


_STATUS = ("status_url",)

# ---------------------------------------------------------------- lifecycle and control

ANSWER = declare("calling.answer", "answer", optional=("max_duration", "codecs"))
END = declare("calling.end", "hangup", optional=("reason",))
PASS = declare("calling.pass", "pass_")
TRANSFER = declare("calling.transfer", "transfer", required=("dest",))
DISCONNECT = declare("calling.disconnect", "disconnect")
CONNECT = declare(
    "calling.connect",
    "connect",
    "connect_phone",
    "connect_sip",
    required=("devices",),
    optional=("ringback", "tag", "max_duration", "max_price_per_minute", *_STATUS),
    event_type=C.EVENT_CALL_CONNECT,
    final_states=frozenset({C.CONNECT_CONNECTED, C.CONNECT_FAILED}),
    result_class=ConnectResult,
)
REFER = declare(
    "calling.refer",
    "refer",
    required=("device",),
    optional=_STATUS,
    event_type=C.EVENT_CALL_REFER,
    final_states=C.REFER_FINAL_STATES,
    result_class=ReferResult,
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
    required=("play",),
    optional=("volume", "direction", "loop", *_STATUS),
    event_type=C.EVENT_CALL_PLAY,
    final_states=C.PLAY_FINAL_STATES,
    result_class=PlayResult,
    subcommands=_subs("calling.play", "stop", "pause", "resume", "volume"),
    control_id=True,
)
RECORD = declare(
    "calling.record",
    "record",
    required=("record",),
    optional=_STATUS,
    event_type=C.EVENT_CALL_RECORD,
    final_states=C.RECORD_FINAL_STATES,
    result_class=RecordResult,
    subcommands=_subs("calling.record", "stop", "pause", "resume"),
    control_id=True,
)
_COLLECT_OPTIONS = (
    "initial_timeout",
    "partial_results",
    "continuous",
    "send_start_of_input",
    "start_input_timers",
)
COLLECT = declare(
    "calling.collect",
    "collect",
    optional=("digits", "speech", *_COLLECT_OPTIONS, *_STATUS),
    event_type=C.EVENT_CALL_COLLECT,
    settles=collect_settles,
    result_class=CollectResult,
    subcommands=_subs("calling.collect", "stop", "start_input_timers"),
    control_id=True,
)
PLAY_AND_COLLECT = declare(
    "calling.play_and_collect",
    "play_and_collect",
    "prompt_tts",
    "prompt_audio",
    required=("play", "collect"),
    optional=("volume", *_STATUS),
    event_type=C.EVENT_CALL_COLLECT,
    settles=collect_settles,
    result_class=CollectResult,
    subcommands=_subs(
        "calling.play_and_collect",
        "stop",
        "volume",
        start_input_timers="calling.collect.start_input_timers",
    ),
    control_id=True,
)
DETECT = declare(
    "calling.detect",
    "detect",
    "detect_answering_machine",
    "detect_fax",
    "detect_digit",
    required=("detect",),
    optional=("timeout", *_STATUS),
    event_type=C.EVENT_CALL_DETECT,
    settles=detect_settles,
    result_class=DetectResult,
    subcommands=_subs("calling.detect", "stop"),
    control_id=True,
)
SEND_DIGITS = declare(
    "calling.send_digits",
    "send_digits",
    required=("digits",),
    event_type=C.EVENT_CALL_SEND_DIGITS,
    final_states=C.FINISHED_STATES,
    result_class=SendDigitsResult,
    control_id=True,
)
TAP = declare(
    "calling.tap",
    "tap",
    required=("tap", "device"),
    optional=_STATUS,
    event_type=C.EVENT_CALL_TAP,
    final_states=C.FINISHED_STATES,
    result_class=TapResult,
    subcommands=_subs("calling.tap", "stop"),
    control_id=True,
)
STREAM = declare(
    "calling.stream",
    "stream",
    required=("url",),
    optional=(
        "name",
        "codec",
        "track",
        "status_url",
        "status_url_method",
        "authorization_bearer_token",
        "custom_parameters",
    ),
    event_type=C.EVENT_CALL_STREAM,
    final_states=C.FINISHED_STATES,
    result_class=StreamResult,
    subcommands=_subs("calling.stream", "stop"),
    control_id=True,
)
TRANSCRIBE = declare(
    "calling.transcribe",
    "transcribe",
    optional=_STATUS,
    event_type=C.EVENT_CALL_TRANSCRIBE,
    final_states=C.FINISHED_STATES,
    result_class=TranscribeResult,
    subcommands=_subs("calling.transcribe", "stop"),
    control_id=True,
)

# ---------------------------------------------------------------- fax, pay, AI

SEND_FAX = declare(
    "calling.send_fax",
    "send_fax",
    required=("document",),
    optional=("identity", "header_info", *_STATUS),
    event_type=C.EVENT_CALL_FAX,
    settles=fax_settles,
    result_class=FaxResult,
    subcommands=_subs("calling.send_fax", "stop"),
    control_id=True,
)
RECEIVE_FAX = declare(
    "calling.receive_fax",
    "receive_fax",
    optional=_STATUS,
    event_type=C.EVENT_CALL_FAX,
    settles=fax_settles,
    result_class=FaxResult,
    subcommands=_subs("calling.receive_fax", "stop"),
    control_id=True,
)
PAY_OPTIONS = (
    "input",
    "status_url",
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
PAY = declare(
    "calling.pay",
    "pay",
    required=("payment_connector_url",),
    optional=PAY_OPTIONS,
    event_type=C.EVENT_CALL_PAY,
    settles=pay_settles,
    result_class=PayResult,
    subcommands=_subs("calling.pay", "stop"),
    control_id=True,
)
AI_OPTIONS = (
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
AI = declare(
    "calling.ai",
    "ai",
    optional=AI_OPTIONS,
    event_type=C.EVENT_CALL_AI,
    final_states=C.AI_FINAL_STATES,
    result_class=AIResult,
    subcommands=_subs("calling.ai", "stop"),
    control_id=True,
)
AMAZON_BEDROCK = declare(
    "calling.amazon_bedrock",
    "amazon_bedrock",
    optional=("prompt", "SWAIG", "params", "global_data", "post_prompt", "post_prompt_url"),
)
AI_MESSAGE = declare(
    "calling.ai_message", "ai_message", optional=("message_text", "role", "reset", "global_data")
)
AI_HOLD = declare("calling.ai_hold", "ai_hold", optional=("timeout", "prompt"))
AI_UNHOLD = declare("calling.ai_unhold", "ai_unhold", optional=("prompt",))

# ---------------------------------------------------------------- conferences, rooms, queues, ...

JOIN_CONFERENCE_OPTIONS = (
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
JOIN_CONFERENCE = declare(
    "calling.join_conference",
    "join_conference",
    required=("name",),
    optional=JOIN_CONFERENCE_OPTIONS,
)
LEAVE_CONFERENCE = declare(
    "calling.leave_conference", "leave_conference", required=("conference_id",)
)
HOLD = declare("calling.hold", "hold")
UNHOLD = declare("calling.unhold", "unhold")
DENOISE = declare("calling.denoise", "denoise")
DENOISE_STOP = declare("calling.denoise.stop", "denoise_stop")
ECHO = declare("calling.echo", "echo", optional=("timeout", *_STATUS))
BIND_DIGIT = declare(
    "calling.bind_digit",
    "bind_digit",
    required=("digits", "bind_method"),
    optional=("params", "realm", "max_triggers"),
)
CLEAR_DIGIT_BINDINGS = declare(
    "calling.clear_digit_bindings", "clear_digit_bindings", optional=("realm",)
)
LIVE_TRANSCRIBE = declare("calling.live_transcribe", "live_transcribe", required=("action",))
LIVE_TRANSLATE = declare(
    "calling.live_translate", "live_translate", required=("action",), optional=_STATUS
)
JOIN_ROOM = declare("calling.join_room", "join_room", required=("name",), optional=_STATUS)
LEAVE_ROOM = declare("calling.leave_room", "leave_room")
USER_EVENT = declare("calling.user_event", "user_event", optional=("event",))
QUEUE_ENTER = declare(
    "calling.queue.enter",
    "queue_enter",
    required=("queue_name",),
    optional=("wait_url", *_STATUS),
    control_id=True,
)
QUEUE_LEAVE = declare(
    "calling.queue.leave",
    "queue_leave",
    required=("queue_name",),
    optional=("queue_id", *_STATUS),
    control_id=True,
)

#: RELAY method name → the public Call methods that wrap it.
CALL_METHODS: Dict[str, Tuple[str, ...]] = {
    name: op.call_methods for name, op in OPERATIONS.items()
}

#: Every RPC a Call can send: the methods and their sub-commands.
ALL_RPCS: FrozenSet[str] = frozenset(
    {*OPERATIONS, *(rpc for op in OPERATIONS.values() for rpc in op.subcommands.values())}
)

__all__ = [
    "ALL_RPCS",
    "CALL_METHODS",
    "OPERATIONS",
    "Operation",
    "declare",
]
