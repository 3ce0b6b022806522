"""RelaySimulator: a real local RELAY server (JSON-RPC 2.0 over WebSocket) for tests and demos.

Start it, point a client at ``sim.url`` with ``sim.project``/``sim.token``, then script
calls and inject faults from the test thread. Every public method is thread-safe: work
is marshalled onto the simulator's own loop thread and the caller waits (5 s at most).

Lifecycle and introspection::

    with RelaySimulator(project="p", token="t", time_scale=0.01) as sim:  # 127.0.0.1, free port
        sim.url                     # "ws://127.0.0.1:PORT" ("wss://" with tls=True)
        sim.ca_file                 # CA PEM to trust when tls=True, else None
        sim.wait_for_sessions(1)    # exactly one online session; -> [SessionInfo]
        sim.sessions                # [SessionInfo(id, protocol, contexts, online)]
        sim.connection_count, sim.authentication_count
        sim.wait_until(lambda: ..., timeout=5.0)   # re-checked on every session change
        sim.journal.wait_for_request("calling.answer")
        sim.journal.wait_for_event("calling.call.state", predicate=...)

Fault injection (``session_id=None`` means every online session)::

    sim.drop_connections()               # abort sockets, no close handshake
    sim.send_disconnect(restart=False)   # signalwire.disconnect; close on ack or after 2 s
    sim.go_silent(); sim.wake()          # half-open socket: nothing read, answered or sent
    sim.delay_method("calling.answer", 2.0, times=1)   # real seconds; times=None: always
    sim.fail_method("calling.play", 404, "Call not found", as_result=True)
    sim.fail_method("signalwire.connect", -32002, "Authentication failed")
    sim.clear_faults()
    sim.push_event("calling.call.state", {...})          # -> event ids; acked/redelivered
    sim.push_frame("{not json")                          # raw text, dict or bytes
    sim.redeliver_events(5)              # the last 5 events again, same ids (a lost ack)

Session behaviour: the first frame must be ``signalwire.connect`` (bad credentials get
``-32002``/``AUTH_REQUIRED`` and the socket is closed). A connect carrying a known
``protocol`` resumes that session (same protocol, ``session_restored: true``, contexts
kept and merged, calls kept) and re-sends its unacked events with their original ids,
then the events queued while it was offline. Each connect issues a fresh
``signalwire.authorization.state``; a resume presenting a stale one gets ``-32003`` (the
previous blob stays valid until the client acks the event carrying its successor). A
session whose socket has been gone for ``resume_window`` seconds expires. Frames
received while silent are journaled but otherwise ignored; malformed frames are journaled
and answered with ``-32700``/``-32600`` when their id is known.

Call scripting (``inbound_call``, ``on_dial``, ``on_refer``, ``calls`` ...) is described
in :mod:`relaysync.testing.calls`, messaging scripting (``on_message_to``,
``inbound_message``, ``messages``, ``wait_for_message``) in
:mod:`relaysync.testing.sms`. Their parameters and defaults are declared here: the
remote control table (:mod:`relaysync.testing.control`) reads them from these
signatures, and :class:`~relaysync.testing.remote.RemoteSimulator` restates them as typed
methods (a test compares the two).

Lint and strict mode::

    sim.lint                    # [LintEntry(method, path, note)]: unknown params accepted
    sim.clear_lint()
    RelaySimulator(strict=True) # refuse them with -32602 instead; sim.strict is settable

Remote control: another process connects with ``sim.project`` and ``sim.control_token``
(:class:`~relaysync.testing.remote.RemoteSimulator`) and calls this API over the same
socket server; see :mod:`relaysync.testing.control`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import ssl
import threading
import uuid
from types import TracebackType
from typing import Any, Callable, Dict, List, Optional, Sequence, Type, Union

from relaysync.errors import timeout_error

from ..cassette import read_cassette
from . import faults, redelivery
from .calls import CallEngine
from .control import install_control
from .core import SimCore
from .handle import CallerScript, SimCall
from .journal import Journal
from .lint import LintEntry
from .replay import ReplayServer
from .replay_match import Divergence
from .scripts import Scripts
from .server import WsServer
from .sessions import SessionInfo
from .sms import (
    DEFAULT_CARRIER_DELAY,
    MessageScript,
    MessagingEngine,
    SimMessage,
    check_inbound,
)
from .tls import TlsMaterial

logger = logging.getLogger("relaysync.simulator")

UNKNOWN_PROTOCOL_MODES = ("fresh", "error")


def _fake_jwt(project: str) -> str:
    def part(data: Dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return ".".join(
        (
            part({"alg": "HS256", "typ": "JWT"}),
            part({"project_id": project, "jti": str(uuid.uuid4())}),
            signature,
        )
    )


class RelaySimulator:
    """A local RELAY server on its own thread; see the module docstring for the API.

    Args:
        project: project id clients must present.
        token: API token clients must present.
        jwt_token: JWT clients may present instead (a random one is generated if None).
        host: interface to listen on.
        port: port to listen on (0 = a free port, see :attr:`port` after start).
        tls: serve ``wss://`` with a generated certificate (``trustme`` required); the CA
            to trust is :attr:`ca_file`.
        time_scale: factor for every simulated duration (e.g. 0.01 in tests): media
            lengths, and also the caller's reaction times, collect and record
            timeouts (``initial_timeout``, ``digit_timeout``, ``end_silence_timeout``)
            and the carrier delay of messages.
        ping_interval: seconds between server ``signalwire.ping`` requests (0 = never).
        resume_window: seconds a session without a socket stays resumable.
        unknown_protocol: ``"fresh"`` starts a new session when a client resumes an
            unknown protocol; ``"error"`` rejects it with ``AUTH_REQUIRED``.
        control_token: token of remote-control sessions (a random one is generated if
            None); exposed as :attr:`control_token`.
        lean: benchmark mode: the journal records nothing (its waits never see a
            frame) and permessage-deflate is refused, so the server spends its CPU on
            the protocol alone. Behaviour on the wire is otherwise the same.
        strict: refuse a param no RELAY document names with ``-32602`` naming its path,
            instead of accepting it (as RELAY does) and recording it in :attr:`lint`.
        replay: a cassette (``RelayClient(record=...)``) whose server side to play:
            every client method is answered from it (see
            :mod:`relaysync.testing.replay`); :meth:`replay_report` lists how the
            client diverged from the recording.

    Raises:
        ValueError: a bad ``time_scale``, ``ping_interval``, ``resume_window`` or
            ``unknown_protocol``, or a ``control_token`` equal to ``token``/``jwt_token``,
            or a ``replay`` file that is not a cassette.
        OSError: the ``replay`` file cannot be read.
    """

    def __init__(
        self,
        project: str = "test-project",
        token: str = "test-token",
        *,
        jwt_token: Optional[str] = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        time_scale: float = 1.0,
        ping_interval: float = 30.0,
        resume_window: float = 60.0,
        unknown_protocol: str = "fresh",
        control_token: Optional[str] = None,
        lean: bool = False,
        strict: bool = False,
        replay: Union[str, os.PathLike[str], None] = None,
    ) -> None:
        if unknown_protocol not in UNKNOWN_PROTOCOL_MODES:
            raise ValueError(f"unknown_protocol must be one of {UNKNOWN_PROTOCOL_MODES}")
        for name, value in (
            ("time_scale", time_scale),
            ("ping_interval", ping_interval),
            ("resume_window", resume_window),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        self.project = project
        self.token = token
        self.jwt_token = jwt_token if jwt_token is not None else _fake_jwt(project)
        self.control_token = control_token or secrets.token_urlsafe(16)
        if self.control_token in (token, self.jwt_token):
            raise ValueError("control_token must differ from token and jwt_token")
        self.host = host
        self.port = port
        self.time_scale = time_scale
        self._tls_enabled = tls
        self._tls: Optional[TlsMaterial] = None
        self._lock = threading.Lock()
        self._server: Optional[WsServer] = None
        self._core = SimCore(
            project,
            token,
            self.jwt_token,
            time_scale=time_scale,
            ping_interval=ping_interval,
            resume_window=resume_window,
            unknown_protocol=unknown_protocol,
            control_token=self.control_token,
            strict=strict,
        )
        self.lean = lean
        self._core.journal.enabled = not lean
        self._engine = CallEngine(self._core)
        self._engine.install()
        self._messaging = MessagingEngine(self._core)
        self._messaging.install()
        install_control(self, self._core, self._engine)
        self._replay: Optional[ReplayServer] = None
        if replay is not None:
            self._replay = ReplayServer(self._core, read_cassette(replay))
            self._replay.install()

    def replay_report(self) -> List[Divergence]:
        """How the client diverged from the cassette given as ``replay=`` (so far).

        Returns:
            The divergences, in the order they happened, then the recorded requests
            not made (yet); empty when the run followed the recording.
            :func:`relaysync.testing.replay_match.describe` makes them one report.

        Raises:
            RuntimeError: the simulator is not replaying a cassette.
        """
        replay = self._replay
        if replay is None:
            raise RuntimeError("this RelaySimulator is not replaying a cassette (replay=...)")
        if self._server is None:
            return replay.report()
        return self._core.run_sync(replay.report)

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> RelaySimulator:
        """Start listening (idempotent). Returns ``self``.

        Raises:
            RuntimeError: the simulator was stopped before (it cannot be restarted).
            OSError: the port cannot be bound.
        """
        with self._lock:
            if self._server is not None:
                return self
            if self._tls_enabled:
                self._tls = TlsMaterial()
            context = self._tls.server_context if self._tls else None
            server = WsServer(self._core, self.host, self.port, context, compression=not self.lean)
            try:
                self._core.runner.start(server.open)
            except BaseException:
                if self._tls is not None:
                    self._tls.cleanup()
                raise
            self._server = server
            self.port = server.port
        logger.info("RELAY simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Close every socket, stop the loop and join its thread (idempotent)."""
        with self._lock:
            server = self._server
            if server is None:
                self._core.runner.stop(_nothing)
                return
            self._server = None
            self._core.runner.stop(server.close)
            if self._tls is not None:
                self._tls.cleanup()

    def __enter__(self) -> RelaySimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not started"
        return f"<RelaySimulator project={self.project!r} {where}>"

    @property
    def url(self) -> str:
        """``ws://host:port`` (``wss://`` with TLS).

        Raises:
            RuntimeError: the simulator has not been started.
        """
        if self._server is None:
            raise RuntimeError("RelaySimulator is not started: call start() first")
        return f"{'wss' if self._tls_enabled else 'ws'}://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Optional[str]:
        """Path of the CA certificate (PEM) to trust with ``tls=True``; else ``None``."""
        return self._tls.ca_file if self._tls is not None else None

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this simulator's certificate (``tls=True`` only).

        Raises:
            RuntimeError: TLS is off or the simulator is not running.
        """
        if self._tls is None:
            raise RuntimeError("the simulator does not serve TLS (pass tls=True)")
        return self._tls.client_context()

    # -- introspection ----------------------------------------------------------------

    @property
    def journal(self) -> Journal:
        """Every frame received and sent, in order."""
        return self._core.journal

    @property
    def lint(self) -> List[LintEntry]:
        """Params accepted although no RELAY document names them, oldest first.

        Each ``(method, path)`` is listed (and logged) once; in strict mode such params
        are refused instead and nothing is listed. See :mod:`relaysync.testing.lint`.
        """
        return self._core.lint.entries

    def clear_lint(self) -> None:
        """Forget the :attr:`lint` entries recorded so far."""
        self._core.lint.clear()

    @property
    def strict(self) -> bool:
        """Whether params no RELAY document names are refused (``-32602``) rather than
        accepted and listed in :attr:`lint`; settable at any time."""
        return self._core.lint.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self._core.lint.strict = bool(value)

    @property
    def sessions(self) -> List[SessionInfo]:
        """Snapshot of the live (online or resumable) sessions, oldest first."""
        return self._core.snapshot()

    @property
    def connection_count(self) -> int:
        """Open sockets, authenticated or not."""
        return self._core.connection_count

    @property
    def authentication_count(self) -> int:
        """Successful ``signalwire.connect`` requests (fresh and resumed)."""
        return self._core.authentication_count

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until ``predicate()`` is true; it is re-checked on every session change.

        Args:
            predicate: may read :attr:`sessions`, :attr:`connection_count` and so on.
            timeout: seconds to wait.

        Raises:
            TimeoutError: still false after ``timeout`` seconds.
        """
        cond = self._core.state_condition
        with cond:
            if not cond.wait_for(predicate, timeout):
                raise TimeoutError(f"simulator condition not met within {timeout:g} s")

    def wait_for_sessions(self, n: int, timeout: float = 5.0) -> List[SessionInfo]:
        """Block until exactly ``n`` sessions are online; return them.

        Raises:
            TimeoutError: not so within ``timeout`` seconds.
        """

        def online() -> List[SessionInfo]:
            return [s for s in self._core.snapshot() if s.online]

        try:
            self.wait_until(lambda: len(online()) == n, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"{len(online())} sessions online, not {n}, after {timeout:g} s"
            ) from None
        return online()

    # -- faults -----------------------------------------------------------------------

    def drop_connections(self, session_id: Optional[str] = None) -> int:
        """Abort sockets abruptly (no close handshake); all sockets when ``session_id`` is
        None. Returns how many.

        Raises:
            ValueError: unknown ``session_id``.
        """
        return self._core.run_sync(lambda: faults.drop_connections(self._core, session_id))

    def send_disconnect(self, restart: bool = False, session_id: Optional[str] = None) -> int:
        """Send ``signalwire.disconnect {restart}``; the socket closes when the client acks
        (or after 2 s). ``restart=True`` makes the session's protocol unknown to a later
        resume. Returns how many sockets were told.

        Raises:
            ValueError: unknown ``session_id``.
        """
        return self._core.run_sync(lambda: faults.send_disconnect(self._core, restart, session_id))

    def go_silent(self, session_id: Optional[str] = None) -> int:
        """Half-open: keep the sockets open but read, answer and send nothing (not even
        pings) until :meth:`wake`. Returns how many sockets went silent.

        Raises:
            ValueError: unknown ``session_id``.
        """
        return self._core.run_sync(lambda: faults.go_silent(self._core, session_id))

    def wake(self, session_id: Optional[str] = None) -> int:
        """Undo :meth:`go_silent`; events held back meanwhile are sent. Returns how many.

        Raises:
            ValueError: unknown ``session_id``.
        """
        return self._core.run_sync(lambda: faults.wake(self._core, session_id))

    def delay_method(self, method: str, seconds: float, times: Optional[int] = None) -> None:
        """Answer ``method`` ``seconds`` (real time) late, the next ``times`` times
        (``None`` = always, until :meth:`clear_faults`)."""
        self._core.run_sync(lambda: self._core.faults.delay(method, seconds, times))

    def fail_method(
        self,
        method: str,
        code: int,
        message: str = "Simulated failure",
        times: Optional[int] = 1,
        as_result: bool = False,
    ) -> None:
        """Fail the next ``times`` requests of ``method`` (``None`` = always).

        Args:
            method: any method, ``signalwire.connect`` included.
            code: the error code.
            message: the error message.
            times: how many requests to fail.
            as_result: answer the result ``{"code": str(code), "message": message}``
                instead of a JSON-RPC error ``{code, message}``.
        """
        self._core.run_sync(lambda: self._core.faults.fail(method, code, message, times, as_result))

    def clear_faults(self) -> None:
        """Remove every method delay and failure rule."""
        self._core.run_sync(self._core.faults.clear)

    def push_event(
        self, event_type: str, params: Dict[str, Any], session_id: Optional[str] = None
    ) -> List[str]:
        """Send a ``signalwire.event``, acked and redelivered like engine events.

        Returns:
            The event ids (one per targeted session).

        Raises:
            ValueError: unknown ``session_id``.
        """
        return self._core.run_sync(
            lambda: faults.push_event(self._core, event_type, params, session_id)
        )

    def push_frame(
        self, frame: Union[Dict[str, Any], str, bytes], session_id: Optional[str] = None
    ) -> int:
        """Send a raw frame: dict as JSON, str verbatim (malformed frames too), bytes as
        a binary frame. Returns how many sockets it went to.

        Raises:
            ValueError: unknown ``session_id``.
        """
        return self._core.run_sync(lambda: faults.push_frame(self._core, frame, session_id))

    def redeliver_events(self, count: int = 5, session_id: Optional[str] = None) -> int:
        """Send the last ``count`` events of each online session again, with their
        original ids, as RELAY does when an ack was lost. Returns how many frames.

        Raises:
            ValueError: ``count`` below 1, or an unknown ``session_id``.
        """
        return self._core.run_sync(
            lambda: redelivery.redeliver_recent(self._core, count, session_id)
        )

    # -- call scripting ---------------------------------------------------------------

    def inbound_call(
        self,
        context: str = "office",
        from_: str = "+15550001111",
        to: str = "+15550002222",
        *,
        ring_timeout: Optional[float] = None,
    ) -> SimCall:
        """Place an inbound phone call on ``context``.

        The call is offered to one subscribed session (round-robin per context) and
        rings; it ends ``abandoned`` when nobody (left) can take it and ``noAnswer`` when
        its ring timeout passes.

        Args:
            context: the context the call arrives on.
            from_: caller number (``device.params.from_number``).
            to: called number (``device.params.to_number``).
            ring_timeout: unscaled seconds before an unanswered call ends (scaled by
                ``time_scale``). ``None``: 30 seconds of real time whatever the
                ``time_scale``, since the client has to answer within it, and a
                client on a loaded machine can take more than the 0.3 s that a scaled
                30 s would leave at ``time_scale=0.01``.

        Returns:
            The :class:`SimCall` handle.

        Raises:
            ValueError: an empty ``context`` or a negative ``ring_timeout``.
        """
        if not isinstance(context, str) or not context:
            raise ValueError("context must be a non-empty string")
        if ring_timeout is not None and not ring_timeout >= 0:
            raise ValueError(f"ring_timeout must be >= 0, got {ring_timeout!r}")
        engine = self._engine
        record = self._core.run_sync(lambda: engine.inbound.start(context, from_, to, ring_timeout))
        return engine.handle(record)

    def on_dial(self, to: str, outcome: str = "answer", *, delay: float = 0.5) -> None:
        """Script how dial and connect legs to ``to`` react from now on.

        Args:
            to: the phone device's ``to_number`` or the sip/webrtc device's ``to``.
            outcome: ``answer``, ``busy``, ``no-answer``, ``decline`` or ``fail``.
            delay: unscaled seconds from ringing to the outcome.

        Raises:
            ValueError: unknown outcome or negative delay.
        """
        script = Scripts.make_dial(outcome, delay)
        self._core.run_sync(lambda: self._engine.scripts.set_dial(to, script))

    def on_refer(
        self,
        target: str,
        state: str = "success",
        *,
        sip_refer_response_code: Union[str, int, None] = None,
        sip_notify_response_code: Union[str, int, None] = None,
        delay: float = 0.3,
    ) -> None:
        """Script the outcome of REFERs to ``target`` from now on.

        Args:
            target: the SIP URI exactly as sent in ``device.params.to`` (or ``uri``).
            state: ``success``, ``busy``, ``noAnswer``, ``cancel`` or ``error``.
            sip_refer_response_code: defaults to ``"202"`` (an ``int`` is turned into
                its string).
            sip_notify_response_code: defaults per state: 200, 486, 480, 487, 503.
            delay: unscaled seconds from ``inProgress`` to the final state.

        Raises:
            ValueError: unknown state or negative delay.
            TypeError: a code that is neither ``str`` nor ``int``.
        """
        script = Scripts.make_refer(state, sip_refer_response_code, sip_notify_response_code, delay)
        self._core.run_sync(lambda: self._engine.scripts.set_refer(target, script))

    def set_media_duration(self, url: str, seconds: float) -> None:
        """Make the audio file at ``url`` play for ``seconds`` (unscaled; default 2 s).

        Raises:
            ValueError: negative ``seconds``.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
        self._core.run_sync(lambda: self._engine.scripts.set_media_duration(url, seconds))

    def caller(self, number: str) -> CallerScript:
        """Script the far end of calls to or from ``number`` before they exist.

        Inputs queued here go, in order, to the next call whose far end is ``number``
        (an inbound call's ``from_number``, a dialled leg's ``to_number``/``to``);
        settings (``answer_as``, ``fax_outcome``, ``pay_outcome``) apply to every later
        call. The methods are those of :class:`~relaysync.testing.caller.CallerActions`.

        Raises:
            ValueError: an empty ``number``.
        """
        if not isinstance(number, str) or not number:
            raise ValueError("number must be a non-empty string")
        return CallerScript(self._engine, number)

    def conference_participants(self, name: str) -> List[str]:
        """The ``call_id`` of each call now in conference ``name``, in join order."""
        return self._core.run_sync(lambda: self._engine.rooms.participants(name))

    def dequeue(self, queue_name: str) -> Optional[str]:
        """An agent takes the oldest call waiting in ``queue_name`` (``dequeue`` event).

        Returns:
            The dequeued call's ``call_id``, or ``None`` when the queue is empty.
        """
        return self._core.run_sync(lambda: self._engine.rooms.dequeue(queue_name))

    @property
    def calls(self) -> List[SimCall]:
        """Handles of the live and recently ended calls, oldest first."""
        return [self._engine.handle(r) for r in self._engine.records()]

    def get_call(self, call_id: str) -> Optional[SimCall]:
        """Return the handle of a live or recently ended call, or ``None``."""
        record = self._engine.find(call_id)
        return None if record is None else self._engine.handle(record)

    def wait_for_call(
        self, predicate: Optional[Callable[[SimCall], bool]] = None, timeout: float = 5.0
    ) -> SimCall:
        """Block until a live or recent call matches ``predicate``; return the oldest match.

        Args:
            predicate: called with each :class:`SimCall` (outside the engine lock);
                ``None`` matches any call.
            timeout: seconds to wait.

        Raises:
            RelayTimeoutError: no call matched within ``timeout``.
        """
        found = self._engine.wait_for_call(predicate, timeout)
        if found is None:
            raise timeout_error("waiting for a matching call", timeout)
        return found

    # -- messaging scripting ----------------------------------------------------------

    def on_message_to(
        self,
        to: str,
        state: str = "delivered",
        *,
        reason: Optional[str] = None,
        delay: float = DEFAULT_CARRIER_DELAY,
    ) -> None:
        """Script how messages sent to ``to`` end, from now on.

        Args:
            to: the destination number exactly as sent in ``to_number``.
            state: ``delivered``, ``undelivered`` or ``failed``.
            reason: the failure reason (default ``carrier_blocked`` for undelivered,
                ``invalid_destination`` for failed).
            delay: unscaled seconds from ``queued`` to the final state (0: every
                state right behind the answer).

        Raises:
            ValueError: unknown state, negative delay, or a reason with ``delivered``.
        """
        script = MessageScript.make(state, reason, delay)
        self._core.run_sync(lambda: self._messaging.set_script(to, script))

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
        """Send an inbound SMS/MMS (``messaging.receive``) to one session on ``context``.

        Args:
            context: the context it arrives on (sessions take turns).
            from_: the sender, E.164.
            to: your number, E.164.
            body: the text.
            media: http(s) media URLs (MMS).
            tags: tags to attach.

        Returns:
            The :class:`SimMessage` (``session_id`` is ``None`` if nobody was subscribed).

        Raises:
            TypeError, ValueError: a bad argument (named in the message).
        """
        args = check_inbound(context, from_, to, body, media, tags)
        return self._core.run_sync(lambda: self._messaging.inbound(*args))

    @property
    def messages(self) -> List[SimMessage]:
        """Snapshots of the messages sent and received so far, oldest first."""
        return self._messaging.snapshot()

    def wait_for_message(
        self, predicate: Optional[Callable[[SimMessage], bool]] = None, timeout: float = 5.0
    ) -> SimMessage:
        """Block until a message matches ``predicate``; return the oldest match.

        Raises:
            RelayTimeoutError: no message matched within ``timeout``.
        """
        found = self._messaging.wait_for(predicate or (lambda _message: True), timeout)
        if found is None:
            raise timeout_error("waiting for a matching message", timeout)
        return found


async def _nothing() -> None:
    """Teardown of a simulator that never started."""
