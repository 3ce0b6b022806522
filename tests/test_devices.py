"""Unit tests for relaysync.devices (device and media builders/normalisers)."""

from __future__ import annotations

import copy
import re
from typing import Any, Dict

import pytest

from relaysync._util import compact, compact_kw
from relaysync.devices import (
    audio,
    normalize_device,
    normalize_devices,
    normalize_media,
    normalize_refer_device,
    phone_device,
    redact_device,
    ringtone,
    silence,
    sip_device,
    tts,
)

pytestmark = pytest.mark.timeout(10)

PHONE_WIRE = {
    "type": "phone",
    "params": {"to_number": "+15550002222", "from_number": "+15550001111"},
}
PHONE_FLAT = {"type": "phone", "to": "+15550002222", "from": "+15550001111"}


def raises(fragment: str) -> Any:
    """pytest.raises(ValueError) matching ``fragment`` literally."""
    return pytest.raises(ValueError, match=re.escape(fragment))


# ---------------------------------------------------------------- _util


def test_compact_drops_only_none() -> None:
    source: Dict[str, Any] = {"a": None, "b": 0, "c": "", "d": False, "e": [], "f": 1}
    assert compact(source) == {"b": 0, "c": "", "d": False, "e": [], "f": 1}
    assert "a" in source  # input untouched
    assert compact_kw(x=None, y=2) == {"y": 2}


# ---------------------------------------------------------------- builders


def test_phone_device() -> None:
    assert phone_device("+15550002222", "+15550001111") == PHONE_WIRE
    assert phone_device("+15550000001", "+15550000002", timeout=30, max_duration=600) == {
        "type": "phone",
        "params": {
            "to_number": "+15550000001",
            "from_number": "+15550000002",
            "timeout": 30,
            "max_duration": 600,
        },
    }


def test_phone_device_errors() -> None:
    with raises("phone device needs a non-empty string 'to_number', got ''"):
        phone_device("", "+15550000002")
    with raises("phone device needs a non-empty string 'from_number', got 5"):
        phone_device("+15550000001", 5)  # type: ignore[arg-type]
    with raises("timeout must be a number >= 0, got -1"):
        phone_device("+15550000001", "+15550000002", timeout=-1)
    with raises("max_duration must be a number >= 0, got 'long'"):
        phone_device("+15550000001", "+15550000002", max_duration="long")  # type: ignore[arg-type]
    with raises("timeout must be a number >= 0, got True"):
        phone_device("+15550000001", "+15550000002", timeout=True)
    with raises("timeout must be a number >= 0, got nan"):
        phone_device("+15550000001", "+15550000002", timeout=float("nan"))


def test_sip_device_full() -> None:
    device = sip_device(
        "sip:alice@example.com",
        "sip:bob@example.com",
        from_name="Bob",
        headers={"X-Account": "42", "X-Priority": 1},
        codecs=("PCMU", "OPUS"),
        timeout=20,
        max_duration=60,
    )
    assert device == {
        "type": "sip",
        "params": {
            "to": "sip:alice@example.com",
            "from": "sip:bob@example.com",
            "from_name": "Bob",
            "headers": [{"name": "X-Account", "value": "42"}, {"name": "X-Priority", "value": "1"}],
            "codecs": ["PCMU", "OPUS"],
            "timeout": 20,
            "max_duration": 60,
        },
    }


def test_sip_device_header_list_passes() -> None:
    headers = [{"name": "X-A", "value": "1"}]
    device = sip_device("sip:a@b", "sip:c@d", headers=headers)
    assert device["params"]["headers"] == headers
    assert device["params"]["headers"] is not headers


def test_sip_device_errors() -> None:
    with raises("sip device needs a non-empty string 'to', got None"):
        sip_device(None, "sip:c@d")  # type: ignore[arg-type]
    with raises("sip device needs a non-empty string 'from', got '  '"):
        sip_device("sip:a@b", "  ")
    with raises("sip device headers must be a dict or a list of {name, value} dicts, got 'X'"):
        sip_device("sip:a@b", "sip:c@d", headers="X")  # type: ignore[arg-type]
    with raises("sip device header must be a dict {name, value}, got ['X', 'y']"):
        sip_device("sip:a@b", "sip:c@d", headers=[["X", "y"]])  # type: ignore[list-item]
    with raises("sip device header name must be a non-empty string, got ''"):
        sip_device("sip:a@b", "sip:c@d", headers={"": "v"})
    with raises("sip device header 'X-A' must have a string value, got None"):
        sip_device("sip:a@b", "sip:c@d", headers=[{"name": "X-A"}])
    with raises("sip device header 'X-A' must have a string value, got True"):
        sip_device("sip:a@b", "sip:c@d", headers={"X-A": True})
    with raises("sip device codecs must be a list of codec names, got 'PCMU'"):
        sip_device("sip:a@b", "sip:c@d", codecs="PCMU")
    with raises("sip device codecs must be a list of codec names, got ['PCMU', '']"):
        sip_device("sip:a@b", "sip:c@d", codecs=["PCMU", ""])
    with raises("timeout must be a number >= 0, got '3'"):
        sip_device("sip:a@b", "sip:c@d", timeout="3")  # type: ignore[arg-type]


