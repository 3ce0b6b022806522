"""RemoteSimulator: drive a RelaySimulator that runs in another process.

``relaysync simulate`` prints a URL, a project and a *control token*; a test (or any
script) connects to it with those and scripts calls and faults as it would in process::

    from relaysync.testing.remote import RemoteSimulator

    with RemoteSimulator(url, project, control_token) as remote:
        remote.on_refer("sip:busy@example.com", state="busy")
        call = remote.inbound_call("office", from_="+15550001111", to="+15550002222")
        call.wait_for_state("ended", timeout=10)
        assert call.refers()[0].state == "busy"

Method names, parameters and defaults are those of
:class:`~relaysync.testing.RelaySimulator` and :class:`~relaysync.testing.SimCall`, with
one difference: everything that reads the simulator's state is a method
(``remote.sessions()``, ``remote.calls()``, ``call.state()``, ``call.refers()``), since
each read is a round trip. The methods restate the in-process signatures on purpose, so
that editors, type checkers and the API reference see typed, documented methods; the
simulator's own control table is read from the in-process signatures, and the test
suite compares every remote method with its in-process twin. The connection is
a :class:`~relaysync.RelayClient` subscribed to no context, authenticated with the
control token; it gets no calls. Invalid arguments raise :class:`ValueError`, like the
in-process methods; the wire methods are listed in :mod:`relaysync.testing.control`.

Lint and strict mode are read and set remotely too: ``remote.lint()`` (the simulator's
:class:`~relaysync.testing.lint.LintEntry` list), ``remote.clear_lint()``,
``remote.strict()`` and ``remote.set_strict(True)``; ``call.finish_ai()`` scripts the
``calling.call.ai`` event no RELAY document confirms.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, List, Optional, Sequence, Type, Union

from relaysync.client import RelayClient
from relaysync.constants import CALL_STATES
from relaysync.errors import CallEndedError, RelayError, RelayTimeoutError, timeout_error
from relaysync.testing.caller import CallerActions
from relaysync.testing.callmodel import ReferRecord
from relaysync.testing.control import UNKNOWN_CALL, WAIT_TIMEOUT
from relaysync.testing.lint import LintEntry
from relaysync.testing.sessions import SessionInfo
from relaysync.testing.sms import SimMessage

Params = Dict[str, Any]

#: Seconds added to a remote wait's own timeout to bound the request that carries it.
WAIT_MARGIN = 5.0


class RemoteCall(CallerActions):
    """Handle on one simulated call leg of a remote simulator (mirrors ``SimCall``).

    The leg's fixed facts are attributes, read once; its state is read by methods. Its
    far end is scripted as in process (``press``, ``say``, ``answer_as``, ...).

    Attributes:
        call_id: the leg's ``call_id``.
        node_id: the leg's ``node_id``.
        tag: the dial/connect tag (``""`` for inbound calls).
        direction: ``inbound`` or ``outbound``.
        context: the context an inbound call arrived on, else ``None``.
        created_by: ``receive``, ``dial`` or ``connect``.
        device: the wire-form device of the leg.
    """

    def __init__(self, remote: RemoteSimulator, info: Params) -> None:
        """Wrap a call info as answered by ``simulator.call_info``."""
        self._remote = remote
        self.call_id: str = info["call_id"]
        self.node_id: str = info["node_id"]
        self.tag: str = info["tag"]
        self.direction: str = info["direction"]
        self.context: Optional[str] = info["context"]
        self.created_by: str = info["created_by"]
        self.device: Dict[str, Any] = info["device"]

    def info(self) -> Params:
        """Everything the simulator knows about the leg now: ``state``, ``end_reason``,
        ``peer``, ``session_id``, ``offered_to``, ``refers`` (dicts), ``events`` (a count).

        Raises:
            LookupError: the simulator no longer remembers the call.
        """
        return self._remote._call("call_info", {"call_id": self.call_id})

    def state(self) -> str:
        """The current call state."""
        state: str = self._remote._call("call_state", {"call_id": self.call_id})["state"]
        return state

    def end_reason(self) -> Optional[str]:
        """The ``end_reason`` once the call has ended, else ``None``."""
        reason: Optional[str] = self._remote._call("call_state", {"call_id": self.call_id})[
            "end_reason"
        ]
        return reason

    def _script(self, action: str, params: Params) -> None:
        self._remote._call("caller", {"call_id": self.call_id, "action": action, "params": params})

    def heard_digits(self) -> List[str]:
        """Digits that reached this leg from ``calling.send_digits``."""
        digits: List[str] = self.info()["heard_digits"]
        return digits

    def refers(self) -> List[ReferRecord]:
        """The REFERs received for this call, oldest first."""
        return [ReferRecord(**refer) for refer in self.info()["refers"]]

    def hangup(self, reason: str = "hangup") -> None:
        """The remote party hangs up: the call goes ``ending`` → ``ended``.

        Args:
            reason: the ``end_reason`` to report.
        """
        self._remote._call("hangup", {"call_id": self.call_id, "reason": reason})

    def finish_ai(self, state: str = "finished") -> str:
        """Send ``calling.call.ai {control_id, state}`` for the call's ``calling.ai``
        session and end it (see ``SimCall.finish_ai``: an event not confirmed by RELAY's
        documents, sent only on request).

        Returns:
            The session's ``control_id``.

        Raises:
            ValueError: a bad ``state``, or no ``calling.ai`` session runs on the call.
        """
        answer = self._remote._call("finish_ai", {"call_id": self.call_id, "state": state})
        control_id: str = answer["control_id"]
        return control_id

    def wait_for_state(self, state: str, timeout: float = 5.0) -> None:
        """Block until the call has been in ``state`` (returns at once if it already was).

        Args:
            state: one of ``created``, ``ringing``, ``answered``, ``ending``, ``ended``.
            timeout: seconds to wait.

        Raises:
            ValueError: ``state`` is not a call state.
            CallEndedError: the call ended without passing through ``state``.
            RelayTimeoutError: ``state`` not reached within ``timeout``.
        """
        if state not in CALL_STATES:
            raise ValueError(f"state must be one of {CALL_STATES}, got {state!r}")
        answer = self._remote._call(
            "wait_for_state",
            {"call_id": self.call_id, "state": state, "timeout": timeout},
            timeout=timeout + WAIT_MARGIN,
        )
        if answer["outcome"] == "ended":
            raise CallEndedError(
                -1, f"call {self.call_id} ended ({answer['end_reason']}) without reaching {state!r}"
            )
        if answer["outcome"] != "reached":
            raise timeout_error(f"waiting for call {self.call_id} to reach {state!r}", timeout)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteCall) and other.call_id == self.call_id

    def __hash__(self) -> int:
        return hash(self.call_id)

    def __repr__(self) -> str:
        return f"RemoteCall(call_id={self.call_id!r}, direction={self.direction!r})"


class RemoteCallerScript(CallerActions):
    """The script of the far end of later calls to or from one number (mirrors
    ``sim.caller(number)``)."""

    def __init__(self, remote: RemoteSimulator, number: str) -> None:
        self._remote = remote
        self.number = number

    def _script(self, action: str, params: Params) -> None:
        self._remote._call("caller", {"number": self.number, "action": action, "params": params})

    def __repr__(self) -> str:
        return f"RemoteCallerScript(number={self.number!r})"


class RemoteSimulator:
    """A control connection to a RelaySimulator in another process.

    Connects on construction; :meth:`close` (or leaving a ``with`` block) disconnects.

    Args:
        url: the simulator's ``ws://`` or ``wss://`` URL.
        project: its project id.
        control_token: its control token (``sim.control_token``; printed by
            ``relaysync simulate``), not the API token.
        ca_file: CA certificate to trust for ``wss://``.
        allow_insecure: allow ``ws://`` to a host that is not loopback.
        timeout: seconds to connect, and the default for each request.

    Raises:
        AuthenticationError: wrong project or control token.
        RelayConnectionError: the simulator cannot be reached within ``timeout``.
    """

    def __init__(
        self,
        url: str,
        project: str,
        control_token: str,
        *,
        ca_file: Optional[str] = None,
        allow_insecure: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.project = project
        self._client = RelayClient(
            project,
            control_token,
            url=url,
            contexts=(),
            ca_file=ca_file,
            allow_insecure=allow_insecure,
            request_timeout=timeout,
            max_workers=2,
        )
        try:
            self._client.connect(timeout)
        except BaseException:
            self._client.close()
            raise

    def close(self) -> None:
        """Disconnect (idempotent). The simulator keeps running."""
        self._client.close()

    def __enter__(self) -> RemoteSimulator:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RemoteSimulator project={self.project!r} {self.url}>"

    def _call(self, name: str, params: Params, timeout: Optional[float] = None) -> Params:
        """Run ``simulator.<name>``; map bad params to ValueError, unknown calls to
        LookupError and a remote wait's timeout to RelayTimeoutError."""
        try:
            return self._client.execute(f"simulator.{name}", params, timeout)
        except RelayTimeoutError:
            raise
        except RelayError as exc:
            if exc.code == -32602:
                raise ValueError(exc.message) from None
            if exc.code == UNKNOWN_CALL:
                raise LookupError(exc.message) from None
            if exc.code == WAIT_TIMEOUT:
                raise RelayTimeoutError(exc.code, exc.message) from None
            raise

    # -- calls ------------------------------------------------------------------------

    def inbound_call(
        self,
        context: str = "office",
        from_: str = "+15550001111",
        to: str = "+15550002222",
        *,
        ring_timeout: Optional[float] = None,
    ) -> RemoteCall:
        """Place an inbound phone call on ``context`` (see ``RelaySimulator.inbound_call``;
        ``ring_timeout=None`` rings for 30 s of real time).

        Returns:
            The :class:`RemoteCall` handle.
        """
        return RemoteCall(
            self,
            self._call(
                "inbound_call",
                {"context": context, "from_": from_, "to": to, "ring_timeout": ring_timeout},
            ),
        )

    def calls(self) -> List[RemoteCall]:
        """Handles of the live and recently ended calls, oldest first."""
        return [RemoteCall(self, info) for info in self._call("calls", {})["calls"]]

    def get_call(self, call_id: str) -> Optional[RemoteCall]:
        """Return the handle of a live or recently ended call, or ``None``."""
        try:
            return RemoteCall(self, self._call("call_info", {"call_id": call_id}))
        except LookupError:
            return None

    def caller(self, number: str) -> RemoteCallerScript:
        """Script the far end of later calls to or from ``number`` (see
        ``RelaySimulator.caller``).

        Raises:
            ValueError: an empty ``number``.
        """
        if not isinstance(number, str) or not number:
            raise ValueError("number must be a non-empty string")
        return RemoteCallerScript(self, number)

    def conference_participants(self, name: str) -> List[str]:
        """The ``call_id`` of each call now in conference ``name``, in join order."""
        calls: List[str] = self._call("conference_participants", {"name": name})["calls"]
        return calls

    def dequeue(self, queue_name: str) -> Optional[str]:
        """Take the oldest call out of ``queue_name``; return its ``call_id`` (or None)."""
        call_id: Optional[str] = self._call("dequeue", {"queue_name": queue_name})["call_id"]
        return call_id

    def on_dial(self, to: str, outcome: str = "answer", *, delay: float = 0.5) -> None:
        """Script how dial and connect legs to ``to`` react (see ``RelaySimulator.on_dial``)."""
        self._call("on_dial", {"to": to, "outcome": outcome, "delay": delay})

    def on_refer(
        self,
        target: str,
        state: str = "success",
        *,
        sip_refer_response_code: Union[str, int, None] = None,
        sip_notify_response_code: Union[str, int, None] = None,
        delay: float = 0.3,
    ) -> None:
        """Script the outcome of REFERs to ``target`` (see ``RelaySimulator.on_refer``)."""
        self._call(
            "on_refer",
            {
                "target": target,
                "state": state,
                "delay": delay,
                "sip_refer_response_code": sip_refer_response_code,
                "sip_notify_response_code": sip_notify_response_code,
            },
        )

    def set_media_duration(self, url: str, seconds: float) -> None:
        """Make the audio file at ``url`` play for ``seconds`` (unscaled)."""
        self._call("set_media_duration", {"url": url, "seconds": seconds})

    # -- lint and strict mode -----------------------------------------------------------

    def lint(self) -> List[LintEntry]:
        """The simulator's lint: params it accepted although no RELAY document names
        them (see ``RelaySimulator.lint``)."""
        return [LintEntry(**entry) for entry in self._call("lint", {})["lint"]]

    def clear_lint(self) -> None:
        """Forget the lint recorded so far."""
        self._call("clear_lint", {})

    def strict(self) -> bool:
        """Whether the simulator refuses params no RELAY document names."""
        return bool(self._call("lint", {})["strict"])

    def set_strict(self, strict: bool) -> None:
        """Refuse (``True``) or accept and record as lint (``False``) params no RELAY
        document names, from now on."""
        self._call("set_strict", {"strict": strict})

    # -- faults -----------------------------------------------------------------------

    def drop_connections(self, session_id: Optional[str] = None) -> int:
        """Abort RELAY sockets (not this control connection). Returns how many."""
        return int(self._call("drop_connections", {"session_id": session_id})["count"])

    def send_disconnect(self, restart: bool = False, session_id: Optional[str] = None) -> int:
        """Send ``signalwire.disconnect {restart}``. Returns how many sockets were told."""
        return int(
            self._call("send_disconnect", {"restart": restart, "session_id": session_id})["count"]
        )

    def go_silent(self, session_id: Optional[str] = None) -> int:
        """Half-open the RELAY sockets until :meth:`wake`. Returns how many."""
        return int(self._call("go_silent", {"session_id": session_id})["count"])

    def wake(self, session_id: Optional[str] = None) -> int:
        """Undo :meth:`go_silent`. Returns how many sockets woke up."""
        return int(self._call("wake", {"session_id": session_id})["count"])

    def delay_method(self, method: str, seconds: float, times: Optional[int] = None) -> None:
        """Answer ``method`` ``seconds`` late, the next ``times`` times (``None``: always)."""
        self._call("delay_method", {"method": method, "seconds": seconds, "times": times})

    def fail_method(
        self,
        method: str,
        code: int,
        message: str = "Simulated failure",
        times: Optional[int] = 1,
        as_result: bool = False,
    ) -> None:
        """Fail the next ``times`` requests of ``method`` (see ``RelaySimulator.fail_method``)."""
        self._call(
            "fail_method",
            {
                "method": method,
                "code": code,
                "message": message,
                "times": times,
                "as_result": as_result,
            },
        )

    def clear_faults(self) -> None:
        """Remove every method delay and failure rule."""
        self._call("clear_faults", {})

    def push_event(
        self, event_type: str, params: Dict[str, Any], session_id: Optional[str] = None
    ) -> List[str]:
        """Send a ``signalwire.event`` to RELAY sessions. Returns the event ids."""
        answer = self._call(
            "push_event", {"event_type": event_type, "params": params, "session_id": session_id}
        )
        return [str(event_id) for event_id in answer["event_ids"]]

    def push_frame(
        self, frame: Union[Dict[str, Any], str], session_id: Optional[str] = None
    ) -> int:
        """Send a raw frame (a dict as JSON, a str verbatim). Returns how many sockets."""
        return int(self._call("push_frame", {"frame": frame, "session_id": session_id})["count"])

    def redeliver_events(self, count: int = 5, session_id: Optional[str] = None) -> int:
        """Send the last ``count`` events of each online session again, with their
        original ids (see ``RelaySimulator.redeliver_events``). Returns how many frames.

        Raises:
            ValueError: ``count`` below 1, or an unknown ``session_id``.
        """
        return int(
            self._call("redeliver_events", {"count": count, "session_id": session_id})["count"]
        )

    # -- messaging --------------------------------------------------------------------

    def on_message_to(
        self,
        to: str,
        state: str = "delivered",
        *,
        reason: Optional[str] = None,
        delay: float = 1.0,
    ) -> None:
        """Script how messages to ``to`` end (see ``RelaySimulator.on_message_to``)."""
        self._call("on_message_to", {"to": to, "state": state, "reason": reason, "delay": delay})

    def inbound_message(
        self,
        context: str = "office",
        from_: str = "+15550001111",
        to: str = "+15550002222",
        body: Optional[str] = "Hello",
        media: Optional[Sequence[str]] = None,
        *,
        tags: Optional[Sequence[str]] = None,
    ) -> SimMessage:
        """Send an inbound SMS/MMS to one session on ``context`` (see
        ``RelaySimulator.inbound_message``).

        Raises:
            ValueError: a bad argument (the simulator's message names it).
        """
        params = {
            "context": context,
            "from_": from_,
            "to": to,
            "body": body,
            "media": None if media is None else list(media),
            "tags": None if tags is None else list(tags),
        }
        return _message(self._call("inbound_message", params))

    def messages(self) -> List[SimMessage]:
        """Snapshots of the messages sent and received so far, oldest first."""
        return [_message(item) for item in self._call("messages", {})["messages"]]

    # -- sessions and journal ---------------------------------------------------------

    def sessions(self) -> List[SessionInfo]:
        """The live RELAY sessions (control sessions excluded), oldest first."""
        return [_session(item) for item in self._call("sessions", {})["sessions"]]

    def wait_for_sessions(self, n: int, timeout: float = 5.0) -> List[SessionInfo]:
        """Block until exactly ``n`` RELAY sessions are online; return them.

        Raises:
            RelayTimeoutError: not so within ``timeout`` seconds (a ``TimeoutError``).
        """
        answer = self._call(
            "wait_for_sessions", {"n": n, "timeout": timeout}, timeout=timeout + WAIT_MARGIN
        )
        return [_session(item) for item in answer["sessions"]]

    def journal_requests(self, method: Optional[str] = None) -> List[Dict[str, Any]]:
        """Request frames the simulator received (all, or those of ``method``), oldest
        first, with credentials masked as ``***``."""
        requests: List[Dict[str, Any]] = self._call("journal_requests", {"method": method})[
            "requests"
        ]
        return requests


def _message(item: Params) -> SimMessage:
    fields: Dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}
    return SimMessage(**fields)


def _session(item: Params) -> SessionInfo:
    return SessionInfo(
        item["id"], item["protocol"], frozenset(item["contexts"]), bool(item["online"])
    )


__all__ = ["RemoteCall", "RemoteCallerScript", "RemoteSimulator"]
