"""The workloads as a user of SignalWire's asyncio SDK (``signalwire-sdk``) writes them.

The SDK builds ``wss://<SIGNALWIRE_SPACE>`` and trusts ``SIGNALWIRE_RELAY_CA_FILE``; both
are set here, before the client is made. Its ``refer()`` returns once the request is
accepted, so the flow waits for the final ``calling.call.refer`` event itself, as a
user must.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from typing import Any, Awaitable, Callable, Dict, List

from sbs_run import (
    PRESSED,
    PROMPT,
    REFER_TARGET,
    RING_TIMEOUT,
    W5_RING_TIMEOUT,
    Channel,
    Span,
    native_threads,
    result,
)

FINAL_REFER = ("success", "busy", "noAnswer", "cancel", "error")


async def _ask(channel: Channel, want: str, **params: Any) -> Dict[str, Any]:
    """``channel.ask`` without blocking the loop."""
    channel.send({"want": want, **params})
    return await asyncio.to_thread(channel.receive)


def _run(
    config: Dict[str, Any], body: Callable[[Any], Awaitable[Dict[str, Any]]]
) -> Dict[str, Any]:
    os.environ["SIGNALWIRE_SPACE"] = config["host"]
    os.environ["SIGNALWIRE_RELAY_CA_FILE"] = config["ca_file"]
    from signalwire.relay import RelayClient

    async def main() -> Dict[str, Any]:
        client = RelayClient(project=config["project"], token=config["token"], contexts=["office"])
        await asyncio.wait_for(client.connect(), 30.0)
        try:
            return await body(client)
        finally:
            await client.disconnect()

    return asyncio.run(main())


def w1(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W1: sequential ``signalwire.ping`` round trips."""

    async def body(client: Any) -> Dict[str, Any]:
        for _ in range(50):
            await client.execute("signalwire.ping", {})
        latencies: List[float] = []
        span = Span()
        for _ in range(config["n"]):
            began = time.monotonic()
            await client.execute("signalwire.ping", {})
            latencies.append(time.monotonic() - began)
        span.stop()
        return result(config["n"], span, latencies)

    return _run(config, body)