# ---------------------------------------------------------------- normalize_device


def test_normalize_wire_phone_passes_through_as_copy() -> None:
    source = copy.deepcopy(PHONE_WIRE)
    out = normalize_device(source)
    assert out == PHONE_WIRE and out is not source and out["params"] is not source["params"]
    assert source == PHONE_WIRE


def test_normalize_flat_phone() -> None:
    assert normalize_device(PHONE_FLAT) == PHONE_WIRE
    flat = {
        "type": "phone",
        "to": "+15550000001",
        "from_": "+15550000002",
        "timeout": 30,
        "confirm": None,
    }
    assert normalize_device(flat) == {
        "type": "phone",
        "params": {"to_number": "+15550000001", "from_number": "+15550000002", "timeout": 30},
    }


def test_normalize_phone_to_from_inside_params_are_renamed() -> None:
    out = normalize_device(
        {"type": "phone", "params": {"to": "+15550000001", "from": "+15550000002"}}
    )
    assert out == {
        "type": "phone",
        "params": {"to_number": "+15550000001", "from_number": "+15550000002"},
    }


def test_normalize_flat_sip() -> None:
    out = normalize_device(
        {
            "type": "sip",
            "to": "sip:a@b",
            "from_": "sip:c@d",
            "headers": {"X-A": "1"},
            "codecs": ["PCMU"],
        }
    )
    assert out == {
        "type": "sip",
        "params": {
            "to": "sip:a@b",
            "from": "sip:c@d",
            "headers": [{"name": "X-A", "value": "1"}],
            "codecs": ["PCMU"],
        },
    }


def test_normalize_mixed_form_and_other_types() -> None:
    out = normalize_device(
        {"type": "phone", "params": {"to_number": "+15550000001"}, "from": "+15550000002"}
    )
    assert out == {
        "type": "phone",
        "params": {"to_number": "+15550000001", "from_number": "+15550000002"},
    }
    same = normalize_device({"type": "sip", "params": {"to": "sip:a@b"}, "to": "sip:a@b"})
    assert same == {"type": "sip", "params": {"to": "sip:a@b"}}
    webrtc = normalize_device({"type": "webrtc", "to": "x", "from": "y"})
    assert webrtc == {"type": "webrtc", "params": {"to": "x", "from": "y"}}
    assert normalize_device({"type": "call", "params": None}) == {"type": "call", "params": {}}


def test_normalize_device_errors() -> None:
    with raises("device must be a dict, got str: 'sip:a@b'"):
        normalize_device("sip:a@b")
    with raises("device needs a non-empty string 'type', got {'to': '+15550000001'}"):
        normalize_device({"to": "+15550000001"})
    with raises("device needs a non-empty string 'type', got {'type': ''}"):
        normalize_device({"type": ""})
    with raises("device 'params' must be a dict, got list"):
        normalize_device({"type": "phone", "params": ["+15550000001"]})
    with raises("device gives 'to' both at the top level and in 'params', with different"):
        normalize_device({"type": "sip", "params": {"to": "sip:a@b"}, "to": "sip:x@y"})
    with raises(
        "phone device gives both 'to' ('+15550000001') and 'to_number' ('+15550000009'); give one"
    ):
        normalize_device(
            {
                "type": "phone",
                "to": "+15550000001",
                "to_number": "+15550000009",
                "from": "+15550000002",
            }
        )
    with raises("phone device needs a non-empty string 'from_number', got None in"):
        normalize_device({"type": "phone", "to": "+15550000001"})
    with raises("phone device needs a non-empty string 'to_number', got 15550002222"):
        normalize_device({"type": "phone", "to": 15550002222, "from": "+15550000002"})
    with raises("sip device needs a non-empty string 'to', got None"):
        normalize_device({"type": "sip", "from": "sip:c@d"})


def test_password_never_in_error_messages() -> None:
    with pytest.raises(ValueError) as info:
        normalize_device({"type": "phone", "to": "+15550000001", "password": "s3cret"})
    assert "s3cret" not in str(info.value) and "***" in str(info.value)
    with pytest.raises(ValueError) as info:
        normalize_device({"type": "sip", "params": {"to": "sip:a@b", "password": 12345}})
    assert "'password' must be a string, got int" in str(info.value)
    assert "12345" not in str(info.value)


