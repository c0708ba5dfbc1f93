"""The generated Airflow DAG under a real scheduler (server_airflow.py), not `dag.test()`.

Three SNAP-like datasets of four graphs each and a table derived from two of them are
generated as one DAG, written to the deployment's DAGs folder and triggered through the
API. The scheduler's LocalExecutor runs up to four task processes at once, so the lake's
writes must be safe under concurrency; every task instance (every map index) must
succeed, every table must hold its rows (the lake next to the DAG file, whatever the
workers' working directory) and be announced by one asset event, a second run must
change nothing and announce nothing, and a run triggered with another `lake_path` must
write there and nowhere else.

Split per dataset (in a folder of its own, with its own lake), the derived dataset's DAG
is scheduled on the tables it reads: the scheduler starts it when the DAG computing one
of them announces a change, and not when a rerun changed nothing.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_airflow import AirflowScheduler

from aorist import (
    ComputedFromLocalData,
    DataSet,
    HiveTableStorage,
    MinioLocation,
    ParquetEncoding,
    StaticDataTable,
    UndefinedTabularSchema,
    Universe,
    dag,
    dag_files,
)

from conftest import HttpServer, lake_files, lake_query, lake_tables
from fixtures_data import (
    SNAP_NAMES,
    snap_dataset,
    snap_edge_counts,
    snap_key,
    snap_like_edges,
    snap_like_gz,
)

DAG_ID = "scheduler_lab"
DATASETS = {f"graphs{i}": SNAP_NAMES[4 * i : 4 * i + 4] for i in range(3)}
# The derived table: the edges of one graph of the first dataset and one of the second.
DERIVED = (
    "summary",
    "two_graphs",
    "graphs0." + snap_key(SNAP_NAMES[0]),
    "graphs1." + snap_key(SNAP_NAMES[4]),
)
RUN_TIMEOUT = 600


def scheduler_universe(base_url: str) -> Universe:
    datasets = [snap_dataset(base_url, names, dataset=name) for name, names in DATASETS.items()]
    dataset, table, first, second = DERIVED
    summary = DataSet(
        name=dataset,
        datum_templates=[],
        assets=[
            StaticDataTable(
                name=table,
                schema=UndefinedTabularSchema(),
                setup=ComputedFromLocalData(
                    source_asset_names={"a": first, "b": second},
                    target=HiveTableStorage(
                        location=MinioLocation(name=dataset), encoding=ParquetEncoding()
                    ),
                    sql="SELECT from_id, to_id FROM {a} UNION ALL SELECT from_id, to_id FROM {b}",
                ),
            )
        ],
    )
    return Universe(name=DAG_ID, datasets=[*datasets, summary])


def expected_rows() -> dict[str, list[tuple[int, int]]]:
    """`schema.table` -> its rows, sorted: the served edges, and the derived union."""
    counts = snap_edge_counts()
    expected = {
        f"{dataset}.{snap_key(name)}": sorted(snap_like_edges(counts[name]))
        for dataset, names in DATASETS.items()
        for name in names
    }
    dataset, table, first, second = DERIVED
    expected[f"{dataset}.{table}"] = sorted(expected[first] + expected[second])
    return expected


def check_lake(root: Path) -> None:
    """Every table of `root/lake` holds exactly its expected rows."""
    expected = expected_rows()
    assert lake_tables(root) == {name: len(rows) for name, rows in expected.items()}
    for name, rows in expected.items():
        assert sorted(lake_query(root, f"SELECT from_id, to_id FROM {name}")) == rows, name


def announced(uris: list[str], lake: Path) -> list[str]:
    """The `schema.table` each asset event names, checking that its URI names `lake`."""
    tables = []
    for uri in uris:
        assert str(lake) in urllib.parse.unquote(uri), (uri, lake)
        tables.append(".".join(urllib.parse.unquote(part) for part in uri.split("/")[-2:]))
    return sorted(tables)


def lake_state(root: Path) -> dict[str, object]:
    """What a run that changes nothing leaves alone under `root/lake`: every file (bytes
    and mtime), every table's rows and what the catalog records as published."""
    lake = root / "lake"
    tables = lake_tables(root)
    return {
        "files": lake_files(root),
        "mtimes": {
            p.relative_to(lake).as_posix(): p.stat().st_mtime_ns
            for p in sorted(lake.rglob("*"))
            if p.is_file() and not p.name.startswith("lake.duckdb")
        },
        "tables": {
            name: sorted(lake_query(root, f"SELECT * FROM {name}"), key=repr) for name in tables
        },
        "published": lake_query(root, "SELECT * FROM _aorist.published ORDER BY ALL"),
    }


