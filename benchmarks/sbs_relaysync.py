"""The workloads as a relaysync user writes them (public API only)."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any, Callable, Dict, List

from sbs_run import (
    PRESSED,
    PROMPT,
    REFER_TARGET,
    RING_TIMEOUT,
    W5_RING_TIMEOUT,
    Channel,
    Span,
    native_threads,
    parallel,
    result,
    sequential,
)

from relaysync import Call, RelayClient, RelayConnectionError, RelayEvent


def _client(config: Dict[str, Any], **options: Any) -> RelayClient:
    settings: Dict[str, Any] = {"contexts": ["office"], "ping_interval": 600.0}
    settings.update(options)
    return RelayClient(
        config["project"], config["token"], url=config["url"], ca_file=config["ca_file"], **settings
    )


def w1(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W1: sequential ``signalwire.ping`` round trips from one thread."""
    with _client(config) as client:
        return sequential(lambda: client.execute("signalwire.ping", {}), config["n"])


def w2(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W2: ``width`` threads, each ``n / width`` pings, one client."""
    with _client(config) as client:
        return parallel(lambda: client.execute("signalwire.ping", {}), config["n"], config["width"])


class Flows:
    """Counts finished flows and keeps their latencies; wakes the main thread at the last."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.latencies: List[float] = []
        self.failures: List[str] = []
        self.last = 0.0
        self._lock = threading.Lock()
        self.done = threading.Event()

    def finish(self, began: float, failure: str = "") -> None:
        """Record one flow that started at ``began``."""
        now = time.monotonic()
        with self._lock:
            self.latencies.append(now - began)
            if failure:
                self.failures.append(failure)
            self.last = max(self.last, now)
            if len(self.latencies) >= self.expected:
                self.done.set()


def flow_handler(flows: Flows) -> Callable[[Call], None]:
    """The W3 flow: answer, play one second of silence and wait, refer and wait, ended."""

    def handle(call: Call) -> None:
        began = time.monotonic()
        failure = ""
        try:
            call.answer(timeout=30.0)
            call.play_silence(1.0).wait(timeout=30.0)
            outcome = call.refer(REFER_TARGET, timeout=30.0)
            if not outcome.successful:
                failure = f"refer ended {outcome.state}"
            call.wait_for_ended(timeout=30.0)
        except Exception as exc:
            failure = repr(exc)
        flows.finish(began, failure)

    return handle


def w3(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W3 (and each W7 process): inbound flows placed in one burst by the server."""
    n = config["n"]
    flows = Flows(n)
    with _client(config) as client:
        client.on_call(flow_handler(flows))
        span = Span()
        channel.ask("place", count=n, ring_timeout=RING_TIMEOUT)
        if not flows.done.wait(120.0):
            raise RuntimeError(f"{n - len(flows.latencies)} flows did not finish")
        span.stop(flows.last)
        return result(n, span, flows.latencies, failures=len(flows.failures), start=span.start)


def w4(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W4: events pushed at one answered call, to a ``call.on()`` callback."""
    answered: concurrent.futures.Future[Call] = concurrent.futures.Future()

    def answer(call: Call) -> None:
        call.answer()
        answered.set_result(call)

    with _client(config) as client:
        client.on_call(answer)
        channel.ask("place", count=1, ring_timeout=RING_TIMEOUT)
        call = answered.result(30.0)
        done = threading.Event()
        seen = [0]

        def on_play(event: RelayEvent) -> None:
            seen[0] += 1
            if event.params.get("state") == "finished":
                done.set()

        call.on("calling.call.play", on_play)
        span = Span()
        channel.send(
            {"want": "push", "call_id": call.call_id, "node_id": call.node_id, "n": config["n"]}
        )
        if not done.wait(120.0):
            raise RuntimeError(f"only {seen[0]} events arrived")
        span.stop()
        channel.receive()
        return result(seen[0], span)


def w5(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W5: ``n`` live calls at once: set up (answered), held, torn down (hung up, ended)."""
    n = config["n"]
    calls: List[Call] = []
    lock = threading.Lock()
    all_up = threading.Event()

    def answer(call: Call) -> None:
        call.answer(timeout=60.0)
        with lock:
            calls.append(call)
            if len(calls) >= n:
                all_up.set()

    with _client(config) as client:
        client.on_call(answer)
        span = Span()
        channel.ask("place", count=n, ring_timeout=W5_RING_TIMEOUT)
        if not all_up.wait(180.0):
            raise RuntimeError(f"only {len(calls)} of {n} calls answered")
        set_up = time.monotonic() - span.start
        live = result(n, span)
        began = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda c: c.hangup(), calls))
        for call in calls:
            call.wait_for_ended(timeout=60.0)
        torn_down = time.monotonic() - began
        span.stop()
        return result(
            n,
            span,
            setup_s=set_up,
            teardown_s=torn_down,
            live_rss_kib=live["peak_rss_kib"],
            live_threads=live["threads"],
            tracked_after=len(client.calls),
        )


def w6(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W6: from a dropped connection (server side) to the next successful RPC."""
    with _client(config) as client:
        for _ in range(20):
            client.execute("signalwire.ping", {})
        span = Span()
        dropped_at = channel.ask("drop")["at"]
        failed = 0
        while True:
            try:
                client.execute("signalwire.ping", {}, timeout=30.0)
                break
            except RelayConnectionError:
                failed += 1
        span.stop()
        recovery = span.end - dropped_at
        return result(1, span, [recovery], recovery_s=recovery, failed_rpcs=failed)


def w8(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W8: ``n`` inbound calls offered at once, at the client's defaults; each handler
    answers, prompts and collects the digit its caller presses ``press_seconds`` after
    the prompt (so every handler blocks at the same time), refers and waits for the
    outcome. A flow's latency runs from the offer of the whole batch."""
    n = config["n"]
    press = config["press_seconds"]
    flows = Flows(n)
    prompted = [0]
    live_threads = [0]
    lock = threading.Lock()
    span_start = [0.0]

    def handle(call: Call) -> None:
        failure = ""
        try:
            call.answer(timeout=60.0)
            action = call.prompt_tts(PROMPT, digits={"max": 1}, initial_timeout=60.0)
            with lock:
                prompted[0] += 1
                if prompted[0] == n:
                    live_threads[0] = native_threads()
            collected = action.wait(timeout=120.0)
            if collected.digits != PRESSED:
                failure = f"collected {collected.type} {collected.digits!r}"
            outcome = call.refer(REFER_TARGET, timeout=60.0)
            if not outcome.successful:
                failure = failure or f"refer ended {outcome.state}"
        except Exception as exc:
            failure = repr(exc)
        flows.finish(span_start[0], failure)

    with _client(config) as client:
        client.on_call(handle)
        channel.ask("press", count=n, digit=PRESSED, seconds=press)
        span = Span()
        span_start[0] = span.start
        channel.ask("place", count=n, ring_timeout=RING_TIMEOUT)
        if not flows.done.wait(300.0):
            raise RuntimeError(f"{n - len(flows.latencies)} flows did not finish")
        span.stop(flows.last)
        return result(
            n,
            span,
            [latency - press for latency in flows.latencies],
            failures=len(flows.failures),
            start=span.start,
            live_threads=live_threads[0],
        )


WORKLOADS: Dict[str, Callable[[Dict[str, Any], Channel], Dict[str, Any]]] = {
    "W1": w1,
    "W2": w2,
    "W3": w3,
    "W4": w4,
    "W5": w5,
    "W6": w6,
    "W7": w3,
    "W8": w8,
}
