"""``relaysync demo``: a complete call flow against the embedded RelaySimulator.

An inbound call arrives on context ``office``; the ``on_call`` handler answers it, plays
a greeting, and transfers it with a SIP REFER. Then the demo prints the timeline of what
went over the socket and the :class:`~relaysync.results.ReferResult`. The REFER targets
``sip:busy@example.com`` and ``sip:noanswer@example.com`` are scripted to fail, to show
the failure path.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from typing import TYPE_CHECKING, Callable, List, Optional, TextIO, Type

import attrs

from .call import Call
from .client import RelayClient
from .diagram import CallFlow, check_diagram_path
from .errors import RelayError
from .results import ReferResult
from .timeline import LEGEND, build_timeline, render_timeline

if TYPE_CHECKING:
    from .testing import RelaySimulator

DEFAULT_TARGET = "sip:support@example.com"
GREETING = "Thanks for calling. Transferring you to support."
CONTEXT = "office"
CALLER = "+15550001111"
CALLED = "+15550002222"
TIME_SCALE = 0.2
FLOW_TIMEOUT = 30.0
STEP_TIMEOUT = 10.0

#: REFER targets scripted in the demo's simulator, and the outcome each one gets.
SCRIPTED_TARGETS = {
    "sip:busy@example.com": "busy",
    "sip:noanswer@example.com": "noAnswer",
}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNAVAILABLE = 2


@attrs.define
class _Outcome:
    """What the on_call handler achieved (written on a worker, read after ``done``)."""

    done: threading.Event = attrs.field(factory=threading.Event)
    result: Optional[ReferResult] = None
    error: Optional[BaseException] = None
    hung_up: bool = False


def load_simulator(command: str) -> Optional[Type[RelaySimulator]]:
    """Import :class:`~relaysync.testing.RelaySimulator`, or explain why it cannot be.

    Args:
        command: the subcommand, named in the message.

    Returns:
        The class, or ``None`` after printing to stderr what is missing.
    """
    from .testing import SIM_EXTRA_MODULES, SIM_INSTALL_HINT

    try:
        from .testing import RelaySimulator
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if missing.split(".")[0] in SIM_EXTRA_MODULES:
            print(
                f"relaysync {command} needs the simulator extra (no module {missing!r}); "
                f"install it with:\n  {SIM_INSTALL_HINT}",
                file=sys.stderr,
            )
        else:
            print(f"relaysync {command}: cannot load the simulator: {exc}", file=sys.stderr)
        return None
    return RelaySimulator


def use_color(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal that accepts ANSI colours (and NO_COLOR is unset)."""
    isatty = getattr(stream, "isatty", None)
    return (
        bool(isatty and isatty())
        and "NO_COLOR" not in os.environ
        and os.environ.get("TERM") != "dumb"
    )


def _handler(target: str, outcome: _Outcome) -> Callable[[Call], None]:
    """The demo's on_call handler: answer, greet, REFER; hang up if the REFER failed."""

    def handle(call: Call) -> None:
        try:
            call.answer(timeout=STEP_TIMEOUT)
            call.play_tts(GREETING).wait(timeout=STEP_TIMEOUT)
            outcome.result = call.refer(target, timeout=STEP_TIMEOUT)
            if not outcome.result.successful:
                call.hangup()
                outcome.hung_up = True
            # After a successful REFER the server ends the call; wait so the timeline
            # shows the call's last states.
            call.wait_for_ended(timeout=STEP_TIMEOUT)
        except (RelayError, ValueError) as exc:
            outcome.error = exc
        finally:
            outcome.done.set()

    return handle