def w2(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W2: ``width`` tasks, each ``n / width`` pings."""
    width = config["width"]
    share = config["n"] // width

    async def body(client: Any) -> Dict[str, Any]:
        for _ in range(50):
            await client.execute("signalwire.ping", {})
        latencies: List[float] = []

        async def worker() -> None:
            for _ in range(share):
                began = time.monotonic()
                await client.execute("signalwire.ping", {})
                latencies.append(time.monotonic() - began)

        span = Span()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(width))), 120.0)
        span.stop()
        return result(len(latencies), span, latencies)

    return _run(config, body)


def w3(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W3 (and each W7 process): answer, play silence and wait, refer and wait, ended."""
    n = config["n"]

    async def body(client: Any) -> Dict[str, Any]:
        latencies: List[float] = []
        failures: List[str] = []
        finished = asyncio.Event()
        last = [0.0]

        async def on_call(call: Any) -> None:
            began = time.monotonic()
            failure = ""
            try:
                await call.answer()
                play = await call.play([{"type": "silence", "params": {"duration": 1.0}}])
                await play.wait(timeout=30.0)
                outcome = asyncio.ensure_future(
                    call.wait_for(
                        "calling.call.refer",
                        lambda event: event.params.get("state") in FINAL_REFER,
                        timeout=30.0,
                    )
                )
                await asyncio.sleep(0)  # let the waiter register before the request goes
                await call.refer({"type": "sip", "params": {"to": REFER_TARGET}})
                event = await outcome
                if event.params.get("state") != "success":
                    failure = f"refer ended {event.params.get('state')}"
                await call.wait_for_ended(timeout=30.0)
            except Exception as exc:
                failure = repr(exc)
            now = time.monotonic()
            latencies.append(now - began)
            last[0] = max(last[0], now)
            if failure:
                failures.append(failure)
            if len(latencies) >= n:
                finished.set()

        client.on_call(on_call)
        span = Span()
        await _ask(channel, "place", count=n, ring_timeout=RING_TIMEOUT)
        await asyncio.wait_for(finished.wait(), 120.0)
        span.stop(last[0])
        return result(n, span, latencies, failures=len(failures), start=span.start)

    return _run(config, body)


def w4(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W4: events pushed at one answered call, to a ``call.on()`` listener."""

    async def body(client: Any) -> Dict[str, Any]:
        answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def on_call(call: Any) -> None:
            await call.answer()
            answered.set_result(call)

        client.on_call(on_call)
        await _ask(channel, "place", count=1, ring_timeout=RING_TIMEOUT)
        call = await asyncio.wait_for(answered, 30.0)
        done = asyncio.Event()
        seen = [0]

        def on_play(event: Any) -> None:
            seen[0] += 1
            if event.params.get("state") == "finished":
                done.set()

        call.on("calling.call.play", on_play)
        span = Span()
        reply = asyncio.ensure_future(
            _ask(channel, "push", call_id=call.call_id, node_id=call.node_id, n=config["n"])
        )
        await asyncio.wait_for(done.wait(), 120.0)
        span.stop()
        await reply
        return result(seen[0], span)

    return _run(config, body)


def w5(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W5: ``n`` live calls at once: set up (answered), held, torn down (hung up, ended)."""
    n = config["n"]

    async def body(client: Any) -> Dict[str, Any]:
        calls: List[Any] = []
        all_up = asyncio.Event()

        async def on_call(call: Any) -> None:
            await call.answer()
            calls.append(call)
            if len(calls) >= n:
                all_up.set()

        client.on_call(on_call)
        span = Span()
        await _ask(channel, "place", count=n, ring_timeout=W5_RING_TIMEOUT)
        await asyncio.wait_for(all_up.wait(), 180.0)
        set_up = time.monotonic() - span.start
        live = result(n, span)
        began = time.monotonic()
        await asyncio.gather(*(call.hangup() for call in calls))
        await asyncio.gather(*(call.wait_for_ended(timeout=60.0) for call in calls))
        torn_down = time.monotonic() - began
        span.stop()
        return result(
            n,
            span,
            setup_s=set_up,
            teardown_s=torn_down,
            live_rss_kib=live["peak_rss_kib"],
            live_threads=live["threads"],
            tracked_after=len(getattr(client, "_calls", {})),
        )

    return _run(config, body)


def w6(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W6: from a dropped connection (server side) to the next successful RPC.

    The SDK reconnects only inside ``run()``, which blocks in ``asyncio.run``; the
    coroutine behind it runs here as a task, as ``run()`` would run it.
    """
    os.environ["SIGNALWIRE_SPACE"] = config["host"]
    os.environ["SIGNALWIRE_RELAY_CA_FILE"] = config["ca_file"]
    from signalwire.relay import RelayClient

    async def main() -> Dict[str, Any]:
        client = RelayClient(project=config["project"], token=config["token"], contexts=["office"])
        runner = asyncio.ensure_future(client._run_forever())
        try:
            for _ in range(3000):
                if getattr(client, "_authenticated_ever", False) and client._connected:
                    break
                await asyncio.sleep(0.01)
            for _ in range(20):
                await client.execute("signalwire.ping", {})
            span = Span()
            dropped_at = (await _ask(channel, "drop"))["at"]
            failed = 0
            deadline = time.monotonic() + 60.0
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(client.execute("signalwire.ping", {}), 30.0)
                    break
                except Exception:
                    failed += 1
            span.stop()
            recovery = span.end - dropped_at
            return result(1, span, [recovery], recovery_s=recovery, failed_rpcs=failed)
        finally:
            client._closing = True
            runner.cancel()
            with contextlib.suppress(BaseException):
                await runner
            await client.disconnect()

    return asyncio.run(main())


def w8(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W8: ``n`` inbound calls offered at once: answer, prompt and collect one digit
    (pressed ``press_seconds`` after the prompt), refer and wait for the outcome."""
    n = config["n"]
    press = config["press_seconds"]

    async def body(client: Any) -> Dict[str, Any]:
        latencies: List[float] = []
        failures: List[str] = []
        finished = asyncio.Event()
        last = [0.0]
        prompted = [0]
        live_threads = [0]
        span: List[Span] = []

        async def on_call(call: Any) -> None:
            failure = ""
            try:
                await call.answer()
                action = await call.prompt_tts(
                    PROMPT, {"digits": {"max": 1}, "initial_timeout": 60.0}
                )
                prompted[0] += 1
                if prompted[0] == n:
                    live_threads[0] = native_threads()
                event = await action.wait(timeout=120.0)
                found = event.params.get("result", {})
                digits = found.get("params", {}).get("digits")
                if digits != PRESSED:
                    failure = f"collected {found.get('type')} {digits!r}"
                outcome = asyncio.ensure_future(
                    call.wait_for(
                        "calling.call.refer",
                        lambda event: event.params.get("state") in FINAL_REFER,
                        timeout=60.0,
                    )
                )
                await asyncio.sleep(0)  # let the waiter register before the request goes
                await call.refer({"type": "sip", "params": {"to": REFER_TARGET}})
                referred = await outcome
                if referred.params.get("state") != "success":
                    failure = failure or f"refer ended {referred.params.get('state')}"
            except Exception as exc:
                failure = repr(exc)
            now = time.monotonic()
            latencies.append(now - span[0].start - press)
            last[0] = max(last[0], now)
            if failure:
                failures.append(failure)
            if len(latencies) >= n:
                finished.set()

        client.on_call(on_call)
        await _ask(channel, "press", count=n, digit=PRESSED, seconds=press)
        span.append(Span())
        await _ask(channel, "place", count=n, ring_timeout=RING_TIMEOUT)
        await asyncio.wait_for(finished.wait(), 300.0)
        span[0].stop(last[0])
        return result(
            n,
            span[0],
            latencies,
            failures=len(failures),
            start=span[0].start,
            live_threads=live_threads[0],
        )

    return _run(config, body)


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

if sys.version_info < (3, 10):  # pragma: no cover - the SDK needs 3.10
    raise ImportError("signalwire-sdk needs Python 3.10 or later")
