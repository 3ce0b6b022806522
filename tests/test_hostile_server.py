"""A hostile or broken server: frames that must not kill the reader, redirects that must
not leave the URL rules behind."""

from __future__ import annotations

import http.server
import io
import json
import logging
import socket
import threading
from typing import Any, Dict, Iterator, List, Optional, Union

import pytest

from relaysync import RelayClient, RelayConnectionError
from relaysync._log import TOO_DEEP, LimitedLog, MaskedFrame, mask_secrets
from relaysync.testing import RelaySimulator

from .helpers import Recorder, make_client, relaysync_threads

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def debug_stream() -> Iterator[io.StringIO]:
    """A DEBUG stream handler on the package logger (what a user debugging would add)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("relaysync")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def _nested_event(depth: int) -> str:
    payload = (
        '{"event_type":"calling.call.play","params":{"call_id":"x","deep":' + _nested(depth) + "}}"
    )
    return '{"jsonrpc":"2.0","id":"deep-1","method":"signalwire.event","params":' + payload + "}"


@pytest.mark.parametrize("depth", [500, 1_000, 100_000])
def test_deeply_nested_frames_do_not_kill_the_reader(
    client: RelayClient,
    sim: RelaySimulator,
    debug_stream: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    depth: int,
) -> None:
    caplog.set_level(logging.DEBUG, logger="relaysync")
    sim.push_frame(_nested(depth))
    sim.push_frame(_nested_event(depth))
    assert client.execute("signalwire.ping", {}, timeout=5) is not None
    assert client.connected
    assert "relaysync-io" in relaysync_threads()
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]
    logged = debug_stream.getvalue()
    assert "Traceback" not in logged
    if depth >= 1_000:
        assert any("nested too deeply" in r.getMessage() for r in caplog.records)
    else:  # parsed: its DEBUG line is cut at the masking depth
        assert '"deep":[[[[' in logged and json.dumps(TOO_DEEP) in logged


def test_masking_is_depth_bounded() -> None:
    deep: object = {"token": "secret"}
    for _ in range(5_000):
        deep = {"a": [deep]}
    masked = mask_secrets({"authorization_state": "blob", "x": deep})
    assert masked["authorization_state"] == "***"
    assert "secret" not in str(MaskedFrame(deep))


# ------------------------------------------------------------------ handshake redirects


class _Redirector:
    """A local HTTP server answering every request with a redirect to ``location``."""

    def __init__(self, location: str, status: int = 301) -> None:
        self.requests: List[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(str(self.headers))
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"ws://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)


def _non_loopback_address() -> Optional[str]:
    """An IPv4 address of this machine that is not loopback (None if there is none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP connect only picks a route; sends nothing
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture
def remote_sim() -> Iterator[RelaySimulator]:
    """A simulator listening on a non-loopback address of this machine."""
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with RelaySimulator(host=address) as sim:
        yield sim


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_to_plain_ws_remote_host_is_refused(
    remote_sim: RelaySimulator, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="relaysync")
    assert remote_sim.url.startswith("ws://") and "127.0.0.1" not in remote_sim.url
    location = remote_sim.url.replace("ws://", "ws://user:hunter2@") + "?key=abc"
    redirector = _Redirector(location, status)
    client = RelayClient(
        remote_sim.project, remote_sim.token, url=redirector.url, backoff_initial=0.05
    )
    try:
        with pytest.raises(RelayConnectionError, match="redirect") as caught:
            client.connect(timeout=2)
    finally:
        client.close()
        redirector.close()
    assert redirector.requests, "the client never reached the redirecting server"
    assert remote_sim.connection_count == 0
    assert remote_sim.authentication_count == 0
    assert remote_sim.journal.requests("signalwire.connect") == []
    text = str(caught.value) + caplog.text
    for secret in ("hunter2", "key=abc", remote_sim.token):
        assert secret not in text
    assert remote_sim.token not in "".join(redirector.requests)


def test_any_redirect_is_refused_even_to_an_allowed_url(sim: RelaySimulator) -> None:
    redirector = _Redirector(sim.url)
    client = RelayClient(sim.project, sim.token, url=redirector.url, backoff_initial=0.05)
    try:
        with pytest.raises(RelayConnectionError, match=r"redirect \(HTTP 301\) to ws://127"):
            client.connect(timeout=2)
    finally:
        client.close()
        redirector.close()
    assert sim.authentication_count == 0


# ------------------------------------------------------------------ log floods


def test_limited_log_reports_what_it_suppressed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="relaysync")
    now = [0.0]
    log = LimitedLog(10.0, clock=lambda: now[0])
    assert log.warning("kind-a", "relaysync: a %d", 1)
    assert not any(log.warning("kind-a", "relaysync: a %d", i) for i in range(500))
    assert log.warning("kind-b", "relaysync: b")  # kinds are limited separately
    now[0] = 10.0
    assert log.warning("kind-a", "relaysync: a %d", 2)
    assert not log.warning("kind-a", "relaysync: a %d", 3)
    log.flush()
    assert [r.getMessage() for r in caplog.records] == [
        "relaysync: a 1",
        "relaysync: b",
        "relaysync: a 2 (500 similar lines suppressed)",
        "relaysync: 1 more kind-a lines were suppressed",
    ]


BAD_FRAMES: Dict[str, Union[str, bytes]] = {
    "not json": "{nope",
    "not an object": "[1]",
    "neither method nor result": '{"jsonrpc":"2.0"}',
    "unknown method": '{"jsonrpc":"2.0","id":"u","method":"evil.method","params":{}}',
    "nested": "[" * 5_000 + "]" * 5_000,
    "binary": b"\xff\xfe\x00",
}


def test_a_flood_of_bad_frames_costs_a_few_lines(
    client: RelayClient, sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="relaysync")
    for _ in range(300):
        for frame in BAD_FRAMES.values():
            sim.push_frame(frame)
    assert client.execute("signalwire.ping", {}, timeout=10) is not None
    lines = [r.getMessage() for r in caplog.records if r.name == "relaysync"]
    assert 5 <= len(lines) <= 2 * len(BAD_FRAMES), lines
    client.close()
    flushed = [r.getMessage() for r in caplog.records if "were suppressed" in r.getMessage()]
    assert any(line.startswith("relaysync: 599 more non-json-frame") for line in flushed)


def test_reconnect_warnings_are_rate_limited(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="relaysync")
    client = make_client(sim)
    states = Recorder()
    client.on_connection_change(states)
    client.connect()
    try:
        for drop in range(1, 6):
            sim.drop_connections()
            states.wait_for(lambda s, n=drop: s.count("connected") == n + 1, timeout=20)
    finally:
        client.close()
    lost = [r.getMessage() for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) == 1  # five drops within the interval: one line
    assert any("more connection-lost lines" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(60)
def test_oversized_frames_are_reported_rate_limited(
    client: RelayClient, sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="relaysync")
    big = "x" * (17 * 1024 * 1024)
    for _ in range(3):
        sim.push_frame(big)
    assert client.execute("signalwire.ping", {}, timeout=30) is not None
    refused = [r for r in caplog.records if "refused a" in r.getMessage()]
    assert len(refused) == 1
    client.close()
    assert any("2 more oversized-frame lines" in r.getMessage() for r in caplog.records)
