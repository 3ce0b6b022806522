"""Answer inbound calls, play a greeting, and transfer each one with a SIP REFER.

Run it as it is to try the flow against the embedded RelaySimulator (needs the ``sim``
extra: ``python -m pip install "relaysync[sim]"``)::

    python examples/answer_and_refer.py

With SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN and SIGNALWIRE_SPACE set, it connects to
your SignalWire space instead and handles real calls arriving on the contexts named in
RELAY_CONTEXT (comma-separated, default ``office``) until Ctrl-C. REFER_TARGET sets the
SIP URI calls are transferred to (default ``sip:support@example.com``).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import List, Optional

from relaysync import Call, ReferResult, RelayClient, RelayError

GREETING = "Thanks for calling. Transferring you to support."
TARGET = os.environ.get("REFER_TARGET", "sip:support@example.com")
SIGNALWIRE_VARIABLES = ("SIGNALWIRE_PROJECT_ID", "SIGNALWIRE_API_TOKEN", "SIGNALWIRE_SPACE")


def handle_call(call: Call) -> Optional[ReferResult]:
    """Answer ``call``, play the greeting, and REFER it to TARGET.

    Runs on one of the client's worker threads, so blocking here is fine.

    Returns:
        The REFER outcome, or ``None`` if the call ended or failed first.
    """
    print(f"call {call.call_id}: from {call.from_number} to {call.to_number}", flush=True)
    try:
        call.answer()
        call.play_tts(GREETING).wait()
        result = call.refer(TARGET)
    except RelayError as exc:  # CallEndedError (caller hung up), timeouts, rejections
        print(f"call {call.call_id}: {type(exc).__name__}: {exc}", flush=True)
        return None
    codes = f"REFER {result.sip_refer_response_code}, NOTIFY {result.sip_notify_response_code}"
    if result.successful:
        print(f"call {call.call_id}: transferred to {result.sip_refer_to} ({codes})", flush=True)
    else:
        print(
            f"call {call.call_id}: REFER to {TARGET} ended {result.state} ({codes}); hanging up",
            flush=True,
        )
        call.hangup()
    return result


def run_on_signalwire() -> int:
    """Serve real calls from the SignalWire space in the environment until Ctrl-C."""
    contexts = [
        c.strip() for c in os.environ.get("RELAY_CONTEXT", "office").split(",") if c.strip()
    ]
    client = RelayClient(contexts=contexts)  # project, token and space from the environment
    client.on_call(handle_call)
    print(
        f"waiting for calls on {', '.join(contexts)} at {client.url} (Ctrl-C to stop)", flush=True
    )
    client.run()
    return 0


def run_on_simulator() -> int:
    """Place one inbound call on the embedded simulator and handle it."""
    from relaysync.testing import RelaySimulator

    results: List[Optional[ReferResult]] = []
    done = threading.Event()

    def on_call(call: Call) -> None:
        try:
            results.append(handle_call(call))
        finally:
            done.set()

    with RelaySimulator(time_scale=0.2) as sim:
        client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])
        client.on_call(on_call)
        with client:
            print(f"connected to the RelaySimulator at {sim.url}", flush=True)
            sim.inbound_call("office", from_="+15550001111", to="+15550002222")
            if not done.wait(30.0):
                print("the call was not handled within 30 s", flush=True)
                return 1
    result = results[0] if results else None
    return 0 if result is not None and result.successful else 1


def main() -> int:
    """Pick SignalWire or the simulator from the environment and run."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    present = [name for name in SIGNALWIRE_VARIABLES if os.environ.get(name)]
    if len(present) == len(SIGNALWIRE_VARIABLES):
        return run_on_signalwire()
    if present:
        missing = sorted(set(SIGNALWIRE_VARIABLES) - set(present))
        print(
            f"set all of {', '.join(SIGNALWIRE_VARIABLES)} to use SignalWire, or none to "
            f"use the simulator; missing: {', '.join(missing)}",
            file=sys.stderr,
        )
        return 2
    return run_on_simulator()


if __name__ == "__main__":
    sys.exit(main())
