"""The IVR example replayed from its committed cassette (examples/cassettes/ivr.jsonl):
green as recorded; a changed flow fails with a report naming the difference."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator, List

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator
from relaysync.testing.replay_match import PARAMS, Divergence, describe

ROOT = Path(__file__).resolve().parent.parent
CASSETTE = ROOT / "examples" / "cassettes" / "ivr.jsonl"


@pytest.fixture
def ivr() -> Iterator[ModuleType]:
    """examples/ivr.py, imported afresh (a test may change its constants)."""
    spec = importlib.util.spec_from_file_location("ivr_example", ROOT / "examples" / "ivr.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("ivr_example", None)


def replay_ivr(ivr: ModuleType) -> tuple[int, List[Divergence]]:
    with RelaySimulator(replay=CASSETTE, time_scale=0.01) as sim:
        client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])
        status = ivr.replay(client)
        return status, sim.replay_report()


def test_the_cassette_holds_the_recorded_flow_and_no_secret() -> None:
    text = CASSETTE.read_text()
    assert "test-token" not in text  # the simulator's default token, masked
    assert '"authorization_state":"***"' in text
    for method in (
        "calling.answer",
        "calling.play_and_collect",
        "calling.refer",
        "calling.record",
        "calling.dial",
        "calling.detect",
    ):
        assert f'"method":"{method}"' in text


@pytest.mark.timeout(90)
def test_the_ivr_replays_green(ivr: ModuleType) -> None:
    status, report = replay_ivr(ivr)
    assert report == [], describe(report)
    assert status == 0


@pytest.mark.timeout(90)
def test_another_refer_target_fails_naming_it(ivr: ModuleType) -> None:
    ivr.DEPARTMENTS["1"] = "sip:sales-eu@example.com"
    status, report = replay_ivr(ivr)
    assert status == 1  # the sales caller was not transferred where the recording says
    (divergence,) = report
    assert (divergence.kind, divergence.method) == (PARAMS, "calling.refer")
    assert divergence.differences == (
        "params.device.params.to: recorded 'sip:sales@example.com', "
        "this run sent 'sip:sales-eu@example.com'",
    )


@pytest.mark.timeout(90)
def test_another_digit_fails_naming_it(ivr: ModuleType) -> None:
    ivr.MENU_DIGITS["max"] = 2
    _, report = replay_ivr(ivr)
    assert len(report) == 3  # one menu per caller
    for divergence in report:
        assert (divergence.kind, divergence.method) == (PARAMS, "calling.play_and_collect")
        assert divergence.differences == ("params.collect.digits.max: recorded 1, this run sent 2",)
    assert "params.collect.digits.max: recorded 1, this run sent 2" in describe(report)
