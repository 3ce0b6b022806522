"""``relaysync replay FILE --script app.py``: run an application against a cassette.

The command starts a :class:`~relaysync.testing.RelaySimulator` playing the cassette
(``replay=FILE``), builds a client for it (subscribed to the contexts the recorded
client used) and calls the script's entry function with it, by default ``replay``::

    def replay(client: RelayClient) -> int:   # registers handlers, connects, runs
        ...

The client is closed afterwards, the divergences from the cassette are printed, and
the exit status is 1 when there were any (else what the entry function returned, or 0).
Needs the ``sim`` extra. The simulator is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any, Callable, TextIO

from .client import RelayClient
from .demo import EXIT_UNAVAILABLE, load_simulator
from .listen import split_contexts

DEFAULT_ENTRY = "replay"


def _load_entry(script: str, entry: str) -> Callable[[RelayClient], Any]:
    """Import ``script`` as a module (its directory first on ``sys.path``); its ``entry``.

    Raises:
        ValueError: no such file, or no such callable in it.
    """
    if not os.path.isfile(script):
        raise ValueError(f"no script {script!r}")
    folder = os.path.dirname(os.path.abspath(script))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(script))[0]
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot import {script!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    function = getattr(module, entry, None)
    if not callable(function):
        raise ValueError(f"{script} has no function {entry}(client)")
    return function  # type: ignore[no-any-return]


def run_replay(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``relaysync replay``.

    Args:
        args: the parsed ``replay`` arguments.
        out: where the report goes.
        err: where errors go.

    Returns:
        1 when the run diverged from the cassette; otherwise the entry function's
        return value when it is an int, else 0; 2 for bad arguments or a missing extra.
    """
    simulator_class = load_simulator("replay")
    if simulator_class is None:
        return EXIT_UNAVAILABLE
    from .cassette import read_cassette
    from .testing.replay import Script
    from .testing.replay_match import describe

    try:
        contexts = split_contexts(args.context) or Script(read_cassette(args.cassette)).contexts
        entry = _load_entry(args.script, args.entry)
        sim = simulator_class(replay=args.cassette, time_scale=args.time_scale)
    except (OSError, ValueError) as exc:
        print(f"relaysync replay: {exc}", file=err)
        return EXIT_UNAVAILABLE
    with sim:
        client = RelayClient(sim.project, sim.token, url=sim.url, contexts=contexts)
        try:
            status = entry(client)
        finally:
            client.close()
        divergences = sim.replay_report()
    print(describe(divergences), file=out, flush=True)
    if divergences:
        return 1
    return status if isinstance(status, int) and not isinstance(status, bool) else 0


def add_replay_parser(commands: Any, formatter_class: Any = argparse.HelpFormatter) -> None:
    """Add the ``replay`` subcommand to the ``relaysync`` parser's subcommands.

    Args:
        commands: the subparsers object of the ``relaysync`` parser.
        formatter_class: the help formatter the other subcommands use.
    """
    replay = commands.add_parser(
        "replay",
        help="run an application against a recorded RELAY session (a cassette)",
        formatter_class=formatter_class,
        description="Start a RelaySimulator that plays the server side of a cassette "
        "(recorded with\nRelayClient(record=FILE) or `relaysync listen --record FILE`), "
        "call the script's\nentry function with a client connected to it, and report "
        "every way the run left\nthe recording. Exit status 1 when it did.",
        epilog="example:\n"
        "  relaysync replay examples/cassettes/ivr.jsonl --script examples/ivr.py\n\n"
        "The script defines `def replay(client): ...` (or the function --entry names): "
        "it\nregisters its handlers, connects, runs its flow and returns.",
    )
    replay.add_argument("cassette", metavar="FILE", help="the cassette (JSON lines)")
    replay.add_argument("--script", required=True, metavar="APP.py", help="the application")
    replay.add_argument(
        "--entry",
        default=DEFAULT_ENTRY,
        metavar="NAME",
        help=f"the script's function that takes the client (default: {DEFAULT_ENTRY})",
    )
    replay.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="S",
        help="factor on the recorded gaps between frames (default: 1.0, as recorded)",
    )
    replay.add_argument(
        "--context",
        "-c",
        action="append",
        metavar="NAME",
        help="context for the client, repeated or comma-separated "
        "(default: the ones the recorded client used)",
    )


__all__ = ["add_replay_parser", "run_replay"]
