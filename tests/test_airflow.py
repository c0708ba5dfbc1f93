"""The airflow dialect, loaded and run by Airflow 3 itself (DagBag, then dag.test())."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aorist import Universe, dag

from conftest import airflow, expected_graph, lake_files, lake_tables
from fixtures_data import (
    snap_edge_counts,
    snap_key,
    snap_like_gz,
    snap_universe,
    wine_dataset,
    wine_like_csv,
)

HERE = Path(__file__).resolve().parent
NAMES = ["ca-GrQc", "web-Google", "amazon0302", "ca-HepTh"]


def serve_snap(http_server) -> dict[str, int]:
    counts = snap_edge_counts(NAMES)
    for name in NAMES:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    return {f"snap.{snap_key(n)}": c for n, c in counts.items()}


def test_dag_file_matches_the_constraint_dag_and_runs_twice(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    expected_tables = serve_snap(http_server)
    universe = snap_universe(http_server.base_url, NAMES)
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, "my_cluster", tmp_path, "run")
    assert report["import_errors"] == {}
    assert report["tasks"] == expected_graph(universe)
    assert report["state"] == "success", report["failed"]
    assert report["schedule"] is None and report["catchup"] is False
    assert "aorist" in report["tags"]
    assert all(report["retries"][f"{snap_key(n)}_downloaded"] == 3 for n in NAMES)
    assert report["outlets"] == {
        f"{snap_key(n)}_table_published": [f"snap.{snap_key(n)}"] for n in NAMES
    }
    assert lake_tables(tmp_path) == expected_tables
    files = lake_files(tmp_path)
    requests = len(http_server.requests)

    again = airflow(airflow_home, code, "my_cluster", tmp_path, "run")
    assert again["state"] == "success", again["failed"]
    assert lake_tables(tmp_path) == expected_tables
    assert lake_files(tmp_path) == files
    assert len(http_server.requests) == requests


def test_single_asset_dag_with_header_csv_to_parquet(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    rows = wine_like_csv(http_server.root / "wine.csv", 40)
    universe = Universe(name="wine_lab", datasets=[wine_dataset(http_server.base_url)])
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, "wine_lab", tmp_path, "run")
    assert report["import_errors"] == {}
    assert report["tasks"] == expected_graph(universe)
    assert report["state"] == "success", report["failed"]
    assert list(lake_tables(tmp_path).values()) == [rows]


def test_module_top_level_imports_only_airflow_and_stdlib() -> None:
    import ast

    universe = snap_universe("http://127.0.0.1:9", NAMES)
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    tree = ast.parse(code)
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    modules = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name) for n in top}
    # The standard library (a helper's decorator may need it at module level) and Airflow.
    assert {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names} <= {
        "airflow.sdk",
        "airflow.providers.standard.operators.empty",
    }
    assert {"__future__", "datetime", "airflow.sdk"} <= modules
    # Recipe libraries are imported inside the functions that use them.
    assert "import duckdb" in code and "\nimport duckdb" not in code


def test_passes_ruff_airflow_rules(tmp_path: Path) -> None:
    universe = snap_universe("http://127.0.0.1:9", NAMES)
    path = tmp_path / "my_cluster.py"
    path.write_text(dag(universe, ["AllAssetsComputed"], "airflow"))
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--preview",
         "--select", "AIR", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_hostile_text_is_inert_in_a_dag(airflow_home: Path, http_server, tmp_path: Path) -> None:
    from test_injection import SERVED_NAME, hostile_universe

    n_edges = snap_like_gz(http_server.root / SERVED_NAME, 30)
    universe = hostile_universe(http_server.base_url)
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, universe.name, tmp_path, "run")
    assert report["import_errors"] == {}
    assert report["state"] == "success", report["failed"]
    assert lake_tables(tmp_path) == {"hostile.edges": n_edges}
