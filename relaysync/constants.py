"""Wire vocabulary: states, event types and method names of RELAY."""

from __future__ import annotations

from typing import FrozenSet

PROTOCOL_VERSION = {"major": 2, "minor": 0, "revision": 0}

# JSON-RPC methods of the session layer.
METHOD_CONNECT = "signalwire.connect"
METHOD_EVENT = "signalwire.event"
METHOD_PING = "signalwire.ping"
METHOD_DISCONNECT = "signalwire.disconnect"
METHOD_RECEIVE = "signalwire.receive"
METHOD_UNRECEIVE = "signalwire.unreceive"

# Event types.
EVENT_AUTHORIZATION_STATE = "signalwire.authorization.state"
EVENT_CALL_STATE = "calling.call.state"
EVENT_CALL_RECEIVE = "calling.call.receive"
EVENT_CALL_DIAL = "calling.call.dial"
EVENT_CALL_CONNECT = "calling.call.connect"
EVENT_CALL_PLAY = "calling.call.play"
EVENT_CALL_RECORD = "calling.call.record"
EVENT_CALL_COLLECT = "calling.call.collect"
EVENT_CALL_DETECT = "calling.call.detect"
EVENT_CALL_FAX = "calling.call.fax"
EVENT_CALL_TAP = "calling.call.tap"
EVENT_CALL_STREAM = "calling.call.stream"
EVENT_CALL_SEND_DIGITS = "calling.call.send_digits"
EVENT_CALL_PAY = "calling.call.pay"
EVENT_CALL_TRANSCRIBE = "calling.call.transcribe"
EVENT_CALL_QUEUE = "calling.call.queue"
EVENT_CALL_ECHO = "calling.call.echo"
EVENT_CALL_HOLD = "calling.call.hold"
EVENT_CALL_DENOISE = "calling.call.denoise"
EVENT_CALL_REFER = "calling.call.refer"
EVENT_CALL_AI = "calling.call.ai"
EVENT_CONFERENCE = "calling.conference"
EVENT_CALLING_ERROR = "calling.error"
EVENT_MESSAGING_RECEIVE = "messaging.receive"
EVENT_MESSAGING_STATE = "messaging.state"

# Call states, in order.
CALL_CREATED = "created"
CALL_RINGING = "ringing"
CALL_ANSWERED = "answered"
CALL_ENDING = "ending"
CALL_ENDED = "ended"
CALL_STATES = (CALL_CREATED, CALL_RINGING, CALL_ANSWERED, CALL_ENDING, CALL_ENDED)

END_REASONS: FrozenSet[str] = frozenset(
    {
        "hangup",
        "cancel",
        "busy",
        "noAnswer",
        "decline",
        "error",
        "abandoned",
        "max_duration",
        "not_found",
    }
)

#: The reasons ``calling.end`` takes (PROTOCOL.md §2.3).
HANGUP_REASONS = ("hangup", "cancel", "busy", "noAnswer", "decline", "error")
#: The ringtone names of a ``ringtone`` media item.
_RINGTONES = (
    "at au bg br be ch cl cn cz de dk ee es fi fr gr hu il in it lt jp mx my nl no nz ph pl pt "
    "ru se sg th uk us tw ve za"
)
RINGTONE_NAMES = tuple(_RINGTONES.split())
#: The codecs of a SIP or WebRTC device.
CODECS = ("PCMU", "PCMA", "OPUS", "G729", "G722", "VP8", "H264")

# Dial / connect / refer / play states.
DIAL_DIALING = "dialing"
DIAL_ANSWERED = "answered"
DIAL_FAILED = "failed"

CONNECT_CONNECTING = "connecting"
CONNECT_CONNECTED = "connected"
CONNECT_FAILED = "failed"
CONNECT_DISCONNECTED = "disconnected"

REFER_IN_PROGRESS = "inProgress"
REFER_SUCCESS = "success"
REFER_FINAL_STATES: FrozenSet[str] = frozenset({"success", "busy", "noAnswer", "cancel", "error"})

PLAY_FINAL_STATES: FrozenSet[str] = frozenset({"finished", "error"})

