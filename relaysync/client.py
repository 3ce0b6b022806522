"""RelayClient: the facade — connect, run, close, handlers, dial and messaging.

Dialing is done by :class:`~relaysync.client_dial.Dialer` and messaging by
:class:`~relaysync.messaging.Messaging`; the client hands them what they need.
"""

from __future__ import annotations

import functools
import os
import ssl
import threading
from types import TracebackType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import constants as C
from ._fork import ForkGuard
from ._log import enable_trace, logger, trace_wanted
from ._util import is_mapping
from ._validate import check_count, check_delay, check_names, check_timeout, require_timeout
from .call import Call
from .client_dial import Dialer
from .diagram import CallFlow
from .dispatch import CallHandler, CallRegistry, Router
from .draining import HandlerTracker, drain
from .errors import CallEndedError, RelayConnectionError
from .events import RelayEvent
from .failures import guarded, replace_handler
from .host import DEFAULT_CALL_HISTORY, ClientHost
from .message import Message, MessageCallback
from .messaging import MessageHandler, Messaging
from .observe import Observers, RecordPath
from .signals import run_until_signalled
from .stats import ClientStats
from .wire.connection import Connection
from .wire.proxy import ProxySetting, choose_proxy
from .wire.sockets import build_sslopt
from .wire.urls import is_secure, redact_url, url_from
from .workers import DEFAULT_MAX_WORKERS, SerialQueue, WorkerPool

StateCallback = Callable[[str], Any]
EventCallback = Callable[[RelayEvent], Any]
#: Internal event tap: (typed event, the frame's outer params as received).
EventTap = Callable[[RelayEvent, Dict[str, Any]], Any]
BUSY_POLICIES = ("wait", "pass")


def _credentials(
    project: Optional[str], token: Optional[str], jwt_token: Optional[str]
) -> Dict[str, str]:
    """Pick the authentication block from arguments, then the environment."""
    if jwt_token:
        return {"jwt_token": jwt_token}
    if project and token:
        return {"project": project, "token": token}
    project = project or os.environ.get("SIGNALWIRE_PROJECT_ID")
    token = token or os.environ.get("SIGNALWIRE_API_TOKEN")
    if project and token:
        return {"project": project, "token": token}
    env_jwt = os.environ.get("SIGNALWIRE_JWT_TOKEN")
    if env_jwt and not (project or token):
        return {"jwt_token": env_jwt}
    if not project:
        raise ValueError(
            "missing project: pass project= or set SIGNALWIRE_PROJECT_ID "
            "(or use jwt_token= / SIGNALWIRE_JWT_TOKEN)"
        )
    raise ValueError(
        "missing token: pass token= or set SIGNALWIRE_API_TOKEN "
        "(or use jwt_token= / SIGNALWIRE_JWT_TOKEN)"
    )


