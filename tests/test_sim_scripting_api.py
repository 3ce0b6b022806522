"""The simulator's scripting API is declared once, by the in-process signatures.

``RelaySimulator`` and ``SimCall`` hold every parameter and default; the control table
(``simulator.*``) is derived from them, and ``RemoteSimulator``/``RemoteCall`` restate
them as typed, documented methods. These tests fail when the two drift apart: a
method without its remote counterpart or control entry, a parameter or default that
differs, or a remote method that sends other params than the in-process one takes.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

import pytest

from relaysync.testing import RelaySimulator, RpcFault, SimCall
from relaysync.testing.caller import CallerActions
from relaysync.testing.control import Controller, read_params, spec_of
from relaysync.testing.frame_dispatch import CONTROL_PREFIX
from relaysync.testing.remote import RemoteCall, RemoteCallerScript, RemoteSimulator

#: Public names of RelaySimulator that have no remote counterpart, and why.
SIMULATOR_ONLY = {
    "start": "the process that runs the simulator starts it",
    "stop": "the process that runs the simulator stops it",
    "url": "the remote already has it: RemoteSimulator.url",
    "ca_file": "a file of the simulator's process",
    "client_ssl_context": "an in-process object",
    "journal": "remotely journal_requests (masked frames)",
    "connection_count": "counts the control connection's process cannot see apart",
    "authentication_count": "counts the control connection's process cannot see apart",
    "wait_until": "takes a predicate (code) over in-process state",
    "wait_for_call": "takes a predicate (code) over in-process handles",
    "wait_for_message": "takes a predicate (code) over in-process messages",
    "replay_report": "a replay is set up where the simulator's process reads the cassette",
}
#: Public names of RemoteSimulator with no in-process method of the same name.
REMOTE_ONLY = {"close", "journal_requests", "set_strict"}
#: Public names of SimCall read remotely through RemoteCall.info() (one round trip).
CALL_READ_BY_INFO = {"peer", "session_id", "offered_to", "events"}
#: Remote methods answered by a control method of another name.
WIRE_NAME = {
    "get_call": "call_info",
    "strict": "lint",
    "state": "call_state",
    "end_reason": "call_state",
    "heard_digits": "call_info",
    "refers": "call_info",
    "info": "call_info",
}

#: A value for each required parameter when a remote method is called for the test.
SAMPLES: Dict[str, Any] = {
    "n": 1,
    "seconds": 2.0,
    "code": 404,
    "params": {"x": 1},
    "state": "answered",
    "frame": "{}",
}


def _public(cls: type, base: type = object) -> Set[str]:
    return {name for name in dir(cls) if not name.startswith("_") and not hasattr(base, name)}


def _params(function: Callable[..., Any]) -> List[Tuple[str, Any, Any]]:
    """(name, kind, default) of each parameter but ``self``."""
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(function).parameters.values()
        if p.name != "self"
    ]


class _Sent(Exception):
    """Raised by the recording transport once a remote method has sent its request."""


class _Recorder:
    """Stands in for the remote's transport: records (method, params), answers nothing."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, Dict[str, Any]]] = []

    def __call__(self, name: str, params: Dict[str, Any], timeout: Optional[float] = None) -> Any:
        self.sent.append((name, dict(params)))
        raise _Sent


def _offline_remote() -> Tuple[RemoteSimulator, _Recorder]:
    remote = RemoteSimulator.__new__(RemoteSimulator)
    recorder = _Recorder()
    remote._call = recorder  # type: ignore[method-assign]
    return remote, recorder


def _offline_call(remote: RemoteSimulator) -> RemoteCall:
    info = dict.fromkeys(("node_id", "tag", "direction", "context", "created_by"), "x")
    return RemoteCall(remote, {**info, "call_id": "c1", "device": {}})


def _send(
    method: Callable[..., Any], recorder: _Recorder, **extra: Any
) -> Tuple[str, Dict[str, Any]]:
    """Call ``method`` with a sample for each required parameter; return what it sent."""
    args = {
        name: SAMPLES.get(name, "x")
        for name, _kind, default in _params(method)
        if default is inspect.Parameter.empty
    }
    recorder.sent.clear()
    with pytest.raises(_Sent):
        method(**args, **extra)
    assert len(recorder.sent) == 1
    return recorder.sent[0]


@pytest.fixture
def idle_sim() -> Iterator[RelaySimulator]:
    """A simulator that is built but never started (its control table is registered)."""
    sim = RelaySimulator()
    yield sim
    sim.stop()


