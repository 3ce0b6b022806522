"""RelaySimulator: a local RELAY server for tests, demos and CI, and its pytest plugin.

Example::

    from relaysync.testing import RelaySimulator

    with RelaySimulator(project="p", token="t") as sim:
        print(sim.url)

The simulator's server side needs the ``sim`` extra (``websockets``). The names below
are imported on first use, so the pytest plugin (loaded in every pytest run where
relaysync is installed) loads without it, and a missing extra is named in the error,
with the command that installs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .calls import SimCall
    from .journal import Journal, JournalEntry
    from .lint import LintEntry
    from .sessions import RpcFault, SessionInfo
    from .simulator import RelaySimulator
    from .sms import SimMessage

#: The modules of the ``sim`` extra.
SIM_EXTRA_MODULES = ("websockets", "trustme")
#: What to run when they are missing.
SIM_INSTALL_HINT = (
    'pip install "relaysync[sim]" (in a checkout of relaysync: pip install -e ".[sim]")'
)

_WHERE = {
    "Journal": ".journal",
    "JournalEntry": ".journal",
    "LintEntry": ".lint",
    "RelaySimulator": ".simulator",
    "RpcFault": ".sessions",
    "SessionInfo": ".sessions",
    "SimCall": ".calls",
    "SimMessage": ".sms",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use; name the ``sim`` extra if it is missing."""
    module_name = _WHERE.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(module_name, __name__)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in SIM_EXTRA_MODULES:
            raise
        raise ImportError(
            f"relaysync.testing.{name} needs the 'sim' extra (no module named "
            f"{missing!r}); install it with: {SIM_INSTALL_HINT}",
            name=missing,
        ) from exc
    value = getattr(module, name)
    globals()[name] = value
    return value


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
