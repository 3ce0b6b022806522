"""Misconfiguration is refused or warned: handlers without contexts, a second handler."""

from __future__ import annotations

import logging

import pytest

from relaysync import Call, Message, RelayClient
from relaysync.testing import RelaySimulator

from .helpers import Recorder, make_client, relaysync_threads


def test_run_with_an_on_call_handler_and_no_contexts_raises(sim: RelaySimulator) -> None:
    client = make_client(sim, contexts=[])
    client.on_call(lambda call: None)
    with pytest.raises(ValueError, match=r"on_call handler.*no contexts.*contexts=\["):
        client.run()
    assert not client.connected
    assert relaysync_threads() == []


def test_run_with_an_on_message_handler_and_no_contexts_raises(sim: RelaySimulator) -> None:
    client = make_client(sim, contexts=[])
    client.on_message(lambda message: None)
    with pytest.raises(ValueError, match="contexts"):
        client.run()


def test_connect_with_a_handler_and_no_contexts_warns(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim, contexts=[])
    client.on_call(lambda call: None)
    with caplog.at_level(logging.WARNING, logger="relaysync"), client:
        assert client.connected
        client.receive(["office"])  # contexts may still come this way
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("on_call handler but receives on no contexts" in w for w in warnings), warnings


def test_connect_without_handlers_or_contexts_is_quiet(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim, contexts=[])
    with caplog.at_level(logging.WARNING, logger="relaysync"), client:
        assert client.connected
    assert not [r for r in caplog.records if r.name == "relaysync" and r.levelno >= logging.WARNING]


def test_a_second_on_call_replaces_the_first_with_a_warning(
    client: RelayClient, sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = Recorder(), Recorder()

    def first_handler(call: Call) -> None:
        first(call)

    def second_handler(call: Call) -> None:
        second(call)
        call.hangup()

    client.on_call(first_handler)
    with caplog.at_level(logging.WARNING, logger="relaysync"):
        client.on_call(second_handler)
        client.on_call(second_handler)  # the same handler again: nothing to say
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "on_call handler" in warning and "second_handler replaces" in warning
    assert "first_handler" in warning
    sim.inbound_call("office")
    second.wait_for(lambda items: len(items) == 1)
    assert list(first) == []


def test_a_second_on_message_replaces_the_first_with_a_warning(
    client: RelayClient, caplog: pytest.LogCaptureFixture
) -> None:
    def one(message: Message) -> None:
        pass

    def two(message: Message) -> None:
        pass

    client.on_message(one)
    with caplog.at_level(logging.WARNING, logger="relaysync"):
        client.on_message(two)
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "on_message handler" in warning and "two replaces" in warning
