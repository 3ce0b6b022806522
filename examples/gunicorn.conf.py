"""gunicorn settings for examples/flask_app.py: several workers, one RelayClient each.

    RELAY_CONTEXT=office gunicorn -c examples/gunicorn.conf.py

Each worker connects its own client right after gunicorn forks it (``post_fork``), so
each worker is one consumer of RELAY_CONTEXT and RELAY spreads inbound calls across the
workers. Request threads of a worker share its client. Never create the client in the
gunicorn master (at import time of the app with ``preload_app = True``, or here at the
top level): a client cannot cross ``os.fork()``, and using a copied one in a worker
raises ``ForkedClientError``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # to import flask_app

wsgi_app = "flask_app:app"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"  # request threads share the worker's client
threads = 8
preload_app = False  # load the app (and so anything it creates) in each worker


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: connect its own client (it also starts answering calls)."""
    import flask_app

    flask_app.get_client()
    server.log.info("worker %s: RELAY client connected", worker.pid)


def worker_exit(server: Any, worker: Any) -> None:
    """A worker stops: close its client so RELAY offers calls to the others."""
    import flask_app

    flask_app.close_client()
