"""Two callers in one conference; one is put on hold and taken back.

Run it as it is to try the flow against the embedded RelaySimulator (needs the ``sim``
extra: ``python -m pip install "relaysync[sim]"``)::

    python examples/conference.py

Each inbound call is answered and joined to the conference ``standup``; once both are in,
the first caller is put on hold for a moment and taken off hold, then both hang up.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import List

from relaysync import Call, RelayClient, RelayError
from relaysync.events import ConferenceEvent, HoldEvent, RelayEvent

ROOM = "standup"


def join(call: Call, joined: List[Call], lock: threading.Lock, both: threading.Event) -> None:
    """Answer ``call`` and join it to the conference (runs on a worker thread)."""
    try:
        call.answer()
        result = call.join_conference(ROOM, beep="onEnter", max_participants=10)
        print(f"call from {call.from_number} joined {ROOM} ({result.get('message')})", flush=True)
    except RelayError as exc:
        print(f"call from {call.from_number}: {type(exc).__name__}: {exc}", flush=True)
        return
    with lock:
        joined.append(call)
        if len(joined) == 2:
            both.set()


def main() -> int:
    """Run the flow against the embedded simulator."""
    from relaysync.testing import RelaySimulator

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    joined: List[Call] = []
    lock = threading.Lock()
    both = threading.Event()
    holds: List[str] = []
    held = threading.Condition()

    def on_hold(event: RelayEvent) -> None:
        if isinstance(event, HoldEvent) and event.state:
            with held:
                holds.append(event.state)
                held.notify_all()

    def on_conference(event: RelayEvent) -> None:
        if isinstance(event, ConferenceEvent) and event.status:
            print(f"conference {event.name or ROOM}: {event.status}", flush=True)

    with RelaySimulator(time_scale=0.1) as sim:
        client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])
        client.on_call(lambda call: join(call, joined, lock, both))
        with client:
            sim.inbound_call("office", from_="+15550000001")
            sim.inbound_call("office", from_="+15550000002")
            if not both.wait(30):
                print("the callers did not both join within 30 s", flush=True)
                return 1
            first = next(call for call in joined if call.from_number == "+15550000001")
            first.on("calling.call.hold", on_hold)
            first.on("calling.conference", on_conference)
            first.hold()
            first.unhold()
            with held:
                if not held.wait_for(lambda: len(holds) == 2, 10):
                    print(f"hold events missing: {holds}", flush=True)
                    return 1
            print(f"caller {first.from_number}: {' then '.join(holds)}", flush=True)
            for call in joined:
                call.hangup()
                call.wait_for_ended(10)
    print("both callers left", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
