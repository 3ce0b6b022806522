"""``relaysync listen``: print what RELAY delivers to a consumer of some contexts.

The listener is an ordinary RELAY consumer of the contexts, so it sees what RELAY hands
to it, not every event of the contexts. RELAY offers each inbound call to one consumer
of its context; the listener prints the offer and passes the call on to another
consumer (``calling.pass``) unless told to keep it, so listening on a live context does
not take calls away from the application serving it. RELAY also hands each inbound
message to one consumer, and a message cannot be passed on: a message delivered to the
listener is taken from the application. The listener says so when it starts and for
each message it takes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from typing import Any, Dict, List, Mapping, Optional, TextIO

from ._log import mask_secrets
from .call import Call
from .client import RelayClient
from .errors import CallEndedError, RelayError
from .events import RelayEvent
from .message import Message
from .signals import sigterm_as_ctrl_c
from .timeline import describe_event, field_text

_MESSAGE_FIELDS = ("message_state", "from_number", "to_number", "reason")
_OPERATION_FIELDS = ("control_id", "tag")


def split_contexts(values: Optional[List[str]]) -> List[str]:
    """``["a,b", "c"]`` → ``["a", "b", "c"]`` (repeated and comma-separated forms)."""
    names = [name.strip() for value in values or () for name in value.split(",")]
    return list(dict.fromkeys(name for name in names if name))


def describe(event: RelayEvent) -> str:
    """One readable line: time, call (or message), event type, state and key fields.

    Args:
        event: a typed event.

    Returns:
        e.g. ``12:00:01.250  c-1  calling.call.state  call_state=answered``.
    """
    params: Mapping[str, Any] = mask_secrets(dict(event.params))
    stamp = event.timestamp or time.time()
    clock = time.strftime("%H:%M:%S", time.localtime(stamp)) + f".{int(stamp * 1000) % 1000:03d}"
    message_id = params.get("message_id")
    subject = event.call_id or (field_text(message_id) if message_id else "-")
    if event.event_type.startswith("messaging."):
        details = " ".join(
            f"{name}={field_text(params[name])}" for name in _MESSAGE_FIELDS if params.get(name)
        )
    else:
        details = describe_event(event.event_type, params)
        extra = [
            f"{name}={field_text(params[name])}"
            for name in _OPERATION_FIELDS
            if params.get(name) and f"{name}=" not in details
        ]
        details = " ".join([details, *extra]).strip()
    return f"{clock}  {subject}  {event.event_type}  {details}".rstrip()


def raw_frame(event: RelayEvent, payload: Dict[str, Any]) -> str:
    """The ``signalwire.event`` frame as JSON on one line, secrets masked."""
    frame: Dict[str, Any] = {"jsonrpc": "2.0", "id": event.event_id}
    frame.update(method="signalwire.event", params=payload)
    return json.dumps(mask_secrets(frame), separators=(",", ":"), default=str)


class Printer:
    """Writes one line per event to ``out`` (worker threads, in arrival order)."""

    def __init__(self, out: TextIO, as_json: bool) -> None:
        self._out = out
        self._json = as_json
        self._lock = threading.Lock()

    def __call__(self, event: RelayEvent, payload: Dict[str, Any]) -> None:
        line = raw_frame(event, payload) if self._json else describe(event)
        with self._lock:
            print(line, file=self._out, flush=True)


def run_listen(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``relaysync listen`` until Ctrl-C or SIGTERM.

    Args:
        args: the parsed ``listen`` arguments.
        out: where event lines go.
        err: where status lines go.

    Returns:
        0 when stopped by a signal, 1 when the connection failed or ended for good,
        2 for bad arguments or missing credentials.
    """
    contexts = split_contexts(args.context)
    if not contexts:
        print("relaysync listen: give at least one --context", file=err)
        return 2
    try:
        client = RelayClient(
            args.project,
            args.token,
            host=args.space,
            url=args.url,
            contexts=contexts,
            ca_file=args.ca_file,
            allow_insecure=args.insecure,
            proxy=args.proxy,
            record=args.record,
        )
    except (ValueError, TypeError, OSError) as exc:
        print(f"relaysync listen: {exc}", file=err)
        return 2
    client._add_event_tap(Printer(out, args.json))
    if not args.keep_offers:
        client.on_call(_pass_on)
    else:
        client.on_call(lambda call: None)

    @client.on_connection_change
    def status(state: str) -> None:
        print(f"# {state}", file=err, flush=True)

    @client.on_message
    def taken(message: Message) -> None:
        print(
            f"# message {message.message_id} was delivered here: your application "
            "does not receive it",
            file=err,
            flush=True,
        )

    # SIGTERM while connecting stops like Ctrl-C does; run() handles both once connected
    with sigterm_as_ctrl_c():
        try:
            _announce(contexts, client.url, args.keep_offers, err)
            client.run()
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM while still connecting
            client.close()
        except RelayError as exc:
            print(f"relaysync listen: {exc}", file=err)
            client.close()
            return 1
    print("# stopped", file=err, flush=True)
    return 0


