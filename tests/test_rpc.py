"""Result-code checking: any 2xx code (string or number) or none is success."""

from __future__ import annotations

from typing import Any

import pytest

from relaysync.errors import RelayError
from relaysync.rpc import check_result


@pytest.mark.parametrize("code", ["200", 200, "202", 204, "299"])
def test_2xx_codes_are_success(code: Any) -> None:
    result = {"code": code, "message": "ok"}
    assert check_result("calling.play", result) is result


def test_no_code_is_success_and_non_objects_are_wrapped() -> None:
    assert check_result("signalwire.ping", {}) == {}
    assert check_result("signalwire.ping", "pong") == {"raw": "pong"}


@pytest.mark.parametrize(
    ("code", "numeric"),
    [("404", 404), (500, 500), ("2000", 2000), ("20", 20), ("2a0", -1), ("abc", -1), (None, -1)],
)
def test_other_codes_raise_naming_the_code(code: Any, numeric: int) -> None:
    with pytest.raises(RelayError) as caught:
        check_result("calling.play", {"code": code, "message": "Call not found"})
    assert caught.value.code == numeric
    assert "Call not found" in str(caught.value)
