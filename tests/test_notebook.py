"""examples/quickstart.ipynb runs top to bottom on a real IPython kernel (nbclient)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"
KERNEL = "relaysync-tests"


def outputs_text(cell: Any) -> str:
    """Everything a code cell displayed, as one string (text and HTML alike)."""
    parts: List[str] = []
    for output in cell.get("outputs", []):
        parts.append(str(output.get("text", "")))
        data: Dict[str, Any] = output.get("data", {})
        parts.extend(str(value) for value in data.values())
    return "\n".join(parts)


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec running this interpreter, and private Jupyter/IPython folders."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "relaysync tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL


@pytest.mark.timeout(120)
def test_quickstart_notebook_runs_on_a_real_kernel(kernel_env: str, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is part of the test extra")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is part of the test extra")
    pytest.importorskip("ipykernel", reason="ipykernel is part of the test extra")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit the notebook without outputs"
    )
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel_env,
        timeout=60,
        startup_timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    shown = [outputs_text(cell) for cell in code]
    by_source = {cell.source.splitlines()[0]: text for cell, text in zip(code, shown)}

    assert "ws://127.0.0.1:" in by_source["import queue"]
    assert "('answered', '+15550001111')" in shown[2]
    assert "'finished'" in shown[3]
    assert "('success', True, '200')" in shown[4]
    events = shown[5].splitlines()
    assert events[0] == "calling.call.receive created"
    assert "calling.call.refer success" in events and events[-1] == "calling.call.state ended"
    # The diagram cell displays inline as HTML with the SVG ladder.
    diagram = code[6]["outputs"][0]["data"]
    assert "<svg" in diagram["text/html"] and "calling.refer" in diagram["text/html"]
    assert "CallFlow(" in diagram["text/plain"]
