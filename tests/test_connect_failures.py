"""The first connect fails fast where retrying cannot help, naming the URL and project;
transient failures are still retried; Ctrl-C while connecting is clean."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from relaysync import AuthenticationError, RelayClient, RelayConnectionError
from relaysync.testing import RelaySimulator

from .helpers import FAST, relaysync_threads
from .process_support import die_with_parent, python_child

ROOT = Path(__file__).resolve().parent.parent
#: What "at once" means here: far below the 10 s connect timeout, with room for load.
FAST_FAIL = 3.0

pytestmark = pytest.mark.timeout(90)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _connect_error(client: RelayClient) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises((RelayConnectionError, AuthenticationError)) as info:
        client.connect(timeout=10)
    return info.value, time.monotonic() - started


def test_refused_port_fails_at_once_naming_url_and_project() -> None:
    port = _closed_port()
    client = RelayClient("proj-1", "secret-token", url=f"ws://127.0.0.1:{port}", **FAST)
    error, took = _connect_error(client)
    message = str(error)
    assert took < FAST_FAIL, took
    assert isinstance(error, RelayConnectionError)
    assert f"ws://127.0.0.1:{port}" in message and "project 'proj-1'" in message
    assert "refused" in message and "secret-token" not in message
    assert relaysync_threads() == []


def test_unknown_name_fails_at_once() -> None:
    client = RelayClient("proj-1", "secret-token", url="wss://relaysync-test.invalid", **FAST)
    error, took = _connect_error(client)
    assert took < FAST_FAIL, took
    message = str(error)
    assert "relaysync-test.invalid" in message and "project 'proj-1'" in message
    assert "does not resolve" in message and "secret-token" not in message
    assert relaysync_threads() == []


def test_untrusted_certificate_fails_at_once() -> None:
    with RelaySimulator(tls=True) as secure:
        url = secure.url
        client = RelayClient(secure.project, secure.token, url=url, **FAST)
        error, took = _connect_error(client)
        assert secure.authentication_count == 0
    assert took < FAST_FAIL, took
    message = str(error)
    assert url in message and f"project {secure.project!r}" in message
    assert "not trusted" in message and "ca_file=" in message
    assert relaysync_threads() == []


def test_bad_token_fails_at_once_naming_project_and_host(sim: RelaySimulator) -> None:
    client = RelayClient(sim.project, "wrong-token", url=sim.url, **FAST)
    error, took = _connect_error(client)
    assert took < FAST_FAIL, took
    assert isinstance(error, AuthenticationError)
    message = str(error)
    assert sim.url in message and f"project {sim.project!r}" in message
    assert "wrong-token" not in message
    assert relaysync_threads() == []


def test_transient_failures_are_still_retried(sim: RelaySimulator) -> None:
    sim.fail_method("signalwire.connect", 500, "try again", times=2)
    client = RelayClient(sim.project, sim.token, url=sim.url, **FAST)
    with client:
        assert client.connected
    assert sim.authentication_count >= 1


def test_a_refused_reconnect_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    server = RelaySimulator().start()
    client = RelayClient(server.project, server.token, url=server.url, **FAST)
    try:
        with caplog.at_level(logging.WARNING, logger="relaysync"):
            client.connect()
            server.stop()  # the port now refuses

            def retried() -> bool:
                return any("retrying" in r.getMessage() for r in caplog.records)

            deadline = time.monotonic() + 20
            while not retried() and time.monotonic() < deadline:
                client._connection.wait_closed(0.05)  # returns False while it retries
            assert retried()
            assert client.state == "reconnecting"
    finally:
        client.close()
    assert relaysync_threads() == []


# The child connects to a socket that accepts TCP but never answers the WebSocket
# handshake, so run()'s first connect blocks until the test interrupts it.
CTRL_C_SCRIPT = textwrap.dedent("""
    import sys, threading
    from relaysync import RelayClient
    client = RelayClient("p", "t", url=sys.argv[1])
    try:
        client.run()
    except KeyboardInterrupt:
        names = sorted(t.name for t in threading.enumerate())
        print("interrupted", names, flush=True)
        raise
""")


def test_ctrl_c_during_the_first_connect_is_clean() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
        proc = python_child(CTRL_C_SCRIPT, url)
        try:
            held, _ = listener.accept()  # the child is now waiting for the handshake
            with held:
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert out.strip() == "interrupted ['MainThread']", (out, err)
    assert err.count("Traceback") == 1 and err.rstrip().endswith("KeyboardInterrupt"), err
    assert "threading.py" not in err, err
    assert proc.returncode in (-signal.SIGINT, 128 + signal.SIGINT, 1), proc.returncode


# Ctrl-C landing inside Thread.start(): the I/O thread already runs, but start() has not
# returned it yet. The child makes that moment certain by raising SIGINT right there.
CTRL_C_IN_THREAD_START = textwrap.dedent("""
    import signal, sys, threading
    from relaysync import RelayClient

    real_start = threading.Thread.start

    def start(thread):
        real_start(thread)
        if thread.name == "relaysync-io":
            signal.raise_signal(signal.SIGINT)

    threading.Thread.start = start
    client = RelayClient("p", "t", url=sys.argv[1])
    try:
        client.connect(timeout=30)
    except KeyboardInterrupt:
        print("interrupted", sorted(t.name for t in threading.enumerate()), flush=True)
""")


def test_ctrl_c_while_the_io_thread_starts_leaves_no_thread() -> None:
    with socket.socket() as listener:  # takes the TCP connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
        child = subprocess.run(
            [sys.executable, "-c", CTRL_C_IN_THREAD_START, url],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=50,
            preexec_fn=die_with_parent(),
            check=False,
        )
    assert child.stdout.strip() == "interrupted ['MainThread']", (child.stdout, child.stderr)
