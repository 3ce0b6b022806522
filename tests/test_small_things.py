"""SIGNALWIRE_RELAY_URL, `relaysync simulate`'s export lines, the simulator's import
error without the sim extra, and what `relaysync listen` takes from the application."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator

from .helpers import SimulateProcess
from .test_listen import ListenProcess, clean_env, listen_args

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_signalwire_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "SIGNALWIRE_PROJECT_ID",
        "SIGNALWIRE_API_TOKEN",
        "SIGNALWIRE_JWT_TOKEN",
        "SIGNALWIRE_SPACE",
        "SIGNALWIRE_RELAY_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_relay_url_from_the_environment(
    sim: RelaySimulator, no_signalwire_env: pytest.MonkeyPatch
) -> None:
    env = no_signalwire_env
    env.setenv("SIGNALWIRE_PROJECT_ID", sim.project)
    env.setenv("SIGNALWIRE_API_TOKEN", sim.token)
    env.setenv("SIGNALWIRE_RELAY_URL", sim.url)
    env.setenv("SIGNALWIRE_SPACE", "example.signalwire.com")  # the full URL wins
    with RelayClient(contexts=["office"]) as client:
        assert client.url == sim.url and client.connected
    # explicit arguments win over the environment
    assert RelayClient(url="wss://a.example.com").url == "wss://a.example.com"
    assert RelayClient(host="b.example.com").url == "wss://b.example.com"


def test_relay_url_from_the_environment_follows_the_url_rules(
    no_signalwire_env: pytest.MonkeyPatch,
) -> None:
    env = no_signalwire_env
    env.setenv("SIGNALWIRE_RELAY_URL", "ws://relay.example.com")
    with pytest.raises(ValueError, match="SIGNALWIRE_RELAY_URL: refusing plain ws://"):
        RelayClient("p", "t")
    assert RelayClient("p", "t", allow_insecure=True).url == "ws://relay.example.com"
    env.setenv("SIGNALWIRE_RELAY_URL", "https://relay.example.com")
    with pytest.raises(ValueError, match="SIGNALWIRE_RELAY_URL: url must start with ws://"):
        RelayClient("p", "t")
    env.delenv("SIGNALWIRE_RELAY_URL")
    env.setenv("SIGNALWIRE_SPACE", "space.example.com")
    assert RelayClient("p", "t").url == "wss://space.example.com"


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_simulate_prints_export_lines_an_env_only_client_can_use(
    no_signalwire_env: pytest.MonkeyPatch,
) -> None:
    with SimulateProcess("--project", "p1", "--token", "t1") as served:
        exports = [line.strip() for line in served.lines if line.strip().startswith("export ")]
        values = dict(shlex.split(line)[1].split("=", 1) for line in exports)
        assert values == {
            "SIGNALWIRE_PROJECT_ID": "p1",
            "SIGNALWIRE_API_TOKEN": "t1",
            "SIGNALWIRE_RELAY_URL": served.fields["url"],
        }
        for name, value in values.items():
            no_signalwire_env.setenv(name, value)
        with RelayClient(contexts=["office"]) as client:
            assert client.connected
        assert served.stop(signal.SIGTERM) == 0


# No websockets: the sim extra is not installed.
NO_SIM_EXTRA = textwrap.dedent("""
    import sys
    sys.modules["websockets"] = None  # as if the sim extra were not installed
    import relaysync.testing.plugin  # the pytest plugin loads without it
    try:
        from relaysync.testing import RelaySimulator
    except ImportError as exc:
        print(type(exc).__name__, exc.name)
        print(exc)
""")


def test_the_simulator_without_the_sim_extra_names_the_extra() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", NO_SIM_EXTRA],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=45,  # fails before the test's 60 s timeout ends the run
    )
    assert proc.returncode == 0, proc.stderr
    kind, message = proc.stdout.splitlines()
    assert kind == "ImportError websockets"
    assert "'sim' extra" in message
    assert 'pip install "relaysync[sim]"' in message
    assert 'pip install -e ".[sim]"' in message


@pytest.mark.timeout(90)
def test_listen_says_what_it_takes_from_the_application(sim: RelaySimulator) -> None:
    listener = ListenProcess(*listen_args(sim, "--context", "office"), env=clean_env())
    try:
        note = listener.wait(listener.err, lambda line: line.startswith("# call offers"))
        assert note == (
            "# call offers are passed on to your application; inbound messages RELAY "
            "delivers here are taken from your application (RELAY hands each to one consumer)"
        )
        listener.wait(listener.err, lambda line: line == "# connected")
        message = sim.inbound_message("office", body="hello")
        taken = listener.wait(listener.err, lambda line: line.startswith("# message "))
        assert taken == (
            f"# message {message.message_id} was delivered here: your application "
            "does not receive it"
        )
        listener.wait(listener.out, lambda line: "messaging.receive" in line)
    finally:
        status = listener.stop(signal.SIGINT)
    assert status == 0, listener.err
    assert not any("Traceback" in line for line in listener.err)
