"""The airflow dialect, loaded and run by Airflow 3 itself (DagBag, then dag.test())."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aorist import DeclarationError, Universe, dag, dag_files

from conftest import airflow, expected_graph, lake_files, lake_tables, run_generated
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
# The steps of a replicated table, fused (one step reads each download into its table).
STEPS = ["downloaded", "source_loaded", "asset_computed", "temporary_files_removed"]
# The same, one recipe per constraint (fuse=False).
SEPARATE_STEPS = [
    "downloaded",
    "decompressed",
    "header_removed",
    "converted_to_csv",
    "stored_in_lake",
    "temporary_table_created",
    "converted_to_target_encoding",
    "table_published",
    "temporary_table_dropped",
    "asset_computed",
    "temporary_files_removed",
]


def serve_snap(http_server) -> dict[str, int]:
    counts = snap_edge_counts(NAMES)
    for name in NAMES:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    return {f"snap.{snap_key(n)}": c for n, c in counts.items()}


def snap_dag(http_server) -> tuple[dict[str, int], Universe, str]:
    """The SNAP graphs served, their universe and its DAG file."""
    expected_tables = serve_snap(http_server)
    universe = snap_universe(http_server.base_url, NAMES)
    return expected_tables, universe, dag(universe, ["AllAssetsComputed"], "airflow")


def test_dag_file_matches_the_constraint_dag_and_runs_twice(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    expected_tables, universe, code = snap_dag(http_server)
    report = airflow(airflow_home, code, "my_cluster", tmp_path, "run")
    assert report["import_errors"] == {}
    assert report["tasks"] == expected_graph(universe)
    assert report["state"] == "success", report["failed"]
    assert report["schedule"] is None and report["catchup"] is False
    assert "aorist" in report["tags"]
    # One mapped task per step, in one mapped group per dataset: 4 steps, 2 gatherers.
    group = "snap.downloaded_to_temporary_files_removed"
    assert len(report["airflow"]) == 6
    assert all(report["airflow"][f"{group}.{step}"]["mapped"] for step in STEPS)
    # The download recipe retries what may pass itself; Airflow does not add to it.
    assert report["retries"][f"{group}.downloaded"] == 0
    assert report["retries"][f"{group}.source_loaded"] == 1
    # Tables are announced by the step that verified them, through the DAG's alias.
    assert report["outlets"] == {f"{group}.asset_computed": ["my_cluster tables"]}
    lake = (tmp_path / "lake").resolve()
    assert [uri for uri, _ in report["asset_events"]] == sorted(
        f"file://{lake}/snap/{snap_key(n)}" for n in NAMES
    )
    assert all(version for _, version in report["asset_events"])
    assert lake_tables(tmp_path) == expected_tables
    files = lake_files(tmp_path)
    fetched = len(http_server.fetched)

    again = airflow(airflow_home, code, "my_cluster", tmp_path, "run")
    assert again["state"] == "success", again["failed"]
    assert lake_tables(tmp_path) == expected_tables
    assert lake_files(tmp_path) == files
    # Each source is asked whether it changed (it did not): nothing is fetched again.
    assert len(http_server.fetched) == fetched
    # Nothing changed, so nothing is announced: no DAG downstream runs again.
    assert again["asset_events"] == []
    # The steps that make files are skipped tasks, each instance; the checks run.
    assert report["skipped"] == []
    assert again["skipped"] == sorted(
        f"{group}.{step}[{index}]"
        for step in ("downloaded", "source_loaded")
        for index in range(len(NAMES))
    )
    # The python program of the same universe, run with --dry-run on what the DAG
    # made, finds every step fresh: the versions are the same in every dialect.
    status = run_generated(
        dag(universe, ["AllAssetsComputed"], "python"), tmp_path, args=["--dry-run"]
    )
    assert "0 stale, 0 missing" in status.stdout, status.stdout

    # One recipe per constraint: the DAG has a task for each, and makes the same tables.
    separate = dag(universe, ["AllAssetsComputed"], "airflow", fuse=False)
    (tmp_path / "separate").mkdir()
    loaded = airflow(airflow_home, separate, "my_cluster", tmp_path / "separate", "run")
    assert loaded["import_errors"] == {}
    assert loaded["state"] == "success", loaded["failed"]
    assert loaded["tasks"] == expected_graph(universe, fuse=False)
    assert lake_tables(tmp_path / "separate") == expected_tables
    assert all(loaded["airflow"][f"{group}.{step}"]["mapped"] for step in SEPARATE_STEPS)
    assert loaded["retries"][f"{group}.decompressed"] == 1


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
        "airflow.sdk.exceptions",
        "airflow.providers.standard.operators.empty",
    }
    assert {"__future__", "datetime", "airflow.sdk"} <= modules
    # Recipe libraries are imported inside the functions that use them.
    assert "import duckdb" in code and "\nimport duckdb" not in code


def test_passes_ruff_airflow_rules(tmp_path: Path) -> None:
    from test_layout import graphs, with_summary

    from aorist import dag_files

    universe = snap_universe("http://127.0.0.1:9", NAMES)
    (tmp_path / "my_cluster.py").write_text(dag(universe, ["AllAssetsComputed"], "airflow"))
    # Split DAGs scheduled on the tables they read, on their own and with a cron schedule.
    summary = with_summary(graphs("http://127.0.0.1:9", 6))
    for schedule in (None, "@daily"):
        files = dag_files(
            summary, ["AllAssetsComputed"], "airflow", split="dataset", schedule=schedule
        )
        (tmp_path / f"summary_{schedule is None}.py").write_text(files["graphs_summary.py"])
    paths = sorted(str(p) for p in tmp_path.glob("*.py"))
    assert len(paths) == 3
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--preview",
         "--select", "AIR", *paths],
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


def test_a_run_with_another_lake_path_writes_there_and_nowhere_else(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    expected_tables, _, code = snap_dag(http_server)
    elsewhere = tmp_path / "elsewhere" / "lake"
    report = airflow(
        airflow_home, code, "my_cluster", tmp_path, "run", conf={"lake_path": str(elsewhere)}
    )
    assert report["state"] == "success", report["failed"]
    assert report["params"]["lake_path"] == "lake"
    assert lake_tables(elsewhere.parent) == expected_tables
    assert not (tmp_path / "lake").exists()
    lake = elsewhere.resolve()
    assert [uri for uri, _ in report["asset_events"]] == sorted(
        f"file://{lake}/snap/{snap_key(n)}" for n in NAMES
    )
    # A relative value is read against the DAG file's folder, not the worker's directory.
    report = airflow(
        airflow_home, code, "my_cluster", tmp_path, "isolated", conf={"lake_path": "other/lake"}
    )
    assert report["state"] == "success", report["failed"]
    assert lake_tables(tmp_path / "other") == expected_tables
    assert all(not any(Path(d).iterdir()) for d in report["workdirs"].values())


def test_a_404_fails_at_once_and_a_503_is_retried_by_the_recipe_alone(
    airflow_home: Path, server, tmp_path: Path
) -> None:
    from conftest import Handler

    snap_like_gz(tmp_path / "data.gz", 40)
    Handler.routes["/gone.txt.gz"] = [(404, b"not found")]
    Handler.routes["/flaky.txt.gz"] = [
        (503, b""),
        (503, b""),
        (200, (tmp_path / "data.gz").read_bytes()),
    ]
    universe = snap_universe(server, ["gone", "flaky"])
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, "my_cluster", tmp_path, "run")
    assert report["state"] == "failed"
    # The 404 was asked once: neither the recipe nor Airflow retried it.
    assert Handler.hits["/gone.txt.gz"] == 1
    # The 503s were retried by the recipe, with backoff, inside one Airflow try.
    assert Handler.hits["/flaky.txt.gz"] == 3
    assert lake_tables(tmp_path) == {"snap.flaky": 40}
    failed = report["failed"]
    assert "snap.downloaded_to_temporary_files_removed.downloaded[0]" in failed
    assert not any(f.endswith("[1]") for f in failed), failed


def test_schedule_sets_the_dag_schedule_and_is_checked(airflow_home: Path, tmp_path: Path) -> None:
    universe = snap_universe("http://127.0.0.1:9", NAMES)
    code = dag(universe, ["AllAssetsComputed"], "airflow", schedule="0 3 * * *")
    report = airflow(airflow_home, code, "my_cluster", tmp_path, "inspect")
    assert report["import_errors"] == {}
    assert "0 3 * * *" in report["schedule"]
    assert 'schedule="@daily"' in dag(universe, ["AllAssetsComputed"], "airflow", schedule="@daily")
    for bad in ("every day", "* * *", 3):
        with pytest.raises(DeclarationError, match="neither a cron expression"):
            dag(universe, ["AllAssetsComputed"], "airflow", schedule=bad)  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match="has no schedule; fix"):
        dag(universe, ["AllAssetsComputed"], "python", schedule="@daily")


def test_a_300_asset_dag_is_a_handful_of_tasks_per_dataset(
    airflow_home: Path, tmp_path: Path
) -> None:
    from test_layout import graphs

    universe = graphs("http://127.0.0.1:9", 300)
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, "graphs", tmp_path, "inspect")
    assert report["import_errors"] == {}
    tasks = report["airflow"]
    per_dataset: dict[str, int] = {}
    for task_id in tasks:
        group, _, _ = task_id.partition(".")
        per_dataset[group] = per_dataset.get(group, 0) + 1
    assert per_dataset.pop("all_assets_computed") == 1
    assert sorted(per_dataset) == ["graphs0", "graphs1", "graphs2"]
    assert all(count <= 15 for count in per_dataset.values()), per_dataset
    mapped = [t for t, info in tasks.items() if info["mapped"]]
    assert len(mapped) == 3 * len(STEPS)


def test_library_mode_writes_recipes_once_and_its_dags_run(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    from test_layout import graphs, serve

    serve(http_server.root, 6)
    universe = graphs(http_server.base_url, 6)
    files = dag_files(universe, ["AllAssetsComputed"], "airflow", split="dataset", library=True)
    assert list(files) == [
        "graphs_graphs0.py",
        "graphs_graphs1.py",
        "graphs_graphs2.py",
        "graphs_recipes.py",
    ]
    # The recipe code is in the library alone; each DAG file imports it in its tasks.
    assert all("\ndef download(" not in files[f"graphs_graphs{i}.py"] for i in range(3))
    assert files["graphs_recipes.py"].count("\ndef download(") == 1
    assert "from graphs_recipes import download" in files["graphs_graphs0.py"]
    # Parsing a DAG file imports nothing from the library.
    assert "\nfrom graphs_recipes" not in files["graphs_graphs0.py"]
    library = tmp_path / "graphs_recipes.py"
    library.write_text(files["graphs_recipes.py"])
    for index in range(3):
        dag_id = f"graphs_graphs{index}"
        report = airflow(airflow_home, files[f"{dag_id}.py"], dag_id, tmp_path, "run")
        assert report["import_errors"] == {}
        assert report["state"] == "success", report["failed"]
    assert sorted(lake_tables(tmp_path)) == sorted(f"graphs{i % 3}.g{i % 3}_{i}" for i in range(6))
    # The single-file form stays the default and is self-contained.
    (single,) = dag_files(universe, ["AllAssetsComputed"], "airflow").values()
    assert "\ndef download(" in single and "graphs_recipes" not in single
    with pytest.raises(DeclarationError, match="writes self-contained programs only"):
        dag_files(universe, ["AllAssetsComputed"], "python", library=True)
