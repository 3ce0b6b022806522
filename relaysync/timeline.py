"""A readable timeline of a RELAY conversation, built from a simulator journal.

Each line shows the time since the first frame, the direction (``-->`` client to
RELAY, ``<--`` RELAY to client), the method or event type, and the fields worth reading:
call states, play and refer states, SIP codes. Secrets (tokens, JWTs,
``authorization_state``, passwords) are never shown; the authorization-state event is
left out altogether.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import attrs

from . import constants as C
from ._log import mask_secrets

SEND = "-->"
RECV = "<--"
LEGEND = f"{SEND} client to RELAY, {RECV} RELAY to client"
MAX_DETAIL = 160
MAX_FRAME = 2000

# Frames that are plumbing rather than conversation: shown only when verbose.
_QUIET_METHODS = frozenset({C.METHOD_PING})
_HIDDEN_EVENTS = frozenset({C.EVENT_AUTHORIZATION_STATE})
# The fields shown for an event type (other types: its ``state``).
_EVENT_FIELDS = {
    C.EVENT_CALL_STATE: ("call_state", "end_reason"),
    C.EVENT_CALL_DIAL: ("dial_state", "tag", "reason"),
    C.EVENT_CALL_CONNECT: ("connect_state", "failed_reason"),
}


@attrs.frozen
class TimelineLine:
    """One line of a timeline.

    Attributes:
        offset_ms: milliseconds since the first frame of the timeline.
        direction: :data:`SEND` (client to RELAY) or :data:`RECV` (RELAY to client).
        name: the method or event type (for replies, the method answered).
        details: the interesting fields, already formatted.
        frame: the frame with secrets masked (shown in verbose output).
    """

    offset_ms: int
    direction: str
    name: str
    details: str
    frame: Any = None


def field_text(value: Any) -> str:
    """A field's value as shown in a line: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _fields(params: Mapping[str, Any], *names: str) -> List[str]:
    """``name=value`` for each name present in ``params`` (and not empty)."""
    return [
        f"{name}={field_text(params[name])}" for name in names if params.get(name) not in (None, "")
    ]


def _media(items: Any) -> str:
    """A short description of a ``play`` list."""
    if not isinstance(items, list):
        return ""
    parts = []
    for item in items:
        params = item.get("params") if isinstance(item, dict) else None
        params = params if isinstance(params, dict) else {}
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "tts":
            parts.append(f"tts {json.dumps(params.get('text', ''))}")
        elif kind == "audio":
            parts.append(f"audio {params.get('url', '')}")
        elif kind == "silence":
            parts.append(f"silence {params.get('duration', '')} s")
        else:
            parts.append(str(kind))
    return ", ".join(parts)


def _device(device: Any) -> str:
    """The target of a device, e.g. ``sip:alice@example.com`` or ``+15551234567``."""
    params = device.get("params") if isinstance(device, dict) else None
    if not isinstance(params, dict):
        return ""
    for key in ("to", "to_number", "uri"):
        if isinstance(params.get(key), str):
            return str(params[key])
    return ""


def _plan(devices: Any) -> str:
    """A dial plan as ``a | b, c`` (``|`` between parallel, ``,`` between series)."""
    if not isinstance(devices, list):
        return ""
    groups = [" | ".join(_device(d) for d in group) for group in devices if isinstance(group, list)]
    return ", ".join(groups)


def _codes(params: Mapping[str, Any]) -> List[str]:
    refer = params.get("sip_refer_response_code")
    notify = params.get("sip_notify_response_code")
    codes = [
        f"{name} {code}"
        for name, code in (("REFER", refer), ("NOTIFY", notify))
        if code is not None
    ]
    return [f"SIP codes: {', '.join(codes)}"] if codes else []


def describe_request(method: str, params: Mapping[str, Any]) -> str:
    """The interesting fields of a request from the client.

    Args:
        method: the JSON-RPC method.
        params: its params (credentials are never read).

    Returns:
        The details text (may be empty).
    """
    if method == C.METHOD_CONNECT:
        contexts = params.get("contexts")
        parts = [f"contexts={','.join(map(str, contexts))}"] if isinstance(contexts, list) else []
        if params.get("protocol"):
            parts.append("resuming session")
        return " ".join(parts)
    if method == "calling.play":
        return _media(params.get("play"))
    if method == "calling.refer":
        return f"to={_device(params.get('device'))}"
    if method in ("calling.dial", "calling.connect"):
        return " ".join([f"devices={_plan(params.get('devices'))}", *_fields(params, "tag")])
    if method == "calling.end":
        return " ".join(_fields(params, "reason"))
    if method in (C.METHOD_RECEIVE, C.METHOD_UNRECEIVE):
        return " ".join(_fields(params, "contexts"))
    return ""


def describe_event(event_type: str, params: Mapping[str, Any]) -> str:
    """The interesting fields of an event from RELAY.

    Args:
        event_type: e.g. ``calling.call.state``.
        params: the event's inner ``params``.

    Returns:
        The details text (may be empty).
    """
    if event_type == C.EVENT_CALL_RECEIVE:
        device = params.get("device")
        dev = device.get("params") if isinstance(device, dict) else None
        dev = dev if isinstance(dev, dict) else {}
        parts = _fields(params, "call_state")
        parts += _fields(dev, "from_number", "to_number")
        parts += _fields(params, "context")
        return " ".join(parts)
    if event_type == C.EVENT_CALL_REFER:
        return " ".join(_fields(params, "state", "sip_refer_to") + _codes(params))
    return " ".join(_fields(params, *_EVENT_FIELDS.get(event_type, ("state",))))