RECORD_RECORDING = "recording"
RECORD_PAUSED = "paused"
RECORD_FINISHED = "finished"
RECORD_NO_INPUT = "no_input"
RECORD_ERROR = "error"
RECORD_FINAL_STATES: FrozenSet[str] = frozenset({RECORD_FINISHED, RECORD_NO_INPUT, RECORD_ERROR})
RECORD_PAUSE_BEHAVIORS = ("skip", "silence", "continuous")

# Collect result types and states.
COLLECT_DIGIT = "digit"
COLLECT_SPEECH = "speech"
COLLECT_NO_INPUT = "no_input"
COLLECT_NO_MATCH = "no_match"
COLLECT_ERROR = "error"
COLLECT_START_OF_INPUT = "start_of_input"
COLLECT_COLLECTING = "collecting"
COLLECT_FINISHED = "finished"
COLLECT_RESULT_TYPES: FrozenSet[str] = frozenset(
    {COLLECT_DIGIT, COLLECT_SPEECH, COLLECT_NO_INPUT, COLLECT_NO_MATCH, COLLECT_ERROR}
)
COLLECT_FINAL_STATES: FrozenSet[str] = frozenset(
    {COLLECT_FINISHED, COLLECT_ERROR, COLLECT_NO_INPUT, COLLECT_NO_MATCH}
)

# Detect types and the values of detect.params.event.
DETECT_MACHINE = "machine"
DETECT_FAX = "fax"
DETECT_DIGIT = "digit"
DETECT_HUMAN = "HUMAN"
DETECT_MACHINE_RESULT = "MACHINE"
DETECT_UNKNOWN = "UNKNOWN"
DETECT_READY = "READY"
DETECT_NOT_READY = "NOT_READY"
DETECT_CED = "CED"
DETECT_CNG = "CNG"
DETECT_FINISHED = "finished"
DETECT_ERROR = "error"
DETECT_DIGITS = "0123456789#*"

# Fax (fax.type), tap, stream, transcribe, send_digits, pay, AI.
FAX_PAGE = "page"
FAX_FINISHED = "finished"
FAX_ERROR = "error"
FAX_FINAL_TYPES: FrozenSet[str] = frozenset({FAX_FINISHED, FAX_ERROR})
TAP_TAPPING = "tapping"
STREAM_STREAMING = "streaming"
TRANSCRIBE_TRANSCRIBING = "transcribing"
FINISHED = "finished"
FINISHED_STATES: FrozenSet[str] = frozenset({FINISHED})
PAY_SUCCESS = "success"
PAY_RESULTS: FrozenSet[str] = frozenset(
    {
        "success",
        "too-many-failed-attempts",
        "payment-connector-error",
        "caller-interrupted-with-star",
        "relay-pay-stop",
        "caller-hung-up",
        "validation-error",
        "internal-error",
    }
)
AI_FINAL_STATES: FrozenSet[str] = frozenset({"finished", "error"})

# Queue statuses (calling.call.queue ``status``) and conference values.
QUEUE_ENQUEUE = "enqueue"
QUEUE_LEAVE = "leave"
QUEUE_DEQUEUE = "dequeue"
CONFERENCE_BEEP_VALUES = (True, False, "true", "false", "onEnter", "onExit")
CONFERENCE_RECORD_VALUES = ("do-not-record", "record-from-start")
CONFERENCE_MAX_PARTICIPANTS = (1, 250)
STREAM_TRACKS = ("inbound_track", "outbound_track", "both_tracks")
TAP_DIRECTIONS = ("listen", "speak", "both")
SEND_DIGITS_ALPHABET = "0123456789#*ABCDwW"
DTMF_DIGITS = "0123456789#*ABCD"
LIVE_TRANSCRIBE_ACTIONS = ("start", "stop", "summarize")
LIVE_TRANSLATE_ACTIONS = ("start", "stop", "summarize", "inject")

MESSAGE_FINAL_STATES: FrozenSet[str] = frozenset({"delivered", "undelivered", "failed", "received"})

# Connection states reported to on_connection_change callbacks.
CONNECTING = "connecting"
CONNECTED = "connected"
RECONNECTING = "reconnecting"
CLOSED = "closed"
