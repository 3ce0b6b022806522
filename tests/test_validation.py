"""Bad arguments are refused with an error naming them, before anything is sent."""

from __future__ import annotations

import logging
import math
from typing import Any, Callable, Dict

import pytest

from relaysync import RelayClient, RelayConnectionError
from relaysync.testing import RelaySimulator

from .helpers import make_client

pytestmark = pytest.mark.timeout(30)

FROM = "+15550000000"
BAD_NUMBERS = [0, -1, -0.5, math.nan, math.inf, -math.inf]
BAD_TYPES = ["10", b"1", True, [1], {"s": 1}]


def _sent(sim: RelaySimulator) -> list[str]:
    """Methods the client sent after connecting (pings aside)."""
    return [
        r["method"]
        for r in sim.journal.requests()
        if r["method"] not in ("signalwire.connect", "signalwire.ping")
    ]


CLIENT_CALLS: Dict[str, Callable[[RelayClient, Any], Any]] = {
    "execute": lambda c, t: c.execute("signalwire.receive", {"contexts": ["x"]}, timeout=t),
    "receive": lambda c, t: c.receive(["x"], timeout=t),
    "unreceive": lambda c, t: c.unreceive(["office"], timeout=t),
    "dial": lambda c, t: c.dial({"type": "phone", "to": "+15551110000", "from": FROM}, timeout=t),
    "dial_phone": lambda c, t: c.dial_phone("+15551110000", FROM, timeout=t),
    "dial_phone(dial_timeout)": lambda c, t: c.dial_phone("+15551110000", FROM, dial_timeout=t),
    "dial_sip": lambda c, t: c.dial_sip("sip:a@example.com", "sip:b@example.com", timeout=t),
}


@pytest.mark.parametrize("value", BAD_NUMBERS + BAD_TYPES, ids=repr)
@pytest.mark.parametrize("name", sorted(CLIENT_CALLS))
def test_bad_timeouts_refused_before_sending(
    client: RelayClient, sim: RelaySimulator, name: str, value: Any
) -> None:
    argument = "dial_timeout" if "dial_timeout" in name else "timeout"
    error = TypeError if value in BAD_TYPES or isinstance(value, (str, bytes)) else ValueError
    with pytest.raises(error, match=argument):
        CLIENT_CALLS[name](client, value)
    assert client.execute("signalwire.ping", {}, timeout=5) is not None  # still fine
    assert _sent(sim) == []


@pytest.mark.parametrize("value", BAD_NUMBERS + BAD_TYPES, ids=repr)
@pytest.mark.parametrize("argument", ["request_timeout", "ping_interval", "ping_timeout"])
def test_bad_client_timeouts_refused(sim: RelaySimulator, argument: str, value: Any) -> None:
    error = TypeError if not isinstance(value, (int, float)) or value is True else ValueError
    with pytest.raises(error, match=argument):
        make_client(sim, **{argument: value})


@pytest.mark.parametrize("value", [-1, math.nan, math.inf, "1", None])
@pytest.mark.parametrize("argument", ["backoff_initial", "backoff_max"])
def test_bad_backoff_refused(sim: RelaySimulator, argument: str, value: Any) -> None:
    with pytest.raises((TypeError, ValueError), match=argument):
        make_client(sim, **{argument: value})


def test_backoff_max_below_initial_refused(sim: RelaySimulator) -> None:
    with pytest.raises(ValueError, match="backoff_max"):
        make_client(sim, backoff_initial=5, backoff_max=1)


@pytest.mark.parametrize("value", [0, -3, 2.5, "4", None])
def test_bad_max_workers_refused(sim: RelaySimulator, value: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="max_workers"):
        make_client(sim, max_workers=value)


@pytest.mark.parametrize("value", [*BAD_NUMBERS, None, "5"], ids=repr)
def test_bad_connect_timeout_refused_before_connecting(sim: RelaySimulator, value: Any) -> None:
    client = make_client(sim)
    try:
        with pytest.raises((TypeError, ValueError), match="timeout"):
            client.connect(timeout=value)
        assert sim.connection_count == 0
    finally:
        client.close()


@pytest.mark.parametrize("value", [*BAD_NUMBERS, "5"], ids=repr)
def test_bad_close_timeout_refused(client: RelayClient, value: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="timeout"):
        client.close(timeout=value)
    assert client.connected  # nothing was closed


def test_close_timeout_none_waits_for_threads(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    client.close(timeout=None)
    assert not client.connected


def test_ping_interval_nan_used_to_crash_the_reader(sim: RelaySimulator) -> None:
    with pytest.raises(ValueError, match="ping_interval"):
        make_client(sim, ping_interval=math.nan)


# ------------------------------------------------------------------ input gaps


@pytest.mark.parametrize(
    "to, from_",
    [("abc", "def"), ("+1555abc", FROM), ("+15551110000", "def"), ("555 1234", FROM), ("+", FROM)],
)
def test_dial_phone_refuses_numbers_that_are_not_e164(
    client: RelayClient, sim: RelaySimulator, to: str, from_: str
) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        client.dial_phone(to, from_)
    assert _sent(sim) == []


@pytest.mark.parametrize("contexts", [5, {"office": 1}, None, [5], ["ok", ""], "office"])
def test_bad_contexts_refused_naming_contexts(sim: RelaySimulator, contexts: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="contexts"):
        make_client(sim, contexts=contexts)


@pytest.mark.parametrize("contexts", [5, {"office": 1}, ["a\r\nb"]])
def test_receive_refuses_bad_contexts(
    client: RelayClient, sim: RelaySimulator, contexts: Any
) -> None:
    with pytest.raises((TypeError, ValueError), match="contexts"):
        client.receive(contexts)
    assert _sent(sim) == []


def test_credentials_in_url_never_echoed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="relaysync")
    url = "ws://alice:s3cr3t-pass@127.0.0.1:1/relay?token=s3cr3t-query"
    client = RelayClient("p", "s3cr3t-token", url=url, backoff_initial=0.05)
    try:
        with pytest.raises(RelayConnectionError) as caught:
            client.connect(timeout=1)
    finally:
        client.close()
    text = str(caught.value) + repr(client) + caplog.text
    assert "127.0.0.1:1" in text
    for secret in ("s3cr3t-pass", "s3cr3t-query", "s3cr3t-token", "alice"):
        assert secret not in text
    with pytest.raises(ValueError) as bad:
        RelayClient("p", "t", url="http://bob:s3cr3t-pass@example.com")
    assert "s3cr3t-pass" not in str(bad.value)