def describe_reply(method: str, frame: Mapping[str, Any]) -> str:
    """The outcome of a reply from RELAY to one of the client's requests.

    Args:
        method: the method that was answered.
        frame: the response frame.

    Returns:
        e.g. ``reply 200 Answered`` or ``error -32002 Authentication failed``.
    """
    error = frame.get("error")
    if isinstance(error, dict):
        return f"error {error.get('code')} {error.get('message', '')}".rstrip()
    result = frame.get("result")
    if not isinstance(result, dict):
        return "reply"
    if method == C.METHOD_CONNECT:
        return (
            "reply: session resumed" if result.get("session_restored") else "reply: session started"
        )
    code, message = result.get("code"), result.get("message")
    return " ".join(str(x) for x in ("reply", code, message) if x not in (None, ""))


def _short(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


class _Builder:
    """Turns journal entries into lines; remembers request ids to name the replies."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.sent: Dict[str, str] = {}  # request id from the client -> method
        self.received: Dict[str, str] = {}  # request id from RELAY -> method

    def line(self, direction: str, frame: Any) -> Optional[tuple[str, str, str]]:
        """``(arrow, name, details)`` for one frame, or ``None`` to leave it out."""
        arrow = SEND if direction == "in" else RECV
        if not isinstance(frame, dict):
            return (arrow, "(raw frame)", _short(repr(frame))) if self.verbose else None
        method = frame.get("method")
        params = frame.get("params")
        params = params if isinstance(params, dict) else {}
        frame_id = frame.get("id")
        if isinstance(method, str):
            mine = self.sent if direction == "in" else self.received
            if isinstance(frame_id, str):
                mine[frame_id] = method
            if method == C.METHOD_EVENT:
                event_type = str(params.get("event_type", ""))
                if event_type in _HIDDEN_EVENTS:
                    return None
                inner = params.get("params")
                inner = inner if isinstance(inner, dict) else {}
                return arrow, event_type, describe_event(event_type, inner)
            if method in _QUIET_METHODS and not self.verbose:
                return None
            if direction == "in":
                return arrow, method, describe_request(method, params)
            return arrow, method, ""
        # A response: to the client's request (from RELAY), or the client's ack.
        if direction == "out" and isinstance(frame_id, str) and frame_id in self.sent:
            answered = self.sent[frame_id]
            if answered in _QUIET_METHODS and not self.verbose:
                return None
            return arrow, answered, describe_reply(answered, frame)
        if not self.verbose:
            return None
        answered = self.received.get(frame_id, "") if isinstance(frame_id, str) else ""
        kind = "ack" if answered == C.METHOD_EVENT else "reply"
        return arrow, f"({kind})", ""


def build_timeline(
    entries: Iterable[Any], *, verbose: bool = False, start: Optional[float] = None
) -> List[TimelineLine]:
    """Build the timeline of a conversation from simulator journal entries.

    Args:
        entries: :class:`~relaysync.testing.JournalEntry` objects (anything with
            ``direction``, ``frame`` and ``time``), oldest first.
        verbose: also show pings, acks and raw frames.
        start: the ``time.time()`` that is 0 ms; default: the first entry's time.

    Returns:
        The lines, in order; secrets are masked in :attr:`TimelineLine.frame`.
    """
    builder = _Builder(verbose)
    lines: List[TimelineLine] = []
    for entry in entries:
        if start is None:
            start = entry.time
        shown = builder.line(entry.direction, entry.frame)
        if shown is None:
            continue
        arrow, name, details = shown
        lines.append(
            TimelineLine(
                offset_ms=round((entry.time - start) * 1000),
                direction=arrow,
                name=name,
                details=_short(details),
                frame=mask_secrets(entry.frame),
            )
        )
    return lines


def render_timeline(
    lines: Sequence[TimelineLine], *, verbose: bool = False, color: bool = False
) -> str:
    """Format timeline lines as aligned plain text.

    Args:
        lines: from :func:`build_timeline`.
        verbose: add each frame (secrets masked) as JSON under its line.
        color: colour the arrows with ANSI codes (only for terminals).

    Returns:
        The text, one line per entry, ending with a newline (empty for no lines).
    """
    if not lines:
        return ""
    width = max(len(line.name) for line in lines)
    stamp = max(len(f"{line.offset_ms:,}") for line in lines)
    out = []
    for line in lines:
        arrow = line.direction
        if color:
            arrow = f"\033[36m{arrow}\033[0m" if arrow == SEND else f"\033[32m{arrow}\033[0m"
        text = f"  {line.offset_ms:>{stamp},} ms  {arrow}  {line.name:<{width}}  {line.details}"
        out.append(text.rstrip())
        if verbose and line.frame is not None:
            frame = (
                line.frame
                if isinstance(line.frame, str)
                else json.dumps(line.frame, separators=(",", ":"), default=str)
            )
            if len(frame) > MAX_FRAME:
                frame = frame[:MAX_FRAME] + f"...({len(frame)} chars)"
            out.append(f"  {'':>{stamp}}       {frame}")
    return "\n".join(out) + "\n"


__all__ = [
    "LEGEND",
    "RECV",
    "SEND",
    "TimelineLine",
    "build_timeline",
    "describe_event",
    "describe_reply",
    "describe_request",
    "field_text",
    "render_timeline",
]
