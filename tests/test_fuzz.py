"""Fuzzing with hypothesis: hostile frames into the reader and router over a real socket,
and random arguments into the public API's checks.

The in-suite run is short. For a long run, set ``RELAYSYNC_FUZZ_EXAMPLES`` (examples per
test, e.g. 20000) and run ``python -m pytest tests/test_fuzz.py``
(the per-test timeout is lifted above 500 examples).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from typing import Any, Callable, Dict, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaysync import RelayClient, constants
from relaysync._validate import check_timeout
from relaysync.host import DEFAULT_CALL_HISTORY as MAX_HISTORY
from relaysync.testing import RelaySimulator
from relaysync.wire.dedupe import DEDUPE_WINDOW

from .helpers import make_client, relaysync_threads

EXAMPLES = int(os.environ.get("RELAYSYNC_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
pytestmark = pytest.mark.timeout(120 if EXAMPLES <= 500 else 0)

EVENT_TYPES = sorted(
    value
    for name, value in vars(constants).items()
    if name.startswith("EVENT_") and isinstance(value, str)
)
METHODS = ["signalwire.event", "signalwire.ping", "no.such.method", "", "calling.answer"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
ids = st.none() | st.text(max_size=20) | st.integers() | st.lists(st.integers(), max_size=2)


@st.composite
def event_payloads(draw: st.DrawFn, call_id: str) -> Dict[str, Any]:
    """Event payloads RELAY might almost send: known types, fields missing or mistyped."""
    params: Dict[str, Any] = draw(st.dictionaries(st.text(max_size=12), json_values, max_size=4))
    for key, value in (
        ("call_id", st.sampled_from([call_id, "unknown-call"]) | json_values),
        ("control_id", st.text(max_size=10) | json_values),
        ("tag", st.text(max_size=10) | json_values),
        ("call_state", st.sampled_from(constants.CALL_STATES) | json_values),
        ("state", st.sampled_from(["finished", "error", "playing", "success"]) | json_values),
        ("message_id", st.text(max_size=10) | json_values),
        ("device", json_values),
        ("peer", json_values),
    ):
        if draw(st.booleans()):
            params[key] = draw(value)
    payload: Dict[str, Any] = {"params": params}
    if draw(st.integers(0, 9)) > 0:
        payload["event_type"] = draw(st.sampled_from(EVENT_TYPES) | st.text(max_size=20))
    if draw(st.booleans()):
        payload["event_channel"] = draw(json_values)
    return payload


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def frames(draw: st.DrawFn, call_id: str) -> Any:
    """One frame of any kind: JSON-RPC shaped or not, text or binary."""
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        frame: Dict[str, Any] = {"jsonrpc": draw(st.sampled_from(["2.0", "1.0", None]))}
        if draw(st.integers(0, 4)) > 0:
            frame["id"] = draw(ids)
        method = draw(st.sampled_from(METHODS) | st.text(max_size=20) | json_values)
        if kind <= 2:
            frame["method"] = method
            if method == "signalwire.event" and draw(st.booleans()):
                frame["params"] = draw(event_payloads(call_id))
            else:
                frame["params"] = draw(json_values)
        else:
            frame[draw(st.sampled_from(["result", "error"]))] = draw(json_values)
        return frame
    if kind == 4:
        return json.dumps(draw(json_values))
    if kind == 5:
        return draw(st.text(max_size=200))
    if kind == 6:
        return draw(st.binary(max_size=200))  # mostly invalid UTF-8
    if kind == 7:
        return _nested(draw(st.integers(1, 20_000)))
    if kind == 8:
        size = draw(st.sampled_from([10_000, 1_000_000]))
        return json.dumps({"jsonrpc": "2.0", "method": "x" * size, "params": {"s": "y" * size}})
    return draw(st.binary(min_size=1, max_size=50)) + b"\xff" + json.dumps({}).encode()


@pytest.fixture
def fuzz_target(sim: RelaySimulator) -> Iterator[RelayClient]:
    """A connected client with one live, answered call whose id the fuzzer uses."""
    client = make_client(sim)
    client.connect()
    yield client
    client.close()
    assert relaysync_threads() == []


def test_reader_and_router_survive_any_frame(
    fuzz_target: RelayClient, sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="relaysync")
    client = fuzz_target
    sent: List[int] = [0]

    @FUZZ
    @given(batch=st.lists(frames("fuzz-call"), min_size=1, max_size=8))
    def run(batch: List[Any]) -> None:
        for frame in batch:
            sim.push_frame(frame)
            sent[0] += 1
        # Still reading, still answering: the reader survived every frame.
        assert client.execute("signalwire.ping", {}, timeout=20) is not None

    run()
    assert sent[0] >= EXAMPLES
    assert client.connected
    messages = [r.getMessage() for r in caplog.records if r.name == "relaysync"]
    assert not [m for m in messages if "crashed" in m or "could not be handled" in m], messages
    # Rate-limited: a handful of lines per kind of problem, not one per bad frame.
    assert len(messages) < 60, messages
    # Memory stays bounded whatever arrived.
    assert len(client._connection._frames.dedupe) <= 2 * DEDUPE_WINDOW
    assert len(client._connection._pending) <= 1
    assert client._registry.sizes()["calls"] <= sent[0]
    for call in client.calls:
        assert len(call._history) <= MAX_HISTORY


# ------------------------------------------------------------------ argument checks

anything = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.binary(max_size=4)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)


@FUZZ
@given(value=anything)
def test_check_timeout_accepts_only_positive_finite_numbers(value: Any) -> None:
    try:
        seconds = check_timeout("timeout", value)
    except (TypeError, ValueError) as exc:
        assert "timeout" in str(exc)
        return
    assert seconds is None or (math.isfinite(seconds) and seconds > 0)


def _requests(sim: RelaySimulator) -> int:
    return len(sim.journal.requests())


def test_bad_arguments_never_reach_the_wire(client: RelayClient, sim: RelaySimulator) -> None:
    calls: Dict[str, List[Callable[[Any], Any]]] = {
        "timeout": [
            lambda v: client.execute("signalwire.ping", {}, timeout=v),
            lambda v: client.dial({"type": "phone", "to": "+1555", "from": "+1556"}, timeout=v),
            lambda v: client.dial_phone("+15551110000", "+15551110001", timeout=v),
            lambda v: client.receive(["elsewhere"], timeout=v),
        ],
        "dial_timeout": [
            lambda v: client.dial_phone("+15551110000", "+15551110001", dial_timeout=v)
        ],
    }

    @FUZZ
    @given(value=anything, index=st.integers(0, 3))
    def run(value: Any, index: int) -> None:
        try:
            check_timeout("x", value)
        except (TypeError, ValueError):
            pass
        else:
            return  # a good timeout: these calls would really go out
        for name, functions in calls.items():
            before = _requests(sim)
            with pytest.raises((TypeError, ValueError), match=name):
                functions[index % len(functions)](value)
            assert _requests(sim) == before

    run()


E164 = re.compile(r"\+[1-9][0-9]{1,14}\Z")  # the rule of _validate.check_e164


def test_dial_phone_numbers_checked_before_sending(
    client: RelayClient, sim: RelaySimulator
) -> None:
    @FUZZ
    @given(number=st.text(max_size=20) | st.from_regex(r"\+[0-9]{1,18}", fullmatch=True))
    def run(number: str) -> None:
        if E164.match(number):
            return
        before = _requests(sim)
        with pytest.raises(ValueError, match=r"E\.164|to_number"):
            client.dial_phone(number, "+15550000000")
        assert _requests(sim) == before

    run()


@FUZZ
@given(contexts=anything | st.lists(anything, max_size=3))
def test_contexts_checked_naming_the_argument(contexts: Any) -> None:
    try:
        client = RelayClient("p", "t", url="ws://127.0.0.1:9", contexts=contexts)
    except (TypeError, ValueError) as exc:
        assert "contexts" in str(exc)
        return
    assert all(isinstance(c, str) and c.strip() for c in client._connection.session.contexts)
