"""The ``relaysync`` command (also ``python -m relaysync``).

Subcommands:

``relaysync demo [--target URI] [--verbose] [--diagram FILE]``
    Run a complete inbound call flow (answer, play, SIP REFER) against the embedded
    RelaySimulator and print its timeline; exit 0 when the REFER succeeded, else 1.
``relaysync simulate [--host H] [--port N] [--tls] [--strict] [--project P --token T]``
    Run a RelaySimulator until Ctrl-C or SIGTERM, printing its URL, credentials and
    control token (for ``relaysync.testing.remote.RemoteSimulator``); ``--strict``
    refuses params no RELAY document names instead of logging them as lint.
``relaysync listen --context NAME [--json] [--url U --project P --token T]``
    Connect as a consumer of the contexts and print what RELAY delivers to it (call
    offers, passed on; inbound messages, taken) as one readable line each (or as
    JSON), secrets masked, until Ctrl-C; ``--record FILE`` writes a cassette.
``relaysync replay FILE --script APP.py [--entry NAME] [--time-scale S]``
    Run an application against a cassette played by a RelaySimulator and report how
    it diverged from the recording; exit 1 when it did.
``relaysync --version``
    Print the version.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import shlex
import sys
import textwrap
import threading
from typing import Any, List, Optional, Sequence

from ._version import __version__
from .demo import (
    DEFAULT_TARGET,
    EXIT_UNAVAILABLE,
    SCRIPTED_TARGETS,
    load_simulator,
    run_demo,
)
from .diagram import check_diagram_path
from .listen import add_listen_parser, run_listen
from .replay_cli import add_replay_parser, run_replay
from .signals import run_until_signalled, sigterm_as_ctrl_c

DEFAULT_SIM_PROJECT = "local-project"


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs of descriptions and epilogs, keeps example blocks as typed.

    A paragraph (text between blank lines) whose lines are indented, or whose first
    line ends with ``:``, is an example block and is printed line by line.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for paragraph in text.split("\n\n"):
            lines = paragraph.splitlines()
            if lines and (lines[0].rstrip().endswith(":") or any(ln[:1] == " " for ln in lines)):
                blocks.append("\n".join(indent + line for line in lines))
            else:
                blocks.append(
                    textwrap.fill(
                        " ".join(paragraph.split()),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                    )
                )
        return "\n\n".join(blocks)


def _diagram_path(value: str) -> str:
    """argparse type of ``--diagram``: a file name with a suffix the diagram writes."""
    try:
        check_diagram_path(value, "--diagram")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``relaysync`` command.

    Returns:
        The parser, with the ``demo``, ``simulate`` and ``listen`` subcommands.
    """
    parser = argparse.ArgumentParser(
        prog="relaysync",
        formatter_class=HelpFormatter,
        description="Synchronous SignalWire RELAY client, with a local RELAY simulator.",
        epilog="start here:\n"
        "  relaysync demo              see a whole call flow, no account needed\n"
        "  relaysync simulate          run a local RELAY server to develop against\n"
        "  relaysync listen -c office  watch the events of a real space or a simulator\n"
        "Run `relaysync COMMAND --help` for each command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"relaysync {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scripted = ", ".join(f"{uri} ({state})" for uri, state in SCRIPTED_TARGETS.items())
    demo = commands.add_parser(
        "demo",
        formatter_class=HelpFormatter,
        epilog="examples:\n"
        "  relaysync demo                                the REFER succeeds (exit 0)\n"
        "  relaysync demo --target sip:busy@example.com  a busy transfer (exit 1)\n"
        "  relaysync demo -v                             every frame, as JSON\n"
        "Lines read: time since start, --> client to RELAY or <-- RELAY to client,\n"
        "then the method or event and its key fields.",
        help="run an answer/play/REFER call flow against the embedded simulator",
        description="Start the embedded RelaySimulator, receive an inbound call, answer it, "
        "play a greeting and transfer it with SIP REFER; print the timeline of "
        "frames and the REFER result. Exit status 0 when the REFER succeeded, "
        f"1 otherwise. Scripted failing targets: {scripted}.",
    )
    demo.add_argument(
        "--target",
        default=DEFAULT_TARGET,
        metavar="URI",
        help=f"SIP URI to transfer the call to (default: {DEFAULT_TARGET})",
    )
    demo.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also show pings and acks, and every frame as JSON (secrets masked)",
    )
    demo.add_argument(
        "--diagram",
        metavar="FILE",
        type=_diagram_path,
        default=None,
        help="also write the call flow as a ladder diagram: FILE.html (page to open in "
        "a browser), FILE.svg (the drawing) or FILE.txt (text)",
    )

    sim = commands.add_parser(
        "simulate",
        formatter_class=HelpFormatter,
        epilog="examples:\n"
        "  relaysync simulate --port 8765 --token dev  a fixed address and token\n"
        "  relaysync simulate --tls                    wss:// (trust the printed ca_file)\n"
        "  relaysync simulate --time-scale 0.1         media plays ten times faster\n"
        "Then, in another terminal:\n"
        "  relaysync listen --url ws://127.0.0.1:8765 --project local-project \\\n"
        "         --token dev --context office",
        help="run a standalone RelaySimulator until Ctrl-C",
        description="Run a local RELAY server for development and tests. It prints its URL, "
        "throwaway credentials and a control token for driving it from another "
        "process, then serves until Ctrl-C or SIGTERM.",
    )
    sim.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)"
    )
    sim.add_argument(
        "--port", type=int, default=0, help="port to listen on (default: 0, a free port)"
    )
    sim.add_argument(
        "--tls",
        action="store_true",
        help="serve wss:// with a generated certificate (CA file printed)",
    )
    sim.add_argument(
        "--project",
        default=DEFAULT_SIM_PROJECT,
        help=f"project id clients must present (default: {DEFAULT_SIM_PROJECT})",
    )
    sim.add_argument(
        "--token", default=None, help="API token clients must present (default: a random one)"
    )
    sim.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply simulated durations (media, collect timeouts) by FACTOR (default: 1.0)",
    )
    sim.add_argument(
        "--strict",
        action="store_true",
        help="refuse params no RELAY document names (-32602) instead of accepting them, "
        "as RELAY does, and logging them as lint",
    )
    sim.add_argument(
        "--verbose", "-v", action="store_true", help="log connections and calls to stderr"
    )
    add_listen_parser(commands, HelpFormatter)
    add_replay_parser(commands, HelpFormatter)
    return parser


