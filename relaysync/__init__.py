"""relaysync: a synchronous, thread-based client for SignalWire RELAY.

Blocking call control (answer, play, refer, connect, dial, …) from plain scripts,
WSGI apps and notebooks, with one background reader thread; and RelaySimulator
(:mod:`relaysync.testing`), a local RELAY server for tests and demos.
"""

from ._version import __version__
from .actions import (
    Action,
    AIAction,
    CollectAction,
    ConnectAction,
    DetectAction,
    FaxAction,
    PayAction,
    PlayAction,
    RecordAction,
    ReferAction,
    StreamAction,
    TapAction,
    TranscribeAction,
)
from .call import Call
from .client import RelayClient
from .errors import (
    AuthenticationError,
    CallEndedError,
    DialError,
    ForkedClientError,
    ProtocolError,
    RelayConnectionError,
    RelayError,
    RelayTimeoutError,
)
from .events import MessageStateEvent, RelayEvent, parse_event
from .message import Message
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
from .stats import ClientStats

__all__ = [
    "AIAction",
    "AIResult",
    "Action",
    "ActionResult",
    "AuthenticationError",
    "Call",
    "CallEndedError",
    "ClientStats",
    "CollectAction",
    "CollectResult",
    "ConnectAction",
    "ConnectResult",
    "DetectAction",
    "DetectResult",
    "DialError",
    "FaxAction",
    "FaxResult",
    "ForkedClientError",
    "Message",
    "MessageStateEvent",
    "PayAction",
    "PayResult",
    "PlayAction",
    "PlayResult",
    "ProtocolError",
    "RecordAction",
    "RecordResult",
    "ReferAction",
    "ReferResult",
    "RelayClient",
    "RelayConnectionError",
    "RelayError",
    "RelayEvent",
    "RelayTimeoutError",
    "SendDigitsResult",
    "StreamAction",
    "StreamResult",
    "TapAction",
    "TapResult",
    "TranscribeAction",
    "TranscribeResult",
    "__version__",
    "parse_event",
]