def test_redact_device() -> None:
    wire: Dict[str, Any] = {
        "type": "sip",
        "params": {"to": "sip:a@b", "username": "u", "password": "pw"},
    }
    assert redact_device(wire) == {
        "type": "sip",
        "params": {"to": "sip:a@b", "username": "u", "password": "***"},
    }
    assert wire["params"]["password"] == "pw"
    flat = {"type": "stream", "url": "wss://x", "authorization_bearer_token": "tok"}
    assert redact_device(flat)["authorization_bearer_token"] == "***"
    assert redact_device({"type": "phone"}) == {"type": "phone"}


# ---------------------------------------------------------------- normalize_devices


def test_single_device_wrapped() -> None:
    assert normalize_devices(PHONE_FLAT) == [[PHONE_WIRE]]


def test_flat_list_is_tried_in_series() -> None:
    second = {"type": "sip", "to": "sip:a@b"}
    assert normalize_devices([PHONE_FLAT, second]) == [
        [PHONE_WIRE],
        [{"type": "sip", "params": {"to": "sip:a@b"}}],
    ]


def test_list_of_lists_passes_through_normalised() -> None:
    plan = [[PHONE_FLAT, PHONE_WIRE], (PHONE_WIRE,)]
    assert normalize_devices(plan) == [[PHONE_WIRE, PHONE_WIRE], [PHONE_WIRE]]
    assert normalize_devices([PHONE_FLAT, [PHONE_FLAT]]) == [[PHONE_WIRE], [PHONE_WIRE]]


def test_normalize_devices_errors() -> None:
    with raises("devices is empty: give at least one device"):
        normalize_devices([])
    with raises(
        "devices must be a device dict, a list of devices or a list of lists of "
        "devices, got NoneType: None"
    ):
        normalize_devices(None)
    with raises("devices[1] is an empty group: give at least one device"):
        normalize_devices([[PHONE_WIRE], []])
    with raises("devices[0] must be a device dict or a list of devices, got str: '+15550000001'"):
        normalize_devices(["+15550000001"])
    with raises("devices[0][1]: phone device needs a non-empty string 'from_number'"):
        normalize_devices([[PHONE_WIRE, {"type": "phone", "to": "+15550000001"}]])
    with raises("devices[2]: device needs a non-empty string 'type'"):
        normalize_devices([PHONE_WIRE, PHONE_WIRE, {}])


# ---------------------------------------------------------------- normalize_refer_device


def test_refer_uri_string() -> None:
    assert normalize_refer_device("sip:support@example.com") == (
        {"type": "sip", "params": {"to": "sip:support@example.com"}},
        False,
    )
    assert normalize_refer_device("SIPS:a@b")[0]["params"]["to"] == "SIPS:a@b"


def test_refer_wire_to_and_uri() -> None:
    assert normalize_refer_device({"type": "sip", "params": {"to": "sip:a@b"}}) == (
        {"type": "sip", "params": {"to": "sip:a@b"}},
        False,
    )
    assert normalize_refer_device({"type": "sip", "params": {"uri": "sip:a@b"}}) == (
        {"type": "sip", "params": {"to": "sip:a@b"}},
        True,
    )
    both = normalize_refer_device({"type": "sip", "params": {"uri": "sip:a@b", "to": "sip:a@b"}})
    assert both == ({"type": "sip", "params": {"to": "sip:a@b"}}, True)


def test_refer_flat_with_credentials_and_headers() -> None:
    device, used_uri = normalize_refer_device(
        {
            "type": "sip",
            "uri": "sip:a@b",
            "username": "bob",
            "password": "s3cret",
            "headers": {"X-Ref": "1"},
        }
    )
    assert used_uri is True
    assert device == {
        "type": "sip",
        "params": {
            "to": "sip:a@b",
            "username": "bob",
            "password": "s3cret",
            "headers": [{"name": "X-Ref", "value": "1"}],
        },
    }
    assert next(iter(device["params"])) == "to"


