"""A Flask app that places calls with relaysync, and answers calls when run under gunicorn.

One RelayClient per process, shared by every request thread. It is created lazily, on
first use in each process, so that it is never created before a fork (a RelayClient
cannot cross ``os.fork()``: gunicorn forks its workers from the process that loaded its
configuration). ``examples/gunicorn.conf.py`` starts it in each worker as soon as the
worker is forked, so each worker is one consumer of the inbound contexts.

Settings (environment):
    SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN, SIGNALWIRE_SPACE: your space, or
    RELAY_URL: a full ``ws://``/``wss://`` URL instead of the space (a RelaySimulator);
    RELAY_CONTEXT: comma-separated contexts to answer inbound calls on (default: none);
    REFER_TARGET: where inbound calls are transferred (default sip:support@example.com).

Run it::

    flask --app examples/flask_app run --with-threads
    gunicorn -c examples/gunicorn.conf.py        # several workers, see that file

    curl -X POST localhost:5000/calls -H 'content-type: application/json' \\
         -d '{"to": "+15551230000", "from": "+15559870000", "refer_to": "sip:desk@example.com"}'
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any, Dict, Optional, Tuple

from flask import Flask, jsonify, request

from relaysync import Call, ReferResult, RelayClient, RelayError

GREETING = "Hello from relaysync. Transferring you now."
DEFAULT_TARGET = "sip:support@example.com"
log = logging.getLogger("flask_app")

_lock = threading.Lock()
_client: Optional[RelayClient] = None


def _forget_client_after_fork() -> None:
    """In a forked child: drop the parent's client and lock (never use them there)."""
    global _client, _lock
    _client = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_forget_client_after_fork)


def get_client() -> RelayClient:
    """This process's RelayClient, created and connected on first use.

    Safe to call from any request thread; the first caller connects, the others wait.

    Raises:
        ValueError: credentials missing from the environment.
        RelayConnectionError, AuthenticationError: cannot connect.
    """
    global _client
    with _lock:
        if _client is None:
            contexts = [c for c in os.environ.get("RELAY_CONTEXT", "").split(",") if c]
            client = RelayClient(url=os.environ.get("RELAY_URL"), contexts=contexts)
            client.on_call(handle_inbound)
            client.connect()
            atexit.register(client.close)
            _client = client
        return _client


def close_client() -> None:
    """Close this process's client, if it has one (gunicorn's worker_exit hook)."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def handle_inbound(call: Call) -> None:
    """An inbound call on RELAY_CONTEXT: answer, greet, transfer (worker thread)."""
    target = os.environ.get("REFER_TARGET", DEFAULT_TARGET)
    try:
        call.answer()
        call.play_tts(GREETING).wait()
        result = call.refer(target)
    except RelayError as exc:
        log.info("call %s: %s", call.call_id, exc)
        return
    print(
        f"worker {os.getpid()}: call {call.call_id} referred to {target}: {result.state}",
        flush=True,
    )


def refer_json(call: Call, result: ReferResult) -> Dict[str, Any]:
    """The JSON body describing a REFER outcome."""
    return {
        "call_id": call.call_id,
        "state": result.state,
        "successful": result.successful,
        "sip_refer_to": result.sip_refer_to,
        "sip_refer_response_code": result.sip_refer_response_code,
        "sip_notify_response_code": result.sip_notify_response_code,
    }


def create_app() -> Flask:
    """Build the Flask app (the client is made later, on the first request)."""
    app = Flask(__name__)

    @app.post("/calls")
    def place_call() -> Tuple[Any, int]:
        """Dial ``to`` from ``from``, play ``say``, REFER to ``refer_to``; return the outcome."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="send a JSON object"), 400
        missing = [key for key in ("to", "from", "refer_to") if not body.get(key)]
        if missing:
            return jsonify(error=f"missing: {', '.join(missing)}"), 400
        try:
            call = get_client().dial_phone(body["to"], body["from"])
        except (ValueError, TypeError) as exc:
            return jsonify(error=str(exc)), 400
        except RelayError as exc:  # DialError, timeouts, connection and auth errors
            return jsonify(error=str(exc), kind=type(exc).__name__), 502
        try:
            call.play_tts(str(body.get("say") or GREETING)).wait(timeout=60)
            result = call.refer(body["refer_to"])
        except (ValueError, TypeError) as exc:
            call.hangup()
            return jsonify(error=str(exc), call_id=call.call_id), 400
        except RelayError as exc:
            if not call.ended:
                call.hangup()
            return jsonify(error=str(exc), kind=type(exc).__name__, call_id=call.call_id), 502
        if not result.successful and not call.ended:
            call.hangup()
        return jsonify(refer_json(call, result)), 200

    return app


app = create_app()
