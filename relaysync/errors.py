"""The exceptions relaysync raises.

Every exception derives from :class:`RelayError`, which carries the RELAY ``code``
(an int; ``-1`` for errors raised on this side of the wire) and a ``message``.
"""

from __future__ import annotations

from typing import Any, Optional


class RelayError(Exception):
    """Base of everything relaysync raises.

    Args:
        code: RELAY or JSON-RPC error code; ``-1`` when the error arose locally.
        message: human-readable text.
        data: optional extra detail from the server's error object.
    """

    def __init__(self, code: int = -1, message: str = "", data: Optional[Any] = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code != -1 else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class AuthenticationError(RelayError):
    """The server rejected the credentials (or they are missing)."""


class RelayConnectionError(RelayError):
    """Could not connect, or the connection was lost while a request was in flight."""


class RelayTimeoutError(RelayError, TimeoutError):
    """A blocking operation did not finish in time. Also a builtin ``TimeoutError``."""


class CallEndedError(RelayError):
    """The call is gone: it ended, or the server answered 404/410 for it."""


class DialError(RelayError):
    """A dial finished with ``dial_state`` ``failed``."""


class ProtocolError(RelayError):
    """A frame violated the RELAY protocol."""


class ForkedClientError(RelayError, RuntimeError):
    """A client was used in a child process after ``os.fork()``; create it after the fork.

    Also a builtin ``RuntimeError``.
    """


def timeout_error(what: str, seconds: Optional[float]) -> RelayTimeoutError:
    """Build the :class:`RelayTimeoutError` for ``what`` after ``seconds``."""
    return RelayTimeoutError(
        -1, f"{what} timed out after {seconds:g} s" if seconds is not None else f"{what} timed out"
    )


__all__ = [
    "AuthenticationError",
    "CallEndedError",
    "DialError",
    "ForkedClientError",
    "ProtocolError",
    "RelayConnectionError",
    "RelayError",
    "RelayTimeoutError",
    "timeout_error",
]
