"""Comparing a client's request with a recorded one: ids set aside, ids mapped, a diff.

Pure functions for :mod:`relaysync.testing.replay`. The ids RELAY or the client make up
anew in every session (:data:`ID_KEYS`) are never compared; where a live request carries
a different one than the recorded request, the recorded value is mapped to the live one
so that the recorded replies and events can be sent with this run's ids.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Iterator, List, Mapping, Tuple

import attrs

from .._log import mask_secrets

#: Keys whose values differ from one session to the next, at any depth.
ID_KEYS = frozenset({"call_id", "node_id", "control_id", "message_id", "tag", "protocol"})
MAX_SHOWN = 80

#: A divergence's kind: the client made a request the cassette does not hold.
UNEXPECTED = "unexpected"
#: A divergence's kind: the request is in the cassette, with other params.
PARAMS = "params"
#: A divergence's kind: a recorded request the client never made.
MISSING = "missing"


@attrs.frozen
class Divergence:
    """One way a replayed run differed from its cassette.

    Attributes:
        kind: ``"unexpected"`` (a request the cassette does not hold), ``"params"``
            (the matching recorded request had other params) or ``"missing"`` (a
            recorded request this run never made).
        method: the RELAY method.
        differences: for ``"params"``, one line per difference (path, recorded value,
            this run's value); otherwise the params concerned, in one line.
        t: when the recorded request was made (seconds into the cassette), if any.
    """

    kind: str
    method: str
    differences: Tuple[str, ...] = ()
    t: float = -1.0

    def __str__(self) -> str:
        where = f" (recorded at {self.t:.3f} s)" if self.t >= 0 else ""
        head = {
            UNEXPECTED: f"{self.method}: not in the cassette",
            PARAMS: f"{self.method}: params differ from the recording{where}",
            MISSING: f"{self.method}: recorded{where} but never made",
        }.get(self.kind, f"{self.method}: {self.kind}")
        return "\n".join([head, *(f"    {line}" for line in self.differences)])


def describe(divergences: List[Divergence]) -> str:
    """A readable report of ``divergences`` (``"no divergence"`` when empty)."""
    if not divergences:
        return "no divergence"
    lines = [f"{len(divergences)} divergence(s) from the cassette:"]
    lines += [f"  {d}" for d in divergences]
    return "\n".join(lines)


def without_ids(value: Any) -> Any:
    """``value`` with every :data:`ID_KEYS` member removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in ID_KEYS}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def comparable(params: Mapping[str, Any]) -> Any:
    """Params as a cassette holds them (secrets masked), ids set aside."""
    return without_ids(mask_secrets(dict(params)))


def _ids(value: Any, path: str = "") -> Iterator[Tuple[str, str]]:
    """(path, value) of every string id in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}"
            if key in ID_KEYS and isinstance(item, str) and item:
                yield here, item
            else:
                yield from _ids(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _ids(item, f"{path}[{index}]")


def id_pairs(recorded: Any, live: Any, keys: FrozenSet[str] = ID_KEYS) -> Dict[str, str]:
    """Recorded id -> live id, for the ids under ``keys`` found at the same place in both."""
    live_ids = dict(_ids(live))
    return {
        value: live_ids[path]
        for path, value in _ids(recorded)
        if path.rsplit(".", 1)[-1] in keys and path in live_ids and live_ids[path] != value
    }


def ids_in(value: Any) -> List[str]:
    """Every id value in ``value`` (for attributing events to requests)."""
    return [v for _, v in _ids(value)]


def remap(value: Any, ids: Mapping[str, str]) -> Any:
    """``value`` with every string equal to a recorded id replaced by its live id."""
    if not ids:
        return value
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, dict):
        return {k: remap(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [remap(v, ids) for v in value]
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def differences(recorded: Any, live: Any, path: str = "params") -> List[str]:
    """One readable line per place where ``live`` differs from ``recorded``."""
    if isinstance(recorded, dict) and isinstance(live, dict):
        lines: List[str] = []
        for key in sorted(set(recorded) | set(live), key=str):
            here = f"{path}.{key}"
            if key not in live:
                lines.append(f"{here}: recorded {_shown(recorded[key])}, missing in this run")
            elif key not in recorded:
                lines.append(f"{here}: not recorded, this run sent {_shown(live[key])}")
            else:
                lines += differences(recorded[key], live[key], here)
        return lines
    if isinstance(recorded, list) and isinstance(live, list) and len(recorded) == len(live):
        lines = []
        for index, (a, b) in enumerate(zip(recorded, live)):
            lines += differences(a, b, f"{path}[{index}]")
        return lines
    if recorded != live:
        return [f"{path}: recorded {_shown(recorded)}, this run sent {_shown(live)}"]
    return []
