"""The short chaos run: about 20 s of concurrent flows under every kind of fault."""

from __future__ import annotations

import pytest

from .harness import ChaosConfig, ChaosRun
from .monkey import DEFAULT_WEIGHTS


@pytest.mark.timeout(400)
def test_flows_survive_every_fault_with_nothing_lost_twice_or_left() -> None:
    config = ChaosConfig(
        seed=11, rounds=1, round_seconds=20.0, width=12, fault_interval=0.5, step_timeout=15.0
    )
    figures = ChaosRun(config).run()
    report = "\n".join(figures.lines())

    assert figures.zeros() == dict.fromkeys(figures.zeros(), 0), report
    assert set(figures.faults) == set(DEFAULT_WEIGHTS), report
    assert figures.flows == figures.completed + figures.documented + figures.unoffered, report
    assert figures.completed > 0, report
    assert figures.events.sent == figures.events.received + figures.events.lost_to_restart + (
        figures.events.after_gone
    ), report
