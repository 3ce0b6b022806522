"""HTTP proxies: CONNECT tunnels through a real proxy server (pproxy), env variables,
refusals (407, 403) and reconnects."""

from __future__ import annotations

import logging
import socket
from typing import Any, Dict

import pytest

from relaysync import RelayClient, RelayConnectionError
from relaysync._log import mask_secrets
from relaysync.testing import RelaySimulator
from relaysync.wire.proxy import Proxy, choose_proxy, parse_proxy

from .helpers import FAST, relaysync_threads
from .proxy_support import ForbiddingProxy, PProxy

fast: Dict[str, Any] = dict(FAST)


def sim_authority(sim: RelaySimulator) -> str:
    return f"{sim.host}:{sim.port}"


@pytest.mark.timeout(60)
def test_ws_through_an_authenticating_proxy_survives_reconnects(sim: RelaySimulator) -> None:
    with PProxy(auth="alice:s3cret") as proxy:
        client = RelayClient(
            sim.project, sim.token, url=sim.url, proxy=proxy.url_with("alice:s3cret"), **fast
        )
        with client:
            assert client.execute("signalwire.ping", {}) is not None
            assert proxy.wait_tunnels(1) == [sim_authority(sim)]
            sim.drop_connections()
            proxy.wait_tunnels(2)
            sim.wait_until(lambda: sim.authentication_count >= 2, timeout=10)
            assert client.execute("signalwire.ping", {}, timeout=10) is not None
        assert proxy.tunnels == [sim_authority(sim)] * 2
    assert relaysync_threads() == []


@pytest.mark.timeout(60)
def test_wss_runs_tls_end_to_end_through_the_tunnel() -> None:
    with RelaySimulator(tls=True) as secure, PProxy() as proxy:
        with RelayClient(
            secure.project, secure.token, url=secure.url, ca_file=secure.ca_file, proxy=proxy.url
        ) as client:
            assert client.execute("signalwire.ping", {}) is not None
        assert proxy.tunnels == [f"{secure.host}:{secure.port}"]
        assert secure.authentication_count == 1
    assert relaysync_threads() == []