def run_to_completion(
    airflow: AirflowScheduler, conf: dict | None = None, dag_id: str = DAG_ID
) -> tuple[str, dict[tuple[str, int], str | None]]:
    run_id = airflow.trigger(dag_id, conf)
    return run_id, succeeded(airflow, dag_id, run_id)


def succeeded(
    airflow: AirflowScheduler, dag_id: str, run_id: str
) -> dict[tuple[str, int], str | None]:
    """The task states of a run that must succeed, every task instance with it (or
    skipped, as a step whose outputs are up to date is)."""
    state = airflow.wait(dag_id, run_id, RUN_TIMEOUT)
    states = airflow.task_states(dag_id, run_id)
    failed = {key: value for key, value in states.items() if value not in ("success", "skipped")}
    assert state == "success" and states and not failed, (
        f"run {run_id}: {state}; not successful: {failed}\n{airflow.log_tail()}"
    )
    return states


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    server = HttpServer(tmp_path_factory.mktemp("www"))
    counts = snap_edge_counts()
    for names in DATASETS.values():
        for name in names:
            snap_like_gz(server.root / f"{name}.txt.gz", counts[name])
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def first_run(
    airflow_scheduler: AirflowScheduler, served: HttpServer
) -> tuple[str, dict[tuple[str, int], str | None]]:
    """The DAG written to the DAGs folder, parsed and run once to success."""
    code = dag(scheduler_universe(served.base_url), ["AllAssetsComputed"], "airflow")
    (airflow_scheduler.dags / f"{DAG_ID}.py").write_text(code, encoding="utf-8")
    airflow_scheduler.wait_parsed(DAG_ID, timeout=120)
    return run_to_completion(airflow_scheduler)


def test_every_task_instance_succeeds_and_every_table_has_its_rows(
    airflow_scheduler: AirflowScheduler, first_run
) -> None:
    run_id, states = first_run
    # Steps over many assets are mapped tasks: their instances carry map indexes.
    assert any(index >= 0 for _, index in states), sorted(states)
    # The lake is next to the DAG file; nothing lands in the workers' working directory.
    check_lake(airflow_scheduler.dags)
    assert sorted(airflow_scheduler.workdir.iterdir()) == []
    # One asset event per table, naming the lake it is in.
    events = airflow_scheduler.asset_events(DAG_ID, run_id)
    assert announced(events, airflow_scheduler.dags / "lake") == sorted(expected_rows())
    # The executor did run task processes at the same time.
    rows = airflow_scheduler.query(
        "SELECT start_date, end_date FROM task_instance"
        " WHERE dag_id = %s AND run_id = %s AND start_date IS NOT NULL",
        [DAG_ID, run_id],
    )
    assert max(sum(s < end and start < e for s, e in rows) for start, end in rows) >= 2


def test_a_second_run_succeeds_and_changes_nothing(
    airflow_scheduler: AirflowScheduler, first_run
) -> None:
    before = lake_state(airflow_scheduler.dags)
    run_id, states = run_to_completion(airflow_scheduler)
    assert lake_state(airflow_scheduler.dags) == before
    check_lake(airflow_scheduler.dags)
    # The steps that make files found them up to date: skipped task instances.
    skipped = {task for (task, _), state in states.items() if state == "skipped"}
    assert any(task.endswith("downloaded") for task in skipped), sorted(skipped)
    assert any(task.endswith("source_loaded") for task in skipped), sorted(skipped)
    # Nothing changed, so nothing is announced: DAGs scheduled on these tables stay idle.
    assert airflow_scheduler.asset_events(DAG_ID, run_id) == []


