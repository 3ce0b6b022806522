"""JSON-RPC plumbing: pending requests (one-shot results) and result-code checking."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple

from ._entropy import new_id
from .errors import RelayConnectionError, RelayError, RelayTimeoutError, timeout_error
from .waiting import OneShot


def request_frame(
    method: str, params: Mapping[str, Any], request_id: Optional[str] = None
) -> Dict[str, Any]:
    """Build a JSON-RPC 2.0 request frame."""
    return {
        "jsonrpc": "2.0",
        "id": request_id or new_id(),
        "method": method,
        "params": dict(params),
    }


def error_from_response(error: Any) -> RelayError:
    """Turn a JSON-RPC ``error`` member into a :class:`RelayError`."""
    if isinstance(error, dict):
        code = _numeric(error.get("code", -1))
        return RelayError(code, str(error.get("message", "")), error.get("data"))
    return RelayError(-1, str(error))


def _numeric(code: Any) -> int:
    """A wire code as an int, or ``-1`` when it is not a number."""
    try:
        return int(code)
    except (TypeError, ValueError):
        return -1


def check_result(method: str, result: Any) -> Dict[str, Any]:
    """Validate a RELAY result: any 2xx ``code`` (string or int) or no code is success.

    Returns:
        The result as a dict (a non-object result is wrapped as ``{"raw": value}``).

    Raises:
        RelayError: the code is not 2xx (non-numeric codes become ``-1``).
    """
    if not isinstance(result, dict):
        return {"raw": result}
    if _is_2xx(result):
        return result
    code = _numeric(str(result.get("code", "200")))
    raise RelayError(code, str(result.get("message") or f"{method} failed"), result)


class PendingRequest(OneShot[Any]):
    """A request waiting for its response: a :class:`~relaysync.waiting.OneShot`
    with the request's id, method and socket generation.

    Resolved once by the reader thread (or by a disconnect); waited on by the thread
    that sent the request.

    Args:
        request_id: the JSON-RPC id.
        method: the RELAY method (timeout and failure messages name it).
        generation: the socket generation it was written on.
    """

    __slots__ = ("generation", "id", "method", "sent_at")

    def __init__(self, request_id: str, method: str, generation: int) -> None:
        super().__init__()
        self.id = request_id
        self.method = method
        self.generation = generation
        #: ``time.monotonic()`` when the request was registered (for latency figures)
        self.sent_at = time.monotonic()

    def wait(self, timeout: Optional[float], what: str = "") -> Any:
        """Block until resolved; return the result or raise the error.

        Raises:
            RelayTimeoutError: no response within ``timeout`` seconds (naming the
                request unless ``what`` says otherwise).
        """
        return super().wait(timeout, what or f"request {self.method}")


def _is_2xx(result: Dict[str, Any]) -> bool:
    code = str(result.get("code", "200"))
    return len(code) == 3 and code[0] == "2" and code.isdecimal()


def await_reply(
    pending: PendingRequest, deadline: float, timeout: float, forget: Callable[[str], Any]
) -> Dict[str, Any]:
    """Block until ``pending`` is answered, up to ``deadline``; return the checked result.

    Args:
        timeout: the request's timeout (for the error message).
        forget: removes the request from its map when it times out.

    Raises:
        RelayError: the server answered with an error or a non-2xx code.
        RelayConnectionError: the socket was lost, or the client closed.
        RelayTimeoutError: no answer before the deadline.
    """
    try:
        result = pending.wait(max(0.0, deadline - time.monotonic()))
    except RelayTimeoutError:
        forget(pending.id)
        raise timeout_error(f"request {pending.method}", timeout) from None
    return check_result(pending.method, result)


class PendingMap:
    """Requests awaiting responses, by id. Thread-safe.

    A request nobody waits for (fire-and-forget) is registered with an expiry and swept
    once it passes, so a server that never answers cannot grow the map.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._items: Dict[str, PendingRequest] = {}
        self._expiring: Deque[Tuple[float, str, float]] = collections.deque()
        self._clock = clock

    def __len__(self) -> int:
        """How many requests are pending."""
        with self._lock:
            return len(self._items)

    def add(self, request: PendingRequest, expires_in: Optional[float] = None) -> None:
        """Register a request before it is written to the socket.

        Args:
            request: the request.
            expires_in: for a request nobody waits for: seconds after which it is
                failed with a timeout and forgotten if no answer came.
        """
        now = self._clock()
        with self._lock:
            self._items[request.id] = request
            if expires_in is not None:
                self._expiring.append((now + expires_in, request.id, expires_in))
            expired = self._sweep(now)
        for r, seconds in expired:
            r.set_error(timeout_error(f"request {r.method}", seconds))

    def _sweep(self, now: float) -> List[Tuple[PendingRequest, float]]:
        """Remove expired fire-and-forget requests (lock held); return them."""
        expired: List[Tuple[PendingRequest, float]] = []
        while self._expiring and self._expiring[0][0] <= now:
            _, request_id, seconds = self._expiring.popleft()
            request = self._items.pop(request_id, None)
            if request is not None:
                expired.append((request, seconds))
        return expired

    def pop(self, request_id: Any) -> Optional[PendingRequest]:
        """Remove and return the request with this id, if any."""
        if not isinstance(request_id, str):
            return None
        with self._lock:
            return self._items.pop(request_id, None)

    def fail_generation(self, generation: int, reason: str) -> int:
        """Fail every request written on socket ``generation``; return how many."""
        with self._lock:
            doomed = [r for r in self._items.values() if r.generation == generation]
            for r in doomed:
                del self._items[r.id]
        for r in doomed:
            r.set_error(RelayConnectionError(-1, f"{reason} while waiting for {r.method}"))
        return len(doomed)

    def fail_all(self, error_text: str) -> None:
        """Fail every pending request (used by close())."""
        with self._lock:
            doomed: List[PendingRequest] = list(self._items.values())
            self._items.clear()
            self._expiring.clear()
        for r in doomed:
            r.set_error(RelayConnectionError(-1, f"{error_text} while waiting for {r.method}"))
