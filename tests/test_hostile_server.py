"""A hostile or broken server: frames that must not kill the reader, redirects that must
not leave the URL rules behind."""

from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest

from relaysync import RelayClient
from relaysync._log import TOO_DEEP, MaskedFrame, mask_secrets
from relaysync.testing import RelaySimulator

from .helpers import relaysync_threads

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
