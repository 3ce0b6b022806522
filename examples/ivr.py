"""An IVR: press 1 (or say "sales") for sales, 2 (or "support") for support, else leave a
message; and an outbound reminder that leaves a voicemail after the beep.

Run it as it is to try the flows against the embedded RelaySimulator, driven by scripted
callers (needs the ``sim`` extra: ``python -m pip install "relaysync[sim]"``)::

    python examples/ivr.py

With SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN and SIGNALWIRE_SPACE set, it answers real
calls arriving on the contexts named in RELAY_CONTEXT (comma-separated, default
``office``) until Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Dict, List

from relaysync import Call, RelayClient, RelayError

MENU = "Thanks for calling. Press 1 or say sales for sales, press 2 or say support for support."
DEPARTMENTS = {
    "1": "sip:sales@example.com",
    "sales": "sip:sales@example.com",
    "2": "sip:support@example.com",
    "support": "sip:support@example.com",
}
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
            digits={"max": 1, "digit_timeout": 5},
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


def run_on_simulator() -> int:
    """Three scripted callers and one reminder call against the embedded simulator."""
    from relaysync.testing import RelaySimulator

    outcomes: Dict[str, str] = {}
    lock = threading.Lock()
    done = threading.Semaphore(0)

    def on_call(call: Call) -> None:
        try:
            outcome = handle_call(call)
            with lock:
                outcomes[call.from_number or "?"] = outcome
        finally:
            done.release()

    with RelaySimulator(time_scale=0.1) as sim:
        sim.caller("+15550000001").press("1")
        sim.caller("+15550000002").say("support please")
        sim.caller("+15550000003").stay_silent()
        sim.caller("+15550000003").leave_message(4.0, end="silence")
        sim.on_dial("+15559990000", "answer")
        sim.caller("+15559990000").answer_as("machine", greeting=3.0)
        client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])
        client.on_call(on_call)
        with client:
            print(f"connected to the RelaySimulator at {sim.url}", flush=True)
            callers: List[str] = ["+15550000001", "+15550000002", "+15550000003"]
            for number in callers:
                sim.inbound_call("office", from_=number, to="+15550002222")
            for _ in callers:
                if not done.acquire(timeout=60.0):
                    print("a call was not handled within 60 s", flush=True)
                    return 1
            reminder = leave_reminder(client, "+15559990000", "+15550002222")
    expected = (
        outcomes.get("+15550000001", "").startswith("referred sip:sales@example.com success")
        and outcomes.get("+15550000002", "").startswith("referred sip:support@example.com")
        and outcomes.get("+15550000003", "").startswith("voicemail https://")
        and reminder == "voicemail after the beep"
    )
    return 0 if expected else 1


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
