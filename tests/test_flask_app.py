"""examples/flask_app.py with Flask's test client against the simulator."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List

import pytest

from relaysync.testing import RelaySimulator

from .helpers import relaysync_threads

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "flask_app.py"


@pytest.fixture
def flask_app(sim: RelaySimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example module, configured for ``sim``; its client closed afterwards."""
    monkeypatch.setenv("SIGNALWIRE_PROJECT_ID", sim.project)
    monkeypatch.setenv("SIGNALWIRE_API_TOKEN", sim.token)
    monkeypatch.setenv("RELAY_URL", sim.url)
    monkeypatch.delenv("RELAY_CONTEXT", raising=False)
    spec = importlib.util.spec_from_file_location("flask_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    try:
        yield module
    finally:
        module.close_client()
        sys.modules.pop(spec.name, None)


def post(app: Any, body: Any) -> Any:
    return app.app.test_client().post("/calls", json=body)


@pytest.mark.timeout(60)
def test_post_dials_plays_refers_and_returns_the_refer_result(
    flask_app: ModuleType, sim: RelaySimulator
) -> None:
    assert flask_app._client is None  # nothing connects before the first request
    reply = post(
        flask_app,
        {
            "to": "+15551230000",
            "from": "+15559870000",
            "say": "Hi",
            "refer_to": "sip:a@example.com",
        },
    )
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["state"] == "success" and body["successful"] is True
    assert body["sip_refer_to"] == "sip:a@example.com"
    assert body["sip_refer_response_code"] == "202"
    assert body["sip_notify_response_code"] == "200"
    dial = sim.journal.wait_for_request("calling.dial")
    assert dial["params"]["devices"][0][0]["params"]["to_number"] == "+15551230000"
    play = sim.journal.wait_for_request("calling.play")
    assert play["params"]["play"][0]["params"]["text"] == "Hi"
    assert play["params"]["call_id"] == body["call_id"]


@pytest.mark.timeout(90)
def test_request_threads_share_one_client(flask_app: ModuleType, sim: RelaySimulator) -> None:
    sim.on_refer("sip:busy@example.com", state="busy")
    results: List[Dict[str, Any]] = []
    lock = threading.Lock()

    def request(n: int) -> None:
        target = "sip:busy@example.com" if n % 2 else f"sip:agent{n}@example.com"
        reply = post(
            flask_app, {"to": f"+1555000{n:04d}", "from": "+15559870000", "refer_to": target}
        )
        with lock:
            results.append({"status": reply.status_code, **reply.get_json()})

    threads = [threading.Thread(target=request, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r["state"] for r in results) == ["busy"] * 3 + ["success"] * 3
    assert all(r["status"] == 200 for r in results)
    assert sim.authentication_count == 1  # one client, one connection, six requests
    assert relaysync_threads().count("relaysync-io") == 1


def test_bad_requests_are_refused_before_dialing(
    flask_app: ModuleType, sim: RelaySimulator
) -> None:
    assert post(flask_app, ["not", "an", "object"]).status_code == 400
    reply = post(flask_app, {"to": "+15551230000"})
    assert reply.status_code == 400 and reply.get_json()["error"] == "missing: from, refer_to"
    assert sim.journal.requests("calling.dial") == []


@pytest.mark.timeout(60)
def test_a_failed_dial_is_a_502_with_the_error(flask_app: ModuleType, sim: RelaySimulator) -> None:
    sim.on_dial("+15550009999", outcome="busy")
    reply = post(flask_app, {"to": "+15550009999", "from": "+15559870000", "refer_to": "sip:a@b.c"})
    assert reply.status_code == 502
    assert reply.get_json()["kind"] == "DialError"