class RelayClient:
    """A synchronous RELAY client: blocking calls, one background reader thread.

    Args:
        project: project id; else ``SIGNALWIRE_PROJECT_ID``.
        token: API token; else ``SIGNALWIRE_API_TOKEN``.
        jwt_token: a JWT instead of project/token; else ``SIGNALWIRE_JWT_TOKEN``.
        host: space host such as ``example.signalwire.com``; the URL is ``wss://host``.
        url: full WebSocket URL; overrides ``host``. ``ws://`` only for loopback hosts
            unless ``allow_insecure=True``. With neither, ``SIGNALWIRE_RELAY_URL`` (a
            full URL, same rules), else ``SIGNALWIRE_SPACE`` (a host).
        contexts: contexts to receive inbound calls and messages on.
        request_timeout: default timeout of one request, in seconds.
        max_workers: the most threads running handlers and callbacks at once (default
            1,000). The pool grows with demand: a handler or callback that finds no idle
            worker starts one, so every inbound call of a busy line gets its handler at
            once, up to this many; beyond it they wait for a free worker. A worker idle
            for 30 seconds ends. Workers have a 4 MiB stack: room to recurse to the
            default recursion limit and get ``RecursionError``.
        call_history: how many of its latest events each call keeps, so that a
            ``call.events()`` iterator started late still sees them from the call's
            first event (older ones are dropped first; an iterator that missed some
            logs a warning). Memory grows with calls times this number.
        busy_policy: when every worker is busy and a call arrives: ``"wait"`` queues it
            for the next free worker; ``"pass"`` passes it to another consumer.
        reconnect: reconnect (and resume the session) when the socket is lost.
        ca_file, ssl_context: TLS trust settings for ``wss://``.
        allow_insecure: allow ``ws://`` to non-loopback hosts.
        ping_interval: seconds of silence before the client pings the server.
        ping_timeout: seconds without any frame after a ping before the socket is
            declared dead; a half-open socket is closed within
            ``ping_interval + ping_timeout`` seconds.
        backoff_initial, backoff_max: reconnect backoff, growing exponentially with
            jitter from the first to the second.
        proxy: an HTTP proxy, ``http://[user:password@]host[:port]``, to reach RELAY
            through a CONNECT tunnel (every reconnect too); ``False`` for none. Default
            ``None``: ``HTTPS_PROXY`` (``HTTP_PROXY`` for ``ws://``) unless ``NO_PROXY``
            lists the host; loopback hosts never use an environment proxy.
        trace: log every frame sent and received, secrets masked, as INFO records of
            the ``relaysync.trace`` logger (to stderr when the application has set up
            no logging). Default ``None``: on when ``RELAYSYNC_TRACE=1``.
        hangup_on_handler_error: hang up an inbound call that is still up when its
            ``on_call`` handler raised (the failure is reported either way: to the
            ``relaysync`` logger at ERROR, and on stderr when the application has
            configured no logging). ``False`` leaves the call up.
        record: a file to write a cassette to: every frame sent and received, secrets
            masked, as JSON lines (see :mod:`relaysync.cassette`); buffered, flushed by
            :meth:`close`. Replayed by ``RelaySimulator(replay=...)``.

    Raises:
        ValueError: missing credentials (naming the argument and variable), a bad URL or
            host, or a bad option.
    """

    def __init__(
        self,
        project: Optional[str] = None,
        token: Optional[str] = None,
        *,
        jwt_token: Optional[str] = None,
        host: Optional[str] = None,
        url: Optional[str] = None,
        contexts: Sequence[str] = (),
        request_timeout: float = 10.0,
        max_workers: int = DEFAULT_MAX_WORKERS,
        call_history: int = DEFAULT_CALL_HISTORY,
        busy_policy: str = "wait",
        reconnect: bool = True,
        ca_file: Optional[str] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        allow_insecure: bool = False,
        ping_interval: float = 30.0,
        ping_timeout: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        proxy: ProxySetting = None,
        trace: Optional[bool] = None,
        hangup_on_handler_error: bool = True,
        record: RecordPath = None,
    ) -> None:
        self._fork_guard = ForkGuard()
        authentication = _credentials(project, token, jwt_token)
        tracing = trace_wanted(trace)
        if tracing:
            enable_trace()
        self.project = authentication.get("project")
        self.url = url_from(host, url, allow_insecure, os.environ)
        contexts = check_names("contexts", contexts)
        if busy_policy not in BUSY_POLICIES:
            raise ValueError(f"busy_policy must be one of {BUSY_POLICIES}, got {busy_policy!r}")
        self.request_timeout = require_timeout("request_timeout", request_timeout)
        ping_interval = require_timeout("ping_interval", ping_interval)
        ping_timeout = require_timeout("ping_timeout", ping_timeout)
        backoff_initial = check_delay("backoff_initial", backoff_initial)
        backoff_max = check_delay("backoff_max", backoff_max)
        if backoff_max < backoff_initial:
            raise ValueError(
                f"backoff_max ({backoff_max:g}) must not be below backoff_initial "
                f"({backoff_initial:g})"
            )
        check_count("max_workers", max_workers)
        check_count("call_history", call_history)
        if not isinstance(hangup_on_handler_error, bool):
            raise TypeError(
                "hangup_on_handler_error must be True or False, "
                f"not {type(hangup_on_handler_error).__name__}"
            )
        self.busy_policy = busy_policy
        self._handlers = HandlerTracker()
        self._pool = WorkerPool(max_workers)
        self._state_queue = SerialQueue(self._pool, "connection state callbacks")
        self._state_callbacks: List[StateCallback] = []
        self._event_queue = SerialQueue(self._pool, "event listeners")
        # replaced, never changed in place: the reader reads it without the lock
        self._event_taps: Tuple[EventTap, ...] = ()
        self._call_handler: Optional[CallHandler] = None
        self._lock = threading.Lock()
        self._closed = False
        self._registry = CallRegistry(lambda *args, **kw: Call(self._host, *args, **kw))
        self._connection = Connection(
            url=self.url,
            authentication=authentication,
            contexts=contexts,
            sslopt=build_sslopt(ca_file, ssl_context, secure=is_secure(self.url)),
            on_event=lambda payload, event_id: self._router.route(payload, event_id),
            on_state=self._state_changed,
            request_timeout=self.request_timeout,
            reconnect=reconnect,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            batch=self._pool.deferred,
            proxy=choose_proxy(proxy, self.url),
            trace=tracing,
            on_fresh_session=self._session_lost,
        )
        self._host = ClientHost(
            self._connection, self._pool, self._registry, self._fork_guard, call_history
        )
        self._messaging = Messaging(
            self._pool, self._host.execute, lambda: self.protocol or "default", self._handlers
        )
        self._router = Router(
            self._host,
            self._registry,
            call_handler=lambda: self._call_handler,
            busy_policy=busy_policy,
            on_messaging=self._messaging.route,
            on_event=self._tap_event,
            handlers=self._handlers,
            hangup_on_error=hangup_on_handler_error,
        )
        self._dialer = Dialer(self._host, self._registry)
        self._observers = Observers(record)
        for tap in self._observers.taps:
            self._connection.add_tap(tap)

    def __repr__(self) -> str:
        state = "forked" if self._fork_guard.forked else self._connection.state
        return (
            f"RelayClient(url={redact_url(self.url)!r}, project={self.project!r}, state={state!r})"
        )

    # ---------------------------------------------------------------- lifecycle

    def connect(self, timeout: float = 10.0) -> RelayClient:
        """Open the connection and authenticate, blocking up to ``timeout`` seconds.

        Returns:
            The client, for chaining.

        Failures that retrying cannot fix raise at once, naming the URL and the project
        (never the token): a name that does not resolve, a refused connection, a TLS
        certificate that is not trusted, rejected credentials. Others (timeouts, resets,
        a server error) are retried with backoff until ``timeout``.

        Raises:
            ValueError, TypeError: ``timeout`` is not a positive, finite number.
            AuthenticationError: the server rejected the credentials.
            RelayConnectionError: no session within ``timeout``, a failure retrying cannot
                fix (see above), or the client is closed.
            KeyboardInterrupt: Ctrl-C while connecting; the client is then closed and
                no thread is left.
            ForkedClientError: called in a child process forked after the client was made.
        """
        self._fork_guard.check("connect")
        timeout = require_timeout("timeout", timeout)
        with self._lock:
            if self._closed:
                raise RelayConnectionError(-1, "this client is closed; create a new one")
        unreachable = self._handlers_without_contexts()
        if unreachable:
            logger.warning(
                "relaysync: this client has an %s but receives on no contexts; nothing "
                "will reach it until receive([...]) is called (or pass contexts=[...])",
                unreachable,
            )
        try:
            self._connection.start(timeout)
        except KeyboardInterrupt:
            # Ctrl-C: no thread may outlive it, and the traceback ends here, not in a
            # lock of the threading module.
            self.close()
            raise KeyboardInterrupt() from None
        with self._lock:
            closed = self._closed
        if closed:  # close() ran while this connect was starting
            self._connection.close()
            raise RelayConnectionError(-1, "the client was closed while connecting")
        return self

    def close(self, timeout: Optional[float] = 5.0) -> None:
        """Close the connection and join every thread this client started. Idempotent.

        Waits in progress on calls and actions are released with
        :class:`RelayConnectionError`.

        In a child process forked after the client was made, ``close`` does nothing:
        the socket and threads belong to the parent, whose connection stays up.

        Args:
            timeout: how long to wait for each thread to end; ``None`` waits as long as
                it takes.

        Raises:
            ValueError, TypeError: ``timeout`` is not ``None`` or a positive number.
        """
        timeout = check_timeout("timeout", timeout)
        if self._fork_guard.forked:
            return
        with self._lock:
            self._closed = True
        self._handlers.close()
        self._connection.close(timeout, final=True)
        self._registry.detach_all(RelayConnectionError(-1, "the client was closed"))
        self._messaging.registry.detach_all(RelayConnectionError(-1, "the client was closed"))
        self._pool.shutdown(timeout)
        self._observers.close(timeout)

    def __enter__(self) -> RelayClient:
        return self.connect()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def run(self, drain_timeout: float = 30.0) -> None:
        """Connect if needed, then block until :meth:`close`, SIGINT or SIGTERM.

        A client that is already connecting or reconnecting is not asked to connect
        again: ``run`` just waits, however long the outage lasts.

        On SIGTERM or the first SIGINT (Ctrl-C), ``run`` drains (see :meth:`drain`):
        it stops taking calls and messages and lets the running handlers finish, for
        up to ``drain_timeout`` seconds, then closes the client and returns. A second
        SIGINT or SIGTERM closes at once. This is what a rolling deploy needs: no live
        call is cut by a restart.

        SIGINT and SIGTERM handlers are installed only while ``run`` blocks, only when it
        is called on the main thread, and the previous handlers are restored afterwards;
        so is the interpreter's wakeup fd (``signal.set_wakeup_fd``), which ``run`` uses
        meanwhile so that a signal another thread receives still wakes it.

        Args:
            drain_timeout: the longest drain, in seconds; ``0`` closes at once.

        Raises:
            ValueError: an ``on_call`` or ``on_message`` handler is registered but the
                client receives on no contexts (it would wait forever), or a bad
                ``drain_timeout``.
            AuthenticationError: credentials rejected (at start or after reconnects).
            RelayConnectionError: the connection ended for good for another reason.
            KeyboardInterrupt: Ctrl-C during the first connect.
            ForkedClientError: called in a child process forked after the client was made.
        """
        drain_timeout = check_delay("drain_timeout", drain_timeout)
        self._fork_guard.check("run")
        unreachable = self._handlers_without_contexts()
        if unreachable:
            raise ValueError(
                f"this client has an {unreachable} but receives on no contexts, so run() "
                "would wait forever: pass contexts=[...] to RelayClient (or call "
                "receive([...]) first)"
            )
        if self._connection.state == C.CLOSED:
            self.connect()
        run_until_signalled(
            self._connection.wait_closed,
            self.close,
            (lambda: self._drain(drain_timeout, True)) if drain_timeout > 0 else None,
        )
        error = self._connection.fatal_error
        if error is not None:
            raise error

    def drain(self, timeout: float = 30.0) -> int:
        """Stop taking calls and messages, and wait for the running handlers to finish.

        Every context is unsubscribed (``signalwire.unreceive``), so RELAY offers new
        calls and messages to the other consumers of those contexts; an offer that still
        arrives meanwhile is passed on (``calling.pass``). The ``on_call`` and
        ``on_message`` handlers already running (or queued) go on and are waited for.
        The client stays connected: their calls keep working. :meth:`receive` takes
        calls again; :meth:`close` ends everything.

        Args:
            timeout: the longest wait for the handlers, in seconds (``0``: do not wait).

        Returns:
            How many handlers still run at the deadline (0: all finished).

        Raises:
            ValueError, TypeError: ``timeout`` is not a number of seconds >= 0.
            ForkedClientError: called in a child process forked after the client was made.
        """
        timeout = check_delay("timeout", timeout)
        self._fork_guard.check("drain")
        return self._drain(timeout)

    def _drain(self, timeout: float, announce: bool = False) -> int:
        """:meth:`drain` with a checked ``timeout`` (``announce``: see draining.drain)."""
        return drain(
            self._handlers,
            lambda: list(self._connection.session.contexts),
            lambda contexts: self._connection.session.update_contexts(remove=contexts),
            self._connection.execute,
            timeout,
            announce=announce,
        )

    @property
    def draining(self) -> bool:
        """True after :meth:`drain` began (until :meth:`receive` takes calls again).

        A long handler may check it to wrap up early.
        """
        return self._handlers.draining

    def _handlers_without_contexts(self) -> Optional[str]:
        """Which handler cannot be reached: it is registered but there are no contexts."""
        if self._connection.session.contexts:
            return None
        if self._call_handler is not None:
            return "on_call handler"
        if self._messaging.inbound.handler is not None:
            return "on_message handler"
        return None

    @property
    def connected(self) -> bool:
        """True while a RELAY session is established (always False in a forked child)."""
        if self._fork_guard.forked:
            return False
        return self._connection.connected

    @property
    def state(self) -> str:
        """Connection state: connecting, connected, reconnecting or closed."""
        self._fork_guard.check("read the connection state")
        return self._connection.state

    @property
    def protocol(self) -> Optional[str]:
        """The session's protocol string (kept across reconnects to resume)."""
        return self._connection.session.protocol

    @property
    def session_resumed(self) -> bool:
        """False after a reconnect that started a fresh session (events may be lost)."""
        return self._connection.session.resumed

    @property
    def calls(self) -> List[Call]:
        """The calls this client is tracking (ended calls are forgotten)."""
        self._fork_guard.check("list calls")
        return self._registry.all()

    def stats(self) -> ClientStats:
        """A snapshot of what the client is doing, cheap to take (no lock held long).

        Returns:
            A frozen :class:`~relaysync.stats.ClientStats`; the request latency
            percentiles are computed now, over the latest 1,000 answered requests.
        """
        counters = self._connection.counters
        p50, p99 = counters.latencies.percentiles_ms(0.5, 0.99)
        return ClientStats(
            state=self._connection.state,
            session_resumed=self._connection.session.resumed,
            reconnects=self._observers.reconnects.reconnects,
            calls_active=self._registry.sizes()["calls"],
            handlers_running=self._pool.busy,
            handlers_queued=self._pool.queued,
            requests_in_flight=self._connection.requests_in_flight,
            events_received=counters.events_received,
            events_deduplicated=counters.events_deduplicated,
            callbacks_dropped=self._pool.dropped,
            rpc_p50_ms=p50,
            rpc_p99_ms=p99,
        )

    def timeline(self, call_id: str) -> CallFlow:
        """The call flow of a call: its requests, replies and events, with timings.

        Kept for the :data:`~relaysync.wire.flowlog.MAX_CALLS` most recently active calls,
        also after they end (see :meth:`relaysync.call.Call.timeline`).

        Args:
            call_id: the call's id.

        Returns:
            A :class:`~relaysync.diagram.CallFlow` (empty for an unknown call).

        Raises:
            TypeError: ``call_id`` is not a string.
        """
        if not isinstance(call_id, str):
            raise TypeError(f"call_id must be a string, got {call_id!r}")
        entries = self._connection.flows.entries(call_id)
        return CallFlow.from_entries(entries, title=f"call {call_id}")

    def on_connection_change(self, callback: StateCallback) -> StateCallback:
        """Register ``callback(state)`` for connection state changes (worker thread).

        States: connecting, connected, reconnecting, closed. Usable as a decorator.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        self._fork_guard.check("add a connection callback")
        with self._lock:
            self._state_callbacks.append(callback)
        return callback

    def on_event(self, callback: EventCallback) -> EventCallback:
        """Register ``callback(event)`` for every event this client receives.

        Calls, dials and messages get their events as usual; this sees each one too,
        typed (:class:`RelayEvent` subclasses), in arrival order, on a worker thread.
        Usable as a decorator.

        Raises:
            TypeError: ``callback`` is not callable.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")

        @functools.wraps(callback)  # a failure is reported under the callback's name
        def tap(event: RelayEvent, payload: Dict[str, Any]) -> None:
            callback(event)

        self._add_event_tap(tap)
        return callback

    def _add_event_tap(self, tap: EventTap) -> None:
        """Register ``tap(event, payload)`` for every event (worker thread, in order)."""
        self._fork_guard.check("add an event listener")
        with self._lock:
            self._event_taps = (*self._event_taps, tap)

    def _tap_event(self, event: RelayEvent, payload: Dict[str, Any]) -> None:
        """Queue the event taps for one event (reader thread)."""
        for tap in self._event_taps:
            self._event_queue.submit(guarded(tap, (event, payload), "on_event callback", event))

    def on_call(self, handler: CallHandler) -> CallHandler:
        """Register ``handler(call)`` for inbound calls; usable as a decorator.

        The handler runs on a worker thread. An exception escaping it is reported once,
        with its traceback, the handler's name and the call: to the ``relaysync``
        logger at ERROR, and on stderr when the application has configured no logging.
        A call still up then is hung up (``hangup_on_handler_error=False`` keeps it
        up). A handler that ends with :class:`CallEndedError` is logged at INFO.

        A client has one ``on_call`` handler: registering another replaces it, with a
        warning.
        """
        self._call_handler = replace_handler("on_call", self._call_handler, handler)
        return handler

    # ---------------------------------------------------------------- requests

    def execute(
        self,
        method: str,
        params: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Send any RELAY method and block for its result (the raw escape hatch).

        Raises:
            ValueError, TypeError: an empty method, params that are not a mapping, or a
                ``timeout`` that is not ``None`` or a positive number.
            RelayError: error answer or non-2xx code.
            RelayConnectionError: connection lost after sending, or client closed.
            RelayTimeoutError: no answer within ``timeout`` (default request_timeout).
            ForkedClientError: called in a child process forked after the client was made.
        """
        if not isinstance(method, str) or not method:
            raise ValueError(f"method must be a non-empty string, got {method!r}")
        if params is not None and not is_mapping(params):
            raise TypeError(f"params must be a mapping, not {type(params).__name__}")
        timeout = check_timeout("timeout", timeout)
        self._fork_guard.check(method)
        return self._connection.execute(method, params or {}, timeout)

    def receive(self, contexts: Sequence[str], timeout: Optional[float] = None) -> None:
        """Start receiving inbound calls and messages on more contexts.

        The contexts are remembered and subscribed again after every reconnect. After
        a :meth:`drain`, this takes calls again.
        """
        if self._subscription(C.METHOD_RECEIVE, contexts, timeout, "add"):
            self._handlers.stop_draining()

    def unreceive(self, contexts: Sequence[str], timeout: Optional[float] = None) -> None:
        """Stop receiving on these contexts (remembered across reconnects)."""
        self._subscription(C.METHOD_UNRECEIVE, contexts, timeout, "remove")

    def _subscription(
        self, method: str, contexts: Sequence[str], timeout: Optional[float], change: str
    ) -> bool:
        """Send ``signalwire.receive``/``unreceive``; remember the change (``add``/``remove``).

        Returns:
            False when ``contexts`` is empty (nothing sent).
        """
        contexts = check_names("contexts", contexts)
        timeout = check_timeout("timeout", timeout)
        if not contexts:
            return False
        self.execute(method, {"contexts": contexts}, timeout)
        self._connection.session.update_contexts(**{change: contexts})
        return True

    # ---------------------------------------------------------------- dialing and messaging

    def dial(
        self,
        devices: Union[Mapping[str, Any], List[Any]],
        *,
        tag: Optional[str] = None,
        region: Optional[str] = None,
        max_price_per_minute: Optional[float] = None,
        max_duration: Optional[int] = None,
        timeout: float = 120.0,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> Call:
        """Place an outbound call and block until a leg answers.

        Args:
            devices: a device, a list of devices (tried one after another), or a dial
                plan (list of lists: outer tried in series, inner rung in parallel).
            tag: correlation tag (generated if omitted).
            region, max_price_per_minute, max_duration: passed to RELAY.
            timeout: seconds to wait for an answer. A dial given up on keeps listening
                for its tag and hangs up a call that is answered afterwards.
            extra_params: params RELAY takes that this release does not know, merged
                into the request as given, unchecked.

        Returns:
            The answered :class:`Call`.

        Raises:
            ValueError, TypeError: malformed devices, a tag already in use, or a
                ``timeout`` that is not a positive, finite number.
            DialError: no device answered.
            RelayTimeoutError: no outcome within ``timeout``.
        """
        return self._dialer.dial(locals())

    def dial_phone(
        self,
        to: str,
        from_: str,
        *,
        timeout: float = 30.0,
        dial_timeout: Optional[float] = None,
        tag: Optional[str] = None,
        region: Optional[str] = None,
        max_price_per_minute: Optional[float] = None,
        max_duration: Optional[int] = None,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> Call:
        """Dial a phone number.

        Args:
            to, from_: E.164 numbers.
            timeout: how long the phone may ring, in seconds (sent to RELAY).
            dial_timeout: how long to wait for the outcome (default ``timeout + 10``).
            tag, region, max_price_per_minute, max_duration, extra_params: as for
                :meth:`dial`.

        Raises:
            ValueError, TypeError: a number that does not look like E.164, or a
                ``timeout``/``dial_timeout`` that is not a positive, finite number.
            DialError, RelayTimeoutError: as for :meth:`dial`.
        """
        return self._dialer.dial_phone(locals())

    def dial_sip(
        self,
        to: str,
        from_: str,
        *,
        headers: Optional[Any] = None,
        tag: Optional[str] = None,
        region: Optional[str] = None,
        max_price_per_minute: Optional[float] = None,
        max_duration: Optional[int] = None,
        timeout: float = 120.0,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> Call:
        """Dial a SIP URI, optionally with SIP ``headers``. See :meth:`dial`.

        Raises:
            ValueError, TypeError: a bad URI or header, or a bad ``timeout`` (as for
                :meth:`dial`), before anything is sent.
        """
        return self._dialer.dial_sip(locals())

    def on_message(self, handler: MessageHandler) -> MessageHandler:
        """Register ``handler(message)`` for inbound SMS/MMS; usable as a decorator.

        It runs on a worker thread for each ``messaging.receive`` on the client's
        contexts, with a :class:`Message` whose direction is ``inbound`` and state
        ``received``. An exception escaping it is reported once, with its traceback,
        the handler's name and the message: to the ``relaysync`` logger at ERROR, and
        on stderr when the application has configured no logging.

        A client has one ``on_message`` handler: registering another replaces it,
        with a warning.
        """
        return self._messaging.on_message(handler)

    def send_message(
        self,
        to: str,
        from_: str,
        *,
        body: Optional[str] = None,
        media: Optional[Sequence[str]] = None,
        context: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        region: Optional[str] = None,
        on_completed: Optional[MessageCallback] = None,
        timeout: Optional[float] = None,
        extra_params: Optional[Mapping[str, Any]] = None,
    ) -> Message:
        """Send an SMS (``body``) or MMS (``media``) and return once RELAY accepted it.

        The returned :class:`Message` is in state ``queued``; ``message.wait(timeout)``
        blocks until ``delivered``, ``undelivered`` or ``failed``. States RELAY sends
        right behind its answer are never lost. Everything is checked before anything
        is sent.

        Args:
            to: destination, an E.164 number (``+15551234567``).
            from_: sender, an E.164 number of your project.
            body: the text, up to 1,600 characters.
            media: http(s) URLs of the media to attach (MMS).
            context: context the message's state events are sent on; default: this
                session's protocol, which this client always receives.
            tags: strings to label the message with.
            region: origination region.
            on_completed: ``callback(message)`` run on a worker thread once the message
                is final.
            timeout: seconds to wait for RELAY's answer (default ``request_timeout``).
            extra_params: params RELAY takes that this release does not know, merged
                into the request as given, unchecked.

        Returns:
            The :class:`Message`, with ``message_id`` set.

        Raises:
            TypeError: an argument of the wrong kind.
            ValueError: ``to``/``from_`` not E.164, neither body nor media, a media URL
                that is not http(s), a body over 1,600 characters, an empty context,
                tag or region, or a bad ``timeout``.
            RelayError: RELAY refused the message.
            RelayTimeoutError: no answer within ``timeout``.
            RelayConnectionError: the connection was lost after sending, or the
                client is closed.
        """
        return self._messaging.send(locals())

    # ---------------------------------------------------------------- internals

    def _state_changed(self, state: str) -> None:
        """Connection state hook (I/O thread): queue the user callbacks."""
        self._observers.state_changed(state)
        with self._lock:
            callbacks = list(self._state_callbacks)
        for callback in callbacks:
            self._state_queue.submit(
                guarded(callback, (state,), "on_connection_change callback", f"state {state!r}")
            )
        if state == C.CLOSED:
            error = self._connection.fatal_error
            if error is not None:
                self._registry.detach_all(error)
                self._messaging.registry.detach_all(error)

    def _session_lost(self) -> None:
        """A reconnect started a fresh session (I/O thread): settle the old one's waits.

        RELAY routes no more events of the old session's calls and messages here, so
        its calls are forgotten (waits end with CallEndedError) and its messages'
        waits end with RelayConnectionError.
        """
        why = "the RELAY session was lost on reconnect; its events can no longer arrive"
        self._registry.detach_all(CallEndedError(-1, why))
        self._messaging.registry.detach_all(RelayConnectionError(-1, why))
