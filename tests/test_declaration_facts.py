"""The client's declarations and the simulator's own table carry the same facts.

The two tables are written apart on purpose (the simulator is the client's referee);
this test is what keeps them saying the same thing: every method the client sends is
known to the simulator with the same required params, every param path both of them
type has the same type in both, and every path the client types is one the simulator
knows (or lies inside a value the simulator does not look into).
"""

from __future__ import annotations

from typing import Dict, List

from relaysync import operations
from relaysync.testing import methods


def _parent(path: str) -> str:
    """The path one level up (``a.b[]`` -> ``a.b``, ``a.b`` -> ``a``; ``""`` at the root)."""
    if path.endswith("[]"):
        return path[:-2]
    return path.rpartition(".")[0]


def _covered(path: str, sim_types: Dict[str, str]) -> bool:
    """Whether the simulator knows ``path`` or does not look inside its nearest ancestor."""
    if path in sim_types:
        return True
    parent = _parent(path)
    while parent and parent not in sim_types:
        parent = _parent(parent)
    return bool(parent) and sim_types[parent] != "dict"


def test_every_client_method_is_known_to_the_simulator_with_the_same_required_params() -> None:
    client = operations.param_facts()
    sim = methods.param_facts()
    assert "calling.refer" in client and "calling.play" in client
    missing = sorted(set(client) - set(sim))
    assert not missing, f"methods the client sends that the simulator does not know: {missing}"
    differ = {
        name: (sorted(client[name][0]), sorted(sim[name][0]))
        for name in client
        if client[name][0] != sim[name][0]
    }
    assert not differ, f"required params differ (client, simulator): {differ}"


def test_every_param_typed_by_both_has_the_same_type() -> None:
    client = operations.param_facts()
    sim = methods.param_facts()
    differ: List[str] = []
    unknown: List[str] = []
    for name, (_, client_types) in client.items():
        sim_types = sim[name][1]
        for path, tag in client_types.items():
            if tag == "any":
                continue
            if not _covered(path, sim_types):
                unknown.append(f"{name} {path}")
                continue
            sim_tag = sim_types.get(path, "any")
            if (
                "any" not in (tag, sim_tag)
                and {tag, sim_tag} != {"int", "number"}
                and tag != sim_tag
            ):
                differ.append(f"{name} {path}: client {tag}, simulator {sim_tag}")
    assert not differ, f"types differ: {differ}"
    assert not unknown, f"params the client types that the simulator does not know: {unknown}"
