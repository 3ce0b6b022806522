"""An IVR: press 1 (or say "sales") for sales, 2 (or "support") for support, else leave a
message; and an outbound reminder that leaves a voicemail after the beep.

Run it as it is to try the flows against the embedded RelaySimulator, driven by scripted
callers (needs the ``sim`` extra: ``python -m pip install "relaysync[sim]"``)::

    python examples/ivr.py

With SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN and SIGNALWIRE_SPACE set, it answers real
calls arriving on the contexts named in RELAY_CONTEXT (comma-separated, default
``office``) until Ctrl-C.

``examples/cassettes/ivr.jsonl`` is a recording of the simulator flow (``RelayClient(...,
record=...)``); replay it against this file with::

    relaysync replay examples/cassettes/ivr.jsonl --script examples/ivr.py

which runs :func:`replay` and reports any way the flow left the recording.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Callable, Dict, Optional

from relaysync import Call, RelayClient, RelayError

MENU = "Thanks for calling. Press 1 or say sales for sales, press 2 or say support for support."
DEPARTMENTS = {
    "1": "sip:sales@example.com",
    "sales": "sip:sales@example.com",
    "2": "sip:support@example.com",
    "support": "sip:support@example.com",
}
MENU_DIGITS = {"max": 1, "digit_timeout": 5}
CALLERS = ("+15550000001", "+15550000002", "+15550000003")
REMINDER_TO = "+15559990000"
OUR_NUMBER = "+15550002222"
REMINDER = "Hello, this is a reminder of your appointment tomorrow at nine."
SIGNALWIRE_VARIABLES = ("SIGNALWIRE_PROJECT_ID", "SIGNALWIRE_API_TOKEN", "SIGNALWIRE_SPACE")


def choose(digits: str, text: str) -> str:
    """The department's SIP URI for what the caller pressed or said, or ``""``."""
    if digits in DEPARTMENTS:
        return DEPARTMENTS[digits]
    for word in text.lower().split():
        if word in DEPARTMENTS:
            return DEPARTMENTS[word]
    return ""


def handle_call(call: Call) -> str:
    """Answer, offer the menu, then transfer the caller or take a message.

    Runs on one of the client's worker threads, so blocking here is fine.

    Returns:
        What happened: ``referred <uri> <state>``, ``voicemail <url>`` or ``ended``.
    """
    try:
        call.answer()
        menu = call.prompt_tts(
            MENU,
            digits=dict(MENU_DIGITS),
            speech={"end_silence_timeout": 1, "hints": ["sales", "support"]},
            initial_timeout=5,
        )
        answer = menu.wait()
        target = choose(answer.digits or "", answer.text or "")
        if target:
            referred = call.refer(target)
            outcome = f"referred {target} {referred.state}"
        else:
            call.play_tts("Please leave a message after the beep.").wait()
            message = call.record(beep=True, format="mp3", end_silence_timeout=2).wait()
            outcome = f"voicemail {message.url} ({message.state})"
            call.hangup()
    except RelayError as exc:  # CallEndedError (the caller hung up), timeouts, rejections
        outcome = f"ended ({type(exc).__name__})"
    print(f"call {call.call_id} from {call.from_number}: {outcome}", flush=True)
    return outcome


def leave_reminder(client: RelayClient, to: str, from_: str) -> str:
    """Call ``to``; speak the reminder to a person, or after the beep to a machine."""
    call = client.dial_phone(to, from_)
    try:
        detected = call.detect_answering_machine(wait_for_beep=True).wait(60)
        call.play_tts(REMINDER).wait()
        outcome = "voicemail after the beep" if detected.beep else f"told a {detected.result}"
    finally:
        call.hangup()
    print(f"reminder to {to}: {outcome}", flush=True)
    return outcome