def test_refer_errors() -> None:
    with raises("refer target 'tel:+15551234567' is not a SIP URI: it must start with 'sip:'"):
        normalize_refer_device("tel:+15551234567")
    with raises("refer target 'sip:' has no user/host part after the scheme"):
        normalize_refer_device("sip:")
    with raises(
        "refer target must be a 'sip:'/'sips:' URI string or a SIP device dict, got int: 5"
    ):
        normalize_refer_device(5)
    with raises("refer device type must be 'sip', got 'phone'"):
        normalize_refer_device({"type": "phone", "params": {"to": "sip:a@b"}})
    with raises("refer device needs a non-empty string 'type'"):
        normalize_refer_device({"params": {"to": "sip:a@b"}})
    with raises("refer device has no SIP target: set params 'to' (or 'uri')"):
        normalize_refer_device({"type": "sip", "params": {"username": "u"}})
    with raises("refer target must be a string, got list: ['sip:a@b']"):
        normalize_refer_device({"type": "sip", "params": {"to": ["sip:a@b"]}})
    with raises("refer target 'alice@example.com' is not a SIP URI"):
        normalize_refer_device({"type": "sip", "to": "alice@example.com"})
    with raises("refer device gives both 'uri' ('sip:a@b') and 'to' ('sip:c@d'); give one"):
        normalize_refer_device({"type": "sip", "params": {"uri": "sip:a@b", "to": "sip:c@d"}})
    with raises("refer device 'username' must be a string, got int"):
        normalize_refer_device({"type": "sip", "params": {"to": "sip:a@b", "username": 1}})
    with raises("refer device 'params' must be a dict, got str"):
        normalize_refer_device({"type": "sip", "params": "sip:a@b"})
    with raises("refer device header name must be a non-empty string, got 3"):
        normalize_refer_device({"type": "sip", "to": "sip:a@b", "headers": [{"name": 3}]})


def test_refer_password_hidden_in_errors() -> None:
    with pytest.raises(ValueError) as info:
        normalize_refer_device({"type": "sip", "params": {"password": "s3cret"}})
    assert "s3cret" not in str(info.value)
    with pytest.raises(ValueError) as info:
        normalize_refer_device({"type": "sip", "to": "sip:a@b", "password": ["s3cret"]})
    assert "s3cret" not in str(info.value)


# ---------------------------------------------------------------- media


def test_media_builders() -> None:
    assert tts("Hello") == {"type": "tts", "params": {"text": "Hello"}}
    assert tts("Hi", language="en-US", gender="female", voice="v") == {
        "type": "tts",
        "params": {"text": "Hi", "language": "en-US", "gender": "female", "voice": "v"},
    }
    assert audio("https://x/a.mp3") == {"type": "audio", "params": {"url": "https://x/a.mp3"}}
    assert silence(1.5) == {"type": "silence", "params": {"duration": 1.5}}
    assert silence(0) == {"type": "silence", "params": {"duration": 0}}
    assert ringtone() == {"type": "ringtone", "params": {"name": "us"}}
    assert ringtone("uk", duration=5) == {
        "type": "ringtone",
        "params": {"name": "uk", "duration": 5},
    }


def test_media_builder_errors() -> None:
    with raises("tts(): params.text must be a non-empty string; got ''"):
        tts("")
    with raises("audio(): params needs 'url'; it is missing"):
        audio(None)  # type: ignore[arg-type]
    with raises("silence(): params.duration must be a number >= 0; got -1"):
        silence(-1)
    with raises("ringtone(): params.name must be a string; got int"):
        ringtone(7)  # type: ignore[arg-type]
    with raises("ringtone(): params.name must be one of at, au,"):
        ringtone("atlantis")
    with raises("ringtone(): params.duration must be a number >= 0; got str"):
        ringtone(duration="x")  # type: ignore[arg-type]


def test_normalize_media_forms() -> None:
    assert normalize_media({"type": "tts", "text": "Hello"}) == [tts("Hello")]
    items = [
        {"type": "audio", "params": {"url": "https://a"}},
        {"type": "silence", "duration": 1},
        {"type": "ringtone", "name": "de", "duration": None},
    ]
    assert normalize_media(items) == [audio("https://a"), silence(1), ringtone("de")]
    assert normalize_media((tts("x"),)) == [tts("x")]


def test_normalize_media_errors() -> None:
    with raises("normalize_media(): media must not be an empty list"):
        normalize_media([])
    with raises("normalize_media(): media must be a dict or a list of them; got str"):
        normalize_media("hello")
    with raises("media[1].type must be one of audio, tts, silence, ringtone; got 'video'"):
        normalize_media([tts("x"), {"type": "video", "url": "https://v"}])
    with raises("media[0] must be a dict {type, params}; got str"):
        normalize_media(["x"])
    with raises("media[0].type must be one of audio, tts, silence, ringtone; got None"):
        normalize_media({"text": "hi"})
    with raises("media[0].params needs 'text'; it is missing"):
        normalize_media({"type": "tts", "params": {"language": "en-US"}})
    with raises("media[0].params needs 'duration'; it is missing"):
        normalize_media({"type": "silence"})
    with raises("media[0].url is given both here and in 'params'"):
        normalize_media({"type": "audio", "url": "https://a", "params": {"url": "https://b"}})
    with pytest.raises(TypeError, match=r"unknown key 'speed' at media\[0\]\.params\.speed"):
        normalize_media({"type": "tts", "text": "hi", "speed": 2})
