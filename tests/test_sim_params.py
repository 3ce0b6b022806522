"""RelaySimulator's param checks (DESIGN.md §4, "never stricter than RELAY, never looser"):
types by path, unknown params as lint or refused in strict mode, one rule for missing
params, and the events it sends only when a source confirms them or a test scripts them.
Everything over a real socket (raw frames, so no client-side check interferes)."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from relaysync.testing import RelaySimulator
from relaysync.testing.lint import LintEntry
from relaysync.testing.methods import ID_PARAMS, METHODS, TYPE_TAGS, param_facts
from relaysync.testing.peer import RawPeer, ids
from relaysync.testing.plugin import STRICT_MARKER, strict_requested
from relaysync.testing.remote import RemoteSimulator

from .helpers import SimulateProcess

Params = Dict[str, Any]

#: A value of the wrong type for each tag, and the words the error must use.
WRONG = {"str": 5, "bool": "yes", "int": "5", "number": "5", "dict": ["x"], "list": {"x": 1}}
WANTED = {
    "str": "a string",
    "bool": "a boolean",
    "int": "an integer",
    "number": "a number",
    "dict": "an object",
    "list": "a list",
}


def _nest(tokens: List[str], leaf: Any) -> Any:
    if not tokens:
        return leaf
    head, rest = tokens[0], tokens[1:]
    return [_nest(rest, leaf)] if head == "[]" else {head: _nest(rest, leaf)}


def _tokens(path: str) -> List[str]:
    out: List[str] = []
    for part in path.split("."):
        name = part.split("[", 1)[0]
        out.append(name)
        out.extend(["[]"] * part.count("[]"))
    return out


def _error(peer: RawPeer, method: str, params: Params) -> Params:
    reply = peer.request(method, params)
    assert "error" in reply, (method, params, reply)
    error: Params = reply["error"]
    return error


# -- the facts ------------------------------------------------------------------------------


def test_param_facts_carry_the_documented_types() -> None:
    facts = param_facts()
    assert set(facts) == set(METHODS)
    for method, (required, types) in facts.items():
        assert not required & ID_PARAMS and not set(types) & ID_PARAMS, method
        assert set(types.values()) <= set(TYPE_TAGS), method
        assert required <= {path.split(".")[0].split("[")[0] for path in types}, method
    # Numbers that are strings in RELAY's own classes (SCHEMA.md).
    assert facts["calling.ai_hold"][1]["timeout"] == "str"
    for name in ("charge_amount", "timeout", "max_attempts", "min_postal_code_length"):
        assert facts["calling.pay"][1][name] == "str"
    assert facts["calling.join_conference"][1]["coach"] == "str"
    assert facts["calling.join_conference"][1]["muted"] == "bool"
    assert facts["calling.record"][1]["record.audio.beep"] == "bool"
    assert facts["calling.play"][1]["play[].params.text"] == "str"
    assert facts["calling.dial"][1]["devices[][].type"] == "str"
    assert facts["calling.play_and_collect"][1]["collect.digits.max"] == "int"
    assert facts["calling.collect"][1]["digits.max"] == "int"
    assert facts["calling.dial"][1]["max_duration"] == "int"
    assert facts["calling.connect"][1]["max_price_per_minute"] == "number"
    assert facts["calling.send_fax"][1]["identity"] == "str"
    assert facts["calling.user_event"][1]["event"] == "any"
    assert facts["calling.collect"][0] == frozenset()  # digits and/or speech
    assert facts["calling.refer"][0] == {"device"}


def test_every_typed_param_refuses_a_wrong_type_naming_its_path(peer: RawPeer) -> None:
    """Each param of each method that a source types, nested ones included, sent with a
    value of another type: -32602 naming the path and the type wanted. Types are checked
    before anything else, so the ids need not name a live call."""
    checked = 0
    for method, spec in METHODS.items():
        for path, tag in spec.types.items():
            if tag == "any" or path in ID_PARAMS:
                continue
            params = {"node_id": "n", "call_id": "c", **_nest(_tokens(path), WRONG[tag])}
            error = _error(peer, method, params)
            assert error["code"] == -32602, (method, path, error)
            assert error["data"] == {"signalwire_error_code": "INVALID_PARAMS"}
            assert f"{path} must be {WANTED[tag]}" in error["message"], (method, path, error)
            checked += 1
    assert checked > 300


def test_a_missing_required_param_is_refused_by_one_rule(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    call = peer.answered_call(sim)
    for method, spec in METHODS.items():
        needed = [name for name in spec.required if name not in ID_PARAMS]
        if not needed or "call_id" not in spec.required:
            continue
        params = {**ids(call), "control_id": "ctl"}
        error = _error(peer, method, params)
        assert error["code"] == -32602, (method, error)
        assert f"{method}: missing required params: {', '.join(needed)}" == error["message"]
    for method, params in (
        ("calling.dial", {"tag": "t"}),
        ("messaging.send", {"context": "office", "from_number": "+15550001111"}),
    ):
        error = _error(peer, method, params)
        assert error["code"] == -32602 and "missing required params" in error["message"]


def test_values_of_the_documented_type_are_accepted(sim: RelaySimulator, peer: RawPeer) -> None:
    """What RELAY's classes accept passes: strings where they type strings."""
    call = peer.answered_call(sim)
    base = ids(call)
    assert peer.call("calling.ai", {**base, "control_id": "a"})["code"] == "200"
    assert peer.call("calling.ai_hold", {**base, "timeout": "30"})["code"] == "200"
    pay = {
        **base,
        "control_id": "p",
        "payment_connector_url": "https://pay.example.com",
        "charge_amount": "10.50",
        "currency": "usd",
        "timeout": "5",
        "max_attempts": "2",
        "min_postal_code_length": "5",
        "security_code": "false",
        "parameters": [{"name": "k", "value": "v"}],
        "prompts": [{"for": "payment-card-number", "actions": []}],
    }
    assert peer.call("calling.pay", pay)["code"] == "200"
    fax = {**base, "control_id": "f", "document": "https://example.com/a.pdf"}
    answer = peer.call("calling.send_fax", {**fax, "identity": "+15550009999", "header_info": "Hi"})
    assert answer["code"] == "200"
    assert sim.lint == []


