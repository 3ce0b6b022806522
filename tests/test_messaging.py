"""send_message, Message.wait and on_message against RelaySimulator over a real socket."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List

import pytest

from relaysync import Message, RelayClient, RelayConnectionError, RelayError, RelayTimeoutError
from relaysync.messaging import MAX_HELD_IDS
from relaysync.testing import RelaySimulator

from .helpers import Recorder, make_client

TO = "+15550002222"
FROM = "+15550001111"


def sizes(client: RelayClient) -> Dict[str, int]:
    """What the client's message registry holds."""
    return client._messaging.registry.sizes()


def empty(client: RelayClient) -> bool:
    """Whether the client tracks no message, holds no state and has no send in flight."""
    return sizes(client) == {"messages": 0, "held": 0, "sending": 0}


def drain_reader(client: RelayClient) -> None:
    """Return once the reader has routed every frame the simulator sent before now.

    The answer to a request comes after those frames on the same socket, and the one
    reader thread handles frames in order.
    """
    client.execute("signalwire.ping", {})


# ---------------------------------------------------------------- outcomes


def test_send_returns_queued_message_then_delivered(
    client: RelayClient, sim: RelaySimulator
) -> None:
    message = client.send_message(TO, FROM, body="Hello", tags=["vip"], region="us")
    assert message.message_id
    assert message.direction == "outbound"
    assert message.body == "Hello" and message.tags == ("vip",)
    assert message.wait(10) is message
    assert message.state == "delivered" and message.successful and message.done
    assert message.reason is None
    assert message.segments == 1
    request = sim.journal.requests("messaging.send")[0]["params"]
    assert request == {
        "context": client.protocol,
        "to_number": TO,
        "from_number": FROM,
        "body": "Hello",
        "tags": ["vip"],
        "region": "us",
    }
    assert sim.messages[0].states == ("queued", "initiated", "sent", "delivered")
    assert empty(client)


def test_media_only_message_sends_no_body(client: RelayClient, sim: RelaySimulator) -> None:
    message = client.send_message(TO, FROM, media=["https://example.com/cat.jpg"], context="office")
    message.wait(10)
    params = sim.journal.requests("messaging.send")[0]["params"]
    assert "body" not in params
    assert params["media"] == ["https://example.com/cat.jpg"] and params["context"] == "office"
    assert message.state == "delivered" and message.segments == 1