def _announce(contexts: List[str], url: str, keep_offers: bool, err: TextIO) -> None:
    names = ", ".join(contexts)
    print(f"# listening on {names} at {url}; Ctrl-C to stop", file=err, flush=True)
    offers = "kept here (--keep-offers)" if keep_offers else "passed on to your application"
    print(
        f"# call offers are {offers}; inbound messages RELAY delivers here are taken "
        "from your application (RELAY hands each to one consumer)",
        file=err,
        flush=True,
    )


def _pass_on(call: Call) -> None:
    """Hand an offered call to another consumer of its context."""
    with contextlib.suppress(CallEndedError):  # the caller hung up meanwhile
        call.pass_()


def add_listen_parser(commands: Any, formatter_class: Any = argparse.HelpFormatter) -> None:
    """Add the ``listen`` subcommand to the ``relaysync`` parser's subcommands.

    Args:
        commands: the subparsers object of the ``relaysync`` parser.
        formatter_class: the help formatter the other subcommands use.
    """
    listen = commands.add_parser(
        "listen",
        help="print what RELAY delivers to a consumer of some contexts (call offers, "
        "inbound messages), one readable line each",
        formatter_class=formatter_class,
        description="Connect to a SignalWire space (or a RelaySimulator) as a consumer of the\n"
        "given contexts and print each event RELAY delivers to it as one line: local\n"
        "time, call id, event type, state and the fields worth reading. Secrets are\n"
        "masked. A consumer sees what RELAY hands to it, not every event of the\n"
        "contexts.\n\n"
        "Credentials come from --project/--token, else SIGNALWIRE_PROJECT_ID and\n"
        "SIGNALWIRE_API_TOKEN; the space from --url or --space, else\n"
        "SIGNALWIRE_RELAY_URL (a full URL) or SIGNALWIRE_SPACE.\n\n"
        "RELAY offers each inbound call to one consumer of its context. The listener\n"
        "prints the offer and passes the call on (calling.pass) so that it does not take\n"
        "calls away from your application; events of a call then go to the consumer\n"
        "that answers it. Use --keep-offers to keep offered calls ringing here instead.\n\n"
        "RELAY also hands each inbound message to one consumer, and a message cannot be\n"
        "passed on: a message delivered to the listener is taken from your application\n"
        "(the listener says so on stderr). Listen on a context that carries messages\n"
        "only when losing some of them to the listener is acceptable.",
        epilog="examples:\n"
        "  export SIGNALWIRE_PROJECT_ID=... SIGNALWIRE_API_TOKEN=... \\\n"
        "         SIGNALWIRE_SPACE=example.signalwire.com\n"
        "  relaysync listen --context office --context sales\n"
        "  relaysync listen --context office --json | jq .params.event_type\n\n"
        "  # against a local simulator (see `relaysync simulate`):\n"
        "  relaysync listen --url ws://127.0.0.1:8765 --project local-project \\\n"
        "         --token TOKEN --context office\n\n"
        "Press Ctrl-C to stop; the connection is closed cleanly.",
    )
    listen.add_argument(
        "--context",
        "-c",
        action="append",
        metavar="NAME",
        help="context to listen on; repeat it or separate names with commas (required)",
    )
    listen.add_argument("--url", help="full ws:// or wss:// URL (overrides --space)")
    listen.add_argument(
        "--space", metavar="HOST", help="space host, e.g. example.signalwire.com (wss://HOST)"
    )
    listen.add_argument("--project", help="project id (default: $SIGNALWIRE_PROJECT_ID)")
    listen.add_argument("--token", help="API token (default: $SIGNALWIRE_API_TOKEN)")
    listen.add_argument("--ca-file", metavar="PEM", help="CA certificate to trust for wss://")
    listen.add_argument(
        "--insecure", action="store_true", help="allow plain ws:// to a non-loopback host"
    )
    listen.add_argument(
        "--proxy",
        metavar="URL",
        help="HTTP proxy, http://[user:password@]host[:port] (default: $HTTPS_PROXY, "
        "$HTTP_PROXY for ws://, minus $NO_PROXY)",
    )
    listen.add_argument(
        "--json", action="store_true", help="print each event frame as JSON instead"
    )
    listen.add_argument(
        "--record",
        metavar="FILE",
        help="write a cassette of every frame in and out to FILE (JSON lines, secrets "
        "masked), to replay with `relaysync replay` or RelaySimulator(replay=FILE)",
    )
    listen.add_argument(
        "--keep-offers",
        action="store_true",
        help="keep inbound call offers ringing here instead of passing them on",
    )


__all__ = ["add_listen_parser", "describe", "raw_frame", "run_listen", "split_contexts"]
