"""relaysync: a synchronous, thread-based client for SignalWire RELAY.

Blocking call control (answer, play, refer, connect, dial, …) from plain scripts,
WSGI apps and notebooks, with one background reader thread; and RelaySimulator
(:mod:`relaysync.testing`), a local RELAY server for tests and demos.
"""

from ._version import __version__
from .actions import Action, PlayAction, ReferAction
from .call import Call
from .client import RelayClient
from .errors import (
    AuthenticationError,
    CallEndedError,
    DialError,
    ProtocolError,
    RelayConnectionError,
    RelayError,
    RelayTimeoutError,
)
from .events import MessageStateEvent, RelayEvent, parse_event
from .message import Message
from .results import ActionResult, ConnectResult, PlayResult, ReferResult

__all__ = [
    "Action",
    "ActionResult",
    "AuthenticationError",
    "Call",
    "CallEndedError",
    "ConnectResult",
    "DialError",
    "Message",
    "MessageStateEvent",
    "PlayAction",
    "PlayResult",
    "ProtocolError",
    "ReferAction",
    "ReferResult",
    "RelayClient",
    "RelayConnectionError",
    "RelayError",
    "RelayEvent",
    "RelayTimeoutError",
    "__version__",
    "parse_event",
]