def _result_text(target: str, outcome: _Outcome, finished: bool) -> List[str]:
    """The closing block: the ReferResult fields and a one-line verdict."""
    result = outcome.result
    lines: List[str] = []
    if result is not None:
        lines += [
            "ReferResult:",
            f"  state:                    {result.state}",
            f"  successful:               {result.successful}",
            f"  sip_refer_to:             {result.sip_refer_to}",
            f"  sip_refer_response_code:  {result.sip_refer_response_code}",
            f"  sip_notify_response_code: {result.sip_notify_response_code}",
            "",
        ]
    if result is not None and result.successful:
        lines.append(f"OK: the call was transferred to {target}.")
        if target == DEFAULT_TARGET:
            lines.append("Try the failure path: relaysync demo --target sip:busy@example.com")
    elif result is not None:
        code = result.sip_notify_response_code
        lines.append(
            f"FAILED: the REFER to {target} ended {result.state}"
            f"{f' (SIP {code})' if code else ''}"
            f"{'; the call was hung up' if outcome.hung_up else ''}."
        )
    elif outcome.error is not None:
        lines.append(f"FAILED: {type(outcome.error).__name__}: {outcome.error}")
    elif not finished:
        lines.append(f"FAILED: the call flow did not finish within {FLOW_TIMEOUT:g} s.")
    else:
        lines.append("FAILED: the call flow ended without a REFER result.")
    return lines


def run_demo(
    target: str = DEFAULT_TARGET,
    *,
    verbose: bool = False,
    out: Optional[TextIO] = None,
    color: Optional[bool] = None,
    token: Optional[str] = None,
    diagram: Optional[str] = None,
) -> int:
    """Run the demo call flow and print its timeline and result.

    Args:
        target: the SIP URI to REFER the call to.
        verbose: also show pings, acks and every frame (secrets masked).
        out: where to print (default ``sys.stdout``).
        color: colour the output; default: only when ``out`` is a terminal.
        token: the simulator's API token (default: a random one). It is never printed.
        diagram: also write the call flow as a ladder diagram to this file
            (``.html``, ``.svg`` or ``.txt``; see :meth:`CallFlow.save`).

    Returns:
        0 when the REFER succeeded, 1 when it did not (or the flow failed), 2 when the
        simulator cannot run because its extra is not installed.

    Raises:
        ValueError: ``diagram`` has another suffix (checked before anything runs).
    """
    if diagram is not None:
        check_diagram_path(diagram, "diagram")
    stream = out if out is not None else sys.stdout
    color = use_color(stream) if color is None else color
    simulator_class = load_simulator("demo")
    if simulator_class is None:
        return EXIT_UNAVAILABLE
    token = token or secrets.token_urlsafe(16)

    def emit(text: str) -> None:
        stream.write(text.replace(token, "***"))
        stream.flush()

    outcome = _Outcome()
    with simulator_class(project="demo-project", token=token, time_scale=TIME_SCALE) as sim:
        for uri, state in SCRIPTED_TARGETS.items():
            sim.on_refer(uri, state=state)
        emit(
            "relaysync demo: answer an inbound call, play a greeting, transfer it with "
            "SIP REFER\n"
            f"  server:  embedded RelaySimulator at {sim.url} "
            f"(media at {TIME_SCALE:g}x real time)\n"
            f'  client:  RelayClient(contexts=["{CONTEXT}"]) with an on_call handler\n'
            f'  call:    {CALLER} calls {CALLED} on context "{CONTEXT}"\n'
            f"  refer:   {target}\n\n"
        )
        client = RelayClient(sim.project, sim.token, url=sim.url, contexts=[CONTEXT])
        client.on_call(_handler(target, outcome))
        finished = False
        try:
            client.connect(timeout=STEP_TIMEOUT)
            sim.inbound_call(CONTEXT, from_=CALLER, to=CALLED)
            finished = outcome.done.wait(FLOW_TIMEOUT)
        except RelayError as exc:
            outcome.error = exc
        finally:
            client.close()
        entries = sim.journal.entries
    lines = build_timeline(entries, verbose=verbose)
    emit(f"Timeline ({LEGEND}):\n")
    emit(render_timeline(lines, verbose=verbose, color=color))
    emit("\n" + "\n".join(_result_text(target, outcome, finished)) + "\n")
    if diagram is not None:
        title = f"relaysync demo: answer, play, SIP REFER to {target}"
        written = CallFlow(lines, title).save(diagram)
        emit(f"\nCall-flow diagram written to {written}\n")
    result = outcome.result
    return EXIT_OK if result is not None and result.successful else EXIT_FAILED


__all__ = ["DEFAULT_TARGET", "SCRIPTED_TARGETS", "load_simulator", "run_demo", "use_color"]