def test_undelivered_keeps_the_reason(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_message_to(TO, "undelivered", reason="carrier_blocked")
    message = client.send_message(TO, FROM, body="Hello").wait(10)
    assert message.state == "undelivered" and not message.successful
    assert message.reason == "carrier_blocked"
    assert empty(client)


def test_failed_with_default_reason_skips_sent(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_message_to(TO, "failed")
    message = client.send_message(TO, FROM, body="Hello").wait(10)
    assert (message.state, message.reason) == ("failed", "invalid_destination")
    assert sim.messages[0].states == ("queued", "failed")


def test_intermediate_states_do_not_settle_and_wait_times_out(
    client: RelayClient, sim: RelaySimulator
) -> None:
    sim.on_message_to(TO, "delivered", delay=400)  # sent after 2 s at time_scale 0.01
    message = client.send_message(TO, FROM, body="Hello")
    sim.journal.wait_for_event(
        "messaging.state", predicate=lambda f: f["params"]["params"]["message_state"] == "initiated"
    )
    with pytest.raises(RelayTimeoutError, match=f"message {message.message_id} timed out"):
        message.wait(0.3)
    assert not message.done
    assert sizes(client)["messages"] == 1
    assert message.wait(20).state == "delivered"


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_wait_rejects_bad_timeouts(client: RelayClient, bad: float) -> None:
    message = client.send_message(TO, FROM, body="Hello")
    with pytest.raises(ValueError, match="timeout"):
        message.wait(bad)
    with pytest.raises(TypeError, match="timeout"):
        message.wait("5")  # type: ignore[arg-type]
    message.wait(10)


def test_on_completed_runs_on_a_worker_with_the_message(
    client: RelayClient, sim: RelaySimulator
) -> None:
    seen = Recorder()

    def completed(message: Message) -> None:
        seen((message, threading.current_thread().name))

    message = client.send_message(TO, FROM, body="Hello", on_completed=completed)
    ((done, thread),) = seen.wait_for(lambda items: len(items) == 1)
    assert done is message and done.state == "delivered"
    assert thread.startswith("relaysync-worker")


def test_a_refused_send_raises_and_tracks_nothing(client: RelayClient, sim: RelaySimulator) -> None:
    sim.fail_method("messaging.send", 422, "Invalid destination", as_result=True)
    with pytest.raises(RelayError, match="Invalid destination") as caught:
        client.send_message(TO, FROM, body="Hello")
    assert caught.value.code == 422
    assert empty(client)


def test_a_send_cut_off_by_a_drop_raises_and_tracks_nothing(
    client: RelayClient, sim: RelaySimulator
) -> None:
    sim.delay_method("messaging.send", 2.0, times=1)
    failures = Recorder()

    def send() -> None:
        try:
            client.send_message(TO, FROM, body="Hello")
        except RelayConnectionError as exc:
            failures(exc)

    sender = threading.Thread(target=send)
    sender.start()
    sim.journal.wait_for_request("messaging.send")
    sim.drop_connections()
    sender.join(20)
    assert failures.wait_for(lambda items: len(items) == 1)
    assert empty(client)
    assert client.send_message(TO, FROM, body="again").wait(None).state == "delivered"


# ---------------------------------------------------------------- frame timing


def test_states_right_behind_the_result_are_not_lost(
    client: RelayClient, sim: RelaySimulator
) -> None:
    sim.on_message_to(TO, "delivered", delay=0)
    for _ in range(20):
        message = client.send_message(TO, FROM, body="Hello")
        assert message.wait(10).state == "delivered"
    assert empty(client)


def test_states_routed_before_the_sender_registers_are_applied_in_order(
    client: RelayClient, sim: RelaySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst timing, forced: the reader routes every state (final included) while
    the sending thread, already holding the result, has not registered the message."""
    sim.on_message_to(TO, "undelivered", reason="carrier_blocked", delay=0)
    registry = client._messaging.registry
    routed: List[str] = []
    final_routed = threading.Event()
    route, end_send = registry.route, registry.end_send

    def routing(event: Any) -> None:
        route(event)
        routed.append(event.message_state)
        if event.message_state == "undelivered":
            final_routed.set()

    def late_end_send(message: Any) -> None:
        assert final_routed.wait(10), "the final state never reached the reader"
        assert sizes(client)["held"] == 1
        end_send(message)

    monkeypatch.setattr(registry, "route", routing)
    monkeypatch.setattr(registry, "end_send", late_end_send)
    message = client.send_message(TO, FROM, body="Hello")
    assert routed == ["queued", "initiated", "sent", "undelivered"]
    assert message.done and message.state == "undelivered"
    assert message.reason == "carrier_blocked"
    assert message.wait(1) is message
    assert empty(client)


def test_delayed_states_reach_a_registered_message(
    client: RelayClient, sim: RelaySimulator
) -> None:
    sim.on_message_to(TO, "delivered", delay=50)  # 0.5 s at time_scale 0.01
    message = client.send_message(TO, FROM, body="Hello")
    assert sizes(client)["messages"] == 1
    assert message.wait(10).state == "delivered"
    assert empty(client)


def test_wait_survives_a_dropped_connection(client: RelayClient, sim: RelaySimulator) -> None:
    sim.on_message_to(TO, "delivered", delay=100)  # 1 s at time_scale 0.01
    message = client.send_message(TO, FROM, body="Hello")
    sim.drop_connections()
    assert message.wait(20).state == "delivered"
    assert client.session_resumed


def test_close_releases_a_waiting_message(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    sim.on_message_to(TO, "delivered", delay=100_000)
    message = client.send_message(TO, FROM, body="Hello")
    failures = Recorder()

    def waiter() -> None:
        try:
            message.wait(30)
        except RelayConnectionError as exc:
            failures(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    client.close()
    thread.join(10)
    assert failures.wait_for(lambda items: len(items) == 1)
    assert empty(client)


# ---------------------------------------------------------------- memory


def test_a_flood_of_unknown_states_grows_nothing(client: RelayClient, sim: RelaySimulator) -> None:
    def flood(n: int) -> None:
        for i in range(n):
            sim.push_event("messaging.state", {"message_id": f"ghost-{i}", "message_state": "sent"})

    flood(300)
    drain_reader(client)
    assert empty(client)

    # While a send is in flight unknown ids are held, but never more than the bound.
    sim.delay_method("messaging.send", 3.0, times=1)
    sent: List[Message] = []
    sender = threading.Thread(target=lambda: sent.append(client.send_message(TO, FROM, body="x")))
    sender.start()
    sim.journal.wait_for_request("messaging.send")
    flood(MAX_HELD_IDS + 200)
    drain_reader(client)
    assert 0 < sizes(client)["held"] <= MAX_HELD_IDS
    sender.join(20)
    assert sent[0].wait(10).state == "delivered"
    assert empty(client)


@pytest.mark.timeout(180)
def test_a_thousand_messages_from_twenty_threads(sim: RelaySimulator) -> None:
    client = make_client(sim, max_workers=8)
    client.connect()
    results: List[Message] = []
    errors: List[BaseException] = []
    lock = threading.Lock()
    outcomes = {
        "+15550003001": "delivered",
        "+15550003002": "undelivered",
        "+15550003003": "failed",
    }
    for number, state in outcomes.items():
        sim.on_message_to(number, state, delay=0 if state == "failed" else 5)
    targets = list(outcomes)

    def worker(n: int) -> None:
        try:
            mine = [
                client.send_message(targets[(n + i) % 3], FROM, body=f"#{n}-{i}", timeout=60)
                for i in range(50)
            ]
            for message in mine:
                message.wait(60)
            with lock:
                results.extend(mine)
        except BaseException as exc:  # reported below, with the rest
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
        assert not errors, errors[:3]
        assert len(results) == 1000
        assert len({m.message_id for m in results}) == 1000
        for message in results:
            assert message.state == outcomes[message.to_number or ""]
        assert empty(client)
    finally:
        client.close()


# ---------------------------------------------------------------- validation


BAD_INPUT: List[Any] = [
    (dict(to="5550002222", from_=FROM, body="x"), ValueError, "to must be an E.164 number"),
    (dict(to=TO, from_="+0555", body="x"), ValueError, "from_ must be an E.164 number"),
    (dict(to=TO, from_="office", body="x"), ValueError, "from_ must be an E.164"),
    (dict(to=15550002222, from_=FROM, body="x"), TypeError, "to must be a string"),
    (dict(to=TO, from_=FROM), ValueError, "needs a body or media"),
    (dict(to=TO, from_=FROM, body="", media=[]), ValueError, "needs a body or media"),
    (dict(to=TO, from_=FROM, media=["ftp://example.com/a.jpg"]), ValueError, r"media\[0\]"),
    (dict(to=TO, from_=FROM, media=["/local/a.jpg"]), ValueError, "http:// or https://"),
    (dict(to=TO, from_=FROM, media="https://example.com/a.jpg"), TypeError, "media must be a list"),
    (dict(to=TO, from_=FROM, body="x" * 1601), ValueError, "1601 characters long; the limit"),
    (dict(to=TO, from_=FROM, body=5), TypeError, "body must be a string"),
    (dict(to=TO, from_=FROM, body="x", tags="vip"), TypeError, "tags must be a list"),
    (dict(to=TO, from_=FROM, body="x", context=""), ValueError, "context must not be empty"),
    (dict(to=TO, from_=FROM, body="x", region=""), ValueError, "region must not be empty"),
    (dict(to=TO, from_=FROM, body="x", timeout=0), ValueError, "timeout must be a positive"),
    (dict(to=TO, from_=FROM, body="x", on_completed=1), TypeError, "on_completed"),
]


@pytest.mark.parametrize(("kwargs", "error", "text"), BAD_INPUT)
def test_bad_input_is_rejected_before_anything_is_sent(
    client: RelayClient, sim: RelaySimulator, kwargs: Dict[str, Any], error: type, text: str
) -> None:
    send: Callable[..., Message] = client.send_message
    with pytest.raises(error, match=text):
        send(**kwargs)
    drain_reader(client)
    assert sim.journal.requests("messaging.send") == []
    assert empty(client)


def test_a_body_at_the_limit_is_sent(client: RelayClient, sim: RelaySimulator) -> None:
    message = client.send_message(TO, FROM, body="x" * 1600).wait(10)
    assert message.segments == 11  # 1600 GSM-7 septets in parts of 153


# ---------------------------------------------------------------- inbound


def test_inbound_message_reaches_on_message_on_its_context_only(sim: RelaySimulator) -> None:
    office, sales = make_client(sim), make_client(sim, contexts=["sales"])
    try:
        office.connect()
        sales.connect()
        got_office, got_sales = Recorder(), Recorder()
        office.on_message(got_office)
        sales.on_message(got_sales)
        sent = sim.inbound_message(
            "sales",
            from_="+15553333333",
            to=TO,
            body="hi there",
            media=["https://example.com/a.png"],
            tags=["t1"],
        )
        message: Message = got_sales.wait_for(lambda items: len(items) == 1)[0]
        assert message.message_id == sent.message_id
        assert (message.direction, message.state) == ("inbound", "received")
        assert (message.from_number, message.to_number, message.body) == (
            "+15553333333",
            TO,
            "hi there",
        )
        assert message.media == ("https://example.com/a.png",) and message.tags == ("t1",)
        assert message.segments == 1 and message.context == "sales"
        assert message.done and message.wait(1) is message
        receives = sim.journal.events("messaging.receive")
        assert len(receives) == 1
        # Then one for office: office's handler sees that one and only that one.
        second = sim.inbound_message("office", body="for office")
        assert got_office.wait_for(lambda items: len(items) == 1)[0].message_id == second.message_id
        assert len(got_sales.items) == 1
        assert empty(office) and empty(sales)
    finally:
        office.close()
        sales.close()


def test_inbound_message_on_a_context_nobody_receives_is_dropped(
    client: RelayClient, sim: RelaySimulator
) -> None:
    got = Recorder()
    client.on_message(got)
    lost = sim.inbound_message("nobody", body="hello?")
    assert lost.session_id is None
    assert sim.journal.events("messaging.receive") == []
    kept = sim.inbound_message("office", body="hello")
    assert got.wait_for(lambda items: len(items) == 1)[0].message_id == kept.message_id


def test_an_inbound_message_without_handler_is_logged(
    client: RelayClient, sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    sent = sim.inbound_message("office", body="anyone?")
    drain_reader(client)
    assert any(
        "no on_message handler" in r.getMessage() and sent.message_id in r.getMessage()
        for r in caplog.records
    )


def test_on_message_rejects_a_non_callable(client: RelayClient) -> None:
    with pytest.raises(TypeError, match="on_message handler must be callable"):
        client.on_message("nope")  # type: ignore[arg-type]


def test_a_failing_on_message_handler_does_not_stop_later_messages(
    client: RelayClient, sim: RelaySimulator
) -> None:
    got = Recorder()

    def handler(message: Message) -> None:
        got(message.body)
        if message.body == "boom":
            raise RuntimeError("handler broke")

    client.on_message(handler)
    sim.inbound_message("office", body="boom")
    sim.inbound_message("office", body="fine")
    assert sorted(got.wait_for(lambda items: len(items) == 2)) == ["boom", "fine"]