def _control_names(sim: RelaySimulator) -> Set[str]:
    table = Controller(sim, sim._core, sim._engine).methods()
    return {name[len(CONTROL_PREFIX) :] for name in table}


def test_every_simulator_method_has_its_remote_twin_with_the_same_parameters() -> None:
    mirrored = _public(RelaySimulator) - set(SIMULATOR_ONLY)
    assert mirrored <= _public(RemoteSimulator), "missing remotely"
    assert _public(RemoteSimulator) - mirrored == REMOTE_ONLY
    for name in sorted(mirrored):
        local = inspect.getattr_static(RelaySimulator, name)
        remote = getattr(RemoteSimulator, name)
        if isinstance(local, property):  # a read in process, a method remotely
            assert _params(remote) == [], name
        else:
            assert _params(remote) == _params(local), name


def test_every_sim_call_method_has_its_remote_twin_with_the_same_parameters() -> None:
    facts = {"call_id", "node_id", "tag", "direction", "context", "created_by", "device"}
    remote_call = _offline_call(_offline_remote()[0])
    assert facts <= set(vars(remote_call)), "fixed facts are RemoteCall attributes"
    mirrored = _public(SimCall, CallerActions) - facts - CALL_READ_BY_INFO
    assert mirrored <= _public(RemoteCall, CallerActions)
    assert _public(RemoteCall, CallerActions) - mirrored == {"info"}
    for name in sorted(mirrored):
        local = inspect.getattr_static(SimCall, name)
        remote = getattr(RemoteCall, name)
        if isinstance(local, property):
            assert _params(remote) == [], name
        else:
            assert _params(remote) == _params(local), name
    # The far end is scripted by one shared class, in process and remotely.
    for handle in (SimCall, RemoteCall, RemoteCallerScript):
        assert issubclass(handle, CallerActions)


def _expected(local: Any) -> Optional[Dict[str, Any]]:
    """The params an in-process method takes when given only its required ones."""
    if not inspect.isfunction(local):
        return None
    return {
        key: SAMPLES.get(key, "x") if default is inspect.Parameter.empty else default
        for key, _kind, default in _params(local)
    }


def test_remote_methods_send_the_in_process_parameters_and_defaults(
    idle_sim: RelaySimulator,
) -> None:
    remote, recorder = _offline_remote()
    used: Set[str] = set()
    for name in sorted(_public(RemoteSimulator) - {"close"}):
        if name == "caller":  # a local script object; its methods send
            wire, params = _send(remote.caller("+15550001111").pay_outcome, recorder)
            assert params["number"] == "+15550001111"
        else:
            wire, params = _send(getattr(remote, name), recorder)
            assert wire == WIRE_NAME.get(name, name)
            expected = _expected(getattr(RelaySimulator, name, None))
            assert expected is None or params == expected, name
        used.add(wire)
    call = _offline_call(remote)
    for name in sorted(_public(RemoteCall, CallerActions) | {"press"}):
        wire, params = _send(getattr(call, name), recorder)
        used.add(wire)
        assert params.pop("call_id") == "c1", name
        if name != "press":
            assert wire == WIRE_NAME.get(name, name)
            expected = _expected(getattr(SimCall, name, None))
            assert expected is None or params == expected, name
    # The remote client uses every control method, and only those.
    assert used == _control_names(idle_sim)


def test_control_params_are_read_from_the_in_process_signatures() -> None:
    spec = spec_of(RelaySimulator.on_refer)
    assert [name for name, _types, _default in spec] == [
        name for name, _kind, _default in _params(RelaySimulator.on_refer)
    ]
    assert read_params({"target": "sip:a@b"}, spec) == {
        "target": "sip:a@b",
        "state": "success",
        "sip_refer_response_code": None,
        "sip_notify_response_code": None,
        "delay": 0.3,
    }
    with pytest.raises(RpcFault, match="delay must be int or float"):
        read_params({"target": "sip:a@b", "delay": "soon"}, spec)
    with pytest.raises(RpcFault, match="target is required"):
        read_params({}, spec)
    frame = spec_of(RelaySimulator.push_frame)[0]
    assert frame == ("frame", (dict, str), spec[0][2])  # bytes have no JSON form
    hangup = spec_of(SimCall.hangup, (("call_id", (str,), spec[0][2]),))
    assert [name for name, _types, _default in hangup] == ["call_id", "reason"]
    assert hangup[1][2] == "hangup"
