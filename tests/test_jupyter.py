"""The jupyter dialect: a valid nbformat 4.5 notebook that executes headlessly."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from aorist import Universe, dag

from conftest import lake_tables
from fixtures_data import (
    snap_edge_counts,
    snap_key,
    snap_like_gz,
    snap_universe,
    wine_dataset,
    wine_like_csv,
)

NAMES = ["ca-GrQc", "web-Google", "amazon0302"]


@pytest.fixture(autouse=True)
def jupyter_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Use the platformdirs layout jupyter_core is moving to (it warns otherwise), and
    # keep runtime files out of the user's home.
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))


def serve_snap(http_server) -> dict[str, int]:
    counts = snap_edge_counts(NAMES)
    for name in NAMES:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    return {f"snap.{snap_key(n)}": c for n, c in counts.items()}


def test_notebook_is_valid_and_deterministic(http_server) -> None:
    universe = snap_universe(http_server.base_url, NAMES)
    text = dag(universe, ["AllAssetsComputed"], "jupyter")
    assert text == dag(universe, ["AllAssetsComputed"], "jupyter")
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    ids = [cell.id for cell in notebook.cells]
    assert len(ids) == len(set(ids))
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "LAKE_PATH = " in parameters[0].source
    # One markdown cell per step says what it makes true, before the code doing it.
    steps = json.loads(text)["cells"]
    about = [c for c in steps if c["id"].startswith("about-")]
    run = [c for c in steps if c["id"].startswith("run-")]
    assert len(about) == len(run) > 0
    assert any("for asset, url in downloaded_tasks" in "".join(c["source"]) for c in run)


def test_notebook_executes_headlessly(http_server, tmp_path: Path) -> None:
    expected = serve_snap(http_server)
    notebook = nbformat.reads(
        dag(snap_universe(http_server.base_url, NAMES), ["AllAssetsComputed"], "jupyter"),
        as_version=4,
    )
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert lake_tables(tmp_path) == expected
    outputs = "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "snap.ca_grqc:" in outputs


def test_papermill_overrides_the_lake_path(http_server, tmp_path: Path) -> None:
    import papermill

    rows = wine_like_csv(http_server.root / "wine.csv", 25)
    universe = Universe(name="wine_lab", datasets=[wine_dataset(http_server.base_url)])
    source = tmp_path / "wine_lab.ipynb"
    source.write_text(dag(universe, ["AllAssetsComputed"], "jupyter"))
    papermill.execute_notebook(
        str(source),
        str(tmp_path / "out.ipynb"),
        parameters={"LAKE_PATH": "elsewhere"},
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_name="python3",
    )
    assert (tmp_path / "elsewhere" / "lake.duckdb").exists()
    assert not (tmp_path / "lake").exists()
    import duckdb

    with duckdb.connect(str(tmp_path / "elsewhere" / "lake.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM wine.wine_table").fetchall() == [(rows,)]


def test_hostile_text_is_inert_in_a_notebook(http_server, tmp_path: Path) -> None:
    from test_injection import SERVED_NAME, hostile_universe

    n_edges = snap_like_gz(http_server.root / SERVED_NAME, 30)
    notebook = nbformat.reads(
        dag(hostile_universe(http_server.base_url), ["AllAssetsComputed"], "jupyter"),
        as_version=4,
    )
    nbformat.validate(notebook)
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert lake_tables(tmp_path) == {"hostile.edges": n_edges}