# -- lint and strict mode ---------------------------------------------------------------


def test_unknown_params_are_accepted_as_lint_with_their_paths_once(
    sim: RelaySimulator, peer: RawPeer, caplog: pytest.LogCaptureFixture
) -> None:
    call = peer.answered_call(sim)
    record = {
        **ids(call),
        "control_id": "r",
        "record": {"audio": {"beeep": True, "format": "wav"}},
        "colour": "blue",
    }
    play = {
        **ids(call),
        "control_id": "p",
        "play": [{"type": "tts", "params": {"txt": "hi", "text": "hi"}}],
    }
    with caplog.at_level(logging.WARNING, logger="relaysync.simulator"):
        for _ in range(2):
            assert peer.call("calling.record", record)["code"] in ("200", "409")
            assert peer.call("calling.play", play)["code"] in ("200", "409")
        user_event = {**ids(call), "event": "x", "order_id": "42"}  # the SDK's own example
        assert peer.call("calling.user_event", user_event)["code"] == "200"
    assert [(e.method, e.path) for e in sim.lint] == [
        ("calling.record", "record.audio.beeep"),
        ("calling.record", "colour"),
        ("calling.play", "play[].params.txt"),
        ("calling.user_event", "order_id"),
    ]
    assert all(isinstance(e, LintEntry) and e.note for e in sim.lint)
    logged = [r.getMessage() for r in caplog.records if "record.audio.beeep" in r.getMessage()]
    assert len(logged) == 1
    sim.clear_lint()
    assert sim.lint == []


def test_strict_mode_refuses_unknown_params_naming_the_path() -> None:
    with RelaySimulator(time_scale=0.01, strict=True) as sim:
        peer = RawPeer(sim, ["office"])
        try:
            call = peer.answered_call(sim)
            params = {**ids(call), "control_id": "r", "record": {"audio": {"beeep": True}}}
            error = _error(peer, "calling.record", params)
            assert error["code"] == -32602 and "record.audio.beeep" in error["message"]
            assert sim.strict and sim.lint == []
            sim.strict = False
            assert peer.call("calling.record", params)["code"] == "200"
            assert [e.path for e in sim.lint] == ["record.audio.beeep"]
        finally:
            peer.close()


@pytest.mark.relay_strict
def test_the_plugin_marker_makes_the_fixture_strict(relay_simulator: RelaySimulator) -> None:
    assert STRICT_MARKER == "relay_strict"
    assert relay_simulator.strict is True


def test_the_plugin_fixture_is_lenient_by_default(relay_simulator: RelaySimulator) -> None:
    assert relay_simulator.strict is False


@pytest.mark.parametrize(
    ("marked", "option", "ini", "strict"),
    [
        (False, False, False, False),
        (True, False, False, True),
        (False, True, False, True),
        (False, False, True, True),
    ],
)
def test_strict_mode_from_marker_option_or_ini(
    marked: bool, option: bool, ini: bool, strict: bool
) -> None:
    request = SimpleNamespace(
        node=SimpleNamespace(get_closest_marker=lambda name: object() if marked else None),
        config=SimpleNamespace(
            getoption=lambda name, default=False: option, getini=lambda name: ini
        ),
    )
    assert strict_requested(request) is strict  # type: ignore[arg-type]


def test_remote_control_reads_lint_and_sets_strict(
    sim: RelaySimulator, peer: RawPeer, remote: RemoteSimulator
) -> None:
    call = peer.answered_call(sim)
    assert peer.call("calling.user_event", {**ids(call), "evnt": 1})["code"] == "200"
    assert remote.lint() == [
        LintEntry("calling.user_event", "evnt", sim.lint[0].note),
    ]
    assert remote.strict() is False
    remote.set_strict(True)
    assert sim.strict is True and remote.strict() is True
    error = _error(peer, "calling.user_event", {**ids(call), "evnt": 1})
    assert error["code"] == -32602 and "evnt" in error["message"]
    remote.clear_lint()
    assert remote.lint() == [] and sim.lint == []


def test_remote_control_scripts_the_ai_end(
    sim: RelaySimulator, peer: RawPeer, remote: RemoteSimulator
) -> None:
    call = peer.answered_call(sim)
    handle = remote.get_call(call.call_id)
    assert handle is not None
    with pytest.raises(ValueError, match=r"no calling\.ai session"):
        handle.finish_ai()
    assert peer.call("calling.ai", {**ids(call), "control_id": "a"})["code"] == "200"
    assert handle.finish_ai("error") == "a"
    event = peer.wait_event("calling.call.ai", lambda p: p["control_id"] == "a")
    assert event["state"] == "error"


@pytest.mark.timeout(30)
def test_simulate_strict_refuses_unknown_params() -> None:
    with SimulateProcess("--port", "0", "--time-scale", "0.01", "--strict") as process:
        fields = process.fields
        assert fields["strict"] == "on"
        with RemoteSimulator(fields["url"], fields["project"], fields["control_token"]) as remote:
            assert remote.strict() is True


# -- events: only confirmed ones, or scripted ------------------------------------------------


def test_a_successful_pay_reports_payment_completed_before_its_result(
    sim: RelaySimulator, peer: RawPeer
) -> None:
    call = peer.answered_call(sim)
    params = {**ids(call), "control_id": "p", "payment_connector_url": "https://pay.example.com"}
    assert peer.call("calling.pay", params)["code"] == "200"
    done = peer.wait_event("calling.call.pay", lambda p: "result" in p)
    assert done["result"] == "success"
    steps = [
        e["params"].get("for") for e in list(peer.events) if e["event_type"] == "calling.call.pay"
    ]
    assert steps[-2:] == ["payment-completed", None]


def test_a_digit_binding_runs_the_bound_play(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    bind = {
        **ids(call),
        "digits": "*1",
        "bind_method": "calling.play",
        "params": {"play": [{"type": "tts", "params": {"text": "you pressed star one"}}]},
    }
    assert peer.call("calling.bind_digit", bind)["code"] == "200"
    call.press("*1")
    playing = peer.wait_event("calling.call.play", lambda p: p["state"] == "playing")
    assert playing["call_id"] == call.call_id and playing["control_id"]
    done = peer.wait_event("calling.call.play", lambda p: p["state"] == "finished")
    assert done["control_id"] == playing["control_id"]


def test_conference_options_reach_the_events_as_sent(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    params = {
        **ids(call),
        "name": "sales",
        "coach": "agent-call-id",
        "muted": True,
        "beep": "false",
    }
    assert peer.call("calling.join_conference", params)["code"] == "200"
    joined = peer.wait_event("calling.conference", lambda p: p["status"] == "participant-join")
    assert joined["coach"] == "agent-call-id" and joined["muted"] is True
    error = _error(peer, "calling.join_conference", {**params, "beep": True})
    assert "beep must be a string" in error["message"]


def test_send_fax_reports_the_identity_it_was_given(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    params = {
        **ids(call),
        "control_id": "f",
        "document": "https://example.com/a.pdf",
        "identity": "+15550009999",
    }
    assert peer.call("calling.send_fax", params)["code"] == "200"
    assert peer.call("calling.send_fax.stop", {**ids(call), "control_id": "f"})["code"] == "200"
    done = peer.wait_event("calling.call.fax", lambda p: p["fax"]["type"] == "finished")
    assert done["fax"]["params"]["identity"] == "+15550009999"


def test_a_stopped_collect_ends_with_a_result(sim: RelaySimulator, peer: RawPeer) -> None:
    call = peer.answered_call(sim)
    params = {**ids(call), "control_id": "c", "digits": {"max": 4}, "initial_timeout": 100.0}
    assert peer.call("calling.collect", params)["code"] == "200"
    assert peer.call("calling.collect.stop", {**ids(call), "control_id": "c"})["code"] == "200"
    done = peer.wait_event("calling.call.collect", lambda p: p.get("final") is True)
    assert done["state"] == "finished" and done["result"] == {"type": "no_input"}