def local_address() -> str:
    """A non-loopback address of this machine (no packet is sent), or skip."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 9))
        address: str = probe.getsockname()[0]
    except OSError:
        address = ""
    finally:
        probe.close()
    if not address or address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


@pytest.mark.timeout(60)
def test_proxy_variables_are_used_and_no_proxy_goes_direct(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Loopback hosts never take an environment proxy, so the simulator listens on a
    # non-loopback address of this machine.
    address = local_address()
    with RelaySimulator(host=address) as remote, PProxy(auth="bob:pw") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url_with("bob:pw"))
        monkeypatch.delenv("http_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        options: Dict[str, Any] = {"url": remote.url, "allow_insecure": True, **fast}
        with RelayClient(remote.project, remote.token, **options) as client:
            assert client.execute("signalwire.ping", {}) is not None
        assert proxy.tunnels == [f"{address}:{remote.port}"]
        monkeypatch.setenv("NO_PROXY", f"example.org,{address}")
        with RelayClient(remote.project, remote.token, **options) as client:
            assert client.execute("signalwire.ping", {}) is not None
        assert len(proxy.tunnels) == 1 and remote.authentication_count == 2
    assert relaysync_threads() == []


def test_environment_rules() -> None:
    env = {
        "https_proxy": "http://u:p@proxy.corp:3128",
        "HTTP_PROXY": "proxy.corp",
        "NO_PROXY": "internal.example,.svc.local",
    }
    assert choose_proxy(None, "wss://relay.signalwire.com", env) == Proxy(
        "proxy.corp", 3128, "u", "p"
    )
    assert choose_proxy(None, "ws://10.0.0.5:8080", env) == Proxy("proxy.corp", 8080)
    assert choose_proxy(None, "wss://internal.example", env) is None
    assert choose_proxy(None, "wss://relay.svc.local", env) is None
    assert choose_proxy(None, "wss://127.0.0.1:9000", env) is None
    assert choose_proxy(None, "wss://localhost:9000", env) is None
    assert choose_proxy(False, "wss://relay.signalwire.com", env) is None
    assert choose_proxy("http://other:1", "wss://127.0.0.1", env) == Proxy("other", 1)
    assert choose_proxy(None, "wss://relay.signalwire.com", {"NO_PROXY": "*"}) is None
    cidr = {**env, "NO_PROXY": "10.0.0.0/8 relay.example.com:8443"}
    assert choose_proxy(None, "ws://10.1.2.3", cidr) is None
    assert choose_proxy(None, "wss://relay.example.com:8443", cidr) is None
    assert choose_proxy(None, "wss://relay.example.com", cidr) is not None
    assert choose_proxy(None, "wss://relay.signalwire.com", {**env, "no_proxy": "*"}) is None


def test_bad_proxy_urls_name_the_argument_and_mask_the_password() -> None:
    with pytest.raises(ValueError, match=r"proxy must be an http:// proxy URL.*u:\*\*\*@") as info:
        parse_proxy("socks5://u:hunter2@h:1")
    assert "hunter2" not in str(info.value)
    with pytest.raises(ValueError, match="bad port"):
        parse_proxy("http://h:notaport")
    with pytest.raises(TypeError, match="proxy must be a URL string"):
        parse_proxy(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTPS_PROXY"):
        choose_proxy(None, "wss://x.example", {"HTTPS_PROXY": "ftp://h"})
    with pytest.raises(ValueError, match="not True"):
        RelayClient("p", "t", url="ws://127.0.0.1:1", proxy=True)
    assert "hunter2" not in repr(parse_proxy("http://u:hunter2@h:1"))
    assert parse_proxy("http://u%40corp:p%3Aw@h").password == "p:w"
    # a password with a raw "@" or ":" is masked whole, in errors and in logs alike
    with pytest.raises(ValueError, match=r"u:\*\*\*@h:x'") as raw:
        parse_proxy("http://u:hun@ter:2@h:x")
    assert "hun" not in str(raw.value) and "ter" not in str(raw.value)
    masked = mask_secrets({"note": "via http://u:hun@ter2@h:1 and sip:bob:pw@h"})
    assert masked == {"note": "via http://u:***@h:1 and sip:bob:***@h"}


@pytest.mark.timeout(60)
def test_wrong_proxy_credentials_raise_at_once_naming_the_masked_proxy(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="relaysync")
    with PProxy(auth="alice:right") as proxy:
        client = RelayClient(
            sim.project, sim.token, url=sim.url, proxy=proxy.url_with("alice:wrong"), **fast
        )
        with pytest.raises(RelayConnectionError) as info:
            client.connect(timeout=20)
        error = info.value
        assert error.code == 407
        assert f"proxy http://alice:***@127.0.0.1:{proxy.port}" in str(error)
        assert "credentials" in str(error)
        assert "wrong" not in str(error)
        assert relaysync_threads() == []  # connect() gave up: nothing can retry now
        assert len(proxy.wait_refused(1)) == 1 and proxy.tunnels == []  # tried once
    assert sim.authentication_count == 0
    assert all("wrong" not in r.getMessage() for r in caplog.records)
    assert relaysync_threads() == []


@pytest.mark.timeout(60)
def test_a_proxy_that_forbids_the_tunnel_raises_403(sim: RelaySimulator) -> None:
    with ForbiddingProxy() as proxy:
        client = RelayClient(
            sim.project, sim.token, url=sim.url, proxy=f"http://u:pw@127.0.0.1:{proxy.port}"
        )
        with pytest.raises(RelayConnectionError, match=r"refused the tunnel.*403 Forbidden") as e:
            client.connect(timeout=20)
        assert e.value.code == 403 and "u:***@" in str(e.value)
        assert proxy.requests[0].startswith(f"CONNECT {sim_authority(sim)} HTTP/1.1\r\n".encode())
        assert b"Proxy-Authorization: Basic dTpwdw==\r\n" in proxy.requests[0]
    assert relaysync_threads() == []


@pytest.mark.timeout(60)
def test_a_proxy_that_drops_the_tunnel_is_a_connection_error_naming_it(
    sim: RelaySimulator,
) -> None:
    with PProxy(block=("127.0.0.1",)) as proxy:
        client = RelayClient(sim.project, sim.token, url=sim.url, proxy=proxy.url, **fast)
        with pytest.raises(RelayConnectionError, match=f"through proxy {proxy.url}"):
            client.connect(timeout=1.5)
        assert proxy.wait_refused(1) and proxy.tunnels == []
    assert relaysync_threads() == []