def _simulate(args: argparse.Namespace) -> int:
    """Run a RelaySimulator in the foreground until Ctrl-C or SIGTERM."""
    simulator_class = load_simulator("simulate")
    if simulator_class is None:
        return EXIT_UNAVAILABLE
    if args.verbose:
        logging.getLogger("relaysync").setLevel(logging.INFO)
    token = args.token or secrets.token_urlsafe(16)
    sim: Any = None
    try:
        # SIGTERM stops it like Ctrl-C from the start, not only once it waits
        with sigterm_as_ctrl_c():
            try:
                sim = simulator_class(
                    project=args.project,
                    token=token,
                    host=args.host,
                    port=args.port,
                    tls=args.tls,
                    time_scale=args.time_scale,
                    strict=args.strict,
                )
                sim.start()
            except (OSError, ValueError, ImportError) as exc:
                print(f"relaysync simulate: cannot start: {exc}", file=sys.stderr)
                return 1
            print("\n".join(_banner(sim)), flush=True)
            stopped = threading.Event()
            run_until_signalled(stopped.wait, stopped.set)  # SIGINT, SIGTERM
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before the handlers are in place
        pass
    finally:
        if sim is not None:
            sim.stop()
    print("RelaySimulator stopped.", flush=True)
    return 0


def _banner(sim: Any) -> List[str]:
    """What ``relaysync simulate`` prints once it listens: where, and how to connect."""
    lines: List[str] = [
        f"RelaySimulator listening on {sim.url}",
        f"  url:     {sim.url}",
        f"  project: {sim.project}",
        f"  token:   {sim.token}",
        f"  control_token: {sim.control_token}",
        f"  strict:  {'on' if sim.strict else 'off'}",
    ]
    trust = ""
    if sim.ca_file:
        lines.append(f"  ca_file: {sim.ca_file}")
        trust = f", ca_file={sim.ca_file!r}"
    return [
        *lines,
        "Connect a client with:",
        f"  RelayClient({sim.project!r}, {sim.token!r}, url={sim.url!r}{trust}, "
        'contexts=["office"])',
        'or point a client that reads the environment at it (RelayClient(contexts=["office"])):',
        *export_lines(sim.project, sim.token, sim.url, sim.ca_file),
        "Drive it from another process (from relaysync.testing.remote import "
        "RemoteSimulator) with:",
        f"  RemoteSimulator({sim.url!r}, {sim.project!r}, {sim.control_token!r}{trust})",
        "Press Ctrl-C to stop.",
    ]


def export_lines(project: str, token: str, url: str, ca_file: Optional[str]) -> List[str]:
    """The shell ``export`` lines that point an environment-only client at a simulator.

    With ``ca_file`` (a ``wss://`` simulator), ``SSL_CERT_FILE`` makes the default TLS
    context trust it (and only it, in that shell).
    """
    lines = [
        f"  export SIGNALWIRE_PROJECT_ID={shlex.quote(project)}",
        f"  export SIGNALWIRE_API_TOKEN={shlex.quote(token)}",
        f"  export SIGNALWIRE_RELAY_URL={shlex.quote(url)}",
    ]
    if ca_file:
        lines.append(f"  export SSL_CERT_FILE={shlex.quote(ca_file)}")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``relaysync`` command.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: for ``demo``, 0 when the REFER succeeded and 1 when it did not;
        0 for ``simulate`` or ``listen`` stopped by Ctrl-C or SIGTERM; 1 when ``listen``
        cannot connect or a ``replay`` run diverged from its cassette; 2 for usage
        errors or a missing ``sim`` extra.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command == "demo":
        return run_demo(args.target, verbose=args.verbose, diagram=args.diagram)
    run = {"simulate": _simulate, "listen": run_listen, "replay": run_replay}.get(args.command)
    if run is not None:
        return run(args)
    parser.print_help(sys.stderr)
    return 2


__all__ = ["build_parser", "export_lines", "main"]
