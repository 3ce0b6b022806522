"""Shared test helpers: fast-reconnecting clients and thread-leak checks."""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple, Type

import trustme

from relaysync import Call, RelayClient

FAST: Dict[str, Any] = {"backoff_initial": 0.05, "backoff_max": 0.2}


def make_client(sim: Any, **kwargs: Any) -> RelayClient:
    """A client for ``sim`` that reconnects quickly."""
    options = {**FAST, "contexts": ["office"], **kwargs}
    return RelayClient(sim.project, sim.token, url=sim.url, **options)


def relaysync_threads() -> List[str]:
    """Names of live threads started by the client."""
    return sorted(
        t.name
        for t in threading.enumerate()
        if t.name.startswith("relaysync-") and not t.name.startswith("relaysync-simulator")
    )


class Recorder:
    """Collects values from callbacks and lets a test wait for a condition on them."""

    def __init__(self) -> None:
        self.items: List[Any] = []
        self._cond = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> List[Any]:
        """Block until ``predicate(items)`` holds; return a copy of the items.

        The default deadline only ends a wait that has already failed: it is generous,
        because 5 s proved too short with two suites of two test processes each on two
        cores (an inbound call answered in the handler).
        """
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"condition not met; got {self.items!r}")
            return list(self.items)

    def __iter__(self) -> Iterator[Any]:
        with self._cond:
            return iter(list(self.items))


class _ToRecorder(logging.Handler):
    """Hands every record to a :class:`Recorder`."""

    def __init__(self, records: Recorder) -> None:
        super().__init__(logging.NOTSET)
        self._records = records

    def emit(self, record: logging.LogRecord) -> None:
        self._records(record)


@contextlib.contextmanager
def logged_records() -> Iterator[Recorder]:
    """The log records that reach the root logger while the block runs, to wait on.

    Its handler goes after pytest's ``caplog`` one on the root logger, so a record seen
    here is already in ``caplog.records``.
    """
    records = Recorder()
    handler = _ToRecorder(records)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)


def answered_call(client: RelayClient, sim: Any) -> Call:
    """Place an inbound call on "office", answer it in the handler, return the Call."""
    calls = Recorder()

    def handler(call: Call) -> None:
        call.answer()
        calls(call)

    client.on_call(handler)
    sim.inbound_call("office", from_="+15550001111", to="+15550002222")
    call: Call = calls.wait_for(lambda items: len(items) == 1)[0]
    return call


class SimulateProcess:
    """``relaysync simulate ARGS`` in a child process, read until it is serving.

    Attributes:
        lines: what it printed so far (complete after :meth:`stop`).
        fields: the ``  name: value`` lines of its banner (url, project, token, ...).
    """

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relaysync", "simulate", *args],
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._queue: queue.Queue[str] = queue.Queue()
        self._pump = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._pump.start()
        self.lines: List[str] = []
        try:
            while not any(line.startswith("Press Ctrl-C") for line in self.lines):
                self.lines.append(self._queue.get(timeout=20))
        except BaseException:
            self.stop()
            raise
        self.fields: Dict[str, str] = dict(
            re.findall(r"^  (\w+):\s+(\S+)$", "".join(self.lines), re.M)
        )

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def stop(self, signum: int = signal.SIGTERM) -> Optional[int]:
        """Signal the process, wait for it (kill if it hangs) and return its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._pump.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        while not self._queue.empty():
            self.lines.append(self._queue.get_nowait())
        return self.proc.returncode

    def __enter__(self) -> SimulateProcess:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()


def answered_pair(client: RelayClient, sim: Any) -> Tuple[Call, Any]:
    """Like :func:`answered_call`, and also the simulator's handle of the same call."""
    call = answered_call(client, sim)
    handle = sim.get_call(call.call_id)
    assert handle is not None
    return call, handle


def tls_contexts(name: str = "localhost") -> Tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``name``, and a client context trusting
    its CA."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx
