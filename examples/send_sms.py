"""Send one SMS from a plain script and wait until the carrier reports delivery.

Run it as it is to try it against the embedded RelaySimulator (needs the ``sim`` extra:
``python -m pip install "relaysync[sim]"``)::

    python examples/send_sms.py +15550002222 +15550001111 "Your code is 123456"

With SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN and SIGNALWIRE_SPACE set, it sends a
real message from your SignalWire space instead. The arguments are the destination, the
sender (a number of your project) and the text; all three are optional against the
simulator.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import List, Optional

from relaysync import Message, RelayClient, RelayError

SIGNALWIRE_VARIABLES = ("SIGNALWIRE_PROJECT_ID", "SIGNALWIRE_API_TOKEN", "SIGNALWIRE_SPACE")
DEFAULTS = ["+15550002222", "+15550001111", "Hello from relaysync"]


def send(client: RelayClient, to: str, from_: str, body: str) -> Optional[Message]:
    """Send ``body`` and block until it is delivered, undelivered or failed.

    Returns:
        The final message, or ``None`` if RELAY refused it or no final state came.
    """
    try:
        message = client.send_message(to, from_, body=body)
        print(f"message {message.message_id} accepted ({message.state})", flush=True)
        message.wait(30)
    except RelayError as exc:  # refused, timed out, or the connection is gone
        print(f"not sent: {type(exc).__name__}: {exc}", flush=True)
        return None
    detail = f", reason {message.reason}" if message.reason else ""
    print(
        f"message {message.message_id} to {message.to_number}: {message.state} "
        f"({message.segments} segment(s){detail})",
        flush=True,
    )
    return message


def main(argv: List[str]) -> int:
    """Send to SignalWire or to the simulator, depending on the environment."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    to, from_, body = (argv + DEFAULTS[len(argv) :])[:3]
    present = [name for name in SIGNALWIRE_VARIABLES if os.environ.get(name)]
    if present and len(present) != len(SIGNALWIRE_VARIABLES):
        missing = sorted(set(SIGNALWIRE_VARIABLES) - set(present))
        print(f"missing: {', '.join(missing)} (set all or none)", file=sys.stderr)
        return 2
    try:
        if present:
            with RelayClient() as client:  # project, token and space from the environment
                message = send(client, to, from_, body)
        else:
            from relaysync.testing import RelaySimulator

            with (
                RelaySimulator(time_scale=0.2) as sim,
                RelayClient(sim.project, sim.token, url=sim.url) as client,
            ):
                print(f"connected to the RelaySimulator at {sim.url}", flush=True)
                message = send(client, to, from_, body)
    except ValueError as exc:  # a bad number or body, caught before anything is sent
        print(f"invalid message: {exc}", file=sys.stderr)
        return 2
    return 0 if message is not None and message.successful else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
