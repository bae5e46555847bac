"""notebooks/quickstart.ipynb: valid nbformat 4.5 (every cell has an id), runs headlessly in a
kernel of this interpreter, and leaves no temporary directory behind."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from .conftest import _postgres_unavailable

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"


@pytest.fixture
def this_python_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A `python3` kernelspec running `sys.executable`, found before any other on the machine."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's migration warning
    return "python3"


def test_notebook_is_valid_with_cell_ids() -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # warns (an error here) on missing ids
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) >= (4, 5)
    ids = [cell.get("id") for cell in notebook.cells]
    assert all(ids) and len(set(ids)) == len(ids), ids
    assert all(not cell.get("outputs") for cell in notebook.cells), "commit it without outputs"


def test_notebook_runs_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, this_python_kernel: str
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TABLEDAG_NOTEBOOK_TMP", str(scratch))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, kernel_name=this_python_kernel, timeout=300, resources={"metadata": {}}
    )
    assert notebook.cells[-1].id == "cleanup"
    with client.setup_kernel(cwd=str(tmp_path)):
        for index, cell in enumerate(notebook.cells):
            if cell.id == "cleanup":  # the database exists in $TABLEDAG_NOTEBOOK_TMP until now
                (made,) = scratch.iterdir()
                assert made.name.startswith("tabledag-quickstart-")
                assert (made / "quickstart.duckdb").is_file()
            client.execute_cell(cell, index)  # raises CellExecutionError if the cell fails
    outputs = {cell.id: cell.get("outputs", []) for cell in notebook.cells}
    text = lambda cell_id: "".join(o.get("text", "") for o in outputs[cell_id])  # noqa: E731
    assert "SELECT" in text("first-run")
    assert "CACHE_VALID" in text("cached-rerun")
    assert not any(o.output_type == "error" for cell in outputs.values() for o in cell)
    assert list(scratch.iterdir()) == []  # the notebook's temporary directory is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jupyter", "scratch"]


NOTEBOOKS = sorted((NOTEBOOK.parent).glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_is_valid_with_cell_ids_and_no_outputs(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) >= (4, 5)
    ids = [cell.get("id") for cell in notebook.cells]
    assert all(ids) and len(set(ids)) == len(ids), ids
    assert all(not cell.get("outputs") for cell in notebook.cells), "commit it without outputs"
    assert all(not cell.get("execution_count") for cell in notebook.cells)
    assert notebook.cells[-1].id == "cleanup"


def execute(path: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Run every cell; the text each cell printed or showed, by cell id. Checks that the
    notebook's temporary directory is gone afterwards and nothing else was left."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TABLEDAG_NOTEBOOK_TMP", str(scratch))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, kernel_name=kernel, timeout=600, resources={"metadata": {}}
    )
    with client.setup_kernel(cwd=str(tmp_path)):
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)  # raises CellExecutionError if the cell fails
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jupyter", "scratch"]
    texts: dict[str, str] = {}
    for cell in notebook.cells:
        parts = []
        for output in cell.get("outputs", []):
            assert output.output_type != "error", output
            parts.append(output.get("text", ""))
            parts += [str(v) for v in output.get("data", {}).values()]
        texts[cell.id] = "".join(parts)
    return texts


def test_getting_started_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, this_python_kernel: str
) -> None:
    path = NOTEBOOK.parent / "getting_started.ipynb"
    out = execute(path, tmp_path, this_python_kernel, monkeypatch)
    assert "COMPLETED" in out["first-run"] and "'regions': 3" in out["first-run"]
    assert "SELECT" in out["sql"]
    assert "COMPLETED" not in out["cached-rerun"] and "CACHE_VALID" in out["cached-rerun"]
    changed = {
        line.split()[-1]: line.split()[0]
        for line in out["changed-run"].splitlines()
        if line.startswith(("CACHE_VALID", "COMPLETED"))
    }
    assert changed["raw.orders"] == "CACHE_VALID"
    assert changed["model.big_orders"] == "COMPLETED"
    assert "run.html True" in out["records"]
    assert "<svg" in out["graph"]  # shown inline as SVG


@pytest.mark.slow
def test_the_dialect_comparison_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, this_python_kernel: str
) -> None:
    path = NOTEBOOK.parent / "dialects.ipynb"
    out = execute(path, tmp_path, this_python_kernel, monkeypatch)
    assert "every store gives the same 3 rows" in out["same-answers"]
    stores = [line.split()[0] for line in out["timings"].splitlines()[1:]]
    assert "duckdb" in stores and "parquet" in stores
    if os.environ.get("CI") or not _postgres_unavailable():
        assert "postgres" in stores