def test_a_run_with_another_lake_path_writes_there_and_nowhere_else(
    airflow_scheduler: AirflowScheduler, first_run, tmp_path: Path
) -> None:
    before = lake_state(airflow_scheduler.dags)
    run_id, _ = run_to_completion(airflow_scheduler, {"lake_path": str(tmp_path / "lake")})
    check_lake(tmp_path)
    assert lake_state(airflow_scheduler.dags) == before
    assert sorted(airflow_scheduler.workdir.iterdir()) == []
    # The tables of the other lake are other assets.
    events = airflow_scheduler.asset_events(DAG_ID, run_id)
    assert announced(events, tmp_path / "lake") == sorted(expected_rows())


def test_the_dag_file_has_no_import_errors(airflow_scheduler: AirflowScheduler, first_run) -> None:
    listed = airflow_scheduler.cli("dags", "list-import-errors", "--output", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert json.loads(listed.stdout) == [], listed.stdout
    assert airflow_scheduler.import_errors() == {}


def test_a_split_dag_runs_when_a_table_it_reads_changes(
    airflow_scheduler: AirflowScheduler, served: HttpServer
) -> None:
    folder = airflow_scheduler.dags / "split"
    folder.mkdir()
    files = dag_files(
        scheduler_universe(served.base_url),
        ["AllAssetsComputed"],
        "airflow",
        split="dataset",
        name="split",
    )
    for file, code in files.items():
        (folder / file).write_text(code, encoding="utf-8")
    for file in files:
        airflow_scheduler.wait_parsed(file.removesuffix(".py"), timeout=120)
    dataset, table, first, second = DERIVED
    summary = f"split_{dataset}"
    # Every DAG starts paused: graphs0's events queue no run of the summary's DAG.
    run_to_completion(airflow_scheduler, dag_id="split_graphs0")
    airflow_scheduler.unpause(summary)
    run_id, _ = run_to_completion(airflow_scheduler, dag_id="split_graphs1")
    assert f"file://{folder / 'lake'}/{second.replace('.', '/')}" in {
        urllib.parse.unquote(uri) for uri in airflow_scheduler.asset_events("split_graphs1", run_id)
    }
    # graphs1's events start the summary's DAG.
    deadline = time.monotonic() + RUN_TIMEOUT
    while not airflow_scheduler.runs(summary):
        assert time.monotonic() < deadline, airflow_scheduler.log_tail()
        time.sleep(1)
    [(summary_run, run_type, _)] = airflow_scheduler.runs(summary)
    assert run_type == "asset_triggered"
    states = succeeded(airflow_scheduler, summary, summary_run)
    # It checked the tables it reads and computed its own, from them only.
    assert {task for task, _ in states} >= {
        "graphs0.asset_available.asset_available",
        "graphs1.asset_available.asset_available",
    }
    assert not any("download" in task for task, _ in states)
    expected = expected_rows()
    assert lake_tables(folder) == {
        name: len(rows)
        for name, rows in expected.items()
        if name.startswith(("graphs0.", "graphs1.", f"{dataset}."))
    }
    assert (
        sorted(lake_query(folder, f"SELECT from_id, to_id FROM {dataset}.{table}"))
        == (expected[f"{dataset}.{table}"])
    )
    # A rerun of graphs1 that changes nothing announces nothing: the summary stays idle.
    run_id, _ = run_to_completion(airflow_scheduler, dag_id="split_graphs1")
    assert airflow_scheduler.asset_events("split_graphs1", run_id) == []
    time.sleep(15)
    assert [run for run, _, _ in airflow_scheduler.runs(summary)] == [summary_run]