def run_on_signalwire() -> int:
    """Serve real calls from the SignalWire space in the environment until Ctrl-C."""
    contexts = [c.strip() for c in os.environ.get("RELAY_CONTEXT", "office").split(",")]
    client = RelayClient(contexts=[c for c in contexts if c])
    client.on_call(handle_call)
    print(f"waiting for calls at {client.url} (Ctrl-C to stop)", flush=True)
    client.run()
    return 0


class Switchboard:
    """The IVR's ``on_call`` handler: runs :func:`handle_call`, keeps each caller's outcome."""

    def __init__(self) -> None:
        self.outcomes: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._done = threading.Semaphore(0)

    def __call__(self, call: Call) -> None:
        try:
            outcome = handle_call(call)
            with self._lock:
                self.outcomes[call.from_number or "?"] = outcome
        finally:
            self._done.release()

    def wait(self, count: int, timeout: float = 60.0) -> bool:
        """Block until ``count`` calls were handled (``timeout`` seconds each at most)."""
        return all(self._done.acquire(timeout=timeout) for _ in range(count))


def serve_and_remind(client: RelayClient, place_calls: Callable[[], object] = list) -> bool:
    """Connect, handle the three callers, then leave the reminder; close the client.

    Args:
        client: a client not yet connected.
        place_calls: makes the callers call, once the client is connected (nothing
            when RELAY, or a replayed cassette, brings them).

    Returns:
        True when every outcome is the expected one.
    """
    board = Switchboard()
    client.on_call(board)
    with client:
        place_calls()
        if not board.wait(len(CALLERS)):
            print("a call was not handled within 60 s", flush=True)
            return False
        reminder = leave_reminder(client, REMINDER_TO, OUR_NUMBER)
    outcomes = board.outcomes
    return (
        outcomes.get(CALLERS[0], "").startswith("referred sip:sales@example.com success")
        and outcomes.get(CALLERS[1], "").startswith("referred sip:support@example.com")
        and outcomes.get(CALLERS[2], "").startswith("voicemail https://")
        and reminder == "voicemail after the beep"
    )


def run_on_simulator(record: Optional[str] = None) -> int:
    """Three scripted callers and one reminder call against the embedded simulator.

    Args:
        record: a cassette file to record the client's session to.
    """
    from relaysync.testing import RelaySimulator

    with RelaySimulator(time_scale=0.1) as sim:
        sim.caller(CALLERS[0]).press("1")
        sim.caller(CALLERS[1]).say("support please")
        sim.caller(CALLERS[2]).stay_silent()
        sim.caller(CALLERS[2]).leave_message(4.0, end="silence")
        sim.on_dial(REMINDER_TO, "answer")
        sim.caller(REMINDER_TO).answer_as("machine", greeting=3.0)
        client = RelayClient(
            sim.project, sim.token, url=sim.url, contexts=["office"], record=record
        )
        print(f"connected to the RelaySimulator at {sim.url}", flush=True)

        def place_calls() -> None:
            for number in CALLERS:
                sim.inbound_call("office", from_=number, to=OUR_NUMBER)

        ok = serve_and_remind(client, place_calls)
    return 0 if ok else 1


def replay(client: RelayClient) -> int:
    """The flow of :func:`run_on_simulator` with the callers brought by a cassette
    (``relaysync replay examples/cassettes/ivr.jsonl --script examples/ivr.py``)."""
    return 0 if serve_and_remind(client) else 1


def main() -> int:
    """Pick SignalWire or the simulator from the environment and run."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    present = [name for name in SIGNALWIRE_VARIABLES if os.environ.get(name)]
    if len(present) == len(SIGNALWIRE_VARIABLES):
        return run_on_signalwire()
    if present:
        missing = sorted(set(SIGNALWIRE_VARIABLES) - set(present))
        print(f"set all of {', '.join(SIGNALWIRE_VARIABLES)} or none; missing: {missing}")
        return 2
    return run_on_simulator()


if __name__ == "__main__":
    sys.exit(main())
