"""RelaySimulator: a local RELAY server for tests, demos and CI, and its pytest plugin.

Example::

    from relaysync.testing import RelaySimulator

    with RelaySimulator(project="p", token="t") as sim:
        print(sim.url)
"""

from __future__ import annotations

from .calls import SimCall
from .journal import Journal, JournalEntry
from .lint import LintEntry
from .sessions import RpcFault, SessionInfo
from .simulator import RelaySimulator
from .sms import SimMessage

__all__ = [
    "Journal",
    "JournalEntry",
    "LintEntry",
    "RelaySimulator",
    "RpcFault",
    "SessionInfo",
    "SimCall",
    "SimMessage",
]
